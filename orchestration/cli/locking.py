"""The lake's writer lock on the command line (transforms/lake/lock.py): every command that writes
the lake takes it, says who holds the lake when it must wait, and waits with a progress line
(``--wait``, the default) or exits 3 at once (``--no-wait``). A Delta commit conflict with a writer
outside the lock (transforms/lake/conflicts.py) is retried where the work is idempotent, each retry
said in a line; one that is not, or still loses, ends the command with one line naming the table
and status 1 — never a traceback."""

from __future__ import annotations

import contextlib
import functools
import logging
import signal
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import click

from orchestration.cli.common import existing_lake
from transforms.lake import conflicts
from transforms.lake.lock import Holder, LakeBusy, LakeLock, writer_lock

BUSY_EXIT = 3  # `--no-wait` and the lake is held by another writer

WAIT_OPTION = click.option(
    "--wait/--no-wait",
    default=True,
    show_default=True,
    help="When another writer holds the lake: wait for it, or exit at once with status 3.",
)


class LakeBusyError(click.ClickException):
    exit_code = BUSY_EXIT


class _Echo(logging.Handler):
    """The retries of a commit conflict (logger ``transforms.lake.conflicts``), on stderr."""

    def emit(self, record: logging.LogRecord) -> None:
        click.echo(record.getMessage(), err=True)


def _command_name() -> str:
    names = []
    ctx = click.get_current_context(silent=True)
    while ctx is not None and ctx.parent is not None:  # the root's name is how it was started
        names.insert(0, ctx.info_name or "")
        ctx = ctx.parent
    return " ".join(["lakehouse", *names])


class _Progress:
    """Who holds the lake (again when the holder changes), then one progress line: rewritten in
    place on a terminal, every ``every`` seconds otherwise."""

    def __init__(self, lake: Path, every: float = 15.0) -> None:
        self.lake = lake
        self.every = every
        self.token = ""
        self.last = -every
        self.tty = sys.stderr.isatty()

    def __call__(self, holder: Holder, waited: float) -> None:
        if holder.token != self.token:
            if self.token and self.tty:
                click.echo("", err=True)
            self.token = holder.token
            click.echo(f"lake {self.lake} is held by {holder.describe()}", err=True)
            click.echo(
                "waiting for it to finish (Ctrl-C to give up; --no-wait to exit at once)", err=True
            )
        if self.tty:
            click.echo(f"\r  waiting … {waited:4.0f} s", err=True, nl=False)
        elif waited - self.last >= self.every:
            self.last = waited
            click.echo(f"  waiting … {waited:.0f} s", err=True)

    def done(self, waited: float) -> None:
        if self.token:
            if self.tty:
                click.echo("", err=True)
            click.echo(f"lake {self.lake} is free after {waited:.0f} s: starting", err=True)


def _stale(holder: Holder, reason: str) -> None:
    click.echo(f"stale writer lock of {holder.describe()} removed: {reason}", err=True)


@contextlib.contextmanager
def lake_writer(root: Path, wait: bool = True, command: str | None = None) -> Iterator[LakeLock]:
    """Hold the writer lock of ``root`` for the block (``command``: what the lock file says is
    writing; default the command line's command). ``--no-wait`` and a held lake: exit 3."""
    progress = _Progress(root)
    t0 = time.monotonic()
    try:
        lock_cm = writer_lock(
            root, command or _command_name(), wait=wait, on_wait=progress, on_stale=_stale
        )
        lock = lock_cm.__enter__()
    except LakeBusy as exc:
        raise LakeBusyError(f"{exc}; try again when it has finished, or use --wait") from None
    progress.done(time.monotonic() - t0)
    previous = None
    if threading.current_thread() is threading.main_thread():
        # `kill PID` (SIGTERM) ends the command like Ctrl-C does: the lock is released on the way
        previous = signal.signal(signal.SIGTERM, lambda *_: sys.exit(128 + signal.SIGTERM))
    try:
        yield lock
    finally:
        lock_cm.__exit__(None, None, None)
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)


def writes_lake(command):
    """Decorator of a click command with a ``lake`` parameter (``LAKE_OPTION``): adds
    ``--wait/--no-wait`` and runs the command holding the lake's writer lock. Put it directly above
    the function, below the click decorators."""

    @WAIT_OPTION
    @functools.wraps(command)
    def wrapper(*args, wait: bool, **kwargs):
        echo, log = _Echo(), conflicts.log
        log.addHandler(echo)
        propagate, log.propagate = log.propagate, False
        try:
            with lake_writer(existing_lake(kwargs.get("lake")), wait=wait):
                return command(*args, **kwargs)
        except Exception as exc:
            if not conflicts.is_commit_conflict(exc):
                raise
            raise click.ClickException(str(conflicts.as_commit_conflict(exc))) from None
        finally:
            log.removeHandler(echo)
            log.propagate = propagate

    return wrapper

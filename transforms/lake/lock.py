"""One writer per lake at a time: the lake's writer lock, held in the lake itself.

Every writer of a lake — ``lakehouse run``, every Dagster run (schedules, the landing sensor,
backfills, the UI), ``rectify``, ``retention run``, ``hold add|release``, ``manifest record`` —
holds ``<lake>/ops/.writer.lock`` while it writes. The lock is lake-wide, not per domain: every
domain writes the shared ``ops`` tables (the landing ledger ``ops.landing__files``, the manifest
``ops.manifest``, retention events), and a run of one domain reads what another just published
(licences before telematics).

- **In the lake**: a file beside the tables, so processes on other machines sharing the lake see
  it. It is created atomically (the holder's JSON written to a private file, then ``os.link``-ed to
  the lock path, which fails if the lock exists — atomic on local filesystems and NFS) and holds
  ``{command, pid, host, started_at, heartbeat_at, token}``.
- **Heartbeat**: a daemon thread of the holder rewrites ``heartbeat_at`` every
  ``pipeline.lock_heartbeat_s`` seconds (rules file), by an atomic rename.
- **Stale**: a lock whose holder is gone is broken by the next writer: on the holder's own host
  when its pid is no longer alive (a SIGKILL), on any host when its heartbeat is older than
  ``pipeline.lock_stale_after_s``. Breaking is itself serialised (``.writer.lock.break``, created
  exclusively) and removes the lock only if it still holds the stale holder's token.
- **Re-entrant for the holding process**: ``lakehouse run`` takes the lock once at the top and the
  Dagster runs it executes in-process take it again — a count, not a second file; the lock is
  released when the outermost holder exits (``with`` block, or at interpreter exit).

Waiting is the caller's choice (``wait=False`` raises :class:`LakeBusy` at once); ``on_wait`` is
called on every poll with the current holder and the seconds waited, for a progress line.
"""

from __future__ import annotations

import atexit
import contextlib
import datetime as dt
import errno
import json
import os
import socket
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass
from pathlib import Path

from transforms.lake.clock import now_beijing

LOCK_FILE = Path("ops") / ".writer.lock"
# a breaker that died while breaking leaves this behind; older than this, it is removed
_BREAK_STALE_S = 30.0


class LakeBusy(Exception):
    """Another writer holds the lake (``wait=False``, or the wait timed out)."""

    def __init__(self, lake: Path, holder: Holder) -> None:
        self.lake = lake
        self.holder = holder
        super().__init__(f"lake {lake} is held by {holder.describe()}")


@dataclass(frozen=True)
class Holder:
    """What the lock file says about who holds the lake (times are GMT+8 wall-clock)."""

    command: str
    pid: int
    host: str
    started_at: str
    heartbeat_at: str
    token: str

    def describe(self) -> str:
        return (
            f"`{self.command}` (pid {self.pid} on {self.host}, since "
            f"{self.started_at[:19].replace('T', ' ')}, "
            f"last heartbeat {self.heartbeat_at[11:19]})"
        )

    @classmethod
    def from_json(cls, text: str) -> Holder:
        data = json.loads(text)
        return cls(**{k: data[k] for k in cls.__dataclass_fields__})


def lock_path(lake: Path) -> Path:
    return Path(lake) / LOCK_FILE


def read_holder(lake: Path) -> Holder | None:
    """Who holds the lake now, or None. A lock file that cannot be read as a holder (written by
    hand, truncated) is reported as an unknown holder so that it ages out like any other."""
    path = lock_path(lake)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
    try:
        return Holder.from_json(text)
    except (ValueError, KeyError, TypeError):
        try:
            mtime = dt.datetime.fromtimestamp(path.stat().st_mtime).isoformat()
        except FileNotFoundError:
            return None
        return Holder("unknown (unreadable lock file)", 0, "?", mtime, mtime, "")


def _pid_alive(pid: int) -> bool:
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # alive, another user's
        return True
    return True


def _now() -> dt.datetime:
    return now_beijing()


def stale_reason(
    holder: Holder, stale_after_s: float, now: dt.datetime | None = None
) -> str | None:
    """Why ``holder`` no longer holds the lake (None while it does): its process is gone (same
    host), or its heartbeat is older than ``stale_after_s`` (any host)."""
    if holder.host == socket.gethostname() and holder.pid and not _pid_alive(holder.pid):
        return f"process {holder.pid} on {holder.host} is gone"
    try:
        beat = dt.datetime.fromisoformat(holder.heartbeat_at)
    except ValueError:
        return "its heartbeat cannot be read"
    age = ((now or _now()) - beat).total_seconds()
    if age > stale_after_s:
        return f"no heartbeat for {age:.0f} s (> {stale_after_s:.0f} s)"
    return None


def _settings() -> tuple[float, float]:
    """(stale_after_s, heartbeat_s) from the rules file's ``pipeline`` section."""
    from transforms.rules import load_rules

    pipeline = load_rules()["pipeline"]
    return float(pipeline["lock_stale_after_s"]), float(pipeline["lock_heartbeat_s"])


def _write_new(path: Path, holder: Holder) -> bool:
    """Create the lock file holding ``holder`` atomically; False if it exists already."""
    tmp = path.with_name(f"{path.name}.{holder.token}.tmp")
    tmp.write_text(json.dumps(asdict(holder), ensure_ascii=False), encoding="utf-8")
    try:
        os.link(tmp, path)
        return True
    except FileExistsError:
        return False
    except OSError as exc:  # a filesystem without hard links: exclusive create instead
        if exc.errno not in (errno.EPERM, errno.ENOTSUP, errno.EOPNOTSUPP):
            raise
        try:
            fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
        except FileExistsError:
            return False
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(tmp.read_text(encoding="utf-8"))
        return True
    finally:
        tmp.unlink(missing_ok=True)


def _break(lake: Path, stale: Holder) -> bool:
    """Remove the lock of the stale holder ``stale`` (only if it still holds it); one breaker at
    a time. True when the lock is gone."""
    path = lock_path(lake)
    guard = path.with_name(path.name + ".break")
    try:
        fd = os.open(guard, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
    except FileExistsError:
        with contextlib.suppress(FileNotFoundError):
            if time.time() - guard.stat().st_mtime > _BREAK_STALE_S:
                guard.unlink()
        return False
    try:
        os.close(fd)
        current = read_holder(lake)
        if current is not None and current.token == stale.token:
            path.unlink(missing_ok=True)
        return True
    finally:
        guard.unlink(missing_ok=True)


class LakeLock:
    """The lock of one lake held by this process (see the module docstring); use
    :func:`writer_lock`."""

    def __init__(self, lake: Path, holder: Holder, heartbeat_s: float) -> None:
        self.lake = lake
        self.holder = holder
        self.depth = 1
        self.lost = False
        self._stop = threading.Event()
        self._thread = threading.Thread(
            target=self._beat, args=(heartbeat_s,), name="lake-lock-heartbeat", daemon=True
        )
        self._thread.start()

    def _beat(self, every: float) -> None:
        path = lock_path(self.lake)
        while not self._stop.wait(every):
            current = read_holder(self.lake)
            if current is None or current.token != self.holder.token:
                self.lost = True  # broken by another writer (we were taken for dead): stop
                return
            self.holder = Holder(**{**asdict(self.holder), "heartbeat_at": _now().isoformat()})
            tmp = path.with_name(f"{path.name}.{self.holder.token}.beat")
            tmp.write_text(json.dumps(asdict(self.holder), ensure_ascii=False), encoding="utf-8")
            os.replace(tmp, path)

    def release(self) -> None:
        self._stop.set()
        if self._thread is not threading.current_thread():
            self._thread.join(timeout=5)
        current = read_holder(self.lake)
        if current is not None and current.token == self.holder.token:
            lock_path(self.lake).unlink(missing_ok=True)


_HELD: dict[Path, LakeLock] = {}  # the locks this process holds, by lake
_GUARD = threading.RLock()


def held(lake: Path) -> LakeLock | None:
    """This process's lock of ``lake``, if it holds it."""
    with _GUARD:
        lock = _HELD.get(Path(lake).resolve())
        return lock if lock is not None and lock.holder.pid == os.getpid() else None


def acquire(
    lake: Path,
    command: str,
    *,
    wait: bool = True,
    timeout: float | None = None,
    on_wait: Callable[[Holder, float], None] | None = None,
    poll_s: float = 0.5,
    stale_after_s: float | None = None,
    heartbeat_s: float | None = None,
    on_stale: Callable[[Holder, str], None] | None = None,
) -> LakeLock:
    """Take the writer lock of ``lake`` for ``command`` (re-entrant for this process). Waits while
    another live writer holds it (``on_wait(holder, seconds)`` on every poll) unless ``wait`` is
    false or ``timeout`` passes: then :class:`LakeBusy`. A stale holder's lock is broken
    (``on_stale(holder, reason)``) and taken."""
    root = Path(lake).resolve()
    with _GUARD:
        mine = held(root)
        if mine is not None:
            mine.depth += 1
            return mine
    if stale_after_s is None or heartbeat_s is None:
        rules_stale, rules_beat = _settings()
        stale_after_s = rules_stale if stale_after_s is None else stale_after_s
        heartbeat_s = rules_beat if heartbeat_s is None else heartbeat_s
    path = lock_path(root)
    path.parent.mkdir(parents=True, exist_ok=True)
    t0 = time.monotonic()
    while True:
        now = _now().isoformat()
        me = Holder(command, os.getpid(), socket.gethostname(), now, now, uuid.uuid4().hex)
        if _write_new(path, me):
            lock = LakeLock(root, me, heartbeat_s)
            with _GUARD:
                _HELD[root] = lock
            return lock
        holder = read_holder(root)
        if holder is None:
            continue  # released between our attempt and the read
        reason = stale_reason(holder, stale_after_s)
        if reason is not None:
            if _break(root, holder) and on_stale is not None:
                on_stale(holder, reason)
            continue
        waited = time.monotonic() - t0
        if not wait or (timeout is not None and waited >= timeout):
            raise LakeBusy(root, holder)
        if on_wait is not None:
            on_wait(holder, waited)
        time.sleep(poll_s)


def release(lock: LakeLock) -> None:
    """Undo one :func:`acquire`; the outermost one removes the lock file."""
    with _GUARD:
        lock.depth -= 1
        if lock.depth > 0:
            return
        if _HELD.get(lock.lake) is lock:
            del _HELD[lock.lake]
    lock.release()


@contextlib.contextmanager
def writer_lock(lake: Path, command: str, **kwargs) -> Iterator[LakeLock]:
    """``with writer_lock(lake, "lakehouse rectify issue"):`` — :func:`acquire`, then
    :func:`release` however the block ends."""
    lock = acquire(lake, command, **kwargs)
    try:
        yield lock
    finally:
        release(lock)


@atexit.register
def _release_all() -> None:  # a holder that exits without leaving its block (sys.exit in a thread)
    with _GUARD:
        locks = [lock for lock in _HELD.values() if lock.holder.pid == os.getpid()]
        _HELD.clear()
    for lock in locks:
        lock.release()

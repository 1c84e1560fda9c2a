"""Delta commit conflicts: a commit that lost to a concurrent writer's.

The lake's writer lock (lock.py) serialises every writer of this code base, so a conflict means a
writer outside the lock (another tool writing the lake). Delta's optimistic concurrency keeps the
data safe — the losing commit writes nothing — and this module decides what happens next, for the
command line, ``lakehouse run`` and every Dagster run alike:

- :func:`is_commit_conflict` recognises one (an exception, a message, or a Dagster step failure's
  serialised error);
- :func:`retry_conflicts` runs an idempotent unit (it reads what it needs and commits, so running it
  again after a lost commit ends in the same state) again after 2, 4, 8 … seconds, up to
  ``pipeline.conflict_retries`` times (rules file); then, or at once for a unit that is not
  idempotent, :class:`CommitConflict`: one line naming the table.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import unquote, urlparse

T = TypeVar("T")
log = logging.getLogger(__name__)

# what a Delta commit that lost to a concurrent one says (delta-rs ``CommitFailedError``, Sail's
# "Failed to commit transaction: a concurrent transaction …", delta-spark's Concurrent*Exception;
# a CommitConflict below)
_CONFLICT_MARKERS = (
    "commitconflict",
    "commitfailederror",
    "failed to commit transaction",
    "concurrent transaction",
    "concurrentappendexception",
    "concurrentdeletereadexception",
    "concurrentdeletedeleteexception",
    "concurrentmodificationexception",
)


# what the engine says when it lost track of an operation of a live session — seen once from Sail
# under a heavy machine load ("internal error: task context not found for operation") while the
# same step passed before and after: an idempotent step is run again (writer.on_commit_conflict)
_TRANSIENT_ENGINE_MARKERS = ("task context not found for operation",)


def _chain_says(error: object, markers: tuple[str, ...]) -> bool:
    """Whether ``error`` or a cause of it (an exception, a message, or a serialised error with
    ``message``, ``cls_name`` and ``cause`` / ``context``) says one of ``markers``."""
    seen = 0
    while error is not None and seen < 10:
        text = " ".join(
            str(part)
            for part in (
                getattr(error, "cls_name", None) or type(error).__name__,
                getattr(error, "message", None) or error,
            )
        ).lower()
        if any(marker in text for marker in markers):
            return True
        error = (
            getattr(error, "cause", None)
            or getattr(error, "__cause__", None)
            or getattr(error, "context", None)
        )
        seen += 1
    return False


def is_commit_conflict(error: object) -> bool:
    """Whether ``error`` (an exception, a message, or a serialised error with ``message``,
    ``cls_name`` and ``cause`` / ``context``, e.g. a Dagster step failure) is a Delta commit
    that lost to a concurrent writer's."""
    return _chain_says(error, _CONFLICT_MARKERS)


def is_transient_engine_error(error: object) -> bool:
    """Whether ``error`` is the engine losing an operation of a live session (a retry of an
    idempotent step is the remedy, as for a commit conflict)."""
    return _chain_says(error, _TRANSIENT_ENGINE_MARKERS)


class CommitConflict(Exception):
    """A commit to ``table`` lost to a writer outside the lake's lock and was not made: not
    retried (the unit is not idempotent) or still lost after ``retries`` retries. Its message is
    the one line the user sees."""

    def __init__(self, table: str, retries: int = 0) -> None:
        self.table = table
        self.retries = retries
        after = f" (still after {retries} retries)" if retries else ""
        super().__init__(
            f"Delta commit conflict on {table} with a writer outside the lake's lock{after}: "
            "that commit was not made; run again when the other writer has finished"
        )


def _table_name(location: Any) -> str | None:
    """``layer.table`` of a table location ``<lake>/<layer>/<table>`` (a path or URI)."""
    text = getattr(location, "table_uri", location)
    if not isinstance(text, (str, Path)):
        return None
    path = str(text)
    if "://" in path:
        path = unquote(urlparse(path).path)
    parts = Path(path.rstrip("/")).parts
    return ".".join(parts[-2:]) if len(parts) >= 2 else None


def conflicting_table(error: BaseException) -> str | None:
    """The table (``layer.table``) whose commit ``error`` lost: a :class:`CommitConflict`'s, else
    the table delta-rs (or the Spark Connect writer) was committing to, read from the frames of
    the traceback (``write_deltalake``'s ``table_uri``, a ``DeltaTable`` method's ``self``, a
    merge's table, ``DataFrameWriter.save``'s path). None when nothing names it."""
    seen: BaseException | None = error
    for _ in range(10):
        if seen is None:
            break
        if isinstance(seen, CommitConflict):
            return seen.table
        found = None
        tb = seen.__traceback__
        while tb is not None:  # innermost last: the frame nearest the commit wins
            frame, candidates = tb.tb_frame, ()
            module = frame.f_globals.get("__name__", "")
            local = frame.f_locals
            if module.startswith("deltalake"):
                owner = local.get("self")
                candidates = (
                    local.get("table_uri"),
                    local.get("table_or_uri"),
                    getattr(owner, "table_uri", None),
                    getattr(getattr(owner, "_table", None), "table_uri", None),
                )
            elif module.startswith("pyspark") and frame.f_code.co_name == "save":
                candidates = (local.get("path"),)  # never probe pyspark objects: that asks Spark
            for candidate in candidates:
                name = _table_name(candidate) if candidate is not None else None
                if name:
                    found = name
                    break
            tb = tb.tb_next
        if found:
            return found
        seen = seen.__cause__ or seen.__context__
    return None


def as_commit_conflict(error: BaseException, table: str | None = None) -> CommitConflict:
    """``error`` (a commit conflict) as the one line naming its table (``table`` when the
    traceback does not name it)."""
    if isinstance(error, CommitConflict):
        return error
    return CommitConflict(conflicting_table(error) or table or "a table of the lake")


def conflict_retries(rules: dict[str, Any] | None = None) -> int:
    """``pipeline.conflict_retries`` of ``rules`` (default: the rules file, $LAKEHOUSE_RULES)."""
    if rules is None:
        from transforms.rules import load_rules

        rules = load_rules()
    return int(rules["pipeline"]["conflict_retries"])


def backoff(retry: int) -> int:
    """Seconds before retry number ``retry`` (1, 2, 3 …): 2, 4, 8 …"""
    return 2**retry


def retry_conflicts(
    unit: Callable[[], T],
    *,
    retries: int | None = None,
    sleep: Callable[[float], Any] = time.sleep,
) -> T:
    """Run ``unit`` — idempotent: it reads what it needs, then commits — and again after 2, 4,
    8 … s while its commit loses to a concurrent writer's, ``retries`` times at most (default
    ``pipeline.conflict_retries``); then :class:`CommitConflict`. Each retry is logged (logger
    ``transforms.lake.conflicts``, WARNING). A :class:`CommitConflict` from inside (a nested unit
    that gave up) is passed on, not retried again."""
    attempt = 0
    while True:
        try:
            return unit()
        except CommitConflict:
            raise
        except Exception as exc:
            if not is_commit_conflict(exc):
                raise
            conflict = as_commit_conflict(exc)
            retries = conflict_retries() if retries is None else retries
            if attempt >= retries:
                raise CommitConflict(conflict.table, retries) from exc
            attempt += 1
            delay = backoff(attempt)
            log.warning(
                f"↻ {conflict.table}: a concurrent commit by a writer outside the lake's lock; "
                f"again in {delay} s (retry {attempt}/{retries})"
            )
            sleep(delay)

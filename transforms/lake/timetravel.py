"""Reading the lake's tables as they stood at recorded Delta versions (time travel), for the reports
a publication must reproduce byte for byte (access.md "Monthly bulletin"; ``lakehouse report …
--as-published DATE``).

A report reads its tables through :func:`exists`, :func:`read` (Spark) and :func:`delta_table`
(delta-rs) instead of opening the latest version itself. Outside the two blocks below they do
exactly that — open the latest version — so reports, jobs and the pipeline behave as before:

- ``with recording() as versions:`` — every table read inside is pinned to the version it had at
  its first read (a later read in the block sees the same one, whatever a writer commits
  meanwhile); ``versions`` fills up with ``{table name: version}``, ``None`` for a table that did
  not exist. What a publication stores in ``ops.publications``.
- ``with pinned(versions):`` — every read goes to the recorded version (Spark's reader option
  ``versionAsOf``, delta-rs's ``version=``); a table recorded as ``None`` does not exist; a table
  the mapping does not name is a :class:`NotRecorded` error — what was not read then cannot be
  reproduced now.

The mapping lives in a context variable for the duration of the block: the report functions keep
their signatures. Time travel needs the old versions' files: a VACUUM that removed them (retention
of a table with a retention period) makes the read fail, naming the file.
"""

from __future__ import annotations

import contextlib
import contextvars
from collections.abc import Iterator, Mapping
from pathlib import Path

from deltalake import DeltaTable
from pyspark.sql import DataFrame, SparkSession

from transforms.lake.registry import Table

# table name -> version read (None: the table did not exist); the recording block's or the pin's
_RECORDING: contextvars.ContextVar[dict[str, int | None] | None] = contextvars.ContextVar(
    "timetravel_recording", default=None
)
_PINNED: contextvars.ContextVar[Mapping[str, int | None] | None] = contextvars.ContextVar(
    "timetravel_pinned", default=None
)


class NotRecorded(LookupError):
    """A table read under :func:`pinned` whose version the mapping does not give."""

    def __init__(self, name: str, known: Mapping[str, int | None]) -> None:
        self.name = name
        listed = ", ".join(sorted(known)) or "none"
        super().__init__(
            f"{name} was not read by the publication, so its version then is unknown "
            f"(tables it read: {listed})"
        )


@contextlib.contextmanager
def recording() -> Iterator[dict[str, int | None]]:
    """Pin every table to the version of its first read in the block; yield the mapping."""
    if _PINNED.get() is not None:
        raise RuntimeError("recording() inside pinned(): the versions are already given")
    versions: dict[str, int | None] = {}
    token = _RECORDING.set(versions)
    try:
        yield versions
    finally:
        _RECORDING.reset(token)


@contextlib.contextmanager
def pinned(versions: Mapping[str, int | None]) -> Iterator[None]:
    """Read every table at ``versions[name]`` in the block (None: absent; unnamed: an error)."""
    token = _PINNED.set(dict(versions))
    try:
        yield
    finally:
        _PINNED.reset(token)


def version(table: Table, lake: Path) -> int | None:
    """The version a read of ``table`` goes to now: None for the latest (no block), else the
    pinned or recorded one (None inside a block: the table is absent)."""
    pins = _PINNED.get()
    if pins is not None:
        if table.name not in pins:
            raise NotRecorded(table.name, pins)
        return pins[table.name]
    seen = _RECORDING.get()
    if seen is None:
        return None
    if table.name not in seen:
        seen[table.name] = (
            DeltaTable(str(table.location(lake))).version() if table.exists(lake) else None
        )
    return seen[table.name]


def _in_block() -> bool:
    return _PINNED.get() is not None or _RECORDING.get() is not None


def exists(table: Table, lake: Path) -> bool:
    """Whether ``table`` exists (as of the pinned or recorded version inside a block)."""
    if not _in_block():
        return table.exists(lake)
    return version(table, lake) is not None


def _absent(table: Table, lake: Path) -> FileNotFoundError:
    return FileNotFoundError(f"{table.name} does not exist in {lake} at the version read")


def read(spark: SparkSession, table: Table, lake: Path) -> DataFrame:
    """``table`` as a Spark DataFrame: the latest version, or the pinned / recorded one."""
    reader = spark.read.format("delta")
    if _in_block():
        v = version(table, lake)
        if v is None:
            raise _absent(table, lake)
        reader = reader.option("versionAsOf", v)
    return reader.load(str(table.location(lake)))


def delta_table(table: Table, lake: Path) -> DeltaTable:
    """``table`` through delta-rs: the latest version, or the pinned / recorded one."""
    if not _in_block():
        return DeltaTable(str(table.location(lake)))
    v = version(table, lake)
    if v is None:
        raise _absent(table, lake)
    return DeltaTable(str(table.location(lake)), version=v)

"""The ledger of landing files (``ops.landing__files``, ``ops.landing__rejected_files``), shared by
every domain: which files were landed (by SM3 digest, so landing one again is a no-op), which are
still to be published, and the crash-safety clean-up of a landing that was interrupted.

Files are keyed by (domain, feed): two domains may have feeds of the same name.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from pathlib import Path

import pyarrow as pa
from deltalake import DeltaTable

from transforms.lake import registry
from transforms.lake.clock import TS
from transforms.lake.feeds import Feed

FILES = registry.SHARED_TABLES[0]
REJECTED = registry.SHARED_TABLES[1]

FILES_SCHEMA = pa.schema(
    [
        ("file_path", pa.string()),
        ("domain", pa.string()),
        ("feed", pa.string()),
        ("folder_date", pa.date32()),
        ("file_sm3", pa.string()),
        ("size_bytes", pa.int64()),
        ("lines", pa.int64()),
        ("records", pa.int64()),
        ("malformed", pa.int64()),
        ("status", pa.string()),
        ("landed_at", TS),
        ("published_at", TS),
    ]
)
REJECTED_SCHEMA = pa.schema(
    [
        ("file_path", pa.string()),
        ("domain", pa.string()),
        ("feed", pa.string()),
        ("file_sm3", pa.string()),
        ("error", pa.string()),
        ("rejected_at", TS),
    ]
)


def known_digests(lake: Path) -> set[str]:
    """SM3 digests of every file landed or rejected before (of any domain)."""
    return _known(lake, "file_sm3")


def known_paths(lake: Path) -> set[str]:
    """Paths (relative to the lake) of every file landed or rejected before (of any domain)."""
    return _known(lake, "file_path")


def _known(lake: Path, column: str) -> set[str]:
    known: set[str] = set()
    for t in (FILES, REJECTED):
        if t.exists(lake):
            col = DeltaTable(str(t.location(lake))).to_pyarrow_table(columns=[column])
            known.update(col.column(column).to_pylist())
    return known


def delete_partial(lake: Path, table_name: str, digests: list[str]) -> None:
    """Remove rows of files whose landing was interrupted before it was recorded (crash safety)."""
    t = registry.table(table_name)
    if digests and t.exists(lake):
        DeltaTable(str(t.location(lake))).delete(f"_file_sm3 IN ({_quoted(digests)})")


def pending_files(
    lake: Path, feeds: Feed | Iterable[Feed], dates: list[dt.date] | None = None
) -> pa.Table:
    """Landed, not yet published files of some feeds (optionally of some date folders)."""
    wanted = {(f.domain, f.name) for f in ([feeds] if isinstance(feeds, Feed) else feeds)}
    empty = pa.table({"file_sm3": pa.array([], pa.string())})
    if not FILES.exists(lake):
        return empty
    files = (
        DeltaTable(str(FILES.location(lake)))
        .to_pyarrow_table(
            columns=["file_sm3", "domain", "feed", "folder_date", "status", "records"]
        )
        .to_pylist()
    )
    rows = [
        f
        for f in files
        if (f["domain"], f["feed"]) in wanted
        and f["status"] == "landed"
        and (dates is None or f["folder_date"] in dates)
    ]
    return pa.Table.from_pylist(rows) if rows else empty


def mark_published(lake: Path, digests: list[str], at: dt.datetime) -> None:
    """Record files as published (their records are in silver / quarantine)."""
    if not digests:
        return
    DeltaTable(str(FILES.location(lake))).update(
        predicate=f"file_sm3 IN ({_quoted(digests)})",
        updates={"status": "'published'", "published_at": f"'{at.isoformat(sep=' ')}'"},
    )


def _quoted(digests: list[str]) -> str:
    return ", ".join(f"'{d}'" for d in digests)

"""Delta maintenance through delta-rs (Sail has no OPTIMIZE / VACUUM / DESCRIBE HISTORY)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from deltalake import DeltaTable

from transforms.lake.registry import Table


def history(lake: Path, table: Table, limit: int | None = None) -> list[dict[str, Any]]:
    """The table's commits, newest first."""
    return DeltaTable(str(table.location(lake))).history(limit)


def version(lake: Path, table: Table) -> int | None:
    """The table's current Delta version, or None when it does not exist yet."""
    if not table.exists(lake):
        return None
    return DeltaTable(str(table.location(lake))).version()


def table_version(location: Path) -> int | None:
    """The Delta version of the table at ``location``, or None when there is none yet."""
    if not (location / "_delta_log").is_dir():
        return None
    return DeltaTable(str(location)).version()


def rows_written_since(location: Path, before: int | None) -> int:
    """Rows the commits after version ``before`` wrote, from the log (a count without reading
    the rows back): Sail records ``numOutputRows``, delta-rs ``num_added_rows``. An engine
    commits nothing for an empty write: no new version, 0 rows."""
    after = table_version(location)
    if after is None or after == before:
        return 0
    count = after - (-1 if before is None else before)
    total = 0
    for commit in DeltaTable(str(location)).history(count):
        metrics = commit.get("operationMetrics") or {}
        rows = metrics.get("numOutputRows", metrics.get("num_added_rows"))
        if rows is None:
            raise ValueError(f"commit {commit.get('version')} of {location} records no row count")
        total += int(rows)
    return total


def compact(lake: Path, table: Table) -> dict[str, Any]:
    """Bin-pack small files (OPTIMIZE)."""
    return DeltaTable(str(table.location(lake))).optimize.compact()


def vacuum(lake: Path, table: Table, retention_hours: int = 168) -> list[str]:
    """Delete files no longer referenced by versions newer than ``retention_hours``."""
    return DeltaTable(str(table.location(lake))).vacuum(
        retention_hours=retention_hours, dry_run=False, enforce_retention_duration=False
    )

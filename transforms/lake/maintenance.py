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


def compact(lake: Path, table: Table) -> dict[str, Any]:
    """Bin-pack small files (OPTIMIZE)."""
    return DeltaTable(str(table.location(lake))).optimize.compact()


def vacuum(lake: Path, table: Table, retention_hours: int = 168) -> list[str]:
    """Delete files no longer referenced by versions newer than ``retention_hours``."""
    return DeltaTable(str(table.location(lake))).vacuum(
        retention_hours=retention_hours, dry_run=False, enforce_retention_duration=False
    )

"""What is in a lake: its tables (Delta version, rows, files) and the last pipeline run."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

from deltalake import DeltaTable

from transforms.lake.registry import discover


def table_status(lake: Path, name: str) -> dict[str, Any]:
    layer, entity = name.split(".", 1)
    dt_ = DeltaTable(str(lake / layer / entity))
    last = dt_.history(1)[0]
    modified = dt.datetime.fromtimestamp(last["timestamp"] / 1000).isoformat(
        sep=" ", timespec="seconds"
    )
    return {
        "table": name,
        "version": dt_.version(),
        "rows": dt_.to_pyarrow_dataset().count_rows(),
        "files": len(dt_.file_uris()),
        "modified": modified,
    }


def last_run(lake: Path) -> dict[str, Any] | None:
    import dagster as dg

    from orchestration.environment import dagster_home

    home = dagster_home(lake)
    if not (home / "dagster.yaml").exists():
        return None

    with dg.DagsterInstance.from_config(str(home)) as instance:
        records = instance.get_run_records(limit=1)
        if not records:
            return None
        rec = records[0]
        started = rec.start_time and dt.datetime.fromtimestamp(rec.start_time).isoformat(
            sep=" ", timespec="seconds"
        )
        selection = rec.dagster_run.asset_selection or set()
        return {
            "run_id": rec.dagster_run.run_id,
            "status": rec.dagster_run.status.value,
            "started": started,
            "assets": ", ".join(sorted(k.to_user_string() for k in selection)) or "-",
        }


def lake_status(lake: Path) -> dict[str, Any]:
    return {
        "lake": str(lake),
        "tables": [table_status(lake, name) for name in discover(lake)],
        "last_run": last_run(lake),
    }

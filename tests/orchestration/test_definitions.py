"""The Dagster definitions load, and their asset and check keys match the snapshot."""

import json
import os
from pathlib import Path

SNAPSHOT = Path(__file__).with_name("definitions_snapshot.json")


def current_keys() -> dict:
    from orchestration.definitions import defs

    graph = defs.resolve_asset_graph()
    return {
        "assets": sorted(k.to_user_string() for k in graph.get_all_asset_keys()),
        "checks": sorted(
            f"{k.asset_key.to_user_string()}:{k.name}" for k in graph.asset_check_keys
        ),
        "jobs": sorted(j.name for j in defs.jobs),
        "schedules": sorted(s.name for s in defs.schedules),
        "sensors": sorted(s.name for s in defs.sensors),
    }


def test_definitions_match_snapshot():
    keys = current_keys()
    if os.environ.get("UPDATE_SNAPSHOTS"):  # after an intended change: review the diff, commit it
        SNAPSHOT.write_text(json.dumps(keys, indent=2, ensure_ascii=False) + "\n")
    assert SNAPSHOT.exists(), "no snapshot: run with UPDATE_SNAPSHOTS=1 and commit it"
    assert keys == json.loads(SNAPSHOT.read_text())


def test_gx_check_blocks_downstream():
    from orchestration.definitions import defs

    graph = defs.resolve_asset_graph()
    gx = [k for k in graph.asset_check_keys if k.name == "gx_telematics__positions"]
    assert len(gx) == 1
    spec = graph.get_check_spec(gx[0])
    assert spec.blocking

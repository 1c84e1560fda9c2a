"""`lakehouse report … --as-published DATE` (issue 12 acceptance): on a copy of the generated lake,
publish the bulletin, then change the lake — a late position file and a telematics re-run, a
ride-hailing re-evaluation rewriting its company periods, a freight waybill removed — check the
reports did change, and get the original bytes back from each report as published."""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
import sys
from pathlib import Path

import pyarrow.compute as pc
import pytest
from click.testing import CliRunner
from deltalake import DeltaTable, write_deltalake

from orchestration.cli import main

pytestmark = pytest.mark.slow

PERIOD, ON = "2026-09", "2026-10-09"
LATE_DAY = "2026-09-29"  # a day of pipeline_lake
REPORTS = {
    **{f"telematics {level}": ("telematics", "--level", level)
       for level in ("county", "enterprise", "platform")},
    "freight": ("freight",),
    "ridehailing": ("ridehailing",),
    "ridehailing overview": ("ridehailing", "--overview"),
}  # fmt: skip


def cli(*args, code: int = 0):
    result = CliRunner().invoke(main, [str(a) for a in args], catch_exceptions=False)
    assert result.exit_code == code, result.output
    return result


def reports(lake, *extra) -> dict[str, str]:
    return {
        name: cli("report", *args, "--lake", lake, "--period", PERIOD, *extra).stdout
        for name, args in REPORTS.items()
    }


def late_file(lake: Path) -> None:
    """Three records of a registered vehicle for LATE_DAY (one unqualified), received 6 days
    later — as tests/orchestration/test_assessment_e2e.py lands one."""
    positions = DeltaTable(str(lake / "silver" / "telematics__positions")).to_pyarrow_table(
        columns=["plate", "plate_color", "platform_id", "lon", "lat", "day", "gnss_time"]
    )  # fmt: skip
    vehicles = DeltaTable(str(lake / "silver" / "telematics__vehicles")).to_pyarrow_table()
    current = {(v["plate"], v["plate_color"]) for v in vehicles.to_pylist() if v["is_current"]}
    first = min(
        (p for p in positions.to_pylist()
         if p["day"] == dt.date.fromisoformat(LATE_DAY) and (p["plate"], p["plate_color"]) in current),
        key=lambda p: (p["plate"], p["gnss_time"]),
    )  # fmt: skip
    lines = [
        json.dumps(
            {
                "platform_id": first["platform_id"],
                "plate": first["plate"],
                "plate_color": first["plate_color"],
                "gnss_time": f"{LATE_DAY} {t}",
                "lon": first["lon"] + 0.001 * i,
                "lat": first["lat"],
                "speed": speed,
                "recorder_speed": 0,
                "mileage_km": 1.0,
                "direction": 0,
                "altitude": 10,
                "state": 3,
                "alarm": 0,
                "received_at": "2026-10-05 08:00:00",
            },
            ensure_ascii=False,
        )  # fmt: skip
        for i, (t, speed) in enumerate([("03:00:00", 0), ("03:00:30", 0), ("03:01:00", 300)])
    ]
    folder = lake / "landing/telematics/positions/2026-10-05"
    folder.mkdir(parents=True)
    (folder / "bucao.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")


def reevaluate_ridehailing(lake: Path) -> None:
    """What a re-evaluation does to gold.ridehailing__company_periods: the table rewritten, here
    with every score of the month one point lower."""
    path = str(lake / "gold" / "ridehailing__company_periods")
    table = DeltaTable(path).to_pyarrow_table()
    month = pc.equal(table["period"], PERIOD)
    lowered = pc.if_else(month, pc.subtract(table["score"], 1.0), table["score"])
    index = table.schema.get_field_index("score")
    write_deltalake(path, table.set_column(index, "score", lowered), mode="overwrite")


def remove_a_waybill(lake: Path) -> None:
    path = str(lake / "silver" / "freight__waybills")
    waybills = DeltaTable(path).to_pyarrow_table(columns=["shipping_note_number"])
    first = sorted(waybills.column("shipping_note_number").to_pylist())[0]
    DeltaTable(path).delete(f"shipping_note_number = '{first}'")


def test_reports_as_published_are_the_bytes_of_the_day_after_reruns(
    pipeline_lake, tmp_path, monkeypatch
):
    monkeypatch.delenv("DAGSTER_HOME", raising=False)
    monkeypatch.setenv("PATH", f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}")
    lake = tmp_path / "lake"
    shutil.copytree(pipeline_lake, lake)
    before = reports(lake)
    assert all(json.loads(text) for text in before.values())
    cli("bulletin", "publish", "--lake", lake, "--period", PERIOD, "--on", ON)

    late_file(lake)
    cli("run", "--lake", lake, "--domain", "telematics")
    reevaluate_ridehailing(lake)
    remove_a_waybill(lake)
    after = reports(lake)
    changed = {name for name in REPORTS if after[name] != before[name]}
    assert "freight" in changed and "ridehailing" in changed
    assert changed & {"telematics county", "telematics platform"}, changed  # the late records

    again = reports(lake, "--as-published", ON)
    assert again == before  # byte for byte, every report

    missing = cli("report", "telematics", "--lake", lake, "--level", "county", "--period", PERIOD,
                  "--as-published", "2026-10-10", code=1)  # fmt: skip
    assert "no bulletin was published on 2026-10-10; days with one: 2026-10-09" in missing.output
    unread = cli("report", "ridehailing", "--lake", lake, "--period", PERIOD, "--defects",
                 "--as-published", ON, code=1)  # fmt: skip
    assert "silver.ridehailing__defects was not read by the publication" in unread.output

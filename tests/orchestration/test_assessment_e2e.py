"""Issue-3 acceptance on a generated lake that spans a month boundary (`pipeline_lake`, shared and
only read here: tests/conftest.py's SCENARIO, 2026-09-29 … 2026-10-01, 12 vehicles, seed 5):

- the report of any period is reproducible byte for byte from the same landing files;
- a late-arriving (补传) file for an old day changes exactly that day's and its month's numbers;
- --explain accounts for the vehicles behind the numbers.
"""

import json
import shutil

import pytest
from click.testing import CliRunner

from orchestration.cli import main

pytestmark = pytest.mark.slow

DAYS = ["2026-09-29", "2026-09-30", "2026-10-01"]  # pipeline_lake's landing days
MONTHS = ["2026-09", "2026-10"]
LEVELS = ["county", "enterprise", "platform"]
LATE_DAY = "2026-09-29"


def cli(*args) -> str:
    result = CliRunner().invoke(main, [str(a) for a in args], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result.stdout


def reports(lake) -> dict[tuple[str, str], str]:
    return {
        (level, period): cli(
            "report", "telematics", "--lake", lake, "--level", level, "--period", period
        )  # fmt: skip
        for level in LEVELS
        for period in DAYS + MONTHS
    }


def late_file(lake) -> None:
    """Three records of one registered vehicle for LATE_DAY (one unqualified) arriving 6 days
    later (an unregistered vehicle's records would count for its platform only)."""
    first = json.loads(cli(
        "query", "--lake", lake, "--format", "json",
        f"SELECT p.plate, p.plate_color, p.platform_id, p.lon, p.lat "
        f"FROM silver.telematics__positions p JOIN silver.telematics__vehicles v "
        f"ON p.plate = v.plate AND p.plate_color = v.plate_color AND v.is_current "
        f"WHERE p.day = DATE'{LATE_DAY}' ORDER BY p.plate, p.gnss_time LIMIT 1",
    ))[0]  # fmt: skip
    rows = []
    for i, (t, speed) in enumerate([("03:00:00", 0), ("03:00:30", 0), ("03:01:00", 300)]):
        rows.append(json.dumps({
            "platform_id": first["platform_id"], "plate": first["plate"],
            "plate_color": first["plate_color"], "gnss_time": f"{LATE_DAY} {t}",
            "lon": first["lon"] + 0.001 * i, "lat": first["lat"], "speed": speed,
            "recorder_speed": 0, "mileage_km": 1.0, "direction": 0, "altitude": 10,
            "state": 3, "alarm": 0, "received_at": "2026-10-05 08:00:00",
        }, ensure_ascii=False))  # fmt: skip
    folder = lake / "landing/telematics/positions/2026-10-05"
    folder.mkdir(parents=True)
    (folder / "bucao.jsonl").write_text("\n".join(rows) + "\n", encoding="utf-8")


def test_reports_are_reproducible_and_a_late_file_changes_only_its_day_and_month(
    pipeline_lake, tmp_path, monkeypatch
):
    monkeypatch.delenv("DAGSTER_HOME", raising=False)
    positions = pipeline_lake / "landing/telematics/positions"
    assert sorted(d.name for d in positions.iterdir()) == DAYS
    before = reports(pipeline_lake)
    assert all(json.loads(text) for (level, _), text in before.items() if level != "enterprise")

    lake = tmp_path / "lake"  # a twin: the same landing files, its own run
    shutil.copytree(pipeline_lake / "landing", lake / "landing")
    cli("run", "--lake", lake)
    assert reports(lake) == before  # same landing files, same bytes

    late_file(lake)
    cli("run", "--lake", lake)
    after = reports(lake)
    changed = {key for key in before if before[key] != after[key]}
    assert {period for _, period in changed} == {LATE_DAY, "2026-09"}
    assert ("county", LATE_DAY) in changed and ("platform", LATE_DAY) in changed


def test_explain_accounts_for_every_counted_vehicle(pipeline_lake, monkeypatch):
    monkeypatch.delenv("DAGSTER_HOME", raising=False)
    lake = pipeline_lake
    for level in LEVELS:
        for row in json.loads(cli("report", "telematics", "--lake", lake, "--level", level,
                                  "--period", "2026-09")):  # fmt: skip
            why = json.loads(cli("report", "telematics", "--lake", lake, "--level", level,
                                 "--period", "2026-09", "--explain", row["subject_id"]))  # fmt: skip
            totals = why["totals"]
            assert totals["vehicles"] == row["vehicles"]
            assert totals["online_vehicles"] == row["online_vehicles"]
            listed = [v for v in why["vehicles"] if v["counted"]]
            assert len(listed) == row["vehicles"]
            assert sum(v["online"] for v in listed) == row["online_vehicles"]
            if row["online_rate"] is not None:
                assert totals["online_vehicles"] / totals["operating_entered_vehicles"] == (
                    pytest.approx(row["online_rate"], abs=1e-6)
                )
            if row["data_qualification_rate"] is not None and level != "platform":
                assert why["qualified_records"] / why["records"] == pytest.approx(
                    row["data_qualification_rate"], abs=1e-6
                )
            if row["mean_overspeed_count"] is not None:
                assert totals["overspeed_events"] / totals["online_vehicles"] == pytest.approx(
                    row["mean_overspeed_count"], abs=1e-6
                )

"""End to end through the `lakehouse` CLI: landing files → bronze → quarantine / silver → gold.

The fixture tests/fixtures/landing is hand-built; every number below is counted by hand from it:
p1.jsonl: 13 lines = 6 good (one an exact duplicate), 2 malformed, 5 failing rules (one fails two);
p1-copy.jsonl: the same bytes (skipped); p2.csv: 5 rows = 2 good, 1 malformed, 2 failing rules;
notes.txt: rejected (unsupported type).
"""

import json
import shutil

import pytest
from click.testing import CliRunner

from orchestration.cli import main
from transforms.domains import DOMAINS

pytestmark = pytest.mark.slow

FREIGHT_TABLES = (
    *(f"quarantine.freight__{t}" for t in ("envelopes", "national_positions", "senders")),
    *(f"silver.freight__{t}" for t in (
        "anomalies", "drivers", "envelopes", "fund_flow_waybills", "fund_flows",
        "national_positions", "payments", "senders", "vehicles", "waybill_drivers",
        "waybill_vehicles", "waybills")),
    *(f"gold.freight__{t}" for t in (
        "alarm_days", "alarms", "anomalies", "operator_days", "operator_months", "operator_stats")),
    "silver.reference__divisions",
)  # fmt: skip
# ride-hailing: no file in the fixture; what its evaluation, dbt and the report read exists, empty
RIDEHAILING_TABLES = (
    *(f"silver.ridehailing__{t}" for t in (
        "defects", "evaluated", "orders", "records", "static_records", "static_versions")),
    *(f"gold.ridehailing__{t}" for t in (
        "company_months", "company_periods", "defect_counts", "overview", "overview_months")),
)  # fmt: skip
# 车辆/企业画像: no violation, licence, score, waybill, anomaly, order or rectification item
PROFILE_EMPTY = tuple(f"gold.profile__{t}" for t in (
    "counts", "licences", "violations", "scores", "waybills", "anomalies", "rectification"))  # fmt: skip
EXPECTED_ROWS = {
    "ops.landing__files": 4,  # p1(-copy), p2, vehicles, counties
    "ops.landing__rejected_files": 1,
    # every GX validation kept: the positions suite's 24 expectations on the one batch (a second
    # run validates nothing new); the quarantine summary: the 10 quarantined records' 11 rule
    # tags (3 malformed_record; speed_in_range twice) — 8 rules of the one landing day, a sample each
    "ops.validation_results": 24,
    "ops.quarantine__counts": 8,
    "ops.quarantine__samples": 11,
    # tamper evidence: the 4 landed files; positions, vehicles, counties: a commit, a data file each
    "ops.manifest": 4 + 3 * 2,
    "bronze.telematics__positions": 15,  # 11 + 4 parsed records
    "bronze.telematics__vehicles": 3,
    "bronze.telematics__counties": 3,
    "quarantine.telematics__positions": 10,  # 3 malformed + 7 failing rules
    "silver.telematics__positions": 7,  # 8 qualified records, one duplicate
    "silver.telematics__vehicles": 3,
    "silver.telematics__counties": 3,
    # feeds not in the fixture still get their (empty) silver tables, so dbt can read them
    "silver.telematics__enterprises": 0,
    "silver.telematics__platforms": 0,
    "silver.telematics__routes": 0,
    "silver.telematics__regions": 0,
    "silver.telematics__platform_links": 0,
    "silver.telematics__platform_checks": 0,
    "silver.telematics__vehicle_day_facts": 3,  # the three known vehicles on 2026-11-02
    "silver.telematics__violation_events": 0,
    # (day, platform, plate, colour): 5 keyed groups, 闽JD12345 with colour 7, XX12345, and the
    # 3 malformed lines of no platform and no plate
    "silver.telematics__record_counts": 7,
    "gold.telematics__vehicle_days": 3,
    "gold.telematics__county_days": 3,
    "gold.telematics__assessments": 12,  # 3 counties × day, month, quarter, year
    # no month completed yet (the lake holds one day): the 整改清单 exists, empty
    "ops.telematics__rectification_items": 0,
    "ops.telematics__rectification_events": 0,
    # what the dashboards serve (every serving view reads a gold table)
    "gold.telematics__ranked_assessments": 12,  # the assessments with their rank
    "gold.telematics__violations": 0,
    "gold.telematics__platform_checks": 0,
    "gold.telematics__platform_link_events": 0,
    "gold.telematics__rectification_items": 0,
    # licences: no licence file in the fixture; the tables dbt and the report read exist, empty
    "quarantine.licences__authorities": 0,
    "quarantine.licences__issuance": 0,
    "silver.licences__authorities": 0,
    "silver.licences__licences": 0,
    "silver.licences__records": 0,
    "gold.licences__operation_quality": 0,
    "gold.licences__licences": 0,
    # freight: no freight file in the fixture; every table its jobs, dbt and the reports read
    # exists, empty (and the shared divisions)
    **dict.fromkeys(FREIGHT_TABLES, 0),
    **dict.fromkeys(RIDEHAILING_TABLES, 0),
    # 车辆/企业画像: the 3 vehicles and their 3 enterprises, six parts each; the vehicles' master
    # data the only list with rows (no violation, licence, score, waybill, order or item)
    "gold.profile__parts": 6 * 6,
    "gold.profile__master": 3,
    **dict.fromkeys(PROFILE_EMPTY, 0),
}


def cli(*args):
    result = CliRunner().invoke(main, list(args), catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result.output


def rows(lake) -> dict[str, int]:
    status = json.loads(cli("status", "--lake", str(lake), "--format", "json"))
    # the audit log grows with every command, `status` included (its own test below)
    return {t["table"]: t["rows"] for t in status["tables"] if t["table"] != "ops.audit_log"}


def query(lake, sql):
    return json.loads(cli("query", "--lake", str(lake), "--format", "json", sql))


def test_fixture_lake_end_to_end(fixture_pipeline_lake, tmp_path, monkeypatch):
    monkeypatch.delenv("DAGSTER_HOME", raising=False)
    # the fixture landing after one `lakehouse run` (tests/conftest.py; shared: only read here)
    lake = fixture_pipeline_lake
    assert rows(lake) == EXPECTED_ROWS

    quarantined = query(
        lake,
        "SELECT _line, failed_rules FROM quarantine.telematics__positions "
        "WHERE _source_file LIKE '%p1%' ORDER BY _line",
    )
    assert [(r["_line"], r["failed_rules"]) for r in quarantined] == [
        (5, ["malformed_record"]),
        (6, ["speed_in_range"]),
        (7, ["plate_valid"]),
        (9, ["lon_in_range"]),
        (10, ["gnss_time_not_future"]),
        (11, ["malformed_record"]),
        (13, ["speed_in_range", "direction_in_range"]),
    ]
    counties = query(
        lake,
        "SELECT county_name, vehicles, online_vehicles, points, qualified_points, qualified_rate "
        "FROM gold.telematics__county_days ORDER BY county_code",
    )
    assert [
        (c["county_name"], c["online_vehicles"], c["points"], c["qualified_points"])
        for c in counties
    ] == [("蕉城区", 1, 4, 3), ("福安市", 1, 4, 1), ("福鼎市", 1, 3, 2)]

    # county scores (weights 5/10/40/30/15, cut-offs from rules.yaml), worked by hand:
    # 蕉城区: entry 5 + online 10 + track 40 + data 0 (0.75 < 0.8) + drift 15 = 70
    # 福安市: one qualified point, no km → track null; 5 + 10 + 0 (0.25) + 15 = 30 of 60 → 50
    # 福鼎市: its two qualified points are at one place → 0 km → track null; 30 of 60 → 50
    day = json.loads(cli("report", "telematics", "--lake", str(lake), "--level", "county",
                         "--period", "2026-11-02"))  # fmt: skip
    assert [(r["subject_name"], r["data_qualification_rate"], r["score"], r["passed"]) for r in day] == [
        ("蕉城区", 0.75, 70.0, False), ("福安市", 0.25, 50.0, False),
        ("福鼎市", round(2 / 3, 6), 50.0, False)]  # fmt: skip

    # a second run on the same landing files changes no table (on a copy: the first is shared)
    again = tmp_path / "lake"
    shutil.copytree(lake, again)
    cli("run", "--lake", str(again))
    assert rows(again) == EXPECTED_ROWS
    verified = json.loads(cli("verify", "--lake", str(again), "--format", "json"))
    assert (verified["mismatches"], verified["commits_checked"]) == ([], 3)
    status = json.loads(cli("status", "--lake", str(again), "--format", "json"))
    assert status["last_run"]["status"] == "SUCCESS"

    # every run of `lakehouse run` and the command itself are in the audit log, append-only
    audit = query(again, "SELECT channel, action, outcome FROM ops.audit_log ORDER BY at")
    pipeline = [(a["action"], a["outcome"]) for a in audit if a["channel"] == "pipeline"]
    assert len(pipeline) >= 2 * 4 and all(outcome == "ok" for _, outcome in pipeline)
    # every domain's dbt models in one Dagster run per `lakehouse run` (one dbt start), before
    # the steps that read them
    actions = [action for action, _ in pipeline]
    marts = [action for action in actions if "dbt" in action]
    assert marts == [f"dbt: marts of {', '.join(d.name for d in DOMAINS)}"] * 2, actions
    assert actions.index("telematics: rectification items") > actions.index(marts[0])
    commands = [a["action"] for a in audit if a["channel"] == "cli"]
    assert commands.count("lakehouse run") == 2 and "lakehouse verify" in commands


def test_clear_errors(tmp_path):
    result = CliRunner().invoke(main, ["run", "--lake", str(tmp_path / "missing")])
    assert result.exit_code == 1 and "does not exist" in result.output
    result = CliRunner().invoke(main, ["run", "--lake", str(tmp_path), "--start", "2026-02-30"])
    assert result.exit_code == 2 and "not a date" in result.output
    result = CliRunner().invoke(
        main, ["run", "--lake", str(tmp_path), "--start", "2026-03-02", "--end", "2026-03-01"]
    )
    assert result.exit_code == 1 and "after" in result.output


def test_generated_lake_matches_the_generators_bookkeeping(
    pipeline_lake, pipeline_scenario, tmp_path, monkeypatch
):
    monkeypatch.delenv("DAGSTER_HOME", raising=False)
    # pipeline_lake (tests/conftest.py): a generated lake after one run, shared and only read
    # here. The generator is deterministic: the same arguments on a scratch lake give the same
    # telematics landing files, byte for byte, and the bookkeeping of pipeline_lake's.
    scratch = tmp_path / "lake"
    summary = json.loads(
        cli(
            "generate",
            "--lake",
            str(scratch),
            "--start",
            pipeline_scenario["start"],
            "--days",
            str(pipeline_scenario["days"]),
            "--vehicles",
            str(pipeline_scenario["vehicles"]),
            "--seed",
            str(pipeline_scenario["seed"]),
            "--json",
        )
    )
    landed = sorted(p for p in (pipeline_lake / "landing/telematics").rglob("*") if p.is_file())
    generated = sorted(p for p in (scratch / "landing/telematics").rglob("*") if p.is_file())
    assert [p.relative_to(pipeline_lake) for p in landed] == [
        p.relative_to(scratch) for p in generated
    ]
    assert all(a.read_bytes() == b.read_bytes() for a, b in zip(landed, generated, strict=True))
    lake = pipeline_lake
    assert summary["malformed_lines"] > 0 and summary["duplicate_records"] > 0
    assert all(n > 0 for n in summary["unqualified_by_rule"].values())

    got = rows(lake)
    # position files and decoded frames both land into positions
    assert got["bronze.telematics__positions"] == (
        summary["parsed_records"] + summary["frame_positions"]
    )
    assert got["quarantine.telematics__positions"] == (
        summary["quarantine_records"] + sum(summary["bad_frames"].values())
    )
    assert got["silver.telematics__positions"] == (
        summary["qualified_unique_records"] + summary["frame_qualified_unique_records"]
    )
    assert got["silver.telematics__vehicles"] == summary["vehicles"]
    assert got["silver.telematics__routes"] == summary["routes"]
    assert got["silver.telematics__regions"] == summary["regions"]
    assert got["silver.telematics__platform_links"] == summary["links_events"]
    assert got["silver.telematics__platform_checks"] == summary["checks"]

    by_rule = query(
        lake,
        "SELECT rule, count(*) AS n FROM (SELECT explode(failed_rules) AS rule "
        "FROM quarantine.telematics__positions) GROUP BY rule",
    )
    expected_rules = {k: v for k, v in summary["unqualified_by_rule"].items() if v}
    expected_rules["malformed_record"] = summary["malformed_lines"]
    expected_rules["malformed_frame"] = sum(summary["bad_frames"].values())
    assert {r["rule"]: r["n"] for r in by_rule} == expected_rules

    gold = query(
        lake,
        "SELECT CAST(day AS string) AS day, county_code, online_vehicles, "
        "qualified_points FROM gold.telematics__county_days",
    )
    assert {
        f"{g['day']}|{g['county_code']}": {
            "online_vehicles": g["online_vehicles"],
            "qualified_points": g["qualified_points"],
        }
        for g in gold
    } == summary["county_days_all"]

    # generating again without --force refuses to overwrite the landing zone
    result = CliRunner().invoke(
        main, ["generate", "--lake", str(scratch), "--start", pipeline_scenario["start"]]
    )
    assert result.exit_code == 1 and "--force" in result.output

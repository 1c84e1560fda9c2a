"""The DuckDB baseline of the ride-hailing evaluation computes exactly what our pipeline computes.

A generated ride-hailing lake (every defect kind, re-sends, keyless and malformed lines, outages,
sentinels, a delete never added; no licence data) plus a few lines the generator never writes
(rule corners: personal fields to normalise, a trailing comma, a duplicate key, hour 24, a tab
around a code, a planned outage given as "1") goes through our landing, publish and evaluation
on Sail; ``evaluate_landing`` recomputes the company periods from the same files, and every row
must equal ``gold.ridehailing__company_periods`` — and, per interface, company and month, the
records failing each dimension must equal ``silver.ridehailing__evaluated``'s.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pyarrow as pa
import pytest
from deltalake import DeltaTable

from orchestration.bench import ridehailing_duckdb as baseline
from transforms.lake import registry
from transforms.lake.clock import now_beijing
from transforms.ridehailing import checks
from transforms.ridehailing.generate import generate_ridehailing
from transforms.ridehailing.interfaces import INTERFACES
from transforms.rules import load_rules

pytestmark = pytest.mark.slow

# 3 days across a year's end: two months, two years, the silent company's earlier month
START, DAYS, SEED = dt.date(2025, 12, 30), 3, 7
EDGE_DAY = "2025-12-31"
RATES = ("completeness_rate", "normativity_rate", "timeliness_rate", "truthfulness_rate",
         "city_coverage_rate", "score")  # fmt: skip
DIMENSIONS = {
    "completeness": ("completeness_failed", "complete"),
    "normativity": ("normativity_failed", "normative"),
    "timeliness": ("timeliness_failed", "timely"),
    "truthfulness": ("truthfulness_failed", "truthful"),
}


def _records(landing: Path, interface: str, day: str) -> list[dict]:
    """The records of the interface's first file of ``day``."""
    path = sorted((landing / "ridehailing" / interface / day).glob("*.jsonl"))[0]
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def _write(landing: Path, interface: str, lines: list[str], day: str = EDGE_DAY) -> None:
    folder = landing / "ridehailing" / interface / day
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "zz-edge.jsonl").write_text("".join(f"{x}\n" for x in lines), encoding="utf-8")


def _add_edge_lines(landing: Path) -> None:
    """Lines the generator does not write, one rule corner each, in a generated company."""
    drivers = _records(landing, "baseInfoDriver", (START - dt.timedelta(days=1)).isoformat())
    # a driver whose ID number has a check letter (matched in lower case below), if any
    driver = next((d for d in drivers if d["LicenseId"].endswith("X")), drivers[0])
    match = _records(landing, "orderMatch", EDGE_DAY)[0]
    company, licence = driver["CompanyId"], driver["LicenseId"]
    dump = lambda record: json.dumps(record, ensure_ascii=False)  # noqa: E731

    def order(order_id: str, at: str, received: str, **fields) -> dict:
        return {**match, "CompanyId": company, "OrderId": order_id, "LicenseId": licence,
                "DriverPhone": driver["DriverPhone"], "VehicleNo": match["VehicleNo"],
                "UpdateTime": at, "DistributeTime": at, "received_at": received, **fields}  # fmt: skip

    ok = order("EDGE-1", "20251231100000", "2025-12-31 10:00:30")
    _write(landing, "orderMatch", [
        # the licence as an ID number in lower case, padded; the phone zero-padded: one driver
        dump({**ok, "LicenseId": f"  {licence.lower()} ", "DriverPhone": "00" + ok["DriverPhone"]}),
        # ",}" inside a string is no trailing comma; a blank licence names no driver
        dump(order("EDGE,}2", "20251231100100", "2025-12-31 10:01:30", LicenseId="   ")),
        dump(order("EDGE-5", "20251231240000", "2025-12-31 23:59:00")),  # hour 24: not a time
        dump(order("EDGE-3", "20251231100000", "2025-12-31 10:00:30"))[:-1] + ",}",  # not JSON
        # a repeated key keeps its first value
        dump(order("EDGE-4", "20251231100500", "2025-12-31 10:05:10"))[:-1] + ', "OrderId": "X"}',
        # a tab around a code is not trimmed away; a null mandatory field is missing
        dump(order("EDGE-6", "20251231101000", "2025-12-31 10:10:05", Flag="\t1\t", Encrypt=None)),
        # inside the planned outage below, back-filled in time: late but timely
        dump(order("EDGE-7", "20251231091000", "2025-12-31 12:00:00")),
        # received last, though in a file landed first: its values win (VehicleNo missing)
        dump(order("EDGE-8", "20251231102000", "2025-12-31 10:20:05")),
        "",
        "   ",
        "[1, 2]",
    ])  # fmt: skip
    late_copy = order("EDGE-8", "20251231102000", "2025-12-31 11:00:00", VehicleNo=" ")
    _write(landing, "orderMatch", [dump(late_copy)], day=START.isoformat())
    passenger = {"CompanyId": company, "Address": driver["Address"], "Flag": 1, "State": 0,
                 "UpdateTime": "20251231080000", "Encrypt": 1, "PassengerName": "张三",
                 "RegisterDate": "20251231", "PassengerGender": 1}  # fmt: skip
    _write(landing, "baseInfoPassenger", [
        # one phone zero-padded then not: one natural key, the later copy's values
        dump({**passenger, "PassengerPhone": "0013912345678", "PassengerName": "张三丰丰",
              "received_at": "2025-12-31 08:00:05"}),
        dump({**passenger, "PassengerPhone": " 13912345678", "received_at": "2025-12-31 09:00:00"}),
    ])  # fmt: skip
    _write(landing, "baseInfoDriver", [
        dump({**driver, "LicenseId": "EDGE00000000000000", "Flag": 3, "UpdateTime": "20251231070000",
              "received_at": "2025-12-31 07:00:10"}),  # a delete never added
    ])  # fmt: skip
    _write(landing, "outageNotice", [
        dump({"CompanyId": company, "planned": "1", "notified_at": "20251226000000",
              "start": "20251231090000", "end": "20251231093000"}),
        dump({"CompanyId": company, "planned": True, "notified_at": "20251226000000",
              "start": "20251231080000", "end": "20251231070000"}),  # ends before it starts
    ])  # fmt: skip


@pytest.fixture(scope="module")
def lake(spark, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The generated lake with the edge lines, after our landing, publish and evaluation."""
    from transforms.lake.landing import land_feed
    from transforms.lake.protection import ProtectionKeys
    from transforms.ridehailing.feeds import FEEDS
    from transforms.ridehailing.jobs.evaluate import evaluate
    from transforms.ridehailing.jobs.publish import publish_records

    root = tmp_path_factory.mktemp("ridehailing_duckdb") / "lake"
    generate_ridehailing(root, START, DAYS, seed=SEED)
    _add_edge_lines(root / "landing")
    for feed in FEEDS:
        land_feed(root, feed)
    rules = load_rules(domain="ridehailing")
    publish_records(spark, root, rules)
    evaluate(spark, root, rules, load_rules(domain="licences"), ProtectionKeys.load().join)
    assert not registry.table("silver.licences__licences").exists(root)  # no licence data
    return root


def _gold(lake: Path, name: str) -> pa.Table:
    return DeltaTable(str(registry.table(name).location(lake))).to_pyarrow_table()


def _same(a, b) -> bool:
    if a is None or b is None:
        return a is None and b is None
    if isinstance(a, float) or isinstance(b, float):
        return abs(a - b) <= 1e-9
    return a == b


def test_company_periods_equal_ours(lake: Path, tmp_path: Path) -> None:
    rules = load_rules(domain="ridehailing")
    ours = _gold(lake, "gold.ridehailing__company_periods").to_pylist()
    rows = baseline.evaluate_landing(lake / "landing", tmp_path / "work", rules, threads=2)
    assert rows and all(list(r) == list(baseline.OUTPUT_KEYS) for r in rows)
    by_key = lambda rs: {(r["company_id"], r["period"], r["grain"]): r for r in rs}  # noqa: E731
    mine, gold = by_key(rows), by_key(ours)
    assert len(mine) == len(rows)
    assert sorted(mine) == sorted(gold)
    differing = [
        (key, column, gold[key][column], mine[key][column])
        for key in sorted(gold)
        for column in baseline.OUTPUT_KEYS
        if not _same(gold[key][column], mine[key][column])
    ]
    assert differing == []
    # the comparison means something: months and years, a silent company, defects of each kind
    assert {r["grain"] for r in rows} == {"month", "year"}
    assert {r["period"] for r in rows} >= {"2025-12", "2026-01", "2025", "2026"}
    assert any(not r["transmitted"] for r in rows)
    for rate in RATES[:4]:
        assert any(r[rate] is not None and r[rate] < 1 for r in rows), rate


def test_every_record_is_judged_as_ours(lake: Path, tmp_path: Path) -> None:
    """Per interface, company and month: the records, and those failing each dimension."""
    rules = load_rules(domain="ridehailing")
    con = baseline.connect(tmp_path / "work", threads=2)
    baseline.load(con, lake / "landing", rules, now_beijing().replace(tzinfo=None))
    con.execute(f"CREATE TEMP TABLE evaluated AS {baseline.evaluated_sql(rules)}")
    con.register("ours", _gold(lake, "silver.ridehailing__evaluated"))
    keys = "interface, company_id, period_month"
    theirs = ", ".join(f"count_if(len({f}) > 0) AS {d}" for d, (f, _) in DIMENSIONS.items())
    mine = ", ".join(f"count_if(NOT {c}) AS {d}" for d, (_, c) in DIMENSIONS.items())
    query = f"SELECT {keys}, count(*) AS records, {{}} FROM {{}} GROUP BY ALL ORDER BY ALL"
    expected = con.execute(query.format(theirs, "ours")).fetchall()
    got = con.execute(query.format(mine, "evaluated")).fetchall()
    con.close()
    assert got == expected


@pytest.mark.usefixtures("spark")  # checks.py's Columns are built in a Spark Connect session
def test_the_rules_are_the_catalogues() -> None:
    """One SQL condition per Spark check of checks.py, for every interface and dimension."""
    rules = load_rules(domain="ridehailing")
    for spec in INTERFACES:
        assert len(baseline.completeness_failures(spec)) == len(checks.completeness_checks(spec))
        assert len(baseline.normativity_failures(spec, rules)) == len(
            checks.normativity_checks(spec, rules)
        ), spec.name
        assert len(baseline.truth_failures(spec, rules)) == len(checks.truth_checks(spec, rules))

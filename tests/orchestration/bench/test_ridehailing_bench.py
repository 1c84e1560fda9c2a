"""The ride-hailing race of the benchmark (orchestration/bench/ridehailing.py): the position
interval, the comparison of company periods, the `lakehouse bench` options and exit status, and
one tiny race through the harness on every engine — ours, JVM Spark on our plan, DuckDB — whose
company periods must agree (no time is asserted)."""

import json

import pytest
from click.testing import CliRunner

from orchestration.bench import harness, ridehailing
from orchestration.bench.ridehailing import compare_periods, position_interval
from orchestration.cli import main

ROW = {
    "company_id": "WYC3501020001", "period": "2026-11", "grain": "month", "transmitted": True,
    "records": 75_612, "completeness_rate": 0.9987303602602762,
    "normativity_rate": 0.9985848807067661, "timeliness_rate": 0.994035338306089,
    "truthfulness_rate": 0.9691847854837856, "city_coverage_rate": 0.7142857142857143,
    "score": 99.01338411892293, "company_name": "福建闽行出行",
}  # fmt: skip
SILENT = {
    **{k: None for k in ROW}, "company_id": "WYC3501040002", "period": "2026-11",
    "grain": "month", "transmitted": False, "records": 0, "city_coverage_rate": 0.0, "score": 0.0,
}  # fmt: skip


def test_the_position_interval_gives_about_the_points_wanted():
    interval = position_interval(1_000_000, 10_000_000)
    lines_per_order = ridehailing.LINES_FIXED + ridehailing.LINES_PER_INTERVAL_S / interval
    assert 220 <= interval <= 240 and lines_per_order == pytest.approx(10, rel=0.01)
    assert position_interval(1_000, 1_000_000) == 2  # as dense as the generator goes
    assert position_interval(1_000, 0) == 86_400  # a point after each trip only


def test_company_periods_agree_to_1e_9_and_a_difference_is_named():
    theirs = [{**SILENT}, {**ROW, "timeliness_rate": ROW["timeliness_rate"] + 1e-12}]
    assert compare_periods("duckdb", [ROW, SILENT], theirs) is None  # order and extra keys aside
    off = [SILENT, {**ROW, "truthfulness_rate": ROW["truthfulness_rate"] - 1e-6}]
    message = compare_periods("jvm_spark", [ROW, SILENT], off)
    assert message is not None and "jvm_spark" in message and "WYC3501020001" in message
    assert "truthfulness_rate ours 0.9691847854837856" in message and "2026-11" in message
    missing = compare_periods("duckdb", [ROW, SILENT], [ROW])
    assert missing is not None and "1 rows, ours 2" in missing and "WYC3501040002" in missing
    null_rate = compare_periods("duckdb", [ROW, SILENT], [ROW, {**SILENT, "score": None}])
    assert null_rate is not None and "score ours 0.0 / duckdb None" in null_rate
    counted = compare_periods("duckdb", [ROW], [{**ROW, "records": 75_613}])
    assert counted is not None and "records ours 75612 / duckdb 75613" in counted


def _bench_with(mismatches: list[str]) -> harness.BenchResult:
    bench = harness.BenchResult({}, {"cores": 2, "memory_gb": 8.0}, "2026-12-01T00:00:00")
    bench.ridehailing = {"mismatches": mismatches}
    return bench


def test_lakehouse_bench_passes_the_options_and_fails_on_a_mismatch(monkeypatch):
    seen = {}

    def fake_run_bench(sizes, work, engines, limit, keep, say, **options):
        seen.update(options)
        return _bench_with([])

    monkeypatch.setattr(harness, "run_bench", fake_run_bench)
    monkeypatch.setattr(harness, "render", lambda bench: "report")
    args = ["bench", "--sizes", "1k", "--crypto-seconds", "0", "--freight-envelopes", "0",
            "--freight-waybills", "0", "--ridehailing-orders", "5000",
            "--ridehailing-positions", "60000"]  # fmt: skip
    result = CliRunner().invoke(main, args, catch_exceptions=False)
    assert result.exit_code == 0, result.output
    assert seen["ridehailing_orders"] == 5_000 and seen["ridehailing_positions"] == 60_000
    defaults = CliRunner().invoke(main, ["bench", "--sizes", "1k"], catch_exceptions=False)
    assert defaults.exit_code == 0, defaults.output
    # a tenth of the company-month by default (the full size does not fit in memory yet)
    assert seen["ridehailing_orders"] == 100_000 and seen["ridehailing_positions"] == 1_000_000

    # an engine that computed other company periods: reported, exit status 1
    line = "ride-hailing: duckdb computed different company periods: company X month 2026-11"
    monkeypatch.setattr(harness, "run_bench", lambda *a, **k: _bench_with([line]))
    failed = CliRunner().invoke(main, ["bench", "--sizes", "1k"])
    assert failed.exit_code == 1 and line in failed.output


@pytest.mark.slow
def test_a_tiny_race_lands_evaluates_and_agrees_on_every_engine(tmp_path):
    assert ridehailing.duckdb_available(), "orchestration/bench/ridehailing_duckdb.py is missing"
    said = []
    bench = harness.run_bench(
        {}, tmp_path, baselines=("jvm_spark", "duckdb"), say=said.append, crypto_seconds=0,
        ridehailing_orders=3_000, ridehailing_positions=30_000,
    )  # fmt: skip
    out = json.loads(harness.to_json(bench))["ridehailing"]
    landing = out["landing"]
    # one active company over 30 days: about the orders asked for (the generator adds a few at
    # a small size), about ten points per order, and the lines of every interface
    assert landing["companies"] == 1 and landing["days"] == 30
    assert 3_000 <= landing["orders"] <= 6_000
    assert 8 <= landing["positions"] / landing["orders"] <= 12
    assert landing["lines"] > landing["records"] > landing["positions"] and landing["mb"] > 0
    assert tuple(out["stages"]) == ridehailing.STAGES == ("land", "publish", "evaluate")
    for stage in out["stages"].values():
        assert stage["seconds"] > 0 and stage["records_per_s"] > 0 and stage["peak_rss_mb"] > 100
    assert out["stages"]["land"]["records"] == landing["lines"]
    assert out["stages"]["evaluate"]["records"] == landing["records"]
    assert out["ours_s"] == pytest.approx(sum(s["seconds"] for s in out["stages"].values()), 1e-3)
    # every engine ran, was timed and computed our company periods
    assert set(out["engines"]) == {"jvm_spark", "duckdb"} and out["skipped"] == {}
    assert out["mismatches"] == [] and out["same_results"] is True and bench.mismatches == []
    assert out["targets"] == {"jvm_spark": 3.0, "duckdb": 0.8}
    for engine, e in out["engines"].items():
        assert e["seconds"] > 0 and e["lines_per_s"] > 0 and e["peak_rss_mb"] > 50
        assert e["ratio"] == pytest.approx(e["seconds"] / out["ours_s"], rel=1e-2)
        assert out["ratios"][engine] == e["ratio"]
        assert e["meets_target"] is (e["ratio"] >= out["targets"][engine])
    assert out["engines"]["jvm_spark"]["startup_s"] > 0
    # the company-month itself, the months its static data was sent in, and the year; the
    # silent company: a permit in force, nothing sent in November
    periods = {(r["company_id"], r["period"]): r for r in out["company_periods"]}
    active = [r for r in out["company_periods"] if r["period"] == "2026-11" and r["transmitted"]]
    assert len(active) == 1 and active[0]["records"] > landing["positions"]
    assert 0 < active[0]["timeliness_rate"] < 1 and 0 < active[0]["score"] < 100
    year = periods[(active[0]["company_id"], "2026")]
    assert year["grain"] == "year" and year["records"] >= active[0]["records"]
    silent = [
        r for r in out["company_periods"] if r["period"] == "2026-11" and not r["transmitted"]
    ]
    assert len(silent) == 1 and silent[0]["score"] == 0.0 and silent[0]["timeliness_rate"] is None
    text = harness.render(bench)
    assert "ride-hailing (网约车)" in text and "same company periods on every engine: yes" in text
    assert "     ×3  " in text and "   ×0.8  " in text  # the targets beside the ratios
    # the landing zone is cached (done marker), the lake and the scratch space are gone
    assert (tmp_path / "ridehailing" / "3000-30000" / "summary.json").exists()
    assert not (tmp_path / "ridehailing" / "runs" / "3000-30000").exists()
    assert not (tmp_path / "ridehailing" / "scratch").exists()

"""The generated lake's known answer (transforms/ridehailing/generate) against what the pipeline
computed from the files: every company's month and year, the overview, the quarantine and the
records counted once — on the shared pipeline lake (`lakehouse generate` + `lakehouse run`,
read-only here)."""

from __future__ import annotations

import datetime as dt
import importlib.util
import json
from pathlib import Path

import pyarrow.compute as pc
import pytest
from click.testing import CliRunner
from deltalake import DeltaTable

from transforms.lake import registry
from transforms.ridehailing import report
from transforms.ridehailing.feeds import FEEDS
from transforms.ridehailing.generate import DEFAULT_ORDERS_PER_DAY, generate_ridehailing

pytestmark = pytest.mark.slow
ROOT_CONFTEST = Path(__file__).resolve().parents[2] / "conftest.py"  # SCENARIO: pipeline_lake's
RATES = ("completeness_rate", "normativity_rate", "timeliness_rate", "truthfulness_rate")


def _scenario() -> dict:
    spec = importlib.util.spec_from_file_location("root_conftest", ROOT_CONFTEST)
    root = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(root)  # by path: `conftest` may name another folder's module
    return root.SCENARIO


def _report(lake: Path, period: str, *args: str):
    from orchestration.cli import main

    result = CliRunner().invoke(
        main, ["report", "ridehailing", "--lake", str(lake), "--period", period, *args]
    )
    assert result.exit_code == 0, result.output
    return json.loads(result.output)


@pytest.fixture(scope="module")
def answer(tmp_path_factory) -> dict:
    """The summary `lakehouse generate` computed for the pipeline lake's ride-hailing files (the
    generator is deterministic: the same arguments write the same files and answer)."""
    scenario = _scenario()
    summary = generate_ridehailing(
        tmp_path_factory.mktemp("ridehailing_answer"),
        dt.date.fromisoformat(scenario["start"]),
        scenario["days"],
        seed=scenario["seed"],
        orders_per_day=DEFAULT_ORDERS_PER_DAY,
    )
    return summary.to_dict()


def _table(lake: Path, name: str):
    return DeltaTable(str(registry.table(name).location(lake))).to_pyarrow_table()


def test_the_same_files_were_landed(pipeline_lake: Path, answer: dict) -> None:
    lines = {
        f.name: sum(
            len(p.read_bytes().splitlines())
            for p in (pipeline_lake / "landing" / "ridehailing" / f.name).glob("*/*.jsonl")
        )
        for f in FEEDS
    }
    assert {k: v for k, v in lines.items() if v} == {k: v for k, v in answer["lines"].items() if v}


def test_every_company_month_and_year_is_the_known_answer(pipeline_lake: Path, answer: dict):
    expected = answer["evaluation"]
    periods = sorted({key.split("|")[1] for key in expected})
    assert periods, "the generator's answer covers no period"
    for period in periods:
        listed = _report(pipeline_lake, period)
        assert [r["company_id"] for r in listed] == sorted(r["company_id"] for r in listed)
        assert all(list(r) == report.COMPANY_KEYS for r in listed)
        rows = {r["company_id"]: r for r in listed}
        wanted = {k.split("|")[0]: v for k, v in expected.items() if k.split("|")[1] == period}
        assert set(rows) == set(wanted), period
        for company, want in wanted.items():
            got = rows[company]
            where = f"{company} {period}"
            assert got["company_name"] == want["company_name"], where
            assert got["transmitted"] is want["transmitted"], where
            assert got["records"] == want["records"], where
            for rate in (*RATES, "city_coverage_rate", "score"):
                if want[rate] is None:
                    assert got[rate] is None, f"{where} {rate}"
                else:
                    assert got[rate] == pytest.approx(want[rate], abs=1e-12), f"{where} {rate}"


def test_the_overview_is_the_known_answer(pipeline_lake: Path, answer: dict) -> None:
    for month, want in answer["overview"].items():
        got = _report(pipeline_lake, month, "--overview")
        for key in report.OVERVIEW_KEYS:
            if isinstance(want[key], float):
                assert got[key] == pytest.approx(want[key], abs=1e-12), f"{month} {key}"
            else:
                assert got[key] == want[key], f"{month} {key}"


def test_records_count_once_and_bad_lines_are_kept(pipeline_lake: Path, answer: dict) -> None:
    dynamic = _table(pipeline_lake, "silver.ridehailing__records")
    static = _table(pipeline_lake, "silver.ridehailing__static_records")
    assert dynamic.num_rows + static.num_rows == answer["records"]
    # re-sent copies were merged into their record, not counted again
    copies = pc.sum(dynamic.column("copies")).as_py() + pc.sum(static.column("copies")).as_py()
    assert copies > dynamic.num_rows + static.num_rows
    quarantined = {
        f.name: _table(pipeline_lake, f.quarantine_table).num_rows
        for f in FEEDS
        if registry.table(f.quarantine_table).exists(pipeline_lake)
    }
    assert sum(quarantined.values()) == answer["quarantined"]["total"]
    assert {k: v for k, v in quarantined.items() if v} == {
        k: v for k, v in answer["quarantined"]["by_interface"].items() if v
    }


def test_every_defect_names_its_file_and_line(pipeline_lake: Path, answer: dict) -> None:
    months = sorted({k.split("|")[1] for k in answer["evaluation"] if len(k.split("|")[1]) == 7})
    shown = [d for m in months for d in _report(pipeline_lake, m, "--defects")]
    assert shown and all(list(d) == report.DEFECT_KEYS for d in shown)
    for d in shown:
        assert d["source_file"].startswith("landing/ridehailing/") and d["line"] >= 1, d
    # records failing each dimension: distinct records (a record may fail several rules)
    defects = _table(pipeline_lake, "silver.ridehailing__defects").to_pylist()
    failed: dict[str, set] = {}
    for d in defects:
        if d["period_month"] in months:
            failed.setdefault(d["dimension"], set()).add((d["interface"], d["natural_key"]))
    expected: dict[str, int] = {}
    for key, want in answer["evaluation"].items():
        if len(key.split("|")[1]) == 7:
            for dimension, n in (want.get("failed") or {}).items():
                expected[dimension] = expected.get(dimension, 0) + n
    assert {d: len(keys) for d, keys in failed.items()} == {d: n for d, n in expected.items() if n}


def test_the_order_lifecycle_has_every_order(pipeline_lake: Path, answer: dict) -> None:
    orders = _table(pipeline_lake, "silver.ridehailing__orders").to_pylist()
    created = [o for o in orders if o["created_at"] is not None]
    assert len(created) == answer["orders"]
    cancels = answer["records_by_interface"].get("orderCancel", 0)
    assert sum(o["status"] == "cancelled" for o in orders) == cancels
    for o in orders:
        if o["status"] == "paid":
            assert o["paid_at"] is not None and o["fact_price"] is not None, o
        if o["status"] == "cancelled":
            assert o["paid_at"] is None, o

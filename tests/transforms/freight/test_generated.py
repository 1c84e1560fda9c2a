"""Freight through `lakehouse generate` and `lakehouse run` (the shared pipeline lake): every
envelope's result code, every anomaly row and every operator-month statistic of `lakehouse report
freight` equal the generator's known answer (transforms/freight/generate, FreightSummary)."""

from __future__ import annotations

import datetime as dt
import json
from collections import Counter
from pathlib import Path

import pytest
from click.testing import CliRunner

pytestmark = pytest.mark.slow
ROOT_CONFTEST = Path(__file__).resolve().parents[2] / "conftest.py"  # SCENARIO: pipeline_lake's


@pytest.fixture(scope="module")
def answer(tmp_path_factory):
    """The generator's summary for the pipeline lake's scenario (deterministic by seed)."""
    import importlib.util

    from orchestration.cli.telematics import FREIGHT_WAYBILLS_PER_DAY
    from transforms.freight.generate import generate_freight

    spec = importlib.util.spec_from_file_location("root_conftest", ROOT_CONFTEST)
    root = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(root)  # by path: `conftest` may name another folder's module
    scenario = root.SCENARIO
    start = dt.date.fromisoformat(scenario["start"])
    return generate_freight(
        tmp_path_factory.mktemp("freight-answer"), start, scenario["days"], seed=scenario["seed"],
        waybills_per_day=FREIGHT_WAYBILLS_PER_DAY,
    )  # fmt: skip


def _report(lake: Path, period: str, as_of: str, *args: str):
    from orchestration.cli import main

    result = CliRunner().invoke(
        main,
        ["report", "freight", "--lake", str(lake), "--period", period, "--as-of", as_of, *args],
    )
    assert result.exit_code == 0, result.output
    return json.loads(result.output)


def _months(answer) -> list[str]:
    return sorted({key.split("|")[1] for key in answer.stats})


def test_generated_envelopes_get_the_codes_the_generator_built(pipeline_lake, answer):
    got: dict[str, list[int]] = {}
    for month in _months(answer):
        for row in _report(pipeline_lake, month, answer.as_of, "--envelopes"):
            got.setdefault(row["message_reference_number"], []).append(row["result_code"])
    want = {ref: sorted(codes) for ref, codes in answer.envelope_codes.items()}
    assert {ref: sorted(codes) for ref, codes in got.items() if ref in want} == want
    assert Counter(c for codes in got.values() for c in codes) == Counter(
        {int(k): v for k, v in answer.by_code.items()}
    )


def test_generated_anomalies_and_statistics_are_the_known_answer(pipeline_lake, answer):
    rows, stats = [], {}
    for month in _months(answer):
        rows += _report(pipeline_lake, month, answer.as_of, "--anomalies")
        for r in _report(pipeline_lake, month, answer.as_of):
            stats[f"{r['operator_id']}|{r['period']}"] = r
    assert sorted((r["operator_id"], r["anomaly_type"], r["document_key"]) for r in rows) == [
        tuple(a) for a in answer.anomalies
    ]
    assert Counter(f"{r['anomaly_type']}.{r['rule']}" for r in rows) == Counter(answer.rules)
    assert set(stats) == set(answer.stats)
    for key, want in answer.stats.items():
        for column, value in want.items():
            if column in stats[key]:
                assert stats[key][column] == pytest.approx(value, abs=1e-6), (key, column)

"""Licences end to end on the generated lake of `pipeline_lake` (`lakehouse generate` + `lakehouse
run`): what the pipeline published equals the generator's known answer, and the dashboard's gold
mart, `lakehouse report licences` and that answer agree on every value of every month."""

from __future__ import annotations

import datetime as dt
import importlib.util
import json
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner
from deltalake import DeltaTable

from orchestration.cli import main
from orchestration.cli.licences import licence_subjects
from orchestration.cli.telematics import FREIGHT_WAYBILLS_PER_DAY
from transforms.licences.generate import generate_licences

pytestmark = pytest.mark.slow
ROOT_CONFTEST = Path(__file__).resolve().parents[1] / "conftest.py"  # SCENARIO: pipeline_lake's


@pytest.fixture(scope="module")
def known(pipeline_lake, tmp_path_factory):
    """The generator's summary for the same telematics master data and arguments (the records are
    deterministic; only the signature bytes differ)."""
    spec = importlib.util.spec_from_file_location("root_conftest", ROOT_CONFTEST)
    root = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(root)  # by path: `conftest` may name another folder's module
    scenario = root.SCENARIO
    copy = tmp_path_factory.mktemp("licences_known") / "lake"
    for feed in ("enterprises", "vehicles"):
        shutil.copytree(
            pipeline_lake / "landing/telematics" / feed, copy / "landing/telematics" / feed
        )
    start = dt.date.fromisoformat(scenario["start"])
    # the other domains' subjects (freight's operators, vehicles, drivers) as `generate` files them
    scale = {"freight_waybills_per_day": FREIGHT_WAYBILLS_PER_DAY}
    extra = licence_subjects(copy, start, scenario["days"], scenario["seed"], scale)
    return generate_licences(copy, start, scenario["days"], seed=scenario["seed"], extra=extra)


def _table(lake, name):
    layer, entity = name.split(".")
    return DeltaTable(str(lake / layer / entity)).to_pyarrow_table().to_pylist()


def test_published_licences_equal_the_known_answer(pipeline_lake, known):
    assert len(_table(pipeline_lake, "silver.licences__licences")) == known.versions
    reasons: dict[str, int] = {}
    for row in _table(pipeline_lake, "quarantine.licences__issuance"):
        for rule in row["failed_rules"]:
            reasons[rule] = reasons.get(rule, 0) + 1
    assert reasons == known.signature_failures


def test_gold_report_and_known_answer_agree(pipeline_lake, known):
    gold = {f"{r['province_code']}|{r['period']}": r
            for r in _table(pipeline_lake, "gold.licences__operation_quality")}  # fmt: skip
    assert set(gold) == set(known.report)
    for key, expected in known.report.items():
        period = key.split("|")[1]
        result = CliRunner().invoke(
            main, ["report", "licences", "--lake", str(pipeline_lake), "--period", period]
        )
        assert result.exit_code == 0, result.output
        (cli,) = [r for r in json.loads(result.stdout) if r["province_code"] == "350000"]
        assert cli == gold[key]
        assert cli == pytest.approx(expected), key

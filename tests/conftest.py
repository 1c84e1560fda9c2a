"""Shared fixtures: one Spark session for the whole test run, and the hand-built landing fixture."""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

import pytest

FIXTURES = Path(__file__).parent / "fixtures"


@pytest.fixture(scope="session", autouse=True)
def lakehouse_keys(tmp_path_factory) -> Path:
    """Keys for the whole run ($LAKEHOUSE_KEYS, inherited by every command the tests start):
    sensitive fields cannot land without them. Never the developer's ./keys."""
    from transforms.crypto.keys import KEYS_ENV, init_keys

    folder = tmp_path_factory.mktemp("keys") / "keys"
    init_keys(folder)
    previous = os.environ.get(KEYS_ENV)
    os.environ[KEYS_ENV] = str(folder)
    yield folder
    if previous is None:
        os.environ.pop(KEYS_ENV, None)
    else:
        os.environ[KEYS_ENV] = previous


@pytest.fixture(scope="session")
def spark(tmp_path_factory):
    """A Spark Connect session on an embedded Sail server (one per test run)."""
    from transforms.lake.session import get_spark

    return get_spark(tmp_path_factory.mktemp("spark_lake"))


@pytest.fixture
def fixture_lake(tmp_path) -> Path:
    """A lake whose landing zone is tests/fixtures/landing (known answers in test_pipeline_e2e)."""
    lake = tmp_path / "lake"
    shutil.copytree(FIXTURES / "landing", lake / "landing")
    return lake


# the small scenario several engines are compared on: 3 days around a month boundary, 12 vehicles,
# seed 5 — it has violation events of every kind
SCENARIO = {"start": "2026-09-29", "days": 3, "vehicles": 12, "seed": 5}


@pytest.fixture(scope="session")
def pipeline_scenario() -> dict:
    """The `lakehouse generate` arguments of `pipeline_lake` (SCENARIO)."""
    return dict(SCENARIO)


def _lakehouse(*commands: list) -> None:
    """Run `lakehouse` commands in this process, as a user would: the lake's own Dagster home,
    the venv's dbt on PATH (the pipeline's dbt resource runs the `dbt` next to this interpreter)."""
    from click.testing import CliRunner

    from orchestration.cli import main

    with pytest.MonkeyPatch.context() as env:
        env.delenv("DAGSTER_HOME", raising=False)
        env.setenv("PATH", f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}")
        for args in commands:
            result = CliRunner().invoke(main, [str(a) for a in args], catch_exceptions=False)
            assert result.exit_code == 0, result.output


@pytest.fixture(scope="session")
def fixture_pipeline_lake(tmp_path_factory) -> Path:
    """The hand-built landing fixture after one `lakehouse run` (its counts are checked in
    orchestration/test_pipeline_e2e.py). Shared, read-only: a test that writes (a second run,
    concurrent runs) does so on its own `fixture_lake` or a copy."""
    lake = tmp_path_factory.mktemp("fixture_pipeline") / "lake"
    shutil.copytree(FIXTURES / "landing", lake / "landing")
    _lakehouse(["run", "--lake", lake])
    return lake


@pytest.fixture(scope="session")
def pipeline_lake(tmp_path_factory) -> Path:
    """A generated lake (SCENARIO) after a full `lakehouse run` on Sail. Shared, read-only: tests
    that compare other engines with it (tests/orchestration/bench, tests/compat) or read reports
    from it must not write into it."""
    lake = tmp_path_factory.mktemp("pipeline") / "lake"
    _lakehouse(
        ["generate", "--lake", lake, "--start", SCENARIO["start"], "--days", SCENARIO["days"],
         "--vehicles", SCENARIO["vehicles"], "--seed", SCENARIO["seed"]],
        ["run", "--lake", lake],
    )  # fmt: skip
    return lake

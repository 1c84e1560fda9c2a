"""Shared fixtures: one Spark session for the whole test run, and the hand-built landing fixture."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

FIXTURES = Path(__file__).parent / "fixtures"


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

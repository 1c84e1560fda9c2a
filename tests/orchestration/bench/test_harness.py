"""The benchmark harness: size parsing, the growth fit, and one tiny run through `lakehouse bench`
with every baseline (the numbers are not asserted — only that each is measured and that every
engine computed the same monthly indicators)."""

import json
import math
import os
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from orchestration.bench.harness import fleet_for, growth, parse_size, parse_sizes
from orchestration.cli import main


def test_sizes_parse_and_sort():
    assert parse_size("1M") == 1_000_000
    assert parse_size("2.5k") == 2_500
    assert parse_size("30m") == 30_000_000
    assert list(parse_sizes("10M, 1M,30M")) == ["1M", "10M", "30M"]
    for bad in ("", "ten", "5"):
        with pytest.raises(ValueError):
            parse_size(bad)


def test_growth_is_the_log_log_slope():
    points = [1_000_000, 10_000_000, 30_000_000]
    assert growth(points, [2.0 * p / 1e6 for p in points]) == pytest.approx(1.0)
    assert growth(points, [(p / 1e6) ** 1.5 for p in points]) == pytest.approx(1.5)
    assert growth(points[:1], [1.0]) is None


def test_the_fleet_matches_the_size():
    vehicles, days = fleet_for(10_000_000)
    assert days == 31 and math.isclose(vehicles * days * 740, 10_000_000, rel_tol=0.01)


@pytest.mark.slow
def test_a_tiny_bench_measures_every_stage_and_baseline(tmp_path, monkeypatch):
    monkeypatch.delenv("DAGSTER_HOME", raising=False)
    # dbt is found next to this interpreter, as `uv run` puts it on PATH
    monkeypatch.setenv("PATH", f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}")
    result = CliRunner().invoke(
        main, ["bench", "--sizes", "25k", "--work", str(tmp_path), "--json"], catch_exceptions=False
    )
    assert result.exit_code == 0, result.output
    out = json.loads(result.stdout)
    size = out["sizes"]["25k"]
    assert size["points"] > 20_000
    assert set(size["stages"]) == {"land", "publish", "facts", "indicators"}
    for stage in size["stages"].values():
        assert stage["seconds"] > 0 and stage["rows_per_s"] > 0 and stage["peak_rss_mb"] > 100
    assert set(out["ratios"]["25k"]) == {"jvm_spark", "duckdb", "raw_scan"}
    assert all(r > 0 for r in out["ratios"]["25k"].values())
    assert size["compared_work"]["indicators_agree"] is True
    assert out["machine"]["cores"] >= 1
    # the generated data is cached: the lake is removed, the landing zone is kept
    assert not (tmp_path / "runs" / "25k").exists()
    assert list((tmp_path / "data").glob("25k-*/summary.json"))

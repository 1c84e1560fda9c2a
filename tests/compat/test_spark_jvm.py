"""The silver transforms and the dbt models also run on classic (JVM) Apache Spark and give the same
tables as the production engine (Sail) on a small generated lake.

The real pipeline (``lakehouse run``, Sail + Delta) builds one lake; orchestration/bench/jvm_pipeline.py
then rebuilds silver positions, quarantine, facts, events and record counts from that lake's bronze
and master snapshots on ``local[2]`` JVM Spark and runs the dbt models with the ``jvm`` target,
all as Parquet, in a subprocess (one process cannot hold both a Spark Connect and a classic
session). Both lakes are read here with deltalake / pyarrow — neither engine judges itself — and
compared row for row, floats to 6 decimals. See tests/compat/README.md.
"""

from __future__ import annotations

import json
import math
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.dataset as ds
import pytest
from deltalake import DeltaTable

from transforms.lake.classic import classic_env

pytestmark = pytest.mark.slow

DRIVER = Path(__file__).resolve().parents[2] / "orchestration" / "bench" / "jvm_pipeline.py"
DECIMALS = 6
TIMEOUT_S = 1200


@pytest.fixture(scope="module")
def lakes(tmp_path_factory, pipeline_lake) -> Iterator[dict[str, Any]]:
    """The Sail lake (real pipeline) and the JVM Parquet lake rebuilt from it, with timings."""
    if not (os.environ.get("JAVA_HOME") or shutil.which("java")):
        pytest.fail("classic PySpark needs a Java runtime (17+): install one or set JAVA_HOME")
    tmp = tmp_path_factory.mktemp("compat")
    sail, jvm, report = pipeline_lake, tmp / "jvm", tmp / "jvm_report.json"
    seconds: dict[str, float] = {}
    t0 = time.perf_counter()
    command = [sys.executable, str(DRIVER), "--source-lake", str(sail)]
    command += ["--target-lake", str(jvm), "--dbt", "run", "--report", str(report)]
    done = subprocess.run(
        command,
        env=classic_env(),
        cwd=tmp,  # whatever Spark or dbt leave in the working directory stays in tmp
        capture_output=True,
        text=True,
        timeout=TIMEOUT_S,
    )
    seconds["jvm pipeline"] = time.perf_counter() - t0
    assert done.returncode == 0, f"{done.stdout[-6000:]}\n{done.stderr[-6000:]}"
    summary = json.loads(report.read_text(encoding="utf-8"))
    print(f"\ncompat timings (s): {seconds}; JVM steps: {summary['seconds']}")
    yield {"sail": sail, "jvm": jvm, "summary": summary}


# ---------------------------------------------------------------------------------------------
# reading and comparing


def sail_table(lake: Path, name: str) -> pa.Table:
    layer, entity = name.split(".", 1)
    return DeltaTable(str(lake / layer / entity)).to_pyarrow_table()


def jvm_table(lake: Path, name: str, like: pa.Table) -> pa.Table:
    """The Parquet table written by Spark, with the columns and types of the Sail table ``like``
    (a ``day=…`` directory is the partition column ``day``)."""
    layer, entity = name.split(".", 1)
    partitioning = None
    if "day" in like.column_names:
        partitioning = ds.partitioning(pa.schema([("day", pa.date32())]), flavor="hive")
    table = ds.dataset(
        lake / layer / entity, format="parquet", partitioning=partitioning
    ).to_table()
    missing = set(like.column_names) - set(table.column_names)
    assert not missing, f"{name}: columns missing on JVM: {sorted(missing)}"
    return table.select(like.column_names).cast(like.schema)


def _sort_key(row: tuple) -> tuple:
    """Order rows by their non-float values (None first): floats may differ in the last bits."""
    return tuple((v is not None, v) for v in row if not isinstance(v, float))


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, float) and isinstance(b, float):
        if math.isnan(a) or math.isnan(b):
            return math.isnan(a) and math.isnan(b)
        return math.isclose(a, b, rel_tol=0.0, abs_tol=0.5 * 10**-DECIMALS)
    return a == b


def assert_same_rows(name: str, sail: pa.Table, jvm: pa.Table, drop: tuple[str, ...] = ()) -> int:
    """Row-for-row equality of two tables with the same columns (floats to DECIMALS decimals)."""
    columns = [c for c in sail.column_names if c not in drop]
    left = sorted((tuple(r.values()) for r in sail.select(columns).to_pylist()), key=_sort_key)
    right = sorted((tuple(r.values()) for r in jvm.select(columns).to_pylist()), key=_sort_key)
    assert len(left) == len(right), f"{name}: {len(left)} rows on Sail, {len(right)} on JVM"
    diffs = []
    for a, b in zip(left, right, strict=True):
        bad = [(c, x, y) for c, x, y in zip(columns, a, b, strict=True) if not _same(x, y)]
        if bad:
            diffs.append(bad)
    assert not diffs, f"{name}: {len(diffs)} of {len(left)} rows differ, e.g. {diffs[:3]}"
    return len(left)


def compare(lakes: dict[str, Any], name: str, drop: tuple[str, ...] = (), where=None) -> int:
    sail = sail_table(lakes["sail"], name)
    jvm = jvm_table(lakes["jvm"], name, sail)
    if where is not None:
        sail, jvm = sail.filter(where(sail)), jvm.filter(where(jvm))
    return assert_same_rows(name, sail, jvm, drop)


# ---------------------------------------------------------------------------------------------
# the tests


def test_silver_positions_equal(lakes):
    name = "silver.telematics__positions"
    sail = sail_table(lakes["sail"], name)
    jvm = jvm_table(lakes["jvm"], name, sail)
    assert sail.num_rows == jvm.num_rows == lakes["summary"]["positions"]["silver_positions"] > 0
    key = ["plate", "plate_color", "gnss_time"]
    keys = {tuple(r.values()) for r in sail.select(key).to_pylist()}
    assert keys == {tuple(r.values()) for r in jvm.select(key).to_pylist()}
    assert len(keys) == sail.num_rows  # one row per key
    assert_same_rows(name, sail, jvm)


def test_quarantined_positions_equal(lakes):
    """The rule failures (the landing job's unparseable lines, ``error`` set, are copied)."""
    n = compare(
        lakes,
        "quarantine.telematics__positions",
        drop=("_quarantined_at",),
        where=lambda t: pc.is_null(t["error"]),
    )
    assert n > 0


@pytest.mark.parametrize(
    "name",
    [
        "silver.telematics__vehicle_day_facts",
        "silver.telematics__violation_events",
        "silver.telematics__record_counts",
    ],
)
def test_facts_events_and_record_counts_equal(lakes, name):
    assert compare(lakes, name) > 0


@pytest.mark.parametrize("name", ["gold.telematics__vehicle_days", "gold.telematics__county_days"])
def test_gold_marts_equal(lakes, name):
    assert compare(lakes, name) > 0


def test_assessments_equal(lakes):
    """The indicators, scores and their numerators / denominators, per level, subject, period."""
    name = "gold.telematics__assessments"
    n = compare(lakes, name)
    sail = sail_table(lakes["sail"], name)
    assert n == sail.num_rows > 0
    assert {"day", "month"} <= set(sail.column("period_type").to_pylist())
    assert sail.filter(pc.is_valid(sail["score"])).num_rows > 0


def test_jvm_lake_is_plain_parquet(lakes):
    """Nothing on the JVM side wrote Delta (there are no Delta jars): no transaction logs."""
    assert not list(lakes["jvm"].glob("*/*/_delta_log"))
    assert lakes["summary"]["spark_version"].startswith("4.")
    assert lakes["summary"]["dbt"]["success"]

"""The DuckDB baseline of the benchmark computes exactly what the Spark facts job computes.

A benchmark compares engines only if they do the same work: a generated lake goes through the real
pipeline (which builds the facts with Spark), then ``run_duckdb_facts`` recomputes the three tables
from the same silver snapshot, and each must equal its Spark-built table row for row, with the same
columns and types. The lake is big enough for every kind of violation event to occur.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest
from deltalake import DeltaTable

from orchestration.bench.duckdb_baseline import run_duckdb_facts
from transforms.rules import load_rules
from transforms.telematics.facts import (
    BUS_NIGHT_RUNNING,
    DAILY_DRIVING_OVER,
    DRIFT_JUMP,
    EVENT_SCHEMA,
    FACT_SCHEMA,
    FATIGUE,
    OFF_ROUTE,
    OUT_OF_REGION,
    OVERSPEED,
    RECORD_COUNT_SCHEMA,
)
from transforms.telematics.jobs.facts import (
    ARROW_TYPES,
    EVENTS_TABLE,
    FACTS_TABLE,
    RECORD_COUNTS_TABLE,
    table_location,
)

pytestmark = pytest.mark.slow

ONE_DAY = dt.date(2026, 9, 30)
# 3 days × 12 vehicles (seed 5) has events of every kind (fewer days or vehicles may miss some)
EVENT_KINDS = {
    OVERSPEED,
    FATIGUE,
    BUS_NIGHT_RUNNING,
    OFF_ROUTE,
    OUT_OF_REGION,
    DRIFT_JUMP,
    DAILY_DRIVING_OVER,
}
# output file stem of the baseline → the Spark-built table and its schema
TABLES = {
    "vehicle_day_facts": (FACTS_TABLE, FACT_SCHEMA),
    "violation_events": (EVENTS_TABLE, EVENT_SCHEMA),
    "record_counts": (RECORD_COUNTS_TABLE, RECORD_COUNT_SCHEMA),
}
FLOAT_DECIMALS = 6  # summation order differs between engines: the last bits of a sum may too


@pytest.fixture(scope="module")
def lake(pipeline_lake: Path) -> Path:
    """The shared generated lake after a full pipeline run (tests/conftest.py SCENARIO)."""
    return pipeline_lake


def spark_table(lake: Path, name: str) -> pa.Table:
    return DeltaTable(str(table_location(lake, name))).to_pyarrow_table()


def sorted_rows(table: pa.Table) -> list[tuple]:
    """The rows in a canonical order, floats rounded to FLOAT_DECIMALS."""
    columns = []
    for field, column in zip(table.schema, table.columns, strict=True):
        values = column.to_pylist()
        if pa.types.is_floating(field.type):
            values = [None if v is None else round(v, FLOAT_DECIMALS) for v in values]
        columns.append(values)
    return sorted(zip(*columns, strict=True), key=repr)


def assert_same_table(duck: pa.Table, spark: pa.Table) -> None:
    assert [(f.name, f.type) for f in duck.schema] == [(f.name, f.type) for f in spark.schema]
    assert duck.num_rows == spark.num_rows
    assert sorted_rows(duck) == sorted_rows(spark)


def test_baseline_equals_the_spark_tables(lake: Path, tmp_path: Path) -> None:
    counts = run_duckdb_facts(lake, tmp_path, load_rules(domain="telematics"))

    assert set(counts) == set(TABLES)
    for entity, (name, _) in TABLES.items():
        duck = pq.read_table(tmp_path / f"{entity}.parquet")
        spark = spark_table(lake, name)
        assert counts[entity] == duck.num_rows > 0, entity
        assert_same_table(duck, spark)
    kinds = set(spark_table(lake, EVENTS_TABLE).column("kind").to_pylist())
    assert kinds == EVENT_KINDS


def test_days_restricts_the_output_to_those_days(lake: Path, tmp_path: Path) -> None:
    counts = run_duckdb_facts(lake, tmp_path, load_rules(domain="telematics"), days=[ONE_DAY])

    for entity, (name, _) in TABLES.items():
        duck = pq.read_table(tmp_path / f"{entity}.parquet")
        assert counts[entity] == duck.num_rows > 0, entity
        assert set(duck.column("day").to_pylist()) == {ONE_DAY}
        spark = spark_table(lake, name)
        assert_same_table(duck, spark.filter(pc.equal(spark.column("day"), ONE_DAY)))


def test_absent_inputs_give_empty_outputs_of_the_right_schema(tmp_path: Path) -> None:
    counts = run_duckdb_facts(
        tmp_path / "no-lake", tmp_path / "out", load_rules(domain="telematics")
    )

    assert counts == dict.fromkeys(TABLES, 0)
    for entity, (_, schema) in TABLES.items():
        duck = pq.read_table(tmp_path / "out" / f"{entity}.parquet")
        expected = [(f.name, ARROW_TYPES[f.dataType]) for f in schema.fields]  # as publish creates
        assert [(f.name, f.type) for f in duck.schema] == expected
        assert duck.num_rows == 0

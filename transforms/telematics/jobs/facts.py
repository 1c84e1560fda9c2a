"""Publish the per-vehicle-day facts, violation events and record counts of some gnss days.

Reads silver positions, quarantine, vehicle history, routes and regions by path; recomputes the
three tables for the requested days (:mod:`transforms.telematics.facts`) and replaces those days:
the days are deleted, then the new rows appended — re-running gives the same tables.
"""

from __future__ import annotations

import datetime as dt
import shutil
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pyarrow as pa
from deltalake import DeltaTable, write_deltalake
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F
from pyspark.sql import types as T

from transforms.lake import registry
from transforms.lake.batching import group_by_rows, max_rows_per_pass
from transforms.lake.catalog import register_table
from transforms.telematics.facts import (
    EVENT_SCHEMA,
    FACT_SCHEMA,
    RECORD_COUNT_SCHEMA,
    quarantine_day,
    stored_facts,
)

FACTS_TABLE = "silver.telematics__vehicle_day_facts"
EVENTS_TABLE = "silver.telematics__violation_events"
RECORD_COUNTS_TABLE = "silver.telematics__record_counts"
POSITIONS_TABLE = "silver.telematics__positions"
QUARANTINE_TABLE = "quarantine.telematics__positions"
VEHICLES_TABLE = "silver.telematics__vehicles"
ROUTES_TABLE = "silver.telematics__routes"
REGIONS_TABLE = "silver.telematics__regions"
PARTITION = "day"
# stored_facts output → (table, schema of the table when it has to be created)
OUTPUTS = {
    "violation_events": (EVENTS_TABLE, EVENT_SCHEMA),
    "vehicle_day_facts": (FACTS_TABLE, FACT_SCHEMA),
    "record_counts": (RECORD_COUNTS_TABLE, RECORD_COUNT_SCHEMA),
}
# Spark → Arrow types of the output tables (timestamps: GMT+8 wall-clock, as landing writes them)
ARROW_TYPES = {
    T.DateType(): pa.date32(),
    T.StringType(): pa.string(),
    T.IntegerType(): pa.int32(),
    T.LongType(): pa.int64(),
    T.DoubleType(): pa.float64(),
    T.BooleanType(): pa.bool_(),
    T.TimestampType(): pa.timestamp("us", tz="UTC"),
}

# the columns read from each input (an absent input is an empty frame of this schema)
POSITIONS_SCHEMA = T.StructType(
    [
        T.StructField("platform_id", T.StringType()),
        T.StructField("plate", T.StringType()),
        T.StructField("plate_color", T.IntegerType()),
        T.StructField("gnss_time", T.TimestampType()),
        T.StructField("lon", T.DoubleType()),
        T.StructField("lat", T.DoubleType()),
        T.StructField("speed", T.DoubleType()),
        T.StructField("received_at", T.TimestampType()),
        T.StructField("day", T.DateType()),
        T.StructField("_source_file", T.StringType()),
        T.StructField("_line", T.LongType()),
        T.StructField("_file_sm3", T.StringType()),
        T.StructField("_landed_at", T.TimestampType()),
    ]
)
QUARANTINE_SCHEMA = T.StructType(
    [
        T.StructField("platform_id", T.StringType()),
        T.StructField("plate", T.StringType()),
        T.StructField("plate_color", T.IntegerType()),
        T.StructField("gnss_time", T.TimestampType()),
        T.StructField("day", T.DateType()),
        T.StructField("received_at", T.TimestampType()),
        T.StructField("_source_file", T.StringType()),
        T.StructField("_line", T.LongType()),
        T.StructField("_file_sm3", T.StringType()),
        T.StructField("_landed_at", T.TimestampType()),
    ]
)
VEHICLES_SCHEMA = T.StructType(
    [
        T.StructField("plate", T.StringType()),
        T.StructField("plate_color", T.IntegerType()),
        T.StructField("vehicle_type", T.StringType()),
        T.StructField("speed_limit_kmh", T.DoubleType()),
        T.StructField("route_id", T.StringType()),
        T.StructField("region_id", T.StringType()),
        T.StructField("route_exempt", T.BooleanType()),
        T.StructField("valid_from", T.DateType()),
        T.StructField("valid_to", T.DateType()),
    ]
)
COORDINATES = T.ArrayType(T.ArrayType(T.DoubleType()))
ROUTES_SCHEMA = T.StructType(
    [
        T.StructField("route_id", T.StringType()),
        T.StructField("length_km", T.DoubleType()),
        T.StructField("polyline", COORDINATES),
        T.StructField("valid_from", T.DateType()),
        T.StructField("valid_to", T.DateType()),
    ]
)
REGIONS_SCHEMA = T.StructType(
    [
        T.StructField("region_id", T.StringType()),
        T.StructField("polygon", COORDINATES),
        T.StructField("valid_from", T.DateType()),
        T.StructField("valid_to", T.DateType()),
    ]
)


@dataclass
class FactsResult:
    """What one facts pass wrote: rows of the replaced days, one field per table entity."""

    days: list[dt.date] = field(default_factory=list)
    vehicle_day_facts: int = 0
    violation_events: int = 0
    record_counts: int = 0


def table_location(lake: Path, name: str) -> Path:
    """Where table ``name`` lives: the registry's location, else ``<lake>/<layer>/<entity>``."""
    try:
        return registry.table(name).location(lake)
    except KeyError:
        layer, entity = name.split(".", 1)
        return lake / layer / entity


def _exists(path: Path) -> bool:
    return (path / "_delta_log").is_dir()


def _read(spark: SparkSession, lake: Path, name: str, schema: T.StructType) -> DataFrame:
    """The table's columns of ``schema`` (an empty frame when the table is absent)."""
    path = table_location(lake, name)
    if not _exists(path):
        return spark.createDataFrame([], schema)
    return spark.read.format("delta").load(str(path)).select(*schema.fieldNames())


def _date_list(days: list[dt.date]) -> str:
    return ", ".join(f"DATE '{d.isoformat()}'" for d in days)


def _create(path: Path, schema: T.StructType) -> None:
    """An empty Delta table partitioned by day, created through delta-rs: a Sail write would move
    the partition column to the end of the table schema (the contract puts ``day`` first)."""
    arrow = pa.schema([(f.name, ARROW_TYPES[f.dataType]) for f in schema.fields])
    write_deltalake(str(path), arrow.empty_table(), partition_by=[PARTITION])


def _replace_days(
    spark: SparkSession,
    lake: Path,
    name: str,
    rows: DataFrame,
    schema: T.StructType,
    days: list[dt.date],
) -> int:
    """Delete ``days`` from the table (created, partitioned by day, when absent), append ``rows``,
    register the table; returns the rows the table now holds for those days."""
    path = table_location(lake, name)
    if _exists(path):
        spark.sql(f"DELETE FROM delta.`{path}` WHERE {PARTITION} IN ({_date_list(days)})")
    else:
        _create(path, schema)
    rows.write.format("delta").mode("append").partitionBy(PARTITION).save(str(path))
    register_table(spark, name, path)
    written = spark.read.format("delta").load(str(path)).where(F.col(PARTITION).isin(days))
    return written.count()


def _all_days(positions: DataFrame, quarantine: DataFrame) -> list[dt.date]:
    days = positions.select(F.col("day")).unionByName(
        quarantine.select(quarantine_day().alias("day"))
    )
    return sorted(r["day"] for r in days.where(F.col("day").isNotNull()).distinct().collect())


def _rows_per_day(lake: Path) -> dict[dt.date, int]:
    """Silver position rows per gnss day, from the Delta log's file statistics (no data read)."""
    path = table_location(lake, POSITIONS_TABLE)
    if not _exists(path):
        return {}
    actions = pa.table(DeltaTable(str(path)).get_add_actions(flatten=True))
    out: dict[dt.date, int] = {}
    for day, n in zip(
        actions.column(f"partition.{PARTITION}").to_pylist(),
        actions.column("num_records").to_pylist(),
        strict=True,
    ):
        if day is not None:
            out[day] = out.get(day, 0) + int(n or 0)
    return out


def _facts_pass(
    spark: SparkSession,
    lake: Path,
    rules: dict[str, Any],
    days: list[dt.date],
    positions: DataFrame,
    quarantine: DataFrame,
    master: tuple[DataFrame, DataFrame, DataFrame],
    staging: Path,
) -> tuple[int, int, int]:
    """Facts, events and record counts of ``days``, replacing those days in the three tables;
    returns the rows written to each."""
    vehicles, routes, regions = master
    positions = positions.where(F.col("day").isin(days))
    quarantine = quarantine.where(quarantine_day().isin(days))
    written: dict[str, int] = {}

    def store(name: str, frame: DataFrame) -> DataFrame:
        """Intermediates are staged as uncompressed Parquet (written once, read a few times, then
        deleted: compressing them costs more than it saves); the outputs replace ``days``."""
        if name not in OUTPUTS:
            writer = frame.write.mode("overwrite").option("compression", "uncompressed")
            writer.parquet(str(staging / name))
            return spark.read.parquet(str(staging / name))
        table, schema = OUTPUTS[name]
        written[name] = _replace_days(spark, lake, table, frame, schema, days)
        path = table_location(lake, table)
        return spark.read.format("delta").load(str(path)).where(F.col(PARTITION).isin(days))

    stored_facts(positions, quarantine, vehicles, routes, regions, rules, store)
    return written["vehicle_day_facts"], written["violation_events"], written["record_counts"]


def ensure_tables(lake: Path) -> None:
    """The three fact tables exist (empty) on a lake that has had no position yet — a lake of
    another domain only: the marts read them."""
    for table, schema in OUTPUTS.values():
        path = table_location(lake, table)
        if not _exists(path):
            _create(path, schema)


def publish_facts(
    spark: SparkSession,
    lake: Path,
    rules: dict[str, Any],
    days: list[dt.date] | None = None,
    progress: Callable[[str], None] | None = None,
) -> FactsResult:
    """Recompute facts, violation events and record counts for ``days`` (gnss days) and replace
    those days in the three tables. ``None``: every day present in silver positions or quarantine.
    """
    say = progress or (lambda _msg: None)
    positions = _read(spark, lake, POSITIONS_TABLE, POSITIONS_SCHEMA)
    quarantine = _read(spark, lake, QUARANTINE_TABLE, QUARANTINE_SCHEMA)
    if days is None:
        days = _all_days(positions, quarantine)
    days = sorted(set(days))
    result = FactsResult(days=days)
    if not days:
        say("facts: no days to compute")
        return result

    vehicles = _read(spark, lake, VEHICLES_TABLE, VEHICLES_SCHEMA)
    routes = _read(spark, lake, ROUTES_TABLE, ROUTES_SCHEMA)
    regions = _read(spark, lake, REGIONS_TABLE, REGIONS_SCHEMA)
    staging = lake / "_staging" / "telematics__facts"
    per_day = _rows_per_day(lake)
    passes = group_by_rows(days, lambda d: per_day.get(d, 0), max_rows_per_pass(rules))
    for number, chunk in enumerate(passes, start=1):
        if len(passes) > 1:
            rows = sum(per_day.get(d, 0) for d in chunk)
            say(
                f"facts: pass {number}/{len(passes)}: {chunk[0]} … {chunk[-1]} "
                f"({len(chunk)} day(s), {rows:,} points)"
            )
        written = _facts_pass(
            spark, lake, rules, chunk, positions, quarantine, (vehicles, routes, regions), staging
        )
        result.vehicle_day_facts += written[0]
        result.violation_events += written[1]
        result.record_counts += written[2]
    shutil.rmtree(staging, ignore_errors=True)
    say(
        f"facts: {len(days)} day(s) → {result.vehicle_day_facts:,} vehicle-days, "
        f"{result.violation_events:,} violation events, {result.record_counts:,} record-count rows"
    )
    return result

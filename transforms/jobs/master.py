"""Rebuild the silver master tables from all their bronze records (small, deterministic, idempotent)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from pyspark.sql import DataFrame, SparkSession

from transforms.feeds import COUNTIES, VEHICLES, Feed
from transforms.jobs.landing import now_beijing
from transforms.jobs.positions import mark_published, pending_files
from transforms.lake import registry
from transforms.lake.catalog import register_table
from transforms.telematics.master import current_counties, typed_vehicles, vehicle_history


def _rebuild(
    spark: SparkSession,
    lake: Path,
    feed: Feed,
    target: str,
    build: Callable[[DataFrame], DataFrame],
    say: Callable[[str], None],
) -> int:
    source = registry.table(feed.bronze_table)
    if not source.exists(lake):
        say(f"{feed.key}: no bronze records yet")
        return 0
    table = registry.table(target)
    out = build(spark.read.format("delta").load(str(source.location(lake))))
    out.write.format("delta").mode("overwrite").option("overwriteSchema", "true").save(
        str(table.location(lake))
    )
    register_table(spark, table.name, table.location(lake))
    rows = spark.read.format("delta").load(str(table.location(lake))).count()
    digests = pending_files(lake, feed.name).column("file_sm3").to_pylist()
    mark_published(lake, digests, now_beijing())
    say(f"{target}: {rows:,} rows")
    return rows


def publish_vehicles(spark: SparkSession, lake: Path, progress=None) -> int:
    """silver.telematics__vehicles: every version of every vehicle (SCD2)."""
    return _rebuild(
        spark,
        lake,
        VEHICLES,
        "silver.telematics__vehicles",
        lambda df: vehicle_history(typed_vehicles(df)),
        progress or (lambda _m: None),
    )


def publish_counties(spark: SparkSession, lake: Path, progress=None) -> int:
    """silver.telematics__counties: the current record of each county."""
    return _rebuild(
        spark,
        lake,
        COUNTIES,
        "silver.telematics__counties",
        current_counties,
        progress or (lambda _m: None),
    )

"""Rebuild the silver master and event tables from all their bronze records.

Small, deterministic and idempotent: each table is recomputed from every bronze record of its feed.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from pyspark.sql import DataFrame, SparkSession

from transforms.lake import registry
from transforms.lake.catalog import register_table
from transforms.lake.clock import now_beijing
from transforms.lake.feeds import Feed
from transforms.lake.landing import empty_bronze
from transforms.lake.ledger import mark_published, pending_files
from transforms.telematics import master
from transforms.telematics.feeds import (
    COUNTIES,
    ENTERPRISES,
    PLATFORM_CHECKS,
    PLATFORM_LINKS,
    PLATFORMS,
    REGIONS,
    ROUTES,
    VEHICLES,
)

# feed → (silver table, builder)
SILVER_BUILDERS: dict[str, tuple[str, Callable[[DataFrame], DataFrame]]] = {
    COUNTIES.key: ("silver.telematics__counties", master.county_history),
    ENTERPRISES.key: ("silver.telematics__enterprises", master.enterprise_history),
    PLATFORMS.key: ("silver.telematics__platforms", master.platform_history),
    ROUTES.key: ("silver.telematics__routes", master.route_history),
    REGIONS.key: ("silver.telematics__regions", master.region_history),
    VEHICLES.key: ("silver.telematics__vehicles", master.vehicle_history),
    PLATFORM_LINKS.key: ("silver.telematics__platform_links", master.platform_links),
    PLATFORM_CHECKS.key: ("silver.telematics__platform_checks", master.platform_checks),
}


def publish_feed(
    spark: SparkSession, lake: Path, feed: Feed, progress: Callable[[str], None] | None = None
) -> int:
    """Rebuild the silver table of ``feed`` from all its bronze records; returns its row count."""
    say = progress or (lambda _m: None)
    target, build = SILVER_BUILDERS[feed.key]
    source = registry.table(feed.bronze_table)
    if source.exists(lake):
        bronze = spark.read.format("delta").load(str(source.location(lake)))
    else:  # the feed has not arrived yet: an empty table, so readers see its schema
        say(f"{feed.key}: no bronze records yet")
        bronze = empty_bronze(spark, feed)
    table = registry.table(target)
    out = build(bronze)
    out.write.format("delta").mode("overwrite").option("overwriteSchema", "true").save(
        str(table.location(lake))
    )
    register_table(spark, table.name, table.location(lake))
    rows = spark.read.format("delta").load(str(table.location(lake))).count()
    digests = pending_files(lake, feed).column("file_sm3").to_pylist()
    mark_published(lake, digests, now_beijing())
    say(f"{target}: {rows:,} rows")
    return rows

"""Catalog registration: make every Delta table of the lake visible to a session by name."""

from __future__ import annotations

from pathlib import Path

from pyspark.sql import SparkSession

from transforms.lake.registry import LAYERS, discover


def sql_string(value: str) -> str:
    """A SQL string literal."""
    return "'" + str(value).replace("\\", "\\\\").replace("'", "\\'") + "'"


def register_table(spark: SparkSession, name: str, location: Path) -> None:
    """Register the Delta table at ``location`` as ``name`` (``layer.entity``).

    A name already registered (possibly for another lake served by the same engine) is re-pointed:
    dropping an external table removes only its catalog entry, never its files.
    """
    layer = name.split(".", 1)[0]
    spark.sql(f"CREATE SCHEMA IF NOT EXISTS {layer}")
    spark.sql(f"DROP TABLE IF EXISTS {name}")
    spark.sql(f"CREATE TABLE {name} USING delta LOCATION {sql_string(str(location))}")


def register_lake(spark: SparkSession, lake: Path) -> list[str]:
    """Register every Delta table under ``lake``; returns the names registered."""
    for layer in LAYERS:
        spark.sql(f"CREATE SCHEMA IF NOT EXISTS {layer}")
    names = discover(lake)
    for name in names:
        layer, entity = name.split(".", 1)
        register_table(spark, name, lake / layer / entity)
    return names

"""Master data: vehicles (kept as history, SCD2) and counties, from bronze records.

Master-data files apply in date-folder order, then file-name order, then line order; a later record
of the same key replaces the earlier one from its folder date on.
"""

from __future__ import annotations

from pyspark.sql import DataFrame, Window
from pyspark.sql import functions as F

VEHICLE_KEY = ["plate", "plate_color"]
VEHICLE_ATTRIBUTES = [
    "vehicle_type",
    "enterprise_id",
    "county_code",
    "platform_id",
    "operating_status",
    "speed_limit_kmh",
    "route_id",
    "region_id",
    "route_exempt",
    "registered_at",
]
VEHICLE_COLUMNS = [
    *VEHICLE_KEY,
    *VEHICLE_ATTRIBUTES,
    "valid_from",
    "valid_to",
    "is_current",
    "_source_file",
    "_landed_at",
]
COUNTY_COLUMNS = ["county_code", "name", "city_code", "province_code", "_source_file", "_landed_at"]
APPLY_ORDER = ["_folder_date", "_source_file", "_line"]


def typed_vehicles(bronze: DataFrame) -> DataFrame:
    """Vehicle strings typed; records without a plate or colour cannot be keyed and are left out."""
    return bronze.select(
        F.trim("plate").alias("plate"),
        F.col("plate_color").try_cast("int").alias("plate_color"),
        F.trim("vehicle_type").alias("vehicle_type"),
        F.trim("enterprise_id").alias("enterprise_id"),
        F.trim("county_code").alias("county_code"),
        F.trim("platform_id").alias("platform_id"),
        F.trim("operating_status").alias("operating_status"),
        F.col("speed_limit_kmh").try_cast("double").alias("speed_limit_kmh"),
        F.col("route_id").alias("route_id"),
        F.col("region_id").alias("region_id"),
        (F.lower(F.col("route_exempt")) == "true").alias("route_exempt"),
        F.col("registered_at").try_cast("date").alias("registered_at"),
        *APPLY_ORDER,
        "_landed_at",
    ).where(F.col("plate").isNotNull() & F.col("plate_color").isNotNull())


def vehicle_history(typed: DataFrame) -> DataFrame:
    """SCD2 history: one row per version of a vehicle, valid [valid_from, valid_to)."""
    by_key = Window.partitionBy(*VEHICLE_KEY)
    # the last record of a key within one folder date is that day's state
    last_of_day = Window.partitionBy(*VEHICLE_KEY, "_folder_date").orderBy(
        F.col("_source_file").desc(), F.col("_line").desc()
    )
    daily = (
        typed.withColumn("_r", F.row_number().over(last_of_day)).where(F.col("_r") == 1).drop("_r")
    )
    attrs = F.to_json(F.struct(*VEHICLE_ATTRIBUTES))
    ordered = by_key.orderBy("_folder_date")
    changes = (
        daily.withColumn("_attrs", attrs)
        .withColumn("_prev", F.lag("_attrs").over(ordered))
        .where(F.col("_prev").isNull() | (F.col("_prev") != F.col("_attrs")))
    )
    return changes.select(
        *VEHICLE_KEY,
        *VEHICLE_ATTRIBUTES,
        F.col("_folder_date").alias("valid_from"),
        F.lead("_folder_date").over(ordered).alias("valid_to"),
        F.lead("_folder_date").over(ordered).isNull().alias("is_current"),
        "_source_file",
        "_landed_at",
    ).select(*VEHICLE_COLUMNS)


def current_counties(bronze: DataFrame) -> DataFrame:
    """The latest record of each county."""
    latest = Window.partitionBy("county_code").orderBy(*[F.col(c).desc() for c in APPLY_ORDER])
    return (
        bronze.withColumn("county_code", F.trim("county_code"))
        .where(F.col("county_code").isNotNull())
        .withColumn("_r", F.row_number().over(latest))
        .where(F.col("_r") == 1)
        .select(*COUNTY_COLUMNS)
    )

"""Master and event data from bronze records: history (SCD2) for vehicles, enterprises, platforms,
counties, routes and regions; deduplicated platform links and 查岗 checks.

Master-data files apply in date-folder order, then file-name order, then line order; a later record
of the same key replaces the earlier one from its folder date on.
"""

from __future__ import annotations

import operator
from functools import reduce

from pyspark.sql import Column, DataFrame, Window
from pyspark.sql import functions as F

from transforms.telematics.feeds import ENTERPRISE_FIELDS, PHONE, PLATFORMS

APPLY_ORDER = ["_folder_date", "_source_file", "_line"]
HISTORY_TAIL = ["valid_from", "valid_to", "is_current", "_source_file", "_landed_at"]
LINEAGE_TAIL = ["_source_file", "_landed_at"]
TIME_PATTERN = r"^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$"

VEHICLE_KEY = ["plate", "plate_color"]
VEHICLE_ATTRIBUTES = [
    "vehicle_type", "enterprise_id", "county_code", "platform_id", "operating_status",
    "speed_limit_kmh", "route_id", "region_id", "route_exempt", "registered_at", *PHONE.columns,
]  # fmt: skip
PLATFORM_COLUMNS = list(PLATFORMS.stored_fields)  # its personal fields protected
VEHICLE_COLUMNS = [*VEHICLE_KEY, *VEHICLE_ATTRIBUTES, *HISTORY_TAIL]
COUNTY_ATTRIBUTES = ["name", "city_code", "province_code"]
ROUTE_ATTRIBUTES = ["name", "length_km", "polyline"]
REGION_ATTRIBUTES = ["name", "polygon"]
COUNTY_COLUMNS = ["county_code", *COUNTY_ATTRIBUTES, *HISTORY_TAIL]
ROUTE_COLUMNS = ["route_id", *ROUTE_ATTRIBUTES, *HISTORY_TAIL]
REGION_COLUMNS = ["region_id", *REGION_ATTRIBUTES, *HISTORY_TAIL]
LINK_COLUMNS = ["platform_id", "event", "at", "reason", *LINEAGE_TAIL]
CHECK_COLUMNS = [
    "check_id", "platform_id", "enterprise_id", "sent_at", "answered_at", "answer", "response_s",
    *LINEAGE_TAIL,
]  # fmt: skip
TYPED_DATES = {"registered_at", "map_date", "map_valid_until", "filed_at"}
TYPED_DOUBLES = {"speed_limit_kmh", "length_km", "map_matching_accuracy_m"}
TYPED_INTS = {"plate_color", "security_level"}


def _text(name: str) -> Column:
    value = F.trim(F.col(name))
    return F.when(value != "", value)


def _typed(name: str) -> Column:
    if name in TYPED_DATES:
        return F.col(name).try_cast("date").alias(name)
    if name in TYPED_DOUBLES:
        return F.col(name).try_cast("double").alias(name)
    if name in TYPED_INTS:
        return F.col(name).try_cast("int").alias(name)
    if name == "route_exempt":
        return (F.lower(F.col(name)) == "true").alias(name)
    return _text(name).alias(name)


def _time(name: str) -> Column:
    value = F.trim(F.col(name))
    return F.when(value.rlike(TIME_PATTERN), value.try_cast("timestamp"))


def _keyed(df: DataFrame, key: list[str]) -> DataFrame:
    """Rows whose every key column is present (others cannot be applied to anything)."""
    return df.where(reduce(operator.and_, [F.col(k).isNotNull() for k in key]))


def history(typed: DataFrame, key: list[str], attributes: list[str]) -> DataFrame:
    """SCD2: one row per version of a key, valid [valid_from, valid_to) by landing folder date.

    A version is a change of the attributes; an encrypted field (``_sm4``, a fresh random IV
    each time it is landed) changes with its join hash, never by itself."""
    typed = _keyed(typed, key)
    compared = [a for a in attributes if not a.endswith("_sm4")]
    last_of_day = Window.partitionBy(*key, "_folder_date").orderBy(
        F.col("_source_file").desc(), F.col("_line").desc()
    )
    daily = typed.withColumn("_r", F.row_number().over(last_of_day)).where(F.col("_r") == 1)
    ordered = Window.partitionBy(*key).orderBy("_folder_date")
    changes = (
        daily.withColumn("_attrs", F.to_json(F.struct(*compared)))
        .withColumn("_prev", F.lag("_attrs").over(ordered))
        .where(F.col("_prev").isNull() | (F.col("_prev") != F.col("_attrs")))
    )
    return changes.select(
        *key,
        *attributes,
        F.col("_folder_date").alias("valid_from"),
        F.lead("_folder_date").over(ordered).alias("valid_to"),
        F.lead("_folder_date").over(ordered).isNull().alias("is_current"),
        "_source_file",
        "_landed_at",
    )


def latest(typed: DataFrame, key: list[str], columns: list[str]) -> DataFrame:
    """The last applied record of each key."""
    order = Window.partitionBy(*key).orderBy(*[F.col(c).desc() for c in APPLY_ORDER])
    return (
        _keyed(typed, key)
        .withColumn("_r", F.row_number().over(order))
        .where(F.col("_r") == 1)
        .select(*columns)
    )


def _with_order(bronze: DataFrame, *columns: Column) -> DataFrame:
    return bronze.select(*columns, *APPLY_ORDER, "_landed_at")


def vehicle_history(bronze: DataFrame) -> DataFrame:
    """Key vehicles (重点营运车辆), every version kept."""
    typed = _with_order(bronze, *[_typed(c) for c in (*VEHICLE_KEY, *VEHICLE_ATTRIBUTES)])
    return history(typed, VEHICLE_KEY, VEHICLE_ATTRIBUTES).select(*VEHICLE_COLUMNS)


def enterprise_history(bronze: DataFrame) -> DataFrame:
    """Transport enterprises (道路运输经营者), every version kept."""
    attrs = list(ENTERPRISE_FIELDS[1:])
    typed = _with_order(bronze, *[_typed(c) for c in ENTERPRISE_FIELDS])
    return history(typed, ["enterprise_id"], attrs).select(*ENTERPRISE_FIELDS, *HISTORY_TAIL)


def platform_history(bronze: DataFrame) -> DataFrame:
    """Monitoring platforms (监控平台) with their filing (备案) fields, every version kept."""
    attrs = PLATFORM_COLUMNS[1:]
    typed = _with_order(bronze, *[_typed(c) for c in PLATFORM_COLUMNS])
    return history(typed, ["platform_id"], attrs).select(*PLATFORM_COLUMNS, *HISTORY_TAIL)


def county_history(bronze: DataFrame) -> DataFrame:
    """Counties (辖区), GB/T 2260, every version kept (a renamed or re-parented county)."""
    typed = _with_order(bronze, *[_typed(c) for c in ("county_code", *COUNTY_ATTRIBUTES)])
    return history(typed, ["county_code"], COUNTY_ATTRIBUTES).select(*COUNTY_COLUMNS)


def route_history(bronze: DataFrame) -> DataFrame:
    """Approved bus routes (核定线路) with their polylines, every version kept: a day is checked
    against the route approved on that day."""
    typed = _with_order(
        bronze, _typed("route_id"), _typed("name"), _typed("length_km"),
        F.from_json("polyline", "array<array<double>>").alias("polyline"),
    )  # fmt: skip
    return history(typed, ["route_id"], ROUTE_ATTRIBUTES).select(*ROUTE_COLUMNS)


def region_history(bronze: DataFrame) -> DataFrame:
    """Approved charter regions (包车区域) with their polygons, every version kept: a day is
    checked against the region approved on that day."""
    typed = _with_order(
        bronze, _typed("region_id"), _typed("name"),
        F.from_json("polygon", "array<array<double>>").alias("polygon"),
    )  # fmt: skip
    return history(typed, ["region_id"], REGION_ATTRIBUTES).select(*REGION_COLUMNS)


def platform_links(bronze: DataFrame) -> DataFrame:
    """Platform link events (平台连通), unique on (platform_id, at, event)."""
    typed = _with_order(
        bronze, _typed("platform_id"), F.lower(_text("event")).alias("event"),
        _time("at").alias("at"), F.lower(_text("reason")).alias("reason"),
    )  # fmt: skip
    typed = typed.where(F.col("event").isin("up", "down") & F.col("at").isNotNull())
    return latest(typed, ["platform_id", "at", "event"], LINK_COLUMNS)


def platform_checks(bronze: DataFrame) -> DataFrame:
    """查岗 checks, unique on check_id (the last landed record wins)."""
    typed = _with_order(
        bronze, _typed("check_id"), _typed("platform_id"), _typed("enterprise_id"),
        _time("sent_at").alias("sent_at"), _time("answered_at").alias("answered_at"),
        _text("answer").alias("answer"),
    ).withColumn(
        "response_s", F.unix_timestamp("answered_at") - F.unix_timestamp("sent_at")
    )  # fmt: skip
    return latest(typed.where(F.col("sent_at").isNotNull()), ["check_id"], CHECK_COLUMNS)

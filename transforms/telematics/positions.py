"""Positions: bronze strings → typed records → qualification tags → silver / quarantine rows.

Pure ``DataFrame -> DataFrame`` functions; the job that reads, validates and writes is
:mod:`transforms.telematics.jobs.positions`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F

from expectations.telematics import position_rules
from transforms.lake.dedup import latest_per_key
from transforms.lake.tagging import failed_rules
from transforms.telematics.feeds import PHONE, POSITIONS

TIME_PATTERN = r"^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$"
LINEAGE = ["_source_file", "_line", "_file_sm3", "_landed_at"]
KEY = ["plate", "plate_color", "gnss_time"]

SILVER_COLUMNS = [
    "platform_id",
    "plate",
    "plate_color",
    *PHONE.columns,  # the 808 SIM number: encrypted, join hash, masked (never in clear)
    "gnss_time",
    "lon",
    "lat",
    "speed",
    "recorder_speed",
    "mileage_km",
    "direction",
    "altitude",
    "state",
    "alarm",
    "received_at",
    "is_late",
    "source",
    "day",
    *LINEAGE,
]
QUARANTINE_COLUMNS = [
    "platform_id",
    "plate",
    "plate_color",
    "gnss_time",
    "day",
    "received_at",
    "failed_rules",
    "raw_record",
    "raw_record_sm4",
    "error",
    *LINEAGE,
    "_quarantined_at",
]
# the record as received (its phone as bronze keeps it), for quarantine
RAW_FIELDS = list(POSITIONS.stored_fields)
RAW_STRUCT = "_raw"  # typed_positions: those strings, untouched, until tag_rules


def _number(name: str, kind: str) -> Column:
    """A string field as a number; null when absent or not a number of that kind."""
    value = F.trim(F.col(name))
    if kind in ("int", "bigint"):
        # integral fields accept "12" and "12.0" but not "12.5"
        as_double = value.try_cast("double")
        return F.when(as_double == F.floor(as_double), as_double.try_cast(kind))
    return value.try_cast(kind)


def _time(name: str) -> Column:
    value = F.trim(F.col(name))
    return F.when(value.rlike(TIME_PATTERN), value.try_cast("timestamp"))


def typed_positions(bronze: DataFrame, rules: dict[str, Any]) -> DataFrame:
    """Bronze position strings typed; unparseable values become null (a rule then fails)."""
    late_after_s = rules["qualification"]["late_after_s"]
    typed = bronze.select(
        F.trim("platform_id").alias("platform_id"),
        F.trim("plate").alias("plate"),
        _number("plate_color", "int").alias("plate_color"),
        *[F.col(c) for c in PHONE.columns],
        _time("gnss_time").alias("gnss_time"),
        _number("lon", "double").alias("lon"),
        _number("lat", "double").alias("lat"),
        _number("speed", "double").alias("speed"),
        _number("recorder_speed", "double").alias("recorder_speed"),
        _number("mileage_km", "double").alias("mileage_km"),
        _number("direction", "int").alias("direction"),
        _number("altitude", "int").alias("altitude"),
        _number("state", "bigint").alias("state"),
        _number("alarm", "bigint").alias("alarm"),
        # a record without its reception time is taken as received when its file landed
        F.coalesce(_time("received_at"), F.col("_landed_at")).alias("received_at"),
        F.coalesce(F.col("source"), F.lit("file")).alias("source"),
        # the strings as received, kept for quarantine (serialised only for failing rows)
        F.struct(*[F.col(c) for c in RAW_FIELDS]).alias(RAW_STRUCT),
        *LINEAGE,
    )
    lead_s = F.unix_timestamp("gnss_time") - F.unix_timestamp("received_at")
    return typed.select(
        "*",
        lead_s.alias("gnss_lead_s"),
        (lead_s < -late_after_s).alias("is_late"),
        F.to_date("gnss_time").alias("day"),
    )


def attach_terminals(bronze: DataFrame, vehicles: DataFrame) -> DataFrame:
    """JT/T 808 records carry a terminal phone, no plate: take plate and colour from the vehicle
    currently registered with that phone (a phone nobody has keeps the plate null and fails).
    Phones are compared by their join hash, which is taken of the number without its BCD zero
    padding (12 digits on the wire for an 11-digit number), so both sides match unpadded."""
    phone = f"{PHONE.field}_hmac"
    phones = (
        vehicles.where(F.col("is_current") & F.col(phone).isNotNull())
        .select(
            F.col(phone).alias("_phone"),
            F.col("plate").alias("_plate"),
            F.col("plate_color").cast("string").alias("_plate_color"),
        )
        .dropDuplicates(["_phone"])
    )
    return (
        bronze.join(F.broadcast(phones), bronze[phone] == phones["_phone"], "left")
        .withColumn("plate", F.coalesce("plate", "_plate"))
        .withColumn("plate_color", F.coalesce("plate_color", "_plate_color"))
        .drop("_phone", "_plate", "_plate_color")
    )


def tag_rules(typed: DataFrame, rules: dict[str, Any]) -> DataFrame:
    """Adds ``failed_rules``: the names of the qualification rules the row breaks (empty: qualified)."""
    tagged = typed.withColumn("failed_rules", failed_rules(position_rules(rules)))
    # raw_record (the record as received, JSON) only where quarantine needs it: serialising every
    # qualified row was a third of the typing cost
    raw = F.when(F.size("failed_rules") > 0, F.to_json(F.col(RAW_STRUCT)))
    return tagged.withColumn("raw_record", raw).drop(RAW_STRUCT)


def qualified(tagged: DataFrame, scratch: Path) -> DataFrame:
    """Qualified records, one per key, the copy received last winning (then the one landed last):
    :func:`transforms.lake.dedup.latest_per_key` (its ``scratch``: remove it once the result is
    written). The key columns are never null here: plate, colour and time are required by the
    rules."""
    good = tagged.where(F.size("failed_rules") == 0)
    return latest_per_key(good, KEY, SILVER_COLUMNS, scratch)


def unqualified(tagged: DataFrame, quarantined_at: Any) -> DataFrame:
    """Records that break at least one rule, as quarantine rows."""
    return (
        tagged.where(F.size("failed_rules") > 0)
        .withColumn("_quarantined_at", F.lit(str(quarantined_at)).cast("timestamp"))
        .withColumn("error", F.lit(None).cast("string"))
        # its raw record holds the phone only as bronze does (encrypted, hashed, masked)
        .withColumn("raw_record_sm4", F.lit(None).cast("string"))
        .select(*QUARANTINE_COLUMNS)
    )

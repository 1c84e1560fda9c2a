"""Pure transforms of licence records: typing the checked bronze strings, the rule tags, the
quarantine rows, verified versions and their history (SCD2); and of authority keys.

History (SCD2) of a licence (``licence_id``): every verified version is a row, valid in
``[version_valid_from, version_valid_to)`` where ``version_valid_from`` is its ``issued_at`` and
``version_valid_to`` the earliest ``issued_at`` of a higher version of the same licence (null: no
higher version, ``is_current``). A version is therefore the answer of "the verified version with the
highest version number whose issued_at ≤ T" (licences.md) exactly for T in its range; a version
re-issued with an earlier time than a lower one has an empty range. The same (licence_id, version)
received twice counts once: the copy received last wins (then landed last, then by file and line).
"""

from __future__ import annotations

from typing import Any

from pyspark.sql import Column, DataFrame, Window
from pyspark.sql import functions as F

from expectations.licences import (
    authority_rules,
    division_pattern,
    issuance_rules,
    province_pattern,
)
from transforms.lake.tagging import failed_rules
from transforms.licences.feeds import ISSUANCE, ISSUANCE_QUARANTINE_COLUMNS
from transforms.licences.signatures import VERIFIED

TIME_PATTERN = r"^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$"
DATE_PATTERN = r"^\d{4}-\d{2}-\d{2}$"
LINEAGE = ["_source_file", "_line", "_file_sm3", "_landed_at"]
PROTECTED = [c for s in ISSUANCE.sensitive if s.field != "canonical" for c in s.columns]
# the licence as silver keeps it: personal fields only as _sm4 / _hmac / _masked, the signed text
# only encrypted (for a later re-check by whoever holds the key)
LICENCE_COLUMNS = [
    "licence_id", "licence_no", "licence_type", "holder_type", *PROTECTED, "scope",
    "issuing_authority_code", "issuing_authority_name", "issuing_province", "province_code",
    "issued_at", "valid_from", "valid_to", "status", "version", "received_at", "signer_key_id",
    "signature", "canonical_sm4",
]  # fmt: skip
HISTORY_COLUMNS = ["version_valid_from", "version_valid_to", "is_current"]
SILVER_COLUMNS = [*LICENCE_COLUMNS, *HISTORY_COLUMNS, *LINEAGE]
FLAGS = ["holder_type_matches", "dates_ordered", "authority_in_province"]
QUARANTINE_COLUMNS = [
    *(name for name, _ in ISSUANCE_QUARANTINE_COLUMNS), "failed_rules", "raw_record",
    "raw_record_sm4", "error", *LINEAGE, "_quarantined_at",
]  # fmt: skip
AUTHORITY_KEY = ["key_id"]
AUTHORITY_COLUMNS = [
    "key_id", "authority_code", "authority_name", "province_code", "sm2_public_key",
    "valid_from", "valid_to", "_source_file", "_landed_at",
]  # fmt: skip
APPLY_ORDER = ["_folder_date", "_source_file", "_line"]
QUARANTINE_TYPES = {"version": "int", "issued_at": "timestamp", "received_at": "timestamp"}


def _text(name: str) -> Column:
    value = F.trim(F.col(name))
    return F.when(value != "", value)


def _lower(name: str) -> Column:
    return F.lower(_text(name)).alias(name)


def _time(name: str) -> Column:
    value = F.trim(F.col(name))
    return F.when(value.rlike(TIME_PATTERN), value.try_cast("timestamp")).alias(name)


def _date(name: str) -> Column:
    value = F.trim(F.col(name))
    return F.when(value.rlike(DATE_PATTERN), value.try_cast("date")).alias(name)


def _province(code: Column) -> Column:
    """The GB/T 2260 province code of a 6-digit division code."""
    return F.when(code.rlike(r"^[0-9]{6}$"), F.concat(F.substring(code, 1, 2), F.lit("0000")))


def typed_issuance(checked: DataFrame, rules: dict[str, Any]) -> DataFrame:
    """Bronze issuance strings with their signature check (``signature_check``,
    ``signature_detail``, ``raw_preview``) typed; the flags the cross-column rules read."""
    holder_types = rules["licence_types"]
    expected = F.create_map(*[F.lit(x) for kv in holder_types.items() for x in kv])
    typed = checked.select(
        _text("licence_id").alias("licence_id"),
        _text("licence_no").alias("licence_no"),
        _lower("licence_type"),
        _lower("holder_type"),
        *PROTECTED,
        _text("scope").alias("scope"),
        _text("issuing_authority_code").alias("issuing_authority_code"),
        _text("issuing_authority_name").alias("issuing_authority_name"),
        _text("issuing_province").alias("issuing_province"),
        _time("issued_at"),
        _date("valid_from"),
        _date("valid_to"),
        _lower("status"),
        F.trim("version").try_cast("int").alias("version"),
        _time("received_at"),
        _text("signer_key_id").alias("signer_key_id"),
        _text("signature").alias("signature"),
        "canonical_sm4",
        "signature_check",
        "signature_detail",
        "raw_preview",
        *LINEAGE,
    )
    authority_province = _province(F.col("issuing_authority_code"))
    return typed.select(
        "*",
        F.coalesce(_province(F.col("issuing_province")), authority_province).alias("province_code"),
        # null when an input is itself invalid: that defect fails its own rule, and only it
        F.when(
            F.col("holder_type").isin(rules["holder_types"]),
            expected[F.col("licence_type")] == F.col("holder_type"),
        ).alias("holder_type_matches"),
        (F.col("valid_from") <= F.col("valid_to")).alias("dates_ordered"),
        F.when(
            F.col("issuing_province").rlike(province_pattern(rules))
            & F.col("issuing_authority_code").rlike(division_pattern(rules)),
            authority_province == F.col("issuing_province"),
        ).alias("authority_in_province"),
    )


def tag_issuance(typed: DataFrame, rules: dict[str, Any]) -> DataFrame:
    """Adds ``failed_rules``: the signature reason first (``bad_signature`` /
    ``unknown_signer``), then the field rules the record breaks; empty: a verified, valid record."""
    signature = F.when(F.col("signature_check") != VERIFIED, F.col("signature_check"))
    return typed.withColumn("failed_rules", failed_rules(issuance_rules(rules), signature))


def verified_records(tagged: DataFrame) -> DataFrame:
    """Records that pass the signature check and every field rule (not yet deduplicated)."""
    return tagged.where(F.size("failed_rules") == 0).select(*LICENCE_COLUMNS, *LINEAGE)


def quarantine_rows(tagged: DataFrame, quarantined_at: Any) -> DataFrame:
    """Records that fail the signature check or a field rule, as quarantine rows: typed key,
    reasons, a masked preview of the signed record and the record itself encrypted."""
    typed_key = [
        F.col(name).cast(QUARANTINE_TYPES.get(name, "string")).alias(name)
        for name, _ in ISSUANCE_QUARANTINE_COLUMNS
        if name != "detail"
    ]
    return tagged.where(F.size("failed_rules") > 0).select(
        *typed_key,
        F.col("signature_detail").alias("detail"),
        "failed_rules",
        F.col("raw_preview").alias("raw_record"),
        F.col("canonical_sm4").alias("raw_record_sm4"),
        F.lit(None).cast("string").alias("error"),
        *LINEAGE,
        F.lit(quarantined_at).cast("timestamp").alias("_quarantined_at"),
    )


def latest_versions(records: DataFrame) -> DataFrame:
    """One row per (licence_id, version): the copy received last wins."""
    order = Window.partitionBy("licence_id", "version").orderBy(
        F.col("received_at").desc(),
        F.col("_landed_at").desc(),
        F.col("_file_sm3").desc(),
        F.col("_line").desc(),
    )
    return (
        records.withColumn("_r", F.row_number().over(order))
        .where(F.col("_r") == 1)
        .select(*LICENCE_COLUMNS, *LINEAGE)
    )


def licence_history(versions: DataFrame) -> DataFrame:
    """Every verified version of every licence with its valid-time range (SCD2, module doc)."""
    later = Window.partitionBy("licence_id").orderBy("version")
    higher = later.rowsBetween(1, Window.unboundedFollowing)
    whole = Window.partitionBy("licence_id")
    return latest_versions(versions).select(
        *LICENCE_COLUMNS,
        F.col("issued_at").alias("version_valid_from"),
        F.min("issued_at").over(higher).alias("version_valid_to"),
        (F.col("version") == F.max("version").over(whole)).alias("is_current"),
        *LINEAGE,
    )


def typed_authorities(bronze: DataFrame) -> DataFrame:
    """Authority key records typed, with the flag the date rule reads."""
    typed = bronze.select(
        _text("key_id").alias("key_id"),
        _text("authority_code").alias("authority_code"),
        _text("authority_name").alias("authority_name"),
        F.lower(_text("sm2_public_key")).alias("sm2_public_key"),
        _date("valid_from"),
        _date("valid_to"),
        *APPLY_ORDER,
        "_landed_at",
        "_file_sm3",
    )
    return typed.select(
        "*",
        _province(F.col("authority_code")).alias("province_code"),
        (F.col("valid_from") <= F.col("valid_to")).alias("dates_ordered"),
    )


def tag_authorities(typed: DataFrame, rules: dict[str, Any]) -> DataFrame:
    """Adds ``failed_rules`` (the authority key rules a record breaks)."""
    return typed.withColumn("failed_rules", failed_rules(authority_rules(rules)))


def registered_keys(tagged: DataFrame) -> DataFrame:
    """One row per key_id: its last applied record that breaks no rule (a later file of the
    feed replaces a key's record: e.g. its validity shortened when the key is withdrawn)."""
    order = Window.partitionBy(*AUTHORITY_KEY).orderBy(*[F.col(c).desc() for c in APPLY_ORDER])
    return (
        tagged.where(F.size("failed_rules") == 0)
        .withColumn("_r", F.row_number().over(order))
        .where(F.col("_r") == 1)
        .select(*AUTHORITY_COLUMNS)
    )


def rejected_keys(tagged: DataFrame, quarantined_at: Any) -> DataFrame:
    """Authority key records that break a rule, as quarantine rows."""
    return tagged.where(F.size("failed_rules") > 0).select(
        "failed_rules",
        F.to_json(
            F.struct("key_id", "authority_code", "authority_name", "sm2_public_key",
                     F.col("valid_from").cast("string").alias("valid_from"),
                     F.col("valid_to").cast("string").alias("valid_to"))
        ).alias("raw_record"),
        F.lit(None).cast("string").alias("error"),
        "_source_file", "_line", "_file_sm3", "_landed_at",
        F.lit(quarantined_at).cast("timestamp").alias("_quarantined_at"),
    )  # fmt: skip

"""Operation quality of the licence system (运行质量, 第四(七)条; licences.md "Operation quality"),
per issuing province and month, as pure transforms: the counted records
(silver.licences__records, from silver licences and their quarantine), and their aggregate (the
same definition as the dbt mart gold.licences__operation_quality).

Over the records whose ``issued_at`` is in the month, per ``province_code`` (the issuing province,
else the province of the issuing authority's code):

- ``issued``: verified versions 1 (any status);
- ``revoked``: verified versions with status revoked (any version);
- ``changed``: the other verified versions above 1 (status not revoked);
- ``records``: verified versions (each (licence_id, version) once) plus quarantined records (a
  signature or field-rule failure, each landed line once); a malformed line, or a quarantined
  record without a readable issued_at or province, has no month or province and is in no row;
- ``signature_failures``: quarantined records whose reasons include ``bad_signature`` or
  ``unknown_signer`` (rules ``signature.failure_reasons``);
- ``signature_failure_rate``: signature_failures / records, a fraction in [0, 1];
- ``mean_feed_delay_s``: the mean of received_at − issued_at in seconds over the records.
"""

from __future__ import annotations

import re
from typing import Any

from pyspark.sql import DataFrame
from pyspark.sql import functions as F

REPORT_KEYS = (
    "province_code", "period", "issued", "changed", "revoked", "records", "signature_failures",
    "signature_failure_rate", "mean_feed_delay_s",
)  # fmt: skip
PERIOD_PATTERN = re.compile(r"^\d{4}-(0[1-9]|1[0-2])$")
REVOKED = "revoked"


def check_period(period: str) -> str:
    """``YYYY-MM``; a ValueError otherwise."""
    if not PERIOD_PATTERN.match(period.strip()):
        raise ValueError(f"period {period!r} must be YYYY-MM")
    return period.strip()


def report_records(licences: DataFrame, quarantine: DataFrame, rules: dict[str, Any]) -> DataFrame:
    """The records the report counts (silver.licences__records): every verified version once and
    every quarantined record (a signature or field-rule failure) once, with a month and a
    province; ``outcome`` is ``verified``, the signature reason, or ``rule_failure``."""
    failures = rules["signature"]["failure_reasons"]
    verified = licences.select(
        "licence_id", "licence_no", "version", "status", "province_code", "issued_at",
        "received_at", F.lit("verified").alias("outcome"), "_source_file", "_line", "_file_sm3",
    )  # fmt: skip
    signature = F.filter("failed_rules", lambda r: r.isin(failures))
    quarantined = quarantine.where(
        F.col("error").isNull() & F.col("issued_at").isNotNull() & F.col("province_code").isNotNull()
    ).select(
        "licence_id", "licence_no", "version", "status", "province_code", "issued_at",
        "received_at",
        F.when(F.size(signature) > 0, signature[0]).otherwise("rule_failure").alias("outcome"),
        "_source_file", "_line", "_file_sm3",
    )  # fmt: skip
    records = verified.unionByName(quarantined)
    return records.select(
        "province_code",
        F.date_format("issued_at", "yyyy-MM").alias("period"),
        "licence_id", "licence_no", "version", "status", "issued_at", "received_at",
        (F.unix_timestamp("received_at") - F.unix_timestamp("issued_at")).alias("feed_delay_s"),
        "outcome",
        (F.col("outcome") == "verified").alias("is_verified"),
        F.col("outcome").isin(failures).alias("is_signature_failure"),
        "_source_file", "_line", "_file_sm3",
    )  # fmt: skip


def operation_quality(records: DataFrame, rules: dict[str, Any]) -> DataFrame:
    """One row per (province_code, period) with a record in it, columns :data:`REPORT_KEYS`
    (``records``: :func:`report_records`)."""

    def count(condition) -> F.Column:
        return F.sum(F.when(condition, 1).otherwise(0)).cast("bigint")

    verified = F.col("is_verified")
    report = rules["report"]
    out = records.groupBy("province_code", "period").agg(
        count(verified & (F.col("version") == 1)).alias("issued"),
        count(verified & (F.col("version") > 1) & (F.col("status") != REVOKED)).alias("changed"),
        count(verified & (F.col("status") == REVOKED)).alias("revoked"),
        F.count(F.lit(1)).alias("records"),
        count(F.col("is_signature_failure")).alias("signature_failures"),
        F.avg(F.col("feed_delay_s").cast("double")).alias("_delay"),
    )
    return out.select(
        "province_code", "period", "issued", "changed", "revoked", "records", "signature_failures",
        F.round(F.col("signature_failures") / F.col("records"), report["rate_digits"]).alias(
            "signature_failure_rate"
        ),
        F.round("_delay", report["delay_digits"]).alias("mean_feed_delay_s"),
    )  # fmt: skip

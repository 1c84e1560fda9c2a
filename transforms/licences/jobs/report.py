"""The operation-quality report of one month (licences.md "Operation quality"), aggregated from
silver.licences__records as it stands (nothing here writes)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pyspark.sql import SparkSession
from pyspark.sql import functions as F

from transforms.lake import registry
from transforms.licences.report import REPORT_KEYS, check_period, operation_quality

RECORDS = registry.table("silver.licences__records")


def report(
    spark: SparkSession, lake: Path, period: str, rules: dict[str, Any]
) -> list[dict[str, Any]]:
    """One object per issuing province with a record in ``period`` (YYYY-MM), keys
    :data:`REPORT_KEYS`, by province_code."""
    period = check_period(period)
    if not RECORDS.exists(lake):
        raise FileNotFoundError(f"{RECORDS.name} is not in {lake}; run `lakehouse run` first")
    records = spark.read.format("delta").load(str(RECORDS.location(lake)))
    rows = (
        operation_quality(records, rules)
        .where(F.col("period") == period)
        .orderBy("province_code")
        .collect()
    )
    return [{k: r[k] for k in REPORT_KEYS} for r in rows]

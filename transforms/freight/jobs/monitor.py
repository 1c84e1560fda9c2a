"""运行监测: evaluate the anomalies as of now and write them with the statistics and alarms.

- silver.freight__anomalies — every anomaly row of :mod:`transforms.freight.anomalies` with its
  status (appeals) and ``detected_at``: the time the row was first found (kept from the table's
  previous version; a row no longer found — a new version won, a fund flow arrived — leaves it);
- gold.freight__operator_stats — the statistics, score and rank per operator per month and per
  day (``grain``);
- gold.freight__alarms — the operator-days over the alarm threshold (预警), each with a status:
  open until the operator's rectification result is recorded (closed_at, result;
  :mod:`transforms.freight.jobs.appeals`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import pyarrow as pa
from deltalake import write_deltalake
from pyspark.sql import SparkSession
from pyspark.sql import functions as F

from transforms.freight import anomalies, statistics
from transforms.freight.jobs import appeals
from transforms.freight.jobs.publish import register_tables
from transforms.lake import registry
from transforms.lake.clock import now_beijing

ANOMALIES = registry.table("silver.freight__anomalies")
STATS = registry.table("gold.freight__operator_stats")
ALARMS = registry.table("gold.freight__alarms")
ANOMALY_COLUMNS = (
    "anomaly_id", "operator_id", "anomaly_type", "document_kind", "document_key", "rule",
    "evidence", "event_time", "detected_at", "status",
)  # fmt: skip


def _write(frame, location: Path) -> None:
    """Overwrite a table with ``frame``, materialised first (the frame may read the table, and an
    empty result must still leave the table with its columns)."""
    data = frame.toArrow()
    # every column nullable, whatever the SQL and the rows made of it: readers (dbt sources)
    # declare one schema for an empty lake and a full one
    data = data.cast(pa.schema([f.with_nullable(True) for f in data.schema]))
    write_deltalake(str(location), data, mode="overwrite", schema_mode="overwrite")


def refresh(
    spark: SparkSession,
    lake: Path,
    rules: Mapping[str, Any],
    licence_rules: Mapping[str, Any],
    as_of: dt.datetime | None = None,
    progress: Callable[[str], None] | None = None,
) -> dict[str, int]:
    """Evaluate and write the anomalies, statistics and alarms as of ``as_of`` (default now,
    GMT+8); returns row counts."""
    say = progress or (lambda _m: None)
    now = as_of or now_beijing().replace(tzinfo=None)
    anomalies.compute(spark, lake, rules, licence_rules, now)
    failing = {
        r["anomaly_id"]
        for r in spark.table("f_anomaly_rows")
        .where(F.col("anomaly_type").isin(*appeals.APPEALABLE))
        .select("anomaly_id")
        .collect()
    }
    decided = appeals.recheck(lake, failing, now)
    found = anomalies.apply_statuses(spark, lake)
    if ANOMALIES.exists(lake):
        before = (
            spark.read.format("delta")
            .load(str(ANOMALIES.location(lake)))
            .select("anomaly_id", F.col("detected_at").alias("_first"))
        )
        found = found.join(before, "anomaly_id", "left")
    else:
        found = found.withColumn("_first", F.lit(None).cast("timestamp"))
    stamp = F.lit(now.strftime("%Y-%m-%d %H:%M:%S")).cast("timestamp")
    rows = found.withColumn("detected_at", F.coalesce("_first", stamp)).select(*ANOMALY_COLUMNS)
    _write(rows, ANOMALIES.location(lake))
    spark.read.format("delta").load(str(ANOMALIES.location(lake))).drop(
        "detected_at"
    ).createOrReplaceTempView("f_anomalies")
    frames = [
        anomalies.compute_statistics(spark, rules, grain).withColumn("grain", F.lit(grain))
        for grain in ("month", "day")
    ]
    _write(frames[0].unionByName(frames[1]), STATS.location(lake))
    alarms = spark.sql(statistics.alarms_sql(rules))
    events = registry.table("silver.freight__alarm_events")
    if events.exists(lake):
        closed = (
            spark.read.format("delta")
            .load(str(events.location(lake)))
            .where(F.col("event") == "closed")
            .groupBy("operator_id", "day")
            .agg(F.max("at").alias("closed_at"), F.max_by("result", "at").alias("result"))
        )
        alarms = alarms.join(closed, ["operator_id", "day"], "left")
    else:
        alarms = alarms.withColumn("closed_at", F.lit(None).cast("timestamp")).withColumn(
            "result", F.lit(None).cast("string")
        )
    alarms = alarms.withColumn(
        "status", F.when(F.col("closed_at").isNull(), "open").otherwise("closed")
    )
    _write(alarms, ALARMS.location(lake))
    register_tables(spark, lake)
    counts = {
        "anomalies": spark.read.format("delta").load(str(ANOMALIES.location(lake))).count(),
        "operator_periods": spark.read.format("delta").load(str(STATS.location(lake))).count(),
        "alarms": spark.read.format("delta").load(str(ALARMS.location(lake))).count(),
        "appeals_decided": len(decided),
    }
    say(
        f"freight monitoring as of {now:%Y-%m-%d %H:%M}: {counts['anomalies']} anomaly row(s), "
        f"{counts['operator_periods']} operator-period(s), {counts['alarms']} alarm(s), "
        f"{len(decided)} appeal(s) decided"
    )
    return counts

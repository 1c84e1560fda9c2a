"""`lakehouse report freight`: the operators' statistics, the anomaly rows and the envelopes of a
period, with the JSON keys of freight.md "CLI", evaluated as of a time.

The anomalies are evaluated afresh as of ``--as-of`` (a 运单与资金流水单匹配 anomaly depends on it)
with the statuses appeals gave; ``detected_at`` is the time the pipeline first found the row
(silver.freight__anomalies), or the as-of time for a row it has not found yet.

Every table is read through transforms/lake/timetravel.py (`--as-published`: as it stood when a
bulletin was published).
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from pyspark.sql import SparkSession
from pyspark.sql import functions as F

from transforms.freight import anomalies as anomaly_views
from transforms.freight.anomalies import TYPES
from transforms.freight.statistics import FORMATS, granularity
from transforms.lake import registry, timetravel

OPERATOR_KEYS = (
    "operator_id", "operator_name", "period", "envelopes", "accepted", "rejected", "waybills",
    "vehicles", "drivers", "tonnes", "tonne_km", "charges_yuan",
    *(f"anomalies_{t}" for t in TYPES), "unknown_distance", "score", "rank",
)  # fmt: skip
ANOMALY_KEYS = (
    "operator_id", "anomaly_type", "document_key", "rule", "evidence", "detected_at", "status",
    "anomaly_id",
)  # fmt: skip
ENVELOPE_KEYS = (
    "message_reference_number", "document_name", "enterprise_sender_code", "result_code", "reason",
    "source_file",
)  # fmt: skip


def as_of_time(day: dt.date | None, rules: Mapping[str, Any], now: dt.datetime) -> dt.datetime:
    """The evaluation time of ``--as-of D``: D at rules ``match.as_of_time`` (the day's end);
    no D: now."""
    if day is None:
        return now
    clock = dt.time.fromisoformat(str(rules["match"]["as_of_time"]))
    return dt.datetime.combine(day, clock)


def _text(value: Any) -> Any:
    if isinstance(value, dt.datetime):
        return value.replace(tzinfo=None).strftime("%Y-%m-%d %H:%M:%S")
    return value


def _in_period(column: str, period: str):
    return F.date_format(F.col(column), FORMATS[granularity(period)]) == F.lit(period)


def operators(
    spark: SparkSession,
    lake: Path,
    rules: Mapping[str, Any],
    licence_rules: Mapping[str, Any],
    period: str,
    as_of: dt.datetime,
) -> list[dict[str, Any]]:
    """One row per operator of the senders feed with data in ``period``, sorted by operator."""
    grain = granularity(period)
    anomaly_views.compute(spark, lake, rules, licence_rules, as_of)
    frame = anomaly_views.compute_statistics(spark, rules, grain).where(F.col("period") == period)
    rows = [r.asDict() for r in frame.collect()]
    out = [{k: _text(r[k]) for k in OPERATOR_KEYS} for r in rows]
    return sorted(out, key=lambda r: r["operator_id"])


def anomaly_rows(
    spark: SparkSession,
    lake: Path,
    rules: Mapping[str, Any],
    licence_rules: Mapping[str, Any],
    period: str,
    as_of: dt.datetime,
) -> list[dict[str, Any]]:
    """Every anomaly row attributed to ``period`` (by its event_time), sorted by operator, type
    and document; evidence as an object."""
    granularity(period)
    frame = anomaly_views.compute(spark, lake, rules, licence_rules, as_of)
    first = registry.table("silver.freight__anomalies")
    stamp = F.lit(as_of.strftime("%Y-%m-%d %H:%M:%S")).cast("timestamp")
    if timetravel.exists(first, lake):
        seen = timetravel.read(spark, first, lake)
        frame = frame.join(seen.select("anomaly_id", "detected_at"), "anomaly_id", "left")
        frame = frame.withColumn("detected_at", F.coalesce("detected_at", stamp))
    else:
        frame = frame.withColumn("detected_at", stamp)
    rows = [r.asDict() for r in frame.where(_in_period("event_time", period)).collect()]
    out = []
    for r in rows:
        row = {k: _text(r[k]) for k in ANOMALY_KEYS}
        row["evidence"] = json.loads(r["evidence"]) if r["evidence"] else None
        out.append(row)
    return sorted(out, key=lambda r: (r["operator_id"] or "", r["anomaly_type"], r["document_key"]))


def envelope_rows(spark: SparkSession, lake: Path, period: str) -> list[dict[str, Any]]:
    """Every envelope whose messageSendingDateTime is in ``period`` (an envelope with no valid
    sending time is listed under the day it arrived), sorted by reference and source."""
    granularity(period)
    table = registry.table("silver.freight__envelopes")
    if not timetravel.exists(table, lake):
        raise FileNotFoundError(f"{table.name} does not exist in {lake}: run the pipeline first")
    frame = timetravel.read(spark, table, lake)
    when = F.coalesce(F.col("message_sending_time"), F.col("received_at"))
    frame = frame.withColumn("_when", when).where(_in_period("_when", period))
    rows = [r.asDict() for r in frame.collect()]
    out = [
        {
            "message_reference_number": r["message_reference_number"],
            "document_name": r["document_name"],
            "enterprise_sender_code": r["enterprise_sender_code"],
            "result_code": r["result_code"],
            "reason": r["reason"],
            "source_file": r["_source_file"],
            "_line": r["_line"],
        }
        for r in rows
    ]
    out.sort(key=lambda r: (r["message_reference_number"] or "", r["source_file"], r["_line"]))
    for r in out:
        del r["_line"]
    return out


def explain(
    spark: SparkSession,
    lake: Path,
    rules: Mapping[str, Any],
    licence_rules: Mapping[str, Any],
    period: str,
    as_of: dt.datetime,
    operator_id: str,
) -> dict[str, Any]:
    """How an operator's score of ``period`` comes about: its statistics, each type's rate,
    weight and penalty (score = 100 − 100 × Σ weight × rate, clipped), and its anomaly rows."""
    rows = [r for r in operators(spark, lake, rules, licence_rules, period, as_of)]
    mine = [r for r in rows if r["operator_id"] == operator_id]
    if not mine:
        known = ", ".join(r["operator_id"] for r in rows) or "none"
        raise KeyError(f"operator {operator_id} has no statistics in {period} (operators: {known})")
    stats = spark.table(f"f_statistics_{granularity(period)}").where(
        (F.col("period") == period) & (F.col("operator_id") == operator_id)
    )
    (full,) = [r.asDict() for r in stats.collect()]
    weights = rules["scoring"]["weights"]
    terms = [
        {
            "anomaly_type": t,
            "anomalies": full[f"anomalies_{t}"],
            "denominator": "envelopes" if t == "access" else "waybills",
            "rate": full[f"rate_{t}"],
            "weight": float(weights[t]),
            "penalty": round(100.0 * float(weights[t]) * full[f"rate_{t}"], 6),
        }
        for t in TYPES
    ]
    listed = [
        a
        for a in anomaly_rows(spark, lake, rules, licence_rules, period, as_of)
        if a["operator_id"] == operator_id and a["status"] != "withdrawn"
    ]
    return {
        "operator": mine[0],
        "score": {
            "formula": "100 - 100 * sum(weight * rate), clipped to [0, 100]",
            "terms": terms,
            "score": full["score"],
            "rank": full["rank"],
            "of_operators": len(rows),
        },
        "anomalies": listed,
    }

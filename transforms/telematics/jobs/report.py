"""The regulator's report (stable JSON keys of telematics.md) and its explanation down to vehicles.

Reads the gold assessment and the silver facts (through transforms/lake/timetravel.py: as they
stood when a bulletin was published, for `--as-published`); nothing here writes.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

from transforms.lake import registry, timetravel

LEVELS = ("county", "enterprise", "platform")
REPORT_KEYS = (
    "level", "subject_id", "subject_name", "period", "vehicles", "online_vehicles",
    "platform_connectivity_rate", "network_entry_rate", "online_rate", "track_completeness_rate",
    "data_qualification_rate", "drift_vehicle_rate", "check_response_rate", "mean_overspeed_count",
    "mean_fatigue_minutes", "violation_rate", "score", "passed",
)  # fmt: skip
# doubles are rounded so that the same lake gives the same bytes whatever the summation order
DIGITS = 6
ASSESSMENTS = registry.table("gold.telematics__assessments")


@dataclass(frozen=True)
class Period:
    """A reporting period: a day, a month, a quarter or a year."""

    kind: str  # day | month | quarter | year
    label: str
    start: dt.date
    end: dt.date


def parse_period(text: str) -> Period:
    """``YYYY-MM-DD``, ``YYYY-MM``, ``YYYYQn`` or ``YYYY``; a clear error otherwise."""
    text = text.strip()
    try:
        if re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
            day = dt.date.fromisoformat(text)
            return Period("day", text, day, day)
        if m := re.fullmatch(r"(\d{4})-(\d{2})", text):
            start = dt.date(int(m[1]), int(m[2]), 1)
            return Period("month", text, start, _month_end(start))
        if m := re.fullmatch(r"(\d{4})[Qq]([1-4])", text):
            start = dt.date(int(m[1]), 3 * int(m[2]) - 2, 1)
            end = _month_end(dt.date(start.year, start.month + 2, 1))
            return Period("quarter", f"{m[1]}Q{m[2]}", start, end)
        if re.fullmatch(r"\d{4}", text):
            year = int(text)
            return Period("year", text, dt.date(year, 1, 1), dt.date(year, 12, 31))
    except ValueError as exc:
        raise ValueError(f"period {text!r} is not a real date: {exc}") from None
    raise ValueError(f"period {text!r} must be YYYY-MM-DD, YYYY-MM, YYYYQn or YYYY")


def _month_end(first: dt.date) -> dt.date:
    following = dt.date(first.year + first.month // 12, first.month % 12 + 1, 1)
    return following - dt.timedelta(days=1)


def _clean(value: Any) -> Any:
    if isinstance(value, float):
        return round(value, DIGITS)
    return value


def report(spark: SparkSession, lake: Path, level: str, period: Period) -> list[dict[str, Any]]:
    """One object per subject of ``level`` in ``period``, keys in the stable order, by subject_id."""
    if level not in LEVELS:
        raise ValueError(f"level must be one of {', '.join(LEVELS)}")
    if not timetravel.exists(ASSESSMENTS, lake):
        raise FileNotFoundError(
            f"{ASSESSMENTS.name} does not exist in {lake}; run `lakehouse run` first"
        )
    rows = (
        timetravel.read(spark, ASSESSMENTS, lake)
        .where(
            (F.col("level") == level)
            & (F.col("period_type") == period.kind)
            & (F.col("period") == period.label)
        )
        .orderBy("subject_id")
        .collect()
    )
    return [{k: _clean(r[k]) for k in REPORT_KEYS} for r in rows]


def _table(spark: SparkSession, lake: Path, name: str) -> DataFrame | None:
    t = registry.table(name)
    return timetravel.read(spark, t, lake) if timetravel.exists(t, lake) else None


def attributed_vehicles(vehicles: DataFrame, period: Period) -> DataFrame:
    """Each vehicle's master-data version valid on the period's last day (the first known version
    also stands for the time before it was landed)."""
    end = F.lit(period.end.isoformat()).cast("date")
    first = F.min("valid_from").over(_by_vehicle())
    return (
        vehicles.withColumn("_first", first)
        .where(
            ((F.col("valid_from") <= end) | (F.col("valid_from") == F.col("_first")))
            & (F.col("valid_to").isNull() | (F.col("valid_to") > end))
        )
        .drop("_first")
    )


def _by_vehicle():
    from pyspark.sql import Window

    return Window.partitionBy("plate", "plate_color")


def explain(
    spark: SparkSession, lake: Path, level: str, period: Period, subject_id: str,
    rules: dict[str, Any],
) -> dict[str, Any]:  # fmt: skip
    """The evidence behind a subject's numbers: every vehicle with its part in each numerator and
    denominator, unqualified records by rule, the violation events counted, 查岗 checks, link downtime.
    """
    if level not in LEVELS:
        raise ValueError(f"level must be one of {', '.join(LEVELS)}")
    subject_col = {
        "county": "county_code",
        "enterprise": "enterprise_id",
        "platform": "platform_id",
    }
    start, end = (
        F.lit(period.start.isoformat()).cast("date"),
        F.lit(period.end.isoformat()).cast("date"),
    )
    vehicles = _table(spark, lake, "silver.telematics__vehicles")
    facts = _table(spark, lake, "silver.telematics__vehicle_day_facts")
    if vehicles is None or facts is None:
        raise FileNotFoundError(f"no vehicles or facts in {lake}; run `lakehouse run` first")
    own = attributed_vehicles(vehicles, period).where(F.col(subject_col[level]) == subject_id)
    first_seen = (
        facts.where(F.col("qualified_points") > 0)
        .groupBy("plate", "plate_color")
        .agg(F.min("day").alias("first_qualified_day"))
    )
    in_period = (
        facts.where(F.col("day").between(start, end))
        .groupBy("plate", "plate_color")
        .agg(
            F.sum("qualified_points").alias("qualified_points"),
            F.sum("total_km").alias("total_km"),
            F.sum("complete_km").alias("complete_km"),
            F.sum(F.col("is_drift_day").cast("int")).alias("drift_days"),
            F.sum("overspeed_events").alias("overspeed_events"),
            F.sum("fatigue_minutes").alias("fatigue_minutes"),
            F.max(F.col("has_violation").cast("int")).alias("violation"),
        )
    )
    per_vehicle = (
        own.join(first_seen, ["plate", "plate_color"], "left")
        .join(in_period, ["plate", "plate_color"], "left")
        .select(
            "plate",
            "plate_color",
            "vehicle_type",
            "operating_status",
            "registered_at",
            "first_qualified_day",
            (F.col("registered_at").isNull() | (F.col("registered_at") <= end)).alias("counted"),
            (F.col("first_qualified_day") <= end).alias("entered"),
            F.coalesce("qualified_points", F.lit(0)).alias("qualified_points"),
            F.coalesce("total_km", F.lit(0.0)).alias("total_km"),
            F.coalesce("complete_km", F.lit(0.0)).alias("complete_km"),
            F.coalesce("drift_days", F.lit(0)).alias("drift_days"),
            F.coalesce("overspeed_events", F.lit(0)).alias("overspeed_events"),
            F.coalesce("fatigue_minutes", F.lit(0.0)).alias("fatigue_minutes"),
            (F.coalesce("violation", F.lit(0)) == 1).alias("has_violation"),
        )  # fmt: skip
        .withColumn(
            "online",
            (F.col("operating_status") == "operating")
            & F.coalesce("entered", F.lit(False))
            & (F.col("qualified_points") > 0),
        )
        .orderBy("plate", "plate_color")
        .collect()
    )
    rows = [r.asDict() for r in per_vehicle]
    counted = [r for r in rows if r["counted"]]
    online = [r for r in counted if r["online"]]
    operating_entered = [
        r for r in counted if r["operating_status"] == "operating" and r["entered"]
    ]
    totals = {
        "vehicles": len(counted),
        "entered_vehicles": sum(1 for r in counted if r["entered"]),
        "operating_entered_vehicles": len(operating_entered),
        "online_vehicles": len(online),
        "total_km": sum(r["total_km"] for r in online),
        "complete_km": sum(r["complete_km"] for r in online),
        "drift_vehicles": sum(1 for r in online if r["drift_days"] > 0),
        "overspeed_events": sum(r["overspeed_events"] for r in online),
        "fatigue_minutes": sum(r["fatigue_minutes"] for r in online),
        "violation_vehicles": sum(1 for r in counted if r["has_violation"]),
    }
    out: dict[str, Any] = {
        "level": level,
        "subject_id": subject_id,
        "period": period.label,
        "totals": {k: _clean(v) for k, v in totals.items()},
        "vehicles": [{k: _clean(_iso(v)) for k, v in r.items()} for r in rows],
    }
    out.update(_records_evidence(spark, lake, level, subject_id, own, start, end))
    keys = {(r["plate"], r["plate_color"]) for r in counted}
    events = _table(spark, lake, "silver.telematics__violation_events")
    if events is not None and keys:
        ev = (
            events.where(F.col("day").between(start, end))
            .join(own.select("plate", "plate_color"), ["plate", "plate_color"])
            .orderBy("start_at", "plate", "kind")
            .select(
                "event_id",
                "kind",
                "plate",
                "plate_color",
                "start_at",
                "end_at",
                "points",
                "max_speed",
                "limit_kmh",
                "minutes",
                "lon",
                "lat",
                "detail",
            )  # fmt: skip
            .collect()
        )
        out["events"] = [{k: _clean(_iso(v)) for k, v in e.asDict().items()} for e in ev]
    if level in ("enterprise", "platform"):
        checks = _table(spark, lake, "silver.telematics__platform_checks")
        if checks is not None:
            limit_s = rules["checks"]["response_limit_min"] * 60
            col = "enterprise_id" if level == "enterprise" else "platform_id"
            rows_c = (
                checks.where((F.col(col) == subject_id) & F.to_date("sent_at").between(start, end))
                .orderBy("sent_at", "check_id")
                .select("check_id", "sent_at", "answered_at", "response_s")
                .collect()
            )
            out["checks"] = [
                {**{k: _iso(v) for k, v in c.asDict().items()},
                 "answered_in_time": c["response_s"] is not None and c["response_s"] <= limit_s}
                for c in rows_c
            ]  # fmt: skip
    return out


def _records_evidence(spark, lake, level, subject_id, own, start, end) -> dict[str, Any]:
    """Records received / qualified and unqualified records by rule for the subject."""
    counts = _table(spark, lake, "silver.telematics__record_counts")
    quarantine = _table(spark, lake, "quarantine.telematics__positions")
    out: dict[str, Any] = {}
    if counts is None:
        return out
    in_period = counts.where(F.col("day").between(start, end))
    keys = own.select("plate", "plate_color")
    if level == "platform":
        mine = in_period.where(F.col("platform_id") == subject_id)
        known = mine.join(
            keys.select("plate", "plate_color"), ["plate", "plate_color"], "left_semi"
        )
        unknown = mine.join(known.select("plate", "plate_color"), ["plate", "plate_color"],
                            "left_anti")  # fmt: skip
        out["unknown_vehicle_records"] = int(
            unknown.agg(F.coalesce(F.sum("records"), F.lit(0))).first()[0]
        )
    else:
        mine = in_period.join(keys, ["plate", "plate_color"], "left_semi")
    agg = mine.agg(
        F.coalesce(F.sum("records"), F.lit(0)), F.coalesce(F.sum("qualified_records"), F.lit(0))
    ).first()
    out["records"], out["qualified_records"] = int(agg[0]), int(agg[1])
    if quarantine is not None:
        q = quarantine.where(F.coalesce("day", F.to_date("received_at")).between(start, end))
        if level == "platform":
            q = q.where(F.col("platform_id") == subject_id)
        else:
            q = q.join(keys, ["plate", "plate_color"], "left_semi")
        by_rule = (
            q.select(F.explode("failed_rules").alias("rule"))
            .groupBy("rule")
            .count()
            .orderBy("rule")
            .collect()
        )
        out["failed_records_by_rule"] = {r["rule"]: r["count"] for r in by_rule}
    return out


def _iso(value: Any) -> Any:
    if isinstance(value, dt.datetime):
        return value.isoformat(sep=" ")
    if isinstance(value, dt.date):
        return value.isoformat()
    return value

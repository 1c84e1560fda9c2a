"""Statistics, score and rank per operator and period (freight.md "Statistics per operator",
运行监测), and the daily alarms (预警), over the anomaly view of :mod:`transforms.freight.anomalies`
(``f_anomalies`` with a ``status`` column: withdrawn anomalies are not counted).

A period is a month (``YYYY-MM``) or a day (``YYYY-MM-DD``); rows are attributed by freight.md's
rules: an envelope by its messageSendingDateTime, a waybill by its despatch, an anomaly by its
event_time. Only operators of the senders feed get rows and ranks.

- envelopes, accepted (1001), rejected (any other code);
- waybills = winning versions of accepted waybills; vehicles (plate and colour) and drivers (ID
  number hash) distinct on them; tonnes = Σ goodsItemGrossWeight / 1000; tonne_km = Σ per
  waybill vehicle of its tonnes × the haversine between its loading and receipt county centroids
  (an unknown county: 0, and the waybill counts in ``unknown_distance``); charges_yuan =
  Σ totalMonetaryAmount;
- anomalies_<type>: rows of the type; rate_<type> = waybills with a waybill row of the type /
  waybills (access: access rows / envelopes), 0 when the denominator is 0;
- score = 100 − 100 × Σ weight × rate, clipped to [0, 100]; rank 1 = highest score, ties by
  operator_id.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pyspark.sql import DataFrame, SparkSession

from transforms.freight.anomalies import TYPES, haversine

FORMATS = {"month": "yyyy-MM", "day": "yyyy-MM-dd"}


def granularity(period: str) -> str:
    """``month`` for ``YYYY-MM``, ``day`` for ``YYYY-MM-DD``; a ValueError otherwise."""
    import re

    if re.fullmatch(r"\d{4}-\d{2}", period):
        return "month"
    if re.fullmatch(r"\d{4}-\d{2}-\d{2}", period):
        return "day"
    raise ValueError(f"period {period!r} is neither YYYY-MM nor YYYY-MM-DD")


def statistics_sql(rules: Mapping[str, Any], grain: str) -> str:
    """SQL of the statistics of every operator and period of ``grain`` (month / day)."""
    fmt = FORMATS[grain]
    p = lambda column: f"DATE_FORMAT({column}, '{fmt}')"  # noqa: E731
    radius = float(rules["geo"]["earth_radius_km"])
    weights = rules["scoring"]["weights"]
    digits = int(rules["scoring"]["score_digits"])
    rate_digits = int(rules["scoring"]["rate_digits"])
    distance = haversine("lo.lon", "lo.lat", "re.lon", "re.lat", radius)
    counts = ",\n  ".join(
        f"SUM(CASE WHEN anomaly_type = '{t}' THEN 1 ELSE 0 END) AS anomalies_{t},\n  "
        f"COUNT(DISTINCT CASE WHEN anomaly_type = '{t}' AND document_kind = 'waybill' "
        f"THEN document_key END) AS waybills_{t}"
        for t in TYPES
    )
    rates = ",\n  ".join(
        f"CAST(ROUND(COALESCE(COALESCE(a.{'anomalies' if t == 'access' else 'waybills'}_{t}, 0)"
        f" / NULLIF({'e.envelopes' if t == 'access' else 'w.waybills'}, 0), 0.0), {rate_digits})"
        f" AS DOUBLE) AS rate_{t}"
        for t in TYPES
    )
    penalty = " + ".join(f"{float(weights[t])} * rate_{t}" for t in TYPES)
    return f"""
WITH operators AS (
  SELECT enterprise_sender_code AS operator_id, MAX(name) AS operator_name
  FROM f_senders GROUP BY enterprise_sender_code
), envelopes AS (
  SELECT enterprise_sender_code AS operator_id, {p("message_sending_time")} AS period,
         COUNT(*) AS envelopes, SUM(CASE WHEN result_code = 1001 THEN 1 ELSE 0 END) AS accepted,
         SUM(CASE WHEN result_code <> 1001 THEN 1 ELSE 0 END) AS rejected
  FROM f_envelopes WHERE message_sending_time IS NOT NULL GROUP BY 1, 2
), trips AS (
  SELECT v.waybill_key, v.operator_id, {p("v.despatch_time")} AS period,
         CONCAT(v.vehicle_number, '-', CAST(CAST(v.plate_color AS INT) AS STRING)) AS vehicle,
         COALESCE(v.gross_weight_kg, 0) / 1000.0 * COALESCE({distance}, 0) AS tonne_km,
         CASE WHEN lo.lon IS NULL OR re.lon IS NULL THEN 1 ELSE 0 END AS unknown
  FROM f_waybill_vehicles v
  LEFT JOIN f_divisions lo ON lo.code = v.loading_county AND lo.lon IS NOT NULL
  LEFT JOIN f_divisions re ON re.code = v.receipt_county AND re.lon IS NOT NULL
), waybills AS (
  SELECT w.operator_id, {p("w.despatch_time")} AS period, COUNT(*) AS waybills,
         COALESCE(SUM(w.gross_weight_kg), 0) / 1000.0 AS tonnes,
         CAST(COALESCE(SUM(w.total_monetary_amount), 0) AS DOUBLE) AS charges_yuan
  FROM f_waybills w WHERE w.despatch_time IS NOT NULL GROUP BY 1, 2
), trip_totals AS (
  SELECT operator_id, period, COUNT(DISTINCT vehicle) AS vehicles, SUM(tonne_km) AS tonne_km,
         COUNT(DISTINCT CASE WHEN unknown = 1 THEN waybill_key END) AS unknown_distance
  FROM trips GROUP BY 1, 2
), drivers AS (
  SELECT w.operator_id, {p("w.despatch_time")} AS period,
         COUNT(DISTINCT d.driving_license_hmac) AS drivers
  FROM f_waybill_drivers d JOIN f_waybills w ON w.waybill_key = d.waybill_key GROUP BY 1, 2
), anomalies AS (
  SELECT operator_id, {p("event_time")} AS period,
  {counts}
  FROM f_anomalies WHERE status <> 'withdrawn' GROUP BY 1, 2
), periods AS (
  SELECT operator_id, period FROM envelopes UNION SELECT operator_id, period FROM waybills
  UNION SELECT operator_id, period FROM anomalies
), measured AS (
  SELECT o.operator_id, o.operator_name, s.period,
    COALESCE(e.envelopes, 0) AS envelopes, COALESCE(e.accepted, 0) AS accepted,
    COALESCE(e.rejected, 0) AS rejected, COALESCE(w.waybills, 0) AS waybills,
    COALESCE(t.vehicles, 0) AS vehicles, COALESCE(d.drivers, 0) AS drivers,
    ROUND(COALESCE(w.tonnes, 0), 3) AS tonnes, ROUND(COALESCE(t.tonne_km, 0), 3) AS tonne_km,
    ROUND(COALESCE(w.charges_yuan, 0), 2) AS charges_yuan,
    {", ".join(f"COALESCE(a.anomalies_{t}, 0) AS anomalies_{t}" for t in TYPES)},
    COALESCE(t.unknown_distance, 0) AS unknown_distance,
    {rates}
  FROM periods s JOIN operators o ON o.operator_id = s.operator_id
  LEFT JOIN envelopes e ON e.operator_id = s.operator_id AND e.period = s.period
  LEFT JOIN waybills w ON w.operator_id = s.operator_id AND w.period = s.period
  LEFT JOIN trip_totals t ON t.operator_id = s.operator_id AND t.period = s.period
  LEFT JOIN drivers d ON d.operator_id = s.operator_id AND d.period = s.period
  LEFT JOIN anomalies a ON a.operator_id = s.operator_id AND a.period = s.period
), scored AS (
  SELECT *,
    CAST(ROUND(GREATEST(0.0, LEAST(100.0, 100.0 - 100.0 * ({penalty}))), {digits}) AS DOUBLE)
      AS score
  FROM measured
)
SELECT *, RANK() OVER (PARTITION BY period ORDER BY score DESC, operator_id) AS rank
FROM scored"""


def alarms_sql(rules: Mapping[str, Any]) -> str:
    """SQL of the operator-days whose anomalies / waybills exceed the alarm threshold (an
    operator-day with anomalies and no waybill is one too)."""
    threshold = float(rules["alarm"]["max_anomaly_rate"])
    total = " + ".join(f"anomalies_{t}" for t in TYPES)
    return f"""
SELECT operator_id, operator_name, period AS day, waybills, {total} AS anomalies,
       CAST(ROUND(({total}) / NULLIF(waybills, 0), 6) AS DOUBLE) AS anomaly_rate,
       CAST({threshold} AS DOUBLE) AS threshold
FROM f_statistics_day
WHERE ({total}) > 0 AND COALESCE(({total}) / NULLIF(waybills, 0) > {threshold}, TRUE)"""


def compute(spark: SparkSession, rules: Mapping[str, Any], grain: str) -> DataFrame:
    """The statistics of every operator and period of ``grain`` (the anomaly views registered)."""
    return spark.sql(statistics_sql(rules, grain))

"""The compared work of the benchmark, defined once for every engine.

Every engine starts from the same inputs — the current snapshot of silver positions, quarantine,
vehicles, routes and regions (Parquet files listed by the Delta log) — and does the same work:

1. per-vehicle-day facts, violation events and record counts (our code:
   ``transforms.telematics.facts``; JVM Spark runs that very code; DuckDB runs its SQL port,
   ``orchestration/bench/duckdb_baseline.py``, which a test proves equal);
2. the monthly indicators per county from those facts: :data:`MONTHLY_INDICATORS`, one SQL text that
   Sail, Apache Spark and DuckDB all accept.

The raw scan (:data:`RAW_SCAN`) reads the columns that work needs and sums them: the floor any
engine pays before computing anything.
"""

from __future__ import annotations

# Inputs: views `facts` (vehicle_day_facts), `counts` (record_counts), `vehicles` (silver vehicle
# history; the current version attributes a vehicle to its county). Portable: no dialect-specific
# date functions, NULLIF guards every division (Sail raises on division by zero), ratios in DOUBLE
# (Spark would compute `x * 1.0 / y` in DECIMAL and round differently).
MONTHLY_INDICATORS = """
WITH v AS (
    SELECT plate, plate_color, county_code FROM vehicles WHERE is_current
),
vehicle_months AS (
    SELECT year(f.day) * 100 + month(f.day) AS month, v.county_code, f.plate, f.plate_color,
           SUM(f.total_km) AS km,
           SUM(f.complete_km) AS complete_km,
           MAX(CASE WHEN f.is_drift_day THEN 1 ELSE 0 END) AS drift,
           SUM(f.overspeed_events) AS overspeed_events,
           SUM(f.fatigue_minutes) AS fatigue_minutes
    FROM facts f
    JOIN v ON f.plate = v.plate AND f.plate_color = v.plate_color
    GROUP BY year(f.day) * 100 + month(f.day), v.county_code, f.plate, f.plate_color
),
county_records AS (
    SELECT year(c.day) * 100 + month(c.day) AS month, v.county_code,
           SUM(c.records) AS records, SUM(c.qualified_records) AS qualified_records
    FROM counts c
    JOIN v ON c.plate = v.plate AND c.plate_color = v.plate_color
    GROUP BY year(c.day) * 100 + month(c.day), v.county_code
),
county_months AS (
    SELECT month, county_code,
           COUNT(*) AS vehicles,
           SUM(complete_km) / NULLIF(SUM(km), 0) AS track_completeness_rate,
           CAST(SUM(drift) AS DOUBLE) / COUNT(*) AS drift_vehicle_rate,
           CAST(SUM(overspeed_events) AS DOUBLE) / COUNT(*) AS mean_overspeed_count,
           SUM(fatigue_minutes) / COUNT(*) AS mean_fatigue_minutes
    FROM vehicle_months
    GROUP BY month, county_code
)
SELECT m.month, m.county_code, m.vehicles,
       ROUND(m.track_completeness_rate, 6) AS track_completeness_rate,
       ROUND(CAST(r.qualified_records AS DOUBLE) / NULLIF(r.records, 0), 6) AS data_qualification_rate,
       ROUND(m.drift_vehicle_rate, 6) AS drift_vehicle_rate,
       ROUND(m.mean_overspeed_count, 6) AS mean_overspeed_count,
       ROUND(m.mean_fatigue_minutes, 6) AS mean_fatigue_minutes
FROM county_months m
LEFT JOIN county_records r ON r.month = m.month AND r.county_code = m.county_code
ORDER BY m.month, m.county_code
"""

# Input: view `positions` (silver positions). The columns the facts read, each summed.
RAW_SCAN = """
SELECT COUNT(*) AS n, COUNT(plate) AS plates, SUM(plate_color) AS colors, SUM(lon) AS lon,
       SUM(lat) AS lat, SUM(speed) AS speed, MAX(gnss_time) AS last_time
FROM positions
"""

INDICATOR_COLUMNS = [
    "month",
    "county_code",
    "vehicles",
    "track_completeness_rate",
    "data_qualification_rate",
    "drift_vehicle_rate",
    "mean_overspeed_count",
    "mean_fatigue_minutes",
]


def same_indicators(ours: list[tuple], theirs: list[tuple], tolerance: float = 2e-6) -> bool:
    """Equal keys and counts, rates within ``tolerance`` (engines may round a last digit apart)."""
    if len(ours) != len(theirs):
        return False
    for a, b in zip(ours, theirs, strict=True):
        if a[:3] != tuple(b[:3]):
            return False
        for x, y in zip(a[3:], b[3:], strict=True):
            if (x is None) != (y is None) or (x is not None and abs(x - y) > tolerance):
                return False
    return True


def normalise(rows: list[tuple]) -> list[tuple]:
    """Indicator rows comparable across engines: ints as int, rates to 6 decimals, sorted."""
    out = []
    for row in rows:
        month, county, vehicles, *rates = row
        out.append(
            (
                int(month),
                str(county),
                int(vehicles),
                *(None if r is None else round(float(r), 6) for r in rates),
            )
        )
    return sorted(out, key=lambda r: (r[0], r[1]))

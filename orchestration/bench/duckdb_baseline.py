"""The DuckDB baseline of the engine benchmark: per-vehicle-day facts in plain DuckDB SQL.

The same logic as :mod:`transforms.telematics.facts` (``build_facts``, ``record_counts``) fed as
:func:`transforms.telematics.jobs.facts.publish_facts` feeds it, but read straight from the Parquet files of
the current Delta snapshot of the silver tables and written to three Parquet files. It exists so
that engines are compared on identical work: tests/orchestration/bench/test_duckdb_baseline.py proves that its
output equals the Spark-built tables row for row.

The SQL mirrors the Spark code step by step: one view per step, named after the Spark function it
mirrors; rules become DuckDB variables (``getvariable``); the geometry of
:mod:`transforms.telematics.geometry` becomes macros doing the same arithmetic in the same order, so
the doubles (and the rounded values in the event details) come out the same. What several steps
read (points, segments, sessions, events) is a temp table, computed once, and windows partition on
``vehicle_day``, one integer per vehicle-day, rather than on (day, plate, plate_color).

Times: the lake stores GMT+8 wall-clock as UTC-typed timestamps and Spark runs in UTC. Here the
session is in UTC too, and the inputs' timestamps become plain TIMESTAMPs of their UTC reading, so
``hour()``, ``CAST(… AS DATE)`` and ``strftime`` give the Beijing hour, day and text without a
time-zone lookup per row; the outputs are UTC-typed again.
"""

from __future__ import annotations

import datetime as dt
import tempfile
from pathlib import Path
from typing import Any

import duckdb
from deltalake import DeltaTable
from pyspark.sql import types as T

from transforms.telematics.facts import (
    DEFAULT_REGION_VEHICLE_TYPES,
    DEFAULT_ROUTE_VEHICLE_TYPES,
    DETAIL_DECIMALS,
    EVENT_SCHEMA,
    FACT_SCHEMA,
    FOLDER_DATE_PATTERN,
    LIMIT_DECIMALS,
    NO_END_DATE,
    RECORD_COUNT_SCHEMA,
    SECONDS_PER_HOUR,
    first_version_covers_earlier_days,
    night_intervals,
)
from transforms.telematics.jobs.facts import (
    POSITIONS_SCHEMA,
    POSITIONS_TABLE,
    QUARANTINE_SCHEMA,
    QUARANTINE_TABLE,
    REGIONS_SCHEMA,
    REGIONS_TABLE,
    ROUTES_SCHEMA,
    ROUTES_TABLE,
    VEHICLES_SCHEMA,
    VEHICLES_TABLE,
    table_location,
)

# DuckDB view of each input: (table name, the columns publish_facts reads)
INPUTS: dict[str, tuple[str, T.StructType]] = {
    "positions": (POSITIONS_TABLE, POSITIONS_SCHEMA),
    "quarantine": (QUARANTINE_TABLE, QUARANTINE_SCHEMA),
    "vehicles": (VEHICLES_TABLE, VEHICLES_SCHEMA),
    "routes": (ROUTES_TABLE, ROUTES_SCHEMA),
    "regions": (REGIONS_TABLE, REGIONS_SCHEMA),
}
# output file stem (= the view computing it) → the schema of the Spark-built table
OUTPUTS: dict[str, T.StructType] = {
    "vehicle_day_facts": FACT_SCHEMA,
    "violation_events": EVENT_SCHEMA,
    "record_counts": RECORD_COUNT_SCHEMA,
}
# Spark → DuckDB types of the outputs: timestamps UTC-typed (GMT+8 wall-clock), as in the lake
DUCKDB_TYPES: dict[T.DataType, str] = {
    T.StringType(): "VARCHAR",
    T.IntegerType(): "INTEGER",
    T.LongType(): "BIGINT",
    T.DoubleType(): "DOUBLE",
    T.BooleanType(): "BOOLEAN",
    T.DateType(): "DATE",
    T.TimestampType(): "TIMESTAMPTZ",
}

MACROS = r"""
-- helpers of transforms/telematics/facts.py
CREATE TEMP MACRO unix_seconds(ts) AS CAST(floor(epoch_us(ts) / 1000000) AS BIGINT);
CREATE TEMP MACRO duration_minutes(start_at, end_at) AS
    (unix_seconds(end_at) - unix_seconds(start_at)) / 60.0::DOUBLE;
-- _at_second_of_day: the timestamp sod seconds after the day's midnight
CREATE TEMP MACRO at_second_of_day(day, sod) AS CAST(day AS TIMESTAMP) + to_seconds(sod);
-- is_night: night.start_hour ≤ h or h < night.end_hour (an interval when start < end)
CREATE TEMP MACRO is_night(h) AS CASE
    WHEN getvariable('night_start_hour') > getvariable('night_end_hour')
        THEN h >= getvariable('night_start_hour') OR h < getvariable('night_end_hour')
    ELSE h >= getvariable('night_start_hour') AND h < getvariable('night_end_hour') END;
-- events: sha1(kind|plate|plate_color|start_at as 'yyyy-MM-dd HH:mm:ss')
CREATE TEMP MACRO event_id(kind, plate, plate_color, start_at) AS sha1(concat_ws('|',
    kind, plate, CAST(plate_color AS VARCHAR), strftime(start_at, '%Y-%m-%d %H:%M:%S')));
CREATE TEMP MACRO rounded(x) AS round(x, getvariable('detail_decimals'));
CREATE TEMP MACRO valid_on(_from, _to, d) AS  -- a geometry version is valid on day d
    (_from IS NULL OR _from <= d) AND (_to IS NULL OR d < _to);

-- transforms/telematics/geometry.py, operation for operation
CREATE TEMP MACRO haversine_km(lat1, lon1, lat2, lon2) AS
    2 * getvariable('earth_radius_km') * asin(sqrt(
        pow(sin(radians(lat2 - lat1) / 2), 2)
        + cos(radians(lat1)) * cos(radians(lat2)) * pow(sin(radians(lon2 - lon1) / 2), 2)));
-- point_segment_km: equirectangular around the point (A and B relative to it, km), the
-- projection parameter onto A–B clamped to [0, 1]; a degenerate segment is its point A
CREATE TEMP MACRO east_km(lon_v, lon, lat) AS
    (lon_v - lon) * cos(radians(lat)) * getvariable('km_per_deg');
CREATE TEMP MACRO north_km(lat_v, lat) AS (lat_v - lat) * getvariable('km_per_deg');
CREATE TEMP MACRO clamped_projection(ax, ay, dx, dy) AS coalesce(least(greatest(
    -(ax * dx + ay * dy) / CASE WHEN dx * dx + dy * dy > 0 THEN dx * dx + dy * dy END,
    0.0::DOUBLE), 1.0::DOUBLE), 0.0::DOUBLE);
CREATE TEMP MACRO nearest_km(ax, ay, dx, dy, t) AS
    sqrt((ax + t * dx) * (ax + t * dx) + (ay + t * dy) * (ay + t * dy));
CREATE TEMP MACRO relative_segment_km(ax, ay, dx, dy) AS
    nearest_km(ax, ay, dx, dy, clamped_projection(ax, ay, dx, dy));
CREATE TEMP MACRO point_segment_km(lon, lat, lon_a, lat_a, lon_b, lat_b) AS relative_segment_km(
    east_km(lon_a, lon, lat),
    north_km(lat_a, lat),
    east_km(lon_b, lon, lat) - east_km(lon_a, lon, lat),
    north_km(lat_b, lat) - north_km(lat_a, lat));
-- ray_crosses: a ray from the point towards +lon crosses the edge i–j
CREATE TEMP MACRO ray_crosses(lon, lat, lon_i, lat_i, lon_j, lat_j) AS coalesce(
    ((lat_i > lat) != (lat_j > lat))
    AND lon < (lon_j - lon_i) * (lat - lat_i) / CASE WHEN lat_j != lat_i THEN lat_j - lat_i END
              + lon_i,
    false);
"""

PIPELINE = r"""
-- publish_facts: the requested days, else every day of positions or quarantine
CREATE TEMP VIEW quarantine_dated AS  -- quarantine_day()
SELECT *, coalesce(
        day,
        CAST(gnss_time AS DATE),
        CAST(received_at AS DATE),
        TRY_CAST(nullif(regexp_extract(_source_file, getvariable('folder_date_pattern'), 1), '')
                 AS DATE),
        CAST(_landed_at AS DATE)) AS quarantine_day
FROM quarantine;
CREATE TEMP TABLE days AS
SELECT UNNEST(getvariable('days')) AS day WHERE getvariable('days') IS NOT NULL
UNION
SELECT day FROM (SELECT day FROM positions UNION SELECT quarantine_day FROM quarantine_dated)
WHERE getvariable('days') IS NULL AND day IS NOT NULL;
CREATE TEMP VIEW day_positions AS SELECT * FROM positions WHERE day IN (SELECT day FROM days);
CREATE TEMP VIEW day_quarantine AS
SELECT * FROM quarantine_dated WHERE quarantine_day IN (SELECT day FROM days);

-- vehicle_points: qualified points of known vehicles with the version valid that day
-- (valid_from ≤ day < coalesce(valid_to, ∞); of two, the one that started last)
-- vehicle_day: the vehicle-day as one integer, the partition of every window below (sorting on
-- it is much cheaper than on day, plate, plate_color)
CREATE TEMP VIEW vehicle_days AS
SELECT *, row_number() OVER () AS vehicle_day
FROM (SELECT DISTINCT CAST(gnss_time AS DATE) AS day, plate, plate_color FROM day_positions);
-- route and region versions with open bounds (geometry_versions): with first_version_covers,
-- a key's first version also covers the days before it (_from null); the current one has _to null
CREATE TEMP VIEW route_versions AS
SELECT *, CASE WHEN NOT getvariable('first_version_covers')
                    OR valid_from > min(valid_from) OVER (PARTITION BY route_id)
               THEN valid_from END AS _from,
       valid_to AS _to
FROM routes;
CREATE TEMP VIEW region_versions AS
SELECT *, CASE WHEN NOT getvariable('first_version_covers')
                    OR valid_from > min(valid_from) OVER (PARTITION BY region_id)
               THEN valid_from END AS _from,
       valid_to AS _to
FROM regions;
CREATE TEMP VIEW valid_versions AS
SELECT d.vehicle_day, d.day, d.plate, d.plate_color, v.vehicle_type, v.speed_limit_kmh, v.route_id,
       v.region_id,
       coalesce(v.route_exempt, false)
       OR coalesce(r.length_km <= getvariable('exempt_max_km'), false) AS route_exempt
FROM vehicle_days d
JOIN vehicles v ON v.plate = d.plate AND v.plate_color = d.plate_color
LEFT JOIN route_versions r ON r.route_id = v.route_id AND valid_on(r._from, r._to, d.day)
WHERE v.valid_from <= d.day AND d.day < coalesce(v.valid_to, getvariable('no_end_date'))
QUALIFY row_number() OVER (PARTITION BY d.day, d.plate, d.plate_color
                           ORDER BY v.valid_from DESC) = 1;
CREATE TEMP TABLE points AS  -- materialised: every rule reads it
SELECT v.vehicle_day, p.day, p.plate, p.plate_color, p.gnss_time,
       unix_seconds(p.gnss_time) AS t,
       CAST(hour(p.gnss_time) * 3600 + minute(p.gnss_time) * 60 + second(p.gnss_time)
            AS BIGINT) AS sod,
       p.lon, p.lat, p.speed,
       v.vehicle_type, v.speed_limit_kmh, v.route_id, v.region_id, v.route_exempt
FROM (SELECT CAST(gnss_time AS DATE) AS day, plate, plate_color, gnss_time, lon, lat, speed
      FROM day_positions) p
JOIN valid_versions v USING (day, plate, plate_color);

-- segments: consecutive point pairs of a vehicle-day; broken (> track.max_gap_km) and drift
-- jumps (≥ drift.min_km at an implied speed > drift.max_kmh, Δt = 0 being infinite)
CREATE TEMP VIEW point_pairs AS
SELECT * FROM (
    SELECT day, plate, plate_color,
           lag(gnss_time) OVER w AS start_at, gnss_time AS end_at,
           lag(lon) OVER w AS lon, lag(lat) OVER w AS lat,
           lag(speed) OVER w AS prev_speed, lag(t) OVER w AS prev_t,
           lon AS lon2, lat AS lat2, speed, t
    FROM points
    WINDOW w AS (PARTITION BY vehicle_day ORDER BY gnss_time))
WHERE start_at IS NOT NULL;
CREATE TEMP VIEW measured_pairs AS
SELECT *,
       haversine_km(lat, lon, lat2, lon2) AS length_km,
       t - prev_t AS duration_s
FROM point_pairs;
CREATE TEMP TABLE segments AS  -- materialised: drift events and the facts read it
SELECT day, plate, plate_color, start_at, end_at, lon, lat,
       greatest(prev_speed, speed) AS max_speed,
       length_km, duration_s, implied_kmh, is_broken, is_drift,
       CASE WHEN is_broken OR is_drift THEN length_km ELSE 0.0::DOUBLE END AS broken_km
FROM (
    SELECT *,
           length_km > getvariable('max_gap_km') AS is_broken,
           length_km >= getvariable('drift_min_km')
           AND (duration_s <= 0 OR implied_kmh > getvariable('drift_max_kmh')) AS is_drift
    FROM (SELECT *,
                 length_km * 3600 / CASE WHEN duration_s > 0 THEN duration_s END AS implied_kmh
          FROM measured_pairs));

-- drift_jump_events: one per jump; to_json leaves out null fields (Δt = 0: no implied speed)
CREATE TEMP VIEW drift_jump_events AS
SELECT day, plate, plate_color, 'drift_jump' AS kind, start_at, end_at, 2 AS points, max_speed,
       NULL AS limit_kmh, duration_minutes(start_at, end_at) AS minutes, lon, lat,
       CASE WHEN implied_kmh IS NULL THEN json_object('jump_km', rounded(length_km))
            ELSE json_object('jump_km', rounded(length_km), 'implied_kmh', rounded(implied_kmh))
       END AS detail
FROM segments WHERE is_drift;

-- overspeed_limit: speed_limit_kmh, × night_factor at night for the night vehicle types
CREATE TEMP VIEW overspeed_points AS
SELECT *, coalesce(speed > limit_kmh, false) AS _over
FROM (
    SELECT vehicle_day, day, plate, plate_color, gnss_time, lon, lat, speed,
           CASE WHEN is_night(hour(gnss_time))
                     AND list_contains(getvariable('overspeed_night_types'), vehicle_type)
                THEN round(speed_limit_kmh * getvariable('night_factor'),
                           getvariable('limit_decimals'))
                ELSE speed_limit_kmh END AS limit_kmh
    FROM points);
-- flag_runs: runs of consecutive points above the limit (gaps and islands)
CREATE TEMP VIEW overspeed_runs AS
SELECT vehicle_day, day, plate, plate_color, _run,
       min(gnss_time) AS start_at, max(gnss_time) AS end_at, count(*) AS points,
       max(speed) AS max_speed,
       arg_min_null(lon, gnss_time) AS lon, arg_min_null(lat, gnss_time) AS lat,
       arg_min_null(limit_kmh, gnss_time) AS limit_kmh
FROM (
    SELECT *,
           row_number() OVER (PARTITION BY vehicle_day ORDER BY gnss_time)
           - row_number() OVER (PARTITION BY vehicle_day, _over ORDER BY gnss_time) AS _run
    FROM overspeed_points)
WHERE _over
GROUP BY vehicle_day, day, plate, plate_color, _run;
-- chains: a run starting < merge_gap_s after the previous one ended continues its chain
CREATE TEMP VIEW overspeed_gaps AS
SELECT *,
       unix_seconds(start_at)
           - unix_seconds(lag(end_at) OVER (PARTITION BY vehicle_day ORDER BY start_at)) AS _gap,
       unix_seconds(end_at) - unix_seconds(start_at)
           > getvariable('overspeed_min_duration_s') AS _long
FROM overspeed_runs;
CREATE TEMP VIEW overspeed_chains AS
SELECT *,
       sum(CASE WHEN _gap < getvariable('overspeed_merge_gap_s') THEN 0 ELSE 1 END) OVER (
           PARTITION BY vehicle_day ORDER BY start_at
           ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS _chain
FROM overspeed_gaps;
-- overspeed_events: each chain from its first run lasting > min_duration_s
CREATE TEMP VIEW overspeed_events AS
SELECT day, plate, plate_color, 'overspeed' AS kind,
       min(start_at) AS start_at, max(end_at) AS end_at, sum(points) AS points,
       max(max_speed) AS max_speed, arg_min_null(limit_kmh, start_at) AS limit_kmh,
       duration_minutes(min(start_at), max(end_at)) AS minutes,
       arg_min_null(lon, start_at) AS lon, arg_min_null(lat, start_at) AS lat,
       json_object('runs', count(*)) AS detail
FROM (
    SELECT *,
           min(CASE WHEN _long THEN start_at END) OVER (
               PARTITION BY vehicle_day, _chain) AS _first_long
    FROM overspeed_chains)
WHERE start_at >= _first_long
GROUP BY vehicle_day, day, plate, plate_color, _chain;

-- driving_sessions: driving points (speed > 0) less than fatigue.rest_min apart form a session
CREATE TEMP VIEW driving_gaps AS
SELECT vehicle_day, day, plate, plate_color, vehicle_type, gnss_time, t, sod, lon, lat, speed,
       t - lag(t) OVER (PARTITION BY vehicle_day ORDER BY gnss_time) AS _gap
FROM points WHERE speed > 0;
CREATE TEMP VIEW driving_points AS
SELECT *,
       sum(CASE WHEN _gap < getvariable('rest_s') THEN 0 ELSE 1 END) OVER (
           PARTITION BY vehicle_day ORDER BY gnss_time
           ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS session
FROM driving_gaps;
-- session span [s, e] in seconds of the day
CREATE TEMP VIEW session_spans AS
SELECT vehicle_day, session, min(sod) AS s, max(sod) AS e
FROM driving_points GROUP BY vehicle_day, session;
-- _fatigue_pieces: (s + day_limit, e] ∪ (night ∩ (s + night_limit, min(e, s + day_limit)))
CREATE TEMP VIEW fatigue_pieces AS
SELECT vehicle_day, session, s + getvariable('day_limit_s') AS lo, e AS hi
FROM session_spans
UNION ALL
SELECT vehicle_day, session,
       greatest(s + getvariable('night_limit_s'), n.start_s),
       least(least(e, s + getvariable('day_limit_s')), n.end_s)
FROM session_spans CROSS JOIN night_intervals n;
CREATE TEMP VIEW session_fatigue AS
SELECT vehicle_day, session,
       sum(greatest(hi - lo, 0)) AS fatigue_s,
       min(lo) FILTER (WHERE hi > lo) AS _from,
       max(hi) FILTER (WHERE hi > lo) AS _to
FROM fatigue_pieces GROUP BY vehicle_day, session;
CREATE TEMP TABLE sessions AS  -- materialised: fatigue, daily driving and the facts read it
SELECT p.day, p.plate, p.plate_color, p.vehicle_type, p.session,
       min(p.gnss_time) AS start_at, max(p.gnss_time) AS end_at, count(*) AS points,
       max(p.speed) AS max_speed,
       arg_min_null(p.lon, p.gnss_time) AS lon, arg_min_null(p.lat, p.gnss_time) AS lat,
       max(p.t) - min(p.t) AS driving_s,
       f.fatigue_s,
       at_second_of_day(p.day, f._from) AS fatigue_start_at,
       at_second_of_day(p.day, f._to) AS fatigue_end_at,
       count(*) FILTER (WHERE p.sod >= f._from AND p.sod <= f._to) AS fatigue_points,
       max(p.speed) FILTER (WHERE p.sod >= f._from AND p.sod <= f._to) AS fatigue_max_speed,
       -- the first driving point at or after the first fatigued instant
       arg_min_null(p.lon, p.gnss_time) FILTER (WHERE p.sod >= f._from) AS fatigue_lon,
       arg_min_null(p.lat, p.gnss_time) FILTER (WHERE p.sod >= f._from) AS fatigue_lat
FROM driving_points p
JOIN session_fatigue f USING (vehicle_day, session)
GROUP BY p.vehicle_day, p.day, p.plate, p.plate_color, p.vehicle_type, p.session,
         f.fatigue_s, f._from, f._to;

-- fatigue_events: a session's fatigued span; minutes = its fatigued minutes
CREATE TEMP VIEW fatigue_events AS
SELECT day, plate, plate_color, 'fatigue' AS kind,
       fatigue_start_at AS start_at, fatigue_end_at AS end_at, fatigue_points AS points,
       fatigue_max_speed AS max_speed, NULL AS limit_kmh, fatigue_s / 60.0::DOUBLE AS minutes,
       fatigue_lon AS lon, fatigue_lat AS lat,
       json_object('session_start_at', strftime(start_at, '%Y-%m-%d %H:%M:%S'),
                   'session_minutes', driving_s / 60.0::DOUBLE) AS detail
FROM sessions WHERE fatigue_s > 0;

-- daily_driving_over_events: buses driving > fatigue.daily_driving_limit_h in the day
CREATE TEMP VIEW daily_driving_over_events AS
SELECT day, plate, plate_color, 'daily_driving_over' AS kind, start_at, end_at, points,
       max_speed, NULL AS limit_kmh, duration_minutes(start_at, end_at) AS minutes, lon, lat,
       json_object('driving_minutes', driving_s / 60.0::DOUBLE,
                   'limit_minutes', getvariable('daily_driving_limit_s') / 60.0::DOUBLE)
           AS detail
FROM (
    SELECT day, plate, plate_color,
           min(start_at) AS start_at, max(end_at) AS end_at, sum(points) AS points,
           max(max_speed) AS max_speed,
           arg_min_null(lon, start_at) AS lon, arg_min_null(lat, start_at) AS lat,
           sum(driving_s) AS driving_s
    FROM sessions
    WHERE list_contains(getvariable('fatigue_bus_types'), vehicle_type)
    GROUP BY day, plate, plate_color)
WHERE driving_s > getvariable('daily_driving_limit_s');

-- bus_night_running_events: 凌晨2–5时 driving of a non-exempt bus, one per vehicle-day
CREATE TEMP VIEW bus_night_running_events AS
SELECT day, plate, plate_color, 'bus_night_running' AS kind,
       min(gnss_time) AS start_at, max(gnss_time) AS end_at, count(*) AS points,
       max(speed) AS max_speed, NULL AS limit_kmh,
       duration_minutes(min(gnss_time), max(gnss_time)) AS minutes,
       arg_min_null(lon, gnss_time) AS lon, arg_min_null(lat, gnss_time) AS lat,
       CASE WHEN first(route_id) IS NULL THEN '{}'::JSON  -- to_json omits null fields
            ELSE json_object('route_id', first(route_id)) END AS detail
FROM points
WHERE list_contains(getvariable('bus_night_types'), vehicle_type)
  AND NOT route_exempt
  AND speed > 0
  AND hour(gnss_time) >= getvariable('bus_night_start_hour')
  AND hour(gnss_time) < getvariable('bus_night_end_hour')
GROUP BY day, plate, plate_color;

-- route_segments: the segments (i, i+1) of each route version's polyline
CREATE TEMP VIEW route_segments AS
SELECT route_id, _from, _to, seg,
       polyline[seg][1] AS lon_a, polyline[seg][2] AS lat_a,
       polyline[seg + 1][1] AS lon_b, polyline[seg + 1][2] AS lat_b
FROM (SELECT route_id, _from, _to, polyline, UNNEST(range(1, len(polyline))) AS seg
      FROM route_versions)
WHERE polyline[seg + 1][1] IS NOT NULL;
-- off_route_events: runs of ≥ route.min_points points > route.corridor_km from the route
CREATE TEMP VIEW route_distances AS
SELECT *, route_km > getvariable('corridor_km') AS _off
FROM (
    SELECT c.vehicle_day, c.day, c.plate, c.plate_color, c.gnss_time, c.lon, c.lat, c.speed,
           c.route_id,
           min(point_segment_km(c.lon, c.lat, s.lon_a, s.lat_a, s.lon_b, s.lat_b)) AS route_km
    FROM points c
    JOIN route_segments s ON s.route_id = c.route_id AND valid_on(s._from, s._to, c.day)
    WHERE list_contains(getvariable('route_types'), c.vehicle_type) AND c.route_id IS NOT NULL
    GROUP BY c.vehicle_day, c.day, c.plate, c.plate_color, c.gnss_time, c.lon, c.lat, c.speed,
             c.route_id);
CREATE TEMP VIEW off_route_events AS
SELECT day, plate, plate_color, 'off_route' AS kind, start_at, end_at, points, max_speed,
       NULL AS limit_kmh, duration_minutes(start_at, end_at) AS minutes, lon, lat,
       json_object('route_id', route_id, 'max_km', max_km) AS detail
FROM (
    SELECT day, plate, plate_color, _run,
           min(gnss_time) AS start_at, max(gnss_time) AS end_at, count(*) AS points,
           max(speed) AS max_speed,
           arg_min_null(lon, gnss_time) AS lon, arg_min_null(lat, gnss_time) AS lat,
           first(route_id) AS route_id, rounded(max(route_km)) AS max_km
    FROM (
        SELECT *,
               row_number() OVER (PARTITION BY vehicle_day ORDER BY gnss_time)
               - row_number() OVER (PARTITION BY vehicle_day, _off ORDER BY gnss_time) AS _run
        FROM route_distances)
    WHERE _off
    GROUP BY day, plate, plate_color, _run)
WHERE points >= getvariable('route_min_points');

-- region_edges: the edges of each region version's ring (closed when last vertex ≠ first)
CREATE TEMP VIEW region_edges AS
SELECT region_id, _from, _to, edge,
       ring[edge][1] AS lon_i, ring[edge][2] AS lat_i,
       ring[edge + 1][1] AS lon_j, ring[edge + 1][2] AS lat_j
FROM (
    SELECT region_id, _from, _to, ring, UNNEST(range(1, len(ring))) AS edge
    FROM (SELECT region_id, _from, _to,
                 CASE WHEN polygon[1] != polygon[-1] THEN list_append(polygon, polygon[1])
                      ELSE polygon END AS ring
          FROM region_versions))
WHERE ring[edge + 1][1] IS NOT NULL;
-- out_of_region_events: runs of ≥ region.min_points points outside (even crossing count)
CREATE TEMP VIEW region_locations AS
SELECT *, _crossings % 2 = 0 AS _outside
FROM (
    SELECT c.vehicle_day, c.day, c.plate, c.plate_color, c.gnss_time, c.lon, c.lat, c.speed,
           c.region_id,
           sum(CASE WHEN ray_crosses(c.lon, c.lat, e.lon_i, e.lat_i, e.lon_j, e.lat_j)
                    THEN 1 ELSE 0 END) AS _crossings
    FROM points c
    JOIN region_edges e ON e.region_id = c.region_id AND valid_on(e._from, e._to, c.day)
    WHERE list_contains(getvariable('region_types'), c.vehicle_type)
      AND c.region_id IS NOT NULL
    GROUP BY c.vehicle_day, c.day, c.plate, c.plate_color, c.gnss_time, c.lon, c.lat, c.speed,
             c.region_id);
CREATE TEMP VIEW out_of_region_events AS
SELECT day, plate, plate_color, 'out_of_region' AS kind, start_at, end_at, points, max_speed,
       NULL AS limit_kmh, duration_minutes(start_at, end_at) AS minutes, lon, lat,
       json_object('region_id', region_id) AS detail
FROM (
    SELECT day, plate, plate_color, _run,
           min(gnss_time) AS start_at, max(gnss_time) AS end_at, count(*) AS points,
           max(speed) AS max_speed,
           arg_min_null(lon, gnss_time) AS lon, arg_min_null(lat, gnss_time) AS lat,
           first(region_id) AS region_id
    FROM (
        SELECT *,
               row_number() OVER (PARTITION BY vehicle_day ORDER BY gnss_time)
               - row_number() OVER (PARTITION BY vehicle_day, _outside ORDER BY gnss_time)
               AS _run
        FROM region_locations)
    WHERE _outside
    GROUP BY day, plate, plate_color, _run)
WHERE points >= getvariable('region_min_points');

-- build_facts: all events (materialised: written out and counted into the facts)
CREATE TEMP TABLE violation_events AS
SELECT event_id(kind, plate, plate_color, start_at) AS event_id,
       day, plate, plate_color, kind, start_at, end_at, points, max_speed, limit_kmh, minutes,
       lon, lat, CAST(detail AS VARCHAR) AS detail
FROM (
    SELECT * FROM overspeed_events
    UNION ALL BY NAME SELECT * FROM fatigue_events
    UNION ALL BY NAME SELECT * FROM bus_night_running_events
    UNION ALL BY NAME SELECT * FROM off_route_events
    UNION ALL BY NAME SELECT * FROM out_of_region_events
    UNION ALL BY NAME SELECT * FROM drift_jump_events
    UNION ALL BY NAME SELECT * FROM daily_driving_over_events);

CREATE TEMP VIEW fact_base AS
SELECT day, plate, plate_color, first(vehicle_type) AS vehicle_type,
       count(*) AS qualified_points
FROM points GROUP BY day, plate, plate_color;
CREATE TEMP VIEW fact_track AS
SELECT day, plate, plate_color, sum(length_km) AS total_km, sum(broken_km) AS broken_km,
       count(*) FILTER (WHERE is_drift) AS drift_jumps
FROM segments GROUP BY day, plate, plate_color;
CREATE TEMP VIEW fact_driving AS
SELECT day, plate, plate_color, sum(driving_s) AS driving_s, sum(fatigue_s) AS fatigue_s
FROM sessions GROUP BY day, plate, plate_color;
CREATE TEMP VIEW fact_flags AS
SELECT day, plate, plate_color,
       count(*) FILTER (WHERE kind = 'overspeed') AS overspeed_events,
       count(*) FILTER (WHERE kind = 'bus_night_running') > 0 AS bus_night_running,
       count(*) FILTER (WHERE kind = 'off_route') > 0 AS off_route,
       count(*) FILTER (WHERE kind = 'out_of_region') > 0 AS out_of_region,
       count(*) FILTER (WHERE kind = 'daily_driving_over') > 0 AS daily_driving_over
FROM violation_events GROUP BY day, plate, plate_color;
CREATE TEMP VIEW vehicle_day_facts AS
SELECT day, plate, plate_color, vehicle_type, qualified_points, total_km, broken_km,
       total_km - broken_km AS complete_km,
       drift_jumps, drift_jumps >= getvariable('drift_min_jumps') AS is_drift_day,
       overspeed_events, driving_minutes, fatigue_minutes,
       bus_night_running, off_route, out_of_region, daily_driving_over,
       overspeed_events > 0 OR fatigue_minutes > 0 OR bus_night_running OR off_route
       OR out_of_region AS has_violation
FROM (
    SELECT day, plate, plate_color, b.vehicle_type, b.qualified_points,
           coalesce(t.total_km, 0.0::DOUBLE) AS total_km,
           coalesce(t.broken_km, 0.0::DOUBLE) AS broken_km,
           coalesce(t.drift_jumps, 0) AS drift_jumps,
           coalesce(f.overspeed_events, 0) AS overspeed_events,
           coalesce(d.driving_s, 0) / 60.0::DOUBLE AS driving_minutes,
           coalesce(d.fatigue_s, 0) / 60.0::DOUBLE AS fatigue_minutes,
           coalesce(f.bus_night_running, false) AS bus_night_running,
           coalesce(f.off_route, false) AS off_route,
           coalesce(f.out_of_region, false) AS out_of_region,
           coalesce(f.daily_driving_over, false) AS daily_driving_over
    FROM fact_base b
    LEFT JOIN fact_track t USING (day, plate, plate_color)
    LEFT JOIN fact_driving d USING (day, plate, plate_color)
    LEFT JOIN fact_flags f USING (day, plate, plate_color));

-- record_counts: every record received, deduplicated on (plate, plate_color, gnss_time) across
-- silver and quarantine: last received wins, then the qualified copy, then the last landed
CREATE TEMP VIEW received_records AS
SELECT CAST(gnss_time AS DATE) AS day, platform_id, plate, plate_color, gnss_time,
       received_at, true AS qualified, _landed_at, _file_sm3, _line
FROM day_positions
UNION ALL
SELECT quarantine_day AS day, platform_id, plate, plate_color, gnss_time,
       received_at, false AS qualified, _landed_at, _file_sm3, _line
FROM day_quarantine;
CREATE TEMP VIEW counted_records AS
SELECT * FROM received_records
WHERE plate IS NOT NULL AND plate_color IS NOT NULL AND gnss_time IS NOT NULL
QUALIFY row_number() OVER (
    PARTITION BY plate, plate_color, gnss_time
    ORDER BY received_at DESC NULLS LAST, qualified DESC, _landed_at DESC NULLS LAST,
             _file_sm3 DESC NULLS LAST, _line DESC NULLS LAST) = 1
UNION ALL  -- without a full key each row counts once
SELECT * FROM received_records
WHERE NOT (plate IS NOT NULL AND plate_color IS NOT NULL AND gnss_time IS NOT NULL);
CREATE TEMP VIEW record_counts AS
SELECT day, platform_id, plate, plate_color, count(*) AS records,
       sum(CASE WHEN qualified THEN 1 ELSE 0 END) AS qualified_records
FROM counted_records GROUP BY day, platform_id, plate, plate_color;
"""


def duckdb_type(spark_type: T.DataType, wall_clock: bool = False) -> str:
    """The DuckDB spelling of a Spark type; ``wall_clock``: a timestamp is a plain TIMESTAMP."""
    if isinstance(spark_type, T.ArrayType):
        return f"{duckdb_type(spark_type.elementType, wall_clock)}[]"
    if wall_clock and isinstance(spark_type, T.TimestampType):
        return "TIMESTAMP"
    return DUCKDB_TYPES[spark_type]


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _typed_columns(schema: T.StructType) -> str:
    """``CAST(c AS type) AS c, …`` in schema order: names, order and types as in Spark."""
    return ", ".join(
        f"CAST({f.name} AS {duckdb_type(f.dataType)}) AS {f.name}" for f in schema.fields
    )


def _input_columns(schema: T.StructType, empty: bool) -> str:
    """The schema's columns of an input, timestamps as plain TIMESTAMPs of their UTC reading (the
    GMT+8 wall clock): hour(), dates and strftime are then plain arithmetic, no time zone lookup
    per row (a TIMESTAMPTZ goes through ICU even in UTC)."""
    columns = []
    for f in schema.fields:
        if empty:
            value = "NULL"
        elif isinstance(f.dataType, T.TimestampType):
            value = f"make_timestamp(epoch_us({f.name}))"
        else:
            value = f.name
        columns.append(f"CAST({value} AS {duckdb_type(f.dataType, wall_clock=True)}) AS {f.name}")
    return ", ".join(columns)


def register_input(
    con: duckdb.DuckDBPyConnection, view: str, path: Path, schema: T.StructType
) -> None:
    """View ``view``: the schema's columns of the current snapshot of the Delta table at ``path``.

    Partition values live only in the directory names (``day=2026-10-01/``), so a partitioned
    table is read with Hive partitioning, typed as the schema says. An absent table, or one without
    files, is an empty input of the schema, as in publish_facts.
    """
    files: list[str] = []
    partitions: list[str] = []
    if (path / "_delta_log").is_dir():
        table = DeltaTable(str(path))
        files = table.file_uris()
        partitions = list(table.metadata().partition_columns)
    if not files:
        con.execute(f"CREATE TEMP VIEW {view} AS SELECT {_input_columns(schema, True)} LIMIT 0")
        return
    hive_types = ", ".join(
        f"{_literal(f.name)}: {_literal(duckdb_type(f.dataType))}"
        for f in schema.fields
        if f.name in partitions
    )
    options = f"hive_partitioning = true, hive_types = {{{hive_types}}}" if partitions else ""
    source = f"read_parquet([{', '.join(_literal(f) for f in files)}]"
    source += f", {options})" if options else ", hive_partitioning = false)"
    con.execute(f"CREATE TEMP VIEW {view} AS SELECT {_input_columns(schema, False)} FROM {source}")


def sql_value(value: Any, element: str = "VARCHAR") -> str:
    """A SQL literal of a rule value. Rendered rather than bound: binding the first parameter makes
    the Python client import pandas, seconds that are no part of the engine's work. A float goes
    through its shortest repr as text, so DuckDB holds the very double that Python (and Spark) has.
    """
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return f"CAST({_literal(repr(value))} AS DOUBLE)"
    if isinstance(value, dt.date):
        return f"DATE {_literal(value.isoformat())}"
    if isinstance(value, str):
        return _literal(value)
    if isinstance(value, list):
        return f"CAST([{', '.join(sql_value(v) for v in value)}] AS {element}[])"
    raise TypeError(f"no SQL literal for {value!r}")


def set_rules(
    con: duckdb.DuckDBPyConnection, rules: dict[str, Any], days: list[dt.date] | None
) -> None:
    """The rules as DuckDB variables, converted exactly as transforms/telematics/facts.py does."""
    radius = float(rules["geo"]["earth_radius_km"])
    fatigue = rules["fatigue"]
    # NULL: every day of the inputs
    selected = "NULL" if days is None else sql_value(sorted(set(days)), "DATE")
    con.execute(f"SET VARIABLE days = CAST({selected} AS DATE[])")
    variables: dict[str, Any] = {
        "no_end_date": dt.date.fromisoformat(NO_END_DATE),
        "folder_date_pattern": FOLDER_DATE_PATTERN,
        "detail_decimals": DETAIL_DECIMALS,
        "limit_decimals": LIMIT_DECIMALS,
        "earth_radius_km": radius,
        "km_per_deg": radius * 3.141592653589793 / 180.0,  # as point_segment_km computes it
        "night_start_hour": int(rules["night"]["start_hour"]),
        "night_end_hour": int(rules["night"]["end_hour"]),
        "max_gap_km": float(rules["track"]["max_gap_km"]),
        "drift_max_kmh": float(rules["drift"]["max_kmh"]),
        "drift_min_km": float(rules["drift"]["min_km"]),
        "drift_min_jumps": int(rules["drift"]["min_jumps"]),
        "overspeed_min_duration_s": int(rules["overspeed"]["min_duration_s"]),
        "overspeed_merge_gap_s": int(rules["overspeed"]["merge_gap_s"]),
        "night_factor": float(rules["overspeed"]["night_factor"]),
        "overspeed_night_types": list(rules["overspeed"]["night_vehicle_types"]),
        "rest_s": int(float(fatigue["rest_min"]) * 60),
        "day_limit_s": int(float(fatigue["day_limit_h"]) * SECONDS_PER_HOUR),
        "night_limit_s": int(float(fatigue["night_limit_h"]) * SECONDS_PER_HOUR),
        "daily_driving_limit_s": int(float(fatigue["daily_driving_limit_h"]) * SECONDS_PER_HOUR),
        "fatigue_bus_types": list(fatigue["bus_vehicle_types"]),
        "bus_night_types": list(rules["bus_night"]["vehicle_types"]),
        "bus_night_start_hour": int(rules["bus_night"]["start_hour"]),
        "bus_night_end_hour": int(rules["bus_night"]["end_hour"]),
        "route_types": list(rules["route"].get("vehicle_types", DEFAULT_ROUTE_VEHICLE_TYPES)),
        "corridor_km": float(rules["route"]["corridor_km"]),
        "route_min_points": int(rules["route"]["min_points"]),
        "exempt_max_km": float(rules["route"]["exempt_max_km"]),
        "first_version_covers": first_version_covers_earlier_days(rules),
        "region_types": list(rules["region"].get("vehicle_types", DEFAULT_REGION_VEHICLE_TYPES)),
        "region_min_points": int(rules["region"]["min_points"]),
    }
    for name, value in variables.items():
        con.execute(f"SET VARIABLE {name} = {sql_value(value)}")
    # night as [start, end) intervals of seconds within a day (for the fatigue pieces)
    intervals = ", ".join(f"({start}, {end})" for start, end in night_intervals(rules))
    con.execute(
        "CREATE TEMP TABLE night_intervals AS SELECT CAST(start_s AS BIGINT) AS start_s, "
        f"CAST(end_s AS BIGINT) AS end_s FROM (VALUES {intervals}) AS night(start_s, end_s)"
    )


def write_facts(
    con: duckdb.DuckDBPyConnection,
    out_dir: Path,
    rules: dict,
    days: list[dt.date] | None = None,
) -> dict[str, int]:
    """Run the facts pipeline on the connection's input views (``positions``, ``quarantine``,
    ``vehicles``, ``routes``, ``regions``: the columns of :data:`INPUTS`, timestamps as plain
    TIMESTAMPs of the GMT+8 wall clock); write ``out_dir/<table>.parquet`` for each output and
    return their row counts by table entity."""
    out_dir.mkdir(parents=True, exist_ok=True)
    set_rules(con, rules, days)
    con.execute(MACROS)
    con.execute(PIPELINE)
    counts: dict[str, int] = {}
    for view, schema in OUTPUTS.items():
        target = out_dir / f"{view}.parquet"
        written = con.execute(
            f"COPY (SELECT {_typed_columns(schema)} FROM {view}) "
            f"TO {_literal(str(target))} (FORMAT parquet)"
        ).fetchone()
        counts[view] = int(written[0]) if written else 0
    return counts


def run_duckdb_facts(
    lake: Path,
    out_dir: Path,
    rules: dict,
    days: list[dt.date] | None = None,
    threads: int = 2,
) -> dict[str, int]:
    """Compute facts, violation events and record counts of ``days`` (``None``: every day in
    silver positions or quarantine, as publish_facts) from ``lake`` with DuckDB; write
    ``out_dir/<table>.parquet`` for each and return their row counts by table entity."""
    out_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="duckdb-baseline-") as spill:
        con = duckdb.connect(config={"threads": threads, "temp_directory": spill})
        try:
            con.execute("SET TimeZone = 'UTC'")
            for view, (name, schema) in INPUTS.items():
                register_input(con, view, table_location(lake, name), schema)
            return write_facts(con, out_dir, rules, days)
        finally:
            con.close()

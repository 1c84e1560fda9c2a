"""Per-vehicle-day facts (每车每日事实) and violation events from qualified positions.

Pure ``DataFrame -> DataFrame`` functions; the job that reads and writes is
:mod:`transforms.telematics.jobs.facts`. The rules are docs/tables.md "Per-vehicle-day facts" and
../shared/domain/telematics.md "Derived per-vehicle facts"; thresholds come from rules.yaml.

Everything is computed per vehicle-day (day, plate, plate_color): points are ordered by gnss_time,
a segment, run or session never spans midnight. Times are GMT+8 wall-clock in a UTC session, so
``hour(gnss_time)`` is the Beijing hour; durations are whole seconds (``unix_timestamp``).
Consecutive-point runs use gaps and islands (row_number differences); geometry is in
:mod:`transforms.telematics.geometry`. No Python UDFs, no loops over rows.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from pyspark.sql import Column, DataFrame, Window
from pyspark.sql import functions as F
from pyspark.sql import types as T

from transforms.telematics.geometry import haversine_km, point_segment_km, ray_crosses

KEY = ["day", "plate", "plate_color"]
SECONDS_PER_HOUR = 3600
SECONDS_PER_DAY = 86400
NO_END_DATE = "9999-12-31"
DETAIL_DECIMALS = 3
LIMIT_DECIMALS = 6  # 70 × 0.8 is 56.00000000000001 in binary floating point

# event kinds (violation_events.kind)
OVERSPEED = "overspeed"
FATIGUE = "fatigue"
BUS_NIGHT_RUNNING = "bus_night_running"  # 凌晨2–5时违规运行
OFF_ROUTE = "off_route"  # 不按核定线路行驶
OUT_OF_REGION = "out_of_region"  # 旅游包车超区域经营
DRIFT_JUMP = "drift_jump"  # 漂移
DAILY_DRIVING_OVER = "daily_driving_over"

# vehicle types of the geometric rules (docs/tables.md; rules.yaml may name others)
DEFAULT_ROUTE_VEHICLE_TYPES = ["bus_scheduled"]  # 班线客车
DEFAULT_REGION_VEHICLE_TYPES = ["bus_charter"]  # 旅游包车

POSITION_COLUMNS = ["plate", "plate_color", "gnss_time", "lon", "lat", "speed"]
RECORD_KEY = ["plate", "plate_color", "gnss_time"]  # a position record's identity
VEHICLE_COLUMNS = [
    "plate",
    "plate_color",
    "vehicle_type",
    "speed_limit_kmh",
    "route_id",
    "region_id",
    "route_exempt",
    "valid_from",
    "valid_to",
]
VALIDITY = ["valid_from", "valid_to"]  # of a master-data version (SCD2), [valid_from, valid_to)

# the points of known vehicles, with their vehicle version of the day
POINT_COLUMNS = [
    *KEY,
    "vehicle_day",  # the vehicle-day as one number: what every window partitions on
    "gnss_time",
    "t",  # unix seconds of the wall-clock time
    "sod",  # seconds since the day's midnight
    "lon",
    "lat",
    "speed",
    "vehicle_type",
    "speed_limit_kmh",
    "route_id",
    "region_id",
    "route_exempt",  # flagged, or its route ≤ route.exempt_max_km
]

SEGMENT_COLUMNS = [
    *KEY,
    "start_at",
    "end_at",
    "lon",
    "lat",
    "max_speed",
    "length_km",
    "duration_s",
    "implied_kmh",  # null when Δt = 0 (infinite)
    "is_broken",
    "is_drift",
    "broken_km",
]

SESSION_COLUMNS = [
    *KEY,
    "vehicle_type",
    "session",
    "start_at",
    "end_at",
    "points",
    "max_speed",
    "lon",
    "lat",
    "driving_s",
    "fatigue_s",
    "fatigue_start_at",
    "fatigue_end_at",
    "fatigue_points",
    "fatigue_max_speed",
    "fatigue_lon",
    "fatigue_lat",
]

FACT_SCHEMA = T.StructType(
    [
        T.StructField("day", T.DateType()),
        T.StructField("plate", T.StringType()),
        T.StructField("plate_color", T.IntegerType()),
        T.StructField("vehicle_type", T.StringType()),
        T.StructField("qualified_points", T.LongType()),
        T.StructField("total_km", T.DoubleType()),
        T.StructField("broken_km", T.DoubleType()),
        T.StructField("complete_km", T.DoubleType()),
        T.StructField("drift_jumps", T.IntegerType()),
        T.StructField("is_drift_day", T.BooleanType()),
        T.StructField("overspeed_events", T.IntegerType()),
        T.StructField("driving_minutes", T.DoubleType()),
        T.StructField("fatigue_minutes", T.DoubleType()),
        T.StructField("bus_night_running", T.BooleanType()),
        T.StructField("off_route", T.BooleanType()),
        T.StructField("out_of_region", T.BooleanType()),
        T.StructField("daily_driving_over", T.BooleanType()),
        T.StructField("has_violation", T.BooleanType()),
    ]
)
EVENT_SCHEMA = T.StructType(
    [
        T.StructField("event_id", T.StringType()),
        T.StructField("day", T.DateType()),
        T.StructField("plate", T.StringType()),
        T.StructField("plate_color", T.IntegerType()),
        T.StructField("kind", T.StringType()),
        T.StructField("start_at", T.TimestampType()),
        T.StructField("end_at", T.TimestampType()),
        T.StructField("points", T.IntegerType()),
        T.StructField("max_speed", T.DoubleType()),
        T.StructField("limit_kmh", T.DoubleType()),
        T.StructField("minutes", T.DoubleType()),
        T.StructField("lon", T.DoubleType()),
        T.StructField("lat", T.DoubleType()),
        T.StructField("detail", T.StringType()),
    ]
)
RECORD_COUNT_SCHEMA = T.StructType(
    [
        T.StructField("day", T.DateType()),
        T.StructField("platform_id", T.StringType()),
        T.StructField("plate", T.StringType()),
        T.StructField("plate_color", T.IntegerType()),
        T.StructField("records", T.LongType()),
        T.StructField("qualified_records", T.LongType()),
    ]
)
FACT_COLUMNS = FACT_SCHEMA.fieldNames()
EVENT_COLUMNS = EVENT_SCHEMA.fieldNames()
RECORD_COUNT_COLUMNS = RECORD_COUNT_SCHEMA.fieldNames()

# the landing folder date of a quarantined line: <lake-relative>/…/<YYYY-MM-DD>/<file>
FOLDER_DATE_PATTERN = r"/(\d{4}-\d{2}-\d{2})/[^/]*$"


# ---------------------------------------------------------------------------------------------
# helpers


def _ordered() -> Window:
    """The points of a vehicle-day in time order (frames from :func:`vehicle_points`)."""
    return Window.partitionBy("vehicle_day").orderBy("gnss_time")


def _seconds(ts: str | Column) -> Column:
    return F.unix_timestamp(ts)


def _at_second_of_day(sod: Column) -> Column:
    """The timestamp ``sod`` seconds after the vehicle-day's midnight."""
    return F.timestamp_seconds(F.unix_timestamp(F.col("day").cast("timestamp")) + sod)


def night_intervals(rules: dict[str, Any]) -> list[tuple[int, int]]:
    """Night (22:00–06:00 by default) as [start, end) intervals of seconds within one day."""
    start = int(rules["night"]["start_hour"]) * SECONDS_PER_HOUR
    end = int(rules["night"]["end_hour"]) * SECONDS_PER_HOUR
    if start > end:
        return [(0, end), (start, SECONDS_PER_DAY)]
    return [(start, end)]


def is_night(rules: dict[str, Any], ts: str = "gnss_time") -> Column:
    """True when the wall-clock hour of ``ts`` is at night (h ≥ start_hour or h < end_hour)."""
    start, end = int(rules["night"]["start_hour"]), int(rules["night"]["end_hour"])
    hour = F.hour(ts)
    if start > end:
        return (hour >= start) | (hour < end)
    return (hour >= start) & (hour < end)


def _json(**fields: Column) -> Column:
    return F.to_json(F.struct(*[c.alias(name) for name, c in fields.items()]))


def _rounded(c: Column) -> Column:
    return F.round(c, DETAIL_DECIMALS)


def flag_runs(points: DataFrame, flag: str) -> DataFrame:
    """The points where ``flag`` is true, each with ``_run``: its run of consecutive flagged points.

    Gaps and islands: within a vehicle-day, row_number over all points minus row_number over the
    flagged points is constant along a run of consecutive flagged points.
    """
    within_flag = Window.partitionBy("vehicle_day", flag).orderBy("gnss_time")
    return points.withColumn(
        "_run", F.row_number().over(_ordered()) - F.row_number().over(within_flag)
    ).where(F.col(flag))


def _run_summary(*extra: Column) -> list[Column]:
    """Aggregates of a run / event: its span, point count, top speed and first point."""
    return [
        F.min("gnss_time").alias("start_at"),
        F.max("gnss_time").alias("end_at"),
        F.count(F.lit(1)).alias("points"),
        F.max("speed").alias("max_speed"),
        F.min_by("lon", "gnss_time").alias("lon"),
        F.min_by("lat", "gnss_time").alias("lat"),
        *extra,
    ]


def events(
    df: DataFrame,
    kind: str,
    *,
    limit_kmh: Column | None = None,
    minutes: Column | None = None,
    detail: Column | None = None,
) -> DataFrame:
    """Event rows of ``kind`` from rows with day, plate, plate_color, start_at, end_at, points,
    max_speed, lon, lat; ``minutes`` defaults to the duration, ``event_id`` is
    sha1(kind|plate|plate_color|start_at as 'yyyy-MM-dd HH:mm:ss')."""
    duration_min = (_seconds("end_at") - _seconds("start_at")) / 60.0
    event_id = F.sha1(
        F.concat_ws(
            "|",
            F.lit(kind),
            F.col("plate"),
            F.col("plate_color").cast("string"),
            F.date_format("start_at", "yyyy-MM-dd HH:mm:ss"),
        )
    )
    return df.select(
        event_id.alias("event_id"),
        F.col("day").cast("date").alias("day"),
        F.col("plate").cast("string").alias("plate"),
        F.col("plate_color").cast("int").alias("plate_color"),
        F.lit(kind).alias("kind"),
        F.col("start_at").cast("timestamp").alias("start_at"),
        F.col("end_at").cast("timestamp").alias("end_at"),
        F.col("points").cast("int").alias("points"),
        F.col("max_speed").cast("double").alias("max_speed"),
        (limit_kmh if limit_kmh is not None else F.lit(None)).cast("double").alias("limit_kmh"),
        (minutes if minutes is not None else duration_min).cast("double").alias("minutes"),
        F.col("lon").cast("double").alias("lon"),
        F.col("lat").cast("double").alias("lat"),
        (detail if detail is not None else F.lit(None)).cast("string").alias("detail"),
    )


# ---------------------------------------------------------------------------------------------
# population


def first_version_covers_earlier_days(rules: dict[str, Any]) -> bool:
    """rules.yaml attribution.geometry_before_first_version: ``first_version`` or ``none``."""
    value = rules["attribution"]["geometry_before_first_version"]
    if value not in ("first_version", "none"):
        raise ValueError(
            f"attribution.geometry_before_first_version: {value!r} (first_version or none)"
        )
    return value == "first_version"


def geometry_versions(
    versions: DataFrame, key: str, columns: list[str], rules: dict[str, Any]
) -> DataFrame:
    """Route or region versions with open validity bounds ``_from`` / ``_to``.

    A day is checked against the version approved on that day: ``valid_from ≤ day < valid_to``.
    With :func:`first_version_covers_earlier_days`, a key's first version also covers the days
    before it (``_from`` null): a route or region file that lands after the vehicle naming it
    still gets those days checked, against the only geometry on record. The current version has
    ``_to`` null. Frames without validity columns are one version, valid on every day.
    """
    for name in VALIDITY:
        if name not in versions.columns:
            versions = versions.withColumn(name, F.lit(None).cast("date"))
    start = F.col("valid_from")
    if first_version_covers_earlier_days(rules):
        start = F.when(start > F.min("valid_from").over(Window.partitionBy(key)), start)
    return versions.select(*columns, start.alias("_from"), F.col("valid_to").alias("_to"))


def valid_on(day: Column) -> Column:
    """The :func:`geometry_versions` row is the one valid on ``day``."""
    return (F.col("_from").isNull() | (F.col("_from") <= day)) & (
        F.col("_to").isNull() | (day < F.col("_to"))
    )


def vehicle_points(
    positions: DataFrame, vehicles: DataFrame, routes: DataFrame, rules: dict[str, Any]
) -> DataFrame:
    """Qualified points of known vehicles with the vehicle version valid that day.

    A version is valid on ``day`` when valid_from ≤ day < coalesce(valid_to, ∞); should two be,
    the one that started last is taken. Points of vehicles without a valid version are skipped.
    ``route_exempt`` is the effective exemption from the 02–05 rule: flagged, or the vehicle's route
    (the version of that day) is at most ``route.exempt_max_km`` long.
    """
    exempt_max_km = float(rules["route"]["exempt_max_km"])
    pts = positions.select(*POSITION_COLUMNS).withColumn("day", F.to_date("gnss_time"))
    vehicle_days = pts.select(*KEY).distinct()
    versions = vehicles.select(*VEHICLE_COLUMNS)
    latest_first = Window.partitionBy(*KEY).orderBy(F.col("valid_from").desc())
    valid = (
        vehicle_days.join(versions, ["plate", "plate_color"], "inner")
        .where(
            (F.col("valid_from") <= F.col("day"))
            & (F.col("day") < F.coalesce(F.col("valid_to"), F.lit(NO_END_DATE).cast("date")))
        )
        .withColumn("_rank", F.row_number().over(latest_first))
        .where(F.col("_rank") == 1)
    )
    route_lengths = geometry_versions(routes, "route_id", ["route_id", "length_km"], rules)
    route_lengths = route_lengths.withColumnRenamed("route_id", "_route")
    on_day = (F.col("route_id") == F.col("_route")) & valid_on(F.col("day"))
    # one bigint per vehicle-day: windows partition on it (sorting on one number is cheaper than
    # on day, plate, plate_color): the day's number since 1970 × 2³², plus the vehicle's rank
    # among that day's vehicles
    rank_in_day = F.row_number().over(Window.partitionBy("day").orderBy("plate", "plate_color"))
    day_number = F.datediff(F.col("day"), F.lit("1970-01-01").cast("date")).cast("bigint")
    valid = valid.join(route_lengths, on_day, "left").select(
        *KEY,
        (day_number * F.lit(1 << 32) + rank_in_day).alias("vehicle_day"),
        "vehicle_type",
        "speed_limit_kmh",
        "route_id",
        "region_id",
        (
            F.coalesce(F.col("route_exempt"), F.lit(False))
            | F.coalesce(F.col("length_km") <= F.lit(exempt_max_km), F.lit(False))
        ).alias("route_exempt"),
    )
    sod = (
        F.hour("gnss_time") * SECONDS_PER_HOUR + F.minute("gnss_time") * 60 + F.second("gnss_time")
    )
    return pts.join(valid, KEY, "inner").select(
        *KEY,
        "vehicle_day",
        "gnss_time",
        _seconds("gnss_time").alias("t"),
        sod.cast("bigint").alias("sod"),
        "lon",
        "lat",
        "speed",
        "vehicle_type",
        "speed_limit_kmh",
        "route_id",
        "region_id",
        "route_exempt",
    )


# ---------------------------------------------------------------------------------------------
# track: segments, broken km, drift jumps


def segments(points: DataFrame, rules: dict[str, Any]) -> DataFrame:
    """One row per pair of consecutive points of a vehicle-day (轨迹段).

    broken when length > track.max_gap_km; a drift jump when length ≥ drift.min_km and the
    implied speed length / Δt > drift.max_kmh (Δt = 0: infinite). ``broken_km`` is the length when
    the segment is broken or a drift jump (counted once), else 0.
    """
    radius = float(rules["geo"]["earth_radius_km"])
    max_gap_km = float(rules["track"]["max_gap_km"])
    max_kmh = float(rules["drift"]["max_kmh"])
    min_km = float(rules["drift"]["min_km"])
    w = _ordered()
    pairs = points.select(
        *KEY,
        F.lag("gnss_time").over(w).alias("start_at"),
        F.col("gnss_time").alias("end_at"),
        F.lag("lon").over(w).alias("lon"),
        F.lag("lat").over(w).alias("lat"),
        F.lag("speed").over(w).alias("prev_speed"),
        F.lag("t").over(w).alias("prev_t"),
        F.col("lon").alias("lon2"),
        F.col("lat").alias("lat2"),
        "speed",
        "t",
    ).where(F.col("start_at").isNotNull())
    length = haversine_km(F.col("lat"), F.col("lon"), F.col("lat2"), F.col("lon2"), radius)
    with_length = pairs.select(
        "*",
        length.alias("length_km"),
        (F.col("t") - F.col("prev_t")).alias("duration_s"),
    )
    implied = (
        F.col("length_km") * SECONDS_PER_HOUR / F.when(F.col("duration_s") > 0, F.col("duration_s"))
    )
    is_drift = (F.col("length_km") >= F.lit(min_km)) & (
        (F.col("duration_s") <= 0) | (implied > F.lit(max_kmh))
    )
    is_broken = F.col("length_km") > F.lit(max_gap_km)
    return with_length.select(
        *KEY,
        "start_at",
        "end_at",
        "lon",
        "lat",
        F.greatest("prev_speed", "speed").alias("max_speed"),
        "length_km",
        "duration_s",
        implied.alias("implied_kmh"),
        is_broken.alias("is_broken"),
        is_drift.alias("is_drift"),
        F.when(is_broken | is_drift, F.col("length_km")).otherwise(F.lit(0.0)).alias("broken_km"),
    ).select(*SEGMENT_COLUMNS)


def drift_jump_events(segs: DataFrame) -> DataFrame:
    """One event per drift jump: its two points, the jump km and implied speed in the detail."""
    jumps = segs.where(F.col("is_drift")).withColumn("points", F.lit(2))
    return events(
        jumps,
        DRIFT_JUMP,
        detail=_json(
            jump_km=_rounded(F.col("length_km")), implied_kmh=_rounded(F.col("implied_kmh"))
        ),
    )


# ---------------------------------------------------------------------------------------------
# overspeed


def overspeed_limit(rules: dict[str, Any]) -> Column:
    """The limit at a point: speed_limit_kmh, × night_factor at night for the night vehicle types."""
    factor = float(rules["overspeed"]["night_factor"])
    types = list(rules["overspeed"]["night_vehicle_types"])
    night_bus = is_night(rules) & F.col("vehicle_type").isin(types)
    return F.when(
        night_bus, F.round(F.col("speed_limit_kmh") * F.lit(factor), LIMIT_DECIMALS)
    ).otherwise(F.col("speed_limit_kmh"))


def overspeed_events(points: DataFrame, rules: dict[str, Any]) -> DataFrame:
    """Overspeed events (超速).

    A run = consecutive points with speed > the limit at that point; a run is an event when its
    last − first > overspeed.min_duration_s; any run starting < overspeed.merge_gap_s after the end
    of an event extends it (so an event is a chain of runs each starting < merge_gap_s after the
    previous one ended, from the first run long enough). limit_kmh: the limit of the event's first
    point; points: the points above the limit.
    """
    min_duration_s = int(rules["overspeed"]["min_duration_s"])
    merge_gap_s = int(rules["overspeed"]["merge_gap_s"])
    flagged = points.select(
        *KEY,
        "vehicle_day",
        "gnss_time",
        "lon",
        "lat",
        "speed",
        overspeed_limit(rules).alias("limit_kmh"),
    ).withColumn("_over", F.coalesce(F.col("speed") > F.col("limit_kmh"), F.lit(False)))
    runs = (
        flag_runs(flagged, "_over")
        .groupBy(*KEY, "vehicle_day", "_run")
        .agg(*_run_summary(F.min_by("limit_kmh", "gnss_time").alias("limit_kmh")))
    )
    by_start = Window.partitionBy("vehicle_day").orderBy("start_at")
    chain = Window.partitionBy("vehicle_day", "_chain")
    chained = (
        runs.withColumn("_gap", _seconds("start_at") - _seconds(F.lag("end_at").over(by_start)))
        .withColumn(
            "_chain",
            F.sum(F.when(F.col("_gap") < merge_gap_s, 0).otherwise(1)).over(
                by_start.rowsBetween(Window.unboundedPreceding, Window.currentRow)
            ),
        )
        .withColumn("_long", (_seconds("end_at") - _seconds("start_at")) > F.lit(min_duration_s))
        .withColumn("_first_long", F.min(F.when(F.col("_long"), F.col("start_at"))).over(chain))
        .where(F.col("start_at") >= F.col("_first_long"))
    )
    merged = chained.groupBy(*KEY, "_chain").agg(
        F.min("start_at").alias("start_at"),
        F.max("end_at").alias("end_at"),
        F.sum("points").alias("points"),
        F.max("max_speed").alias("max_speed"),
        F.min_by("lon", "start_at").alias("lon"),
        F.min_by("lat", "start_at").alias("lat"),
        F.min_by("limit_kmh", "start_at").alias("limit_kmh"),
        F.count(F.lit(1)).alias("runs"),
    )
    return events(merged, OVERSPEED, limit_kmh=F.col("limit_kmh"), detail=_json(runs=F.col("runs")))


# ---------------------------------------------------------------------------------------------
# driving sessions and fatigue


def _fatigue_pieces(s: Column, e: Column, rules: dict[str, Any]) -> list[tuple[Column, Column]]:
    """The fatigued set of a session [s, e] (seconds of day) as (lo, hi) intervals.

    An instant t is fatigued when t − s > day_limit, or t is at night and t − s > night_limit:
    (s + day_limit, e] ∪ (night ∩ (s + night_limit, min(e, s + day_limit))). A piece is empty when
    hi ≤ lo.
    """
    day_limit_s = int(float(rules["fatigue"]["day_limit_h"]) * SECONDS_PER_HOUR)
    night_limit_s = int(float(rules["fatigue"]["night_limit_h"]) * SECONDS_PER_HOUR)
    day_from = s + F.lit(day_limit_s)
    night_from = s + F.lit(night_limit_s)
    night_to = F.least(e, day_from)
    pieces = [(day_from, e)]
    for n0, n1 in night_intervals(rules):
        pieces.append((F.greatest(night_from, F.lit(n0)), F.least(night_to, F.lit(n1))))
    return pieces


def driving_sessions(points: DataFrame, rules: dict[str, Any]) -> DataFrame:
    """One row per driving session (连续驾驶) of a vehicle-day, with its fatigued time (疲劳驾驶).

    Driving points: speed > 0. Consecutive driving points less than fatigue.rest_min apart stay in
    one session (the bridged time counts). driving_s = last − first driving point. fatigue_s =
    measure of the fatigued instants of [first, last] (see ``_fatigue_pieces``: split at the
    4 h / 2 h thresholds and at the night boundaries, in closed form — the intervals between the
    session's consecutive points cover it exactly). fatigue_start_at / fatigue_end_at: the first and
    last fatigued instants; fatigue_points / fatigue_max_speed: the driving points between them;
    fatigue_lon / fatigue_lat: the first driving point at or after fatigue_start_at.
    """
    rest_s = int(float(rules["fatigue"]["rest_min"]) * 60)
    w = _ordered()
    driving = points.where(F.col("speed") > 0).select(
        *KEY, "vehicle_day", "vehicle_type", "gnss_time", "t", "sod", "lon", "lat", "speed"
    )
    gap = F.col("t") - F.lag("t").over(w)
    sessions = driving.withColumn(
        "session",
        F.sum(F.when(gap < rest_s, 0).otherwise(1)).over(
            w.rowsBetween(Window.unboundedPreceding, Window.currentRow)
        ),
    )
    whole = Window.partitionBy("vehicle_day", "session")
    s, e = F.col("_s"), F.col("_e")
    pieces = _fatigue_pieces(s, e, rules)
    fatigue_s = sum((F.greatest(hi - lo, F.lit(0)) for lo, hi in pieces), F.lit(0))
    first = F.least(*[F.when(hi > lo, lo) for lo, hi in pieces])
    last = F.greatest(*[F.when(hi > lo, hi) for lo, hi in pieces])
    bounded = (
        sessions.withColumn("_s", F.min("sod").over(whole))
        .withColumn("_e", F.max("sod").over(whole))
        .withColumn("_fatigue_s", fatigue_s)
        .withColumn("_from", first)
        .withColumn("_to", last)
    )
    in_fatigue = (F.col("sod") >= F.col("_from")) & (F.col("sod") <= F.col("_to"))
    after_start = F.when(F.col("sod") >= F.col("_from"), F.col("gnss_time"))
    return (
        bounded.groupBy(*KEY, "vehicle_day", "vehicle_type", "session")
        .agg(
            *_run_summary(
                (F.max("t") - F.min("t")).alias("driving_s"),
                F.max("_fatigue_s").alias("fatigue_s"),
                F.max("_from").alias("_from"),
                F.max("_to").alias("_to"),
                F.count(F.when(in_fatigue, F.lit(1))).alias("fatigue_points"),
                F.max(F.when(in_fatigue, F.col("speed"))).alias("fatigue_max_speed"),
                # the first point at or after the first fatigued instant (gnss_time is unique
                # within a vehicle-day; points before it have a null ordering, which min_by skips)
                F.min_by("lon", after_start).alias("fatigue_lon"),
                F.min_by("lat", after_start).alias("fatigue_lat"),
            )
        )
        .select(
            *KEY,
            "vehicle_type",
            "session",
            "start_at",
            "end_at",
            "points",
            "max_speed",
            "lon",
            "lat",
            "driving_s",
            "fatigue_s",
            _at_second_of_day(F.col("_from")).alias("fatigue_start_at"),
            _at_second_of_day(F.col("_to")).alias("fatigue_end_at"),
            "fatigue_points",
            "fatigue_max_speed",
            "fatigue_lon",
            "fatigue_lat",
        )
        .select(*SESSION_COLUMNS)
    )


def fatigue_events(sessions: DataFrame) -> DataFrame:
    """One event per session with fatigued time: from its first to its last fatigued instant;
    minutes = the fatigued minutes of the session."""
    fatigued = sessions.where(F.col("fatigue_s") > 0).select(
        *KEY,
        F.col("fatigue_start_at").alias("start_at"),
        F.col("fatigue_end_at").alias("end_at"),
        F.col("fatigue_points").alias("points"),
        F.col("fatigue_max_speed").alias("max_speed"),
        F.col("fatigue_lon").alias("lon"),
        F.col("fatigue_lat").alias("lat"),
        "fatigue_s",
        F.col("start_at").alias("session_start_at"),
        "driving_s",
    )
    return events(
        fatigued,
        FATIGUE,
        minutes=F.col("fatigue_s") / 60.0,
        detail=_json(
            session_start_at=F.date_format("session_start_at", "yyyy-MM-dd HH:mm:ss"),
            session_minutes=F.col("driving_s") / 60.0,
        ),
    )


def daily_driving_over_events(sessions: DataFrame, rules: dict[str, Any]) -> DataFrame:
    """Buses (fatigue.bus_vehicle_types) whose Σ session durations of the day exceed
    fatigue.daily_driving_limit_h: one event spanning the day's first to last driving point."""
    limit_s = int(float(rules["fatigue"]["daily_driving_limit_h"]) * SECONDS_PER_HOUR)
    types = list(rules["fatigue"]["bus_vehicle_types"])
    days = (
        sessions.where(F.col("vehicle_type").isin(types))
        .groupBy(*KEY)
        .agg(
            F.min("start_at").alias("start_at"),
            F.max("end_at").alias("end_at"),
            F.sum("points").alias("points"),
            F.max("max_speed").alias("max_speed"),
            F.min_by("lon", "start_at").alias("lon"),
            F.min_by("lat", "start_at").alias("lat"),
            F.sum("driving_s").alias("driving_s"),
        )
        .where(F.col("driving_s") > limit_s)
    )
    return events(
        days,
        DAILY_DRIVING_OVER,
        detail=_json(
            driving_minutes=F.col("driving_s") / 60.0, limit_minutes=F.lit(limit_s / 60.0)
        ),
    )


# ---------------------------------------------------------------------------------------------
# buses 02–05, off-route, out-of-region


def bus_night_running_events(points: DataFrame, rules: dict[str, Any]) -> DataFrame:
    """凌晨2–5时违规运行: a bus_night vehicle type, not exempt, with a driving point whose hour is in
    [start_hour, end_hour). One event per vehicle-day, spanning those points."""
    cfg = rules["bus_night"]
    hour = F.hour("gnss_time")
    running = points.where(
        F.col("vehicle_type").isin(list(cfg["vehicle_types"]))
        & ~F.col("route_exempt")
        & (F.col("speed") > 0)
        & (hour >= int(cfg["start_hour"]))
        & (hour < int(cfg["end_hour"]))
    )
    grouped = running.groupBy(*KEY).agg(*_run_summary(F.first("route_id").alias("route_id")))
    return events(grouped, BUS_NIGHT_RUNNING, detail=_json(route_id=F.col("route_id")))


def _consecutive_events(
    flagged: DataFrame, flag: str, min_points: int, kind: str, detail: dict[str, Column]
) -> DataFrame:
    """Events for runs of ≥ min_points consecutive points with ``flag`` (one event per run)."""
    extra = [c.alias(name) for name, c in detail.items()]
    runs = (
        flag_runs(flagged, flag)
        .groupBy(*KEY, "_run")
        .agg(*_run_summary(*extra))
        .where(F.col("points") >= min_points)
    )
    return events(runs, kind, detail=_json(**{name: F.col(name) for name in detail}))


def route_segments(routes: DataFrame, rules: dict[str, Any]) -> DataFrame:
    """The segments (i, i+1) of each route version's polyline: route_id, _from, _to (see
    :func:`geometry_versions`), seg, lon_a, lat_a, lon_b, lat_b."""
    versions = geometry_versions(routes, "route_id", ["route_id", "polyline"], rules)
    vertices = versions.select(
        "route_id", "_from", "_to", F.posexplode("polyline").alias("seg", "v")
    ).select(
        "route_id",
        "_from",
        "_to",
        "seg",
        F.col("v")[0].alias("lon_a"),
        F.col("v")[1].alias("lat_a"),
    )
    w = Window.partitionBy("route_id", "_from").orderBy("seg")
    return vertices.select(
        "route_id",
        "_from",
        "_to",
        "seg",
        "lon_a",
        "lat_a",
        F.lead("lon_a").over(w).alias("lon_b"),
        F.lead("lat_a").over(w).alias("lat_b"),
    ).where(F.col("lon_b").isNotNull())


def off_route_events(points: DataFrame, routes: DataFrame, rules: dict[str, Any]) -> DataFrame:
    """不按核定线路行驶: for the route vehicle types with a route, runs of ≥ route.min_points
    consecutive points farther than route.corridor_km from every segment of the route polyline
    approved that day. Detail: route_id and the largest distance of the run (km)."""
    cfg = rules["route"]
    radius = float(rules["geo"]["earth_radius_km"])
    types = list(cfg.get("vehicle_types", DEFAULT_ROUTE_VEHICLE_TYPES))
    candidates = points.where(
        F.col("vehicle_type").isin(types) & F.col("route_id").isNotNull()
    ).select(*KEY, "vehicle_day", "gnss_time", "lon", "lat", "speed", "route_id")
    distance = point_segment_km(
        F.col("lon"),
        F.col("lat"),
        F.col("lon_a"),
        F.col("lat_a"),
        F.col("lon_b"),
        F.col("lat_b"),
        radius,
    )
    # the nearest segment per point, grouped on the point's identity only; the point's other
    # columns are joined back (aggregating on all of them is slower)
    nearest_km = (
        candidates.join(route_segments(routes, rules), "route_id", "inner")
        .where(valid_on(F.col("day")))
        .groupBy("vehicle_day", "gnss_time")
        .agg(F.min(distance).alias("route_km"))
    )
    nearest = candidates.join(nearest_km, ["vehicle_day", "gnss_time"], "inner").withColumn(
        "_off", F.col("route_km") > F.lit(float(cfg["corridor_km"]))
    )
    return _consecutive_events(
        nearest,
        "_off",
        int(cfg["min_points"]),
        OFF_ROUTE,
        {"route_id": F.first("route_id"), "max_km": _rounded(F.max("route_km"))},
    )


def region_edges(regions: DataFrame, rules: dict[str, Any]) -> DataFrame:
    """The edges of each region version's ring (closed when the last vertex differs from the
    first): region_id, _from, _to (see :func:`geometry_versions`), edge, lon_i, lat_i, lon_j, lat_j."""
    ring = F.when(
        F.element_at("polygon", 1) != F.element_at("polygon", -1),
        F.concat("polygon", F.array(F.element_at("polygon", 1))),
    ).otherwise(F.col("polygon"))
    versions = geometry_versions(regions, "region_id", ["region_id", "polygon"], rules)
    vertices = versions.select(
        "region_id", "_from", "_to", F.posexplode(ring).alias("edge", "v")
    ).select(
        "region_id",
        "_from",
        "_to",
        "edge",
        F.col("v")[0].alias("lon_i"),
        F.col("v")[1].alias("lat_i"),
    )
    w = Window.partitionBy("region_id", "_from").orderBy("edge")
    return vertices.select(
        "region_id",
        "_from",
        "_to",
        "edge",
        "lon_i",
        "lat_i",
        F.lead("lon_i").over(w).alias("lon_j"),
        F.lead("lat_i").over(w).alias("lat_j"),
    ).where(F.col("lon_j").isNotNull())


def out_of_region_events(points: DataFrame, regions: DataFrame, rules: dict[str, Any]) -> DataFrame:
    """旅游包车超区域经营: for the region vehicle types with a region, runs of ≥ region.min_points
    consecutive points outside the polygon approved that day (ray casting in lon/lat: an odd
    crossing count is inside)."""
    cfg = rules["region"]
    types = list(cfg.get("vehicle_types", DEFAULT_REGION_VEHICLE_TYPES))
    candidates = points.where(
        F.col("vehicle_type").isin(types) & F.col("region_id").isNotNull()
    ).select(*KEY, "vehicle_day", "gnss_time", "lon", "lat", "speed", "region_id")
    crosses = ray_crosses(
        F.col("lon"), F.col("lat"), F.col("lon_i"), F.col("lat_i"), F.col("lon_j"), F.col("lat_j")
    )
    # crossings per point, grouped on the point's identity only (see off_route_events)
    crossings = (
        candidates.join(region_edges(regions, rules), "region_id", "inner")
        .where(valid_on(F.col("day")))
        .groupBy("vehicle_day", "gnss_time")
        .agg(F.sum(F.when(crosses, 1).otherwise(0)).alias("_crossings"))
    )
    located = candidates.join(crossings, ["vehicle_day", "gnss_time"], "inner").withColumn(
        "_outside", F.col("_crossings") % 2 == 0
    )
    return _consecutive_events(
        located,
        "_outside",
        int(cfg["min_points"]),
        OUT_OF_REGION,
        {"region_id": F.first("region_id")},
    )


# ---------------------------------------------------------------------------------------------
# the facts


def build_facts(
    positions: DataFrame,
    vehicles: DataFrame,
    routes: DataFrame,
    regions: DataFrame,
    rules: dict[str, Any],
) -> tuple[DataFrame, DataFrame]:
    """(silver.telematics__vehicle_day_facts, silver.telematics__violation_events) rows.

    positions: qualified points (plate, plate_color, gnss_time, lon, lat, speed, …); vehicles: the
    vehicle history (SCD2); routes: route_id, length_km, polyline; regions: region_id, polygon;
    routes and regions optionally with their history's valid_from / valid_to
    (:func:`geometry_versions`).
    """
    points = vehicle_points(positions, vehicles, routes, rules)
    return facts_from_points(points, routes, regions, rules)


def stored_facts(
    positions: DataFrame,
    quarantine: DataFrame,
    vehicles: DataFrame,
    routes: DataFrame,
    regions: DataFrame,
    rules: dict[str, Any],
    store: Callable[[str, DataFrame], DataFrame],
) -> None:
    """The plan every engine runs to write the facts, the events and the record counts.

    ``store(name, frame)`` writes ``frame`` and returns it read back, in this order: ``points``
    (positions with the vehicle version of their day), ``segments`` and ``sessions`` first, since
    every output reads them; then ``violation_events``,
    whose stored rows give the facts their flags (no event kind is computed twice); then
    ``vehicle_day_facts`` and ``record_counts``. The job (:mod:`transforms.telematics.jobs.facts`), the JVM Spark baseline and the
    Apache Spark compatibility run differ only in their ``store``.
    """
    points = store("points", vehicle_points(positions, vehicles, routes, rules))
    segs = store("segments", segments(points, rules))
    sessions = store("sessions", driving_sessions(points, rules))
    _, events = facts_from_points(points, routes, regions, rules, segs=segs, sessions=sessions)
    events = store("violation_events", events)
    facts, _ = facts_from_points(
        points, routes, regions, rules, events=events, segs=segs, sessions=sessions
    )
    store("vehicle_day_facts", facts)
    store("record_counts", record_counts(positions, quarantine))


def facts_from_points(
    points: DataFrame,
    routes: DataFrame,
    regions: DataFrame,
    rules: dict[str, Any],
    events: DataFrame | None = None,
    segs: DataFrame | None = None,
    sessions: DataFrame | None = None,
) -> tuple[DataFrame, DataFrame]:
    """:func:`build_facts` from :func:`vehicle_points` rows.

    A job may materialise the points, :func:`segments` and :func:`driving_sessions` once and pass
    them, and pass the events it has already written as ``events`` (their flags feed the facts):
    every output then reads stored rows instead of computing the same windows again.
    """
    segs = segments(points, rules) if segs is None else segs
    sessions = driving_sessions(points, rules) if sessions is None else sessions
    all_events = (
        overspeed_events(points, rules)
        .unionByName(fatigue_events(sessions))
        .unionByName(bus_night_running_events(points, rules))
        .unionByName(off_route_events(points, routes, rules))
        .unionByName(out_of_region_events(points, regions, rules))
        .unionByName(drift_jump_events(segs))
        .unionByName(daily_driving_over_events(sessions, rules))
        .select(*EVENT_COLUMNS)
    )

    base = points.groupBy(*KEY).agg(
        F.first("vehicle_type").alias("vehicle_type"),
        F.count(F.lit(1)).alias("qualified_points"),
    )
    track = segs.groupBy(*KEY).agg(
        F.sum("length_km").alias("total_km"),
        F.sum("broken_km").alias("broken_km"),
        F.count(F.when(F.col("is_drift"), F.lit(1))).alias("drift_jumps"),
    )
    driving = sessions.groupBy(*KEY).agg(
        F.sum("driving_s").alias("driving_s"), F.sum("fatigue_s").alias("fatigue_s")
    )

    def has(kind: str) -> Column:
        return F.count(F.when(F.col("kind") == kind, F.lit(1)))

    flags = (
        (all_events if events is None else events)
        .groupBy(*KEY)
        .agg(
            has(OVERSPEED).alias("overspeed_events"),
            (has(BUS_NIGHT_RUNNING) > 0).alias("bus_night_running"),
            (has(OFF_ROUTE) > 0).alias("off_route"),
            (has(OUT_OF_REGION) > 0).alias("out_of_region"),
            (has(DAILY_DRIVING_OVER) > 0).alias("daily_driving_over"),
        )
    )
    min_jumps = int(rules["drift"]["min_jumps"])
    joined = (
        base.join(track, KEY, "left").join(driving, KEY, "left").join(flags, KEY, "left")
    ).select(
        *KEY,
        "vehicle_type",
        "qualified_points",
        F.coalesce("total_km", F.lit(0.0)).alias("total_km"),
        F.coalesce("broken_km", F.lit(0.0)).alias("broken_km"),
        F.coalesce("drift_jumps", F.lit(0)).alias("drift_jumps"),
        F.coalesce("overspeed_events", F.lit(0)).alias("overspeed_events"),
        (F.coalesce("driving_s", F.lit(0)) / 60.0).alias("driving_minutes"),
        (F.coalesce("fatigue_s", F.lit(0)) / 60.0).alias("fatigue_minutes"),
        F.coalesce("bus_night_running", F.lit(False)).alias("bus_night_running"),
        F.coalesce("off_route", F.lit(False)).alias("off_route"),
        F.coalesce("out_of_region", F.lit(False)).alias("out_of_region"),
        F.coalesce("daily_driving_over", F.lit(False)).alias("daily_driving_over"),
    )
    facts = joined.select(
        F.col("day").cast("date"),
        F.col("plate").cast("string"),
        F.col("plate_color").cast("int"),
        F.col("vehicle_type").cast("string"),
        F.col("qualified_points").cast("bigint"),
        F.col("total_km").cast("double"),
        F.col("broken_km").cast("double"),
        (F.col("total_km") - F.col("broken_km")).cast("double").alias("complete_km"),
        F.col("drift_jumps").cast("int"),
        (F.col("drift_jumps") >= min_jumps).alias("is_drift_day"),
        F.col("overspeed_events").cast("int"),
        F.col("driving_minutes").cast("double"),
        F.col("fatigue_minutes").cast("double"),
        "bus_night_running",
        "off_route",
        "out_of_region",
        "daily_driving_over",
        (
            (F.col("overspeed_events") > 0)
            | (F.col("fatigue_minutes") > 0)
            | F.col("bus_night_running")
            | F.col("off_route")
            | F.col("out_of_region")
        ).alias("has_violation"),
    ).select(*FACT_COLUMNS)
    return facts, all_events


# ---------------------------------------------------------------------------------------------
# record counts


def quarantine_day() -> Column:
    """The day a quarantine row counts on: of gnss_time, else of received_at, else its landing
    folder date (from ``_source_file``), else the date it landed."""
    folder = F.regexp_extract(F.col("_source_file"), FOLDER_DATE_PATTERN, 1)
    return F.coalesce(
        F.col("day"),
        F.to_date("gnss_time"),
        F.to_date("received_at"),
        F.when(folder != "", folder).cast("date"),
        F.to_date("_landed_at"),
    )


def record_counts(positions: DataFrame, quarantine: DataFrame) -> DataFrame:
    """silver.telematics__record_counts: every record received, per day / platform / vehicle.

    Records are deduplicated on (plate, plate_color, gnss_time) across silver and quarantine, the
    copy received last winning (tie: the qualified one, then the one landed last); quarantine
    rows without a full key count once each.
    """
    lineage_order = ["_landed_at", "_file_sm3", "_line"]
    silver = positions.select(
        F.to_date("gnss_time").alias("day"),
        "platform_id",
        "plate",
        "plate_color",
        "gnss_time",
        "received_at",
        F.lit(True).alias("qualified"),
        *lineage_order,
    )
    bad = quarantine.select(
        quarantine_day().alias("day"),
        "platform_id",
        "plate",
        "plate_color",
        "gnss_time",
        "received_at",
        F.lit(False).alias("qualified"),
        *lineage_order,
    )
    keyed = (
        F.col("plate").isNotNull()
        & F.col("plate_color").isNotNull()
        & F.col("gnss_time").isNotNull()
    )
    last_first = Window.partitionBy(*RECORD_KEY).orderBy(
        F.col("received_at").desc_nulls_last(),
        F.col("qualified").desc(),
        *[F.col(c).desc_nulls_last() for c in lineage_order],
    )
    # silver holds one row per key, so only keys that also occur in quarantine (a small table)
    # need ranking; every other silver row wins as it is — no sort of all the day's records
    bad_keyed = bad.where(keyed)
    contested = bad_keyed.select(*RECORD_KEY).distinct()
    ranked = (
        silver.join(contested, RECORD_KEY, "left_semi")
        .unionByName(bad_keyed)
        .withColumn("_rank", F.row_number().over(last_first))
        .where(F.col("_rank") == 1)
        .drop("_rank")
    )
    winners = (
        silver.join(contested, RECORD_KEY, "left_anti")
        .unionByName(ranked)
        .unionByName(bad.where(~keyed))
    )
    return (
        winners.groupBy("day", "platform_id", "plate", "plate_color")
        .agg(
            F.count(F.lit(1)).alias("records"),
            F.sum(F.when(F.col("qualified"), 1).otherwise(0)).alias("qualified_records"),
        )
        .select(
            F.col("day").cast("date"),
            F.col("platform_id").cast("string"),
            F.col("plate").cast("string"),
            F.col("plate_color").cast("int"),
            F.col("records").cast("bigint"),
            F.col("qualified_records").cast("bigint"),
        )
        .select(*RECORD_COUNT_COLUMNS)
    )

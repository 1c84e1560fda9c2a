"""Per-vehicle-day facts, violation events and record counts (transforms/telematics/facts.py).

One hand-built day: each plate is one scenario with a hand-computed answer. Positions move north
along a meridian so that a haversine length is exactly Δlat·R·π/180.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import math

import pytest
from pyspark.sql import functions as F
from pyspark.testing import assertDataFrameEqual

from transforms.rules import load_rules
from transforms.telematics.facts import (
    EVENT_COLUMNS,
    FACT_COLUMNS,
    RECORD_COUNT_COLUMNS,
    build_facts,
    record_counts,
)
from transforms.telematics.jobs.facts import publish_facts, table_location

RULES = load_rules(domain="telematics")
R = RULES["geo"]["earth_radius_km"]
KM_PER_DEG = R * math.pi / 180
DAY = dt.date(2026, 11, 2)
NEXT_DAY = dt.date(2026, 11, 3)
LON, LAT = 119.5, 26.0
COLOR = 2

POSITION_SCHEMA = (
    "platform_id string, plate string, plate_color int, gnss_time timestamp, lon double, "
    "lat double, speed double, received_at timestamp, day date, _source_file string, "
    "_line bigint, _file_sm3 string, _landed_at timestamp"
)
VEHICLE_SCHEMA = (
    "plate string, plate_color int, vehicle_type string, speed_limit_kmh double, route_id string, "
    "region_id string, route_exempt boolean, valid_from date, valid_to date"
)
ROUTE_SCHEMA = "route_id string, length_km double, polyline array<array<double>>"
REGION_SCHEMA = "region_id string, polygon array<array<double>>"
QUARANTINE_SCHEMA = (
    "platform_id string, plate string, plate_color int, gnss_time timestamp, day date, "
    "received_at timestamp, failed_rules array<string>, raw_record string, _source_file string, "
    "_line bigint, _file_sm3 string, _landed_at timestamp, _quarantined_at timestamp"
)
LANDED = dt.datetime(2026, 11, 3, 0, 30)


def north(km: float) -> float:
    """The latitude ``km`` north of LAT along the meridian."""
    return LAT + km / KM_PER_DEG


def at(hms: str, day: dt.date = DAY) -> dt.datetime:
    return dt.datetime.combine(day, dt.time.fromisoformat(hms))


def every(start: str, end: str, step_min: int = 5) -> list[str]:
    t, stop, out = at(start), at(end), []
    while t <= stop:
        out.append(t.time().isoformat())
        t += dt.timedelta(minutes=step_min)
    return out


# ---------------------------------------------------------------------------------------------
# the scenario day: plate -> points (time, lon, lat, speed); vehicles; routes; regions

POINTS: dict[str, list[tuple]] = {}


def add(
    plate: str,
    times: list[str],
    speed: float = 0.0,
    lon: float = LON,
    lat: float = LAT,
    day: dt.date = DAY,
) -> None:
    POINTS.setdefault(plate, []).extend((at(t, day), lon, lat, speed) for t in times)


# track: a 6 km gap in 10 min is broken (not a drift jump)
add("闽J0A001", ["08:00:00"], 30, lat=north(0))
add("闽J0A001", ["08:01:00"], 30, lat=north(1))
add("闽J0A001", ["08:11:00"], 30, lat=north(7))
add("闽J0A001", ["08:12:00"], 30, lat=north(8))
# drift: three 12 km jumps in 30 s each (1440 km/h): broken once each, a drift day
for t, km in [("10:00:00", 0), ("10:00:30", 12), ("10:01:00", 0), ("10:01:30", 12)]:
    add("闽J0B001", [t], lat=north(km))
# one drift jump; 12 km in 10 min (72 km/h) and 9 km in 30 s (< 10 km) are broken only
for t, km in [("10:00:00", 0), ("10:00:30", 12), ("10:10:30", 24), ("10:11:00", 33)]:
    add("闽J0B002", [t], lat=north(km))
# overspeed (limit 100): a 30 s run is not an event, 31 s is
add("闽J0C001", ["09:00:00", "09:00:10", "09:00:20", "09:00:30"], 110)
add("闽J0C001", ["09:00:40"], 90)
add("闽J0C002", ["09:00:00", "09:00:15", "09:00:31"], 110)
add("闽J0C002", ["09:00:40"], 90)
# runs 50 s apart merge, 70 s apart do not; a short run 30 s after an event extends it
for t, v in [
    ("09:00:00", 110),
    ("09:00:20", 120),
    ("09:00:40", 115),
    ("09:01:00", 90),
    ("09:01:30", 105),
    ("09:02:10", 108),
    ("09:02:40", 90),
    ("09:03:20", 130),
    ("09:04:00", 110),
    ("09:04:15", 95),
    ("09:04:30", 101),
    ("09:05:00", 50),
]:
    add("闽J0C003", [t], v)
# a short run before an event is not part of it (an event starts with a run > 30 s)
add("闽J0C004", ["08:59:30"], 140)
add("闽J0C004", ["08:59:40"], 90)
add("闽J0C004", ["09:00:00", "09:00:20", "09:00:40"], 110)
# no configured limit: never overspeed
add("闽J0C007", ["09:00:00", "09:00:20", "09:00:40"], 150)
# night bus (bus_charter, limit 100 → 80 at night): 85 km/h is over at 23:00, not at noon
add("闽J0C005", ["12:00:00", "12:00:20", "12:00:40"], 85)
add("闽J0C005", ["23:00:00", "23:00:20", "23:00:40"], 85)
# a truck at night keeps its day limit
add("闽J0C006", ["23:00:00", "23:00:20", "23:00:40"], 85)
# fatigue: 08:00–12:30 with a 15 min stop → 30 fatigued minutes
add("闽J0D001", every("08:00:00", "10:00:00"), 60)
add("闽J0D001", ["10:05:00", "10:10:00"], 0)
add("闽J0D001", every("10:15:00", "12:30:00"), 60)
# a 25 min stop breaks the session: 120 + 150 driving minutes, none fatigued
add("闽J0D002", every("08:00:00", "10:00:00"), 60)
add("闽J0D002", ["10:05:00", "10:10:00", "10:15:00", "10:20:00"], 0)
add("闽J0D002", every("10:25:00", "12:55:00"), 60)
# 20:30–23:30: 4 h never reached; at night the session is > 2 h old after 22:30 → 60 min
add("闽J0D003", every("20:30:00", "23:30:00"), 60)
# 03:00–08:00: night and > 2 h in (05:00, 06:00), > 4 h in (07:00, 08:00] → 120 min
add("闽J0D004", every("03:00:00", "08:00:00"), 60)
# a bus driving 240 + 240 + 65 = 545 min in three sessions: daily driving over 8 h, no fatigue
add("闽J0D005", every("06:00:00", "10:00:00"), 60)
add("闽J0D005", every("10:30:00", "14:30:00"), 60)
add("闽J0D005", every("15:00:00", "16:05:00"), 60)
# buses 02–05: the long route runs, the short (≤ 100 km) or flagged route is exempt
for plate in ("闽J0E001", "闽J0E002", "闽J0E003"):
    add(plate, ["02:30:00", "02:35:00", "02:40:00"], 50)
# outside the window (01:50, 05:00) or stopped (03:00): not running
add("闽J0E004", ["01:50:00", "05:00:00", "05:10:00"], 50)
add("闽J0E004", ["03:00:00"], 0)
# off-route (route along lat 26 from lon 119 to 120): 3 points 6 km off → an event
add("闽J0F001", ["14:00:00"], 40)
add("闽J0F001", ["14:01:00", "14:02:00", "14:03:00"], 40, lat=north(6))
add("闽J0F001", ["14:04:00"], 40)
add("闽J0F002", ["14:00:00"], 40)
add("闽J0F002", ["14:01:00", "14:02:00"], 40, lat=north(6))
add("闽J0F002", ["14:03:00"], 40)
add("闽J0F003", ["14:00:00", "14:01:00", "14:02:00", "14:03:00"], 40, lat=north(4))
# beyond the route's end: the distance is to the end vertex (0.1° of longitude at lat 26)
add("闽J0F004", ["14:00:00", "14:01:00", "14:02:00"], 40, lon=120.1)
# out-of-region (square lon 118–120, lat 25–27): 3 outside in a row → event; 2 → none
add("闽J0G001", ["15:00:00"], 40)
add("闽J0G001", ["15:01:00", "15:02:00", "15:03:00"], 40, lon=120.5)
add("闽J0G001", ["15:04:00"], 40)
add("闽J0G002", ["15:00:00"], 40)
add("闽J0G002", ["15:01:00", "15:02:00"], 40, lon=120.5)
add("闽J0G002", ["15:03:00"], 40)
add("闽J0G003", ["15:01:00", "15:02:00", "15:03:00"], 40, lon=120.5)  # ring given unclosed
# unknown vehicles are skipped: no master record, or a version starting later
add("闽J0H001", ["08:00:00"], 30)
add("闽J0H002", ["08:00:00"], 30)
# a segment never spans midnight
add("闽J0I001", ["23:59:00"], 30, lat=north(0))
add("闽J0I001", ["00:01:00"], 30, lat=north(6), day=NEXT_DAY)

SINCE = dt.date(2026, 1, 1)


def vehicle(
    plate,
    vtype="heavy_truck",
    limit=100.0,
    route=None,
    region=None,
    exempt=False,
    valid_from=SINCE,
    valid_to=None,
):
    return (plate, COLOR, vtype, limit, route, region, exempt, valid_from, valid_to)


VEHICLES = [
    # the version valid on DAY replaced a bus version
    vehicle("闽J0A001", "bus_scheduled", valid_to=DAY),
    vehicle("闽J0A001", "heavy_truck", valid_from=DAY),
    vehicle("闽J0B001"),
    vehicle("闽J0B002"),
    vehicle("闽J0C001"),
    vehicle("闽J0C002"),
    vehicle("闽J0C003"),
    vehicle("闽J0C004"),
    vehicle("闽J0C005", "bus_charter"),
    vehicle("闽J0C007", limit=None),
    vehicle("闽J0C006"),
    vehicle("闽J0D001"),
    vehicle("闽J0D002"),
    vehicle("闽J0D003"),
    vehicle("闽J0D004"),
    vehicle("闽J0D005", "bus_charter"),
    vehicle("闽J0E001", "bus_scheduled", route="R_LONG"),
    vehicle("闽J0E002", "bus_scheduled", route="R_SHORT"),
    vehicle("闽J0E003", "bus_scheduled", route="R_LONG", exempt=True),
    vehicle("闽J0E004", "bus_scheduled", route="R_LONG"),
    vehicle("闽J0F001", "bus_scheduled", route="R_LONG"),
    vehicle("闽J0F002", "bus_scheduled", route="R_LONG"),
    vehicle("闽J0F003", "bus_scheduled", route="R_LONG"),
    vehicle("闽J0F004", "bus_scheduled", route="R_LONG"),
    vehicle("闽J0G001", "bus_charter", region="SQUARE"),
    vehicle("闽J0G002", "bus_charter", region="SQUARE"),
    vehicle("闽J0G003", "bus_charter", region="OPEN"),
    vehicle("闽J0H002", valid_from=NEXT_DAY),
    vehicle("闽J0I001"),
]
ROUTES = [
    ("R_LONG", 300.0, [[119.0, 26.0], [119.5, 26.0], [120.0, 26.0]]),
    ("R_SHORT", 80.0, [[119.0, 26.0], [120.0, 26.0]]),
]
SQUARE = [[118.0, 25.0], [120.0, 25.0], [120.0, 27.0], [118.0, 27.0]]
REGIONS = [("SQUARE", [*SQUARE, SQUARE[0]]), ("OPEN", SQUARE)]


def positions_rows() -> list[tuple]:
    rows = []
    for plate, pts in POINTS.items():
        for i, (t, lon, lat, speed) in enumerate(pts):
            rows.append(
                ("P1", plate, COLOR, t, lon, lat, float(speed), t, t.date(), "f", i, "d", LANDED)
            )
    return rows


@pytest.fixture(scope="module")
def computed(spark):
    positions = spark.createDataFrame(positions_rows(), POSITION_SCHEMA)
    vehicles = spark.createDataFrame(VEHICLES, VEHICLE_SCHEMA)
    routes = spark.createDataFrame(ROUTES, ROUTE_SCHEMA)
    regions = spark.createDataFrame(REGIONS, REGION_SCHEMA)
    facts, events = build_facts(positions, vehicles, routes, regions, RULES)
    fact_rows = facts.collect()
    event_rows = events.collect()
    return facts, events, fact_rows, event_rows


@pytest.fixture(scope="module")
def facts(computed):
    return {(r["plate"], r["day"]): r.asDict() for r in computed[2]}


@pytest.fixture(scope="module")
def events(computed):
    out: dict[str, list[dict]] = {}
    for r in sorted(computed[3], key=lambda r: (r["plate"], r["kind"], r["start_at"])):
        out.setdefault(r["plate"], []).append(r.asDict())
    return out


def fact(facts, plate, day=DAY):
    return facts[(plate, day)]


def assert_row(actual: dict, expected: dict) -> None:
    """Equal keys; floats within 1e-12 relative (haversine of a meridian), the rest exactly."""
    assert list(actual) == list(expected)
    for name, value in expected.items():
        if isinstance(value, float):
            assert actual[name] == pytest.approx(value, rel=1e-12, abs=1e-12), name
        else:
            assert actual[name] == value and type(actual[name]) is type(value), name


def kinds(events, plate):
    return [e["kind"] for e in events.get(plate, [])]


# ---------------------------------------------------------------------------------------------
# contract


def test_output_columns_and_types(computed):
    facts_df, events_df, _, _ = computed
    assert facts_df.columns == FACT_COLUMNS
    assert events_df.columns == EVENT_COLUMNS
    assert [f.dataType.simpleString() for f in facts_df.schema.fields] == [
        "date",
        "string",
        "int",
        "string",
        "bigint",
        "double",
        "double",
        "double",
        "int",
        "boolean",
        "int",
        "double",
        "double",
        "boolean",
        "boolean",
        "boolean",
        "boolean",
        "boolean",
    ]
    assert [f.dataType.simpleString() for f in events_df.schema.fields] == [
        "string",
        "date",
        "string",
        "int",
        "string",
        "timestamp",
        "timestamp",
        "int",
        "double",
        "double",
        "double",
        "double",
        "double",
        "string",
    ]


def test_population_skips_unknown_vehicles_and_uses_the_version_of_the_day(facts):
    assert ("闽J0H001", DAY) not in facts
    assert ("闽J0H002", DAY) not in facts
    assert fact(facts, "闽J0A001")["vehicle_type"] == "heavy_truck"
    assert len(facts) == len(POINTS) - 2 + 1  # two unknown, one vehicle on two days


# ---------------------------------------------------------------------------------------------
# track


def test_broken_km_full_row(facts, events):
    assert_row(
        fact(facts, "闽J0A001"),
        {
            "day": DAY,
            "plate": "闽J0A001",
            "plate_color": COLOR,
            "vehicle_type": "heavy_truck",
            "qualified_points": 4,
            "total_km": 8.0,
            "broken_km": 6.0,
            "complete_km": 2.0,
            "drift_jumps": 0,
            "is_drift_day": False,
            "overspeed_events": 0,
            "driving_minutes": 12.0,
            "fatigue_minutes": 0.0,
            "bus_night_running": False,
            "off_route": False,
            "out_of_region": False,
            "daily_driving_over": False,
            "has_violation": False,
        },
    )
    assert "闽J0A001" not in events


def test_drift_jumps_count_broken_once_and_make_a_drift_day(facts, events):
    b1 = fact(facts, "闽J0B001")
    assert b1["drift_jumps"] == 3 and b1["is_drift_day"] is True
    assert b1["total_km"] == pytest.approx(36.0, rel=1e-12)
    assert b1["broken_km"] == pytest.approx(36.0, rel=1e-12)
    assert b1["complete_km"] == pytest.approx(0.0, abs=1e-9)
    assert b1["has_violation"] is False  # drift is a data-quality fact, not a violation
    assert kinds(events, "闽J0B001") == ["drift_jump"] * 3

    b2 = fact(facts, "闽J0B002")
    assert b2["drift_jumps"] == 1 and b2["is_drift_day"] is False
    assert b2["total_km"] == pytest.approx(33.0, rel=1e-12)
    assert b2["broken_km"] == pytest.approx(33.0, rel=1e-12)
    (jump,) = events["闽J0B002"]
    assert (jump["start_at"], jump["end_at"], jump["points"]) == (at("10:00:00"), at("10:00:30"), 2)
    assert (jump["lon"], jump["lat"]) == (LON, LAT)
    assert jump["minutes"] == pytest.approx(0.5)
    assert json.loads(jump["detail"]) == {"jump_km": 12.0, "implied_kmh": 1440.0}


def test_segments_never_span_midnight(facts):
    for day in (DAY, NEXT_DAY):
        row = fact(facts, "闽J0I001", day)
        assert (row["qualified_points"], row["total_km"], row["broken_km"]) == (1, 0.0, 0.0)


# ---------------------------------------------------------------------------------------------
# overspeed


def test_overspeed_run_must_last_more_than_30_s(facts, events):
    assert fact(facts, "闽J0C001")["overspeed_events"] == 0
    assert "闽J0C001" not in events
    assert fact(facts, "闽J0C002")["overspeed_events"] == 1
    (e,) = events["闽J0C002"]
    assert (e["start_at"], e["end_at"], e["points"], e["max_speed"], e["limit_kmh"]) == (
        at("09:00:00"),
        at("09:00:31"),
        3,
        110.0,
        100.0,
    )
    assert e["minutes"] == pytest.approx(31 / 60)
    assert fact(facts, "闽J0C002")["has_violation"] is True


def test_overspeed_runs_merge_within_60_s(facts, events):
    assert fact(facts, "闽J0C003")["overspeed_events"] == 2
    first, second = events["闽J0C003"]
    assert (first["start_at"], first["end_at"], first["points"], first["max_speed"]) == (
        at("09:00:00"),
        at("09:02:10"),
        5,
        120.0,
    )
    assert json.loads(first["detail"]) == {"runs": 2}
    assert (second["start_at"], second["end_at"], second["points"], second["max_speed"]) == (
        at("09:03:20"),
        at("09:04:30"),
        3,
        130.0,
    )
    assert json.loads(second["detail"]) == {"runs": 2}


def test_overspeed_event_starts_with_its_first_long_run(facts, events):
    (e,) = events["闽J0C004"]
    assert (e["start_at"], e["end_at"], e["points"], e["max_speed"]) == (
        at("09:00:00"),
        at("09:00:40"),
        3,
        110.0,
    )
    assert fact(facts, "闽J0C007")["overspeed_events"] == 0


def test_night_limit_for_buses_only(facts, events):
    (e,) = events["闽J0C005"]
    assert (e["kind"], e["start_at"], e["end_at"], e["limit_kmh"], e["max_speed"]) == (
        "overspeed",
        at("23:00:00"),
        at("23:00:40"),
        80.0,
        85.0,
    )
    assert fact(facts, "闽J0C006")["overspeed_events"] == 0


def test_event_id_is_sha1_of_kind_plate_color_start(events):
    (e,) = events["闽J0C002"]
    expected = hashlib.sha1("overspeed|闽J0C002|2|2026-11-02 09:00:31".encode()).hexdigest()
    assert e["event_id"] != expected  # start_at, not end_at
    expected = hashlib.sha1("overspeed|闽J0C002|2|2026-11-02 09:00:00".encode()).hexdigest()
    assert e["event_id"] == expected


# ---------------------------------------------------------------------------------------------
# fatigue


def test_fatigue_day_session_bridges_a_15_min_stop(facts, events):
    row = fact(facts, "闽J0D001")
    assert (row["driving_minutes"], row["fatigue_minutes"]) == (270.0, 30.0)
    (e,) = events["闽J0D001"]
    assert (e["kind"], e["start_at"], e["end_at"], e["minutes"], e["points"]) == (
        "fatigue",
        at("12:00:00"),
        at("12:30:00"),
        30.0,
        7,
    )
    assert json.loads(e["detail"]) == {
        "session_start_at": "2026-11-02 08:00:00",
        "session_minutes": 270.0,
    }


def test_fatigue_25_min_stop_breaks_the_session(facts, events):
    row = fact(facts, "闽J0D002")
    assert (row["driving_minutes"], row["fatigue_minutes"]) == (270.0, 0.0)
    assert row["has_violation"] is False
    assert "闽J0D002" not in events


def test_fatigue_at_night_after_two_hours(facts, events):
    row = fact(facts, "闽J0D003")
    assert (row["driving_minutes"], row["fatigue_minutes"]) == (180.0, 60.0)
    (e,) = events["闽J0D003"]
    assert (e["start_at"], e["end_at"], e["minutes"]) == (at("22:30:00"), at("23:30:00"), 60.0)


def test_fatigue_split_at_0600(facts, events):
    row = fact(facts, "闽J0D004")
    assert (row["driving_minutes"], row["fatigue_minutes"]) == (300.0, 120.0)
    (e,) = events["闽J0D004"]
    assert (e["start_at"], e["end_at"], e["minutes"]) == (at("05:00:00"), at("08:00:00"), 120.0)


def test_daily_driving_over_for_buses(facts, events):
    row = fact(facts, "闽J0D005")
    assert row["driving_minutes"] == 545.0
    assert row["fatigue_minutes"] == 0.0  # 4 h exactly is not "more than 4 h"
    assert row["daily_driving_over"] is True
    assert row["has_violation"] is False
    (e,) = events["闽J0D005"]
    assert (e["kind"], e["start_at"], e["end_at"]) == (
        "daily_driving_over",
        at("06:00:00"),
        at("16:05:00"),
    )
    assert json.loads(e["detail"]) == {"driving_minutes": 545.0, "limit_minutes": 480.0}
    assert fact(facts, "闽J0D001")["daily_driving_over"] is False  # a truck


# ---------------------------------------------------------------------------------------------
# buses 02–05, off-route, out-of-region


def test_bus_night_running_unless_exempt(facts, events):
    assert fact(facts, "闽J0E001")["bus_night_running"] is True
    assert fact(facts, "闽J0E001")["has_violation"] is True
    (e,) = events["闽J0E001"]
    assert (e["kind"], e["start_at"], e["end_at"], e["points"]) == (
        "bus_night_running",
        at("02:30:00"),
        at("02:40:00"),
        3,
    )
    for plate in ("闽J0E002", "闽J0E003", "闽J0E004"):
        assert fact(facts, plate)["bus_night_running"] is False, plate
        assert plate not in events, plate


def test_off_route_needs_three_points_beyond_the_corridor(facts, events):
    assert fact(facts, "闽J0F001")["off_route"] is True
    (e,) = events["闽J0F001"]
    assert (e["kind"], e["start_at"], e["end_at"], e["points"]) == (
        "off_route",
        at("14:01:00"),
        at("14:03:00"),
        3,
    )
    assert e["lat"] == pytest.approx(north(6))
    assert json.loads(e["detail"]) == {"route_id": "R_LONG", "max_km": 6.0}
    for plate in ("闽J0F002", "闽J0F003"):
        assert fact(facts, plate)["off_route"] is False, plate
        assert plate not in events, plate


def test_off_route_distance_is_to_segments_clamped_at_the_end(events):
    (e,) = events["闽J0F004"]
    expected = round(0.1 * math.cos(math.radians(LAT)) * KM_PER_DEG, 3)
    assert json.loads(e["detail"])["max_km"] == expected


def test_out_of_region_three_outside_points(facts, events):
    assert fact(facts, "闽J0G001")["out_of_region"] is True
    (e,) = [e for e in events["闽J0G001"] if e["kind"] == "out_of_region"]
    assert (e["kind"], e["start_at"], e["end_at"], e["points"], e["lon"]) == (
        "out_of_region",
        at("15:01:00"),
        at("15:03:00"),
        3,
        120.5,
    )
    assert fact(facts, "闽J0G002")["out_of_region"] is False
    assert "out_of_region" not in kinds(events, "闽J0G002")
    assert fact(facts, "闽J0G003")["out_of_region"] is True  # the open ring is closed


# ---------------------------------------------------------------------------------------------
# record counts


def test_record_counts_dedup_across_silver_and_quarantine(spark):
    def silver(plate_time, received, platform="PL1"):
        t = at(plate_time)
        return (
            platform,
            "闽J00001",
            COLOR,
            t,
            LON,
            LAT,
            30.0,
            at(received),
            DAY,
            "f",
            1,
            "a",
            LANDED,
        )

    def bad(plate_time, received, platform="PL1", plate="闽J00001", color=COLOR, source="q"):
        t = at(plate_time) if plate_time else None
        r = at(received[0], received[1]) if received else None
        day = t.date() if t else None
        return (
            platform,
            plate,
            color,
            t,
            day,
            r,
            ["speed_in_range"],
            "{}",
            source,
            1,
            "b",
            LANDED,
            LANDED,
        )

    positions = spark.createDataFrame(
        [
            silver("08:00:00", "08:00:05"),  # a later unqualified copy wins (other platform)
            silver("08:01:00", "08:01:10"),  # the later qualified copy wins
            silver("08:02:00", "08:02:05"),  # a tie: the qualified one wins
            silver("08:03:00", "08:03:05"),
        ],
        POSITION_SCHEMA,
    )
    folder = "landing/telematics/positions/2026-11-02/p1.jsonl"
    quarantine = spark.createDataFrame(
        [
            bad("08:00:00", ("08:00:10", DAY), platform="PL2"),
            bad("08:01:00", ("08:01:05", DAY)),
            bad("08:02:00", ("08:02:05", DAY)),
            bad("08:04:00", ("08:04:05", DAY)),  # two copies, quarantine only: once
            bad("08:04:00", ("08:04:06", DAY)),
            bad(None, None, platform=None, plate=None, color=None, source=folder),  # malformed
            bad(None, None, platform=None, plate=None, color=None, source=folder),
            bad(None, ("01:00:00", NEXT_DAY), platform="PX"),  # no gnss_time: received day
        ],
        QUARANTINE_SCHEMA,
    )
    expected = spark.createDataFrame(
        [
            (DAY, "PL1", "闽J00001", COLOR, 4, 3),
            (DAY, "PL2", "闽J00001", COLOR, 1, 0),
            (DAY, None, None, None, 2, 0),
            (NEXT_DAY, "PX", "闽J00001", COLOR, 1, 0),
        ],
        "day date, platform_id string, plate string, plate_color int, records bigint, "
        "qualified_records bigint",
    )
    actual = record_counts(positions, quarantine)
    assert actual.columns == RECORD_COUNT_COLUMNS
    assertDataFrameEqual(actual, expected)


# ---------------------------------------------------------------------------------------------
# the job


def test_publish_facts_replaces_days_idempotently(spark, tmp_path):
    lake = tmp_path / "lake"
    positions = spark.createDataFrame(positions_rows(), POSITION_SCHEMA).where(
        F.col("plate").isin("闽J0A001", "闽J0C002", "闽J0I001")
    )
    positions.write.format("delta").partitionBy("day").save(
        str(table_location(lake, "silver.telematics__positions"))
    )
    spark.createDataFrame(VEHICLES, VEHICLE_SCHEMA).write.format("delta").save(
        str(table_location(lake, "silver.telematics__vehicles"))
    )
    # no quarantine, routes or regions yet: empty inputs
    first = publish_facts(spark, lake, RULES)
    assert (first.days, first.vehicle_day_facts, first.violation_events, first.record_counts) == (
        [DAY, NEXT_DAY],
        4,
        1,
        4,
    )
    again = publish_facts(spark, lake, RULES, days=[DAY])
    assert (again.vehicle_day_facts, again.violation_events, again.record_counts) == (3, 1, 3)

    def rows(name):
        return spark.read.format("delta").load(str(table_location(lake, name)))

    facts = rows("silver.telematics__vehicle_day_facts")
    assert facts.columns == FACT_COLUMNS
    assert facts.count() == 4
    events = rows("silver.telematics__violation_events")
    assert events.columns == EVENT_COLUMNS
    assert events.select("kind", "start_at").collect() == [("overspeed", at("09:00:00"))]
    counts = rows("silver.telematics__record_counts")
    assert counts.columns == RECORD_COUNT_COLUMNS
    assert sorted(counts.select("day", "plate", "records", "qualified_records").collect()) == [
        (DAY, "闽J0A001", 4, 4),
        (DAY, "闽J0C002", 4, 4),
        (DAY, "闽J0I001", 1, 1),
        (NEXT_DAY, "闽J0I001", 1, 1),
    ]
    assert spark.table("silver.telematics__vehicle_day_facts").count() == 4

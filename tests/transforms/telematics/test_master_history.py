"""Master-data history (transforms/telematics/master.py) and the geometry of the day in the facts.

Counties, routes and regions keep every version (SCD2) like vehicles do; the facts check a day
against the route and region approved on that day, and a key's first version also covers the days
before it.
"""

from __future__ import annotations

import copy
import datetime as dt
import json

import pytest

from transforms.lake.landing import empty_bronze
from transforms.rules import load_rules
from transforms.telematics.facts import build_facts
from transforms.telematics.feeds import COUNTIES, REGIONS, ROUTES
from transforms.telematics.master import county_history, region_history, route_history

RULES = load_rules(domain="telematics")
D0, D1, D2 = dt.date(2026, 11, 1), dt.date(2026, 11, 2), dt.date(2026, 11, 3)
LANDED = dt.datetime(2026, 11, 4, 0, 30)
LINE_ALONG = [[119.0, 26.0], [120.0, 26.0]]  # the road at lat 26.0
LINE_NORTH = [[119.0, 26.5], [120.0, 26.5]]  # 55 km north of it
SQUARE = [[119.0, 25.5], [120.0, 25.5], [120.0, 26.5], [119.0, 26.5]]  # contains the road
FAR_SQUARE = [[121.0, 25.5], [122.0, 25.5], [122.0, 26.5], [121.0, 26.5]]  # does not


def bronze(spark, feed, rows: list[tuple[dt.date, str, int, dict[str, str]]]):
    """Bronze rows of ``feed``: (folder date, source file, line, fields as strings)."""
    schema = empty_bronze(spark, feed).schema
    out = []
    for folder, source, line, fields in rows:
        record = {f.name: None for f in schema}
        record.update(fields, _folder_date=folder, _source_file=source, _line=line)
        record["_landed_at"] = LANDED
        out.append(tuple(record[f.name] for f in schema))
    return spark.createDataFrame(out, schema)


def versions(frame, key: str, *attributes: str) -> list[tuple]:
    order = [key, "valid_from"]
    cols = [key, *attributes, "valid_from", "valid_to", "is_current"]
    return [tuple(r) for r in frame.orderBy(*order).select(*cols).collect()]


def test_county_history_keeps_a_rename_and_ignores_a_resend(spark):
    def county(name: str) -> dict[str, str]:
        return {"county_code": "350981", "name": name, "city_code": "3509", "province_code": "35"}

    rows = [
        (D0, "landing/counties/2026-11-01/c.csv", 1, county("福安县")),
        (D1, "landing/counties/2026-11-02/c.csv", 1, county("福安县")),  # the same again
        (D2, "landing/counties/2026-11-03/a.csv", 1, county("福安旧市")),
        (D2, "landing/counties/2026-11-03/b.csv", 1, county("福安市")),  # later file wins
    ]
    got = versions(county_history(bronze(spark, COUNTIES, rows)), "county_code", "name")
    assert got == [
        ("350981", "福安县", D0, D2, False),
        ("350981", "福安市", D2, None, True),
    ]


def test_route_and_region_history_parse_the_geometry_of_each_version(spark):
    def route(line, km: str) -> dict[str, str]:
        return {
            "route_id": "R1",
            "name": "宁德—福州",
            "length_km": km,
            "polyline": json.dumps(line),
        }

    routes = route_history(
        bronze(
            spark,
            ROUTES,
            [
                (D0, "r.jsonl", 1, route(LINE_ALONG, "300")),
                (D2, "r.jsonl", 1, route(LINE_NORTH, "80")),
            ],
        )  # fmt: skip
    )
    assert versions(routes, "route_id", "length_km", "polyline") == [
        ("R1", 300.0, LINE_ALONG, D0, D2, False),
        ("R1", 80.0, LINE_NORTH, D2, None, True),
    ]

    def region(polygon) -> dict[str, str]:
        return {"region_id": "G1", "name": "闽东", "polygon": json.dumps(polygon)}

    regions = region_history(
        bronze(
            spark,
            REGIONS,
            [(D1, "g.jsonl", 1, region(SQUARE)), (D2, "g.jsonl", 1, region(FAR_SQUARE))],
        )  # fmt: skip
    )
    assert versions(regions, "region_id", "polygon") == [
        ("G1", SQUARE, D1, D2, False),
        ("G1", FAR_SQUARE, D2, None, True),
    ]


def scenario_facts(spark, rules, region_versions=None):
    """Route R1 runs along the road until D2, then 55 km north (and is 80 km long: exempt from
    the 02–05 rule); region G1 contains the road until D2, then lies east of it; both vehicles
    drive three points along the road at 03:00 on D0, D1 and D2. The region's first version landed
    D1 (``region_versions`` replaces G1's). Returns {(plate, day): (off_route, out_of_region,
    bus_night_running)} and the events."""
    routes = spark.createDataFrame(
        [("R1", 300.0, LINE_ALONG, D0, D2), ("R1", 80.0, LINE_NORTH, D2, None)],
        "route_id string, length_km double, polyline array<array<double>>, valid_from date, "
        "valid_to date",
    )
    regions = spark.createDataFrame(
        region_versions or [("G1", SQUARE, D1, D2), ("G1", FAR_SQUARE, D2, None)],
        "region_id string, polygon array<array<double>>, valid_from date, valid_to date",
    )
    vehicles = spark.createDataFrame(
        [
            ("闽JR0001", 2, "bus_scheduled", 100.0, "R1", None, False, D0, None),
            ("闽JG0001", 2, "bus_charter", 100.0, None, "G1", False, D0, None),
        ],  # fmt: skip
        "plate string, plate_color int, vehicle_type string, speed_limit_kmh double, "
        "route_id string, region_id string, route_exempt boolean, valid_from date, valid_to date",
    )
    points = [
        (plate, day, hms, lon)
        for plate in ("闽JR0001", "闽JG0001")
        for day in (D0, D1, D2)
        for hms, lon in [("03:00:00", 119.50), ("03:01:00", 119.51), ("03:02:00", 119.52)]
    ]
    positions = spark.createDataFrame(
        [
            (
                "P1",
                plate,
                2,
                dt.datetime.combine(day, dt.time.fromisoformat(hms)),
                lon,
                26.0,
                30.0,
                LANDED,
                day,
                "f",
                i,
                "d",
                LANDED,
            )
            for i, (plate, day, hms, lon) in enumerate(points)
        ],  # fmt: skip
        "platform_id string, plate string, plate_color int, gnss_time timestamp, lon double, "
        "lat double, speed double, received_at timestamp, day date, _source_file string, "
        "_line bigint, _file_sm3 string, _landed_at timestamp",
    )
    facts, events = build_facts(positions, vehicles, routes, regions, rules)
    flags = {
        (r["plate"], r["day"]): (r["off_route"], r["out_of_region"], r["bus_night_running"])
        for r in facts.collect()
    }
    return flags, events.collect()


def test_facts_use_the_route_and_region_of_the_day(spark):
    flags, events = scenario_facts(spark, RULES)
    assert flags == {
        # the long route along the road: on route, not exempt from 02–05
        ("闽JR0001", D0): (False, False, True),
        ("闽JR0001", D1): (False, False, True),
        # the short route to the north: off route, and exempt
        ("闽JR0001", D2): (True, False, False),
        # the square around the road: inside; D0 is before the region's first version (the
        # 02–05 rule is the scheduled buses' only)
        ("闽JG0001", D0): (False, False, False),
        ("闽JG0001", D1): (False, False, False),
        ("闽JG0001", D2): (False, True, False),
    }
    (off,) = [e for e in events if e["kind"] == "off_route"]
    assert (off["day"], json.loads(off["detail"])["route_id"]) == (D2, "R1")


def test_days_before_the_first_version_can_be_left_unchecked(spark):
    """attribution.geometry_before_first_version. G1's only version lands D1 and lies east of the
    road: with first_version it is also D0's region (out of region on D0), with none D0 has no
    region and is not checked."""
    far_from_d1 = [("G1", FAR_SQUARE, D1, None)]
    flags, _ = scenario_facts(spark, RULES, far_from_d1)
    assert [flags[("闽JG0001", d)][1] for d in (D0, D1, D2)] == [True, True, True]
    rules = copy.deepcopy(RULES)
    rules["attribution"]["geometry_before_first_version"] = "none"
    flags, _ = scenario_facts(spark, rules, far_from_d1)
    assert [flags[("闽JG0001", d)][1] for d in (D0, D1, D2)] == [False, True, True]
    rules["attribution"]["geometry_before_first_version"] = "sometimes"
    with pytest.raises(ValueError, match="geometry_before_first_version"):
        scenario_facts(spark, rules)

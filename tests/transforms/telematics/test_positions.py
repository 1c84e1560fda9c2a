"""Typing and qualification tagging of position records (transforms/telematics/positions.py)."""

import datetime as dt

import pyarrow as pa
from pyspark.sql import functions as F
from pyspark.testing import assertDataFrameEqual

from transforms.lake.protection import ProtectionKeys, protect
from transforms.rules import load_rules
from transforms.telematics.feeds import PHONE, POSITIONS
from transforms.telematics.positions import qualified, tag_rules, typed_positions

RULES = load_rules(domain="telematics")
FIELDS = list(POSITIONS.stored_fields)  # bronze: the phone as its three protected columns
GOOD = {
    "platform_id": "35090001",
    "plate": "闽J12345",
    "plate_color": "2",
    "gnss_time": "2026-11-02 08:00:00",
    "lon": "119.5",
    "lat": "26.6",
    "speed": "40",
    "recorder_speed": "39",
    "mileage_km": "100.5",
    "direction": "90",
    "altitude": "20",
    "state": "3",
    "alarm": "0",
    "received_at": "2026-11-02 08:00:05",
}
LANDED = dt.datetime(2026, 11, 2, 9, 0, 0)


def bronze(spark, rows):
    data = [
        tuple({**GOOD, **r}.get(f) for f in FIELDS) + (f"f{i}.jsonl", i, "d" * 64, LANDED)
        for i, r in enumerate(rows, start=1)
    ]
    schema = ", ".join(f"{f} string" for f in FIELDS) + (
        ", _source_file string, _line bigint, _file_sm3 string, _landed_at timestamp"
    )
    return spark.createDataFrame(data, schema)


def failed(spark, overrides):
    df = tag_rules(typed_positions(bronze(spark, [overrides]), RULES), RULES)
    return df.select("failed_rules").first()[0]


def test_good_record_is_qualified(spark):
    assert failed(spark, {}) == []


def test_each_defect_fails_exactly_its_rule(spark):
    cases = {
        "plate_valid": {"plate": "闽J1234"},
        "plate_color_valid": {"plate_color": "7"},
        "gnss_time_valid": {"gnss_time": "2026-11-02T08:00:00Z"},
        "gnss_time_not_future": {"gnss_time": "2026-11-02 08:05:06"},
        "lon_in_range": {"lon": "200"},
        "lat_in_range": {"lat": "3.84"},
        "speed_in_range": {"speed": "160.1"},
        "recorder_speed_in_range": {"recorder_speed": "-1"},
        "mileage_km_valid": {"mileage_km": "abc"},
        "direction_in_range": {"direction": "360"},
        "altitude_in_range": {"altitude": "6501"},
        "state_present": {"state": None},
        "alarm_present": {"alarm": "1.5"},
    }
    got = {rule: failed(spark, override) for rule, override in cases.items()}
    assert got == {rule: [rule] for rule in cases}


def test_bounds_are_inclusive(spark):
    edges = {
        "lon": "73.55",
        "lat": "53.55",
        "speed": "160",
        "direction": "359",
        "altitude": "-200",
        "gnss_time": "2026-11-02 08:05:05",
    }
    assert failed(spark, edges) == []


def test_missing_received_at_falls_back_to_landing_time(spark):
    df = typed_positions(bronze(spark, [{"received_at": None}]), RULES)
    assert df.select("received_at").first()[0] == LANDED


def test_late_records_are_qualified_but_flagged(spark):
    df = tag_rules(
        typed_positions(bronze(spark, [{"gnss_time": "2026-10-20 08:00:00"}]), RULES), RULES
    )
    row = df.select("failed_rules", "is_late", "day").first()
    assert row == ([], True, dt.date(2026, 10, 20))


def test_duplicates_keep_the_copy_received_last(spark, tmp_path):
    rows = [
        {"speed": "10", "received_at": "2026-11-02 08:00:05"},
        {"speed": "20", "received_at": "2026-11-02 08:00:09"},  # received last: wins
        {"speed": "30", "received_at": "2026-11-02 08:00:07"},
        {"gnss_time": "2026-11-02 08:00:30", "received_at": "2026-11-02 08:00:35"},
    ]
    tagged = tag_rules(typed_positions(bronze(spark, rows), RULES), RULES)
    out = qualified(tagged, tmp_path / "repeated").select("gnss_time", "speed", "_line")
    expected = spark.createDataFrame(
        [
            (dt.datetime(2026, 11, 2, 8, 0, 0), 20.0, 2),
            (dt.datetime(2026, 11, 2, 8, 0, 30), 40.0, 4),
        ],
        "gnss_time timestamp, speed double, _line bigint",
    )
    assertDataFrameEqual(out, expected)


def test_raw_record_keeps_the_strings_as_received(spark):
    df = tag_rules(typed_positions(bronze(spark, [{"speed": "fast"}, {}]), RULES), RULES)
    raws = df.orderBy("_line").select(F.get_json_object("raw_record", "$.speed")).collect()
    raw = raws[0][0]
    assert raws[1][0] is None  # a qualified record carries no raw copy
    assert raw == "fast"


def test_808_terminal_phones_map_to_the_current_vehicle(spark):
    from transforms.telematics.positions import attach_terminals

    def protected(rows, names):
        """Rows as landing writes them: the phone encrypted, hashed and masked."""
        table = pa.table(
            {
                n: pa.array(col, pa.string())
                for n, col in zip(names, zip(*rows, strict=True), strict=True)
            }
        )
        table = protect(table, (PHONE,), ProtectionKeys.load())
        return spark.createDataFrame(table.to_pandas())

    bronze = protected(
        [("018091389441", None, None), ("013900000000", None, None), (None, "闽J1", "2")],
        ["terminal_phone", "plate", "plate_color"],
    )
    vehicles = protected(
        [("闽J03077", "18091389441", "true"), ("闽J00001", "18091389441", "false")],
        ["plate", "terminal_phone", "is_current"],
    ).select(
        "plate",
        F.lit(2).alias("plate_color"),
        *PHONE.columns,
        (F.col("is_current") == "true").alias("is_current"),
    )
    got = {
        tuple(r)
        for r in attach_terminals(bronze, vehicles).select("plate", "plate_color").collect()
    }
    # the BCD phone is zero-padded on the wire; an unknown phone stays without a plate
    assert got == {(None, None), ("闽J03077", "2"), ("闽J1", "2")}

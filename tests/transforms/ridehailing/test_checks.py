"""The record-level checks of one interface's lines (transforms/ridehailing/checks.py): every format
kind of Appendix A, the mandatory fields, the record's own truthfulness rules, event times and
natural keys — each case a line with the rule it must (or must not) fail."""

from __future__ import annotations

import datetime as dt

import pytest

from transforms.ridehailing.checks import key_missing, records
from transforms.ridehailing.feeds import FEED_BY_INTERFACE
from transforms.ridehailing.interfaces import interface
from transforms.rules import load_rules

RULES = load_rules(None, domain="ridehailing")
COMMON = {
    "CompanyId": "C1", "Address": "350100", "Flag": "1", "State": "0",
    "UpdateTime": "20261102090000", "Encrypt": "1", "received_at": "2026-11-02 09:00:10",
}  # fmt: skip


def _run(spark, name: str, lines: list[dict]) -> list[dict]:
    """The record rows of ``lines`` (bronze strings: the feed's stored fields) of ``name``."""
    feed = FEED_BY_INTERFACE[name]
    rows = [
        (*[({**COMMON, **line}).get(c) for c in feed.stored_fields],
         "f.jsonl", i + 1, "d", dt.datetime(2026, 11, 2, 10))
        for i, line in enumerate(lines)
    ]  # fmt: skip
    ddl = ", ".join(f"`{c}` string" for c in feed.stored_fields)
    frame = spark.createDataFrame(
        rows, f"{ddl}, _source_file string, _line bigint, _file_sm3 string, _landed_at timestamp"
    )
    spec = interface(name)
    out = records(frame.where(~key_missing(spec)), spec, RULES).orderBy("_line").collect()
    return [r.asDict() for r in out]


PAY = {
    "OrderId": "O1", "OnArea": "350100", "LicenseId_hmac": "h1", "LicenseId_masked": "350102********1234",
    "VehicleNo": "闽A12345", "FareType": "F1", "DepTime": "20261102083000",
    "DestTime": "20261102085000", "DriveMile": "5.2", "DriveTime": "1200", "FactPrice": "23.50",
    "Price": "23.50", "PayState": "1", "PayTime": "20261102085500", "OrderMatchTime": "20261102082000",
    "UpdateTime": "20261102085500", "received_at": "2026-11-02 08:56:00",
}  # fmt: skip


@pytest.mark.parametrize(
    ("change", "rule"),
    [
        ({}, None),
        ({"DriveMile": "5.25"}, "number:DriveMile"),  # N10.1: one decimal at most
        ({"DriveMile": "-1"}, "range:DriveMile"),
        ({"DriveMile": "abc"}, "number:DriveMile"),
        ({"FactPrice": "12345678901"}, "number:FactPrice"),  # 11 digits
        ({"DepTime": "20261302083000"}, "time:DepTime"),  # month 13
        ({"DepTime": "20260230083000"}, "time:DepTime"),  # 30 February
        ({"DepTime": "2026110208300"}, "time:DepTime"),  # 13 digits
        ({"OnArea": "35010"}, "division:OnArea"),
        ({"Address": "35010A"}, "division:Address"),
        ({"Flag": "4"}, "code:Flag"),
        ({"Encrypt": "5"}, "code:Encrypt"),
        ({"PayState": "x" * 33}, "length:PayState"),  # V32
    ],
)
def test_normativity_of_each_format_kind(spark, change, rule):
    (row,) = _run(spark, "operatePay", [{**PAY, **change}])
    assert row["normativity_failed"] == ([rule] if rule else [])
    assert row["completeness_failed"] == []


def test_fixed_length_code_and_coordinates(spark):
    base = {
        "VehicleNo": "闽A12345", "PlateColor": "5", "Seats": "5", "Brand": "比亚迪", "Model": "秦",
        "VehicleType": "轿车", "OwnerName_hmac": "h", "OwnerName_masked": "张*",
        "VIN": "LGXC1234567890123", "Certificate": "c", "TransArea": "福州",
        "TransDateStart": "20200101", "TransDateStop": "20300101", "CheckState": "1",
        "RegisterDate": "20200101", "CommercialType": "1",
    }  # fmt: skip
    rows = _run(
        spark,
        "baseInfoVehicle",
        [base, {**base, "VIN": "LGXC123456789012"}, {**base, "PlateColor": "7"},
         {**base, "Seats": "0"}, {**base, "TransDateStop": "20301301"}],
    )  # fmt: skip
    assert [r["normativity_failed"] for r in rows] == [
        [],
        ["length:VIN"],
        ["code:PlateColor"],
        ["range:Seats"],
        ["date:TransDateStop"],
    ]
    order = {
        "OrderId": "O9", "DepartTime": "20261102091000", "OrderTime": "20261102090000",
        "Departure": "A", "DepLongitude": "119300000", "DepLatitude": "26080000",
        "Destination": "B", "DestLongitude": "119310000", "DestLatitude": "26090000",
        "FareType": "F1", "UpdateTime": "20261102090000",
    }  # fmt: skip
    rows = _run(
        spark,
        "orderCreate",
        [order, {**order, "DepLongitude": "200000000"}, {**order, "DepLatitude": "26.08"}],
    )
    assert [r["normativity_failed"] for r in rows] == [
        [],
        ["coordinate:DepLongitude"],
        ["coordinate:DepLatitude"],
    ]
    # a booked departure ahead of the record's reception is no "future time"; one in 1970 is
    assert rows[0]["truth_failed"] == []
    (old,) = _run(spark, "orderCreate", [{**order, "DepartTime": "19700101000000"}])
    assert old["truth_failed"] == ["before_2000:DepartTime"]


def test_completeness_and_conditional_order_id(spark):
    point = {
        "LicenseId_hmac": "h1", "LicenseId_masked": "350102********1234", "VehicleNo": "闽A1",
        "PositionTime": "1793581200", "Longitude": "119300000", "Latitude": "26080000",
        "Direction": "90", "Elevation": "10", "Speed": "40", "BizStatus": "3",
        "received_at": "2026-11-02 09:00:30",
    }  # fmt: skip
    rows = _run(
        spark,
        "positionDriver",
        [point, {**point, "BizStatus": "1"}, {**point, "BizStatus": "1", "OrderId": "O1"},
         {**point, "Speed": " "}, {**point, "Encrypt": None}],
    )  # fmt: skip
    assert [r["completeness_failed"] for r in rows] == [
        [],
        ["missing:OrderId"],
        [],
        ["missing:Speed"],
        ["missing:Encrypt"],
    ]
    # unix seconds → GMT+8 wall clock: 1793581200 is 2026-11-02 01:00:00 UTC
    assert rows[0]["event_time"] == dt.datetime(2026, 11, 2, 9, 0, 0)
    assert rows[0]["period_month"] == "2026-11"
    # the driver's licence number is keyed by its join hash, shown masked
    assert rows[0]["natural_key"] == "C1|h1|1793581200"
    assert rows[0]["record_key"] == "C1|350102********1234|1793581200"


def test_own_truthfulness_rules(spark):
    rows = _run(
        spark,
        "operatePay",
        [
            {**PAY, "DepTime": "19700101080000"},
            {**PAY, "PayTime": "20261102090000"},  # after its reception (08:56)
            {**PAY, "DriveMile": "0.0"},
            {**PAY, "DriveTime": "0"},
            {**PAY, "PayTime": None, "DriveMile": "0.0", "UpdateTime": "20261102085000"},
        ],
    )
    assert [r["truth_failed"] for r in rows] == [
        ["before_2000:DepTime"],
        ["after_received:PayTime"],
        ["paid_drive_mile:DriveMile"],
        ["paid_drive_time:DriveTime"],
        [],  # unpaid: no minimum mileage
    ]
    # unpaid: the event time is DestTime
    assert rows[4]["event_time"] == dt.datetime(2026, 11, 2, 8, 50)


def test_missing_event_time_counts_in_the_month_received(spark):
    (row,) = _run(
        spark,
        "orderCancel",
        [{"OrderId": "O2", "OrderTime": "20261031235000", "CancelTime": "garbage",
          "Operator": "1", "CancelTypeCode": "1", "received_at": "2026-11-01 00:01:00"}],
    )  # fmt: skip
    assert row["event_time"] is None
    assert row["period_month"] == "2026-11"
    assert row["normativity_failed"] == ["time:CancelTime"]

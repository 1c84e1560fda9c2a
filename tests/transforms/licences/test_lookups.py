"""Qualification lookups: the 核验 rule for one licence (pure), and the same rule as a DataFrame
join at scale (`qualified_at`) on silver-shaped rows."""

from __future__ import annotations

import datetime as dt

import pytest
from pyspark.sql import functions as F

from transforms.crypto import sm3
from transforms.licences.lookups import (
    holder_hmac,
    kind_condition,
    licence_valid_at,
    parse_at,
    qualified_at,
    reason_of,
    vehicle_holder_key,
    with_holder_hmac,
)
from transforms.rules import load_rules

RULES = load_rules(domain="licences")
JOIN = bytes(range(32))
T = dt.datetime.fromisoformat


def version(no="N1", v=1, issued="2026-03-01 10:00:00", status="valid", valid_from="2026-03-01",
            valid_to="2026-12-31", holder="H", **extra) -> dict:  # fmt: skip
    return {"licence_no": no, "version": v, "issued_at": T(issued), "status": status,
            "valid_from": dt.date.fromisoformat(valid_from),
            "valid_to": dt.date.fromisoformat(valid_to), "holder_key_hmac": holder,
            "holder_key_masked": "M", "licence_type": "qualification", "received_at": T(issued),
            **extra}  # fmt: skip


VERSIONS = [
    version(v=1),
    version(v=2, issued="2026-04-01 00:00:00", status="suspended"),
    version(no="N2", v=1, issued="2026-01-01 00:00:00", holder="H"),
]


@pytest.mark.parametrize(
    ("at", "holder", "result", "reason", "v"),
    [
        ("2026-03-15 00:00:00", None, "valid", None, 1),
        ("2026-03-15 00:00:00", "H", "valid", None, 1),
        ("2026-03-15 00:00:00", "X", "invalid", "holder_mismatch", 1),
        ("2026-04-01 00:00:00", None, "invalid", "suspended", 2),
        ("2026-03-31 23:59:59", None, "valid", None, 1),
        ("2026-03-01 09:59:59", None, "unknown", "not_found", None),
    ],
)
def test_licence_valid_at(at, holder, result, reason, v):
    got = licence_valid_at(VERSIONS, "N1", T(at), holder)
    assert (got["result"], got["reason"], got["version"]) == (result, reason, v)
    assert list(got) == ["licence_no", "result", "reason", "licence_type", "holder_key", "status",
                         "valid_from", "valid_to", "version"]  # fmt: skip


def test_reason_order_holder_then_status_then_dates():
    late = T("2027-06-01 00:00:00")
    assert reason_of(version(status="revoked"), late, "X") == "holder_mismatch"
    assert reason_of(version(status="revoked"), late) == "revoked"
    assert reason_of(version(), late) == "expired"
    assert reason_of(version(valid_from="2026-07-01"), T("2026-06-30 23:59:59")) == "not_yet_valid"
    assert reason_of(version(), T("2026-12-31 23:59:59")) is None  # valid_to through its day


def test_parse_at_and_holder_keys():
    assert parse_at("2026-03-01") == T("2026-03-01 00:00:00")
    assert parse_at(" 2026-03-01 08:30:00 ") == T("2026-03-01 08:30:00")
    assert parse_at(None) is None
    with pytest.raises(ValueError, match="YYYY-MM-DD"):
        parse_at("2026-3-1")
    assert vehicle_holder_key(" 闽J12345", "2") == "闽J12345-2"
    # an ID number is compared in upper case, as landing hashes it
    assert holder_hmac("35090219900101123x ", JOIN) == holder_hmac("35090219900101123X", JOIN)
    assert (
        holder_hmac("35090219900101123X", JOIN)
        == sm3.hmac_sm3_column(["35090219900101123X"], JOIN)[0]
    )


def _licences(spark):
    rows = [
        # holder A: a driver's 从业资格证, suspended from 04-01; and a 网约车驾驶员证
        ("A", "Q1", "qualification", "道路旅客运输驾驶员", 1, "valid", "2026-01-01 00:00:00",
         "2026-04-01 00:00:00", "2020-01-01", "2030-12-31"),
        ("A", "Q1", "qualification", "道路旅客运输驾驶员", 2, "suspended", "2026-04-01 00:00:00",
         None, "2020-01-01", "2030-12-31"),
        ("A", "W1", "qualification", "网络预约出租汽车驾驶员", 1, "valid", "2026-02-01 00:00:00",
         None, "2026-02-01", "2026-05-31"),
        # holder B: an old expired certificate and a renewed one (two licences, one valid)
        ("B", "Q2", "qualification", "道路货物运输驾驶员", 1, "valid", "2020-01-01 00:00:00",
         None, "2020-01-01", "2025-12-31"),
        ("B", "Q3", "qualification", "道路货物运输驾驶员", 1, "valid", "2026-01-10 00:00:00",
         None, "2026-01-10", "2032-01-09"),
        # holder C: only expired
        ("C", "Q4", "qualification", "道路货物运输驾驶员", 1, "valid", "2019-01-01 00:00:00",
         None, "2019-01-01", "2025-06-30"),
    ]  # fmt: skip
    schema = ("holder_key_hmac string, licence_no string, licence_type string, scope string, "
              "version int, status string, issued_at string, version_valid_to string, "
              "valid_from string, valid_to string")  # fmt: skip
    return spark.createDataFrame(rows, schema).select(
        "holder_key_hmac", "licence_no", "licence_type", "scope", "version", "status",
        F.col("issued_at").cast("timestamp").alias("issued_at"),
        F.col("issued_at").cast("timestamp").alias("version_valid_from"),
        F.col("version_valid_to").cast("timestamp").alias("version_valid_to"),
        F.col("valid_from").cast("date").alias("valid_from"),
        F.col("valid_to").cast("date").alias("valid_to"),
    )  # fmt: skip


def test_qualified_at_joins_events_to_the_version_current_at_their_time(spark):
    events = spark.createDataFrame(
        [
            (1, "A", "2026-03-15 08:00:00"),  # Q1 v1 valid
            (2, "A", "2026-04-02 08:00:00"),  # Q1 v2 suspended
            (3, "B", "2026-03-15 08:00:00"),  # Q2 expired, Q3 valid → qualified by Q3
            (4, "C", "2026-03-15 08:00:00"),  # Q4 expired
            (5, "D", "2026-03-15 08:00:00"),  # no licence at all
            (6, "A", "2025-12-31 08:00:00"),  # before Q1 was issued
            (6, "A", "2025-12-31 08:00:00"),  # the same event twice: both kept
        ],
        "order_id int, holder_key_hmac string, at string",
    ).withColumn("event_time", F.col("at").cast("timestamp"))
    out = qualified_at(events, _licences(spark), ["driver_qualification"], RULES)
    got = sorted(
        (r["order_id"], r["licence_no"], r["licence_valid"], r["licence_reason"])
        for r in out.collect()
    )
    assert got == [
        (1, "Q1", True, None),
        (2, "Q1", False, "suspended"),
        (3, "Q3", True, None),
        (4, "Q4", False, "expired"),
        (5, None, False, "not_found"),
        (6, None, False, "not_found"),
        (6, None, False, "not_found"),
    ]
    assert out.columns == [*events.columns, "licence_no", "licence_valid", "licence_reason"]
    # the 网约车驾驶员证 kind sees only W1 (valid to 2026-05-31)
    ride = qualified_at(events.where("order_id IN (1, 2)"), _licences(spark),
                        ["ride_hailing_driver"], RULES, prefix="driver_licence")  # fmt: skip
    assert sorted((r["order_id"], r["driver_licence_no"], r["driver_licence_valid"])
                  for r in ride.collect()) == [(1, "W1", True), (2, "W1", True)]  # fmt: skip


def test_kind_condition_and_holder_hashes_for_clear_keys(spark):
    with pytest.raises(KeyError, match="unknown licence kinds"):
        kind_condition(["driving_licence"], RULES)
    df = spark.createDataFrame([("闽J12345-2",), ("91350902MA2Y8K7N0X ",), (None,)], "k string")
    got = [r["holder_key_hmac"] for r in with_holder_hmac(df, "k", JOIN).collect()]
    assert got == [
        holder_hmac("闽J12345-2", JOIN),
        holder_hmac("91350902MA2Y8K7N0X", JOIN),
        None,
    ]

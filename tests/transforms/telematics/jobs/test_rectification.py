"""Rectification items, their status history, due dates and the newly-attached anomaly."""

import datetime as dt

import pyarrow as pa
import pytest
from deltalake import DeltaTable, write_deltalake

from transforms.rules import load_rules
from transforms.telematics.jobs import rectification as r
from transforms.telematics.jobs.report import parse_period

RULES = load_rules(domain="telematics")


def write(lake, name, rows, schema):
    layer, entity = name.split(".")
    write_deltalake(str(lake / layer / entity), pa.Table.from_pylist(rows, schema), mode="append")


ASSESS = pa.schema([("level", pa.string()), ("subject_id", pa.string()),
                    ("subject_name", pa.string()), ("period_type", pa.string()),
                    ("period", pa.string()), ("score", pa.float64()), ("passed", pa.bool_()),
                    ("online_rate", pa.float64())])  # fmt: skip
EVENTS = pa.schema([("event_id", pa.string()), ("day", pa.date32()), ("kind", pa.string()),
                    ("plate", pa.string()), ("plate_color", pa.int32()),
                    ("start_at", pa.timestamp("us", tz="UTC"))])  # fmt: skip
VEHICLES = pa.schema([("plate", pa.string()), ("plate_color", pa.int32()),
                      ("platform_id", pa.string()), ("valid_from", pa.date32())])  # fmt: skip


@pytest.fixture
def lake(tmp_path):
    lake = tmp_path / "lake"
    write(lake, "gold.telematics__assessments", [
        {"level": "platform", "subject_id": "P1", "subject_name": "甲平台", "period_type": "month",
         "period": "2026-10", "score": 71.5, "passed": False, "online_rate": 0.9},
        {"level": "platform", "subject_id": "P2", "subject_name": "乙平台", "period_type": "month",
         "period": "2026-10", "score": 93.0, "passed": True, "online_rate": 1.0},
        {"level": "county", "subject_id": "350902", "subject_name": "蕉城区", "period_type": "month",
         "period": "2026-10", "score": 60.0, "passed": False, "online_rate": 0.5},
        {"level": "county", "subject_id": "350902", "subject_name": "蕉城区", "period_type": "day",
         "period": "2026-10-03", "score": 10.0, "passed": False, "online_rate": 0.1},
    ], ASSESS)  # fmt: skip
    write(lake, "silver.telematics__violation_events", [
        {"event_id": "e1", "day": dt.date(2026, 10, 3), "kind": "overspeed", "plate": "闽J12345",
         "plate_color": 2, "start_at": dt.datetime(2026, 10, 3, 8)},
        {"event_id": "e2", "day": dt.date(2026, 10, 4), "kind": "fatigue", "plate": "闽J12345",
         "plate_color": 2, "start_at": dt.datetime(2026, 10, 4, 8)},
        {"event_id": "e3", "day": dt.date(2026, 10, 4), "kind": "drift_jump", "plate": "闽J99999",
         "plate_color": 2, "start_at": dt.datetime(2026, 10, 4, 9)},
        {"event_id": "e4", "day": dt.date(2026, 11, 1), "kind": "overspeed", "plate": "闽J55555",
         "plate_color": 2, "start_at": dt.datetime(2026, 11, 1, 9)},
    ], EVENTS)  # fmt: skip
    return lake


def test_add_months_clamps_to_the_month_end():
    assert r.add_months(dt.date(2026, 1, 31), 1) == dt.date(2026, 2, 28)
    assert r.add_months(dt.date(2026, 11, 6), 2) == dt.date(2027, 1, 6)


def test_working_days_skip_weekends_and_holidays():
    friday = dt.date(2026, 11, 6)
    assert r.add_working_days(friday, 1, set()) == dt.date(2026, 11, 9)
    assert r.add_working_days(friday, 10, set()) == dt.date(2026, 11, 20)
    assert r.add_working_days(friday, 10, {dt.date(2026, 11, 9)}) == dt.date(2026, 11, 23)


def test_issue_creates_items_once(lake):
    bulletin = dt.date(2026, 11, 6)
    first = r.issue(lake, "2026-10", bulletin, RULES)
    again = r.issue(lake, "2026-10", bulletin, RULES)
    assert (first.created, again.created, again.already) == (3, 0, 3)
    items = {i["subject_id"]: i for i in r.items_with_status(lake, bulletin)}
    # failed platform, failed county and the one violation vehicle (drift is no violation)
    assert set(items) == {"P1", "350902", "闽J12345|2"}
    assert items["P1"]["report_due"] == dt.date(2026, 11, 20)
    assert items["P1"]["rectify_until"] == dt.date(2026, 12, 6)  # one assessment period
    assert "fatigue ×1" in items["闽J12345|2"]["problem"]
    assert all(i["status"] == "open" for i in items.values())


def test_status_flow_keeps_every_change(lake):
    r.issue(lake, "2026-10", dt.date(2026, 11, 6), RULES)
    item = next(i for i in r.items_with_status(lake) if i["subject_id"] == "P1")
    with pytest.raises(r.RectificationError, match="cannot become closed"):
        r.change_status(lake, item["item_id"], "closed", "tester", "done")
    with pytest.raises(r.RectificationError, match="needs a note"):
        r.change_status(lake, item["item_id"], "reported", "tester", " ")
    r.change_status(lake, item["item_id"][:8], "reported", "甲平台", "整改报告已提交")
    r.change_status(lake, item["item_id"], "closed", "市动态监管中心", "复核合格，销号")
    status = {i["subject_id"]: i["status"] for i in r.items_with_status(lake)}
    assert status["P1"] == "closed"
    events = DeltaTable(str(r.EVENTS.location(lake))).to_pyarrow_table().to_pylist()
    events.sort(key=lambda e: e["at"])
    assert [e["status"] for e in events if e["item_id"] == item["item_id"]] == [
        "open",
        "reported",
        "closed",
    ]
    assert DeltaTable(str(r.ITEMS.location(lake))).to_pyarrow_table().num_rows == 3


def test_overdue_is_recorded_after_the_due_date(lake):
    r.issue(lake, "2026-10", dt.date(2026, 11, 6), RULES)
    assert r.mark_overdue(lake, dt.date(2026, 11, 20)) == 0
    assert r.mark_overdue(lake, dt.date(2026, 11, 21)) == 3
    assert {i["status"] for i in r.items_with_status(lake)} == {"overdue"}
    assert r.mark_overdue(lake, dt.date(2026, 11, 22)) == 0  # recorded once


def test_vehicle_attached_to_a_provider_under_rectification_is_an_anomaly(lake):
    r.issue(lake, "2026-10", dt.date(2026, 11, 6), RULES)
    write(lake, "silver.telematics__vehicles", [
        {"plate": "闽J1", "plate_color": 2, "platform_id": "P2", "valid_from": dt.date(2026, 9, 1)},
        {"plate": "闽J1", "plate_color": 2, "platform_id": "P1", "valid_from": dt.date(2026, 11, 10)},
        {"plate": "闽J2", "plate_color": 2, "platform_id": "P1", "valid_from": dt.date(2026, 9, 1)},
        {"plate": "闽J3", "plate_color": 2, "platform_id": "P1", "valid_from": dt.date(2027, 1, 5)},
    ], VEHICLES)  # fmt: skip
    found = r.newly_attached_anomalies(lake)
    assert [(a["plate"], a["previous_platform_id"]) for a in found] == [("闽J1", "P2")]


def test_periods_parse_or_explain_why():
    assert parse_period("2026Q4").start == dt.date(2026, 10, 1)
    assert parse_period("2026Q4").end == dt.date(2026, 12, 31)
    assert parse_period("2026-02").end == dt.date(2026, 2, 28)
    assert parse_period("2026").kind == "year"
    with pytest.raises(ValueError, match="not a real date"):
        parse_period("2026-02-30")
    with pytest.raises(ValueError, match="must be"):
        parse_period("2026/02")


def test_only_months_the_lake_has_moved_past_are_issued(lake):
    assert r.issue_completed_months(lake, RULES, dt.date(2026, 11, 6)) == {}  # only October data
    write(lake, "gold.telematics__assessments", [
        {"level": "county", "subject_id": "350902", "subject_name": "蕉城区", "period_type": "day",
         "period": "2026-11-01", "score": 90.0, "passed": True, "online_rate": 1.0},
        {"level": "county", "subject_id": "350902", "subject_name": "蕉城区",
         "period_type": "month", "period": "2026-11", "score": 20.0, "passed": False,
         "online_rate": 1.0},
    ], ASSESS)  # fmt: skip
    results = r.issue_completed_months(lake, RULES, dt.date(2026, 11, 6))
    assert {m: res.created for m, res in results.items()} == {"2026-10": 3}  # November still open
    again = r.issue_completed_months(lake, RULES, dt.date(2026, 11, 7))
    assert again["2026-10"].created == 0


def test_rectification_tables_exist_before_a_first_bulletin(tmp_path):
    assert r.issue_completed_months(tmp_path, RULES, dt.date(2026, 11, 6)) == {}
    assert r.ITEMS.exists(tmp_path) and r.EVENTS.exists(tmp_path)
    assert r.items_with_status(tmp_path) == []


def _at(day: int, hh: int, mm: int = 0) -> dt.datetime:
    return dt.datetime(2024, 6, day, hh, mm)


# item_id, report_due, [(status, at)] in the order the job records them
HISTORIES = [
    ("i_open", dt.date(2024, 6, 17), [("open", _at(3, 9))]),
    ("i_reported", dt.date(2024, 6, 17), [("open", _at(3, 9)), ("reported", _at(10, 9))]),
    ("i_closed", dt.date(2024, 6, 17),
     [("open", _at(3, 9)), ("reported", _at(7, 9)), ("closed", _at(20, 16))]),
    ("i_overdue", dt.date(2024, 6, 17), [("open", _at(3, 9)), ("overdue", _at(18, 0, 30))]),
    # reported in the same second as the overdue run recorded it: the one further along wins
    ("i_tie", dt.date(2024, 6, 17),
     [("open", _at(3, 9)), ("reported", _at(18, 0, 30)), ("overdue", _at(18, 0, 30))]),
    ("i_later", dt.date(2024, 7, 1), [("open", _at(3, 9))]),
    ("i_no_event", dt.date(2024, 6, 17), []),
]  # fmt: skip


@pytest.mark.parametrize(
    "today", [dt.date(2024, 6, 17), dt.date(2024, 6, 18), dt.date(2024, 7, 2)], ids=str
)
def test_gold_status_is_the_latest_event_and_overdue_on_tells_overdue_now(tmp_path, today):
    """gold.telematics__rectification_items (what the dashboards read) holds each item's latest
    event — of two at the same time the one further along — and overdue_on, from which the serving
    view's overdue_now (overdue_on reached) equals items_with_status' on any day."""
    lake = tmp_path / "lake"
    items, events = [], []
    for item_id, due, history in HISTORIES:
        items.append({
            "item_id": item_id, "period": "2024-05", "kind": "subject", "level": "county",
            "subject_id": item_id, "subject_name": item_id, "problem": "2024-05 考核不合格",
            "evidence": "{}", "issued_on": dt.date(2024, 6, 3), "report_due": due,
            "rectify_until": due, "created_at": _at(3, 9),
        })  # fmt: skip
        events += [{"item_id": item_id, "status": status, "at": at, "by": "监管员",
                    "note": f"{item_id} {status}"} for status, at in history]  # fmt: skip
    write(lake, "ops.telematics__rectification_items", items, r.ITEM_SCHEMA)
    write(lake, "ops.telematics__rectification_events", events, r.EVENT_SCHEMA)
    assert r.publish_status(lake) == len(HISTORIES)
    gold = {
        row["item_id"]: row
        for row in DeltaTable(str(r.GOLD.location(lake))).to_pyarrow_table().to_pylist()
    }
    assert {k: v["status"] for k, v in gold.items()} == {
        "i_open": "open", "i_reported": "reported", "i_closed": "closed",
        "i_overdue": "overdue", "i_tie": "reported", "i_later": "open", "i_no_event": "open",
    }  # fmt: skip
    assert gold["i_closed"]["status_note"] == "i_closed closed"
    assert gold["i_closed"]["status_at"].replace(tzinfo=None) == _at(20, 16)
    assert gold["i_no_event"]["status_at"] is None
    assert gold["i_open"]["overdue_on"] == dt.date(2024, 6, 18)
    assert gold["i_reported"]["overdue_on"] is None
    python = {i["item_id"]: i for i in r.items_with_status(lake, today)}
    for item_id, row in gold.items():
        overdue_now = row["overdue_on"] is not None and row["overdue_on"] <= today
        assert overdue_now == python[item_id]["overdue_now"], (item_id, today)


def test_every_change_rewrites_the_gold_status(lake):
    r.issue(lake, "2026-10", dt.date(2026, 11, 6), RULES)

    def statuses():
        rows = DeltaTable(str(r.GOLD.location(lake))).to_pyarrow_table().to_pylist()
        return {row["item_id"]: row["status"] for row in rows}

    first = statuses()
    assert set(first.values()) == {"open"} and len(first) == 3
    item = sorted(first)[0]
    r.change_status(lake, item, "reported", "监管员", "整改报告已收到")
    assert statuses()[item] == "reported"
    assert r.mark_overdue(lake, dt.date(2026, 12, 31)) == 2
    assert sorted(statuses().values()) == ["overdue", "overdue", "reported"]


def test_gold_items_carry_the_county_their_jurisdiction_filters_on(tmp_path):
    """Row-level security needs a county on every item a county may see: a county's own code, an
    enterprise's or a vehicle's CURRENT county (not the one it had before it moved); a platform and
    a subject the master data does not know carry none (the province's)."""
    lake = tmp_path / "lake"
    master = pa.schema([("enterprise_id", pa.string()), ("county_code", pa.string()),
                        ("is_current", pa.bool_())])  # fmt: skip
    write(lake, "silver.telematics__enterprises", [
        {"enterprise_id": "E1", "county_code": "350981", "is_current": False},
        {"enterprise_id": "E1", "county_code": "350902", "is_current": True},
    ], master)  # fmt: skip
    vehicles = pa.schema([("plate", pa.string()), ("plate_color", pa.int32()),
                          ("county_code", pa.string()), ("is_current", pa.bool_())])  # fmt: skip
    write(lake, "silver.telematics__vehicles", [
        {"plate": "闽J12345", "plate_color": 2, "county_code": "350902", "is_current": False},
        {"plate": "闽J12345", "plate_color": 2, "county_code": "350981", "is_current": True},
        {"plate": "闽J12345", "plate_color": 1, "county_code": "350922", "is_current": True},
    ], vehicles)  # fmt: skip
    subjects = [("county", "350925"), ("enterprise", "E1"), ("enterprise", "E404"),
                ("vehicle", "闽J12345|2"), ("platform", "P1")]  # fmt: skip
    items = [{"item_id": f"i{n}", "period": "2026-10", "kind": "subject", "level": level,
              "subject_id": sid, "subject_name": sid, "problem": "考核不合格", "evidence": "{}",
              "issued_on": dt.date(2026, 11, 6), "report_due": dt.date(2026, 11, 20),
              "rectify_until": dt.date(2026, 11, 20), "created_at": _at(3, 9)}
             for n, (level, sid) in enumerate(subjects)]  # fmt: skip
    write(lake, "ops.telematics__rectification_items", items, r.ITEM_SCHEMA)
    write(lake, "ops.telematics__rectification_events", [], r.EVENT_SCHEMA)
    r.publish_status(lake)
    gold = DeltaTable(str(r.GOLD.location(lake))).to_pyarrow_table().to_pylist()
    assert {(g["level"], g["subject_id"]): g["county_code"] for g in gold} == {
        ("county", "350925"): "350925", ("enterprise", "E1"): "350902",
        ("enterprise", "E404"): None, ("vehicle", "闽J12345|2"): "350981", ("platform", "P1"): None,
    }  # fmt: skip

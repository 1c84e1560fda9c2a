"""Fixtures for the infra tests: a tiny lake of gold tables with known values.

The gold Delta tables the serving views read (infra/superset/dashboards/<domain>/views.yaml), each
with the columns and types of its dbt model (dbt_project/models/marts/telematics/, docs/tables.md):
county / vehicle days (dashboard 县区日报) and the tables behind 月度考核 — ranked assessments,
violations with their vehicle's current county, rectification items with their status, 查岗 checks
and platform link events; 电子证照运行质量; the 网络货运监测 tables (freight_gold.py). Their logic is
tested in tests/dbt; here they are known inputs. The 车辆/企业画像 tables are built by their real
job over what the profiles read, written beside them (profile_gold.py). The quality owner's ops
tables (validation results, the quarantine summary, rejected files, the audit log) are
quality_gold.py's.
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pytest
from deltalake import DeltaTable, write_deltalake
from freight_gold import FreightGold, freight_gold
from profile_gold import profile_gold
from quality_gold import QualityGold, quality_gold
from ridehailing_gold import RidehailingGold, ridehailing_gold
from superset_harness import Superset, SupersetApi, require_superset_env, running_superset

DAY_1, DAY_2 = dt.date(2026, 11, 1), dt.date(2026, 11, 2)

COUNTY_DAYS_SCHEMA = pa.schema(
    [
        ("day", pa.date32()),
        ("county_code", pa.string()),
        ("county_name", pa.string()),
        ("vehicles", pa.int64()),
        ("online_vehicles", pa.int64()),
        ("points", pa.int64()),
        ("qualified_points", pa.int64()),
        ("qualified_rate", pa.float64()),
        ("km", pa.float64()),
    ]
)

VEHICLE_DAYS_SCHEMA = pa.schema(
    [
        ("day", pa.date32()),
        ("plate", pa.string()),
        ("plate_color", pa.int32()),
        ("county_code", pa.string()),
        ("enterprise_id", pa.string()),
        ("platform_id", pa.string()),
        ("points", pa.int64()),
        ("qualified_points", pa.int64()),
        ("km", pa.float64()),
        ("first_point_at", pa.timestamp("us")),
        ("last_point_at", pa.timestamp("us")),
    ]
)


def county_days_frame() -> pd.DataFrame:
    """3 counties x 2 days; latest-day online total 37, qualified rates 96.6% / 77.8% / 97.0%."""
    rows = [
        # day, code, name, vehicles, online, points, qualified, km
        (DAY_1, "350902", "蕉城区", 10, 8, 1000, 950, 1234.5),
        (DAY_1, "350981", "福安市", 6, 5, 400, 300, 456.7),
        (DAY_1, "350102", "鼓楼区", 20, 17, 2000, 1960, 3210.9),
        (DAY_2, "350902", "蕉城区", 10, 9, 1100, 1078, 1300.2),
        (DAY_2, "350981", "福安市", 6, 4, 500, 400, 380.0),
        (DAY_2, "350102", "鼓楼区", 25, 24, 2100, 2016, 3333.3),
    ]
    df = pd.DataFrame(
        rows,
        columns=["day", "county_code", "county_name", "vehicles", "online_vehicles", "points",
                 "qualified_points", "km"],
    )  # fmt: skip
    df["qualified_rate"] = df["qualified_points"] / df["points"]
    return df[COUNTY_DAYS_SCHEMA.names]


def vehicle_days_frame() -> pd.DataFrame:
    at = dt.datetime.combine
    rows = [
        (DAY_1, "京A12345", 2, "350902", "E001", "P01", 120, 118, 85.2,
         at(DAY_1, dt.time(6, 0)), at(DAY_1, dt.time(21, 30))),
        (DAY_2, "京A12345", 2, "350902", "E001", "P01", 130, 130, 90.4,
         at(DAY_2, dt.time(6, 5)), at(DAY_2, dt.time(22, 0))),
        (DAY_2, "京B67890", 1, "350102", "E002", "P02", 80, 60, 40.0,
         at(DAY_2, dt.time(7, 0)), at(DAY_2, dt.time(19, 45))),
    ]  # fmt: skip
    return pd.DataFrame(rows, columns=VEHICLE_DAYS_SCHEMA.names)


TS = pa.timestamp("us", tz="UTC")  # Delta `timestamp`: GMT+8 wall-clock tagged UTC
MONTH_1, MONTH_2 = "2026-10", "2026-11"  # MONTH_2 is the latest: the dashboard's default month

ASSESSMENTS_SCHEMA = pa.schema(
    [("level", pa.string()), ("subject_id", pa.string()), ("subject_name", pa.string()),
     ("county_code", pa.string()),
     ("period_type", pa.string()), ("period", pa.string()), ("period_start", pa.date32()),
     ("period_end", pa.date32()), ("vehicles", pa.int64()), ("online_vehicles", pa.int64())]
    + [(c, pa.float64()) for c in (
        "platform_connectivity_rate", "network_entry_rate", "online_rate",
        "track_completeness_rate", "data_qualification_rate", "drift_vehicle_rate",
        "check_response_rate", "mean_overspeed_count", "mean_fatigue_minutes", "violation_rate",
        "score")]
    + [("passed", pa.bool_()), ("failed_quarters", pa.int32()),
       ("entered_vehicles", pa.int64()), ("operating_entered_vehicles", pa.int64()),
       ("complete_km", pa.float64()), ("total_km", pa.float64()),
       ("qualified_records", pa.int64()), ("records", pa.int64()), ("drift_vehicles", pa.int64()),
       ("checks_answered", pa.int64()), ("checks_sent", pa.int64()),
       ("overspeed_events", pa.int64()), ("fatigue_minutes", pa.float64()),
       ("violation_vehicles", pa.int64()), ("connected_minutes", pa.float64()),
       ("counted_minutes", pa.float64())]
)  # fmt: skip
# fct_telematics__ranked_assessments: the assessments + score_rank
RANKED_ASSESSMENTS_SCHEMA = ASSESSMENTS_SCHEMA.append(pa.field("score_rank", pa.int64()))
VIOLATIONS_SCHEMA = pa.schema(
    [("event_id", pa.string()), ("day", pa.date32()), ("period", pa.string()),
     ("kind", pa.string()), ("plate", pa.string()), ("plate_color", pa.int32()),
     ("vehicle_type", pa.string()), ("county_code", pa.string()), ("county_name", pa.string()),
     ("enterprise_id", pa.string()), ("platform_id", pa.string()), ("start_at", TS),
     ("end_at", TS), ("points", pa.int32()), ("max_speed", pa.float64()),
     ("limit_kmh", pa.float64()), ("minutes", pa.float64()), ("lon", pa.float64()),
     ("lat", pa.float64()), ("detail", pa.string())]
)  # fmt: skip
RECTIFICATION_SCHEMA = pa.schema(
    [("item_id", pa.string()), ("period", pa.string()), ("kind", pa.string()),
     ("level", pa.string()), ("subject_id", pa.string()), ("subject_name", pa.string()),
     ("problem", pa.string()), ("evidence", pa.string()), ("issued_on", pa.date32()),
     ("report_due", pa.date32()), ("rectify_until", pa.date32()), ("created_at", TS),
     ("status", pa.string()), ("status_at", TS), ("status_by", pa.string()),
     ("status_note", pa.string()), ("overdue_on", pa.date32()), ("county_code", pa.string())]
)  # fmt: skip
PLATFORM_CHECKS_SCHEMA = pa.schema(
    [("check_id", pa.string()), ("platform_id", pa.string()), ("enterprise_id", pa.string()),
     ("sent_at", TS), ("period", pa.string()), ("answered_at", TS), ("answer", pa.string()),
     ("response_s", pa.int64()), ("answered_in_time", pa.bool_())]
)  # fmt: skip
PLATFORM_LINK_EVENTS_SCHEMA = pa.schema(
    [("platform_id", pa.string()), ("event", pa.string()), ("event_at", TS),
     ("period", pa.string()), ("reason", pa.string())]
)  # fmt: skip


def _month_bounds(period: str) -> tuple[dt.date, dt.date]:
    start = dt.date.fromisoformat(f"{period}-01")
    nxt = dt.date(start.year + start.month // 12, start.month % 12 + 1, 1)
    return start, nxt - dt.timedelta(days=1)


def assessments_frame() -> pd.DataFrame:
    """Monthly results for 2 months x (3 counties, 2 enterprises, 2 platforms) + one day row.

    Latest month (2026-11) ranking: counties 蕉城区 92.5 > 鼓楼区 85.1 > 福安市 71.3 (不合格);
    enterprises 宁德顺达客运 88.0 > 闽东旅游包车 64.2 (不合格); platforms 闽运通 95.0 > 海峡卫星 78.0.
    """
    subjects = {
        # level: [(id, name, {period: (score, connectivity, online, track, data, drift, check)})]
        "county": [
            (
                "350902",
                "蕉城区",
                {
                    MONTH_1: (90.1, None, 0.95, 0.93, 0.97, 0.01, None),
                    MONTH_2: (92.5, None, 0.96, 0.94, 0.98, 0.01, None),
                },
            ),
            (
                "350981",
                "福安市",
                {
                    MONTH_1: (79.0, None, 0.85, 0.80, 0.82, 0.04, None),
                    MONTH_2: (71.3, None, 0.80, 0.72, 0.75, 0.06, None),
                },
            ),
            (
                "350102",
                "鼓楼区",
                {
                    MONTH_1: (83.0, None, 0.91, 0.88, 0.93, 0.02, None),
                    MONTH_2: (85.1, None, 0.92, 0.90, 0.94, 0.02, None),
                },
            ),
        ],
        "enterprise": [
            (
                "E001",
                "宁德顺达客运有限公司",
                {
                    MONTH_1: (86.0, None, 0.93, 0.90, 0.95, 0.01, 0.90),
                    MONTH_2: (88.0, None, 0.94, 0.91, 0.96, 0.01, 0.95),
                },
            ),
            (
                "E002",
                "闽东旅游包车有限公司",
                {
                    MONTH_1: (70.0, None, 0.80, 0.76, 0.84, 0.05, 0.50),
                    MONTH_2: (64.2, None, 0.78, 0.70, 0.80, 0.07, 0.40),
                },
            ),
        ],
        "platform": [
            (
                "P01",
                "闽运通监控平台",
                {
                    MONTH_1: (93.0, 0.995, 0.94, 0.92, 0.97, 0.01, 1.0),
                    MONTH_2: (95.0, 0.998, 0.95, 0.93, 0.98, 0.01, 1.0),
                },
            ),
            (
                "P02",
                "海峡卫星定位服务平台",
                {
                    MONTH_1: (81.0, 0.95, 0.88, 0.85, 0.90, 0.03, 0.75),
                    MONTH_2: (78.0, 0.92, 0.86, 0.83, 0.88, 0.04, 0.60),
                },
            ),
        ],
    }
    # the county row-level security filters on: a county's own, an enterprise's, none for platforms
    county_of = {"E001": "350902", "E002": "350981"}
    rows = []
    for level, items in subjects.items():
        for subject_id, name, periods in items:
            for period, (score, conn, online, track, data, drift, check) in periods.items():
                start, end = _month_bounds(period)
                rows.append({
                    "level": level, "subject_id": subject_id, "subject_name": name,
                    "county_code": subject_id if level == "county" else county_of.get(subject_id),
                    "period_type": "month", "period": period, "period_start": start,
                    "period_end": end, "vehicles": 20, "online_vehicles": 18,
                    "platform_connectivity_rate": conn,
                    "network_entry_rate": None if level == "platform" else 0.95,
                    "online_rate": online, "track_completeness_rate": track,
                    "data_qualification_rate": data, "drift_vehicle_rate": drift,
                    "check_response_rate": check,
                    "mean_overspeed_count": None if level == "platform" else 0.5,
                    "mean_fatigue_minutes": None if level == "platform" else 12.0,
                    "violation_rate": None if level == "platform" else 0.1,
                    "score": score, "passed": score >= 80,
                })  # fmt: skip
    # a day row (period_type 'day') that no month chart may show
    rows.append({**rows[0], "period_type": "day", "period": "2026-11-02", "score": 10.0,
                 "passed": False, "period_start": DAY_2, "period_end": DAY_2})  # fmt: skip
    frame = pd.DataFrame(rows)
    for name in ASSESSMENTS_SCHEMA.names:
        if name not in frame:
            frame[name] = None
    return frame[ASSESSMENTS_SCHEMA.names]


def ranked_assessments_frame(assessments: pd.DataFrame) -> pd.DataFrame:
    """score_rank: 1 = best score of the level in the period, equal scores share a rank."""
    ranked = assessments.copy()
    by_period = ranked.groupby(["level", "period_type", "period"])["score"]
    ranked["score_rank"] = by_period.rank(method="min", ascending=False).astype("int64")
    return ranked[RANKED_ASSESSMENTS_SCHEMA.names]


def _ts(day: dt.date, hh: int, mm: int = 0) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hh, mm), tzinfo=dt.UTC)


# each plate's CURRENT attribution: (vehicle_type, county_code, county_name, enterprise, platform)
# 京A12345 moved from 福安市 to 蕉城区: its events all count for 蕉城区 now
CURRENT_VEHICLES = {
    ("京A12345", 2): ("bus_scheduled", "350902", "蕉城区", "E001", "P01"),
    ("京B67890", 1): ("bus_charter", "350102", "鼓楼区", "E002", "P02"),
    ("京C11111", 2): ("bus_scheduled", "350981", "福安市", "E001", "P01"),
}
UNREGISTERED = (None, None, "未登记车辆", None, None)

# latest month (2026-11): (kind, plate, plate_color, day, hour)
VIOLATIONS = [
    ("overspeed", "京A12345", 2, DAY_1, 8), ("overspeed", "京A12345", 2, DAY_2, 9),
    ("overspeed", "京B67890", 1, DAY_2, 10), ("fatigue", "京A12345", 2, DAY_2, 14),
    ("fatigue", "京C11111", 2, DAY_1, 15), ("bus_night_running", "京C11111", 2, DAY_2, 3),
    ("off_route", "京A12345", 2, DAY_1, 11), ("out_of_region", "京B67890", 1, DAY_1, 12),
    ("daily_driving_over", "京C11111", 2, DAY_2, 20), ("drift_jump", "京B67890", 1, DAY_1, 16),
    ("overspeed", "京Z99999", 2, DAY_2, 17),  # not a registered vehicle: county 未登记车辆
    ("overspeed", "京A12345", 2, dt.date(2026, 10, 20), 9),  # previous month
]  # fmt: skip


def violations_frame() -> pd.DataFrame:
    rows = []
    for i, (kind, plate, color, day, hour) in enumerate(VIOLATIONS):
        vehicle_type, code, county, enterprise, platform = CURRENT_VEHICLES.get(
            (plate, color), UNREGISTERED
        )
        rows.append({
            "event_id": f"ev{i:03d}", "day": day, "period": day.strftime("%Y-%m"), "kind": kind,
            "plate": plate, "plate_color": color, "vehicle_type": vehicle_type,
            "county_code": code, "county_name": county, "enterprise_id": enterprise,
            "platform_id": platform, "start_at": _ts(day, hour), "end_at": _ts(day, hour, 5),
            "points": 6, "max_speed": 112.0 if kind == "overspeed" else None,
            "limit_kmh": 100.0 if kind == "overspeed" else None, "minutes": 5.0,
            "lon": 119.52, "lat": 26.66, "detail": "{}",
        })  # fmt: skip
    return pd.DataFrame(rows)


def platform_link_events_frame() -> pd.DataFrame:
    rows = [
        ("P01", "up", _ts(DAY_1, 0), None),
        ("P02", "up", _ts(DAY_1, 0), None),
        ("P02", "down", _ts(DAY_1, 10), "fault"),
        ("P02", "up", _ts(DAY_1, 11), None),
        ("P02", "down", _ts(DAY_2, 2), "reported_outage"),
        ("P02", "up", _ts(DAY_2, 4), None),
    ]
    return pd.DataFrame(
        [{"platform_id": p, "event": e, "event_at": at, "period": at.strftime("%Y-%m"),
          "reason": r} for p, e, at, r in rows]
    )  # fmt: skip


def platform_checks_frame() -> pd.DataFrame:
    """answered_in_time: answered within 15 min (the rules' default), as the dbt model says."""
    rows = [("C1", "P01", None, 0, 60), ("C2", "P01", "E001", 1, 300), ("C3", "P02", None, 2, 1200),
            ("C4", "P02", "E002", 3, None)]  # fmt: skip
    out = []
    for check_id, platform, enterprise, hour, response in rows:
        sent = _ts(DAY_2, 9 + hour)
        answered = None if response is None else sent + dt.timedelta(seconds=response)
        out.append({"check_id": check_id, "platform_id": platform, "enterprise_id": enterprise,
                    "sent_at": sent, "period": sent.strftime("%Y-%m"), "answered_at": answered,
                    "answer": None if response is None else "在岗", "response_s": response,
                    "answered_in_time": response is not None and response <= 900})  # fmt: skip
    return pd.DataFrame(out)


def rectification_frame(today: dt.date) -> tuple[pd.DataFrame, dict[str, str]]:
    """Items of the 2026-10 bulletin and one of 2026-11 with their status as of the build (the
    latest of their events); returns the expected dashboard status label per subject_name (an open
    item whose report is past due shows as 逾期: the view's overdue_now at query time)."""
    issued = dt.date(2026, 11, 3)
    due = dt.date(2026, 11, 17)  # in the past for any run after 2026-11-17
    future_due = today + dt.timedelta(days=14)
    items = [
        # item_id, period, kind, level, subject_id, subject_name, report_due, events, expected,
        # the subject's county (none: a platform, the province's)
        ("r1", MONTH_1, "subject", "county", "350981", "福安市", due,
         [("open", 0), ("reported", 5)], "已报告", "350981"),
        ("r2", MONTH_1, "subject", "enterprise", "E002", "闽东旅游包车有限公司", due,
         [("open", 0), ("reported", 3), ("closed", 8)], "已销号", "350981"),
        ("r3", MONTH_1, "vehicle", "vehicle", "京B67890|1", "京B67890", due,
         [("open", 0)], "逾期", "350902"),  # open, past due, overdue not yet recorded
        ("r4", MONTH_1, "subject", "platform", "P02", "海峡卫星定位服务平台", due,
         [("open", 0), ("overdue", 15)], "逾期", None),
        ("r5", MONTH_2, "vehicle", "vehicle", "京C11111|2", "京C11111", future_due,
         [("open", 0)], "未整改", "350902"),
    ]  # fmt: skip
    rows, expected = [], {}
    for item_id, period, kind, level, sid, name, report_due, events, label, county in items:
        status, days = events[-1]  # the latest event
        rows.append({
            "item_id": item_id, "period": period, "kind": kind, "level": level,
            "subject_id": sid, "subject_name": name, "problem": f"{period} 考核不合格",
            "evidence": "{}", "issued_on": issued, "report_due": report_due,
            "rectify_until": report_due, "created_at": _ts(issued, 9), "status": status,
            "status_at": _ts(issued + dt.timedelta(days=days), 9),
            "status_by": "system" if status == "open" else "监管员", "status_note": "test",
            "overdue_on": report_due + dt.timedelta(days=1) if status == "open" else None,
            "county_code": county,
        })  # fmt: skip
        expected[name] = label
    return pd.DataFrame(rows), expected


# gold.licences__operation_quality (dbt fct_licences__operation_quality): 运行质量 per province-month
OPERATION_QUALITY_SCHEMA = pa.schema(
    [("province_code", pa.string()), ("period", pa.string()), ("issued", pa.int64()),
     ("changed", pa.int64()), ("revoked", pa.int64()), ("records", pa.int64()),
     ("signature_failures", pa.int64()), ("signature_failure_rate", pa.float64()),
     ("mean_feed_delay_s", pa.float64())]
)  # fmt: skip


def operation_quality_frame() -> pd.DataFrame:
    """Two months of Fujian, one of Zhejiang (the latest month, MONTH_2, is the dashboard's)."""
    rows = [
        ("350000", MONTH_1, 40, 6, 1, 50, 3, 0.06, 120.5),
        ("350000", MONTH_2, 30, 8, 2, 44, 4, 0.090909, 95.0),
        ("330000", MONTH_2, 12, 1, 0, 14, 1, 0.071429, 310.0),
    ]
    return pd.DataFrame(rows, columns=OPERATION_QUALITY_SCHEMA.names)


@dataclass(frozen=True)
class GoldLake:
    path: Path
    county_days: pd.DataFrame
    assessments: pd.DataFrame | None = None
    violations: pd.DataFrame | None = None
    rectification_status: dict[str, str] | None = None  # subject_name -> 整改状态 label
    operation_quality: pd.DataFrame | None = None  # gold.licences__operation_quality
    freight: FreightGold | None = None  # gold.freight__* (freight_gold.py)
    ridehailing: RidehailingGold | None = None  # gold.ridehailing__* (ridehailing_gold.py)
    profile: dict[str, int] | None = None  # gold.profile__* rows (profile_gold.py)
    quality: QualityGold | None = None  # the quality owner's ops.* tables (quality_gold.py)


@pytest.fixture(scope="session")
def gold_lake(tmp_path_factory: pytest.TempPathFactory) -> GoldLake:
    """A lake holding the gold tables the serving views read.

    By default written from the small frames above; set LAKEHOUSE_TEST_GOLD_LAKE to a lake that
    already has them to run the dashboard tests against it instead (expectations then follow its
    county days, and the 月度考核 known-value tests are skipped: that lake's values are unknown).
    """
    existing = os.environ.get("LAKEHOUSE_TEST_GOLD_LAKE")
    if existing:
        lake = Path(existing).resolve()
        frame = DeltaTable(str(lake / "gold" / "telematics__county_days")).to_pandas()
        return GoldLake(lake, frame)
    lake = tmp_path_factory.mktemp("lake")
    county = county_days_frame()
    assessments = assessments_frame()
    violations = violations_frame()
    rectification, expected_status = rectification_frame(dt.date.today())
    tables = {
        "telematics__county_days": (county, COUNTY_DAYS_SCHEMA),
        "telematics__vehicle_days": (vehicle_days_frame(), VEHICLE_DAYS_SCHEMA),
        "telematics__ranked_assessments": (
            ranked_assessments_frame(assessments),
            RANKED_ASSESSMENTS_SCHEMA,
        ),
        "telematics__violations": (violations, VIOLATIONS_SCHEMA),
        "telematics__rectification_items": (rectification, RECTIFICATION_SCHEMA),
        "telematics__platform_checks": (platform_checks_frame(), PLATFORM_CHECKS_SCHEMA),
        "telematics__platform_link_events": (
            platform_link_events_frame(),
            PLATFORM_LINK_EVENTS_SCHEMA,
        ),
        "licences__operation_quality": (operation_quality_frame(), OPERATION_QUALITY_SCHEMA),
    }
    freight = freight_gold()
    tables.update(freight.tables())
    ridehailing = ridehailing_gold()
    tables.update(ridehailing.tables())
    for name, (frame, schema) in tables.items():
        data = pa.Table.from_pandas(frame, schema=schema, preserve_index=False)
        write_deltalake(str(lake / "gold" / name), data, mode="overwrite")
    profile = profile_gold(lake)  # beside the tables above: the profiles read them
    quality = quality_gold(lake)  # validations, quarantine summary, rejected files, audit log
    return GoldLake(
        lake,
        county,
        assessments,
        violations,
        expected_status,
        operation_quality_frame(),
        freight,
        ridehailing,
        profile,
        quality=quality,
    )


@pytest.fixture(scope="session")
def superset(gold_lake, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Superset]:
    """ONE throw-away Superset (bootstrap + gunicorn on a free port) for every dashboard test."""
    require_superset_env()
    with running_superset(gold_lake.path, tmp_path_factory.mktemp("superset_home")) as server:
        yield server


@pytest.fixture(scope="session")
def api(superset: Superset) -> SupersetApi:
    """The REST API of ``superset``, logged in as the admin."""
    return SupersetApi(superset)

"""The freight gold tables of the infra tests' lake (conftest.py): 网络货运监测 with known values.

Each table has the columns and types of its dbt model (dbt_project/models/marts/freight/); their
logic is tested in tests/dbt, here they are known inputs. The months are relative to today's
Beijing date, so the dashboard's default month — the last complete one — is always LAST:

- EARLIER and LAST are complete, CURRENT (this month) is not: the 统计月份 filter never offers it;
- the rankings differ per month (LAST: S001 96.50 > S002 88.25 > S003 71.40; CURRENT's best is
  99.90, EARLIER's 93.00), so the ranking on the page tells which month the filter chose;
- LAST's anomaly rows add up to its six counts per registered operator, plus one withdrawn row
  (not counted) and one of a sender that is not registered (counted, no name).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from zoneinfo import ZoneInfo

import pandas as pd
import pyarrow as pa

TS = pa.timestamp("us", tz="UTC")  # Delta `timestamp`: GMT+8 wall-clock tagged UTC
TYPES = ("access", "qualification", "vehicle_network", "trajectory", "match", "duplicate")
TYPE_LABELS = {
    "access": "单据接入异常", "qualification": "资质异常", "vehicle_network": "车辆入网异常",
    "trajectory": "运输轨迹异常", "match": "运单与资金流水单匹配异常", "duplicate": "运单重复异常",
}  # fmt: skip
NAMES = {
    "S001": "福建陆运通网络货运平台",
    "S002": "闽道物流网络货运平台",
    "S003": "海西智运网络货运平台",
}
UNREGISTERED = "S999"  # a sender that is not registered: its anomalies have no operator name

_TRANSPORT = [
    ("envelopes", pa.int64()), ("accepted", pa.int64()), ("rejected", pa.int64()),
    ("waybills", pa.int64()), ("vehicles", pa.int64()), ("drivers", pa.int64()),
    ("tonnes", pa.float64()), ("tonne_km", pa.float64()), ("charges_yuan", pa.float64()),
]  # fmt: skip
# fct_freight__operator_months
OPERATOR_MONTHS_SCHEMA = pa.schema(
    [("operator_id", pa.string()), ("operator_name", pa.string()), ("period", pa.string()),
     ("period_start", pa.date32()), ("complete_on", pa.date32()), *_TRANSPORT,
     ("unknown_distance", pa.int64())]
    + [(f"anomalies_{t}", pa.int64()) for t in TYPES] + [("anomalies", pa.int64())]
    + [(f"rate_{t}", pa.float64()) for t in TYPES]
    + [("score", pa.float64()), ("score_rank", pa.int32())]
)  # fmt: skip
# fct_freight__operator_days
OPERATOR_DAYS_SCHEMA = pa.schema(
    [("day", pa.date32()), ("period", pa.string()), ("operator_id", pa.string()),
     ("operator_name", pa.string()), *_TRANSPORT, ("anomalies", pa.int64()),
     ("score", pa.float64()), ("score_rank", pa.int32())]
)  # fmt: skip
# fct_freight__anomalies
ANOMALIES_SCHEMA = pa.schema(
    [("anomaly_id", pa.string()), ("operator_id", pa.string()), ("operator_name", pa.string()),
     ("anomaly_type", pa.string()), ("document_kind", pa.string()), ("document_key", pa.string()),
     ("rule", pa.string()), ("event_time", TS), ("day", pa.date32()), ("period", pa.string()),
     ("detected_at", TS), ("status", pa.string()), ("is_counted", pa.bool_())]
)  # fmt: skip
# fct_freight__alarm_days
ALARM_DAYS_SCHEMA = pa.schema(
    [("day", pa.date32()), ("period", pa.string()), ("operator_id", pa.string()),
     ("operator_name", pa.string()), ("waybills", pa.int64()), ("anomalies", pa.int64()),
     ("anomaly_rate", pa.float64()), ("threshold", pa.float64()), ("status", pa.string()),
     ("closed_at", TS), ("result", pa.string())]
)  # fmt: skip


def _month_start(day: dt.date, back: int = 0) -> dt.date:
    index = day.year * 12 + day.month - 1 - back
    return dt.date(index // 12, index % 12 + 1, 1)


def _next_month(start: dt.date) -> dt.date:
    return _month_start(start + dt.timedelta(days=31))


@dataclass(frozen=True)
class FreightGold:
    """The four gold frames and the numbers the dashboard must show."""

    earlier: str
    last: str  # the last complete month: the 统计月份 filter's default
    current: str  # this month, not complete
    months: pd.DataFrame
    days: pd.DataFrame
    anomalies: pd.DataFrame
    alarms: pd.DataFrame

    def tables(self) -> dict[str, tuple[pd.DataFrame, pa.Schema]]:
        """``{gold table: (frame, schema)}``."""
        return {
            "freight__operator_months": (self.months, OPERATOR_MONTHS_SCHEMA),
            "freight__operator_days": (self.days, OPERATOR_DAYS_SCHEMA),
            "freight__anomalies": (self.anomalies, ANOMALIES_SCHEMA),
            "freight__alarm_days": (self.alarms, ALARM_DAYS_SCHEMA),
        }

    def counted(self, period: str) -> pd.DataFrame:
        """The anomaly rows of ``period`` the statistics count."""
        rows = self.anomalies
        return rows[(rows["period"] == period) & rows["is_counted"]]


# per month: operator -> (score, rank, the six counts); waybills etc. come from the days below
RANKINGS = {
    "earlier": {"S003": (93.0, 1, (0, 1, 0, 0, 0, 0)), "S001": (90.0, 2, (1, 0, 1, 0, 0, 0)),
                "S002": (85.0, 3, (2, 0, 0, 1, 0, 0))},
    "last": {"S001": (96.5, 1, (1, 0, 2, 0, 1, 0)), "S002": (88.25, 2, (3, 2, 1, 1, 0, 1)),
             "S003": (71.4, 3, (2, 3, 2, 2, 3, 1))},
    "current": {"S002": (99.9, 1, (0, 0, 0, 0, 0, 0)), "S001": (97.7, 2, (1, 0, 0, 0, 0, 0)),
                "S003": (60.0, 3, (4, 2, 2, 2, 2, 1))},
}  # fmt: skip
# per month: (day of month, operator, waybills, tonnes, charges_yuan)
DAYS = {
    "earlier": [(15, "S001", 30, 310.0, 36000.0), (15, "S002", 25, 200.0, 27500.0),
                (16, "S003", 12, 90.0, 11000.0)],
    "last": [(1, "S001", 40, 400.5, 52000.0), (1, "S002", 30, 210.0, 31000.0),
             (2, "S001", 45, 420.0, 55000.0), (2, "S003", 20, 150.25, 18000.0),
             (3, "S002", 50, 380.0, 46000.5)],
    "current": [(1, "S001", 10, 95.0, 12000.0), (1, "S002", 8, 60.0, 9000.0),
                (1, "S003", 5, 30.0, 4000.0)],
}  # fmt: skip
# (month, day of month, operator, waybills, anomalies, status)
ALARMS = [
    ("earlier", 15, "S001", 30, 2, "open"),
    ("last", 2, "S003", 20, 3, "open"),
    ("last", 3, "S002", 50, 4, "closed"),
    ("current", 1, "S001", 10, 1, "open"),
]
THRESHOLD = 0.05
RESULT = "已补传车辆道路运输证，异常已整改"  # the closed alarm's rectification result


def freight_gold(today: dt.date | None = None) -> FreightGold:
    """The frames, with the months relative to ``today`` (default: today's Beijing date)."""
    today = today or dt.datetime.now(ZoneInfo("Asia/Shanghai")).date()
    starts = {"earlier": _month_start(today, 2), "last": _month_start(today, 1),
              "current": _month_start(today)}  # fmt: skip
    label = {key: start.strftime("%Y-%m") for key, start in starts.items()}

    days, months, anomalies, alarms = [], [], [], []
    for key, entries in DAYS.items():
        for day_of_month, op, waybills, tonnes, charges in entries:
            day = starts[key] + dt.timedelta(days=day_of_month - 1)
            days.append({
                "day": day, "period": label[key], "operator_id": op, "operator_name": NAMES[op],
                "envelopes": waybills + 2, "accepted": waybills + 1, "rejected": 1,
                "waybills": waybills, "vehicles": waybills // 2, "drivers": waybills // 2,
                "tonnes": tonnes, "tonne_km": round(tonnes * 120.0, 3), "charges_yuan": charges,
                "anomalies": 0, "score": 100.0, "score_rank": 1,
            })  # fmt: skip
    day_frame = pd.DataFrame(days)
    for key, ranking in RANKINGS.items():
        for op, (score, rank, counts) in ranking.items():
            mine = day_frame[(day_frame["period"] == label[key]) & (day_frame["operator_id"] == op)]
            waybills = int(mine["waybills"].sum())
            row = {
                "operator_id": op, "operator_name": NAMES[op], "period": label[key],
                "period_start": starts[key], "complete_on": _next_month(starts[key]),
                **{c: mine[c].sum() for c, _ in _TRANSPORT}, "unknown_distance": 0,
                **{f"anomalies_{t}": n for t, n in zip(TYPES, counts, strict=True)},
                "anomalies": sum(counts),
                **{f"rate_{t}": (n / waybills if waybills else 0.0)
                   for t, n in zip(TYPES, counts, strict=True)},
                "score": score, "score_rank": rank,
            }  # fmt: skip
            months.append(row)
            for t, n in zip(TYPES, counts, strict=True):
                for i in range(n):
                    anomalies.append(_anomaly(starts[key], op, t, i, "open"))
    # LAST: a withdrawn anomaly (申诉撤销: not counted) and one of a sender not registered
    anomalies.append(_anomaly(starts["last"], "S001", "qualification", 9, "withdrawn"))
    anomalies.append(_anomaly(starts["last"], UNREGISTERED, "access", 0, "open"))
    for key, day_of_month, op, waybills, count, status in ALARMS:
        day = starts[key] + dt.timedelta(days=day_of_month - 1)
        alarms.append({
            "day": day, "period": label[key], "operator_id": op, "operator_name": NAMES[op],
            "waybills": waybills, "anomalies": count, "anomaly_rate": round(count / waybills, 6),
            "threshold": THRESHOLD, "status": status,
            "closed_at": None if status == "open" else _noon(day + dt.timedelta(days=5)),
            "result": None if status == "open" else RESULT,
        })  # fmt: skip
    return FreightGold(
        label["earlier"], label["last"], label["current"],
        pd.DataFrame(months)[OPERATOR_MONTHS_SCHEMA.names],
        day_frame[OPERATOR_DAYS_SCHEMA.names],
        pd.DataFrame(anomalies)[ANOMALIES_SCHEMA.names],
        pd.DataFrame(alarms)[ALARM_DAYS_SCHEMA.names],
    )  # fmt: skip


def _noon(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(12, 0), tzinfo=dt.UTC)


def _anomaly(month: dt.date, op: str, kind: str, i: int, status: str) -> dict:
    event = dt.datetime.combine(month + dt.timedelta(days=i % 28), dt.time(10, 0), tzinfo=dt.UTC)
    key = f"{op}-{month:%Y%m}-{i:03d}/0000"
    return {
        "anomaly_id": f"{kind}:{key}", "operator_id": op, "operator_name": NAMES.get(op),
        "anomaly_type": kind, "document_kind": "envelope" if op == UNREGISTERED else "waybill",
        "document_key": key, "rule": "rejected" if kind == "access" else f"{kind}_rule",
        "event_time": event, "day": event.date(), "period": f"{month:%Y-%m}",
        "detected_at": event + dt.timedelta(days=1), "status": status,
        "is_counted": status != "withdrawn",
    }  # fmt: skip

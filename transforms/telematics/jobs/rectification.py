"""Rectification (整改清单 / 整改销号清单): items from a monthly bulletin, their status history, and
the anomaly "vehicle newly attached to a provider under rectification".

Items are never deleted and every status change is a new event row: the status of an item is its
latest event. Small tables, written through delta-rs (no Spark needed).

A commit lost to a writer outside the lake's lock (transforms/lake/conflicts.py) is made again
where that is idempotent — the rewrite of the gold table, a status change or the overdue events
with the read they depend on — and not when issuing a bulletin: its items and their `open` events
are two commits, and issuing again after the first alone would open nothing.
"""

from __future__ import annotations

import calendar
import datetime as dt
import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
from deltalake import DeltaTable, write_deltalake

from transforms.lake import registry
from transforms.lake.clock import TS, now_beijing
from transforms.lake.conflicts import retry_conflicts

ITEMS = registry.table("ops.telematics__rectification_items")
EVENTS = registry.table("ops.telematics__rectification_events")
GOLD = registry.table("gold.telematics__rectification_items")
ITEM_SCHEMA = pa.schema([
    ("item_id", pa.string()), ("period", pa.string()), ("kind", pa.string()),
    ("level", pa.string()), ("subject_id", pa.string()), ("subject_name", pa.string()),
    ("problem", pa.string()), ("evidence", pa.string()), ("issued_on", pa.date32()),
    ("report_due", pa.date32()), ("rectify_until", pa.date32()), ("created_at", TS),
])  # fmt: skip
EVENT_SCHEMA = pa.schema([
    ("item_id", pa.string()), ("status", pa.string()), ("at", TS), ("by", pa.string()),
    ("note", pa.string()),
])  # fmt: skip
# the items with their status (what the dashboards read): rewritten after every change
GOLD_SCHEMA = pa.schema([
    *ITEM_SCHEMA, ("status", pa.string()), ("status_at", TS), ("status_by", pa.string()),
    ("status_note", pa.string()), ("overdue_on", pa.date32()), ("county_code", pa.string()),
])  # fmt: skip
# how far along a status is: of two events at the same time, the one further along is the later
PROGRESS = {"open": 0, "overdue": 1, "reported": 2, "closed": 3}
# allowed status changes: open → reported → closed (销号); open / reported → overdue when late
TRANSITIONS = {
    "reported": {"open", "overdue"},
    "closed": {"reported"},
    "overdue": {"open"},
}
INDICATORS = (
    "platform_connectivity_rate", "network_entry_rate", "online_rate", "track_completeness_rate",
    "data_qualification_rate", "drift_vehicle_rate", "check_response_rate",
    "mean_overspeed_count", "mean_fatigue_minutes",
)  # fmt: skip


class RectificationError(ValueError):
    """A command that cannot be carried out (unknown item, forbidden status change…)."""


def add_working_days(start: dt.date, days: int, holidays: set[dt.date]) -> dt.date:
    """The date ``days`` working days (Mon–Fri, not a holiday) after ``start``."""
    day = start
    while days > 0:
        day += dt.timedelta(days=1)
        if day.weekday() < 5 and day not in holidays:
            days -= 1
    return day


def add_months(day: dt.date, months: int) -> dt.date:
    """The same day ``months`` later (clamped to the month's last day)."""
    index = day.month - 1 + months
    year, month = day.year + index // 12, index % 12 + 1
    return dt.date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def _read(lake: Path, table: registry.Table) -> pa.Table:
    if not table.exists(lake):
        return (ITEM_SCHEMA if table is ITEMS else EVENT_SCHEMA).empty_table()
    return DeltaTable(str(table.location(lake))).to_pyarrow_table()


def _item_id(period: str, kind: str, level: str, subject_id: str) -> str:
    return hashlib.sha1(f"{period}|{kind}|{level}|{subject_id}".encode()).hexdigest()[:16]


@dataclass
class IssueResult:
    created: int
    already: int
    items: list[dict[str, Any]]


def issue(lake: Path, period: str, issued_on: dt.date, rules: dict[str, Any]) -> IssueResult:
    """Create the items of a monthly bulletin: every subject that failed the month, and every
    vehicle with a violation in it. Re-issuing the same month creates nothing new."""
    cfg = rules["rectification"]
    holidays = {dt.date.fromisoformat(str(h)) for h in cfg.get("holidays", [])}
    due = add_working_days(issued_on, cfg["report_due_working_days"], holidays)
    month_start = dt.date.fromisoformat(f"{period}-01")
    until = add_months(issued_on, cfg["provider_period_months"])
    assessments = registry.table("gold.telematics__assessments")
    if not assessments.exists(lake):
        raise RectificationError("no assessment yet: run `lakehouse run` first")
    rows = (
        DeltaTable(str(assessments.location(lake)))
        .to_pyarrow_table(filters=[("period_type", "=", "month"), ("period", "=", period)])
        .to_pylist()
    )
    if not rows:
        raise RectificationError(f"no assessment for {period}: was its data landed and run?")
    now = now_beijing()
    candidates = []
    for r in sorted(rows, key=lambda r: (r["level"], r["subject_id"])):
        if r["passed"] is False:
            low = {k: r[k] for k in INDICATORS if r.get(k) is not None}
            candidates.append({
                "kind": "subject", "level": r["level"], "subject_id": r["subject_id"],
                "subject_name": r["subject_name"],
                "problem": f"{period} 考核不合格 (score {r['score']:.2f})",
                "evidence": json.dumps({"score": r["score"], **low}, ensure_ascii=False),
                "rectify_until": until if r["level"] == "platform" else due,
            })  # fmt: skip
    candidates += _violation_vehicles(lake, month_start, period, due)
    existing = set(_read(lake, ITEMS).column("item_id").to_pylist())
    new = []
    for c in candidates:
        c["item_id"] = _item_id(period, c["kind"], c["level"], c["subject_id"])
        if c["item_id"] in existing:
            continue
        new.append({**c, "period": period, "issued_on": issued_on, "report_due": due,
                    "created_at": now})  # fmt: skip
    if new:
        write_deltalake(str(ITEMS.location(lake)), pa.Table.from_pylist(new, ITEM_SCHEMA),
                        mode="append")  # fmt: skip
        opened = [{"item_id": n["item_id"], "status": "open", "at": now, "by": "system",
                   "note": "issued with the monthly bulletin"} for n in new]  # fmt: skip
        write_deltalake(str(EVENTS.location(lake)), pa.Table.from_pylist(opened, EVENT_SCHEMA),
                        mode="append")  # fmt: skip
    publish_status(lake)
    return IssueResult(created=len(new), already=len(candidates) - len(new), items=new)


def _violation_vehicles(lake: Path, month_start: dt.date, period: str, due: dt.date):
    events = registry.table("silver.telematics__violation_events")
    if not events.exists(lake):
        return []
    month_end = dt.date.fromisoformat(
        f"{month_start.year + month_start.month // 12}-{month_start.month % 12 + 1:02d}-01"
    ) - dt.timedelta(days=1)
    ev = DeltaTable(str(events.location(lake))).to_pyarrow_table(
        filters=[("day", ">=", month_start), ("day", "<=", month_end)],
        columns=["kind", "plate", "plate_color", "start_at", "event_id"],
    )
    ev = ev.filter(pc.field("kind") != "drift_jump")  # a drift jump is data quality, no violation
    by_vehicle: dict[tuple[str, int], list[dict]] = {}
    for e in ev.to_pylist():
        by_vehicle.setdefault((e["plate"], e["plate_color"]), []).append(e)
    out = []
    for (plate, color), items in sorted(by_vehicle.items()):
        kinds: dict[str, int] = {}
        for e in items:
            kinds[e["kind"]] = kinds.get(e["kind"], 0) + 1
        out.append({
            "kind": "vehicle", "level": "vehicle", "subject_id": f"{plate}|{color}",
            "subject_name": plate,
            "problem": f"{period} 违法违规: " + ", ".join(f"{k} ×{n}" for k, n in sorted(kinds.items())),
            "evidence": json.dumps({"events": sorted(e["event_id"] for e in items)}),
            "rectify_until": due,
        })  # fmt: skip
    return out


def items_with_status(lake: Path, today: dt.date | None = None) -> list[dict[str, Any]]:
    """Every item with its current status: its latest event (of two at the same time, the one
    further along), open without events. ``overdue_on`` is the first day an open item is overdue
    (the day after its report is due); ``overdue_now`` flags open items past due ``today``."""
    items = _read(lake, ITEMS).to_pylist()
    latest: dict[str, dict] = {}
    events = _read(lake, EVENTS).to_pylist()
    for e in sorted(events, key=lambda e: (e["at"], PROGRESS.get(e["status"], 0))):
        latest[e["item_id"]] = e
    today = today or now_beijing().date()
    out = []
    for item in sorted(items, key=lambda i: (i["period"], i["kind"], i["level"], i["subject_id"])):
        ev = latest.get(item["item_id"], {})
        status = ev.get("status", "open")
        still_open = status == "open"
        out.append({**item, "status": status, "status_at": ev.get("at"),
                    "status_by": ev.get("by"), "status_note": ev.get("note"),
                    "overdue_on": item["report_due"] + dt.timedelta(days=1) if still_open else None,
                    "overdue_now": still_open and item["report_due"] < today})  # fmt: skip
    return out


def publish_status(lake: Path) -> int:
    """Rewrite gold.telematics__rectification_items: every item with its status as of now (the
    dashboards read it; whether an open item is overdue depends on the day someone looks, so the
    serving view compares ``overdue_on`` with its own date). Returns the number of items."""

    def rewrite() -> int:
        county_of = _subject_counties(lake)
        rows = [
            {**r, "county_code": county_of(r["level"], r["subject_id"])}
            for r in items_with_status(lake)
        ]
        table = pa.Table.from_pylist(rows, GOLD_SCHEMA)  # overdue_now is not stored
        write_deltalake(str(GOLD.location(lake)), table, mode="overwrite", schema_mode="overwrite")
        return len(rows)

    return retry_conflicts(rewrite)


def _subject_counties(lake: Path) -> Callable[[str, str], str | None]:
    """The county (GB/T 2260) an item's subject belongs to now, for the row-level security of the
    dashboards: a county its own code, an enterprise or a vehicle the county of its current
    master-data version; a platform, or a subject the master data does not know, none (the
    province's)."""

    def current(name: str, key: list[str]) -> dict[tuple, str | None]:
        table = registry.table(name)
        if not table.exists(lake):
            return {}
        rows = (
            DeltaTable(str(table.location(lake)))
            .to_pyarrow_table(columns=[*key, "county_code"], filters=[("is_current", "=", True)])
            .to_pylist()
        )
        return {tuple(str(r[k]) for k in key): r["county_code"] for r in rows}

    enterprises = current("silver.telematics__enterprises", ["enterprise_id"])
    vehicles = current("silver.telematics__vehicles", ["plate", "plate_color"])

    def county_of(level: str, subject_id: str) -> str | None:
        if level == "county":
            return subject_id
        if level == "enterprise":
            return enterprises.get((subject_id,))
        if level == "vehicle":
            return vehicles.get(tuple(subject_id.split("|", 1)))
        return None

    return county_of


def change_status(lake: Path, item_id: str, status: str, by: str, note: str) -> dict[str, Any]:
    """Record a status change (reported: the 整改报告; closed: 销号 with the disposal)."""

    def record() -> dict[str, Any]:  # checked against the events as they are, then appended
        current = {i["item_id"]: i for i in items_with_status(lake)}
        matches = [k for k in current if k.startswith(item_id)] if len(item_id) >= 6 else []
        if len(matches) != 1:
            raise RectificationError(f"no single item with id {item_id!r} (give ≥ 6 characters)")
        item = current[matches[0]]
        if item["status"] not in TRANSITIONS.get(status, set()):
            raise RectificationError(
                f"item {item['item_id']} is {item['status']}: cannot become {status}"
            )
        if not note.strip():
            raise RectificationError(f"{status} needs a note (closing needs the recorded disposal)")
        event = {"item_id": item["item_id"], "status": status, "at": now_beijing(), "by": by,
                 "note": note}  # fmt: skip
        write_deltalake(str(EVENTS.location(lake)), pa.Table.from_pylist([event], EVENT_SCHEMA),
                        mode="append")  # fmt: skip
        return item

    item = retry_conflicts(record)
    publish_status(lake)
    return {**item, "status": status}


def mark_overdue(lake: Path, today: dt.date) -> int:
    """Record ``overdue`` for every open item whose report is past due; returns how many."""

    def record() -> int:  # the late items as the events are now, then their events appended
        late = [i for i in items_with_status(lake, today) if i["overdue_now"]]
        if late:
            now = now_beijing()
            rows = [{"item_id": i["item_id"], "status": "overdue", "at": now, "by": "system",
                     "note": f"report due {i['report_due']} not received by {today}"} for i in late]  # fmt: skip
            write_deltalake(str(EVENTS.location(lake)), pa.Table.from_pylist(rows, EVENT_SCHEMA),
                            mode="append")  # fmt: skip
        return len(late)

    late = retry_conflicts(record)
    if late:
        publish_status(lake)
    return late


def newly_attached_anomalies(lake: Path) -> list[dict[str, Any]]:
    """Vehicles that joined a provider (platform) while it was under rectification (第四十一条:
    no new or transferred vehicles during the rectification period)."""
    under = [
        i for i in items_with_status(lake)
        if i["level"] == "platform" and i["kind"] == "subject" and i["status"] != "closed"
    ]  # fmt: skip
    vehicles = registry.table("silver.telematics__vehicles")
    if not under or not vehicles.exists(lake):
        return []
    versions = (
        DeltaTable(str(vehicles.location(lake)))
        .to_pyarrow_table(columns=["plate", "plate_color", "platform_id", "valid_from"])
        .to_pylist()
    )
    versions.sort(key=lambda v: (v["plate"], v["plate_color"], v["valid_from"]))
    out = []
    previous: dict[tuple, str | None] = {}
    for v in versions:
        key = (v["plate"], v["plate_color"])
        before = previous.get(key)
        previous[key] = v["platform_id"]
        if before == v["platform_id"]:
            continue
        for item in under:
            if item["subject_id"] == v["platform_id"] and (
                item["issued_on"] <= v["valid_from"] <= item["rectify_until"]
            ):
                out.append({"plate": v["plate"], "plate_color": v["plate_color"],
                            "platform_id": v["platform_id"], "attached_on": v["valid_from"],
                            "previous_platform_id": before, "item_id": item["item_id"]})  # fmt: skip
    return out


def issue_completed_months(
    lake: Path, rules: dict[str, Any], bulletin_date: dt.date
) -> dict[str, IssueResult]:
    """After an assessment run: issue the bulletin items of every month the lake has moved past
    (it holds data of a later day), then record overdue items. Idempotent."""
    for table, schema in ((ITEMS, ITEM_SCHEMA), (EVENTS, EVENT_SCHEMA)):
        if not table.exists(lake):  # empty until a first bulletin, so readers see the schema
            write_deltalake(str(table.location(lake)), schema.empty_table())
    if not GOLD.exists(lake):
        publish_status(lake)
    assessments = registry.table("gold.telematics__assessments")
    if not assessments.exists(lake):
        return {}
    days = DeltaTable(str(assessments.location(lake))).to_pyarrow_table(
        columns=["period_type", "period"], filters=[("period_type", "=", "day")]
    )
    labels = days.column("period").to_pylist()
    if not labels:
        return {}
    last_day = max(labels)
    months = sorted({label[:7] for label in labels if label[:7] < last_day[:7]})
    results = {month: issue(lake, month, bulletin_date, rules) for month in months}
    mark_overdue(lake, bulletin_date)
    return results

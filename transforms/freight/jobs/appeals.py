"""申诉 and 整改: appeals of qualification anomalies, and the closure of alarms (freight.md "Alarms,
appeals, follow-up").

Alarms: an alarm (an operator-day over the anomaly-rate threshold, gold.freight__alarms) is open
until the operator's rectification result (整改结果) is recorded
(`lakehouse freight close-alarm OPERATOR DAY --result …`): a ``closed`` event in
silver.freight__alarm_events (append-only); the monitoring then shows the alarm closed.

Appeals:
An operator appeals a 资质异常 (`lakehouse freight appeal ANOMALY_ID --reason …`): a ``filed``
event in silver.freight__appeals (append-only: every event of every appeal is kept). Each
monitoring run re-checks every appeal still open against the licence data as it is then: when the
waybill's qualification no longer fails (the licence valid at despatch has arrived or been
corrected) the appeal ends ``withdrawn`` and the anomaly stops counting; when it still fails
``appeal.window_days`` after filing, ``confirmed``. The anomaly keeps the status its appeal gave
(``transforms.freight.anomalies``: a withdrawn row is still listed, with its evidence).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import pyarrow as pa
from deltalake import DeltaTable, write_deltalake

from transforms.lake import registry

APPEALS = registry.table("silver.freight__appeals")
ANOMALIES = registry.table("silver.freight__anomalies")
TS = pa.timestamp("us", tz="UTC")
SCHEMA = pa.schema(
    [
        ("appeal_id", pa.string()),
        ("anomaly_id", pa.string()),
        ("event", pa.string()),  # filed, withdrawn, confirmed
        ("status", pa.string()),  # the anomaly's status after the event
        ("reason", pa.string()),
        ("at", TS),
        ("deadline", TS),
    ]
)
APPEALABLE = ("qualification",)


class AppealError(ValueError):
    """An appeal that cannot be filed: unknown anomaly, another type, one already open."""


def _utc(value: dt.datetime) -> dt.datetime:
    return value.replace(tzinfo=dt.UTC)


def events(lake: Path) -> list[dict[str, Any]]:
    """Every appeal event so far, in order."""
    if not APPEALS.exists(lake):
        return []
    rows = DeltaTable(str(APPEALS.location(lake))).to_pyarrow_table().to_pylist()
    return sorted(rows, key=lambda r: (r["at"], r["appeal_id"], r["event"] != "filed"))


def open_appeals(lake: Path) -> list[dict[str, Any]]:
    """The ``filed`` event of every appeal without an outcome yet."""
    last: dict[str, dict[str, Any]] = {}
    for e in events(lake):
        last[e["appeal_id"]] = e
    return [e for e in last.values() if e["event"] == "filed"]


def _append(lake: Path, rows: Iterable[dict[str, Any]]) -> None:
    table = pa.Table.from_pylist(list(rows), SCHEMA)
    if table.num_rows:
        write_deltalake(str(APPEALS.location(lake)), table, mode="append")


def file_appeal(
    lake: Path, anomaly_id: str, reason: str, now: dt.datetime, rules: Mapping[str, Any]
) -> dict[str, Any]:
    """Record an appeal of ``anomaly_id`` (an anomaly the monitoring found); its event row."""
    if not reason.strip():
        raise AppealError("an appeal needs a reason (--reason)")
    if not ANOMALIES.exists(lake):
        raise AppealError(f"no anomalies in {lake} yet: run the pipeline first")
    found = DeltaTable(str(ANOMALIES.location(lake))).to_pyarrow_table(
        columns=["anomaly_id", "anomaly_type", "status"]
    )
    matches = [r for r in found.to_pylist() if r["anomaly_id"] == anomaly_id]
    if not matches:
        raise AppealError(f"no anomaly {anomaly_id!r} (see `lakehouse report freight --anomalies`)")
    (anomaly,) = matches
    if anomaly["anomaly_type"] not in APPEALABLE:
        raise AppealError(
            f"{anomaly_id} is a {anomaly['anomaly_type']} anomaly: only "
            f"{', '.join(APPEALABLE)} anomalies (资质异常) can be appealed"
        )
    if anomaly["status"] in ("withdrawn", "confirmed"):
        raise AppealError(f"{anomaly_id} is already {anomaly['status']}")
    if any(e["anomaly_id"] == anomaly_id for e in open_appeals(lake)):
        raise AppealError(f"{anomaly_id} already has an open appeal")
    filed = sum(1 for e in events(lake) if e["event"] == "filed")
    row = {
        "appeal_id": f"AP{now:%Y%m%d}-{filed + 1:05d}",
        "anomaly_id": anomaly_id,
        "event": "filed",
        "status": "open",
        "reason": reason.strip(),
        "at": _utc(now),
        "deadline": _utc(now + dt.timedelta(days=int(rules["appeal"]["window_days"]))),
    }
    _append(lake, [row])
    return row


def recheck(lake: Path, failing_now: set[str], now: dt.datetime) -> list[dict[str, Any]]:
    """Decide every open appeal: ``withdrawn`` when its anomaly no longer fails
    (``failing_now``: the ids the evaluation just found), ``confirmed`` when it still fails at
    its deadline; the new event rows."""
    decided = []
    for e in open_appeals(lake):
        if e["anomaly_id"] not in failing_now:
            outcome, why = "withdrawn", "re-check: the qualification holds with fresh licence data"
        elif _utc(now) >= e["deadline"]:
            outcome, why = "confirmed", "re-check: still failing when the appeal window closed"
        else:
            continue
        decided.append({**e, "event": outcome, "status": outcome, "reason": why, "at": _utc(now)})
    _append(lake, decided)
    return decided


# ---- alarms -------------------------------------------------------------------------------

ALARM_EVENTS = registry.table("silver.freight__alarm_events")
ALARMS = registry.table("gold.freight__alarms")
ALARM_SCHEMA = pa.schema(
    [
        ("operator_id", pa.string()),
        ("day", pa.string()),
        ("event", pa.string()),  # closed
        ("result", pa.string()),  # the operator's rectification result
        ("at", TS),
    ]
)


def close_alarm(lake: Path, operator_id: str, day: str, result: str, now: dt.datetime) -> dict:
    """Record the rectification result of the alarm of ``operator_id`` on ``day``: it closes."""
    if not result.strip():
        raise AppealError("closing an alarm needs the operator's rectification result (--result)")
    if not ALARMS.exists(lake):
        raise AppealError(f"no alarms in {lake} yet: run the pipeline first")
    alarms = DeltaTable(str(ALARMS.location(lake))).to_pyarrow_table(
        columns=["operator_id", "day", "status"]
    )
    found = [a for a in alarms.to_pylist() if a["operator_id"] == operator_id and a["day"] == day]
    if not found:
        raise AppealError(
            f"no alarm of {operator_id} on {day} (see gold.freight__alarms / the dashboard)"
        )
    if found[0]["status"] == "closed":
        raise AppealError(f"the alarm of {operator_id} on {day} is already closed")
    row = {"operator_id": operator_id, "day": day, "event": "closed", "result": result.strip(),
           "at": _utc(now)}  # fmt: skip
    table = pa.Table.from_pylist([row], ALARM_SCHEMA)
    write_deltalake(
        str(ALARM_EVENTS.location(lake)),
        table,
        mode="append" if ALARM_EVENTS.exists(lake) else "error",
    )
    return row

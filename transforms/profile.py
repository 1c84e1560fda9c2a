"""`lakehouse profile`: one vehicle or one enterprise across every domain (access.md "One vehicle, one
enterprise, across domains"), read from the lake's tables (no engine needed).

One JSON object per subject, with stable keys and one part per domain. Every part says which
period it covers (``covers``: the first and last day of the rows it is built from; null when the
lake holds nothing about the subject there), so "no violations" over a month is told apart from
"no data". Only what a regulator may read is shown: masked values, never a clear personal field.

A vehicle is ``plate`` + ``plate_color`` (JT/T 415 colour code). How the domains name it:

- 动态监控 (telematics): ``plate`` / ``plate_color`` in the vehicle register and every fact;
- 电子证照 (licences): a vehicle licence's holder key ``<plate>-<colour>``;
- 网络货运 (freight): a waybill vehicle's ``vehicle_number`` / ``plate_color``;
- 网约车 (ride-hailing): ``VehicleNo`` (the plate alone: the interface has no colour).

An enterprise is its unified social credit code (USCC): the telematics enterprise id, an
organisation licence's holder key, a freight sender's ``uscc`` (its operator codes follow from it)
and a ride-hailing company's ``Identifier`` (its CompanyId follows from it).
"""

from __future__ import annotations

import datetime as dt
import json
from collections import Counter, defaultdict
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from decimal import Decimal
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.dataset as ds
from deltalake import DeltaTable

from transforms.lake import registry

# the longest lists a part prints (the counts always cover everything)
MAX_ITEMS = 50
OPEN_RECTIFICATION = ("open", "overdue", "reported")


class ProfileError(ValueError):
    """A subject that cannot be looked up (a malformed plate colour or USCC)."""


# ---- reading ------------------------------------------------------------------------------------

# (column, values): the rows whose ``column`` is one of ``values`` — the subject's key in a table
Key = tuple[str, Iterable[Any]]


class _Loaded:
    """Every table a profile reads, read once, with its rows indexed by the key columns profiles
    look them up by: the profiles of every subject (:func:`loaded`, the gold tables of
    transforms/profile_gold.py) then cost a lookup each, not a scan of every table per subject."""

    def __init__(self, lake: Path) -> None:
        self.lake = lake
        self.tables: dict[str, pa.Table | None] = {}
        self.indexes: dict[tuple[str, str], dict[Any, list[int]]] = {}

    def table(self, name: str) -> pa.Table | None:
        if name not in self.tables:
            table = registry.table(name)
            self.tables[name] = (
                DeltaTable(str(table.location(self.lake))).to_pyarrow_table()
                if table.exists(self.lake)
                else None
            )
        return self.tables[name]

    def lookup(self, name: str, column: str, values: Iterable[Any]) -> pa.Table | None:
        data = self.table(name)
        if data is None:
            return None
        if (name, column) not in self.indexes:
            index: dict[Any, list[int]] = defaultdict(list)
            for i, value in enumerate(data.column(column).to_pylist()):
                index[value].append(i)
            self.indexes[(name, column)] = index
        index = self.indexes[(name, column)]
        taken = sorted(i for v in set(values) for i in index.get(v, ()))
        return data.take(pa.array(taken, pa.int64()))


_LOADED: ContextVar[_Loaded | None] = ContextVar("profile_loaded", default=None)


@contextmanager
def loaded(lake: Path) -> Iterator[None]:
    """Within the block, profiles of ``lake`` read each table once (kept in memory) and find a
    subject's rows through an index: for building many profiles, as the gold tables do."""
    token = _LOADED.set(_Loaded(Path(lake)))
    try:
        yield
    finally:
        _LOADED.reset(token)


def _rows(
    lake: Path,
    name: str,
    where: ds.Expression | None = None,
    columns: list[str] | None = None,
    on: Key | None = None,
) -> list[dict[str, Any]]:
    """The rows of table ``name`` whose ``on`` column holds one of its values and that match
    ``where`` (none when the table does not exist: a lake without that domain)."""
    cache = _LOADED.get()
    if cache is not None and cache.lake == Path(lake):
        data = cache.table(name) if on is None else cache.lookup(name, on[0], on[1])
        if data is None:
            return []
        if where is not None:
            data = data.filter(where)
        wanted = [c for c in columns if c in data.column_names] if columns else None
        return (data.select(wanted) if wanted else data).to_pylist()
    table = registry.table(name)
    if not table.exists(lake):
        return []
    if on is not None:
        keyed = pc.field(on[0]).isin(list(on[1]))
        where = keyed if where is None else keyed & where
    dataset = DeltaTable(str(table.location(lake))).to_pyarrow_dataset()
    present = set(dataset.schema.names)
    wanted = [c for c in columns if c in present] if columns else None
    return dataset.to_table(filter=where, columns=wanted).to_pylist()


def _json_value(value: Any) -> Any:
    if isinstance(value, dt.datetime):
        return value.replace(tzinfo=None).isoformat(sep=" ")
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, dict):
        return {k: _json_value(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_json_value(v) for v in value]
    return value


def _day(value: Any) -> str | None:
    if isinstance(value, dt.datetime):
        return value.date().isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, str) and len(value) >= 7:
        return value[:10] if len(value) >= 10 else f"{value}-01"
    return None


def _covers(values: Iterable[Any]) -> dict[str, str] | None:
    days = sorted(d for d in (_day(v) for v in values) if d)
    return {"from": days[0], "to": days[-1]} if days else None


def _pick(row: dict[str, Any], keys: Iterable[str]) -> dict[str, Any]:
    return {k: _json_value(row.get(k)) for k in keys}


def _latest(rows: list[dict[str, Any]], key: str, limit: int = MAX_ITEMS) -> list[dict[str, Any]]:
    """The ``limit`` most recent rows by ``key`` (newest first)."""
    return sorted(rows, key=lambda r: (r.get(key) is None, r.get(key)), reverse=True)[:limit]


# ---- the parts ----------------------------------------------------------------------------------

LICENCE_KEYS = ["licence_no", "licence_type", "scope", "status", "version", "valid_from",
                "valid_to", "issuing_authority_name"]  # fmt: skip


def _licences(lake: Path, holder_type: str, holder_key: str, on: dt.date) -> dict[str, Any]:
    rows = _rows(lake, "gold.licences__licences", pc.field("holder_type") == holder_type,
                 on=("holder_key", [holder_key]))  # fmt: skip
    items = []
    for r in sorted(rows, key=lambda r: (r["licence_type"] or "", r["licence_no"] or "")):
        item = _pick(r, LICENCE_KEYS)
        starts, ends = r.get("valid_from"), r.get("valid_to")
        item["valid_on"] = bool(
            r.get("status") == "valid"
            and (starts is None or _day(starts) <= on.isoformat())
            and (ends is None or _day(ends) >= on.isoformat())
        )
        items.append(item)
    return {
        "covers": _covers([r.get("valid_from") for r in rows] + [r.get("valid_to") for r in rows]),
        "as_of": on.isoformat(),
        "valid": sum(1 for i in items if i["valid_on"]),
        "items": items,
    }


def _assessments(lake: Path, enterprise_ids: list[str]) -> list[dict[str, Any]]:
    if not enterprise_ids:
        return []
    rows = _rows(lake, "gold.telematics__assessments", pc.field("level") == "enterprise",
                 on=("subject_id", enterprise_ids))  # fmt: skip
    keys = ["subject_id", "subject_name", "period_type", "period", "vehicles", "score", "passed"]
    return [_pick(r, keys) for r in sorted(rows, key=lambda r: (r["period_type"], r["period"]))]


def _violations(rows: list[dict[str, Any]]) -> dict[str, Any]:
    keys = ["day", "kind", "plate", "plate_color", "start_at", "end_at", "max_speed", "limit_kmh",
            "minutes"]  # fmt: skip
    return {
        "total": len(rows),
        "by_kind": dict(sorted(Counter(r["kind"] for r in rows).items())),
        "latest": [_pick(r, keys) for r in _latest(rows, "start_at")],
    }


def _rectification(lake: Path, subject_ids: list[str]) -> dict[str, Any]:
    if not subject_ids:
        return {"covers": None, "open": []}
    rows = _rows(lake, "gold.telematics__rectification_items", on=("subject_id", subject_ids))
    keys = ["item_id", "period", "level", "subject_id", "subject_name", "problem", "status",
            "issued_on", "report_due", "rectify_until"]  # fmt: skip
    still = [r for r in rows if r["status"] in OPEN_RECTIFICATION]
    return {
        "covers": _covers(r.get("period") for r in rows),
        "open": [_pick(r, keys) for r in sorted(still, key=lambda r: (r["period"], r["item_id"]))],
    }


def _company_ids(lake: Path, uscc: str) -> list[str]:
    """The ride-hailing CompanyIds whose baseInfoCompany names ``uscc`` as Identifier."""
    rows = _rows(lake, "silver.ridehailing__static_versions", columns=["company_id", "payload"],
                 on=("interface", ["baseInfoCompany"]))  # fmt: skip
    return sorted({
        r["company_id"] for r in rows
        if r.get("payload") and json.loads(r["payload"]).get("Identifier") == uscc
    })  # fmt: skip


def _company_quality(lake: Path, company_ids: list[str]) -> list[dict[str, Any]]:
    if not company_ids:
        return []
    rows = _rows(lake, "gold.ridehailing__company_periods", on=("company_id", company_ids))
    keys = ["company_id", "company_name", "period", "grain", "records", "completeness_rate",
            "normativity_rate", "timeliness_rate", "truthfulness_rate", "city_coverage_rate",
            "score", "transmitted"]  # fmt: skip
    return [_pick(r, keys) for r in sorted(rows, key=lambda r: (r["company_id"], r["period"]))]


def _orders(rows: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "total": len(rows),
        "by_status": dict(sorted(Counter(r["status"] for r in rows).items())),
        "by_company": dict(sorted(Counter(r["company_id"] for r in rows).items())),
    }


def _waybills(lake: Path, on: Key) -> list[dict[str, Any]]:
    """Accepted waybills whose ``on`` column holds one of its values (silver.freight__waybills),
    one per (shippingNoteNumber, serialNumber): the latest version sent."""
    rows = _rows(lake, "silver.freight__waybills", on=on)
    latest: dict[tuple[str, str], dict[str, Any]] = {}
    for r in rows:
        key = (r["shipping_note_number"], r["serial_number"])
        if key not in latest or r["message_sending_time"] > latest[key]["message_sending_time"]:
            latest[key] = r
    return list(latest.values())


WAYBILL_KEYS = ["shipping_note_number", "serial_number", "enterprise_sender_code", "carrier",
                "despatch_time", "receipt_time", "gross_weight_kg", "total_monetary_amount"]  # fmt: skip
ANOMALY_KEYS = ["anomaly_id", "operator_id", "anomaly_type", "document_kind", "document_key",
                "rule", "event_time", "status"]  # fmt: skip


def _freight_part(
    waybills: list[dict[str, Any]], anomalies: list[dict[str, Any]], extra: dict[str, Any]
) -> dict[str, Any]:
    return {
        "covers": _covers([w.get("despatch_time") for w in waybills]
                          + [a.get("event_time") for a in anomalies]),
        **extra,
        "waybills": len(waybills),
        "latest_waybills": [_pick(w, WAYBILL_KEYS) for w in _latest(waybills, "despatch_time")],
        "anomalies": {
            "total": len(anomalies),
            "by_type": dict(sorted(Counter(a["anomaly_type"] for a in anomalies).items())),
            "items": [_pick(a, ANOMALY_KEYS) for a in _latest(anomalies, "event_time")],
        },
    }  # fmt: skip


# ---- the subjects -------------------------------------------------------------------------------


def vehicle_profile(
    lake: Path, plate: str, plate_color: int, on: dt.date | None = None
) -> dict[str, Any]:
    """Everything the lake holds about one vehicle (``on``: the day licences are judged valid on;
    default today)."""
    on = on or dt.date.today()
    lake = Path(lake)
    plate = plate.strip()
    if not plate:
        raise ProfileError("a plate is required")
    same = pc.field("plate_color") == int(plate_color)  # and the plate: on=("plate", [plate])
    vehicle = ("plate", [plate])

    versions = _rows(lake, "silver.telematics__vehicles", same, on=vehicle)
    version_keys = ["vehicle_type", "enterprise_id", "county_code", "platform_id",
                    "operating_status", "terminal_phone_masked", "valid_from", "valid_to"]  # fmt: skip
    versions.sort(key=lambda r: r["valid_from"])
    enterprises = sorted({r["enterprise_id"] for r in versions if r.get("enterprise_id")})
    rh_versions = _rows(
        lake, "silver.ridehailing__static_versions", pc.field("interface") == "baseInfoVehicle",
        ["company_id", "valid_from", "valid_to", "state", "address"], on=("vehicle_no", [plate]),
    )  # fmt: skip
    rh_versions.sort(key=lambda r: (r["company_id"], r["valid_from"]))
    fr_vehicles = _rows(
        lake, "silver.freight__vehicles", pc.field("plate_color") == str(plate_color),
        ["enterprise_sender_code", "message_sending_time", "vehicle_type", "vehicle_tonnage",
         "gross_mass", "road_transport_certificate_number", "owner_masked"],
        on=("vehicle_number", [plate]),
    )  # fmt: skip
    fr_vehicles.sort(key=lambda r: r["message_sending_time"])
    master = {
        "covers": _covers([r["valid_from"] for r in versions]
                          + [r["valid_from"] for r in rh_versions]
                          + [r["message_sending_time"] for r in fr_vehicles]),
        "telematics": [_pick(r, version_keys) for r in versions],
        "ridehailing": [_pick(r, ["company_id", "state", "address", "valid_from", "valid_to"])
                        for r in rh_versions],
        "freight": [_json_value(r) for r in fr_vehicles],
    }  # fmt: skip

    violations = _rows(lake, "gold.telematics__violations", same, on=vehicle)
    days = _rows(lake, "gold.telematics__vehicle_days", same,
                 ["day", "points", "qualified_points", "km"], on=vehicle)  # fmt: skip
    telematics = {
        "covers": _covers([d["day"] for d in days] + [v["day"] for v in violations]),
        "days_online": len(days),
        "km": round(sum(d["km"] or 0.0 for d in days), 3),
        "points": sum(d["points"] or 0 for d in days),
        "qualified_points": sum(d["qualified_points"] or 0 for d in days),
        "violations": _violations(violations),
        "enterprise_scores": _assessments(lake, enterprises),
    }

    carried = _rows(
        lake, "silver.freight__waybill_vehicles", pc.field("plate_color") == str(plate_color),
        ["message_reference_number", "document_index"], on=("vehicle_number", [plate]),
    )  # fmt: skip
    documents = {(r["message_reference_number"], r["document_index"]) for r in carried}
    refs = sorted({m for m, _ in documents})
    waybills = [
        w for w in (_waybills(lake, ("message_reference_number", refs)) if refs else [])
        if (w["message_reference_number"], w["document_index"]) in documents
    ]  # fmt: skip
    keys = sorted({f"{w['shipping_note_number']}/{w['serial_number']}" for w in waybills})
    anomalies = (
        _rows(lake, "silver.freight__anomalies", pc.field("document_kind") == "waybill",
              on=("document_key", keys))
        if keys else []
    )  # fmt: skip
    freight = _freight_part(waybills, anomalies, {})

    orders = _rows(lake, "silver.ridehailing__orders",
                   columns=["company_id", "order_id", "status", "created_at", "arrived_at"],
                   on=("vehicle_no", [plate]))  # fmt: skip
    companies = sorted({o["company_id"] for o in orders} | {r["company_id"] for r in rh_versions})
    ridehailing = {
        "covers": _covers([o["created_at"] for o in orders]),
        "orders": _orders(orders),
        "company_quality": _company_quality(lake, companies),
    }
    return {
        "subject": {"kind": "vehicle", "plate": plate, "plate_color": int(plate_color)},
        "master": master,
        "licences": _licences(lake, "vehicle", f"{plate}-{int(plate_color)}", on),
        "telematics": telematics,
        "freight": freight,
        "ridehailing": ridehailing,
        # a vehicle's own items are keyed plate|colour (rectification.py), its enterprises' by USCC
        "rectification": _rectification(lake, [f"{plate}|{int(plate_color)}", *enterprises]),
    }


def enterprise_profile(lake: Path, uscc: str, on: dt.date | None = None) -> dict[str, Any]:
    """Everything the lake holds about one enterprise, by its USCC."""
    on = on or dt.date.today()
    lake = Path(lake)
    uscc = uscc.strip().upper()
    if len(uscc) != 18:
        raise ProfileError(f"{uscc!r} is not a unified social credit code (18 characters)")

    enterprise = _rows(lake, "silver.telematics__enterprises",
                       columns=["name", "county_code", "business_type", "valid_from", "valid_to"],
                       on=("enterprise_id", [uscc]))  # fmt: skip
    enterprise.sort(key=lambda r: r["valid_from"])
    senders = _rows(lake, "silver.freight__senders",
                    columns=["enterprise_sender_code", "name", "valid_from", "valid_to"],
                    on=("uscc", [uscc]))  # fmt: skip
    codes = sorted({s["enterprise_sender_code"] for s in senders})
    company_ids = _company_ids(lake, uscc)
    companies = (
        _rows(lake, "silver.ridehailing__static_versions",
              pc.field("interface") == "baseInfoCompany",
              ["company_id", "address", "state", "valid_from", "valid_to"],
              on=("company_id", company_ids))
        if company_ids else []
    )  # fmt: skip
    companies.sort(key=lambda r: (r["company_id"], r["valid_from"]))
    master = {
        "covers": _covers([r["valid_from"] for r in enterprise + senders + companies]),
        "telematics": [_json_value(r) for r in enterprise],
        "freight_senders": [_json_value(r) for r in senders],
        "ridehailing_companies": [_json_value(r) for r in companies],
    }

    vehicles = _rows(lake, "silver.telematics__vehicles",
                     pc.field("is_current") == True,  # noqa: E712
                     ["plate", "plate_color"], on=("enterprise_id", [uscc]))  # fmt: skip
    violations = _rows(lake, "gold.telematics__violations", on=("enterprise_id", [uscc]))
    scores = _assessments(lake, [uscc])
    telematics = {
        "covers": _covers([v["day"] for v in violations] + [s["period"] for s in scores]),
        "vehicles": len({(v["plate"], v["plate_color"]) for v in vehicles}),
        "violations": _violations(violations),
        "scores": scores,
    }

    stats = (
        _rows(lake, "gold.freight__operator_stats", pc.field("grain") == "month",
              on=("operator_id", codes))
        if codes else []
    )  # fmt: skip
    stat_keys = ["operator_id", "period", "waybills", "tonnes", "charges_yuan", "score", "rank",
                 "rate_access", "rate_qualification", "rate_vehicle_network", "rate_trajectory",
                 "rate_match", "rate_duplicate"]  # fmt: skip
    anomalies = _rows(lake, "silver.freight__anomalies", on=("operator_id", codes)) if codes else []
    freight = _freight_part(
        _waybills(lake, ("uscc", [uscc])), anomalies,
        {"operator_codes": codes,
         "monthly": [_pick(s, stat_keys) for s in sorted(stats, key=lambda s: (s["operator_id"], s["period"]))]},
    )  # fmt: skip

    orders = (
        _rows(lake, "silver.ridehailing__orders",
              columns=["company_id", "order_id", "status", "created_at"],
              on=("company_id", company_ids))
        if company_ids else []
    )  # fmt: skip
    ridehailing = {
        "covers": _covers([o["created_at"] for o in orders]),
        "company_ids": company_ids,
        "orders": _orders(orders),
        "quality": _company_quality(lake, company_ids),
    }
    return {
        "subject": {"kind": "enterprise", "uscc": uscc,
                    "name": next((r["name"] for r in reversed(enterprise)), None)
                    or next((s["name"] for s in senders), None)},
        "master": master,
        "licences": _licences(lake, "organisation", uscc, on),
        "telematics": telematics,
        "freight": freight,
        "ridehailing": ridehailing,
        "rectification": _rectification(lake, [uscc]),
    }  # fmt: skip


def to_json(profile: dict[str, Any]) -> str:
    return json.dumps(profile, ensure_ascii=False, indent=2, sort_keys=False)


def to_table(profile: dict[str, Any]) -> str:
    """A terminal summary: one line per part with what it covers and its main counts."""
    subject = profile["subject"]
    name = (f"{subject['plate']} (colour {subject['plate_color']})" if subject["kind"] == "vehicle"
            else f"{subject['uscc']} {subject.get('name') or ''}".rstrip())  # fmt: skip
    lines = [f"{subject['kind']}: {name}"]
    for part in ("master", "licences", "telematics", "freight", "ridehailing", "rectification"):
        body = profile[part]
        covers = body.get("covers")
        span = f"{covers['from']} … {covers['to']}" if covers else "no data"
        counts = {k: (v["total"] if isinstance(v, dict) and "total" in v else v)
                  for k, v in body.items()
                  if k not in ("covers",) and (isinstance(v, int | float) or
                                                (isinstance(v, dict) and "total" in v))}  # fmt: skip
        extra = {k: len(v) for k, v in body.items() if isinstance(v, list)}
        shown = ", ".join(f"{k} {v}" for k, v in {**counts, **extra}.items())
        lines.append(f"  {part:<14} {span:<25} {shown}")
    return "\n".join(lines)


__all__ = ["ProfileError", "enterprise_profile", "to_json", "to_table", "vehicle_profile"]

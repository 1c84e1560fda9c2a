"""The defects the generator injects, each kind at its rate among the records it can apply to,
one kind per record (a record may also fail by its world — a driver without static data, an
outage — which the answer counts from the world, not from here).

A defect never touches what another dimension's check reads: not the natural key, the event
time, Flag, State or Address, not LicenseId / VehicleNo / PlateColor / DriverPhone / Birthday /
BizStatus, not a paid trip's DriveMile / DriveTime, not a personal field's format (personal
fields are checked masked), and not CompanyName / Identifier. So each record's four dimensions
follow from what was done to it and the world, exactly.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

import numpy as np

from transforms.ridehailing.generate import names
from transforms.ridehailing.generate.records import DELAYS, Rec
from transforms.ridehailing.interfaces import (
    BY_NAME,
    CODE,
    CODE_TABLES,
    COORD,
    DATE,
    DIVISION,
    INTERFACES,
    NUMBER,
    TEXT,
    TIME,
    Interface,
)

COMPLETENESS, NORMATIVITY, TIMELINESS, TRUTHFULNESS = (
    "completeness", "normativity", "timeliness", "truthfulness",
)  # fmt: skip
DIMENSIONS = (COMPLETENESS, NORMATIVITY, TIMELINESS, TRUTHFULNESS)
LIMITS = {"static": 86400, "order": 300, "operation": 300, "rated": 300, "position": 60}
NEVER = {"CompanyId", "Address", "Flag", "State", "UpdateTime", "LicenseId", "VehicleNo",
         "PlateColor", "DriverPhone", "Birthday", "BizStatus", "OrderId", "PositionTime",
         "PayTime", "CompanyName", "Identifier"}  # fmt: skip
TIME_1970 = "19700101080000"  # the unix epoch on a GMT+8 clock


@dataclass(frozen=True)
class Kind:
    name: str
    dimension: str | None  # None: the record passes (a trap, a re-send)
    rate: float
    points: bool = False  # applies to positions


KINDS: tuple[Kind, ...] = (
    # completeness
    Kind("missing_field", COMPLETENESS, 0.003),
    Kind("pos_missing_order_id", COMPLETENESS, 0.0003, True),
    Kind("pos_missing_field", COMPLETENESS, 0.0002, True),
    # normativity
    Kind("too_long", NORMATIVITY, 0.0007),
    Kind("bad_code", NORMATIVITY, 0.0007),
    Kind("not_numeric", NORMATIVITY, 0.0007),
    Kind("too_many_decimals", NORMATIVITY, 0.0007),
    Kind("out_of_range", NORMATIVITY, 0.0007),
    Kind("outside_china", NORMATIVITY, 0.0007),
    Kind("bad_time", NORMATIVITY, 0.0007),
    Kind("bad_date", NORMATIVITY, 0.002),
    Kind("bad_division", NORMATIVITY, 0.002),
    Kind("pos_outside_china", NORMATIVITY, 0.0002, True),
    Kind("pos_out_of_range", NORMATIVITY, 0.0002, True),
    Kind("pos_bad_division", NORMATIVITY, 0.0002, True),
    # timeliness
    Kind("late", TIMELINESS, 0.004),
    Kind("pos_late", TIMELINESS, 0.001, True),
    Kind("at_limit", None, 0.001),  # received exactly at the limit: timely
    Kind("pos_at_limit", None, 0.0003, True),
    # truthfulness
    Kind("time_1970", TRUTHFULNESS, 0.0008),
    Kind("time_future", TRUTHFULNESS, 0.0008),
    Kind("paid_zero_mile", TRUTHFULNESS, 0.003),
    Kind("paid_zero_time", TRUTHFULNESS, 0.002),
    Kind("event_order", TRUTHFULNESS, 0.003),  # of completed orders
    # re-sends: counted once
    Kind("resend", None, 0.003),
    Kind("corrected_resend", None, 0.001),  # first copy lacks a field, the later one is whole
    Kind("pos_resend", None, 0.0005, True),
)
BY_KIND = {k.name: k for k in KINDS}
QUARANTINE_PER_RECORDS = 5000  # malformed and keyless lines a day: 2 + records // this, each


def _protected(spec: Interface, rec: Rec | None = None) -> set[str]:
    out = set(NEVER) | set(spec.identity) | {spec.event}
    if spec.name == "operatePay":
        out |= {"DriveMile", "DriveTime"}
        if rec is not None and "PayTime" not in rec.fields:
            out.add("DestTime")  # the event time of an unpaid trip
    return out


def droppable(spec: Interface, rec: Rec | None = None) -> list[str]:
    """Mandatory fields a completeness defect may remove."""
    keep = _protected(spec, rec)
    return [n for n in spec.required if n not in keep]


def _format_fields(spec: Interface, rec: Rec, kinds: tuple[str, ...]) -> list[str]:
    keep = _protected(spec, rec)
    return [
        f.name for f in spec.fields
        if f.kind in kinds and f.name not in keep and not f.sensitive and f.name in rec.fields
        and rec.fields[f.name] not in (None, "")
    ]  # fmt: skip


def targets(kind: str, rec: Rec) -> list[str]:
    """The fields of ``rec`` a defect of ``kind`` can change ([] when it does not apply)."""
    spec = BY_NAME[rec.iface]
    if kind in ("missing_field", "corrected_resend"):
        return [n for n in droppable(spec, rec) if rec.fields.get(n) not in (None, "")]
    if kind == "too_long":
        return _format_fields(spec, rec, (TEXT,))
    if kind == "bad_code":
        return _format_fields(spec, rec, (CODE,))
    if kind in ("not_numeric", "too_many_decimals"):
        return _format_fields(spec, rec, (NUMBER,))
    if kind == "out_of_range":
        return [n for n in _format_fields(spec, rec, (NUMBER,))
                if spec.field(n).low is not None or spec.field(n).high is not None]  # fmt: skip
    if kind == "outside_china":
        return _format_fields(spec, rec, (COORD,))
    if kind == "bad_time":
        return _format_fields(spec, rec, (TIME,))
    if kind == "bad_date":
        return _format_fields(spec, rec, (DATE,))
    if kind == "bad_division":
        return _format_fields(spec, rec, (DIVISION,))
    if kind in ("time_1970", "time_future"):
        if spec.is_static:
            return []
        times = [n for n in _format_fields(spec, rec, (TIME,)) if not spec.field(n).validity_end]
        return [*times, "UpdateTime"]
    if kind in ("paid_zero_mile", "paid_zero_time"):
        return ["DriveMile" if kind == "paid_zero_mile" else "DriveTime"] if (
            spec.name == "operatePay" and "PayTime" in rec.fields) else []  # fmt: skip
    if kind in ("late", "at_limit", "resend"):
        return ["received_at"]
    return []


@cache
def eligible_interfaces(kind: str) -> tuple[str, ...]:
    """The interfaces a record kind can apply to (a record with every field present)."""
    out = []
    for spec in INTERFACES:
        if targets(kind, Rec(spec.name, 0, 0, {f.name: "1" for f in spec.fields})):
            out.append(spec.name)
    return tuple(out)


def _bad_value(kind: str, spec: Interface, name: str, value, rng: np.random.Generator):
    f = spec.field(name)
    if kind == "too_long":
        text = str(value)
        if f.fixed:
            return text[:-1]
        return text + "补" * (f.length + 1 - len(text) + int(rng.integers(0, 4)))
    if kind == "bad_code":
        table = CODE_TABLES[f.code_table or name]
        return next(int(c) for c in ("7", "5", "6", "8", "4", "3") if c not in table)
    if kind == "not_numeric":
        return names.pick(rng, (f"{value}元", "N/A", "一二", "--"))
    if kind == "too_many_decimals":
        if f.decimals:
            return float(f"{float(value):.{f.decimals}f}" + "5")
        return float(f"{int(value)}.5")
    if kind == "out_of_range":
        if f.high is not None:
            return int(f.high) + 1
        return int(f.low) - int(rng.integers(1, 10))
    if kind == "outside_china":
        return 2_000_000 if f.axis == "lon" and rng.random() < 0.5 else (
            150_000_000 if f.axis == "lon" else 60_000_000)  # fmt: skip
    if kind == "bad_time":
        text = str(value)
        return text[:6] + "00" + text[8:] if rng.random() < 0.5 else text[:12]
    if kind == "bad_date":
        text = str(value)
        return text[:6] + "00" if rng.random() < 0.5 else f"{text[:4]}-{text[4:6]}-{text[6:]}"
    if kind == "bad_division":
        return str(value)[:5]
    raise ValueError(kind)


def apply(kind: str, rec: Rec, rng: np.random.Generator) -> None:
    """Inject one defect of ``kind`` into ``rec`` (it must have targets)."""
    spec = BY_NAME[rec.iface]
    fields = targets(kind, rec)
    name = fields[int(rng.integers(len(fields)))]
    rec.tags.append(kind)
    dim = BY_KIND[kind].dimension
    if kind == "missing_field":
        how = int(rng.integers(4))
        if how == 0 or (how == 3 and spec.field(name).kind != TEXT):
            del rec.fields[name]
        elif how == 1:
            rec.fields[name] = None
        elif how == 2:
            rec.fields[name] = ""
        else:
            rec.fields[name] = "   "
        rec.incomplete = True
    elif kind == "corrected_resend":
        first = {k: v for k, v in rec.fields.items() if k != name}
        rec.extra.append((rec.recv, first))
        rec.recv = rec.recv + int(rng.integers(300, 7200))
    elif dim == NORMATIVITY:
        rec.fields[name] = _bad_value(kind, spec, name, rec.fields[name], rng)
        rec.nonnormative = True
    elif kind == "time_1970":
        rec.fields[name] = TIME_1970
        rec.untrue = True
    elif kind == "time_future":
        rec.fields[name] = names.f14(rec.recv + int(rng.integers(7 * 86400, 30 * 86400)))
        rec.untrue = True
    elif kind == "paid_zero_mile":
        rec.fields["DriveMile"] = 0.0
        rec.untrue = True
    elif kind == "paid_zero_time":
        rec.fields["DriveTime"] = 0
        rec.untrue = True
    elif kind == "late":
        limit = LIMITS[rec.group]
        extra = int(rng.integers(3600, 2 * 86400)) if rec.group == "static" else int(
            rng.integers(1, 3 * limit))  # fmt: skip
        rec.recv = rec.event + limit + extra
    elif kind == "at_limit":
        rec.recv = rec.event + LIMITS[rec.group]
    elif kind == "resend":
        rec.extra.append((rec.recv + int(rng.integers(600, 12 * 3600)), None))
    else:
        raise ValueError(kind)


EVENT_ORDER_VARIANTS = (("orderCreate", "orderMatch"), ("orderMatch", "operateDepart"),
                        ("operateDepart", "operateArrive"))  # fmt: skip


def shift_before(earlier: Rec, later: Rec, rng: np.random.Generator) -> None:
    """event_order: the later record of a lifecycle pair says it happened 5–90 s before the
    earlier one (its clock was wrong); sent as usual after the time it states."""
    spec = BY_NAME[later.iface]
    t = earlier.event - int(rng.integers(5, 91))
    later.event = t
    later.fields[spec.event] = names.f14(t)
    later.fields["UpdateTime"] = names.f14(t)
    low, high = DELAYS[later.group]
    later.recv = t + int(rng.integers(low, high))
    later.untrue = True
    later.tags.append("event_order")


# ---- positions ------------------------------------------------------------------------------

POINT_FIELDS = {
    "positionDriver": ("Longitude", "Latitude", "Direction", "Elevation", "Speed"),
    "positionVehicle": ("Longitude", "Latitude", "Speed", "Direction", "Elevation", "Mileage",
                        "WarnStatus", "VehStatus"),
}  # fmt: skip


def point_applies(kind: str, iface: str, biz: np.ndarray) -> np.ndarray:
    """Which points a positions kind can apply to (by BizStatus)."""
    if kind == "pos_missing_order_id":
        return biz != 3
    if kind == "pos_bad_division":
        return np.full(len(biz), iface == "positionVehicle")
    return np.ones(len(biz), dtype=bool)


def apply_point(kind: str, iface: str, fields: dict, rng: np.random.Generator) -> str | None:
    """Change a point's ``fields`` for a positions kind; the dimension it fails (None: passes;
    receipts are the caller's)."""
    if kind == "pos_missing_order_id":
        del fields["OrderId"]
        return COMPLETENESS
    if kind == "pos_missing_field":
        name = names.pick(rng, POINT_FIELDS[iface])
        if rng.random() < 0.5:
            del fields[name]
        else:
            fields[name] = None
        return COMPLETENESS
    if kind == "pos_outside_china":
        if rng.random() < 0.5:
            fields["Longitude"] = 150_000_000
        else:
            fields["Latitude"] = 60_000_000
        return NORMATIVITY
    if kind == "pos_out_of_range":
        if rng.random() < 0.5:
            fields["Direction"] = int(rng.integers(360, 400))
        else:
            fields["Speed"] = int(rng.integers(301, 400))
        return NORMATIVITY
    if kind == "pos_bad_division":
        fields["VehicleRegionCode"] = fields["VehicleRegionCode"][:5]
        return NORMATIVITY
    return None

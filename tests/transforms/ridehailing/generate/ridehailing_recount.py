"""An independent recount of a generated ride-hailing landing zone by ridehailing.md's exact rules:
plain Python over the files (and the licence specs the licence generator would sign), sharing no
code with the generator's bookkeeping — what its known answer must equal."""

from __future__ import annotations

import datetime as dt
import json
import math
import re
from collections import defaultdict
from functools import cache
from pathlib import Path
from typing import Any

from transforms.ridehailing.interfaces import (
    BY_NAME,
    CODE,
    CODE_TABLES,
    COORD,
    DATE,
    DIVISION,
    EVENT_ORDER,
    NUMBER,
    TIME,
)

GMT8_S = 8 * 3600
EPOCH = dt.datetime(1970, 1, 1)
LIMITS = {"static": 86400, "order": 300, "operation": 300, "rated": 300, "position": 60}
EARLIEST = int((dt.datetime(2000, 1, 1) - EPOCH).total_seconds())
BOUNDS = {"lon": (73.0, 136.0), "lat": (3.0, 54.0)}
DIMS = ("completeness", "normativity", "timeliness", "truthfulness")


def _text(value: Any) -> str | None:
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, bool):
        return json.dumps(value)
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float) and math.isfinite(value):
        return repr(value)
    return json.dumps(value, ensure_ascii=False)


def _present(value: str | None) -> bool:
    return value is not None and value.strip() != ""


def _seconds(moment: dt.datetime) -> int:
    return int((moment - EPOCH).total_seconds())


DIGITS14, DIGITS8 = re.compile(r"\d{14}"), re.compile(r"\d{8}")


@cache
def f14(value: str | None) -> int | None:
    """YYYYMMDDhhmmss → wall-clock seconds (None: not a valid time)."""
    if value is None or not DIGITS14.fullmatch(value.strip()):
        return None
    v = value.strip()
    try:
        moment = dt.datetime(int(v[:4]), int(v[4:6]), int(v[6:8]), int(v[8:10]), int(v[10:12]),
                             int(v[12:14]))  # fmt: skip
    except ValueError:
        return None
    return _seconds(moment)


@cache
def _f8_ok(value: str) -> bool:
    if not DIGITS8.fullmatch(value):
        return False
    try:
        dt.date(int(value[:4]), int(value[4:6]), int(value[6:8]))
    except ValueError:
        return False
    return True


def _time(name: str, value: str | None) -> int | None:
    if name == "PositionTime":
        if value is None or not _pattern(r"-?\d{1,12}").fullmatch(value.strip()):
            return None
        return int(value) + GMT8_S
    return f14(value)


@cache
def _received(text: str) -> int:
    return _seconds(dt.datetime.strptime(text, "%Y-%m-%d %H:%M:%S"))


def _month(t: int) -> str:
    return (EPOCH + dt.timedelta(seconds=t)).strftime("%Y-%m")


@cache
def _pattern(text: str) -> re.Pattern:
    return re.compile(text)


def normative(spec, values: dict[str, str | None]) -> bool:
    for f in spec.fields:
        raw = values.get(f.name)
        if raw is None:
            continue
        v = raw.strip()
        if not v or f.sensitive == "id_number":
            continue
        if f.kind == TIME and f.name != "PositionTime":
            ok = f14(v) is not None
        elif f.kind == DATE:
            ok = _f8_ok(v)
        elif f.kind == DIVISION:
            ok = bool(_pattern(r"\d{6}").fullmatch(v))
        elif f.kind == CODE:
            ok = v in CODE_TABLES[f.code_table or f.name]
        elif f.kind == COORD:
            low, high = BOUNDS[f.axis]
            ok = bool(_pattern(r"-?\d{1,10}").fullmatch(v)) and low <= int(v) / 1e6 <= high
        elif f.kind == NUMBER:
            dec = rf"(\.\d{{1,{f.decimals}}})?" if f.decimals else ""
            ok = bool(_pattern(rf"-?\d{{1,{f.length}}}{dec}").fullmatch(v))
            if ok and f.low is not None and float(v) < f.low:
                ok = False
            if ok and f.high is not None and float(v) > f.high:
                ok = False
        else:
            ok = len(v) == f.length if f.fixed else len(v) <= f.length
        if not ok:
            return False
    return True


class Licences:
    """Who the licence feed knows, and whether one of a holder's licences of a kind is valid."""

    def __init__(self, specs: list[dict[str, Any]]) -> None:
        self.by_holder: dict[tuple[str, str], list[list[dict]]] = defaultdict(list)
        for s in specs:
            versions = [{**v, "issued": _received(v["issued_at"]),
                         "from": dt.date.fromisoformat(v["valid_from"]),
                         "to": dt.date.fromisoformat(v["valid_to"])} for v in s["versions"]]  # fmt: skip
            self.by_holder[(s["kind"], s["holder_key"])].append(versions)

    def known(self, kind: str, holder: str) -> bool:
        return (kind, holder) in self.by_holder

    def valid(self, kind: str, holder: str, t: int) -> bool:
        day = (EPOCH + dt.timedelta(seconds=t)).date()
        for versions in self.by_holder[(kind, holder)]:
            issued = [v for v in versions if v["issued"] <= t]
            if issued:
                v = issued[-1]
                if v["status"] == "valid" and v["from"] <= day <= v["to"]:
                    return True
        return False


def recount(lake: Path, licence_specs: list[dict[str, Any]]) -> dict[str, Any]:
    """The evaluation rows (counts), overview and quarantine counts of ``lake``'s ride-hailing
    landing zone."""
    base = lake / "landing" / "ridehailing"
    lines = {"malformed": 0, "keyless": 0}
    copies: dict[tuple, list[tuple[int, int, dict]]] = defaultdict(list)
    n = 0
    for spec in BY_NAME.values():
        for path in sorted((base / spec.name).glob("*/*.jsonl")):
            for raw in path.read_text(encoding="utf-8").splitlines():
                if not raw.strip():
                    continue
                n += 1
                try:
                    obj = json.loads(raw)
                except json.JSONDecodeError:
                    lines["malformed"] += 1
                    continue
                if not isinstance(obj, dict):
                    lines["malformed"] += 1
                    continue
                values = {f: _text(obj.get(f)) for f in spec.field_names}
                if not all(_present(values[k]) for k in spec.key):
                    lines["keyless"] += 1
                    continue
                key = (spec.name, *(values[k].strip() for k in spec.key))
                copies[key].append((_received(obj["received_at"]), n, values))
    outages = []
    for path in sorted((base / "outageNotice").glob("*/*.jsonl")):
        for raw in path.read_text(encoding="utf-8").splitlines():
            o = json.loads(raw)
            outages.append({"company": o["CompanyId"], "planned": o["planned"],
                            "notified": f14(o["notified_at"]), "start": f14(o["start"]),
                            "end": f14(o["end"])})  # fmt: skip

    records = []
    for key, found in copies.items():
        found.sort()
        first, kept = found[0][0], found[-1]
        spec = BY_NAME[key[0]]
        values = kept[2]
        if spec.name == "operatePay":
            event = f14(values.get("PayTime")) or f14(values.get("DestTime"))
        else:
            event = _time(spec.event, values.get(spec.event))
        records.append({"spec": spec, "values": values, "first": first, "kept": kept[0],
                        "event": event, "company": values["CompanyId"].strip()})  # fmt: skip

    # static history (SCD2 by Flag)
    history: dict[tuple[str, str], list[tuple[int, str, str, dict]]] = defaultdict(list)
    for r in records:
        spec = r["spec"]
        if spec.is_static and r["event"] is not None:
            entity = "|".join(r["values"][k].strip() for k in ("CompanyId", *spec.identity))
            v = r["values"]
            history[(spec.name, entity)].append((r["event"], v["Flag"], v["State"], v))
    for h in history.values():
        h.sort(key=lambda x: x[0])

    def version_at(iface: str, entity: str, t: int) -> dict | None:
        latest = None
        for when, flag, _state, v in history.get((iface, entity), ()):
            if when <= t:
                latest = (flag, v)
        return latest[1] if latest and latest[0] in ("1", "2") else None

    def fit(iface: str, entity: str, t: int) -> bool:
        v = version_at(iface, entity, t)
        return v is not None and v["State"] == "0"

    licences = Licences(licence_specs)
    # sentinels
    shared: dict[tuple[str, str, str], set[str]] = defaultdict(set)
    for r in records:
        if r["spec"].name == "baseInfoDriver":
            for f in ("DriverPhone", "Birthday"):
                if _present(r["values"].get(f)):
                    shared[(r["company"], f, r["values"][f].strip())].add(r["values"]["LicenseId"])
    # event order
    times: dict[tuple[str, str, str], int] = {}
    for r in records:
        if r["spec"].name in {i for pair in EVENT_ORDER for i in pair} and r["event"] is not None:
            times[(r["spec"].name, r["company"], r["values"]["OrderId"])] = r["event"]

    required = {name: spec.required for name, spec in BY_NAME.items()}
    # "no 1970 or future times": a validity end (or a booked departure) may lie ahead
    checked_times = {name: [(f.name, f.validity_end) for f in spec.fields
                            if f.kind == TIME or f.name == "PositionTime"]
                     for name, spec in BY_NAME.items()}  # fmt: skip
    counts: dict[tuple[str, str], list[int]] = defaultdict(lambda: [0, 0, 0, 0, 0])
    cities: dict[tuple[str, str], set[str]] = defaultdict(set)
    orders: dict[str, int] = defaultdict(int)
    for r in records:
        spec, v, t, cid = r["spec"], r["values"], r["event"], r["company"]
        complete = all(_present(v.get(n)) for n in required[spec.name])
        for name, other, allowed in spec.conditional:
            if (v.get(other) or "").strip() in allowed and not _present(v.get(name)):
                complete = False
        timely = t is not None and (
            r["first"] - t <= LIMITS[spec.group]
            or any(o["company"] == cid and o["planned"] and o["start"] - o["notified"] >= 72 * 3600
                   and o["start"] <= t <= o["end"] and r["first"] <= o["end"] + 72 * 3600
                   for o in outages)
        )  # fmt: skip
        true = True
        for name, ahead in checked_times[spec.name]:
            when = _time(name, v.get(name))
            if when is not None and (when < EARLIEST or (not ahead and when > r["kept"])):
                true = False
        if spec.name == "operatePay" and _present(v.get("PayTime")):
            try:
                mile, secs = float(v["DriveMile"]), float(v["DriveTime"])
            except (TypeError, ValueError):
                mile, secs = -1.0, -1.0
            if mile < 0.1 or secs <= 0:
                true = False
        if not spec.is_static and t is not None:
            lic = v.get("LicenseId")
            if _present(lic):
                if not fit("baseInfoDriver", f"{cid}|{lic.strip()}", t):
                    true = False
                if licences.known("ride_hailing_driver", lic.strip()) and not licences.valid(
                    "ride_hailing_driver", lic.strip(), t
                ):
                    true = False
            veh = v.get("VehicleNo")
            if _present(veh):
                entity = f"{cid}|{veh.strip()}"
                if not fit("baseInfoVehicle", entity, t):
                    true = False
                version = version_at("baseInfoVehicle", entity, t)
                if version is not None:
                    holder = f"{veh.strip()}-{version['PlateColor']}"
                    if licences.known("ride_hailing_vehicle", holder) and not licences.valid(
                        "ride_hailing_vehicle", holder, t
                    ):
                        true = False
            for before, after in EVENT_ORDER:
                if spec.name == after:
                    earlier = times.get((before, cid, v["OrderId"]))
                    if earlier is not None and t < earlier:
                        true = False
        if spec.name == "baseInfoDriver":
            for f in ("DriverPhone", "Birthday"):
                if _present(v.get(f)) and len(shared[(cid, f, v[f].strip())]) >= 5:
                    true = False
        if spec.is_static and v["Flag"] == "3":
            entity = "|".join(v[k].strip() for k in ("CompanyId", *spec.identity))
            if not any(when < t and flag in ("1", "2")
                       for when, flag, _, _ in history[(spec.name, entity)]):  # fmt: skip
                true = False
        month = _month(t if t is not None else r["first"] - r["first"] % 86400)
        row = counts[(cid, month)]
        row[0] += 1
        for i, ok in enumerate((complete, normative(spec, v), timely, true)):
            row[i + 1] += not ok
        if not spec.is_static:
            cities[(cid, month)].add(v["Address"].strip()[:4])
        if spec.name == "orderCreate":
            orders[month] += 1

    # periods
    months_seen = sorted({m for _, m in counts})
    months = []
    y, m = int(months_seen[0][:4]), int(months_seen[0][5:])
    while f"{y:04d}-{m:02d}" <= months_seen[-1]:
        months.append(f"{y:04d}-{m:02d}")
        y, m = (y + 1, 1) if m == 12 else (y, m + 1)

    def bounds(period: str) -> tuple[int, int]:
        if len(period) == 4:
            first = dt.datetime(int(period), 1, 1)
            after = dt.datetime(int(period) + 1, 1, 1)
        else:
            first = dt.datetime(int(period[:4]), int(period[5:]), 1)
            after = (first + dt.timedelta(days=32)).replace(day=1)
        return _seconds(first), _seconds(after) - 1

    def licensed(cid: str, period: str) -> set[str]:
        lo, hi = bounds(period)
        out = set()
        for (iface, entity), h in history.items():
            if iface != "baseInfoCompanyPermit" or not entity.startswith(cid + "|"):
                continue
            for i, (when, flag, state, _) in enumerate(h):
                end = h[i + 1][0] if i + 1 < len(h) else 2**62
                if flag in ("1", "2") and state == "0" and when <= hi and end > lo:
                    out.add(entity.split("|")[1][:4])
        return out

    companies = sorted({c for c, _ in counts} | {e.split("|")[0] for (i, e) in history
                                                 if i == "baseInfoCompanyPermit"})  # fmt: skip
    rows = {}
    for cid in companies:
        for period in [*months, *sorted({m[:4] for m in months})]:
            row = [0] * 5
            covered: set[str] = set()
            for m in months:
                if m.startswith(period):
                    row = [a + b for a, b in zip(row, counts.get((cid, m), [0] * 5), strict=True)]
                    covered |= cities.get((cid, m), set())
            lic = licensed(cid, period)
            if row[0] or lic:
                rows[f"{cid}|{period}"] = {
                    "records": row[0], "failed": dict(zip(DIMS, row[1:], strict=True)),
                    "transmitted": row[0] > 0, "cities_covered": len(covered & lic),
                    "cities_licensed": len(lic),
                }  # fmt: skip

    def in_force_count(iface: str, t: int) -> int:
        return sum(1 for (i, e) in history if i == iface and fit(i, e, t))

    overview = {}
    for m in months:
        _, end = bounds(m)
        permitted = {e.split("|")[0] for (i, e) in history
                     if i == "baseInfoCompanyPermit" and fit(i, e, end)}  # fmt: skip
        overview[m] = {"platform_companies": len(permitted),
                       "driver_licences": in_force_count("baseInfoDriver", end),
                       "vehicle_licences": in_force_count("baseInfoVehicle", end),
                       "orders": orders.get(m, 0)}  # fmt: skip
    return {"rows": rows, "overview": overview, "lines": lines, "records": len(records)}

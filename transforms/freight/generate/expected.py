"""The known answer: every anomaly row and every statistic of freight.md "Exact anomaly rules" and
"Statistics per operator", worked out in plain Python from what the generator built (the
envelopes with the codes they must get, the documents, the points, the licences), never by
re-running the lake's SQL.

Naming follows transforms/freight/anomalies.py: a row is (operator_id, anomaly_type,
document_key) with the first rule it breaks in that module's order; document_key is
``shippingNoteNumber/serialNumber`` for a waybill, documentNumber for a fund flow,
messageReferenceNumber for an envelope. Attribution to a period: a waybill by its despatch, a
fund flow by its earliest payment, an envelope by its messageSendingDateTime.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from collections import Counter
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from transforms.freight.generate.content import Content, FundFlow, carrier
from transforms.freight.generate.documents import DRIVER, FUND_FLOW, VEHICLE, WAYBILL
from transforms.freight.generate.envelopes import OK, Envelope, received_effective
from transforms.freight.generate.licences import Subjects
from transforms.freight.generate.positions import Track
from transforms.freight.generate.schedule import DAY_S, Waybills, seconds
from transforms.freight.generate.world import World
from transforms.reference.divisions import division, haversine_km

TYPES = ("access", "qualification", "vehicle_network", "trajectory", "match", "duplicate")
WEIGHTS = {"access": 0.15, "qualification": 0.20, "vehicle_network": 0.15, "trajectory": 0.20,
           "match": 0.20, "duplicate": 0.10}  # fmt: skip
MAX_UPLOAD_DELAY_S = 24 * 3600
PLACEHOLDER_MAX_T = 4.5
VEHICLE_PLACEHOLDER = re.compile(r"^[0-9]{6}000000$")
DRIVER_PLACEHOLDER = re.compile(r"^[0-9]{6}0{12}$")
MAX_ENDPOINT_KM = 30.0
MIN_LENGTH_RATIO = 0.5
MIN_CENTROID_KM = 10.0
MATCH_WINDOW_S = 30 * DAY_S
TOLERANCE = Decimal("0.01")
ALLOWED_MEANS = ("1", "2", "3", "31", "32", "4", "41", "42", "9")
OVERLAP_S = 10 * 60
ALARM_RATE = 0.05
SCORE_DIGITS = 2
RATE_DIGITS = 6
AMOUNT_DIGITS = 3  # tonnes, tonne_km


@dataclass
class Answer:
    """What :func:`evaluate` works out (the pieces of the FreightSummary)."""

    anomalies: list[tuple[str, str, str]] = field(default_factory=list)
    rules: Counter = field(default_factory=Counter)  # "<type>.<first rule>" → rows
    stats: dict[str, dict[str, Any]] = field(default_factory=dict)
    alarm_days: list[str] = field(default_factory=list)
    waybills: int = 0
    versions: int = 0  # waybill keys with two distinct accepted bodies
    identical_resends: int = 0  # waybill keys re-sent identical (accepted twice, one body)
    small_overlaps: int = 0  # vehicle pairs overlapping by at most 10 minutes
    placeholders_allowed: dict[str, int] = field(default_factory=dict)
    unknown_distance: int = 0
    fund_flows: int = 0
    vehicle_records: int = 0
    driver_records: int = 0


def _money(x: float) -> Decimal:
    return Decimal(repr(x))


def _period(world: World, t: int) -> str:
    return (world.start + dt.timedelta(days=t // DAY_S)).strftime("%Y-%m")


def _day(world: World, t: int) -> str:
    return (world.start + dt.timedelta(days=t // DAY_S)).isoformat()


def _qualification(
    world: World,
    trips: Waybills,
    content: Content,
    subjects: Subjects,
    i: int,
    records: tuple[set, set],
    allowed: Counter,
) -> str | None:
    """The first qualification rule waybill ``i`` breaks (operator, vehicle, its drivers);
    placeholders allowed on the way are counted in ``allowed``."""
    fleet = world.fleet
    vehicle_records, driver_records = records
    op = world.operators[trips.operator[i]]
    at = seconds(world, trips.despatch[i])
    number = None if content.permit_missing[i] else op.permit_no
    licence = subjects.licences.get(number) if number else None
    reason = "not_found" if licence is None else licence.reason_at(at, op.uscc)
    if reason:
        return f"operator_permit_{reason}"
    v = trips.vehicle[i]
    gross = fleet.gross_mass[v] if v in vehicle_records else None
    if v not in vehicle_records:
        return "vehicle_record_missing"
    cert = subjects.vehicle_cert[v]
    if VEHICLE_PLACEHOLDER.match(cert):
        if gross > PLACEHOLDER_MAX_T:
            return "vehicle_placeholder_not_allowed"
        allowed["vehicle"] += 1
    else:
        licence = subjects.licences.get(cert)
        reason = "not_found" if licence is None else licence.reason_at(
            at, f"{fleet.plate[v]}-{fleet.color[v]}")  # fmt: skip
        if reason:
            return f"vehicle_licence_{reason}"
    for d in fleet.drivers[v]:
        if d not in driver_records:
            return "driver_record_missing"
        cert = subjects.driver_cert[d]
        if DRIVER_PLACEHOLDER.match(cert):
            if gross is None or gross > PLACEHOLDER_MAX_T:
                return "driver_placeholder_not_allowed"
            allowed["driver"] += 1
            continue
        licence = subjects.licences.get(cert)
        reason = "not_found" if licence is None else licence.reason_at(at, fleet.d_id[d])
        if reason:
            return f"driver_licence_{reason}"
    return None


def evaluate(
    world: World,
    trips: Waybills,
    content: Content,
    flows: list[FundFlow],
    subjects: Subjects,
    envelopes: list[Envelope],
    track: Track,
) -> Answer:
    """Every anomaly row and statistic (module docstring)."""
    fleet = world.fleet
    answer = Answer()
    # ---- accepted documents and winning versions --------------------------------------------
    occurrences: dict[tuple[str, int], list[tuple[int, int, int]]] = {}
    for e in envelopes:
        if e.code != OK:
            continue
        for doc in e.docs:
            occurrences.setdefault((doc.kind, doc.key), []).append(
                (e.sent, received_effective(world, e), doc.version)
            )
    vehicle_records = {k for kind, k in occurrences if kind == VEHICLE}
    driver_records = {k for kind, k in occurrences if kind == DRIVER}
    flows_accepted = {k for kind, k in occurrences if kind == FUND_FLOW}
    answer.vehicle_records, answer.driver_records = len(vehicle_records), len(driver_records)
    answer.fund_flows = len(flows_accepted)
    n = len(trips)
    version = [0] * n
    for i in range(n):
        seen = occurrences.get((WAYBILL, i), [])
        if not seen:
            raise AssertionError(f"waybill {i} was never accepted")
        version[i] = max(seen)[2]
        bodies = {v for _, _, v in seen}
        if len(bodies) >= 2:
            answer.versions += 1
        elif len(seen) >= 2:
            answer.identical_resends += 1
    answer.waybills = n
    key = [f"{content.note[i]}/{content.serial[i]}" for i in range(n)]
    op_code = [world.operators[trips.operator[i]].code for i in range(n)]

    rows: dict[tuple[str, str, str], tuple[str, int]] = {}  # row → (rule, event time)

    def add(i_or_code, anomaly_type: str, document: str, rule: str, at: int) -> None:
        row = (i_or_code, anomaly_type, document)
        if row not in rows:
            rows[row] = (rule, at)

    # ---- access ------------------------------------------------------------------------------
    for e in sorted(envelopes, key=lambda e: (received_effective(world, e), e.file, e.line)):
        if e.code != OK:
            code = (
                world.operators[e.operator].code if e.operator >= 0 else world.unknown_sender.code
            )
            add(code, "access", e.reference, "rejected", e.sent)
    for i in range(n):
        upload = content.upload_v2[i] if version[i] == 2 else content.upload[i]
        if upload > trips.arrival[i] + MAX_UPLOAD_DELAY_S:
            add(op_code[i], "access", key[i], "late_upload", trips.despatch[i])
    # ---- qualification -----------------------------------------------------------------------
    allowed: Counter = Counter()
    for i in range(n):
        rule = _qualification(
            world, trips, content, subjects, i, (vehicle_records, driver_records), allowed
        )
        if rule:
            add(op_code[i], "qualification", key[i], rule, trips.despatch[i])
    answer.placeholders_allowed = dict(sorted(allowed.items()))
    # ---- vehicle network and trajectory ------------------------------------------------------
    for i in range(n):
        if track.points[i] == 0:
            add(op_code[i], "vehicle_network", key[i], "no_positions", trips.despatch[i])
            continue
        a, b = division(trips.filed_loading[i]), division(trips.filed_receipt[i])
        rule = None
        if (
            a is not None
            and haversine_km(track.first_lon[i], track.first_lat[i], a.lon, a.lat) > MAX_ENDPOINT_KM
        ):
            rule = "first_point_far"
        elif (
            b is not None
            and haversine_km(track.last_lon[i], track.last_lat[i], b.lon, b.lat) > MAX_ENDPOINT_KM
        ):
            rule = "last_point_far"
        elif a is not None and b is not None:
            centroid = float(haversine_km(a.lon, a.lat, b.lon, b.lat))
            if centroid >= MIN_CENTROID_KM and track.length_km[i] < MIN_LENGTH_RATIO * centroid:
                rule = "track_too_short"
        if rule:
            add(op_code[i], "trajectory", key[i], rule, trips.despatch[i])
    # ---- match -------------------------------------------------------------------------------
    listed: dict[int, list[tuple[int, float]]] = {}
    for f_index in sorted(flows_accepted):
        for i, amount in flows[f_index].entries:
            listed.setdefault(i, []).append((f_index, amount))
    for i in range(n):
        entries = listed.get(i, [])
        payments = [p for f_index, _ in entries for p in flows[f_index].payments]
        total = sum((_money(a) for _, a in entries), Decimal(0))
        amount = _money(content.amount_v2[i] if version[i] == 2 else content.amount[i])
        in_window = sum(1 for p in payments if p[6] <= trips.arrival[i] + MATCH_WINDOW_S)
        names = {carrier(world, trips.vehicle[i])[0]} | {
            fleet.d_name[d] for d in fleet.drivers[trips.vehicle[i]]
        }
        rule = None
        if in_window == 0:
            rule = "no_fund_flow"
        elif abs(total - amount) > TOLERANCE:
            rule = "amount_mismatch"
        elif any(p[1] not in names for p in payments):
            rule = "payee_mismatch"
        elif any(p[6] < trips.despatch[i] for p in payments):
            rule = "payment_before_despatch"
        elif any(p[0] not in ALLOWED_MEANS for p in payments):
            rule = "payment_means_not_allowed"
        if rule:
            add(op_code[i], "match", key[i], rule, trips.despatch[i])
    for f_index in sorted(flows_accepted):
        f = flows[f_index]
        paid = sum((_money(p[5]) for p in f.payments), Decimal(0))
        entries = sum((_money(a) for _, a in f.entries), Decimal(0))
        if abs(paid - entries) > TOLERANCE:
            add(world.operators[f.operator].code, "match", f.number, "fund_flow_sum_mismatch",
                min(p[6] for p in f.payments))  # fmt: skip
    # ---- duplicate ---------------------------------------------------------------------------
    for i in range(n):
        bodies = {v for _, _, v in occurrences[(WAYBILL, i)]}
        if len(bodies) >= 2:
            add(op_code[i], "duplicate", key[i], "versions", trips.despatch[i])
    by_vehicle: dict[int, list[int]] = {}
    for i in range(n):
        by_vehicle.setdefault(trips.vehicle[i], []).append(i)
    for members in by_vehicle.values():
        members.sort(key=lambda i: (trips.despatch[i], key[i]))
        for pos, j in enumerate(members):
            for i in members[:pos]:
                overlap = min(trips.arrival[i], trips.arrival[j]) - trips.despatch[j]
                if overlap > OVERLAP_S:
                    add(op_code[j], "duplicate", key[j], "vehicle_overlap", trips.despatch[j])
                elif overlap > 0:
                    answer.small_overlaps += 1
    # ---- rows, rules -------------------------------------------------------------------------
    answer.anomalies = sorted(rows)
    answer.rules = Counter(f"{t}.{rule}" for (_, t, _), (rule, _) in rows.items())
    # ---- statistics --------------------------------------------------------------------------
    answer.stats, answer.alarm_days, answer.unknown_distance = _statistics(
        world, trips, content, envelopes, rows, version
    )
    return answer


def _round(value: float, digits: int) -> float:
    """Half up on the decimal form, as the engines round a double."""
    return float(Decimal(repr(value)).quantize(Decimal(1).scaleb(-digits), ROUND_HALF_UP))


def _statistics(world, trips, content, envelopes, rows, version):
    """Per registered operator and month with anything attributed to it (an envelope, a
    waybill, an anomaly row): the report row; and the alarm days."""
    fleet = world.fleet
    codes = [op.code for op in world.operators]
    names = {op.code: op.name for op in world.operators}
    blank = {"envelopes": 0, "accepted": 0, "rejected": 0, "waybills": 0, "tonnes": 0.0,
             "tonne_km": 0.0, "charges_yuan": Decimal(0), "unknown_distance": 0}  # fmt: skip
    acc: dict[tuple[str, str], dict[str, Any]] = {}

    def cell(code: str, period: str) -> dict[str, Any]:
        if (code, period) not in acc:
            acc[(code, period)] = {
                **blank, "vehicles": set(), "drivers": set(),
                **{f"anomalies_{t}": 0 for t in TYPES},
                **{f"waybills_{t}": 0 for t in TYPES},
            }  # fmt: skip
        return acc[(code, period)]

    for e in envelopes:
        if e.operator < 0:
            continue
        c = cell(codes[e.operator], _period(world, e.sent))
        c["envelopes"] += 1
        c["accepted" if e.code == OK else "rejected"] += 1
    unknown_distance = 0
    day_waybills: Counter = Counter()
    for i in range(len(trips)):
        code = codes[trips.operator[i]]
        c = cell(code, _period(world, trips.despatch[i]))
        v = trips.vehicle[i]
        c["waybills"] += 1
        day_waybills[(code, _day(world, trips.despatch[i]))] += 1
        c["vehicles"].add(v)
        c["drivers"].update(fleet.d_id[d] for d in fleet.drivers[v])
        goods = content.goods_v2[i] if version[i] == 2 and content.goods_v2[i] else content.goods[i]
        tonnes = math.fsum(g.kg for g in goods) / 1000
        c["tonnes"] += tonnes
        amount = content.amount_v2[i] if version[i] == 2 else content.amount[i]
        c["charges_yuan"] += _money(amount)
        a, b = division(trips.filed_loading[i]), division(trips.filed_receipt[i])
        if a is None or b is None:
            c["unknown_distance"] += 1
            unknown_distance += 1
        else:
            c["tonne_km"] += tonnes * haversine_km(a.lon, a.lat, b.lon, b.lat)
    day_rows: Counter = Counter()
    for (code, anomaly_type, document), (_, at) in rows.items():
        if code not in names:
            continue  # an unregistered sender gets no row
        day_rows[(code, _day(world, at))] += 1
        c = cell(code, _period(world, at))
        c[f"anomalies_{anomaly_type}"] += 1
        if "/" in document:  # a waybill's row (a fund flow's or an envelope's is not)
            c[f"waybills_{anomaly_type}"] += 1
    by_period: dict[str, list[dict[str, Any]]] = {}
    for (code, period), c in acc.items():
        penalty = 0.0
        for t in TYPES:
            hits, base = (
                (c["anomalies_access"], c["envelopes"]) if t == "access"
                else (c[f"waybills_{t}"], c["waybills"])
            )  # fmt: skip
            penalty += WEIGHTS[t] * (_round(hits / base, RATE_DIGITS) if base else 0.0)
        by_period.setdefault(period, []).append({
            "operator_id": code, "operator_name": names[code], "period": period,
            "envelopes": c["envelopes"], "accepted": c["accepted"], "rejected": c["rejected"],
            "waybills": c["waybills"], "vehicles": len(c["vehicles"]),
            "drivers": len(c["drivers"]), "tonnes": _round(c["tonnes"], AMOUNT_DIGITS),
            "tonne_km": _round(c["tonne_km"], AMOUNT_DIGITS),
            "charges_yuan": float(c["charges_yuan"].quantize(Decimal("0.01"), ROUND_HALF_UP)),
            **{f"anomalies_{t}": c[f"anomalies_{t}"] for t in TYPES},
            "unknown_distance": c["unknown_distance"],
            "score": _round(min(100.0, max(0.0, 100 - 100 * penalty)), SCORE_DIGITS),
        })  # fmt: skip
    stats: dict[str, dict[str, Any]] = {}
    for period, period_rows in sorted(by_period.items()):
        period_rows.sort(key=lambda r: (-r["score"], r["operator_id"]))
        for rank, row in enumerate(period_rows, start=1):
            row["rank"] = rank
            stats[f"{row['operator_id']}|{period}"] = row
    alarms = sorted(
        f"{code}|{day}"
        for (code, day) in set(day_rows) | set(day_waybills)
        if day_rows[(code, day)]
        and (
            not day_waybills[(code, day)]
            or day_rows[(code, day)] / day_waybills[(code, day)] > ALARM_RATE
        )
    )
    return dict(sorted(stats.items())), alarms, unknown_distance

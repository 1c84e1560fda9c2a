"""What each waybill says (goods, charges, shippers, upload times, versions) and how each is
paid (fund flows), with the waybill-level and payment cases of freight.md.

Waybill cases (the first eligible waybill is forced into each, then the share):

| case | share | what |
|---|---|---|
| ``late_upload`` | 0.5 % | sendToProDateTime 25–60 h after goodsReceiptDateTime (access) |
| ``correction`` | 0.4 % | re-sent 3–20 h later with another charge and weight: a 2nd version (duplicate) |
| ``resend`` | 0.5 % | the identical document re-sent 3–20 h later (no anomaly) |
| ``permit_missing`` | 0.2 % | no permitNumber (qualification) |

Payment cases (exclusive; match):

| case | share | what |
|---|---|---|
| ``no_fund_flow`` | 0.5 % | never paid |
| ``amount`` | 0.3 % | the fund flow lists 50–500 yuan less than the waybill's charge |
| ``sum_mismatch`` | 0.2 % | a fund flow whose payments add up to 20–300 yuan less than its entries (the row is on the fund flow) |
| ``payee`` | 0.3 % | paid to a third person, neither the actual carrier nor a driver |
| ``early`` | 0.2 % | paid 1–12 h before despatch |
| ``cash`` | 0.1 % | paymentMeansCode 10 (现金, not allowed) |
| ``unlisted`` | 0.1 % | paymentMeansCode 97 (not in the list) |

Otherwise paid 10 min – 36 h after receipt by transfer, Alipay, WeChat, … to the actual carrier
(now and then to the co-driver); 5 % of these in two instalments (30 % in transit, the rest after
receipt, in two fund flows) and 10 % together with the same vehicle's other waybills of that day
in one fund flow. A fund flow is uploaded 5 min – 6 h after its last payment.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass, field

import numpy as np

from transforms.freight.generate import names
from transforms.freight.generate.schedule import (
    DAY_S,
    ROAD_EXTRA_KM,
    ROAD_FACTOR,
    Geography,
    Waybills,
)
from transforms.freight.generate.world import HEAVY, LIGHT, TRACTOR, World
from transforms.reference.divisions import by_code

SEED_STREAM_CONTENT = 64
SEED_STREAM_PAYMENTS = 65
WAYBILL_SHARES = {"late_upload": 0.005, "correction": 0.004, "resend": 0.005,
                  "permit_missing": 0.002}  # fmt: skip
PAYMENT_SHARES = {"no_fund_flow": 0.005, "amount": 0.003, "sum_mismatch": 0.002, "payee": 0.003,
                  "early": 0.002, "cash": 0.001, "unlisted": 0.001}  # fmt: skip
UPLOAD_DELAY_S = (5 * 60, 6 * 3600)
LATE_UPLOAD_S = (25 * 3600, 60 * 3600)
RESEND_DELAY_S = (3 * 3600, 20 * 3600)
PAYMENT_DELAY_S = (10 * 60, 36 * 3600)
FLOW_UPLOAD_S = (5 * 60, 6 * 3600)
SPLIT_SHARE = 0.05
GROUP_SHARE = 0.10
CO_DRIVER_PAID_SHARE = 0.2
INSURED_SHARE = 0.7
NOTE_GROUP_WINDOW_S = 2 * 3600  # trips of one operator, day and route within this share a note
MEANS = (("32", 0.5), ("42", 0.25), ("41", 0.15), ("4", 0.05), ("3", 0.05))
CASH, UNLISTED = "10", "97"  # UN/ECE 4461: 10 in cash; 97 clearing between partners
BANKS = ("102", "103", "104", "105", "301", "313")  # CNAPS: 工商 农业 中国 建设 交通 城商行
INSURERS = ("PICC", "CPIC", "PAIC")
# goods by business type: (description, cargo type code, kg per m³, kg per package)
GOODS = {
    "1002996": (("钢材", "0400", 2500, 1000), ("水泥", "0800", 1300, 50), ("石材", "1100", 2000, 800),
                ("粮食", "1400", 750, 50), ("机械设备", "2100", 400, 500), ("陶瓷制品", "2200", 700, 25),
                ("纺织品", "2200", 250, 30), ("化肥", "1200", 900, 50)),
    "1002998": (("集装箱货物", "2200", 400, 20000),),
    "1003997": (("日用百货", "2200", 200, 15), ("快递包裹", "2200", 150, 8), ("生鲜食品", "1700", 500, 20),
                ("饮料", "2200", 700, 12)),
    "1003998": (("农资", "1200", 800, 40), ("茶叶", "1700", 300, 25), ("水产品", "1700", 600, 20)),
    "1003999": (("其他货物", "9900", 400, 50),),
}  # fmt: skip


@dataclass
class Goods:
    description: str
    code: str
    kg: int  # whole kg (as a weighbridge prints it): sums are exact in any order
    cube: float
    packages: int


@dataclass
class Content:
    """Per waybill (index as in :class:`Waybills`) what its documents say."""

    note: list[str] = field(default_factory=list)  # shippingNoteNumber
    serial: list[str] = field(default_factory=list)
    vehicle_amount: list[int] = field(default_factory=list)
    original: list[str] = field(default_factory=list)  # originalDocumentNumber
    consignment: list[int] = field(default_factory=list)
    business: list[str] = field(default_factory=list)
    goods: list[list[Goods]] = field(default_factory=list)  # version 1
    goods_v2: list[list[Goods] | None] = field(default_factory=list)
    amount: list[float] = field(default_factory=list)  # version 1
    amount_v2: list[float | None] = field(default_factory=list)
    consignor: list[tuple[str, str, str]] = field(default_factory=list)  # name, USCC, address
    consignee: list[tuple[str, str, str]] = field(default_factory=list)
    insurance: list[tuple[str, str]] = field(default_factory=list)
    upload: list[int] = field(default_factory=list)  # sendToProDateTime of version 1
    upload_v2: list[int | None] = field(default_factory=list)  # the re-send / correction
    case: list[str] = field(default_factory=list)  # waybill case ("" none)
    permit_missing: list[bool] = field(default_factory=list)


@dataclass
class FundFlow:
    """One fund flow document: entries (waybill, amount) and payments (means, recipient,
    account, bank, sequence, amount, time)."""

    number: str
    operator: int
    vehicle: int
    entries: list[tuple[int, float]]
    payments: list[tuple[str, str, str, str, str, float, int]]
    upload: int


def _case(rng, shares: dict[str, float], todo: list[str], eligible) -> str:
    for name in list(todo):
        if eligible(name):
            todo.remove(name)
            return name
    u, acc = rng.random(), 0.0
    for name, share in shares.items():
        acc += share
        if u < acc:
            return name if eligible(name) else ""
    return ""


def _road_km(geo: Geography, a: str, b: str) -> float:
    return ROAD_FACTOR * float(geo.km[geo.index[a], geo.index[b]]) + ROAD_EXTRA_KM


def _goods(rng, business: str, kg_total: float) -> list[Goods]:
    table = GOODS[business]
    items = 2 if rng.random() < 0.2 and kg_total > 200 else 1
    split = [kg_total] if items == 1 else [kg_total * 0.6, kg_total * 0.4]
    out = []
    for kg in split:
        desc, code, density, per_package = table[int(rng.integers(len(table)))]
        kg = max(1, round(kg))
        out.append(
            Goods(desc, code, kg, round(kg / density, 2), max(1, math.ceil(kg / per_package)))
        )
    return out


def build_content(world: World, geo: Geography, trips: Waybills) -> Content:
    """Notes, goods, charges, shippers, upload times and waybill cases of every waybill."""
    rng = np.random.default_rng([world.seed, SEED_STREAM_CONTENT])
    fleet = world.fleet
    n = len(trips)
    c = Content()
    order = sorted(range(n), key=lambda i: (trips.despatch[i], i))
    # shipping notes: an operator's physical trips of a day on one route within 2 h share a note
    # (一单多车: serialNumber 0100, 0200, …; a note of one vehicle is 0000)
    groups: list[list[int]] = []
    open_notes: dict[tuple, int] = {}
    for i in order:
        route = (trips.operator[i], trips.despatch[i] // DAY_S, trips.loading[i], trips.receipt[i])
        g = open_notes.get(route)
        if (trips.physical[i] and g is not None and len(groups[g]) < 3
                and trips.despatch[i] - trips.despatch[groups[g][0]] <= NOTE_GROUP_WINDOW_S):  # fmt: skip
            groups[g].append(i)
            continue
        groups.append([i])
        if trips.physical[i]:
            open_notes[route] = len(groups) - 1
    c.note, c.serial, c.vehicle_amount = [""] * n, [""] * n, [0] * n
    serials: dict[str, int] = {}
    for group in groups:
        first = group[0]
        op = world.operators[trips.operator[first]]
        serials[op.prefix] = serials.get(op.prefix, 0) + 1
        date = world.start + dt.timedelta(days=trips.despatch[first] // DAY_S)
        number = f"{op.prefix}{date:%y%m%d}{serials[op.prefix]:07d}"
        for k, member in enumerate(group, start=1):
            c.note[member] = number
            c.serial[member] = "0000" if len(group) == 1 else f"{k:02d}00"
            c.vehicle_amount[member] = len(group)
    forced = list(WAYBILL_SHARES)
    for i in range(n):
        v = trips.vehicle[i]
        kind = fleet.kind[v]
        op = world.operators[trips.operator[i]]
        c.original.append(f"{op.prefix}DD{c.note[i][len(op.prefix) :]}")
        c.consignment.append(trips.despatch[i] - int(rng.uniform(1, 20) * 3600))
        loading, receipt = trips.loading[i], trips.receipt[i]
        if kind == LIGHT:
            business = "1003997" if by_code()[receipt].name.endswith("区") else "1003998"
        elif kind == TRACTOR:
            business = "1002998" if rng.random() < 0.6 else "1002996"
        else:
            business = "1002996" if rng.random() < 0.9 else "1003999"
        c.business.append(business)
        kg = fleet.tonnage[v] * 1000 * float(rng.uniform(0.3 if kind == LIGHT else 0.5, 1.0))
        c.goods.append(_goods(rng, business, kg))
        tonnes = kg / 1000
        road = _road_km(geo, loading, receipt)
        if kind == LIGHT:
            amount = 60 + 3.2 * road + 20 * tonnes
        else:
            amount = 300 + (0.32 if kind == HEAVY else 0.28) * tonnes * road
        c.amount.append(round(amount * float(rng.uniform(0.9, 1.1)), 2))
        c.consignor.append(_shipper(rng, world, loading))
        c.consignee.append(_shipper(rng, world, receipt))
        if rng.random() < INSURED_SHARE:
            insurer = INSURERS[int(rng.integers(len(INSURERS)))]
            c.insurance.append((f"{insurer}{int(rng.integers(10**13, 10**14))}", insurer))
        else:
            c.insurance.append(("none", "none"))
        case = _case(rng, WAYBILL_SHARES, forced, lambda name: True)
        c.case.append(case)
        delay = LATE_UPLOAD_S if case == "late_upload" else UPLOAD_DELAY_S
        c.upload.append(trips.arrival[i] + int(rng.uniform(*delay)))
        c.permit_missing.append(case == "permit_missing")
        if case in ("correction", "resend"):
            c.upload_v2.append(c.upload[i] + int(rng.uniform(*RESEND_DELAY_S)))
        else:
            c.upload_v2.append(None)
        if case == "correction":  # re-weighed and re-priced
            scale = float(rng.uniform(0.9, 1.1))
            first = c.goods[i][0]
            kg2 = max(1, round(first.kg * scale))
            c.goods_v2.append([Goods(first.description, first.code, kg2, first.cube,
                                     first.packages), *c.goods[i][1:]])  # fmt: skip
            sign = 1 if rng.random() < 0.5 else -1
            c.amount_v2.append(round(c.amount[i] * (1 + sign * float(rng.uniform(0.05, 0.15))), 2))
        else:
            c.goods_v2.append(None)
            c.amount_v2.append(None)
    return c


def _shipper(rng, world: World, county: str) -> tuple[str, str, str]:
    name, uscc = world.shippers[county][int(rng.integers(len(world.shippers[county])))]
    d = by_code()[county]
    city = by_code()[d.parent_code]
    province = by_code()[city.parent_code]
    return name, uscc, names.address(rng, province.name, city.name, d.name)


def final_amount(c: Content, i: int) -> float:
    return c.amount_v2[i] if c.amount_v2[i] is not None else c.amount[i]


def carrier(world: World, v: int) -> tuple[str, str, str]:
    """(actualCarrierName, actualCarrierID, actualCarrierBusinessLicense) of vehicle ``v``."""
    fleet = world.fleet
    owner = fleet.owner[v]
    if owner >= 0:
        county = fleet.c_county[owner]
        return fleet.c_name[owner], fleet.c_uscc[owner], f"闽交运管许可字{county}{owner + 1:06d}号"
    d = fleet.drivers[v][0]
    return fleet.d_name[d], fleet.d_id[d], f"{fleet.d_id[d][:6]}000000"


def build_fund_flows(world: World, trips: Waybills, c: Content) -> tuple[list[FundFlow], list[str]]:
    """The fund flows paying the waybills (module docstring), and each waybill's payment case."""
    rng = np.random.default_rng([world.seed, SEED_STREAM_PAYMENTS])
    fleet = world.fleet
    n = len(trips)
    flows: list[FundFlow] = []
    cases = [""] * n
    forced = list(PAYMENT_SHARES)
    serial: dict[str, int] = {}
    order = sorted(range(n), key=lambda i: (trips.vehicle[i], trips.arrival[i], i))
    grouped: set[int] = set()

    def number(op: int, t: int) -> str:
        prefix = world.operators[op].prefix
        serial[prefix] = serial.get(prefix, 0) + 1
        day = world.start + dt.timedelta(days=t // DAY_S)
        return f"ZJ{prefix}{day:%y%m%d}{serial[prefix]:07d}"

    def means() -> str:
        u, acc = rng.random(), 0.0
        for code, share in MEANS:
            acc += share
            if u < acc:
                return code
        return MEANS[0][0]

    def payment(v: int, amount: float, t: int, code: str | None = None, payee: str | None = None):
        code = code or means()
        name = payee or carrier(world, v)[0]
        crew = fleet.drivers[v]
        if payee is None and len(crew) > 1 and rng.random() < CO_DRIVER_PAID_SHARE:
            name = fleet.d_name[crew[1]]
        if code == "32":
            account, bank = (
                f"6222{int(rng.integers(10**14, 10**15))}",
                BANKS[int(rng.integers(len(BANKS)))],
            )
        elif code in ("41", "42"):
            account, bank = names.mobile(rng), "ALIPAY" if code == "41" else "WECHAT"
        else:
            account, bank = (
                f"6217{int(rng.integers(10**14, 10**15))}",
                BANKS[int(rng.integers(len(BANKS)))],
            )
        sequence = f"{int(rng.integers(10**17, 10**18))}"
        return (code, name, account, bank, sequence, round(amount, 2), int(t))

    def flow(i_list: list[int], entries, payments) -> None:
        first = i_list[0]
        last_paid = max(p[6] for p in payments)
        flows.append(FundFlow(number(trips.operator[first], last_paid), trips.operator[first],
                              trips.vehicle[first], entries, payments,
                              last_paid + int(rng.uniform(*FLOW_UPLOAD_S))))  # fmt: skip

    for pos, i in enumerate(order):
        if i in grouped:
            continue
        v = trips.vehicle[i]
        total = final_amount(c, i)
        case = _case(rng, PAYMENT_SHARES, forced, lambda name: True)
        cases[i] = case
        paid_at = trips.arrival[i] + int(rng.uniform(*PAYMENT_DELAY_S))
        if case == "no_fund_flow":
            continue
        if case == "amount":
            listed = round(total - float(rng.uniform(50, 500)), 2)
            flow([i], [(i, listed)], [payment(v, listed, paid_at)])
        elif case == "sum_mismatch":
            flow([i], [(i, total)], [payment(v, total - float(rng.uniform(20, 300)), paid_at)])
        elif case == "payee":
            carrier_name = carrier(world, v)[0]
            crew_names = {fleet.d_name[d] for d in fleet.drivers[v]}
            third = names.person_name(rng)
            while third == carrier_name or third in crew_names:
                third = names.person_name(rng)
            flow([i], [(i, total)], [payment(v, total, paid_at, payee=third)])
        elif case == "early":
            at = trips.despatch[i] - int(rng.uniform(1, 12) * 3600)
            flow([i], [(i, total)], [payment(v, total, at)])
        elif case in ("cash", "unlisted"):
            code = CASH if case == "cash" else UNLISTED
            flow([i], [(i, total)], [payment(v, total, paid_at, code=code)])
        elif rng.random() < SPLIT_SHARE:  # an advance in transit, the balance after receipt
            advance = round(total * 0.3, 2)
            in_transit = trips.despatch[i] + int(rng.uniform(5, 60) * 60)
            flow([i], [(i, advance)], [payment(v, advance, in_transit)])
            balance = round(total - advance, 2)
            flow([i], [(i, balance)], [payment(v, balance, paid_at)])
        elif rng.random() < GROUP_SHARE:  # with the vehicle's next waybills of the day
            group = [i]
            day = trips.arrival[i] // DAY_S
            for j in order[pos + 1 : pos + 4]:
                if (trips.vehicle[j] == v and trips.operator[j] == trips.operator[i]
                        and trips.arrival[j] // DAY_S == day and j not in grouped):  # fmt: skip
                    group.append(j)
            for j in group[1:]:
                grouped.add(j)
                cases[j] = ""
            at = max(trips.arrival[j] for j in group) + int(rng.uniform(*PAYMENT_DELAY_S))
            entries = [(j, final_amount(c, j)) for j in group]
            flow(group, entries, [payment(v, sum(a for _, a in entries), at)])
        else:
            flow([i], [(i, total)], [payment(v, total, paid_at)])
    return flows, cases

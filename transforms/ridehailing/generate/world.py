"""The ride-hailing generator's world: platform companies and their permits, drivers, vehicles,
passengers, their licences, the whole static history (every baseInfo* record of the run with its
UpdateTime and Flag) and the outages. Everything is drawn from the arguments alone, so the licence
generator (through :func:`transforms.ridehailing.generate.licence_subjects`) and the ride-hailing
generator build the same world.

Subjects whose state makes their dynamic records fail truthfulness (ridehailing.md, "rules that
need other records"): each case once, on a driver (and his vehicle) of its own in a company's main
city, spread over the active companies, then at a share of the other drivers (province scale). A
failing case's driver takes two orders a day, at 09:00 and 15:00 (± 20 min), either side of the
middle of the run (12:30 of day ``days // 2``), where the states change:

| case | subject | what happens |
|---|---|---|
| ``ghost_driver`` | driver | works, never sent in baseInfoDriver |
| ``registered_late`` | driver | baseInfoDriver Flag 1 at 10:00 of the first day, works from 07:00 |
| ``deleted_driver`` | driver | Flag 3 in the middle of the run, keeps working |
| ``revoked_licence`` | driver | 网约车驾驶员证 revoked in the middle of the run, keeps working |
| ``expired_licence`` | driver | the licence's valid_to is the day before the middle day |
| ``unlicensed`` | driver | no licence at all: the licence check is skipped (passes) |
| ``ghost_vehicle`` | vehicle | driven, never sent in baseInfoVehicle |
| ``state_invalid_vehicle`` | vehicle | Flag 2 with State 1 in the middle of the run, still driven |
| ``expired_vehicle_licence`` | vehicle | 网约车运输证 valid_to the day before the middle day |
| ``unlicensed_vehicle`` | vehicle | no licence (check skipped, passes) |

Sentinels (one company each, drivers registered in the snapshot and idle during the run): five
filed with DriverPhone ``13800138000``, five with Birthday ``19700101`` (their baseInfoDriver
records fail), four sharing ``13900139000`` (below the threshold of five: they pass).
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from transforms.reference.divisions import by_code, counties
from transforms.ridehailing.generate import names
from transforms.ridehailing.generate.names import DAY_S, wall
from transforms.ridehailing.interfaces import BY_NAME

SEED_STREAM_WORLD = 81
INF = 2**62

# orders a driver takes in a shift (on average) and the share of drivers working on a day
ORDERS_PER_SHIFT = 11.5
ACTIVE_SHARE = 0.85
CASE_ORDERS = (9, 15)  # hours of the two orders a failing case's driver takes each day
MIN_DRIVERS_PER_CITY = 1
PASSENGERS_PER_ORDER = 2.0  # registered passengers (snapshot) per order of a day
NEW_PASSENGER_SHARE = 0.03  # new registrations a day per order
JOIN_SHARE, LEAVE_SHARE, PHONE_CHANGE_SHARE, APP_UPDATE_SHARE = 0.01, 0.005, 0.005, 0.01
INSURANCE_RENEWAL_SHARE, CHECK_UPDATE_SHARE = 0.003, 0.002
LICENCE_CHANGE_SHARE = 0.1
SILENT_DAYS_BEFORE = 45  # the silent company's static data were sent this long before the run
ENCRYPT = 1  # GCJ-02 (the points are not shifted: the lake does not convert)
COMPANY_SCALE_STEP = 600  # default companies: orders a day // this (at least 4)

DRIVER_CASES = ("ghost_driver", "registered_late", "deleted_driver", "revoked_licence",
                "expired_licence", "unlicensed")  # fmt: skip
VEHICLE_CASES = ("ghost_vehicle", "state_invalid_vehicle", "expired_vehicle_licence",
                 "unlicensed_vehicle")  # fmt: skip
# shares beyond the forced one (province scale)
CASE_SHARES = {"ghost_driver": 0.0005, "deleted_driver": 0.0005, "revoked_licence": 0.001,
               "expired_licence": 0.001, "unlicensed": 0.02, "ghost_vehicle": 0.0005,
               "state_invalid_vehicle": 0.0005, "expired_vehicle_licence": 0.001,
               "unlicensed_vehicle": 0.02}  # fmt: skip
# cases whose dynamic records fail: the driver takes only two orders a day (CASE_ORDERS)
FAILING_CASES = {"ghost_driver", "registered_late", "deleted_driver", "revoked_licence",
                 "expired_licence", "ghost_vehicle", "state_invalid_vehicle",
                 "expired_vehicle_licence"}  # fmt: skip
# the active company (index among them, modulo) each forced driver case, then vehicle case, goes to
CASE_COMPANY = (0, 1, 0, 2, 0, 1, 0, 1, 0, 2)
SENTINEL_PHONE, SENTINEL_BIRTHDAY, NEAR_SENTINEL_PHONE = "13800138000", "19700101", "13900139000"
SENTINELS = (("DriverPhone", SENTINEL_PHONE, 5), ("Birthday", SENTINEL_BIRTHDAY, 5),
             ("DriverPhone", NEAR_SENTINEL_PHONE, 4))  # fmt: skip
SENTINEL_MIN_DRIVERS = 5

DRIVER_SCOPE = "网络预约出租汽车驾驶员"
VEHICLE_SCOPE = "网络预约出租汽车客运"
PERMIT_SCOPE = "网络预约出租汽车经营"
PROVINCE_AUTHORITY, NINGDE_AUTHORITY = "350000", "350900"
OFFICE = {"3501": "榕", "3502": "厦", "3503": "莆", "3504": "明", "3505": "泉", "3506": "漳",
          "3507": "南", "3508": "岩", "3509": "宁"}  # fmt: skip
AUTHORITY_NAMES = {"3501": "福州市交通运输局", "3502": "厦门市交通运输局", "3503": "莆田市交通运输局",
                   "3504": "三明市交通运输局", "3505": "泉州市交通运输局", "3506": "漳州市交通运输局",
                   "3507": "南平市交通运输局", "3508": "龙岩市交通运输局", "3509": "宁德市交通运输局"}  # fmt: skip
CITIES = ("350100", "350200", "350300", "350400", "350500", "350600", "350700", "350800", "350900")

# (name, OrderId prefix, county, permit cities, operating cities and weights, share)
NAMED_COMPANIES = (
    ("福建闽行出行科技有限公司", "MX", "350102",
     ("350100", "350200", "350500", "350600", "350300", "350700"),
     (("350100", 0.42), ("350200", 0.22), ("350500", 0.2), ("350600", 0.1), ("350300", 0.06)),
     0.55),
    ("厦门鹭岛约车网络科技有限公司", "LD", "350206", ("350200", "350600"),
     (("350200", 0.85), ("350600", 0.12), ("350500", 0.03)), 0.28),
    ("泉州刺桐智行科技有限公司", "CT", "350503", ("350500", "350900"),
     (("350500", 0.8), ("350900", 0.2)), 0.17),
)  # fmt: skip
SILENT_COMPANY = ("福州榕城快车网络科技有限公司", "RC", "350104", ("350100",), (("350100", 1.0),))
NEW_PERMIT_CITY = "350800"  # the first company is licensed there in the middle of the run
EXTRA_WORDS = ("畅行", "易达", "优步", "享约", "快马", "顺风", "通途", "惠行", "安驰", "星程",
               "飞羊", "乐途", "如约", "同城", "万顺", "e族", "招招", "曹操", "首汽", "阳光")  # fmt: skip
CARS = (("比亚迪", "秦PLUS", 5, True), ("比亚迪", "汉EV", 5, True), ("广汽埃安", "AION S", 5, True),
        ("吉利", "几何A", 5, True), ("特斯拉", "Model 3", 5, True), ("丰田", "凯美瑞", 5, False),
        ("大众", "帕萨特", 5, False), ("日产", "轩逸", 5, False), ("别克", "GL8", 7, False),
        ("本田", "雅阁", 5, False))  # fmt: skip
PAYS = (("支付宝", "ALIPAY", "在线支付"), ("微信支付", "WXPAY", "在线支付"),
        ("云闪付", "UNIONPAY", "银行卡"))  # fmt: skip
INSURERS = ("中国人民财产保险股份有限公司", "中国平安财产保险股份有限公司",
            "中国太平洋财产保险股份有限公司")  # fmt: skip
COURSES = ("网约车驾驶员岗前培训", "安全驾驶与应急处置", "服务规范与职业道德", "城市道路与地理知识")
APP_VERSIONS = ("5.2.1", "5.3.0", "5.3.2", "6.0.0", "6.1.4")
STATIC_NAMES = tuple(i.name for i in BY_NAME.values() if i.is_static)


FIELD_NAMES = {name: spec.field_names for name, spec in BY_NAME.items()}
FIELD_SETS = {name: frozenset(names) for name, names in FIELD_NAMES.items()}


def record(iface: str, values: dict[str, Any]) -> dict[str, Any]:
    """``values`` in the interface's field order (every name must be one of its fields)."""
    if not FIELD_SETS[iface].issuperset(values):
        unknown = set(values) - FIELD_SETS[iface]
        raise KeyError(f"{iface} has no field(s) {sorted(unknown)}")
    return {n: values[n] for n in FIELD_NAMES[iface] if n in values}


def common(cid: str, address: str, flag: int, state: int, t: int) -> dict[str, Any]:
    return {"CompanyId": cid, "Address": address, "Flag": flag, "State": state,
            "UpdateTime": names.f14(t), "Encrypt": ENCRYPT}  # fmt: skip


@dataclass
class Licence:
    """One licence as the licence generator will sign it (licences.md; extra.py's shape)."""

    kind: str
    licence_type: str
    holder_type: str
    holder_key: str
    holder_name: str
    licence_no: str
    scope: str
    authority: str
    personal: dict[str, str]
    versions: list[dict[str, Any]] = field(default_factory=list)  # issued_at: wall seconds

    def valid_at(self, t: int) -> bool:
        """licences.md "Verification": the version with the highest number issued by ``t`` is
        valid and ``t``'s day lies in [valid_from, valid_to]."""
        known = [v for v in self.versions if v["issued_at"] <= t]
        if not known:
            return False
        v = known[-1]
        day = names.date_of(t)
        return v["status"] == "valid" and v["valid_from"] <= day <= v["valid_to"]

    def breakpoints(self) -> list[int]:
        out = []
        for v in self.versions:
            out += [v["issued_at"], wall(v["valid_from"]),
                    wall(v["valid_to"] + dt.timedelta(days=1))]  # fmt: skip
        return out

    def spec(self) -> dict[str, Any]:
        return {
            "kind": self.kind, "licence_type": self.licence_type,
            "holder_type": self.holder_type, "holder_key": self.holder_key,
            "holder_name": self.holder_name, "licence_no": self.licence_no, "scope": self.scope,
            "authority_code": self.authority, "personal": dict(self.personal),
            "versions": [
                {**{k: v for k, v in version.items()
                    if k not in ("issued_at", "valid_from", "valid_to")},
                 "issued_at": names.received_text(version["issued_at"]),
                 "valid_from": version["valid_from"].isoformat(),
                 "valid_to": version["valid_to"].isoformat()}
                for version in self.versions
            ],
        }  # fmt: skip


@dataclass
class Company:
    index: int
    company_id: str
    name: str
    prefix: str  # of its OrderIds
    uscc: str
    county: str
    permits: tuple[str, ...]  # cities licensed in the snapshot
    cities: tuple[tuple[str, float], ...]  # operating cities and their share of its orders
    share: float  # of the day's orders
    silent: bool
    legal_name: str
    legal_phone: str
    fare: dict[str, Any]
    licence: Licence | None = None

    @property
    def city(self) -> str:
        return self.county[:4] + "00"


@dataclass
class Driver:
    """A driver and (same index) the vehicle he drives."""

    index: int
    company: int
    city: str
    county: str
    license_id: str
    name: str
    gender: int
    birthday: str  # as filed (F8)
    cert_no: str
    case: str = ""
    join: int | None = None  # UpdateTime of the Flag 1 (None: never registered)
    leave: int | None = None  # Flag 3
    first_day: int = 0  # days (run index) it works: first_day … last_day
    last_day: int = 10**6
    licence: Licence | None = None
    phones: list[tuple[int, str]] = field(default_factory=list)  # (from, phone) as filed
    updates: bool = True  # may get random updates (not sentinels)

    def phone_at(self, t: int) -> str:
        phone = self.phones[0][1]
        for since, p in self.phones:
            if since <= t:
                phone = p
        return phone


@dataclass
class Vehicle:
    index: int
    company: int
    city: str
    county: str
    plate: str
    color: int
    seats: int
    brand: str
    model: str
    vtype: str
    owner: str
    vin: str
    cert_no: str
    register_date: dt.date
    case: str = ""
    join: int | None = None
    leave: int | None = None
    licence: Licence | None = None
    odometer: float = 0.0


@dataclass
class StaticRecord:
    """One planned static record: UpdateTime, company, interface, its fields, the entity it
    versions and what it is known to fail (``tags``: ``truth:sentinel`` …)."""

    t: int
    company: int
    iface: str
    fields: dict[str, Any]
    entity: str
    tags: tuple[str, ...] = ()


@dataclass
class Outage:
    company: int
    planned: bool
    notified_at: int
    start: int
    end: int
    backfill: tuple[int, int]  # receipt = end + this range (s)
    kind: str

    @property
    def exempt(self) -> bool:
        """Planned and announced at least 72 h ahead: its back-filled records can be timely."""
        return self.planned and self.start - self.notified_at >= 72 * 3600

    def notice(self, cid: str) -> dict[str, Any]:
        return {"CompanyId": cid, "planned": self.planned,
                "notified_at": names.f14(self.notified_at), "start": names.f14(self.start),
                "end": names.f14(self.end)}  # fmt: skip


class Timelines:
    """When each subject (driver / vehicle) is fit: good intervals [a, b) in wall seconds."""

    def __init__(self, intervals: list[list[tuple[int, int]]]) -> None:
        n = len(intervals)
        self.first_a = np.full(n, INF, dtype=np.int64)
        self.first_b = np.full(n, INF, dtype=np.int64)
        self.more: dict[int, list[tuple[int, int]]] = {}
        self.intervals = intervals
        for i, spans in enumerate(intervals):
            if spans:
                self.first_a[i], self.first_b[i] = spans[0]
                if len(spans) > 1:
                    self.more[i] = spans[1:]

    def good(self, i: int, t: int) -> bool:
        return any(a <= t < b for a, b in self.intervals[i])

    def good_many(self, idx: np.ndarray, t: np.ndarray) -> np.ndarray:
        out = (t >= self.first_a[idx]) & (t < self.first_b[idx])
        if self.more:
            for i in set(np.unique(idx).tolist()) & self.more.keys():
                mask = idx == i
                for a, b in self.more[i]:
                    out[mask] |= (t[mask] >= a) & (t[mask] < b)
        return out


def intervals_of(
    history: list[tuple[int, int, int]], licence: Licence | None
) -> list[tuple[int, int]]:
    """The good intervals of a subject: the latest static record ≤ t has Flag 1/2 and State 0, and
    (when it holds a licence) its licence is valid at t."""
    history = sorted(history)

    def static_ok(t: int) -> bool:
        latest = None
        for when, flag, state in history:
            if when <= t:
                latest = (flag, state)
        return latest is not None and latest[0] in (1, 2) and latest[1] == 0

    def ok(t: int) -> bool:
        return static_ok(t) and (licence is None or licence.valid_at(t))

    points = sorted({h[0] for h in history} | set(licence.breakpoints() if licence else ()))
    out: list[tuple[int, int]] = []
    for i, p in enumerate(points):
        if ok(p):
            end = points[i + 1] if i + 1 < len(points) else INF
            if out and out[-1][1] == p:
                out[-1] = (out[-1][0], end)
            else:
                out.append((p, end))
    return out


@dataclass
class World:
    start: dt.date
    days: int
    seed: int
    orders_per_day: int
    companies: list[Company]
    drivers: list[Driver]
    vehicles: list[Vehicle]
    static: list[StaticRecord]
    outages: list[Outage]
    passengers: int
    t_mid: int
    driver_tl: Timelines | None = None
    vehicle_tl: Timelines | None = None
    histories: dict[str, list[tuple[int, int, int]]] = field(default_factory=dict)
    cases: dict[str, int] = field(default_factory=dict)

    @property
    def t0(self) -> int:
        return wall(self.start)

    @property
    def t_end(self) -> int:
        return wall(self.start) + self.days * DAY_S

    @property
    def active(self) -> list[Company]:
        return [c for c in self.companies if not c.silent]

    def licences(self) -> list[Licence]:
        out = [c.licence for c in self.companies if c.licence]
        out += [d.licence for d in self.drivers if d.licence]
        out += [v.licence for v in self.vehicles if v.licence]
        return out


# ---- building -----------------------------------------------------------------------------------


class _Builder:
    def __init__(self, start: dt.date, days: int, seed: int, orders_per_day: int,
                 n_companies: int) -> None:  # fmt: skip
        self.rng = np.random.default_rng([seed, SEED_STREAM_WORLD])
        self.start, self.days, self.seed = start, days, seed
        self.orders_per_day = orders_per_day
        self.n_companies = n_companies
        self.t0 = wall(start)
        self.t_mid = self.t0 + (days // 2) * DAY_S + 12 * 3600 + 30 * 60
        self.snapshot_day = self.t0 - DAY_S
        self.ids: set[str] = set()
        self.phones: set[str] = {SENTINEL_PHONE, NEAR_SENTINEL_PHONE}
        self.plates: set[str] = set()
        self.usccs: set[str] = set()
        self.serial = 0
        self.static: list[StaticRecord] = []
        self.used_times: set[tuple[str, int]] = set()
        self.latest: dict[tuple[str, str], dict[str, Any]] = {}
        self.latest_of_company: dict[tuple[str, int], dict[str, Any]] = {}
        self.birthdays: dict[tuple[int, str], int] = defaultdict(int)

    # -- helpers
    def number(self) -> int:
        self.serial += 1
        return self.serial

    def at(self, day_index: int, low_h: float, high_h: float) -> int:
        """A random second of run day ``day_index`` (−1: the snapshot day) between two hours."""
        base = self.t0 + day_index * DAY_S
        return base + int(self.rng.integers(int(low_h * 3600), int(high_h * 3600)))

    def add(self, t: int, company: int, iface: str, fields: dict[str, Any], entity: str,
            tags: tuple[str, ...] = ()) -> None:  # fmt: skip
        # one record of an entity per second (the natural key holds UpdateTime)
        while (iface + entity, t) in self.used_times:
            t += 1
        self.used_times.add((iface + entity, t))
        fields = dict(fields)
        fields["UpdateTime"] = names.f14(t)
        fields = record(iface, fields)
        self.static.append(StaticRecord(t, company, iface, fields, entity, tags))
        self.latest[(iface, entity)] = fields
        self.latest_of_company[(iface, company)] = fields

    def issued(self, low_days: int, high_days: int) -> int:
        """An issue time in office hours between ``high_days`` and ``low_days`` before the run."""
        day = self.t0 - int(self.rng.integers(low_days, high_days)) * DAY_S
        return day + int(self.rng.integers(8 * 3600, 17 * 3600))

    # -- companies
    def companies(self) -> list[Company]:
        rng = self.rng
        n_active = max(1, self.n_companies - 1)
        specs = []
        for i in range(n_active):
            if i < len(NAMED_COMPANIES):
                specs.append(NAMED_COMPANIES[i])
                continue
            home = CITIES[int(rng.integers(len(CITIES)))]
            county = names.pick(rng, [c.code for c in counties(home)])
            others = [c for c in CITIES if c != home]
            extra = [others[int(j)] for j in rng.choice(len(others), int(rng.integers(0, 3)),
                                                          replace=False)]  # fmt: skip
            cities = (home, *extra)
            weights = rng.dirichlet(np.ones(len(cities)) * 3) * 0.7 + 0.3 / len(cities)
            word = EXTRA_WORDS[i % len(EXTRA_WORDS)]
            place = by_code()[home].name[:2]
            specs.append((f"{place}{word}{'出行' if i % 2 else '约车'}科技有限公司{'' if i < 20 else i}",
                          f"X{i:03d}", county, cities,
                          tuple((c, float(w)) for c, w in zip(cities, weights, strict=True)),
                          float(1.0 / (i + 1) ** 0.9)))  # fmt: skip
        named_total = sum(s[5] for s in specs[: len(NAMED_COMPANIES)])
        total = sum(s[5] for s in specs)
        # the named companies keep their proportions among themselves
        shares = [s[5] / total for s in specs] if len(specs) > len(NAMED_COMPANIES) else [
            s[5] / named_total for s in specs]  # fmt: skip
        out = []
        for i, (name, prefix, county, permits, cities, _) in enumerate(specs):
            out.append(self._company(i, name, prefix, county, permits, cities, shares[i], False))
        name, prefix, county, permits, cities = SILENT_COMPANY
        out.append(self._company(len(out), name, prefix, county, permits, cities, 0.0, True))
        return out

    def _company(self, i, name, prefix, county, permits, cities, share, silent) -> Company:
        rng = self.rng
        c = Company(
            index=i, company_id=f"WYC{county}{i + 1:04d}", name=name, prefix=prefix,
            uscc=names.uscc(rng, county, self.usccs), county=county, permits=tuple(permits),
            cities=tuple(cities), share=share, silent=silent,
            legal_name=names.person_name(rng), legal_phone=names.mobile(rng, self.phones),
            fare={"FareType": f"{prefix}KC01", "StartFare": round(float(rng.choice([8.0, 9.0, 10.0, 11.0])), 2),
                  "StartMile": 3.0, "UnitPricePerMile": round(float(rng.uniform(1.6, 2.4)), 2),
                  "UnitPricePerMinute": round(float(rng.uniform(0.3, 0.6)), 2)},
        )  # fmt: skip
        office = OFFICE[county[:4]]
        first = self.issued(60, 330)
        c.licence = Licence(
            "ride_hailing_permit", "operating_permit", "organisation", c.uscc, c.name,
            f"闽交运管许可网约{office}字第{county}{self.number():05d}号", PERMIT_SCOPE,
            NINGDE_AUTHORITY if county.startswith("3509") else PROVINCE_AUTHORITY,
            {"legal_representative": c.legal_name,
             "contact_phone": names.landline(rng, county)},
            [{"issued_at": first, "valid_from": names.date_of(first),
              "valid_to": names.date_of(first) + dt.timedelta(days=6 * 365), "status": "valid"}],
        )  # fmt: skip
        return c

    # -- drivers and vehicles
    def person(self, company: int, city: str) -> tuple[str, str, str, int, str]:
        """(county, ID number, name, gender, birthday F8) of a new driver: no more than three
        drivers of a company share a birthday (so that no sentinel happens by chance)."""
        areas = [d.code for d in counties(city) if d.code != "350902"]
        while True:
            county = names.pick(self.rng, areas)
            number, birth = names.id_number(self.rng, county, self.ids)
            birthday = names.d8(birth)
            if birthday != SENTINEL_BIRTHDAY and self.birthdays[(company, birthday)] < 3:
                self.birthdays[(company, birthday)] += 1
                gender = 1 if int(number[16]) % 2 else 2
                return county, number, names.person_name(self.rng), gender, birthday

    def driver_and_vehicle(self, drivers: list[Driver], vehicles: list[Vehicle], company: Company,
                           city: str) -> tuple[Driver, Vehicle]:  # fmt: skip
        rng = self.rng
        county, number, name, gender, birthday = self.person(company.index, city)
        i = len(drivers)
        d = Driver(i, company.index, city, county, number, name, gender, birthday, cert_no="")
        d.phones = [(0, names.mobile(rng, self.phones))]
        brand, model, seats, electric = CARS[int(rng.integers(len(CARS)))]
        prefix = "闽" + {"3501": "A", "3502": "D", "3503": "B", "3504": "G", "3505": "C",
                        "3506": "E", "3507": "H", "3508": "F", "3509": "J"}[city[:4]]  # fmt: skip
        v = Vehicle(
            i, company.index, city, county, names.plate(rng, prefix, self.plates, electric),
            5 if electric else 1, seats, brand, model, "小型普通客车" if seats > 5 else "小型轿车",
            name if rng.random() < 0.7 else company.name, names.vin(rng), cert_no="",
            register_date=self.start - dt.timedelta(days=int(rng.integers(60, 2500))),
            odometer=round(float(rng.uniform(5000, 180000)), 1),
        )  # fmt: skip
        drivers.append(d)
        vehicles.append(v)
        return d, v

    def licences(self, d: Driver, v: Vehicle) -> None:
        rng = self.rng
        authority = NINGDE_AUTHORITY if d.city.startswith("3509") else PROVINCE_AUTHORITY
        office = OFFICE[d.city[:4]]
        end_day = self.start + dt.timedelta(days=self.days)
        mid_day = self.start + dt.timedelta(days=self.days // 2)
        if d.case == "unlicensed":
            d.cert_no = f"闽网约驾{d.county}9{self.number():06d}"  # a number nobody issued
        else:
            first = self.issued(15, 330)
            valid_from = names.date_of(first) - dt.timedelta(days=int(rng.integers(0, 900)))
            valid_to = valid_from + dt.timedelta(days=6 * 365)
            if d.case == "expired_licence":
                valid_to = mid_day - dt.timedelta(days=1)
            versions = [{"issued_at": first, "valid_from": valid_from,
                         "valid_to": max(valid_to, valid_from), "status": "valid"}]  # fmt: skip
            if d.case == "revoked_licence":
                versions.append({**versions[0], "issued_at": self.t_mid + 45 * 60,
                                 "status": "revoked"})  # fmt: skip
            elif rng.random() < LICENCE_CHANGE_SHARE and first < self.t0 - 3 * DAY_S:
                later = first + int(rng.integers(DAY_S, self.t0 - DAY_S - first))
                versions.append({**versions[0], "issued_at": later,
                                 "holder_phone": names.mobile(rng, self.phones)})  # fmt: skip
            d.cert_no = f"闽网约驾{d.county}{self.number():06d}"
            d.licence = Licence(
                "ride_hailing_driver", "qualification", "person", d.license_id, d.name,
                d.cert_no, DRIVER_SCOPE, authority, {"holder_phone": d.phones[0][1]}, versions,
            )  # fmt: skip
        if v.case == "unlicensed_vehicle":
            v.cert_no = f"闽交网约运输{office}字{v.county}9{self.number():06d}号"
            return
        first = self.issued(15, 330)
        valid_from = max(v.register_date, names.date_of(first) - dt.timedelta(days=400))
        valid_to = max(valid_from, min(v.register_date + dt.timedelta(days=8 * 365),
                                       end_day + dt.timedelta(days=900)))  # fmt: skip
        if valid_to <= end_day:
            valid_to = end_day + dt.timedelta(days=400)
        if v.case == "expired_vehicle_licence":
            valid_to = max(valid_from, mid_day - dt.timedelta(days=1))
        v.cert_no = f"闽交网约运输{office}字{v.county}{self.number():06d}号"
        v.licence = Licence(
            "ride_hailing_vehicle", "vehicle_transport", "vehicle", f"{v.plate}-{v.color}",
            v.owner, v.cert_no, VEHICLE_SCOPE, authority, {},
            [{"issued_at": first, "valid_from": valid_from, "valid_to": valid_to,
              "status": "valid"}],
        )  # fmt: skip


def default_companies(orders_per_day: int) -> int:
    return max(4, orders_per_day // COMPANY_SCALE_STEP)


def build(start: dt.date, days: int, seed: int, orders_per_day: int,
          companies: int | None = None) -> World:  # fmt: skip
    """The companies, fleet, licences, static history and outages of a run (deterministic by its
    arguments)."""
    if days < 1:
        raise ValueError("days must be at least 1")
    n_companies = companies or default_companies(orders_per_day)
    if n_companies < 2:
        raise ValueError("at least 2 companies (one active, one silent)")
    b = _Builder(start, days, seed, orders_per_day, n_companies)
    rng = b.rng
    comps = b.companies()
    active = [c for c in comps if not c.silent]
    drivers: list[Driver] = []
    vehicles: list[Vehicle] = []
    for c in comps:
        if c.silent:
            for _ in range(3):
                b.driver_and_vehicle(drivers, vehicles, c, c.cities[0][0])
            continue
        for city, weight in c.cities:
            orders = c.share * weight * orders_per_day
            n = max(MIN_DRIVERS_PER_CITY, round(orders / (ORDERS_PER_SHIFT * ACTIVE_SHARE)))
            for _ in range(n):
                b.driver_and_vehicle(drivers, vehicles, c, city)
    # cases and sentinels: drivers of their own (in each company's main city), forced once each
    # over the active companies; then cases at a share among the others (province scale)
    normal = len(drivers)

    def extra(company: Company) -> int:
        return b.driver_and_vehicle(drivers, vehicles, company, company.cities[0][0])[0].index

    for k, case in enumerate(DRIVER_CASES):
        drivers[extra(active[CASE_COMPANY[k] % len(active)])].case = case
    for k, case in enumerate(VEHICLE_CASES):
        vehicles[extra(active[CASE_COMPANY[len(DRIVER_CASES) + k] % len(active)])].case = case
    sentinel_drivers: dict[int, tuple[str, str]] = {}
    for k, (what, value, count) in enumerate(SENTINELS):
        for _ in range(count):
            i = extra(active[k % len(active)])
            sentinel_drivers[i] = (what, value)
            drivers[i].last_day = -1  # registered, idle during the run
    for d in drivers[:normal]:
        if comps[d.company].silent:
            continue
        u = rng.random()
        acc = 0.0
        for case, share in CASE_SHARES.items():
            acc += share
            if u < acc:
                if case in DRIVER_CASES:
                    d.case = case
                else:
                    vehicles[d.index].case = case
                break
    for d in drivers:
        b.licences(d, vehicles[d.index])

    world = World(start, days, seed, orders_per_day, comps, drivers, vehicles, [], [], 0, b.t_mid)
    _static_history(b, world, sentinel_drivers)
    world.outages = _outages(b, world)
    world.static = sorted(b.static, key=lambda r: (r.t, r.company, r.iface, r.entity))
    histories: dict[str, list[tuple[int, int, int]]] = defaultdict(list)
    for r in world.static:
        histories[r.iface + "|" + r.entity].append((r.t, r.fields["Flag"], r.fields["State"]))
    world.histories = dict(histories)
    world.driver_tl = Timelines([
        intervals_of(histories.get(f"baseInfoDriver|{comps[d.company].company_id}|{d.license_id}", []),
                     d.licence)
        for d in drivers
    ])  # fmt: skip
    world.vehicle_tl = Timelines([
        intervals_of(histories.get(f"baseInfoVehicle|{comps[v.company].company_id}|{v.plate}", []),
                     v.licence)
        for v in vehicles
    ])  # fmt: skip
    cases: dict[str, int] = defaultdict(int)
    for d in drivers:
        if d.case:
            cases[f"driver.{d.case}"] += 1
    for v in vehicles:
        if v.case:
            cases[f"vehicle.{v.case}"] += 1
    for what, value, _ in SENTINELS:
        cases[f"sentinel.{what}.{value}"] = sum(1 for s in sentinel_drivers.values()
                                                if s == (what, value))  # fmt: skip
    world.cases = dict(sorted(cases.items()))
    return world


# ---- the static history ----------------------------------------------------------------------


def _driver_records(b: _Builder, c: Company, d: Driver, v: Vehicle, t: int, flag: int,
                    with_vehicle: bool, with_driver: bool = True) -> None:  # fmt: skip
    """The baseInfo* records of a driver (and his vehicle) added at ``t`` (Flag ``flag``)."""
    rng = b.rng
    cid = c.company_id
    division = by_code()[d.city]
    lic = d.licence
    if with_driver:
        phone = d.phones[0][1]
        issue = lic.versions[0]["valid_from"] if lic else b.start - dt.timedelta(days=400)
        proof_off = lic.versions[0]["valid_to"] if lic else issue + dt.timedelta(days=6 * 365)
        contract_on = names.date_of(t) - dt.timedelta(days=int(rng.integers(0, 700)))
        b.add(t, c.index, "baseInfoDriver", {
            **common(cid, d.county, flag, 0, t), "LicenseId": d.license_id, "DriverName": d.name,
            "DriverPhone": phone, "Gender": d.gender, "Birthday": d.birthday,
            "CertificateNo": d.cert_no, "NetworkCarIssueDate": names.d8(issue),
            "GetNetworkCarProofOn": names.d8(issue), "GetNetworkCarProofOff": names.d8(proof_off),
            "ContractCompany": c.name, "ContractOn": names.d8(contract_on),
            "ContractOff": names.d8(contract_on + dt.timedelta(days=3 * 365)),
        }, f"{cid}|{d.license_id}")  # fmt: skip
        b.add(t + 5, c.index, "baseInfoDriverEducate", {
            **common(cid, d.county, flag, 0, t), "LicenseId": d.license_id,
            "CourseName": names.pick(rng, COURSES),
            "CourseDate": names.d8(names.date_of(t) - dt.timedelta(days=int(rng.integers(1, 60)))),
            "Duration": int(rng.choice([8, 16, 24, 40])),
        }, f"{cid}|{d.license_id}")  # fmt: skip
        b.add(t + 10, c.index, "baseInfoDriverApp", {
            **common(cid, d.county, flag, 0, t), "LicenseId": d.license_id, "DriverPhone": phone,
            "NetType": int(rng.integers(1, 5)), "AppVersion": names.pick(rng, APP_VERSIONS),
            "MapType": int(rng.integers(1, 5)),
        }, f"{cid}|{d.license_id}")  # fmt: skip
        cycle = names.date_of(t).replace(day=1) - dt.timedelta(days=1)
        b.add(t + 15, c.index, "baseInfoDriverStat", {
            **common(cid, d.county, flag, 0, t), "LicenseId": d.license_id,
            "Cycle": int(cycle.strftime("%Y%m")), "OrderCount": int(rng.integers(0, 400)),
            "TrafficViolationCount": int(rng.integers(0, 3) // 2),
            "ComplainedCount": int(rng.integers(0, 4) // 3),
        }, f"{cid}|{d.license_id}")  # fmt: skip
    if not with_vehicle:
        return
    vl = v.licence
    trans_from = vl.versions[0]["valid_from"] if vl else v.register_date
    trans_to = vl.versions[0]["valid_to"] if vl else v.register_date + dt.timedelta(days=8 * 365)
    b.add(t + 20, c.index, "baseInfoVehicle", {
        **common(cid, v.county, flag, 0, t), "VehicleNo": v.plate, "PlateColor": v.color,
        "Seats": v.seats, "Brand": v.brand, "Model": v.model, "VehicleType": v.vtype,
        "OwnerName": v.owner, "VIN": v.vin, "Certificate": v.cert_no, "TransArea": division.name,
        "TransDateStart": names.d8(trans_from), "TransDateStop": names.d8(trans_to),
        "CheckState": "合格", "RegisterDate": names.d8(v.register_date), "CommercialType": 1,
    }, f"{cid}|{v.plate}")  # fmt: skip
    insured = names.date_of(t) - dt.timedelta(days=int(rng.integers(1, 300)))
    b.add(t + 25, c.index, "baseInfoVehicleInsurance", {
        **common(cid, v.county, flag, 0, t), "VehicleNo": v.plate,
        "InsurCom": names.pick(rng, INSURERS), "InsurNum": f"PDAA{int(rng.integers(10**15)):015d}",
        "InsurType": "营业用汽车损失保险", "InsurCount": round(float(rng.uniform(3000, 9000)), 2),
        "InsurEff": names.d8(insured), "InsurExp": names.d8(insured + dt.timedelta(days=364)),
    }, f"{cid}|{v.plate}")  # fmt: skip
    b.add(t + 30, c.index, "baseInfoVehicleTotalMile", {
        **common(cid, v.county, flag, 0, t), "VehicleNo": v.plate, "TotalMile": v.odometer,
    }, f"{cid}|{v.plate}")  # fmt: skip


def _company_records(b: _Builder, c: Company, t: int) -> None:
    rng = b.rng
    cid = c.company_id
    division = by_code()[c.county]
    city = by_code()[c.city]
    b.add(t, c.index, "baseInfoCompany", {
        **common(cid, c.county, 1, 0, t), "CompanyName": c.name, "Identifier": c.uscc,
        "BusinessArea": PERMIT_SCOPE, "ContactAddress": names.address(rng, city.name, division.name),
        "LegalName": c.legal_name, "LegalPhone": c.legal_phone,
    }, cid)  # fmt: skip
    b.add(t + 60, c.index, "baseInfoCompanyStat", {
        **common(cid, c.county, 1, 0, t), "VehicleNum": 0, "DriverNum": 0,
    }, cid)  # fmt: skip
    pay_name, pay_id, pay_type = PAYS[c.index % len(PAYS)]
    b.add(t + 120, c.index, "baseInfoCompanyPay", {
        **common(cid, c.county, 1, 0, t), "PayName": pay_name, "PayId": f"{pay_id}{c.index:04d}",
        "PayType": pay_type,
    }, cid)  # fmt: skip
    b.add(t + 180, c.index, "baseInfoCompanyService", {
        **common(cid, c.county, 1, 0, t), "ServiceName": f"{c.name[:-6]}{city.name}服务中心",
        "ServiceNo": f"FW{c.county}{c.index:03d}", "DetailAddress": names.address(rng, city.name, division.name),
        "ResponsibleName": names.person_name(rng), "ResponsiblePhone": names.mobile(rng, b.phones),
        "CreateDate": names.d8(b.start - dt.timedelta(days=int(rng.integers(200, 1500)))),
    }, cid)  # fmt: skip
    b.add(t + 240, c.index, "baseInfoCompanyFare", {
        **common(cid, c.county, 1, 0, t), **{k: c.fare[k] for k in ("FareType", "StartFare",
        "StartMile", "UnitPricePerMile", "UnitPricePerMinute")},
        "FareValidOn": names.f14(t - int(rng.integers(30, 300)) * DAY_S),
        "FareValidOff": names.f14(t + 3 * 365 * DAY_S),  # a validity end: may lie ahead
    }, cid)  # fmt: skip
    for k, permit_city in enumerate(c.permits):
        _permit(b, c, permit_city, t + 300 + k * 7, 1, 0)


def _permit(b: _Builder, c: Company, city: str, t: int, flag: int, state: int) -> None:
    rng = b.rng
    lic = c.licence
    start = lic.versions[0]["valid_from"] if lic else b.start
    b.add(t, c.index, "baseInfoCompanyPermit", {
        **common(c.company_id, city, flag, state, t),
        "Certificate": f"闽交运管许可网约{OFFICE[city[:4]]}字第{c.county}{c.index + 1:03d}{city[2:4]}号",
        "OperationArea": by_code()[city].name, "OwnerName": c.name,
        "Organization": AUTHORITY_NAMES[city[:4]], "StartDate": names.d8(start),
        "StopDate": names.d8(start + dt.timedelta(days=6 * 365)),
        "CertifyDate": names.d8(start + dt.timedelta(days=int(rng.integers(0, 20)))),
    }, f"{c.company_id}|{city}")  # fmt: skip


def _passenger(b: _Builder, c: Company, t: int, flag: int, phone: str | None = None) -> str:
    rng = b.rng
    phone = phone or names.mobile(rng, b.phones)
    city = c.cities[int(rng.integers(len(c.cities)))][0]
    fields = {**common(c.company_id, city, flag, 0, t), "PassengerPhone": phone,
              "RegisterDate": names.d8(names.date_of(t) - dt.timedelta(
                  days=0 if flag == 1 and t >= b.t0 else int(rng.integers(1, 1500)))),
              "PassengerGender": int(rng.choice([0, 1, 2]))}  # fmt: skip
    if rng.random() < 0.4:
        fields["PassengerName"] = names.pick(rng, names.SURNAMES) + names.pick(
            rng, ("先生", "女士")
        )
    b.add(t, c.index, "baseInfoPassenger", fields, f"{c.company_id}|{phone}")
    return phone


def _static_history(
    b: _Builder, world: World, sentinel_drivers: dict[int, tuple[str, str]]
) -> None:
    rng = b.rng
    comps, drivers, vehicles = world.companies, world.drivers, world.vehicles
    days = b.days
    active = world.active
    by_company: dict[int, list[Driver]] = defaultdict(list)
    for d in drivers:
        by_company[d.company].append(d)
    # sentinels: the filed value replaces the real one; no later updates
    for i, (what, value) in sentinel_drivers.items():
        d = drivers[i]
        d.updates = False
        if what == "DriverPhone":
            d.phones = [(0, value)]
        else:
            d.birthday = value
    snapshot_passengers = 0
    for c in comps:
        if c.silent:
            t_snap = b.t0 - SILENT_DAYS_BEFORE * DAY_S + 9 * 3600
        else:
            t_snap = b.snapshot_day + 3600
        _company_records(b, c, t_snap)
        for d in by_company[c.index]:
            v = vehicles[d.index]
            if d.case == "registered_late":
                d.join = b.t0 + 10 * 3600 + int(rng.integers(0, 600))
                _driver_records(b, c, d, v, d.join, 1, with_vehicle=False)
                d.first_day = 0
            if d.case in ("ghost_driver", "registered_late") and v.case != "ghost_vehicle":
                v.join = t_snap + 600 + int(rng.integers(0, 18 * 3600))
                _driver_records(b, c, d, v, v.join, 1, with_vehicle=True, with_driver=False)
                continue
            if d.case == "ghost_driver":
                continue
            t = t_snap + 600 + int(rng.integers(0, 18 * 3600))
            d.join = t
            _driver_records(b, c, d, v, t, 1, with_vehicle=v.case != "ghost_vehicle")
            if v.case != "ghost_vehicle":
                v.join = t + 20
        n_passengers = (
            5 if c.silent else max(10, round(c.share * b.orders_per_day * PASSENGERS_PER_ORDER))
        )
        for _ in range(n_passengers):
            _passenger(b, c, t_snap + 600 + int(rng.integers(0, 18 * 3600)), 1)
        snapshot_passengers += n_passengers
        for d in by_company[c.index]:
            if d.case == "deleted_driver":
                b.add(world.t_mid + 15 * 60, c.index, "baseInfoDriver", {
                    **_last(b, "baseInfoDriver", f"{c.company_id}|{d.license_id}"), "Flag": 3,
                }, f"{c.company_id}|{d.license_id}")  # fmt: skip
            v = vehicles[d.index]
            if v.case == "state_invalid_vehicle":
                b.add(world.t_mid + 30 * 60, c.index, "baseInfoVehicle", {
                    **_last(b, "baseInfoVehicle", f"{c.company_id}|{v.plate}"), "Flag": 2,
                    "State": 1, "CheckState": "停运",
                }, f"{c.company_id}|{v.plate}")  # fmt: skip
    world.passengers = snapshot_passengers

    # the run: day by day, company by company
    first, second, third = active[0], active[1 % len(active)], active[2 % len(active)]
    mid = days // 2
    for k in range(days):
        day = b.start + dt.timedelta(days=k)
        for c in active:
            mine = by_company[c.index]
            cid = c.company_id
            # drivers open to random changes: registered before the day, no case of their own
            registered = [d for d in mine if d.join is not None and d.join < b.t0 + k * DAY_S
                          and d.leave is None and d.updates and not d.case
                          and not vehicles[d.index].case]  # fmt: skip
            b.add(b.at(k, 1, 1.99), c.index, "baseInfoCompanyStat", {
                **common(cid, c.county, 2, 0, 0),
                "VehicleNum": len([d for d in mine if d.join is not None and d.leave is None]),
                "DriverNum": len([d for d in mine if d.join is not None and d.leave is None]),
            }, cid)  # fmt: skip
            # joiners: registered in the morning, working from the next day
            n_join = int(rng.binomial(len(mine), JOIN_SHARE))
            if k == 0 and c is first:
                n_join = max(n_join, 1)
            for _ in range(n_join):
                city = c.cities[int(rng.choice(len(c.cities), p=_p(c.cities)))][0]
                d, v = b.driver_and_vehicle(drivers, vehicles, c, city)
                b.licences(d, v)
                d.join = b.at(k, 8, 12)
                v.join = d.join + 20
                d.first_day = k + 1
                _driver_records(b, c, d, v, d.join, 1, with_vehicle=True)
                mine.append(d)
            # leavers: stop working the day before their delete
            n_leave = int(rng.binomial(len(registered), LEAVE_SHARE))
            if k == max(0, days - 1) and c is second and days > 1:
                n_leave = max(n_leave, 1)
            for d in _choose(rng, registered, n_leave):
                d.leave = b.at(k, 10, 18)
                d.last_day = k - 1
                d.updates = False
                v = vehicles[d.index]
                b.add(d.leave, c.index, "baseInfoDriver", {
                    **_last(b, "baseInfoDriver", f"{cid}|{d.license_id}"), "Flag": 3,
                }, f"{cid}|{d.license_id}")  # fmt: skip
                if v.case != "ghost_vehicle":
                    v.leave = d.leave + 60
                    b.add(v.leave, c.index, "baseInfoVehicle", {
                        **_last(b, "baseInfoVehicle", f"{cid}|{v.plate}"), "Flag": 3,
                    }, f"{cid}|{v.plate}")  # fmt: skip
            registered = [d for d in registered if d.leave is None]
            # phone changes (baseInfoDriver and baseInfoDriverApp), app updates
            for d in _choose(
                rng,
                registered,
                int(rng.binomial(len(registered), PHONE_CHANGE_SHARE))
                or (1 if k == 0 and c is first and registered else 0),
            ):
                t = b.at(k, 9, 20)
                phone = names.mobile(rng, b.phones)
                d.phones.append((t, phone))
                b.add(t, c.index, "baseInfoDriver", {
                    **_last(b, "baseInfoDriver", f"{cid}|{d.license_id}"), "Flag": 2,
                    "DriverPhone": phone,
                }, f"{cid}|{d.license_id}")  # fmt: skip
                b.add(t + 30, c.index, "baseInfoDriverApp", {
                    **_last(b, "baseInfoDriverApp", f"{cid}|{d.license_id}"), "Flag": 2,
                    "DriverPhone": phone,
                }, f"{cid}|{d.license_id}")  # fmt: skip
            for d in _choose(rng, registered, int(rng.binomial(len(registered), APP_UPDATE_SHARE))):
                b.add(b.at(k, 6, 22), c.index, "baseInfoDriverApp", {
                    **_last(b, "baseInfoDriverApp", f"{cid}|{d.license_id}"), "Flag": 2,
                    "AppVersion": APP_VERSIONS[-1],
                }, f"{cid}|{d.license_id}")  # fmt: skip
            if day.day == 1 and k > 0:  # monthly statistics of the month before
                cycle = int((day - dt.timedelta(days=1)).strftime("%Y%m"))
                for d in registered:
                    b.add(b.at(k, 3, 5), c.index, "baseInfoDriverStat", {
                        **_last(b, "baseInfoDriverStat", f"{cid}|{d.license_id}"), "Flag": 2,
                        "Cycle": cycle, "OrderCount": int(rng.integers(100, 400)),
                    }, f"{cid}|{d.license_id}")  # fmt: skip
            cars = [vehicles[d.index] for d in registered if vehicles[d.index].join is not None
                    and not vehicles[d.index].case]  # fmt: skip
            for v in _choose(rng, cars, int(rng.binomial(len(cars), INSURANCE_RENEWAL_SHARE))):
                t = b.at(k, 9, 17)
                b.add(t, c.index, "baseInfoVehicleInsurance", {
                    **_last(b, "baseInfoVehicleInsurance", f"{cid}|{v.plate}"), "Flag": 2,
                    "InsurEff": names.d8(day), "InsurExp": names.d8(day + dt.timedelta(days=364)),
                    "InsurNum": f"PDAA{int(rng.integers(10**15)):015d}",
                }, f"{cid}|{v.plate}")  # fmt: skip
            for v in _choose(rng, cars, int(rng.binomial(len(cars), CHECK_UPDATE_SHARE))):
                b.add(b.at(k, 9, 17), c.index, "baseInfoVehicle", {
                    **_last(b, "baseInfoVehicle", f"{cid}|{v.plate}"), "Flag": 2,
                    "Seats": v.seats,
                }, f"{cid}|{v.plate}")  # fmt: skip
            # new passengers, and one account closed (a legitimate delete)
            n_new = max(1, round(NEW_PASSENGER_SHARE * c.share * b.orders_per_day))
            for _ in range(n_new):
                _passenger(b, c, b.at(k, 7, 23), 1)
            if k == 0 and c is first:
                closed = next(r for r in b.static if r.iface == "baseInfoPassenger"
                              and r.company == c.index)  # fmt: skip
                b.add(b.at(0, 12, 13), c.index, "baseInfoPassenger",
                      {**closed.fields, "Flag": 3}, closed.entity)  # fmt: skip
    # company events in the middle of the run
    t = world.t_mid - 2 * 3600
    b.add(t, first.index, "baseInfoCompany", {
        **_last(b, "baseInfoCompany", first.company_id), "Flag": 2,
        "ContactAddress": names.address(rng, "福州市", "鼓楼区"),
    }, first.company_id)  # fmt: skip
    fare = _last(b, "baseInfoCompanyFare", first.company_id)
    b.add(t + 600, first.index, "baseInfoCompanyFare", {
        **fare, "Flag": 2, "UnitPricePerMile": round(fare["UnitPricePerMile"] + 0.1, 2),
        "FareValidOn": names.f14(t + 600),
    }, first.company_id)  # fmt: skip
    b.add(t + 1200, second.index, "baseInfoCompanyService", {
        **_last(b, "baseInfoCompanyService", second.company_id), "Flag": 2,
        "ResponsibleName": names.person_name(rng),
    }, second.company_id)  # fmt: skip
    b.add(t + 1800, third.index, "baseInfoCompanyPay", {
        **_last(b, "baseInfoCompanyPay", third.company_id), "Flag": 2, "PayType": "聚合支付",
    }, third.company_id)  # fmt: skip
    # permits: a new city for the first company, the third's second city cancelled (State 1)
    if NEW_PERMIT_CITY not in first.permits:
        _permit(b, first, NEW_PERMIT_CITY, b.t0 + mid * DAY_S + 9 * 3600, 1, 0)
    if len(third.permits) > 1:
        city = third.permits[-1]
        b.add(world.t_mid + 3600, third.index, "baseInfoCompanyPermit", {
            **_last(b, "baseInfoCompanyPermit", f"{third.company_id}|{city}"), "Flag": 2,
            "State": 1,
        }, f"{third.company_id}|{city}")  # fmt: skip
    # a delete of a vehicle never added
    plate = names.plate(rng, "闽D", b.plates, True)
    b.add(b.t0 + 15 * 3600 + int(rng.integers(0, 3600)), second.index, "baseInfoVehicle", {
        **_last(b, "baseInfoVehicle", None, second.index), "Flag": 3, "VehicleNo": plate,
    }, f"{second.company_id}|{plate}", ("truth:flag3_never_added",))  # fmt: skip
    # sentinels: every baseInfoDriver record of a company whose DriverPhone or Birthday is
    # shared by ≥ 5 of its drivers (computed on what was written, not assumed)
    shared: dict[tuple[int, str, str], set[str]] = defaultdict(set)
    for r in b.static:
        if r.iface == "baseInfoDriver":
            for f in ("DriverPhone", "Birthday"):
                shared[(r.company, f, r.fields[f])].add(r.fields["LicenseId"])
    for r in b.static:
        if r.iface == "baseInfoDriver" and any(
            len(shared[(r.company, f, r.fields[f])]) >= SENTINEL_MIN_DRIVERS
            for f in ("DriverPhone", "Birthday")
        ):
            r.tags = (*r.tags, "truth:sentinel")


def _p(cities: tuple[tuple[str, float], ...]) -> np.ndarray:
    w = np.array([x for _, x in cities], dtype=float)
    return w / w.sum()


def _choose(rng: np.random.Generator, items: list, n: int) -> list:
    if n <= 0 or not items:
        return []
    idx = rng.choice(len(items), min(n, len(items)), replace=False)
    return [items[int(i)] for i in sorted(idx)]


def _last(
    b: _Builder, iface: str, entity: str | None, company: int | None = None
) -> dict[str, Any]:
    """The fields of the latest record added of an entity (or, with ``company``, of any entity
    of that company); ``add`` sets the new UpdateTime."""
    if entity is not None:
        return dict(b.latest[(iface, entity)])
    return dict(b.latest_of_company[(iface, company)])


def _outages(b: _Builder, world: World) -> list[Outage]:
    """A planned outage announced 4 days ahead (its records back-filled 0.5–4 h after it ended:
    timely), an unplanned one (back-filled 1–6 h after: late) and, with three companies and three
    days, a planned one announced only 24 h ahead (not exempt)."""
    active = world.active
    days = b.days
    out = []
    day = min(1, days - 1)
    start = b.t0 + day * DAY_S + 10 * 3600
    out.append(Outage(active[0].index, True, start - 4 * DAY_S - 2 * 3600, start, start + 2 * 3600,
                      (1800, 4 * 3600), "planned"))  # fmt: skip
    day = days - 1
    start = b.t0 + day * DAY_S + 15 * 3600
    company = active[1 % len(active)].index
    if company == out[0].company and day == min(1, days - 1):
        start += 3 * 3600  # not the same window
    out.append(Outage(company, False, start + 25 * 60, start, start + 3600, (3600, 6 * 3600),
                      "unplanned"))  # fmt: skip
    if len(active) >= 3 and days >= 3:  # over the 15:00 order of its failing case's driver
        start = b.t0 + 2 * DAY_S + 14 * 3600 + 30 * 60
        out.append(Outage(active[2].index, True, start - DAY_S, start, start + 90 * 60,
                          (600, 3600), "short_notice"))  # fmt: skip
    return out

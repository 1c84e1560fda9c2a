"""The freight generator's world: the 网络货运 operators (platforms) with their SM2 sender keys and
permits, their fleets (vehicles, owners, drivers) and the consignors they carry for. Everything
is drawn from the seed and the scale (``waybills_per_day``) alone, so the licence generator
(through :func:`transforms.freight.generate.licence_subjects`) and the freight generator build
the same world.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass, field

import numpy as np

from transforms.crypto import sm2
from transforms.crypto.errors import CryptoError
from transforms.freight.generate import names
from transforms.reference.divisions import DIVISIONS, by_code, counties

SEED_STREAM_WORLD = 61
TRIPS_PER_VEHICLE_DAY = 1.2  # fleet size = waybills of the operator a day / this
MIN_FLEET = 6
# vehicle kinds: (share, grossMass range t, vehicleTonnage range t, GA 802 type, licence class)
LIGHT, HEAVY, TRACTOR = "light", "heavy", "tractor"
KINDS = {
    LIGHT: (0.25, "H32", "C1"),
    HEAVY: (0.45, "H12", "B2"),
    TRACTOR: (0.30, "Q11", "A2"),
}
LIGHT_GROSS_MASS_T = (2.495, 3.5, 4.2, 4.495, 4.5)  # 蓝牌轻卡: at most 4.5 t
NEW_ENERGY_LIGHT_SHARE = 0.2
CO_DRIVER_SHARE = 0.12  # heavy vehicles and tractors with a second driver
COMPANY_OWNER_SHARE = 0.35  # vehicles of a 车队 company rather than their driver
FLEET_COMPANY_SIZE = (3, 10)
COMPANIES_PER_COUNTY = 4  # consignors / consignees per county
# registration cities of the vehicles (plate prefix, a county of the city)
PLATE_CITIES = (("闽A", "350100", 0.24), ("闽B", "350300", 0.06), ("闽C", "350500", 0.2),
                ("闽D", "350200", 0.12), ("闽E", "350600", 0.08), ("闽F", "350800", 0.05),
                ("闽G", "350400", 0.05), ("闽H", "350700", 0.05), ("闽J", "350900", 0.15))  # fmt: skip
LICENCE_OFFICE = {"350100": "榕", "350200": "厦", "350300": "莆", "350400": "明", "350500": "泉",
                  "350600": "漳", "350700": "南", "350800": "岩", "350900": "宁"}  # fmt: skip
CITY_AREA_CODE = {"350100": "0591", "350200": "0592", "350300": "0594", "350400": "0598",
                  "350500": "0595", "350600": "0596", "350700": "0599", "350800": "0597",
                  "350900": "0593"}  # fmt: skip
VIN_MAKERS = ("LFW", "LZZ", "LGA", "LEF", "LFN", "LJ1")  # FAW, Sinotruk, Dongfeng, JMC, …
VIN_YEARS = "FGHJKLMNPRS"  # 2015 … 2025


@dataclass
class SenderKey:
    """One registered SM2 key of a sender (the senders feed), private half kept for signing."""

    private_key: str
    public_key: str
    valid_from: dt.date
    valid_to: dt.date | None


@dataclass
class Operator:
    """A 网络货运 platform: its sender code, names, permit, keys and upload habits."""

    index: int
    code: str  # enterpriseSenderCode = operator_id
    name: str
    uscc: str
    county: str
    prefix: str  # of its shipping-note numbers
    share: float  # of the day's waybills
    max_docs: int  # documents per envelope
    writes_json: bool  # one envelope per .json file, without received_at
    with_04: bool  # its SDK keeps C1's 04 in encryptedCode
    permit_no: str
    legal_representative: str
    contact_phone: str
    keys: list[SenderKey] = field(default_factory=list)

    def key_on(self, day: dt.date) -> SenderKey:
        """The key valid on ``day`` (the latest-starting one)."""
        valid = [k for k in self.keys if k.valid_from <= day and (k.valid_to is None
                                                                    or day <= k.valid_to)]  # fmt: skip
        return max(valid, key=lambda k: k.valid_from)


# (name, county, shipping-note prefix, share, documents per envelope, .json files, 04 kept)
OPERATORS = (
    ("福建闽运通供应链科技有限公司", "350102", "MYT", 0.42, 50, False, True),
    ("宁德三都澳智慧物流有限公司", "350902", "SDA", 0.24, 20, False, True),
    ("泉州海丝货运网络科技有限公司", "350503", "HSW", 0.17, 20, False, False),
    ("厦门鹭岛运力科技有限公司", "350206", "LDY", 0.12, 10, False, True),
    ("福鼎太姥山运联科技有限公司", "350982", "TLS", 0.05, 20, True, True),
)
DOCS_SCALE_STEP = 3000  # documents per envelope × (waybills a day // this) …
MAX_DOCS = 200  # … up to this
KEY_ROTATING = 1  # the operator whose key is rotated during the run (a retired and a current key)
UNKNOWN_SENDER = ("3505830099", "南安速达网络货运有限公司", "350583")  # never registered


@dataclass
class Fleet:
    """Vehicles and drivers (column lists, index = vehicle / driver number)."""

    # vehicles
    operator: list[int] = field(default_factory=list)
    kind: list[str] = field(default_factory=list)
    plate: list[str] = field(default_factory=list)
    color: list[int] = field(default_factory=list)
    county: list[str] = field(default_factory=list)  # registration / base county
    gross_mass: list[float] = field(default_factory=list)
    tonnage: list[float] = field(default_factory=list)
    vin: list[str] = field(default_factory=list)
    register_date: list[dt.date] = field(default_factory=list)
    trailer: list[str | None] = field(default_factory=list)
    owner: list[int] = field(default_factory=list)  # -1: the main driver; else a company
    drivers: list[list[int]] = field(default_factory=list)  # main driver first
    # drivers
    d_name: list[str] = field(default_factory=list)
    d_id: list[str] = field(default_factory=list)
    d_phone: list[str] = field(default_factory=list)
    d_class: list[str] = field(default_factory=list)
    d_vehicle: list[int] = field(default_factory=list)
    d_licence_from: list[dt.date] = field(default_factory=list)
    # owner companies (车队)
    c_name: list[str] = field(default_factory=list)
    c_uscc: list[str] = field(default_factory=list)
    c_county: list[str] = field(default_factory=list)

    @property
    def vehicles(self) -> int:
        return len(self.plate)


@dataclass
class World:
    """Operators, fleet and consignors of a run."""

    start: dt.date
    days: int
    seed: int
    waybills_per_day: int
    operators: list[Operator]
    unknown_sender: Operator
    other_platform_public_key: str  # another province platform's key (3006)
    fleet: Fleet
    shippers: dict[str, list[tuple[str, str]]]  # county → [(company name, USCC)]
    rotation: dt.date  # the rotating operator's current key is valid from this day

    @property
    def end(self) -> dt.datetime:
        return dt.datetime.combine(self.start + dt.timedelta(days=self.days), dt.time())


def keypair(rng: np.random.Generator) -> tuple[str, str]:
    """An SM2 key pair drawn from ``rng`` (deterministic by seed)."""
    while True:
        private = bytes(rng.integers(0, 256, 32, dtype=np.uint8)).hex()
        try:
            return private, sm2.public_key_of(private)
        except CryptoError:  # out of [1, n-2]: draw again
            continue


def city_of(county: str) -> str:
    return county[:4] + "00"


def _operators(
    rng: np.random.Generator, start: dt.date, rotation: dt.date, waybills_per_day: int
) -> list[Operator]:
    taken: set[str] = set()
    out = []
    # at scale, platforms put more documents in an envelope (fewer SM2 operations)
    scale = max(1, waybills_per_day // DOCS_SCALE_STEP)
    for i, (name, county, prefix, share, docs, json_files, with_04) in enumerate(OPERATORS):
        max_docs = min(MAX_DOCS, docs * scale)
        city = city_of(county)
        code = f"{county}{i + 1:04d}"
        op = Operator(
            index=i, code=code, name=name, uscc=names.uscc(rng, county, taken), county=county,
            prefix=prefix, share=share, max_docs=max_docs, writes_json=json_files,
            with_04=with_04,
            permit_no=f"闽交运管许可网货{LICENCE_OFFICE[city]}字{county}{i + 1:05d}号",
            legal_representative=names.person_name(rng),
            contact_phone=names.landline(rng, CITY_AREA_CODE[city]),
        )  # fmt: skip
        first = start - dt.timedelta(days=int(rng.integers(400, 700)))
        if i == KEY_ROTATING:
            retired, current = keypair(rng), keypair(rng)
            op.keys = [
                SenderKey(*retired, first, rotation - dt.timedelta(days=1)),
                SenderKey(*current, rotation, None),
            ]
        else:
            op.keys = [SenderKey(*keypair(rng), first, None)]
        out.append(op)
    return out


def _fleet(rng: np.random.Generator, operators: list[Operator], waybills_per_day: int) -> Fleet:
    fleet = Fleet()
    plates: set[str] = set()
    ids: set[str] = set()
    usccs: set[str] = set()
    prefixes = [p for p, _, _ in PLATE_CITIES]
    weights = np.array([w for _, _, w in PLATE_CITIES])
    weights = weights / weights.sum()
    kind_names = list(KINDS)
    kind_p = np.array([KINDS[k][0] for k in kind_names])
    for op in operators:
        n = max(MIN_FLEET, math.ceil(op.share * waybills_per_day / TRIPS_PER_VEHICLE_DAY))
        company = -1
        company_left = 0
        for j in range(n):
            kind = kind_names[int(rng.choice(len(kind_names), p=kind_p))]
            if j < 3:  # every operator has each kind
                kind = kind_names[j]
            city_i = int(rng.choice(len(prefixes), p=weights))
            prefix, city = prefixes[city_i], PLATE_CITIES[city_i][1]
            county = names.pick(rng, counties(city)).code
            new_energy = kind == LIGHT and rng.random() < NEW_ENERGY_LIGHT_SHARE
            if kind == LIGHT:
                gross = float(names.pick(rng, LIGHT_GROSS_MASS_T))
                tonnage = round(float(rng.uniform(0.9, 1.8)), 2)
                color = 5 if new_energy else 1
            elif kind == HEAVY:
                gross = round(float(rng.uniform(18.0, 31.0)), 2)
                tonnage = round(gross * float(rng.uniform(0.5, 0.62)), 2)
                color = 2
            else:
                gross = 49.0
                tonnage = round(float(rng.uniform(30.0, 35.0)), 2)
                color = 2
            v = fleet.vehicles
            fleet.operator.append(op.index)
            fleet.kind.append(kind)
            fleet.plate.append(names.plate(rng, prefix, plates, new_energy))
            fleet.color.append(color)
            fleet.county.append(county)
            fleet.gross_mass.append(gross)
            fleet.tonnage.append(tonnage)
            fleet.vin.append(
                names.vin(rng, names.pick(rng, VIN_MAKERS), names.pick(rng, VIN_YEARS))
            )
            fleet.register_date.append(
                dt.date(2015, 1, 1) + dt.timedelta(days=int(rng.integers(3650)))
            )
            fleet.trailer.append(
                f"{prefix}{int(rng.integers(1000, 10000))}挂" if kind == TRACTOR else None
            )
            # owner: the main driver, or a 车队 company owning a few vehicles in a row
            if company_left == 0 and rng.random() < COMPANY_OWNER_SHARE:
                fleet.c_name.append(names.company_name(rng, by_code()[city].name[:2], "运输"))
                fleet.c_uscc.append(names.uscc(rng, county, usccs))
                fleet.c_county.append(county)
                company = len(fleet.c_name) - 1
                company_left = int(rng.integers(*FLEET_COMPANY_SIZE))
            if company_left > 0:
                fleet.owner.append(company)
                company_left -= 1
            else:
                fleet.owner.append(-1)
            crew = [_driver(rng, fleet, v, kind, county, ids)]
            if kind != LIGHT and rng.random() < CO_DRIVER_SHARE:
                crew.append(_driver(rng, fleet, v, kind, county, ids))
            fleet.drivers.append(crew)
    return fleet


def _driver(
    rng: np.random.Generator, fleet: Fleet, vehicle: int, kind: str, county: str, ids: set[str]
) -> int:
    fleet.d_name.append(names.person_name(rng))
    fleet.d_id.append(names.id_number(rng, county, ids))
    fleet.d_phone.append(names.mobile(rng))
    fleet.d_class.append(KINDS[kind][2])
    fleet.d_vehicle.append(vehicle)
    fleet.d_licence_from.append(dt.date(2012, 1, 1) + dt.timedelta(days=int(rng.integers(4000))))
    return len(fleet.d_name) - 1


def _shippers(rng: np.random.Generator) -> dict[str, list[tuple[str, str]]]:
    taken: set[str] = set()
    out = {}
    for d in DIVISIONS:
        if d.level != "county":
            continue
        place = d.name[:2]
        out[d.code] = [
            (names.company_name(rng, place), names.uscc(rng, d.code, taken))
            for _ in range(COMPANIES_PER_COUNTY)
        ]
    return out


def build(start: dt.date, days: int, seed: int, waybills_per_day: int) -> World:
    """The operators, fleet and shippers of a run (deterministic by its arguments)."""
    rng = np.random.default_rng([seed, SEED_STREAM_WORLD])
    rotation = start + dt.timedelta(days=days // 2)
    operators = _operators(rng, start, rotation, waybills_per_day)
    code, name, county = UNKNOWN_SENDER
    unknown = Operator(
        index=-1, code=code, name=name, uscc=names.uscc(rng, county, set()), county=county,
        prefix="NAS", share=0.0, max_docs=3, writes_json=False, with_04=True,
        permit_no=f"闽交运管许可网货泉字{county}00099号", legal_representative="",
        contact_phone="", keys=[SenderKey(*keypair(rng), start - dt.timedelta(days=30), None)],
    )  # fmt: skip
    other_platform = keypair(rng)[1]
    fleet = _fleet(rng, operators, waybills_per_day)
    return World(start, days, seed, waybills_per_day, operators, unknown, other_platform, fleet,
                 _shippers(rng), rotation)  # fmt: skip

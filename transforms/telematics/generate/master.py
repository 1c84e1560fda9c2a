"""Synthetic telematics master data: counties, enterprises (USCC), platforms, key vehicles."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

import numpy as np

from transforms.telematics.generate.geography import (
    CITY_CODE,
    COUNTIES,
    N_COUNTIES,
    PROVINCE_CODE,
    TOWNS,
    Path,
    make_path,
    offset_km,
)

# ---- USCC 统一社会信用代码 (GB 32100-2015) and organisation code (GB 11714) ----
USCC_CHARSET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
USCC_WEIGHTS = tuple(pow(3, i, 31) for i in range(17))
ORG_CODE_WEIGHTS = (3, 7, 9, 10, 5, 8, 4, 2)
USCC_REGISTRY_MARKET = "9"  # 工商 (market regulation)
USCC_KIND_ENTERPRISE = "1"  # 企业

# ---- plates (JT/T 697.7 colours) -----------------------------------------------------------------
PLATE_LETTERS = "ABCDEFGHJKLMNPQRSTUVWXYZ"  # no I, no O
PLATE_DIGITS = "0123456789"
HOME_PLATE_PREFIX = "闽J"  # 宁德
OTHER_PLATE_PREFIXES = ("闽A", "闽C", "闽D")  # 福州, 泉州, 厦门
OTHER_PREFIX_SHARE = 0.03
GHOST_PLATE_PREFIX = (
    "浙C"  # 温州: unregistered vehicles that still report through a Ningde platform
)
PLATE_BLUE, PLATE_YELLOW, PLATE_GREEN = 1, 2, 5

# ---- vehicle types -------------------------------------------------------------------------------
BUS_SCHEDULED = "bus_scheduled"  # 班线客车
BUS_CHARTER = "bus_charter"  # 旅游包车
DANGEROUS_GOODS = "dangerous_goods"  # 危货
HEAVY_TRUCK = "heavy_truck"  # 重型货车
TRACTOR = "tractor"  # 半挂牵引车
CITY_BUS = "city_bus"  # 公交
TAXI = "taxi"  # 出租


@dataclass(frozen=True)
class TypeParams:
    """Driving parameters of one vehicle type (speeds in km/h)."""

    share: float
    speed_limit_kmh: float
    cruise_kmh: float
    cruise_sd_kmh: float
    business_type: str
    local: bool  # drives inside its county (city bus, taxi) rather than between towns


VEHICLE_TYPES: dict[str, TypeParams] = {
    BUS_SCHEDULED: TypeParams(0.15, 100, 80, 5, "passenger", False),
    BUS_CHARTER: TypeParams(0.10, 100, 78, 5, "passenger", False),
    DANGEROUS_GOODS: TypeParams(0.12, 80, 64, 4, "dangerous_goods", False),
    HEAVY_TRUCK: TypeParams(0.22, 80, 67, 4, "freight", False),
    TRACTOR: TypeParams(0.13, 80, 67, 4, "freight", False),
    CITY_BUS: TypeParams(0.13, 60, 32, 4, "city_bus", True),
    TAXI: TypeParams(0.15, 60, 40, 5, "taxi", True),
}
# The first vehicles get these types so that even a 5-vehicle fleet is mixed.
FORCED_TYPES = (BUS_SCHEDULED, HEAVY_TRUCK, TAXI, DANGEROUS_GOODS, CITY_BUS, BUS_CHARTER, TRACTOR)

ENTERPRISE_SUFFIX = {
    "passenger": "客运有限公司",
    "freight": "物流有限公司",
    "dangerous_goods": "危险品运输有限公司",
    "city_bus": "公共交通有限公司",
    "taxi": "出租汽车有限公司",
}
NAME_WORDS = (
    "安达",
    "顺通",
    "闽东",
    "宏运",
    "畅达",
    "鑫源",
    "海峡",
    "远航",
    "鸿翔",
    "恒通",
    "速通",
    "东方",
    "华运",
    "汇通",
    "新干线",
    "太姥",
    "白水洋",
    "三都澳",
    "福宁",
    "腾飞",
)
VEHICLES_PER_ENTERPRISE = 25
SUSPENDED_SHARE = 0.02
SPEEDER_EVERY = 12  # vehicle i is a speeder when i % 12 == 3 (≈ 8 %, always vehicle 3)
SPEEDER_OFFSET = 3
DRIFTER_EVERY = 100  # vehicle i drifts several times a day when i % 100 == 7 (≈ 1 %)
DRIFTER_OFFSET = 7
HEARTBEAT_SHARE = 0.7
HEARTBEAT_MIN_S, HEARTBEAT_MAX_S = 300, 600
NIGHT_SHARE = 0.15  # trucks and taxis driving 22:00–06:00
EARLY_BUS_SHARE = 0.12  # scheduled buses leaving 02:00–04:00
LONG_DRIVER_SHARE = 0.12  # trucks chaining legs with short stops (> 4 h continuous)
CITY_BUS_LOOP_RADIUS_KM = (2.0, 4.5)
MIN_PLATFORMS, MAX_PLATFORMS = 2, 4
PLATFORM_FLEET_STEPS = (20, 200)  # a third platform from 20 vehicles, a fourth from 200
PLATFORM_SHARES = (0.45, 0.3, 0.15, 0.1)  # the last (smallest) platform is self-built and sends CSV
PLATFORM_ID_PREFIX = "3509"


def uscc_check_char(first17: str) -> str:
    """The 18th character of a USCC (GB 32100-2015 check code)."""
    total = sum(USCC_CHARSET.index(c) * w for c, w in zip(first17, USCC_WEIGHTS, strict=True))
    return USCC_CHARSET[(31 - total % 31) % 31]


def org_code_check_char(body8: str) -> str:
    """The 9th character of an organisation code (GB 11714)."""
    total = sum(int(c, 36) * w for c, w in zip(body8, ORG_CODE_WEIGHTS, strict=True))
    check = 11 - total % 11
    return "X" if check == 10 else "0" if check == 11 else str(check)


def make_uscc(rng: np.random.Generator, county_code: str) -> str:
    """A valid-looking enterprise USCC registered in ``county_code``."""
    body = "".join(rng.choice(list(PLATE_DIGITS), 8))
    first17 = USCC_REGISTRY_MARKET + USCC_KIND_ENTERPRISE + county_code + body
    first17 += org_code_check_char(body)
    return first17 + uscc_check_char(first17)


@dataclass
class Vehicle:
    """A key vehicle (or an unregistered 'ghost' one) with its driving profile."""

    index: int
    plate: str
    plate_color: int
    vehicle_type: str
    enterprise_id: str
    county_index: int  # index into COUNTIES (home town)
    platform_index: int
    operating_status: str
    speed_limit_kmh: float
    registered_at: date
    cruise_kmh: float
    speed_cap_kmh: float
    speeder: bool
    drifter: bool
    night: bool
    early_bus: bool
    long_driver: bool
    heartbeat_s: int  # 0: silent while parked
    recorder_factor: float
    odometer_km: float
    route_dest: int  # town index (scheduled buses)
    depots: tuple[int, ...]  # town indices (dangerous goods)
    loop: Path | None = None  # city-bus circuit
    # supervision master data and traits (set by supervision.assign_supervision)
    route_id: str | None = None  # bus_scheduled: its approved route (home → route_dest)
    region_id: str | None = None  # bus_charter: its approved region
    route_exempt: bool = False  # flagged relay / airport / rail shuttle
    terminal_phone: str | None = None  # JT/T 808 terminal SIM number (11 digits), if known
    region_towns: tuple[int, ...] = ()  # bus_charter: destinations inside its region
    excursion_towns: tuple[int, ...] = ()  # bus_charter: destinations outside its region
    off_route: bool = False  # bus_scheduled: leaves its route on some days
    out_of_region: bool = False  # bus_charter: leaves its region on some days
    silent: bool = False  # operating but never online (no position at all)
    # mutable day-to-day state
    town: int = 0
    lon: float = 0.0
    lat: float = 0.0
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def params(self) -> TypeParams:
        return VEHICLE_TYPES[self.vehicle_type]

    def master_record(self, platform_ids: list[str]) -> dict[str, Any]:
        """The vehicles.jsonl record (contracts.md field order)."""
        return {
            "plate": self.plate,
            "plate_color": self.plate_color,
            "vehicle_type": self.vehicle_type,
            "enterprise_id": self.enterprise_id,
            "county_code": COUNTIES[self.county_index].code,
            "platform_id": platform_ids[self.platform_index],
            "operating_status": self.operating_status,
            "speed_limit_kmh": self.speed_limit_kmh,
            "route_id": self.route_id,
            "region_id": self.region_id,
            "route_exempt": self.route_exempt,
            "registered_at": self.registered_at.isoformat(),
            "terminal_phone": self.terminal_phone,
        }


@dataclass
class MasterData:
    """Everything the master feeds hold, plus the driving profiles."""

    counties: list[dict[str, Any]]
    enterprises: list[dict[str, Any]]
    platforms: list[dict[str, Any]]
    vehicles: list[Vehicle]
    ghosts: list[Vehicle]  # unregistered vehicles (unknown_vehicle records)

    @property
    def platform_ids(self) -> list[str]:
        return [p["platform_id"] for p in self.platforms]


def _serial(rng: np.random.Generator, letter_share: float = 0.15) -> str:
    chars = [
        PLATE_LETTERS[rng.integers(len(PLATE_LETTERS))]
        if rng.random() < letter_share
        else PLATE_DIGITS[rng.integers(10)]
        for _ in range(5)
    ]
    return "".join(chars)


def _plate(rng: np.random.Generator, vehicle_type: str, taken: set[str]) -> tuple[str, int]:
    while True:
        prefix = HOME_PLATE_PREFIX
        if rng.random() < OTHER_PREFIX_SHARE:
            prefix = OTHER_PLATE_PREFIXES[rng.integers(len(OTHER_PLATE_PREFIXES))]
        digits5 = "".join(PLATE_DIGITS[d] for d in rng.integers(0, 10, 5))
        if vehicle_type == TAXI and rng.random() < 0.5:
            plate, color = prefix + "DF"[rng.integers(2)] + digits5, PLATE_GREEN  # 小型新能源
        elif vehicle_type == TAXI:
            plate, color = prefix + _serial(rng), PLATE_BLUE
        elif vehicle_type == CITY_BUS and rng.random() < 0.6:
            plate, color = prefix + digits5 + "D", PLATE_GREEN  # 大型新能源
        else:
            plate, color = prefix + _serial(rng), PLATE_YELLOW
        if plate not in taken:
            taken.add(plate)
            return plate, color


def _counties() -> list[dict[str, Any]]:
    return [
        {
            "county_code": c.code,
            "name": c.name,
            "city_code": CITY_CODE,
            "province_code": PROVINCE_CODE,
        }
        for c in COUNTIES
    ]


def _platforms(rng: np.random.Generator, n: int, start: date) -> list[dict[str, Any]]:
    providers = (
        "宁德市闽东北斗科技有限公司",
        "福建省星联卫星导航有限公司",
        "福州市路安信息技术有限公司",
        "宁德市安达运输有限公司",
    )
    out = []
    for i in range(n):
        kind = "self_built" if i == n - 1 else "commercial"
        provider = providers[i % len(providers)]
        county = COUNTIES[int(rng.integers(N_COUNTIES))]
        filed = start - timedelta(days=int(rng.integers(90, 900)))
        major, minor, patch = (int(x) for x in rng.integers(0, 10, 3))
        ip3, ip4 = (int(x) for x in rng.integers(2, 250, 2))
        sec1, sec2 = (int(x) for x in rng.integers(10000, 99999, 2))
        out.append(
            {
                "platform_id": f"{PLATFORM_ID_PREFIX}{i + 1:04d}",
                "name": f"{provider[:-6]}道路运输车辆动态监控平台",
                "provider_name": provider,
                "kind": kind,
                "software_version": f"V{major % 5 + 2}.{minor}.{patch}",
                "service_scope": "宁德市" if kind == "commercial" else "本企业车辆",
                "machine_room_address": f"福建省宁德市{county.name}机房{i + 1}号",
                "deployment": ("集中式", "分布式")[i % 2],
                "architecture": ("B/S", "C/S")[i % 2],
                "upstream_network": ("private_line", "vpn", "internet")[i % 3],
                "upstream_ip_port": f"10.35.{9 + i}.{rng.integers(2, 250)}:{9000 + i}",
                "terminal_ip_port": f"218.85.{ip3}.{ip4}:{7000 + i}",
                "map_approval_number": f"GS({2022 + i % 3}){rng.integers(1000, 9999)}号",
                "map_source": ("高德", "四维图新", "天地图")[i % 3],
                "map_scope": "全国",
                "map_date": (filed - timedelta(days=180)).isoformat(),
                "map_matching_accuracy_m": float(rng.choice([5, 10, 15])),
                "map_provider": (
                    "高德软件有限公司",
                    "北京四维图新科技股份有限公司",
                    "国家基础地理信息中心",
                )[i % 3],
                "map_valid_until": (filed + timedelta(days=1095)).isoformat(),
                "security_filing_number": f"35090{sec1}-{sec2}",
                "security_level": 3 if kind == "commercial" else 2,
                "security_assessor": "福建省网络与信息安全测评中心",
                "applicant_company": provider,
                "applicant_uscc": make_uscc(rng, county.code),
                "legal_representative": ("林", "陈", "黄", "郑")[i % 4]
                + ("建国", "志强", "海峰", "丽华")[i % 4],
                "technical_lead": ("张", "王", "刘", "吴")[i % 4] + ("伟", "敏", "磊", "静")[i % 4],
                "contact": f"0593-{rng.integers(2000000, 2999999)}",
                "filing_status": "filed",
                "filed_at": filed.isoformat(),
            }
        )
    return out


def _city_bus_loop(rng: np.random.Generator, town: int) -> Path:
    """A closed circuit around the county seat (terminus = first vertex)."""
    t = TOWNS[town]
    n = 28
    ang = np.linspace(0.0, 2 * np.pi, n) + rng.uniform(0, 2 * np.pi)
    radius = rng.uniform(*CITY_BUS_LOOP_RADIUS_KM) * (
        1 + 0.25 * np.sin(3 * ang + rng.uniform(0, 6))
    )
    east, north = radius * np.cos(ang), radius * np.sin(ang) * rng.uniform(0.6, 1.0)
    east += rng.normal(0, 0.12, n)
    north += rng.normal(0, 0.12, n)
    east[-1], north[-1] = east[0], north[0]
    lon, lat = offset_km(t.lon, t.lat, east, north)
    alt = np.clip(t.altitude_m + rng.normal(0, 8, n), 0, None)
    return make_path(lon, lat, alt)


def _vehicle(
    rng: np.random.Generator,
    index: int,
    vtype: str,
    enterprise_id: str,
    county_index: int,
    platform_index: int,
    start: date,
    taken: set[str],
) -> Vehicle:
    p = VEHICLE_TYPES[vtype]
    plate, color = _plate(rng, vtype, taken)
    speeder = index % SPEEDER_EVERY == SPEEDER_OFFSET
    cruise = p.cruise_kmh + rng.normal(0, p.cruise_sd_kmh)
    cap = p.speed_limit_kmh - 1.0
    if speeder:
        cruise = p.speed_limit_kmh + rng.uniform(6, 18)
        cap = p.speed_limit_kmh + 25.0
    others = [t for t in range(len(TOWNS)) if t != county_index]
    n_other_towns = len(others)
    route_dest = others[int(rng.integers(n_other_towns))]
    depots = tuple(others[i] for i in rng.choice(n_other_towns, 2, replace=False))
    hb = (
        int(rng.integers(HEARTBEAT_MIN_S, HEARTBEAT_MAX_S + 1))
        if rng.random() < HEARTBEAT_SHARE
        else 0
    )
    v = Vehicle(
        index=index,
        plate=plate,
        plate_color=color,
        vehicle_type=vtype,
        enterprise_id=enterprise_id,
        county_index=county_index,
        platform_index=platform_index,
        operating_status="operating",
        speed_limit_kmh=float(p.speed_limit_kmh),
        registered_at=start - timedelta(days=int(rng.integers(30, 1500))),
        cruise_kmh=float(cruise),
        speed_cap_kmh=float(cap),
        speeder=speeder,
        drifter=index % DRIFTER_EVERY == DRIFTER_OFFSET,
        night=(vtype in (HEAVY_TRUCK, TRACTOR, TAXI) and rng.random() < NIGHT_SHARE),
        early_bus=vtype == BUS_SCHEDULED and (index == 0 or rng.random() < EARLY_BUS_SHARE),
        long_driver=vtype in (HEAVY_TRUCK, TRACTOR)
        and (index == 1 or rng.random() < LONG_DRIVER_SHARE),
        heartbeat_s=hb,
        recorder_factor=float(rng.uniform(0.97, 1.03)),
        odometer_km=float(rng.uniform(20_000, 600_000)),
        route_dest=route_dest,
        depots=depots,
    )
    if vtype == CITY_BUS:
        v.loop = _city_bus_loop(rng, county_index)
    home = TOWNS[county_index]
    v.town, v.lon, v.lat = county_index, home.lon, home.lat
    if v.loop is not None:
        v.lon, v.lat = float(v.loop.lon[0]), float(v.loop.lat[0])
    return v


def build_master(rng: np.random.Generator, n_vehicles: int, start: date) -> MasterData:
    """Counties, enterprises, platforms and vehicles (with their profiles) for a fleet."""
    type_names = list(VEHICLE_TYPES)
    shares = np.array([VEHICLE_TYPES[t].share for t in type_names])
    types = [
        type_names[i] for i in rng.choice(len(type_names), n_vehicles, p=shares / shares.sum())
    ]
    types[: len(FORCED_TYPES)] = FORCED_TYPES[:n_vehicles]

    # enterprises: per business type, one per ~25 vehicles, in random counties
    enterprises: list[dict[str, Any]] = []
    by_business: dict[str, list[int]] = {}
    names: set[str] = set()
    for business in dict.fromkeys(VEHICLE_TYPES[t].business_type for t in types):
        count = sum(VEHICLE_TYPES[t].business_type == business for t in types)
        for _ in range(max(1, round(count / VEHICLES_PER_ENTERPRISE))):
            county = COUNTIES[int(rng.integers(N_COUNTIES))]
            name = ""
            while not name or name in names:
                word = NAME_WORDS[int(rng.integers(len(NAME_WORDS)))]
                name = f"{county.name[:2]}{word}{ENTERPRISE_SUFFIX[business]}"
                if name in names:
                    name = f"宁德市{county.name[:2]}{word}{len(names)}{ENTERPRISE_SUFFIX[business]}"
            names.add(name)
            by_business.setdefault(business, []).append(len(enterprises))
            enterprises.append(
                {
                    "enterprise_id": make_uscc(rng, county.code),
                    "name": name,
                    "county_code": county.code,
                    "business_type": business,
                }
            )
    county_index = {c.code: i for i, c in enumerate(COUNTIES)}

    n_platforms = MIN_PLATFORMS + sum(n_vehicles >= m for m in PLATFORM_FLEET_STEPS)
    platforms = _platforms(rng, n_platforms, start)
    shares = np.array(PLATFORM_SHARES[:n_platforms])
    platform_of = rng.choice(n_platforms, n_vehicles, p=shares / shares.sum())
    first = min(n_platforms, n_vehicles)  # every platform serves at least one vehicle
    platform_of[rng.permutation(n_vehicles)[:first]] = np.arange(first)

    taken: set[str] = set()
    vehicles = []
    for i, vtype in enumerate(types):
        candidates = by_business[VEHICLE_TYPES[vtype].business_type]
        ent = enterprises[candidates[int(rng.integers(len(candidates)))]]
        v = _vehicle(
            rng,
            i,
            vtype,
            ent["enterprise_id"],
            county_index[ent["county_code"]],
            int(platform_of[i]),
            start,
            taken,
        )
        if i >= len(FORCED_TYPES) and rng.random() < SUSPENDED_SHARE and not v.drifter:
            v.operating_status = "suspended"
        vehicles.append(v)

    # unregistered vehicles (plates from Zhejiang, never in vehicles.jsonl), always on duty
    ghosts = []
    ghost_serials: set[str] = set()
    for g in range(1 + n_vehicles // 500):
        v = _vehicle(
            rng,
            n_vehicles + g,
            HEAVY_TRUCK,
            "",
            int(rng.integers(N_COUNTIES)),
            g % n_platforms,
            start,
            taken,
        )
        while v.plate[2:] in ghost_serials:
            v.plate, _ = _plate(rng, HEAVY_TRUCK, taken)
        ghost_serials.add(v.plate[2:])
        v.plate = GHOST_PLATE_PREFIX + v.plate[2:]
        v.heartbeat_s = HEARTBEAT_MIN_S
        v.speeder = v.drifter = v.night = False
        v.speed_cap_kmh = v.speed_limit_kmh - 1.0
        v.cruise_kmh = min(v.cruise_kmh, v.speed_cap_kmh - 5.0)
        ghosts.append(v)
    return MasterData(_counties(), enterprises, platforms, vehicles, ghosts)

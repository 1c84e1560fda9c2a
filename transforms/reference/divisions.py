"""GB/T 2260 administrative divisions (行政区划代码) with approximate centroids.

What is here: 福建省 (350000), its nine cities and all 84 of its county-level divisions as of the
2021 changes, and 浙江省 / 温州市 with three of its counties (freight from 福鼎 and 宁德 goes
there). Coordinates are **approximate**: the seat of government (县城 / 市政府驻地) to about a
kilometre, standing in for the centroid — good enough for the lake's rules (30 km from a county,
distances between counties), not a survey. The nine 宁德 counties and the cities 福州, 厦门, 泉州,
南平, 温州 carry the same coordinates as the telematics generator's geography
(transforms/telematics/generate/geography.py); a test keeps the two equal.

:data:`RETIRED` lists county codes abolished since 2014 with their successors. They are not
divisions any more, so a feed that still files one has an **unknown** county (freight.md: tonne-km
0, counted in ``unknown_distance``); the lake never maps them silently.

:func:`landing_records` gives the rows of the ``reference/divisions/<day>/*.jsonl`` feed (code,
name, level, parent_code, lon, lat), shared by every domain.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import cache

EARTH_RADIUS_KM = 6371.0088  # the lake's haversine radius (telematics.md, freight.md)
PROVINCE, CITY, COUNTY = "province", "city", "county"
LEVELS = (PROVINCE, CITY, COUNTY)
FIELDS = ("code", "name", "level", "parent_code", "lon", "lat")


@dataclass(frozen=True)
class Division:
    """One division: 6-digit code, name, level, the code of the division it belongs to (None for
    a province), and its approximate centroid in degrees (WGS-84)."""

    code: str
    name: str
    level: str
    parent_code: str | None
    lon: float
    lat: float

    def record(self) -> dict[str, object]:
        """The landing record (``reference/divisions``)."""
        return {k: getattr(self, k) for k in FIELDS}


def _province(code: str, name: str, lon: float, lat: float) -> Division:
    return Division(code, name, PROVINCE, None, lon, lat)


def _city(code: str, name: str, lon: float, lat: float) -> Division:
    return Division(code, name, CITY, code[:2] + "0000", lon, lat)


def _county(code: str, name: str, lon: float, lat: float) -> Division:
    return Division(code, name, COUNTY, code[:4] + "00", lon, lat)


# (code, name, lon, lat) of the county-level divisions, grouped by city
_FUJIAN_COUNTIES = (
    # 福州市
    ("350102", "鼓楼区", 119.304, 26.082), ("350103", "台江区", 119.314, 26.053),
    ("350104", "仓山区", 119.274, 26.047), ("350105", "马尾区", 119.455, 25.989),
    ("350111", "晋安区", 119.328, 26.082), ("350112", "长乐区", 119.523, 25.962),
    ("350121", "闽侯县", 119.131, 26.150), ("350122", "连江县", 119.539, 26.197),
    ("350123", "罗源县", 119.550, 26.489), ("350124", "闽清县", 118.863, 26.221),
    ("350125", "永泰县", 118.932, 25.866), ("350128", "平潭县", 119.790, 25.498),
    ("350181", "福清市", 119.384, 25.721),
    # 厦门市
    ("350203", "思明区", 118.082, 24.445), ("350205", "海沧区", 118.033, 24.484),
    ("350206", "湖里区", 118.146, 24.512), ("350211", "集美区", 118.097, 24.576),
    ("350212", "同安区", 118.152, 24.723), ("350213", "翔安区", 118.248, 24.618),
    # 莆田市
    ("350302", "城厢区", 118.993, 25.419), ("350303", "涵江区", 119.116, 25.459),
    ("350304", "荔城区", 119.015, 25.431), ("350305", "秀屿区", 119.105, 25.318),
    ("350322", "仙游县", 118.692, 25.362),
    # 三明市
    ("350404", "三元区", 117.608, 26.234), ("350405", "沙县区", 117.793, 26.397),
    ("350421", "明溪县", 117.202, 26.356), ("350423", "清流县", 116.816, 26.178),
    ("350424", "宁化县", 116.654, 26.262), ("350425", "大田县", 117.847, 25.693),
    ("350426", "尤溪县", 118.190, 26.170), ("350428", "将乐县", 117.473, 26.729),
    ("350429", "泰宁县", 117.176, 26.900), ("350430", "建宁县", 116.846, 26.833),
    ("350481", "永安市", 117.365, 25.942),
    # 泉州市
    ("350502", "鲤城区", 118.587, 24.907), ("350503", "丰泽区", 118.613, 24.891),
    ("350504", "洛江区", 118.671, 24.940), ("350505", "泉港区", 118.916, 25.120),
    ("350521", "惠安县", 118.797, 25.030), ("350524", "安溪县", 118.186, 25.056),
    ("350525", "永春县", 118.294, 25.322), ("350526", "德化县", 118.241, 25.491),
    ("350527", "金门县", 118.317, 24.432), ("350581", "石狮市", 118.648, 24.732),
    ("350582", "晋江市", 118.552, 24.781), ("350583", "南安市", 118.386, 24.960),
    # 漳州市
    ("350602", "芗城区", 117.654, 24.510), ("350603", "龙文区", 117.710, 24.503),
    ("350604", "龙海区", 117.818, 24.446), ("350605", "长泰区", 117.759, 24.625),
    ("350622", "云霄县", 117.339, 23.950), ("350623", "漳浦县", 117.614, 24.117),
    ("350624", "诏安县", 117.176, 23.711), ("350626", "东山县", 117.428, 23.701),
    ("350627", "南靖县", 117.357, 24.514), ("350628", "平和县", 117.313, 24.366),
    ("350629", "华安县", 117.534, 25.004),
    # 南平市
    ("350702", "延平区", 118.178, 26.641), ("350703", "建阳区", 118.120, 27.332),
    ("350721", "顺昌县", 117.810, 26.793), ("350722", "浦城县", 118.541, 27.917),
    ("350723", "光泽县", 117.334, 27.541), ("350724", "松溪县", 118.785, 27.526),
    ("350725", "政和县", 118.857, 27.366), ("350781", "邵武市", 117.492, 27.340),
    ("350782", "武夷山市", 118.035, 27.756), ("350783", "建瓯市", 118.305, 27.023),
    # 龙岩市
    ("350802", "新罗区", 117.037, 25.098), ("350803", "永定区", 116.732, 24.724),
    ("350821", "长汀县", 116.357, 25.833), ("350823", "上杭县", 116.420, 25.050),
    ("350824", "武平县", 116.100, 25.095), ("350825", "连城县", 116.755, 25.710),
    ("350881", "漳平市", 117.420, 25.291),
    # 宁德市 (the telematics generator's county seats)
    ("350902", "蕉城区", 119.526, 26.660), ("350921", "霞浦县", 120.005, 26.885),
    ("350922", "古田县", 118.746, 26.577), ("350923", "屏南县", 118.986, 26.908),
    ("350924", "寿宁县", 119.514, 27.454), ("350925", "周宁县", 119.339, 27.104),
    ("350926", "柘荣县", 119.900, 27.234), ("350981", "福安市", 119.648, 27.088),
    ("350982", "福鼎市", 120.217, 27.324),
)  # fmt: skip

_WENZHOU_COUNTIES = (
    ("330302", "鹿城区", 120.655, 28.015), ("330327", "苍南县", 120.426, 27.518),
    ("330381", "瑞安市", 120.655, 27.778),
)  # fmt: skip

DIVISIONS: tuple[Division, ...] = (
    _province("350000", "福建省", 119.296, 26.100),
    _city("350100", "福州市", 119.296, 26.074),
    _city("350200", "厦门市", 118.089, 24.480),
    _city("350300", "莆田市", 119.008, 25.431),
    _city("350400", "三明市", 117.639, 26.263),
    _city("350500", "泉州市", 118.589, 24.908),
    _city("350600", "漳州市", 117.647, 24.513),
    _city("350700", "南平市", 118.178, 26.641),
    _city("350800", "龙岩市", 117.017, 25.076),
    _city("350900", "宁德市", 119.548, 26.666),
    *(_county(*c) for c in _FUJIAN_COUNTIES),
    _province("330000", "浙江省", 120.153, 30.287),
    _city("330300", "温州市", 120.699, 27.994),
    *(_county(*c) for c in _WENZHOU_COUNTIES),
)

# county codes abolished since 2014 → the division that replaced them (GB/T 2260 changes)
RETIRED: dict[str, str] = {
    "350182": "350112",  # 长乐市 → 长乐区 (2017)
    "350402": "350404",  # 梅列区 → 三元区 (2021)
    "350403": "350404",  # 三元区 (old) → 三元区 (2021)
    "350427": "350405",  # 沙县 → 沙县区 (2021)
    "350625": "350605",  # 长泰县 → 长泰区 (2021)
    "350681": "350604",  # 龙海市 → 龙海区 (2021)
    "350784": "350703",  # 建阳市 → 建阳区 (2014)
    "350822": "350803",  # 永定县 → 永定区 (2014)
}


@cache
def by_code() -> dict[str, Division]:
    """Every division by its code."""
    return {d.code: d for d in DIVISIONS}


def division(code: str) -> Division | None:
    """The division of ``code``, or None (an unknown or retired code)."""
    return by_code().get(code)


@cache
def counties(parent_code: str | None = None) -> tuple[Division, ...]:
    """The county-level divisions, of one city (``parent_code``) or of every city."""
    return tuple(
        d
        for d in DIVISIONS
        if d.level == COUNTY and (parent_code is None or d.parent_code == parent_code)
    )


def landing_records() -> list[dict[str, object]]:
    """The rows of the ``reference/divisions`` landing feed, by code."""
    return [d.record() for d in sorted(DIVISIONS, key=lambda d: d.code)]


def haversine_km(lon1: float, lat1: float, lon2: float, lat2: float) -> float:
    """Great-circle distance in km on the sphere of radius :data:`EARTH_RADIUS_KM`."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    a = (
        math.sin((p2 - p1) / 2) ** 2
        + math.cos(p1) * math.cos(p2) * math.sin(math.radians(lon2 - lon1) / 2) ** 2
    )
    return 2 * EARTH_RADIUS_KM * math.asin(math.sqrt(min(a, 1.0)))


def centroid_distance_km(code1: str, code2: str) -> float | None:
    """The distance between the centroids of two divisions; None when either code is unknown."""
    a, b = division(code1), division(code2)
    if a is None or b is None:
        return None
    return haversine_km(a.lon, a.lat, b.lon, b.lat)

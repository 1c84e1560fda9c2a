"""Ningde (宁德, Fujian) geography for the synthetic telematics feed: counties, towns, roads.

Road polylines are jittered curves between town centres, built once per run from the seed, so the
same vehicle drives the same road every day.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

EARTH_RADIUS_KM = 6371.0088  # the lake's haversine radius (telematics.md)
KM_PER_DEG_LAT = 110.574
KM_PER_DEG_LON_EQUATOR = 111.320

PROVINCE_CODE = "35"  # 福建省
CITY_CODE = "3509"  # 宁德市

MIN_ALTITUDE_M = 0
MAX_ALTITUDE_M = 1200
ROAD_POINT_SPACING_KM = 1.5  # one polyline vertex every ~1.5 km
ROAD_BEND_AMPLITUDE = 0.07  # lateral bends as a fraction of the straight-line length
ROAD_WIGGLE_KM = 0.15  # small vertex noise so roads are not smooth sines


@dataclass(frozen=True)
class Town:
    """A road node: a county seat of Ningde or a neighbouring city that long-haul vehicles visit."""

    code: str  # GB/T 2260 county code; "" for towns outside Ningde
    name: str
    lon: float
    lat: float
    altitude_m: float


# GB/T 2260 counties of 宁德市 with approximate seat coordinates and elevations.
COUNTIES: tuple[Town, ...] = (
    Town("350902", "蕉城区", 119.526, 26.660, 20),
    Town("350921", "霞浦县", 120.005, 26.885, 10),
    Town("350922", "古田县", 118.746, 26.577, 380),
    Town("350923", "屏南县", 118.986, 26.908, 820),
    Town("350924", "寿宁县", 119.514, 27.454, 780),
    Town("350925", "周宁县", 119.339, 27.104, 880),
    Town("350926", "柘荣县", 119.900, 27.234, 650),
    Town("350981", "福安市", 119.648, 27.088, 30),
    Town("350982", "福鼎市", 120.217, 27.324, 15),
)

# Cities outside Ningde reached by intercity buses and trucks (not counties of the lake).
EXTERNAL_TOWNS: tuple[Town, ...] = (
    Town("", "福州市", 119.296, 26.074, 10),
    Town("", "温州市", 120.699, 27.994, 10),
    Town("", "南平市", 118.178, 26.641, 100),
    Town("", "泉州市", 118.589, 24.908, 20),
    Town("", "厦门市", 118.089, 24.480, 10),
)

TOWNS: tuple[Town, ...] = COUNTIES + EXTERNAL_TOWNS
N_COUNTIES = len(COUNTIES)


def haversine_km(
    lon1: np.ndarray, lat1: np.ndarray, lon2: np.ndarray, lat2: np.ndarray
) -> np.ndarray:
    """Great-circle distance in km (element-wise)."""
    p1, p2 = np.radians(lat1), np.radians(lat2)
    dp = p2 - p1
    dl = np.radians(np.asarray(lon2) - np.asarray(lon1))
    a = np.sin(dp / 2) ** 2 + np.cos(p1) * np.cos(p2) * np.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_KM * np.arcsin(np.sqrt(np.minimum(a, 1.0)))


def bearing_deg(
    lon1: np.ndarray, lat1: np.ndarray, lon2: np.ndarray, lat2: np.ndarray
) -> np.ndarray:
    """Initial bearing in degrees [0, 360), north 0, clockwise (element-wise, equirectangular)."""
    dx = (np.asarray(lon2) - lon1) * np.cos(np.radians(lat1))
    dy = np.asarray(lat2) - lat1
    return np.degrees(np.arctan2(dx, dy)) % 360.0


def offset_km(lon: float, lat: float, east_km: np.ndarray, north_km: np.ndarray):
    """Points displaced by (east, north) km from (lon, lat) (equirectangular)."""
    d_lon = east_km / (KM_PER_DEG_LON_EQUATOR * np.cos(np.radians(lat)))
    return lon + d_lon, lat + north_km / KM_PER_DEG_LAT


@dataclass(frozen=True)
class Path:
    """A polyline with its cumulative length and an altitude profile."""

    lon: np.ndarray
    lat: np.ndarray
    cum_km: np.ndarray
    alt: np.ndarray

    @property
    def length_km(self) -> float:
        return float(self.cum_km[-1])

    def reversed(self) -> Path:
        return Path(
            self.lon[::-1], self.lat[::-1], self.cum_km[-1] - self.cum_km[::-1], self.alt[::-1]
        )


def make_path(lon: np.ndarray, lat: np.ndarray, alt: np.ndarray) -> Path:
    """Wrap vertex arrays into a :class:`Path` (computes the cumulative length)."""
    seg = haversine_km(lon[:-1], lat[:-1], lon[1:], lat[1:])
    return Path(lon, lat, np.concatenate([[0.0], np.cumsum(seg)]), alt)


def sub_path(path: Path, start_km: float, end_km: float) -> Path:
    """The stretch of ``path`` between two distances along it (end points interpolated)."""
    inner = (path.cum_km > start_km) & (path.cum_km < end_km)
    at = np.concatenate([[start_km], path.cum_km[inner], [end_km]])
    return make_path(
        np.interp(at, path.cum_km, path.lon),
        np.interp(at, path.cum_km, path.lat),
        np.interp(at, path.cum_km, path.alt),
    )


def jittered_path(
    rng: np.random.Generator,
    lon0: float,
    lat0: float,
    lon1: float,
    lat1: float,
    alt0: float,
    alt1: float,
    spacing_km: float = ROAD_POINT_SPACING_KM,
    bend: float = ROAD_BEND_AMPLITUDE,
    wiggle_km: float = ROAD_WIGGLE_KM,
    mountains: bool = True,
) -> Path:
    """A road-like polyline between two points: smooth random bends plus small vertex noise."""
    straight = float(haversine_km(lon0, lat0, lon1, lat1))
    n = max(3, int(straight / spacing_km) + 2)
    f = np.linspace(0.0, 1.0, n)
    east = (lon1 - lon0) * KM_PER_DEG_LON_EQUATOR * np.cos(np.radians(lat0))
    north = (lat1 - lat0) * KM_PER_DEG_LAT
    norm = max(np.hypot(east, north), 1e-9)
    perp_e, perp_n = -north / norm, east / norm
    modes = rng.normal(0.0, bend, 3)
    lateral = straight * sum(m * np.sin((i + 1) * np.pi * f) for i, m in enumerate(modes))
    lateral[1:-1] += rng.normal(0.0, wiggle_km, n - 2)
    lon, lat = offset_km(lon0, lat0, f * east + lateral * perp_e, f * north + lateral * perp_n)
    lon[-1], lat[-1] = lon1, lat1
    if mountains:
        # a few passes between the endpoints' elevations, interpolated over the vertices
        knots = max(2, n // 8)
        kf = np.linspace(0.0, 1.0, knots + 2)
        low = min(alt0, alt1)
        ka = np.concatenate([[alt0], rng.uniform(low, MAX_ALTITUDE_M * 0.9, knots), [alt1]])
        alt = np.interp(f, kf, ka)
    else:
        alt = np.interp(f, [0.0, 1.0], [alt0, alt1]) + rng.uniform(0, 15, n)
    alt = np.clip(alt, MIN_ALTITUDE_M, MAX_ALTITUDE_M)
    return make_path(lon, lat, alt)


class RoadNetwork:
    """Intercity roads between every pair of towns (one polyline per unordered pair)."""

    def __init__(self, rng: np.random.Generator) -> None:
        self._roads: dict[tuple[int, int], Path] = {}
        for a in range(len(TOWNS)):
            for b in range(a + 1, len(TOWNS)):
                ta, tb = TOWNS[a], TOWNS[b]
                self._roads[(a, b)] = jittered_path(
                    rng, ta.lon, ta.lat, tb.lon, tb.lat, ta.altitude_m, tb.altitude_m
                )
        self._reversed = {(b, a): p.reversed() for (a, b), p in self._roads.items()}

    def road(self, a: int, b: int) -> Path:
        """The road from town ``a`` to town ``b``."""
        return self._roads[(a, b)] if a < b else self._reversed[(a, b)]

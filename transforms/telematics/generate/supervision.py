"""Supervision master data and traits: approved routes (班线), approved regions (包车区域),
exempt routes, terminal phone numbers, off-route / out-of-region offenders, never-online vehicles.

Runs after :func:`master.build_master` and the road network, on its own random stream, so the
routes are exactly the roads the simulator drives.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from transforms.telematics.generate.geography import (
    COUNTIES,
    KM_PER_DEG_LAT,
    KM_PER_DEG_LON_EQUATOR,
    N_COUNTIES,
    TOWNS,
    Path,
    RoadNetwork,
    make_path,
)
from transforms.telematics.generate.master import (
    BUS_CHARTER,
    BUS_SCHEDULED,
    FORCED_TYPES,
    MasterData,
    Vehicle,
)

ROUTE_ID_PREFIX = "BX"  # 班线
REGION_ID_PREFIX = "QY"  # 区域
EXEMPT_MAX_KM = 100.0  # rules.yaml route.exempt_max_km: shorter routes are exempt from 02–05
LONG_ROUTE_KM = (110.0, 260.0)  # vehicle 0 (an early bus) gets a route in this range
EXEMPT_SHARE = 0.1  # scheduled buses flagged as relay / airport / rail shuttles
OFF_ROUTE_SHARE = 0.08  # scheduled buses that leave their route on some days
OFF_ROUTE_MIN_KM = 40.0  # routes this long leave room for a detour
OUT_OF_REGION_SHARE = 0.12  # charter buses that leave their region on some days
MIN_OFFENDERS = 2  # at least this many of each (when the fleet has them)
SILENT_SHARE = 0.01  # operating vehicles that never send a position
SILENT_MIN_FLEET = 20  # fleets this large have at least one
PHONE_KNOWN_SHARE = 0.9  # vehicles whose terminal SIM number is in the master data
PHONE_PREFIXES = ("133", "135", "138", "139", "150", "158", "180", "189", "199")
REGION_BUFFER_KM = 3.0
REGION_BUFFER_SIDES = 8
FUZHOU = N_COUNTIES  # index of 福州市 in TOWNS
NEAR_EXTERNAL = (N_COUNTIES, N_COUNTIES + 1, N_COUNTIES + 2)  # 福州, 温州, 南平
# (name, towns) of the approved charter regions; the polygon is the buffered hull of their roads
REGIONS: tuple[tuple[str, tuple[int, ...]], ...] = (
    ("宁德市域", tuple(range(N_COUNTIES))),
    ("宁德—福州", (*range(N_COUNTIES), FUZHOU)),
)
REGION_WEIGHTS = (0.75, 0.25)
DETOUR_SPAN_KM = (16.0, 26.0)  # road length a detour replaces
DETOUR_OFFSET_KM = (9.0, 14.0)  # how far it strays at most
DETOUR_STEP_KM = 0.5


@dataclass
class Supervision:
    """Routes and regions (master records) plus their geometry by id."""

    routes: list[dict[str, Any]]
    regions: list[dict[str, Any]]
    route_paths: dict[str, Path]
    region_rings: dict[str, np.ndarray]  # id → (n, 2) closed lon/lat ring


def short_name(town: int) -> str:
    """宁德 for the city seat (蕉城区), else the first two characters (福鼎, 福州, …)."""
    t = TOWNS[town]
    return "宁德" if t.code == COUNTIES[0].code else t.name[:2]


# ---- geometry -------------------------------------------------------------------------------------
def _km_xy(lon: np.ndarray, lat: np.ndarray, lon0: float, lat0: float):
    return (
        (np.asarray(lon) - lon0) * KM_PER_DEG_LON_EQUATOR * np.cos(np.radians(lat0)),
        (np.asarray(lat) - lat0) * KM_PER_DEG_LAT,
    )


def convex_hull(points: np.ndarray) -> np.ndarray:
    """Counter-clockwise convex hull of (n, 2) points (Andrew's monotone chain), not closed."""
    pts = [tuple(p) for p in np.unique(points, axis=0).tolist()]
    if len(pts) < 3:
        return np.array(pts)

    def half(seq: list[tuple[float, float]]) -> list[tuple[float, float]]:
        out: list[tuple[float, float]] = []
        for px, py in seq:
            while len(out) >= 2:
                (ax, ay), (bx, by) = out[-2], out[-1]
                if (bx - ax) * (py - ay) - (by - ay) * (px - ax) > 0:
                    break
                out.pop()
            out.append((px, py))
        return out

    lower, upper = half(pts), half(pts[::-1])
    return np.array(lower[:-1] + upper[:-1])


def point_in_ring(lon: float, lat: float, ring: np.ndarray) -> bool:
    """Ray casting in lon/lat (telematics.md out-of-region rule)."""
    x, y = ring[:-1, 0], ring[:-1, 1]
    x2, y2 = ring[1:, 0], ring[1:, 1]
    crosses = (y > lat) != (y2 > lat)
    with np.errstate(divide="ignore", invalid="ignore"):
        at = x + (lat - y) * (x2 - x) / (y2 - y)
    return bool(np.sum(crosses & (lon < at)) % 2)


def region_ring(roads: RoadNetwork, towns: tuple[int, ...]) -> np.ndarray:
    """A closed lon/lat ring around every road between ``towns``, buffered a few km."""
    lon = np.concatenate([roads.road(a, b).lon for a in towns for b in towns if a < b])
    lat = np.concatenate([roads.road(a, b).lat for a in towns for b in towns if a < b])
    lon0, lat0 = float(lon.mean()), float(lat.mean())
    x, y = _km_xy(lon, lat, lon0, lat0)
    hull = convex_hull(np.column_stack([x, y]))
    ang = np.linspace(0.0, 2 * np.pi, REGION_BUFFER_SIDES, endpoint=False)
    circle = REGION_BUFFER_KM / np.cos(np.pi / REGION_BUFFER_SIDES)  # polygon covers the disc
    ring = convex_hull(
        (hull[:, None, :] + circle * np.column_stack([np.cos(ang), np.sin(ang)])[None]).reshape(
            -1, 2
        )
    )
    ring = np.vstack([ring, ring[:1]])
    rlon = lon0 + ring[:, 0] / (KM_PER_DEG_LON_EQUATOR * np.cos(np.radians(lat0)))
    rlat = lat0 + ring[:, 1] / KM_PER_DEG_LAT
    return np.round(np.column_stack([rlon, rlat]), 6)


def detour(path: Path, rng: np.random.Generator) -> Path:
    """``path`` with one stretch bent up to 9–14 km away to one side (不按核定线路行驶)."""
    length = path.length_km
    span = min(rng.uniform(*DETOUR_SPAN_KM), 0.6 * length)
    s0 = rng.uniform(0.2 * length, 0.8 * length - span)
    s = np.linspace(s0, s0 + span, int(span / DETOUR_STEP_KM) + 1)
    lon = np.interp(s, path.cum_km, path.lon)
    lat = np.interp(s, path.cum_km, path.lat)
    x, y = _km_xy(lon, lat, lon[0], lat[0])
    norm = max(float(np.hypot(x[-1], y[-1])), 1e-9)
    side = 1.0 if rng.random() < 0.5 else -1.0
    bump = side * rng.uniform(*DETOUR_OFFSET_KM) * np.sin(np.pi * (s - s0) / span)
    x, y = x - bump * y[-1] / norm, y + bump * x[-1] / norm
    lon = lon[0] + x / (KM_PER_DEG_LON_EQUATOR * np.cos(np.radians(lat[0])))
    lat = lat[0] + y / KM_PER_DEG_LAT
    alt = np.interp(s, path.cum_km, path.alt)
    before, after = path.cum_km <= s0, path.cum_km >= s0 + span
    return make_path(
        np.concatenate([path.lon[before], lon, path.lon[after]]),
        np.concatenate([path.lat[before], lat, path.lat[after]]),
        np.concatenate([path.alt[before], alt, path.alt[after]]),
    )


# ---- assignment -----------------------------------------------------------------------------------
def _pick(
    rng: np.random.Generator, pool: list[Vehicle], share: float, minimum: int
) -> list[Vehicle]:
    want = min(len(pool), max(minimum, int(round(share * len(pool)))))
    return [pool[i] for i in sorted(rng.choice(len(pool), want, replace=False))] if want else []


def _route_for(v: Vehicle, roads: RoadNetwork) -> Path:
    return roads.road(v.county_index, v.route_dest)


def _ensure_route_lengths(rng: np.random.Generator, buses: list[Vehicle], roads: RoadNetwork):
    """Vehicle 0 (an early bus) runs a long route; some other bus runs a short one."""
    home_first = [v for v in buses if v.index == 0]
    for v in home_first:
        if _route_for(v, roads).length_km <= LONG_ROUTE_KM[0]:
            far = [
                t
                for t in range(len(TOWNS))
                if t != v.county_index
                and LONG_ROUTE_KM[0] < roads.road(v.county_index, t).length_km < LONG_ROUTE_KM[1]
            ]
            if far:
                v.route_dest = far[int(rng.integers(len(far)))]
    others = [v for v in buses if v.index != 0]
    if others and all(_route_for(v, roads).length_km > EXEMPT_MAX_KM for v in others):
        v = others[0]
        v.route_dest = min(
            (t for t in range(len(TOWNS)) if t != v.county_index),
            key=lambda t: roads.road(v.county_index, t).length_km,
        )


def assign_supervision(
    rng: np.random.Generator, master: MasterData, roads: RoadNetwork
) -> Supervision:
    """Give buses routes, charters regions, vehicles phones; pick offenders and silent vehicles."""
    vehicles = master.vehicles
    buses = [v for v in vehicles if v.vehicle_type == BUS_SCHEDULED]
    _ensure_route_lengths(rng, buses, roads)

    routes: list[dict[str, Any]] = []
    route_paths: dict[str, Path] = {}
    route_of_pair: dict[tuple[int, int], str] = {}
    for v in buses:
        pair = (v.county_index, v.route_dest)
        if pair not in route_of_pair:
            route_id = f"{ROUTE_ID_PREFIX}{len(routes) + 1:04d}"
            path = _route_for(v, roads)
            route_of_pair[pair] = route_id
            route_paths[route_id] = path
            routes.append(
                {
                    "route_id": route_id,
                    "name": f"{short_name(pair[0])}—{short_name(pair[1])}",
                    "length_km": round(path.length_km, 3),
                    "polyline": [
                        [round(float(x), 6), round(float(y), 6)]
                        for x, y in zip(path.lon, path.lat, strict=True)
                    ],
                }
            )
        v.route_id = route_of_pair[pair]

    regions: list[dict[str, Any]] = []
    rings: dict[str, np.ndarray] = {}
    for i, (name, towns) in enumerate(REGIONS):
        region_id = f"{REGION_ID_PREFIX}{i + 1:04d}"
        rings[region_id] = region_ring(roads, towns)
        regions.append({"region_id": region_id, "name": name, "polygon": rings[region_id].tolist()})
    for v in vehicles:
        if v.vehicle_type != BUS_CHARTER:
            continue
        r = int(rng.choice(len(REGIONS), p=REGION_WEIGHTS))
        region_id = regions[r]["region_id"]
        v.region_id, v.region_towns = region_id, REGIONS[r][1]
        v.excursion_towns = tuple(
            t
            for t in NEAR_EXTERNAL
            if t not in v.region_towns
            and not point_in_ring(TOWNS[t].lon, TOWNS[t].lat, rings[region_id])
        )

    # terminal SIM numbers (unique, 11 digits)
    phones: set[str] = set()
    for v in vehicles:
        known = v.index < len(FORCED_TYPES) or rng.random() < PHONE_KNOWN_SHARE
        while known:
            prefix = PHONE_PREFIXES[int(rng.integers(len(PHONE_PREFIXES)))]
            phone = prefix + "".join(str(d) for d in rng.integers(0, 10, 8))
            if phone not in phones:
                phones.add(phone)
                v.terminal_phone = phone
                break

    # traits
    operating = [v for v in vehicles if v.operating_status == "operating"]
    ordinary = [v for v in operating if v.index >= len(FORCED_TYPES) and not v.drifter]
    exempt_pool = [v for v in buses if v.index != 0]
    exempt = _pick(rng, exempt_pool, EXEMPT_SHARE, 1 if len(buses) >= 3 else 0)
    for i, v in enumerate(exempt):
        v.route_exempt = True
        v.early_bus = v.early_bus or i == 0  # one flagged shuttle runs early (and is excused)
    detour_pool = [
        v
        for v in buses
        if v.operating_status == "operating"
        and route_paths[v.route_id or ""].length_km >= OFF_ROUTE_MIN_KM
    ]
    for v in _pick(rng, detour_pool, OFF_ROUTE_SHARE, MIN_OFFENDERS):
        v.off_route = True
    charter_pool = [v for v in operating if v.vehicle_type == BUS_CHARTER and v.excursion_towns]
    for v in _pick(rng, charter_pool, OUT_OF_REGION_SHARE, MIN_OFFENDERS):
        v.out_of_region = True
    silent_pool = [v for v in ordinary if not (v.off_route or v.out_of_region or v.route_exempt)]
    n_silent = int(round(SILENT_SHARE * len(operating)))
    if len(vehicles) >= SILENT_MIN_FLEET:
        n_silent = max(1, n_silent)
    for v in _pick(rng, silent_pool, 0.0, n_silent):
        v.silent = True
    return Supervision(routes, regions, route_paths, rings)

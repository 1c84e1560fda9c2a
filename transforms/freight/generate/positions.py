"""National freight vehicle platform positions (全国道路货运车辆公共监管与服务平台) of the trips,
and the trajectory facts the rules read from them.

A trip's points run from near the loading county's centroid to near the receipt county's (each
end within min(3 km, 10 % of the distance) of it) along a gently bent line, one point 1–3 min
after despatch, then every 10–20 min, and one 1–3 min before receipt; half the trips also have a
parked point 5–30 min before despatch at the place of loading and one after receipt at the place of
receipt (outside the waybill's window). Points of a vehicle have distinct times.

Cases (forced on the first eligible trip, then the share; physical distance between the counties):

| case | share | what the rules see |
|---|---|---|
| offline vehicle | 0.5 % of vehicles | no point ever: vehicle_network on each of its waybills |
| ``trip_off`` | 0.5 % | no point during the trip: vehicle_network |
| ``late_start`` | 0.4 % (≥ 100 km) | points only from 60 % of the way: first point > 30 km away |
| ``early_stop`` | 0.4 % (≥ 100 km) | points only up to 40 % of the way: last point > 30 km away |
| ``hover`` | 0.3 % (25–38 km) | ≤ 8 points within 0.3 km of the midpoint: length < 0.5 × distance |

A normal trip is far from every threshold: its end points are within ~5 km of the centroids and
its summed length is at least 0.7 × the centroid distance.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from transforms.freight.generate.schedule import Geography, Waybills
from transforms.freight.generate.world import World
from transforms.reference.divisions import EARTH_RADIUS_KM, by_code

SEED_STREAM_POSITIONS = 66
KM_PER_DEG_LAT = 110.574
KM_PER_DEG_LON = 111.320
OFFLINE_SHARE = 0.005
TRIP_SHARES = {"trip_off": 0.005, "late_start": 0.004, "early_stop": 0.004, "hover": 0.003}
LONG_TRIP_KM = 100.0
HOVER_KM = (25.0, 38.0)
HOVER_POINTS = 8
HOVER_RADIUS_KM = 0.3
END_OFFSET_KM = 3.0
END_OFFSET_SHARE = 0.1
EDGE_S = (60, 180)
INTERVAL_S = (600, 1200)
PARKED_S = (5 * 60, 30 * 60)
PARKED_SHARE = 0.5
BEND_SD, BEND_MAX = 0.06, 0.15


@dataclass
class Points:
    """Positions sorted by (vehicle, time), one per vehicle and second."""

    vehicle: np.ndarray  # int64
    t: np.ndarray  # int64 seconds from the start of the run
    lon: np.ndarray
    lat: np.ndarray
    speed: np.ndarray

    def __len__(self) -> int:
        return len(self.t)


def haversine(lon1, lat1, lon2, lat2) -> np.ndarray:
    """Great-circle km (the lake's radius), element-wise."""
    p1, p2 = np.radians(lat1), np.radians(lat2)
    a = (
        np.sin((p2 - p1) / 2) ** 2
        + np.cos(p1) * np.cos(p2) * np.sin(np.radians(np.asarray(lon2) - np.asarray(lon1)) / 2) ** 2
    )
    return 2 * EARTH_RADIUS_KM * np.arcsin(np.sqrt(np.minimum(a, 1.0)))


def _offset(lon, lat, east_km, north_km):
    return (
        lon + east_km / (KM_PER_DEG_LON * np.cos(np.radians(lat))),
        lat + north_km / KM_PER_DEG_LAT,
    )


def _disk(rng: np.random.Generator, n: int, radius: np.ndarray):
    r = radius * np.sqrt(rng.random(n))
    a = rng.uniform(0, 2 * np.pi, n)
    return r * np.cos(a), r * np.sin(a)


def choose_cases(world: World, trips: Waybills, geo: Geography) -> tuple[np.ndarray, list[str]]:
    """(offline vehicles as a bool array, the case of each trip: "" or a TRIP_SHARES name)."""
    rng = np.random.default_rng([world.seed, SEED_STREAM_POSITIONS])
    active = np.zeros(world.fleet.vehicles, bool)
    for i in range(len(trips)):
        if trips.physical[i]:
            active[trips.vehicle[i]] = True
    offline = rng.random(world.fleet.vehicles) < OFFLINE_SHARE
    if not offline[active].any() and active.any():
        offline[int(np.flatnonzero(active)[0])] = True
    cases = [""] * len(trips)
    todo = list(TRIP_SHARES)
    for i in sorted(range(len(trips)), key=lambda i: trips.despatch[i]):
        if not trips.physical[i] or offline[trips.vehicle[i]]:
            continue
        km = float(geo.km[geo.index[trips.loading[i]], geo.index[trips.receipt[i]]])

        def ok(name: str, km: float = km) -> bool:
            if name in ("late_start", "early_stop"):
                return km >= LONG_TRIP_KM
            if name == "hover":
                return HOVER_KM[0] <= km <= HOVER_KM[1]
            return True

        chosen = next((name for name in todo if ok(name)), None)
        if chosen is not None:
            todo.remove(chosen)
        else:
            u, acc = rng.random(), 0.0
            for name, share in TRIP_SHARES.items():
                acc += share
                if u < acc:
                    chosen = name if ok(name) else None
                    break
        cases[i] = chosen or ""
    return offline, cases


def build_points(
    world: World, trips: Waybills, geo: Geography, offline: np.ndarray, cases: list[str]
) -> Points:
    """Every point of the run (module docstring)."""
    rng = np.random.default_rng([world.seed, SEED_STREAM_POSITIONS, 1])
    idx = np.array([i for i in range(len(trips)) if trips.physical[i]], dtype=np.int64)
    vehicle = np.array(trips.vehicle, dtype=np.int64)[idx]
    d = np.array(trips.despatch, dtype=np.int64)[idx]
    r = np.array(trips.arrival, dtype=np.int64)[idx]
    case = np.array(cases, dtype=object)[idx]
    la = np.array([geo.index[trips.loading[i]] for i in idx], dtype=np.int64)
    lb = np.array([geo.index[trips.receipt[i]] for i in idx], dtype=np.int64)
    n = len(idx)
    lon_c = np.array([by_code()[c].lon for c in geo.codes])
    lat_c = np.array([by_code()[c].lat for c in geo.codes])
    km = geo.km[la, lb]
    # the previous arrival and next despatch of the same vehicle (parked points stay outside)
    order = np.lexsort((d, vehicle))
    prev_r = np.full(n, np.iinfo(np.int64).min // 2)
    next_d = np.full(n, np.iinfo(np.int64).max // 2)
    same = vehicle[order][1:] == vehicle[order][:-1]
    prev_r[order[1:][same]] = r[order[:-1][same]]
    next_d[order[:-1][same]] = d[order[1:][same]]

    radius = np.where(km > 0, np.minimum(END_OFFSET_KM, END_OFFSET_SHARE * km), END_OFFSET_KM)
    ea, na = _disk(rng, n, radius)
    eb, nb = _disk(rng, n, radius)
    a_lon, a_lat = _offset(lon_c[la], lat_c[la], ea, na)
    b_lon, b_lat = _offset(lon_c[lb], lat_c[lb], eb, nb)
    east = (b_lon - a_lon) * KM_PER_DEG_LON * np.cos(np.radians(a_lat))
    north = (b_lat - a_lat) * KM_PER_DEG_LAT
    span = np.maximum(np.hypot(east, north), 1e-9)
    bend = np.clip(rng.normal(0, BEND_SD, n), -BEND_MAX, BEND_MAX) * span
    avg_kmh = (km * 1.25 + 3) / np.maximum((r - d) / 3600, 0.1)

    t_first = d + rng.integers(*EDGE_S, n)
    t_last = r - rng.integers(*EDGE_S, n)
    interval = rng.integers(*INTERVAL_S, n)
    m = np.maximum(1, -(-(t_last - 60 - t_first) // interval))  # points before the last one
    count = m + 1
    trip = np.repeat(np.arange(n), count)
    k = np.arange(count.sum()) - np.repeat(np.cumsum(count) - count, count)
    t = np.where(k == np.repeat(m, count), np.repeat(t_last, count),
                 np.repeat(t_first, count) + k * np.repeat(interval, count))  # fmt: skip
    tau = (t - d[trip]) / (r - d)[trip]
    f = 3 * tau**2 - 2 * tau**3
    lateral = bend[trip] * np.sin(np.pi * f)
    e = f * east[trip] - lateral * north[trip] / span[trip]
    nn = f * north[trip] + lateral * east[trip] / span[trip]
    lon, lat = _offset(a_lon[trip], a_lat[trip], e, nn)
    speed = np.clip(avg_kmh[trip] * 1.5 * 4 * tau * (1 - tau) + rng.normal(0, 3, len(t)), 0, 110)
    c = case[trip]
    keep = ~offline[vehicle[trip]] & (c != "trip_off")
    keep &= ~((c == "late_start") & (f < 0.6)) & ~((c == "early_stop") & (f > 0.4))
    hover = c == "hover"
    if hover.any():  # a few points around the midpoint
        mid_lon, mid_lat = (a_lon + b_lon) / 2, (a_lat + b_lat) / 2
        he, hn = _disk(rng, int(hover.sum()), np.full(int(hover.sum()), HOVER_RADIUS_KM))
        lon[hover], lat[hover] = _offset(mid_lon[trip[hover]], mid_lat[trip[hover]], he, hn)
        speed[hover] = rng.uniform(0, 5, int(hover.sum()))
        keep &= ~hover | (k < HOVER_POINTS)

    # parked points before despatch and after receipt
    parts = [(trip[keep], t[keep], lon[keep], lat[keep], speed[keep])]
    normal = ~offline[vehicle] & np.isin(case, ["", "early_stop"])
    pre_t = d - rng.integers(*PARKED_S, n)
    pre = normal & (rng.random(n) < PARKED_SHARE) & (pre_t > prev_r + 60)
    normal = ~offline[vehicle] & np.isin(case, ["", "late_start"])
    post_t = r + rng.integers(*PARKED_S, n)
    post = normal & (rng.random(n) < PARKED_SHARE) & (post_t < next_d - 60)
    for mask, times, plon, plat in ((pre, pre_t, a_lon, a_lat), (post, post_t, b_lon, b_lat)):
        s = np.flatnonzero(mask)
        je, jn = _disk(rng, len(s), np.full(len(s), 0.05))
        qlon, qlat = _offset(plon[s], plat[s], je, jn)
        parts.append((s, times[s], qlon, qlat, np.zeros(len(s))))
    trip_all = np.concatenate([p[0] for p in parts])
    points = Points(
        vehicle[trip_all],
        np.concatenate([p[1] for p in parts]).astype(np.int64),
        np.round(np.concatenate([p[2] for p in parts]), 6),
        np.round(np.concatenate([p[3] for p in parts]), 6),
        np.round(np.concatenate([p[4] for p in parts]), 1),
    )
    order = np.lexsort((points.t, points.vehicle))
    sorted_points = Points(*(getattr(points, f)[order] for f in ("vehicle", "t", "lon", "lat",
                                                                  "speed")))  # fmt: skip
    distinct = np.ones(len(order), bool)
    distinct[1:] = (sorted_points.vehicle[1:] != sorted_points.vehicle[:-1]) | (
        sorted_points.t[1:] != sorted_points.t[:-1]
    )
    return Points(*(getattr(sorted_points, f)[distinct] for f in ("vehicle", "t", "lon", "lat",
                                                                   "speed")))  # fmt: skip


@dataclass
class Track:
    """What the points of a waybill's vehicle in [despatch, receipt] give (per waybill)."""

    points: np.ndarray
    first_lon: np.ndarray
    first_lat: np.ndarray
    last_lon: np.ndarray
    last_lat: np.ndarray
    length_km: np.ndarray


def tracks(points: Points, trips: Waybills) -> Track:
    """Per waybill: the number of points in its window, the first and last, the summed
    point-to-point haversine length (in time order)."""
    big = np.int64(1) << np.int64(40)
    key = points.vehicle * big + points.t
    vehicle = np.array(trips.vehicle, dtype=np.int64)
    lo = np.searchsorted(key, vehicle * big + np.array(trips.despatch, dtype=np.int64), "left")
    hi = np.searchsorted(key, vehicle * big + np.array(trips.arrival, dtype=np.int64), "right")
    seg = np.zeros(len(points))
    if len(points) > 1:
        seg[1:] = haversine(points.lon[:-1], points.lat[:-1], points.lon[1:], points.lat[1:])
        seg[1:][points.vehicle[1:] != points.vehicle[:-1]] = 0.0
    cum = np.concatenate([[0.0], np.cumsum(seg)])
    count = hi - lo
    first = np.minimum(lo, len(points) - 1)
    last = np.maximum(hi - 1, 0)
    # length: segments lo+1 … hi-1 (the one into the first point is not the trip's)
    length = np.where(count > 1, cum[np.maximum(hi, 1)] - cum[np.minimum(lo + 1, len(points))], 0.0)
    empty = count == 0
    nan = np.full(len(count), np.nan)
    return Track(
        count,
        np.where(empty, nan, points.lon[first] if len(points) else nan),
        np.where(empty, nan, points.lat[first] if len(points) else nan),
        np.where(empty, nan, points.lon[last] if len(points) else nan),
        np.where(empty, nan, points.lat[last] if len(points) else nan),
        length,
    )

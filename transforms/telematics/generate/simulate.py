"""One vehicle-day of positions: trips on roads, stops, heartbeats, night driving, drift.

Each vehicle-day is a plan of legs (vectorised with numpy: speed profile with acceleration,
position by interpolation along the road polyline) and stops:

* driving and short stops with the engine running (ACC on): one report every 30 s;
* parked with ACC off: a heartbeat every 5–10 min, or nothing (per vehicle).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from transforms.telematics.generate import supervision
from transforms.telematics.generate.geography import (
    COUNTIES,
    MAX_ALTITUDE_M,
    MIN_ALTITUDE_M,
    TOWNS,
    Path,
    RoadNetwork,
    bearing_deg,
    make_path,
    offset_km,
    sub_path,
)
from transforms.telematics.generate.master import (
    BUS_CHARTER,
    BUS_SCHEDULED,
    CITY_BUS,
    DANGEROUS_GOODS,
    HEAVY_TRUCK,
    TAXI,
    TRACTOR,
    Vehicle,
)

STEP_S = 30  # report interval while ACC is on
DAY_S = 86_400
HOUR_S = 3_600
MINUTE_S = 60
ACCEL_INTERCITY_KMH_PER_STEP = 12.0  # ≈ 0.11 m/s²
ACCEL_LOCAL_KMH_PER_STEP = 18.0
SPEED_NOISE = 0.06  # relative sd of the smoothed cruise-speed noise
NOISE_WINDOW = 10  # steps of the moving-average noise filter
CONGESTION_SHARE = 0.3  # legs with one slow stretch
MIN_MOVING_KMH = 0.5
OFF_DAY_SHARE = 0.04  # operating vehicles that stay parked all day
DRIFT_KM = (10.0, 30.0)
DRIFT_MIN_SPEED_KMH = 20.0
DRIFTER_POINTS = (2, 4)  # a drifter jumps away and back 2–3 times a day (≥ 4 drift jumps)
OCCASIONAL_DRIFT_SHARE = 0.02  # other vehicle-days with one drift point
TAXI_RADIUS_KM = 7.0
SHORT_STOP_MAX_S = 8 * MINUTE_S  # waits up to this keep the engine running (ACC on)
EXTERNAL_TOWN_FIRST = len(COUNTIES)
FUZHOU = EXTERNAL_TOWN_FIRST
NIGHT_START_H, NIGHT_END_H = 22, 6  # rules.yaml night
BUS_NIGHT_FACTOR = 0.8  # buses slow to 80 % of the limit at night (the speeders do not obey)
BUS_NIGHT_MARGIN_KMH = 2.0
BUS_TYPES = (BUS_SCHEDULED, BUS_CHARTER)
CHARTER_IDLE_SHARE = 0.35  # charter buses without a trip that day
OFFENDER_ODD_DAY_SHARE = 0.3  # off-route / out-of-region offenders stray on even days, else this
SIGNAL_LOSS_PER_DAY = 0.1  # signal losses (5–10 min without reports at speed) per vehicle-day
SIGNAL_LOSS_STEPS = (10, 21)
SIGNAL_LOSS_MIN_KMH = 40.0
REST_AFTER_H = 3.5  # law-abiding drivers split longer legs with a rest stop …
REST_MIN = (20, 40)  # … of this many minutes (≥ 20 min ends continuous driving)
CITY_BUS_SHIFT_H = (2.0, 3.0)  # city-bus crews take a break after this long …
CITY_BUS_BREAK_MIN = (25, 50)  # … of this many minutes
TAXI_WAIT_MIN = (1, 12)  # between fares …
TAXI_BREAK_SHARE = 0.35  # … or a longer break (≥ 20 min ends continuous driving)
TAXI_BREAK_MIN = (20, 40)


@dataclass
class VehicleDay:
    """Arrays of one vehicle-day, ordered by time (all of the same length)."""

    t: np.ndarray  # int64 seconds since local midnight
    lon: np.ndarray
    lat: np.ndarray
    speed: np.ndarray  # km/h, ≥ 0
    altitude: np.ndarray  # int64 m
    direction: np.ndarray  # int64 0..359
    acc: np.ndarray  # bool
    mileage_km: np.ndarray


class _DayBuilder:
    """Accumulates the parts of a vehicle-day while a plan drives it around."""

    def __init__(
        self, v: Vehicle, rng: np.random.Generator, roads: RoadNetwork, day: int = 0
    ) -> None:
        self.v, self.rng, self.roads, self.day = v, rng, roads, day
        self.parts: list[tuple[np.ndarray, ...]] = []
        phase = int(rng.integers(0, v.heartbeat_s)) if v.heartbeat_s else 0
        self.t = STEP_S - phase  # earliest time of the next report
        self.lon, self.lat, self.town = v.lon, v.lat, v.town
        self.dir = int(rng.integers(0, 360))
        self.alt = float(TOWNS[v.town].altitude_m)
        self.odo = v.odometer_km
        local = v.params.local
        self.accel = ACCEL_LOCAL_KMH_PER_STEP if local else ACCEL_INTERCITY_KMH_PER_STEP

    # ---- stationary -----------------------------------------------------------------------------
    def _still(self, t: np.ndarray, acc: bool) -> None:
        n = len(t)
        if n == 0:
            return
        self.parts.append(
            (
                t,
                np.full(n, self.lon),
                np.full(n, self.lat),
                np.zeros(n),
                np.full(n, round(self.alt), dtype=np.int64),
                np.full(n, self.dir, dtype=np.int64),
                np.full(n, acc),
                np.full(n, self.odo),
            )
        )

    def park_until(self, t_end: int) -> None:
        """ACC off until ``t_end``: heartbeats (if the terminal sends them), else silence."""
        if t_end <= self.t:
            return
        if self.v.heartbeat_s:
            last = self.t - STEP_S
            self._still(np.arange(last + self.v.heartbeat_s, t_end, self.v.heartbeat_s), False)
        self.t = t_end

    def park(self, seconds: float) -> None:
        self.park_until(self.t + int(seconds))

    def idle(self, seconds: float) -> None:
        """Stopped with the engine running: reports every 30 s at speed 0."""
        m = int(seconds) // STEP_S
        self._still(self.t + STEP_S * np.arange(m, dtype=np.int64), True)
        self.t += STEP_S * m

    def wait(self, seconds: float) -> None:
        """A stop: short ones keep ACC on, long ones park."""
        if seconds <= SHORT_STOP_MAX_S:
            self.idle(seconds)
        else:
            self.park(seconds)

    # ---- driving --------------------------------------------------------------------------------
    def _profile(self, base: np.ndarray, n: int, cap: np.ndarray) -> np.ndarray:
        k = np.arange(n)
        ramp = self.accel * np.minimum(k, n - 1 - k)
        v = np.minimum(np.minimum(base[:n], ramp), cap[:n])
        return np.where(v > MIN_MOVING_KMH, v, 0.0)

    def _night_adjust(self, base: np.ndarray) -> np.ndarray:
        """Buses drive slower at night (22:00–06:00); the cap of the law-abiding ones is 80 %."""
        v = self.v
        cap = np.full(len(base), v.speed_cap_kmh)
        if v.vehicle_type not in BUS_TYPES:
            return cap
        hour = (self.t + STEP_S * np.arange(len(base))) // HOUR_S % 24
        night = (hour >= NIGHT_START_H) | (hour < NIGHT_END_H)
        base *= np.where(night, BUS_NIGHT_FACTOR, 1.0)
        if not v.speeder:
            night_cap = BUS_NIGHT_FACTOR * v.speed_limit_kmh - BUS_NIGHT_MARGIN_KMH
            cap = np.where(night, np.minimum(cap, night_cap), cap)
        return cap

    def drive(self, path: Path, stop_every: int = 0) -> None:
        """Drive along ``path`` from its first to its last vertex, one report every 30 s."""
        rng, v = self.rng, self.v
        length = path.length_km
        if length < 0.05:
            return
        cruise = v.cruise_kmh * rng.uniform(0.95, 1.05)
        ramp_steps = int(np.ceil(cruise / self.accel))
        n = max(3, int(length * HOUR_S / STEP_S / cruise) + ramp_steps + 1)
        n_max = 2 * n + 2 * ramp_steps + 10
        noise = np.convolve(
            rng.standard_normal(n_max + NOISE_WINDOW - 1), np.ones(NOISE_WINDOW), "valid"
        ) / np.sqrt(NOISE_WINDOW)
        base = cruise * (1 + SPEED_NOISE * noise)
        if rng.random() < CONGESTION_SHARE and n > 30:
            s = int(rng.integers(0, n - 20))
            base[s : s + int(rng.integers(4, 20))] *= rng.uniform(0.3, 0.6)
        if stop_every:
            base[stop_every::stop_every] = 0.0  # bus stops
        cap = self._night_adjust(base)
        step_km = STEP_S / HOUR_S / 2
        speed = self._profile(base, n, cap)
        dist = float(np.sum(speed[1:] + speed[:-1]) * step_km)
        n = int(np.clip(round((n - 1) * length / max(dist, 1e-6)) + 1, 3, n_max))
        speed = self._profile(base, n, cap)
        d = np.concatenate([[0.0], np.cumsum((speed[1:] + speed[:-1]) * step_km)])
        d *= length / d[-1]
        lon = np.interp(d, path.cum_km, path.lon)
        lat = np.interp(d, path.cum_km, path.lat)
        alt = np.interp(d, path.cum_km, path.alt) + rng.normal(0.0, 1.5, n)
        alt = np.minimum(np.maximum(np.round(alt), MIN_ALTITUDE_M), MAX_ALTITUDE_M).astype(np.int64)
        heading = np.empty(n)
        heading[:-1] = bearing_deg(lon[:-1], lat[:-1], lon[1:], lat[1:])
        heading[-1] = heading[-2]
        direction = np.floor(heading).astype(np.int64) % 360
        t = self.t + STEP_S * np.arange(n, dtype=np.int64)
        self.parts.append(
            (t, lon, lat, speed, alt, direction, np.ones(n, dtype=bool), self.odo + d)
        )
        self.t = int(t[-1]) + STEP_S
        self.lon, self.lat = float(lon[-1]), float(lat[-1])
        self.dir, self.alt, self.odo = int(direction[-1]), float(alt[-1]), self.odo + length

    def drive_to_town(self, dest: int, detour: bool = False) -> None:
        """Drive the road to town ``dest``; with ``detour`` one stretch strays far from it."""
        if dest == self.town:
            return
        road = self.roads.road(self.town, dest)
        if detour:
            road = supervision.detour(road, self.rng)
        hours = road.length_km / self.v.cruise_kmh
        legs = 1 if self.v.long_driver or self.v.night else int(np.ceil(hours / REST_AFTER_H))
        cuts = np.linspace(0.0, road.length_km, legs + 1)
        for i in range(legs):  # rest stops (service areas) on long legs
            if i:
                self.park(_minutes(self.rng, *REST_MIN))
            self.drive(road if legs == 1 else sub_path(road, cuts[i], cuts[i + 1]))
        self.town = dest

    def drive_local(self, radius_km: float) -> None:
        """A short trip inside the home county (taxis)."""
        home = TOWNS[self.v.county_index]
        r = radius_km * np.sqrt(self.rng.random())
        a = self.rng.uniform(0, 2 * np.pi)
        east = np.array([0.0, 0.0, r * np.cos(a)])
        north = np.array([0.0, r * np.sin(a), r * np.sin(a)])
        if self.rng.random() < 0.5:  # north-then-east or east-then-north, like a street grid
            east[1], north[1] = east[2], 0.0
        dest_lon, dest_lat = offset_km(home.lon, home.lat, east, north)
        # start from where the taxi is; small jitter on the corner
        lon = np.array([self.lon, dest_lon[1], dest_lon[2]])
        lat = np.array([self.lat, dest_lat[1], dest_lat[2]])
        lon[1] += self.rng.normal(0.0, 0.002)
        lat[1] += self.rng.normal(0.0, 0.002)
        alt = np.full(3, max(home.altitude_m, 0.0))
        self.drive(make_path(lon, lat, alt))

    def other_town(self, towns: list[int] | range) -> int:
        choices = [t for t in towns if t != self.town]
        return choices[int(self.rng.integers(len(choices)))]

    # ---- result ---------------------------------------------------------------------------------
    def finish(self) -> VehicleDay:
        self.park_until(DAY_S)
        v = self.v
        v.lon, v.lat, v.town, v.odometer_km = self.lon, self.lat, self.town, self.odo
        if not self.parts:
            e = np.zeros(0)
            ei = np.zeros(0, dtype=np.int64)
            return VehicleDay(ei, e, e, e, ei, ei, np.zeros(0, dtype=bool), e)
        cols = [np.concatenate(c) for c in zip(*self.parts, strict=True)]
        keep = (cols[0] >= 0) & (cols[0] < DAY_S)
        return VehicleDay(*(c[keep] for c in cols))


def _hours(rng: np.random.Generator, lo: float, hi: float) -> int:
    return int(rng.uniform(lo, hi) * HOUR_S)


def _minutes(rng: np.random.Generator, lo: float, hi: float) -> float:
    return rng.uniform(lo, hi) * MINUTE_S


def _strays_today(b: _DayBuilder) -> bool:
    """Off-route / out-of-region offenders stray on even days of the run, sometimes on odd ones."""
    return b.day % 2 == 0 or b.rng.random() < OFFENDER_ODD_DAY_SHARE


def _plan_bus_scheduled(b: _DayBuilder) -> None:
    """Back and forth on the approved route (home ↔ route_dest); offenders leave it once."""
    v, rng = b.v, b.rng
    b.park_until(_hours(rng, 2.0, 4.0) if v.early_bus else _hours(rng, 6.0, 9.0))
    detour_leg = int(rng.integers(0, 2)) if v.off_route and _strays_today(b) else -1
    legs = 0
    while b.t < 19 * HOUR_S and legs < 6:
        dest = v.route_dest if b.town == v.county_index else v.county_index
        b.drive_to_town(dest, detour=legs == detour_leg)
        legs += 1
        b.park(_minutes(rng, 40, 120))


def _plan_bus_charter(b: _DayBuilder) -> None:
    """A day trip to a town of the approved region; offenders go beyond it."""
    v, rng = b.v, b.rng
    stray = v.out_of_region and _strays_today(b)
    if not stray and rng.random() < CHARTER_IDLE_SHARE:
        return
    b.park_until(_hours(rng, 7.0, 9.5))
    towns = v.excursion_towns if stray else (v.region_towns or range(FUZHOU + 1))
    b.drive_to_town(b.other_town(towns))
    b.park(_hours(rng, 2.0, 6.0))
    b.drive_to_town(v.county_index)


def _plan_dangerous_goods(b: _DayBuilder) -> None:
    v, rng = b.v, b.rng
    b.park_until(_hours(rng, 6.5, 10.0))
    for trip in range(2):
        if b.t > 15 * HOUR_S:
            break
        dest = v.depots[trip % 2]
        b.drive_to_town(dest if dest != b.town else v.depots[(trip + 1) % 2])
        b.park(_minutes(rng, 30, 90))  # loading / unloading
        b.drive_to_town(v.county_index)
        b.park(_minutes(rng, 30, 60))  # back at the home depot


def _truck_dest(b: _DayBuilder, far: bool) -> int:
    if b.town >= EXTERNAL_TOWN_FIRST:  # outside Ningde: head back into the city
        return b.other_town(range(EXTERNAL_TOWN_FIRST))
    if far:
        return b.other_town(range(EXTERNAL_TOWN_FIRST, len(TOWNS)))
    return b.other_town(range(len(TOWNS)))


def _chain(b: _DayBuilder, until: int, far: bool) -> None:
    """Legs separated by short stops with the engine on (< 20 min: one continuous session)."""
    while b.t < until:
        b.drive_to_town(_truck_dest(b, far))
        b.idle(_minutes(b.rng, 5, 15))


def _plan_truck(b: _DayBuilder) -> None:
    v, rng = b.v, b.rng
    if v.night:
        b.park_until(_hours(rng, 0.2, 1.0))
        _chain(b, _hours(rng, 3.0, 4.5), far=False)
        b.park_until(_hours(rng, 20.5, 22.5))
        _chain(b, DAY_S, far=False)
    elif v.long_driver:
        b.park_until(_hours(rng, 5.0, 8.0))
        _chain(b, _hours(rng, 11.0, 13.0), far=True)
        b.park(_minutes(rng, 40, 90))
        _chain(b, _hours(rng, 16.0, 19.0), far=False)
    else:
        b.park_until(_hours(rng, 6.0, 10.0))
        b.drive_to_town(_truck_dest(b, far=False))
        b.park(_hours(rng, 1.0, 3.0))
        b.drive_to_town(_truck_dest(b, far=False))


def _plan_city_bus(b: _DayBuilder) -> None:
    v, rng = b.v, b.rng
    assert v.loop is not None
    b.park_until(_hours(rng, 5.5, 6.5))
    end = _hours(rng, 20.0, 22.0)
    shift_end = b.t + _hours(rng, *CITY_BUS_SHIFT_H)
    while b.t < end:
        b.drive(v.loop, stop_every=int(rng.integers(4, 9)))
        if b.t >= shift_end:  # crew change / meal break
            b.park(_minutes(rng, *CITY_BUS_BREAK_MIN))
            shift_end = b.t + _hours(rng, *CITY_BUS_SHIFT_H)
        else:
            b.wait(_minutes(rng, 4, 15))


def _plan_taxi(b: _DayBuilder) -> None:
    v, rng = b.v, b.rng
    if v.night:
        shifts = [(0, _hours(rng, 4.0, 6.0)), (_hours(rng, 17.0, 19.0), DAY_S)]
    else:
        shifts = [
            (_hours(rng, 6.0, 8.0), _hours(rng, 11.5, 12.5)),
            (_hours(rng, 13.0, 13.8), _hours(rng, 17.0, 20.0)),
        ]
    for start, end in shifts:
        b.park_until(start)
        while b.t < end:
            b.drive_local(TAXI_RADIUS_KM)
            long_break = rng.random() < TAXI_BREAK_SHARE
            b.wait(_minutes(rng, *(TAXI_BREAK_MIN if long_break else TAXI_WAIT_MIN)))


PLANS = {
    BUS_SCHEDULED: _plan_bus_scheduled,
    BUS_CHARTER: _plan_bus_charter,
    DANGEROUS_GOODS: _plan_dangerous_goods,
    HEAVY_TRUCK: _plan_truck,
    TRACTOR: _plan_truck,
    CITY_BUS: _plan_city_bus,
    TAXI: _plan_taxi,
}


def _drift(day: VehicleDay, rng: np.random.Generator, points: int) -> None:
    """Move a few driving points 10–50 km away (the next point is back on the road)."""
    n = len(day.t)
    if n < 3:
        return
    inner = np.flatnonzero(day.acc[1:-1] & (day.speed[1:-1] > DRIFT_MIN_SPEED_KMH)) + 1
    if len(inner) == 0:
        return
    idx = rng.choice(inner, min(points, len(inner)), replace=False)
    km = rng.uniform(*DRIFT_KM, len(idx))
    ang = rng.uniform(0, 2 * np.pi, len(idx))
    lon, lat = offset_km(day.lon[idx], day.lat[idx], km * np.sin(ang), km * np.cos(ang))
    day.lon[idx], day.lat[idx] = lon, lat


def _signal_loss(day: VehicleDay, rng: np.random.Generator) -> VehicleDay:
    """Drop 5–10 min of reports while driving fast (a tunnel, a dead zone): a > 5 km gap."""
    losses = int(rng.poisson(SIGNAL_LOSS_PER_DAY))
    if losses == 0 or len(day.t) == 0:
        return day
    keep = np.ones(len(day.t), dtype=bool)
    fast = day.acc & (day.speed > SIGNAL_LOSS_MIN_KMH)
    for _ in range(losses):
        m = int(rng.integers(*SIGNAL_LOSS_STEPS))
        if len(fast) <= m + 1:
            break
        # runs of m fast points (with a fast neighbour on each side)
        window = np.convolve(fast.astype(np.int64), np.ones(m + 2, dtype=np.int64), "valid")
        starts = np.flatnonzero(window == m + 2) + 1
        if len(starts) == 0:
            break
        s = int(starts[rng.integers(len(starts))])
        keep[s : s + m] = False
        fast[s - 1 : s + m + 1] = False
    return VehicleDay(*(getattr(day, f)[keep] for f in VehicleDay.__dataclass_fields__))


def simulate_vehicle_day(
    v: Vehicle,
    rng: np.random.Generator,
    roads: RoadNetwork,
    always_on: bool = False,
    day_index: int = 0,
    signal_loss: bool = True,
) -> VehicleDay:
    """The positions of vehicle ``v`` for one day (updates its position and odometer).

    ``signal_loss`` drops a few 5–10 min stretches of reports while driving (broken track)."""
    b = _DayBuilder(v, rng, roads, day_index)
    strays = (v.off_route or v.out_of_region) and day_index % 2 == 0
    if always_on or strays or rng.random() >= OFF_DAY_SHARE:
        PLANS[v.vehicle_type](b)
    day = b.finish()
    if signal_loss:
        day = _signal_loss(day, rng)
    if v.silent:  # the terminal never got online: the vehicle drives, nothing arrives
        return VehicleDay(*(getattr(day, f)[:0] for f in VehicleDay.__dataclass_fields__))
    if v.drifter:
        _drift(day, rng, int(rng.integers(*DRIFTER_POINTS)))
    elif rng.random() < OCCASIONAL_DRIFT_SHARE:
        _drift(day, rng, 1)
    return day

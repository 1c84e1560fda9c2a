"""The trips of a run: which vehicle carries what from which county to which, and when.

Each day the operators share ``waybills_per_day`` trips (multinomial by their shares); each trip
goes to one of the operator's vehicles, and a vehicle's trips of a day follow each other (gaps of
25–150 min; 2 % of chained trips are despatched 2–8 min before the previous receipt, an overlap
the rules allow). Heavy vehicles and tractors run between counties of 福建 and 温州 (the farther,
the rarer; 70 % start where the previous trip ended), light vehicles deliver within their city.
A trip ends by 08:00 the next day, and by 30 min before the end of the run on its last day (so
that every receipt + 30 days has passed at the summary's ``as_of``); a trip that would end later
is not made.

Double bookings (一车多单, 运单重复) are added later (:func:`add_double_bookings`): a second
waybill of another (or the same) operator for a vehicle already on a trip, despatched 10 min to
40 % of the trip after it, for the same counties. They have no positions of their own.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import numpy as np

from transforms.freight.generate.world import HEAVY, LIGHT, TRACTOR, World
from transforms.reference.divisions import DIVISIONS, RETIRED, by_code, haversine_km

SEED_STREAM_SCHEDULE = 62
DAY_S = 86_400
ROAD_FACTOR = 1.25  # road km per straight km, plus ROAD_EXTRA_KM
ROAD_EXTRA_KM = 3.0
SPEED_KMH = {LIGHT: 35.0, HEAVY: 55.0, TRACTOR: 50.0}
HANDLING_MIN = (10, 40)
MIN_TRIP_S = 25 * 60
GAP_MIN = (25, 150)
SMALL_OVERLAP_SHARE = 0.02  # of chained trips: despatched before the previous receipt
SMALL_OVERLAP_MIN = (2, 8)  # below the rules' 10 minutes
CHAIN_SHARE = 0.7
FIRST_START_H = {LIGHT: (6.5, 10.0), HEAVY: (4.0, 12.0), TRACTOR: (3.0, 12.0)}
NEXT_DAY_LIMIT_H = 32  # a trip ends by 08:00 the next day
LAST_DAY_MARGIN_S = 30 * 60
DISTANCE_SCALE_KM = 250.0  # heavy receipt counties weighted by exp(−distance / this)
LIGHT_DISTANCE_SCALE_KM = 30.0
VEHICLE_WEIGHT = {LIGHT: 1.6, HEAVY: 1.0, TRACTOR: 0.8}
UNKNOWN_COUNTY_SHARE = 0.005  # receipt filed with a retired GB/T 2260 code
DOUBLE_BOOKING_SHARE = 0.003
DOUBLE_BOOKING_CROSS_SHARE = 0.6  # of double bookings: on another operator
DOUBLE_BOOKING_MIN_TRIP_S = 60 * 60
# relative weight of the counties of a city as places of loading / receipt
CITY_WEIGHT = {"350100": 1.0, "350200": 0.9, "350300": 0.4, "350400": 0.3, "350500": 1.0,
               "350600": 0.5, "350700": 0.3, "350800": 0.35, "350900": 0.6, "330300": 0.4}  # fmt: skip
SUCCESSORS = sorted(set(RETIRED.values()))


@dataclass
class Waybills:
    """One entry per waybill (a vehicle on a trip), in the order they were made; times are
    seconds from the start of the run (GMT+8)."""

    operator: list[int] = field(default_factory=list)
    vehicle: list[int] = field(default_factory=list)
    loading: list[str] = field(default_factory=list)  # physical counties
    receipt: list[str] = field(default_factory=list)
    filed_loading: list[str] = field(default_factory=list)  # what the waybill files
    filed_receipt: list[str] = field(default_factory=list)
    despatch: list[int] = field(default_factory=list)
    arrival: list[int] = field(default_factory=list)  # goodsReceiptDateTime
    physical: list[bool] = field(default_factory=list)  # False: a double booking
    twin: list[int] = field(default_factory=list)  # the trip a double booking duplicates, else -1

    def __len__(self) -> int:
        return len(self.operator)

    def add(self, op, vehicle, loading, receipt, filed_loading, filed_receipt, despatch,
            arrival, physical=True, twin=-1) -> int:  # fmt: skip
        for name, value in (("operator", op), ("vehicle", vehicle), ("loading", loading),
                            ("receipt", receipt), ("filed_loading", filed_loading),
                            ("filed_receipt", filed_receipt), ("despatch", despatch),
                            ("arrival", arrival), ("physical", physical), ("twin", twin)):  # fmt: skip
            getattr(self, name).append(value)
        return len(self.operator) - 1


class Geography:
    """The counties trips use, their weights and distances, and where a trip from each goes
    (cumulative weights, sampled with one uniform draw)."""

    def __init__(self) -> None:
        self.codes = [d.code for d in DIVISIONS if d.level == "county"]
        self.index = {c: i for i, c in enumerate(self.codes)}
        lon = np.radians([by_code()[c].lon for c in self.codes])
        lat = np.radians([by_code()[c].lat for c in self.codes])
        n = len(self.codes)
        self.km = np.array(
            [[haversine_km(*np.degrees([lon[i], lat[i], lon[j], lat[j]])) for j in range(n)]
             for i in range(n)]
        )  # fmt: skip
        city_counts: dict[str, int] = {}
        for c in self.codes:
            city_counts[c[:4]] = city_counts.get(c[:4], 0) + 1
        w = np.array([CITY_WEIGHT[c[:4] + "00"] / city_counts[c[:4]]
                      * (1.5 if by_code()[c].name.endswith("区") else 1.0) for c in self.codes])  # fmt: skip
        self.weight = w / w.sum()
        self.start_cdf = np.cumsum(self.weight)
        fujian = np.array([c.startswith("35") for c in self.codes])
        successor = np.array([c in SUCCESSORS for c in self.codes])
        same_city = np.array([[a[:4] == b[:4] for b in self.codes] for a in self.codes])
        self.heavy_cdf, self.retired_cdf, self.light_cdf = [], [], []
        for a in range(n):
            heavy = self.weight * np.exp(-self.km[a] / DISTANCE_SCALE_KM)
            heavy[a] = 0.0
            if not fujian[a]:  # from 温州, back to 福建
                heavy[~fujian] = 0.0
            retired = np.where(successor, heavy + 1e-12, 0.0)
            retired[a] = 0.0
            light = np.where(same_city[a], self.weight, 0.0) * np.exp(
                -self.km[a] / LIGHT_DISTANCE_SCALE_KM
            )
            light[a] = 0.0
            self.heavy_cdf.append(np.cumsum(heavy))
            self.retired_cdf.append(np.cumsum(retired))
            self.light_cdf.append(np.cumsum(light))
        self.retired_of = {new: sorted(o for o, m in RETIRED.items() if m == new)
                           for new in SUCCESSORS}  # fmt: skip

    @staticmethod
    def _draw(rng: np.random.Generator, cdf: np.ndarray) -> int:
        return min(int(np.searchsorted(cdf, rng.random() * cdf[-1], side="right")), len(cdf) - 1)

    def start(self, rng: np.random.Generator) -> int:
        return self._draw(rng, self.start_cdf)

    def heavy_receipt(self, rng: np.random.Generator, loading: int, retired: bool) -> int:
        return self._draw(rng, (self.retired_cdf if retired else self.heavy_cdf)[loading])

    def light_receipt(self, rng: np.random.Generator, loading: int) -> int:
        cdf = self.light_cdf[loading]
        if rng.random() < 0.5 or cdf[-1] == 0:
            return loading
        return self._draw(rng, cdf)

    def duration_s(self, rng: np.random.Generator, a: int, b: int, kind: str) -> int:
        road = ROAD_FACTOR * self.km[a, b] + ROAD_EXTRA_KM
        handling = rng.uniform(*HANDLING_MIN) * 60
        return max(MIN_TRIP_S, int(road / SPEED_KMH[kind] * 3600 + handling))


def build_trips(world: World, geo: Geography) -> Waybills:
    """The physical trips of the run, day by day (module docstring)."""
    rng = np.random.default_rng([world.seed, SEED_STREAM_SCHEDULE])
    fleet = world.fleet
    out = Waybills()
    by_op: dict[int, list[int]] = {}
    for v, op in enumerate(fleet.operator):
        by_op.setdefault(op, []).append(v)
    shares = np.array([op.share for op in world.operators])
    free_at = np.full(fleet.vehicles, -DAY_S, dtype=np.int64)  # when each vehicle is free
    last_receipt = [-1] * fleet.vehicles  # county index where each vehicle's last trip ended
    last_filed = [""] * fleet.vehicles
    unknown_forced = False
    run_end = world.days * DAY_S
    for day in range(world.days):
        counts = rng.multinomial(world.waybills_per_day, shares / shares.sum())
        day0 = day * DAY_S
        limit = (
            run_end - LAST_DAY_MARGIN_S if day == world.days - 1 else day0 + NEXT_DAY_LIMIT_H * 3600
        )
        for op_index, count in enumerate(counts):
            pool = by_op[op_index]
            w = np.array([VEHICLE_WEIGHT[fleet.kind[v]] for v in pool])
            chosen = rng.choice(len(pool), size=int(count), p=w / w.sum())
            per_vehicle = np.bincount(chosen, minlength=len(pool))
            for slot in np.flatnonzero(per_vehicle):
                v = pool[int(slot)]
                kind = fleet.kind[v]
                lo, hi = FIRST_START_H[kind]
                t = max(day0 + int(rng.uniform(lo, hi) * 3600),
                        int(free_at[v]) + int(rng.uniform(*GAP_MIN) * 60))  # fmt: skip
                for k in range(int(per_vehicle[slot])):
                    chained = last_receipt[v] >= 0 and (k > 0 or rng.random() < CHAIN_SHARE)
                    if k > 0 and chained and rng.random() < SMALL_OVERLAP_SHARE:
                        t = int(free_at[v]) - int(rng.uniform(*SMALL_OVERLAP_MIN) * 60)
                    if chained:
                        a = last_receipt[v]
                        filed_a = last_filed[v] or geo.codes[a]
                    else:
                        base = geo.index[fleet.county[v]]
                        a = base if kind == LIGHT or rng.random() < 0.5 else geo.start(rng)
                        filed_a = geo.codes[a]
                    retired = kind != LIGHT and (
                        rng.random() < UNKNOWN_COUNTY_SHARE or not unknown_forced
                    )
                    b = geo.light_receipt(rng, a) if kind == LIGHT else geo.heavy_receipt(
                        rng, a, retired)  # fmt: skip
                    filed_b = geo.codes[b]
                    if retired and filed_b in geo.retired_of:
                        filed_b = geo.retired_of[filed_b][
                            int(rng.integers(len(geo.retired_of[filed_b])))
                        ]
                        unknown_forced = True
                    duration = geo.duration_s(rng, a, b, kind)
                    if t + duration > limit:
                        break
                    out.add(op_index, v, geo.codes[a], geo.codes[b], filed_a, filed_b, t,
                            t + duration)  # fmt: skip
                    free_at[v] = t + duration
                    last_receipt[v] = b
                    # the next trip from here files the same (possibly retired) code half the time
                    last_filed[v] = (
                        filed_b if filed_b != geo.codes[b] and rng.random() < 0.5 else ""
                    )
                    t = t + duration + int(rng.uniform(*GAP_MIN) * 60)
    return out


def add_double_bookings(
    world: World, trips: Waybills, eligible: set[int], forced: int = 2
) -> list[int]:
    """Double bookings (module docstring) of trips whose vehicle is in ``eligible`` (it and its
    drivers have records: the booking operator files them too); the first ``forced`` eligible
    trips get one (the first on another operator, the next on the same). Returns their
    indexes."""
    rng = np.random.default_rng([world.seed, SEED_STREAM_SCHEDULE, 1])
    n_ops = len(world.operators)
    made = []
    physical = len(trips)
    for i in range(physical):
        duration = trips.arrival[i] - trips.despatch[i]
        if trips.vehicle[i] not in eligible or duration < DOUBLE_BOOKING_MIN_TRIP_S:
            continue
        u = rng.random()
        if len(made) >= forced and u >= DOUBLE_BOOKING_SHARE:
            continue
        cross = len(made) == 0 or (
            len(made) >= forced and rng.random() < DOUBLE_BOOKING_CROSS_SHARE
        )
        op = trips.operator[i]
        if cross:
            op = (op + 1 + int(rng.integers(n_ops - 1))) % n_ops
        # inside the trip's window: despatched 10 min to 40 % of the trip after it, received
        # 12 min + up to 10 % of the trip before it (so no neighbouring trip overlaps it)
        despatch = trips.despatch[i] + int(rng.uniform(600, 0.4 * duration))
        arrival = trips.arrival[i] - 720 - int(rng.uniform(0, 0.1 * duration))
        made.append(
            trips.add(
                op,
                trips.vehicle[i],
                trips.loading[i],
                trips.receipt[i],
                trips.filed_loading[i],
                trips.filed_receipt[i],
                despatch,
                arrival,
                physical=False,
                twin=i,
            )  # fmt: skip
        )
    return made


def seconds(world: World, t: int) -> dt.datetime:
    """A run time (seconds from the start) as a GMT+8 wall-clock datetime."""
    return dt.datetime.combine(world.start, dt.time()) + dt.timedelta(seconds=int(t))

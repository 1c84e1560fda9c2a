"""A company's day of business: drivers' shifts (operateLogin / operateLogout), orders with their
lifecycle (created, matched, departed, arrived, paid — or cancelled before or after the match),
ratings and complaints, and the positions of the driver and the vehicle every ``interval``
seconds from the match to one point after the arrival (numpy).

A driver takes one order at a time: an order's points (match … arrival + interval) end before his
next order is created, so (LicenseId, PositionTime) and (VehicleNo, PositionTime) never repeat.
Every order's events are in order (create ≤ match ≤ depart ≤ arrive, a match in the same second
as the creation happens); shifts end by 23:01, so the trips of a day lie in that day.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from transforms.reference.divisions import by_code, counties
from transforms.ridehailing.generate import names
from transforms.ridehailing.generate.names import DAY_S
from transforms.ridehailing.generate.world import (
    ACTIVE_SHARE,
    CASE_ORDERS,
    FAILING_CASES,
    Company,
    World,
)

SEED_STREAM_DAY = 82
GAP_MEAN_S = 1450  # idle time before an order (exponential)
NO_DRIVER_CANCEL = 0.06  # orders cancelled before any driver took them
MATCHED_CANCEL = 0.05  # cancelled after the match (no trip)
UNPAID = 0.01  # trips not paid (no PayTime)
RATED, COMPLAINED, PUNISHED, DRIVER_RATED = 0.25, 0.01, 0.5, 0.1
COMPLETED, CANCELLED_MATCHED, CANCELLED_UNMATCHED = 0, 1, 2
KM_PER_DEG = 111.0
DETOUR = 1.3  # road distance / straight line


@dataclass
class Day:
    """The orders, shifts and rated events of one company on one day (column lists)."""

    company: Company
    day: int  # run day index
    # orders
    order_id: list[str] = field(default_factory=list)
    driver: list[int] = field(default_factory=list)  # -1: no driver (cancelled unmatched)
    city: list[str] = field(default_factory=list)
    county: list[str] = field(default_factory=list)
    kind: list[int] = field(default_factory=list)
    create: list[int] = field(default_factory=list)
    match: list[int] = field(default_factory=list)
    dep: list[int] = field(default_factory=list)
    arr: list[int] = field(default_factory=list)
    pay: list[int] = field(default_factory=list)  # -1: unpaid
    cancel: list[int] = field(default_factory=list)
    cancel_op: list[int] = field(default_factory=list)
    start_xy: list[tuple[float, float]] = field(default_factory=list)  # the driver at the match
    dep_xy: list[tuple[float, float]] = field(default_factory=list)
    dest_xy: list[tuple[float, float]] = field(default_factory=list)
    wait_km: list[float] = field(default_factory=list)
    drive_km: list[float] = field(default_factory=list)
    wait_s: list[int] = field(default_factory=list)
    price: list[float] = field(default_factory=list)
    fact: list[float] = field(default_factory=list)
    mileage0: list[float] = field(default_factory=list)  # the vehicle's odometer at the match
    # shifts
    s_driver: list[int] = field(default_factory=list)
    login: list[int] = field(default_factory=list)
    logout: list[int] = field(default_factory=list)
    login_xy: list[tuple[float, float]] = field(default_factory=list)
    logout_xy: list[tuple[float, float]] = field(default_factory=list)
    # rated events: (interface, order index, time, values)
    rated: list[tuple[str, int, int, dict]] = field(default_factory=list)
    worked: set[int] = field(default_factory=set)  # vehicles driven (TotalMile the next day)

    def __len__(self) -> int:
        return len(self.order_id)


def _near(rng: np.random.Generator, lon: float, lat: float, km: float) -> tuple[float, float]:
    """A point ``km`` (straight line) from (lon, lat) in a random direction."""
    angle = rng.uniform(0, 2 * math.pi)
    return (lon + km * math.cos(angle) / (KM_PER_DEG * math.cos(math.radians(lat))),
            lat + km * math.sin(angle) / KM_PER_DEG)  # fmt: skip


def build_day(world: World, company: Company, k: int, interval: int) -> Day:
    """Company ``company``'s business on run day ``k`` (deterministic by seed, company, day)."""
    rng = np.random.default_rng([world.seed, SEED_STREAM_DAY, k, company.index])
    out = Day(company, k)
    base = world.t0 + k * DAY_S
    t_end = world.t_end
    fare = company.fare
    seq = 0
    stamp = names.day8(base // DAY_S)
    divisions = by_code()

    def new_id() -> str:
        nonlocal seq
        seq += 1
        return f"{company.prefix}{stamp}{seq:06d}"

    for d in world.drivers:
        if d.company != company.index or not (d.first_day <= k <= d.last_day):
            continue
        if d.join is None and d.case != "ghost_driver":
            continue
        case = d.case in FAILING_CASES or world.vehicles[d.index].case in FAILING_CASES
        if not case and rng.random() >= ACTIVE_SHARE:
            continue
        centre = divisions[d.city]
        places = counties(d.city)
        if case:
            login = base + 7 * 3600 + int(rng.integers(0, 600))
            logout = base + 19 * 3600 + int(rng.integers(0, 1800))
            slots = [base + h * 3600 + int(rng.integers(-1200, 1200)) for h in CASE_ORDERS]
        else:
            login = base + int(rng.integers(int(5.5 * 3600), 14 * 3600))
            logout = min(
                login + int(rng.integers(int(6.5 * 3600), 10 * 3600)), base + 22 * 3600 + 1800
            )
            slots = None
        here = _near(rng, centre.lon, centre.lat, float(rng.uniform(0.5, 8)))
        out.s_driver.append(d.index)
        out.login.append(login)
        out.login_xy.append(here)
        vehicle = world.vehicles[d.index]
        odometer = vehicle.odometer
        cursor = login + int(rng.integers(60, 900))
        n_slot = 0
        while True:
            if slots is not None:
                if n_slot >= len(slots):
                    break
                create = max(slots[n_slot], cursor + 20)
                n_slot += 1
                u = 1.0  # a case driver's orders are all completed and paid
            else:
                create = cursor + int(rng.exponential(GAP_MEAN_S)) + 20
                if create > logout - 2400:
                    break
                u = rng.random()
            county = places[int(rng.integers(len(places)))]
            dep_xy = _near(rng, county.lon, county.lat, float(rng.uniform(0.2, 6)))
            if u < NO_DRIVER_CANCEL:  # nobody took it: the passenger or the platform cancels
                out.order_id.append(new_id())
                out.driver.append(-1)
                out.city.append(d.city)
                out.county.append(county.code)
                out.kind.append(CANCELLED_UNMATCHED)
                out.create.append(create)
                for col in (out.match, out.dep, out.arr, out.pay):
                    col.append(-1)
                out.cancel.append(create + int(rng.integers(30, 300)))
                out.cancel_op.append(1 if rng.random() < 0.7 else 3)
                _no_trip(out, dep_xy, odometer)
                cursor = create
                continue
            match = create + int(rng.integers(0, 41))
            out.order_id.append(new_id())
            out.driver.append(d.index)
            out.city.append(d.city)
            out.county.append(county.code)
            out.create.append(create)
            out.match.append(match)
            if u < NO_DRIVER_CANCEL + MATCHED_CANCEL:
                out.kind.append(CANCELLED_MATCHED)
                for col in (out.dep, out.arr, out.pay):
                    col.append(-1)
                cancel = match + int(rng.integers(60, 400))
                out.cancel.append(cancel)
                out.cancel_op.append(1 if rng.random() < 0.6 else 2)
                _no_trip(out, dep_xy, odometer)
                cursor = cancel + 30
                continue
            pickup = int(rng.integers(120, 541))
            ride = int(min(3600, max(180, rng.lognormal(math.log(540), 0.5))))
            dep = match + pickup
            arr = dep + ride
            wait_line = pickup / 3600 * rng.uniform(15, 25) / DETOUR
            drive_line = ride / 3600 * rng.uniform(18, 32) / DETOUR
            start_xy = _near(rng, dep_xy[0], dep_xy[1], wait_line)
            dest_xy = _near(rng, dep_xy[0], dep_xy[1], drive_line)
            wait_km = round(max(0.2, wait_line * DETOUR), 1)
            drive_km = round(max(0.5, drive_line * DETOUR), 1)
            price = round(fare["StartFare"] + max(0.0, drive_km - fare["StartMile"])
                          * fare["UnitPricePerMile"] + ride / 60 * fare["UnitPricePerMinute"], 2)  # fmt: skip
            discount = 1.0 if rng.random() < 0.6 else float(rng.uniform(0.8, 0.98))
            paid = slots is not None or rng.random() >= UNPAID
            out.kind.append(COMPLETED)
            out.dep.append(dep)
            out.arr.append(arr)
            out.pay.append(arr + int(rng.integers(5, 181)) if paid else -1)
            out.cancel.append(-1)
            out.cancel_op.append(0)
            out.start_xy.append(start_xy)
            out.dep_xy.append(dep_xy)
            out.dest_xy.append(dest_xy)
            out.wait_km.append(wait_km)
            out.drive_km.append(drive_km)
            out.wait_s.append(int(rng.integers(0, 181)))
            out.price.append(price)
            out.fact.append(round(price * discount, 2))
            out.mileage0.append(round(odometer, 1))
            odometer += wait_km + drive_km
            out.worked.add(d.index)
            here = dest_xy
            cursor = arr + interval + 5
            j = len(out.order_id) - 1
            done = out.pay[j] if paid else arr
            if rng.random() < RATED:
                out.rated.append(("ratedPassenger", j, done + int(rng.integers(60, 3600)), {
                    "ServiceScore": int(rng.choice([5, 5, 5, 4, 4, 3, 2])),
                    "DriverScore": int(rng.choice([5, 5, 5, 4, 4, 3, 1])),
                    "VehicleScore": int(rng.choice([5, 5, 4, 4, 3])),
                }))  # fmt: skip
            if rng.random() < DRIVER_RATED:
                out.rated.append(("ratedDriver", j, arr + int(rng.integers(120, 1800)),
                                  {"Level": int(rng.choice([5, 5, 4, 4, 3]))}))  # fmt: skip
            if rng.random() < COMPLAINED:
                _complaint(out, rng, j, arr)
        logout = max(logout, cursor + 60)
        out.logout.append(logout)
        out.logout_xy.append(_near(rng, here[0], here[1], 0.3))
        vehicle.odometer = round(odometer, 1)
    # every interface on the first day of the first company
    if k == 0 and company.index == world.active[0].index:
        done = [j for j in range(len(out)) if out.kind[j] == COMPLETED]
        kinds = {r[0] for r in out.rated}
        if done and "ratedPassengerComplaint" not in kinds:
            _complaint(out, rng, done[0], out.arr[done[0]], always=True)
        if done and "ratedDriver" not in kinds:
            out.rated.append(("ratedDriver", done[-1], out.arr[done[-1]] + 300, {"Level": 4}))
        if done and "ratedPassenger" not in kinds:
            out.rated.append(("ratedPassenger", done[-1], out.arr[done[-1]] + 400,
                              {"ServiceScore": 5, "DriverScore": 5, "VehicleScore": 5}))  # fmt: skip
    out.rated = [r for r in out.rated if r[2] < t_end]
    return out


def _no_trip(out: Day, dep_xy: tuple[float, float], odometer: float) -> None:
    out.start_xy.append(dep_xy)
    out.dep_xy.append(dep_xy)
    out.dest_xy.append(dep_xy)
    out.wait_km.append(0.0)
    out.drive_km.append(0.0)
    out.wait_s.append(0)
    out.price.append(0.0)
    out.fact.append(0.0)
    out.mileage0.append(round(odometer, 1))


def _complaint(out: Day, rng: np.random.Generator, j: int, arr: int, always: bool = False) -> None:
    at = arr + int(rng.integers(600, 6 * 3600))
    reason = ("绕路", "服务态度差", "车内有异味", "未按导航行驶", "多收费用")[int(rng.integers(5))]
    out.rated.append(("ratedPassengerComplaint", j, at,
                      {"Detail": f"乘客投诉：{reason}", "Result": "已核实，已处理"}))  # fmt: skip
    if always or rng.random() < PUNISHED:
        out.rated.append(("ratedDriverPunish", j, at + int(rng.integers(3600, 20 * 3600)),
                          {"PunishReason": reason, "PunishResult": "警告并扣除服务分"}))  # fmt: skip


@dataclass
class Points:
    """The positions of a company's day (numpy columns, one row per point)."""

    order: np.ndarray  # index into Day
    t: np.ndarray  # wall seconds
    lon: np.ndarray  # 1e-6 degrees
    lat: np.ndarray
    speed: np.ndarray
    direction: np.ndarray
    elevation: np.ndarray
    biz: np.ndarray  # 1 载客, 2 接单, 3 空驶 (the point after the arrival: no OrderId)
    mileage: np.ndarray  # km, one decimal (the vehicle's odometer)

    def __len__(self) -> int:
        return len(self.t)


def build_points(world: World, day: Day, interval: int) -> Points:
    """Points every ``interval`` seconds from each trip's match to its arrival, and one
    ``interval`` after the arrival (BizStatus 3)."""
    rng = np.random.default_rng([world.seed, SEED_STREAM_DAY, day.day, day.company.index, 1])
    kind = np.asarray(day.kind, dtype=np.int64)
    trips = np.flatnonzero(kind == COMPLETED)
    if not len(trips):
        z = np.zeros(0, dtype=np.int64)
        return Points(z, z, z, z, z, z, z, z, np.zeros(0))
    match = np.asarray(day.match, dtype=np.int64)[trips]
    dep = np.asarray(day.dep, dtype=np.int64)[trips]
    arr = np.asarray(day.arr, dtype=np.int64)[trips]
    start = np.asarray(day.start_xy, dtype=float)[trips]
    depp = np.asarray(day.dep_xy, dtype=float)[trips]
    dest = np.asarray(day.dest_xy, dtype=float)[trips]
    wait_km = np.asarray(day.wait_km)[trips]
    drive_km = np.asarray(day.drive_km)[trips]
    mileage0 = np.asarray(day.mileage0)[trips]
    counts = (arr - match) // interval + 2  # the points up to the arrival, and one after it
    total = int(counts.sum())
    g = np.repeat(np.arange(len(trips)), counts)
    first = np.repeat(np.cumsum(counts) - counts, counts)
    j = np.arange(total) - first
    trailing = j == counts[g] - 1
    t = np.where(trailing, arr[g] + interval, match[g] + j * interval)
    pickup = (t < dep[g]) & ~trailing
    f_pick = np.clip((t - match[g]) / np.maximum(dep[g] - match[g], 1), 0, 1)
    f_ride = np.clip((t - dep[g]) / np.maximum(arr[g] - dep[g], 1), 0, 1)
    f_ride = np.where(trailing, 1.0, f_ride)
    lon = np.where(pickup, start[g, 0] + f_pick * (depp[g, 0] - start[g, 0]),
                   depp[g, 0] + f_ride * (dest[g, 0] - depp[g, 0]))  # fmt: skip
    lat = np.where(pickup, start[g, 1] + f_pick * (depp[g, 1] - start[g, 1]),
                   depp[g, 1] + f_ride * (dest[g, 1] - depp[g, 1]))  # fmt: skip
    lon = lon + rng.normal(0, 0.00015, total)
    lat = lat + rng.normal(0, 0.00015, total)
    kmh_pick = wait_km / np.maximum(dep - match, 1) * 3600
    kmh_ride = drive_km / np.maximum(arr - dep, 1) * 3600
    speed = np.where(pickup, kmh_pick[g], kmh_ride[g]) * rng.uniform(0.6, 1.4, total)
    speed = np.where(trailing, 0, np.clip(np.rint(speed), 0, 120)).astype(np.int64)
    dx = np.where(pickup, depp[g, 0] - start[g, 0], dest[g, 0] - depp[g, 0])
    dy = np.where(pickup, depp[g, 1] - start[g, 1], dest[g, 1] - depp[g, 1])
    bearing = np.degrees(np.arctan2(dx * np.cos(np.radians(lat)), dy)) + rng.normal(0, 8, total)
    direction = np.mod(np.rint(bearing), 360).astype(np.int64)
    elevation = rng.integers(5, 120, total)
    biz = np.where(trailing, 3, np.where(pickup, 2, 1)).astype(np.int64)
    km = np.where(pickup, f_pick * wait_km[g], wait_km[g] + f_ride * drive_km[g])
    mileage = np.round(mileage0[g] + km, 1)
    return Points(trips[g], t, np.rint(lon * 1e6).astype(np.int64),
                  np.rint(lat * 1e6).astype(np.int64), speed, direction, elevation, biz, mileage)  # fmt: skip

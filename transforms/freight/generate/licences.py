"""The licences behind the freight generator's qualification cases (freight.md "Qualification",
licences.md), and what each filed number must answer at any time.

Every operator files its 网络货运 permit on its waybills, every vehicle record (WLHY_CL1001) a
道路运输证 number, every driver record (WLHY_JSY1001) a 从业资格证 number. Their states:

| subject | state | share | what the licences say / what is filed |
|---|---|---|---|
| vehicle, driver | ``ok`` | the rest | valid throughout (10 % with a later version: renewal, new phone) |
| vehicle, driver | ``no_record`` | 0.5 % | a valid licence, but the platform never uploads the record |
| vehicle, driver | ``not_found`` | 0.3 % | the record files a number no authority issued |
| vehicle, driver | ``lapsed`` | 0.5 % | valid_to 1–120 days before the run |
| vehicle, driver | ``revoked`` | 0.2 % | a revoked version 1–60 days before the run |
| vehicle | ``borrowed`` | 0.2 % | the record files another vehicle's number (holder mismatch) |
| driver | ``suspended_mid`` | 0.2 % | suspended during the run, just before one of its trips |
| light vehicle | ``placeholder`` | 60 % | ``<area>000000`` with grossMass ≤ 4.5 t: allowed |
| light vehicle's driver | ``placeholder`` | 60 % | ``<first 6 ID digits>`` + 12 zeros: allowed |
| heavy vehicle | ``placeholder_heavy`` | 0.3 % | a placeholder above 4.5 t: not allowed |
| heavy vehicle's driver | ``placeholder_heavy`` | 0.2 % | a placeholder on a vehicle above 4.5 t: not allowed |

Every state is forced on the least busy vehicle and driver with a waybill that can have it, of
an operator whose permit stays valid (and, for a driver, on a vehicle that passes), so that
nothing else on its waybills hides it; a light vehicle of exactly 4.5 t files a placeholder. Operators: the large one's permit changed scope before the run, the
third one's during it (both stay valid); the fourth one's permit lapsed the day before its first
waybill and was renewed one minute after that waybill's despatch; the small one's permit is
revoked one minute before its third-last waybill.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from transforms.freight.generate.schedule import Waybills, seconds
from transforms.freight.generate.world import LICENCE_OFFICE, LIGHT, World, city_of

SEED_STREAM_STATES = 63
VEHICLE_SHARES = {"no_record": 0.005, "not_found": 0.003, "lapsed": 0.005, "revoked": 0.002,
                  "borrowed": 0.002, "placeholder_heavy": 0.003}  # fmt: skip
DRIVER_SHARES = {"no_record": 0.005, "not_found": 0.003, "lapsed": 0.005, "revoked": 0.002,
                 "suspended_mid": 0.002, "placeholder_heavy": 0.002}  # fmt: skip
LIGHT_PLACEHOLDER_SHARE = 0.6
CHANGE_SHARE = 0.10
VEHICLE_FORCED = ("no_record", "not_found", "lapsed", "revoked", "borrowed", "placeholder_heavy")
DRIVER_FORCED = ("no_record", "not_found", "lapsed", "revoked", "suspended_mid",
                 "placeholder_heavy")  # fmt: skip
PLACEHOLDER_LIMIT_T = 4.5
VEHICLE_SCOPE = "道路普通货物运输"
DRIVER_SCOPE = "道路货物运输驾驶员"
PERMIT_SCOPE = "道路普通货物运输、网络货运"
PROVINCE_AUTHORITY, CITY_AUTHORITY = "350000", "350900"
PERMIT_CHANGED_BEFORE, PERMIT_CHANGED_DURING, PERMIT_GAP, PERMIT_REVOKED = 0, 2, 3, 4
VALID = "valid"
STEADY_PERMITS = (PERMIT_CHANGED_BEFORE, 1, PERMIT_CHANGED_DURING)  # valid all run
REVOKED_BEFORE_LAST = 3  # the small operator's permit is revoked before its last 3 waybills


@dataclass
class Licence:
    """One licence as the licence generator will sign it (its versions as dicts of issued_at,
    valid_from, valid_to, status and what else changes)."""

    kind: str
    licence_type: str
    holder_type: str
    holder_key: str
    holder_name: str
    licence_no: str
    scope: str
    authority: str
    personal: dict[str, str]
    versions: list[dict[str, Any]] = field(default_factory=list)

    def spec(self) -> dict[str, Any]:
        """The plain-data form the licence generator takes (transforms/licences/generate/
        extra.py)."""
        return {
            "kind": self.kind, "licence_type": self.licence_type,
            "holder_type": self.holder_type, "holder_key": self.holder_key,
            "holder_name": self.holder_name, "licence_no": self.licence_no, "scope": self.scope,
            "authority_code": self.authority, "personal": dict(self.personal),
            "versions": [
                {**{k: v for k, v in version.items() if k not in ("issued_at", "valid_from",
                                                                   "valid_to")},
                 "issued_at": version["issued_at"].strftime("%Y-%m-%d %H:%M:%S"),
                 "valid_from": version["valid_from"].isoformat(),
                 "valid_to": version["valid_to"].isoformat()}
                for version in self.versions
            ],
        }  # fmt: skip

    def reason_at(self, at: dt.datetime, holder_key: str) -> str | None:
        """Why this licence does not qualify ``holder_key`` at ``at`` (None: it does), as the
        lake's lookups answer (licences.md "Verification CLI"): the version with the highest
        number issued by then; not_found, holder_mismatch, its status, not_yet_valid, expired."""
        known = [v for v in self.versions if v["issued_at"] <= at]
        if not known:
            return "not_found"
        version = known[-1]
        if holder_key != self.holder_key:
            return "holder_mismatch"
        if version["status"] != VALID:
            return version["status"]
        if at.date() < version["valid_from"]:
            return "not_yet_valid"
        if at.date() > version["valid_to"]:
            return "expired"
        return None


@dataclass
class Subjects:
    """Per vehicle and driver: its state, whether the platform uploads its record, the number
    its record files; per operator its permit; every licence by number."""

    vehicle_state: list[str]
    vehicle_record: list[bool]
    vehicle_cert: list[str]
    driver_state: list[str]
    driver_record: list[bool]
    driver_cert: list[str]
    permits: list[Licence]
    licences: dict[str, Licence]

    def specs(self) -> list[dict[str, Any]]:
        return [lic.spec() for lic in self.licences.values()]


def _time_in(rng: np.random.Generator, first: dt.datetime, last: dt.datetime) -> dt.datetime:
    span = max(1, int((last - first).total_seconds()))
    t = first + dt.timedelta(seconds=int(rng.integers(span)))
    return t.replace(hour=8 + t.hour % 10)  # office hours


def _until(day: dt.date, years: int) -> dt.date:
    return dt.date(day.year + years, day.month, 1) - dt.timedelta(days=1)


class _Issuer:
    def __init__(self, world: World, rng: np.random.Generator) -> None:
        self.world = world
        self.rng = rng
        self.run_start = dt.datetime.combine(world.start, dt.time())
        self.serial = 0

    def first(self, years: int) -> dict[str, Any]:
        issued = _time_in(self.rng, self.run_start - dt.timedelta(days=700),
                          self.run_start - dt.timedelta(days=20))  # fmt: skip
        return {"issued_at": issued, "valid_from": issued.date(),
                "valid_to": _until(issued.date(), years), "status": VALID}  # fmt: skip

    def lapsed(self) -> dict[str, Any]:
        issued = _time_in(self.rng, self.run_start - dt.timedelta(days=1450),
                          self.run_start - dt.timedelta(days=1100))  # fmt: skip
        valid_to = self.world.start - dt.timedelta(days=int(self.rng.integers(1, 121)))
        return {"issued_at": issued, "valid_from": issued.date(), "valid_to": valid_to,
                "status": VALID}  # fmt: skip

    def later(self, lic: Licence, at: dt.datetime, **changes: Any) -> None:
        lic.versions.append({**lic.versions[-1], "issued_at": at, **changes})

    def before_run(self, lic: Licence, low_days: int, high_days: int) -> dt.datetime:
        first = max(lic.versions[-1]["issued_at"] + dt.timedelta(days=1),
                    self.run_start - dt.timedelta(days=high_days))  # fmt: skip
        last = max(first + dt.timedelta(hours=1), self.run_start - dt.timedelta(days=low_days))
        return _time_in(self.rng, first, last)

    def number(self, template: str, **values: Any) -> str:
        self.serial += 1
        return template.format(n=self.serial, **values)


def _draw_states(
    rng: np.random.Generator,
    n: int,
    busy: list[int],
    eligible,
    shares: dict[str, float],
    forced: tuple[str, ...],
    default,
    showcase,
) -> list[str]:
    """A state per subject: each forced state on the least busy subject with a trip (``busy``:
    trips per subject) that can have it and ``showcase(i)`` (nothing else on its waybills hides
    it), then the shares."""
    states = [""] * n
    by_busy = sorted((i for i in range(n) if busy[i] > 0), key=lambda i: (busy[i], i))
    for name in forced:
        chosen = next(
            (i for i in by_busy if not states[i] and eligible(i, name) and showcase(i, states)),
            None,
        )
        if chosen is not None:
            states[chosen] = name
    for i in range(n):
        if states[i]:
            continue
        u, acc = rng.random(), 0.0
        for name, share in shares.items():
            acc += share
            if u < acc and eligible(i, name):
                states[i] = name
                break
        states[i] = states[i] or default(i)
    return states


def build_subjects(world: World, trips: Waybills) -> Subjects:
    """States, filed numbers and licences of every vehicle, driver and operator (module
    docstring); forced cases go to subjects with a physical trip in ``trips``."""
    rng = np.random.default_rng([world.seed, SEED_STREAM_STATES])
    fleet = world.fleet
    issuer = _Issuer(world, rng)
    run_start = issuer.run_start
    busy_vehicle = [0] * fleet.vehicles
    for v in trips.vehicle:
        busy_vehicle[v] += 1
    active_vehicle = [b > 0 for b in busy_vehicle]
    light = [k == LIGHT for k in fleet.kind]

    def vehicle_ok(i: int, name: str) -> bool:
        if name == "placeholder_heavy":
            return not light[i]
        return True

    vehicle_state = _draw_states(
        rng, fleet.vehicles, busy_vehicle, vehicle_ok, VEHICLE_SHARES, VEHICLE_FORCED,
        lambda i: "placeholder" if light[i] and rng.random() < LIGHT_PLACEHOLDER_SHARE else "ok",
        lambda i, _states: fleet.operator[i] in STEADY_PERMITS,
    )  # fmt: skip
    # the first active light vehicle left ok or placeholder files a placeholder at exactly 4.5 t
    # (the boundary: allowed)
    boundary = next((i for i in range(fleet.vehicles) if light[i] and active_vehicle[i]
                     and vehicle_state[i] in ("ok", "placeholder")), None)  # fmt: skip
    if boundary is not None:
        vehicle_state[boundary] = "placeholder"
        fleet.gross_mass[boundary] = PLACEHOLDER_LIMIT_T
    n_drivers = len(fleet.d_name)
    busy_driver = [busy_vehicle[fleet.d_vehicle[d]] for d in range(n_drivers)]
    active_driver = [b > 0 for b in busy_driver]

    def driver_ok(d: int, name: str) -> bool:
        if name == "placeholder_heavy":
            return not light[fleet.d_vehicle[d]]
        if name == "suspended_mid":  # before one trip, after another
            return busy_driver[d] >= 2
        return True

    def driver_showcase(d: int, states: list[str]) -> bool:
        v = fleet.d_vehicle[d]
        return (
            fleet.operator[v] in STEADY_PERMITS
            and vehicle_state[v] in ("ok", "placeholder")
            and not any(states[x] for x in fleet.drivers[v])  # one forced driver per crew
        )

    driver_state = _draw_states(
        rng, n_drivers, busy_driver, driver_ok, DRIVER_SHARES, DRIVER_FORCED,
        lambda d: "placeholder" if light[fleet.d_vehicle[d]]
        and rng.random() < LIGHT_PLACEHOLDER_SHARE else "ok",
        driver_showcase,
    )  # fmt: skip
    # an allowed driver placeholder: on a light vehicle whose record is there
    allowed = next((d for d in range(n_drivers) if active_driver[d]
                    and light[fleet.d_vehicle[d]] and driver_state[d] in ("ok", "placeholder")
                    and vehicle_state[fleet.d_vehicle[d]] in ("ok", "placeholder")), None)  # fmt: skip
    if allowed is not None:
        driver_state[allowed] = "placeholder"

    licences: dict[str, Licence] = {}
    # vehicles: 道路运输证
    vehicle_cert: list[str] = []
    own: list[Licence | None] = []
    for v in range(fleet.vehicles):
        state = vehicle_state[v]
        county = fleet.county[v]
        office = LICENCE_OFFICE[city_of(county)]
        owner = fleet.owner[v]
        holder_name = fleet.c_name[owner] if owner >= 0 else fleet.d_name[fleet.drivers[v][0]]
        lic = None
        if state in ("ok", "no_record", "lapsed", "revoked"):
            first = issuer.lapsed() if state == "lapsed" else issuer.first(6)
            lic = Licence(
                "vehicle_transport", "vehicle_transport", "vehicle",
                f"{fleet.plate[v]}-{fleet.color[v]}", holder_name,
                issuer.number("闽交运输{office}字{county}{n:06d}号", office=office, county=county),
                VEHICLE_SCOPE,
                CITY_AUTHORITY if county.startswith("3509") else PROVINCE_AUTHORITY, {}, [first],
            )  # fmt: skip
            if state == "revoked":
                issuer.later(lic, issuer.before_run(lic, 1, 60), status="revoked")
            elif state != "lapsed" and rng.random() < CHANGE_SHARE:  # renewed: two more years
                issuer.later(lic, issuer.before_run(lic, 1, 300),
                             valid_to=_until(first["valid_to"], 2))  # fmt: skip
            licences[lic.licence_no] = lic
        own.append(lic)
        if state == "not_found":
            vehicle_cert.append(
                issuer.number("闽交运输{office}字{county}9{n:05d}号", office=office, county=county)
            )
        elif state in ("placeholder", "placeholder_heavy"):
            vehicle_cert.append(f"{county}000000")
        else:
            vehicle_cert.append(lic.licence_no if lic else "")
    for v in range(fleet.vehicles):
        if vehicle_state[v] == "borrowed":  # another vehicle's valid certificate
            lenders = [u for u in range(fleet.vehicles) if vehicle_state[u] == "ok" and own[u]]
            lender = lenders[int(rng.integers(len(lenders)))] if lenders else None
            vehicle_cert[v] = (
                own[lender].licence_no if lender is not None else f"{fleet.county[v]}000001"
            )
    # drivers: 从业资格证
    driver_cert: list[str] = []
    trips_of_driver: dict[int, list[int]] = {}
    for i in sorted(range(len(trips)), key=lambda i: trips.despatch[i]):
        for d in fleet.drivers[trips.vehicle[i]]:
            trips_of_driver.setdefault(d, []).append(i)
    for d in range(n_drivers):
        state = driver_state[d]
        area = fleet.d_id[d][:6]
        if state in ("placeholder", "placeholder_heavy"):
            driver_cert.append(area + "0" * 12)
            continue
        if state == "not_found":
            driver_cert.append(issuer.number("QC{area}7{n:06d}", area=area))
            continue
        first = issuer.lapsed() if state == "lapsed" else issuer.first(6)
        first["valid_from"] = min(first["valid_from"], fleet.d_licence_from[d])
        lic = Licence(
            "driver_qualification", "qualification", "person", fleet.d_id[d], fleet.d_name[d],
            issuer.number("QC{area}9{n:06d}", area=area), DRIVER_SCOPE, PROVINCE_AUTHORITY,
            {"holder_phone": fleet.d_phone[d]}, [first],
        )  # fmt: skip
        if state == "revoked":
            issuer.later(lic, issuer.before_run(lic, 1, 60), status="revoked")
        elif state == "suspended_mid":
            mine = trips_of_driver.get(d, [])
            if len(mine) >= 2:
                at = seconds(world, trips.despatch[mine[len(mine) // 2]]) - dt.timedelta(minutes=1)
            else:
                at = run_start - dt.timedelta(days=1)
            issuer.later(lic, max(at, lic.versions[-1]["issued_at"] + dt.timedelta(minutes=1)),
                         status="suspended")  # fmt: skip
        elif rng.random() < CHANGE_SHARE:  # a new phone number
            issuer.later(lic, issuer.before_run(lic, 1, 300),
                         holder_phone=f"1{int(rng.integers(30, 100))}{int(rng.integers(10**8)):08d}")  # fmt: skip
        licences[lic.licence_no] = lic
        driver_cert.append(lic.licence_no)

    return Subjects(
        vehicle_state, [s != "no_record" for s in vehicle_state], vehicle_cert,
        driver_state, [s != "no_record" for s in driver_state], driver_cert, [], licences,
    )  # fmt: skip


def add_permits(world: World, subjects: Subjects, trips: Waybills) -> None:
    """The operators' 网络货运 permits (module docstring), timed on every waybill of ``trips``
    (double bookings included)."""
    issuer = _Issuer(world, np.random.default_rng([world.seed, SEED_STREAM_STATES, 1]))
    issuer.serial = 10**5  # not used by the permits' numbers; kept apart anyway
    out = subjects.permits
    for op in world.operators:
        mine = sorted(trips.despatch[i] for i in range(len(trips)) if trips.operator[i] == op.index)
        ningde = op.county.startswith("3509")
        lic = Licence(
            "freight_platform_permit", "operating_permit", "organisation", op.uscc, op.name,
            op.permit_no, PERMIT_SCOPE, CITY_AUTHORITY if ningde else PROVINCE_AUTHORITY,
            {"legal_representative": op.legal_representative, "contact_phone": op.contact_phone},
            [issuer.first(4)],
        )  # fmt: skip
        if op.index == PERMIT_CHANGED_BEFORE:
            issuer.later(
                lic, issuer.before_run(lic, 1, 200), scope=PERMIT_SCOPE + "、道路货物专用运输"
            )
        elif op.index == PERMIT_CHANGED_DURING:
            at = issuer.run_start + dt.timedelta(hours=12)
            issuer.later(lic, at, scope=PERMIT_SCOPE + "、道路货物专用运输")
        elif op.index == PERMIT_GAP and mine:
            first_trip = seconds(world, mine[0])
            gap_day = first_trip.date()
            lic.versions[0] = {**issuer.lapsed(), "valid_to": gap_day - dt.timedelta(days=1)}
            issuer.later(lic, first_trip + dt.timedelta(minutes=1), valid_from=gap_day,
                         valid_to=_until(gap_day, 4))  # fmt: skip
        elif op.index == PERMIT_REVOKED and mine:
            before = mine[-min(len(mine), REVOKED_BEFORE_LAST)]
            issuer.later(lic, seconds(world, before) - dt.timedelta(minutes=1),
                         status="revoked")  # fmt: skip
        out.append(lic)
        subjects.licences[lic.licence_no] = lic

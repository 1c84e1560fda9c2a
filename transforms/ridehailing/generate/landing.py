"""The run: world → day by day, company by company, records (static history, orders, operations,
ratings, shifts, positions) → defects → outages → the files and the known answer.

Files: ``landing/ridehailing/<interface>/<day received>/<interface>-<YYYYMMDD of the day the
records were made>[-<part>].jsonl`` (positions: at most :data:`MAX_LINES_PER_FILE` lines a file)
and ``landing/ridehailing/outageNotice/<day notified>/outageNotice-<YYYYMMDD>.jsonl``. A day is
made and written before the next one (bounded memory: one company-day at a time, plus the answer's
counters).
"""

from __future__ import annotations

import datetime as dt
import json
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, TextIO

import numpy as np

from transforms.ridehailing.generate import defects, names
from transforms.ridehailing.generate.defects import (
    BY_KIND,
    COMPLETENESS,
    KINDS,
    LIMITS,
    NORMATIVITY,
    QUARANTINE_PER_RECORDS,
    TIMELINESS,
    TRUTHFULNESS,
)
from transforms.ridehailing.generate.expected import Tally, evaluation, month_of_days, overview
from transforms.ridehailing.generate.names import DAY_S
from transforms.ridehailing.generate.records import (
    DELAYS,
    Rec,
    day_recs,
    line,
    position_fields,
    position_text,
    static_rec,
)
from transforms.ridehailing.generate.trips import Day, Points, build_day, build_points
from transforms.ridehailing.generate.world import Company, Outage, World, build, common, record
from transforms.ridehailing.interfaces import BY_NAME, INTERFACES

DOMAIN = "ridehailing"
OUTAGE_NOTICE = "outageNotice"
DEFAULT_ORDERS_PER_DAY = 100  # = `lakehouse generate`'s default (orchestration/cli/telematics.py)
DEFAULT_POSITION_INTERVAL_S = 30
MAX_LINES_PER_FILE = 250_000
SEED_STREAM_DEFECTS = 83
BACKFILL_S = 72 * 3600
POINT_FEEDS = ("positionDriver", "positionVehicle")
MALFORMED_VARIANTS = 4


@dataclass
class RidehailingSummary:
    """The known answer of a generated ride-hailing landing zone.

    - ``platforms``: the companies (company_id, company_name, USCC, permit cities, operating
      cities, ``silent``: static data sent 45 days before the run, nothing in it);
      ``drivers`` / ``vehicles`` / ``passengers`` (distinct, every company) and ``licences``
      (the subjects handed to the licence generator);
    - ``records`` — distinct natural keys written (re-sends counted once, quarantined lines
      not at all), ``records_by_interface``, ``failed_by_interface`` (interface → dimension →
      records), ``orders`` (orderCreate records);
    - ``lines`` / ``files`` by interface (every line written: records, re-sent copies,
      malformed and keyless lines; ``outageNotice`` too);
    - ``quarantined``: ``malformed`` (not JSON objects: the landing parser's malformed lines),
      ``keyless`` (JSON lacking a field of the interface's natural key), ``total``, and
      ``by_interface``;
    - ``injected``: defect kind → records it was injected into (defects.py), ``eligible``: the
      records it could have been (so injected / eligible ≈ its rate); ``failures``:
      ``"<dimension>.<reason>"`` → records failing that dimension for that reason (a record
      counts once per dimension: the first reason); ``cases``: the world's subjects by case;
    - ``outages``: the notices, with the records whose event lies in each and how many were
      back-filled;
    - ``evaluation``: ``"<company_id>|<YYYY-MM or YYYY>"`` → the ``report ridehailing`` row
      (company_id, company_name, period, transmitted, records, the four rates,
      city_coverage_rate, score) plus ``failed`` (dimension → records), ``cities_covered``
      and ``cities_licensed``; ``overview``: ``YYYY-MM`` → the ``--overview`` object.
    """

    start: str = ""
    days: int = 0
    seed: int = 0
    orders_per_day: int = 0
    position_interval_s: int = 0
    companies: int = 0
    platforms: list[dict[str, Any]] = field(default_factory=list)
    drivers: int = 0
    vehicles: int = 0
    passengers: int = 0
    licences: int = 0
    records: int = 0
    orders: int = 0
    records_by_interface: dict[str, int] = field(default_factory=dict)
    failed_by_interface: dict[str, dict[str, int]] = field(default_factory=dict)
    lines: dict[str, int] = field(default_factory=dict)
    files: dict[str, int] = field(default_factory=dict)
    quarantined: dict[str, Any] = field(default_factory=dict)
    injected: dict[str, int] = field(default_factory=dict)
    eligible: dict[str, int] = field(default_factory=dict)
    failures: dict[str, int] = field(default_factory=dict)
    cases: dict[str, int] = field(default_factory=dict)
    outages: list[dict[str, Any]] = field(default_factory=list)
    evaluation: dict[str, dict[str, Any]] = field(default_factory=dict)
    overview: dict[str, dict[str, Any]] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


class Sink:
    """Landing files of the run, one per (interface, day received, day made, part)."""

    def __init__(self, base: Path) -> None:
        self.base = base
        self.handles: dict[tuple[str, int, int], tuple[TextIO, int, int]] = {}
        self.lines: Counter = Counter()
        self.files: Counter = Counter()

    def write(self, iface: str, received_day: int, made_day: int, text: str, n: int) -> None:
        if not n:
            return
        key = (iface, received_day, made_day)
        handle, part, count = self.handles.get(key, (None, 0, 0))
        if handle is None or count + n > MAX_LINES_PER_FILE and count:
            if handle is not None:
                handle.close()
            part += 1
            suffix = "" if part == 1 else f"-{part}"
            path = (self.base / iface / names.day10(received_day)
                    / f"{iface}-{names.day8(made_day)}{suffix}.jsonl")  # fmt: skip
            path.parent.mkdir(parents=True, exist_ok=True)
            handle = path.open("w", encoding="utf-8")
            self.files[iface] += 1
            count = 0
        handle.write(text)
        self.handles[key] = (handle, part, count + n)
        self.lines[iface] += n

    def close(self) -> None:
        for handle, _, _ in self.handles.values():
            handle.close()
        self.handles = {}


@dataclass
class _Run:
    world: World
    sink: Sink
    interval: int
    tally: Tally = field(default_factory=Tally)
    injected: Counter = field(default_factory=Counter)
    eligible: Counter = field(default_factory=Counter)
    failures: Counter = field(default_factory=Counter)
    quarantined: Counter = field(default_factory=Counter)
    quarantined_by_interface: Counter = field(default_factory=Counter)
    outages: dict[int, list[Outage]] = field(default_factory=dict)
    outage_events: Counter = field(default_factory=Counter)
    outage_backfilled: Counter = field(default_factory=Counter)

    def want(self, kind: str, candidates: int, rng: np.random.Generator) -> int:
        """How many of ``candidates`` get ``kind``: its rate, at least one the first time it can
        happen (so that a small run has every kind)."""
        n = int(rng.binomial(candidates, BY_KIND[kind].rate)) if candidates else 0
        if n == 0 and candidates and not self.injected[kind]:
            n = 1
        return n


def plan(start: dt.date, days: int, seed: int, orders_per_day: int | None,
         companies: int | None = None) -> World:  # fmt: skip
    return build(start, days, seed, orders_per_day or DEFAULT_ORDERS_PER_DAY, companies)


def licence_subjects(start: dt.date, days: int, seed: int, orders_per_day: int | None = None,
                     companies: int | None = None) -> list[dict[str, Any]]:  # fmt: skip
    """The licences the generator's companies (网约车经营许可证), vehicles (网约车运输证) and
    drivers (网约车驾驶员证) hold, in the plain-data form of transforms/licences/generate/extra.py
    (for ``generate_licences(..., extra=...)``): the same numbers and states
    :func:`generate_ridehailing` with the same arguments checks its records against. Drivers and
    vehicles of the ``unlicensed`` cases have none."""
    return [lic.spec() for lic in plan(start, days, seed, orders_per_day, companies).licences()]


def _existing(lake: Path) -> list[Path]:
    base = lake / "landing" / DOMAIN
    return sorted(base.rglob("*.jsonl")) if base.is_dir() else []


def generate_ridehailing(
    lake: Path,
    start: dt.date,
    days: int,
    seed: int = 7,
    force: bool = False,
    progress: Callable[[str], None] | None = None,
    orders_per_day: int | None = None,
    *,
    companies: int | None = None,
    position_interval_s: int = DEFAULT_POSITION_INTERVAL_S,
) -> RidehailingSummary:
    """Write ``landing/ridehailing/<interface>/<day>/…`` (every interface of the catalogue and
    ``outageNotice``) for ``days`` days from ``start`` with about ``orders_per_day`` orders a day
    (default 100; 33 000 with 55 companies is a province) over ``companies`` platform companies
    (default 4, one of them silent; more at scale), positions every ``position_interval_s``
    seconds of a trip; return the exact known answer. Existing ride-hailing landing files raise
    :class:`FileExistsError` unless ``force`` (they are then deleted first)."""
    say = progress or (lambda _m: None)
    lake = Path(lake)
    if position_interval_s < 2:
        raise ValueError("position_interval_s must be at least 2")
    existing = _existing(lake)
    if existing and not force:
        raise FileExistsError(
            f"ride-hailing landing file(s) already exist: {existing[0]}"
            + (f" and {len(existing) - 1} more" if len(existing) > 1 else "")
            + "; pass force=True (CLI --force) to overwrite"
        )
    for path in existing:
        path.unlink()
    world = plan(start, days, seed, orders_per_day, companies)
    base = lake / "landing" / DOMAIN
    run = _Run(world, Sink(base), position_interval_s)
    for o in world.outages:
        run.outages.setdefault(o.company, []).append(o)
    say(f"ridehailing: {len(world.active)} active companies (+{len(world.companies) - len(world.active)} "
        f"silent), {len(world.drivers)} drivers, ~{world.orders_per_day} orders a day")  # fmt: skip

    static_by_chunk: dict[tuple[int, int], list] = defaultdict(list)
    for sr in world.static:
        static_by_chunk[(sr.t // DAY_S, sr.company)].append(sr)
    first_day = world.t0 // DAY_S
    before = sorted(k for k in static_by_chunk if k[0] < first_day)
    for n, (made, company) in enumerate(before):
        _chunk(run, world.companies[company], made, static_by_chunk[(made, company)], None, [])
        if n + 1 == len(before) or before[n + 1][0] != made:
            run.sink.close()
    worked: dict[int, set[int]] = {}
    for k in range(days):
        made = first_day + k
        n_orders = 0
        for c in world.active:
            day = build_day(world, c, k, position_interval_s)
            extra = _total_miles(world, c, k, worked.get(c.index, set()))
            worked[c.index] = day.worked
            _chunk(run, c, made, static_by_chunk.get((made, c.index), []), day, extra)
            n_orders += len(day)
        run.sink.close()
        say(f"ridehailing: {names.day10(made)}: {n_orders} orders")
    # outage notices (the day each was notified)
    for o in world.outages:
        notice = o.notice(world.companies[o.company].company_id)
        day = o.notified_at // DAY_S
        path = base / OUTAGE_NOTICE / names.day10(day) / f"{OUTAGE_NOTICE}-{names.day8(day)}.jsonl"
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("a", encoding="utf-8") as fh:
            fh.write(json.dumps(notice, ensure_ascii=False, separators=(",", ":")) + "\n")
        run.sink.lines[OUTAGE_NOTICE] += 1
    run.sink.files[OUTAGE_NOTICE] = len(list((base / OUTAGE_NOTICE).glob("*/*.jsonl")))

    tally = run.tally
    platforms = [
        {"company_id": c.company_id, "company_name": c.name, "uscc": c.uscc,
         "permit_cities": list(c.permits), "operating_cities": [x for x, _ in c.cities],
         "silent": c.silent}
        for c in world.companies
    ]  # fmt: skip
    passengers = {r.entity for r in world.static if r.iface == "baseInfoPassenger"}
    summary = RidehailingSummary(
        start=start.isoformat(), days=days, seed=seed, orders_per_day=world.orders_per_day,
        position_interval_s=position_interval_s, companies=len(world.companies),
        platforms=platforms, drivers=len(world.drivers), vehicles=len(world.vehicles),
        passengers=len(passengers), licences=len(world.licences()),
        records=int(sum(tally.by_interface.values())), orders=int(tally.by_interface["orderCreate"]),
        records_by_interface={i.name: int(tally.by_interface[i.name]) for i in INTERFACES},
        failed_by_interface={i.name: {d: int(tally.failed_by_interface[i.name][d])
                                      for d in defects.DIMENSIONS} for i in INTERFACES},
        lines=dict(sorted(run.sink.lines.items())), files=dict(sorted(run.sink.files.items())),
        quarantined={"malformed": int(run.quarantined["malformed"]),
                     "keyless": int(run.quarantined["keyless"]),
                     "total": int(sum(run.quarantined.values())),
                     "by_interface": dict(sorted(run.quarantined_by_interface.items()))},
        injected={k.name: int(run.injected[k.name]) for k in KINDS},
        eligible={k.name: int(run.eligible[k.name]) for k in KINDS},
        failures=dict(sorted(run.failures.items())), cases=world.cases,
        outages=[{**o.notice(world.companies[o.company].company_id), "kind": o.kind,
                  "exempt": o.exempt, "records_in_window": int(run.outage_events[i]),
                  "lines_backfilled": int(run.outage_backfilled[i])}
                 for i, o in enumerate(world.outages)],
        evaluation=evaluation(world, tally), overview=overview(world, tally),
    )  # fmt: skip
    say(f"ridehailing: {summary.records} records ({summary.orders} orders), "
        f"{sum(summary.lines.values())} lines in {sum(summary.files.values())} files, "
        f"{summary.quarantined['total']} quarantined lines")  # fmt: skip
    return summary


def _total_miles(world: World, c: Company, k: int, worked: set[int]) -> list[Rec]:
    """baseInfoVehicleTotalMile (Flag 2) at 02:00–04:00 for the vehicles driven the day before."""
    if not worked:
        return []
    rng = np.random.default_rng([world.seed, SEED_STREAM_DEFECTS, k, c.index, 7])
    out = []
    base = world.t0 + k * DAY_S
    for i in sorted(worked):
        v = world.vehicles[i]
        if v.join is None or (v.leave is not None and v.leave < base):
            continue
        t = base + int(rng.integers(2 * 3600, 4 * 3600))
        fields = record("baseInfoVehicleTotalMile", {
            **common(c.company_id, v.county, 2, 0, t), "VehicleNo": v.plate,
            "TotalMile": round(v.odometer, 1),
        })  # fmt: skip
        out.append(Rec("baseInfoVehicleTotalMile", c.index, t, fields))
    return out


def _world_bad(world: World, r: Rec, t: int | None = None) -> str | None:
    """Why the driver or vehicle a record names is not fit at its event time (None: fit)."""
    t = r.event if t is None else t
    if r.lic is not None and not world.driver_tl.good(r.lic, t):
        return f"driver:{world.drivers[r.lic].case or 'not_registered'}"
    if r.veh is not None and not world.vehicle_tl.good(r.veh, t):
        return f"vehicle:{world.vehicles[r.veh].case or 'not_registered'}"
    return None


def _timely(event: int, first: int, limit: int, outages: list[Outage]) -> bool:
    if first - event <= limit:
        return True
    return any(o.exempt and o.start <= event <= o.end and first <= o.end + BACKFILL_S
               for o in outages)  # fmt: skip


def _shift(run: _Run, recv: int, outages: list[Outage], rng: np.random.Generator) -> int:
    """A line that would have arrived during an outage arrives when it is back-filled."""
    for o in outages:
        if o.start <= recv <= o.end:
            run.outage_backfilled[run.world.outages.index(o)] += 1
            return o.end + int(rng.integers(*o.backfill))
    return recv


def _chunk(run: _Run, c: Company, made: int, statics: list, day: Day | None,
           extra: list[Rec]) -> None:  # fmt: skip
    """Make, damage, time, count and write one company's day (``made``: day number)."""
    world = run.world
    rng = np.random.default_rng([world.seed, SEED_STREAM_DEFECTS, made, c.index])
    recs = [static_rec(sr) for sr in statics] + extra
    lifecycle: dict[int, dict[str, Rec]] = {}
    if day is not None:
        more, lifecycle = day_recs(world, day, rng)
        recs += more
    # receipts: a normal delay after the event
    if recs:
        lows = np.array([DELAYS[r.group][0] for r in recs])
        highs = np.array([DELAYS[r.group][1] for r in recs])
        delays = rng.integers(lows, highs).tolist()
        for r, delay in zip(recs, delays, strict=True):
            r.recv = r.event + delay
    bad = {id(r) for r in recs if _world_bad(world, r)}
    outages = run.outages.get(c.index, [])
    if not c.silent:
        _inject(run, recs, lifecycle, bad, rng)
    # outages: what would have arrived during one is back-filled after it
    for r in recs:
        r.recv = _shift(run, r.recv, outages, rng)
        r.extra = [(_shift(run, t, outages, rng), f) for t, f in r.extra]
    junk: list[tuple[str, int, str]] = []
    if day is not None and c.index == world.active[0].index:
        junk = _junk(run, c, recs, rng)
    # count and write the records
    cid = c.company_id
    for r in recs:
        spec = BY_NAME[r.iface]
        first = r.first_recv
        timely = _timely(r.event, first, LIMITS[r.group], outages)
        world_reason = _world_bad(world, r)
        untrue = r.untrue or world_reason is not None
        fails = (r.incomplete, r.nonnormative, not timely, untrue)
        for o_i, o in enumerate(world.outages):
            if o.company == c.index and o.start <= r.event <= o.end:
                run.outage_events[o_i] += 1
        city = r.city if not spec.is_static else None
        run.tally.add(r.iface, cid, names.month_of(r.event), fails, city)
        _reasons(run, r, fails, world_reason, outages)
        for received, fields in r.copies():
            run.sink.write(r.iface, received // DAY_S, made, line(fields, received), 1)
    for iface, received, text in junk:
        run.sink.write(iface, received // DAY_S, made, text, 1)
    if day is not None:
        pts = build_points(world, day, run.interval)
        if len(pts):
            for iface in POINT_FEEDS:
                _points(run, c, made, day, pts, iface, outages, rng)


def _reasons(run: _Run, r: Rec, fails: tuple[bool, bool, bool, bool], world_reason: str | None,
             outages: list[Outage]) -> None:  # fmt: skip
    tags = [t for t in r.tags if not t.startswith("trap:")]
    if fails[0]:
        run.failures[f"{COMPLETENESS}.{tags[0]}"] += 1
    if fails[1]:
        run.failures[f"{NORMATIVITY}.{tags[0]}"] += 1
    if fails[2]:
        if "late" in r.tags:
            why = "late"
        else:
            inside = [o for o in outages if o.start <= r.event <= o.end]
            why = f"outage_{inside[0].kind}" if inside else "delayed_by_outage"
        run.failures[f"{TIMELINESS}.{why}"] += 1
    if fails[3]:
        own = [t.removeprefix("truth:") for t in tags if BY_KIND.get(t.removeprefix("truth:")) is None
               or BY_KIND[t].dimension == TRUTHFULNESS]  # fmt: skip
        run.failures[f"{TRUTHFULNESS}.{own[0] if own else world_reason}"] += 1


def _inject(run: _Run, recs: list[Rec], lifecycle: dict[int, dict[str, Rec]], bad: set[int],
            rng: np.random.Generator) -> None:  # fmt: skip
    """One defect kind per record, each at its rate among the records it applies to (records
    already failing — planned cases, drivers without static data — are left alone)."""
    by_iface: dict[str, list[Rec]] = defaultdict(list)
    for r in recs:
        if not r.tags and id(r) not in bad:
            by_iface[r.iface].append(r)
    for kind in KINDS:
        if kind.points or kind.name == "event_order":
            continue
        candidates = [r for iface in defects.eligible_interfaces(kind.name)
                      for r in by_iface.get(iface, ()) if not r.tags]  # fmt: skip
        want = run.want(kind.name, len(candidates), rng)
        run.eligible[kind.name] += len(candidates)
        done = 0
        for i in rng.permutation(len(candidates)).tolist() if want else ():
            if done >= want:
                break
            r = candidates[i]
            if r.tags or not defects.targets(kind.name, r):
                continue
            defects.apply(kind.name, r, rng)
            done += 1
        run.injected[kind.name] += done
    # event order: the later record of a lifecycle pair dated before the earlier one
    orders = [steps for steps in lifecycle.values() if len(steps) == 4
              and all(not s.tags and id(s) not in bad for s in steps.values())]  # fmt: skip
    want = run.want("event_order", len(orders), rng)
    run.eligible["event_order"] += len(orders)
    for i in rng.choice(len(orders), want, replace=False).tolist() if want else ():
        earlier, later = defects.EVENT_ORDER_VARIANTS[int(rng.integers(3))]
        defects.shift_before(orders[i][earlier], orders[i][later], rng)
    run.injected["event_order"] += want


def _junk(
    run: _Run, c: Company, recs: list[Rec], rng: np.random.Generator
) -> list[tuple[str, int, str]]:
    """Malformed lines (not a JSON object) and lines lacking a field of their interface's
    natural key: both quarantined at landing, neither a record."""
    pool = [r for r in recs if not BY_NAME[r.iface].is_static or r.iface == "baseInfoPassenger"]
    if not pool:
        return []
    n = 2 + len(recs) // QUARANTINE_PER_RECORDS
    out = []
    for i in range(n):
        r = pool[int(rng.integers(len(pool)))]
        text = line(r.fields, r.recv)
        variant = (run.quarantined["malformed"] + i) % MALFORMED_VARIANTS
        if variant == 0:
            bad = text[: len(text) // 2] + "\n"  # cut off
        elif variant == 1:
            bad = "<html><head><title>502 Bad Gateway</title></head></html>\n"
        elif variant == 2:
            bad = json.dumps([r.iface, c.company_id], ensure_ascii=False) + "\n"  # not an object
        else:
            bad = text.rstrip("\n") + "}\n"  # extra data
        out.append((r.iface, r.recv, bad))
        run.quarantined_by_interface[r.iface] += 1
    run.quarantined["malformed"] += n
    for _ in range(n):
        r = pool[int(rng.integers(len(pool)))]
        spec = BY_NAME[r.iface]
        key = [k for k in spec.key if k in r.fields]
        fields = dict(r.fields)
        del fields[key[int(rng.integers(len(key)))]]
        out.append((r.iface, r.recv, line(fields, r.recv)))
        run.quarantined_by_interface[r.iface] += 1
    run.quarantined["keyless"] += n
    return out


def _points(run: _Run, c: Company, made: int, day: Day, pts: Points, iface: str,
            outages: list[Outage], rng: np.random.Generator) -> None:  # fmt: skip
    """One positions feed of a company's day: defects, outages, the answer, the lines."""
    world = run.world
    n = len(pts)
    t = pts.t
    driver = np.asarray(day.driver, dtype=np.int64)[pts.order]
    veh_ok = world.vehicle_tl.good_many(driver, t)
    if iface == "positionDriver":
        bad = ~(world.driver_tl.good_many(driver, t) & veh_ok)
    else:
        bad = ~veh_ok
    recv = t + rng.integers(1, 16, n)
    used = bad.copy()
    chosen: dict[int, str] = {}
    for kind in KINDS:
        if not kind.points:
            continue
        eligible = np.flatnonzero(~used & defects.point_applies(kind.name, iface, pts.biz))
        want = run.want(kind.name, len(eligible), rng)
        run.eligible[kind.name] += len(eligible)
        if not want:
            continue
        pick = rng.choice(eligible, want, replace=False)
        used[pick] = True
        for i in pick.tolist():
            chosen[i] = kind.name
        run.injected[kind.name] += want
    incomplete = np.zeros(n, dtype=bool)
    nonnormative = np.zeros(n, dtype=bool)
    slow: dict[int, dict[str, Any]] = {}
    copies: dict[int, int] = {}
    for i in sorted(chosen):
        kind = chosen[i]
        if kind == "pos_late":
            recv[i] = t[i] + LIMITS["position"] + int(rng.integers(1, 841))
        elif kind == "pos_at_limit":
            recv[i] = t[i] + LIMITS["position"]
        elif kind == "pos_resend":
            copies[i] = int(recv[i]) + int(rng.integers(600, 7200))
        else:
            fields = position_fields(world, day, pts, i, iface)
            dim = defects.apply_point(kind, iface, fields, rng)
            slow[i] = fields
            (incomplete if dim == COMPLETENESS else nonnormative)[i] = True
    # outages
    for o_i, o in enumerate(world.outages):
        if o.company != c.index:
            continue
        hit = (recv >= o.start) & (recv <= o.end)
        if hit.any():
            recv[hit] = o.end + rng.integers(*o.backfill, int(hit.sum()))
            run.outage_backfilled[o_i] += int(hit.sum())
        run.outage_events[o_i] += int(((t >= o.start) & (t <= o.end)).sum())
        for i, when in list(copies.items()):
            if o.start <= when <= o.end:
                copies[i] = o.end + int(rng.integers(*o.backfill))
                run.outage_backfilled[o_i] += 1
    first = recv.copy()
    for i, when in copies.items():
        first[i] = min(first[i], when)
    limit = LIMITS["position"]
    timely = first - t <= limit
    for o in outages:
        if o.exempt:
            timely |= (t >= o.start) & (t <= o.end) & (first <= o.end + BACKFILL_S)
    months = month_of_days(t // DAY_S)
    cities: dict[str, set[str]] = defaultdict(set)
    for month in np.unique(months).tolist():
        orders = np.unique(pts.order[months == month]).tolist()
        cities[month] = {day.city[j] for j in orders}
    run.tally.add_many(iface, c.company_id, months, [incomplete, nonnormative, ~timely, bad],
                       cities)  # fmt: skip
    for dim, mask in ((COMPLETENESS, incomplete), (NORMATIVITY, nonnormative)):
        for i in np.flatnonzero(mask).tolist():
            run.failures[f"{dim}.{chosen[i]}"] += 1
    late = ~timely
    for i in np.flatnonzero(late).tolist():
        inside = [o for o in outages if o.start <= t[i] <= o.end]
        why = "pos_late" if chosen.get(i) == "pos_late" else (
            f"outage_{inside[0].kind}" if inside else "delayed_by_outage")  # fmt: skip
        run.failures[f"{TIMELINESS}.{why}"] += 1
    if bad.any():
        for i in np.flatnonzero(bad).tolist():
            d = int(driver[i])
            if iface == "positionDriver" and not world.driver_tl.good(d, int(t[i])):
                why = f"driver:{world.drivers[d].case or 'not_registered'}"
            else:
                why = f"vehicle:{world.vehicles[d].case or 'not_registered'}"
            run.failures[f"{TRUTHFULNESS}.{why}"] += 1
    # lines: the plain points straight from the columns, the changed ones as records
    plain = np.ones(n, dtype=bool)
    plain[list(slow)] = False
    days_received = recv // DAY_S
    for received in np.unique(days_received[plain]).tolist():
        idx = np.flatnonzero(plain & (days_received == received))
        run.sink.write(iface, received, made, position_text(world, day, pts, idx, recv, iface),
                       len(idx))  # fmt: skip
    for i, fields in slow.items():
        run.sink.write(iface, int(recv[i]) // DAY_S, made, line(fields, int(recv[i])), 1)
    if copies:
        again = recv.copy()
        for i, when in copies.items():
            again[i] = when
        idx = np.array(sorted(copies), dtype=np.int64)
        for i in idx.tolist():
            run.sink.write(iface, int(again[i]) // DAY_S, made,
                           position_text(world, day, pts, np.array([i]), again, iface), 1)  # fmt: skip

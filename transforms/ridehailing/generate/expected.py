"""The known answer, from what the generator made (never from the files): per company and period
the records and the records failing each dimension, the rates, city coverage and score
(ridehailing.md "Rates per company and period"), and the monthly overview.

:class:`Tally` is fed record by record (and point arrays at a time) as the chunks are written;
:func:`evaluation` and :func:`overview` then add what the static history says (permits in force,
drivers and vehicles at each month's end).
"""

from __future__ import annotations

import datetime as dt
from collections import Counter, defaultdict
from typing import Any

import numpy as np

from transforms.ridehailing.generate import names
from transforms.ridehailing.generate.defects import DIMENSIONS
from transforms.ridehailing.generate.names import wall
from transforms.ridehailing.generate.world import World

WEIGHTS = {"completeness": 0.25, "normativity": 0.25, "timeliness": 0.25, "truthfulness": 0.25}


class Tally:
    """Records and failures per (company_id, month), cities of dynamic records, orders."""

    def __init__(self) -> None:
        self.counts: dict[tuple[str, str], np.ndarray] = defaultdict(lambda: np.zeros(5, np.int64))
        self.cities: dict[tuple[str, str], set[str]] = defaultdict(set)
        self.orders: Counter = Counter()
        self.by_interface: Counter = Counter()
        self.failed_by_interface: dict[str, Counter] = defaultdict(Counter)

    def add(self, iface: str, cid: str, month: str, fails: tuple[bool, bool, bool, bool],
            city: str | None) -> None:  # fmt: skip
        row = self.counts[(cid, month)]
        row[0] += 1
        for i, f in enumerate(fails):
            if f:
                row[i + 1] += 1
                self.failed_by_interface[iface][DIMENSIONS[i]] += 1
        if city is not None:
            self.cities[(cid, month)].add(city[:4])
        if iface == "orderCreate":
            self.orders[month] += 1
        self.by_interface[iface] += 1

    def add_many(self, iface: str, cid: str, months: np.ndarray, fails: list[np.ndarray],
                 cities: dict[str, set[str]]) -> None:  # fmt: skip
        """Points: ``months`` (strings) and one boolean array per dimension; ``cities`` the
        cities of the points by month."""
        for month in np.unique(months).tolist():
            mask = months == month
            row = self.counts[(cid, month)]
            row[0] += int(mask.sum())
            for i, f in enumerate(fails):
                n = int((f & mask).sum())
                row[i + 1] += n
                self.failed_by_interface[iface][DIMENSIONS[i]] += n
            self.cities[(cid, month)] |= {c[:4] for c in cities.get(month, ())}
        self.by_interface[iface] += len(months)


def _month_bounds(month: str) -> tuple[int, int]:
    """First and last second (wall clock) of a month ``YYYY-MM``."""
    first = dt.date(int(month[:4]), int(month[5:7]), 1)
    following = (first + dt.timedelta(days=32)).replace(day=1)
    return wall(first), wall(following) - 1


def _year_bounds(year: str) -> tuple[int, int]:
    return wall(dt.date(int(year), 1, 1)), wall(dt.date(int(year) + 1, 1, 1)) - 1


def _months(first: str, last: str) -> list[str]:
    out = []
    y, m = int(first[:4]), int(first[5:7])
    while f"{y:04d}-{m:02d}" <= last:
        out.append(f"{y:04d}-{m:02d}")
        y, m = (y + 1, 1) if m == 12 else (y, m + 1)
    return out


def _previous(month: str) -> str:
    y, m = int(month[:4]), int(month[5:7])
    return f"{y - 1:04d}-12" if m == 1 else f"{y:04d}-{m - 1:02d}"


def _segments(history: list[tuple[int, int, int]]) -> list[tuple[int, int]]:
    """[from, to) of the versions in force with State 0 (a later record of any Flag ends one)."""
    h = sorted(history)
    out = []
    for i, (t, flag, state) in enumerate(h):
        end = h[i + 1][0] if i + 1 < len(h) else 2**62
        if flag in (1, 2) and state == 0:
            out.append((t, end))
    return out


def in_force_at(history: list[tuple[int, int, int]], t: int) -> bool:
    return any(a <= t < b for a, b in _segments(history))


def permits(world: World) -> dict[str, dict[str, list[tuple[int, int]]]]:
    """company_id → permit city (4 digits) → its [from, to) in force with State 0."""
    out: dict[str, dict[str, list[tuple[int, int]]]] = defaultdict(dict)
    for key, history in world.histories.items():
        iface, cid, city = key.split("|")[:3] if key.count("|") >= 2 else (key, "", "")
        if iface == "baseInfoCompanyPermit":
            out[cid][city[:4]] = _segments(history)
    return out


def permit_cities(by_city: dict[str, list[tuple[int, int]]], first: int, last: int) -> set[str]:
    """The cities of a company's permit versions with State 0 in force at some time in
    [first, last]."""
    return {
        city for city, spans in by_city.items() if any(a <= last and b > first for a, b in spans)
    }


def _row(cid: str, name: str, period: str, counts: np.ndarray, covered: set[str],
         licensed: set[str]) -> dict[str, Any]:  # fmt: skip
    records = int(counts[0])
    failed = {d: int(counts[i + 1]) for i, d in enumerate(DIMENSIONS)}
    row: dict[str, Any] = {
        "company_id": cid, "company_name": name, "period": period, "transmitted": records > 0,
        "records": records, "failed": failed,
        "cities_covered": len(covered & licensed), "cities_licensed": len(licensed),
    }  # fmt: skip
    if records:
        rates = {d: (records - failed[d]) / records for d in DIMENSIONS}
        row.update({f"{d}_rate": rates[d] for d in DIMENSIONS})
        row["city_coverage_rate"] = (len(covered & licensed) / len(licensed)) if licensed else None
        row["score"] = 100 * sum(WEIGHTS[d] * rates[d] for d in DIMENSIONS)
    else:
        row.update({f"{d}_rate": None for d in DIMENSIONS})
        row["city_coverage_rate"] = 0.0
        row["score"] = 0.0
    return row


def evaluation(world: World, tally: Tally) -> dict[str, dict[str, Any]]:
    """``"<company_id>|<YYYY-MM or YYYY>"`` → the report row (and its counts), for every month
    and year from the first to the last with a record: each company with records in the period,
    or with a permit in force in it (``transmitted: false``)."""
    months_seen = sorted({m for _, m in tally.counts})
    if not months_seen:
        return {}
    months = _months(months_seen[0], months_seen[-1])
    years = sorted({m[:4] for m in months})
    out: dict[str, dict[str, Any]] = {}
    licences = permits(world)
    for c in world.companies:
        cid = c.company_id
        by_year: dict[str, np.ndarray] = defaultdict(lambda: np.zeros(5, np.int64))
        cities_year: dict[str, set[str]] = defaultdict(set)
        for m in months:
            counts = tally.counts.get((cid, m), np.zeros(5, np.int64))
            by_year[m[:4]] += counts
            cities_year[m[:4]] |= tally.cities.get((cid, m), set())
            licensed = permit_cities(licences.get(cid, {}), *_month_bounds(m))
            if counts[0] or licensed:
                out[f"{cid}|{m}"] = _row(cid, c.name, m, counts, tally.cities.get((cid, m), set()),
                                         licensed)  # fmt: skip
        for y in years:
            licensed = permit_cities(licences.get(cid, {}), *_year_bounds(y))
            if by_year[y][0] or licensed:
                out[f"{cid}|{y}"] = _row(cid, c.name, y, by_year[y], cities_year[y], licensed)
    return dict(sorted(out.items()))


def overview(world: World, tally: Tally) -> dict[str, dict[str, Any]]:
    """``YYYY-MM`` → the industry overview of that month (and its change on the month before)."""
    months_seen = sorted({m for _, m in tally.counts})
    if not months_seen:
        return {}

    wanted = [(key.partition("|"), history) for key, history in world.histories.items()
              if key.partition("|")[0] in ("baseInfoCompanyPermit", "baseInfoDriver",
                                           "baseInfoVehicle")]  # fmt: skip

    def values(month: str) -> dict[str, int]:
        _, end = _month_bounds(month)
        permitted: set[str] = set()
        drivers = vehicles = 0
        for (iface, _, rest), history in wanted:
            if not in_force_at(history, end):
                continue
            if iface == "baseInfoCompanyPermit":
                permitted.add(rest.split("|")[0])
            elif iface == "baseInfoDriver":
                drivers += 1
            else:
                vehicles += 1
        return {"platform_companies": len(permitted), "driver_licences": drivers,
                "vehicle_licences": vehicles, "orders": int(tally.orders.get(month, 0))}  # fmt: skip

    out = {}
    for m in _months(months_seen[0], months_seen[-1]):
        now, before = values(m), values(_previous(m))
        row: dict[str, Any] = {"period": m, **now}
        for k in ("driver_licences", "vehicle_licences", "orders"):
            row[f"{k}_mom"] = (now[k] - before[k]) / before[k] if before[k] else None
        out[m] = row
    return out


def month_of_days(days: np.ndarray) -> np.ndarray:
    """``YYYY-MM`` of day numbers (days since 1970-01-01), as a string array."""
    uniq = np.unique(days)
    lookup = {int(d): names.day10(int(d))[:7] for d in uniq.tolist()}
    return np.array([lookup[int(d)] for d in days.tolist()], dtype=object) if len(uniq) > 1 else (
        np.full(len(days), lookup[int(uniq[0])], dtype=object) if len(uniq) else
        np.zeros(0, dtype=object))  # fmt: skip

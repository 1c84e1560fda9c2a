"""The ride-hailing generator: every interface written with exactly the catalogue's fields, the
same seed gives the same bytes, every defect kind at its rate, the landing parser finds exactly the
malformed lines the summary says, and the known answer equals an independent recount of the files
by ridehailing.md's rules (ridehailing_recount.py)."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import math
import re
from collections import Counter
from pathlib import Path

import numpy as np
import pytest
from ridehailing_recount import recount

from transforms.lake.landing import parse_file
from transforms.licences.generate.extra import as_extra
from transforms.ridehailing.feeds import FEED_BY_INTERFACE, OUTAGES
from transforms.ridehailing.generate import (
    DEFAULT_ORDERS_PER_DAY,
    generate_ridehailing,
    licence_subjects,
)
from transforms.ridehailing.generate.defects import KINDS
from transforms.ridehailing.generate.landing import plan
from transforms.ridehailing.generate.records import line, position_fields, position_text
from transforms.ridehailing.generate.trips import build_day, build_points
from transforms.ridehailing.interfaces import BY_NAME, INTERFACES

START = dt.date(2026, 3, 30)  # across a month boundary
DAYS = 3
SEED = 5
PER_DAY = 100
RECEIVED = re.compile(r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}")


@pytest.fixture(scope="module")
def generated(tmp_path_factory):
    lake = tmp_path_factory.mktemp("ridehailing") / "lake"
    return lake, generate_ridehailing(lake, START, DAYS, seed=SEED, orders_per_day=PER_DAY)


def _files(lake: Path) -> list[Path]:
    return sorted((lake / "landing" / "ridehailing").rglob("*.jsonl"))


def _objects(lake: Path, iface: str) -> list[dict]:
    out = []
    for path in sorted((lake / "landing" / "ridehailing" / iface).glob("*/*.jsonl")):
        for raw in path.read_text(encoding="utf-8").splitlines():
            try:
                obj = json.loads(raw)
            except json.JSONDecodeError:
                continue
            if isinstance(obj, dict):
                out.append(obj)
    return out


def _digests(lake: Path) -> dict[str, str]:
    root = lake / "landing"
    return {
        str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest() for p in _files(lake)
    }


def test_every_interface_is_written_by_the_day_received(generated):
    lake, summary = generated
    base = lake / "landing" / "ridehailing"
    for name in [*(i.name for i in INTERFACES), "outageNotice"]:
        days = sorted(p.name for p in (base / name).iterdir())
        assert days, name
        for day in days:
            dt.date.fromisoformat(day)
        assert summary.files[name] == len(list((base / name).glob("*/*.jsonl"))), name
        assert summary.records_by_interface.get(name, 1) > 0, name
    # a line is in the folder of the day it was received
    for path in (base / "orderCreate").glob("*/*.jsonl"):
        for obj in map(json.loads, path.read_text("utf-8").splitlines()[:50]):
            if isinstance(obj, dict) and "received_at" in obj:
                assert obj["received_at"][:10] == path.parent.name


def test_fields_are_exactly_the_catalogues(generated):
    lake, _ = generated
    for spec in INTERFACES:
        seen: set[str] = set()
        names = [*spec.field_names, "received_at"]
        for obj in _objects(lake, spec.name):
            assert set(obj) <= set(names), (spec.name, set(obj) - set(names))
            assert list(obj) == [n for n in names if n in obj], spec.name  # catalogue order
            assert RECEIVED.fullmatch(obj["received_at"])
            seen |= set(obj)
        assert seen == set(names), (spec.name, set(names) - seen)
    notices = _objects(lake, "outageNotice")
    assert notices and all(set(n) == {"CompanyId", "planned", "notified_at", "start", "end"}
                           for n in notices)  # fmt: skip


def test_values_look_like_the_interfaces(generated):
    lake, _ = generated
    pos = _objects(lake, "positionDriver")[:2000]
    for p in pos:
        wall = dt.datetime.strptime(p["UpdateTime"], "%Y%m%d%H%M%S") if re.fullmatch(
            r"\d{14}", p["UpdateTime"]) else None  # fmt: skip
        if wall is not None:  # PositionTime: the GMT+8 wall clock as an instant
            assert (
                p["PositionTime"]
                == int((wall - dt.datetime(1970, 1, 1)).total_seconds()) - 8 * 3600
            )
        assert isinstance(p["Longitude"], int) and isinstance(p["Latitude"], int)
    orders = _objects(lake, "orderCreate")
    assert all(re.fullmatch(r"\d{14}", o["OrderTime"]) for o in orders)
    assert {o["Address"] for o in orders} <= {f"35{c}00" for c in "0123456789"} | {
        f"35{a}{b}00" for a in "0" for b in "123456789"}  # fmt: skip
    drivers = _objects(lake, "baseInfoDriver")
    assert all(len(d["LicenseId"]) == 18 for d in drivers)
    assert any(re.fullmatch(r"\d{8}", d.get("Birthday") or "") for d in drivers)


def test_same_seed_same_files_and_force(generated, tmp_path):
    lake, summary = generated
    again = tmp_path / "again"
    second = generate_ridehailing(again, START, DAYS, seed=SEED, orders_per_day=PER_DAY)
    assert _digests(again) == _digests(lake)
    assert second.to_dict() == summary.to_dict()
    with pytest.raises(FileExistsError):
        generate_ridehailing(again, START, DAYS, seed=SEED, orders_per_day=PER_DAY)
    other = generate_ridehailing(again, START, DAYS, seed=SEED + 1, orders_per_day=PER_DAY,
                                 force=True)  # fmt: skip
    assert _digests(again) != _digests(lake)
    assert other.records != summary.records


def test_the_landing_parser_finds_the_malformed_and_keyless_lines(generated):
    lake, summary = generated
    malformed = keyless = records = lines = 0
    for path in _files(lake):
        iface = path.parent.parent.name
        feed = OUTAGES if iface == "outageNotice" else FEED_BY_INTERFACE[iface]
        parsed = parse_file(path, feed)
        malformed += len(parsed.malformed)
        lines += parsed.lines
        if iface == "outageNotice":
            continue
        for _, values in parsed.records:
            if any(values.get(k) in (None, "") for k in BY_NAME[iface].key):
                keyless += 1
            records += 1
    q = summary.quarantined
    assert malformed == q["malformed"] > 0
    assert keyless == q["keyless"] > 0
    assert q["total"] == malformed + keyless == sum(q["by_interface"].values())
    assert lines == sum(summary.lines.values())
    # every other line is a copy of a record: re-sends make the difference
    resent = summary.injected["resend"] + summary.injected["corrected_resend"] + summary.injected[
        "pos_resend"]  # fmt: skip
    assert records - keyless == summary.records + resent


def test_the_answer_equals_a_recount_of_the_files(generated):
    lake, summary = generated
    counted = recount(lake, licence_subjects(START, DAYS, SEED, PER_DAY))
    assert counted["records"] == summary.records
    assert counted["lines"] == {k: summary.quarantined[k] for k in ("malformed", "keyless")}
    expected = {
        k: {f: row[f] for f in ("records", "failed", "transmitted", "cities_covered",
                                "cities_licensed")}
        for k, row in summary.evaluation.items()
    }  # fmt: skip
    assert counted["rows"] == expected
    assert counted["overview"] == {
        m: {k: v for k, v in row.items() if k in counted["overview"][m]}
        for m, row in summary.overview.items()
    }
    # every dimension fails somewhere, and truthfulness through every case
    total = Counter()
    for row in summary.evaluation.values():
        if len(row["period"]) == 7:
            total.update(row["failed"])
    assert all(total[d] > 0 for d in ("completeness", "normativity", "timeliness", "truthfulness"))


def test_each_defect_kind_at_its_rate(generated):
    _, summary = generated
    for kind in KINDS:
        n, k = summary.eligible[kind.name], summary.injected[kind.name]
        assert n > 0 and k >= 1, kind.name
        mean = kind.rate * n
        assert k <= mean + 5 * math.sqrt(mean) + 2, (kind.name, k, n)
        if mean > 20:
            assert k >= mean - 5 * math.sqrt(mean), (kind.name, k, n)
    failures = summary.failures
    for kind in KINDS:
        if kind.dimension is not None:
            assert failures.get(f"{kind.dimension}.{kind.name}", 0) >= 1, kind.name
    # the world's cases show in the failures (records of each), the passing ones do not
    for case in ("driver:ghost_driver", "driver:registered_late", "driver:deleted_driver",
                 "driver:revoked_licence", "driver:expired_licence", "vehicle:ghost_vehicle",
                 "vehicle:state_invalid_vehicle", "vehicle:expired_vehicle_licence",
                 "sentinel", "flag3_never_added"):  # fmt: skip
        assert failures.get(f"truthfulness.{case}", 0) >= 1, case
    assert not any("unlicensed" in k for k in failures)
    assert failures["truthfulness.sentinel"] == 10  # 5 phones + 5 birthdays; the 4 pass
    assert failures.get("timeliness.outage_unplanned", 0) > 0
    assert failures.get("timeliness.outage_short_notice", 0) > 0
    assert not any(k.endswith("outage_planned") for k in failures)


def test_bookkeeping_adds_up(generated):
    _, summary = generated
    rows = summary.evaluation
    months = {k: r for k, r in rows.items() if len(r["period"]) == 7}
    years = {k: r for k, r in rows.items() if len(r["period"]) == 4}
    assert sum(r["records"] for r in months.values()) == summary.records
    for year in years.values():
        cid = year["company_id"]
        mine = [r for r in months.values() if r["company_id"] == cid]
        assert year["records"] == sum(r["records"] for r in mine)
        for d in year["failed"]:
            assert year["failed"][d] == sum(r["failed"][d] for r in mine)
    by_dim = Counter()
    for row in months.values():
        by_dim.update(row["failed"])
    for d, n in by_dim.items():
        assert n == sum(f[d] for f in summary.failed_by_interface.values())
        assert n == sum(v for k, v in summary.failures.items() if k.startswith(d + "."))
    assert summary.orders == sum(o["orders"] for o in summary.overview.values())
    for row in rows.values():
        if row["transmitted"]:
            for d in ("completeness", "normativity", "timeliness", "truthfulness"):
                assert row[f"{d}_rate"] == (row["records"] - row["failed"][d]) / row["records"]
            mean = sum(row[f"{d}_rate"] for d in ("completeness", "normativity", "timeliness",
                                                 "truthfulness")) / 4  # fmt: skip
            assert row["score"] == pytest.approx(100 * mean, abs=1e-9)
        else:
            assert row["records"] == 0 and row["score"] == 0 and row["city_coverage_rate"] == 0
            assert row["completeness_rate"] is None
    # the silent company: transmitted in the month of its old static data, then not
    silent = next(p for p in summary.platforms if p["silent"])
    mine = sorted((r["period"], r["transmitted"]) for r in months.values()
                  if r["company_id"] == silent["company_id"])  # fmt: skip
    assert mine == [("2026-02", True), ("2026-03", False), ("2026-04", False)]
    # coverage: a licensed city without data, an unlicensed city with data that does not count
    first = summary.platforms[0]["company_id"]
    assert rows[f"{first}|2026-03"]["cities_licensed"] > rows[f"{first}|2026-03"]["cities_covered"]
    second = summary.platforms[1]["company_id"]
    assert rows[f"{second}|2026"]["city_coverage_rate"] == 1.0


def test_outages_are_announced_and_backfilled(generated):
    _, summary = generated
    kinds = {o["kind"]: o for o in summary.outages}
    planned = kinds["planned"]
    f14 = lambda s: dt.datetime.strptime(s, "%Y%m%d%H%M%S")  # noqa: E731
    assert planned["planned"] and planned["exempt"]
    assert f14(planned["start"]) - f14(planned["notified_at"]) >= dt.timedelta(hours=72)
    assert not kinds["unplanned"]["planned"] and not kinds["unplanned"]["exempt"]
    assert kinds["short_notice"]["planned"] and not kinds["short_notice"]["exempt"]
    for o in summary.outages:
        assert o["records_in_window"] > 0 and o["lines_backfilled"] > 0


def test_licence_subjects_are_what_the_licence_generator_takes(generated):
    _, summary = generated
    specs = licence_subjects(START, DAYS, SEED, PER_DAY)
    extra = as_extra(specs)  # validates every spec, numbers unique
    by_kind = Counter(s.kind for s in extra)
    world = plan(START, DAYS, SEED, PER_DAY)
    assert by_kind["ride_hailing_permit"] == len(world.companies)
    unlicensed = sum(1 for d in world.drivers if d.case == "unlicensed")
    assert unlicensed >= 1
    assert by_kind["ride_hailing_driver"] == len(world.drivers) - unlicensed
    assert by_kind["ride_hailing_vehicle"] == len(world.vehicles) - sum(
        1 for v in world.vehicles if v.case == "unlicensed_vehicle")  # fmt: skip
    assert summary.licences == len(extra)
    first_key = dt.datetime.combine(START - dt.timedelta(days=365), dt.time())
    end = dt.datetime.combine(START + dt.timedelta(days=DAYS), dt.time())
    for lic in extra:
        for v in lic.versions:
            assert first_key <= v.issued_at < end
    assert any(v.status == "revoked" for lic in extra for v in lic.versions)
    # drivers' numbers are what baseInfoDriver files, holders their ID numbers
    holders = {
        s["holder_key"]: s["licence_no"] for s in specs if s["kind"] == "ride_hailing_driver"
    }
    licensed = [d for d in world.drivers if d.licence]
    assert all(holders[d.license_id] == d.cert_no for d in licensed)
    assert not any(k.startswith("闽JD") for s in specs if s["kind"] == "ride_hailing_vehicle"
                   for k in [s["holder_key"]])  # fmt: skip


def test_positions_written_fast_are_the_records_written_slowly():
    world = plan(START, DAYS, SEED, PER_DAY)
    company = world.active[0]
    day = build_day(world, company, 0, 30)
    pts = build_points(world, day, 30)
    recv = pts.t + 7
    picks = np.array([0, 1, len(pts) // 2, len(pts) - 1])
    for iface in ("positionDriver", "positionVehicle"):
        fast = position_text(world, day, pts, picks, recv, iface).splitlines(keepends=True)
        slow = [line(position_fields(world, day, pts, int(i), iface), int(recv[i])) for i in picks]
        assert fast == slow


def test_default_volume_is_small(tmp_path):
    from orchestration.cli.telematics import RIDEHAILING_ORDERS_PER_DAY

    assert RIDEHAILING_ORDERS_PER_DAY == DEFAULT_ORDERS_PER_DAY  # hooks without `scale` agree
    summary = generate_ridehailing(tmp_path / "lake", START, 1, seed=SEED)
    positions = summary.lines["positionDriver"] + summary.lines["positionVehicle"]
    assert 5_000 < positions < 50_000
    assert 100 <= summary.orders <= 300
    more = generate_ridehailing(tmp_path / "more", START, 1, seed=SEED, orders_per_day=600)
    assert 2 * summary.orders < more.orders


def test_cli_hooks_pass_the_scale():
    from orchestration.cli import ridehailing

    scale = {"ridehailing_orders_per_day": PER_DAY}
    assert ridehailing.licence_subjects(Path("unused"), START, DAYS, SEED, scale) == (
        licence_subjects(START, DAYS, SEED, PER_DAY))  # fmt: skip
    assert ridehailing.licence_subjects(Path("unused"), START, DAYS, SEED) == licence_subjects(
        START, DAYS, SEED)  # fmt: skip

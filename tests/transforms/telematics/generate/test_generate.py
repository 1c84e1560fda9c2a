"""transforms.telematics.generate: determinism, and a summary matching an independent re-parse of the files."""

from __future__ import annotations

import csv
import hashlib
import io
import json
import re
from collections import Counter, defaultdict
from datetime import date, datetime, timedelta
from math import asin, cos, radians, sin, sqrt
from pathlib import Path
from typing import Any

import pytest

from transforms.telematics.generate import GenerationSummary, generate_landing
from transforms.telematics.generate.master import org_code_check_char, uscc_check_char

START = date(2025, 3, 1)
DAYS = 2
VEHICLES = 30
BAD_RATE = 0.01  # high enough for every defect kind in ~50 000 records
FIELDS = (
    "platform_id", "plate", "plate_color", "gnss_time", "lon", "lat", "speed", "recorder_speed",
    "mileage_km", "direction", "altitude", "state", "alarm", "received_at",
)  # fmt: skip
PLATE_RE = re.compile(
    r"^[京津沪渝冀豫云辽黑湘皖鲁新苏浙赣鄂桂甘晋蒙陕吉闽贵粤青藏川宁琼][A-HJ-NP-Z]"
    r"[A-HJ-NP-Z0-9]{4,5}[A-HJ-NP-Z0-9挂学警港澳]$"
)
PLATE_COLORS = {1, 2, 3, 4, 5, 9}
TS_FORMAT = "%Y-%m-%d %H:%M:%S"
FUTURE_TOLERANCE = timedelta(minutes=5)
INJECTED_RULES = {
    "plate_valid", "plate_color_valid", "gnss_time_not_future", "lon_in_range", "lat_in_range",
    "speed_in_range", "direction_in_range", "altitude_in_range",
}  # fmt: skip
DRIVING_STEP_S = 30


def _num(value: Any) -> float | None:
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def _ts(value: Any) -> datetime | None:
    try:
        return datetime.strptime(value, TS_FORMAT)
    except (TypeError, ValueError):
        return None


def _between(value: Any, lo: float, hi: float | None) -> bool:
    x = _num(value)
    return x is not None and x >= lo and (hi is None or x <= hi)


def failed_rules(r: dict[str, Any]) -> list[str]:
    """The qualification rules of tables.md, re-implemented with plain Python."""
    failed = []
    if not (isinstance(r["plate"], str) and PLATE_RE.match(r["plate"])):
        failed.append("plate_valid")
    color = _num(r["plate_color"])
    if color is None or color not in PLATE_COLORS:
        failed.append("plate_color_valid")
    gnss, received = _ts(r["gnss_time"]), _ts(r["received_at"])
    if gnss is None:
        failed.append("gnss_time_valid")
    elif received is not None and gnss > received + FUTURE_TOLERANCE:
        failed.append("gnss_time_not_future")
    checks = {
        "lon_in_range": ("lon", 73.55, 135.0833),
        "lat_in_range": ("lat", 3.85, 53.55),
        "speed_in_range": ("speed", 0, 160),
        "recorder_speed_in_range": ("recorder_speed", 0, 160),
        "mileage_km_valid": ("mileage_km", 0, None),
        "direction_in_range": ("direction", 0, 359),
        "altitude_in_range": ("altitude", -200, 6500),
        "state_present": ("state", 0, None),
        "alarm_present": ("alarm", 0, None),
    }
    failed += [rule for rule, (col, lo, hi) in checks.items() if not _between(r[col], lo, hi)]
    return failed


def read_positions(lake: Path) -> tuple[int, int, list[tuple[str, dict[str, Any]]]]:
    """(data lines, malformed lines, [(folder date, record)]) of every position file."""
    lines_total = malformed = 0
    records = []
    for path in sorted((lake / "landing/telematics/positions").glob("*/*")):
        folder = path.parent.name
        text = path.read_text(encoding="utf-8")
        assert text.endswith("\n")
        if path.suffix == ".csv":
            rows = list(csv.reader(io.StringIO(text)))
            assert tuple(rows[0]) == FIELDS
            for row in rows[1:]:
                lines_total += 1
                if len(row) != len(FIELDS):
                    malformed += 1
                else:
                    records.append((folder, dict(zip(FIELDS, row, strict=True))))
        else:
            for line in text.splitlines():
                lines_total += 1
                try:
                    obj = json.loads(line)
                except json.JSONDecodeError:
                    obj = None
                if not isinstance(obj, dict):
                    malformed += 1
                else:
                    assert tuple(obj) == FIELDS
                    records.append((folder, obj))
    return lines_total, malformed, records


def key(r: dict[str, Any]) -> tuple[str, int, str]:
    return (r["plate"], int(r["plate_color"]), r["gnss_time"])


def read_master(lake: Path, feed: str) -> list[dict[str, Any]]:
    path = lake / f"landing/telematics/{feed}/{START}/{feed}.jsonl"
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def digests(lake: Path) -> dict[str, str]:
    return {
        str(p.relative_to(lake)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(lake.rglob("*"))
        if p.is_file()
    }


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, GenerationSummary]:
    lake = tmp_path_factory.mktemp("lake")
    summary = generate_landing(lake, START, DAYS, VEHICLES, seed=11, bad_rate=BAD_RATE)
    return lake, summary


@pytest.fixture(scope="module")
def parsed(generated: tuple[Path, GenerationSummary]):
    lake, _ = generated
    return read_positions(lake)


def test_same_seed_same_bytes_and_other_seed_differs(tmp_path: Path) -> None:
    a = generate_landing(tmp_path / "a", START, 1, 5, seed=3)
    b = generate_landing(tmp_path / "b", START, 1, 5, seed=3)
    c = generate_landing(tmp_path / "c", START, 1, 5, seed=4)
    assert c.to_dict() != a.to_dict()
    assert digests(tmp_path / "a") == digests(tmp_path / "b")
    assert a.to_dict() == b.to_dict()
    assert digests(tmp_path / "a") != digests(tmp_path / "c")
    assert a.lines_total > 0


def test_existing_files_are_not_overwritten_without_force(tmp_path: Path) -> None:
    first = generate_landing(tmp_path, START, 1, 5, seed=3)
    before = digests(tmp_path)
    with pytest.raises(FileExistsError, match="force"):
        generate_landing(tmp_path, START, 1, 5, seed=3)
    assert digests(tmp_path) == before
    again = generate_landing(tmp_path, START, 1, 5, seed=3, force=True)
    assert digests(tmp_path) == before and again == first


def test_summary_matches_a_reparse_of_the_files(generated, parsed) -> None:
    lake, s = generated
    lines_total, malformed, records = parsed
    assert s.lines_total == lines_total
    assert s.malformed_lines == malformed
    assert s.parsed_records == len(records) == lines_total - malformed

    by_rule: Counter[str] = Counter()
    qualified, unqualified = [], []
    for folder, r in records:
        failed = failed_rules(r)
        assert len(failed) <= 1, (failed, r)  # each defect breaks exactly one rule
        assert r["gnss_time"][:10] == folder  # records are of their folder's day
        if failed:
            by_rule[failed[0]] += 1
            unqualified.append(r)
        else:
            qualified.append(r)
    assert set(by_rule) <= INJECTED_RULES
    assert s.unqualified_by_rule == {rule: by_rule[rule] for rule in s.unqualified_by_rule}
    assert set(s.unqualified_by_rule) == INJECTED_RULES
    assert s.unqualified_records == len(unqualified) == sum(by_rule.values())
    assert s.quarantine_records == malformed + len(unqualified)

    # every defect kind, duplicates and unknown vehicles occur
    assert malformed > 0 and s.duplicate_records > 0 and s.unknown_vehicle_records > 0
    assert all(by_rule[rule] > 0 for rule in INJECTED_RULES)

    # unqualified records share their key with no other record
    all_keys = Counter(key(r) for _, r in records)
    assert all(all_keys[key(r)] == 1 for r in unqualified)

    # duplicates are identical copies of qualified records
    q_keys = Counter(key(r) for r in qualified)
    assert s.qualified_unique_records == len(q_keys)
    assert s.duplicate_records == len(qualified) - len(q_keys)
    copies = defaultdict(set)
    for r in qualified:
        copies[key(r)].add(json.dumps(r, sort_keys=True))
    assert all(len(v) == 1 for v in copies.values())

    # unknown vehicles: qualified records whose (plate, colour) is not in vehicles.jsonl
    vehicles = read_master(lake, "vehicles")
    county_of = {(v["plate"], v["plate_color"]): v["county_code"] for v in vehicles}
    unknown = [k for k in q_keys if (k[0], k[1]) not in county_of]
    assert s.unknown_vehicle_records == len(unknown)

    # per (day, county)
    points: Counter[str] = Counter()
    online: defaultdict[str, set] = defaultdict(set)
    for plate, color, gnss in q_keys:
        county = county_of.get((plate, color))
        if county is not None:
            points[f"{gnss[:10]}|{county}"] += 1
            online[f"{gnss[:10]}|{county}"].add((plate, color))
    expected = {
        k: {"online_vehicles": len(online[k]), "qualified_points": points[k]} for k in s.county_days
    }
    assert s.county_days == expected
    assert sum(points.values()) == sum(c["qualified_points"] for c in s.county_days.values())
    assert set(points) <= set(s.county_days)

    # master counts and files
    assert s.vehicles == len(vehicles) == VEHICLES
    assert s.counties == len(read_master(lake, "counties")) == 9
    assert s.enterprises == len(read_master(lake, "enterprises"))
    assert s.platforms == len(read_master(lake, "platforms"))
    files = Counter(p.parts[-3] for p in (lake / "landing/telematics").rglob("*") if p.is_file())
    assert s.files == dict(files)
    assert s.days == [str(START + timedelta(days=d)) for d in range(DAYS)]
    assert json.loads(json.dumps(s.to_dict())) == s.to_dict()


def test_master_data_is_valid(generated) -> None:
    lake, _ = generated
    vehicles = read_master(lake, "vehicles")
    enterprises = {e["enterprise_id"]: e for e in read_master(lake, "enterprises")}
    platforms = {p["platform_id"]: p for p in read_master(lake, "platforms")}
    counties = {c["county_code"] for c in read_master(lake, "counties")}
    assert "350902" in counties and len(platforms) in (2, 3, 4)
    assert {p["kind"] for p in platforms.values()} <= {"commercial", "self_built"}
    assert len({(v["plate"], v["plate_color"]) for v in vehicles}) == len(vehicles)
    for v in vehicles:
        assert PLATE_RE.match(v["plate"]) and v["plate_color"] in PLATE_COLORS
        assert v["enterprise_id"] in enterprises and v["platform_id"] in platforms
        assert v["county_code"] in counties and v["registered_at"] < str(START)
        if v["plate_color"] == 5:
            assert len(v["plate"]) == 8  # new-energy plates have 6 characters after 闽J
    for uscc in enterprises:
        assert len(uscc) == 18 and uscc_check_char(uscc[:17]) == uscc[17]
        assert org_code_check_char(uscc[8:16]) == uscc[16]
    assert uscc_check_char("91440300192203821") == "6"  # 华为技术有限公司
    assert all(pid.isdigit() for pid in platforms)


def _tracks(records) -> dict[tuple[str, int, str], list[dict[str, Any]]]:
    tracks: dict[tuple[str, int, str], list[dict[str, Any]]] = defaultdict(list)
    for _, r in records:
        if not failed_rules(r):
            tracks[(r["plate"], int(r["plate_color"]), r["gnss_time"][:10])].append(r)
    for track in tracks.values():
        track.sort(key=lambda r: r["gnss_time"])
    return tracks


def _driving_steps(records) -> Counter[int]:
    """Seconds between consecutive points of a vehicle-day where both move with ACC on."""
    steps: Counter[int] = Counter()
    for track in _tracks(records).values():
        for a, b in zip(track, track[1:], strict=False):
            moving = float(a["speed"]) > 0 and float(b["speed"]) > 0
            if moving and int(a["state"]) & 1 and int(b["state"]) & 1:
                steps[int((_ts(b["gnss_time"]) - _ts(a["gnss_time"])).total_seconds())] += 1
    return steps


def test_driving_reports_every_30_s(tmp_path: Path) -> None:
    # without defects no point is missing, so every driving step is exactly 30 s
    generate_landing(tmp_path, START, 1, 12, seed=5, bad_rate=0.0)
    steps = _driving_steps(read_positions(tmp_path)[2])
    assert sum(steps.values()) > 5000
    assert set(steps) == {DRIVING_STEP_S}


def test_realistic_behaviour(generated, parsed) -> None:
    lake, _ = generated
    master = {(v["plate"], v["plate_color"]): v for v in read_master(lake, "vehicles")}
    overspeed_runs = night = bus_02_05 = long_sessions = drift_jumps = 0
    for (plate, color, _), track in _tracks(parsed[2]).items():
        times = [_ts(r["gnss_time"]) for r in track]
        speeds = [float(r["speed"]) for r in track]
        vehicle = master.get((plate, color))
        run_start = session_start = last_drive = None
        for i in range(1, len(track)):
            dt = (times[i] - times[i - 1]).total_seconds()
            if vehicle and speeds[i] > vehicle["speed_limit_kmh"]:
                run_start = run_start or times[i]
                if (times[i] - run_start).total_seconds() > 30:
                    overspeed_runs += 1
                    run_start = None
            else:
                run_start = None
            if speeds[i] > 0:
                hour = times[i].hour
                night += hour >= 22 or hour < 6
                is_bus = vehicle is not None and vehicle["vehicle_type"] == "bus_scheduled"
                bus_02_05 += is_bus and 2 <= hour < 5
                if last_drive is None or (times[i] - last_drive).total_seconds() >= 20 * 60:
                    session_start = times[i]
                last_drive = times[i]
                long_sessions += (times[i] - session_start).total_seconds() > 4 * 3600
            km = _haversine(track[i - 1], track[i])
            drift_jumps += dt > 0 and km >= 10 and km / dt * 3600 > 200
    assert overspeed_runs > 0  # speed above the vehicle's limit for more than 30 s
    assert night > 0 and bus_02_05 > 0 and long_sessions > 0 and drift_jumps > 0


def _haversine(a: dict[str, Any], b: dict[str, Any]) -> float:
    p1, p2 = radians(float(a["lat"])), radians(float(b["lat"]))
    dl = radians(float(b["lon"]) - float(a["lon"]))
    h = sin((p2 - p1) / 2) ** 2 + cos(p1) * cos(p2) * sin(dl / 2) ** 2
    return 2 * 6371.0088 * asin(sqrt(min(h, 1.0)))


def test_small_fleet_and_invalid_arguments(tmp_path: Path) -> None:
    s = generate_landing(tmp_path, START, 1, 5, bad_rate=0.0)
    assert s.quarantine_records == 0 and s.duplicate_records == 0
    assert s.qualified_unique_records == s.lines_total > 0
    with pytest.raises(ValueError):
        generate_landing(tmp_path / "x", START, 0, 5)
    with pytest.raises(ValueError):
        generate_landing(tmp_path / "x", START, 1, 5, bad_rate=0.5)


def _tree(root: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()
    }


def test_output_does_not_depend_on_chunking(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Spill, block and write-chunk sizes bound memory only: the bytes are the same."""
    from transforms.telematics.generate import landing

    kw: dict[str, Any] = {"days": 2, "vehicles": 12, "seed": 5, "bad_rate": 0.02}
    a = generate_landing(tmp_path / "a", START, **kw)
    monkeypatch.setattr(landing, "WRITE_CHUNK", 7)
    monkeypatch.setattr(landing, "THIN_BLOCK", 2)
    b = generate_landing(tmp_path / "b", START, **kw)
    assert a == b
    assert a.duplicate_records > 0 and sum(a.bad_frames.values()) > 0
    files = _tree(tmp_path / "a")
    assert files == _tree(tmp_path / "b")
    assert all(name.startswith("landing/") for name in files)  # no spill left behind

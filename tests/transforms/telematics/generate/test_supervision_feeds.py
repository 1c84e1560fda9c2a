"""transforms.telematics.generate, issue 3 feeds: routes, regions, platform links, 查岗 checks, raw frames, and
the realism every assessment rule needs — re-checked from the files with plain Python."""

from __future__ import annotations

import csv
import hashlib
import io
import json
from collections import Counter, defaultdict
from datetime import date, datetime, timedelta
from math import asin, cos, radians, sin, sqrt
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from transforms.telematics.frames import FrameError, decode_line
from transforms.telematics.generate import GenerationSummary, generate_landing

START = date(2025, 3, 1)
DAYS = 2
VEHICLES = 60
SEED = 11
TS = "%Y-%m-%d %H:%M:%S"
R_KM = 6371.0088
KM_PER_DEG_LAT, KM_PER_DEG_LON = 110.574, 111.320
LINK_REASONS = {"fault", "reported_outage", "upstream", "operator"}
CHECK_LIMIT = timedelta(minutes=15)
FIELDS = (
    "platform_id", "plate", "plate_color", "gnss_time", "lon", "lat", "speed", "recorder_speed",
    "mileage_km", "direction", "altitude", "state", "alarm", "received_at",
)  # fmt: skip


# ---- reading the lake ---------------------------------------------------------------------------
def feed_dir(lake: Path, feed: str) -> Path:
    return lake / "landing/telematics" / feed


def jsonl(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def master(lake: Path, feed: str) -> list[dict[str, Any]]:
    return jsonl(feed_dir(lake, feed) / str(START) / f"{feed}.jsonl")


def file_records(lake: Path) -> list[dict[str, Any]]:
    """Parseable records of the position files (malformed lines skipped)."""
    out = []
    for path in sorted(feed_dir(lake, "positions").glob("*/*")):
        text = path.read_text(encoding="utf-8")
        if path.suffix == ".csv":
            rows = list(csv.reader(io.StringIO(text)))[1:]
            out += [dict(zip(FIELDS, r, strict=True)) for r in rows if len(r) == len(FIELDS)]
        else:
            for line in text.splitlines():
                try:
                    out.append(json.loads(line))
                except json.JSONDecodeError:
                    pass
    return out


def qualified(r: dict[str, Any], plates: set[tuple[str, int]]) -> bool:
    """Enough of the qualification rules to drop every injected defect."""
    try:
        lon, lat, speed = float(r["lon"]), float(r["lat"]), float(r["speed"])
        gnss = datetime.fromisoformat(r["gnss_time"])
        received = datetime.fromisoformat(r["received_at"])
        direction, altitude = int(r["direction"]), int(r["altitude"])
    except (TypeError, ValueError):
        return False
    return (
        (r["plate"], int(r["plate_color"])) in plates
        and 73.55 <= lon <= 135.0833
        and 3.85 <= lat <= 53.55
        and 0 <= speed <= 160
        and 0 <= direction <= 359
        and -200 <= altitude <= 6500
        and gnss <= received + timedelta(minutes=5)
    )


def read_frames(lake: Path) -> tuple[int, Counter[str], list[tuple[str, Any, str]]]:
    """(lines, failure reason counts, [(file platform, decoded frame, received_at)])."""
    lines, bad, frames = 0, Counter(), []
    for path in sorted(feed_dir(lake, "frames").glob("*/*.hex")):
        for text in path.read_text(encoding="ascii").splitlines():
            lines += 1
            try:
                received_at, frame = decode_line(text)
            except FrameError as exc:
                bad[exc.reason] += 1
                continue
            assert received_at is not None and len(received_at) == 19
            frames.append((path.stem, frame, received_at))
    return lines, bad, frames


def haversine(lon1: float, lat1: float, lon2: float, lat2: float) -> float:
    p1, p2 = radians(lat1), radians(lat2)
    h = sin((p2 - p1) / 2) ** 2 + cos(p1) * cos(p2) * sin(radians(lon2 - lon1) / 2) ** 2
    return 2 * R_KM * asin(sqrt(min(h, 1.0)))


def distance_to_polyline_km(lon: list[float], lat: list[float], line: list[list[float]]):
    """Per point: equirectangular distance (around the point) to the nearest segment, km."""
    px, py = np.array(lon)[:, None], np.array(lat)[:, None]
    vx, vy = np.array(line).T
    kx = KM_PER_DEG_LON * np.cos(np.radians(py))
    ax, ay = (vx[None, :-1] - px) * kx, (vy[None, :-1] - py) * KM_PER_DEG_LAT
    bx, by = (vx[None, 1:] - px) * kx, (vy[None, 1:] - py) * KM_PER_DEG_LAT
    dx, dy = bx - ax, by - ay
    seg = np.maximum(dx * dx + dy * dy, 1e-12)
    t = np.clip(-(ax * dx + ay * dy) / seg, 0.0, 1.0)
    return np.hypot(ax + t * dx, ay + t * dy).min(axis=1)


def inside(lon: float, lat: float, ring: list[list[float]]) -> bool:
    odd = False
    for (x1, y1), (x2, y2) in zip(ring, ring[1:], strict=False):
        if (y1 > lat) != (y2 > lat) and lon < x1 + (lat - y1) * (x2 - x1) / (y2 - y1):
            odd = not odd
    return odd


def max_run(flags: list[bool]) -> int:
    best = cur = 0
    for f in flags:
        cur = cur + 1 if f else 0
        best = max(best, cur)
    return best


# ---- fixtures -----------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def lake_summary(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, GenerationSummary]:
    lake = tmp_path_factory.mktemp("lake")
    return lake, generate_landing(lake, START, DAYS, VEHICLES, seed=SEED)


def read_tracks(lake: Path) -> dict[tuple[str, int, str], list[dict[str, Any]]]:
    """Qualified unique points of every registered vehicle-day, files and frames together."""
    vehicles = master(lake, "vehicles")
    plates = {(v["plate"], v["plate_color"]) for v in vehicles}
    by_phone = {v["terminal_phone"]: v for v in vehicles if v["terminal_phone"]}
    points: dict[tuple[str, int, str], dict[str, Any]] = {}
    for r in file_records(lake):
        if qualified(r, plates):
            points[(r["plate"], int(r["plate_color"]), r["gnss_time"])] = r
    for _, f, received_at in read_frames(lake)[2]:
        if f.protocol == "jtt808":
            v = by_phone[f.terminal_phone.lstrip("0")]
            plate, color = v["plate"], v["plate_color"]
        else:
            plate, color = f.plate, f.plate_color
        r = {"plate": plate, "plate_color": color, "gnss_time": f.gnss_time, "lon": f.lon,
             "lat": f.lat, "speed": f.speed, "received_at": received_at}  # fmt: skip
        points[(plate, color, f.gnss_time)] = r
    out: dict[tuple[str, int, str], list[dict[str, Any]]] = defaultdict(list)
    for (plate, color, gnss), r in sorted(points.items()):
        out[(plate, color, gnss[:10])].append(r)
    return out


@pytest.fixture(scope="module")
def tracks(lake_summary) -> dict[tuple[str, int, str], list[dict[str, Any]]]:
    return read_tracks(lake_summary[0])


# ---- feeds --------------------------------------------------------------------------------------
def test_routes_and_regions(lake_summary) -> None:
    lake, s = lake_summary
    vehicles = master(lake, "vehicles")
    routes = {r["route_id"]: r for r in master(lake, "routes")}
    regions = {r["region_id"]: r for r in master(lake, "regions")}
    counties = {c["county_code"] for c in master(lake, "counties")}
    assert s.routes == len(routes) and s.regions == len(regions) and "350902" in counties
    for r in routes.values():
        line = r["polyline"]
        assert len(line) >= 3 and "—" in r["name"]
        km = sum(haversine(*a, *b) for a, b in zip(line, line[1:], strict=False))
        assert abs(km - r["length_km"]) < 0.05
    lengths = [r["length_km"] for r in routes.values()]
    assert min(lengths) <= 100 < max(lengths)  # short (exempt) and long routes
    for r in regions.values():
        ring = r["polygon"]
        assert ring[0] == ring[-1] and len(ring) >= 4
    ningde = next(r for r in regions.values() if r["name"] == "宁德市域")
    assert inside(119.526, 26.660, ningde["polygon"])  # 蕉城区
    assert not inside(119.296, 26.074, ningde["polygon"])  # 福州市
    for v in vehicles:
        assert (v["route_id"] in routes) == (v["vehicle_type"] == "bus_scheduled")
        assert (v["region_id"] in regions) == (v["vehicle_type"] == "bus_charter")
        assert isinstance(v["route_exempt"], bool)
        assert v["route_exempt"] is False or v["vehicle_type"] == "bus_scheduled"
    assert any(v["route_exempt"] for v in vehicles)
    phones = [v["terminal_phone"] for v in vehicles if v["terminal_phone"] is not None]
    assert len(phones) == len(set(phones)) > len(vehicles) // 2
    assert all(len(p) == 11 and p.isdigit() and p[0] == "1" for p in phones)


def test_platform_links(lake_summary) -> None:
    lake, s = lake_summary
    platforms = [p["platform_id"] for p in master(lake, "platforms")]
    events = []
    for path in sorted(feed_dir(lake, "platform_links").glob("*/links.jsonl")):
        day_events = jsonl(path)
        assert all(e["at"][:10] == path.parent.name for e in day_events)
        assert [e["at"] for e in day_events] == sorted(e["at"] for e in day_events)
        events += day_events
    assert s.links_events == len(events)
    first = [e for e in events if e["at"] == f"{START} 00:00:00"]
    assert sorted(e["platform_id"] for e in first) == sorted(platforms)
    assert all(e["event"] == "up" and e["reason"] is None for e in first)
    last: dict[str, dict[str, Any]] = {}
    down_min: Counter[str] = Counter()
    for e in events:  # strictly alternating per platform, down with a reason, up without
        prev = last.get(e["platform_id"])
        assert e["event"] != (prev or {}).get("event")
        assert (e["reason"] in LINK_REASONS) if e["event"] == "down" else e["reason"] is None
        if prev is not None and prev["event"] == "down":
            down = datetime.strptime(e["at"], TS) - datetime.strptime(prev["at"], TS)
            down_min[prev["reason"]] += down.total_seconds() / 60
        last[e["platform_id"]] = e
    state = {pid: e["event"] for pid, e in last.items()}
    reasons = Counter(e["reason"] for e in events if e["event"] == "down")
    assert set(reasons) == LINK_REASONS and reasons["reported_outage"] == 1
    assert all(v == "up" for v in state.values())  # every outage ends the same day
    total_min = len(platforms) * DAYS * 24 * 60
    assert sum(down_min.values()) < 0.05 * total_min  # most platforms stay up
    assert 0 < down_min["fault"] < down_min["reported_outage"]


def test_platform_checks(lake_summary) -> None:
    lake, s = lake_summary
    platforms = {p["platform_id"] for p in master(lake, "platforms")}
    served = defaultdict(set)
    for v in master(lake, "vehicles"):
        served[v["platform_id"]].add(v["enterprise_id"])
    checks = []
    for path in sorted(feed_dir(lake, "platform_checks").glob("*/checks.jsonl")):
        day_checks = jsonl(path)
        assert all(c["sent_at"][:10] == path.parent.name for c in day_checks)
        checks += day_checks
    assert s.checks == len(checks) and len({c["check_id"] for c in checks}) == len(checks)
    waits = []
    for c in checks:
        assert c["platform_id"] in platforms
        assert c["enterprise_id"] is None or c["enterprise_id"] in served[c["platform_id"]]
        if c["answered_at"] is None:
            assert c["answer"] is None
            waits.append(None)
        else:
            assert c["answer"]
            waits.append(
                datetime.strptime(c["answered_at"], TS) - datetime.strptime(c["sent_at"], TS)
            )
    in_time = [w for w in waits if w is not None and w <= CHECK_LIMIT]
    assert s.checks_answered_in_15_min == len(in_time) > len(checks) // 2
    assert all(timedelta(minutes=1) <= w for w in in_time)
    assert any(w is None for w in waits) and any(w and w > CHECK_LIMIT for w in waits)
    assert any(c["enterprise_id"] for c in checks) and any(not c["enterprise_id"] for c in checks)


def test_frames_match_the_summary_and_are_not_in_the_files(lake_summary) -> None:
    lake, s = lake_summary
    lines, bad, frames = read_frames(lake)
    vehicles = master(lake, "vehicles")
    by_phone = {v["terminal_phone"]: v for v in vehicles if v["terminal_phone"]}
    plates = {(v["plate"], v["plate_color"]): v for v in vehicles}
    assert s.frames_lines == lines > 0
    assert s.bad_frames == {"bad_checksum": bad["bad_checksum"], "bad_flags": bad["bad_flags"]}
    assert set(bad) == {"bad_checksum", "bad_flags"} and all(bad.values())
    assert s.frame_positions == len(frames) == lines - sum(bad.values())
    keys, protocols = set(), Counter()
    for platform_id, f, received_at in frames:
        if f.protocol == "jtt809":
            assert f.platform_id == platform_id and (f.plate, f.plate_color) in plates
            key = (f.plate, f.plate_color, f.gnss_time)
            assert plates[(f.plate, f.plate_color)]["platform_id"] == platform_id
        else:
            v = by_phone[f.terminal_phone.lstrip("0")]  # 12 BCD digits, zero padded
            key = (v["plate"], v["plate_color"], f.gnss_time)
        protocols[f.protocol] += key not in keys
        keys.add(key)
        r = {"plate": key[0], "plate_color": key[1], "gnss_time": f.gnss_time, "lon": f.lon,
             "lat": f.lat, "speed": f.speed, "direction": f.direction, "altitude": f.altitude,
             "received_at": received_at}  # fmt: skip
        assert qualified(r, set(plates))
    assert s.frame_qualified_unique_records == len(keys)
    assert s.frame_duplicate_records == len(frames) - len(keys) > 0
    assert s.frame_records_by_protocol == dict(protocols) and protocols["jtt808"] > 0
    file_keys = {(r["plate"], int(r["plate_color"]), r["gnss_time"]) for r in file_records(lake)}
    assert not keys & file_keys  # a record travels either as a frame or in a file
    assert s.files["frames"] == len(list(feed_dir(lake, "frames").glob("*/*.hex")))


def test_county_days_all_counts_files_and_frames(lake_summary, tracks) -> None:
    lake, s = lake_summary
    county = {(v["plate"], v["plate_color"]): v["county_code"] for v in master(lake, "vehicles")}
    points: Counter[str] = Counter()
    online: Counter[str] = Counter()
    for (plate, color, day), track in tracks.items():
        k = f"{day}|{county[(plate, color)]}"
        points[k] += len(track)
        online[k] += 1
    assert s.county_days_all == {
        k: {"online_vehicles": online[k], "qualified_points": points[k]} for k in s.county_days
    }
    assert sum(c["qualified_points"] for c in s.county_days.values()) < sum(points.values())


def test_same_seed_same_frames_and_events(tmp_path: Path) -> None:
    def digest(lake: Path) -> dict[str, str]:
        return {
            str(p.relative_to(lake)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(lake.rglob("*"))
            if p.is_file()
        }

    a = generate_landing(tmp_path / "a", START, 1, 20, seed=3)
    b = generate_landing(tmp_path / "b", START, 1, 20, seed=3)
    assert a == b and digest(tmp_path / "a") == digest(tmp_path / "b")
    feeds = {Path(p).parts[-3] for p in digest(tmp_path / "a")}
    assert {"frames", "routes", "regions", "platform_links", "platform_checks"} <= feeds


# ---- realism: every assessment rule fires ---------------------------------------------------------
def rule_facts(lake: Path, tracks) -> tuple[Counter[str], float, float]:
    """(vehicle-days per fired rule, broken km, total km), re-derived from telematics.md."""
    vehicles = {(v["plate"], v["plate_color"]): v for v in master(lake, "vehicles")}
    routes = {r["route_id"]: r for r in master(lake, "routes")}
    regions = {r["region_id"]: r for r in master(lake, "regions")}
    found: Counter[str] = Counter()
    broken_km = total_km = 0.0
    for (plate, color, _), track in tracks.items():
        v = vehicles[(plate, color)]
        times = [datetime.fromisoformat(r["gnss_time"]) for r in track]
        speeds = [float(r["speed"]) for r in track]
        lon = [float(r["lon"]) for r in track]
        lat = [float(r["lat"]) for r in track]
        bus = v["vehicle_type"] in ("bus_scheduled", "bus_charter")
        fired: set[str] = set()
        # overspeed: a run above the limit (buses: 80 % at night) lasting more than 30 s
        run_start = None
        for t, sp in zip(times, speeds, strict=True):
            night = t.hour >= 22 or t.hour < 6
            limit = v["speed_limit_kmh"] * (0.8 if bus and night else 1.0)
            if sp > limit:
                run_start = run_start or t
                if (t - run_start).total_seconds() > 30:
                    fired.add("overspeed")
            else:
                run_start = None
        # continuous driving > 4 h (gaps < 20 min keep the session)
        start = last = None
        for t, sp in zip(times, speeds, strict=True):
            if sp > 0:
                if last is None or (t - last) >= timedelta(minutes=20):
                    start = t
                last = t
                if t - start > timedelta(hours=4):
                    fired.add("fatigue")
        # drift jumps, broken km
        jumps = 0
        for i in range(1, len(track)):
            km = haversine(lon[i - 1], lat[i - 1], lon[i], lat[i])
            dt = (times[i] - times[i - 1]).total_seconds()
            total_km += km
            is_jump = km >= 10 and (dt == 0 or km / dt * 3600 > 200)
            jumps += is_jump
            if is_jump or km > 5:
                broken_km += km
                fired.add("drift_jump" if is_jump else "gap")
        if jumps >= 3:
            fired.add("drift_day")
        if v["vehicle_type"] == "bus_scheduled":
            route = routes[v["route_id"]]
            exempt = v["route_exempt"] or route["length_km"] <= 100
            at_night = any(sp > 0 and 2 <= t.hour < 5 for t, sp in zip(times, speeds, strict=True))
            if at_night:
                fired.add("bus_night_exempt" if exempt else "bus_night")
            far = (distance_to_polyline_km(lon, lat, route["polyline"]) > 5).tolist()
            if max_run(far) >= 3:
                fired.add("off_route")
        if v["vehicle_type"] == "bus_charter":
            ring = regions[v["region_id"]]["polygon"]
            out = [not inside(x, y, ring) for x, y in zip(lon, lat, strict=True)]
            if max_run(out) >= 3:
                fired.add("out_of_region")
        found.update(fired)
    return found, broken_km, total_km


def test_every_rule_fires(lake_summary, tracks) -> None:
    lake, s = lake_summary
    found, broken_km, total_km = rule_facts(lake, tracks)
    for rule in ("overspeed", "fatigue", "gap", "drift_day", "bus_night", "bus_night_exempt",
                 "off_route", "out_of_region"):  # fmt: skip
        assert found[rule] > 0, (rule, found)
    assert 0 < broken_km < 0.05 * total_km
    # never online: operating vehicles without any point in the run; suspended ones send nothing
    vehicles = {(v["plate"], v["plate_color"]): v for v in master(lake, "vehicles")}
    seen = {(plate, color) for plate, color, _ in tracks}
    operating = {k for k, v in vehicles.items() if v["operating_status"] == "operating"}
    assert s.never_online_vehicles == len(operating - seen) > 0
    assert not seen - operating

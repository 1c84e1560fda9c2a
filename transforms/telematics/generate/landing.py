"""Write a synthetic telematics landing zone and return its known answer.

Per day: simulate every operating vehicle (and a few unregistered ones), hold back what a platform
received while its link was down, move a share of one platform's records to raw JT/T 809 / 808
frames, inject the defects at ``bad_rate``, split the remaining records into position files per
platform and 6-hour batch, and write each file in chunks of formatted lines. Master data (incl.
routes and regions), platform link events and 查岗 checks are written alongside. The summary
(:class:`GenerationSummary`) is computed from the record labels, so it is exact.

Memory (province scale, 100 000 vehicles ≈ 80 M records a day): only the thin columns of the day
(vehicle, label, gnss_time, received_at: 13 bytes a record) stay in memory. The wide columns
(position, speeds, mileage, direction, altitude, state, alarm) are spilled to one temporary file
per platform (``<lake>/.generate-*``, deleted after the day) and read back one platform at a time
when its files are written. Defects change a few rows through sparse overrides. The bytes written
do not depend on this (nor on ``WRITE_CHUNK``).
"""

from __future__ import annotations

import functools
import json
import tempfile
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import numpy as np

from transforms.telematics.generate import wire
from transforms.telematics.generate.events import (
    PlatformEvents,
    answered_in_time,
    build_platform_events,
)
from transforms.telematics.generate.geography import COUNTIES, RoadNetwork
from transforms.telematics.generate.master import (
    MAX_PLATFORMS,
    PLATFORM_ID_PREFIX,
    MasterData,
    Vehicle,
    build_master,
)
from transforms.telematics.generate.simulate import DAY_S, simulate_vehicle_day
from transforms.telematics.generate.supervision import Supervision, assign_supervision

DOMAIN = "telematics"
POSITIONS = "positions"
FRAMES = "frames"
LINKS = "platform_links"
CHECKS = "platform_checks"
MASTER_FEEDS = ("vehicles", "counties", "enterprises", "platforms", "routes", "regions")
POSITION_FIELDS = (
    "platform_id",
    "plate",
    "plate_color",
    "gnss_time",
    "lon",
    "lat",
    "speed",
    "recorder_speed",
    "mileage_km",
    "direction",
    "altitude",
    "state",
    "alarm",
    "received_at",
)
# position lines are formatted as UTF-8 bytes (faster than str + encode)
CSV_HEADER = ",".join(POSITION_FIELDS).encode()
JSON_TEMPLATE = (
    b'{%s,"gnss_time":"%s","lon":%.6f,"lat":%.6f,"speed":%.1f,"recorder_speed":%.1f,'
    b'"mileage_km":%.1f,"direction":%d,"altitude":%d,"state":%d,"alarm":%d,"received_at":"%s"}'
)
CSV_TEMPLATE = b"%s,%s,%.6f,%.6f,%.1f,%.1f,%.1f,%d,%d,%d,%d,%s"

BATCH_S = 6 * 3600  # one position file per platform and 6 hours of gnss_time
BATCHES_PER_DAY = DAY_S // BATCH_S
STATE_ACC_ON = 0b11  # bit0 ACC, bit1 located
STATE_ACC_OFF = 0b10
ALARM_OVERSPEED = 1 << 1  # JT/T 808 表18 bit 1
DELAY_S = (1, 20)  # received_at − gnss_time of good records
MAX_RECORDER_SPEED_KMH = 160.0
MAX_BAD_RATE = 0.05

# record labels
GOOD, UNKNOWN_VEHICLE = 0, 1
MALFORMED = "malformed_record"
UNQUALIFIED_RULES = (
    "plate_valid",
    "plate_color_valid",
    "gnss_time_not_future",
    "lon_in_range",
    "lat_in_range",
    "speed_in_range",
    "direction_in_range",
    "altitude_in_range",
)
DEFECT_KINDS = (MALFORMED, *UNQUALIFIED_RULES)
DEFECT_LABEL = {name: 10 + i for i, name in enumerate(DEFECT_KINDS)}
# every defect kind (and duplicates, unknown vehicles) appears once the run has this many records
ALL_KINDS_MIN_RECORDS = 1000

# defect values (each fails exactly one rule)
BAD_PLATE_COLOR = 7
FUTURE_SHIFT_S = 2 * 3600  # received_at = gnss_time − 2 h
BAD_LONS = (0.0, 200.0)
BAD_LAT = 60.0
BAD_SPEED = 250.0
BAD_DIRECTION = 400
BAD_ALTITUDE = 9000
BAD_PLATE_PREFIX = "XX"
TS_LOW_S = -3 * 3600  # timestamp lookup covers [−3 h, +25 h) around the day
TS_HIGH_S = DAY_S + 3600
RESEND_DELAY_S = (60, 3600)  # when a duplicate is re-sent (file order only; the line is identical)

SEED_STREAM_ROADS = 1
SEED_STREAM_DEFECTS = 2
SEED_STREAM_SUPERVISION = 3
SEED_STREAM_EVENTS = 4
SEED_STREAM_FRAMES = 5

# raw frames: one commercial platform forwards part of its fleet over JT/T 809 (and a few terminals'
# JT/T 808 reports); those records are in its .hex file instead of its position files
FRAME_809_VEHICLE_SHARE = 0.3  # of the frame platform's registered vehicles (at least one)
FRAME_808_VEHICLES = 2  # per day: vehicles with a known terminal phone …
FRAME_808_POINTS = 40  # … sending this many consecutive reports as 808 frames
FRAME_LABELS = {"jtt809": 2, "jtt808": 3}
BAD_FRAME_LABEL = {reason: 4 + i for i, reason in enumerate(wire.BAD_FRAME_REASONS)}

# the wide columns of a record, spilled to disk per platform while the day is simulated
WIDE = np.dtype(
    [
        ("lon", "<f8"),
        ("lat", "<f8"),
        ("speed", "<f8"),
        ("recorder_speed", "<f8"),
        ("mileage_km", "<f8"),
        ("direction", "<i4"),
        ("altitude", "<i4"),
        ("state", "<i4"),
        ("alarm", "<i4"),
    ]
)
WRITE_CHUNK = 200_000  # lines formatted at a time (bounds memory; the bytes do not depend on it)
THIN_BLOCK = 2_000  # vehicles whose thin columns are joined into one block (less heap debris)


@dataclass
class GenerationSummary:
    """The known answer of a generated landing zone (what bronze, quarantine, silver must hold)."""

    lines_total: int  # data lines in position files (CSV headers excluded)
    malformed_lines: int  # truncated JSON lines, CSV lines with a wrong field count
    parsed_records: int  # lines_total − malformed_lines: rows of bronze
    unqualified_by_rule: dict[str, int]  # rule → records failing exactly that rule
    unqualified_records: int  # sum of unqualified_by_rule
    duplicate_records: int  # extra identical copies of qualified records
    unknown_vehicle_records: int  # qualified records of plates absent from vehicles.jsonl
    qualified_unique_records: int  # distinct (plate, plate_color, gnss_time) qualified: silver
    quarantine_records: int  # malformed_lines + unqualified_records
    vehicles: int
    counties: int
    enterprises: int
    platforms: int
    files: dict[str, int]  # feed → files written
    days: list[str]  # ISO dates with position folders
    # "YYYY-MM-DD|county_code" → {online_vehicles, qualified_points}, every county and day
    county_days: dict[str, dict[str, int]]
    # raw frames (frames/<day>/<platform_id>.hex); none of their records is in a position file
    frames_lines: int  # lines of .hex files (good, defective and re-sent frames)
    bad_frames: dict[str, int]  # decoder reason → frames that cannot be decoded
    frame_positions: int  # decoded frames (all qualified; re-sent copies included)
    frame_duplicate_records: int  # extra identical copies of good frames
    frame_qualified_unique_records: int  # distinct (plate, plate_color, gnss_time) from frames
    frame_records_by_protocol: dict[str, int]  # jtt809 / jtt808 → distinct frame records
    # county_days over files and frames together (what silver holds once frames are landed)
    county_days_all: dict[str, dict[str, int]]
    routes: int  # routes.jsonl records
    regions: int  # regions.jsonl records
    links_events: int  # platform_links records (all days)
    checks: int  # platform_checks records (all days)
    checks_answered_in_15_min: int  # answered_at − sent_at ≤ 15 min
    never_online_vehicles: int  # operating vehicles without any record in the run

    def to_dict(self) -> dict[str, Any]:
        """A JSON-serialisable copy."""
        return asdict(self)


class _Spill:
    """The wide columns (:data:`WIDE`) of one day's records, one file per platform and batch,
    appended in record order: row ``k`` of file ``(p, b)`` is the ``k``-th record of the day with
    platform ``p`` and batch ``b`` (``gnss_time // BATCH_S``)."""

    def __init__(self, folder: Path, platforms: int) -> None:
        self.folder = folder
        self.files = {
            (p, b): open(self.path(p, b), "wb")  # noqa: SIM115
            for p in range(platforms)
            for b in range(BATCHES_PER_DAY)
        }

    def path(self, p: int, b: int) -> Path:
        return self.folder / f"wide-{p}-{b}.bin"

    def append(self, p: int, columns: dict[str, np.ndarray]) -> None:
        rows = np.empty(len(columns["t"]), dtype=WIDE)
        for name in WIDE.names:
            rows[name] = columns[name]
        batch = columns["t"] // BATCH_S
        for b in range(BATCHES_PER_DAY):
            in_batch = batch == b
            if in_batch.any():
                self.files[(p, b)].write(rows[in_batch].tobytes())

    def close(self) -> None:
        for f in self.files.values():
            f.close()

    def load(self, p: int, b: int) -> np.ndarray:
        return np.fromfile(self.path(p, b), dtype=WIDE)

    def rows(self, p: int, b: int, k: np.ndarray) -> np.ndarray:
        """Rows ``k`` of file ``(p, b)`` (a few, without loading the whole file)."""
        if len(k) == 0:
            return np.zeros(0, dtype=WIDE)
        return np.array(np.memmap(self.path(p, b), dtype=WIDE, mode="r")[k])


@dataclass
class _DayRecords:
    """Thin columns of one day's base records (in vehicle order), the lines written beyond them,
    and where the rest is: the wide columns in ``spill``, a few changed values in ``overrides``."""

    vidx: np.ndarray  # int32 vehicle index (unregistered vehicles after the registered ones)
    label: np.ndarray  # int8
    t: np.ndarray  # int32 gnss_time (s since local midnight)
    received: np.ndarray  # int32 received_at as delivered (arrival order); defects override it
    spill: _Spill
    # column → [(rows, values), …] set by defects: "pidx" (index into the day's prefix tables,
    # default: the vehicle index), "received", and wide columns (lon, lat, speed, …)
    overrides: dict[str, list[tuple[np.ndarray, np.ndarray]]]
    cut: dict[int, float]  # row → where a malformed / truncated line or frame is cut (fraction)
    # extra file lines (identical copies): the base row, its batch file and arrival order
    dup_src: np.ndarray
    dup_batch: np.ndarray
    dup_order: np.ndarray
    # one entry per frame line: the base record it carries and its arrival order
    frame_src: np.ndarray
    frame_order: np.ndarray

    def override(self, column: str, rows: np.ndarray, values: np.ndarray) -> None:
        self.overrides.setdefault(column, []).append(
            (np.asarray(rows, dtype=np.int64), np.asarray(values))
        )


def _gather(wide: tuple[np.ndarray, np.ndarray], name: str, k: np.ndarray) -> np.ndarray:
    """Column ``name`` of rows ``k`` of ``wide[0]`` followed by ``wide[1]``."""
    first, then = wide
    col = first[name]
    if len(then) == 0:
        return col[k]
    out = np.empty(len(k), dtype=col.dtype)
    later = k >= len(first)
    out[~later] = col[k[~later]]
    out[later] = then[name][k[later] - len(first)]
    return out


def _merged(pieces: list[tuple[np.ndarray, np.ndarray]]) -> tuple[np.ndarray, np.ndarray]:
    """One override table (rows sorted) from its pieces."""
    rows = np.concatenate([r for r, _ in pieces])
    values = np.concatenate([v for _, v in pieces])
    order = np.argsort(rows, kind="stable")
    return rows[order], values[order]


def _apply(table: tuple[np.ndarray, np.ndarray] | None, rows: np.ndarray, col: np.ndarray) -> None:
    """Set ``col[j]`` to the override of ``rows[j]`` where there is one (in place)."""
    if table is None or len(table[0]) == 0 or len(rows) == 0:
        return
    o_rows, o_values = table
    pos = np.minimum(np.searchsorted(o_rows, rows), len(o_rows) - 1)
    hit = o_rows[pos] == rows
    col[hit] = o_values[pos[hit]]


def _landing(lake: Path, feed: str, day: date) -> Path:
    return lake / "landing" / DOMAIN / feed / day.isoformat()


def _position_file(lake: Path, day: date, platform_id: str, batch: int, csv: bool) -> Path:
    ext = "csv" if csv else "jsonl"
    return _landing(lake, POSITIONS, day) / f"{platform_id}-{batch + 1:03d}.{ext}"


def _frame_file(lake: Path, day: date, platform_id: str) -> Path:
    return _landing(lake, FRAMES, day) / f"{platform_id}.hex"


def _event_file(lake: Path, feed: str, day: date) -> Path:
    return _landing(lake, feed, day) / ("links.jsonl" if feed == LINKS else "checks.jsonl")


def _candidate_paths(lake: Path, start: date, days: int) -> list[Path]:
    """Every path this generator may write (any platform count, batch and format)."""
    paths = [_landing(lake, feed, start) / f"{feed}.jsonl" for feed in MASTER_FEEDS]
    for d in range(days):
        day = start + timedelta(days=d)
        paths += [_event_file(lake, LINKS, day), _event_file(lake, CHECKS, day)]
        for p in range(1, MAX_PLATFORMS + 1):
            pid = f"{PLATFORM_ID_PREFIX}{p:04d}"
            paths.append(_frame_file(lake, day, pid))
            for b in range(BATCHES_PER_DAY):
                for csv in (False, True):
                    paths.append(_position_file(lake, day, pid, b, csv))
    return paths


def _prepare_targets(lake: Path, start: date, days: int, force: bool) -> None:
    existing = [p for p in _candidate_paths(lake, start, days) if p.exists()]
    if existing and not force:
        shown = ", ".join(str(p) for p in existing[:3])
        more = f" and {len(existing) - 3} more" if len(existing) > 3 else ""
        raise FileExistsError(
            f"landing file(s) already exist: {shown}{more}; "
            "pass force=True (CLI --force) to overwrite"
        )
    for p in existing:
        p.unlink()


def _write(path: Path, lines: list[bytes]) -> None:
    """One UTF-8 line per item, each ending with a newline."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "wb") as f:
        f.write(b"\n".join(lines))
        f.write(b"\n")


def _write_chunks(path: Path, chunks: Any) -> None:
    """Like :func:`_write` for the lines of every chunk in turn (an iterable of non-empty lists;
    the file is the same as one :func:`_write` of all the lines)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "wb") as f:
        for lines in chunks:
            if lines:
                f.write(b"\n".join(lines))
                f.write(b"\n")


def _json_lines(records: list[dict[str, Any]]) -> list[bytes]:
    return [json.dumps(r, ensure_ascii=False, separators=(",", ":")).encode() for r in records]


def _write_master(lake: Path, start: date, master: MasterData, sup: Supervision) -> None:
    records = {
        "vehicles": [v.master_record(master.platform_ids) for v in master.vehicles],
        "counties": master.counties,
        "enterprises": master.enterprises,
        "platforms": master.platforms,
        "routes": sup.routes,
        "regions": sup.regions,
    }
    for feed in MASTER_FEEDS:
        _write(_landing(lake, feed, start) / f"{feed}.jsonl", _json_lines(records[feed]))


def _prefixes(platform_id: str, plate: str, color: int) -> tuple[str, str]:
    """The (JSON, CSV) text of the first three fields."""
    head = json.dumps(
        {"platform_id": platform_id, "plate": plate, "plate_color": color},
        ensure_ascii=False,
        separators=(",", ":"),
    )
    return head[1:-1], f"{platform_id},{plate},{color}"


@functools.lru_cache(maxsize=1)
def _timestamps(day: date) -> np.ndarray:
    """'YYYY-MM-DD HH:MM:SS' for every second in [TS_LOW_S, TS_HIGH_S) around ``day``."""
    tod = [f"{s // 3600:02d}:{s // 60 % 60:02d}:{s % 60:02d}" for s in range(DAY_S)]
    prev, cur, nxt = (str(day + timedelta(days=k)) + " " for k in (-1, 0, 1))
    out = [prev + s for s in tod[DAY_S + TS_LOW_S :]]
    out += [cur + s for s in tod]
    out += [nxt + s for s in tod[: TS_HIGH_S - DAY_S]]
    return np.array([s.encode() for s in out], dtype=object)


def _vehicle_columns(
    v: Vehicle, rng: np.random.Generator, roads: RoadNetwork, day_index: int, signal_loss: bool
) -> dict[str, Any]:
    day = simulate_vehicle_day(
        v, rng, roads, always_on=not v.enterprise_id, day_index=day_index, signal_loss=signal_loss
    )
    n = len(day.t)
    moving = day.speed > 0
    recorder = np.round(day.speed * v.recorder_factor + rng.normal(0.0, 0.4, n), 1)
    recorder = np.where(moving & (recorder > 0), np.minimum(recorder, MAX_RECORDER_SPEED_KMH), 0.0)
    t = day.t.astype(np.int32)
    return {
        "t": t,
        "received": t + rng.integers(DELAY_S[0], DELAY_S[1] + 1, n, dtype=np.int32),
        "lon": day.lon,
        "lat": day.lat,
        "speed": np.round(day.speed, 1),
        "recorder_speed": recorder,
        "mileage_km": np.round(day.mileage_km, 1),
        "direction": day.direction.astype(np.int32),
        "altitude": day.altitude.astype(np.int32),
        "state": np.where(day.acc, STATE_ACC_ON, STATE_ACC_OFF).astype(np.int32),
        "alarm": np.where(day.speed > v.speed_limit_kmh, ALARM_OVERSPEED, 0).astype(np.int32),
    }


def _target_count(n_records: int, bad_rate: float, force_one: bool) -> int:
    """About ``bad_rate`` of the records; at least one when forced (and ``bad_rate`` > 0)."""
    n = int(round(bad_rate * n_records))
    return max(n, 1) if force_one and bad_rate > 0 else n


class _Generator:
    """Holds the run's state: master data, roads, running totals."""

    def __init__(
        self, lake: Path, start: date, days: int, vehicles: int, seed: int, bad_rate: float
    ) -> None:
        self.lake, self.start, self.days, self.seed, self.bad_rate = (
            lake,
            start,
            days,
            seed,
            bad_rate,
        )
        self.master = build_master(np.random.default_rng(seed), vehicles, start)
        self.roads = RoadNetwork(np.random.default_rng([seed, SEED_STREAM_ROADS]))
        self.supervision = assign_supervision(
            np.random.default_rng([seed, SEED_STREAM_SUPERVISION]), self.master, self.roads
        )
        self.n_vehicles = vehicles
        self.all_vehicles = self.master.vehicles + self.master.ghosts
        pids = self.master.platform_ids
        self.base_prefixes = [
            _prefixes(pids[v.platform_index], v.plate, v.plate_color) for v in self.all_vehicles
        ]
        self.platform_of = np.array([v.platform_index for v in self.all_vehicles], dtype=np.int8)
        self.csv_platform = len(pids) - 1  # the last platform delivers CSV
        # the last commercial (JSON) platform forwards part of its fleet as raw frames
        self.frame_platform = max(0, len(pids) - 2)
        frng = np.random.default_rng([seed, SEED_STREAM_FRAMES])
        fleet = [v.index for v in self.master.vehicles if v.platform_index == self.frame_platform]
        via_809 = frng.random(len(fleet)) < FRAME_809_VEHICLE_SHARE
        if fleet and not via_809.any():
            via_809[int(frng.integers(len(fleet)))] = True
        self.via_809 = np.zeros(len(self.all_vehicles), dtype=bool)
        self.via_809[np.array(fleet, dtype=np.int64)[via_809]] = True
        self.pool_808 = [
            v.index
            for v in self.master.vehicles
            if v.platform_index == self.frame_platform
            and not self.via_809[v.index]
            and v.terminal_phone
        ]
        enterprises_of = [
            list(
                dict.fromkeys(
                    v.enterprise_id for v in self.master.vehicles if v.platform_index == p
                )
            )
            for p in range(len(pids))
        ]
        self.events: PlatformEvents = build_platform_events(
            np.random.default_rng([seed, SEED_STREAM_EVENTS]), start, days, pids, enterprises_of
        )
        self.records_so_far = 0
        self.kind_totals = dict.fromkeys(
            (*DEFECT_KINDS, "duplicate", "unknown", *wire.BAD_FRAME_REASONS, "frame_duplicate"), 0
        )
        self.counts = dict.fromkeys(
            ("lines", "malformed", "duplicate", "unknown", "good", "frame_lines", "frame_good",
             "frame_duplicate"),
            0,
        )  # fmt: skip
        self.by_rule = dict.fromkeys(UNQUALIFIED_RULES, 0)
        self.bad_frames = dict.fromkeys(wire.BAD_FRAME_REASONS, 0)
        self.frames_by_protocol = dict.fromkeys(FRAME_LABELS, 0)
        self.position_files = 0
        self.frame_files = 0
        self.county_days: dict[str, dict[str, int]] = {}
        self.county_days_all: dict[str, dict[str, int]] = {}
        self.ever_online = np.zeros(vehicles, dtype=bool)

    # ---- simulation -----------------------------------------------------------------------------
    def _simulate(self, d: int, spill_folder: Path) -> _DayRecords:
        spill = _Spill(spill_folder, len(self.master.platform_ids))
        # thin columns: per-vehicle pieces, joined every THIN_BLOCK vehicles into blocks
        pieces: tuple[list[np.ndarray], ...] = ([], [], [])
        blocks: tuple[list[np.ndarray], ...] = ([], [], [])

        def flush() -> None:
            for piece, block in zip(pieces, blocks, strict=True):
                if piece:
                    block.append(np.concatenate(piece))
                    piece.clear()

        known = 0
        try:
            for v in self.all_vehicles:
                if v.operating_status != "operating":
                    continue
                rng = np.random.default_rng([self.seed, d, v.index])
                # a clean lake (bad_rate 0) has no signal losses either
                c = _vehicle_columns(v, rng, self.roads, d, self.bad_rate > 0)
                n = len(c["t"])
                if v.index >= self.n_vehicles:  # unregistered: keep a short contiguous window
                    force = self.records_so_far + known >= ALL_KINDS_MIN_RECORDS
                    force = force and self.kind_totals["unknown"] == 0
                    want = min(n, _target_count(known, self.bad_rate, force))
                    lo = int(rng.integers(0, n - want + 1))
                    c = {k: a[lo : lo + want] for k, a in c.items()}
                    n = want
                    self.kind_totals["unknown"] += n
                else:
                    known += n
                for piece, a in zip(
                    pieces,
                    (c["t"], c["received"], np.full(n, v.index, dtype=np.int32)),
                    strict=True,
                ):
                    piece.append(a)
                if len(pieces[0]) >= THIN_BLOCK:
                    flush()
                spill.append(v.platform_index, c)
        finally:
            spill.close()
        flush()
        t, arrival, vi = (np.concatenate(block) for block in blocks)
        for block in blocks:
            block.clear()
        # a platform whose link is down holds its positions back until the link is up again
        platform = self.platform_of[vi]
        erng = np.random.default_rng([self.seed, d, SEED_STREAM_EVENTS])
        for p in range(len(self.master.platforms)):
            rows = np.flatnonzero(platform == p)
            held = arrival[rows]
            self.events.backfill(d, p, held, erng)
            arrival[rows] = held
        del platform
        label = np.where(vi >= self.n_vehicles, UNKNOWN_VEHICLE, GOOD).astype(np.int8)
        self._pick_frames(d, vi, label)
        return _DayRecords(
            vidx=vi,
            label=label,
            t=t,
            received=arrival,
            spill=spill,
            overrides={},
            cut={},
            dup_src=np.zeros(0, dtype=np.int64),
            dup_batch=np.zeros(0, dtype=t.dtype),
            dup_order=np.zeros(0),
            frame_src=np.zeros(0, dtype=np.int64),
            frame_order=np.zeros(0),
        )

    # ---- frames ---------------------------------------------------------------------------------
    def _pick_frames(self, d: int, vi: np.ndarray, label: np.ndarray) -> None:
        """Label the records that travel as raw frames instead of in a position file."""
        label[self.via_809[vi] & (label == GOOD)] = FRAME_LABELS["jtt809"]
        rng = np.random.default_rng([self.seed, d, SEED_STREAM_FRAMES])
        present = np.bincount(vi, minlength=len(self.all_vehicles)) > 0
        pool = [i for i in self.pool_808 if present[i]]
        for i in rng.permutation(pool)[:FRAME_808_VEHICLES].tolist() if pool else []:
            # the first or last reports of its day: the terminal was switched to (or from) a
            # direct 808 connection, so neither stream has a hole in the middle of the day
            rows = np.flatnonzero(vi == i)  # one vehicle's records, in time order
            k = min(FRAME_808_POINTS, len(rows))
            window = rows[:k] if rng.random() < 0.5 else rows[len(rows) - k :]
            label[window[label[window] == GOOD]] = FRAME_LABELS["jtt808"]

    def _frame_defects(self, d: int, rec: _DayRecords) -> None:
        """A few 809 frames cannot be decoded; a few good ones are sent twice."""
        rng = np.random.default_rng([self.seed, d, SEED_STREAM_FRAMES, SEED_STREAM_DEFECTS])
        force = self.records_so_far >= ALL_KINDS_MIN_RECORDS
        frames = np.flatnonzero(rec.label == FRAME_LABELS["jtt809"])
        candidates = rng.permutation(frames)
        pos = 0
        for reason in wire.BAD_FRAME_REASONS:
            k = _target_count(len(frames), self.bad_rate, force and self.kind_totals[reason] == 0)
            idx = candidates[pos : pos + k]
            pos += len(idx)
            rec.label[idx] = BAD_FRAME_LABEL[reason]
            rec.cut.update(zip(idx.tolist(), rng.uniform(0.2, 0.9, len(idx)).tolist(), strict=True))
            self.kind_totals[reason] += len(idx)
        k = _target_count(
            len(frames), self.bad_rate, force and self.kind_totals["frame_duplicate"] == 0
        )
        dups = np.sort(candidates[pos : pos + k])
        self.kind_totals["frame_duplicate"] += len(dups)
        base = np.flatnonzero((rec.label >= FRAME_LABELS["jtt809"]) & (rec.label < 10))
        rec.frame_src = np.concatenate([base, dups])
        resent = rec.received[dups] + rng.uniform(*RESEND_DELAY_S, len(dups))
        rec.frame_order = np.concatenate([rec.received[base].astype(np.float64), resent])

    def _write_frames(self, day: date, rec: _DayRecords) -> int:
        """``frames/<day>/<platform_id>.hex``: one ``received_at<TAB>HEX`` line per frame."""
        if len(rec.frame_src) == 0:
            return 0
        ts = _timestamps(day)
        p = self.frame_platform
        pid = self.master.platform_ids[p]
        order = np.lexsort((rec.t[rec.frame_src], rec.vidx[rec.frame_src], rec.frame_order))
        rows = rec.frame_src[order]
        # frames are records of the frame platform (never given a file defect: no overrides)
        platform_rows = np.flatnonzero(self.platform_of[rec.vidx] == p)
        platform_batch = rec.t[platform_rows] // BATCH_S
        wide = np.zeros(len(rows), dtype=WIDE)  # the wide columns of the lines
        for b in range(BATCHES_PER_DAY):
            mine = rec.t[rows] // BATCH_S == b
            if mine.any():
                spill_rows = platform_rows[platform_batch == b]
                wide[mine] = rec.spill.load(p, b)[np.searchsorted(spill_rows, rows[mine])]
        del platform_rows, platform_batch
        sent, times = np.unique(rows, return_counts=True)
        resent = set(sent[times > 1].tolist())
        del sent, times
        bad = {lab: reason for reason, lab in BAD_FRAME_LABEL.items()}
        label_808 = FRAME_LABELS["jtt808"]
        encoded: dict[int, bytes] = {}  # frames sent twice (the copy is identical)
        serial: dict[int, int] = {}
        n_encoded = 0

        def chunks() -> Any:
            nonlocal n_encoded
            for s in range(0, len(rows), WRITE_CHUNK):
                r, w = rows[s : s + WRITE_CHUNK], wide[s : s + WRITE_CHUNK]
                fields = zip(
                    ts[rec.t[r] - TS_LOW_S].tolist(),
                    *(w[name].tolist() for name in WIDE.names),
                    strict=True,
                )
                lines = []
                for i, vi, lab, received, f in zip(
                    r.tolist(),
                    rec.vidx[r].tolist(),
                    rec.label[r].tolist(),
                    ts[rec.received[r] - TS_LOW_S].tolist(),
                    fields,
                    strict=True,
                ):
                    frame = encoded.get(i)
                    if frame is None:
                        v = self.all_vehicles[vi]
                        values = (f[0].decode(), *f[1:])
                        if lab == label_808:
                            assert v.terminal_phone is not None
                            serial[vi] = serial.get(vi, 0) + 1
                            frame = wire.frame_808(v.terminal_phone, values, serial[vi])
                        else:
                            frame = wire.frame_809(
                                pid, v.plate, v.plate_color, values, n_encoded + 1
                            )
                            if lab in bad:
                                frame = wire.corrupt(frame, bad[lab], rec.cut[i])
                        n_encoded += 1
                        if i in resent:
                            encoded[i] = frame
                    lines.append(wire.line(received.decode(), frame))
                yield lines

        _write_chunks(_frame_file(self.lake, day, pid), chunks())
        return 1

    # ---- defects --------------------------------------------------------------------------------
    def _inject(self, d: int, rec: _DayRecords, prefixes: list[tuple[str, str]]) -> _DayRecords:
        rng = np.random.default_rng([self.seed, d, SEED_STREAM_DEFECTS])
        n = len(rec.t)
        self.records_so_far += n
        force = self.records_so_far >= ALL_KINDS_MIN_RECORDS
        counts = {
            k: _target_count(n, self.bad_rate, force and self.kind_totals[k] == 0)
            for k in (*DEFECT_KINDS, "duplicate")
        }
        candidates = rng.permutation(np.flatnonzero(rec.label == GOOD))
        pos = 0

        def take(k: int) -> np.ndarray:
            nonlocal pos
            out = candidates[pos : pos + k]
            pos += len(out)
            return out

        dup_src = take(counts["duplicate"])
        for kind in DEFECT_KINDS:
            if kind == "plate_valid":
                idx = self._bad_plates(rng, rec, prefixes, take, counts[kind])
            else:
                idx = take(counts[kind])
            rec.label[idx] = DEFECT_LABEL[kind]
            self.kind_totals[kind] += len(idx)
            k = len(idx)
            if kind == MALFORMED:
                rec.cut.update(zip(idx.tolist(), rng.uniform(0.2, 0.9, k).tolist(), strict=True))
            elif kind == "plate_color_valid":
                first = len(prefixes)
                for i in idx:
                    v = self.all_vehicles[rec.vidx[i]]
                    prefixes.append(_prefixes(self._pid(v), v.plate, BAD_PLATE_COLOR))
                rec.override("pidx", idx, np.arange(first, len(prefixes), dtype=np.int32))
            elif kind == "gnss_time_not_future":
                rec.override("received", idx, rec.t[idx] - FUTURE_SHIFT_S)
            elif kind == "lon_in_range":
                rec.override("lon", idx, np.array(BAD_LONS)[rng.integers(0, len(BAD_LONS), k)])
            elif kind == "lat_in_range":
                rec.override("lat", idx, np.full(k, BAD_LAT))
            elif kind == "speed_in_range":
                rec.override("speed", idx, np.full(k, BAD_SPEED))
            elif kind == "direction_in_range":
                rec.override("direction", idx, np.full(k, BAD_DIRECTION, dtype=np.int32))
            elif kind == "altitude_in_range":
                rec.override("altitude", idx, np.full(k, BAD_ALTITUDE, dtype=np.int32))
        self.kind_totals["duplicate"] += len(dup_src)

        dup_src = np.sort(dup_src)
        other_batch = rng.random(len(dup_src)) < 0.5  # re-sent in another file of the same day
        batch = rec.t[dup_src] // BATCH_S
        rec.dup_src = dup_src
        rec.dup_batch = np.where(other_batch, (batch + 1) % BATCHES_PER_DAY, batch)
        # arrival order of a base line: its received_at as delivered (before any defect)
        resent = rec.received[dup_src].astype(np.float64)
        rec.dup_order = resent + rng.uniform(*RESEND_DELAY_S, len(dup_src))
        return rec

    def _pid(self, v: Vehicle) -> str:
        return self.master.platform_ids[v.platform_index]

    def _bad_plates(
        self,
        rng: np.random.Generator,
        rec: _DayRecords,
        prefixes: list[tuple[str, str]],
        take: Callable[[int], np.ndarray],
        want: int,
    ) -> np.ndarray:
        """Records whose plate breaks the pattern; their (plate, colour, time) keys stay unique."""
        chosen: list[int] = []
        pidx: list[int] = []
        used: set[tuple[str, int, int]] = set()
        while len(chosen) < want:
            batch = take(1)
            if len(batch) == 0:
                break
            i = int(batch[0])
            v = self.all_vehicles[rec.vidx[i]]
            forms = [v.plate[:6], BAD_PLATE_PREFIX + v.plate[2:]]  # 闽J + 4 chars / no province
            if rng.random() < 0.5:
                forms.reverse()
            for plate in forms:
                key = (plate, v.plate_color, int(rec.t[i]))
                if key not in used:
                    used.add(key)
                    prefixes.append(_prefixes(self._pid(v), plate, v.plate_color))
                    pidx.append(len(prefixes) - 1)
                    chosen.append(i)
                    break
        rows = np.array(chosen, dtype=np.int64)
        rec.override("pidx", rows, np.array(pidx, dtype=np.int32))
        return rows

    # ---- bookkeeping ----------------------------------------------------------------------------
    def _count(self, day: date, rec: _DayRecords) -> None:
        label = rec.label
        self.counts["malformed"] += int(np.sum(label == DEFECT_LABEL[MALFORMED]))
        self.counts["duplicate"] += len(rec.dup_src)
        self.counts["unknown"] += int(np.sum(label == UNKNOWN_VEHICLE))
        self.counts["good"] += int(np.sum((label == GOOD) | (label == UNKNOWN_VEHICLE)))
        for rule in UNQUALIFIED_RULES:
            self.by_rule[rule] += int(np.sum(label == DEFECT_LABEL[rule]))
        is_frame = (label == FRAME_LABELS["jtt809"]) | (label == FRAME_LABELS["jtt808"])
        for protocol, lab in FRAME_LABELS.items():
            self.frames_by_protocol[protocol] += int(np.sum(label == lab))
        for reason, lab in BAD_FRAME_LABEL.items():
            self.bad_frames[reason] += int(np.sum(label == lab))
        n_frame_good = int(np.sum(is_frame))
        frame_dups = len(rec.frame_src) - int(
            np.sum((label >= FRAME_LABELS["jtt809"]) & (label < 10))
        )
        self.counts["frame_lines"] += len(rec.frame_src)
        self.counts["frame_good"] += n_frame_good
        self.counts["frame_duplicate"] += frame_dups
        # unique qualified records of registered vehicles: in files, and in files or frames
        county = np.array([v.county_index for v in self.master.vehicles], dtype=np.int64)
        for target, good in (
            (self.county_days, label == GOOD),
            (self.county_days_all, (label == GOOD) | is_frame),
        ):
            per_vehicle = np.bincount(rec.vidx[good], minlength=self.n_vehicles)[: self.n_vehicles]
            points = np.bincount(county, weights=per_vehicle, minlength=len(COUNTIES))
            online = np.bincount(county, weights=per_vehicle > 0, minlength=len(COUNTIES))
            for c, info in enumerate(COUNTIES):
                target[f"{day.isoformat()}|{info.code}"] = {
                    "online_vehicles": int(online[c]),
                    "qualified_points": int(points[c]),
                }
            if target is self.county_days_all:
                self.ever_online |= per_vehicle > 0

    # ---- files ----------------------------------------------------------------------------------
    def _write_day(self, day: date, rec: _DayRecords, prefixes: list[tuple[str, str]]) -> int:
        """The position files of the day, one platform at a time (its wide columns read back from
        the spill), each file in chunks of :data:`WRITE_CHUNK` lines."""
        json_prefix = np.array([p[0].encode() for p in prefixes], dtype=object)
        csv_prefix = np.array([p[1].encode() for p in prefixes], dtype=object)
        overrides = {k: _merged(pieces) for k, pieces in rec.overrides.items()}
        label = rec.label
        platform = self.platform_of[rec.vidx]
        in_file = (label < FRAME_LABELS["jtt809"]) | (label >= 10)  # not a frame
        dup_platform = platform[rec.dup_src]
        dup_in_file = in_file[rec.dup_src]
        files = 0
        for p, pid in enumerate(self.master.platform_ids):
            is_csv = p == self.csv_platform
            platform_rows = np.flatnonzero(platform == p)
            platform_batch = rec.t[platform_rows] // BATCH_S
            dup_rows = np.flatnonzero((dup_platform == p) & dup_in_file)
            for b in range(BATCHES_PER_DAY):
                spill_rows = platform_rows[platform_batch == b]  # row k of spill (p, b)
                local = np.flatnonzero(in_file[spill_rows])
                dups = dup_rows[rec.dup_batch[dup_rows] == b]
                if len(local) + len(dups) == 0:
                    continue
                wide = rec.spill.load(p, b)
                for name in WIDE.names:
                    if name in overrides:
                        o_rows, o_values = overrides[name]
                        mine = np.isin(o_rows, spill_rows, assume_unique=True)
                        wide[name][np.searchsorted(spill_rows, o_rows[mine])] = o_values[mine]
                # the copies' wide values (their source may be in another batch; sources are
                # good records, never overridden): rows len(wide)… of the file's wide columns
                dup_src = rec.dup_src[dups]
                copies = np.zeros(len(dups), dtype=WIDE)
                for sb in np.unique(rec.t[dup_src] // BATCH_S).tolist():
                    mine = rec.t[dup_src] // BATCH_S == sb
                    k = np.searchsorted(platform_rows[platform_batch == sb], dup_src[mine])
                    copies[mine] = wide[k] if sb == b else rec.spill.rows(p, sb, k)
                # base lines (in record order), then the copies; sorted by arrival
                base = spill_rows[local]
                order = np.concatenate([rec.received[base], rec.dup_order[dups]])
                rows = np.concatenate([base, dup_src])
                local = np.concatenate([local, len(wide) + np.arange(len(dups))])
                del base, spill_rows
                k = np.lexsort((rec.t[rows], rec.vidx[rows], order))
                del order
                rows, local = rows[k], local[k]
                del k
                chunks = self._position_lines(
                    day, rec, overrides, (wide, copies), rows, local,
                    csv_prefix if is_csv else json_prefix, is_csv,
                )  # fmt: skip
                _write_chunks(_position_file(self.lake, day, pid, b, is_csv), chunks)
                self.counts["lines"] += len(rows)
                files += 1
                del wide, rows, local
        return files

    def _position_lines(
        self,
        day: date,
        rec: _DayRecords,
        overrides: dict[str, tuple[np.ndarray, np.ndarray]],
        wide: tuple[np.ndarray, np.ndarray],
        rows: np.ndarray,
        local: np.ndarray,
        prefix: np.ndarray,
        is_csv: bool,
    ) -> Any:
        """The lines of one position file (``rows``: the records in file order; ``local``: their
        rows in ``wide`` = the batch's spill, then the copies), a list per chunk, the CSV header
        first."""
        ts = _timestamps(day)
        template = CSV_TEMPLATE if is_csv else JSON_TEMPLATE
        malformed_label = DEFECT_LABEL[MALFORMED]
        if is_csv:
            yield [CSV_HEADER]
        for s in range(0, len(rows), WRITE_CHUNK):
            r, loc = rows[s : s + WRITE_CHUNK], local[s : s + WRITE_CHUNK]
            pidx = rec.vidx[r]
            _apply(overrides.get("pidx"), r, pidx)
            received = rec.received[r]
            _apply(overrides.get("received"), r, received)
            cols = (
                prefix[pidx].tolist(),
                ts[rec.t[r] - TS_LOW_S].tolist(),
                *(_gather(wide, name, loc).tolist() for name in WIDE.names),
                ts[received - TS_LOW_S].tolist(),
            )
            lines = [template % c for c in zip(*cols, strict=True)]
            for j in np.flatnonzero(rec.label[r] == malformed_label).tolist():
                line = lines[j]
                if is_csv:  # one field short
                    lines[j] = line.rsplit(b",", 1)[0]
                else:  # truncated JSON (never closes the object), cut between characters
                    text = line.decode()
                    lines[j] = text[: max(1, int(len(text) * rec.cut[int(r[j])]))].encode()
            yield lines

    def _write_events(self, d: int, day: date) -> dict[str, int]:
        """platform_links and platform_checks of day ``d`` (a feed's file only when not empty)."""
        files = {}
        for feed, records in ((LINKS, self.events.links[d]), (CHECKS, self.events.checks[d])):
            if records:
                _write(_event_file(self.lake, feed, day), _json_lines(records))
                files[feed] = 1
        return files

    def run(self, progress: Callable[[str], None] | None) -> GenerationSummary:
        _write_master(self.lake, self.start, self.master, self.supervision)
        day_names = []
        event_files = dict.fromkeys((LINKS, CHECKS), 0)
        for d in range(self.days):
            day = self.start + timedelta(days=d)
            day_names.append(day.isoformat())
            prefixes = list(self.base_prefixes)
            self.lake.mkdir(parents=True, exist_ok=True)
            with tempfile.TemporaryDirectory(prefix=".generate-", dir=self.lake) as spill:
                rec = self._inject(d, self._simulate(d, Path(spill)), prefixes)
                self._frame_defects(d, rec)
                self._count(day, rec)
                files = self._write_day(day, rec, prefixes)
                self.position_files += files
                self.frame_files += self._write_frames(day, rec)
            for feed, n in self._write_events(d, day).items():
                event_files[feed] += n
            if progress is not None:
                progress(
                    f"{day}: {len(rec.t)} position records in {files} files, "
                    f"{len(rec.frame_src)} frames"
                )
        unqualified = sum(self.by_rule.values())
        lines, malformed = self.counts["lines"], self.counts["malformed"]
        checks = [c for day_checks in self.events.checks for c in day_checks]
        operating = np.array([v.operating_status == "operating" for v in self.master.vehicles])
        files_written = {
            **dict.fromkeys(MASTER_FEEDS, 1),
            POSITIONS: self.position_files,
            FRAMES: self.frame_files,
            **event_files,
        }
        return GenerationSummary(
            lines_total=lines,
            malformed_lines=malformed,
            parsed_records=lines - malformed,
            unqualified_by_rule=dict(self.by_rule),
            unqualified_records=unqualified,
            duplicate_records=self.counts["duplicate"],
            unknown_vehicle_records=self.counts["unknown"],
            qualified_unique_records=self.counts["good"],
            quarantine_records=malformed + unqualified,
            vehicles=len(self.master.vehicles),
            counties=len(self.master.counties),
            enterprises=len(self.master.enterprises),
            platforms=len(self.master.platforms),
            files={k: n for k, n in files_written.items() if n},
            days=day_names,
            county_days=self.county_days,
            frames_lines=self.counts["frame_lines"],
            bad_frames=dict(self.bad_frames),
            frame_positions=self.counts["frame_good"] + self.counts["frame_duplicate"],
            frame_duplicate_records=self.counts["frame_duplicate"],
            frame_qualified_unique_records=self.counts["frame_good"],
            frame_records_by_protocol=dict(self.frames_by_protocol),
            county_days_all=self.county_days_all,
            routes=len(self.supervision.routes),
            regions=len(self.supervision.regions),
            links_events=sum(len(x) for x in self.events.links),
            checks=len(checks),
            checks_answered_in_15_min=sum(answered_in_time(c) for c in checks),
            never_online_vehicles=int(np.sum(operating & ~self.ever_online)),
        )


def generate_landing(
    lake: Path,
    start: date,
    days: int,
    vehicles: int,
    seed: int = 7,
    bad_rate: float = 0.003,
    progress: Callable[[str], None] | None = None,
    force: bool = False,
) -> GenerationSummary:
    """Write synthetic telematics landing files under ``<lake>/landing/telematics/`` and return
    the exact known answer.

    Master data (vehicles, counties, enterprises, platforms, routes, regions) goes to the folder
    of ``start``; positions of each day to ``positions/<day>/<platform_id>-<batch>.jsonl``
    (``.csv`` for the last platform), raw frames of one platform to
    ``frames/<day>/<platform_id>.hex``, and ``platform_links/<day>/links.jsonl`` and
    ``platform_checks/<day>/checks.jsonl``.
    The same arguments always produce the same bytes. Existing target files raise
    :class:`FileExistsError` unless ``force`` is true (then they are replaced).
    """
    if days < 1 or vehicles < 1:
        raise ValueError("days and vehicles must be at least 1")
    if not 0.0 <= bad_rate <= MAX_BAD_RATE:
        raise ValueError(f"bad_rate must be within [0, {MAX_BAD_RATE}]")
    lake = Path(lake)
    _prepare_targets(lake, start, days, force)
    return _Generator(lake, start, days, vehicles, seed, bad_rate).run(progress)

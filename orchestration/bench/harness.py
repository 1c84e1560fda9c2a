"""`make bench` / `lakehouse bench`: throughput of the telematics pipeline at several sizes, and
how it compares with other engines measured in the same run on the same data.

For each size (position points: ``1M``, ``10M``, …) the harness

1. generates a month of landing data (cached under ``<work>/data/<size>``: the generator is
   deterministic, so a cached zone is the same bytes);
2. runs our pipeline stage by stage on a fresh lake — land (parse → bronze), publish (GX →
   quarantine + silver), facts (per-vehicle-day facts, events, record counts), indicators (the dbt
   marts and assessment) — timing each stage and sampling the peak RSS of this process and its
   children (the embedded engine runs in this process; dbt is a child);
3. times the compared work (:mod:`orchestration.bench.workload`: facts + monthly indicators from the silver
   snapshot) on our engine and on the baselines (JVM Spark, DuckDB, raw scan), each baseline in its
   own process, and checks that every engine computed the same indicator values;
4. races end to end (:mod:`orchestration.bench.end_to_end`): the same landing files to the same
   monthly indicators on JVM Spark and DuckDB, each in its own process, timed whole, against our
   land + publish + facts + the monthly-indicator query; the same check of the numbers;
5. prints per stage seconds, rows/s (points / s), records/s (the records the stage reads / s),
   MB/s (landing bytes / s), peak RSS; the ratios baseline time ÷ our time (above 1: we are
   faster) for the compared work and end to end; a province-day (≈ 288 M points) extrapolated from
   the end-to-end rate of the largest size; and the growth exponent of time in the number of
   points (1.0 = linear), fitted over the sizes.

Before the sizes it measures the national crypto, network freight
(:mod:`orchestration.bench.freight`) and the ride-hailing race
(:mod:`orchestration.bench.ridehailing`: a company-month landed and evaluated on our engine, JVM
Spark and DuckDB), each of the two in a spawned process of its own (:func:`in_own_process`), so
that their engine's memory and catalogue are gone before the sizes start.

No timing is asserted anywhere: the numbers are printed (``--json`` for machines). Engines that
computed different monthly indicators (or ride-hailing company periods) are named, with their
first differing row.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import os
import shutil
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import psutil

ROOT = Path(__file__).resolve().parents[2]
START = dt.date(2026, 10, 1)
DAYS = 31  # one whole month: the monthly indicators are complete
# position lines per vehicle-day of the generator's fleet (measured: 888 014 lines for 40 vehicles
# × 30 days); only used to choose the fleet size, every reported count is the real one
POINTS_PER_VEHICLE_DAY = 740
SEED = 7
BAD_RATE = 0.0007  # the generator's realistic defect rate (lakehouse generate's default)
BASELINES = ("jvm_spark", "duckdb", "raw_scan")
END_TO_END = ("jvm_spark", "duckdb")  # the baselines that also race from the landing files
STAGES = ("land", "publish", "facts", "indicators")
PROVINCE_DAY_POINTS = 288_000_000  # a province's position points in one day (about)

Say = Callable[[str], None]


# ---- sizes ------------------------------------------------------------------------------------
def parse_size(text: str) -> int:
    """``"30M"`` → 30 000 000, ``"500k"`` → 500 000, ``"2500"`` → 2 500."""
    text = text.strip().upper()
    scale = {"K": 1_000, "M": 1_000_000, "G": 1_000_000_000}
    try:
        if text and text[-1] in scale:
            value = float(text[:-1]) * scale[text[-1]]
        else:
            value = float(text)
    except ValueError:
        raise ValueError(f"not a size: {text!r} (examples: 1M, 500k, 2500)") from None
    if value < 1_000:
        raise ValueError(f"size {text} is too small: at least 1k points")
    return int(value)


def parse_sizes(text: str) -> dict[str, int]:
    """``"1M,10M"`` → {"1M": 1000000, "10M": 10000000}, in increasing order; ``"none"`` → {}
    (no telematics size: the crypto, freight and ride-hailing sections only)."""
    if text.strip().lower() == "none":
        return {}
    sizes = {label.strip(): parse_size(label) for label in text.split(",") if label.strip()}
    if not sizes:
        raise ValueError("no sizes given")
    return dict(sorted(sizes.items(), key=lambda kv: kv[1]))


def fleet_for(points: int) -> tuple[int, int]:
    """(vehicles, days) whose generated month holds about ``points`` position points."""
    days = DAYS
    vehicles = max(1, round(points / (POINTS_PER_VEHICLE_DAY * days)))
    return vehicles, days


# ---- measurement ------------------------------------------------------------------------------
class PeakRss:
    """Samples the summed RSS of a process and its descendants every ``interval`` seconds."""

    def __init__(self, pid: int | None = None, interval: float = 0.1) -> None:
        self.pid = pid or os.getpid()
        self.interval = interval
        self.peak = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _sample(self) -> int:
        try:
            root = psutil.Process(self.pid)
            procs = [root, *root.children(recursive=True)]
        except psutil.Error:
            return 0
        total = 0
        for p in procs:
            try:
                total += p.memory_info().rss
            except psutil.Error:
                continue
        return total

    def _run(self) -> None:
        while not self._stop.is_set():
            self.peak = max(self.peak, self._sample())
            self._stop.wait(self.interval)

    def __enter__(self) -> PeakRss:
        self.peak = self._sample()
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, self._sample())

    @property
    def mb(self) -> float:
        return self.peak / 2**20


@dataclass
class StageResult:
    seconds: float
    rows: int
    mb: float  # landing megabytes the stage accounts for (the same input for every stage)
    peak_rss_mb: float
    records: int = 0  # the records the stage reads (lines landed, bronze records, silver rows)

    @property
    def rows_per_s(self) -> float:
        return self.rows / self.seconds if self.seconds > 0 else math.inf

    @property
    def records_per_s(self) -> float:
        return self.records / self.seconds if self.seconds > 0 else math.inf

    @property
    def mb_per_s(self) -> float:
        return self.mb / self.seconds if self.seconds > 0 else math.inf

    def to_dict(self) -> dict[str, float]:
        return {
            "seconds": round(self.seconds, 3),
            "rows_per_s": round(self.rows_per_s, 1),
            "mb_per_s": round(self.mb_per_s, 2),
            "peak_rss_mb": round(self.peak_rss_mb, 1),
            "records": self.records,
            "records_per_s": round(self.records_per_s, 1),
        }


@dataclass
class SizeResult:
    label: str
    points: int  # position points landed (file records + decoded frames)
    landing_mb: float
    vehicles: int
    days: int
    stages: dict[str, StageResult] = field(default_factory=dict)
    work_seconds: float = 0.0  # the compared work on our engine
    baselines: dict[str, dict[str, Any]] = field(default_factory=dict)
    agree: bool | None = None  # every engine computed the same monthly indicators
    end_to_end: dict[str, dict[str, Any]] = field(default_factory=dict)  # baseline → its result
    end_to_end_agree: bool | None = None
    mismatches: list[str] = field(default_factory=list)  # one line per disagreeing engine

    @property
    def total(self) -> StageResult:
        seconds = sum(s.seconds for s in self.stages.values())
        peak = max((s.peak_rss_mb for s in self.stages.values()), default=0.0)
        land = self.stages.get("land")
        records = land.records if land else 0
        return StageResult(seconds, self.points, self.landing_mb, peak, records)

    @property
    def ours_end_to_end_s(self) -> float:
        """Our files → monthly indicators: land + publish + the compared work (facts and the
        monthly-indicator query). The dbt stage (every mart, the whole assessment) is not part of
        the race: the baselines compute only the monthly indicators."""
        stages = [self.stages[name].seconds for name in ("land", "publish") if name in self.stages]
        return sum(stages) + self.work_seconds

    def points_per_s(self, seconds: float) -> float:
        return self.points / seconds if seconds > 0 else math.inf

    def ratios(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            name: round(b["seconds"] / self.work_seconds, 3)
            for name, b in self.baselines.items()
            if self.work_seconds > 0
        }
        if self.end_to_end and self.ours_end_to_end_s > 0:
            out["end_to_end"] = {
                name: round(b["seconds"] / self.ours_end_to_end_s, 3)
                for name, b in self.end_to_end.items()
            }
        return out

    def to_dict(self) -> dict[str, Any]:
        return {
            "points": self.points,
            "landing_mb": round(self.landing_mb, 1),
            "vehicles": self.vehicles,
            "days": self.days,
            "stages": {name: s.to_dict() for name, s in self.stages.items()},
            "total": self.total.to_dict(),
            "compared_work": {
                "ours_s": round(self.work_seconds, 3),
                **{
                    name: {
                        "seconds": round(b["seconds"], 3),
                        "startup_s": round(b.get("startup_s", 0.0), 3),
                        "peak_rss_mb": round(b["peak_rss_mb"], 1),
                    }
                    for name, b in self.baselines.items()
                },
                "indicators_agree": self.agree,
            },
            "end_to_end": {
                "ours_s": round(self.ours_end_to_end_s, 3),
                "ours_points_per_s": round(self.points_per_s(self.ours_end_to_end_s), 1),
                **{
                    name: {
                        "seconds": round(b["seconds"], 3),
                        "startup_s": round(b.get("startup_s", 0.0), 3),
                        "peak_rss_mb": round(b["peak_rss_mb"], 1),
                        "points_per_s": round(self.points_per_s(b["seconds"]), 1),
                        "records": b.get("records"),
                    }
                    for name, b in self.end_to_end.items()
                },
                "indicators_agree": self.end_to_end_agree,
            },
            "mismatches": self.mismatches,
        }


@contextmanager
def stage(result: SizeResult, name: str, say: Say) -> Iterator[None]:
    say(f"  {result.label}: {name} …")
    with PeakRss() as rss:
        t0 = time.perf_counter()
        yield
        seconds = time.perf_counter() - t0
    result.stages[name] = StageResult(seconds, result.points, result.landing_mb, rss.mb)
    say(
        f"  {result.label}: {name} {seconds:,.1f} s "
        f"({result.points / seconds:,.0f} rows/s, peak RSS {rss.mb:,.0f} MB)"
    )


def growth(points: list[int], seconds: list[float]) -> float | None:
    """Least-squares slope of log(seconds) on log(points): time ∝ points^slope."""
    pairs = [(math.log(p), math.log(s)) for p, s in zip(points, seconds, strict=True) if s > 0]
    if len(pairs) < 2:
        return None
    mx = sum(x for x, _ in pairs) / len(pairs)
    my = sum(y for _, y in pairs) / len(pairs)
    sxx = sum((x - mx) ** 2 for x, _ in pairs)
    if sxx == 0:
        return None
    return sum((x - mx) * (y - my) for x, y in pairs) / sxx


# ---- data -------------------------------------------------------------------------------------
def landing_zone(work: Path, label: str, points: int, say: Say) -> tuple[Path, dict[str, Any]]:
    """The generated landing zone of one size (made once, then reused) and its summary."""
    from transforms.telematics.generate.landing import generate_landing

    vehicles, days = fleet_for(points)
    data = work / "data" / f"{label}-v{vehicles}-d{days}-s{SEED}"
    summary_file = data / "summary.json"
    if summary_file.exists():
        return data / "landing", json.loads(summary_file.read_text(encoding="utf-8"))
    if data.exists():
        shutil.rmtree(data)
    say(f"  {label}: generating {vehicles} vehicles × {days} days (about {points:,} points) …")
    t0 = time.perf_counter()
    summary = generate_landing(data, START, days, vehicles, seed=SEED, bad_rate=BAD_RATE)
    info = {**summary.to_dict(), "vehicles_requested": vehicles, "days_requested": days}
    summary_file.write_text(json.dumps(info), encoding="utf-8")
    say(f"  {label}: generated in {time.perf_counter() - t0:,.0f} s")
    return data / "landing", info


def _landing_mb(landing: Path) -> float:
    total = 0
    for folder in ("positions", "frames"):
        base = landing / "telematics" / folder
        if base.is_dir():
            total += sum(p.stat().st_size for p in base.rglob("*") if p.is_file())
    return total / 2**20


def read_once(folder: Path) -> None:
    """Read every file under ``folder`` through (nothing kept), so that each engine of a race
    starts from the same page cache: raced in a row, an engine found the files the one before it
    had read in memory, the first one (ours) on disk when they had been evicted (the ride-hailing
    land took 72–96 s at its full size for the same code)."""
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        with path.open("rb") as f:
            while f.read(1 << 23):
                pass


# ---- our pipeline -----------------------------------------------------------------------------
def _dbt(lake: Path) -> None:
    """dbt run of every model against this process's engine, as the Dagster asset runs it:
    ``lakehouse-dbt`` in a target folder of its own (under the lake) that starts from the
    project's partial parse state (``prepare_manifest``). A plain ``dbt`` writing into the
    project's target folder left a parse state naming this run's endpoint there, and every
    pipeline run after it parsed the whole project again."""
    from orchestration.defs.dbt_manifest import prepare_manifest
    from orchestration.environment import DBT_PROJECT_DIR, LakehouseResource, dbt_executable
    from transforms.rules import dbt_vars, load_rules

    env = {**os.environ, **LakehouseResource(lake=str(lake)).dbt_env()}
    target = lake / "_dbt_target"
    target.mkdir(parents=True, exist_ok=True)
    state = prepare_manifest().with_name("partial_parse.msgpack")
    if state.is_file():
        shutil.copy2(state, target / state.name)
    cmd = [dbt_executable(), "run", "--quiet", "--vars", dbt_vars(load_rules())]
    cmd += ["--project-dir", str(DBT_PROJECT_DIR), "--profiles-dir", str(DBT_PROJECT_DIR)]
    cmd += ["--target-path", str(target), "--log-path", str(target / "logs")]
    done = subprocess.run(cmd, env=env, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"dbt run failed:\n{done.stdout[-4000:]}\n{done.stderr[-4000:]}")


def _monthly_indicators_ours(spark: Any, lake: Path) -> list[tuple]:
    """The compared work's indicator query on our engine, over the facts just written."""
    from orchestration.bench.workload import MONTHLY_INDICATORS

    for view, table in (
        ("facts", "silver/telematics__vehicle_day_facts"),
        ("counts", "silver/telematics__record_counts"),
        ("vehicles", "silver/telematics__vehicles"),
    ):
        spark.read.format("delta").load(str(lake / table)).createOrReplaceTempView(view)
    return [tuple(r) for r in spark.sql(MONTHLY_INDICATORS).collect()]


def run_ours(result: SizeResult, lake: Path, say: Say) -> list[tuple]:
    """Every stage of our pipeline on ``lake``; returns our monthly indicator rows."""
    from transforms.lake.landing import land_feed
    from transforms.lake.session import get_spark
    from transforms.rules import load_rules
    from transforms.telematics.feeds import EVENT_FEEDS, MASTER_FEEDS, POSITION_FEEDS
    from transforms.telematics.jobs.facts import publish_facts
    from transforms.telematics.jobs.master import publish_feed
    from transforms.telematics.jobs.positions import publish_positions

    rules = load_rules(domain="telematics")
    spark = get_spark(lake)
    landed = []
    with stage(result, "land", say):
        for feed in (*MASTER_FEEDS, *EVENT_FEEDS, *POSITION_FEEDS):
            landed.append(land_feed(lake, feed))
    # the records each stage reads (counted outside the timed blocks, from results and Delta logs)
    result.stages["land"].records = sum(
        getattr(r, "records", 0) + getattr(r, "malformed", 0) for r in landed
    )
    with stage(result, "publish", say):
        for feed in (*MASTER_FEEDS, *EVENT_FEEDS):
            publish_feed(spark, lake, feed)
        published = publish_positions(spark, lake, rules)
        if not published.published:
            raise RuntimeError("the generated batch failed validation; see the GX summary")
    result.stages["publish"].records = published.records
    silver_rows = _delta_rows(lake / "silver" / "telematics__positions") + _delta_rows(
        lake / "quarantine" / "telematics__positions"
    )
    with stage(result, "facts", say):
        publish_facts(spark, lake, rules)
    result.stages["facts"].records = silver_rows
    # the compared work: the facts stage plus the portable monthly-indicator query
    t0 = time.perf_counter()
    indicators = _monthly_indicators_ours(spark, lake)
    result.work_seconds = result.stages["facts"].seconds + time.perf_counter() - t0
    with stage(result, "indicators", say):
        _dbt(lake)
    result.stages["indicators"].records = silver_rows  # dbt reads silver positions and quarantine
    return indicators


def _delta_rows(path: Path) -> int:
    """Rows of the current snapshot of a Delta table, from its log's file statistics."""
    import pyarrow as pa
    from deltalake import DeltaTable

    if not (path / "_delta_log").is_dir():
        return 0
    actions = pa.table(DeltaTable(str(path)).get_add_actions(flatten=True))
    return int(sum(n or 0 for n in actions.column("num_records").to_pylist()))


def run_baseline(engine: str, lake: Path, out: Path, cores: int) -> dict[str, Any]:
    """One baseline of the compared work in its own process (clean memory accounting); returns
    its JSON result."""
    args = [engine, "--lake", str(lake), "--out", str(out / engine), "--cores", str(cores)]
    return _run_module("orchestration.bench.baselines", args, f"baseline {engine}")


def run_end_to_end(engine: str, landing: Path, out: Path, cores: int) -> dict[str, Any]:
    """One end-to-end baseline (landing files → monthly indicators) in its own process."""
    args = [engine, "--landing", str(landing), "--out", str(out / f"e2e-{engine}")]
    args += ["--cores", str(cores)]
    return _run_module("orchestration.bench.end_to_end", args, f"end-to-end {engine}")


def _run_module(module: str, args: list[str], what: str) -> dict[str, Any]:
    """``python -m module args`` with the classic-Spark environment, its peak RSS sampled;
    returns the JSON object it prints last, with ``peak_rss_mb``."""
    from transforms.lake.classic import classic_env

    env = classic_env()
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    cmd = [sys.executable, "-m", module, *args]
    proc = subprocess.Popen(
        cmd, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    with PeakRss(proc.pid) as rss:
        stdout, stderr = proc.communicate()
    if proc.returncode != 0:
        raise RuntimeError(f"{what} failed:\n{stderr[-4000:]}")
    result = json.loads(stdout.strip().splitlines()[-1])
    result["peak_rss_mb"] = rss.mb
    return result


def compare_indicators(engine: str, expected: list[tuple], theirs: list[tuple]) -> str | None:
    """None when ``theirs`` are our monthly indicators; else what differs, in one line."""
    from orchestration.bench.workload import INDICATOR_COLUMNS, same_indicators

    theirs = [tuple(r) for r in theirs]
    if same_indicators(expected, theirs):
        return None
    ours_by_key = {r[:2]: r for r in expected}
    theirs_by_key = {r[:2]: r for r in theirs}
    for key in sorted(ours_by_key.keys() | theirs_by_key.keys()):
        a, b = ours_by_key.get(key), theirs_by_key.get(key)
        if a is None or b is None or not same_indicators([a], [b]):
            columns = [
                f"{name} ours {x} / {engine} {y}"
                for name, x, y in zip(
                    INDICATOR_COLUMNS[2:], (a or ())[2:], (b or ())[2:], strict=False
                )
                if x != y
            ]
            detail = "; ".join(columns) if a and b else f"ours {a} / {engine} {b}"
            return (
                f"{engine} computed different monthly indicators ({len(theirs)} rows, ours "
                f"{len(expected)}); first difference: month {key[0]} county {key[1]}: {detail}"
            )
    return f"{engine} computed different monthly indicators (same keys, order differs)"


# ---- the run ----------------------------------------------------------------------------------
@dataclass
class BenchResult:
    sizes: dict[str, SizeResult]
    machine: dict[str, Any]
    started_at: str
    # national-crypto throughput (transforms.crypto.bench.measure), one process
    crypto: dict[str, Any] | None = None
    # network freight: envelopes/s and a province-day's monitoring (orchestration/bench/freight.py)
    freight: dict[str, Any] | None = None
    # ride-hailing: a company-month landed and evaluated against JVM Spark and DuckDB
    # (orchestration/bench/ridehailing.py)
    ridehailing: dict[str, Any] | None = None

    def growth(self) -> dict[str, Any]:
        results = list(self.sizes.values())
        points = [r.points for r in results]
        out: dict[str, Any] = {
            "exponent": _round(growth(points, [r.total.seconds for r in results])),
            "compared_work": _round(growth(points, [r.work_seconds for r in results])),
            "end_to_end": _round(growth(points, [r.ours_end_to_end_s for r in results])),
            "stages": {
                name: _round(growth(points, [r.stages[name].seconds for r in results]))
                for name in STAGES
                if all(name in r.stages for r in results)
            },
        }
        return out

    def to_dict(self) -> dict[str, Any]:
        return {
            "started_at": self.started_at,
            "machine": self.machine,
            "sizes": {label: r.to_dict() for label, r in self.sizes.items()},
            "growth": self.growth(),
            "ratios": {label: r.ratios() for label, r in self.sizes.items() if r.baselines},
            "province_day": self.province_day(),
            "crypto": self.crypto,
            "freight": self.freight,
            "ridehailing": self.ridehailing,
        }

    @property
    def mismatches(self) -> list[str]:
        """Every engine and size whose monthly indicators differ from ours, and every engine
        whose ride-hailing company periods do."""
        lines = [line for r in self.sizes.values() for line in r.mismatches]
        return lines + list((self.ridehailing or {}).get("mismatches", []))

    def province_day(self) -> dict[str, Any] | None:
        """A province-day (PROVINCE_DAY_POINTS) at the measured end-to-end rate, on this
        machine's cores: ours from the largest size, each baseline from the largest size it ran
        (linear extrapolation)."""
        measured = [r for r in self.sizes.values() if r.stages]
        if not measured:
            return None
        largest = max(measured, key=lambda r: r.points)
        out: dict[str, Any] = {
            "points": PROVINCE_DAY_POINTS,
            "cores": self.machine.get("cores"),
            "ours": _province_day(largest, largest.ours_end_to_end_s),
        }
        for engine in END_TO_END:
            runs = [r for r in measured if engine in r.end_to_end]
            if runs:
                r = max(runs, key=lambda r: r.points)
                out[engine] = _province_day(r, r.end_to_end[engine]["seconds"])
        return out


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 3)


def _province_day(result: SizeResult, seconds: float) -> dict[str, Any]:
    rate = result.points_per_s(seconds)
    hours = PROVINCE_DAY_POINTS / rate / 3600 if rate > 0 else math.inf
    return {"size": result.label, "points_per_s": round(rate, 1), "hours": round(hours, 2)}


def machine() -> dict[str, Any]:
    import platform

    return {
        "cores": os.cpu_count(),
        "memory_gb": round(psutil.virtual_memory().total / 2**30, 1),
        "python": platform.python_version(),
        "platform": platform.platform(),
    }


def _section(queue: Any, run: Callable[..., Any], args: tuple, progress: str, kwargs: dict) -> None:
    """A section's process: its progress lines and its result (or its error) go to ``queue``."""
    import traceback

    try:
        result = run(*args, **kwargs, **{progress: lambda m: queue.put(("say", m))})
    except BaseException:  # noqa: BLE001 - the parent raises it
        queue.put(("error", traceback.format_exc()))
        return
    queue.put(("result", result))


def in_own_process(
    run: Callable[..., Any], args: tuple, progress: str, say: Say, **kwargs: Any
) -> Any:
    """``run(*args, **kwargs, <progress>=say)`` in a spawned process of its own, its progress
    lines said here as they come: the section's embedded engine — its memory, its catalogue —
    ends with it, so the sections after it (the telematics sizes) start as fresh as the first
    (measured: the 10M facts took 49 s after the freight and ride-hailing sections in this
    process, 37–40 s on their own)."""
    import multiprocessing as mp
    import queue as queues

    context = mp.get_context("spawn")
    channel = context.Queue()
    child = context.Process(target=_section, args=(channel, run, args, progress, kwargs))
    child.start()
    try:
        while True:
            try:
                kind, value = channel.get(timeout=1.0)
            except queues.Empty:
                if not child.is_alive():
                    raise RuntimeError(
                        f"{run.__module__}.{run.__name__} ended (exit code {child.exitcode}) "
                        "without a result"
                    ) from None
                continue
            if kind == "say":
                say(value)
            elif kind == "error":
                raise RuntimeError(f"{run.__module__}.{run.__name__} failed:\n{value}")
            else:
                return value
    finally:
        child.join(timeout=60)
        if child.is_alive():
            child.kill()


def run_bench(
    sizes: dict[str, int],
    work: Path,
    baselines: tuple[str, ...] = BASELINES,
    baseline_max: int | None = None,
    keep: bool = False,
    say: Say = print,
    end_to_end: bool = True,
    crypto_seconds: float = 0.5,
    freight_envelopes: int = 0,
    freight_waybills: int = 0,
    ridehailing_orders: int = 0,
    ridehailing_positions: int = 0,
) -> BenchResult:
    """Measure the national crypto (each operation for ``crypto_seconds``; 0: not at all), network
    freight, the ride-hailing race (a company-month of ``ridehailing_orders`` orders and
    ``ridehailing_positions`` points; 0 orders: not at all), then generate (or reuse) each size,
    run our pipeline and the baselines (the compared work, then end to end unless ``end_to_end``
    is false), return every number."""
    from transforms.crypto.keys import KEYS_ENV, init_keys

    work = work.resolve()
    cores = os.cpu_count() or 1
    # the generated data's personal fields are protected with the bench's own keys unless
    # $LAKEHOUSE_KEYS names others (the baselines' processes inherit the setting)
    os.environ.setdefault(KEYS_ENV, str(work / "keys"))
    init_keys()
    bench = BenchResult({}, machine(), dt.datetime.now().isoformat(timespec="seconds"))
    if crypto_seconds > 0:
        from transforms.crypto.bench import measure

        say("national crypto …")
        bench.crypto = measure(crypto_seconds)
    if freight_envelopes or freight_waybills:
        from orchestration.bench import freight

        bench.freight = in_own_process(
            freight.run, (work, freight_envelopes, freight_waybills), "progress", say
        )
    if ridehailing_orders:
        from orchestration.bench import ridehailing

        # its baselines are those of --baselines that race it (none: ours only)
        racers = tuple(e for e in ridehailing.ENGINES if e in baselines)
        bench.ridehailing = in_own_process(
            ridehailing.run,
            (work, ridehailing_orders, ridehailing_positions),
            "progress",
            say,
            engines=racers,
            cores=cores,
        )
    for label, points in sizes.items():
        landing, summary = landing_zone(work, label, points, say)
        actual = summary["parsed_records"] + summary["frame_positions"]
        result = SizeResult(
            label, actual, _landing_mb(landing), summary["vehicles"], len(summary["days"])
        )
        lake = work / "runs" / label
        if lake.exists():
            shutil.rmtree(lake)
        lake.mkdir(parents=True)
        (lake / "landing").symlink_to(landing, target_is_directory=True)
        say(f"{label}: {actual:,} points, {result.landing_mb:,.0f} MB of landing files")
        read_once(landing / "telematics")
        ours = run_ours(result, lake, say)
        if baselines and (baseline_max is None or points <= baseline_max):
            from orchestration.bench.workload import normalise

            expected = normalise(ours)
            scratch = work / "scratch" / label
            agree = True
            for engine in baselines:
                say(f"  {label}: baseline {engine} …")
                b = run_baseline(engine, lake, scratch, cores)
                result.baselines[engine] = b
                if "indicators" in b:
                    agree = _check(result, "compared work", engine, expected, b, say) and agree
                say(f"  {label}: {engine} {b['seconds']:,.1f} s (ours {result.work_seconds:.1f} s)")
            result.agree = agree
            racers = [e for e in baselines if e in END_TO_END] if end_to_end else []
            for engine in racers:
                say(f"  {label}: end to end {engine} …")
                read_once(landing / "telematics")
                b = run_end_to_end(engine, landing, scratch, cores)
                result.end_to_end[engine] = b
                same = _check(result, "end to end", engine, expected, b, say)
                result.end_to_end_agree = same and result.end_to_end_agree is not False
                say(
                    f"  {label}: end to end {engine} {b['seconds']:,.1f} s "
                    f"(ours {result.ours_end_to_end_s:.1f} s)"
                )
        bench.sizes[label] = result
        # the numbers so far survive an interrupted run (30M takes a while)
        (work / "last-run.json").write_text(to_json(bench), encoding="utf-8")
        shutil.rmtree(work / "scratch" / label, ignore_errors=True)
        if not keep:
            shutil.rmtree(lake, ignore_errors=True)
    return bench


def _check(
    result: SizeResult,
    what: str,
    engine: str,
    expected: list[tuple],
    baseline: dict[str, Any],
    say: Say,
) -> bool:
    """Whether the baseline computed our monthly indicators; a mismatch is said and recorded."""
    mismatch = compare_indicators(engine, expected, baseline["indicators"])
    if mismatch is None:
        return True
    line = f"{result.label} {what}: {mismatch}"
    result.mismatches.append(line)
    say(f"  ✗ {line}")
    return False


# ---- report -----------------------------------------------------------------------------------
def render(bench: BenchResult) -> str:
    """The stage table, the compared work and the end-to-end race with ratios, the province-day
    extrapolation and the growth — for people."""
    lines = []
    m = bench.machine
    lines.append(f"machine: {m['cores']} cores, {m['memory_gb']} GB — {bench.started_at}")
    lines.append("")
    head = (
        f"{'size':>6} {'stage':<11} {'seconds':>9} {'rows/s':>12} {'records':>11} "
        f"{'records/s':>11} {'MB/s':>8} {'peak RSS MB':>12}"
    )
    if bench.sizes:  # --sizes none: the domain sections only
        lines.append(head)
        lines.append("-" * len(head))
    for label, r in bench.sizes.items():
        for name, s in [*r.stages.items(), ("total", r.total)]:
            lines.append(
                f"{label:>6} {name:<11} {s.seconds:>9.1f} {s.rows_per_s:>12,.0f} "
                f"{s.records:>11,} {s.records_per_s:>11,.0f} {s.mb_per_s:>8.1f} "
                f"{s.peak_rss_mb:>12,.0f}"
            )
    if bench.sizes:
        lines.append(
            "rows/s: position points ÷ seconds; records: what the stage reads (land: lines"
        )
        lines.append(
            "of every feed; publish: bronze positions; facts, indicators: silver + quarantine)"
        )
    compared = [r for r in bench.sizes.values() if r.baselines]
    if compared:
        lines.append("")
        lines.append(
            "compared work (silver snapshot → facts → monthly indicators), seconds and "
            "ratio = baseline ÷ ours (> 1: we are faster)"
        )
        head = f"{'size':>6} {'ours':>8}" + "".join(f" {b:>20}" for b in BASELINES)
        lines.append(head + f" {'same numbers':>13}")
        for r in compared:
            cells = ""
            for b in BASELINES:
                if b in r.baselines:
                    sec = r.baselines[b]["seconds"]
                    cells += f" {sec:>10.1f} s ×{sec / r.work_seconds:>6.2f}"
                else:
                    cells += f" {'—':>20}"
            agree = {True: "yes", False: "NO", None: "—"}[r.agree]
            lines.append(f"{r.label:>6} {r.work_seconds:>8.1f}{cells} {agree:>13}")
    raced = [r for r in bench.sizes.values() if r.end_to_end]
    if raced:
        lines.append("")
        lines.append(
            "end to end (landing files → silver → facts → monthly indicators; ours: land + "
            "publish + compared work),"
        )
        lines.append("seconds, points/s and ratio = baseline ÷ ours (> 1: we are faster)")
        head = f"{'size':>6} {'ours':>8} {'points/s':>10}" + "".join(
            f" {b:>31}" for b in END_TO_END
        )
        lines.append(head + f" {'same numbers':>13}")
        for r in raced:
            ours = r.ours_end_to_end_s
            cells = ""
            for b in END_TO_END:
                if b in r.end_to_end:
                    sec = r.end_to_end[b]["seconds"]
                    rate = r.points_per_s(sec)
                    cells += f" {sec:>8.1f} s {rate:>10,.0f}/s ×{sec / ours:>6.2f}"
                else:
                    cells += f" {'—':>31}"
            agree = {True: "yes", False: "NO", None: "—"}[r.end_to_end_agree]
            lines.append(
                f"{r.label:>6} {ours:>8.1f} {r.points_per_s(ours):>10,.0f}{cells} {agree:>13}"
            )
        starts = [
            f"{b} {r.end_to_end[b]['startup_s']:.1f} s ({r.label})"
            for r in raced
            for b in END_TO_END
            if r.end_to_end.get(b, {}).get("startup_s")
        ]
        if starts:
            lines.append(f"engine start-up, not timed: {', '.join(starts)}")
    day = bench.province_day()
    if day is not None:
        engines = [("ours", day["ours"])] + [(b, day[b]) for b in END_TO_END if b in day]
        cells = ", ".join(
            f"{name} {d['hours']:,.1f} h ({d['points_per_s']:,.0f} points/s at {d['size']})"
            for name, d in engines
        )
        lines.append("")
        lines.append(
            f"province-day (≈{PROVINCE_DAY_POINTS / 1e6:,.0f} M points) on this machine's "
            f"{day['cores']} cores, linear from the end-to-end rate: {cells}"
        )
    g = bench.growth()
    if g["exponent"] is not None:
        lines.append("")
        stages = ", ".join(f"{k} {v}" for k, v in g["stages"].items())
        lines.append(
            f"growth: time ∝ points^{g['exponent']} for the whole pipeline "
            f"(end to end ^{g['end_to_end']}; compared work ^{g['compared_work']}; {stages}); "
            "1.0 is linear"
        )
    if bench.crypto:
        lines.append("")
        lines += render_crypto(bench.crypto)
    if bench.freight:
        lines.append("")
        lines += render_freight(bench.freight)
    if bench.ridehailing:
        from orchestration.bench.ridehailing import render as render_ridehailing

        lines.append("")
        lines += render_ridehailing(bench.ridehailing)
    if bench.mismatches:
        lines.append("")
        lines.append("✗ engines that computed different results:")
        lines += [f"  {line}" for line in bench.mismatches]
    return "\n".join(lines)


def render_crypto(c: dict[str, Any]) -> list[str]:
    """The national-crypto lines of the report."""
    return [
        "national crypto, one process (ratio: the SM2 in use ÷ pure-Python gmssl):",
        f"  SM2 {c['sm2_implementation']}: sign {c['sm2_sign_per_s']:,.0f}/s "
        f"(×{c['sm2_sign_per_s'] / c['gmssl_sm2_sign_per_s']:.0f}), "
        f"verify {c['sm2_verify_per_s']:,.0f}/s "
        f"(×{c['sm2_verify_per_s'] / c['gmssl_sm2_verify_per_s']:.0f}; "
        f"2 threads {c['sm2_verify_2_threads_per_s']:,.0f}/s), "
        f"decrypt {c['sm2_decrypt_per_s']:,.0f}/s "
        f"(×{c['sm2_decrypt_per_s'] / c['gmssl_sm2_decrypt_per_s']:.0f})",
        f"  gmalglib alone: verify {c['gmalglib_sm2_verify_per_s']:,.0f}/s, "
        f"decrypt {c['gmalglib_sm2_decrypt_per_s']:,.0f}/s",
        f"  SM4 (OpenSSL): ECB {c['sm4_ecb_encrypt_mb_per_s']:,.0f} MB/s, "
        f"CBC {c['sm4_cbc_encrypt_mb_per_s']:,.0f} MB/s encrypt; "
        f"a column of ID numbers {c['sm4_column_encrypt_values_per_s']:,.0f} values/s",
        f"  SM3 {c['sm3_mb_per_s']:,.0f} MB/s, HMAC-SM3 {c['hmac_sm3_mb_per_s']:,.0f} MB/s "
        f"({c['hmac_sm3_column_values_per_s']:,.0f} column values/s)",
    ]


def render_freight(f: dict[str, Any]) -> list[str]:
    """The network-freight lines of the report."""
    lines = ["network freight (网络货运):"]
    if "envelopes" in f:
        e = f["envelopes"]
        lines.append(
            f"  {e['envelopes']:,} single-document envelopes: land {e['land_s']:.1f} s + open, "
            f"verify and publish {e['publish_s']:.1f} s → {e['envelopes_per_s']:,.0f} envelopes/s"
        )
    if "province_day" in f:
        p = f["province_day"]
        lines.append(
            f"  province-day ({p['waybills']:,} waybills, {p['national_positions']:,} national "
            f"points, {p['envelopes']:,} envelopes): land {p['land_s']:.1f} s, publish "
            f"{p['publish_s']:.1f} s; anomalies + statistics {p['anomaly_step_s']:.1f} s against "
            f"DuckDB running the same SQL {p['duckdb_anomaly_step_s']:.1f} s "
            f"(×{p['ratio_duckdb']:.2f}); {p['anomalies']:,} anomaly rows, engines agree: "
            f"{p['same_results']}"
        )
    return lines


def to_json(bench: BenchResult) -> str:
    return json.dumps(bench.to_dict(), ensure_ascii=False, indent=2, default=_jsonable)


def _jsonable(value: Any) -> Any:
    if isinstance(value, StageResult | SizeResult):
        return asdict(value)
    return str(value)

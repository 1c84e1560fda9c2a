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
4. prints per stage seconds, rows/s, MB/s (landing bytes / s), peak RSS; the ratios baseline time ÷
   our time (above 1: we are faster); and the growth exponent of time in the number of points
   (1.0 = linear), fitted over the sizes.

No timing is asserted anywhere: the numbers are printed (``--json`` for machines).
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
STAGES = ("land", "publish", "facts", "indicators")

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
    """``"1M,10M"`` → {"1M": 1000000, "10M": 10000000}, in increasing order."""
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

    @property
    def rows_per_s(self) -> float:
        return self.rows / self.seconds if self.seconds > 0 else math.inf

    @property
    def mb_per_s(self) -> float:
        return self.mb / self.seconds if self.seconds > 0 else math.inf

    def to_dict(self) -> dict[str, float]:
        return {
            "seconds": round(self.seconds, 3),
            "rows_per_s": round(self.rows_per_s, 1),
            "mb_per_s": round(self.mb_per_s, 2),
            "peak_rss_mb": round(self.peak_rss_mb, 1),
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

    @property
    def total(self) -> StageResult:
        seconds = sum(s.seconds for s in self.stages.values())
        peak = max((s.peak_rss_mb for s in self.stages.values()), default=0.0)
        return StageResult(seconds, self.points, self.landing_mb, peak)

    def ratios(self) -> dict[str, float]:
        return {
            name: round(b["seconds"] / self.work_seconds, 3)
            for name, b in self.baselines.items()
            if self.work_seconds > 0
        }

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


# ---- our pipeline -----------------------------------------------------------------------------
def _dbt(lake: Path) -> None:
    """dbt run of every model against this process's engine (as the Dagster asset does)."""
    from orchestration.environment import DBT_PROJECT_DIR, LakehouseResource
    from transforms.rules import dbt_vars, load_rules

    env = {**os.environ, **LakehouseResource(lake=str(lake)).dbt_env()}
    dbt = Path(sys.executable).with_name("dbt")
    cmd = [str(dbt), "run", "--quiet", "--vars", dbt_vars(load_rules())]
    cmd += ["--project-dir", str(DBT_PROJECT_DIR), "--profiles-dir", str(DBT_PROJECT_DIR)]
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
    from transforms.lake.landing import land_feed, landing_workers
    from transforms.lake.session import get_spark
    from transforms.rules import load_rules
    from transforms.telematics.feeds import EVENT_FEEDS, MASTER_FEEDS, POSITION_FEEDS
    from transforms.telematics.jobs.facts import publish_facts
    from transforms.telematics.jobs.master import publish_feed
    from transforms.telematics.jobs.positions import publish_positions

    rules = load_rules(domain="telematics")
    spark = get_spark(lake)
    workers = landing_workers()
    with stage(result, "land", say):
        for feed in (*MASTER_FEEDS, *EVENT_FEEDS, *POSITION_FEEDS):
            land_feed(lake, feed, workers=workers)
    with stage(result, "publish", say):
        for feed in (*MASTER_FEEDS, *EVENT_FEEDS):
            publish_feed(spark, lake, feed)
        published = publish_positions(spark, lake, rules)
        if not published.published:
            raise RuntimeError("the generated batch failed validation; see the GX summary")
    with stage(result, "facts", say):
        publish_facts(spark, lake, rules)
    # the compared work: the facts stage plus the portable monthly-indicator query
    t0 = time.perf_counter()
    indicators = _monthly_indicators_ours(spark, lake)
    result.work_seconds = result.stages["facts"].seconds + time.perf_counter() - t0
    with stage(result, "indicators", say):
        _dbt(lake)
    return indicators


def run_baseline(engine: str, lake: Path, out: Path, cores: int) -> dict[str, Any]:
    """One baseline in its own process (clean memory accounting); returns its JSON result."""
    from transforms.lake.classic import classic_env

    env = classic_env()
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    cmd = [sys.executable, "-m", "orchestration.bench.baselines", engine, "--lake", str(lake)]
    cmd += ["--out", str(out / engine), "--cores", str(cores)]
    proc = subprocess.Popen(
        cmd, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    with PeakRss(proc.pid) as rss:
        stdout, stderr = proc.communicate()
    if proc.returncode != 0:
        raise RuntimeError(f"baseline {engine} failed:\n{stderr[-4000:]}")
    result = json.loads(stdout.strip().splitlines()[-1])
    result["peak_rss_mb"] = rss.mb
    return result


# ---- the run ----------------------------------------------------------------------------------
@dataclass
class BenchResult:
    sizes: dict[str, SizeResult]
    machine: dict[str, Any]
    started_at: str

    def growth(self) -> dict[str, Any]:
        results = list(self.sizes.values())
        points = [r.points for r in results]
        out: dict[str, Any] = {
            "exponent": _round(growth(points, [r.total.seconds for r in results])),
            "compared_work": _round(growth(points, [r.work_seconds for r in results])),
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
        }


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 3)


def machine() -> dict[str, Any]:
    import platform

    return {
        "cores": os.cpu_count(),
        "memory_gb": round(psutil.virtual_memory().total / 2**30, 1),
        "python": platform.python_version(),
        "platform": platform.platform(),
    }


def run_bench(
    sizes: dict[str, int],
    work: Path,
    baselines: tuple[str, ...] = BASELINES,
    baseline_max: int | None = None,
    keep: bool = False,
    say: Say = print,
) -> BenchResult:
    """Generate (or reuse) each size, run our pipeline and the baselines, return every number."""
    work = work.resolve()
    cores = os.cpu_count() or 1
    bench = BenchResult({}, machine(), dt.datetime.now().isoformat(timespec="seconds"))
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
        ours = run_ours(result, lake, say)
        if baselines and (baseline_max is None or points <= baseline_max):
            from orchestration.bench.workload import normalise, same_indicators

            expected = normalise(ours)
            agree = True
            for engine in baselines:
                say(f"  {label}: baseline {engine} …")
                b = run_baseline(engine, lake, work / "scratch" / label, cores)
                result.baselines[engine] = b
                if "indicators" in b:
                    same = same_indicators(expected, [tuple(r) for r in b["indicators"]])
                    agree = agree and same
                    if not same:
                        theirs = [tuple(r) for r in b["indicators"]]
                        diff = [(a, t) for a, t in zip(expected, theirs, strict=False) if a != t]
                        say(
                            f"  ✗ {engine} computed different monthly indicators "
                            f"({len(theirs)} rows, ours {len(expected)}); first difference: "
                            f"ours {diff[0][0] if diff else '—'} / {engine} {diff[0][1] if diff else '—'}"
                        )
                say(f"  {label}: {engine} {b['seconds']:,.1f} s (ours {result.work_seconds:.1f} s)")
            result.agree = agree
        bench.sizes[label] = result
        # the numbers so far survive an interrupted run (30M takes a while)
        (work / "last-run.json").write_text(to_json(bench), encoding="utf-8")
        shutil.rmtree(work / "scratch" / label, ignore_errors=True)
        if not keep:
            shutil.rmtree(lake, ignore_errors=True)
    return bench


# ---- report -----------------------------------------------------------------------------------
def render(bench: BenchResult) -> str:
    """The stage table, the compared work with ratios, and the growth — for people."""
    lines = []
    m = bench.machine
    lines.append(f"machine: {m['cores']} cores, {m['memory_gb']} GB — {bench.started_at}")
    lines.append("")
    head = (
        f"{'size':>6} {'stage':<11} {'seconds':>9} {'rows/s':>12} {'MB/s':>8} {'peak RSS MB':>12}"
    )
    lines.append(head)
    lines.append("-" * len(head))
    for label, r in bench.sizes.items():
        for name, s in [*r.stages.items(), ("total", r.total)]:
            lines.append(
                f"{label:>6} {name:<11} {s.seconds:>9.1f} {s.rows_per_s:>12,.0f} "
                f"{s.mb_per_s:>8.1f} {s.peak_rss_mb:>12,.0f}"
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
    g = bench.growth()
    if g["exponent"] is not None:
        lines.append("")
        stages = ", ".join(f"{k} {v}" for k, v in g["stages"].items())
        lines.append(
            f"growth: time ∝ points^{g['exponent']} end to end "
            f"(compared work ^{g['compared_work']}; {stages}); 1.0 is linear"
        )
    return "\n".join(lines)


def to_json(bench: BenchResult) -> str:
    return json.dumps(bench.to_dict(), ensure_ascii=False, indent=2, default=_jsonable)


def _jsonable(value: Any) -> Any:
    if isinstance(value, StageResult | SizeResult):
        return asdict(value)
    return str(value)

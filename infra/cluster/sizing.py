#!/usr/bin/env python3
"""Estimate the cluster for one province-month from a benchmark's measured throughput and growth.

    python infra/cluster/sizing.py bench.json
    python infra/cluster/sizing.py bench.json --points-per-day 288e6 --days 31 --deadline-h 6
    python infra/cluster/sizing.py bench.json --json          # machine-readable

Input: the JSON written by ``lakehouse bench --json``::

    {"sizes": {"10M": {"points": 10000000,
                       "stages": {"land": {"seconds": s, "rows_per_s": r, "mb_per_s": m,
                                           "peak_rss_mb": p}, "publish": {...},
                                  "facts": {...}, "indicators": {...}},
                       "total": {"seconds": s, "rows_per_s": r, "peak_rss_mb": p}}, ...},
     "growth": {"exponent": e, "stages": {"land": e1, ...}, ...},
     "machine": {"cores": 2, "memory_gb": 23},
     "ratios": {"10M": {"jvm_spark": x, "duckdb": y, "raw_scan": z}}}

Model (every knob is an option, every assumption is printed):

* time of a stage at n points on the benchmark's cores (``--model power``, the default):
  ``t(n) = t_ref * (n / n_ref) ** e``, with ``n_ref`` the largest measured size and ``e`` the
  stage's measured growth exponent (``growth.stages.<stage>``, else ``growth.exponent``), never
  below ``--min-exponent`` (1.0 by default: a small benchmark's sub-linear growth is mostly fixed
  start-up cost, which must not be extrapolated a thousandfold as if it were throughput);
  ``--model affine`` fits ``t(n) = a + b * n`` per stage over every size instead (fixed cost paid
  once per run + cost per point); the table shows the other model as a cross-check;
* daily stages (all but ``--monthly-stages``) run on one province-day (``--points-per-day``);
  monthly stages (``indicators``) run on the whole month: they read per-vehicle-day facts, so they
  scale with vehicle-days (``--vehicles * days`` against the benchmark's ``vehicles * days``) when
  the benchmark reports its fleet, else with the month's points (``points-per-day * days``);
* scenarios: one day's facts; the month-end run = the last day + the monthly indicators (the
  deadline: ready the next morning); a full re-run after a late upload (补传) = ``days`` daily runs
  + the monthly indicators (worst case: the whole month re-delivered);
* cores to meet a deadline D with parallel efficiency eta:
  ``cores = t * bench_cores / (eta * D)`` (rounded up);
* the run-pod stages (``land``: Python in the Dagster run pod) get their share of those cores in
  proportion to their time; the rest is the engine's;
* memory = cores * (largest stage peak RSS at n_ref / bench_cores) * ``--memory-headroom``;
* nodes = max(cores / cores-per-node, memory / memory-per-node), rounded up (worker nodes only:
  the Spark Connect server or Sail driver, Dagster, Superset and PostgreSQL come on top).

Standard library only: runs anywhere Python 3.9+ runs.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from dataclasses import asdict, dataclass, field, replace
from typing import Any

DEFAULT_MONTHLY_STAGES = ("indicators",)
# stages that run as Python in the Dagster run pod (landing parses files in a process pool), not on
# the engine: their share of the cores goes to the run pod
DEFAULT_RUN_POD_STAGES = ("land",)
MODELS = ("power", "affine")


class BenchError(ValueError):
    """The benchmark JSON lacks what the estimate needs."""


@dataclass(frozen=True)
class Params:
    points_per_day: float = 288e6
    vehicles: int = 100_000  # the monthly stages scale with vehicle-days when the bench has them
    days: int = 31
    deadline_h: float = 6.0
    rerun_deadline_h: float | None = None  # None: same as deadline_h
    efficiency: float = 0.7
    exponent: float | None = None  # None: the benchmark's growth exponents
    model: str = "power"  # or "affine"
    min_exponent: float = 1.0
    reference: str | None = None  # None: the largest measured size
    monthly_stages: tuple[str, ...] = DEFAULT_MONTHLY_STAGES
    run_pod_stages: tuple[str, ...] = DEFAULT_RUN_POD_STAGES
    time_factor: float = 1.0
    memory_headroom: float = 1.5
    cores_per_node: int = 16
    memory_per_node_gb: float = 64.0


@dataclass(frozen=True)
class Scenario:
    name: str
    description: str
    seconds_on_bench: float  # extrapolated time on the benchmark machine's cores
    deadline_s: float
    cores: int
    memory_gib: float
    nodes: int
    run_pod_cores: int  # the share of ``cores`` the run-pod stages need (the rest: the engine)


@dataclass
class Estimate:
    reference: str
    n_ref: int
    bench_cores: int
    bench_memory_gb: float | None
    model: str
    exponents: dict[str, float]  # stage -> exponent used (power model)
    exponent_source: str
    per_core_rss_mb: float
    fits: dict[str, tuple[float, float]] = field(default_factory=dict)  # affine: stage -> (a, b)
    drivers: dict[str, str] = field(default_factory=dict)  # stage -> "points" | "vehicle-days"
    daily_stages: dict[str, float] = field(default_factory=dict)  # stage -> s at points_per_day
    monthly_stages: dict[str, float] = field(default_factory=dict)  # stage -> s at month volume
    scenarios: list[Scenario] = field(default_factory=list)
    bytes_per_point: float | None = None
    ratios: dict[str, Any] = field(default_factory=dict)
    params: Params = field(default_factory=Params)
    cross_check: dict[str, int] | None = None  # the other model's cores per scenario


def _number(value: Any, what: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise BenchError(f"{what} must be a number, got {value!r}")
    if not math.isfinite(value):
        raise BenchError(f"{what} must be finite, got {value!r}")
    return float(value)


def _sizes(bench: dict[str, Any]) -> dict[str, dict[str, Any]]:
    sizes = bench.get("sizes")
    if not isinstance(sizes, dict) or not sizes:
        raise BenchError("the benchmark JSON has no 'sizes'")
    for label, size in sizes.items():
        if not isinstance(size, dict) or "points" not in size:
            raise BenchError(f"size {label!r} has no 'points'")
        if not isinstance(size.get("stages"), dict) or not size["stages"]:
            raise BenchError(f"size {label!r} has no 'stages'")
    return sizes


def _fitted_exponent(sizes: dict[str, dict[str, Any]]) -> float | None:
    """Growth exponent between the two largest sizes, from the sum of their stage times."""
    ordered = sorted(sizes.values(), key=lambda s: s["points"])
    if len(ordered) < 2:
        return None
    small, large = ordered[-2], ordered[-1]

    def seconds(size: dict[str, Any]) -> float:
        return sum(_number(st["seconds"], "stage seconds") for st in size["stages"].values())

    n1, n2 = _number(small["points"], "points"), _number(large["points"], "points")
    t1, t2 = seconds(small), seconds(large)
    if n2 <= n1 or t1 <= 0 or t2 <= 0:
        return None
    return math.log(t2 / t1) / math.log(n2 / n1)


def _vehicle_days(size: dict[str, Any]) -> float | None:
    if size.get("vehicles") and size.get("days"):
        return _number(size["vehicles"], "vehicles") * _number(size["days"], "days")
    return None


def _affine_fit(sizes: dict[str, dict[str, Any]], stage: str, measure) -> tuple[float, float]:
    """Least-squares ``seconds = a + b * measure(size)`` of one stage over every size (a, b >= 0)."""
    pairs = [
        (measure(s), _number(s["stages"][stage]["seconds"], "seconds"))
        for s in sizes.values()
        if stage in s["stages"]
    ]
    if len({n for n, _ in pairs}) < 2:
        raise BenchError(f"the affine model needs two sizes with stage {stage!r}")
    mn = sum(n for n, _ in pairs) / len(pairs)
    mt = sum(t for _, t in pairs) / len(pairs)
    b = sum((n - mn) * (t - mt) for n, t in pairs) / sum((n - mn) ** 2 for n, _ in pairs)
    if b <= 0:  # no measurable cost per point: all fixed
        return mt, 0.0
    a = mt - b * mn
    if a < 0:  # no measurable fixed cost: through the origin
        return 0.0, sum(n * t for n, t in pairs) / sum(n * n for n, _ in pairs)
    return a, b


def _cores(seconds_on_bench: float, bench_cores: int, efficiency: float, deadline_s: float) -> int:
    return max(1, math.ceil(seconds_on_bench * bench_cores / (efficiency * deadline_s) - 1e-9))


def estimate(
    bench: dict[str, Any], params: Params | None = None, cross_check: bool = True
) -> Estimate:
    """The estimate for ``params`` (defaults: one province of 288 M points/day, 31 days, 6 h)."""
    p = params or Params()
    if not 0 < p.efficiency <= 1:
        raise BenchError(f"efficiency must be in (0, 1], got {p.efficiency}")
    if p.points_per_day <= 0 or p.days <= 0 or p.deadline_h <= 0:
        raise BenchError("points-per-day, days and deadline-h must be positive")
    sizes = _sizes(bench)
    machine = bench.get("machine") or {}
    if "cores" not in machine:
        raise BenchError("the benchmark JSON has no 'machine.cores'")
    bench_cores = int(_number(machine["cores"], "machine.cores"))
    if bench_cores < 1:
        raise BenchError("machine.cores must be at least 1")
    memory_gb = machine.get("memory_gb")

    ref_label = p.reference or max(sizes, key=lambda k: sizes[k]["points"])
    if ref_label not in sizes:
        raise BenchError(f"reference size {ref_label!r} not in the benchmark ({', '.join(sizes)})")
    ref = sizes[ref_label]
    n_ref = _number(ref["points"], f"sizes.{ref_label}.points")
    if n_ref <= 0:
        raise BenchError("the reference size has no points")

    if p.model not in MODELS:
        raise BenchError(f"model must be one of {', '.join(MODELS)}, got {p.model!r}")
    growth = bench.get("growth") if isinstance(bench.get("growth"), dict) else {}
    per_stage = growth.get("stages") if isinstance(growth.get("stages"), dict) else {}
    if p.exponent is not None:
        default, source = p.exponent, "--exponent"
    elif growth.get("exponent") is not None:
        default, source = _number(growth["exponent"], "growth.exponent"), "growth"
    else:
        default, source = _fitted_exponent(sizes), "fitted on the two largest sizes"
    n_month = p.points_per_day * p.days
    est = Estimate(
        reference=ref_label,
        n_ref=int(n_ref),
        bench_cores=bench_cores,
        bench_memory_gb=None if memory_gb is None else float(memory_gb),
        model=p.model,
        exponents={},
        exponent_source=source,
        per_core_rss_mb=0.0,
        ratios=dict((bench.get("ratios") or {}).get(ref_label) or {}),
        params=p,
    )
    raised = []
    peak_rss = 0.0
    for stage, m in ref["stages"].items():
        seconds = _number(m.get("seconds"), f"sizes.{ref_label}.stages.{stage}.seconds")
        peak_rss = max(peak_rss, float(m.get("peak_rss_mb") or 0.0))
        monthly = stage in p.monthly_stages
        # monthly stages read the month's per-vehicle-day facts: they scale with vehicle-days
        # (the benchmark's fleets report fewer points a day than a real one), else with points
        by_vd = monthly and all(_vehicle_days(sz) for sz in sizes.values())
        if by_vd:
            n, ref_n, measure = p.vehicles * p.days, _vehicle_days(ref), _vehicle_days
            est.drivers[stage] = "vehicle-days"
        else:
            n = n_month if monthly else p.points_per_day
            ref_n, measure = n_ref, lambda sz: _number(sz["points"], "points")
            est.drivers[stage] = "points"
        if p.model == "affine":
            a, b = _affine_fit(sizes, stage, measure)
            est.fits[stage] = (a, b)
            t = a + b * n
        else:
            measured = default
            if p.exponent is None and per_stage.get(stage) is not None:
                measured = _number(per_stage[stage], f"growth.stages.{stage}")
            if measured is None:
                raise BenchError("no growth exponent and fewer than two sizes: use --exponent")
            exponent = max(measured, p.min_exponent)
            if exponent != measured:
                raised.append(f"{stage} {measured:.2f}")
            est.exponents[stage] = exponent
            t = seconds * (n / ref_n) ** exponent
        (est.monthly_stages if monthly else est.daily_stages)[stage] = t * p.time_factor
    if raised:
        est.exponent_source += f"; raised to {p.min_exponent:g}: " + ", ".join(raised)
    if ref.get("landing_mb"):  # the benchmark's MB are MiB
        est.bytes_per_point = float(ref["landing_mb"]) * 2**20 / n_ref
    elif (land := ref["stages"].get("land")) and land.get("mb_per_s") and land.get("rows_per_s"):
        est.bytes_per_point = float(land["mb_per_s"]) * 2**20 / float(land["rows_per_s"])
    if peak_rss <= 0:
        peak_rss = float((ref.get("total") or {}).get("peak_rss_mb") or 0.0)
    est.per_core_rss_mb = peak_rss / bench_cores

    day = sum(est.daily_stages.values())
    monthly = sum(est.monthly_stages.values())
    deadline = p.deadline_h * 3600
    rerun_deadline = (p.rerun_deadline_h or p.deadline_h) * 3600
    run_pod_day = sum(t for st, t in est.daily_stages.items() if st in p.run_pod_stages)
    run_pod_month = sum(t for st, t in est.monthly_stages.items() if st in p.run_pod_stages)
    plans = [
        ("day", "one province-day: " + " + ".join(est.daily_stages), day, run_pod_day, deadline),
        (
            "month-end",
            "the last day + monthly " + (" + ".join(est.monthly_stages) or "(no monthly stage)"),
            day + monthly,
            run_pod_day + run_pod_month,
            deadline,
        ),
        (
            "re-run month",
            f"补传: {p.days} daily runs + monthly stages (whole month re-delivered)",
            p.days * day + monthly,
            p.days * run_pod_day + run_pod_month,
            rerun_deadline,
        ),
    ]
    for name, description, seconds, run_pod_seconds, limit in plans:
        cores = _cores(seconds, bench_cores, p.efficiency, limit)
        memory_gib = cores * est.per_core_rss_mb * p.memory_headroom / 1024
        nodes = max(
            math.ceil(cores / p.cores_per_node - 1e-9),
            math.ceil(memory_gib / p.memory_per_node_gb - 1e-9),
            1,
        )
        # serial stages on two pools: cores in proportion to the work meet the same deadline
        share = math.ceil(cores * run_pod_seconds / seconds - 1e-9) if seconds > 0 else 0
        est.scenarios.append(
            Scenario(name, description, seconds, limit, cores, memory_gib, nodes, share)
        )
    if cross_check:
        other = "affine" if p.model == "power" else "power"
        try:
            alt = estimate(bench, replace(p, model=other), cross_check=False)
        except BenchError:
            pass  # e.g. one size only: no affine fit
        else:
            est.cross_check = {s.name: s.cores for s in alt.scenarios}
    return est


def _duration(seconds: float) -> str:
    if seconds < 120:
        return f"{seconds:.1f} s"
    if seconds < 2 * 3600:
        return f"{seconds / 60:.1f} min"
    return f"{seconds / 3600:.1f} h"


def render(est: Estimate) -> str:
    p = est.params
    n_month = p.points_per_day * p.days
    lines = [
        f"Sizing for one province-month: {p.points_per_day:,.0f} points/day x {p.days} days "
        f"= {n_month:,.0f} points; {p.vehicles:,} vehicles = {p.vehicles * p.days:,} "
        "vehicle-days",
        "",
        f"{'scenario':<14} {'time on ' + str(est.bench_cores) + ' cores':>18} {'deadline':>9} "
        f"{'cores':>6} {'memory':>10} {'nodes':>6} {'of which run pod':>17}",
    ]
    for s in est.scenarios:
        lines.append(
            f"{s.name:<14} {_duration(s.seconds_on_bench):>18} {_duration(s.deadline_s):>9} "
            f"{s.cores:>6} {s.memory_gib:>7.1f} GiB {s.nodes:>6} {s.run_pod_cores:>11} cores"
        )
    if est.cross_check:
        other = "affine" if est.model == "power" else "power"
        shown = ", ".join(f"{k} {v}" for k, v in est.cross_check.items())
        lines.append(f"cross-check, {other} model: cores {shown}")
    lines += ["", f"Stage times on the benchmark's cores, extrapolated ({est.model} model):"]

    def how(stage: str) -> str:
        if est.model == "affine":
            a, b = est.fits[stage]
            return f"t = {a:.1f} s + {b * 1e6:.3f} s per M {est.drivers[stage]}"
        return f"exponent {est.exponents[stage]:.2f} in {est.drivers[stage]}"

    for stage, t in est.daily_stages.items():
        lines.append(f"  {stage:<12} {_duration(t):>10}  per day    [{how(stage)}]")
    for stage, t in est.monthly_stages.items():
        lines.append(f"  {stage:<12} {_duration(t):>10}  per month  [{how(stage)}]")
    if est.bytes_per_point:
        per_day_gib = est.bytes_per_point * p.points_per_day / 2**30
        lines.append(
            f"Landing input: {est.bytes_per_point:.0f} B/point -> {per_day_gib:,.1f} GiB/day, "
            f"{per_day_gib * p.days / 1024:,.2f} TiB/month (as landed, before Delta compression)"
        )
    if est.ratios:
        shown = ", ".join(f"{k}={v}" for k, v in est.ratios.items())
        lines.append(f"Engine ratios measured at {est.reference}: {shown} (see --time-factor)")
    bench_mem = f", {est.bench_memory_gb:g} GB" if est.bench_memory_gb is not None else ""
    lines += [
        "",
        "Assumptions:",
        f"  reference size {est.reference} ({est.n_ref:,} points) measured on "
        f"{est.bench_cores} cores{bench_mem}",
        (
            f"  t(n) = t_ref * (n / n_ref) ^ exponent per stage  [{est.exponent_source}]"
            if est.model == "power"
            else "  t(n) = a + b * n per stage, least squares over every measured size"
        ),
        f"  monthly stages: {', '.join(p.monthly_stages) or '(none)'}; all others run per day",
        f"  run-pod stages (Python in the Dagster run pod, not the engine): "
        f"{', '.join(p.run_pod_stages) or '(none)'}; set LAKEHOUSE_LANDING_WORKERS to its cores",
        f"  cores = time_on_bench * {est.bench_cores} / ({p.efficiency:g} efficiency * deadline)",
        f"  memory = cores * {est.per_core_rss_mb:,.0f} MB peak RSS/core * {p.memory_headroom:g} "
        "headroom",
        f"  nodes of {p.cores_per_node} cores / {p.memory_per_node_gb:g} GiB (workers only; the "
        "engine server, Dagster, Superset, PostgreSQL on top)",
    ]
    if p.time_factor != 1:
        lines.append(f"  every stage time multiplied by --time-factor {p.time_factor:g}")
    lines.append(
        "  an extrapolation from a small machine: re-measure on one cluster node before buying"
    )
    return "\n".join(lines)


def as_json(est: Estimate) -> dict[str, Any]:
    out = asdict(est)
    out["params"]["monthly_stages"] = list(est.params.monthly_stages)
    out["params"]["run_pod_stages"] = list(est.params.run_pod_stages)
    return out


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="sizing.py",
        description=(
            "Estimate cores, memory and nodes for one province-month from `lakehouse bench "
            "--json` output: time(n) = t_ref * (n / n_ref) ^ exponent on the benchmark's cores, "
            "extrapolated to a province-day and a province-month, converted to the cores that "
            "meet the deadline at the given parallel efficiency."
        ),
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    parser.add_argument("bench", help="benchmark JSON file ('-' for stdin)")
    d = Params()
    parser.add_argument(
        "--points-per-day",
        type=float,
        default=d.points_per_day,
        help="position points per province-day (100 000 vehicles every 30 s)",
    )
    parser.add_argument(
        "--vehicles",
        type=int,
        default=d.vehicles,
        help="key vehicles of the province (the monthly stages scale with vehicle-days)",
    )
    parser.add_argument("--days", type=int, default=d.days, help="days in the month")
    parser.add_argument(
        "--deadline-h",
        type=float,
        default=d.deadline_h,
        help="hours from data complete to results ready (next morning)",
    )
    parser.add_argument(
        "--rerun-deadline-h",
        type=float,
        default=None,
        help="deadline for the full month re-run after 补传 (default: --deadline-h)",
    )
    parser.add_argument(
        "--efficiency",
        type=float,
        default=d.efficiency,
        help="parallel efficiency of the cluster relative to the benchmark cores",
    )
    parser.add_argument(
        "--exponent",
        type=float,
        default=None,
        help="one growth exponent for every stage (default: the benchmark's, per stage)",
    )
    parser.add_argument(
        "--model",
        choices=MODELS,
        default=d.model,
        help="power: t_ref * (n/n_ref)^exponent; affine: a + b*n fitted over the sizes",
    )
    parser.add_argument(
        "--min-exponent",
        type=float,
        default=d.min_exponent,
        help="never assume growth better than this",
    )
    parser.add_argument(
        "--reference",
        default=None,
        help="size label to extrapolate from (default: the largest measured)",
    )
    parser.add_argument(
        "--monthly-stages",
        default=",".join(d.monthly_stages),
        help="comma-separated stages that run once per month on the month's volume",
    )
    parser.add_argument(
        "--run-pod-stages",
        default=",".join(d.run_pod_stages),
        help="comma-separated stages that run in the Dagster run pod rather than on the engine",
    )
    parser.add_argument(
        "--time-factor",
        type=float,
        default=d.time_factor,
        help="multiply every stage time (e.g. the JVM Spark / Sail ratio to size "
        "an Apache Spark cluster)",
    )
    parser.add_argument(
        "--memory-headroom",
        type=float,
        default=d.memory_headroom,
        help="memory = peak RSS per core * cores * this",
    )
    parser.add_argument("--cores-per-node", type=int, default=d.cores_per_node)
    parser.add_argument(
        "--memory-per-node-gb",
        type=float,
        default=d.memory_per_node_gb,
        help="GiB of memory per node",
    )
    parser.add_argument("--json", action="store_true", help="print the estimate as JSON")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    try:
        if args.bench == "-":
            bench = json.load(sys.stdin)
        else:
            with open(args.bench, encoding="utf-8") as fh:
                bench = json.load(fh)
        params = Params(
            points_per_day=args.points_per_day,
            vehicles=args.vehicles,
            days=args.days,
            deadline_h=args.deadline_h,
            rerun_deadline_h=args.rerun_deadline_h,
            efficiency=args.efficiency,
            exponent=args.exponent,
            model=args.model,
            min_exponent=args.min_exponent,
            reference=args.reference,
            monthly_stages=tuple(s.strip() for s in args.monthly_stages.split(",") if s.strip()),
            run_pod_stages=tuple(s.strip() for s in args.run_pod_stages.split(",") if s.strip()),
            time_factor=args.time_factor,
            memory_headroom=args.memory_headroom,
            cores_per_node=args.cores_per_node,
            memory_per_node_gb=args.memory_per_node_gb,
        )
        est = estimate(bench, params)
    except (OSError, json.JSONDecodeError, BenchError) as exc:
        print(f"sizing.py: {exc}", file=sys.stderr)
        return 2
    print(json.dumps(as_json(est), indent=2, ensure_ascii=False) if args.json else render(est))
    return 0


if __name__ == "__main__":
    sys.exit(main())

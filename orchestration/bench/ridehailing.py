"""The ride-hailing (网约车) speed race (issue 11, "Speed"): land and evaluate one platform company's
month — about ``orders`` orders and ``positions`` position points (positionDriver +
positionVehicle), 1 M and 10 M by default — on our engine, on classic JVM Spark running the same
plan, and on DuckDB running the same SQL, each timed in the same run; every engine must compute the
same ``gold.ridehailing__company_periods`` (month and year).

1. **The landing zone** — the project's generator (:mod:`transforms.ridehailing.generate`) with
   two companies, its minimum: one active platform company and one silent one (a permit and
   static data sent before the month, nothing in it: listed as not transmitted), November 2026
   (30 days), ``orders / 30`` orders a day (the generator adds a few at small sizes: every city has
   a driver, the cases' drivers two orders a day) and a position every
   :func:`position_interval` seconds of a trip; at its realistic defect rate. Cached in
   ``<work>/ridehailing/<orders>-<positions>/`` (``summary.json`` marks it done; the generator is
   deterministic). No licence feed: the licence checks apply only to holders a licence feed
   knows, on every engine.
2. **Ours** — on a fresh lake, as ``lakehouse run --domain ridehailing`` does (without the dbt
   marts): land every interface and the outage notices (``land_feeds``: SM3 lineage, personal
   fields SM4-encrypted, hashed and masked, lines that are not JSON to quarantine), publish
   (records once per natural key, GX suites, keyless lines to quarantine; ``publish_records``),
   evaluate (``evaluate``: static history, cross-record rules, timeliness with outages, defects,
   order facts, company periods, overview), each stage timed with its records per second.
3. **JVM Spark** (``python -m orchestration.bench.ridehailing jvm_spark``, its own process) —
   classic Apache Spark ``local[<cores>]``, Parquet instead of Delta: ``spark.read.json`` of the
   same files with every field a string (as our bronze), the protected columns our bronze has
   computed with Spark built-ins (:func:`protected`), then our own functions:
   ``checks.key_missing`` / ``checks.records`` per interface (staged as Parquet, as ours stages
   them), ``publish.one_per_key``, ``publish.outage_notices`` and the evaluation's plan
   ``evaluate.evaluation`` (static versions, cross-record rules, exemptions and timeliness,
   defects, orders, company periods, overview), every table written as Parquet. Timed whole;
   the JVM's start-up is reported, not timed.
4. **DuckDB** (``python -m orchestration.bench.ridehailing duckdb``) — the SQL port of the same
   steps (:mod:`orchestration.bench.ridehailing_duckdb`), landing files → company periods.

The ratio is baseline seconds ÷ our seconds (land + publish + evaluate; above 1: we are faster),
shown beside the issue's targets (JVM Spark ×3, DuckDB ×0.8). Where the baselines stop short of
ours: no bronze or quarantine tables, no SM3 digests, no ciphertext of personal fields, no GX
suites, no ledger; DuckDB writes none of the silver or gold tables, only the company periods.
"""

from __future__ import annotations

import argparse
import datetime as dt
import importlib.util
import json
import math
import os
import shutil
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from orchestration.bench.harness import read_once

START = dt.date(2026, 11, 1)
DAYS = 30  # November: one whole month
SEED = 11
COMPANIES = 2  # the generator's minimum: one active platform company and one silent one
POSITION_FEEDS = ("positionDriver", "positionVehicle")
ENGINES = ("jvm_spark", "duckdb")
STAGES = ("land", "publish", "evaluate")
TARGETS = {"jvm_spark": 3.0, "duckdb": 0.8}  # issue 11: baseline ÷ ours at least this
RATE_TOLERANCE = 1e-9
SCORE_TOLERANCE = 1e-7  # a score is 100 × a weighted mean of rates
RATES = (
    "completeness_rate", "normativity_rate", "timeliness_rate", "truthfulness_rate",
    "city_coverage_rate",
)  # fmt: skip
# what every engine's company periods are compared on (ridehailing.md, "Rates per company")
COMPARED = ("company_id", "period", "grain", "transmitted", "records", *RATES, "score")
# the generator's position lines per order ≈ FIXED + PER_INTERVAL_S / interval (both feeds: the
# points of a trip every interval seconds and one after it; fitted at 12 k and 100 k orders,
# intervals 30, 200 and 225 s)
LINES_FIXED, LINES_PER_INTERVAL_S = 2.75, 1669.0
DUCKDB_MODULE = "orchestration.bench.ridehailing_duckdb"
MODULE = "orchestration.bench.ridehailing"  # this module, run as each baseline's process

Say = Callable[[str], None]


# ---- the landing zone -------------------------------------------------------------------------
def position_interval(orders: int, positions: int) -> int:
    """Seconds between a trip's points so the generator writes about ``positions`` points for
    ``orders`` orders (2 s at least, a day at most)."""
    per_order = positions / max(orders, 1)
    if per_order <= LINES_FIXED + LINES_PER_INTERVAL_S / 86_400:
        return 86_400
    return max(2, min(86_400, round(LINES_PER_INTERVAL_S / (per_order - LINES_FIXED))))


def landing_zone(work: Path, orders: int, positions: int, say: Say) -> tuple[Path, dict[str, Any]]:
    """The landing root (holding ``ridehailing/<interface>/<day>/*.jsonl``) of one company-month
    of about ``orders`` orders and ``positions`` points, generated once and reused, and its
    summary (the generator's counts; ``generated_s`` the time it took)."""
    from transforms.ridehailing.generate import generate_ridehailing

    folder = work / "ridehailing" / f"{orders}-{positions}"
    done = folder / "summary.json"
    if done.exists():
        return folder / "landing", json.loads(done.read_text(encoding="utf-8"))
    shutil.rmtree(folder, ignore_errors=True)
    interval = position_interval(orders, positions)
    per_day = max(1, round(orders / DAYS))
    say(
        f"ride-hailing bench: generating one company-month, {per_day:,} orders a day, a point "
        f"every {interval} s of a trip (about {orders:,} orders, {positions:,} points) …"
    )
    t0 = time.perf_counter()
    summary = generate_ridehailing(
        folder, START, DAYS, seed=SEED, progress=say, orders_per_day=per_day,
        companies=COMPANIES, position_interval_s=interval,
    )  # fmt: skip
    seconds = time.perf_counter() - t0
    info = {
        "orders": summary.orders,
        "positions": sum(summary.records_by_interface[f] for f in POSITION_FEEDS),
        "records": summary.records,
        "lines": sum(summary.lines.values()),
        "files": sum(summary.files.values()),
        "quarantined": summary.quarantined["total"],
        "companies": len([p for p in summary.platforms if not p["silent"]]),
        "days": DAYS,
        "orders_per_day": per_day,
        "position_interval_s": interval,
        "generated_s": round(seconds, 1),
    }
    done.write_text(json.dumps(info), encoding="utf-8")
    say(
        f"ride-hailing bench: generated {info['orders']:,} orders, {info['positions']:,} points, "
        f"{info['lines']:,} lines in {seconds:,.0f} s"
    )
    return folder / "landing", info


def _landing_mb(landing: Path) -> float:
    return sum(p.stat().st_size for p in (landing / "ridehailing").rglob("*.jsonl")) / 2**20


# ---- ours -------------------------------------------------------------------------------------
@contextmanager
def _stage(stages: dict[str, dict[str, Any]], name: str, say: Say) -> Iterator[None]:
    from orchestration.bench.harness import PeakRss

    say(f"  ride-hailing: {name} …")
    with PeakRss() as rss:
        t0 = time.perf_counter()
        yield
        seconds = time.perf_counter() - t0
    stages[name] = {"seconds": seconds, "peak_rss_mb": rss.mb}
    say(f"  ride-hailing: {name} {seconds:,.1f} s (peak RSS {rss.mb:,.0f} MB)")


def run_ours(landing: Path, lake: Path, say: Say) -> tuple[dict[str, dict[str, Any]], list[dict]]:
    """Land, publish and evaluate on a fresh ``lake`` over ``landing`` (the steps of ``lakehouse
    run --domain ridehailing`` but the dbt marts); returns the stages (seconds, records — what
    each reads: the lines landed, the bronze lines published, the records evaluated —, peak RSS)
    and the company-period rows."""
    from deltalake import DeltaTable

    from transforms.lake.landing import land_feeds
    from transforms.lake.protection import ProtectionKeys
    from transforms.lake.session import get_spark
    from transforms.ridehailing.feeds import FEEDS
    from transforms.ridehailing.jobs.evaluate import COMPANY_PERIODS, evaluate
    from transforms.ridehailing.jobs.publish import publish_records
    from transforms.rules import load_rules

    shutil.rmtree(lake, ignore_errors=True)
    lake.mkdir(parents=True)
    (lake / "landing").symlink_to(landing.resolve(), target_is_directory=True)
    spark = get_spark(lake)
    rules, licence_rules = load_rules(domain="ridehailing"), load_rules(domain="licences")
    join_key = ProtectionKeys.load().join
    stages: dict[str, dict[str, Any]] = {}
    with _stage(stages, "land", say):
        landed = land_feeds(lake, FEEDS)
    stages["land"]["records"] = sum(r.records + r.malformed for r in landed)
    with _stage(stages, "publish", say):
        published = publish_records(spark, lake, rules)
    stages["publish"]["records"] = published.lines
    with _stage(stages, "evaluate", say):
        evaluated = evaluate(spark, lake, rules, licence_rules, join_key)
    stages["evaluate"]["records"] = evaluated.records
    rows = DeltaTable(str(COMPANY_PERIODS.location(lake))).to_pyarrow_table().to_pylist()
    return stages, rows


# ---- JVM Spark --------------------------------------------------------------------------------
CORRUPT = "_corrupt_record"  # Spark's column for a line its reader cannot parse
SOURCE_PATTERN = r"(ridehailing/[^/]+/[^/]+/[^/]+)$"  # a file's path below the landing root
WHITESPACE = r"^\s+|\s+$"  # Python's str.strip (ASCII whitespace)


def _normalised(value: Any, kind: str) -> Any:
    """A personal field as :data:`transforms.lake.protection.KINDS` normalises it before hashing
    and masking: stripped; an ID number in upper case; a phone of digits without zero padding."""
    from pyspark.sql import functions as F

    text = F.regexp_replace(value, WHITESPACE, "")
    if kind == "id_number":
        return F.upper(text)
    if kind == "phone":
        unpadded = F.regexp_replace(text, "^0+", "")
        return F.when(text.rlike("^[0-9]+$") & (unpadded != ""), unpadded).otherwise(text)
    if kind == "name":
        return text
    raise ValueError(f"unknown protection kind {kind!r} (transforms.lake.protection.KINDS)")


def _masked(value: Any, kind: str) -> Any:
    """:mod:`transforms.crypto.masking` in Spark built-ins: the same length and presence (what the
    checks read of a mask)."""
    from pyspark.sql import functions as F

    length = F.length(value)
    stars = lambda n: F.repeat(F.lit("*"), n)  # noqa: E731
    if kind == "id_number":
        shown = F.concat(F.substring(value, 1, 6), F.lit("*" * 8), F.substring(value, -4, 4))
        return F.when(length <= 10, stars(length)).otherwise(shown)
    if kind == "phone":
        hidden = length - 7
        shown = F.concat(F.substring(value, 1, 3), stars(hidden), F.substring(value, -4, 4))
        return F.when(hidden <= 0, stars(length)).otherwise(shown)
    return F.when(length <= 1, stars(length)).otherwise(
        F.concat(F.substring(value, 1, 1), stars(length - 1))
    )


def protected(name: str, kind: str) -> list[Any]:
    """``<name>_hmac`` and ``<name>_masked`` as our bronze has them, from the clear field.

    Our landing keys the join hash with HMAC-SM3, which Spark has no built-in for: SHA-256 of the
    same normalised value stands in — equal values hash equal and different ones differently, so
    every join, distinct count and natural key groups the same records (the hash is never
    shown). The ciphertext (``_sm4``) is not made: no step of the plan reads it."""
    from pyspark.sql import functions as F

    norm = _normalised(F.col(name), kind)
    return [F.sha2(norm, 256).alias(f"{name}_hmac"), _masked(norm, kind).alias(f"{name}_masked")]


def _interface_files(landing: Path, name: str) -> list[str]:
    base = landing / "ridehailing" / name
    return sorted(str(p) for p in base.glob("*/*.jsonl")) if base.is_dir() else []


def bronze(spark: Any, landing: Path, spec: Any, landed_at: dt.datetime) -> Any | None:
    """One interface's landing lines as our bronze holds them (every field a string, personal
    fields as hash and mask, received_at, lineage); None without files. A line Spark cannot parse
    is dropped (ours quarantines it). Spark's reader also takes a line with trailing text after
    its object (``{…}}``), which ours quarantines: the generator's such lines repeat a line
    already sent, so they only add a copy of a record. No file is digested: its path stands in
    for the SM3 digest, the reader's row id for the line (copies of a key received in the same
    second are the same line)."""
    from pyspark.sql import functions as F
    from pyspark.sql import types as T

    from transforms.ridehailing.feeds import FEED_BY_INTERFACE

    files = _interface_files(landing, spec.name)
    if not files:
        return None
    fields = FEED_BY_INTERFACE[spec.name].fields
    schema = T.StructType([T.StructField(f, T.StringType()) for f in (*fields, CORRUPT)])
    read = spark.read.schema(schema).option("columnNameOfCorruptRecord", CORRUPT).json(files)
    kinds = {f.name: f.sensitive for f in spec.sensitive}
    columns: list[Any] = []
    for name in fields:
        columns += protected(name, kinds[name]) if name in kinds else [F.col(name)]
    source = F.concat(
        F.lit("landing/"), F.regexp_extract(F.col("_metadata.file_path"), SOURCE_PATTERN, 1)
    )
    return read.where(F.col(CORRUPT).isNull()).select(
        *columns,
        source.alias("_source_file"),
        F.monotonically_increasing_id().alias("_line"),
        source.alias("_file_sm3"),
        F.lit(landed_at.isoformat(sep=" ")).cast("timestamp").alias("_landed_at"),
    )


def outage_frame(spark: Any, landing: Path, landed_at: dt.datetime) -> Any:
    """The outage notices (a handful of lines) read as our landing reads them, then
    ``publish.outage_notices``: silver.ridehailing__outages."""
    from transforms.lake.landing import as_text
    from transforms.ridehailing.feeds import OUTAGE_NOTICE
    from transforms.ridehailing.interfaces import OUTAGE_FIELDS
    from transforms.ridehailing.jobs.publish import outage_notices

    rows = []
    for path in map(Path, _interface_files(landing, OUTAGE_NOTICE)):
        source = f"landing/{path.relative_to(landing).as_posix()}"
        for number, raw in enumerate(path.read_bytes().split(b"\n"), start=1):
            try:
                obj = json.loads(raw) if raw.strip() else None
            except ValueError:
                continue
            if isinstance(obj, dict):
                values = {f: as_text(obj.get(f)) for f in OUTAGE_FIELDS}
                rows.append({**values, "_landed_at": landed_at, "_source_file": source,
                             "_line": number})  # fmt: skip
    good, _ = outage_notices(rows)
    columns = ("company_id", "planned", "notified_at", "start", "end", "_source_file", "_line")
    schema = (
        "company_id string, planned boolean, notified_at timestamp, start timestamp, "
        "`end` timestamp, _source_file string, _line bigint"
    )
    return spark.createDataFrame([tuple(r[c] for c in columns) for r in good], schema)


def jvm_spark(landing: Path, out: Path, cores: int, memory: str) -> dict[str, Any]:
    """Landing files → company periods on classic JVM Spark with our plan (module docstring)."""
    from transforms.lake.classic import classic_spark
    from transforms.lake.clock import now_beijing
    from transforms.ridehailing.checks import key_missing, records
    from transforms.ridehailing.interfaces import INTERFACES
    from transforms.ridehailing.jobs.evaluate import evaluation
    from transforms.ridehailing.jobs.publish import RECORDS, STATIC_RECORDS, one_per_key
    from transforms.rules import load_rules

    t0 = time.perf_counter()
    spark = classic_spark(cores=cores, memory=memory, app="lakehouse-bench-ridehailing")
    spark.range(1).count()  # the JVM, the session and the first job are start-up, not work
    startup = time.perf_counter() - t0

    t0 = time.perf_counter()
    rules, licence_rules = load_rules(domain="ridehailing"), load_rules(domain="licences")
    landed_at = now_beijing()

    def store(name: str, frame: Any) -> Any:
        frame.write.mode("overwrite").parquet(str(out / name))
        return spark.read.parquet(str(out / name))

    # publish: each interface's lines with their natural key as record rows, one per key
    parts: dict[bool, list[Any]] = {True: [], False: []}
    for spec in INTERFACES:
        lines = bronze(spark, landing, spec, landed_at)
        if lines is not None:
            keyed = lines.where(~key_missing(spec))
            parts[spec.is_static].append(records(keyed, spec, rules))
    published = {}
    for static, table in ((True, STATIC_RECORDS), (False, RECORDS)):
        union = parts[static][0]
        for frame in parts[static][1:]:
            union = union.unionByName(frame)
        # staged as Parquet first, as ours stages them: one_per_key reads its input more than once
        staged = store(f"{table.name}__staging", union)
        published[static] = store(table.name, one_per_key(staged, out / f"{table.name}__repeated"))
    # evaluate: our plan, the checkpoints and the tables as Parquet
    frames = evaluation(
        published[True], published[False], outage_frame(spark, landing, landed_at), None, rules,
        licence_rules, b"", checkpoint=lambda table, frame: store(table.name, frame),
    )  # fmt: skip
    store("silver.ridehailing__defects", frames.defects)
    store("silver.ridehailing__orders", frames.orders)
    store("gold.ridehailing__overview", frames.overview)
    periods = store("gold.ridehailing__company_periods", frames.company_periods)
    rows = [r.asDict() for r in periods.collect()]
    seconds = time.perf_counter() - t0
    spark.stop()
    return {"seconds": seconds, "startup_s": startup, "company_periods": rows}


# ---- DuckDB -----------------------------------------------------------------------------------
def duckdb_available() -> bool:
    return importlib.util.find_spec(DUCKDB_MODULE) is not None


def duckdb_engine(landing: Path, out: Path, threads: int) -> dict[str, Any]:
    """Landing files → company periods on DuckDB (:mod:`orchestration.bench.ridehailing_duckdb`)."""
    from orchestration.bench.ridehailing_duckdb import evaluate_landing
    from transforms.rules import load_rules

    rules = load_rules(domain="ridehailing")
    t0 = time.perf_counter()
    rows = evaluate_landing(landing, out, rules, threads)
    seconds = time.perf_counter() - t0
    return {"seconds": seconds, "startup_s": 0.0, "company_periods": rows}


# ---- the comparison ---------------------------------------------------------------------------
def normalise(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Company-period rows reduced to :data:`COMPARED`, sorted by (company, grain, period)."""
    out = [{k: row.get(k) for k in COMPARED} for row in rows]
    for row in out:
        row["records"] = int(row["records"] or 0)
        row["transmitted"] = bool(row["transmitted"])
        for k in (*RATES, "score"):
            row[k] = None if row[k] is None else float(row[k])
    return sorted(out, key=lambda r: (r["company_id"] or "", r["grain"] or "", r["period"] or ""))


def _same(name: str, a: Any, b: Any) -> bool:
    if name in RATES or name == "score":
        if a is None or b is None:
            return a is None and b is None
        tolerance = SCORE_TOLERANCE if name == "score" else RATE_TOLERANCE
        return math.isclose(a, b, rel_tol=0.0, abs_tol=tolerance)
    return a == b


def compare_periods(engine: str, ours: list[dict], theirs: list[dict]) -> str | None:
    """None when ``theirs`` are our company periods (rates to 1e-9, scores to 1e-7); else the
    first difference, in one line."""
    key = lambda r: (r["company_id"], r["period"], r["grain"])  # noqa: E731
    mine, other = {key(r): r for r in normalise(ours)}, {key(r): r for r in normalise(theirs)}
    for k in sorted(mine.keys() | other.keys(), key=lambda k: tuple(str(x) for x in k)):
        a, b = mine.get(k), other.get(k)
        where = f"company {k[0]} {k[2]} {k[1]}"
        if a is None or b is None:
            missing = "ours" if a is None else engine
            return (
                f"{engine} computed different company periods ({len(other)} rows, ours "
                f"{len(mine)}): {where} is missing from {missing}"
            )
        differ = [
            f"{c} ours {a[c]} / {engine} {b[c]}" for c in COMPARED if not _same(c, a[c], b[c])
        ]
        if differ:
            return f"{engine} computed different company periods: {where}: {'; '.join(differ)}"
    return None


# ---- the race ---------------------------------------------------------------------------------
def _per_s(count: int, seconds: float) -> float:
    return round(count / seconds, 1) if seconds > 0 else math.inf


def run(
    work: Path,
    orders: int = 1_000_000,
    positions: int = 10_000_000,
    progress: Say | None = None,
    engines: tuple[str, ...] = ENGINES,
    cores: int | None = None,
) -> dict[str, Any]:
    """The race (module docstring); a JSON-able result. Engines that computed other company
    periods than ours are named in ``mismatches``."""
    from orchestration.bench.harness import _run_module

    say = progress or (lambda _m: None)
    cores = cores or os.cpu_count() or 1
    work = work.resolve()
    landing, info = landing_zone(work, orders, positions, say)
    base = work / "ridehailing"
    label = f"{orders}-{positions}"
    say(
        f"ride-hailing: one company-month, {info['orders']:,} orders, {info['positions']:,} "
        f"points, {info['lines']:,} lines"
    )
    read_once(landing / "ridehailing")
    stages, ours = run_ours(landing, base / "runs" / label, say)
    ours_s = sum(s["seconds"] for s in stages.values())
    lines = info["lines"]
    out: dict[str, Any] = {
        "orders_requested": orders,
        "positions_requested": positions,
        "landing": {**info, "mb": round(_landing_mb(landing), 1)},
        "stages": {
            name: {
                "seconds": round(s["seconds"], 3),
                "records": s["records"],
                "records_per_s": _per_s(s["records"], s["seconds"]),
                "peak_rss_mb": round(s["peak_rss_mb"], 1),
            }
            for name, s in stages.items()
        },
        "ours_s": round(ours_s, 3),
        "ours_lines_per_s": _per_s(lines, ours_s),
        "engines": {},
        "ratios": {},
        "targets": dict(TARGETS),
        "skipped": {},
        "company_periods": normalise(ours),
        "mismatches": [],
    }
    scratch = base / "scratch"
    for engine in engines:
        if engine == "duckdb" and not duckdb_available():
            out["skipped"][engine] = f"{DUCKDB_MODULE.replace('.', '/')}.py is not there"
            say(f"  ride-hailing: {engine} skipped: {out['skipped'][engine]}")
            continue
        say(f"  ride-hailing: {engine} …")
        read_once(landing / "ridehailing")
        args = [engine, "--landing", str(landing), "--out", str(scratch / engine)]
        result = _run_module(MODULE, [*args, "--cores", str(cores)], f"ride-hailing {engine}")
        seconds = result["seconds"]
        ratio = round(seconds / ours_s, 3) if ours_s > 0 else math.inf
        out["engines"][engine] = {
            "seconds": round(seconds, 3),
            "startup_s": round(result.get("startup_s", 0.0), 3),
            "peak_rss_mb": round(result["peak_rss_mb"], 1),
            "lines_per_s": _per_s(lines, seconds),
            "ratio": ratio,
            "meets_target": ratio >= TARGETS[engine],
        }
        out["ratios"][engine] = ratio
        mismatch = compare_periods(engine, ours, result["company_periods"])
        if mismatch is not None:
            out["mismatches"].append(f"ride-hailing: {mismatch}")
            say(f"  ✗ ride-hailing: {mismatch}")
        say(
            f"  ride-hailing: {engine} {seconds:,.1f} s (ours {ours_s:,.1f} s, ratio "
            f"×{ratio:.2f}, target ×{TARGETS[engine]:g})"
        )
    raced = list(out["engines"])
    out["same_results"] = (not out["mismatches"]) if raced else None
    shutil.rmtree(scratch, ignore_errors=True)
    shutil.rmtree(base / "runs" / label, ignore_errors=True)
    return out


def render(r: dict[str, Any]) -> list[str]:
    """The ride-hailing lines of the bench report."""
    info = r["landing"]
    lines = [
        f"ride-hailing (网约车), one company-month: {info['orders']:,} orders, "
        f"{info['positions']:,} position points, {info['lines']:,} lines ({info['mb']:,.0f} MB)",
        f"  {'stage':<10} {'seconds':>9} {'records':>12} {'records/s':>12} {'peak RSS MB':>12}",
    ]
    for name, s in r["stages"].items():
        lines.append(
            f"  {name:<10} {s['seconds']:>9.1f} {s['records']:>12,} {s['records_per_s']:>12,.0f} "
            f"{s['peak_rss_mb']:>12,.0f}"
        )
    lines.append(f"  {'total':<10} {r['ours_s']:>9.1f}")
    lines.append(
        "  records: land — lines read; publish — bronze lines; evaluate — records evaluated"
    )
    lines.append(
        f"  {'engine':<10} {'seconds':>9} {'lines/s':>12} {'ratio':>8} {'target':>7}  start-up"
    )
    lines.append(f"  {'ours':<10} {r['ours_s']:>9.1f} {r['ours_lines_per_s']:>12,.0f}")
    for engine, e in r["engines"].items():
        ratio, target = f"×{e['ratio']:.2f}", f"×{TARGETS[engine]:g}"
        met = "met" if e["meets_target"] else "not met"
        lines.append(
            f"  {engine:<10} {e['seconds']:>9.1f} {e['lines_per_s']:>12,.0f} {ratio:>8} "
            f"{target:>7}  {e['startup_s']:.1f} s, not timed (target {met})"
        )
    for engine, why in r["skipped"].items():
        lines.append(f"  {engine:<10} skipped: {why}")
    lines.append("  ratio = baseline seconds ÷ ours (> 1: we are faster)")
    same = {True: "yes", False: "NO", None: "—"}[r["same_results"]]
    lines.append(
        f"  same company periods on every engine: {same} ({len(r['company_periods'])} rows, "
        "months and year)"
    )
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m orchestration.bench.ridehailing",
        description="One ride-hailing baseline (landing files → company periods); prints JSON.",
    )
    parser.add_argument("engine", choices=ENGINES)
    parser.add_argument("--landing", type=Path, required=True, help="the landing root")
    parser.add_argument("--out", type=Path, required=True, help="scratch directory for outputs")
    parser.add_argument("--cores", type=int, default=2, help="threads / local[N] (default 2)")
    parser.add_argument("--memory", default="6g", help="JVM driver heap (default 6g)")
    args = parser.parse_args(argv)
    landing, out = args.landing.resolve(), args.out.resolve()
    shutil.rmtree(out, ignore_errors=True)
    out.mkdir(parents=True)
    if args.engine == "jvm_spark":
        result = jvm_spark(landing, out, args.cores, args.memory)
    else:
        result = duckdb_engine(landing, out, args.cores)
    json.dump({"engine": args.engine, **result}, sys.stdout, default=str)
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())

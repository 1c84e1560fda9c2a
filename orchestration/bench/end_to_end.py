"""The end-to-end baselines of the benchmark: from the landing files to the monthly indicators,
each engine in its own process, timed whole.

    python -m orchestration.bench.end_to_end {jvm_spark,duckdb} --landing DIR --out DIR

prints one JSON object: ``seconds`` (files → monthly indicators, engine start excluded),
``startup_s``, ``records`` (position records read: file records, decoded frames and unparseable
lines), ``rows`` (what was written) and ``indicators`` (:data:`~orchestration.bench.workload.
MONTHLY_INDICATORS`, normalised, so the harness can check every engine computed the same numbers).

What a plain job needs to turn the same files into the same numbers, with the project's own rules:

- ``jvm_spark``: classic Apache Spark, ``local[cores]``, Parquet. ``spark.read.json`` / ``.csv`` of
  the position files (every field a string, as our bronze), the frames decoded with the project's
  codec in the Python workers, staged once as Parquet; vehicle, route and region history with
  :mod:`transforms.telematics.master`; then :mod:`orchestration.bench.jvm_pipeline` — terminal
  phones → plates, ``typed_positions``, ``tag_rules``, ``qualified`` / ``unqualified`` (silver and
  quarantine positions as Parquet), the facts with the job's plan (``stored_facts``) — and the
  monthly indicators over the written facts;
- ``duckdb``: DuckDB ``read_json`` / ``read_csv`` of the same files, the frames decoded with the
  project's codec in a pool of ``cores`` processes, then the SQL port of the same steps
  (:mod:`orchestration.bench.duckdb_landing`: history, typing, the 数据合格 rule tags, dedup;
  silver and quarantine positions written as Parquet), the facts SQL port
  (:mod:`orchestration.bench.duckdb_baseline`) and the monthly indicators.

Our pipeline does more on the way (bronze Delta tables with SM3-digested lineage, the GX gate,
every master and event feed, the ledger); the baselines do only what the numbers need.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from orchestration.bench.workload import MONTHLY_INDICATORS, normalise

ENGINES = ("jvm_spark", "duckdb")
ROOT = Path(__file__).resolve().parents[2]


def jvm_spark(landing: Path, out: Path, cores: int, memory: str) -> dict[str, Any]:
    """Landing files → monthly indicators on classic JVM Spark (see the module docstring)."""
    # the Python workers decode the frames: this interpreter, with the repository importable
    os.environ["PYSPARK_PYTHON"] = sys.executable
    os.environ["PYTHONPATH"] = os.pathsep.join(
        filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])
    )
    from orchestration.bench import jvm_pipeline
    from transforms.lake.classic import classic_spark
    from transforms.lake.clock import now_beijing
    from transforms.rules import load_rules

    t0 = time.perf_counter()
    spark = classic_spark(
        cores=cores,
        memory=memory,
        app="lakehouse-bench-jvm-e2e",
    )
    spark.range(1).count()  # the JVM, the session and the first job are start-up, not work
    startup = time.perf_counter() - t0

    t0 = time.perf_counter()
    rules = load_rules(domain="telematics")
    landed_at = now_beijing()
    rows = jvm_pipeline.master_from_landing(spark, landing, out, landed_at)
    rows |= jvm_pipeline.positions_from_landing(spark, landing, out, rules, landed_at)
    rows |= jvm_pipeline.silver_facts(spark, out, rules)
    indicators = jvm_pipeline.indicators_from_target(spark, out, MONTHLY_INDICATORS)
    seconds = time.perf_counter() - t0
    spark.stop()
    records = rows.pop("records")
    return {
        "seconds": seconds,
        "startup_s": startup,
        "records": records,
        "rows": rows,
        "indicators": indicators,
    }


def duckdb_engine(landing: Path, out: Path, threads: int) -> dict[str, Any]:
    """Landing files → monthly indicators on DuckDB (see the module docstring)."""
    import duckdb

    from orchestration.bench import duckdb_landing
    from orchestration.bench.duckdb_baseline import write_facts
    from orchestration.bench.landing_files import FRAME_SUFFIX, decode_frame_files, feed_files
    from transforms.lake.clock import now_beijing
    from transforms.rules import load_rules

    t0 = time.perf_counter()
    rules = load_rules(domain="telematics")
    landed_at = now_beijing()
    frames = decode_frame_files(landing, feed_files(landing, "frames", FRAME_SUFFIX), threads)
    with tempfile.TemporaryDirectory(prefix="duckdb-e2e-") as spill:
        con = duckdb.connect(config={"threads": threads, "temp_directory": spill})
        try:
            con.execute("SET TimeZone = 'UTC'")
            duckdb_landing.load_master(con, landing, landed_at)
            records = duckdb_landing.load_bronze(
                con, landing, frames, landed_at, landed_at + dt.timedelta(microseconds=1)
            )
            rows = duckdb_landing.load_positions(con, out, rules, now_beijing())
            # the facts port's inputs: silver and quarantine positions, the history tables
            duckdb_landing.register_fact_inputs(con)
            rows |= write_facts(con, out, rules)
            for view, name in (("facts", "vehicle_day_facts"), ("counts", "record_counts")):
                con.execute(f"CREATE TEMP VIEW {view} AS SELECT * FROM '{out / name}.parquet'")
            indicators = con.execute(MONTHLY_INDICATORS).fetchall()
        finally:
            con.close()
    seconds = time.perf_counter() - t0
    return {
        "seconds": seconds,
        "startup_s": 0.0,
        "records": records,
        "rows": rows,
        "indicators": indicators,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m orchestration.bench.end_to_end",
        description="Run one end-to-end baseline (landing files → monthly indicators); prints JSON.",
    )
    parser.add_argument("engine", choices=ENGINES)
    parser.add_argument("--landing", type=Path, required=True, help="the landing zone (landing/)")
    parser.add_argument("--out", type=Path, required=True, help="scratch directory for outputs")
    parser.add_argument("--cores", type=int, default=2, help="threads / local[N] (default 2)")
    parser.add_argument("--memory", default="6g", help="JVM driver heap (default 6g)")
    args = parser.parse_args(argv)
    landing, out = args.landing.resolve(), args.out.resolve()
    if out.exists():
        shutil.rmtree(out)
    out.mkdir(parents=True)
    if args.engine == "jvm_spark":
        result = jvm_spark(landing, out, args.cores, args.memory)
    else:
        result = duckdb_engine(landing, out, args.cores)
    result["indicators"] = normalise(result["indicators"])
    json.dump({"engine": args.engine, **result}, sys.stdout, default=str)
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())

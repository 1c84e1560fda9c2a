"""The baseline engines of the benchmark, each run in its own process for a clean peak RSS.

    python -m orchestration.bench.baselines {jvm_spark,duckdb,raw_scan} --lake LAKE --out DIR

prints one JSON object: ``seconds`` (the compared work of :mod:`orchestration.bench.workload`, engine start
excluded), ``startup_s``, ``rows`` (what was written) and ``indicators`` (the monthly indicator
rows, normalised, so the harness can check that every engine computed the same numbers).

- ``jvm_spark``: classic Apache Spark, ``local[cores]``, reading the Delta snapshot as Parquet and
  running our own transforms with the job's plan (points, segments, sessions stored once; events,
  then facts; record counts) — the engine most teams would pick;
- ``duckdb``: DuckDB on the same Parquet files, the facts in its SQL port (same results, tested);
- ``raw_scan``: DuckDB summing the columns the work reads — the practical floor.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any

from orchestration.bench.workload import MONTHLY_INDICATORS, RAW_SCAN, normalise

SILVER_TABLES = {
    "positions": "silver/telematics__positions",
    "quarantine": "quarantine/telematics__positions",
    "vehicles": "silver/telematics__vehicles",
    "routes": "silver/telematics__routes",
    "regions": "silver/telematics__regions",
}


def _exists(table_dir: Path) -> bool:
    return (table_dir / "_delta_log").is_dir()


def jvm_spark(lake: Path, out: Path, cores: int, memory: str) -> dict[str, Any]:
    """Our transforms on classic JVM Spark over the Parquet snapshot; outputs written as Parquet."""
    from pyspark.sql import DataFrame

    from transforms.lake.classic import classic_spark, read_snapshot
    from transforms.rules import load_rules
    from transforms.telematics.facts import stored_facts
    from transforms.telematics.jobs import facts as jobs

    t0 = time.perf_counter()
    spark = classic_spark(cores=cores, memory=memory, app="lakehouse-bench-jvm")
    spark.range(1).count()  # the JVM, the session and the first job are start-up, not work
    startup = time.perf_counter() - t0

    t0 = time.perf_counter()
    schemas = {
        "positions": jobs.POSITIONS_SCHEMA,
        "quarantine": jobs.QUARANTINE_SCHEMA,
        "vehicles": jobs.VEHICLES_SCHEMA,
        "routes": jobs.ROUTES_SCHEMA,
        "regions": jobs.REGIONS_SCHEMA,
    }
    inputs = {}
    for name, schema in schemas.items():
        table_dir = lake / SILVER_TABLES[name]
        inputs[name] = (
            read_snapshot(spark, table_dir, schema.fieldNames())
            if _exists(table_dir)
            else spark.createDataFrame([], schema)
        )
    # the same plan as our job (transforms.telematics.jobs.facts.publish_facts), every table as Parquet
    written = {}

    def stored(name: str, frame: DataFrame) -> DataFrame:
        frame.write.mode("overwrite").parquet(str(out / name))
        written[name] = spark.read.parquet(str(out / name))
        return written[name]

    stored_facts(
        inputs["positions"], inputs["quarantine"], inputs["vehicles"], inputs["routes"],
        inputs["regions"], load_rules(domain="telematics"), stored,
    )  # fmt: skip
    for name in ("points", "segments", "sessions"):
        written.pop(name)
    written["vehicle_day_facts"].createOrReplaceTempView("facts")
    written["record_counts"].createOrReplaceTempView("counts")
    read_snapshot(spark, lake / SILVER_TABLES["vehicles"]).createOrReplaceTempView("vehicles")
    indicators = [tuple(r) for r in spark.sql(MONTHLY_INDICATORS).collect()]
    seconds = time.perf_counter() - t0
    rows = {name: frame.count() for name, frame in written.items()}
    spark.stop()
    return {"seconds": seconds, "startup_s": startup, "rows": rows, "indicators": indicators}


def _parquet_list(lake: Path, name: str) -> str:
    from deltalake import DeltaTable

    files = DeltaTable(str(lake / SILVER_TABLES[name])).file_uris()
    return "[" + ", ".join(f"'{f}'" for f in files) + "]"


def duckdb_engine(lake: Path, out: Path, threads: int) -> dict[str, Any]:
    """The DuckDB SQL port of the facts, then the same monthly indicators, on the same files."""
    import duckdb

    from orchestration.bench.duckdb_baseline import run_duckdb_facts
    from transforms.rules import load_rules

    t0 = time.perf_counter()
    rows = run_duckdb_facts(lake, out, load_rules(domain="telematics"), threads=threads)
    con = duckdb.connect()
    con.execute(f"SET threads = {threads}")
    con.execute("SET TimeZone = 'UTC'")
    con.execute(f"CREATE VIEW facts AS SELECT * FROM '{out / 'vehicle_day_facts.parquet'}'")
    con.execute(f"CREATE VIEW counts AS SELECT * FROM '{out / 'record_counts.parquet'}'")
    con.execute(
        f"CREATE VIEW vehicles AS SELECT * FROM read_parquet({_parquet_list(lake, 'vehicles')})"
    )
    indicators = con.execute(MONTHLY_INDICATORS).fetchall()
    seconds = time.perf_counter() - t0
    return {"seconds": seconds, "startup_s": 0.0, "rows": rows, "indicators": indicators}


def raw_scan(lake: Path, threads: int) -> dict[str, Any]:
    """Count and sum the columns the work reads, with DuckDB, from the snapshot's Parquet files."""
    import duckdb

    t0 = time.perf_counter()
    con = duckdb.connect()
    con.execute(f"SET threads = {threads}")
    files = _parquet_list(lake, "positions")
    con.execute(f"CREATE VIEW positions AS SELECT * FROM read_parquet({files})")
    result = con.execute(RAW_SCAN).fetchone()
    seconds = time.perf_counter() - t0
    return {"seconds": seconds, "startup_s": 0.0, "rows": {"positions": result[0]}}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m orchestration.bench.baselines",
        description="Run one baseline engine of the benchmark on a built lake; prints JSON.",
    )
    parser.add_argument("engine", choices=["jvm_spark", "duckdb", "raw_scan"])
    parser.add_argument("--lake", type=Path, required=True, help="a lake the pipeline has built")
    parser.add_argument("--out", type=Path, required=True, help="scratch directory for outputs")
    parser.add_argument("--cores", type=int, default=2, help="threads / local[N] (default 2)")
    parser.add_argument("--memory", default="6g", help="JVM driver heap (default 6g)")
    args = parser.parse_args(argv)
    lake, out = args.lake.resolve(), args.out.resolve()
    out.mkdir(parents=True, exist_ok=True)
    if args.engine == "jvm_spark":
        result = jvm_spark(lake, out, args.cores, args.memory)
    elif args.engine == "duckdb":
        result = duckdb_engine(lake, out, args.cores)
    else:
        result = raw_scan(lake, args.cores)
    if "indicators" in result:
        result["indicators"] = normalise(result["indicators"])
    json.dump({"engine": args.engine, **result}, sys.stdout, default=str)
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())

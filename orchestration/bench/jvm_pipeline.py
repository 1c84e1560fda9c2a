"""Rebuild a lake's silver and gold tables on classic (JVM) Apache Spark, as Parquet.

Reads the bronze positions and the master silver tables of a lake built by the real (Sail) pipeline
— their current Delta snapshots, as Parquet — and writes into a separate Parquet lake:

1. silver / quarantine positions: the transforms of :mod:`transforms.telematics.positions` (terminal
   phones → plates, typing, qualification tags staged as Parquet, dedup; what ``publish_positions``
   does, minus the GX gate and the Delta MERGE); quarantine also keeps the source lake's landing
   rows (unparseable lines, ``error`` set), which the landing job writes before any transform runs;
2. facts, violation events and record counts of every day: the job's plan
   (:func:`transforms.telematics.facts.stored_facts`), written as Parquet;
3. the master silver tables, copied as Parquet (inputs of dbt, not rebuilt);
4. ``dbt build`` (or ``run``) of dbt_project with the ``jvm`` target (dbt-spark, session method, on
   the session of this process) and ``file_format=parquet``.

Run it in a process that has not started a Spark Connect session (see
:mod:`transforms.lake.classic`)::

    python orchestration/bench/jvm_pipeline.py --source-lake lake --target-lake /tmp/jvm_lake

A JSON summary (row counts, seconds per step, dbt results) is written to ``--report`` or stdout.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]
DBT_PROJECT = REPO / "dbt_project"
if str(REPO) not in sys.path:  # run as a script from anywhere
    sys.path.insert(0, str(REPO))

from pyspark.sql import DataFrame, SparkSession  # noqa: E402
from pyspark.sql import functions as F  # noqa: E402

from transforms.lake import registry  # noqa: E402
from transforms.lake.classic import classic_spark, export_snapshot, read_snapshot  # noqa: E402
from transforms.lake.clock import now_beijing  # noqa: E402
from transforms.rules import domain_rules, load_rules  # noqa: E402
from transforms.telematics.facts import quarantine_day, stored_facts  # noqa: E402
from transforms.telematics.jobs.facts import POSITIONS_SCHEMA, QUARANTINE_SCHEMA  # noqa: E402
from transforms.telematics.positions import (  # noqa: E402
    QUARANTINE_COLUMNS,
    attach_terminals,
    qualified,
    tag_rules,
    typed_positions,
    unqualified,
)

BRONZE_POSITIONS = registry.table("bronze.telematics__positions")
SILVER_POSITIONS = registry.table("silver.telematics__positions")
QUARANTINE_POSITIONS = registry.table("quarantine.telematics__positions")
VEHICLES = registry.table("silver.telematics__vehicles")
ROUTES = registry.table("silver.telematics__routes")
REGIONS = registry.table("silver.telematics__regions")
FACT_TABLES = {
    "vehicle_day_facts": registry.table("silver.telematics__vehicle_day_facts"),
    "violation_events": registry.table("silver.telematics__violation_events"),
    "record_counts": registry.table("silver.telematics__record_counts"),
}
# the dbt sources that no transform here rebuilds: copied from the source lake
MASTER_TABLES = [
    "silver.telematics__vehicles",
    "silver.telematics__counties",
    "silver.telematics__enterprises",
    "silver.telematics__platforms",
    "silver.telematics__platform_links",
    "silver.telematics__platform_checks",
    "silver.telematics__routes",
    "silver.telematics__regions",
]
PARTITION = "day"


def write_parquet(frame: DataFrame, path: Path, partitioned: bool = False) -> int:
    """Write ``frame`` as a Parquet table at ``path`` (replaced); returns its rows."""
    writer = frame.write.mode("overwrite")
    if partitioned:
        writer = writer.partitionBy(PARTITION)
    writer.parquet(str(path))
    return frame.sparkSession.read.parquet(str(path)).count()


def read_parquet(spark: SparkSession, path: Path, columns: list[str]) -> DataFrame:
    return spark.read.parquet(str(path)).select(*columns)


def silver_positions(
    spark: SparkSession, source: Path, target: Path, rules: dict[str, Any]
) -> dict[str, int]:
    """Bronze positions → silver and quarantine positions (every bronze row, one batch)."""
    bronze = read_snapshot(spark, BRONZE_POSITIONS.location(source))
    if VEHICLES.exists(source):  # JT/T 808 records: plate and colour from the terminal phone
        bronze = attach_terminals(bronze, read_snapshot(spark, VEHICLES.location(source)))
    staging = target / "_staging" / "telematics__positions_batch"
    tag_rules(typed_positions(bronze, rules), rules).write.mode("overwrite").parquet(str(staging))
    tagged = spark.read.parquet(str(staging))
    landing_rows = read_snapshot(
        spark, QUARANTINE_POSITIONS.location(source), QUARANTINE_COLUMNS
    ).where(F.col("error").isNotNull())
    quarantine = unqualified(tagged, now_beijing()).unionByName(landing_rows)
    counts = {
        "bronze": tagged.count(),
        "silver_positions": write_parquet(
            qualified(tagged), SILVER_POSITIONS.location(target), partitioned=True
        ),
        "quarantine_positions": write_parquet(quarantine, QUARANTINE_POSITIONS.location(target)),
    }
    shutil.rmtree(staging)
    return counts


def silver_facts(spark: SparkSession, target: Path, rules: dict[str, Any]) -> dict[str, int]:
    """Facts, events and record counts of every day of the target lake's positions / quarantine
    (what ``publish_facts`` computes when given no days)."""
    positions = read_parquet(
        spark, SILVER_POSITIONS.location(target), POSITIONS_SCHEMA.fieldNames()
    )
    quarantine = read_parquet(
        spark, QUARANTINE_POSITIONS.location(target), QUARANTINE_SCHEMA.fieldNames()
    )
    vehicles, routes, regions = (
        spark.read.parquet(str(t.location(target))) for t in (VEHICLES, ROUTES, REGIONS)
    )
    quarantine = quarantine.where(quarantine_day().isNotNull())
    staging = target / "_staging" / "telematics__facts"
    counts = {}

    def store(name: str, frame: DataFrame) -> DataFrame:
        """The job's plan (stored_facts); the tables as Parquet partitioned by day."""
        if name not in FACT_TABLES:
            path = staging / name
            frame.write.mode("overwrite").parquet(str(path))
        else:
            path = FACT_TABLES[name].location(target)
            counts[name] = write_parquet(frame, path, partitioned=True)
        return spark.read.parquet(str(path))

    stored_facts(positions, quarantine, vehicles, routes, regions, rules, store)
    shutil.rmtree(staging)
    return counts


def export_master(source: Path, target: Path) -> dict[str, int]:
    """Copy the master silver tables (their current snapshots) as Parquet; files per table."""
    return {
        name: export_snapshot(
            registry.table(name).location(source), registry.table(name).location(target)
        )
        for name in MASTER_TABLES
    }


def run_dbt(target: Path, rules: dict[str, Any], command: str, work: Path) -> dict[str, Any]:
    """dbt ``command`` on the jvm target: dbt-spark's session method takes this process's session
    (SparkSession.builder.getOrCreate()), so it must already be running."""
    from dbt.cli.main import dbtRunner

    from transforms.rules import dbt_vars

    os.environ["LAKEHOUSE_LAKE_ABS"] = str(target)
    os.environ["LAKEHOUSE_DBT_TARGET"] = "jvm"
    # the whole nested rules file as the orchestrator passes it; Parquet instead of Delta; the
    # intermediate models as tables (on Apache Spark their view stack takes minutes to plan, see
    # tests/compat/README.md)
    variables = json.dumps(
        {
            **json.loads(dbt_vars(rules)),
            "file_format": "parquet",
            "assessment_materialized": "table",
        },
        ensure_ascii=False,
    )
    result = dbtRunner().invoke(
        [
            command,
            "--project-dir",
            str(DBT_PROJECT),
            "--profiles-dir",
            str(DBT_PROJECT),
            "--target",
            "jvm",
            "--target-path",
            str(work / "dbt_target"),
            "--log-path",
            str(work / "dbt_logs"),
            "--vars",
            variables,
        ]
    )
    statuses: dict[str, int] = {}
    failures = []
    for node in getattr(result.result, "results", None) or []:
        status = str(node.status)
        statuses[status] = statuses.get(status, 0) + 1
        if status not in ("success", "pass"):
            failures.append(f"{node.node.unique_id}: {status}: {node.message}")
    return {
        "success": bool(result.success),
        "statuses": statuses,
        "failures": failures,
        "exception": None if result.exception is None else str(result.exception),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--source-lake", type=Path, required=True, help="lake built by Sail")
    parser.add_argument("--target-lake", type=Path, required=True, help="Parquet lake to write")
    parser.add_argument("--rules", default=None, help="rules override (as for `lakehouse run`)")
    parser.add_argument("--dbt", choices=["build", "run", "none"], default="build")
    parser.add_argument("--cores", type=int, default=2)
    parser.add_argument("--memory", default="2g", help="driver heap")
    parser.add_argument("--report", type=Path, default=None, help="JSON summary (default stdout)")
    args = parser.parse_args(argv)

    source, target = args.source_lake.resolve(), args.target_lake.resolve()
    target.mkdir(parents=True, exist_ok=True)
    rules = load_rules(args.rules)
    report: dict[str, Any] = {"seconds": {}}

    def step(name: str, fn, *fn_args) -> Any:
        t0 = time.perf_counter()
        out = fn(*fn_args)
        report["seconds"][name] = round(time.perf_counter() - t0, 1)
        if not isinstance(out, SparkSession):
            report[name] = out
        return out

    spark = step(
        "session",
        lambda: classic_spark(args.cores, args.memory, warehouse=target / "_warehouse"),
    )
    report["spark_version"] = spark.version
    step("master", export_master, source, target)
    telematics = domain_rules(rules, "telematics")
    step("positions", silver_positions, spark, source, target, telematics)
    step("facts", silver_facts, spark, target, telematics)
    ok = True
    if args.dbt != "none":
        dbt = step("dbt", run_dbt, target, rules, args.dbt, target / "_dbt")
        ok = dbt["success"]
    spark.stop()
    text = json.dumps(report, ensure_ascii=False, indent=2)
    if args.report:
        args.report.write_text(text, encoding="utf-8")
    else:
        print(text)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())

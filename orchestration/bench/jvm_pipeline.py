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

The benchmark's end-to-end JVM baseline (:mod:`orchestration.bench.end_to_end`) starts one step
earlier, from the landing files instead of bronze: :func:`master_from_landing` (vehicle, route and
region history), :func:`positions_from_landing` (Spark's JSON / CSV readers, the frames decoded in
the Python workers, then the same :func:`publish_positions`), :func:`silver_facts` and
:func:`indicators_from_target`.
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
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

from pyspark.sql import Column, DataFrame, SparkSession  # noqa: E402
from pyspark.sql import functions as F  # noqa: E402
from pyspark.sql import types as T  # noqa: E402

from orchestration.bench.landing_files import (  # noqa: E402
    CSV_SUFFIX,
    FRAME_SUFFIX,
    JSON_SUFFIX,
    feed_files,
    protected_phones,
)
from transforms.lake import registry  # noqa: E402
from transforms.lake.classic import classic_spark, export_snapshot, read_snapshot  # noqa: E402
from transforms.lake.clock import now_beijing  # noqa: E402
from transforms.lake.dedup import drop_scratch  # noqa: E402
from transforms.rules import domain_rules, load_rules  # noqa: E402
from transforms.telematics import master  # noqa: E402
from transforms.telematics.facts import quarantine_day, stored_facts  # noqa: E402
from transforms.telematics.feeds import (  # noqa: E402
    PHONE,
    POSITION_BRONZE_FIELDS,
    REGION_FIELDS,
    ROUTE_FIELDS,
    VEHICLE_FIELDS,
)
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
    vehicles = read_snapshot(spark, VEHICLES.location(source)) if VEHICLES.exists(source) else None
    landing_rows = read_snapshot(
        spark, QUARANTINE_POSITIONS.location(source), QUARANTINE_COLUMNS
    ).where(F.col("error").isNotNull())
    return publish_positions(spark, bronze, vehicles, landing_rows, target, rules)


def publish_positions(
    spark: SparkSession,
    bronze: DataFrame,
    vehicles: DataFrame | None,
    landing_rows: DataFrame,
    target: Path,
    rules: dict[str, Any],
) -> dict[str, int]:
    """Bronze rows → silver and quarantine positions of the target lake (one batch): what
    ``publish_positions`` does, minus the GX gate and the Delta MERGE. ``landing_rows``: the
    quarantine rows of lines landing could not parse (``QUARANTINE_COLUMNS``)."""
    if vehicles is not None:  # JT/T 808 records: plate and colour from the terminal phone
        bronze = attach_terminals(bronze, vehicles)
    staging = target / "_staging" / "telematics__positions_batch"
    tag_rules(typed_positions(bronze, rules), rules).write.mode("overwrite").parquet(str(staging))
    tagged = spark.read.parquet(str(staging))
    quarantine = unqualified(tagged, now_beijing()).unionByName(landing_rows)
    repeated = staging.with_name("telematics__positions_repeated")
    counts = {
        "bronze": tagged.count(),
        "silver_positions": write_parquet(
            qualified(tagged, repeated), SILVER_POSITIONS.location(target), partitioned=True
        ),
        "quarantine_positions": write_parquet(quarantine, QUARANTINE_POSITIONS.location(target)),
    }
    shutil.rmtree(staging)
    drop_scratch(repeated)
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


# ---- from the landing files (the end-to-end baseline, orchestration/bench/end_to_end.py) ------
MASTER_FROM_LANDING = {  # the master data the facts and the monthly indicators need
    "silver.telematics__vehicles": ("vehicles", VEHICLE_FIELDS, master.vehicle_history),
    "silver.telematics__routes": ("routes", ROUTE_FIELDS, master.route_history),
    "silver.telematics__regions": ("regions", REGION_FIELDS, master.region_history),
}
CORRUPT = "_corrupt_record"  # Spark's column for a line its reader cannot parse
MALFORMED_RECORD, MALFORMED_FRAME = "malformed_record", "malformed_frame"
SOURCE_PATTERN = r"(telematics/[^/]+/[^/]+/[^/]+)$"  # a file's path below the landing directory
FOLDER_PATTERN = r"/(\d{4}-\d{2}-\d{2})/[^/]*$"


def strings(fields: list[str] | tuple[str, ...]) -> T.StructType:
    """Every field a string, as bronze keeps it."""
    return T.StructType([T.StructField(f, T.StringType()) for f in fields])


def _timestamp(value: Any) -> Column:
    """A wall-clock literal (a string cast in the session's UTC: no local-time conversion)."""
    return F.lit(value.isoformat(sep=" ")).cast("timestamp")


def _lineage(path: Column, landed_at: Any) -> list[Column]:
    """_source_file (relative to the lake, as our landing writes it), _folder_date, _landed_at."""
    return [
        F.concat(F.lit("landing/"), F.regexp_extract(path, SOURCE_PATTERN, 1)).alias(
            "_source_file"
        ),
        F.regexp_extract(path, FOLDER_PATTERN, 1).cast("date").alias("_folder_date"),
        _timestamp(landed_at).alias("_landed_at"),
    ]


def protect_phones(frame: DataFrame) -> DataFrame:
    """``frame`` with its clear ``terminal_phone`` replaced by the columns our landing writes
    (``PHONE.columns``), through one small lookup of its distinct phones
    (:func:`orchestration.bench.landing_files.protected_phones`): our transforms join phones by
    their hash."""
    spark = frame.sparkSession
    phones = [
        r[0]
        for r in frame.select(PHONE.field)
        .where(F.col(PHONE.field).isNotNull())
        .distinct()
        .collect()
    ]
    lookup = protected_phones(phones)
    schema = T.StructType([T.StructField(c, T.StringType()) for c in lookup.column_names])
    table = spark.createDataFrame(lookup.to_pylist(), schema)
    columns = [c for c in frame.columns if c != PHONE.field]
    at = frame.columns.index(PHONE.field)
    joined = frame.join(F.broadcast(table), PHONE.field, "left")
    return joined.select(*columns[:at], *PHONE.columns, *columns[at:])


def master_from_landing(
    spark: SparkSession, landing: Path, target: Path, landed_at: Any
) -> dict[str, int]:
    """Vehicle, route and region history (``transforms.telematics.master``) from the landing
    files (spark.read.json, every field a string), written as Parquet where :func:`silver_facts`
    reads them; rows per table. A master file is one small split: the reader's row id orders
    its lines."""
    counts = {}
    for name, (feed, fields, build) in MASTER_FROM_LANDING.items():
        files = [str(p) for p in feed_files(landing, feed, JSON_SUFFIX)]
        if files:
            bronze = (
                spark.read.schema(strings(fields))
                .json(files)
                .select(
                    *fields,
                    *_lineage(F.col("_metadata.file_path"), landed_at),
                    F.monotonically_increasing_id().alias("_line"),
                )
            )
        else:
            bronze = spark.createDataFrame(
                [], "_folder_date date, _source_file string, _line bigint, _landed_at timestamp"
            )
            for f in fields:
                bronze = bronze.withColumn(f, F.lit(None).cast("string"))
        if PHONE.field in fields:
            bronze = protect_phones(bronze)
        counts[name] = write_parquet(build(bronze), registry.table(name).location(target))
    return counts


def _decode_frame_batches(batches: Any) -> Any:
    """mapInArrow: (path, content) of .hex files → their decoded lines (Python workers)."""
    import pyarrow as pa

    from orchestration.bench.landing_files import FRAME_SCHEMA, decode_frames

    schema = FRAME_SCHEMA.append(pa.field("_path", pa.string()))
    for batch in batches:
        for path, content in zip(
            batch.column("path").to_pylist(), batch.column("content").to_pylist(), strict=True
        ):
            columns = decode_frames(content)
            columns["_path"] = [path] * len(columns["_line"])
            yield pa.RecordBatch.from_pydict(columns, schema=schema)


def bronze_from_landing(
    spark: SparkSession, landing: Path, staging: Path, landed_at: Any, frames_landed_at: Any
) -> DataFrame:
    """Every position record of the landing files as bronze strings with lineage, parsed once and
    staged as Parquet (the bronze table of our pipeline), lines no reader could parse flagged
    with ``_error`` / ``_rule`` / ``_raw``. JSON and CSV through Spark's readers (PERMISSIVE: an
    unparseable line lands in ``_corrupt_record``); frames decoded by the project's codec in the
    Python workers (:func:`orchestration.bench.landing_files.decode_frames`). A JSON or CSV
    record's ``_line`` is the reader's row id (line order within a file; Spark has no line
    number); no file is digested (``_file_sm3`` null)."""
    fields = [f for f in POSITION_BRONZE_FIELDS if f != "source"]
    flagged = ["_line", "_error", "_rule", "_raw"]
    parts = []

    def records(frame: DataFrame, rule: str, error: str) -> DataFrame:
        bad = F.col(CORRUPT).isNotNull()
        return frame.select(
            *[F.when(~bad, F.col(f)).alias(f) for f in fields],
            F.when(~bad, F.lit("file")).alias("source"),
            *_lineage(F.col("_metadata.file_path"), landed_at),
            F.monotonically_increasing_id().alias("_line"),
            F.when(bad, F.lit(error)).alias("_error"),
            F.lit(rule).alias("_rule"),
            F.col(CORRUPT).alias("_raw"),
        )

    json_files = [str(p) for p in feed_files(landing, "positions", JSON_SUFFIX)]
    if json_files:
        schema = strings([*fields, CORRUPT])
        reader = spark.read.schema(schema).option("columnNameOfCorruptRecord", CORRUPT)
        parts.append(records(reader.json(json_files), MALFORMED_RECORD, "not JSON (Spark)"))
    csv_paths = feed_files(landing, "positions", CSV_SUFFIX)
    if csv_paths:
        with open(csv_paths[0], encoding="utf-8-sig", newline="") as fh:
            header = [h.strip() for h in next(csv.reader([fh.readline().rstrip("\r\n")]))]
        reader = (
            spark.read.schema(strings([*header, CORRUPT]))
            .option("header", True)
            .option("columnNameOfCorruptRecord", CORRUPT)
            .csv([str(p) for p in csv_paths])
        )
        for f in fields:
            if f not in header:
                reader = reader.withColumn(f, F.lit(None).cast("string"))
        parts.append(records(reader, MALFORMED_RECORD, "CSV row of the wrong width (Spark)"))
    frame_files = [str(p) for p in feed_files(landing, "frames", FRAME_SUFFIX)]
    if frame_files:
        # the columns of landing_files.FRAME_SCHEMA, in its order, and the file
        decoded_schema = strings(POSITION_BRONZE_FIELDS).add("_line", T.LongType())
        for name in ("_error", "_raw", "_path"):
            decoded_schema = decoded_schema.add(name, T.StringType())
        decoded = (
            spark.read.format("binaryFile")
            .load(frame_files)
            .select("path", "content")
            .mapInArrow(_decode_frame_batches, decoded_schema)
        )
        parts.append(
            decoded.select(
                *fields,
                "source",
                *_lineage(F.col("_path"), frames_landed_at),
                "_line",
                "_error",
                F.lit(MALFORMED_FRAME).alias("_rule"),
                "_raw",
            )
        )
    if not parts:
        empty = strings(
            [*POSITION_BRONZE_FIELDS, "_source_file", "_file_sm3", "_error", "_rule", "_raw"]
        )
        return spark.createDataFrame(
            [],
            empty.add("_folder_date", T.DateType())
            .add("_landed_at", T.TimestampType())
            .add("_line", T.LongType()),
        )
    bronze = parts[0]
    for part in parts[1:]:
        bronze = bronze.unionByName(part)
    bronze = bronze.withColumn("_file_sm3", F.lit(None).cast("string"))
    bronze.select(*POSITION_BRONZE_FIELDS, "_source_file", "_folder_date", "_landed_at",
                  "_file_sm3", *flagged).write.mode("overwrite").parquet(str(staging))  # fmt: skip
    return spark.read.parquet(str(staging))


def landing_quarantine_rows(bronze: DataFrame) -> DataFrame:
    """The quarantine rows of the lines no reader could parse (``QUARANTINE_COLUMNS``, as our
    landing writes them: no typed value, the rule, the raw line, the error)."""
    typed = {
        "platform_id": "string", "plate": "string", "plate_color": "int",
        "gnss_time": "timestamp", "day": "date", "received_at": "timestamp",
    }  # fmt: skip
    return bronze.where(F.col("_error").isNotNull()).select(
        *[F.lit(None).cast(t).alias(c) for c, t in typed.items()],
        F.array("_rule").alias("failed_rules"),
        F.col("_raw").alias("raw_record"),
        F.lit(None).cast("string").alias("raw_record_sm4"),  # the baseline keeps lines in clear
        F.col("_error").alias("error"),
        "_source_file",
        "_line",
        "_file_sm3",
        "_landed_at",
        F.col("_landed_at").alias("_quarantined_at"),
    )


def indicators_from_target(spark: SparkSession, target: Path, query: str) -> list[tuple]:
    """``query`` (the monthly indicators) over the facts, record counts and vehicles of the
    target lake (Parquet)."""
    for view, table in (
        ("facts", FACT_TABLES["vehicle_day_facts"]),
        ("counts", FACT_TABLES["record_counts"]),
        ("vehicles", VEHICLES),
    ):
        spark.read.parquet(str(table.location(target))).createOrReplaceTempView(view)
    return [tuple(r) for r in spark.sql(query).collect()]


def positions_from_landing(
    spark: SparkSession, landing: Path, target: Path, rules: dict[str, Any], landed_at: Any
) -> dict[str, int]:
    """Landing files → silver and quarantine positions of the target lake (Parquet), the vehicle
    history already there (:func:`master_from_landing`); row counts."""
    staging = target / "_staging" / "telematics__bronze_positions"
    frames_landed_at = landed_at + dt.timedelta(microseconds=1)  # our landing: frames after files
    bronze = bronze_from_landing(spark, landing, staging, landed_at, frames_landed_at)
    vehicles = spark.read.parquet(str(VEHICLES.location(target)))
    good = protect_phones(
        bronze.where(F.col("_error").isNull()).select(
            *POSITION_BRONZE_FIELDS, "_source_file", "_line", "_file_sm3", "_landed_at"
        )
    )
    counts = publish_positions(
        spark, good, vehicles, landing_quarantine_rows(bronze), target, rules
    )
    counts["records"] = bronze.count()
    shutil.rmtree(staging)
    return counts


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

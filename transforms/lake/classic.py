"""Classic (JVM) Apache Spark in local mode, reading the lake's Delta snapshots as plain Parquet.

The production engine is Sail over Spark Connect (:mod:`transforms.lake.session`). This module is
for the places that must show the same code runs on Apache Spark itself — the compatibility test
(tests/compat/) and the benchmark's JVM baseline — on a machine without Delta jars: the current
snapshot of a Delta table is the set of Parquet files its log lists (delta-rs tells which), so
Spark reads exactly those files, with the table's own schema, and writes Parquet.

PySpark picks Spark Connect or classic mode per process from environment variables
(``SPARK_REMOTE``, ``SPARK_CONNECT_MODE_ENABLED``, …, set as soon as a Connect session is built), so
a process that has talked to Sail cannot also start a JVM session reliably: run the JVM work in a
subprocess started with :func:`classic_env`.
"""

from __future__ import annotations

import atexit
import json
import os
import shutil
import tempfile
from collections.abc import Mapping
from pathlib import Path

from deltalake import DeltaTable
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import types as T

from transforms.lake.session import SESSION_TIME_ZONE

# variables through which PySpark (or a Connect session built earlier) selects Spark Connect mode
CONNECT_ENV = ("SPARK_REMOTE", "SPARK_CONNECT_MODE_ENABLED", "SPARK_LOCAL_REMOTE", "SPARK_API_MODE")
# only errors on the console: Spark's default log4j2 profile prints INFO / WARN lines at start-up
_QUIET_LOG4J2 = """\
rootLogger.level = error
rootLogger.appenderRef.stderr.ref = console
appender.console.type = Console
appender.console.name = console
appender.console.target = SYSTEM_ERR
appender.console.layout.type = PatternLayout
appender.console.layout.pattern = %d{HH:mm:ss} %p %c{1}: %m%n%ex
"""


def classic_env(base: Mapping[str, str] | None = None) -> dict[str, str]:
    """``base`` (default: this process's environment) without the Spark Connect selectors: the
    environment for a subprocess that will build a classic session."""
    env = dict(os.environ if base is None else base)
    for name in CONNECT_ENV:
        env.pop(name, None)
    return env


def classic_spark(
    cores: int = 2,
    memory: str = "2g",
    app: str = "lakehouse-jvm",
    *,
    shuffle_partitions: int | None = None,
    warehouse: str | os.PathLike | None = None,
    conf: Mapping[str, str] | None = None,
) -> SparkSession:
    """A classic JVM SparkSession in local mode (``local[cores]``, driver heap ``memory``).

    Like the production sessions it runs in UTC, so the lake's GMT+8 wall-clock timestamps are not
    shifted. The UI is off and the console shows errors only (after Spark's two-line start-up
    banner). Parquet is written with µs timestamps. Shuffles use ``shuffle_partitions``
    (default 2 × cores: the default 200 tasks per shuffle dominate the run time of small local
    jobs). ``warehouse`` is where ``CREATE SCHEMA`` puts its directories (default: a temporary
    directory removed at exit, so nothing lands in the working directory). The catalog is Spark's in-memory one.
    ``conf`` adds or overrides settings. A session already running in this process is returned as
    is (its static settings cannot change).

    Raises RuntimeError when this process is in Spark Connect mode (see the module docstring).
    """
    connect = [name for name in CONNECT_ENV if name in os.environ]
    if connect:
        raise RuntimeError(
            f"this process is set up for Spark Connect ({', '.join(connect)} set): start the JVM "
            "work in a subprocess with env=transforms.lake.classic.classic_env()"
        )
    scratch = Path(tempfile.mkdtemp(prefix="lakehouse-jvm-"))  # log config, spill, warehouse
    atexit.register(shutil.rmtree, scratch, ignore_errors=True)
    log_config = scratch / "log4j2.properties"
    log_config.write_text(_QUIET_LOG4J2, encoding="utf-8")
    settings = {
        "spark.api.mode": "classic",
        "spark.master": f"local[{cores}]",
        "spark.app.name": app,
        "spark.driver.memory": memory,
        "spark.driver.extraJavaOptions": f"-Dlog4j2.configurationFile={log_config}",
        "spark.sql.session.timeZone": SESSION_TIME_ZONE,
        "spark.ui.enabled": "false",
        "spark.ui.showConsoleProgress": "false",
        "spark.sql.shuffle.partitions": str(shuffle_partitions or 2 * cores),
        # Parquet timestamps as the lake's Delta files store them (µs, UTC-adjusted), not INT96
        "spark.sql.parquet.outputTimestampType": "TIMESTAMP_MICROS",
        # a catalog table over existing day=… directories lists them at query time; tracked in the
        # catalog it would show no partition (read as empty) until MSCK REPAIR TABLE
        "spark.sql.hive.manageFilesourcePartitions": "false",
        "spark.default.parallelism": str(cores),
        "spark.sql.warehouse.dir": str(Path(warehouse or scratch / "warehouse").resolve()),
        "spark.local.dir": str(scratch / "tmp"),
        **(conf or {}),
    }
    builder = SparkSession.builder
    for key, value in settings.items():
        builder = builder.config(key, value)
    spark = builder.getOrCreate()
    spark.sparkContext.setLogLevel("ERROR")
    return spark


def _plain_snapshot(table: DeltaTable, table_dir: Path) -> None:
    """Refuse tables whose Parquet files alone do not give the snapshot: with column mapping the
    file columns have physical names, with deletion vectors some rows of a file are deleted."""
    config = table.metadata().configuration or {}
    mapping = config.get("delta.columnMapping.mode", "none")
    features = set(table.protocol().reader_features or [])
    if mapping != "none" or "columnMapping" in features or "deletionVectors" in features:
        raise NotImplementedError(
            f"{table_dir}: column mapping or deletion vectors; read it with a Delta reader"
        )


def snapshot_schema(table_dir: str | os.PathLike) -> T.StructType:
    """The Spark schema of the Delta table (Delta's schema JSON is Spark's StructType JSON)."""
    return T.StructType.fromJson(json.loads(DeltaTable(str(table_dir)).schema().to_json()))


def read_snapshot(
    spark: SparkSession, table_dir: str | os.PathLike, columns: list[str] | None = None
) -> DataFrame:
    """The current snapshot of the Delta table at ``table_dir`` as a DataFrame, read as Parquet.

    The files are those of the snapshot (delta-rs reads the log; files of removed versions are
    skipped). The table's schema is imposed, so the column types and order are the table's, not
    inferred from files or directory names (``basePath`` makes Spark read partition columns such as
    ``day`` from the ``day=…`` directories). An empty table gives an empty frame of that schema.
    ``columns``: only these, in this order.
    """
    table_dir = Path(table_dir).resolve()
    table = DeltaTable(str(table_dir))
    _plain_snapshot(table, table_dir)
    schema = T.StructType.fromJson(json.loads(table.schema().to_json()))
    files = table.file_uris()
    if files:
        frame = spark.read.schema(schema).option("basePath", str(table_dir)).parquet(*files)
    else:
        frame = spark.createDataFrame([], schema)
    return frame.select(*(columns or schema.fieldNames()))


def _local_path(uri: str) -> Path:
    if uri.startswith("file://"):
        return Path(uri[len("file://") :])
    if "://" in uri:
        raise NotImplementedError(f"not a local file: {uri}")
    return Path(uri)


def export_snapshot(table_dir: str | os.PathLike, target_dir: str | os.PathLike) -> int:
    """Copy the current snapshot's Parquet files of the Delta table at ``table_dir`` to
    ``target_dir`` (replaced), keeping their relative paths (``day=…`` directories): a plain
    Parquet table any engine reads without a Delta reader. An empty table becomes one empty Parquet
    file carrying the schema, so that schema inference still works. Returns the files copied."""
    source, target = Path(table_dir).resolve(), Path(target_dir)
    table = DeltaTable(str(source))
    _plain_snapshot(table, source)
    if target.exists():
        shutil.rmtree(target)
    target.mkdir(parents=True)
    files = [_local_path(uri).resolve() for uri in table.file_uris()]
    for path in files:
        destination = target / path.relative_to(source)
        destination.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, destination)
    if not files:
        import pyarrow as pa
        import pyarrow.parquet as pq

        schema = pa.schema(table.schema().to_arrow())
        pq.write_table(schema.empty_table(), target / "part-00000-empty.parquet")
    return len(files)

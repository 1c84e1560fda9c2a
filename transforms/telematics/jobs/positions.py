"""Publish landed position records: validate (GX), quarantine failures, merge qualified into silver.

Write–audit–publish: the batch is the bronze rows of files landed but not yet published. The GX suite
runs on the typed batch before anything is written; if it fails, nothing is published and the files
stay pending. Re-running is idempotent: silver is unique on (plate, plate_color, gnss_time) — days
it does not hold yet are appended, rows of days it holds are merged — and quarantine rows of a file
are replaced, never appended twice. A large backlog is published in passes of whole landing folders.
"""

from __future__ import annotations

import datetime as dt
import shutil
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from deltalake import DeltaTable
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

from expectations.suites import ValidationReport, batch_label, validate_dataframe
from expectations.telematics import positions_suite
from transforms.lake import registry
from transforms.lake.batching import group_by_rows, max_rows_per_pass
from transforms.lake.catalog import register_table
from transforms.lake.clock import now_beijing
from transforms.lake.dedup import drop_scratch
from transforms.lake.landing import empty_bronze
from transforms.lake.ledger import mark_published, pending_files
from transforms.lake.maintenance import rows_written_since, table_version
from transforms.telematics.feeds import POSITION_FEEDS, POSITIONS
from transforms.telematics.positions import (
    SILVER_COLUMNS,
    attach_terminals,
    qualified,
    tag_rules,
    typed_positions,
    unqualified,
)

SILVER = registry.table("silver.telematics__positions")
QUARANTINE = registry.table("quarantine.telematics__positions")
BRONZE = registry.table(POSITIONS.bronze_table)


@dataclass
class PublishResult:
    """What one publish pass did."""

    files: int = 0
    records: int = 0
    qualified: int = 0
    quarantined: int = 0
    published: bool = True
    report: ValidationReport | None = None
    failed_by_rule: dict[str, int] = field(default_factory=dict)


def publish_positions(
    spark: SparkSession,
    lake: Path,
    rules: dict[str, Any],
    dates: list[dt.date] | None = None,
    progress: Callable[[str], None] | None = None,
) -> PublishResult:
    """Validate and publish the pending position files (all, or those of ``dates`` folders).

    A large backlog is published in passes of whole landing folders of at most
    ``pipeline.max_rows_per_pass`` records (memory stays flat); each pass is validated on its own,
    and a pass the GX suite rejects is held back while the others are published.
    """
    say = progress or (lambda _msg: None)
    pending = pending_files(lake, POSITION_FEEDS, dates)
    digests = pending.column("file_sm3").to_pylist()
    result = PublishResult(files=len(digests))
    if not digests:
        say("positions: nothing pending")
        ensure_tables(spark, lake, rules)
        return result
    by_folder: dict[dt.date, list[str]] = {}
    folder_rows: dict[dt.date, int] = {}
    for row in pending.to_pylist():
        by_folder.setdefault(row["folder_date"], []).append(row["file_sm3"])
        folder_rows[row["folder_date"]] = folder_rows.get(row["folder_date"], 0) + int(
            row.get("records") or 0
        )
    passes = group_by_rows(sorted(by_folder), folder_rows.__getitem__, max_rows_per_pass(rules))
    reports = []
    for number, folders in enumerate(passes, start=1):
        if len(passes) > 1:
            say(
                f"positions: pass {number}/{len(passes)}: landing folders {folders[0]} … "
                f"{folders[-1]} ({sum(folder_rows[d] for d in folders):,} records)"
            )
        batch = [digest for d in folders for digest in by_folder[d]]
        reports.append(_publish_pass(spark, lake, rules, folders, batch, result, say))
    result.report = ValidationReport.combine(reports)
    result.records = result.report.rows
    if not result.published:
        say("positions: some batches were HELD — the GX suite failed on them")
    say(
        f"positions: {result.records:,} records from {result.files} file(s) → "
        f"{result.qualified:,} qualified, {result.quarantined:,} quarantined"
    )
    return result


def _publish_pass(
    spark: SparkSession,
    lake: Path,
    rules: dict[str, Any],
    folders: list[dt.date],
    digests: list[str],
    result: PublishResult,
    say: Callable[[str], None],
) -> ValidationReport:
    """Validate and publish the bronze rows of ``digests`` (files of the ``folders`` landing
    days); adds its counts to ``result`` (``published`` turns false when the suite fails)."""
    bronze = (
        spark.read.format("delta")
        .load(str(BRONZE.location(lake)))
        .where(
            F.col("_folder_date").isin([d.isoformat() for d in folders])
            & F.col("_file_sm3").isin(digests)
        )
    )
    vehicles = registry.table("silver.telematics__vehicles")
    if vehicles.exists(lake):  # JT/T 808 records: plate and colour from the terminal phone
        bronze = attach_terminals(
            bronze, spark.read.format("delta").load(str(vehicles.location(lake)))
        )
    # the typed, tagged batch is computed once and staged as Parquet: validation, the counts and
    # both writes read the staged rows instead of re-typing bronze strings for every action
    staging = staging_location(lake)
    tag_rules(typed_positions(bronze, rules), rules).write.mode("overwrite").parquet(str(staging))
    tagged = spark.read.parquet(str(staging))
    report = validate_dataframe(
        tagged, positions_suite(rules), batch_label(days=folders, files=digests)
    )
    say(report.summary())
    if not report.success:
        result.published = False
        say("positions: batch HELD — the GX suite failed; nothing of it published")
        return report

    now = now_beijing()
    bad = unqualified(tagged, now)
    repeated = staging.with_name("telematics__positions_repeated")
    good = qualified(tagged, repeated)
    # the rows failing each rule: the suite's counts (they equal the row tags, a test checks it)
    for rule, n in report.unexpected_by_rule().items():
        if n:
            result.failed_by_rule[rule] = result.failed_by_rule.get(rule, 0) + n

    # quarantine: replace this batch's rule-failure rows (malformed lines, written at landing with
    # their parse error, stay)
    # (delta-rs: Sail cannot plan array_contains inside DELETE)
    if QUARANTINE.exists(lake):
        quoted = ", ".join(f"'{d}'" for d in digests)
        DeltaTable(str(QUARANTINE.location(lake))).delete(
            f"_file_sm3 IN ({quoted}) AND error IS NULL"
        )
    before = table_version(QUARANTINE.location(lake))
    bad.write.format("delta").mode("append").save(str(QUARANTINE.location(lake)))
    quarantined = rows_written_since(QUARANTINE.location(lake), before)  # the log, no read-back
    result.quarantined += quarantined
    result.qualified += report.rows - quarantined
    days = {r[0] for r in qualified_days(tagged).collect()}
    _publish_silver(spark, lake, good, days)
    for table in (QUARANTINE, SILVER):
        register_table(spark, table.name, table.location(lake))
    mark_published(lake, digests, now)
    shutil.rmtree(staging, ignore_errors=True)
    drop_scratch(repeated)
    return report


def staging_location(lake: Path) -> Path:
    """Where a position batch is staged between typing and publishing (overwritten by each batch)."""
    return lake / "_staging" / "telematics__positions_batch"


def silver_days(lake: Path) -> set[dt.date]:
    """The gnss days silver positions already holds (from the Delta log, no data read)."""
    if not SILVER.exists(lake):
        return set()
    parts = DeltaTable(str(SILVER.location(lake))).partitions()
    return {dt.date.fromisoformat(p["day"]) for p in parts if p.get("day")}


def qualified_days(tagged: DataFrame) -> DataFrame:
    """The gnss days of the qualified rows of a batch (one column of the staged batch)."""
    return tagged.where(F.size("failed_rules") == 0).select("day").distinct()


def _publish_silver(spark: SparkSession, lake: Path, good: DataFrame, days: set[dt.date]) -> None:
    """Qualified batch rows (of the gnss ``days``) into silver, on (plate, plate_color,
    gnss_time), the copy received last winning. Days silver does not hold yet cannot match
    anything: they are appended (the batch is already one row per key); only rows of days
    already present go through MERGE, whose cost grows with the rows it matches (a 补传 batch is
    small). When both kinds are in the batch, its one-row-per-key form is staged once, not
    computed for each."""
    silver_path = SILVER.location(lake)
    if not SILVER.exists(lake):
        good.limit(0).write.format("delta").partitionBy("day").save(str(silver_path))
    present = sorted(silver_days(lake) & days)
    if not present:
        good.write.format("delta").mode("append").partitionBy("day").save(str(silver_path))
        return
    staged = staging_location(lake).with_name("telematics__positions_qualified")
    good.write.mode("overwrite").parquet(str(staged))
    good = spark.read.parquet(str(staged))
    old_days = F.col("day").isin(present)
    fresh, late = good.where(~old_days), good.where(old_days)
    fresh.write.format("delta").mode("append").partitionBy("day").save(str(silver_path))
    late.createOrReplaceTempView("_positions_batch")
    # by path: independent of what the session's catalog has registered under the name
    spark.sql(
        f"""
        MERGE INTO delta.`{silver_path}` AS t
        USING _positions_batch AS s
        ON t.day = s.day AND t.plate = s.plate AND t.plate_color = s.plate_color
           AND t.gnss_time = s.gnss_time
        WHEN MATCHED AND s.received_at >= t.received_at THEN UPDATE SET *
        WHEN NOT MATCHED THEN INSERT *
        """
    )
    shutil.rmtree(staged, ignore_errors=True)


def ensure_tables(spark: SparkSession, lake: Path, rules: dict[str, Any]) -> None:
    """Create silver and quarantine positions empty when no record has arrived yet."""
    missing = [t for t in (SILVER, QUARANTINE) if not t.exists(lake)]
    if not missing:
        return
    tagged = tag_rules(typed_positions(empty_bronze(spark, POSITIONS), rules), rules)
    frames = {
        SILVER: tagged.select(*SILVER_COLUMNS),
        QUARANTINE: unqualified(tagged, now_beijing()),
    }
    for table in missing:
        frames[table].write.format("delta").save(str(table.location(lake)))
        register_table(spark, table.name, table.location(lake))


def landed_days(spark: SparkSession, lake: Path, folder_dates: list[dt.date]) -> list[dt.date]:
    """The gnss days of the records landed in the given landing folders (what facts must redo)."""
    if not BRONZE.exists(lake) or not folder_dates:
        return []
    days = (
        spark.read.format("delta")
        .load(str(BRONZE.location(lake)))
        .where(F.col("_folder_date").isin([d.isoformat() for d in folder_dates]))
        .select(F.to_date(F.substring(F.trim("gnss_time"), 1, 10)).alias("day"))
        .where(F.col("day").isNotNull())
        .distinct()
        .collect()
    )
    return sorted(r["day"] for r in days)

"""Publish landed ride-hailing records: every interface's pending files → one row per natural key
in silver (``silver.ridehailing__static_records`` for the 14 static interfaces, kept for ever —
they date the history —, ``silver.ridehailing__records`` for the dynamic ones, kept ≥ 2 years),
and the outage notices.

A line lacking a field of its natural key cannot be a record: it goes to the interface's
quarantine with ``missing_key:<Field>`` (a line that is not JSON was quarantined at landing). Every
other line is a record, defective or not — the defects are what the evaluation measures, so they
are kept with the record (:mod:`transforms.ridehailing.checks`), never dropped.

补传 and re-sends: a later-received copy of a natural key is the same record: its field values
replace the earlier copy's (contracts.md "newer wins"), ``first_received_at`` keeps the earliest
reception (timeliness is measured on it) and ``copies`` counts them — so a record counts once
everywhere, whatever order its copies land in. Re-running is idempotent: only pending files are
read, and a file is marked published last (a crash in between publishes it again: merging a copy
already merged changes no value and no reception time — only ``copies``, a diagnostic, would
count it twice).
"""

from __future__ import annotations

import datetime as dt
import shutil
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pyarrow as pa
from deltalake import DeltaTable, write_deltalake
from pyspark.sql import Column, DataFrame, SparkSession
from pyspark.sql import functions as F

from expectations.ridehailing import DIMENSION_COLUMNS, record_suite
from expectations.suites import ValidationReport, batch_label, validate_dataframe
from transforms.lake import registry
from transforms.lake.catalog import register_table
from transforms.lake.clock import now_beijing
from transforms.lake.dedup import drop_scratch, latest_per_key
from transforms.lake.landing import quarantine_schema
from transforms.lake.ledger import mark_published, pending_files
from transforms.lake.maintenance import rows_written_since, table_version
from transforms.ridehailing.checks import RECORD_COLUMNS, key_missing, records
from transforms.ridehailing.feeds import FEED_BY_INTERFACE, OUTAGES
from transforms.ridehailing.interfaces import INTERFACES, Interface

RECORDS = registry.table("silver.ridehailing__records")
STATIC_RECORDS = registry.table("silver.ridehailing__static_records")
OUTAGE_TABLE = registry.table("silver.ridehailing__outages")
MERGE_KEY = ("interface", "natural_key")
# the failed-rule list of each dimension a suite checks (transforms.ridehailing.checks)
FAILED_COLUMNS = {
    "completeness": "completeness_failed",
    "normativity": "normativity_failed",
    "truthfulness_own": "truth_failed",
}


@dataclass
class PublishResult:
    """What one publish did."""

    files: int = 0
    lines: int = 0  # bronze lines read (re-sends included)
    records: int = 0  # rows the Delta commits wrote (a MERGE: every row of the files it rewrote)
    quarantined: int = 0  # lines lacking a key field
    by_interface: dict[str, int] = field(default_factory=dict)
    outages: int = 0
    reports: list[ValidationReport] = field(default_factory=list)


def staging(lake: Path, name: str) -> Path:
    return lake / "_staging" / f"ridehailing__{name}"


# a keyless line's quarantine columns, staged with the record rows (null on a record's row)
KEYLESS_RULES, KEYLESS_RAW = "_keyless_rules", "_keyless_raw"


def _keyless(spec: Interface) -> dict[str, Column]:
    """A line lacking a field of its natural key: the ``missing_key:<Field>`` rules it breaks and
    the line as its stored fields (JSON; personal fields only protected); null on other lines."""
    feed = FEED_BY_INTERFACE[spec.name]
    missing = [
        F.when(F.trim(F.col(c)).isNull() | (F.trim(F.col(c)) == ""), F.lit(f"missing_key:{n}"))
        for n, c in ((n, _stored_key(spec, n)) for n in spec.key)
    ]
    no_key = key_missing(spec)
    return {
        KEYLESS_RULES: F.when(no_key, F.filter(F.array(*missing), lambda x: x.isNotNull())),
        KEYLESS_RAW: F.when(no_key, F.to_json(F.struct(*[F.col(c) for c in feed.stored_fields]))),
    }


def _staged_counts(staged: DataFrame) -> dict[str, tuple[int, int]]:
    """Per interface of a staging: (record lines, keyless lines), one query."""
    rows = staged.groupBy("interface").agg(
        F.count(F.lit(1)).alias("lines"), F.count(KEYLESS_RULES).alias("keyless")
    )
    return {r["interface"]: (r["lines"] - r["keyless"], r["keyless"]) for r in rows.collect()}


def _quarantine(
    lake: Path,
    staged: DataFrame,
    digests: dict[str, list[str]],
    keyless: dict[str, int],
    result: PublishResult,
) -> None:
    """The staged keyless lines (``keyless``: how many per interface) as quarantine rows of their
    interface: for every interface of the batch (``digests``: its files), its earlier rows of
    these files replaced."""
    quarantined_at = F.lit(str(now_beijing().replace(tzinfo=None))).cast("timestamp")
    for name, files in digests.items():
        feed = FEED_BY_INTERFACE[name]
        table = registry.table(feed.quarantine_table)
        location = str(table.location(lake))
        if not table.exists(lake):
            write_deltalake(location, quarantine_schema(feed).empty_table())
        quoted = ", ".join(f"'{d}'" for d in files)
        DeltaTable(location).delete(f"_file_sm3 IN ({quoted}) AND error IS NULL")
        if not keyless.get(name):
            continue
        rows = staged.where((F.col("interface") == name) & F.col(KEYLESS_RULES).isNotNull()).select(
            F.col(KEYLESS_RULES).alias("failed_rules"),
            F.col(KEYLESS_RAW).alias("raw_record"),
            *([F.lit(None).cast("string").alias("raw_record_sm4")] if feed.sensitive else []),
            F.lit(None).cast("string").alias("error"),
            "_source_file", "_line", "_file_sm3", "_landed_at",
            quarantined_at.alias("_quarantined_at"),
        )  # fmt: skip
        before = table_version(table.location(lake))
        rows.write.format("delta").mode("append").save(location)
        result.quarantined += rows_written_since(table.location(lake), before)


def _stored_key(spec: Interface, name: str) -> str:
    f = spec.field(name)
    return f"{name}_masked" if f.sensitive else name


def _interface_records(
    spark: SparkSession, lake: Path, spec: Interface, digests: list[str], rules: dict[str, Any]
) -> DataFrame:
    """The interface's pending lines as record rows (a plan, staged with its target's other
    interfaces by :func:`_stage`), a line without its key carrying its quarantine columns
    (:func:`_keyless`): the bronze rows are read once for both."""
    feed = FEED_BY_INTERFACE[spec.name]
    bronze = (
        spark.read.format("delta")
        .load(str(registry.table(feed.bronze_table).location(lake)))
        .where(F.col("_file_sm3").isin(digests))
    )
    carried = _keyless(spec)
    return records(bronze.withColumns(carried), spec, rules, carry=tuple(carried))


def _stage(lake: Path, target: str, parts: list[DataFrame]) -> None:
    """The record rows of a target table's interfaces written once to its staging folder (every
    later step reads them from there), with whether each passes its three record-level
    dimensions (``DIMENSION_COLUMNS``: what the suites read, instead of the failed-rule lists)."""
    union = parts[0]
    for part in parts[1:]:
        union = union.unionByName(part)
    passes = {column: F.size(FAILED_COLUMNS[d]) == 0 for d, column in DIMENSION_COLUMNS.items()}
    union.withColumns(passes).write.mode("overwrite").parquet(str(staging(lake, target)))


def one_per_key(staged: DataFrame, scratch: Path) -> DataFrame:
    """One row per natural key: the values of the copy received last (then landed last), the
    earliest reception, the number of copies (:func:`transforms.lake.dedup.latest_per_key`; its
    ``scratch``: remove it once the result is written)."""
    whole = {"first_received_at": F.min("first_received_at"), "copies": F.sum("copies")}
    return latest_per_key(staged, MERGE_KEY, RECORD_COLUMNS, scratch, whole)


def _validate(
    lines: DataFrame,
    interfaces: list[str],
    mostly: float,
    say: Callable[[str], None],
    batches: dict[str, str],
) -> list[ValidationReport]:
    """The suite of each of ``interfaces`` (those with record lines) on the batch's record lines
    (reported, never holding it back); ``batches``: each interface's batch label (its landing
    days and files)."""
    checks = lines.select("interface", *DIMENSION_COLUMNS.values())
    reports = []
    for name in sorted(interfaces):
        report = validate_dataframe(
            checks.where(F.col("interface") == name), record_suite(name, mostly), batches[name]
        )
        if not report.success:
            say(report.summary())
        reports.append(report)
    return reports


def _merge(spark: SparkSession, location: Path, batch: DataFrame) -> None:
    """Merge one-row-per-key ``batch`` into the table at ``location``: a newer copy replaces the
    values, the earliest reception and the copy count are kept whichever lands first."""
    batch.createOrReplaceTempView("_ridehailing_batch")
    keep = {"first_received_at", "copies"}
    newer = ", ".join(f"t.`{c}` = s.`{c}`" for c in RECORD_COLUMNS if c not in keep)
    spark.sql(
        f"""
        MERGE INTO delta.`{location}` AS t
        USING _ridehailing_batch AS s
        ON t.interface = s.interface AND t.natural_key = s.natural_key
        WHEN MATCHED AND s.received_at >= t.received_at THEN UPDATE SET {newer},
            t.first_received_at = LEAST(t.first_received_at, s.first_received_at),
            t.copies = t.copies + s.copies
        WHEN MATCHED THEN UPDATE SET
            t.first_received_at = LEAST(t.first_received_at, s.first_received_at),
            t.copies = t.copies + s.copies
        WHEN NOT MATCHED THEN INSERT *
        """
    )


def _append(batch: DataFrame, location: Path) -> None:
    """Append ``batch`` (not partitioned: :mod:`transforms.ridehailing.tables` says why)."""
    batch.write.format("delta").mode("append").save(str(location))


def _write(
    spark: SparkSession, lake: Path, table: registry.Table, lines: DataFrame, scratch: Path
) -> int:
    """Write the staged record ``lines`` into ``table``, one row per natural key (rows written;
    ``scratch``: the repeated keys' folder, removed once written).

    Only a key the table already holds needs a MERGE (a re-send whose earlier copy is there):
    the lines of those keys are merged, one row per key, and the other keys' rows are appended —
    all of them when the table holds nothing yet (a first landing). Both halves are split against
    the table as it was before this write (its version pinned), so the MERGE cannot see the
    appended keys nor the append the merged ones; the lake's writer lock keeps other writers'
    commits out in between. A re-run after a crash finds every key held and merges it, as
    before."""
    location = table.location(lake)
    before = table_version(location)
    if before is None or not DeltaTable(str(location)).file_uris():
        _append(one_per_key(lines, scratch), location)
    else:
        key = list(MERGE_KEY)
        held = (
            spark.read.format("delta")
            .option("versionAsOf", before)
            .load(str(location))
            .select(*key)
        )
        _merge(spark, location, one_per_key(lines.join(held, key, "left_semi"), scratch))
        _append(one_per_key(lines.join(held, key, "left_anti"), scratch), location)
    drop_scratch(scratch)
    register_table(spark, table.name, location)
    return rows_written_since(location, before)


def publish_records(
    spark: SparkSession,
    lake: Path,
    rules: dict[str, Any],
    dates: list[dt.date] | None = None,
    progress: Callable[[str], None] | None = None,
) -> PublishResult:
    """Publish the pending files of every interface (all, or those of ``dates`` folders)."""
    say = progress or (lambda _m: None)
    result = PublishResult()
    published: list[str] = []
    for target in ("static", "dynamic"):
        shutil.rmtree(staging(lake, target), ignore_errors=True)
    parts: dict[str, list[DataFrame]] = {"static": [], "dynamic": []}
    digests_of: dict[str, dict[str, list[str]]] = {"static": {}, "dynamic": {}}
    batches: dict[str, str] = {}
    pending: dict[str, list[dict[str, Any]]] = {}
    feeds = [FEED_BY_INTERFACE[spec.name] for spec in INTERFACES]
    for row in pending_files(lake, feeds, dates).to_pylist():  # the ledger read once
        pending.setdefault(row["feed"], []).append(row)
    for spec in INTERFACES:
        files = pending.get(FEED_BY_INTERFACE[spec.name].name, [])
        digests = [f["file_sm3"] for f in files]
        if not digests:
            continue
        lines = sum(int(f["records"] or 0) for f in files)
        batches[spec.name] = batch_label(days=[f["folder_date"] for f in files], files=digests)
        result.files += len(digests)
        result.lines += lines
        result.by_interface[spec.name] = lines
        target = "static" if spec.is_static else "dynamic"
        parts[target].append(_interface_records(spark, lake, spec, digests, rules))
        digests_of[target][spec.name] = digests
        published.extend(digests)
    mostly = float(rules["quality"]["min_pass_fraction"])
    for target, table in (("static", STATIC_RECORDS), ("dynamic", RECORDS)):
        if parts[target]:
            _stage(lake, target, parts[target])
            staged = spark.read.parquet(str(staging(lake, target)))
            counts = _staged_counts(staged)
            keyless = {name: k for name, (_, k) in counts.items()}
            _quarantine(lake, staged, digests_of[target], keyless, result)
            lines = staged.where(F.col(KEYLESS_RULES).isNull())
            recorded = [name for name, (n, _) in counts.items() if n]
            result.reports.extend(_validate(lines, recorded, mostly, say, batches))
            repeated = staging(lake, f"{target}_repeated")
            result.records += _write(spark, lake, table, lines, repeated)
        shutil.rmtree(staging(lake, target), ignore_errors=True)
    result.outages = publish_outages(lake)
    ensure_tables(spark, lake, rules)
    if published:
        mark_published(lake, published, now_beijing())
    say(
        f"ridehailing: {result.lines:,} line(s) from {result.files} file(s) → "
        f"{result.records:,} row(s) written, {result.quarantined:,} without their key "
        f"quarantined; {result.outages} outage notice(s)"
    )
    return result


def ensure_tables(spark: SparkSession, lake: Path, rules: dict[str, Any]) -> None:
    """The record tables exist (empty) before the first record arrives."""
    from transforms.lake.landing import empty_bronze

    for table, spec in ((STATIC_RECORDS, INTERFACES[0]), (RECORDS, INTERFACES[-1])):
        if table.exists(lake):
            continue
        empty = records(empty_bronze(spark, FEED_BY_INTERFACE[spec.name]), spec, rules)
        empty.select(*RECORD_COLUMNS).write.format("delta").save(str(table.location(lake)))
        register_table(spark, table.name, table.location(lake))


# ---- outage notices -------------------------------------------------------------------------

OUTAGE_SCHEMA = pa.schema(
    [
        ("company_id", pa.string()),
        ("planned", pa.bool_()),
        ("notified_at", pa.timestamp("us")),
        ("start", pa.timestamp("us")),
        ("end", pa.timestamp("us")),
        ("_source_file", pa.string()),
        ("_line", pa.int64()),
    ]
)


def _f14(value: str | None) -> dt.datetime | None:
    try:
        return dt.datetime.strptime((value or "").strip(), "%Y%m%d%H%M%S")
    except ValueError:
        return None


def _planned(value: str | None) -> bool | None:
    text = (value or "").strip().lower()
    return {"true": True, "1": True, "false": False, "0": False}.get(text)


def publish_outages(lake: Path) -> int:
    """Rebuild silver.ridehailing__outages from every notice received (small): one per (company,
    start), the notice landed last winning; a notice that is not one (no company, times that are
    not F14, end before start) goes to quarantine with the rules it breaks."""
    bronze = registry.table(OUTAGES.bronze_table)
    rows = []
    if bronze.exists(lake):
        rows = DeltaTable(str(bronze.location(lake))).to_pyarrow_table().to_pylist()
    good, bad = outage_notices(rows)
    write_deltalake(
        str(OUTAGE_TABLE.location(lake)),
        pa.Table.from_pylist(good, OUTAGE_SCHEMA),
        mode="overwrite",
        schema_mode="overwrite",
    )
    _outage_rule_failures(lake, bad)
    mark_published(lake, pending_files(lake, OUTAGES).column("file_sm3").to_pylist(), now_beijing())
    return len(good)


def outage_notices(rows: list[dict]) -> tuple[list[dict], list[tuple[dict, list[str]]]]:
    """(outage rows, (notice, the rules it breaks) of the notices that are not one) from bronze
    notice rows (strings with lineage): one per (company, start), the notice landed last
    winning."""
    good: dict[tuple, dict] = {}
    bad: list[tuple[dict, list[str]]] = []
    for row in sorted(rows, key=lambda r: (r["_landed_at"], r["_source_file"], r["_line"])):
        times = {n: _f14(row.get(n)) for n in ("notified_at", "start", "end")}
        failed = [f"time:{n}" for n, v in times.items() if v is None]
        if not (row.get("CompanyId") or "").strip():
            failed.insert(0, "missing:CompanyId")
        if _planned(row.get("planned")) is None:
            failed.append("code:planned")
        if not failed and times["end"] < times["start"]:
            failed.append("order:end")
        if failed:
            bad.append((row, failed))
            continue
        company = row["CompanyId"].strip()
        good[(company, times["start"])] = {
            "company_id": company,
            "planned": _planned(row.get("planned")),
            **times,
            "_source_file": row["_source_file"],
            "_line": row["_line"],
        }
    return list(good.values()), bad


def _outage_rule_failures(lake: Path, bad: list[tuple[dict, list[str]]]) -> None:
    table = registry.table(OUTAGES.quarantine_table)
    location = str(table.location(lake))
    schema = quarantine_schema(OUTAGES)
    if not table.exists(lake):
        write_deltalake(location, schema.empty_table())
    DeltaTable(location).delete("error IS NULL")
    if not bad:
        return
    now = now_beijing()
    rows = [
        {
            "failed_rules": failed,
            "raw_record": str({k: row.get(k) for k in OUTAGES.fields}),
            "error": None,
            **{c: row[c] for c in ("_source_file", "_line", "_file_sm3", "_landed_at")},
            "_quarantined_at": now,
        }
        for row, failed in bad
    ]
    write_deltalake(location, pa.Table.from_pylist(rows, schema), mode="append")

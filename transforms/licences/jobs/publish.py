"""Publish the licence feeds: authority keys to silver; pending issuance files verified
(signature against the authority key valid on issued_at), validated (GX field rules) and written —
failures to quarantine with their reasons, verified versions into silver with their history.

Write–audit–publish: the batch is the bronze rows of the issuance files landed but not yet
published. Each record's signature is checked in Python (the canonical text decrypted, SM2 under
the registered key: :mod:`transforms.licences.signatures`); then the typed batch is validated by
the GX suite ``licences__licences`` before anything is written; if the suite fails, nothing of the
batch is written and its files stay pending. Re-running is idempotent: only pending files are
read; their rule-failure quarantine rows are replaced, never appended twice; silver is unique on
(licence_id, version), the copy received last winning; and a file is marked published last.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
from deltalake import DeltaTable, write_deltalake
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

from expectations.licences import authorities_suite, issuance_suite
from expectations.suites import ValidationReport, batch_label, validate_dataframe
from transforms.lake import registry
from transforms.lake.batching import group_by_rows, max_rows_per_pass
from transforms.lake.catalog import register_table
from transforms.lake.clock import now_beijing
from transforms.lake.feeds import Feed
from transforms.lake.landing import empty_bronze, quarantine_schema
from transforms.lake.ledger import mark_published, pending_files
from transforms.lake.protection import ProtectionKeys, mask_text, reveal
from transforms.licences import issuance
from transforms.licences.feeds import AUTHORITIES, ISSUANCE
from transforms.licences.report import report_records
from transforms.licences.signatures import AuthorityKey, Record, check_records

SILVER = registry.table("silver.licences__licences")
QUARANTINE = registry.table(ISSUANCE.quarantine_table)
BRONZE = registry.table(ISSUANCE.bronze_table)
KEYS = registry.table("silver.licences__authorities")
KEYS_BRONZE = registry.table(AUTHORITIES.bronze_table)
KEYS_QUARANTINE = registry.table(AUTHORITIES.quarantine_table)
RECORDS = registry.table("silver.licences__records")
CHECK_COLUMNS = ("signature_check", "signature_detail", "raw_preview")


@dataclass
class PublishResult:
    """What one publish of the issuance feed did."""

    files: int = 0
    records: int = 0
    verified: int = 0
    quarantined: int = 0
    published: bool = True
    report: ValidationReport | None = None
    failed_by_rule: dict[str, int] = field(default_factory=dict)
    silver_rows: int = 0


# ---- authority keys -------------------------------------------------------------------------


def publish_authorities(
    spark: SparkSession,
    lake: Path,
    rules: dict[str, Any],
    progress: Callable[[str], None] | None = None,
) -> tuple[int, ValidationReport]:
    """Rebuild silver.licences__authorities from every bronze key record (a key record that
    breaks a rule goes to quarantine instead); returns (keys registered, the suite's report).
    The keys are rebuilt only when the suite passes."""
    say = progress or (lambda _m: None)
    if KEYS_BRONZE.exists(lake):
        bronze = spark.read.format("delta").load(str(KEYS_BRONZE.location(lake)))
    else:
        say(f"{AUTHORITIES.key}: no bronze records yet")
        bronze = empty_bronze(spark, AUTHORITIES)
    tagged = issuance.tag_authorities(issuance.typed_authorities(bronze), rules)
    label = batch_label(files=_pending(lake, AUTHORITIES), what="every key record")
    report = validate_dataframe(tagged, authorities_suite(rules), label)
    say(report.summary())
    if not report.success and KEYS.exists(lake):
        say(f"{KEYS.name}: HELD — the suite failed; the registered keys are unchanged")
        return _count(spark, KEYS.location(lake)), report
    _ensure_quarantine(lake, AUTHORITIES)
    DeltaTable(str(KEYS_QUARANTINE.location(lake))).delete("error IS NULL")
    issuance.rejected_keys(tagged, now_beijing()).write.format("delta").mode("append").save(
        str(KEYS_QUARANTINE.location(lake))
    )
    issuance.registered_keys(tagged).write.format("delta").mode("overwrite").option(
        "overwriteSchema", "true"
    ).save(str(KEYS.location(lake)))
    for table in (KEYS, KEYS_QUARANTINE):
        register_table(spark, table.name, table.location(lake))
    mark_published(lake, _pending(lake, AUTHORITIES), now_beijing())
    rows = _count(spark, KEYS.location(lake))
    say(f"{KEYS.name}: {rows} key(s)")
    return rows, report


def authority_keys(lake: Path) -> dict[str, AuthorityKey]:
    """The registered keys by key_id (silver.licences__authorities)."""
    if not KEYS.exists(lake):
        return {}
    rows = DeltaTable(str(KEYS.location(lake))).to_pyarrow_table().to_pylist()
    return {
        r["key_id"]: AuthorityKey(
            r["key_id"], r["authority_code"], r["sm2_public_key"], r["valid_from"], r["valid_to"]
        )
        for r in rows
    }


# ---- issuance -------------------------------------------------------------------------------


def publish_issuance(
    spark: SparkSession,
    lake: Path,
    rules: dict[str, Any],
    progress: Callable[[str], None] | None = None,
) -> PublishResult:
    """Verify, validate and publish the pending issuance files, in passes of whole files of at
    most ``pipeline.max_rows_per_pass`` records (a pass the suite rejects is held back)."""
    say = progress or (lambda _m: None)
    pending = pending_files(lake, ISSUANCE).to_pylist()
    result = PublishResult(files=len(pending))
    if not pending:
        say(f"{ISSUANCE.key}: nothing pending")
        ensure_tables(spark, lake, rules)
        publish_records(spark, lake, rules)
        return result
    keys = authority_keys(lake)
    protection = ProtectionKeys.load()
    records_of = {p["file_sm3"]: int(p.get("records") or 0) for p in pending}
    day_of = {p["file_sm3"]: p.get("folder_date") for p in pending}
    passes = group_by_rows(list(records_of), records_of.__getitem__, max_rows_per_pass(rules))
    reports = []
    for digests in passes:
        label = batch_label(days=[day_of[d] for d in digests], files=digests)
        reports.append(
            _publish_pass(spark, lake, rules, digests, keys, protection, result, say, label)
        )
    result.report = ValidationReport.combine(reports)
    ensure_tables(spark, lake, rules)  # a first batch held back leaves silver unwritten
    publish_records(spark, lake, rules)
    result.silver_rows = _count(spark, SILVER.location(lake))
    say(
        f"{ISSUANCE.key}: {result.records} record(s) from {result.files} file(s) → "
        f"{result.verified} verified, {result.quarantined} quarantined "
        f"{dict(sorted(result.failed_by_rule.items()))}; {SILVER.name}: {result.silver_rows} rows"
    )
    return result


def checked_batch(
    lake: Path,
    digests: list[str],
    keys: dict[str, AuthorityKey],
    protection: ProtectionKeys,
    rules: dict[str, Any],
) -> pa.Table:
    """The bronze rows of the files ``digests`` with their signature check: ``signature_check``
    (verified / bad_signature / unknown_signer), ``signature_detail`` and a masked preview of the
    signed record (``raw_preview``, what quarantine shows)."""
    dataset = DeltaTable(str(BRONZE.location(lake))).to_pyarrow_dataset()
    rows = dataset.to_table(filter=pc.field("_file_sm3").isin(digests))
    canonical = reveal(rows.column("canonical_sm4").to_pylist(), protection)
    column = rows.column
    records = [
        Record(text, signature, key_id, authority, issued_at)
        for text, signature, key_id, authority, issued_at in zip(
            canonical,
            column("signature").to_pylist(),
            column("signer_key_id").to_pylist(),
            column("issuing_authority_code").to_pylist(),
            column("issued_at").to_pylist(),
            strict=True,
        )
    ]
    signature = rules["signature"]
    checks = check_records(
        records,
        keys,
        user_id=str(signature["user_id"]).encode(),
        parallel_min=int(signature["parallel_min_records"]),
        workers=int(signature["workers"]),
    )
    results = [r for r, _ in checks]
    details = [d for _, d in checks]
    previews = [mask_text(text) for text in canonical]  # quarantine's raw_record
    for name, values in zip(CHECK_COLUMNS, (results, details, previews), strict=True):
        rows = rows.append_column(name, pa.array(values, pa.string()))
    return rows


def _publish_pass(
    spark: SparkSession,
    lake: Path,
    rules: dict[str, Any],
    digests: list[str],
    keys: dict[str, AuthorityKey],
    protection: ProtectionKeys,
    result: PublishResult,
    say: Callable[[str], None],
    label: str = "",
) -> ValidationReport:
    checked = checked_batch(lake, digests, keys, protection, rules)
    staging = staging_location(lake)
    shutil.rmtree(staging, ignore_errors=True)
    # staged as Parquet, not sent inline: a province's licences (≈ 200 k records) would make a
    # plan of hundreds of MB, beyond what Spark Connect accepts in one message
    staging.mkdir(parents=True)
    pq.write_table(checked, staging / "checked.parquet")
    batch = spark.read.parquet(str(staging / "checked.parquet"))
    tagged_frame = issuance.tag_issuance(issuance.typed_issuance(batch, rules), rules)
    tagged_frame.write.mode("overwrite").parquet(str(staging / "batch"))
    tagged = spark.read.parquet(str(staging / "batch"))
    report = validate_dataframe(tagged, issuance_suite(rules), label)
    say(report.summary())
    if not report.success:
        result.published = False
        say(f"{ISSUANCE.key}: batch HELD — the GX suite failed; nothing of it published")
        return report
    now = now_beijing()
    result.records += checked.num_rows
    for r in (
        tagged.select(F.explode("failed_rules").alias("rule"))
        .groupBy("rule")
        .agg(F.count(F.lit(1)).alias("n"))
        .collect()
    ):
        result.failed_by_rule[r["rule"]] = result.failed_by_rule.get(r["rule"], 0) + r["n"]
    quarantined = tagged.where(F.size("failed_rules") > 0).count()
    result.quarantined += quarantined
    result.verified += checked.num_rows - quarantined

    # quarantine: this batch's failure rows replaced (malformed lines, written at landing with
    # their parse error, stay)
    _ensure_quarantine(lake, ISSUANCE)
    DeltaTable(str(QUARANTINE.location(lake))).delete(
        f"_file_sm3 IN ({', '.join(repr(d) for d in digests)}) AND error IS NULL"
    )
    issuance.quarantine_rows(tagged, now).select(*quarantine_schema(ISSUANCE).names).write.format(
        "delta"
    ).mode("append").save(str(QUARANTINE.location(lake)))
    _publish_silver(spark, lake, issuance.verified_records(tagged), staging)
    for table in (SILVER, QUARANTINE):
        register_table(spark, table.name, table.location(lake))
    mark_published(lake, digests, now)
    shutil.rmtree(staging, ignore_errors=True)
    return report


def _publish_silver(spark: SparkSession, lake: Path, fresh: DataFrame, staging: Path) -> None:
    """Silver = the history of every verified version so far and the batch's (staged first: the
    table is read and replaced)."""
    records = fresh
    if SILVER.exists(lake):
        old = spark.read.format("delta").load(str(SILVER.location(lake)))
        records = old.select(*issuance.LICENCE_COLUMNS, *issuance.LINEAGE).unionByName(fresh)
    records.write.mode("overwrite").parquet(str(staging / "versions"))
    history = issuance.licence_history(spark.read.parquet(str(staging / "versions")))
    history.write.format("delta").mode("overwrite").option("overwriteSchema", "true").save(
        str(SILVER.location(lake))
    )


def publish_records(spark: SparkSession, lake: Path, rules: dict[str, Any]) -> int:
    """Rebuild silver.licences__records (what the operation-quality report counts) from silver
    licences and their quarantine; returns its row count."""
    licences = spark.read.format("delta").load(str(SILVER.location(lake)))
    quarantine = spark.read.format("delta").load(str(QUARANTINE.location(lake)))
    records = report_records(licences, quarantine, rules)
    records.write.format("delta").mode("overwrite").option("overwriteSchema", "true").save(
        str(RECORDS.location(lake))
    )
    register_table(spark, RECORDS.name, RECORDS.location(lake))
    return _count(spark, RECORDS.location(lake))


def staging_location(lake: Path) -> Path:
    """Where an issuance batch is staged between checking and publishing."""
    return lake / "_staging" / "licences__issuance_batch"


def ensure_tables(spark: SparkSession, lake: Path, rules: dict[str, Any]) -> None:
    """Create silver licences and both quarantine tables empty when no record has arrived yet
    (readers — dbt, the report, 核验 — see their schemas)."""
    _ensure_quarantine(lake, ISSUANCE)
    _ensure_quarantine(lake, AUTHORITIES)
    if not SILVER.exists(lake):
        empty = empty_bronze(spark, ISSUANCE).select(
            "*", *[F.lit(None).cast("string").alias(c) for c in CHECK_COLUMNS]
        )
        tagged = issuance.tag_issuance(issuance.typed_issuance(empty, rules), rules)
        issuance.licence_history(issuance.verified_records(tagged)).write.format("delta").save(
            str(SILVER.location(lake))
        )
    if not KEYS.exists(lake):
        typed = issuance.typed_authorities(empty_bronze(spark, AUTHORITIES))
        issuance.registered_keys(issuance.tag_authorities(typed, rules)).write.format("delta").save(
            str(KEYS.location(lake))
        )
    for table in (SILVER, QUARANTINE, KEYS, KEYS_QUARANTINE):
        register_table(spark, table.name, table.location(lake))


def _ensure_quarantine(lake: Path, feed: Feed) -> None:
    """The feed's quarantine table with the schema landing writes (created empty if missing)."""
    table = registry.table(feed.quarantine_table)
    if not table.exists(lake):
        write_deltalake(str(table.location(lake)), quarantine_schema(feed).empty_table())


def _pending(lake: Path, feed: Feed) -> list[str]:
    return pending_files(lake, feed).column("file_sm3").to_pylist()


def _count(spark: SparkSession, location: Path) -> int:
    return spark.read.format("delta").load(str(location)).count()

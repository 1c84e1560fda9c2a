"""Telematics positions: landing → bronze → (GX) → silver + quarantine, per landing day."""

import datetime as dt

import dagster as dg

from orchestration.defs.partitions import landing_days
from orchestration.defs.protection import record_manifest
from orchestration.defs.quality import data_docs_metadata
from orchestration.defs.writer import on_commit_conflict
from orchestration.environment import LakehouseResource
from transforms.lake.landing import land_feed
from transforms.telematics.feeds import POSITION_FEEDS
from transforms.telematics.jobs.facts import publish_facts
from transforms.telematics.jobs.positions import landed_days, publish_positions

GX_CHECK = "gx_telematics__positions"
SINGLE_RUN = dg.BackfillPolicy.single_run()


def partition_dates(context: dg.AssetExecutionContext) -> list[dt.date]:
    return [dt.date.fromisoformat(k) for k in context.partition_keys]


@dg.asset(
    key=["bronze", "telematics__positions"],
    group_name="telematics",
    partitions_def=landing_days,
    backfill_policy=SINGLE_RUN,
    kinds={"delta", "python"},
)
@on_commit_conflict(retry=True)
def bronze_positions(
    context: dg.AssetExecutionContext, lakehouse: LakehouseResource
) -> dg.MaterializeResult:
    """Position files (.jsonl, .csv) and raw JT/T 809 / 808 frames (.hex, decoded) of the day's
    landing folders, as received, with lineage.

    A file already landed (same SM3 digest) is skipped; malformed lines and frames that fail to
    decode go to quarantine with the reason; a file that cannot be read at all is recorded in
    ops.landing__rejected_files with the error.
    """
    results = [
        land_feed(lakehouse.root, feed, partition_dates(context), context.log.info)
        for feed in POSITION_FEEDS
    ]
    errors = [e for r in results for e in r.errors]
    record_manifest(context, lakehouse.root)
    return dg.MaterializeResult(
        metadata={
            "landed_files": sum(r.landed_files for r in results),
            "skipped_files": sum(r.skipped_files for r in results),
            "rejected_files": sum(r.rejected_files for r in results),
            "records": sum(r.records for r in results),
            "malformed_lines": sum(r.malformed for r in results),
            "errors": dg.MetadataValue.md("\n".join(f"- {e}" for e in errors) or "none"),
        }
    )


@dg.multi_asset(
    specs=[
        dg.AssetSpec(
            ["silver", "telematics__positions"],
            deps=[bronze_positions, ["silver", "telematics__vehicles"]],
            description="Qualified positions (合格数据), unique on (plate, plate_color, gnss_time).",
            partitions_def=landing_days,
            group_name="telematics",
            kinds={"delta", "spark"},
        ),
        dg.AssetSpec(
            ["quarantine", "telematics__positions"],
            deps=[bronze_positions],
            description="Position records that failed a 数据合格 rule, with the rule names.",
            partitions_def=landing_days,
            group_name="telematics",
            kinds={"delta", "spark"},
        ),
    ],
    check_specs=[
        dg.AssetCheckSpec(
            GX_CHECK,
            asset=["silver", "telematics__positions"],
            blocking=True,
            description="Great Expectations suite telematics__positions on the batch before publishing.",
        )
    ],
    backfill_policy=SINGLE_RUN,
    name="silver_telematics__positions",
)
@on_commit_conflict(retry=True)
def silver_positions(context: dg.AssetExecutionContext, lakehouse: LakehouseResource):
    """Validate the landed batch with GX, quarantine failing records, merge qualified ones into silver."""
    result = publish_positions(
        lakehouse.spark(),
        lakehouse.root,
        lakehouse.rules("telematics"),
        partition_dates(context),
        context.log.info,
    )
    report = result.report
    yield dg.AssetCheckResult(
        check_name=GX_CHECK,
        asset_key=["silver", "telematics__positions"],
        passed=result.published,
        severity=dg.AssetCheckSeverity.ERROR,
        metadata={
            "rows": report.rows if report else 0,
            "unexpected_by_rule": report.unexpected_by_rule() if report else {},
            "summary": dg.MetadataValue.md(f"```\n{report.summary()}\n```" if report else "empty"),
            **data_docs_metadata(lakehouse.root, report),
        },
    )
    meta = {"records": result.records, "files": result.files, "published": result.published}
    yield dg.MaterializeResult(
        asset_key=["silver", "telematics__positions"],
        metadata={**meta, "qualified": result.qualified},
    )
    yield dg.MaterializeResult(
        asset_key=["quarantine", "telematics__positions"],
        metadata={
            **meta,
            "quarantined": result.quarantined,
            "failed_by_rule": result.failed_by_rule,
        },
    )


FACT_TABLES = ("vehicle_day_facts", "violation_events", "record_counts")


@dg.multi_asset(
    specs=[
        dg.AssetSpec(
            ["silver", f"telematics__{name}"],
            deps=[
                ["silver", "telematics__positions"],
                ["quarantine", "telematics__positions"],
                ["silver", "telematics__vehicles"],
                ["silver", "telematics__routes"],
                ["silver", "telematics__regions"],
            ],
            partitions_def=landing_days,
            group_name="telematics",
            kinds={"delta", "spark"},
        )
        for name in FACT_TABLES
    ],
    backfill_policy=SINGLE_RUN,
    name="silver_telematics__facts",
)
@on_commit_conflict(retry=True)
def silver_facts(context: dg.AssetExecutionContext, lakehouse: LakehouseResource):
    """Per vehicle-day facts (km, broken km, drift, overspeed, fatigue, 02–05 running, off-route,
    out-of-region), violation events with evidence, and record counts — recomputed for exactly the
    gnss days touched by the landing days of this run (a 补传 file redoes only its own days)."""
    spark = lakehouse.spark()
    days = landed_days(spark, lakehouse.root, partition_dates(context))
    context.log.info(f"facts: {len(days)} gnss day(s) to recompute")
    result = publish_facts(
        spark, lakehouse.root, lakehouse.rules("telematics"), days, context.log.info
    )
    for name in FACT_TABLES:
        yield dg.MaterializeResult(
            asset_key=["silver", f"telematics__{name}"],
            metadata={"days": len(days), "rows": getattr(result, name, None)},
        )

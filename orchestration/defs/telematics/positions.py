"""Telematics positions: landing → bronze → (GX) → silver + quarantine, per landing day."""

import datetime as dt

import dagster as dg

from orchestration.defs.telematics.partitions import landing_days
from orchestration.environment import LakehouseResource
from transforms.feeds import POSITIONS
from transforms.jobs.landing import land_feed
from transforms.jobs.positions import publish_positions

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
def bronze_positions(
    context: dg.AssetExecutionContext, lakehouse: LakehouseResource
) -> dg.MaterializeResult:
    """Position files of the day's landing folder (.jsonl, .csv) as received, with lineage.

    A file already landed (same SM3 digest) is skipped; malformed lines go to quarantine; a file
    that cannot be read at all is recorded in ops.landing__rejected_files with the error.
    """
    result = land_feed(lakehouse.root, POSITIONS, partition_dates(context), context.log.info)
    return dg.MaterializeResult(
        metadata={
            "landed_files": result.landed_files,
            "skipped_files": result.skipped_files,
            "rejected_files": result.rejected_files,
            "records": result.records,
            "malformed_lines": result.malformed,
            "errors": dg.MetadataValue.md("\n".join(f"- {e}" for e in result.errors) or "none"),
        }
    )


@dg.multi_asset(
    specs=[
        dg.AssetSpec(
            ["silver", "telematics__positions"],
            deps=[bronze_positions],
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
def silver_positions(context: dg.AssetExecutionContext, lakehouse: LakehouseResource):
    """Validate the landed batch with GX, quarantine failing records, merge qualified ones into silver."""
    result = publish_positions(
        lakehouse.spark(),
        lakehouse.root,
        lakehouse.rules(),
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

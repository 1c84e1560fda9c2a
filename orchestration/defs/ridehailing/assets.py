"""Ride-hailing (网约车): landing → bronze (one table per interface) → silver records (once per
natural key, with what each record shows of the four dimensions) → the evaluation (static history,
cross-record truthfulness, timeliness with outages, defects, company periods, overview)."""

import datetime as dt

import dagster as dg

from orchestration.defs.landing import landing_metadata
from orchestration.defs.partitions import landing_days
from orchestration.defs.protection import record_manifest
from orchestration.defs.quality import data_docs_metadata
from orchestration.defs.writer import on_commit_conflict
from orchestration.environment import LakehouseResource
from transforms.lake.landing import LandingResult, land_feeds
from transforms.ridehailing.feeds import FEEDS
from transforms.ridehailing.interfaces import INTERFACES

INTERFACE_NAMES = [i.name for i in INTERFACES]

GROUP = "ridehailing"
SINGLE_RUN = dg.BackfillPolicy.single_run()


def _days(context: dg.AssetExecutionContext) -> list[dt.date]:
    return [dt.date.fromisoformat(k) for k in context.partition_keys]


def _key(table: str) -> list[str]:
    layer, entity = table.split(".", 1)
    return [layer, entity]


BRONZE = ["bronze", "ridehailing__interfaces"]


@dg.asset(
    key=BRONZE,
    group_name=GROUP,
    kinds={"delta", "python"},
    partitions_def=landing_days,
    backfill_policy=SINGLE_RUN,
)
@on_commit_conflict(retry=True)
def ridehailing_bronze(context: dg.AssetExecutionContext, lakehouse: LakehouseResource):
    """Land the day's folder of every interface (`ridehailing/<interface>/<day>/*.jsonl`) into its
    bronze table (`bronze.ridehailing__<interface>`, one asset for the 29: per-interface counts in
    the metadata): personal fields protected, lines that are not JSON to quarantine, every file
    in the manifest. A folder that is no interface is left untouched, with a warning."""
    from transforms.lake.landing import unknown_feed_folders

    for folder in unknown_feed_folders(lakehouse.root, GROUP, FEEDS):
        context.log.warning(
            f"landing/ridehailing/{folder}: not an interface of ridehailing.md — left untouched"
        )
    results = land_feeds(lakehouse.root, FEEDS, _days(context), context.log.info)
    record_manifest(context, lakehouse.root)
    totals = landing_metadata(
        LandingResult(
            feed="ridehailing/*",
            **{
                name: sum(getattr(r, name) for r in results)
                for name in ("landed_files", "skipped_files", "rejected_files", "records",
                             "malformed")
            },
            errors=[e for r in results for e in r.errors],
        )
    )  # fmt: skip
    by_interface = {
        feed.name: {"files": r.landed_files, "records": r.records, "malformed": r.malformed}
        for feed, r in zip(FEEDS, results, strict=True)
        if r.landed_files or r.rejected_files
    }
    return dg.MaterializeResult(metadata={**totals, "by_interface": by_interface})


@dg.multi_asset(
    specs=[
        dg.AssetSpec(
            ["silver", name],
            deps=[BRONZE],
            description=description,
            group_name=GROUP,
            kinds={"delta", "spark"},
        )
        for name, description in (
            ("ridehailing__records", "Dynamic records once per natural key (re-sends once)."),
            ("ridehailing__static_records", "Static records once per natural key."),
            ("ridehailing__outages", "Outage notices (停运报备)."),
        )
    ],
    check_specs=[
        dg.AssetCheckSpec(
            f"gx_ridehailing__{name}",
            asset=["silver", "ridehailing__records"],
            blocking=False,
            description=f"Great Expectations suite ridehailing__{name}: completeness, normativity "
            "and the record's own truthfulness rules of the batch's records (reported; a failing "
            "suite warns, the records are published and counted).",
        )
        for name in INTERFACE_NAMES
    ],
    name="ridehailing_records",
    partitions_def=landing_days,
    backfill_policy=SINGLE_RUN,
)
@on_commit_conflict(retry=True)
def ridehailing_records(context: dg.AssetExecutionContext, lakehouse: LakehouseResource):
    """Publish the day's pending files: one row per natural key, the latest copy's values, the
    first copy's reception (a 补传 landing later counts once); lines without their key to
    quarantine; each interface's GX suite reported (never holding a batch back: defects are what
    the evaluation measures)."""
    from transforms.ridehailing.jobs.publish import publish_records

    result = publish_records(
        lakehouse.spark(),
        lakehouse.root,
        lakehouse.rules("ridehailing"),
        _days(context),
        context.log.info,
    )
    by_suite = {r.suite: r for r in result.reports}
    for name in INTERFACE_NAMES:
        report = by_suite.get(f"ridehailing__{name}")
        yield dg.AssetCheckResult(
            check_name=f"gx_ridehailing__{name}",
            asset_key=["silver", "ridehailing__records"],
            passed=report.success if report else True,
            severity=dg.AssetCheckSeverity.WARN,
            metadata={
                "records": report.rows if report else 0,
                "unexpected_by_dimension": report.unexpected_by_rule() if report else {},
                **data_docs_metadata(lakehouse.root, report),
            },
        )
    yield dg.MaterializeResult(
        asset_key=["silver", "ridehailing__records"],
        metadata={
            "files": result.files,
            "lines": result.lines,
            "records_written": result.records,
            "quarantined_without_key": result.quarantined,
        },
    )
    yield dg.MaterializeResult(asset_key=["silver", "ridehailing__static_records"])
    yield dg.MaterializeResult(
        asset_key=["silver", "ridehailing__outages"], metadata={"notices": result.outages}
    )


@dg.multi_asset(
    specs=[
        dg.AssetSpec(
            _key(name),
            deps=[
                ["silver", "ridehailing__records"],
                ["silver", "ridehailing__static_records"],
                ["silver", "ridehailing__outages"],
                ["silver", "licences__licences"],
            ],
            description=description,
            group_name=GROUP,
            kinds={"delta", "spark"},
        )
        for name, description in (
            ("silver.ridehailing__static_versions", "SCD2 history of the static interfaces."),
            ("silver.ridehailing__evaluated", "Every record with its four dimensions."),
            ("silver.ridehailing__orders", "The order lifecycle, one row per order."),
            ("silver.ridehailing__defects", "One row per failed record and rule."),
            ("gold.ridehailing__company_periods", "Rates and score per company, month and year."),
            ("gold.ridehailing__overview", "The industry's monthly overview with MoM."),
        )
    ],
    name="ridehailing_evaluation",
)
@on_commit_conflict(retry=True)
def ridehailing_evaluation(context: dg.AssetExecutionContext, lakehouse: LakehouseResource):
    """数据质量考核: every company per month and per year, and the industry overview."""
    from transforms.lake.protection import ProtectionKeys
    from transforms.ridehailing.jobs.evaluate import evaluate

    result = evaluate(
        lakehouse.spark(),
        lakehouse.root,
        lakehouse.rules("ridehailing"),
        lakehouse.rules("licences"),
        ProtectionKeys.load().join,
        context.log.info,
    )
    meta = {"companies": result.companies, "periods": result.periods}
    for key in ("silver.ridehailing__static_versions", "silver.ridehailing__evaluated",
                "silver.ridehailing__orders",
                "silver.ridehailing__defects", "gold.ridehailing__company_periods",
                "gold.ridehailing__overview"):  # fmt: skip
        yield dg.MaterializeResult(asset_key=_key(key), metadata=meta)


ASSETS = [ridehailing_bronze, ridehailing_records, ridehailing_evaluation]

"""Network freight (网络货运): landing → bronze → envelopes opened → silver documents; national
positions; then 运行监测 (anomalies, statistics, alarms) as of the run.

Sender keys first (an envelope is checked against the keys registered when it is published),
the reference divisions before the monitoring (distances between counties)."""

import dagster as dg

from orchestration.defs.landing import landing_metadata
from orchestration.defs.protection import record_manifest
from orchestration.defs.quality import data_docs_metadata
from orchestration.defs.reference import silver_divisions
from orchestration.defs.writer import on_commit_conflict
from orchestration.environment import LakehouseResource
from transforms.freight.documents import KINDS
from transforms.freight.feeds import ENVELOPES, NATIONAL_POSITIONS, SENDERS
from transforms.freight.jobs.monitor import refresh
from transforms.freight.jobs.publish import publish_envelopes, publish_positions, publish_senders
from transforms.freight.jobs.upload import upload
from transforms.lake.landing import land_feed

GROUP = "freight"
DOCUMENT_TABLES = (
    "waybills", "waybill_vehicles", "waybill_drivers", "fund_flows", "fund_flow_waybills",
    "payments", "vehicles", "drivers",
)  # fmt: skip


def _land(context: dg.AssetExecutionContext, lakehouse: LakehouseResource, feed):
    result = land_feed(lakehouse.root, feed, None, context.log.info)
    record_manifest(context, lakehouse.root)
    return dg.MaterializeResult(metadata=landing_metadata(result))


@dg.asset(key=["bronze", "freight__senders"], group_name=GROUP, kinds={"delta", "python"})
@on_commit_conflict(retry=True)
def bronze_senders(context: dg.AssetExecutionContext, lakehouse: LakehouseResource):
    """Sender key files (`freight/senders`): enterpriseSenderCode, SM2 public key, validity."""
    return _land(context, lakehouse, SENDERS)


@dg.asset(
    key=["silver", "freight__senders"],
    deps=[bronze_senders],
    group_name=GROUP,
    kinds={"delta", "python"},
)
@on_commit_conflict(retry=True)
def silver_senders(context: dg.AssetExecutionContext, lakehouse: LakehouseResource):
    """Registered sender keys, one per (sender, valid_from); bad records to quarantine."""
    keys = publish_senders(lakehouse.root, context.log.info)
    return dg.MaterializeResult(metadata={"keys": keys})


@dg.asset(key=["bronze", "freight__envelopes"], group_name=GROUP, kinds={"delta", "python"})
@on_commit_conflict(retry=True)
def bronze_envelopes(context: dg.AssetExecutionContext, lakehouse: LakehouseResource):
    """Envelope files (`freight/envelopes`, `.json` one per file or `.jsonl`) as received: the
    body stays SM4-encrypted; a `.json` file that is not one JSON object is a rejected file."""
    return _land(context, lakehouse, ENVELOPES)


def _document_check(kind: str) -> dg.AssetCheckSpec:
    return dg.AssetCheckSpec(
        f"gx_freight__{kind}",
        asset=["silver", "freight__envelopes"],
        blocking=True,
        description=f"Great Expectations suite freight__{kind}: the field rules of every {kind} "
        "document that decrypted and parsed, before the batch is published.",
    )


@dg.multi_asset(
    specs=[
        dg.AssetSpec(
            ["silver", "freight__envelopes"],
            deps=[bronze_envelopes, ["silver", "freight__senders"]],
            description="Every envelope opened, with its result code (1001, 3001, 3005–3009).",
            group_name=GROUP,
            kinds={"delta", "python"},
        ),
        *[
            dg.AssetSpec(
                ["silver", f"freight__{name}"],
                deps=[bronze_envelopes, ["silver", "freight__senders"]],
                description=f"The {name.replace('_', ' ')} of the envelopes that opened.",
                group_name=GROUP,
                kinds={"delta", "python"},
            )
            for name in DOCUMENT_TABLES
        ],
    ],
    check_specs=[_document_check(kind) for kind in KINDS],
    name="silver_freight__envelopes",
)
@on_commit_conflict(retry=True)
def silver_envelopes(context: dg.AssetExecutionContext, lakehouse: LakehouseResource):
    """Open every pending envelope (signature → SM4 key → payload → JSON → field rules), decide
    1001 / 3001 by reception order, publish the documents of those that opened."""
    result = publish_envelopes(
        lakehouse.spark(), lakehouse.root, lakehouse.rules("freight"), context.log.info
    )
    by_suite = {r.suite: r for r in result.reports}
    for kind in KINDS:
        report = by_suite.get(f"freight__{kind}")
        yield dg.AssetCheckResult(
            check_name=f"gx_freight__{kind}",
            asset_key=["silver", "freight__envelopes"],
            passed=report.success if report else True,
            severity=dg.AssetCheckSeverity.ERROR,
            metadata={
                "documents": report.rows if report else 0,
                "unexpected_by_rule": report.unexpected_by_rule() if report else {},
                **data_docs_metadata(lakehouse.root, report),
            },
        )
    yield dg.MaterializeResult(
        asset_key=["silver", "freight__envelopes"],
        metadata={
            "files": result.files,
            "envelopes": result.envelopes,
            "by_result_code": {str(k): v for k, v in sorted(result.by_code.items())},
            "published": result.published,
        },
    )
    for name in DOCUMENT_TABLES:
        yield dg.MaterializeResult(
            asset_key=["silver", f"freight__{name}"],
            metadata={"rows_added": result.documents.get(name, 0)},
        )


@dg.asset(
    key=["bronze", "freight__national_positions"], group_name=GROUP, kinds={"delta", "python"}
)
@on_commit_conflict(retry=True)
def bronze_national_positions(context: dg.AssetExecutionContext, lakehouse: LakehouseResource):
    """National platform points (`freight/national_positions`) as received."""
    return _land(context, lakehouse, NATIONAL_POSITIONS)


@dg.asset(
    key=["silver", "freight__national_positions"],
    deps=[bronze_national_positions],
    group_name=GROUP,
    kinds={"delta", "python"},
)
@on_commit_conflict(retry=True)
def silver_national_positions(context: dg.AssetExecutionContext, lakehouse: LakehouseResource):
    """Typed points, one per (plate, colour, time); unreadable lines to quarantine."""
    rows = publish_positions(lakehouse.spark(), lakehouse.root, context.log.info)
    return dg.MaterializeResult(metadata={"rows_added": rows})


@dg.multi_asset(
    specs=[
        dg.AssetSpec(
            ["silver", "freight__anomalies"],
            deps=[
                ["silver", "freight__envelopes"],
                ["silver", "freight__national_positions"],
                silver_divisions,
                ["silver", "licences__licences"],
            ],
            description="The six anomaly types, one row per (document, type), with status.",
            group_name=GROUP,
            kinds={"delta", "spark"},
        ),
        dg.AssetSpec(
            ["gold", "freight__operator_stats"],
            deps=[["silver", "freight__anomalies"]],
            description="Statistics, score and rank per operator per month and per day.",
            group_name=GROUP,
            kinds={"delta", "spark"},
        ),
        dg.AssetSpec(
            ["gold", "freight__alarms"],
            deps=[["silver", "freight__anomalies"]],
            description="Operator-days over the anomaly-rate threshold (预警).",
            group_name=GROUP,
            kinds={"delta", "spark"},
        ),
    ],
    name="freight_monitoring",
)
@on_commit_conflict(retry=True)
def freight_monitoring(context: dg.AssetExecutionContext, lakehouse: LakehouseResource):
    """运行监测 as of now: anomalies (first detection kept), statistics and ranking, alarms."""
    counts = refresh(
        lakehouse.spark(),
        lakehouse.root,
        lakehouse.rules("freight"),
        lakehouse.rules("licences"),
        progress=context.log.info,
    )
    yield dg.MaterializeResult(
        asset_key=["silver", "freight__anomalies"], metadata={"rows": counts["anomalies"]}
    )
    yield dg.MaterializeResult(
        asset_key=["gold", "freight__operator_stats"],
        metadata={"rows": counts["operator_periods"]},
    )
    yield dg.MaterializeResult(
        asset_key=["gold", "freight__alarms"], metadata={"rows": counts["alarms"]}
    )


@dg.asset(
    key=["ops", "freight__uploads"],
    deps=[["silver", "freight__envelopes"]],
    group_name=GROUP,
    kinds={"delta", "python"},
)
@on_commit_conflict(retry=True)
def freight_upload(context: dg.AssetExecutionContext, lakehouse: LakehouseResource):
    """上传部级系统: accepted envelopes not uploaded yet, re-packed for the ministry system into
    the outbox. Skipped, with a warning, until the ministry's public key is configured."""
    from transforms.crypto.keys import MissingKeyError

    try:
        result = upload(lakehouse.root, lakehouse.rules("freight"), context.log.info)
    except MissingKeyError as exc:
        context.log.warning(f"freight upload skipped: {exc}")
        return dg.MaterializeResult(metadata={"skipped": str(exc)})
    return dg.MaterializeResult(
        metadata={"envelopes": result.envelopes, "files": dg.MetadataValue.json(result.files)}
    )


ASSETS = [
    bronze_senders,
    silver_senders,
    bronze_envelopes,
    silver_envelopes,
    bronze_national_positions,
    silver_national_positions,
    freight_monitoring,
    freight_upload,
]

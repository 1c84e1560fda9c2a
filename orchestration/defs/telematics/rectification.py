"""整改清单: rectification items after each assessment run, and their status for the dashboards."""

import datetime as dt

import dagster as dg

from orchestration.defs.writer import on_commit_conflict
from orchestration.environment import LakehouseResource
from transforms.telematics.jobs.rectification import issue_completed_months, publish_status


@dg.multi_asset(
    specs=[
        dg.AssetSpec(
            ["ops", "telematics__rectification_items"],
            deps=[["gold", "telematics__assessments"]],
            description="整改清单: an item for every subject that failed a completed month and every "
            "vehicle with a violation in it (never deleted), and their status events.",
            group_name="telematics",
            kinds={"delta", "python"},
        ),
        dg.AssetSpec(
            ["gold", "telematics__rectification_items"],
            deps=[["ops", "telematics__rectification_items"]],
            description="Every rectification item with its current status (latest event) and the "
            "day it becomes overdue; rewritten by every `lakehouse rectify` change as well.",
            group_name="telematics",
            kinds={"delta", "python"},
        ),
    ],
    name="rectification_items",
)
@on_commit_conflict(retry=False)  # issuing a bulletin is not idempotent (its job's docstring)
def rectification_items(context: dg.AssetExecutionContext, lakehouse: LakehouseResource):
    """整改清单 after each assessment run: an item for every subject that failed a completed month
    and every vehicle with a violation in it (never deleted; re-running adds nothing), due 10 working
    days after the bulletin; open items past due are recorded overdue. Reports and close-outs are
    recorded with `lakehouse rectify report|close`."""
    results = issue_completed_months(lakehouse.root, lakehouse.rules("telematics"), dt.date.today())
    for month, result in results.items():
        context.log.info(f"{month}: {result.created} new item(s), {result.already} already issued")
    yield dg.MaterializeResult(
        asset_key=["ops", "telematics__rectification_items"],
        metadata={
            "months": ", ".join(results) or "none",
            "new_items": sum(r.created for r in results.values()),
        },
    )
    items = publish_status(lakehouse.root)
    yield dg.MaterializeResult(
        asset_key=["gold", "telematics__rectification_items"], metadata={"items": items}
    )

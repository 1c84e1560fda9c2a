"""Pipeline runs the Dagster daemon starts (schedules, sensors, the UI's launches and backfills)
in the lake's audit log (transforms/lake/audit.py): one row when a run ends, whichever way.
`lakehouse run` records its own runs (orchestration/pipeline.py). Each also collects Superset's
events waiting in the lake's audit inbox."""

from __future__ import annotations

import dagster as dg

from orchestration.environment import LAKE_TAG, LakehouseResource
from transforms.lake import audit

OUTCOMES = {
    dg.DagsterRunStatus.SUCCESS: "ok",
    dg.DagsterRunStatus.FAILURE: "error",
    dg.DagsterRunStatus.CANCELED: "cancelled",
}


def _record(context: dg.RunStatusSensorContext, lakehouse: LakehouseResource) -> None:
    run = context.dagster_run
    tags = run.tags or {}
    lake = tags.get(LAKE_TAG) or str(lakehouse.root)
    span = " … ".join(
        tags[k] for k in ("dagster/asset_partition_range_start", "dagster/asset_partition_range_end")
        if k in tags
    ) or tags.get("dagster/partition", "")  # fmt: skip
    who = tags.get("dagster/user") or ("schedule" if "dagster/schedule_name" in tags else
                                       "sensor" if "dagster/sensor_name" in tags else "dagster")  # fmt: skip
    audit.record(
        lake, channel="pipeline", action=run.job_name, target=span, who=who,
        outcome=OUTCOMES.get(run.status, run.status.value.lower()),
        detail={"run_id": run.run_id, "launched_by": tags.get("dagster/schedule_name")
                or tags.get("dagster/sensor_name") or tags.get("dagster/backfill") or "ui"},
    )  # fmt: skip
    audit.collect_inbox(lake)  # Superset's events waiting in the lake's audit inbox


@dg.run_status_sensor(run_status=dg.DagsterRunStatus.SUCCESS, name="audit_run_success",
                      default_status=dg.DefaultSensorStatus.RUNNING)  # fmt: skip
def audit_run_success(context: dg.RunStatusSensorContext, lakehouse: LakehouseResource):
    """Every successful run of this code location in its lake's ops.audit_log."""
    _record(context, lakehouse)


@dg.run_failure_sensor(name="audit_run_failure", default_status=dg.DefaultSensorStatus.RUNNING)
def audit_run_failure(context: dg.RunFailureSensorContext, lakehouse: LakehouseResource):
    """Every failed run of this code location in its lake's ops.audit_log."""
    _record(context, lakehouse)


defs = dg.Definitions(sensors=[audit_run_success, audit_run_failure])

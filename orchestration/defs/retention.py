"""Retention with legal holds in Dagster, shared by every domain (transforms/lake/retention.py):
the ``retention`` job deletes what is past each table's period except what a current hold keeps,
vacuums, and records one event per table; the ``retention_nightly`` schedule runs it every night
after the pipeline (``pipeline.retention_cron`` of the rules file), when nothing else writes."""

import dagster as dg

from orchestration.defs.writer import on_commit_conflict
from orchestration.environment import LakehouseResource
from transforms.lake.retention import run_retention
from transforms.rules import load_rules

_PIPELINE = load_rules()["pipeline"]


class RetentionConfig(dg.Config):
    """A dry run reports what would be deleted and changes nothing."""

    dry_run: bool = False


@dg.op(
    description="保存期限: delete every row past its table's retention period (rules file) that no "
    "legal hold covers (Delta DELETE, then VACUUM); one ops.retention__deletions row per table."
)
@on_commit_conflict(retry=False)  # its DELETEs and event appends are retried inside
def retention_run(
    context: dg.OpExecutionContext, config: RetentionConfig, lakehouse: LakehouseResource
) -> dg.Output[dict]:
    """Retention as of today (GMT+8) with the run's rules; the counts are the op's metadata."""
    run = run_retention(
        lakehouse.root,
        lakehouse.rules(),
        dry_run=config.dry_run,
        by="dagster",
        progress=context.log.info,
    )
    data = run.to_dict()
    metadata: dict = {
        "as_of": str(run.as_of),
        "dry_run": run.dry_run,
        "holds": run.holds,
        "rows_deleted": data["rows_deleted"],
        "rows_held": data["rows_held"],
        "files_removed": sum(t.files_removed for t in run.tables),
    }
    for t in run.tables:
        if t.present:
            metadata[t.table] = f"{t.rows_deleted} deleted, {t.rows_held} held (< {t.cutoff})"
    return dg.Output(data, metadata=metadata)


@dg.job(
    name="retention",
    description="Delete what is past retention, except what a legal hold (封存) keeps.",
)
def retention_job() -> None:
    retention_run()


retention_schedule = dg.ScheduleDefinition(
    job=retention_job,
    cron_schedule=_PIPELINE["retention_cron"],
    execution_timezone=_PIPELINE["timezone"],
    name="retention_nightly",
    description="Every night after the pipeline and the assessment (pipeline.retention_cron).",
)

defs = dg.Definitions(jobs=[retention_job], schedules=[retention_schedule])

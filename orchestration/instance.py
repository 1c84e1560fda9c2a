"""The run queue of a lake's Dagster instance (infra/dagster/dagster.yaml names it).

:class:`LakeRunCoordinator` is Dagster's ``QueuedRunCoordinator`` that tags every run it queues
with its lake (``lakehouse/lake``: the resolved ``$LAKEHOUSE_LAKE``, the lake the code location's
resources write): runs of every job, schedule ticks, landing-sensor requests, backfills and runs
launched from the UI alike, whatever job they belong to. The instance's tag concurrency limit (one
run per value of ``lakehouse/lake``) then lets one run per lake out of the queue, the next starting
by itself when it ends; `lakehouse run` tags its in-process runs the same way, so the queue waits
for them too. Inside a run, the lake's writer lock (transforms/lake/lock.py) still guards against
every writer that is not a Dagster run (``rectify``, ``retention run``, another machine's run).
"""

from __future__ import annotations

from dagster._core.run_coordinator import QueuedRunCoordinator, SubmitRunContext
from dagster._core.storage.dagster_run import DagsterRun

from orchestration.environment import LAKE_TAG, lake_tags
from transforms.lake.session import lake_root


class LakeRunCoordinator(QueuedRunCoordinator):
    """QueuedRunCoordinator that adds the ``lakehouse/lake`` tag to every run it queues (a run
    that already has one, e.g. with another lake's resources, keeps it)."""

    def submit_run(self, context: SubmitRunContext) -> DagsterRun:
        run = context.dagster_run
        if LAKE_TAG not in run.tags:
            self._instance.add_run_tags(run.run_id, lake_tags(lake_root(None)))
            context = SubmitRunContext(
                self._instance.get_run_by_id(run.run_id) or run, context.workspace
            )
        return super().submit_run(context)

"""The executor of every Dagster run of the lake: in one process, holding the lake's writer lock
(transforms/lake/lock.py) from the first step to the last.

A run started by a schedule, the landing sensor, a backfill or the UI that finds the lake held
(by `lakehouse run`, ``rectify``, retention, a run on another machine) logs who holds it and
waits; the run queue (orchestration/instance.py) already keeps two runs of the lake from starting
together. `lakehouse run` takes the lock once at its top and executes its runs in its own process
(``dg.materialize``), so they never wait for it.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import dagster as dg
from dagster._core.definitions.executor_definition import (
    IN_PROC_CONFIG,
    _core_in_process_executor_creation,
)
from dagster._core.executor.in_process import InProcessExecutor

from transforms.lake.lock import Holder, writer_lock


class LakeLockedExecutor(InProcessExecutor):
    """Dagster's in-process executor, holding ``lake``'s writer lock while the plan executes."""

    def __init__(self, lake: Path, base: InProcessExecutor) -> None:
        super().__init__(base.retries, base.step_dependency_config, base.marker_to_close)
        self.lake = lake

    def execute(self, plan_context, execution_plan) -> Iterator[dg.DagsterEvent]:
        log = plan_context.log
        said: set[str] = set()

        def waiting(holder: Holder, _waited: float) -> None:
            if holder.token not in said:
                said.add(holder.token)
                log.info(f"lake {self.lake} is held by {holder.describe()}: waiting for it")

        def stale(holder: Holder, reason: str) -> None:
            log.warning(f"stale writer lock of {holder.describe()} removed: {reason}")

        command = f"dagster run {plan_context.run_id[:8]} ({plan_context.job_name})"
        with writer_lock(self.lake, command, on_wait=waiting, on_stale=stale):
            yield from super().execute(plan_context, execution_plan)


def lake_executor(lake: Path) -> dg.ExecutorDefinition:
    """The default executor of every job writing ``lake`` (named ``in_process``, same config)."""

    @dg.executor(name="in_process", config_schema=IN_PROC_CONFIG)
    def in_process_lake_locked(init_context) -> LakeLockedExecutor:
        """Execute all steps in a single process, holding the lake's writer lock."""
        base = _core_in_process_executor_creation(init_context.executor_config)
        return LakeLockedExecutor(lake, base)

    return in_process_lake_locked

"""The executor of every Dagster run of the lake: in one process, holding the lake's writer lock
(transforms/lake/lock.py) from the first step to the last.

A run started by a schedule, the landing sensor, a backfill or the UI that finds the lake held
(by `lakehouse run`, ``rectify``, retention, a run on another machine) logs who holds it and
waits; the run queue (orchestration/instance.py) already keeps two runs of the lake from starting
together. `lakehouse run` takes the lock once at its top and executes its runs in its own process
(``dg.materialize``), so they never wait for it.

A Delta commit conflict that still happens comes from a writer outside the lock:
:func:`on_commit_conflict` decides, per asset or op, whether its step is retried (idempotent: a
Dagster retry after 2, 4, 8 s, ``pipeline.conflict_retries``) or fails at once — either way with one
line naming the table, never only a stack trace (transforms/lake/conflicts.py).
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable, Iterator
from pathlib import Path

import dagster as dg
from dagster._core.definitions.executor_definition import (
    IN_PROC_CONFIG,
    _core_in_process_executor_creation,
)
from dagster._core.executor.in_process import InProcessExecutor

from transforms.lake.conflicts import (
    CommitConflict,
    as_commit_conflict,
    backoff,
    conflict_retries,
    is_commit_conflict,
    is_transient_engine_error,
)
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


def on_commit_conflict(*, retry: bool) -> Callable[[Callable], Callable]:
    """Decorator of an asset's or op's function (directly above it, below ``@dg.asset`` …): when
    its step fails on a Delta commit conflict, ``retry=True`` (the step is idempotent: run again,
    it ends in the same state) requests a Dagster retry after 2, 4, 8 … s, at most
    ``pipeline.conflict_retries`` times (the run's rules); after that, or at once with
    ``retry=False``, the step fails with :class:`CommitConflict`, one line naming the table."""

    def decorate(fn: Callable) -> Callable:
        def handle(context, kwargs: dict, exc: Exception) -> None:
            if retry and is_transient_engine_error(exc):
                lakehouse = kwargs.get("lakehouse")
                retries = conflict_retries(lakehouse.rules() if lakehouse is not None else None)
                attempt = context.retry_number + 1
                if attempt <= retries:
                    delay = backoff(attempt)
                    first = (str(exc).strip().splitlines() or [""])[0][:200]
                    context.log.warning(
                        f"↻ the engine lost an operation ({first}); this step again in {delay} s "
                        f"(retry {attempt}/{retries})"
                    )
                    raise dg.RetryRequested(max_retries=retries, seconds_to_wait=delay) from exc
                return
            if isinstance(exc, CommitConflict) or not is_commit_conflict(exc):
                return  # not a conflict, or one a retried unit inside already gave up on
            tables = ", ".join(".".join(k.path) for k in _asset_keys(context)) or context.op.name
            conflict = as_commit_conflict(exc, tables)
            lakehouse = kwargs.get("lakehouse")
            retries = conflict_retries(lakehouse.rules() if lakehouse is not None else None)
            attempt = context.retry_number + 1
            if not retry or attempt > retries:
                raise CommitConflict(conflict.table, retries if retry else 0) from exc
            delay = backoff(attempt)
            context.log.warning(
                f"↻ {conflict.table}: a concurrent commit by a writer outside the lake's lock; "
                f"this step again in {delay} s (retry {attempt}/{retries})"
            )
            raise dg.RetryRequested(max_retries=retries, seconds_to_wait=delay) from exc

        if inspect.isgeneratorfunction(fn):

            @functools.wraps(fn)
            def steps(context, *args, **kwargs):
                try:
                    yield from fn(context, *args, **kwargs)
                except Exception as exc:
                    handle(context, kwargs, exc)
                    raise

            return steps

        @functools.wraps(fn)
        def step(context, *args, **kwargs):
            try:
                return fn(context, *args, **kwargs)
            except Exception as exc:
                handle(context, kwargs, exc)
                raise

        return step

    return decorate


def _asset_keys(context) -> list[dg.AssetKey]:
    try:
        return sorted(context.selected_asset_keys, key=lambda k: k.path)
    except Exception:  # an op that is not an asset
        return []

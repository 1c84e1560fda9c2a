"""The lake's Dagster instance (infra/dagster/dagster.yaml, orchestration/instance.py): a schedule
tick that comes while `lakehouse run` is running is queued, tagged with its lake, not failed, and
starts by itself once the manual run has ended; a run of another lake is not held back."""

from __future__ import annotations

import datetime as dt
import logging
import sys
from pathlib import Path
from zoneinfo import ZoneInfo

import dagster as dg
import yaml
from dagster._core.events import DagsterEvent, DagsterEventType
from dagster._core.remote_origin import InProcessCodeLocationOrigin
from dagster._core.storage.dagster_run import DagsterRunStatus, RunsFilter
from dagster._core.test_utils import (
    InProcessTestWorkspaceLoadTarget,
    create_run_for_test,
    freeze_time,
)
from dagster._core.types.loadable_target_origin import LoadableTargetOrigin
from dagster._core.workspace.context import WorkspaceProcessContext
from dagster._daemon.run_coordinator.queued_run_coordinator_daemon import (
    QueuedRunCoordinatorDaemon,
)
from dagster._scheduler.scheduler import launch_scheduled_runs

from orchestration.environment import DAGSTER_TEMPLATE, LAKE_TAG, lake_tags

REPO = Path(__file__).resolve().parents[2]
BEIJING = ZoneInfo("Asia/Shanghai")


def finish(instance: dg.DagsterInstance, run_id: str) -> None:
    instance.handle_new_event(
        dg.EventLogEntry(
            error_info=None,
            level=logging.INFO,
            user_message="",
            run_id=run_id,
            timestamp=dt.datetime.now().timestamp(),
            dagster_event=DagsterEvent(DagsterEventType.RUN_SUCCESS.value, job_name="x"),
        )
    )


def test_a_schedule_tick_during_a_manual_run_is_queued_not_failed(tmp_path, monkeypatch):
    lake = tmp_path / "lake"
    lake.mkdir()
    monkeypatch.setenv("LAKEHOUSE_LAKE", str(lake))
    instance_config = yaml.safe_load(DAGSTER_TEMPLATE.read_text())
    overrides = {
        "run_coordinator": instance_config["run_coordinator"],  # the project's run queue
        "run_launcher": {"module": "dagster._core.test_utils", "class": "MockedRunLauncher"},
    }
    origin = InProcessCodeLocationOrigin(
        LoadableTargetOrigin(
            executable_path=sys.executable,
            module_name="orchestration.definitions",
            working_directory=str(REPO),
        )
    )
    with (
        dg.instance_for_test(overrides=overrides) as instance,
        WorkspaceProcessContext(instance, InProcessTestWorkspaceLoadTarget(origin)) as workspace,
    ):
        # `lakehouse run` is running: its in-process run, tagged as pipeline.py tags it
        manual = create_run_for_test(
            instance, job_name="__ASSET_JOB", status=DagsterRunStatus.STARTED, tags=lake_tags(lake)
        )
        # another lake's run on the same instance does not count against this lake
        other = create_run_for_test(
            instance,
            job_name="__ASSET_JOB",
            status=DagsterRunStatus.STARTED,
            tags=lake_tags(tmp_path / "other"),
        )
        location = next(iter(workspace.create_request_context().get_code_location_entries()))
        repo = (
            workspace.create_request_context()
            .get_code_location(location)
            .get_repository("__repository__")
        )
        schedule = repo.get_schedule("telematics_daily")  # daily at 00:30 GMT+8
        with freeze_time(dt.datetime(2026, 11, 3, 0, 20, tzinfo=BEIJING)):
            instance.start_schedule(schedule)
        tick_time = dt.datetime(2026, 11, 3, 0, 31, tzinfo=BEIJING)
        with freeze_time(tick_time):
            list(
                launch_scheduled_runs(
                    workspace,
                    logging.getLogger("scheduler"),
                    end_datetime_utc=tick_time.astimezone(dt.UTC),
                    iteration_times={},
                )
            )
        (ticked,) = instance.get_runs(RunsFilter(job_name="telematics_positions_daily"))
        assert ticked.status == DagsterRunStatus.QUEUED
        assert ticked.tags["dagster/partition"].startswith("2026-11-0")  # a daily partition
        assert ticked.tags[LAKE_TAG] == str(lake.resolve())  # tagged by the run queue

        daemon = QueuedRunCoordinatorDaemon(interval_seconds=1)
        list(daemon.run_iteration(workspace))
        ticked = instance.get_run_by_id(ticked.run_id)
        assert ticked.status == DagsterRunStatus.QUEUED  # waits for the manual run

        finish(instance, manual.run_id)
        assert instance.get_run_by_id(manual.run_id).status == DagsterRunStatus.SUCCESS
        list(daemon.run_iteration(workspace))
        ticked = instance.get_run_by_id(ticked.run_id)
        assert ticked.status == DagsterRunStatus.STARTING  # left the queue by itself
        assert ticked.run_id in instance.run_launcher._launched_run_ids
        assert instance.get_run_by_id(other.run_id).status == DagsterRunStatus.STARTED

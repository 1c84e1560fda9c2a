"""Every Dagster run of the lake holds its writer lock (orchestration/defs/writer.py): a run that
finds the lake held logs who holds it and waits — no step starts — then runs holding the lock."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import dagster as dg

from orchestration.defs.writer import lake_executor
from transforms.lake.lock import lock_path, read_holder

REPO = Path(__file__).resolve().parents[3]
HOLDER = (
    "import sys; from pathlib import Path; from transforms.lake.lock import acquire; "
    "acquire(Path(sys.argv[1]), 'test holder'); print('held', flush=True); sys.stdin.read()"
)


def lake_job() -> dg.JobDefinition:
    """A job of the lake $WRITER_TEST_LAKE with the lake's executor, recording who holds the lake
    while its step runs."""
    lake = Path(os.environ["WRITER_TEST_LAKE"])

    @dg.op
    def who_holds() -> None:
        (lake / "seen").write_text(read_holder(lake).command)

    @dg.job(executor_def=lake_executor(lake))
    def write_lake() -> None:
        who_holds()

    return write_lake


def wait_for(condition, seconds: float = 60.0):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if value := condition():
            return value
        time.sleep(0.05)
    raise AssertionError(f"not true within {seconds} s")


def test_a_run_waits_for_the_holder_then_runs_holding_the_lock(tmp_path, monkeypatch):
    lake = tmp_path / "lake"
    lake.mkdir()
    monkeypatch.setenv("WRITER_TEST_LAKE", str(lake))
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLDER, str(lake)],
        cwd=REPO,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout.readline().strip() == "held"
        with dg.instance_for_test() as instance:
            results = []
            runner = threading.Thread(
                target=lambda: results.append(
                    dg.execute_job(dg.reconstructable(lake_job), instance=instance)
                )
            )
            runner.start()

            def waiting_logged():
                logs = [
                    r.user_message
                    for run in instance.get_runs()
                    for r in instance.all_logs(run.run_id)
                ]
                return [m for m in logs if "is held by `test holder`" in m]

            (message,) = wait_for(waiting_logged)
            assert f"pid {holder.pid}" in message
            assert not (lake / "seen").exists()  # no step started
            holder.stdin.close()
            runner.join(timeout=120)
            assert results and results[0].success
        seen = (lake / "seen").read_text()
        assert seen.startswith("dagster run ") and seen.endswith("(write_lake)")
        assert not lock_path(lake).exists()
    finally:
        holder.kill()

"""The lake's writer lock (transforms/lake/lock.py): one holder, re-entrant for it, who holds it,
waiting, heartbeat, and stale holders — a SIGKILLed process on this host, a silent other host."""

from __future__ import annotations

import datetime as dt
import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from transforms.lake.conflicts import is_commit_conflict
from transforms.lake.lock import (
    LakeBusy,
    acquire,
    held,
    lock_path,
    read_holder,
    release,
    writer_lock,
)

REPO = Path(__file__).resolve().parents[3]
# a process that takes the lock, says so, and holds it until its stdin closes
HOLDER = (
    "import sys; from pathlib import Path; from transforms.lake.lock import acquire; "
    "acquire(Path(sys.argv[1]), 'test holder', heartbeat_s=0.2, stale_after_s=60); "
    "print('held', flush=True); sys.stdin.read()"
)


def start_holder(lake: Path) -> subprocess.Popen:
    proc = subprocess.Popen(
        [sys.executable, "-c", HOLDER, str(lake)],
        cwd=REPO,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout.readline().strip() == "held"  # blocks until the lock is taken
    return proc


def wait_for(condition, seconds: float = 30.0):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError(f"not true within {seconds} s")


def test_lock_file_says_who_holds_the_lake_and_goes_on_release(tmp_path):
    with writer_lock(tmp_path, "lakehouse run", heartbeat_s=60, stale_after_s=120) as lock:
        data = json.loads(lock_path(tmp_path).read_text())
        assert {"command", "pid", "host", "started_at", "heartbeat_at"} <= set(data)
        assert (data["command"], data["pid"], data["host"]) == (
            "lakehouse run",
            os.getpid(),
            socket.gethostname(),
        )
        assert lock_path(tmp_path) == tmp_path / "ops" / ".writer.lock"
        assert held(tmp_path) is lock
    assert not lock_path(tmp_path).exists()
    assert held(tmp_path) is None


def test_reentrant_for_the_holding_process(tmp_path):
    outer = acquire(tmp_path, "lakehouse run", heartbeat_s=60, stale_after_s=120)
    inner = acquire(tmp_path, "dagster run", wait=False)  # would raise if not re-entrant
    assert inner is outer and read_holder(tmp_path).command == "lakehouse run"
    release(inner)
    assert lock_path(tmp_path).exists()  # still held by the outer block
    release(outer)
    assert not lock_path(tmp_path).exists()


def test_another_process_waits_or_refuses_and_is_told_who_holds(tmp_path):
    proc = start_holder(tmp_path)
    try:
        with pytest.raises(LakeBusy) as busy:
            acquire(tmp_path, "lakehouse run", wait=False, stale_after_s=60, heartbeat_s=1)
        assert busy.value.holder.pid == proc.pid
        assert f"pid {proc.pid} on {socket.gethostname()}" in str(busy.value)
        with pytest.raises(LakeBusy):
            acquire(tmp_path, "x", timeout=0.3, poll_s=0.05, stale_after_s=60, heartbeat_s=1)

        seen = []

        def on_wait(holder, waited):
            seen.append(holder.pid)
            if len(seen) == 3:
                proc.stdin.close()  # the holder exits: its lock is released at exit

        with writer_lock(tmp_path, "second", on_wait=on_wait, poll_s=0.05, stale_after_s=60,
                         heartbeat_s=1):  # fmt: skip
            assert read_holder(tmp_path).pid == os.getpid()
        assert seen[:3] == [proc.pid] * 3
        assert proc.wait(timeout=30) == 0
    finally:
        proc.kill()


def test_heartbeat_is_rewritten_while_held(tmp_path):
    with writer_lock(tmp_path, "beating", heartbeat_s=0.05, stale_after_s=120):
        first = read_holder(tmp_path).heartbeat_at
        later = wait_for(lambda: read_holder(tmp_path).heartbeat_at != first)
        assert later
        assert read_holder(tmp_path).started_at <= read_holder(tmp_path).heartbeat_at


def test_a_sigkilled_holder_is_stale_and_the_next_writer_proceeds(tmp_path):
    proc = start_holder(tmp_path)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(timeout=30)
    assert read_holder(tmp_path).pid == proc.pid  # the killed process left its lock behind
    broken = []
    with writer_lock(tmp_path, "next", wait=False, stale_after_s=3600, heartbeat_s=60,
                     on_stale=lambda h, why: broken.append((h.pid, why))):  # fmt: skip
        assert read_holder(tmp_path).command == "next"
    assert broken == [(proc.pid, f"process {proc.pid} on {socket.gethostname()} is gone")]


def write_foreign_lock(lake: Path, heartbeat: dt.datetime) -> None:
    lock_path(lake).parent.mkdir(parents=True, exist_ok=True)
    lock_path(lake).write_text(
        json.dumps(
            {
                "command": "lakehouse run",
                "pid": 1,
                "host": "another-machine",
                "started_at": (heartbeat - dt.timedelta(minutes=5)).isoformat(),
                "heartbeat_at": heartbeat.isoformat(),
                "token": "foreign",
            }
        )
    )


def test_another_hosts_holder_is_stale_only_when_its_heartbeat_is_old(tmp_path):
    from transforms.lake.clock import now_beijing

    write_foreign_lock(tmp_path, now_beijing())  # alive elsewhere: its pid means nothing here
    with pytest.raises(LakeBusy, match="another-machine"):
        acquire(tmp_path, "x", wait=False, stale_after_s=120, heartbeat_s=1)
    write_foreign_lock(tmp_path, now_beijing() - dt.timedelta(seconds=121))
    broken = []
    with writer_lock(tmp_path, "x", wait=False, stale_after_s=120, heartbeat_s=60,
                     on_stale=lambda h, why: broken.append(why)):  # fmt: skip
        assert read_holder(tmp_path).host == socket.gethostname()
    assert len(broken) == 1 and broken[0].startswith("no heartbeat for 12")


def test_settings_come_from_the_rules_file(tmp_path):
    from transforms.rules import load_rules

    pipeline = load_rules()["pipeline"]
    assert pipeline["lock_stale_after_s"] > pipeline["lock_heartbeat_s"] > 0
    with writer_lock(tmp_path, "defaults", wait=False):  # no explicit settings
        assert read_holder(tmp_path).command == "defaults"


def test_commit_conflicts_are_recognised():
    class Serialised:  # the shape of a Dagster step failure's error
        def __init__(self, message, cls_name, cause=None):
            self.message, self.cls_name, self.cause, self.context = message, cls_name, cause, None

    sail = "Failed to commit transaction: a concurrent transactions added new data"
    assert is_commit_conflict(sail)
    assert is_commit_conflict(Serialised("boom", "Failure", Serialised(sail, "SparkException")))
    assert is_commit_conflict(Serialised("x", "CommitFailedError"))
    assert not is_commit_conflict(Serialised("division by zero", "ZeroDivisionError"))
    assert not is_commit_conflict(ValueError("bad date"))

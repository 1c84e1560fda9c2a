"""One writer per lake through the real `lakehouse` command (orchestration/cli/locking.py):
two runs started together end in exactly a single clean run's tables, with no traceback; a run
killed with SIGKILL leaves a stale lock that the next run detects and proceeds past; a held lake
is refused with exit 3 (--no-wait) or waited for, naming its holder."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

from transforms.lake.lock import lock_path, read_holder

REPO = Path(__file__).resolve().parents[3]
HOLDER = (
    "import sys; from pathlib import Path; from transforms.lake.lock import acquire; "
    "acquire(Path(sys.argv[1]), 'test holder'); print('held', flush=True); sys.stdin.read()"
)


def env() -> dict[str, str]:
    """The environment of a `lakehouse` process: the venv's dbt on PATH, the lake's own Dagster
    home, the session's keys (LAKEHOUSE_KEYS, inherited)."""
    e = {k: v for k, v in os.environ.items() if k != "DAGSTER_HOME"}
    e["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{e.get('PATH', '')}"
    return e


def lakehouse(*args: str, **kwargs) -> subprocess.Popen:
    """A `lakehouse` process whose output goes to a file, not a pipe: a pipe nobody reads while
    the test waits for the other process fills up (64 KB) and blocks its writer — two runs of a
    four-domain pipeline print more than that."""
    out = tempfile.TemporaryFile(mode="w+", encoding="utf-8")
    proc = subprocess.Popen(
        [sys.executable, "-m", "orchestration.cli", *args],
        cwd=REPO,
        env=env(),
        stdout=out,
        stderr=subprocess.STDOUT,
        text=True,
        **kwargs,
    )
    proc.output_file = out  # type: ignore[attr-defined]
    return proc


def output_so_far(proc: subprocess.Popen) -> str:
    """What a running `lakehouse` process has printed (read without moving the file offset it
    shares with the process)."""
    out = proc.output_file  # type: ignore[attr-defined]
    return os.pread(out.fileno(), 1 << 20, 0).decode("utf-8", "replace")


def finish(proc: subprocess.Popen, timeout: float = 900) -> tuple[int, str]:
    proc.wait(timeout=timeout)
    out = proc.output_file  # type: ignore[attr-defined]
    out.seek(0)
    text = out.read()
    out.close()
    return proc.returncode, text


def wait_for(condition, seconds: float = 120.0):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError(f"not true within {seconds} s")


def start_holder(lake: Path) -> subprocess.Popen:
    proc = subprocess.Popen(
        [sys.executable, "-c", HOLDER, str(lake)],
        cwd=REPO,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout.readline().strip() == "held"
    return proc


def snapshot(lake: Path) -> dict[str, list]:
    """Every Delta table of the lake as a sorted list of rows, personal fields decrypted (each
    encryption draws a fresh IV), processing times left out (`*_at` timestamps, and the GMT+8 day
    a file landed, `landed_on`: two runs either side of Beijing midnight land on two days); the
    manifest by what it records (its paths name data files by UUID, its digests cover commit
    times); the audit log not at all (it records every command and run, refused and waiting ones
    included); the validations kept by what they validated (once each), not by the run that made
    them."""
    import pyarrow as pa
    from deltalake import DeltaTable

    from transforms.lake.protection import ProtectionKeys, reveal_table
    from transforms.lake.registry import discover

    keys = ProtectionKeys.load()
    out = {}
    for name in discover(lake):
        if name == "ops.audit_log":
            continue
        layer, table = name.split(".")
        data = reveal_table(DeltaTable(str(lake / layer / table)).to_pyarrow_table(), keys)
        keep = [
            c
            for c in data.column_names
            if not (pa.types.is_timestamp(data.schema.field(c).type) and c.endswith("_at"))
            and c != "landed_on"
        ]
        if name == "ops.manifest":
            keep = ["kind", "table_name", "version"]
        if name == "ops.validation_results":
            # what was validated, not which run did (nor its page): a validation is kept by the
            # run that made it, a killed run's included — it happened
            keep = [c for c in keep if c not in ("run_id", "data_docs_page")]
            out[name] = sorted(set(map(repr, data.select(keep).to_pylist())))
            continue
        out[name] = sorted(map(repr, data.select(keep).to_pylist()))
    return out


@pytest.fixture(scope="module")
def clean_run(fixture_pipeline_lake) -> dict[str, list]:
    """The fixture lake after one `lakehouse run` on its own: the session's shared clean run
    (tests/conftest.py), only read here."""
    return snapshot(fixture_pipeline_lake)


@pytest.mark.slow
def test_two_runs_started_together_end_in_one_clean_runs_state(fixture_lake, clean_run):
    first = lakehouse("run", "--lake", str(fixture_lake))
    second = lakehouse("run", "--lake", str(fixture_lake))
    (code1, out1), (code2, out2) = finish(first), finish(second)
    assert (code1, code2) == (0, 0), out1 + out2
    both = out1 + out2
    assert "Traceback" not in both and "CommitFailedError" not in both
    # exactly one of them waited, naming the other
    waited = [(o, p) for o, p in ((out1, second), (out2, first)) if "is held by" in o]
    assert len(waited) == 1, both
    output, holder = waited[0]
    assert f"`lakehouse run` (pid {holder.pid} on {socket.gethostname()}, since " in output
    assert "waiting …" in output and "is free after" in output
    assert not lock_path(fixture_lake).exists()
    assert snapshot(fixture_lake) == clean_run
    # both are in the audit log, the one that waited included
    from deltalake import DeltaTable

    audit = DeltaTable(str(fixture_lake / "ops" / "audit_log")).to_pyarrow_table().to_pylist()
    assert [r["outcome"] for r in audit if r["action"] == "lakehouse run"] == ["ok", "ok"]


@pytest.mark.slow
def test_a_sigkilled_run_is_stale_and_the_next_run_proceeds(fixture_lake, clean_run):
    killed = lakehouse("run", "--lake", str(fixture_lake))
    holder = wait_for(lambda: read_holder(fixture_lake))
    assert (holder.command, holder.pid) == ("lakehouse run", killed.pid)
    # let it write something first: a landing half done is what a crash leaves behind
    wait_for(lambda: (fixture_lake / "ops" / "landing__files").is_dir(), 300)
    os.kill(killed.pid, signal.SIGKILL)
    killed.communicate(timeout=60)
    assert read_holder(fixture_lake).pid == killed.pid  # its lock stays behind

    code, output = finish(lakehouse("run", "--lake", str(fixture_lake), "--no-wait"))
    assert code == 0, output
    assert f"stale writer lock of `lakehouse run` (pid {killed.pid}" in output
    assert f"process {killed.pid} on {socket.gethostname()} is gone" in output
    assert "Traceback" not in output
    assert snapshot(fixture_lake) == clean_run


def test_a_held_lake_is_refused_with_exit_3_or_waited_for(tmp_path):
    lake = tmp_path / "lake"
    lake.mkdir()
    holder = start_holder(lake)
    try:
        refused = lakehouse("run", "--lake", str(lake), "--no-wait")
        code, output = finish(refused, 120)
        assert code == 3, output
        assert f"is held by `test holder` (pid {holder.pid} on {socket.gethostname()}" in output
        assert "Traceback" not in output

        code, output = finish(lakehouse("manifest", "record", "--lake", str(lake), "--no-wait"))
        assert code == 3 and "`test holder`" in output, output

        waiting = lakehouse("manifest", "record", "--lake", str(lake))
        # it says who holds the lake, then waits; released, it goes on
        said = wait_for(lambda: "is held by" in output_so_far(waiting) and output_so_far(waiting))
        assert f"is held by `test holder` (pid {holder.pid}" in said
        assert waiting.poll() is None
        holder.stdin.close()
        code, output = finish(waiting, 300)
        assert code == 0, output
        assert "is free after" in output and "manifest of" in output
        assert not lock_path(lake).exists()
    finally:
        holder.kill()

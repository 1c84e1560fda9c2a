"""Delta commit conflicts with a writer outside the lake's lock (transforms/lake/conflicts.py),
forced for real: another process commits to the table after a writer has read it and before its
own commit, so delta-rs's conflict check rejects that commit. An idempotent unit is retried after
2 s and ends in the right state (`lakehouse retention run`, a Dagster step); one that is not
(`lakehouse rectify issue`, a step declared so) ends with one line naming the table — status 1 on
the command line — and no traceback."""

import datetime as dt
import subprocess
import sys
from pathlib import Path

import dagster as dg
import pyarrow as pa
import pytest
from click.testing import CliRunner
from deltalake import DeltaTable, write_deltalake

from orchestration.cli import main
from orchestration.defs.writer import on_commit_conflict
from orchestration.environment import LakehouseResource
from orchestration.pipeline import conflict_line
from transforms.lake import registry, retention
from transforms.lake.clock import TS
from transforms.lake.conflicts import conflict_retries
from transforms.lake.lock import lock_path
from transforms.telematics.jobs import rectification

REPO = Path(__file__).resolve().parents[2]
RETRIES = conflict_retries()
# what the one line says after the table's name
LOST = "with a writer outside the lake's lock: that commit was not made; run again when the other writer has finished"  # noqa: E501
# a writer that does not take the lake's lock: delta-rs in another process
OUTSIDE = (
    "import sys, datetime as dt, pyarrow as pa\n"
    "from deltalake import DeltaTable, write_deltalake\n"
    "path = sys.argv[1]\n"
)


def outside_commit(table_dir: Path, code: str) -> int:
    """Another process commits ``code`` to the Delta table at ``table_dir``; returns the version
    it committed, once it is in the table's log."""
    before = DeltaTable(str(table_dir)).version()
    done = subprocess.run(
        [sys.executable, "-c", OUTSIDE + code, str(table_dir)],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    after = DeltaTable(str(table_dir)).version()
    assert after == before + 1
    return after


def cli(*args) -> object:
    return CliRunner().invoke(main, [str(a) for a in args])


# ------------------------------------------------------------------ idempotent: retention's DELETE

TODAY = dt.date(2026, 8, 15)  # positions are kept 186 days: the cutoff is 2026-02-10
POSITIONS = registry.table("silver.telematics__positions")
POSITION_SCHEMA = pa.schema([("plate", pa.string()), ("plate_color", pa.int32()),
                             ("gnss_time", TS), ("day", pa.date32())])  # fmt: skip
# a late upload (补传) of a position older than the cutoff, appended from outside
APPEND_OLD_POSITION = (
    "schema = pa.schema([('plate', pa.string()), ('plate_color', pa.int32()),"
    " ('gnss_time', pa.timestamp('us', tz='UTC')), ('day', pa.date32())])\n"
    "row = {'plate': '闽A00003', 'plate_color': 2, 'day': dt.date(2026, 1, 5),"
    " 'gnss_time': dt.datetime(2026, 1, 5, 8)}\n"
    "write_deltalake(path, pa.Table.from_pylist([row], schema), mode='append',"
    " partition_by=['day'])\n"
)


@pytest.fixture
def positions_lake(tmp_path, monkeypatch) -> Path:
    monkeypatch.setattr(retention, "now_beijing", lambda: dt.datetime.combine(TODAY, dt.time(3)))
    lake = tmp_path / "lake"
    rows = [("闽A00001", "2026-01-11"), ("闽A00002", "2026-01-11"), ("闽A00002", "2026-02-10")]
    table = pa.Table.from_pylist(
        [{"plate": p, "plate_color": 2, "day": dt.date.fromisoformat(d),
          "gnss_time": dt.datetime.fromisoformat(f"{d} 08:00:00")} for p, d in rows],
        POSITION_SCHEMA,
    )  # fmt: skip
    write_deltalake(str(POSITIONS.location(lake)), table, partition_by=["day"])
    return lake


def test_a_retention_delete_that_loses_to_an_outside_commit_is_retried(positions_lake, monkeypatch):
    lake = positions_lake
    table_dir = POSITIONS.location(lake)
    count = retention._count
    outside: list[int] = []

    def racing(delta, where, held):
        # retention has read the table; before its DELETE commits, another process appends an
        # old position to it (the first time only)
        if not outside:
            outside.append(outside_commit(table_dir, APPEND_OLD_POSITION))
        return count(delta, where, held)

    monkeypatch.setattr(retention, "_count", racing)
    result = cli("retention", "run", "--lake", lake)

    assert result.exit_code == 0, result.output
    assert "Traceback" not in result.output
    assert (
        "↻ silver.telematics__positions: a concurrent commit by a writer outside the lake's "
        f"lock; again in 2 s (retry 1/{RETRIES})"
    ) in result.output
    # the DELETE that lost wrote nothing; the one retried was planned on the outside writer's
    # version, so the old position it appended is gone too, and the event counts it
    history = {c["version"]: c["operation"] for c in DeltaTable(str(table_dir)).history()}
    assert history[outside[0] + 1] == "DELETE"
    assert "DELETE" not in [history[v] for v in history if v <= outside[0]]
    rows = DeltaTable(str(table_dir)).to_pyarrow_table().to_pylist()
    assert sorted((r["plate"], str(r["day"])) for r in rows) == [("闽A00002", "2026-02-10")]
    events = [e for e in retention.deletions(lake) if e["table_name"] == POSITIONS.name]
    assert [(e["rows_deleted"], e["rows_held"]) for e in events] == [(3, 0)]
    assert "3 row(s) deleted, 0 kept by holds" in result.output
    assert not lock_path(lake).exists()


# --------------------------------------------------- not idempotent: issuing a bulletin's items

ASSESSMENT_SCHEMA = pa.schema([
    ("period_type", pa.string()), ("period", pa.string()), ("level", pa.string()),
    ("subject_id", pa.string()), ("subject_name", pa.string()), ("passed", pa.bool_()),
    ("score", pa.float64()),
])  # fmt: skip
# someone's script deletes a stray item of an earlier month, without the lake's lock
DELETE_STRAY_ITEM = "DeltaTable(path).delete(\"period = '2026-01'\")\n"


@pytest.fixture
def assessed_lake(tmp_path) -> Path:
    """A lake with the July assessment (one enterprise failed) and one stray item of January."""
    lake = tmp_path / "lake"
    failed = {"period_type": "month", "period": "2026-07", "level": "enterprise",
              "subject_id": "91350100MA00000001", "subject_name": "闽运一号", "passed": False,
              "score": 55.0}  # fmt: skip
    write_deltalake(
        str(registry.table("gold.telematics__assessments").location(lake)),
        pa.Table.from_pylist([failed], ASSESSMENT_SCHEMA),
    )
    stray = {"item_id": "0" * 16, "period": "2026-01", "kind": "subject", "level": "enterprise",
             "subject_id": "X", "subject_name": "X", "problem": "test", "evidence": "{}",
             "issued_on": dt.date(2026, 2, 3), "report_due": dt.date(2026, 2, 17),
             "rectify_until": dt.date(2026, 2, 17), "created_at": dt.datetime(2026, 2, 3, 9)}  # fmt: skip
    write_deltalake(
        str(rectification.ITEMS.location(lake)),
        pa.Table.from_pylist([stray], rectification.ITEM_SCHEMA),
    )
    return lake


def test_issuing_items_that_lose_to_an_outside_commit_ends_in_one_line(assessed_lake, monkeypatch):
    lake = assessed_lake
    items_dir = rectification.ITEMS.location(lake)
    write = rectification.write_deltalake
    outside: list[int] = []

    def racing(target, data, **kwargs):
        # the append of the new items reads the table, then another process deletes from it,
        # then the append commits (the first time only)
        if Path(str(target)) == items_dir and not outside:
            read = DeltaTable(str(target))
            outside.append(outside_commit(items_dir, DELETE_STRAY_ITEM))
            return write(read, data, **kwargs)
        return write(target, data, **kwargs)

    monkeypatch.setattr(rectification, "write_deltalake", racing)
    args = ("rectify", "issue", "--lake", lake, "--period", "2026-07",
            "--bulletin-date", "2026-08-03")  # fmt: skip
    result = cli(*args)

    assert outside, "the outside commit did not happen"
    assert result.exit_code == 1, result.output
    assert isinstance(result.exception, SystemExit)  # click's error exit, nothing uncaught
    assert result.output.splitlines() == [
        f"Error: Delta commit conflict on ops.telematics__rectification_items {LOST}"
    ]
    # not retried: nothing of the bulletin was written, the outside writer's delete stands
    items = DeltaTable(str(items_dir)).to_pyarrow_table().to_pylist()
    assert items == []
    assert not rectification.EVENTS.exists(lake)
    assert not lock_path(lake).exists()

    # as the line says: run again once the other writer has finished
    again = cli(*args)
    assert again.exit_code == 0, again.output
    assert "2026-07: 1 new item(s), 0 already issued" in again.output
    items = DeltaTable(str(items_dir)).to_pyarrow_table().to_pylist()
    assert [(i["period"], i["subject_id"]) for i in items] == [("2026-07", "91350100MA00000001")]


# ---------------------------------------------------------------- Dagster: a step and its retries

DELETE_FIRST_ROW = "DeltaTable(path).delete('n = 1')\n"


def probe(retry: bool) -> dg.AssetsDefinition:
    """An asset that appends to ops.conflict_probe what it read + 1; on its first attempt another
    process deletes from the table between its read and its commit."""

    @dg.asset(key=["ops", "conflict_probe"])
    @on_commit_conflict(retry=retry)
    def conflict_probe(context: dg.AssetExecutionContext, lakehouse: LakehouseResource):
        path = lakehouse.root / "ops" / "conflict_probe"
        read = DeltaTable(str(path))
        n = max(r["n"] for r in read.to_pyarrow_table().to_pylist())
        if context.retry_number == 0:
            outside_commit(path, DELETE_FIRST_ROW)
        write_deltalake(read, pa.table({"n": [n + 1]}), mode="append")

    return conflict_probe


@pytest.fixture
def probe_lake(tmp_path) -> Path:
    lake = tmp_path / "lake"
    write_deltalake(str(lake / "ops" / "conflict_probe"), pa.table({"n": [1, 2]}))
    return lake


def _materialize(asset: dg.AssetsDefinition, lake: Path):
    instance = dg.DagsterInstance.ephemeral()
    result = dg.materialize(
        [asset],
        instance=instance,
        resources={"lakehouse": LakehouseResource(lake=str(lake))},
        raise_on_error=False,
    )
    logs = [e.user_message for e in instance.all_logs(result.run_id)]
    return result, [e.event_type_value for e in result.all_events], logs


def test_a_dagster_step_that_loses_to_an_outside_commit_is_retried(probe_lake):
    result, events, logs = _materialize(probe(retry=True), probe_lake)

    assert result.success
    assert events.count("STEP_UP_FOR_RETRY") == 1 and "STEP_FAILURE" not in events
    assert any(
        f"↻ ops.conflict_probe: a concurrent commit by a writer outside the lake's lock; this "
        f"step again in 2 s (retry 1/{RETRIES})" in m
        for m in logs
    ), logs
    # the retry read the outside writer's version (1 deleted) and appended once
    rows = DeltaTable(str(probe_lake / "ops" / "conflict_probe")).to_pyarrow_table()
    assert sorted(rows.column("n").to_pylist()) == [2, 3]


def test_a_dagster_step_declared_not_idempotent_fails_in_one_line(probe_lake):
    result, events, _ = _materialize(probe(retry=False), probe_lake)

    assert not result.success
    assert "STEP_UP_FOR_RETRY" not in events
    (failure,) = [e for e in result.all_events if e.event_type_value == "STEP_FAILURE"]
    # what `lakehouse run` prints for it
    line = conflict_line(failure.event_specific_data.error, failure.step_key)
    assert line == f"Delta commit conflict on ops.conflict_probe {LOST}"
    rows = DeltaTable(str(probe_lake / "ops" / "conflict_probe")).to_pyarrow_table()
    assert rows.column("n").to_pylist() == [2]  # only the outside writer's delete


def engine_probe(retry: bool) -> dg.AssetsDefinition:
    """An asset whose first attempt meets the engine losing an operation (the error Sail gave
    once under load), then appends once."""

    @dg.asset(key=["ops", "conflict_probe"])
    @on_commit_conflict(retry=retry)
    def conflict_probe(context: dg.AssetExecutionContext, lakehouse: LakehouseResource):
        if context.retry_number == 0:
            raise RuntimeError(
                "SparkConnectGrpcException: status = StatusCode.INTERNAL details = "
                '"internal error: task context not found for operation"'
            )
        path = lakehouse.root / "ops" / "conflict_probe"
        write_deltalake(str(path), pa.table({"n": [3]}), mode="append")

    return conflict_probe


def test_an_idempotent_step_the_engine_lost_is_run_again(probe_lake):
    result, events, logs = _materialize(engine_probe(retry=True), probe_lake)
    assert result.success and events.count("STEP_UP_FOR_RETRY") == 1
    assert any("↻ the engine lost an operation" in m for m in logs), logs
    rows = DeltaTable(str(probe_lake / "ops" / "conflict_probe")).to_pyarrow_table()
    assert sorted(rows.column("n").to_pylist()) == [1, 2, 3]
    # a step not declared idempotent is not run again
    result, events, _ = _materialize(engine_probe(retry=False), probe_lake)
    assert not result.success and "STEP_UP_FOR_RETRY" not in events

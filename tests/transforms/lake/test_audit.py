"""ops.audit_log: one row per CLI command on an existing lake (secrets masked, outcome kept), and
a table nothing can rewrite (delta.appendOnly)."""

from __future__ import annotations

import datetime as dt
import json

import pyarrow as pa
import pytest
from click.testing import CliRunner
from deltalake import DeltaTable, write_deltalake

from orchestration.cli import main
from transforms.lake import audit


def _log(lake) -> list[dict]:
    table = DeltaTable(str(audit.AUDIT_LOG.location(lake)))
    return sorted(table.to_pyarrow_table().to_pylist(), key=lambda r: r["at"])


def test_record_appends_and_nothing_rewrites_it(tmp_path, monkeypatch):
    monkeypatch.setenv("LAKEHOUSE_ACTOR", "inspector_1")
    first = audit.record(tmp_path, channel="cli", action="lakehouse run", target="run")
    audit.record(tmp_path, channel="superset", action="login", outcome="denied", who="x",
                 origin="10.0.0.7")  # fmt: skip
    rows = _log(tmp_path)
    assert [(r["event_id"], r["actor"], r["outcome"]) for r in rows][0] == (
        first,
        "inspector_1",
        "ok",
    )
    assert (rows[1]["actor"], rows[1]["origin"], rows[1]["outcome"]) == ("x", "10.0.0.7", "denied")
    table = DeltaTable(str(audit.AUDIT_LOG.location(tmp_path)))
    assert table.metadata().configuration["delta.appendOnly"] == "true"
    with pytest.raises(Exception, match="(?i)append"):
        table.delete("actor = 'x'")
    assert len(_log(tmp_path)) == 2


def test_secret_option_values_are_masked():
    line = audit.masked_arguments(["x", "--password", "s3cret", "--token=abc", "--lake", "L"])
    assert line == "x --password *** --token=*** --lake L"


def test_every_cli_command_on_a_lake_is_audited(tmp_path, monkeypatch):
    monkeypatch.setenv("LAKEHOUSE_ACTOR", "engineer_1")
    lake = tmp_path / "lake"
    runner = CliRunner()
    # no lake yet: nothing is written (an audit row would create a lake)
    assert runner.invoke(main, ["status", "--lake", str(lake)]).exit_code != 0
    assert not lake.exists()
    lake.mkdir()
    ok = runner.invoke(main, ["profile", "--lake", str(lake), "--enterprise", "91350902MA2Y0ABC1X"])
    assert ok.exit_code == 0, ok.output
    bad = runner.invoke(main, ["report", "ridehailing", "--lake", str(lake), "--period", "2026-13"])
    assert bad.exit_code != 0
    assert runner.invoke(main, ["profile", "--help"]).exit_code == 0  # help: no row
    rows = _log(lake)
    assert [(r["channel"], r["actor"], r["action"], r["outcome"]) for r in rows] == [
        ("cli", "engineer_1", "lakehouse profile", "ok"),
        ("cli", "engineer_1", "lakehouse report ridehailing", "error"),
    ]
    assert rows[0]["target"] == f"profile --lake {lake} --enterprise 91350902MA2Y0ABC1X"
    assert "2026-13" in json.loads(rows[1]["detail"])["error"]


def test_runs_the_daemon_starts_are_audited_in_their_lake(tmp_path):
    """A scheduled partition run and a failed UI launch, as the run-status sensors see them."""
    from types import SimpleNamespace

    import dagster as dg

    from orchestration.defs.audit import _record
    from orchestration.environment import LAKE_TAG, LakehouseResource

    runs = [
        dg.DagsterRun(job_name="telematics_daily", run_id="r1", status=dg.DagsterRunStatus.SUCCESS,
                      tags={LAKE_TAG: str(tmp_path), "dagster/partition": "2026-11-03",
                            "dagster/schedule_name": "telematics_daily_schedule"}),
        dg.DagsterRun(job_name="freight_monitoring", run_id="r2",
                      status=dg.DagsterRunStatus.FAILURE, tags={LAKE_TAG: str(tmp_path)}),
    ]  # fmt: skip
    for run in runs:
        _record(SimpleNamespace(dagster_run=run), LakehouseResource(lake=str(tmp_path / "other")))
    rows = _log(tmp_path)
    assert [(r["channel"], r["action"], r["target"], r["actor"], r["outcome"]) for r in rows] == [
        ("pipeline", "telematics_daily", "2026-11-03", "schedule", "ok"),
        ("pipeline", "freight_monitoring", "", "dagster", "error"),
    ]
    assert json.loads(rows[0]["detail"]) == {
        "launched_by": "telematics_daily_schedule",
        "run_id": "r1",
    }


def test_superset_events_are_collected_once(tmp_path):
    """Lines of the audit inbox land once (a collection that stopped after its append is not
    doubled), a line that is no event is kept aside, the inbox is emptied."""
    inbox = tmp_path / audit.INBOX
    inbox.mkdir(parents=True)

    def event(n: int, action: str = "login") -> dict:
        return {"event_id": f"e{n}", "at": f"2026-12-06T10:00:0{n}+00:00", "channel": "superset",
                "actor": "county_350902", "action": action, "target": "", "origin": "10.0.0.7",
                "outcome": "ok", "detail": "{}"}  # fmt: skip

    lines = lambda *events: "".join(json.dumps(e) + "\n" for e in events)  # noqa: E731
    (inbox / "superset-20261206-1.jsonl").write_text(lines(event(1), event(2, "sql_lab_query")))
    # an interrupted collection: its file was claimed and its event 1 already appended
    (inbox / "superset-20261206-2.collecting").write_text(
        lines(event(1)) + "not json\n" + lines(event(3))
    )
    first = {**event(1), "at": dt.datetime(2026, 12, 6, 10, 0, 1, tzinfo=dt.UTC)}
    location = str(audit.AUDIT_LOG.location(tmp_path))
    write_deltalake(location, pa.Table.from_pylist([first], schema=audit.SCHEMA), mode="append")
    assert audit.collect_inbox(tmp_path) == 2  # e2 and e3; e1 was in already
    ids = sorted(r["event_id"] for r in _log(tmp_path) if r["channel"] == "superset")
    assert ids == ["e1", "e2", "e3"]
    assert not list(inbox.glob("*.jsonl")) and not list(inbox.glob("*.collecting"))
    kept = next((inbox / "rejected").iterdir()).read_text()
    assert kept == "not json\n"
    assert audit.collect_inbox(tmp_path) == 0

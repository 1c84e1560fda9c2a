"""`lakehouse retention run` and `lakehouse hold add|list|release` on a small lake, with the clock
moved seven months on: output, exit codes, and clear errors for bad dates with nothing written."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pyarrow as pa
import pytest
from click.testing import CliRunner
from deltalake import DeltaTable, write_deltalake

from orchestration.cli import main
from transforms.lake import registry, retention
from transforms.lake.clock import TS

TODAY = dt.date(2026, 8, 15)  # positions are kept 186 days: the cutoff is 2026-02-10
POSITIONS = "silver.telematics__positions"
SCHEMA = pa.schema([("plate", pa.string()), ("plate_color", pa.int32()), ("gnss_time", TS),
                    ("day", pa.date32())])  # fmt: skip


@pytest.fixture
def lake(tmp_path, monkeypatch) -> Path:
    monkeypatch.setattr(retention, "now_beijing", lambda: dt.datetime.combine(TODAY, dt.time(3)))
    lake = tmp_path / "lake"
    rows = [("闽A00001", "2026-01-11"), ("闽A00002", "2026-01-11"), ("闽A00002", "2026-02-10")]
    table = pa.Table.from_pylist(
        [{"plate": p, "plate_color": 2, "day": dt.date.fromisoformat(d),
          "gnss_time": dt.datetime.fromisoformat(f"{d} 08:00:00")} for p, d in rows], SCHEMA
    )  # fmt: skip
    write_deltalake(str(registry.table(POSITIONS).location(lake)), table, partition_by=["day"])
    return lake


def _cli(*args) -> object:
    return CliRunner().invoke(main, [str(a) for a in args])


def _plates(lake: Path) -> list[tuple[str, str]]:
    rows = DeltaTable(str(registry.table(POSITIONS).location(lake))).to_pyarrow_table().to_pylist()
    return sorted((r["plate"], str(r["day"])) for r in rows)


def test_hold_then_retention_then_release(lake):
    added = _cli("hold", "add", "--lake", lake, "--plate", "闽A00001", "--color", 2,
                 "--from", "2026-01-11", "--to", "2026-01-11", "--reason", "事故封存")  # fmt: skip
    assert added.exit_code == 0, added.output
    hold_id = added.output.split()[0]
    listed = json.loads(_cli("hold", "list", "--lake", lake, "--format", "json").output)
    assert [(h["hold_id"], h["plate"], h["status"]) for h in listed] == [
        (hold_id, "闽A00001", "active")
    ]

    dry = _cli("retention", "run", "--lake", lake, "--dry-run", "--format", "json")
    assert dry.exit_code == 0, dry.output
    report = json.loads(dry.output)
    assert report["dry_run"] and report["rows_deleted"] == 1 and report["rows_held"] == 1
    assert len(_plates(lake)) == 3  # the dry run changed nothing

    run = _cli("retention", "run", "--lake", lake)
    assert run.exit_code == 0, run.output
    assert "1 row(s) deleted, 1 kept by holds" in run.output
    assert _plates(lake) == [("闽A00001", "2026-01-11"), ("闽A00002", "2026-02-10")]
    again = json.loads(_cli("retention", "run", "--lake", lake, "--format", "json").output)
    assert again["rows_deleted"] == 0

    released = _cli("hold", "release", "--lake", lake, hold_id, "--reason", "调查结束")
    assert released.exit_code == 0 and "released" in released.output
    assert "闽A00001" not in _cli("hold", "list", "--lake", lake).output
    assert "released" in _cli("hold", "list", "--lake", lake, "--all").output
    _cli("retention", "run", "--lake", lake, "--as-of", "2026-08-15")
    assert _plates(lake) == [("闽A00002", "2026-02-10")]
    twice = _cli("hold", "release", "--lake", lake, hold_id, "--reason", "again")
    assert twice.exit_code == 1 and "already released" in twice.output


@pytest.mark.parametrize(
    "args, message",
    [
        (["--from", "2026-13-01", "--to", "2026-01-11"], "'2026-13-01' is not a date"),
        (["--from", "2026-01-12", "--to", "2026-01-11"], "from 2026-01-12 is after to 2026-01-11"),
        (["--from", "2062-01-11", "--to", "2062-01-12"], "after today (2026-08-15)"),
    ],
)
def test_hold_with_bad_dates_is_a_clear_error_and_writes_nothing(lake, args, message):
    result = _cli("hold", "add", "--lake", lake, "--plate", "闽A00001", "--color", 2, *args,
                  "--reason", "x")  # fmt: skip
    assert result.exit_code == 2
    assert message in " ".join(result.output.split())
    assert not registry.table("ops.retention__holds").exists(lake)


@pytest.mark.parametrize(
    "args, message",
    [
        (["--plate", "闽A00001"], "--plate needs --color"),
        (["--plate", "闽A00001", "--color", "2", "--enterprise", "E1"], "not both"),
        ([], "give --plate"),
    ],
)
def test_hold_needs_one_subject(lake, args, message):
    result = _cli("hold", "add", "--lake", lake, *args, "--from", "2026-01-11",
                  "--to", "2026-01-11", "--reason", "x")  # fmt: skip
    assert result.exit_code == 2 and message in result.output
    assert not registry.table("ops.retention__holds").exists(lake)


@pytest.mark.parametrize(
    "as_of, message", [("2026-02-30", "is not a date"), ("2026-08-16", "is after today")]
)
def test_retention_with_a_bad_as_of_is_a_clear_error_and_deletes_nothing(lake, as_of, message):
    result = _cli("retention", "run", "--lake", lake, "--as-of", as_of)
    assert result.exit_code == 2 and message in result.output
    assert len(_plates(lake)) == 3
    assert not registry.table("ops.retention__deletions").exists(lake)


def test_a_rules_override_below_the_legal_minimum_is_refused(lake, tmp_path):
    rules = tmp_path / "short.yaml"
    rules.write_text("telematics:\n  retention:\n    silver.telematics__positions: 30\n")
    result = _cli("retention", "run", "--lake", lake, "--rules", rules)
    assert result.exit_code == 1
    assert "below the legal minimum of 184 days" in result.output
    assert len(_plates(lake)) == 3

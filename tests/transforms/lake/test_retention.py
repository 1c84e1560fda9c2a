"""Retention with legal holds: the clock is moved forward and every row is accounted for — what
went, what stayed (held, or just inside its period), that the deleted files are gone from disk,
the events in ops, a dry run and a second run that change nothing, a released hold, bad input."""

from __future__ import annotations

import copy
import datetime as dt
from pathlib import Path

import pyarrow as pa
import pytest
from deltalake import DeltaTable, write_deltalake

from transforms.lake import registry, retention
from transforms.lake.clock import TS
from transforms.lake.retention import RetentionError
from transforms.rules import load_rules

HELD, OTHER, MOVED, STAYED = "闽A00001", "闽A00002", "闽A00003", "闽A00004"
ACCIDENT = dt.date(2026, 1, 11)
# positions are kept 186 days, violations 1098 (transforms/telematics/rules.yaml)
SEVEN_MONTHS = dt.date(2026, 8, 15)
POSITIONS_CUTOFF = SEVEN_MONTHS - dt.timedelta(days=186)  # 2026-02-10: that day stays
THREE_AND_A_HALF_YEARS = dt.date(2029, 7, 15)


@pytest.fixture
def clock(monkeypatch):
    """Today (GMT+8) as the test sets it: `clock.today = …`."""

    class Clock:
        today = SEVEN_MONTHS

    c = Clock()
    monkeypatch.setattr(retention, "now_beijing", lambda: dt.datetime.combine(c.today, dt.time(3)))
    return c


def _write(lake: Path, name: str, rows: list[dict], schema: pa.Schema) -> Path:
    table = registry.table(name)
    path = table.location(lake)
    write_deltalake(str(path), pa.Table.from_pylist(rows, schema),
                    partition_by=list(table.partition_by) or None)  # fmt: skip
    return path


def _rows(lake: Path, name: str) -> list[dict]:
    return DeltaTable(str(registry.table(name).location(lake))).to_pyarrow_table().to_pylist()


def _keys(lake: Path, name: str, *columns: str) -> set[tuple]:
    return {tuple(r[c] for c in columns) for r in _rows(lake, name)}


def _version(lake: Path, name: str) -> int:
    return DeltaTable(str(registry.table(name).location(lake))).version()


SILVER = pa.schema([("plate", pa.string()), ("plate_color", pa.int32()),
                    ("gnss_time", TS), ("day", pa.date32())])  # fmt: skip
BRONZE = pa.schema([("plate", pa.string()), ("plate_color", pa.string()),
                    ("gnss_time", pa.string()), ("_line", pa.int64()),
                    ("_folder_date", pa.date32())])  # fmt: skip
QUARANTINE = pa.schema([("plate", pa.string()), ("plate_color", pa.int32()),
                        ("gnss_time", TS), ("_line", pa.int64()), ("_landed_at", TS)])  # fmt: skip
EVENTS = pa.schema([("event_id", pa.string()), ("day", pa.date32()), ("plate", pa.string()),
                    ("plate_color", pa.int32()), ("kind", pa.string())])  # fmt: skip
VEHICLES = pa.schema([("plate", pa.string()), ("plate_color", pa.int32()),
                      ("enterprise_id", pa.string()), ("valid_from", pa.date32()),
                      ("valid_to", pa.date32())])  # fmt: skip


def _silver_row(plate: str, day: dt.date) -> dict:
    return {"plate": plate, "plate_color": 2, "day": day,
            "gnss_time": dt.datetime.combine(day, dt.time(8))}  # fmt: skip


def _d(text: str) -> dt.date:
    return dt.date.fromisoformat(text)


@pytest.fixture
def lake(tmp_path) -> Path:
    """Four telematics tables with rows of known ages and plates, and the vehicles' history."""
    lake = tmp_path / "lake"
    silver = [
        (HELD, "2026-01-10"), (HELD, "2026-01-11"), (HELD, "2026-01-12"), (OTHER, "2026-01-11"),
        (OTHER, str(POSITIONS_CUTOFF - dt.timedelta(days=1))), (OTHER, str(POSITIONS_CUTOFF)),
        (HELD, "2026-07-01"),
    ]  # fmt: skip
    _write(lake, "silver.telematics__positions",
           [_silver_row(p, _d(d)) for p, d in silver], SILVER)  # fmt: skip
    bronze = [  # plate (as received), colour, gnss_time, line, landing folder
        (f" {HELD} ", "2", " 2026-01-11 08:00:00", 1, "2026-01-14"),  # held: gnss day in range
        (HELD, "2", "2026-01-12 08:00:00", 2, "2026-01-12"),
        (HELD, "2", None, 3, "2026-01-12"),  # unknown time of a held plate: kept
        ("???", "2", "2026-01-11 09:00:00", 4, "2026-01-11"),  # no readable subject: by age
        (OTHER, "2", "2026-02-10 08:00:00", 5, str(POSITIONS_CUTOFF)),
    ]
    _write(lake, "bronze.telematics__positions",
           [dict(zip(BRONZE.names, (p, c, g, n, _d(f)), strict=True))
            for p, c, g, n, f in bronze], BRONZE)  # fmt: skip
    quarantine = [
        {"plate": HELD, "plate_color": 2, "gnss_time": dt.datetime(2026, 1, 11, 9), "_line": 1,
         "_landed_at": dt.datetime(2026, 1, 11, 9, 1)},
        {"plate": None, "plate_color": None, "gnss_time": None, "_line": 2,
         "_landed_at": dt.datetime(2026, 1, 11, 9, 1)},
        {"plate": OTHER, "plate_color": 2, "gnss_time": None, "_line": 3,
         "_landed_at": dt.datetime.combine(POSITIONS_CUTOFF, dt.time(0, 0, 1))},
    ]  # fmt: skip
    _write(lake, "quarantine.telematics__positions", quarantine, QUARANTINE)
    events = [("e1", "2026-01-11", HELD), ("e2", "2026-01-11", OTHER), ("e3", "2026-01-10", HELD)]
    _write(lake, "silver.telematics__violation_events",
           [{"event_id": e, "day": _d(d), "plate": p, "plate_color": 2, "kind": "overspeed"}
            for e, d, p in events], EVENTS)  # fmt: skip
    vehicles = [  # MOVED: enterprise E1 until 2026-01-25, then E2 (first known 2026-01-20)
        (HELD, "E9", "2025-01-01", None),
        (OTHER, "E9", "2025-01-01", None),
        (MOVED, "E1", "2026-01-20", "2026-01-25"),
        (MOVED, "E2", "2026-01-25", None),
        (STAYED, "E2", "2025-01-01", None),
    ]
    _write(lake, "silver.telematics__vehicles",
           [{"plate": p, "plate_color": 2, "enterprise_id": e, "valid_from": _d(f),
             "valid_to": _d(t) if t else None} for p, e, f, t in vehicles], VEHICLES)  # fmt: skip
    return lake


def _hold_accident(lake: Path) -> retention.Hold:
    return retention.add_hold(lake, plate=HELD, plate_color=2, start=ACCIDENT, end=ACCIDENT,
                              reason="交通事故封存 2026-01-11", by="test")  # fmt: skip


def test_seven_months_later_positions_go_except_held_and_recent(lake, clock):
    hold = _hold_accident(lake)
    before = _version(lake, "silver.telematics__positions")
    run = retention.run_retention(lake, load_rules())
    by_table = {t.table: t for t in run.tables}

    assert _keys(lake, "silver.telematics__positions", "plate", "day") == {
        (HELD, ACCIDENT),  # held
        (OTHER, POSITIONS_CUTOFF),  # the cutoff day itself is inside retention
        (HELD, dt.date(2026, 7, 1)),
    }
    silver = by_table["silver.telematics__positions"]
    assert (silver.rows_deleted, silver.rows_held) == (4, 1)
    assert silver.held_by == {hold.hold_id: 1}
    assert silver.cutoff == POSITIONS_CUTOFF == dt.date(2026, 2, 10)
    # bronze: aged by landing day, held by the record's own gnss_time (a back-fill landed 01-14)
    assert _keys(lake, "bronze.telematics__positions", "_line") == {(1,), (3,), (5,)}
    assert by_table["bronze.telematics__positions"].rows_deleted == 2
    # quarantine: aged by landing time; a line without a subject goes by age
    assert _keys(lake, "quarantine.telematics__positions", "_line") == {(1,), (3,)}
    # violations are kept three years: untouched
    assert by_table["silver.telematics__violation_events"].rows_past == 0
    assert len(_rows(lake, "silver.telematics__violation_events")) == 3
    # master data is never aged
    assert "silver.telematics__vehicles" not in by_table
    assert len(_rows(lake, "silver.telematics__vehicles")) == 5

    # the deleted rows' files are gone: the version before the delete can no longer be read
    path = registry.table("silver.telematics__positions").location(lake)
    assert silver.files_removed > 0
    with pytest.raises(Exception):  # noqa: B017 - delta-rs raises its own error for a missing file
        DeltaTable(str(path), version=before).to_pyarrow_table()
    on_disk = {p.resolve() for p in path.rglob("*.parquet")}
    assert on_disk == {Path(u).resolve() for u in DeltaTable(str(path)).file_uris()}

    events = {e["table_name"]: e for e in retention.deletions(lake)}
    assert set(events) == {t.table for t in run.tables if t.present}
    assert events["silver.telematics__positions"]["rows_deleted"] == 4
    assert events["silver.telematics__positions"]["rows_held"] == 1
    assert events["silver.telematics__positions"]["cutoff"] == POSITIONS_CUTOFF
    assert events["silver.telematics__positions"]["held_by"] == f'{{"{hold.hold_id}": 1}}'
    assert {e["run_id"] for e in events.values()} == {run.run_id}


def test_dry_run_changes_nothing_and_a_second_run_deletes_nothing(lake, clock):
    _hold_accident(lake)
    names = ["silver.telematics__positions", "bronze.telematics__positions",
             "quarantine.telematics__positions", "silver.telematics__violation_events"]  # fmt: skip
    versions = {n: _version(lake, n) for n in names}
    rows = {n: _rows(lake, n) for n in names}
    dry = retention.run_retention(lake, load_rules(), dry_run=True)
    assert {n: _version(lake, n) for n in names} == versions
    assert {n: _rows(lake, n) for n in names} == rows
    assert not registry.table("ops.retention__deletions").exists(lake)
    would = {t.table: t.rows_deleted for t in dry.tables}
    assert would["silver.telematics__positions"] == 4

    first = retention.run_retention(lake, load_rules())
    assert {t.table: t.rows_deleted for t in first.tables} == would
    after = {n: _version(lake, n) for n in names}
    second = retention.run_retention(lake, load_rules())
    assert sum(t.rows_deleted for t in second.tables) == 0
    assert all(t.files_removed == 0 for t in second.tables)
    assert {n: _version(lake, n) for n in names} == after  # no commit at all
    assert len(retention.deletions(lake)) == 2 * len([t for t in first.tables if t.present])


def test_releasing_the_hold_lets_the_next_run_delete(lake, clock):
    hold = _hold_accident(lake)
    retention.run_retention(lake, load_rules())
    assert (HELD, ACCIDENT) in _keys(lake, "silver.telematics__positions", "plate", "day")
    released = retention.release_hold(lake, hold.hold_id, "事故调查结束", by="test")
    assert not released.active and retention.list_holds(lake) == []
    assert [h.hold_id for h in retention.list_holds(lake, include_released=True)] == [hold.hold_id]
    run = retention.run_retention(lake, load_rules())
    assert (HELD, ACCIDENT) not in _keys(lake, "silver.telematics__positions", "plate", "day")
    assert {t.table: t.rows_deleted for t in run.tables}["silver.telematics__positions"] == 1
    # bronze: the held record goes too; the one of unknown time has no hold left either
    assert _keys(lake, "bronze.telematics__positions", "_line") == {(5,)}
    events = [e["event"] for e in _rows(lake, "ops.retention__holds")]
    assert sorted(events) == ["hold_added", "hold_released"]
    with pytest.raises(RetentionError, match="already released"):
        retention.release_hold(lake, hold.hold_id, "again")


def test_three_and_a_half_years_later_violations_go_except_held(lake, clock):
    _hold_accident(lake)
    clock.today = THREE_AND_A_HALF_YEARS
    retention.run_retention(lake, load_rules())
    assert _keys(lake, "silver.telematics__violation_events", "event_id") == {("e1",)}
    assert _keys(lake, "silver.telematics__positions", "plate", "day") == {(HELD, ACCIDENT)}


def test_an_enterprise_hold_covers_its_vehicles_while_they_belonged_to_it(lake, clock):
    days = ["2026-01-15", "2026-01-24", "2026-01-25"]
    extra = [_silver_row(MOVED, _d(d)) for d in days] + [_silver_row(STAYED, _d("2026-01-15"))]
    write_deltalake(str(registry.table("silver.telematics__positions").location(lake)),
                    pa.Table.from_pylist(extra, SILVER), mode="append",
                    partition_by=["day"])  # fmt: skip
    hold = retention.add_hold(lake, enterprise_id="E1", start=_d("2026-01-01"),
                              end=_d("2026-01-31"), reason="企业事故调查")  # fmt: skip
    run = retention.run_retention(lake, load_rules())
    kept = _keys(lake, "silver.telematics__positions", "plate", "day")
    # before its first version on record (01-20) and until the day before it moved (01-25)
    assert {(MOVED, _d("2026-01-15")), (MOVED, _d("2026-01-24"))} <= kept
    assert (MOVED, _d("2026-01-25")) not in kept  # then it belonged to E2
    assert (STAYED, _d("2026-01-15")) not in kept  # an E2 vehicle
    assert (HELD, ACCIDENT) not in kept  # no plate hold in this test
    silver = {t.table: t for t in run.tables}["silver.telematics__positions"]
    assert silver.held_by == {hold.hold_id: 2}


def test_a_delete_never_vacuumed_is_vacuumed_by_the_next_run(lake, clock):
    path = registry.table("silver.telematics__violation_events").location(lake)
    DeltaTable(str(path)).delete("event_id = 'e3'")  # say, a run that crashed before its vacuum
    files = set(path.rglob("*.parquet"))
    run = retention.run_retention(lake, load_rules())
    events = {t.table: t for t in run.tables}["silver.telematics__violation_events"]
    assert events.rows_deleted == 0 and events.files_removed == 1
    assert len(files - set(path.rglob("*.parquet"))) == 1


def test_a_period_below_the_legal_minimum_is_rejected(lake, clock):
    rules = copy.deepcopy(load_rules())
    rules["telematics"]["retention"]["silver.telematics__violation_events"] = 365
    with pytest.raises(RetentionError, match="below the legal minimum of 1096 days"):
        retention.run_retention(lake, rules)
    rules["telematics"]["retention"]["silver.telematics__violation_events"] = 1098
    rules["telematics"]["retention"]["silver.telematics__positions"] = 183
    with pytest.raises(RetentionError, match="legal minimum of 184 days"):
        retention.periods(rules)
    assert len(_rows(lake, "silver.telematics__positions")) == 7  # nothing was touched
    rules["telematics"]["retention"]["silver.telematics__positions"] = 400  # longer: allowed
    rules["telematics"]["retention"]["silver.telematics__vehicles"] = 400
    with pytest.raises(RetentionError, match="no time column"):
        retention.periods(rules)
    del rules["telematics"]["retention"]["silver.telematics__vehicles"]
    rules["telematics"]["retention"]["silver.telematics__nothing"] = 400
    with pytest.raises(RetentionError, match="no such table"):
        retention.periods(rules)
    del rules["telematics"]["retention"]["silver.telematics__nothing"]
    # null keeps a table for ever
    rules["telematics"]["retention"]["bronze.telematics__positions"] = None
    plan = retention.periods(rules)
    assert plan["silver.telematics__positions"] == 400
    assert "bronze.telematics__positions" not in plan
    run = retention.run_retention(lake, rules)
    assert len(_rows(lake, "silver.telematics__positions")) == 7
    assert len(_rows(lake, "bronze.telematics__positions")) == 5
    assert "bronze.telematics__positions" not in {t.table for t in run.tables}


def test_the_default_periods_are_at_least_the_law(clock):
    plan = retention.periods(load_rules())
    assert plan["bronze.telematics__positions"] >= 184
    assert plan["silver.telematics__violation_events"] >= 3 * 365 + 1
    for name, days in plan.items():
        assert days >= (registry.table(name).retention_days or 0), name


def test_bad_dates_are_rejected_and_nothing_is_written(lake, clock):
    with pytest.raises(RetentionError, match="after to"):
        retention.add_hold(lake, plate=HELD, plate_color=2, start=_d("2026-01-12"),
                           end=_d("2026-01-11"), reason="x")  # fmt: skip
    with pytest.raises(RetentionError, match="after today"):
        retention.add_hold(lake, plate=HELD, plate_color=2, start=_d("2062-01-11"),
                           end=_d("2062-01-12"), reason="x")  # fmt: skip
    with pytest.raises(RetentionError, match="plate colour"):
        retention.add_hold(lake, plate=HELD, start=ACCIDENT, end=ACCIDENT, reason="x")
    with pytest.raises(RetentionError, match="either a plate"):
        retention.add_hold(lake, plate=HELD, plate_color=2, enterprise_id="E1", start=ACCIDENT,
                           end=ACCIDENT, reason="x")  # fmt: skip
    with pytest.raises(RetentionError, match="needs a reason"):
        retention.add_hold(lake, plate=HELD, plate_color=2, start=ACCIDENT, end=ACCIDENT,
                           reason=" ")  # fmt: skip
    assert not registry.table("ops.retention__holds").exists(lake)
    with pytest.raises(RetentionError, match="after today"):
        retention.run_retention(lake, load_rules(), as_of=SEVEN_MONTHS + dt.timedelta(days=1))
    assert len(_rows(lake, "silver.telematics__positions")) == 7
    assert not registry.table("ops.retention__deletions").exists(lake)
    with pytest.raises(RetentionError, match="no hold 'nope'"):
        retention.release_hold(lake, "nope", "x")


def test_a_missing_table_is_reported_not_created(tmp_path, clock):
    run = retention.run_retention(tmp_path, load_rules())
    assert run.tables and not any(t.present for t in run.tables)
    assert not registry.table("silver.telematics__positions").exists(tmp_path)


def test_the_tamper_evidence_manifest_still_verifies_after_retention(lake, clock):
    """Retention deletes bronze files: it records its commits, so they count as removed."""
    from transforms.lake import manifest

    manifest.record(lake)  # what the landing of these bronze rows recorded
    _hold_accident(lake)
    retention.run_retention(lake, load_rules())
    report = manifest.verify(lake)
    assert report["mismatches"] == []
    assert report["removed"] == 2 and report["unrecorded_commits"] == 0

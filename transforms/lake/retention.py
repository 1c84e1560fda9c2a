"""Retention with legal holds (保存期限, 封存): delete what is past its period, except what a hold
covers, so that it is really gone — and record every hold and every deletion in ``ops``.

- **Periods** are in the rules file, per domain: ``<domain>.retention.<table>: days`` (e.g.
  transforms/telematics/rules.yaml). A period is never below the table's legal minimum
  (``Table.retention_days``, declared by the domain): a shorter one is rejected. A table without a
  period is kept for ever.
- **Rows**: a table declares :class:`~transforms.lake.registry.RetentionColumns` — the column that
  dates a row (``time``), the one a hold's date range is compared with (``hold_time``, default the
  same), and who a row is about: ``plate`` (plate, plate colour) and / or ``enterprise``. A row is
  past retention when its date is before ``as_of − period`` (the cutoff; the cutoff day itself
  stays).
- **Holds** (``ops.retention__holds``, append-only ``hold_added`` / ``hold_released`` events; a hold
  is current until released) name a plate and colour or an enterprise, a date range (both days
  included) and a reason. A hold keeps a row when the row names its subject and the row's hold
  time is in the range — or is null (unknown time: kept while the subject is held). An enterprise's
  hold also covers the rows of its vehicles for the days they belonged to it, through the table's
  ``fleet`` (an SCD2 history: plate, plate_color, enterprise_id, valid_from, valid_to; a vehicle's
  first version also covers the days before it). A row that names no subject (an unreadable plate)
  is deleted by age only.
- **Deletion**: a Delta DELETE through delta-rs (the predicate prunes partitions), then a delta-rs
  VACUUM with no retention window, so the data files of the deleted rows are removed and no time
  travel reads them again. VACUUM also runs when an earlier DELETE was never vacuumed (a crash in
  between). It removes only files that committed operations removed (not ``full``), so a concurrent
  writer's new files are safe; a reader still on an older snapshot may miss files, hence the
  schedule at night, after the pipeline. A DELETE that loses to a concurrent commit (a writer
  outside the lake's lock) is counted and planned again on the newer version after 2, 4, 8 s
  (``pipeline.conflict_retries``, transforms/lake/conflicts.py); so are the event appends.
- **Tamper evidence**: after changing a bronze table, the run records its commits in the SM3
  manifest (transforms/lake/manifest.py), as a landing does.
- **Events**: each run writes one ``ops.retention__deletions`` row per table with a period (rows
  deleted, rows kept and by which hold). A dry run deletes nothing, vacuums nothing, writes
  nothing: it reports what a run would delete. A second run deletes nothing more.

Shared machinery: reads the tables of every domain through the registry, imports no domain.
"""

from __future__ import annotations

import datetime as dt
import functools
import json
import uuid
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import pyarrow as pa
from deltalake import DeltaTable, QueryBuilder, write_deltalake

from transforms.lake import registry
from transforms.lake.clock import TS, now_beijing
from transforms.lake.conflicts import conflict_retries, retry_conflicts
from transforms.lake.registry import RetentionColumns, Table

HOLDS = next(t for t in registry.SHARED_TABLES if t.name == "ops.retention__holds")
DELETIONS = next(t for t in registry.SHARED_TABLES if t.name == "ops.retention__deletions")
HOLD_SCHEMA = pa.schema([
    ("event", pa.string()),  # hold_added | hold_released
    ("hold_id", pa.string()), ("subject_kind", pa.string()),  # plate | enterprise
    ("plate", pa.string()), ("plate_color", pa.int32()), ("enterprise_id", pa.string()),
    ("from_date", pa.date32()), ("to_date", pa.date32()),  # both days included
    ("reason", pa.string()), ("by", pa.string()), ("at", TS),
])  # fmt: skip
DELETION_SCHEMA = pa.schema([
    ("run_id", pa.string()), ("table_name", pa.string()), ("as_of", pa.date32()),
    ("period_days", pa.int32()), ("cutoff", pa.date32()),  # rows dated before cutoff are past
    ("rows_deleted", pa.int64()), ("rows_held", pa.int64()),
    ("held_by", pa.string()),  # JSON {hold_id: rows it kept}
    ("files_removed", pa.int64()), ("by", pa.string()), ("at", TS),
])  # fmt: skip
# SCD2 history columns of a fleet table (registry.RetentionColumns.fleet)
FLEET_COLUMNS = ("plate", "plate_color", "enterprise_id", "valid_from", "valid_to")
TIME_TYPES = {"date", "timestamp", "timestamp_ntz", "string"}
INTEGER_TYPES = {"byte", "short", "integer", "long"}


class RetentionError(ValueError):
    """A retention or hold command that cannot be carried out (bad dates, a period below the legal
    minimum, an unknown hold…); raised before anything is written."""


def today() -> dt.date:
    """Today in GMT+8 (the lake's clock)."""
    return now_beijing().date()


# ------------------------------------------------------------------------------------------ holds


@dataclass(frozen=True)
class Hold:
    """One legal hold and, once released, its release."""

    hold_id: str
    subject_kind: str  # plate | enterprise
    plate: str | None
    plate_color: int | None
    enterprise_id: str | None
    from_date: dt.date
    to_date: dt.date
    reason: str
    by: str
    at: dt.datetime
    released_at: dt.datetime | None = None
    released_by: str | None = None
    release_reason: str | None = None

    @property
    def active(self) -> bool:
        return self.released_at is None

    @property
    def subject(self) -> str:
        if self.subject_kind == "plate":
            return f"{self.plate} ({self.plate_color})"
        return str(self.enterprise_id)

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "status": "active" if self.active else "released"}


def check_hold_dates(start: dt.date, end: dt.date, on: dt.date | None = None) -> None:
    """A hold's range: ``start`` ≤ ``end``, and ``start`` not after today (a hold seals data
    already received; the end may be later)."""
    on = on or today()
    if start > end:
        raise RetentionError(f"the hold's range is empty: from {start} is after to {end}")
    if start > on:
        raise RetentionError(f"the hold starts on {start}, after today ({on}): check the year")


def check_as_of(as_of: dt.date, on: dt.date | None = None) -> None:
    """A run's as-of date must not be after today: that would delete rows still in retention."""
    on = on or today()
    if as_of > on:
        raise RetentionError(
            f"as-of {as_of} is after today ({on}): it would delete rows still within retention"
        )


def _hold_events(lake: Path) -> list[dict[str, Any]]:
    if not HOLDS.exists(lake):
        return []
    return DeltaTable(str(HOLDS.location(lake))).to_pyarrow_table().to_pylist()


def _naive(value: dt.datetime | None) -> dt.datetime | None:
    return value.replace(tzinfo=None) if value is not None else None


def list_holds(lake: Path, include_released: bool = False) -> list[Hold]:
    """The holds (current ones only unless ``include_released``), oldest first."""
    events = sorted(_hold_events(lake), key=lambda e: (e["at"], e["event"] != "hold_added"))
    added: dict[str, Hold] = {}
    for e in events:
        if e["event"] == "hold_added":
            added[e["hold_id"]] = Hold(
                hold_id=e["hold_id"], subject_kind=e["subject_kind"], plate=e["plate"],
                plate_color=e["plate_color"], enterprise_id=e["enterprise_id"],
                from_date=e["from_date"], to_date=e["to_date"], reason=e["reason"], by=e["by"],
                at=_naive(e["at"]),
            )  # fmt: skip
        elif e["event"] == "hold_released" and e["hold_id"] in added:
            hold = added[e["hold_id"]]
            added[e["hold_id"]] = Hold(**{
                **asdict(hold), "released_at": _naive(e["at"]), "released_by": e["by"],
                "release_reason": e["reason"],
            })  # fmt: skip
    return [h for h in added.values() if include_released or h.active]


def _write_hold_event(lake: Path, hold: Hold, event: str, reason: str, by: str, at) -> None:
    row = {
        "event": event, "hold_id": hold.hold_id, "subject_kind": hold.subject_kind,
        "plate": hold.plate, "plate_color": hold.plate_color, "enterprise_id": hold.enterprise_id,
        "from_date": hold.from_date, "to_date": hold.to_date, "reason": reason, "by": by, "at": at,
    }  # fmt: skip
    rows = pa.Table.from_pylist([row], HOLD_SCHEMA)
    # a blind append: a commit lost to a concurrent writer wrote nothing, so it is made again
    retry_conflicts(lambda: write_deltalake(str(HOLDS.location(lake)), rows, mode="append"))


def add_hold(
    lake: Path,
    *,
    start: dt.date,
    end: dt.date,
    reason: str,
    plate: str | None = None,
    plate_color: int | None = None,
    enterprise_id: str | None = None,
    by: str = "regulator",
) -> Hold:
    """Record a legal hold on a plate and colour, or on an enterprise, from ``start`` to ``end``
    (both days included). Checked before anything is written."""
    plate = plate.strip() if plate else None
    enterprise_id = enterprise_id.strip() if enterprise_id else None
    if bool(plate) == bool(enterprise_id):
        raise RetentionError("a hold names either a plate (with its colour) or an enterprise")
    if plate and plate_color is None:
        raise RetentionError(f"the hold on plate {plate} needs its plate colour")
    if enterprise_id and plate_color is not None:
        raise RetentionError("a plate colour goes with a plate, not with an enterprise")
    if not reason or not reason.strip():
        raise RetentionError("a hold needs a reason (e.g. the accident it seals)")
    check_hold_dates(start, end)
    now = now_beijing()
    hold = Hold(
        hold_id=uuid.uuid4().hex[:12], subject_kind="plate" if plate else "enterprise",
        plate=plate, plate_color=plate_color, enterprise_id=enterprise_id, from_date=start,
        to_date=end, reason=reason.strip(), by=by, at=now,
    )  # fmt: skip
    _write_hold_event(lake, hold, "hold_added", hold.reason, by, now)
    return hold


def release_hold(lake: Path, hold_id: str, reason: str, by: str = "regulator") -> Hold:
    """Release a current hold: the next retention run may delete what it kept."""
    if not reason or not reason.strip():
        raise RetentionError("releasing a hold needs a reason")
    holds = {h.hold_id: h for h in list_holds(lake, include_released=True)}
    if hold_id not in holds:
        known = ", ".join(h for h, v in holds.items() if v.active) or "none"
        raise RetentionError(f"no hold {hold_id!r}; current holds: {known}")
    hold = holds[hold_id]
    if not hold.active:
        raise RetentionError(f"hold {hold_id} was already released on {hold.released_at}")
    now = now_beijing()
    _write_hold_event(lake, hold, "hold_released", reason.strip(), by, now)
    return Hold(**{**asdict(hold), "released_at": now, "released_by": by,
                   "release_reason": reason.strip()})  # fmt: skip


# ---------------------------------------------------------------------------------------- periods


def periods(rules: dict[str, Any]) -> dict[str, int]:
    """Table name → retention period (days) from the whole rules file (every domain's
    ``retention`` section), checked: a known table of that domain, that declares its retention
    columns, for a whole number of days not below its legal minimum."""
    from transforms.domains import DOMAINS

    tables = registry.by_name()
    out: dict[str, int] = {}
    for domain in DOMAINS:
        section = (rules.get(domain.name) or {}).get("retention") or {}
        if not isinstance(section, dict):
            raise RetentionError(f"rules: {domain.name}.retention must map tables to days")
        for name, days in section.items():
            where = f"rules: {domain.name}.retention.{name}"
            table = tables.get(name)
            if table is None or not table.entity.startswith(f"{domain.name}__"):
                raise RetentionError(f"{where}: no such table of the {domain.name} domain")
            if days is None:
                continue  # kept for ever
            if isinstance(days, bool) or not isinstance(days, int) or days <= 0:
                raise RetentionError(f"{where}: {days!r} is not a whole number of days")
            if table.retention_columns is None:
                raise RetentionError(f"{where}: the table declares no time column to age it by")
            floor = table.retention_days or 0
            if days < floor:
                raise RetentionError(
                    f"{where}: {days} days is below the legal minimum of {floor} days for this "
                    "table; a jurisdiction may keep data longer, never shorter"
                )
            out[name] = days
    return out


# ----------------------------------------------------------------------------------------- a run


@dataclass(frozen=True)
class _Window:
    """A hold as it applies to rows: a plate and colour, or an enterprise, and a date range."""

    hold_id: str
    start: dt.date
    end: dt.date
    plate: str | None = None
    plate_color: int | None = None
    enterprise_id: str | None = None


@dataclass
class TableResult:
    """What one run did (or, dry, would do) to one table."""

    table: str
    period_days: int
    floor_days: int
    cutoff: dt.date
    present: bool = True
    rows_past: int = 0  # rows dated before the cutoff
    rows_held: int = 0  # of those, kept by a hold
    rows_deleted: int = 0  # deleted (dry run: would be deleted)
    held_by: dict[str, int] = field(default_factory=dict)
    files_removed: int = 0
    version: int | None = None


@dataclass
class RetentionRun:
    run_id: str
    as_of: dt.date
    dry_run: bool
    holds: int  # current holds
    tables: list[TableResult]

    def to_dict(self) -> dict[str, Any]:
        return {
            "run_id": self.run_id,
            "as_of": self.as_of,
            "dry_run": self.dry_run,
            "holds": self.holds,
            "rows_deleted": sum(t.rows_deleted for t in self.tables),
            "rows_held": sum(t.rows_held for t in self.tables),
            "tables": [asdict(t) for t in self.tables],
        }


def _q(column: str) -> str:
    return '"' + column.replace('"', '""') + '"'


def _lit(value: Any) -> str:
    return "'" + str(value).replace("'", "''") + "'"


def _col(column: str, kind: str) -> str:
    """A column in SQL; a string column's trimmed text (bronze keeps values as received)."""
    return f"trim({_q(column)})" if kind == "string" else _q(column)


def _equals(column: str, kind: str, value: Any) -> str:
    if kind in INTEGER_TYPES:
        return f"{_q(column)} = {int(value)}"
    return f"{_col(column, kind)} = {_lit(value)}"


def _in_range(column: str, kind: str, start: dt.date, end: dt.date) -> str:
    """The column's time is in [start, end] (whole days) or unknown. 'YYYY-MM-DD' bounds compare
    alike with dates, timestamps and 'YYYY-MM-DD HH:MM:SS' strings."""
    c = _col(column, kind)
    upper = end + dt.timedelta(days=1)
    return f"({c} IS NULL OR ({c} >= {_lit(start)} AND {c} < {_lit(upper)}))"


def _fleet_windows(lake: Path, fleet: str, holds: list[Hold]) -> list[_Window]:
    """Enterprise holds as plate windows: each vehicle for the days it belonged to the enterprise
    (valid_from ≤ day < valid_to; its first version also before valid_from)."""
    wanted: dict[str, list[Hold]] = {}
    for h in holds:
        if h.subject_kind == "enterprise":
            wanted.setdefault(str(h.enterprise_id), []).append(h)
    table = registry.table(fleet)
    if not wanted or not table.exists(lake):
        return []
    rows = DeltaTable(str(table.location(lake))).to_pyarrow_table(columns=list(FLEET_COLUMNS))
    rows = [
        r
        for r in rows.to_pylist()
        if r["plate"] is not None and r["plate_color"] is not None and r["valid_from"] is not None
    ]
    first: dict[tuple[str, int], dt.date] = {}
    for r in rows:
        key = (r["plate"], r["plate_color"])
        if key not in first or r["valid_from"] < first[key]:
            first[key] = r["valid_from"]
    out = []
    for r in rows:
        first_version = r["valid_from"] == first[(r["plate"], r["plate_color"])]
        for hold in wanted.get(r["enterprise_id"], []):
            start = hold.from_date if first_version else max(hold.from_date, r["valid_from"])
            end = hold.to_date
            if r["valid_to"] is not None:
                end = min(end, r["valid_to"] - dt.timedelta(days=1))
            if start <= end:
                out.append(_Window(hold.hold_id, start, end, r["plate"], r["plate_color"]))
    return out


def _windows(
    lake: Path, cols: RetentionColumns, holds: list[Hold], fleets: dict[str, list[_Window]]
) -> list[_Window]:
    out = []
    for h in holds:
        if h.subject_kind == "plate" and cols.plate:
            out.append(_Window(h.hold_id, h.from_date, h.to_date, h.plate, h.plate_color))
        if h.subject_kind == "enterprise" and cols.enterprise:
            out.append(_Window(h.hold_id, h.from_date, h.to_date, enterprise_id=h.enterprise_id))
    if cols.plate and cols.fleet:
        if cols.fleet not in fleets:
            fleets[cols.fleet] = _fleet_windows(lake, cols.fleet, holds)
        out.extend(fleets[cols.fleet])
    return out


def _window_sql(w: _Window, cols: RetentionColumns, kinds: dict[str, str]) -> str:
    hold_time = cols.hold_time or cols.time
    if w.plate is not None and cols.plate:
        plate, color = cols.plate
        subject = (
            f"{_equals(plate, kinds[plate], w.plate)} AND "
            f"{_equals(color, kinds[color], w.plate_color)}"
        )
    else:
        assert cols.enterprise is not None
        subject = _equals(cols.enterprise, kinds[cols.enterprise], w.enterprise_id)
    return f"({subject} AND {_in_range(hold_time, kinds[hold_time], w.start, w.end)})"


def _held_sql(
    windows: Iterable[_Window], cols: RetentionColumns, kinds: dict[str, str]
) -> dict[str, str]:
    """hold_id → SQL true for the rows it keeps (null-safe)."""
    by_hold: dict[str, list[str]] = {}
    for w in windows:
        by_hold.setdefault(w.hold_id, []).append(_window_sql(w, cols, kinds))
    return {h: f"COALESCE({' OR '.join(parts)}, FALSE)" for h, parts in by_hold.items()}


def _kinds(delta: DeltaTable, table: Table, cols: RetentionColumns) -> dict[str, str]:
    """Column → Delta type name, after checking the declared columns exist and can date a row."""
    kinds = {f.name: getattr(f.type, "type", "struct") for f in delta.schema().fields}
    needed = [cols.time, cols.hold_time, *(cols.plate or ()), cols.enterprise]
    missing = [c for c in needed if c and c not in kinds]
    if missing:
        raise RetentionError(f"{table.name} has no column(s) {missing} its retention declares")
    for c in (cols.time, cols.hold_time):
        if c and kinds[c] not in TIME_TYPES:
            raise RetentionError(f"{table.name}.{c} ({kinds[c]}) cannot date a row")
    return kinds


def _count(delta: DeltaTable, where: str, held: dict[str, str]) -> tuple[int, dict[str, int], int]:
    """Rows matching ``where``; per hold, those it keeps; those any hold keeps."""
    names = list(held)
    any_held = " OR ".join(f"({held[h]})" for h in names) or "FALSE"
    sums = [f"SUM(CASE WHEN {held[h]} THEN 1 ELSE 0 END) AS h{i}" for i, h in enumerate(names)]
    sql = ", ".join([
        "count(*) AS n", f"SUM(CASE WHEN {any_held} THEN 1 ELSE 0 END) AS held", *sums
    ])  # fmt: skip
    reader = QueryBuilder().register("t", delta).execute(f"SELECT {sql} FROM t WHERE {where}")
    row = pa.table(reader.read_all()).to_pylist()[0]
    per_hold = {h: int(row[f"h{i}"] or 0) for i, h in enumerate(names)}
    return int(row["n"] or 0), {h: n for h, n in per_hold.items() if n}, int(row["held"] or 0)


def _needs_vacuum(delta: DeltaTable) -> bool:
    """A DELETE newer than the last VACUUM: its removed files may still be on disk."""
    for commit in delta.history():
        operation = commit.get("operation", "")
        if operation == "VACUUM END":
            return False
        if operation == "DELETE":
            return True
    return False


def run_retention(
    lake: Path,
    rules: dict[str, Any],
    as_of: dt.date | None = None,
    *,
    dry_run: bool = False,
    by: str = "system",
    progress: Callable[[str], None] | None = None,
) -> RetentionRun:
    """Delete every row past its table's period (the whole rules file's ``retention`` sections)
    that no current hold covers, vacuum, and record one event per table. Everything is checked
    (as-of date, periods, declared columns) before the first table is touched."""
    say = progress or (lambda _m: None)
    as_of = as_of or today()
    check_as_of(as_of)
    plan = periods(rules)
    holds = list_holds(lake)
    run = RetentionRun(uuid.uuid4().hex[:12], as_of, dry_run, len(holds), [])
    fleets: dict[str, list[_Window]] = {}
    work = []
    for table in registry.all_tables():
        days = plan.get(table.name)
        if days is None:
            continue
        result = TableResult(table.name, days, table.retention_days or 0,
                             as_of - dt.timedelta(days=days))  # fmt: skip
        run.tables.append(result)
        if not table.exists(lake):
            result.present = False
            continue
        delta = DeltaTable(str(table.location(lake)))
        cols = table.retention_columns
        assert cols is not None  # periods() checked it
        kinds = _kinds(delta, table, cols)
        held = _held_sql(_windows(lake, cols, holds, fleets), cols, kinds)
        work.append((table, result, delta, cols, kinds, held))
    retries = conflict_retries(rules)
    for table, result, delta, cols, kinds, held in work:
        past = f"{_col(cols.time, kinds[cols.time])} < {_lit(result.cutoff)}"
        if dry_run:
            result.rows_past, result.held_by, result.rows_held = _count(delta, past, held)
            result.rows_deleted = result.rows_past - result.rows_held
            result.version = delta.version()
            continue
        deleted = retry_conflicts(
            functools.partial(_delete, delta, past, held, result), retries=retries
        )
        result.rows_deleted = deleted
        if _needs_vacuum(delta):
            removed = delta.vacuum(
                retention_hours=0, dry_run=False, enforce_retention_duration=False
            )
            result.files_removed = len(removed)
        result.version = delta.version()
        if table.layer == "bronze" and (deleted or result.files_removed):
            # like a landing, a bronze writer records its commits in the tamper-evidence manifest,
            # so `lakehouse verify` counts the vacuumed files as removed, not as missing
            from transforms.lake import manifest

            manifest.record(lake)
        _record(lake, run, result, by)
        say(
            f"{table.name}: {deleted:,} row(s) deleted before {result.cutoff}, "
            f"{result.rows_held:,} kept by holds, {result.files_removed} file(s) removed"
        )
    return run


def _delete(delta: DeltaTable, past: str, held: dict[str, str], result: TableResult) -> int:
    """Count, then DELETE the rows ``past`` the cutoff that no hold keeps, on the table as it is
    now (a DELETE that lost to a concurrent commit is planned again on the newer version)."""
    delta.update_incremental()
    result.rows_past, result.held_by, result.rows_held = _count(delta, past, held)
    if result.rows_past == result.rows_held:
        return 0
    keep = " OR ".join(f"({h})" for h in held.values())
    metrics = delta.delete(f"{past} AND NOT ({keep})" if keep else past)
    return int(metrics.get("num_deleted_rows", 0))


def _record(lake: Path, run: RetentionRun, result: TableResult, by: str) -> None:
    row = {
        "run_id": run.run_id, "table_name": result.table, "as_of": run.as_of,
        "period_days": result.period_days, "cutoff": result.cutoff,
        "rows_deleted": result.rows_deleted, "rows_held": result.rows_held,
        "held_by": json.dumps(result.held_by, sort_keys=True),
        "files_removed": result.files_removed, "by": by, "at": now_beijing(),
    }  # fmt: skip
    rows = pa.Table.from_pylist([row], DELETION_SCHEMA)
    # a blind append: a commit lost to a concurrent writer wrote nothing, so it is made again
    retry_conflicts(lambda: write_deltalake(str(DELETIONS.location(lake)), rows, mode="append"))


def deletions(lake: Path) -> list[dict[str, Any]]:
    """Every recorded deletion event, oldest first."""
    if not DELETIONS.exists(lake):
        return []
    rows = DeltaTable(str(DELETIONS.location(lake))).to_pyarrow_table().to_pylist()
    return sorted(rows, key=lambda r: (r["at"], r["table_name"]))

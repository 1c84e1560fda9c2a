"""Tamper evidence (licences.md "Data protection", 第十七条 不得擅自泄露、删除、篡改): an append-only
SM3 manifest (``ops.manifest``) of every landed file and of every file a bronze Delta commit wrote,
and :func:`verify`, which recomputes the digests and names every file that no longer matches.

One row per recorded file, of four kinds:

- ``landed_file`` — a file of the landing zone, with the digest the ledger (``ops.landing__files``)
  took while the file was landed. It is never hashed again at record time: a file changed between
  landing and recording is not blessed, it is reported.
- ``delta_log`` — a bronze commit ``_delta_log/<version>.json``, hashed when first recorded.
- ``data_file`` — a data file a bronze commit added (its ``add`` / ``cdc`` actions), hashed when
  its commit is first recorded (a file added by a commit whose log entry had already expired
  before the lake was first recorded is recorded from the checkpoint that lists it, under that
  checkpoint's version).
- ``checkpoint`` — a ``_delta_log/<version>.checkpoint.parquet`` delta-rs wrote (every
  ``delta.checkpointInterval`` commits), hashed when first seen. ``_last_checkpoint`` is a
  pointer delta-rs rewrites in place, not a record: it is not in the manifest.

:func:`record` adds what is not in the manifest yet and never updates or deletes a row; it is
called right after every landing (``orchestration.defs.protection.record_manifest`` at the end of
each domain's landing assets, so ``lakehouse run``, the schedules, the sensor and the UI all
record) and by ``lakehouse manifest record``. :func:`verify` only reads: recording during a
verification would bless whatever had been changed since.

What is a mismatch, and what is not:

- a landed file whose bytes differ from its manifest or ledger digest, or that is missing (a
  corrected file must come under a new name: a file re-delivered under a landed name stays
  reported, that is the evidence);
- a recorded ``_delta_log`` entry or checkpoint that changed, or is missing — except one that
  delta-rs's expired-log clean-up removed: older than the table's ``delta.logRetentionDuration``
  (clean-up enabled), behind a later checkpoint that is recorded and still matches (counted as
  ``expired``);
- a recorded data file that changed, or is missing while the table still references it at the
  last recorded version. A data file that a recorded commit removed (a re-landing's
  ``DeltaTable.delete``, retention, compaction) and that ``VACUUM`` then deleted is not a
  mismatch (counted as ``removed``); while it is still on disk it is checked like any other;
- a data file the table references at its last recorded version that was never recorded.

Commits newer than the manifest are not checked (``unrecorded_commits``): the next landing
records them. Landed files not yet in the manifest are still checked against the ledger
(``unrecorded_files``).

Not covered, as the spec asks only for landed files and the bronze layer: rejected files,
quarantine / silver / gold / ops tables (rebuilt from bronze), and the manifest itself — whoever
can rewrite both a file and ``ops.manifest`` can hide it (anchoring the manifest outside the lake,
e.g. an SM2-signed daily digest, would close that). Recordings of one lake are serialised by a
lock file (``ops/.manifest.lock``); should two ever race, a row recorded twice counts once.
"""

from __future__ import annotations

import datetime as dt
import fcntl
import json
import re
from collections import defaultdict
from collections.abc import Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlparse

import pyarrow as pa
from deltalake import DeltaTable, write_deltalake

from transforms.crypto import sm3_bytes, sm3_file
from transforms.lake import registry
from transforms.lake.clock import BEIJING, TS, now_beijing
from transforms.lake.conflicts import retry_conflicts
from transforms.lake.ledger import FILES

MANIFEST = next(t for t in registry.SHARED_TABLES if t.name == "ops.manifest")
KINDS = ("landed_file", "delta_log", "data_file", "checkpoint")
SCHEMA = pa.schema(
    [
        ("kind", pa.string()),  # one of KINDS
        ("table_name", pa.string()),  # the bronze table of a Delta file; null for a landed file
        ("version", pa.int64()),  # the commit (or checkpoint) version; null for a landed file
        ("path", pa.string()),  # relative to the lake
        ("size_bytes", pa.int64()),
        ("sm3", pa.string()),  # hex
        ("written_at", TS),  # landed_at of a landed file, else the commit's timestamp
        ("recorded_at", TS),
    ]
)
LOG_ENTRY = re.compile(r"^(\d{20})\.json$")
CHECKPOINT = re.compile(r"^(\d{20})\.checkpoint(?:\.\d+\.\d+)?\.parquet$")
# delta-rs's defaults when a table does not set them
DEFAULT_LOG_RETENTION = dt.timedelta(days=30)
_UNITS = {
    "microsecond": dt.timedelta(microseconds=1),
    "millisecond": dt.timedelta(milliseconds=1),
    "second": dt.timedelta(seconds=1),
    "minute": dt.timedelta(minutes=1),
    "hour": dt.timedelta(hours=1),
    "day": dt.timedelta(days=1),
    "week": dt.timedelta(weeks=1),
}
HASH_THREADS = 4


def bronze_tables(lake: Path) -> list[str]:
    """Every bronze Delta table found in the lake (of any domain, registered or not)."""
    return [name for name in registry.discover(lake) if name.startswith("bronze.")]


def manifest_rows(lake: Path) -> list[dict[str, Any]]:
    """Every row of the manifest (empty before the first recording), timestamps as GMT+8
    wall-clock values."""
    if not MANIFEST.exists(lake):
        return []
    return _wall_clock(DeltaTable(str(MANIFEST.location(lake))).to_pyarrow_table())


def _ledger(lake: Path) -> list[dict[str, Any]]:
    if not FILES.exists(lake):
        return []
    columns = ["file_path", "file_sm3", "size_bytes", "landed_at"]
    return _wall_clock(DeltaTable(str(FILES.location(lake))).to_pyarrow_table(columns=columns))


def _wall_clock(table: pa.Table) -> list[dict[str, Any]]:
    """Rows with the lake's timestamps as naive GMT+8 wall-clock values (the clock convention)."""
    rows = table.to_pylist()
    for row in rows:
        for key, value in row.items():
            if isinstance(value, dt.datetime) and value.tzinfo is not None:
                row[key] = value.replace(tzinfo=None)
    return rows


def _rel(lake: Path, path: Path) -> str:
    try:
        return path.relative_to(lake).as_posix()
    except ValueError:  # a data file outside the lake (an absolute URI in the log)
        return path.as_posix()


def _table_dir(lake: Path, name: str) -> Path:
    layer, entity = name.split(".", 1)
    return lake / layer / entity


def _log_files(table_dir: Path) -> tuple[dict[int, Path], dict[int, Path]]:
    """The table's commit entries and checkpoints on disk, by version."""
    entries: dict[int, Path] = {}
    checkpoints: dict[int, Path] = {}
    log = table_dir / "_delta_log"
    if log.is_dir():
        for child in log.iterdir():
            if m := LOG_ENTRY.match(child.name):
                entries[int(m.group(1))] = child
            elif m := CHECKPOINT.match(child.name):
                checkpoints[int(m.group(1))] = child
    return entries, checkpoints


def _data_file(table_dir: Path, raw: str) -> Path:
    """The local file of a path in the log (relative and percent-encoded, or an absolute URI)."""
    if "://" in raw:
        return Path(unquote(urlparse(raw).path))
    return table_dir / unquote(raw)


def _commit(data: bytes) -> tuple[list[str], dt.datetime | None]:
    """The data files a commit entry adds (``add``, ``cdc``) and its timestamp (GMT+8)."""
    added: list[str] = []
    at = None
    for line in data.splitlines():
        if not line.strip():
            continue
        action = json.loads(line)
        for kind in ("add", "cdc"):
            if kind in action:
                added.append(action[kind]["path"])
        if "commitInfo" in action and "timestamp" in action["commitInfo"]:
            at = _beijing(action["commitInfo"]["timestamp"])
    return added, at


def _beijing(epoch_ms: int) -> dt.datetime:
    return dt.datetime.fromtimestamp(epoch_ms / 1000, BEIJING).replace(tzinfo=None)


def _mtime(path: Path) -> dt.datetime:
    return dt.datetime.fromtimestamp(path.stat().st_mtime, BEIJING).replace(tzinfo=None)


def _live(table_dir: Path, version: int | None = None) -> set[str] | None:
    """Paths (relative to the table, decoded) of the data files the table references at
    ``version`` (default: the latest); None when that state cannot be read."""
    try:
        table = DeltaTable(str(table_dir), version=version)
        paths = table.get_add_actions(flatten=False).column("path").to_pylist()
    except Exception:  # a damaged or expired log: the caller reports what is missing
        return None
    return {_rel(table_dir, _data_file(table_dir, p)) for p in paths}


@contextmanager
def _locked(lake: Path) -> Iterator[None]:
    """One recording at a time per lake (landing assets of a job may end together)."""
    lock = lake / "ops" / ".manifest.lock"
    lock.parent.mkdir(parents=True, exist_ok=True)
    with open(lock, "a") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def record(lake: Path) -> dict[str, int]:
    """Add to the manifest every landed file of the ledger and every file of every bronze commit
    not recorded yet; returns how many rows of each kind were added (all zero: nothing new, and
    nothing written). Never changes or removes a row. Idempotent: a commit lost to a writer
    outside the lake's lock is recorded again from a fresh read (transforms/lake/conflicts.py)."""
    with _locked(lake):
        return retry_conflicts(lambda: _record(lake))


def _record(lake: Path) -> dict[str, int]:
    existing = manifest_rows(lake)
    landed = {(r["path"], r["sm3"]) for r in existing if r["kind"] == "landed_file"}
    delta_paths = {r["path"] for r in existing if r["kind"] != "landed_file"}
    commits = {
        (r["table_name"], r["version"]): r["written_at"]
        for r in existing
        if r["kind"] == "delta_log"
    }
    now = now_beijing()
    new: list[dict[str, Any]] = []

    def add(kind: str, path: str, sm3: str, size: int, written_at, name=None, version=None):
        new.append(
            {
                "kind": kind,
                "table_name": name,
                "version": version,
                "path": path,
                "size_bytes": size,
                "sm3": sm3,
                "written_at": written_at,
                "recorded_at": now,
            }
        )
        if kind == "landed_file":
            landed.add((path, sm3))
        else:
            delta_paths.add(path)

    for f in _ledger(lake):  # the digest taken at landing, not the file as it is now
        if (f["file_path"], f["file_sm3"]) not in landed:
            add("landed_file", f["file_path"], f["file_sm3"], f["size_bytes"], f["landed_at"])

    for name in bronze_tables(lake):
        table_dir = _table_dir(lake, name)
        entries, checkpoints = _log_files(table_dir)
        for version in sorted(entries):
            if (name, version) in commits:
                continue
            entry = entries[version]
            data = entry.read_bytes()
            added, at = _commit(data)
            at = at or _mtime(entry)
            commits[(name, version)] = at
            add("delta_log", _rel(lake, entry), sm3_bytes(data), len(data), at, name, version)
            for raw in added:
                path = _data_file(table_dir, raw)
                rel = _rel(lake, path)
                if rel not in delta_paths and path.is_file():  # gone already: nothing to protect
                    add("data_file", rel, sm3_file(path), path.stat().st_size, at, name, version)
        for version in sorted(checkpoints):
            path = checkpoints[version]
            rel = _rel(lake, path)
            if rel not in delta_paths:
                at = commits.get((name, version)) or _mtime(path)
                add("checkpoint", rel, sm3_file(path), path.stat().st_size, at, name, version)
        if entries and min(entries) > 0 and checkpoints:
            # log entries expired before the first recording: the files they added are listed
            # by the oldest checkpoint only
            base = min(checkpoints)
            for rel_in_table in sorted(_live(table_dir) or ()):
                path = table_dir / rel_in_table
                rel = _rel(lake, path)
                if rel not in delta_paths and path.is_file():
                    at = commits.get((name, base)) or _mtime(checkpoints[base])
                    add("data_file", rel, sm3_file(path), path.stat().st_size, at, name, base)

    if new:
        write_deltalake(
            str(MANIFEST.location(lake)), pa.Table.from_pylist(new, SCHEMA), mode="append"
        )
    return {kind: sum(1 for r in new if r["kind"] == kind) for kind in KINDS}


def _digests(lake: Path, paths: Iterable[str]) -> dict[str, str | None]:
    """SM3 of each file (relative to the lake) as it is now; None for a missing file."""

    def digest(rel: str) -> str | None:
        path = lake / rel
        return sm3_file(path) if path.is_file() else None

    wanted = sorted(set(paths))
    with ThreadPoolExecutor(HASH_THREADS, thread_name_prefix="verify-sm3") as pool:
        return dict(zip(wanted, pool.map(digest, wanted), strict=True))


def log_retention(configuration: dict[str, str]) -> dt.timedelta | None:
    """How long delta-rs keeps a log entry behind a checkpoint (None: clean-up disabled)."""
    if configuration.get("delta.enableExpiredLogCleanup", "true").lower() == "false":
        return None
    value = configuration.get("delta.logRetentionDuration", "")
    m = re.fullmatch(r"\s*interval\s+(\d+)\s+([a-z]+?)s?\s*", value.lower())
    if not m or m.group(2) not in _UNITS:
        return DEFAULT_LOG_RETENTION
    return int(m.group(1)) * _UNITS[m.group(2)]


def verify(lake: Path) -> dict[str, Any]:
    """Recompute the SM3 of every recorded file (and of every landed file of the ledger) and
    compare. Reads only; the keys of the protection CLI (licences.md):

    ``files_checked`` (files whose bytes were compared, missing ones included),
    ``commits_checked`` (recorded bronze commits), ``mismatches`` (``[{path, expected,
    actual}]``, sorted by path; ``actual`` null for a missing file, ``expected`` null for a
    referenced data file that was never recorded), and ``removed`` (data files removed by a
    recorded commit and vacuumed), ``expired`` (log entries and checkpoints delta-rs cleaned up
    behind a verified checkpoint), ``unrecorded_commits``, ``unrecorded_files``.
    """
    rows = manifest_rows(lake)
    now = now_beijing()
    report = Report()

    # landed files: every digest ever recorded for a path (manifest first, then the ledger)
    expected: dict[str, list[str]] = defaultdict(list)
    for r in rows:
        if r["kind"] == "landed_file" and r["sm3"] not in expected[r["path"]]:
            expected[r["path"]].append(r["sm3"])
    recorded_landed = {(r["path"], r["sm3"]) for r in rows if r["kind"] == "landed_file"}
    ledger = {(f["file_path"], f["file_sm3"]) for f in _ledger(lake)}
    for path, digest in sorted(ledger):
        if digest not in expected[path]:
            expected[path].append(digest)
    report.unrecorded_files = len(ledger - recorded_landed)

    # Delta files by table and kind (a path two concurrent recordings both added counts once)
    by_table: dict[str, dict[str, dict[str, dict]]] = defaultdict(lambda: defaultdict(dict))
    for r in rows:
        if r["kind"] != "landed_file":
            by_table[r["table_name"]][r["kind"]].setdefault(r["path"], r)
    plans = {
        name: _plan(lake, name, by_table.get(name, {}))
        for name in sorted(set(by_table) | set(bronze_tables(lake)))
    }
    actual = _digests(lake, set(expected).union(*(p["present"] for p in plans.values())))

    for path, digests in expected.items():
        for digest in digests:
            report.compare(path, digest, actual[path])

    for name, plan in plans.items():
        kinds = by_table.get(name, {})
        logs, checkpoints = kinds.get("delta_log", {}), kinds.get("checkpoint", {})
        data_files = kinds.get("data_file", {})
        report.commits_checked += len({r["version"] for r in logs.values()})
        last = max((r["version"] for r in logs.values()), default=-1)
        report.unrecorded_commits += sum(1 for v in plan["entries"] if v > last)
        present = plan["present"]

        # log entries and checkpoints; behind a checkpoint that still matches, delta-rs may
        # have cleaned up the expired ones
        verified = [
            r["version"] for p, r in checkpoints.items() if p in present and actual[p] == r["sm3"]
        ]
        retention = log_retention(plan["configuration"])
        for path, r in (*logs.items(), *checkpoints.items()):
            if path in present:
                report.compare(path, r["sm3"], actual[path])
            elif (
                retention is not None
                and any(v > r["version"] for v in verified)
                and r["written_at"] < now - retention
            ):
                report.expired += 1
            else:
                report.compare(path, r["sm3"], None)

        # data files: checked while on disk; gone is fine once a recorded commit removed them
        live = plan["live"]
        for path, r in data_files.items():
            if path in present:
                report.compare(path, r["sm3"], actual[path])
            elif live is not None and path not in live:
                report.removed += 1
            else:
                report.compare(path, r["sm3"], None)
        for path in sorted((live or set()) - set(data_files)):  # referenced, never recorded
            file = lake / path
            report.compare(path, None, sm3_file(file) if file.is_file() else None)
    return report.as_dict()


@dataclass
class Report:
    """What :func:`verify` found."""

    checked: set[str] = field(default_factory=set)
    mismatches: list[dict[str, str | None]] = field(default_factory=list)
    commits_checked: int = 0
    removed: int = 0
    expired: int = 0
    unrecorded_commits: int = 0
    unrecorded_files: int = 0

    def compare(self, path: str, expected: str | None, actual: str | None) -> None:
        self.checked.add(path)
        if expected is None or actual != expected:
            self.mismatches.append({"path": path, "expected": expected, "actual": actual})

    def as_dict(self) -> dict[str, Any]:
        return {
            "files_checked": len(self.checked),
            "commits_checked": self.commits_checked,
            "mismatches": sorted(self.mismatches, key=lambda m: (m["path"], m["expected"] or "")),
            "removed": self.removed,
            "expired": self.expired,
            "unrecorded_commits": self.unrecorded_commits,
            "unrecorded_files": self.unrecorded_files,
        }


def _plan(lake: Path, name: str, kinds: dict[str, dict[str, dict]]) -> dict[str, Any]:
    """What is on disk for one table: its log entries, which recorded files are present, its
    configuration and the data files it references at its last recorded version."""
    table_dir = _table_dir(lake, name)
    entries, _ = _log_files(table_dir)
    recorded = [p for group in kinds.values() for p in group]
    present = {p for p in recorded if (lake / p).is_file()}
    logs = kinds.get("delta_log", {})
    live = None
    configuration: dict[str, str] = {}
    if logs:
        last = max(r["version"] for r in logs.values())
        in_table = _live(table_dir, last)
        if in_table is None:  # the last recorded version cannot be read: the latest, if any
            in_table = _live(table_dir)
        if in_table is not None:
            live = {_rel(lake, table_dir / p) for p in in_table}
    try:
        configuration = dict(DeltaTable(str(table_dir)).metadata().configuration)
    except Exception:  # an unreadable log: its missing entries are reported
        pass
    return {"entries": entries, "present": present, "live": live, "configuration": configuration}

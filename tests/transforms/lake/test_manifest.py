"""Tamper evidence: the append-only SM3 manifest (ops.manifest) of landed files and bronze commits,
and its verification. A tiny test feed lands real files through `land_feed`, so the bronze
commits, data files and ledger digests are the ones landing writes."""

import datetime as dt
import json

import pytest
from deltalake import DeltaTable

from transforms.crypto import sm3_file
from transforms.lake import manifest
from transforms.lake.feeds import Feed
from transforms.lake.landing import land_feed
from transforms.lake.registry import Table

DAY1, DAY2 = dt.date(2026, 11, 2), dt.date(2026, 11, 3)
FEED = Feed("sigma", "orders", ("order_id", "amount"), (".jsonl",), by_day=True)
BRONZE = "bronze/sigma__orders"
CLEAN = {"mismatches": [], "removed": 0, "expired": 0, "unrecorded_commits": 0}


@pytest.fixture(autouse=True)
def _tables(monkeypatch):
    """Register the test feed's tables with the shared registry (as transforms/domains.py does)."""
    from transforms.lake import registry

    extra = tuple(
        Table(name, "test table", key=("_file_sm3", "_line"))
        for name in (FEED.bronze_table, FEED.quarantine_table)
    )
    shared = registry.SHARED_TABLES
    monkeypatch.setattr(registry, "all_tables", lambda: shared + extra)


def write(lake, day: dt.date, name: str, *ids: str) -> str:
    """A landing file of the feed; its path relative to the lake."""
    folder = lake / "landing" / FEED.domain / FEED.name / day.isoformat()
    folder.mkdir(parents=True, exist_ok=True)
    lines = [json.dumps({"order_id": i, "amount": len(i)}) for i in ids]
    (folder / name).write_text("\n".join(lines) + "\n", encoding="utf-8")
    return f"landing/{FEED.domain}/{FEED.name}/{day.isoformat()}/{name}"


def flip(path) -> None:
    """Change one byte in the middle of a file."""
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0x01
    path.write_bytes(bytes(data))


def data_files(lake) -> set[str]:
    """The bronze table's data files on disk (relative to the lake)."""
    table = lake / BRONZE
    return {
        p.relative_to(lake).as_posix()
        for p in table.rglob("*.parquet")
        if p.parent.name != "_delta_log"
    }


def rows(lake) -> list[tuple]:
    return sorted(tuple(r.values()) for r in manifest.manifest_rows(lake))


def landed_lake(tmp_path):
    """Two landings: day 1 (two files, one bronze commit), then day 2 (one file, one commit)."""
    lake = tmp_path / "lake"
    write(lake, DAY1, "a.jsonl", "A1", "A2")
    write(lake, DAY1, "b.jsonl", "B1")
    assert land_feed(lake, FEED, [DAY1]).landed_files == 2
    write(lake, DAY2, "c.jsonl", "C1")
    assert land_feed(lake, FEED, [DAY2]).landed_files == 1
    return lake


def test_record_then_verify_clean_and_recording_again_adds_nothing(tmp_path):
    lake = landed_lake(tmp_path)
    assert manifest.verify(lake) == {  # nothing recorded yet: the ledger digests are checked
        "files_checked": 3,
        "commits_checked": 0,
        **CLEAN,
        "unrecorded_commits": 2,
        "unrecorded_files": 3,
    }

    counts = manifest.record(lake)
    assert counts == {"landed_file": 3, "delta_log": 2, "data_file": 2, "checkpoint": 0}
    recorded = manifest.manifest_rows(lake)
    assert {r["path"] for r in recorded if r["kind"] == "data_file"} == data_files(lake)
    assert {(r["path"], r["version"]) for r in recorded if r["kind"] == "delta_log"} == {
        (f"{BRONZE}/_delta_log/{v:020d}.json", v) for v in (0, 1)
    }
    ledger = DeltaTable(str(lake / "ops/landing__files")).to_pyarrow_table().to_pylist()
    assert {(r["path"], r["sm3"]) for r in recorded if r["kind"] == "landed_file"} == {
        (f["file_path"], f["file_sm3"]) for f in ledger
    }
    assert all(r["sm3"] == sm3_file(lake / r["path"]) for r in recorded)

    report = manifest.verify(lake)
    assert report == {"files_checked": 7, "commits_checked": 2, **CLEAN, "unrecorded_files": 0}

    version = DeltaTable(str(lake / "ops/manifest")).version()
    assert manifest.record(lake) == dict.fromkeys(manifest.KINDS, 0)
    assert DeltaTable(str(lake / "ops/manifest")).version() == version  # nothing written
    assert manifest.verify(lake) == report


def test_one_byte_changed_in_a_landed_file_and_in_a_bronze_data_file_are_both_reported(tmp_path):
    lake = landed_lake(tmp_path)
    manifest.record(lake)
    before = {r["path"]: r["sm3"] for r in manifest.manifest_rows(lake)}
    landed = "landing/sigma/orders/2026-11-02/b.jsonl"
    parquet = sorted(data_files(lake))[0]
    flip(lake / landed)
    flip(lake / parquet)

    report = manifest.verify(lake)
    assert report["mismatches"] == sorted(
        (
            {"path": p, "expected": before[p], "actual": sm3_file(lake / p)}
            for p in (landed, parquet)
        ),
        key=lambda m: m["path"],
    )
    assert before[landed] != sm3_file(lake / landed)
    assert (report["files_checked"], report["commits_checked"]) == (7, 2)


def test_a_file_changed_before_it_is_recorded_is_not_blessed(tmp_path):
    """Recording takes a landed file's digest from the ledger (taken while it was landed)."""
    lake = landed_lake(tmp_path)
    landed = "landing/sigma/orders/2026-11-03/c.jsonl"
    digest = sm3_file(lake / landed)
    (lake / landed).write_text('{"order_id": "C9", "amount": 9}\n', encoding="utf-8")
    manifest.record(lake)
    assert manifest.verify(lake)["mismatches"] == [
        {"path": landed, "expected": digest, "actual": sm3_file(lake / landed)}
    ]
    # and deleting it is reported too
    (lake / landed).unlink()
    assert manifest.verify(lake)["mismatches"] == [
        {"path": landed, "expected": digest, "actual": None}
    ]


def test_a_deleted_or_changed_log_entry_is_reported(tmp_path):
    lake = landed_lake(tmp_path)
    manifest.record(lake)
    recorded = {r["path"]: r["sm3"] for r in manifest.manifest_rows(lake)}
    first, second = (f"{BRONZE}/_delta_log/{v:020d}.json" for v in (0, 1))

    (lake / second).unlink()
    assert manifest.verify(lake)["mismatches"] == [
        {"path": second, "expected": recorded[second], "actual": None}
    ]
    with open(lake / first, "a") as fh:
        fh.write("\n")
    report = manifest.verify(lake)
    assert report["mismatches"] == [
        {"path": first, "expected": recorded[first], "actual": sm3_file(lake / first)},
        {"path": second, "expected": recorded[second], "actual": None},
    ]


def test_a_delete_and_a_vacuum_after_recording_are_not_mismatches(tmp_path):
    """A re-landing deletes rows with DeltaTable.delete (a commit removing a data file and adding
    its rewrite); a vacuum then deletes the removed file. Once that commit is recorded, the gone
    file is `removed`, not a mismatch; before, it is still referenced and reported."""
    lake = landed_lake(tmp_path)
    manifest.record(lake)
    first = rows(lake)
    table = DeltaTable(str(lake / BRONZE))
    day1_files = {p for p in data_files(lake) if "2026-11-02" in p}
    assert len(day1_files) == 1
    table.delete("order_id = 'A1'")

    report = manifest.verify(lake)  # the removed file is still on disk: checked, unchanged
    assert report == {"files_checked": 7, "commits_checked": 2, **CLEAN,
                      "unrecorded_commits": 1, "unrecorded_files": 0}  # fmt: skip

    table.vacuum(retention_hours=0, dry_run=False, enforce_retention_duration=False)
    assert not (lake / day1_files.copy().pop()).exists()
    unrecorded = manifest.verify(lake)  # removed by a commit the manifest does not know yet
    assert unrecorded["mismatches"] == [
        {"path": p, "expected": dict((r[3], r[5]) for r in first)[p], "actual": None}
        for p in day1_files
    ]

    counts = manifest.record(lake)
    assert (counts["delta_log"], counts["data_file"]) == (
        DeltaTable(str(lake / BRONZE)).version() - 1,
        1,
    )
    report = manifest.verify(lake)
    assert report["mismatches"] == [] and report["removed"] == 1
    assert report["files_checked"] == 7 - 1 + counts["delta_log"] + counts["data_file"]

    # the manifest only ever grows: every earlier row is still there, unchanged
    after = rows(lake)
    assert len(after) == len(first) + sum(counts.values())
    assert set(first) <= set(after)


def test_log_entries_expired_behind_a_checkpoint(tmp_path):
    """delta-rs writes a checkpoint every delta.checkpointInterval commits and then deletes log
    entries older than delta.logRetentionDuration: not a mismatch while the checkpoint behind
    which they went matches; a lake first recorded after that records the checkpoint's files."""
    lake = landed_lake(tmp_path)
    DeltaTable(str(lake / BRONZE)).alter.set_table_properties(
        {"delta.checkpointInterval": "2", "delta.logRetentionDuration": "interval 0 seconds"}
    )  # version 2
    manifest.record(lake)
    for day, name in ((dt.date(2026, 11, 4), "d.jsonl"), (dt.date(2026, 11, 5), "e.jsonl")):
        write(lake, day, name, name[0].upper() + "1")
        land_feed(lake, FEED, [day])  # versions 3 (checkpoint, clean-up), 4
        manifest.record(lake)
    log = lake / BRONZE / "_delta_log"
    assert sorted(p.name for p in log.iterdir() if p.name[0] != "_") == [
        "00000000000000000003.checkpoint.parquet",
        "00000000000000000003.json",
        "00000000000000000004.json",
    ]
    report = manifest.verify(lake)
    assert report == {"files_checked": 5 + 3 + 4, "commits_checked": 5, **CLEAN, "expired": 3,
                      "unrecorded_files": 0}  # fmt: skip

    # the checkpoint changed: nothing vouches for the expired entries any more
    flip(log / "00000000000000000003.checkpoint.parquet")
    paths = [m["path"] for m in manifest.verify(lake)["mismatches"]]
    assert paths == [f"{BRONZE}/_delta_log/{v:020d}.json" for v in (0, 1, 2)] + [
        f"{BRONZE}/_delta_log/00000000000000000003.checkpoint.parquet"
    ]


def test_a_lake_first_recorded_after_its_logs_expired(tmp_path):
    lake = landed_lake(tmp_path)
    DeltaTable(str(lake / BRONZE)).alter.set_table_properties(
        {"delta.checkpointInterval": "2", "delta.logRetentionDuration": "interval 0 seconds"}
    )
    write(lake, dt.date(2026, 11, 4), "d.jsonl", "D1")
    land_feed(lake, FEED)
    assert not (lake / BRONZE / "_delta_log" / "00000000000000000000.json").exists()

    counts = manifest.record(lake)
    assert counts == {"landed_file": 4, "delta_log": 1, "data_file": 3, "checkpoint": 1}
    assert {r["path"] for r in manifest.manifest_rows(lake) if r["kind"] == "data_file"} == (
        data_files(lake)
    )
    report = manifest.verify(lake)
    assert report["mismatches"] == [] and report["files_checked"] == 4 + 1 + 3 + 1


@pytest.mark.parametrize(
    ("configuration", "expected"),
    [
        ({}, dt.timedelta(days=30)),
        ({"delta.logRetentionDuration": "interval 7 days"}, dt.timedelta(days=7)),
        ({"delta.logRetentionDuration": "INTERVAL 1 hour"}, dt.timedelta(hours=1)),
        ({"delta.enableExpiredLogCleanup": "false"}, None),
    ],
)
def test_log_retention(configuration, expected):
    assert manifest.log_retention(configuration) == expected

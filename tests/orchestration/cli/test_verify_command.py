"""`lakehouse verify` and `lakehouse manifest record`: the spec's JSON keys, exit status 1 with
every mismatching path named, and verify never records."""

import datetime as dt
import json

import pytest
from click.testing import CliRunner

from orchestration.cli import main
from transforms.crypto import sm3_file
from transforms.lake.feeds import Feed
from transforms.lake.landing import land_feed
from transforms.lake.registry import Table

DAY = dt.date(2026, 11, 2)
FEED = Feed("tau", "orders", ("order_id", "amount"), (".jsonl",), by_day=True)
SPEC_KEYS = {"files_checked", "commits_checked", "mismatches"}


@pytest.fixture
def lake(tmp_path, monkeypatch):
    """A lake with two files of a test feed landed (one bronze commit, one data file)."""
    from transforms.lake import registry

    extra = tuple(Table(n, "test table") for n in (FEED.bronze_table, FEED.quarantine_table))
    shared = registry.SHARED_TABLES
    monkeypatch.setattr(registry, "all_tables", lambda: shared + extra)
    root = tmp_path / "lake"
    for name, ids in (("a.jsonl", ["A1", "A2"]), ("b.jsonl", ["B1"])):
        write(root, DAY, name, ids)
    assert land_feed(root, FEED).landed_files == 2
    return root


def write(root, day: dt.date, name: str, ids: list[str]) -> None:
    folder = root / "landing" / FEED.domain / FEED.name / day.isoformat()
    folder.mkdir(parents=True, exist_ok=True)
    text = "".join(json.dumps({"order_id": i, "amount": 1}) + "\n" for i in ids)
    (folder / name).write_text(text, encoding="utf-8")


def invoke(*args):
    return CliRunner().invoke(main, list(args))


def verify_json(root) -> tuple[int, dict]:
    result = invoke("verify", "--lake", str(root), "--format", "json")
    return result.exit_code, json.loads(result.stdout)


def test_record_then_verify_clean(lake):
    recorded = invoke("manifest", "record", "--lake", str(lake))
    assert recorded.exit_code == 0, recorded.output
    assert "2 landed_file, 1 delta_log, 1 data_file, 0 checkpoint" in recorded.output

    code, report = verify_json(lake)
    assert code == 0
    assert SPEC_KEYS <= set(report)
    assert (report["files_checked"], report["commits_checked"], report["mismatches"]) == (4, 1, [])

    table = invoke("verify", "--lake", str(lake))
    assert table.exit_code == 0, table.output
    assert table.output.splitlines()[0] == "files_checked 4, commits_checked 1, mismatches 0"


def test_tampering_exits_1_and_names_every_path(lake):
    invoke("manifest", "record", "--lake", str(lake))
    landed = lake / "landing/tau/orders/2026-11-02/a.jsonl"
    data_file = next(p for p in (lake / "bronze/tau__orders").rglob("*.parquet"))
    log_entry = lake / "bronze/tau__orders/_delta_log/00000000000000000000.json"
    expected = {p: sm3_file(p) for p in (landed, data_file, log_entry)}
    for path in (landed, data_file):
        data = bytearray(path.read_bytes())
        data[len(data) // 2] ^= 0x20
        path.write_bytes(bytes(data))
    log_entry.unlink()

    code, report = verify_json(lake)
    assert code == 1
    assert report["mismatches"] == sorted(
        (
            {
                "path": p.relative_to(lake).as_posix(),
                "expected": expected[p],
                "actual": sm3_file(p) if p.exists() else None,
            }
            for p in (landed, data_file, log_entry)
        ),
        key=lambda m: m["path"],
    )
    assert all(set(m) == {"path", "expected", "actual"} for m in report["mismatches"])

    table = invoke("verify", "--lake", str(lake), "--format", "table")
    assert table.exit_code == 1
    for p in (landed, data_file, log_entry):
        assert p.relative_to(lake).as_posix() in table.stdout
    assert "(missing)" in table.stdout and "3 file(s) do not match" in table.stderr


def test_verify_only_checks(lake):
    """Verifying never records: a file landed since the last recording stays unrecorded (it is
    checked against the ledger's digest), and the manifest table is not written."""
    invoke("manifest", "record", "--lake", str(lake))
    write(lake, dt.date(2026, 11, 3), "c.jsonl", ["C1"])
    land_feed(lake, FEED)
    manifest_log = lake / "ops/manifest/_delta_log"
    entries = sorted(p.name for p in manifest_log.iterdir())

    code, report = verify_json(lake)
    assert code == 0
    assert (report["unrecorded_files"], report["unrecorded_commits"]) == (1, 1)
    assert report["files_checked"] == 5
    assert sorted(p.name for p in manifest_log.iterdir()) == entries


def test_a_missing_lake_is_a_clear_error(tmp_path):
    result = invoke("verify", "--lake", str(tmp_path / "nowhere"))
    assert result.exit_code == 1 and "does not exist" in result.output

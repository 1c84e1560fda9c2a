"""A large landing file is landed block by block (bounded memory) with exactly the rows, line
numbers, quarantine and ledger entry of a whole-file landing; a crash between blocks leaves
nothing counted twice; a large CSV that is not UTF-8 is rejected whole."""

import json
from pathlib import Path

import pytest
from deltalake import DeltaTable

from transforms.lake import landing, native
from transforms.lake.landing import land_feed
from transforms.lake.protection import ProtectionKeys, reveal_table
from transforms.telematics.feeds import POSITION_FIELDS, POSITIONS

DAY = "2026-11-01"
DROP = ("_landed_at", "_quarantined_at")


def _jsonl(n: int) -> bytes:
    lines = []
    for i in range(n):
        if i % 97 == 5:
            lines.append("{broken")
        elif i % 89 == 3:
            lines.append("   ")
        else:
            record = {"plate": f"闽J{i:05d}", "plate_color": 2, "speed": i / 4, "lon": 118.1}
            lines.append(json.dumps(record, ensure_ascii=False))
    return ("\n".join(lines) + "\n").encode()


def _csv(n: int) -> bytes:
    rows = [",".join(POSITION_FIELDS)]
    for i in range(n):
        values = {"plate": f"闽J{i:05d}", "plate_color": "2", "speed": str(i % 120)}
        row = ",".join(values.get(f, "") for f in POSITION_FIELDS)
        rows.append("闽J,2" if i % 53 == 7 else row)  # a row of the wrong width now and then
    return ("\ufeff" + "\r\n".join(rows) + "\r\n").encode()


def _lake(root: Path, files: dict[str, bytes]) -> Path:
    folder = root / "landing/telematics/positions" / DAY
    folder.mkdir(parents=True)
    for name, data in files.items():
        (folder / name).write_bytes(data)
    return root


def _content(lake: Path, table: str) -> list[dict]:
    # encrypted columns compared by their clear values (each encryption draws a fresh IV)
    data = DeltaTable(str(lake / table)).to_pyarrow_table()
    rows = reveal_table(data, ProtectionKeys.load()).to_pylist()
    for row in rows:
        for column in DROP:
            row.pop(column, None)
    return sorted(rows, key=lambda r: (r["_source_file"], r["_line"]))


def _ledger(lake: Path) -> list[tuple]:
    rows = DeltaTable(str(lake / "ops/landing__files")).to_pyarrow_table().to_pylist()
    return sorted(
        (r["file_path"], r["file_sm3"], r["size_bytes"], r["lines"], r["records"], r["malformed"])
        for r in rows
    )


@pytest.fixture
def files() -> dict[str, bytes]:
    return {"a.jsonl": _jsonl(3000), "b.csv": _csv(2500), "c.jsonl": _jsonl(50)}


def _small_blocks(monkeypatch, block: int = 7000) -> None:
    monkeypatch.setattr(landing, "LARGE_FILE_BYTES", 10_000)
    monkeypatch.setattr(landing, "BLOCK_BYTES", block)
    monkeypatch.setattr(native, "NATIVE_MIN_BYTES", 1000)  # the blocks are parsed natively too


@pytest.mark.parametrize("block", [7000, 4096 * 3 + 1])
def test_block_by_block_lands_what_a_whole_file_landing_lands(tmp_path, monkeypatch, files, block):
    whole = _lake(tmp_path / "whole", files)
    land_feed(whole, POSITIONS)
    _small_blocks(monkeypatch, block)
    blocks = _lake(tmp_path / "blocks", files)
    said: list[str] = []
    result = land_feed(blocks, POSITIONS, progress=said.append, batch_rows=1000)
    assert any("records so far" in line for line in said)  # it did go block by block
    assert (result.landed_files, result.rejected_files) == (3, 0)
    for table in ("bronze/telematics__positions", "quarantine/telematics__positions"):
        assert _content(blocks, table) == _content(whole, table)
    assert _ledger(blocks) == _ledger(whole)
    quarantined = _content(blocks, "quarantine/telematics__positions")
    assert {r["_line"] for r in quarantined if r["_source_file"].endswith("a.jsonl")} == {
        i + 1 for i in range(3000) if i % 97 == 5
    }
    assert land_feed(blocks, POSITIONS).skipped_files == 3  # idempotent


def test_a_large_csv_without_the_required_columns_is_rejected_whole(tmp_path, monkeypatch):
    _small_blocks(monkeypatch)
    data = ("plate,speed\n" + "闽J00001,3\n" * 3000).encode()
    lake = _lake(tmp_path / "lake", {"short.csv": data})
    result = land_feed(lake, POSITIONS)
    assert (result.landed_files, result.rejected_files) == (0, 1)
    assert "lacks required columns" in result.errors[0]
    assert not (lake / "bronze/telematics__positions").exists()


def test_a_crash_between_blocks_leaves_nothing_counted_twice(tmp_path, monkeypatch, files):
    whole = _lake(tmp_path / "whole", files)
    land_feed(whole, POSITIONS)
    _small_blocks(monkeypatch)
    lake = _lake(tmp_path / "crash", files)
    real = landing._write_batch
    calls = []

    def dies_on_the_third_batch(*args):
        calls.append(1)
        if len(calls) == 3:
            raise OSError("disk gone")
        real(*args)

    monkeypatch.setattr(landing, "_write_batch", dies_on_the_third_batch)
    with pytest.raises(OSError, match="disk gone"):
        land_feed(lake, POSITIONS, batch_rows=1000)
    assert len(calls) == 3
    partial = DeltaTable(str(lake / "bronze/telematics__positions")).to_pyarrow_table()
    assert 0 < partial.num_rows  # a file's first blocks were written without its ledger entry
    monkeypatch.setattr(landing, "_write_batch", real)
    land_feed(lake, POSITIONS, batch_rows=1000)
    for table in ("bronze/telematics__positions", "quarantine/telematics__positions"):
        assert _content(lake, table) == _content(whole, table)
    assert _ledger(lake) == _ledger(whole)


def test_a_large_csv_that_is_not_utf8_is_rejected_whole(tmp_path, monkeypatch):
    data = _csv(2500)
    data = data[:-200] + b"\xff\xfe" + data[-198:]  # a bad byte near the end, past block one
    _small_blocks(monkeypatch)
    lake = _lake(tmp_path / "lake", {"bad.csv": data, "good.jsonl": _jsonl(400)})
    result = land_feed(lake, POSITIONS, batch_rows=1000)
    assert (result.landed_files, result.rejected_files) == (1, 1)
    assert "not UTF-8" in result.errors[0]
    bronze = _content(lake, "bronze/telematics__positions")
    assert {r["_source_file"].rsplit("/", 1)[1] for r in bronze} == {"good.jsonl"}
    rejected = DeltaTable(str(lake / "ops/landing__rejected_files")).to_pyarrow_table()
    assert rejected.column("file_path").to_pylist() == [
        f"landing/telematics/positions/{DAY}/bad.csv"
    ]

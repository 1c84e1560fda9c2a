"""Parsing landing files and landing them idempotently (transforms/lake/landing.py)."""

import json
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from pathlib import Path

import pytest
from deltalake import DeltaTable

from transforms.lake.landing import FileRejected, land_feed, parse_csv, parse_jsonl
from transforms.lake.protection import ProtectionKeys, reveal_table
from transforms.telematics.feeds import COUNTIES, POSITION_FIELDS, POSITIONS

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures"


def test_jsonl_keeps_good_lines_and_reports_malformed_ones():
    data = (
        '{"plate": "闽J12345", "plate_color": 2, "speed": 12.5}\n'
        "\n"
        "{broken\n"
        "[1, 2]\n"
        '{"plate": "闽J2", "extra": {"a": 1}}\n'
    ).encode()
    parsed = parse_jsonl(data, POSITIONS)
    assert parsed.lines == 4
    assert [line for line, _ in parsed.records] == [1, 5]
    assert parsed.records[0][1]["plate_color"] == "2"
    assert parsed.records[0][1]["speed"] == "12.5"
    assert parsed.records[0][1]["gnss_time"] is None
    assert [(line, err.split(":")[0]) for line, _, err, _rule in parsed.malformed] == [
        (3, "not JSON"),
        (4, "not a JSON object"),
    ]


def test_csv_maps_columns_by_header_and_flags_wrong_widths():
    header = ",".join(reversed(POSITION_FIELDS))
    row = ",".join(str(i) for i in range(len(POSITION_FIELDS)))
    parsed = parse_csv(f"{header}\n{row}\n1,2,3\n".encode(), POSITIONS)
    assert parsed.records[0][0] == 2
    assert parsed.records[0][1]["received_at"] == "0"  # first header column
    assert parsed.malformed[0][0] == 3


def test_csv_without_required_columns_is_rejected():
    with pytest.raises(FileRejected, match="lacks required columns"):
        parse_csv(b"plate,speed\n", POSITIONS)


def test_landing_twice_is_a_noop_and_lineage_is_kept(tmp_path):
    lake = tmp_path / "lake"
    folder = lake / "landing/telematics/counties/2026-11-01"
    folder.mkdir(parents=True)
    lines = [json.dumps({"county_code": "350902", "name": "蕉城区"}, ensure_ascii=False), "oops"]
    (folder / "a.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    (folder / "b.txt").write_text("x", encoding="utf-8")

    first = land_feed(lake, COUNTIES)
    second = land_feed(lake, COUNTIES)

    assert (first.landed_files, first.records, first.malformed, first.rejected_files) == (
        1,
        1,
        1,
        1,
    )
    assert (second.landed_files, second.skipped_files, second.records) == (0, 2, 0)
    bronze = DeltaTable(str(lake / "bronze/telematics__counties")).to_pyarrow_table().to_pylist()
    assert len(bronze) == 1
    row = bronze[0]
    assert row["_source_file"] == "landing/telematics/counties/2026-11-01/a.jsonl"
    assert row["_line"] == 1
    assert len(row["_file_sm3"]) == 64
    quarantine = DeltaTable(str(lake / "quarantine/telematics__counties")).to_pyarrow_table()
    assert quarantine.column("raw_record").to_pylist() == ["oops"]
    assert quarantine.column("failed_rules").to_pylist() == [["malformed_record"]]
    rejected = DeltaTable(str(lake / "ops/landing__rejected_files")).to_pyarrow_table().to_pylist()
    assert [r["file_path"].rsplit("/", 1)[1] for r in rejected] == ["b.txt"]
    assert "unsupported file type .txt" in rejected[0]["error"]


def test_a_pool_of_parsers_lands_the_same_rows_as_one_process(tmp_path, monkeypatch):
    """Large landings are parsed by spawned worker processes; the bronze rows, quarantine rows and
    file records must be exactly those of a landing in this process."""
    import transforms.lake.landing as landing

    rows = []
    for i in range(40):
        rows.append(json.dumps({"plate": f"闽J{i:05d}", "plate_color": 2, "speed": i / 3}))
    lakes = {}
    for workers in (1, 2):
        lake = tmp_path / f"lake{workers}"
        for day in ("2026-11-01", "2026-11-02"):
            folder = lake / "landing/telematics/positions" / day
            folder.mkdir(parents=True)
            for name in ("a", "b", "c"):
                (folder / f"{name}.jsonl").write_text(
                    "\n".join([*rows, "{broken", f'"{day}{name}"']) + "\n", encoding="utf-8"
                )
        monkeypatch.setattr(landing, "PARALLEL_MIN_BYTES", 0)
        result = land_feed(lake, POSITIONS, workers=workers)
        assert (result.landed_files, result.skipped_files, result.records) == (6, 0, 240)
        assert result.malformed == 12
        lakes[workers] = lake

    def content(lake: Path, table: str, drop: tuple[str, ...]) -> list[dict]:
        # encrypted columns compared by their clear values (each encryption draws a fresh IV)
        data = DeltaTable(str(lake / table)).to_pyarrow_table()
        rows = reveal_table(data, ProtectionKeys.load()).to_pylist()
        for r in rows:
            for column in drop:
                r.pop(column, None)
        return sorted(rows, key=lambda r: (r["_source_file"], r["_line"]))

    for table in ("bronze/telematics__positions", "quarantine/telematics__positions"):
        one = content(lakes[1], table, ("_landed_at", "_quarantined_at"))
        two = content(lakes[2], table, ("_landed_at", "_quarantined_at"))
        assert one == two and len(one) == (240 if table.startswith("bronze") else 12)
    files = {
        w: sorted(
            (r["file_path"], r["file_sm3"], r["records"], r["malformed"])
            for r in DeltaTable(str(lakes[w] / "ops/landing__files")).to_pyarrow_table().to_pylist()
        )
        for w in (1, 2)
    }
    assert files[1] == files[2]
    assert content(lakes[2], "bronze/telematics__positions", ())[0]["speed"] == "0.0"


def test_a_feed_with_its_own_parser_lands_the_same_in_a_pool_of_processes(tmp_path, monkeypatch):
    """JT/T frames are decoded in Python: a large landing of them goes to spawned processes
    (threads would take turns on the GIL); the rows are those of one process."""
    import datetime as dt
    import shutil

    from transforms.lake import landing
    from transforms.telematics.feeds import FRAMES
    from transforms.telematics.generate.landing import generate_landing

    generate_landing(tmp_path / "one", dt.date(2026, 10, 1), 2, 6, seed=4, bad_rate=0.02)
    shutil.copytree(tmp_path / "one" / "landing", tmp_path / "two" / "landing")
    monkeypatch.setattr(landing, "PARALLEL_MIN_BYTES", 0)
    results = {}
    for workers, name in ((1, "one"), (2, "two")):
        with landing._pool(FRAMES, workers) as pool:
            assert isinstance(pool, ThreadPoolExecutor if workers == 1 else ProcessPoolExecutor)
        results[name] = land_feed(tmp_path / name, FRAMES, workers=workers)
    assert results["one"].records == results["two"].records > 100
    assert results["one"].malformed == results["two"].malformed

    def content(lake: Path, table: str) -> list[str]:
        data = reveal_table(DeltaTable(str(lake / table)).to_pyarrow_table(), ProtectionKeys.load())
        rows = [
            {k: v for k, v in r.items() if k not in ("_landed_at", "_quarantined_at")}
            for r in data.to_pylist()
        ]
        return sorted(map(repr, rows))

    for table in ("bronze/telematics__positions", "quarantine/telematics__positions"):
        assert content(tmp_path / "one", table) == content(tmp_path / "two", table), table

"""The end-to-end baselines do our work from the same landing files: on the shared scenario zone
(every defect kind, duplicates, unknown vehicles, JT/T 809 and 808 frames, bad frames, a CSV
platform) each engine, run as the benchmark runs it, writes silver and quarantine positions,
facts, events and record counts equal to the tables our pipeline built, and computes our monthly
indicators. Nothing is timed."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pyarrow as pa
import pyarrow.dataset as ds
import pyarrow.parquet as pq
import pytest
from deltalake import DeltaTable

from orchestration.bench.harness import (
    _monthly_indicators_ours,
    compare_indicators,
    run_end_to_end,
)
from orchestration.bench.landing_files import decode_frames
from orchestration.bench.workload import normalise
from transforms.lake.protection import KINDS
from transforms.telematics.facts import EVENT_SCHEMA, FACT_SCHEMA, RECORD_COUNT_SCHEMA
from transforms.telematics.feeds import PHONE
from transforms.telematics.frames import encode_809, to_hex
from transforms.telematics.positions import QUARANTINE_COLUMNS, SILVER_COLUMNS

# lineage the baselines do not reproduce (no file digest, no line number of a JSON or CSV record,
# their own landing time) and the texts their readers write for an unparseable line
UNCOMPARED = {"_line", "_file_sm3", "_landed_at", "_quarantined_at", "raw_record", "error"}
# ours keeps the 808 SIM number protected, the baselines in clear (checked apart, below)
UNCOMPARED |= {"raw_record_sm4", *PHONE.columns}
# our table → (its columns compared, where each engine wrote it). Of byte-identical copies of a
# record (re-sent in another file) silver keeps one by lineage, the file digest deciding: the
# baselines keep the same values, maybe from the other file
TABLES = {
    "silver/telematics__positions": (
        [c for c in SILVER_COLUMNS if c not in {*UNCOMPARED, "_source_file"}],
        {"jvm_spark": "silver/telematics__positions", "duckdb": "silver_positions"},
    ),
    "quarantine/telematics__positions": (
        [c for c in QUARANTINE_COLUMNS if c not in UNCOMPARED],
        {
            "jvm_spark": "quarantine/telematics__positions",
            "duckdb": "quarantine_positions.parquet",
        },
    ),
    "silver/telematics__vehicle_day_facts": (
        FACT_SCHEMA.fieldNames(),
        {
            "jvm_spark": "silver/telematics__vehicle_day_facts",
            "duckdb": "vehicle_day_facts.parquet",
        },
    ),
    "silver/telematics__violation_events": (
        EVENT_SCHEMA.fieldNames(),
        {"jvm_spark": "silver/telematics__violation_events", "duckdb": "violation_events.parquet"},
    ),
    "silver/telematics__record_counts": (
        RECORD_COUNT_SCHEMA.fieldNames(),
        {"jvm_spark": "silver/telematics__record_counts", "duckdb": "record_counts.parquet"},
    ),
}
DAY_PARTITION = ds.partitioning(pa.schema([("day", pa.date32())]), flavor="hive")


def read_output(path: Path) -> pa.Table:
    """A Parquet file, or a directory of them partitioned by day (day typed as a date)."""
    if path.is_file():
        return pq.read_table(path)
    return ds.dataset(str(path), format="parquet", partitioning=DAY_PARTITION).to_table()


def rows(table: pa.Table, columns: list[str]) -> list[tuple]:
    """The rows' columns in a canonical order: timestamps without a zone, floats to 6 decimals,
    lists as tuples, and the quarantine's error only as present or not."""
    values = []
    for name in columns:
        column = table.column(name).to_pylist()
        values.append(
            [
                round(v, 6)
                if isinstance(v, float)
                else v.replace(tzinfo=None)
                if isinstance(v, dt.datetime)
                else tuple(v)
                if isinstance(v, list)
                else v
                for v in column
            ]
        )
    if "error" in table.column_names and "failed_rules" in columns:
        values.append([e is None for e in table.column("error").to_pylist()])
    return sorted(zip(*values, strict=True), key=repr)


@pytest.mark.slow
@pytest.mark.parametrize("engine", ["duckdb", "jvm_spark"])
def test_the_baseline_rebuilds_our_tables_from_the_landing_files(
    engine: str, pipeline_lake: Path, spark, tmp_path: Path
) -> None:
    result = run_end_to_end(engine, pipeline_lake / "landing", tmp_path, cores=2)
    out = tmp_path / f"e2e-{engine}"

    ours = normalise(_monthly_indicators_ours(spark, pipeline_lake))
    assert len(ours) > 5  # two months, several counties
    assert compare_indicators(engine, ours, result["indicators"]) is None
    bronze = DeltaTable(str(pipeline_lake / "bronze/telematics__positions")).to_pyarrow_table()
    malformed = DeltaTable(
        str(pipeline_lake / "quarantine/telematics__positions")
    ).to_pyarrow_table()
    landed_lines = bronze.num_rows + sum(e is not None for e in malformed["error"].to_pylist())
    assert result["records"] == landed_lines
    for table, (columns, written) in TABLES.items():
        expected = DeltaTable(str(pipeline_lake / table)).to_pyarrow_table()
        actual = read_output(out / written[engine])
        assert expected.num_rows > 0, table
        assert rows(actual, columns) == rows(expected, columns), table
    # the 808 SIM numbers: ours masked (and encrypted, hashed), the baseline's as it keeps them
    ours_silver = DeltaTable(str(pipeline_lake / "silver/telematics__positions")).to_pyarrow_table()
    theirs = read_output(out / TABLES["silver/telematics__positions"][1][engine])
    normalise_phone, mask_phone = KINDS["phone"]
    if PHONE.field in theirs.column_names:  # DuckDB works in clear
        masked = [
            mask_phone(normalise_phone(p)) if p else None for p in theirs[PHONE.field].to_pylist()
        ]
    else:
        masked = theirs[f"{PHONE.field}_masked"].to_pylist()
    expected_masked = ours_silver[f"{PHONE.field}_masked"].to_pylist()
    assert sorted(map(str, masked)) == sorted(map(str, expected_masked))
    assert any(m and "****" in m for m in expected_masked)  # 808 records were attached


def test_frames_decode_to_bronze_text_and_refused_lines_keep_their_reason() -> None:
    frame = to_hex(
        encode_809(
            platform_id="35090001", plate="闽J12345", plate_color=2,
            gnss_time="2026-10-01 08:00:00", lon=119.5, lat=26.65, speed=61.0,
            recorder_speed=60.0, mileage_km=1234.0, direction=90, altitude=12, state=3,
        )
    )  # fmt: skip
    data = f"2026-10-01 08:00:05\t{frame}\n\n2026-10-01 08:00:06\t{frame[:-4]}\n".encode()

    columns = decode_frames(data)

    assert columns["_line"] == [1, 3]
    assert columns["plate"] == ["闽J12345", None]
    assert columns["plate_color"] == ["2", None]
    assert columns["lon"] == ["119.5", None] and columns["speed"] == ["61.0", None]
    assert columns["received_at"] == ["2026-10-01 08:00:05", None]
    assert columns["source"] == ["jtt809", None]
    assert columns["_error"][0] is None and columns["_error"][1].startswith("bad_flags: ")
    assert columns["_raw"] == [None, f"2026-10-01 08:00:06\t{frame[:-4]}"]

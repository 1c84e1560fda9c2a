"""The shared landing machinery with more than one domain: the ledger keys files by (domain, feed),
the `.json` parser seam, a domain's own parser, constants and by-day partitioning from the feed."""

import datetime as dt
import json

import pyarrow as pa
from deltalake import DeltaTable

from transforms.lake.clock import now_beijing
from transforms.lake.feeds import Feed
from transforms.lake.landing import MALFORMED, ParsedFile, land_feed, parse_json
from transforms.lake.ledger import mark_published, pending_files
from transforms.lake.registry import Table

DAY = dt.date(2026, 11, 2)
# two domains with a feed of the same name (both land into tables of their own)
ALPHA = Feed("alpha", "orders", ("order_id", "amount"), (".jsonl", ".json"), by_day=True)
BETA = Feed("beta", "orders", ("order_id", "amount"), (".jsonl",), constants=(("amount", "0"),))


def _upper(data: bytes, feed: Feed) -> ParsedFile:
    """A domain's own parser: one record per line, the line's text upper-cased as order_id."""
    out = ParsedFile(feed.fields)
    for number, raw in enumerate(data.decode().splitlines(), start=1):
        out.lines += 1
        if raw.startswith("!"):
            out.malformed.append((number, raw, "bang", "malformed_thing"))
        else:
            out.add(number, {"order_id": raw.upper()})
    return out


GAMMA = Feed("alpha", "codes", ("order_id", "amount"), (".txt",), parsers=((".txt", _upper),))


def _tables(monkeypatch) -> None:
    """Register the test domains' tables with the shared registry (as transforms/domains.py does)."""
    from transforms.lake import registry

    extra = tuple(
        Table(name, "test table", key=("_file_sm3", "_line"))
        for f in (ALPHA, BETA, GAMMA)
        for name in (f.bronze_table, f.quarantine_table)
    )
    shared = registry.SHARED_TABLES
    monkeypatch.setattr(registry, "all_tables", lambda: shared + extra)


def _write(lake, feed: Feed, name: str, text: str) -> None:
    folder = lake / "landing" / feed.domain / feed.name / DAY.isoformat()
    folder.mkdir(parents=True, exist_ok=True)
    (folder / name).write_text(text, encoding="utf-8")


def test_pending_files_are_keyed_by_domain_and_feed(tmp_path, monkeypatch):
    _tables(monkeypatch)
    lake = tmp_path / "lake"
    _write(lake, ALPHA, "a.jsonl", json.dumps({"order_id": "A1", "amount": 5}) + "\n")
    _write(lake, BETA, "b.jsonl", json.dumps({"order_id": "B1", "amount": 7}) + "\n")
    assert land_feed(lake, ALPHA).records == 1
    assert land_feed(lake, BETA).records == 1

    alpha = pending_files(lake, ALPHA).column("file_sm3").to_pylist()
    beta = pending_files(lake, [BETA]).column("file_sm3").to_pylist()
    assert len(alpha) == len(beta) == 1 and alpha != beta
    mark_published(lake, alpha, now_beijing())
    assert pending_files(lake, ALPHA).num_rows == 0
    assert pending_files(lake, BETA).column("file_sm3").to_pylist() == beta

    # the feed's constants replace what the file says; by-day feeds are partitioned by folder
    beta_rows = DeltaTable(str(lake / "bronze/beta__orders")).to_pyarrow_table().to_pylist()
    assert [(r["order_id"], r["amount"]) for r in beta_rows] == [("B1", "0")]
    assert DeltaTable(str(lake / "bronze/alpha__orders")).metadata().partition_columns == [
        "_folder_date"
    ]
    assert DeltaTable(str(lake / "bronze/beta__orders")).metadata().partition_columns == []


def test_json_file_is_one_record_or_one_malformed_record(tmp_path, monkeypatch):
    parsed = parse_json(b'{"order_id": "E1", "amount": 1.5}', ALPHA)
    assert parsed.records == [(1, {"order_id": "E1", "amount": "1.5"})]
    for text, error in (("{broken", "not JSON"), ("[1]", "not a JSON object")):
        bad = parse_json(text.encode(), ALPHA)
        assert bad.n_records == 0
        assert [(line, err.split(":")[0], rule) for line, _, err, rule in bad.malformed] == [
            (1, error, MALFORMED)
        ]

    _tables(monkeypatch)
    lake = tmp_path / "lake"
    _write(lake, ALPHA, "envelope.json", '{"order_id": "E2",\n "amount": 3}')
    _write(lake, ALPHA, "broken.json", "{nope")
    result = land_feed(lake, ALPHA)
    assert (result.landed_files, result.records, result.malformed) == (2, 1, 1)
    quarantine = DeltaTable(str(lake / "quarantine/alpha__orders")).to_pyarrow_table()
    assert quarantine.column("raw_record").to_pylist() == ["{nope"]


def test_a_domain_parser_is_used_for_its_file_type(tmp_path, monkeypatch):
    _tables(monkeypatch)
    lake = tmp_path / "lake"
    _write(lake, GAMMA, "c.txt", "abc\n!bad\nxyz\n")
    _write(lake, GAMMA, "d.jsonl", "{}\n")  # not a file type of this feed
    result = land_feed(lake, GAMMA)
    assert (result.records, result.malformed, result.rejected_files) == (2, 1, 1)
    bronze = DeltaTable(str(lake / "bronze/alpha__codes")).to_pyarrow_table()
    assert bronze.column("order_id").to_pylist() == ["ABC", "XYZ"]
    quarantine = DeltaTable(str(lake / "quarantine/alpha__codes")).to_pyarrow_table()
    assert quarantine.column("failed_rules").to_pylist() == [["malformed_thing"]]
    assert quarantine.schema.field("error").type == pa.string()


def test_rows_written_come_from_the_log_and_an_empty_write_is_zero(tmp_path, spark):
    """Publish counts rows from the Delta log: Sail's numOutputRows, delta-rs' num_added_rows;
    an empty append commits nothing."""
    import pyarrow as pa
    from deltalake import write_deltalake

    from transforms.lake.maintenance import rows_written_since, table_version

    path = tmp_path / "t"
    assert table_version(path) is None
    write_deltalake(str(path), pa.table({"a": [1, 2]}))  # delta-rs
    assert rows_written_since(path, None) == 2
    before = table_version(path)
    spark.createDataFrame([], "a bigint").write.format("delta").mode("append").save(str(path))
    assert rows_written_since(path, before) == 0
    spark.createDataFrame([(3,), (4,), (5,)], "a bigint").write.format("delta").mode("append").save(
        str(path)
    )
    write_deltalake(str(path), pa.table({"a": [6]}), mode="append")
    assert rows_written_since(path, before) == 4

"""The quality owner's view of every domain's quarantine (issue 13, 数据质量): what was held back,
by feed, rule and landing day, and a few records of each to look at.

- ``ops.quarantine__counts``: quarantined records per quarantine table, rule and landing day (a
  record failing two rules counts once under each; a malformed line under ``malformed_record``).
- ``ops.quarantine__samples``: the latest :data:`SAMPLES_PER_RULE` records of each table and rule
  — source file, line, landing and quarantine time, the record as the table keeps it, the error.

Both are derived: rebuilt whole from the lake's quarantine tables (every ``quarantine.*`` table of
every domain, read with delta-rs; no engine) when a run that validated something ends
(transforms/lake/validations.py), so they are overwritten, not appended.
``ops.landing__rejected_files`` (the files landing could not read) is created empty where none was
ever rejected, so the quality owner's list of them exists.

Masked values only (access.md: the quality owner has no row filter but sees masked values): the
sample's ``record`` is the table's ``raw_record``, which for a feed with personal fields is the
masked preview landing wrote (transforms/lake/protection.py ``mask_text``; the line itself is
kept only encrypted, ``raw_record_sm4``, never read here); a feed without personal fields keeps
its line as received. The typed columns a quarantine table adds are not copied.
"""

from __future__ import annotations

from pathlib import Path

import duckdb
import pyarrow as pa
from deltalake import DeltaTable, write_deltalake

from transforms.lake import registry
from transforms.lake.clock import TS, now_beijing
from transforms.lake.ledger import REJECTED, REJECTED_SCHEMA

COUNTS = next(t for t in registry.SHARED_TABLES if t.name == "ops.quarantine__counts")
SAMPLES = next(t for t in registry.SHARED_TABLES if t.name == "ops.quarantine__samples")
SAMPLES_PER_RULE = 20
RECORD_CHARS = 1000  # a sample's record is cut there (a whole frame or document is long)
NO_RULE = "unknown"  # a quarantined row that names no rule

COUNTS_SCHEMA = pa.schema([
    ("domain", pa.string()),
    ("table_name", pa.string()),    # quarantine.<domain>__<feed>
    ("feed", pa.string()),
    ("rule", pa.string()),
    ("landed_on", pa.date32()),     # the GMT+8 day the record's file landed
    ("records", pa.int64()),
    ("refreshed_at", TS),
])  # fmt: skip
SAMPLES_SCHEMA = pa.schema([
    ("domain", pa.string()),
    ("table_name", pa.string()),
    ("feed", pa.string()),
    ("rule", pa.string()),
    ("sample_rank", pa.int64()),    # 1 = the latest landed
    ("source_file", pa.string()),   # relative to the lake
    ("line", pa.int64()),
    ("landed_at", TS),
    ("quarantined_at", TS),
    ("record", pa.string()),        # as kept: a masked preview for a feed with personal fields
    ("error", pa.string()),         # a malformed line's parse error
    ("refreshed_at", TS),
])  # fmt: skip
_READ = ["failed_rules", "raw_record", "error", "_source_file", "_line", "_landed_at",
         "_quarantined_at"]  # fmt: skip


def quarantine_tables(lake: Path) -> list[registry.Table]:
    """Every registered quarantine table of every domain that exists in ``lake``."""
    return [t for t in registry.all_tables() if t.layer == "quarantine" and t.exists(lake)]


def _read(table: registry.Table, lake: Path) -> pa.Table:
    dataset = DeltaTable(str(table.location(lake))).to_pyarrow_dataset()
    present = set(dataset.schema.names)
    data = dataset.to_table(columns=[c for c in _READ if c in present])
    for name in _READ:
        if name not in present:
            kind = {"failed_rules": pa.list_(pa.string()), "_line": pa.int64(),
                    "_landed_at": TS, "_quarantined_at": TS}.get(name, pa.string())  # fmt: skip
            data = data.append_column(name, pa.nulls(data.num_rows, kind))
    return data.select(_READ)


def refresh(lake: Path) -> int:
    """Rebuild ``ops.quarantine__counts`` and ``ops.quarantine__samples`` from every quarantine
    table of ``lake``; returns how many quarantined records the tables hold."""
    lake = Path(lake)
    now = now_beijing()
    counts, samples = [], []
    quarantined = 0
    con = duckdb.connect()
    try:
        for table in quarantine_tables(lake):
            domain, _, feed = table.entity.partition("__")
            data = _read(table, lake)
            quarantined += data.num_rows
            con.register("q", data)
            exploded = f"""
                SELECT coalesce(rule, '{NO_RULE}') AS rule, * EXCLUDE (failed_rules, rule)
                FROM (SELECT *, unnest(CASE WHEN len(coalesce(failed_rules, [])) = 0
                                            THEN [NULL] ELSE failed_rules END) AS rule FROM q)
            """
            for rule, landed_on, records in con.execute(f"""
                SELECT rule, CAST(_landed_at AT TIME ZONE 'UTC' AS DATE) AS landed_on, count(*)
                FROM ({exploded}) GROUP BY ALL ORDER BY ALL
            """).fetchall():  # fmt: skip
                counts.append({"domain": domain, "table_name": table.name, "feed": feed,
                               "rule": rule, "landed_on": landed_on, "records": records,
                               "refreshed_at": now})  # fmt: skip
            for row in con.execute(f"""
                SELECT rule, row_number() OVER (PARTITION BY rule ORDER BY _landed_at DESC NULLS
                       LAST, _source_file, _line) AS sample_rank, _source_file, _line,
                       _landed_at AT TIME ZONE 'UTC', _quarantined_at AT TIME ZONE 'UTC',
                       left(raw_record, {RECORD_CHARS}),
                       left(split_part(error, chr(10), 1), 300)
                FROM ({exploded}) QUALIFY sample_rank <= {SAMPLES_PER_RULE} ORDER BY ALL
            """).fetchall():  # fmt: skip
                rule, rank, source, line, landed, held_at, record, error = row
                samples.append({"domain": domain, "table_name": table.name, "feed": feed,
                                "rule": rule, "sample_rank": rank, "source_file": source,
                                "line": line, "landed_at": landed,
                                "quarantined_at": held_at, "record": record,
                                "error": error, "refreshed_at": now})  # fmt: skip
            con.unregister("q")
    finally:
        con.close()
    if not REJECTED.exists(lake):  # no file rejected yet: the quality owner's list exists, empty
        write_deltalake(str(REJECTED.location(lake)), REJECTED_SCHEMA.empty_table())
    for target, found, schema in ((COUNTS, counts, COUNTS_SCHEMA),
                                  (SAMPLES, samples, SAMPLES_SCHEMA)):  # fmt: skip
        write_deltalake(str(target.location(lake)), pa.Table.from_pylist(found, schema=schema),
                        mode="overwrite", schema_mode="overwrite")  # fmt: skip
    return quarantined

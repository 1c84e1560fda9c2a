"""Publishing the shared reference feeds: silver.reference__divisions from every landed record."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import pyarrow as pa
from deltalake import DeltaTable, write_deltalake

from transforms.lake import registry
from transforms.lake.clock import now_beijing
from transforms.lake.ledger import mark_published, pending_files
from transforms.reference.feeds import DIVISIONS

SILVER = registry.table("silver.reference__divisions")
BRONZE = registry.table(DIVISIONS.bronze_table)
LEVELS = ("province", "city", "county")
CODE = re.compile(r"^[1-8][0-9]{5}$")
SCHEMA = pa.schema(
    [
        ("code", pa.string()),
        ("name", pa.string()),
        ("level", pa.string()),
        ("parent_code", pa.string()),
        ("lon", pa.float64()),
        ("lat", pa.float64()),
        ("_source_file", pa.string()),
        ("_landed_at", pa.timestamp("us", tz="UTC")),
    ]
)


def _float(text: str | None) -> float | None:
    try:
        return float(text) if text is not None else None
    except ValueError:
        return None


def publish_divisions(lake: Path, progress: Callable[[str], None] | None = None) -> int:
    """Rebuild silver.reference__divisions: one row per 6-digit code, the record landed last
    winning; a record with no valid code or level is left out (its line is in bronze), and a
    centroid outside China's extent is kept as unknown (null). Returns the divisions."""
    say = progress or (lambda _m: None)
    rows = []
    if BRONZE.exists(lake):
        rows = DeltaTable(str(BRONZE.location(lake))).to_pyarrow_table().to_pylist()
    latest: dict[str, dict] = {}
    skipped = 0
    for r in sorted(rows, key=lambda r: (r["_landed_at"], r["_source_file"], r["_line"])):
        code = (r.get("code") or "").strip()
        if not CODE.match(code) or r.get("level") not in LEVELS:
            skipped += 1
            continue
        lon, lat = _float(r.get("lon")), _float(r.get("lat"))
        known = lon is not None and lat is not None and 73 <= lon <= 136 and 3 <= lat <= 54
        latest[code] = {
            "code": code,
            "name": r.get("name"),
            "level": r["level"],
            "parent_code": r.get("parent_code"),
            "lon": lon if known else None,
            "lat": lat if known else None,
            "_source_file": r["_source_file"],
            "_landed_at": r["_landed_at"],
        }
    table = pa.Table.from_pylist(sorted(latest.values(), key=lambda d: d["code"]), SCHEMA)
    write_deltalake(str(SILVER.location(lake)), table, mode="overwrite", schema_mode="overwrite")
    mark_published(
        lake, pending_files(lake, DIVISIONS).column("file_sm3").to_pylist(), now_beijing()
    )
    say(
        f"{SILVER.name}: {table.num_rows} division(s), {skipped} record(s) without a valid code/level"
    )
    return table.num_rows

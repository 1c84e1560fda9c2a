"""核验: the answer for one licence number from silver (licences.md "Verification CLI").

Reads silver.licences__licences with delta-rs (no engine needed: one licence's rows); the holder
key given in clear is compared by its join hash, so no stored value is ever decrypted.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pyarrow.compute as pc
from deltalake import DeltaTable

from transforms.lake import registry
from transforms.lake.clock import now_beijing
from transforms.lake.protection import ProtectionKeys
from transforms.licences.lookups import holder_hmac, licence_valid_at

SILVER = registry.table("silver.licences__licences")
COLUMNS = [
    "licence_no", "licence_type", "holder_key_hmac", "holder_key_masked", "status", "valid_from",
    "valid_to", "version", "issued_at", "received_at",
]  # fmt: skip


def licence_versions(lake: Path, licence_no: str) -> list[dict[str, Any]]:
    """Every verified version of ``licence_no`` (silver rows)."""
    if not SILVER.exists(lake):
        raise FileNotFoundError(
            f"{SILVER.name} does not exist in {lake}; run `lakehouse run` first"
        )
    dataset = DeltaTable(str(SILVER.location(lake))).to_pyarrow_dataset()
    return dataset.to_table(
        columns=COLUMNS, filter=pc.field("licence_no") == licence_no
    ).to_pylist()


def verify_licence(
    lake: Path,
    licence_no: str,
    rules: dict[str, Any],
    holder: str | None = None,
    at: dt.datetime | None = None,
) -> dict[str, Any]:
    """The 核验 answer for ``licence_no`` (and ``holder``, a holder key in clear) at ``at``
    (default: now, GMT+8)."""
    digest = holder_hmac(holder, ProtectionKeys.load().join) if holder is not None else None
    return licence_valid_at(
        licence_versions(lake, licence_no.strip()),
        licence_no.strip(),
        at or now_beijing().replace(tzinfo=None, microsecond=0),
        digest,
        rules["verification"]["status_reasons"],
    )

"""Typing the text columns of freight rows (bronze strings, flattened documents) in Arrow.

Conventions of the lake (docs/tables.md): times are GMT+8 wall-clock values in UTC-labelled
timestamp columns; money is decimal(18, 3) yuan; weights and distances float64. A value that does
not read as its type becomes null (the field rules have already said which are required).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from decimal import Decimal, InvalidOperation

import pyarrow as pa
import pyarrow.compute as pc

TS = pa.timestamp("us", tz="UTC")
MONEY = pa.decimal128(18, 3)
_QUANTUM = Decimal("0.001")

# column → type, for every typed column of the document tables (the rest stay text)
N14 = (
    "send_to_pro_time", "consignment_time", "despatch_time", "receipt_time", "loading_time",
    "date_time", "message_sending_time",
)  # fmt: skip
N8 = ("register_date", "issue_date", "valid_period_from", "valid_period_to")
MONEY_COLUMNS = ("total_monetary_amount", "monetary_amount")
FLOATS = ("gross_weight_kg", "cube_m3", "packages", "vehicle_tonnage", "gross_mass")
INTS = ("vehicle_count", "document_index")


def n14(column: pa.Array | pa.ChunkedArray) -> pa.Array:
    """``YYYYMMDDhhmmss`` text → timestamps (null when not one)."""
    parsed = pc.strptime(column, format="%Y%m%d%H%M%S", unit="us", error_is_null=True)
    # strptime accepts fewer digits: only a 14-digit text is a time
    ok = pc.match_substring_regex(column, r"^\d{14}$")
    return pc.if_else(ok, parsed, pa.scalar(None, parsed.type)).cast(TS)


def n8(column: pa.Array | pa.ChunkedArray) -> pa.Array:
    parsed = pc.strptime(column, format="%Y%m%d", unit="s", error_is_null=True)
    ok = pc.match_substring_regex(column, r"^\d{8}$")
    return pc.if_else(ok, parsed, pa.scalar(None, parsed.type)).cast(pa.date32())


def wall_clock(column: pa.Array | pa.ChunkedArray) -> pa.Array:
    """``YYYY-MM-DD HH:MM:SS`` text → timestamps (null when not one)."""
    parsed = pc.strptime(column, format="%Y-%m-%d %H:%M:%S", unit="us", error_is_null=True)
    return parsed.cast(TS)


def money(values: Iterable[str | None]) -> pa.Array:
    out = []
    for v in values:
        try:
            d = Decimal(v).quantize(_QUANTUM) if v is not None else None
        except (InvalidOperation, ValueError):
            d = None
        out.append(d if d is None or d.is_finite() and abs(d) < 10**15 else None)
    return pa.array(out, MONEY)


def floats(values: Iterable[str | None]) -> pa.Array:
    out = []
    for v in values:
        try:
            f = float(v) if v is not None else None
        except ValueError:
            f = None
        out.append(f if f is None or f == f and abs(f) != float("inf") else None)
    return pa.array(out, pa.float64())


def ints(values: Iterable[str | int | None]) -> pa.Array:
    out = []
    for v in values:
        try:
            out.append(int(v) if v is not None else None)
        except ValueError:
            out.append(None)
    return pa.array(out, pa.int64())


def typed(table: pa.Table) -> pa.Table:
    """``table`` with every known column typed (text columns otherwise unchanged)."""
    for i, name in enumerate(table.column_names):
        column = table.column(i)
        if column.type != pa.string():
            continue
        if name in N14:
            new = n14(column)
        elif name in N8:
            new = n8(column)
        elif name in MONEY_COLUMNS:
            new = money(column.to_pylist())
        elif name in FLOATS:
            new = floats(column.to_pylist())
        elif name in INTS:
            new = ints(column.to_pylist())
        else:
            continue
        table = table.set_column(i, name, new)
    return table


def date_or_none(text: str | None) -> dt.date | None:
    """``YYYY-MM-DD`` → date; None for anything else (null = open in a validity range)."""
    if not text:
        return None
    try:
        return dt.date.fromisoformat(text.strip()[:10])
    except ValueError:
        return None

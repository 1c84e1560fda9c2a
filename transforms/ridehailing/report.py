"""`lakehouse report ridehailing`: the evaluation as ridehailing.md's JSON (stable keys, arrays
sorted by company_id), read from the evaluated tables (no engine needed) through
transforms/lake/timetravel.py (`--as-published`: as they stood when a bulletin was published).

- companies: per platform company and period (YYYY-MM or YYYY) — records, the four rates (not
  rounded), city coverage, score, transmitted;
- ``--overview``: the month's industry overview with month-on-month changes;
- ``--defects``: one row per failed record and rule;
- ``--explain COMPANY``: a company's records and failures per interface and dimension, and its
  most frequent rules — what a regulator reads before summoning it.
"""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
from deltalake import DeltaTable

from transforms.lake import registry, timetravel

COMPANY_KEYS = [
    "company_id", "company_name", "period", "transmitted", "records", "completeness_rate",
    "normativity_rate", "timeliness_rate", "truthfulness_rate", "city_coverage_rate", "score",
]  # fmt: skip
OVERVIEW_KEYS = [
    "period", "platform_companies", "driver_licences", "vehicle_licences", "orders",
    "driver_licences_mom", "vehicle_licences_mom", "orders_mom",
]  # fmt: skip
DEFECT_KEYS = ["company_id", "interface", "record_key", "dimension", "rule", "source_file", "line"]
DIMENSIONS = ("completeness", "normativity", "timeliness", "truthfulness")
PERIOD = re.compile(r"^\d{4}(-(0[1-9]|1[0-2]))?$")


class ReportError(ValueError):
    """A question the report cannot answer (a malformed period, nothing evaluated yet)."""


def check_period(period: str, monthly_only: bool = False) -> str:
    if not PERIOD.match(period or "") or (monthly_only and len(period) != 7):
        wanted = "YYYY-MM" if monthly_only else "YYYY-MM or YYYY"
        raise ReportError(f"period {period!r} is not {wanted}")
    return period


def _table(lake: Path, name: str) -> DeltaTable:
    table = registry.table(name)
    if not timetravel.exists(table, lake):
        raise ReportError(
            f"{name} does not exist in {lake}: run the pipeline first (`lakehouse run`)"
        )
    return timetravel.delta_table(table, lake)


def _months(period: str) -> list[str]:
    return [period] if len(period) == 7 else [f"{period}-{m:02d}" for m in range(1, 13)]


def companies(lake: Path, period: str) -> list[dict[str, Any]]:
    """One object per company evaluated for ``period``."""
    check_period(period)
    data = _table(lake, "gold.ridehailing__company_periods").to_pyarrow_dataset()
    rows = data.to_table(filter=pc.field("period") == period).to_pylist()
    out = [{k: row[k] for k in COMPANY_KEYS} for row in rows]
    return sorted(out, key=lambda r: r["company_id"])


def overview(lake: Path, period: str) -> dict[str, Any]:
    check_period(period, monthly_only=True)
    data = _table(lake, "gold.ridehailing__overview").to_pyarrow_dataset()
    rows = data.to_table(filter=pc.field("period") == period).to_pylist()
    if not rows:
        return {
            "period": period, "platform_companies": 0, "driver_licences": 0,
            "vehicle_licences": 0, "orders": 0, "driver_licences_mom": None,
            "vehicle_licences_mom": None, "orders_mom": None,
        }  # fmt: skip
    return {k: rows[0][k] for k in OVERVIEW_KEYS}


def defects(lake: Path, period: str, company: str | None = None) -> list[dict[str, Any]]:
    """Every failed record and rule of ``period`` (of one company)."""
    check_period(period)
    data = _table(lake, "silver.ridehailing__defects").to_pyarrow_dataset()
    wanted = pc.field("period_month").isin(_months(period))
    if company is not None:
        wanted = wanted & (pc.field("company_id") == company)
    table: pa.Table = data.to_table(filter=wanted, columns=DEFECT_KEYS)
    rows = table.to_pylist()
    return sorted(
        rows,
        key=lambda r: (
            r["company_id"] or "", r["interface"], r["record_key"] or "",
            DIMENSIONS.index(r["dimension"]), r["rule"], r["source_file"] or "", r["line"] or 0,
        ),
    )  # fmt: skip


def explain(lake: Path, period: str, company: str) -> dict[str, Any]:
    """A company's numbers for ``period`` broken down by interface and dimension."""
    check_period(period)
    summary = [r for r in companies(lake, period) if r["company_id"] == company]
    if not summary:
        raise ReportError(f"company {company!r} was not evaluated for {period}")
    data = _table(lake, "silver.ridehailing__evaluated").to_pyarrow_dataset()
    columns = ["interface", *[f"{d}_failed" for d in DIMENSIONS]]
    rows = data.to_table(
        filter=pc.field("period_month").isin(_months(period)) & (pc.field("company_id") == company),
        columns=columns,
    ).to_pylist()
    by_interface: dict[str, dict[str, int]] = {}
    rules: Counter[tuple[str, str]] = Counter()
    for row in rows:
        entry = by_interface.setdefault(
            row["interface"], {"records": 0, **{f"{d}_failed": 0 for d in DIMENSIONS}}
        )
        entry["records"] += 1
        for d in DIMENSIONS:
            failed = row[f"{d}_failed"] or []
            if failed:
                entry[f"{d}_failed"] += 1
            rules.update((d, r) for r in failed)
    return {
        **summary[0],
        "interfaces": [{"interface": k, **v} for k, v in sorted(by_interface.items())],
        "top_rules": [
            {"dimension": d, "rule": r, "records": n} for (d, r), n in rules.most_common(20)
        ],
    }

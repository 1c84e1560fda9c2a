"""What the evaluation keeps of earlier runs: periods it does not recompute stay, and a period
that began before retention's cutoff keeps the numbers it had (its dynamic records may be gone)."""

from __future__ import annotations

import datetime as dt

from deltalake import DeltaTable

from transforms.ridehailing.jobs.evaluate import OVERVIEW, _retained_from, _write_periods


def _rows(spark, values: dict[str, int]):
    return spark.createDataFrame(
        [(p, n) for p, n in values.items()], "period string, orders bigint"
    )


def _read(lake) -> dict[str, int]:
    table = DeltaTable(str(OVERVIEW.location(lake))).to_pyarrow_table().to_pylist()
    return {r["period"]: r["orders"] for r in table}


def test_a_rerun_keeps_other_periods_and_those_past_retention(spark, tmp_path):
    lake = tmp_path / "lake"
    _write_periods(
        spark, lake, OVERVIEW, _rows(spark, {"2024-11": 10, "2026-10": 20, "2026-11": 30})
    )
    # a later run: 2024-11's records were partly deleted by retention, 2026-10 has none left
    # (not recomputed), 2026-11 got a back-fill
    cutoff = dt.date(2025, 1, 1)
    _write_periods(spark, lake, OVERVIEW, _rows(spark, {"2024-11": 4, "2026-11": 31}), cutoff)
    assert _read(lake) == {"2024-11": 10, "2026-10": 20, "2026-11": 31}
    # without a retention period every recomputed period is replaced
    _write_periods(spark, lake, OVERVIEW, _rows(spark, {"2024-11": 4}), None)
    assert _read(lake)["2024-11"] == 4


def test_the_cutoff_follows_the_records_retention():
    rules = {"retention": {"silver.ridehailing__records": 731}}
    assert _retained_from(rules, dt.date(2026, 12, 6)) == dt.date(2024, 12, 5)
    assert _retained_from({}, dt.date(2026, 12, 6)) is None


def test_sentinels_count_shared_values_not_blanks(spark):
    """Five drivers of a company with one phone are a sentinel; five with a blank phone (masked
    empty, hashed as the empty string) or a blank birthday are not — blanks fail completeness."""
    import json

    from transforms.ridehailing.jobs.evaluate import sentinels

    def driver(n: int, phone_hmac: str, phone_masked: str, birthday: str, company: str = "C1"):
        payload = {"DriverPhone_hmac": phone_hmac, "DriverPhone_masked": phone_masked,
                   "Birthday": birthday}  # fmt: skip
        return ("baseInfoDriver", f"{company}|L{n}", company, f"L{n}", json.dumps(payload))

    rows = (
        [driver(n, "h-shared", "138****0000", f"1990010{n}") for n in range(5)]
        + [driver(n, "h-empty", "", " ") for n in range(5, 10)]
        + [driver(n, "h-empty", "  ", "19800101", company="C2") for n in range(10, 14)]
    )
    static = spark.createDataFrame(
        rows, "interface string, natural_key string, company_id string, license_hmac string, "
        "payload string",
    )  # fmt: skip
    found = sorted(tuple(r) for r in sentinels(static, 5).collect())
    assert found == [("baseInfoDriver", f"C1|L{n}", "sentinel:DriverPhone") for n in range(5)]

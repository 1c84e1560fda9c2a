"""Publishing ride-hailing records: one row per natural key whatever the batches.

``one_per_key`` ranks only the keys seen more than once in a batch; ``publish_records`` appends
the keys its table does not hold yet and merges only the others. Both must give what one
window over every copy and one MERGE of every key gave: the latest copy's values, the earliest
``first_received_at``, ``copies`` summed — in whatever order and batches the copies land.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest
from deltalake import DeltaTable

from transforms.ridehailing.checks import RECORD_COLUMNS

from . import world as W

# ---- one_per_key ------------------------------------------------------------------------------

RECORD_SCHEMA = ", ".join(
    f"`{c}` {kind}"
    for c, kind in {
        **{c: "string" for c in RECORD_COLUMNS},
        "event_time": "timestamp", "event_day": "date", "received_at": "timestamp",
        "first_received_at": "timestamp", "copies": "bigint", "_line": "bigint",
        "_landed_at": "timestamp",
        **{c: "array<string>" for c in ("completeness_failed", "normativity_failed",
                                        "truth_failed")},
    }.items()
)  # fmt: skip


def _row(interface: str, key: str, received: int, landed: int = 0, file: str = "f1",
         line: int = 1, copies: int = 1, first: int | None = None) -> dict:  # fmt: skip
    """A staged record row; times are minutes after 2026-11-02 08:00."""
    base = dt.datetime(2026, 11, 2, 8)
    at = lambda minutes: base + dt.timedelta(minutes=minutes)  # noqa: E731
    row = dict.fromkeys(RECORD_COLUMNS)
    row.update(
        interface=interface, natural_key=key, record_key=key, company_id="C",
        period_month="2026-11", received_at=at(received),
        first_received_at=at(received if first is None else first), copies=copies,
        _landed_at=at(landed), _file_sm3=file, _line=line, _source_file=f"{file}:{line}",
        completeness_failed=[], normativity_failed=[], truth_failed=[],
    )  # fmt: skip
    return row


def _expected(rows: list[dict]) -> dict[tuple[str, str], tuple[str, dt.datetime, int]]:
    """(interface, key) → (the winning copy's source, earliest reception, copies), by hand."""
    out = {}
    for key in {(r["interface"], r["natural_key"]) for r in rows}:
        copies = [r for r in rows if (r["interface"], r["natural_key"]) == key]
        latest = max(
            copies, key=lambda r: (r["received_at"], r["_landed_at"], r["_file_sm3"], r["_line"])
        )
        first = min(r["first_received_at"] for r in copies)
        out[key] = (latest["_source_file"], first, sum(r["copies"] for r in copies))
    return out


def test_one_per_key_ranks_only_the_repeated_keys(spark, tmp_path):
    from transforms.ridehailing.jobs.publish import one_per_key

    rows = [
        _row("orderCreate", "C|1", 0),  # once
        _row("orderMatch", "C|1", 5),  # the same key in another interface: another record
        _row("orderCreate", "C|2", 10, file="f1"),  # an older copy, then the newer one
        _row("orderCreate", "C|2", 20, file="f0"),
        _row("orderCreate", "C|3", 30, landed=1, file="f1"),  # received together: landed last
        _row("orderCreate", "C|3", 30, landed=2, file="f0"),
        _row("orderCreate", "C|4", 40, file="f1", line=9),  # same time and landing: file, line
        _row("orderCreate", "C|4", 40, file="f2", line=1),
        _row("orderCreate", "C|4", 40, file="f2", line=3),
        _row("orderCreate", "C|5", 50, copies=2, first=-60),  # a row already counting 2 copies
        _row("orderCreate", "C|5", 45),
        _row("positionDriver", "C|6", 60),  # once
    ]
    batch = one_per_key(spark.createDataFrame(rows, RECORD_SCHEMA), tmp_path / "repeated")
    assert tuple(batch.columns) == RECORD_COLUMNS
    got = {
        (r["interface"], r["natural_key"]): (r["_source_file"], r["first_received_at"], r["copies"])
        for r in batch.collect()
    }
    assert got == _expected(rows)
    assert len(got) == 7 and batch.count() == 7
    assert got[("orderCreate", "C|4")][0] == "f2:3"
    assert got[("orderCreate", "C|5")][1:] == (dt.datetime(2026, 11, 2, 7), 3)


# ---- publish_records: appended, merged, in any batches -----------------------------------------

PLACE = W.JIAOCHENG
ORDER_TIME = W.t(11, 2, 8)


def _order(w: W.Landing, name: str, order: str, at: dt.datetime) -> None:
    """A copy of orderCreate ``order`` received at ``at``; its Departure names the copy."""
    W.order_create(w, name, W.C1, order, PLACE, ORDER_TIME, at, Departure=name)


def _vehicle(w: W.Landing, name: str, at: dt.datetime, brand: str) -> None:
    W.vehicle(w, name, W.C1, W.V1, W.t(11, 1, 8), at)
    record = json.loads(w.files[("baseInfoVehicle", at.date().isoformat())][-1])
    record["Brand"] = brand
    w.files[("baseInfoVehicle", at.date().isoformat())][-1] = json.dumps(record, ensure_ascii=False)


def _first_landing() -> W.Landing:
    """Published first (the 11-03 folder): A1, B1, R1 + R2 (a key repeated in the batch), E1,
    F (a key no later copy touches) and vehicle V1."""
    w = W.Landing()
    _order(w, "A1", "A", W.t(11, 3, 10))
    _order(w, "B1", "B", W.t(11, 3, 11))
    _order(w, "R1", "R", W.t(11, 3, 12))
    _order(w, "R2", "R", W.t(11, 3, 12, 30))
    _order(w, "E1", "E", W.t(11, 3, 15))
    _order(w, "F", "F", W.t(11, 3, 16))
    _vehicle(w, "V1", W.t(11, 3, 9), "比亚迪")
    return w


def _second_landing() -> W.Landing:
    """Published second (the 11-02 and 11-04 folders): an OLDER copy of A (its values must not
    win), a NEWER copy of B, C twice and D once (keys the table does not hold), an older and a
    newer copy of E (held once already), a newer copy of vehicle V."""
    w = W.Landing()
    _order(w, "A0", "A", W.t(11, 2, 9))
    _order(w, "B2", "B", W.t(11, 4, 8))
    _order(w, "C0", "C", W.t(11, 2, 13))
    _order(w, "C2", "C", W.t(11, 4, 13))
    _order(w, "D", "D", W.t(11, 4, 14))
    _order(w, "E0", "E", W.t(11, 2, 15))
    _order(w, "E2", "E", W.t(11, 4, 15))
    _vehicle(w, "V2", W.t(11, 4, 9), "吉利")
    return w


# key → (the copy whose values win, first received, copies)
EXPECTED_ORDERS = {
    "A": ("A1", W.t(11, 2, 9), 2),
    "B": ("B2", W.t(11, 3, 11), 2),
    "C": ("C2", W.t(11, 2, 13), 2),
    "D": ("D", W.t(11, 4, 14), 1),
    "E": ("E2", W.t(11, 2, 15), 3),
    "F": ("F", W.t(11, 3, 16), 1),
    "R": ("R2", W.t(11, 3, 12), 2),
}


def _land(lake: Path, landing: W.Landing) -> None:
    from transforms.lake.landing import land_feeds
    from transforms.ridehailing.feeds import FEEDS

    landing.write(lake)
    land_feeds(lake, FEEDS)


def _rows(lake: Path, name: str) -> list[dict]:
    from transforms.lake import registry

    table = DeltaTable(str(registry.table(name).location(lake))).to_pyarrow_table()
    rows = [
        {k: v.replace(tzinfo=None) if isinstance(v, dt.datetime) else v for k, v in r.items()}
        for r in table.to_pylist()
    ]  # the lake's wall-clock times, as written
    return sorted(rows, key=lambda r: (r["interface"], r["natural_key"]))


def _operations(lake: Path, name: str) -> list[str]:
    from transforms.lake import registry

    history = DeltaTable(str(registry.table(name).location(lake))).history()
    return [c["operation"] for c in sorted(history, key=lambda c: c["version"])]


def _orders(rows: list[dict]) -> dict[str, tuple[str, dt.datetime, int]]:
    return {
        r["natural_key"].split("|")[1]: (
            json.loads(r["payload"])["Departure"],
            r["first_received_at"],
            r["copies"],
        )
        for r in rows
        if r["interface"] == "orderCreate"
    }


@pytest.mark.slow
def test_publish_appends_new_keys_and_merges_held_ones(spark, tmp_path):
    from transforms.ridehailing.jobs.publish import publish_records
    from transforms.rules import load_rules

    rules = load_rules(domain="ridehailing")
    lake = tmp_path / "lake"
    # nothing landed yet: the record tables are created empty
    assert publish_records(spark, lake, rules).records == 0
    assert _rows(lake, "silver.ridehailing__records") == []

    _land(lake, _first_landing())
    first = publish_records(spark, lake, rules)
    assert (first.lines, first.records) == (7, 6)  # 6 keys: R's two copies are one record
    assert _orders(_rows(lake, "silver.ridehailing__records")) == {
        "A": ("A1", W.t(11, 3, 10), 1), "B": ("B1", W.t(11, 3, 11), 1),
        "E": ("E1", W.t(11, 3, 15), 1), "F": ("F", W.t(11, 3, 16), 1),
        "R": ("R2", W.t(11, 3, 12), 2),
    }  # fmt: skip
    # an empty table takes the batch as a plain append: no MERGE
    assert "MERGE" not in _operations(lake, "silver.ridehailing__records")

    _land(lake, _second_landing())
    second = publish_records(spark, lake, rules)
    assert second.lines == 8
    rows = _rows(lake, "silver.ridehailing__records")
    assert _orders(rows) == EXPECTED_ORDERS
    by_key = {r["natural_key"].split("|")[1]: r for r in rows}
    assert by_key["A"]["received_at"] == W.t(11, 3, 10)  # the older copy changed no value
    assert by_key["B"]["received_at"] == W.t(11, 4, 8)
    assert by_key["E"]["received_at"] == W.t(11, 4, 15)
    # the held keys (A, B, E) merged, the new ones (C, D) appended
    assert _operations(lake, "silver.ridehailing__records")[-2:] == ["MERGE", "WRITE"]
    static = _rows(lake, "silver.ridehailing__static_records")
    assert len(static) == 1
    assert json.loads(static[0]["payload"])["Brand"] == "吉利"
    assert (static[0]["first_received_at"], static[0]["copies"]) == (W.t(11, 3, 9), 2)

    # nothing pending: nothing changes
    assert publish_records(spark, lake, rules).records == 0
    assert _rows(lake, "silver.ridehailing__records") == rows

    # the same copies landed and published at once on a fresh lake: the same records
    fresh = tmp_path / "fresh"
    for landing in (_first_landing(), _second_landing()):
        landing.write(fresh)
    _land(fresh, W.Landing())
    at_once = publish_records(spark, fresh, rules)
    assert (at_once.lines, at_once.records) == (15, 8)
    assert "MERGE" not in _operations(fresh, "silver.ridehailing__records")
    for name in ("silver.ridehailing__records", "silver.ridehailing__static_records"):
        landed_apart = [{**r, "_landed_at": None} for r in _rows(lake, name)]
        landed_together = [{**r, "_landed_at": None} for r in _rows(fresh, name)]
        assert landed_apart == landed_together, name

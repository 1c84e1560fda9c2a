"""Publishing and facts in passes of whole days give exactly the tables of one pass."""

import copy
import datetime as dt
import shutil

import pytest
from deltalake import DeltaTable

from transforms.lake.batching import group_by_rows
from transforms.lake.landing import land_feed
from transforms.lake.protection import ProtectionKeys, reveal_table
from transforms.rules import load_rules
from transforms.telematics.feeds import EVENT_FEEDS, MASTER_FEEDS, POSITION_FEEDS
from transforms.telematics.generate.landing import generate_landing
from transforms.telematics.jobs.facts import publish_facts
from transforms.telematics.jobs.master import publish_feed
from transforms.telematics.jobs.positions import publish_positions

TABLES = (
    "quarantine/telematics__positions",
    "silver/telematics__positions",
    "silver/telematics__vehicle_day_facts",
    "silver/telematics__violation_events",
    "silver/telematics__record_counts",
)
VOLATILE = {"_landed_at", "_quarantined_at"}


def test_groups_hold_at_most_max_rows_and_keep_order():
    sizes = {"a": 3, "b": 4, "c": 9, "d": 1, "e": 1}
    assert group_by_rows(list(sizes), sizes.__getitem__, 7) == [["a", "b"], ["c"], ["d", "e"]]
    assert group_by_rows(list(sizes), sizes.__getitem__, 0) == [list(sizes)]
    assert group_by_rows([], sizes.__getitem__, 5) == []


def rows(lake, table) -> list[str]:
    # encrypted columns compared by their clear values (each encryption draws a fresh IV)
    data = DeltaTable(str(lake / table)).to_pyarrow_table()
    data = reveal_table(data, ProtectionKeys.load()).to_pylist()
    return sorted(repr({k: v for k, v in r.items() if k not in VOLATILE}) for r in data)


@pytest.mark.slow
def test_passes_give_the_tables_of_one_pass(tmp_path, spark):
    one, many = tmp_path / "one", tmp_path / "many"
    generate_landing(one, dt.date(2026, 10, 1), 4, 4, seed=3, bad_rate=0.01)
    shutil.copytree(one / "landing", many / "landing")
    rules = load_rules(domain="telematics")
    small = copy.deepcopy(rules)
    small["pipeline"]["max_rows_per_pass"] = 1  # one landing folder / gnss day per pass
    messages: list[str] = []
    for lake, r in ((one, rules), (many, small)):
        for feed in (*MASTER_FEEDS, *EVENT_FEEDS, *POSITION_FEEDS):
            land_feed(lake, feed)
        for feed in (*MASTER_FEEDS, *EVENT_FEEDS):
            publish_feed(spark, lake, feed)
        published = publish_positions(spark, lake, r, progress=messages.append)
        assert published.published and published.records > 0
        publish_facts(spark, lake, r, progress=messages.append)
    assert any("positions: pass 4/4" in m for m in messages)
    assert any(m.startswith("facts: pass ") for m in messages)
    for table in TABLES:
        assert rows(one, table) == rows(many, table), table

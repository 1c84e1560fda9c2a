"""Reading tables at recorded Delta versions: a recording pins each table to its first read, a pin
reads the old version through Spark (versionAsOf) and delta-rs alike, an absent table stays
absent, an unrecorded one is an error, and outside both blocks every read is the latest."""

import pyarrow as pa
import pytest
from deltalake import write_deltalake

from transforms.lake import timetravel
from transforms.lake.registry import Table

SCORES = Table("gold.test__scores", "test")
MISSING = Table("gold.test__missing", "test")
OTHER = Table("gold.test__other", "test")


def _write(lake, table, values, mode="append"):
    write_deltalake(str(table.location(lake)), pa.table({"v": values}), mode=mode)


def _spark(spark, lake, table):
    return sorted(r["v"] for r in timetravel.read(spark, table, lake).collect())


def _rs(lake, table):
    return sorted(timetravel.delta_table(table, lake).to_pyarrow_table().column("v").to_pylist())


def test_recorded_versions_are_read_again_after_later_commits(spark, tmp_path):
    lake = tmp_path
    _write(lake, SCORES, [1, 2])  # version 0
    _write(lake, SCORES, [3])  # version 1
    with timetravel.recording() as versions:
        assert _spark(spark, lake, SCORES) == [1, 2, 3]
        assert not timetravel.exists(MISSING, lake)
        _write(lake, SCORES, [9], mode="overwrite")  # a writer commits during the block
        assert _rs(lake, SCORES) == [1, 2, 3]  # still the version of the first read
    assert versions == {"gold.test__scores": 1, "gold.test__missing": None}

    _write(lake, SCORES, [10])  # version 3
    _write(lake, MISSING, [5])  # the absent table appears later
    assert _spark(spark, lake, SCORES) == [9, 10]  # no block: the latest
    assert _rs(lake, SCORES) == [9, 10]
    with timetravel.pinned(versions):
        assert _spark(spark, lake, SCORES) == [1, 2, 3]
        assert _rs(lake, SCORES) == [1, 2, 3]
        assert not timetravel.exists(MISSING, lake)
        with pytest.raises(FileNotFoundError, match="gold.test__missing"):
            timetravel.read(spark, MISSING, lake)
        with pytest.raises(timetravel.NotRecorded, match="gold.test__other was not read"):
            timetravel.exists(OTHER, lake)
    assert timetravel.exists(MISSING, lake)
    assert _rs(lake, MISSING) == [5]


def test_a_recording_cannot_start_inside_a_pin(tmp_path):
    with timetravel.pinned({}), pytest.raises(RuntimeError, match="already given"):
        with timetravel.recording():
            pass

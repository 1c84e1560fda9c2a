"""One row per natural key: the copy received last wins (contracts.md "newer wins").

Every domain that keeps a record once however often it is sent (补传, re-sent files) reduces a
batch with :func:`latest_per_key` before it writes silver. The ranking is the same everywhere:
received last, then landed last, then the file digest and the line (so a tie is decided the same
way on every run).
"""

from __future__ import annotations

import shutil
from collections.abc import Mapping, Sequence
from pathlib import Path

from pyspark.sql import Column, DataFrame, Window
from pyspark.sql import functions as F

LATEST_FIRST = ("received_at", "_landed_at", "_file_sm3", "_line")


def latest_per_key(
    frame: DataFrame,
    key: Sequence[str],
    columns: Sequence[str],
    scratch: Path,
    whole: Mapping[str, Column] | None = None,
) -> DataFrame:
    """``frame`` reduced to one row per ``key``, as ``columns``: the values of the copy ranked
    first by :data:`LATEST_FIRST` (each descending). ``whole``: columns whose value is an
    aggregate over every copy of the key (``{"copies": F.sum("copies")}``); a key seen once keeps
    its own value.

    Most keys arrive once: their rows are already their key's row. The keys seen more than once
    are found by a hash count and written to ``scratch`` (Parquet, overwritten) before the result
    is planned: with their number known from the file, the engine builds its join tables from
    those few keys instead of from the batch, and the ranking window sorts only their rows — at
    10 M positions 17.7 s → 10.3 s against counting them inside the plan. ``frame`` is read
    three times (the count, the keys seen once, the repeated ones): pass a staged frame. The
    result reads ``scratch``: remove it (:func:`drop_scratch`) after the result is written."""
    key = list(key)
    (
        frame.groupBy(*key)
        .agg(F.count(F.lit(1)).alias("_copies"))
        .where(F.col("_copies") > 1)
        .select(*key)
        .write.mode("overwrite")
        .parquet(str(scratch))
    )
    if not any(scratch.glob("*.parquet")):  # no key repeated (the engine wrote no file)
        return frame.select(*columns)
    repeated = frame.sparkSession.read.parquet(str(scratch))
    once = frame.join(repeated, key, "left_anti").select(*columns)
    latest_first = Window.partitionBy(*key).orderBy(*(F.col(c).desc() for c in LATEST_FIRST))
    ranked = frame.join(repeated, key, "left_semi").withColumn(
        "_rank", F.row_number().over(latest_first)
    )
    every_copy = Window.partitionBy(*key)
    for name, aggregate in (whole or {}).items():
        ranked = ranked.withColumn(name, aggregate.over(every_copy))
    return once.unionByName(ranked.where(F.col("_rank") == 1).select(*columns))


def drop_scratch(scratch: Path) -> None:
    """Remove what :func:`latest_per_key` wrote (once its result is written)."""
    shutil.rmtree(scratch, ignore_errors=True)

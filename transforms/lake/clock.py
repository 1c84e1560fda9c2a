"""The lake's time convention: GMT+8 wall-clock, stored naive in Delta ``timestamp`` columns."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pyarrow as pa

BEIJING = ZoneInfo("Asia/Shanghai")
# Arrow type of a lake timestamp column: GMT+8 wall-clock values, see docs/tables.md
TS = pa.timestamp("us", tz="UTC")


def now_beijing() -> dt.datetime:
    """Wall-clock GMT+8 now, naive (the lake's time convention), to the microsecond."""
    return dt.datetime.now(BEIJING).replace(tzinfo=None)

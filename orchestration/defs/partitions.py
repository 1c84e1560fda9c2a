"""Daily partitions of the landing zone (one per date folder, GMT+8), shared by every domain."""

import dagster as dg

from transforms.rules import load_rules

_PIPELINE = load_rules()["pipeline"]

landing_days = dg.DailyPartitionsDefinition(
    start_date=_PIPELINE["partitions_start"], timezone=_PIPELINE["timezone"], end_offset=1
)

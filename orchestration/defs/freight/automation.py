"""Freight jobs and schedules (the landing sensor is shared: orchestration/defs/landing.py)."""

import dagster as dg

from orchestration.defs import reference
from orchestration.defs.freight.assets import GROUP
from orchestration.defs.marts import marts
from transforms.rules import load_rules

_PIPELINE = load_rules()["pipeline"]

FREIGHT_ASSETS = (
    dg.AssetSelection.groups(GROUP) | dg.AssetSelection.assets(*reference.ASSETS) | marts("freight")
)

freight_job = dg.define_asset_job(
    "freight",
    selection=FREIGHT_ASSETS,
    description="Land sender keys, envelopes, national positions and divisions; open and publish "
    "the envelopes; evaluate anomalies, statistics and alarms (运行监测); rebuild the freight "
    "marts.",
)
JOBS = [freight_job]

_MINUTE, _HOUR = (int(x) for x in _PIPELINE["schedule_cron"].split()[:2])
daily_schedule = dg.ScheduleDefinition(
    job=freight_job,
    cron_schedule=f"{_MINUTE} {_HOUR} * * *",
    execution_timezone=_PIPELINE["timezone"],
    name="freight_daily",
    description="Every night: whatever arrived, and the anomalies whose 30-day payment window "
    "closed (运单与资金流水单匹配).",
)
SCHEDULES = [daily_schedule]

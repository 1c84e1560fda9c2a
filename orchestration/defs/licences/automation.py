"""Licences jobs and schedules (the landing sensor is shared: orchestration/defs/landing.py).

Every job selects licences assets only (their group and the licences dbt assets)."""

import dagster as dg

from orchestration.defs.licences.assets import GROUP
from orchestration.defs.marts import marts
from transforms.rules import load_rules

_PIPELINE = load_rules()["pipeline"]

LICENCE_ASSETS = dg.AssetSelection.groups(GROUP) | marts("licences")

licences_job = dg.define_asset_job(
    "licences",
    selection=LICENCE_ASSETS,
    description="Land authority keys and issuance files, verify every signature, publish to "
    "silver / quarantine, rebuild the licences marts.",
)
JOBS = [licences_job]

_MINUTE, _HOUR = (int(x) for x in _PIPELINE["schedule_cron"].split()[:2])
daily_schedule = dg.ScheduleDefinition(
    job=licences_job,
    cron_schedule=f"{_MINUTE} {_HOUR} * * *",
    execution_timezone=_PIPELINE["timezone"],
    name="licences_daily",
    description="Every night, with the other domains' runs: whatever issuance arrived.",
)
SCHEDULES = [daily_schedule]

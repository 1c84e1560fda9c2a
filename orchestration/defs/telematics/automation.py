"""Telematics jobs and schedules (the landing sensor is shared: orchestration/defs/landing.py).

Every job selects telematics assets only (by key, group or asset definition), so the jobs of other
domains never pick them up and these never pick up theirs.
"""

import dagster as dg

from orchestration.defs.marts import marts
from orchestration.defs.telematics.rectification import rectification_items
from transforms.rules import load_rules

_PIPELINE = load_rules()["pipeline"]

POSITION_ASSETS = dg.AssetSelection.assets(
    ["bronze", "telematics__positions"],
    ["silver", "telematics__positions"],
    ["quarantine", "telematics__positions"],
    ["silver", "telematics__vehicle_day_facts"],
    ["silver", "telematics__violation_events"],
    ["silver", "telematics__record_counts"],
)
MASTER_ASSETS = dg.AssetSelection.groups("telematics_master")
DBT_ASSETS = marts("telematics") | dg.AssetSelection.assets(rectification_items)

positions_job = dg.define_asset_job(
    "telematics_positions_daily",
    selection=POSITION_ASSETS,
    description="Land one landing day's positions and frames, validate, publish to silver, and "
    "recompute the per-vehicle-day facts of the gnss days they touch.",
)
master_job = dg.define_asset_job(
    "telematics_master",
    selection=MASTER_ASSETS,
    description="Land master data and platform events; rebuild their silver tables.",
)
assessment_job = dg.define_asset_job(
    "telematics_assessment",
    selection=DBT_ASSETS,
    description="dbt: staging views, gold marts and the assessment (indicators, scores, pass/fail).",
)
JOBS = [master_job, positions_job, assessment_job]

_MINUTE, _HOUR = (int(x) for x in _PIPELINE["schedule_cron"].split()[:2])
daily_schedule = dg.build_schedule_from_partitioned_job(
    positions_job,
    hour_of_day=_HOUR,
    minute_of_hour=_MINUTE,
    name="telematics_daily",
    description="Every night: yesterday's landing folder (GMT+8).",
)
assessment_schedule = dg.ScheduleDefinition(
    job=assessment_job,
    cron_schedule=f"{_MINUTE} {(_HOUR + 1) % 24} * * *",
    execution_timezone=_PIPELINE["timezone"],
    name="telematics_assessment_daily",
    description="An hour after the positions: rebuild the assessment for every period.",
)
SCHEDULES = [daily_schedule, assessment_schedule]

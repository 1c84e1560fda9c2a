"""Ride-hailing jobs, schedules and the sensor that evaluates after a landing (the landing sensor
is shared: orchestration/defs/landing.py)."""

import dagster as dg

from orchestration.defs.marts import marts
from orchestration.defs.ridehailing.assets import (
    ridehailing_bronze,
    ridehailing_evaluation,
    ridehailing_records,
)
from transforms.rules import load_rules

_PIPELINE = load_rules()["pipeline"]

daily_job = dg.define_asset_job(
    "ridehailing_daily",
    selection=dg.AssetSelection.assets(ridehailing_bronze, ridehailing_records),
    description="Land one landing day of every ride-hailing interface and publish its records once "
    "per natural key (a 补传 landing counts once).",
)
evaluation_assets = dg.AssetSelection.assets(ridehailing_evaluation) | marts("ridehailing")
evaluation_job = dg.define_asset_job(
    "ridehailing_evaluate",
    selection=evaluation_assets,
    description="Evaluate every platform company per month and year (数据质量考核), the overview, "
    "the defects; rebuild the ride-hailing marts.",
)
JOBS = [daily_job, evaluation_job]

_MINUTE, _HOUR = (int(x) for x in _PIPELINE["schedule_cron"].split()[:2])
daily_schedule = dg.build_schedule_from_partitioned_job(
    daily_job,
    hour_of_day=_HOUR,
    minute_of_hour=_MINUTE,
    name="ridehailing_daily",
    description="Every night: yesterday's landing folders (GMT+8).",
)
SCHEDULES = [daily_schedule]


@dg.asset_sensor(
    asset_key=dg.AssetKey(["silver", "ridehailing__records"]),
    job=evaluation_job,
    name="ridehailing_evaluate_after_publish",
    default_status=dg.DefaultSensorStatus.STOPPED,
    minimum_interval_seconds=int(_PIPELINE["sensor_interval_s"]),
    description="Evaluate again whenever records were published (a day's landing, a back-fill).",
)
def evaluate_after_publish(context: dg.SensorEvaluationContext, asset_event: dg.EventLogEntry):
    return dg.RunRequest(run_key=f"ridehailing-evaluation:{asset_event.storage_id}")


SENSORS = [evaluate_after_publish]

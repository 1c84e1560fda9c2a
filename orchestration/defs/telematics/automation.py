"""Jobs, the daily schedule and the landing-zone sensor."""

import hashlib
import json

import dagster as dg

from orchestration.defs.telematics.partitions import landing_days
from orchestration.environment import LakehouseResource
from transforms.feeds import FEEDS, POSITION_FEEDS
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
DBT_ASSETS = dg.AssetSelection.all() - POSITION_ASSETS - MASTER_ASSETS

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


def landing_signature(lake, feed) -> dict[str, str]:
    """Per date folder of ``feed``: a fingerprint of its files' names, sizes and mtimes."""
    base = lake / "landing" / feed.domain / feed.name
    out: dict[str, str] = {}
    if not base.is_dir():
        return out
    for folder in sorted(p for p in base.iterdir() if p.is_dir()):
        entries = sorted(
            (f.name, f.stat().st_size, int(f.stat().st_mtime))
            for f in folder.iterdir()
            if f.is_file()
        )
        if entries:
            out[folder.name] = hashlib.sha1(json.dumps(entries).encode()).hexdigest()[:16]
    return out


@dg.sensor(
    job=positions_job,
    minimum_interval_seconds=int(_PIPELINE["sensor_interval_s"]),
    default_status=dg.DefaultSensorStatus.STOPPED,
    description="Requests a positions run for each landing day whose files changed.",
)
def landing_sensor(context: dg.SensorEvaluationContext, lakehouse: LakehouseResource):
    previous = json.loads(context.cursor) if context.cursor else {}
    current: dict[str, str] = {}
    for feed in POSITION_FEEDS:  # a day changes when any of its position or frame files do
        for day, signature in landing_signature(lakehouse.root, feed).items():
            current[day] = (current.get(day, "") + signature)[-32:]
    valid = set(landing_days.get_partition_keys())
    for day, signature in current.items():
        if previous.get(day) != signature and day in valid:
            yield dg.RunRequest(partition_key=day, run_key=f"{day}:{signature}")
    master = {
        k: landing_signature(lakehouse.root, f) for k, f in FEEDS.items() if f not in POSITION_FEEDS
    }
    if previous.get("_master") != master:
        yield dg.RunRequest(
            job_name=master_job.name,
            run_key="master:" + hashlib.sha1(json.dumps(master).encode()).hexdigest()[:16],
        )
    context.update_cursor(json.dumps({**current, "_master": master}))

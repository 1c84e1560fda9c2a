"""Jobs, the daily schedule and the landing-zone sensor."""

import hashlib
import json

import dagster as dg

from orchestration.defs.telematics.partitions import landing_days
from orchestration.environment import LakehouseResource
from transforms.feeds import FEEDS, POSITIONS
from transforms.rules import load_rules

_PIPELINE = load_rules()["pipeline"]

positions_job = dg.define_asset_job(
    "telematics_positions_daily",
    selection=dg.AssetSelection.assets(
        ["bronze", "telematics__positions"],
        ["silver", "telematics__positions"],
        ["quarantine", "telematics__positions"],
    ),
    description="Land one landing day's position files, validate them and publish to silver.",
)

# master data and every dbt model: everything that is not partitioned by landing day
refresh_job = dg.define_asset_job(
    "telematics_refresh",
    selection=dg.AssetSelection.all()
    - dg.AssetSelection.assets(
        ["bronze", "telematics__positions"],
        ["silver", "telematics__positions"],
        ["quarantine", "telematics__positions"],
    ),
    description="Land master data, rebuild silver master tables and the dbt staging and gold models.",
)

daily_schedule = dg.build_schedule_from_partitioned_job(
    positions_job,
    hour_of_day=int(_PIPELINE["schedule_cron"].split()[1]),
    minute_of_hour=int(_PIPELINE["schedule_cron"].split()[0]),
    name="telematics_daily",
    description="Every night: yesterday's landing folder (GMT+8).",
)


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
    current = landing_signature(lakehouse.root, POSITIONS)
    valid = set(landing_days.get_partition_keys())
    for day, signature in current.items():
        if previous.get(day) != signature and day in valid:
            yield dg.RunRequest(partition_key=day, run_key=f"{day}:{signature}")
    master = {
        k: landing_signature(lakehouse.root, f) for k, f in FEEDS.items() if f is not POSITIONS
    }
    if previous.get("_master") != master:
        yield dg.RunRequest(
            job_name=refresh_job.name,
            run_key="master:" + hashlib.sha1(json.dumps(master).encode()).hexdigest()[:16],
        )
    context.update_cursor(json.dumps({**current, "_master": master}))

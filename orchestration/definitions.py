"""Dagster entry point: load the definitions of every domain, nothing else."""

import dagster as dg

from orchestration.defs.telematics import automation, dbt, master, positions
from orchestration.environment import resources

defs = dg.Definitions(
    assets=dg.load_assets_from_modules([positions, master, dbt]),
    jobs=[automation.positions_job, automation.refresh_job],
    schedules=[automation.daily_schedule],
    sensors=[automation.landing_sensor],
    resources=resources(),
)

"""Dagster entry point: load the definitions of every domain, nothing else."""

import dagster as dg

from orchestration.defs.telematics import automation, dbt, master, positions, rectification
from orchestration.environment import resources

defs = dg.Definitions(
    assets=[
        *dg.load_assets_from_modules([positions, dbt, rectification]),
        *master.MASTER_ASSETS,
    ],
    jobs=automation.JOBS,
    schedules=automation.SCHEDULES,
    sensors=[automation.landing_sensor],
    resources=resources(),
)

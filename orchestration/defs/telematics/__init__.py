"""Telematics (动态监控) in Dagster: its assets, jobs and schedules as one ``Definitions``, what its
landing triggers, and the order the in-process pipeline (``lakehouse run``) materialises them in
(its dbt models are built with the other domains', orchestration/defs/marts.py)."""

import dagster as dg

from orchestration.defs.landing import LandingJobs
from orchestration.defs.step import Step
from orchestration.defs.telematics import automation, master, positions, rectification
from transforms.telematics.domain import DOMAIN

defs = dg.Definitions(
    assets=[
        *dg.load_assets_from_modules([positions, rectification]),
        *master.MASTER_ASSETS,
    ],
    jobs=automation.JOBS,
    schedules=automation.SCHEDULES,
)

LANDING = LandingJobs(DOMAIN, by_day=automation.positions_job, whole=automation.master_job)

PIPELINE = (
    Step("master data and platform events", master.MASTER_ASSETS),
    Step(
        "positions: land → validate → publish → per-vehicle-day facts",
        [positions.bronze_positions, positions.silver_positions, positions.silver_facts],
        by_day=True,
    ),
    # the assessment (dbt, with every domain's marts: orchestration/defs/marts.py) comes first
    Step("telematics: rectification items", [rectification.rectification_items], after_marts=True),
)

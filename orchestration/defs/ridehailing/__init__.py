"""Ride-hailing (网约车) in Dagster: its assets, job and schedule as one ``Definitions``, what its
landing triggers, and the order the in-process pipeline (``lakehouse run``) materialises them in
(after licences: drivers and vehicles are checked against them; its dbt models are built with
the other domains', orchestration/defs/marts.py)."""

import dagster as dg

from orchestration.defs.landing import LandingJobs
from orchestration.defs.ridehailing import assets, automation
from orchestration.defs.step import Step
from transforms.ridehailing.domain import DOMAIN

defs = dg.Definitions(
    assets=assets.ASSETS,
    jobs=automation.JOBS,
    schedules=automation.SCHEDULES,
    sensors=automation.SENSORS,
)

# every interface lands by day: a landing day whose files changed runs the daily job for it
LANDING = LandingJobs(DOMAIN, by_day=automation.daily_job, whole=None)

PIPELINE = (
    Step(
        "ridehailing: land every interface → records once per natural key",
        [assets.ridehailing_bronze, assets.ridehailing_records],
        by_day=True,
    ),
    Step(
        "ridehailing: evaluate companies per month and year, overview",
        [assets.ridehailing_evaluation],
    ),
)

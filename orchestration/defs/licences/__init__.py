"""Licences (电子证照) in Dagster: its assets, job and schedule as one ``Definitions``, what its
landing triggers, and the order the in-process pipeline (``lakehouse run``) materialises them in
(licences come first in a run: other domains check qualifications against them; its dbt models
are built with the other domains', orchestration/defs/marts.py)."""

import dagster as dg

from orchestration.defs.landing import LandingJobs
from orchestration.defs.licences import assets, automation
from orchestration.defs.step import Step
from transforms.licences.domain import DOMAIN

defs = dg.Definitions(
    assets=assets.ASSETS,
    jobs=automation.JOBS,
    schedules=automation.SCHEDULES,
)

# no feed of its is landed by day: any changed file triggers the whole job
LANDING = LandingJobs(DOMAIN, by_day=None, whole=automation.licences_job)

PIPELINE = (
    Step(
        "licences: land keys and issuance → verify signatures → publish",
        [
            assets.bronze_authorities,
            assets.silver_authorities,
            assets.bronze_issuance,
            assets.silver_licences,
        ],
    ),  # fmt: skip
)

"""Network freight (网络货运) in Dagster: its assets, job and schedule as one ``Definitions``,
what its landing triggers, and the order the in-process pipeline (``lakehouse run``) materialises
them in (after licences: qualifications are checked against them; its dbt models are built
with the other domains', orchestration/defs/marts.py)."""

import dagster as dg

from orchestration.defs import reference
from orchestration.defs.freight import assets, automation
from orchestration.defs.landing import LandingJobs
from orchestration.defs.step import Step
from transforms.freight.domain import DOMAIN

defs = dg.Definitions(
    assets=assets.ASSETS,
    jobs=automation.JOBS,
    schedules=automation.SCHEDULES,
)

# no feed of its is landed by day: any changed file triggers the whole job
LANDING = LandingJobs(DOMAIN, by_day=None, whole=automation.freight_job)

PIPELINE = (
    Step(
        "freight: land divisions, sender keys, envelopes, national positions → open → publish",
        [
            *reference.ASSETS,
            assets.bronze_senders,
            assets.silver_senders,
            assets.bronze_envelopes,
            assets.silver_envelopes,
            assets.bronze_national_positions,
            assets.silver_national_positions,
        ],
    ),
    Step(
        "freight: anomalies, statistics, alarms (运行监测); upload to the ministry",
        [assets.freight_monitoring, assets.freight_upload],
    ),
)

"""车辆/企业画像 in Dagster: the gold tables of every vehicle's and enterprise's profile
(transforms/profile_gold.py), read from every domain's tables. Not a domain: ``lakehouse run``
materialises it after every domain's steps (``PIPELINE``), and the ``profile_nightly`` schedule
rebuilds it after the night's runs and retention (``pipeline.profile_cron`` of the rules file)."""

import dagster as dg

from orchestration.defs.step import Step
from orchestration.defs.writer import on_commit_conflict
from orchestration.environment import LakehouseResource
from transforms.profile_gold import TABLES, build_profile_tables
from transforms.rules import load_rules

GROUP = "profile"
_PIPELINE = load_rules()["pipeline"]

# what a profile reads (transforms/profile.py), by domain
SOURCES = (
    "silver/telematics__vehicles", "silver/telematics__enterprises",
    "gold/telematics__vehicle_days", "gold/telematics__violations",
    "gold/telematics__assessments", "gold/telematics__rectification_items",
    "gold/licences__licences",
    "silver/freight__senders", "silver/freight__vehicles", "silver/freight__waybills",
    "silver/freight__waybill_vehicles", "silver/freight__anomalies",
    "gold/freight__operator_stats",
    "silver/ridehailing__static_versions", "silver/ridehailing__orders",
    "gold/ridehailing__company_periods",
)  # fmt: skip


@dg.multi_asset(
    specs=[
        dg.AssetSpec(
            name.split("."),
            deps=[dg.AssetKey(s.split("/")) for s in SOURCES],
            group_name=GROUP,
            kinds={"delta", "python"},
        )
        for name in TABLES
    ],
)
@on_commit_conflict(retry=True)
def profile_tables(context: dg.AssetExecutionContext, lakehouse: LakehouseResource):
    """车辆/企业画像: every vehicle (plate + colour) and enterprise (USCC) of the lake profiled as
    `lakehouse profile` does — one row per part with the period it covers and its counts, the
    breakdowns, the lists — with the subject's region code (row-level security); rebuilt whole."""
    counts = build_profile_tables(lakehouse.root, progress=context.log.info)
    for name, rows in counts.items():
        yield dg.MaterializeResult(asset_key=name.split("."), metadata={"rows": rows})


profile_job = dg.define_asset_job(
    "profile_refresh",
    selection=dg.AssetSelection.assets(profile_tables),
    description="Rebuild the 车辆/企业画像 tables from every domain's tables.",
)
profile_schedule = dg.ScheduleDefinition(
    job=profile_job,
    cron_schedule=_PIPELINE["profile_cron"],
    execution_timezone=_PIPELINE["timezone"],
    name="profile_nightly",
    description="Every night after the runs and retention (pipeline.profile_cron).",
)

defs = dg.Definitions(assets=[profile_tables], jobs=[profile_job], schedules=[profile_schedule])

PIPELINE = (Step("profile: every vehicle and enterprise across the domains", [profile_tables]),)

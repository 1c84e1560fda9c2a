"""dbt models (staging views, gold marts) as Dagster assets; dbt tests become asset checks."""

import os

import dagster as dg
from dagster_dbt import DbtCliResource, dbt_assets

from orchestration.defs.dbt_manifest import prepare_manifest
from orchestration.defs.writer import on_commit_conflict
from orchestration.environment import LakehouseResource
from transforms.rules import dbt_vars


@dbt_assets(manifest=prepare_manifest(), select="tag:telematics", name="dbt_telematics")
@on_commit_conflict(retry=True)
def dbt_telematics(
    context: dg.AssetExecutionContext, dbt: DbtCliResource, lakehouse: LakehouseResource
):
    """The telematics dbt models (tag `telematics`): staging views, the assessment's intermediate
    views and the gold marts (gold.telematics__vehicle_days, …county_days, …assessments).

    dbt runs against the same engine endpoint and lake as this process; its tests are asset checks.
    """
    os.environ.update(lakehouse.dbt_env())
    spark = lakehouse.spark()  # starts the embedded engine (if local), registers the lake's tables
    # a lake that has had no position yet (another domain's only) still gets empty marts
    from transforms.telematics.jobs import facts, positions

    positions.ensure_tables(spark, lakehouse.root, lakehouse.rules("telematics"))
    facts.ensure_tables(lakehouse.root)
    # every threshold and weight comes from the rules file (with the jurisdiction's overrides)
    rules = dbt_vars(lakehouse.rules())
    yield from dbt.cli(["build", "--vars", rules], context=context).stream()

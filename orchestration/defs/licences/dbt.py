"""The licences dbt models (tag `licences`) as Dagster assets; dbt tests become asset checks."""

import os

import dagster as dg
from dagster_dbt import DbtCliResource, dbt_assets

from orchestration.defs.dbt_manifest import prepare_manifest
from orchestration.defs.writer import on_commit_conflict
from orchestration.environment import LakehouseResource
from transforms.rules import dbt_vars


@dbt_assets(manifest=prepare_manifest(), select="tag:licences", name="dbt_licences")
@on_commit_conflict(retry=True)
def dbt_licences(
    context: dg.AssetExecutionContext, dbt: DbtCliResource, lakehouse: LakehouseResource
):
    """The licences dbt models (tag `licences`): staging views of silver licences and their
    quarantine (masked columns only) and the gold marts (gold.licences__operation_quality,
    gold.licences__licences) the dashboard 电子证照运行质量 reads.

    dbt runs against the same engine endpoint and lake as this process; its tests are asset checks.
    """
    os.environ.update(lakehouse.dbt_env())
    lakehouse.spark()  # starts the embedded engine (if local) and registers the lake's tables
    rules = dbt_vars(lakehouse.rules())
    yield from dbt.cli(["build", "--vars", rules], context=context).stream()

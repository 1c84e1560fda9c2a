"""The freight dbt models (tag `freight`) as Dagster assets; dbt tests become asset checks."""

import os

import dagster as dg
from dagster_dbt import DbtCliResource, dbt_assets

from orchestration.defs.dbt_manifest import prepare_manifest
from orchestration.defs.writer import on_commit_conflict
from orchestration.environment import LakehouseResource
from transforms.rules import dbt_vars


@dbt_assets(manifest=prepare_manifest(), select="tag:freight", name="dbt_freight")
@on_commit_conflict(retry=True)
def dbt_freight(
    context: dg.AssetExecutionContext, dbt: DbtCliResource, lakehouse: LakehouseResource
):
    """The freight dbt models (tag `freight`): staging views of the anomalies and of the 运行监测
    statistics and alarms, and the gold marts the dashboard 网络货运监测 reads
    (gold.freight__operator_months: the monthly ranking; …operator_days: daily waybills, tonnes,
    charges; …anomalies: every anomaly with its operator and month; …alarm_days: 预警).

    dbt runs against the same engine endpoint and lake as this process; its tests are asset checks.
    """
    os.environ.update(lakehouse.dbt_env())
    lakehouse.spark()  # starts the embedded engine (if local) and registers the lake's tables
    rules = dbt_vars(lakehouse.rules())
    yield from dbt.cli(["build", "--vars", rules], context=context).stream()

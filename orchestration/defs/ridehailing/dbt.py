"""The ride-hailing dbt models (tag `ridehailing`) as Dagster assets; dbt tests become asset
checks."""

import os

import dagster as dg
from dagster_dbt import DbtCliResource, dbt_assets

from orchestration.defs.dbt_manifest import prepare_manifest
from orchestration.defs.writer import on_commit_conflict
from orchestration.environment import LakehouseResource
from transforms.rules import dbt_vars


@dbt_assets(manifest=prepare_manifest(), select="tag:ridehailing", name="dbt_ridehailing")
@on_commit_conflict(retry=True)
def dbt_ridehailing(
    context: dg.AssetExecutionContext, dbt: DbtCliResource, lakehouse: LakehouseResource
):
    """The ride-hailing dbt models (tag `ridehailing`): staging views of the evaluation's company
    periods, overview and defects, and the gold marts the dashboard 网约车数据质量 reads
    (gold.ridehailing__company_months: the monthly ranking and score trend;
    …defect_counts: failed records per month, company, interface, dimension and rule;
    …overview_months: the industry overview with its month-on-month changes).

    dbt runs against the same engine endpoint and lake as this process; its tests are asset checks.
    """
    os.environ.update(lakehouse.dbt_env())
    spark = lakehouse.spark()  # starts the embedded engine (if local), registers the lake's tables
    # a lake the evaluation never ran on (another domain's only) still gets empty marts: the
    # record tables empty, evaluated (the sources dbt reads must exist)
    from transforms.lake.protection import ProtectionKeys
    from transforms.ridehailing.jobs import evaluate, publish

    sources = (evaluate.DEFECTS, evaluate.COMPANY_PERIODS, evaluate.OVERVIEW)
    if not all(table.exists(lakehouse.root) for table in sources):
        publish.ensure_tables(spark, lakehouse.root, lakehouse.rules("ridehailing"))
        evaluate.evaluate(
            spark,
            lakehouse.root,
            lakehouse.rules("ridehailing"),
            lakehouse.rules("licences"),
            ProtectionKeys.load().join,
            context.log.info,
        )
    rules = dbt_vars(lakehouse.rules())
    yield from dbt.cli(["build", "--vars", rules], context=context).stream()

"""Every domain's dbt models as one Dagster multi-asset: a run that refreshes the marts of several
domains starts dbt once, not once per domain (each start parses the project, connects to the
engine and plans: ≈ 15–25 s before the first model is built).

A model's domain is its tag (``dbt_project.yml``: the model folders of ``staging`` /
``intermediate`` / ``marts`` are named after the domains of ``transforms/domains.py``, and each
folder tags its models with that name). A domain's jobs select its own models with
:func:`marts`; what a domain needs before dbt reads its sources (empty tables on a lake that never
had its data) is the ``prepare`` function of its ``defs/<domain>/dbt.py``, when it has one, called
only when that domain's models are built. dbt tests are asset checks of the models they test.
"""

import importlib
import importlib.util
import os
from collections.abc import Iterable

import dagster as dg
from dagster_dbt import DbtCliResource, build_dbt_asset_selection, dbt_assets

from orchestration.defs.dbt_manifest import prepare_manifest
from orchestration.defs.writer import on_commit_conflict
from orchestration.environment import LakehouseResource
from transforms.domains import DOMAINS
from transforms.rules import dbt_vars

DOMAIN_TAGS = tuple(d.name for d in DOMAINS)


def _select(domains: Iterable[str]) -> str:
    return " ".join(f"tag:{name}" for name in domains)


@dbt_assets(manifest=prepare_manifest(), select=_select(DOMAIN_TAGS), name="dbt_marts")
@on_commit_conflict(retry=True)
def dbt_marts(context: dg.AssetExecutionContext, dbt: DbtCliResource, lakehouse: LakehouseResource):
    """The dbt models of every domain (staging views, intermediate views, gold marts), built in one
    dbt invocation for whichever of them the run selected.

    dbt runs against the same engine endpoint and lake as this process; its tests are asset checks.
    """
    os.environ.update(lakehouse.dbt_env())
    spark = lakehouse.spark()  # starts the embedded engine (if local), registers the lake's tables
    for name in selected_domains(context):
        hook = f"orchestration.defs.{name}.dbt"
        if importlib.util.find_spec(hook) is not None:
            importlib.import_module(hook).prepare(spark, lakehouse, context.log.info)
    # every threshold and weight comes from the rules file (with the jurisdiction's overrides)
    rules = lakehouse.rules()
    args = ["build", "--vars", dbt_vars(rules), *unit_test_args(rules)]
    yield from dbt.cli(args, context=context).stream()


def unit_test_args(rules: dict) -> list[str]:
    """dbt's unit tests (the SQL on fixed inputs) are CI's business, not every run's: left out of a
    run's build unless ``pipeline.dbt_unit_tests`` (rules file) is true."""
    if rules.get("pipeline", {}).get("dbt_unit_tests", False):
        return []
    return ["--exclude-resource-type", "unit_test"]


def selected_domains(context: dg.AssetExecutionContext) -> list[str]:
    """The domains (in ``transforms/domains.py`` order) with a model among the run's selection."""
    specs = context.assets_def.specs_by_key
    tags = {tag for key in context.selected_asset_keys for tag in specs[key].tags}
    return [name for name in DOMAIN_TAGS if name in tags]


def marts(*domains: str) -> dg.AssetSelection:
    """The dbt assets of these domains (their models' tags), for a job or a pipeline step."""
    unknown = sorted(set(domains) - set(DOMAIN_TAGS))
    if unknown:
        raise ValueError(f"no domain {', '.join(unknown)}; the domains: {', '.join(DOMAIN_TAGS)}")
    return build_dbt_asset_selection([dbt_marts], dbt_select=_select(domains))

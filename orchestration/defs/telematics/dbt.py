"""dbt models (staging views, gold marts) as Dagster assets; dbt tests become asset checks."""

import os
from pathlib import Path

import dagster as dg
from dagster_dbt import DbtCliResource, dbt_assets

from orchestration.environment import DBT_PROJECT_DIR, LakehouseResource
from transforms.lake.session import lake_root
from transforms.rules import dbt_vars, load_rules

MANIFEST = DBT_PROJECT_DIR / "target" / "manifest.json"
_SOURCES = ("models", "macros", "tests", "dbt_project.yml", "profiles.yml")


def _newest_source_mtime() -> float:
    newest = 0.0
    for name in _SOURCES:
        path = DBT_PROJECT_DIR / name
        paths = [path] if path.is_file() else path.rglob("*")
        for p in paths:
            if p.is_file():
                newest = max(newest, p.stat().st_mtime)
    return newest


def prepare_manifest() -> Path:
    """The dbt manifest, parsed again when absent or older than the project's files."""
    if MANIFEST.exists() and MANIFEST.stat().st_mtime >= _newest_source_mtime():
        return MANIFEST
    from dbt.cli.main import dbtRunner

    os.environ.setdefault("LAKEHOUSE_LAKE_ABS", str(lake_root()))
    result = dbtRunner().invoke(
        [
            "parse",
            "--project-dir",
            str(DBT_PROJECT_DIR),
            "--profiles-dir",
            str(DBT_PROJECT_DIR),
            "--quiet",
            # the models read the rules while they are parsed (dbt keeps no copy of them)
            "--vars",
            dbt_vars(load_rules()),
        ]
    )
    if not result.success or not MANIFEST.exists():
        raise RuntimeError(f"dbt parse failed: {result.exception}")
    return MANIFEST


@dbt_assets(manifest=prepare_manifest(), select="tag:telematics", name="dbt_telematics")
def dbt_telematics(
    context: dg.AssetExecutionContext, dbt: DbtCliResource, lakehouse: LakehouseResource
):
    """The telematics dbt models (tag `telematics`): staging views, the assessment's intermediate
    views and the gold marts (gold.telematics__vehicle_days, …county_days, …assessments).

    dbt runs against the same engine endpoint and lake as this process; its tests are asset checks.
    """
    os.environ.update(lakehouse.dbt_env())
    lakehouse.spark()  # starts the embedded engine (if local) and registers the lake's tables
    # every threshold and weight comes from the rules file (with the jurisdiction's overrides)
    rules = dbt_vars(lakehouse.rules())
    yield from dbt.cli(["build", "--vars", rules], context=context).stream()

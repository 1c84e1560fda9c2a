"""Resolve the environment: where the lake is, which engine, which rules; and the resources."""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path
from typing import Any

import dagster as dg
from dagster_dbt import DbtCliResource
from pydantic import PrivateAttr
from pyspark.sql import SparkSession

from transforms.lake.session import endpoint, get_spark, lake_root
from transforms.rules import load_rules

REPO = Path(__file__).resolve().parent.parent
DBT_PROJECT_DIR = REPO / "dbt_project"
DAGSTER_TEMPLATE = REPO / "infra" / "dagster" / "dagster.yaml"


class LakehouseResource(dg.ConfigurableResource):
    """The lake, its rules and the Spark Connect session (embedded Sail or the configured remote).

    For as long as a run uses it, every GX validation any step makes is kept in the lake
    (``ops.validation_results`` and the GX JSON: transforms/lake/validations.py); when the run
    ends, the Data Docs and the quarantine summary are rebuilt if it validated anything."""

    lake: str | None = None  # default: $LAKEHOUSE_LAKE, else ./lake
    rules_file: str | None = None  # default: $LAKEHOUSE_RULES, else transforms/rules.yaml only
    _recorder: Any = PrivateAttr(default=None)

    @property
    def root(self) -> Path:
        return lake_root(self.lake)

    def setup_for_execution(self, context: dg.InitResourceContext) -> None:
        run = context.run  # none for the evaluation of a sensor or a schedule
        if run is None:
            return
        from transforms.lake.validations import RunRecorder

        log = context.log.info if context.log is not None else None
        self._recorder = RunRecorder(self.root, run.run_id, log).open()

    def teardown_after_execution(self, context: dg.InitResourceContext) -> None:
        if self._recorder is not None:
            recorder, self._recorder = self._recorder, None
            recorder.close()

    def rules(self, domain: str | None = None) -> dict[str, Any]:
        """The rules of this run (with the jurisdiction's overrides): the whole nested file, or
        ``domain``'s view of it (its sections beside the shared ones)."""
        return load_rules(self.rules_file, domain=domain)

    def spark(self) -> SparkSession:
        return get_spark(self.root)

    def dbt_env(self) -> dict[str, str]:
        """Environment for a dbt process: the same engine endpoint and lake as this process."""
        ep = endpoint()
        return {
            "LAKEHOUSE_DBT_TARGET": "remote",
            "LAKEHOUSE_SPARK_HOST": ep.host,
            "LAKEHOUSE_SPARK_PORT": str(ep.port),
            "LAKEHOUSE_LAKE_ABS": str(self.root),
        }


LAKE_TAG = "lakehouse/lake"  # every run carries it; the run queue runs one run per value


def lake_tags(lake: Path) -> dict[str, str]:
    """The run tags of a run writing ``lake``: infra/dagster/dagster.yaml's tag concurrency limit
    lets one run per lake out of the queue (and counts `lakehouse run`'s in-process runs)."""
    return {LAKE_TAG: str(Path(lake).resolve())}


def dbt_executable() -> str:
    """``lakehouse-dbt`` of this environment (next to the interpreter, so a venv need not be
    activated): dbt's command line with a parse state that holds from run to run
    (orchestration/dbt_cli.py); else whatever `dbt` is on PATH."""
    for name in ("lakehouse-dbt", "dbt"):
        beside = Path(sys.executable).with_name(name)
        if beside.is_file():
            return str(beside)
    return "dbt"


def resources(lake: str | None = None, rules_file: str | None = None) -> dict[str, Any]:
    """Resources for every environment: only configuration (env vars) tells local from cluster."""
    return {
        "lakehouse": LakehouseResource(lake=lake, rules_file=rules_file),
        "dbt": DbtCliResource(
            project_dir=str(DBT_PROJECT_DIR),
            profiles_dir=str(DBT_PROJECT_DIR),
            dbt_executable=dbt_executable(),
        ),
    }


def dagster_home(lake: Path) -> Path:
    """$DAGSTER_HOME if set, else ``<lake>/_dagster``: the lake's run history."""
    return Path(os.environ.get("DAGSTER_HOME") or lake / "_dagster").resolve()


def ensure_dagster_home(lake: Path) -> Path:
    """The Dagster home of ``lake``, created with the project's instance config if new."""
    home = dagster_home(lake)
    home.mkdir(parents=True, exist_ok=True)
    config = home / "dagster.yaml"
    if not config.exists():
        shutil.copyfile(DAGSTER_TEMPLATE, config)
    return home

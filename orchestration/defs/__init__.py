"""Dagster definitions by domain (``defs/<domain>/`` each exports ``defs``, ``LANDING`` and
``PIPELINE``) and what the domains share (daily partitions, the landing sensor, the dbt models of
every domain as one multi-asset: ``marts.py``)."""

from __future__ import annotations

import importlib
from types import ModuleType

import dagster as dg

from transforms.domains import DOMAINS


def domain_modules() -> list[ModuleType]:
    """``orchestration.defs.<domain>`` of every domain in ``transforms.domains.DOMAINS``."""
    return [importlib.import_module(f"orchestration.defs.{d.name}") for d in DOMAINS]


def all_definitions(resources: dict) -> dg.Definitions:
    """Every domain's definitions merged, with the shared landing sensor and the resources.

    One writer per lake: every run executes in one process holding the lake's writer lock from
    its first step to its last (``defs/writer.py``, the default executor of every job); the run
    queue (``orchestration/instance.py``, infra/dagster/dagster.yaml) tags every run with its lake
    and starts one run per lake."""
    from orchestration.defs import audit, profile, protection, reference, retention
    from orchestration.defs.landing import build_landing_sensor
    from orchestration.defs.marts import dbt_marts
    from orchestration.defs.writer import lake_executor

    modules = domain_modules()
    shared = dg.Definitions(
        assets=[dbt_marts],  # every domain's dbt models, one multi-asset (defs/marts.py)
        sensors=[build_landing_sensor([m.LANDING for m in modules])],
        resources=resources,
        executor=lake_executor(resources["lakehouse"].root),
    )
    return dg.Definitions.merge(
        *(m.defs for m in modules),
        reference.defs,
        protection.defs,
        retention.defs,
        audit.defs,
        profile.defs,
        shared,
    )

"""One step of a domain's in-process pipeline run (``lakehouse run``)."""

from __future__ import annotations

from dataclasses import dataclass, field

import dagster as dg


@dataclass(frozen=True)
class Step:
    """Assets materialised together in one Dagster run. A ``by_day`` step runs once over the range
    of landing days of the domain's by-day feeds (a single-run backfill of their partitions). The
    dbt models of every domain are built in one run after the steps of every domain
    (orchestration/defs/marts.py); an ``after_marts`` step reads them and comes after that run."""

    name: str
    assets: list[dg.AssetsDefinition] = field(default_factory=list)
    by_day: bool = False
    after_marts: bool = False

"""What the telematics dbt models (tag `telematics`: staging views, the assessment's intermediate
views and the gold marts gold.telematics__vehicle_days, …county_days, …assessments) need before
dbt reads them; the models are built by the shared ``dbt_marts`` (orchestration/defs/marts.py)."""

from collections.abc import Callable

from orchestration.environment import LakehouseResource


def prepare(spark, lakehouse: LakehouseResource, log: Callable[[str], None]) -> None:
    """A lake that has had no position yet (another domain's only) still gets empty marts: the
    position and fact tables dbt reads exist."""
    from transforms.telematics.jobs import facts, positions

    positions.ensure_tables(spark, lakehouse.root, lakehouse.rules("telematics"))
    facts.ensure_tables(lakehouse.root)

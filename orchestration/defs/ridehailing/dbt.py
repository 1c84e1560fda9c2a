"""What the ride-hailing dbt models (tag `ridehailing`: staging views of the evaluation's company
periods, overview and defects, and the gold marts the dashboard 网约车数据质量 reads —
gold.ridehailing__company_months: the monthly ranking and score trend; …defect_counts: failed
records per month, company, interface, dimension and rule; …overview_months: the industry
overview with its month-on-month changes) need before dbt reads them; the models are built by the
shared ``dbt_marts`` (orchestration/defs/marts.py)."""

from collections.abc import Callable

from orchestration.environment import LakehouseResource


def prepare(spark, lakehouse: LakehouseResource, log: Callable[[str], None]) -> None:
    """A lake the evaluation never ran on (another domain's only) still gets empty marts: the
    record tables empty, evaluated (the sources dbt reads must exist)."""
    from transforms.lake.protection import ProtectionKeys
    from transforms.ridehailing.jobs import evaluate, publish

    sources = (evaluate.DEFECTS, evaluate.COMPANY_PERIODS, evaluate.OVERVIEW)
    if all(table.exists(lakehouse.root) for table in sources):
        return
    publish.ensure_tables(spark, lakehouse.root, lakehouse.rules("ridehailing"))
    evaluate.evaluate(
        spark,
        lakehouse.root,
        lakehouse.rules("ridehailing"),
        lakehouse.rules("licences"),
        ProtectionKeys.load().join,
        log,
    )

"""Telematics master data: vehicles (history) and counties."""

import dagster as dg

from orchestration.environment import LakehouseResource
from transforms.feeds import COUNTIES, VEHICLES
from transforms.jobs.landing import land_feed
from transforms.jobs.master import publish_counties, publish_vehicles


def _land(feed, lakehouse: LakehouseResource, context) -> dg.MaterializeResult:
    result = land_feed(lakehouse.root, feed, None, context.log.info)
    return dg.MaterializeResult(
        metadata={
            "landed_files": result.landed_files,
            "records": result.records,
            "malformed_lines": result.malformed,
            "rejected_files": result.rejected_files,
        }
    )


@dg.asset(key=["bronze", "telematics__vehicles"], group_name="telematics", kinds={"delta"})
def bronze_vehicles(context: dg.AssetExecutionContext, lakehouse: LakehouseResource):
    """Vehicle master files (all date folders not yet landed) as received."""
    return _land(VEHICLES, lakehouse, context)


@dg.asset(key=["bronze", "telematics__counties"], group_name="telematics", kinds={"delta"})
def bronze_counties(context: dg.AssetExecutionContext, lakehouse: LakehouseResource):
    """County master files as received."""
    return _land(COUNTIES, lakehouse, context)


@dg.asset(
    key=["silver", "telematics__vehicles"],
    deps=[bronze_vehicles],
    group_name="telematics",
    kinds={"delta", "spark"},
)
def silver_vehicles(context: dg.AssetExecutionContext, lakehouse: LakehouseResource):
    """Key vehicles (重点营运车辆) with every version kept (valid_from / valid_to)."""
    rows = publish_vehicles(lakehouse.spark(), lakehouse.root, context.log.info)
    return dg.MaterializeResult(metadata={"rows": rows})


@dg.asset(
    key=["silver", "telematics__counties"],
    deps=[bronze_counties],
    group_name="telematics",
    kinds={"delta", "spark"},
)
def silver_counties(context: dg.AssetExecutionContext, lakehouse: LakehouseResource):
    """Counties (辖区) with their names, GB/T 2260."""
    rows = publish_counties(lakehouse.spark(), lakehouse.root, context.log.info)
    return dg.MaterializeResult(metadata={"rows": rows})

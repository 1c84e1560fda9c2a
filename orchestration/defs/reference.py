"""The shared reference feeds in Dagster (transforms/reference/): GB/T 2260 divisions with their
centroids, landed and published whole. Every domain that measures distances between divisions
lists these assets first in its pipeline (freight's tonne-km and trajectories); materialising
them again is a no-op when nothing new landed."""

import dagster as dg

from orchestration.defs.landing import landing_metadata
from orchestration.defs.protection import record_manifest
from orchestration.defs.writer import on_commit_conflict
from orchestration.environment import LakehouseResource
from transforms.lake.landing import land_feed
from transforms.reference.feeds import DIVISIONS
from transforms.reference.publish import publish_divisions

GROUP = "reference"


@dg.asset(key=["bronze", "reference__divisions"], group_name=GROUP, kinds={"delta", "python"})
@on_commit_conflict(retry=True)
def bronze_divisions(context: dg.AssetExecutionContext, lakehouse: LakehouseResource):
    """Division files (`reference/divisions`, every date folder not yet landed): code, name,
    level, parent, centroid — as received, with lineage."""
    result = land_feed(lakehouse.root, DIVISIONS, None, context.log.info)
    record_manifest(context, lakehouse.root)
    return dg.MaterializeResult(metadata=landing_metadata(result))


@dg.asset(
    key=["silver", "reference__divisions"],
    deps=[bronze_divisions],
    group_name=GROUP,
    kinds={"delta", "python"},
)
@on_commit_conflict(retry=True)
def silver_divisions(context: dg.AssetExecutionContext, lakehouse: LakehouseResource):
    """GB/T 2260 divisions, one per code (the record landed last wins), with centroids."""
    rows = publish_divisions(lakehouse.root, context.log.info)
    return dg.MaterializeResult(metadata={"divisions": rows})


ASSETS = [bronze_divisions, silver_divisions]
defs = dg.Definitions(assets=ASSETS)

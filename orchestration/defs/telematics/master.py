"""Telematics master data (counties, enterprises, platforms, routes, regions, vehicles) and platform
events (link up/down, 查岗 checks): landing → bronze → silver, one pair of assets per feed."""

import dagster as dg

from orchestration.defs.protection import record_manifest
from orchestration.defs.writer import on_commit_conflict
from orchestration.environment import LakehouseResource
from transforms.lake.feeds import Feed
from transforms.lake.landing import land_feed
from transforms.telematics.feeds import EVENT_FEEDS, MASTER_FEEDS
from transforms.telematics.jobs.master import SILVER_BUILDERS, publish_feed


def feed_assets(feed: Feed) -> list[dg.AssetsDefinition]:
    """The bronze and silver assets of one master or event feed."""
    silver_table, build = SILVER_BUILDERS[feed.key]
    bronze_key = ["bronze", f"{feed.domain}__{feed.name}"]

    @dg.asset(
        key=bronze_key,
        group_name="telematics_master",
        kinds={"delta", "python"},
        description=f"`{feed.key}` landing files (all date folders not yet landed), as received, "
        "with lineage; malformed lines go to quarantine.",
    )
    @on_commit_conflict(retry=True)
    def bronze(context: dg.AssetExecutionContext, lakehouse: LakehouseResource):
        result = land_feed(lakehouse.root, feed, None, context.log.info)
        record_manifest(context, lakehouse.root)
        return dg.MaterializeResult(
            metadata={"landed_files": result.landed_files, "records": result.records,
                      "malformed_lines": result.malformed, "rejected_files": result.rejected_files}
        )  # fmt: skip

    @dg.asset(
        key=silver_table.split("."),
        deps=[bronze_key],
        group_name="telematics_master",
        kinds={"delta", "spark"},
        description=(build.__doc__ or "").strip().splitlines()[0],
    )
    @on_commit_conflict(retry=True)
    def silver(context: dg.AssetExecutionContext, lakehouse: LakehouseResource):
        rows = publish_feed(lakehouse.spark(), lakehouse.root, feed, context.log.info)
        return dg.MaterializeResult(metadata={"rows": rows})

    return [bronze, silver]


MASTER_ASSETS = [a for feed in (*MASTER_FEEDS, *EVENT_FEEDS) for a in feed_assets(feed)]

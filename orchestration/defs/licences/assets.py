"""Licences (电子证照): landing → bronze → signature check → silver + quarantine.

Authority keys first (a record is checked against the keys registered when it is published), then
the issuance records of every pending file.
"""

import dagster as dg

from orchestration.defs.landing import landing_metadata
from orchestration.defs.protection import record_manifest
from orchestration.defs.quality import data_docs_metadata
from orchestration.defs.writer import on_commit_conflict
from orchestration.environment import LakehouseResource
from transforms.lake.landing import land_feed
from transforms.licences.feeds import AUTHORITIES, ISSUANCE
from transforms.licences.jobs.publish import publish_authorities, publish_issuance

GROUP = "licences"
GX_AUTHORITIES = "gx_licences__authorities"
GX_LICENCES = "gx_licences__licences"


@dg.asset(key=["bronze", "licences__authorities"], group_name=GROUP, kinds={"delta", "python"})
@on_commit_conflict(retry=True)
def bronze_authorities(context: dg.AssetExecutionContext, lakehouse: LakehouseResource):
    """Authority key files (`licences/authorities`, every date folder not yet landed): key_id,
    authority code and name, SM2 public key, validity — as received, with lineage."""
    result = land_feed(lakehouse.root, AUTHORITIES, None, context.log.info)
    record_manifest(context, lakehouse.root)
    return dg.MaterializeResult(metadata=landing_metadata(result))


@dg.multi_asset(
    specs=[
        dg.AssetSpec(
            ["silver", "licences__authorities"],
            deps=[bronze_authorities],
            description="Registered authority keys (证照签发机关公钥), one per key_id.",
            group_name=GROUP,
            kinds={"delta", "spark"},
        ),
        dg.AssetSpec(
            ["quarantine", "licences__authorities"],
            deps=[bronze_authorities],
            description="Authority key records that break a rule, or lines that could not be parsed.",
            group_name=GROUP,
            kinds={"delta", "spark"},
        ),
    ],
    check_specs=[
        dg.AssetCheckSpec(
            GX_AUTHORITIES,
            asset=["silver", "licences__authorities"],
            blocking=True,
            description="Great Expectations suite licences__authorities on every key record.",
        )
    ],
    name="silver_licences__authorities",
)
@on_commit_conflict(retry=True)
def silver_authorities(context: dg.AssetExecutionContext, lakehouse: LakehouseResource):
    """Rebuild the registered keys from every key record (the record landed last wins)."""
    rows, report = publish_authorities(
        lakehouse.spark(), lakehouse.root, lakehouse.rules("licences"), context.log.info
    )
    yield dg.AssetCheckResult(
        check_name=GX_AUTHORITIES,
        asset_key=["silver", "licences__authorities"],
        passed=report.success,
        severity=dg.AssetCheckSeverity.ERROR,
        metadata={
            "rows": report.rows,
            "unexpected_by_rule": report.unexpected_by_rule(),
            **data_docs_metadata(lakehouse.root, report),
        },
    )
    yield dg.MaterializeResult(
        asset_key=["silver", "licences__authorities"], metadata={"keys": rows}
    )
    yield dg.MaterializeResult(asset_key=["quarantine", "licences__authorities"])


@dg.asset(key=["bronze", "licences__issuance"], group_name=GROUP, kinds={"delta", "python"})
@on_commit_conflict(retry=True)
def bronze_issuance(context: dg.AssetExecutionContext, lakehouse: LakehouseResource):
    """Licence issuance files (`licences/issuance`, every date folder not yet landed), one signed
    record per line, with the signed text (canonical) and personal fields kept only encrypted,
    hashed and masked; malformed lines go to quarantine."""
    result = land_feed(lakehouse.root, ISSUANCE, None, context.log.info)
    record_manifest(context, lakehouse.root)
    return dg.MaterializeResult(metadata=landing_metadata(result))


@dg.multi_asset(
    specs=[
        dg.AssetSpec(
            ["silver", "licences__licences"],
            deps=[bronze_issuance, ["silver", "licences__authorities"]],
            description="Verified licence versions with their valid-time range (SCD2).",
            group_name=GROUP,
            kinds={"delta", "spark"},
        ),
        dg.AssetSpec(
            ["silver", "licences__records"],
            deps=[bronze_issuance],
            description="What the operation-quality report counts: each verified version and "
            "each quarantined record once, with province, month, delay and outcome.",
            group_name=GROUP,
            kinds={"delta", "spark"},
        ),
        dg.AssetSpec(
            ["quarantine", "licences__issuance"],
            deps=[bronze_issuance, ["silver", "licences__authorities"]],
            description="Records failing the signature check (bad_signature / unknown_signer) or "
            "a field rule, and malformed lines.",
            group_name=GROUP,
            kinds={"delta", "spark"},
        ),
    ],
    check_specs=[
        dg.AssetCheckSpec(
            GX_LICENCES,
            asset=["silver", "licences__licences"],
            blocking=True,
            description="Great Expectations suite licences__licences on the batch before publishing.",
        )
    ],
    name="silver_licences__licences",
)
@on_commit_conflict(retry=True)
def silver_licences(context: dg.AssetExecutionContext, lakehouse: LakehouseResource):
    """Verify every pending record's SM2 signature against its authority's key valid on
    issued_at, validate the batch (GX), quarantine failures with their reasons and merge verified
    versions into the history."""
    result = publish_issuance(
        lakehouse.spark(), lakehouse.root, lakehouse.rules("licences"), context.log.info
    )
    report = result.report
    yield dg.AssetCheckResult(
        check_name=GX_LICENCES,
        asset_key=["silver", "licences__licences"],
        passed=result.published,
        severity=dg.AssetCheckSeverity.ERROR,
        metadata={
            "rows": report.rows if report else 0,
            "unexpected_by_rule": report.unexpected_by_rule() if report else {},
            **data_docs_metadata(lakehouse.root, report),
        },
    )
    meta = {"files": result.files, "records": result.records, "published": result.published}
    yield dg.MaterializeResult(
        asset_key=["silver", "licences__licences"],
        metadata={**meta, "verified": result.verified, "rows": result.silver_rows},
    )
    yield dg.MaterializeResult(asset_key=["silver", "licences__records"])
    yield dg.MaterializeResult(
        asset_key=["quarantine", "licences__issuance"],
        metadata={**meta, "quarantined": result.quarantined, "by_reason": result.failed_by_rule},
    )


ASSETS = [bronze_authorities, silver_authorities, bronze_issuance, silver_licences]

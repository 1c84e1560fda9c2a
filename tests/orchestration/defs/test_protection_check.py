"""The shared tamper-evidence definitions: a landing asset records the manifest (and observes
ops/manifest); the daily `protection_verify` job's check passes on a clean lake and fails with
ERROR severity, naming the path, after one byte of a landed file changed."""

import json

import dagster as dg
import pytest

from orchestration.defs import protection
from orchestration.environment import LakehouseResource
from transforms.lake.feeds import Feed
from transforms.lake.landing import land_feed
from transforms.lake.registry import Table

FEED = Feed("upsilon", "orders", ("order_id",), (".jsonl",))
LANDED = "landing/upsilon/orders/2026-11-02/a.jsonl"


@pytest.fixture
def lake(tmp_path, monkeypatch):
    from transforms.lake import registry

    extra = tuple(Table(n, "test table") for n in (FEED.bronze_table, FEED.quarantine_table))
    shared = registry.SHARED_TABLES
    monkeypatch.setattr(registry, "all_tables", lambda: shared + extra)
    root = tmp_path / "lake"
    (root / LANDED).parent.mkdir(parents=True)
    (root / LANDED).write_text(json.dumps({"order_id": "A1"}) + "\n", encoding="utf-8")
    return root


@dg.asset(key=["bronze", "upsilon__orders"])
def landing(context: dg.AssetExecutionContext, lakehouse: LakehouseResource) -> None:
    """A landing asset as every domain writes it: land, then record."""
    land_feed(lakehouse.root, FEED)
    protection.record_manifest(context, lakehouse.root)


def check_result(instance, lake) -> dg.AssetCheckEvaluation:
    defs = dg.Definitions(
        assets=[protection.MANIFEST],
        asset_checks=[protection.manifest_verified],
        jobs=[protection.verify_job],
        resources={"lakehouse": LakehouseResource(lake=str(lake))},
    )
    run = defs.resolve_job_def("protection_verify").execute_in_process(instance=instance)
    (evaluation,) = [
        e.event_specific_data
        for e in run.all_events
        if e.event_type_value == "ASSET_CHECK_EVALUATION"
    ]
    return evaluation


def test_landing_records_and_the_daily_check_fails_on_tampering(lake):
    instance = dg.DagsterInstance.ephemeral()
    run = dg.materialize(
        [landing], instance=instance, resources={"lakehouse": LakehouseResource(lake=str(lake))}
    )
    observed = [
        e.event_specific_data.asset_observation
        for e in run.all_events
        if e.event_type_value == "ASSET_OBSERVATION"
    ]
    assert [o.asset_key for o in observed] == [protection.MANIFEST.key]
    assert observed[0].metadata["landed_file"].value == 1
    assert observed[0].metadata["delta_log"].value == 1

    clean = check_result(instance, lake)
    assert clean.passed and clean.metadata["files_checked"].value == 3

    (lake / LANDED).write_text(json.dumps({"order_id": "A2"}) + "\n", encoding="utf-8")
    tampered = check_result(instance, lake)
    assert not tampered.passed
    assert tampered.severity == dg.AssetCheckSeverity.ERROR
    assert tampered.metadata["mismatch_count"].value == 1
    assert LANDED in tampered.metadata["mismatches"].value

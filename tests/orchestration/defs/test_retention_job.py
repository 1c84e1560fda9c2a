"""The nightly retention job: it runs retention with the lake resource and reports the counts."""

from __future__ import annotations

import datetime as dt

import pyarrow as pa
from deltalake import DeltaTable, write_deltalake

from orchestration.defs import retention as retention_defs
from orchestration.environment import LakehouseResource
from transforms.lake import registry, retention


def test_the_job_deletes_past_retention_and_reports_counts(tmp_path, monkeypatch):
    monkeypatch.setattr(retention, "now_beijing", lambda: dt.datetime(2026, 8, 15, 3, 30))
    lake = tmp_path / "lake"
    events = registry.table("silver.telematics__violation_events").location(lake)
    positions = registry.table("silver.telematics__positions").location(lake)
    days = [dt.date(2023, 8, 12), dt.date(2023, 8, 13)]  # 1098 days before 2026-08-15: 08-13
    write_deltalake(str(events), pa.table({"event_id": ["old", "kept"], "day": days,
                                           "plate": ["闽A00001"] * 2, "plate_color": [2, 2]}),
                    partition_by=["day"])  # fmt: skip
    write_deltalake(str(positions), pa.table({"day": [dt.date(2026, 2, 9), dt.date(2026, 2, 10)],
                                              "plate": ["闽A00001"] * 2, "plate_color": [2, 2]}),
                    partition_by=["day"])  # fmt: skip

    schedule = retention_defs.retention_schedule
    assert schedule.name == "retention_nightly" and schedule.job_name == "retention"
    assert schedule.cron_schedule == "30 3 * * *"  # pipeline.retention_cron
    result = retention_defs.retention_job.execute_in_process(
        resources={"lakehouse": LakehouseResource(lake=str(lake))}
    )
    assert result.success
    meta = next(
        e.event_specific_data.metadata
        for e in result.all_events
        if e.event_type_value == "STEP_OUTPUT"
    )
    assert meta["rows_deleted"].value == 2 and meta["as_of"].value == "2026-08-15"
    assert [r["event_id"] for r in DeltaTable(str(events)).to_pyarrow_table().to_pylist()] == [
        "kept"
    ]
    assert [r["day"] for r in DeltaTable(str(positions)).to_pyarrow_table().to_pylist()] == [
        dt.date(2026, 2, 10)
    ]
    assert len(retention.deletions(lake)) == 2

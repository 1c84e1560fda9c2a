"""The shared landing sensor: per domain, a partition run of its daily job for each changed landing
day of its by-day feeds, one run of its master job when its other feeds change, nothing when
nothing changed."""

import json
import os

import dagster as dg

from orchestration.defs import domain_modules
from orchestration.defs.landing import build_landing_sensor
from orchestration.environment import LakehouseResource


def _evaluate(sensor, lake, cursor=None):
    from orchestration.definitions import defs

    # the lake resource has a set-up and a tear-down (it keeps a run's validations): its
    # resources are open inside the block, as the daemon opens them for a tick
    with dg.build_sensor_context(
        cursor=cursor,
        resources={"lakehouse": LakehouseResource(lake=str(lake))},
        definitions=defs,
    ) as context:
        result = sensor.evaluate_tick(context)
    return result.run_requests, result.cursor


def test_sensor_requests_runs_per_domain_and_changed_day(tmp_path):
    lake = tmp_path / "lake"
    for feed, day, name in (
        ("positions", "2026-11-01", "a.jsonl"),
        ("frames", "2026-11-02", "b.hex"),
        ("vehicles", "2026-11-01", "v.jsonl"),
    ):
        folder = lake / "landing" / "telematics" / feed / day
        folder.mkdir(parents=True)
        (folder / name).write_text("{}\n")
    sensor = build_landing_sensor([m.LANDING for m in domain_modules()])

    requests, cursor = _evaluate(sensor, lake)
    by_day = sorted(r.partition_key for r in requests if r.partition_key)
    assert by_day == ["2026-11-01", "2026-11-02"]
    assert {r.job_name for r in requests if r.partition_key} == {"telematics_positions_daily"}
    # licences has no file yet: nothing of it is requested
    assert [r.job_name for r in requests if not r.partition_key] == ["telematics_master"]
    assert set(json.loads(cursor)) == {"freight", "licences", "ridehailing", "telematics"}

    assert _evaluate(sensor, lake, cursor)[0] == []  # nothing changed: nothing requested

    changed = lake / "landing/telematics/positions/2026-11-01/c.jsonl"
    changed.write_text("{}\n")
    os.utime(changed, (1_700_000_000, 1_700_000_000))
    requests, _ = _evaluate(sensor, lake, cursor)
    assert [(r.job_name, r.partition_key) for r in requests] == [
        ("telematics_positions_daily", "2026-11-01")
    ]


def test_licence_files_request_the_licences_job(tmp_path):
    lake = tmp_path / "lake"
    folder = lake / "landing/licences/issuance/2026-11-03"
    folder.mkdir(parents=True)
    (folder / "issuance.jsonl").write_text("{}\n")
    sensor = build_landing_sensor([m.LANDING for m in domain_modules()])

    requests, cursor = _evaluate(sensor, lake)
    assert [(r.job_name, r.partition_key) for r in requests] == [("licences", None)]
    assert _evaluate(sensor, lake, cursor)[0] == []
    keys = lake / "landing/licences/authorities/2026-11-03"
    keys.mkdir(parents=True)
    (keys / "authorities.jsonl").write_text("{}\n")
    assert [r.job_name for r in _evaluate(sensor, lake, cursor)[0]] == ["licences"]


def test_freight_files_request_the_freight_job(tmp_path):
    lake = tmp_path / "lake"
    folder = lake / "landing/freight/envelopes/2026-11-03"
    folder.mkdir(parents=True)
    (folder / "envelope.json").write_text("{}")
    sensor = build_landing_sensor([m.LANDING for m in domain_modules()])

    requests, cursor = _evaluate(sensor, lake)
    assert [(r.job_name, r.partition_key) for r in requests] == [("freight", None)]
    assert _evaluate(sensor, lake, cursor)[0] == []
    points = lake / "landing/freight/national_positions/2026-11-03"
    points.mkdir(parents=True)
    (points / "points.jsonl").write_text("{}\n")
    assert [r.job_name for r in _evaluate(sensor, lake, cursor)[0]] == ["freight"]


def test_ridehailing_files_request_its_daily_job_per_changed_day(tmp_path):
    lake = tmp_path / "lake"
    for interface, day in (("orderCreate", "2026-11-03"), ("positionVehicle", "2026-11-04")):
        folder = lake / "landing/ridehailing" / interface / day
        folder.mkdir(parents=True)
        (folder / "a.jsonl").write_text("{}\n")
    sensor = build_landing_sensor([m.LANDING for m in domain_modules()])

    requests, cursor = _evaluate(sensor, lake)
    assert sorted((r.job_name, r.partition_key) for r in requests) == [
        ("ridehailing_daily", "2026-11-03"),
        ("ridehailing_daily", "2026-11-04"),
    ]
    assert _evaluate(sensor, lake, cursor)[0] == []
    # a back-fill into an earlier day's folder asks for that day only
    (lake / "landing/ridehailing/orderCreate/2026-11-03/b.jsonl").write_text("{}\n")
    assert [(r.job_name, r.partition_key) for r in _evaluate(sensor, lake, cursor)[0]] == [
        ("ridehailing_daily", "2026-11-03")
    ]

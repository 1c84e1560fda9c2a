"""The licences generator: realistic persons, every case (changed, suspended, revoked, cancelled,
expired, forged three ways), deterministic but for the signatures, and a known answer the real
jobs reproduce: silver, quarantine reasons, every report value and every 核验 answer."""

from __future__ import annotations

import datetime as dt
import json
from collections import Counter
from pathlib import Path

import pytest
from deltalake import DeltaTable
from pyspark.sql import functions as F

from transforms.lake.landing import land_feed
from transforms.lake.protection import ProtectionKeys
from transforms.licences.feeds import FEEDS
from transforms.licences.generate import generate_licences
from transforms.licences.generate.people import is_valid_id
from transforms.licences.jobs.publish import publish_authorities, publish_issuance
from transforms.licences.jobs.report import report
from transforms.licences.lookups import licence_valid_at, qualified_at, with_holder_hmac
from transforms.rules import load_rules
from transforms.telematics.generate import generate_landing

START = dt.date(2026, 3, 2)
DAYS = 2
RULES = load_rules(domain="licences")


def _lake(root: Path, seed: int = 3):
    lake = root / "lake"
    generate_landing(lake, START, days=DAYS, vehicles=9, seed=seed, bad_rate=0.0)
    return lake, generate_licences(lake, START, DAYS, seed=seed)


def _lines(lake: Path) -> list[dict]:
    out = []
    for path in sorted((lake / "landing/licences/issuance").glob("*/*.jsonl")):
        out += [json.loads(x) for x in path.read_text("utf-8").splitlines()]
    return out


@pytest.fixture(scope="module")
def generated(spark, tmp_path_factory):
    lake, summary = _lake(tmp_path_factory.mktemp("generated"))
    for feed in FEEDS:
        land_feed(lake, feed)
    publish_authorities(spark, lake, RULES)
    publish_issuance(spark, lake, RULES)
    return lake, summary


def test_the_summary_adds_up_and_every_case_occurs(generated):
    lake, s = generated
    lines = _lines(lake)
    assert s.lines == len(lines) == s.versions + s.resent_records + sum(s.forged.values())
    assert sum(s.by_kind.values()) == s.licences
    assert set(s.by_kind) == {"operating_permit", "freight_platform_permit", "vehicle_transport",
                              "ride_hailing_permit", "ride_hailing_vehicle",
                              "driver_qualification", "ride_hailing_driver"}  # fmt: skip
    assert s.forged == {"tampered": 1, "unknown_key": 1, "expired_key": 1}
    assert s.signature_failures == {"bad_signature": 1, "unknown_signer": 2}
    statuses = Counter(x["status"] for x in lines)
    assert {"valid", "suspended", "revoked", "cancelled"} <= set(statuses)
    assert {"suspended", "revoked", "cancelled", "expired", "valid"} <= set(s.answers_at_end)
    assert max(x["version"] for x in lines) >= 2
    persons = [x for x in lines if x["holder_type"] == "person"]
    assert len({x["holder_key"] for x in persons}) == s.persons
    for x in persons:
        assert is_valid_id(x["holder_key"]) and x["holder_key"].startswith("35"), x["holder_key"]
        assert len(x["holder_phone"]) == 11 and 2 <= len(x["holder_name"]) <= 3
    # the telematics enterprises and vehicles all have their licences
    vehicles = (lake / "landing/telematics/vehicles").glob("*/*.jsonl")
    plates = {f"{v['plate']}-{v['plate_color']}" for p in vehicles
              for v in map(json.loads, p.read_text("utf-8").splitlines())}  # fmt: skip
    assert plates <= {x["holder_key"] for x in lines if x["licence_type"] == "vehicle_transport"}


def test_same_seed_same_records_but_for_the_signatures(tmp_path):
    lake_a, a = _lake(tmp_path / "a")
    lake_b, b = _lake(tmp_path / "b")

    def unsigned(lake):
        return [{k: v for k, v in x.items() if k != "signature"} for x in _lines(lake)]

    assert unsigned(lake_a) == unsigned(lake_b) and a.to_dict() == b.to_dict()
    assert [x["signature"] for x in _lines(lake_a)] != [x["signature"] for x in _lines(lake_b)]
    with pytest.raises(FileExistsError, match="force"):
        generate_licences(lake_a, START, DAYS, seed=3)
    assert generate_licences(lake_a, START, DAYS, seed=3, force=True).to_dict() == a.to_dict()


def test_the_jobs_reproduce_the_known_answer(spark, generated):
    lake, s = generated
    silver = DeltaTable(str(lake / "silver/licences__licences")).to_pyarrow_table().to_pylist()
    assert len(silver) == s.versions
    quarantine = DeltaTable(str(lake / "quarantine/licences__issuance")).to_pyarrow_table()
    reasons = Counter(r for rules in quarantine.column("failed_rules").to_pylist() for r in rules)
    assert dict(reasons) == s.signature_failures
    for key, expected in s.report.items():
        province, period = key.split("|")
        (got,) = [r for r in report(spark, lake, period, RULES) if r["province_code"] == province]
        assert got == pytest.approx(expected), key
    end = dt.datetime.combine(START + dt.timedelta(days=DAYS), dt.time()) - dt.timedelta(seconds=1)
    answers = Counter(
        licence_valid_at(silver, number, end)["reason"] or "valid"
        for number in {r["licence_no"] for r in silver}
    )
    assert dict(answers) == s.answers_at_end


def test_every_generated_vehicle_is_found_by_the_join(spark, generated):
    lake, _ = generated
    vehicles = (
        spark.read.format("delta").load(str(lake / "bronze/licences__issuance"))
        .where("licence_type = 'vehicle_transport' AND holder_type = 'vehicle'")
        .select(F.col("holder_key_masked").alias("plate_colour")).distinct()
        .withColumn("event_time", F.lit("2026-03-03 12:00:00").cast("timestamp"))
    )  # fmt: skip
    events = with_holder_hmac(vehicles, "plate_colour", ProtectionKeys.load().join)
    licences = spark.read.format("delta").load(str(lake / "silver/licences__licences"))
    out = qualified_at(events, licences, ["vehicle_transport"], RULES).collect()
    assert out and all(r["licence_reason"] != "not_found" for r in out)
    assert any(r["licence_valid"] for r in out)

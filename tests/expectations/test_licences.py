"""The licences GX suites and the row tagging agree rule by rule, each defect fails exactly one
rule, and the suites block a broken batch (licence types, holder types, status codes, date order,
GB/T 2260 province and authority codes)."""

import datetime as dt

import pytest
from pyspark.sql import functions as F

from expectations.licences import authorities_suite, division_pattern, issuance_suite
from expectations.suites import validate_dataframe
from transforms.licences.issuance import (
    tag_authorities,
    tag_issuance,
    typed_authorities,
    typed_issuance,
)
from transforms.rules import load_rules

RULES = load_rules(domain="licences")
GOOD = {
    "licence_id": "L1", "licence_type": "qualification", "licence_no": "QC1", "holder_type": "person",
    "holder_key_hmac": "h", "scope": "道路旅客运输驾驶员", "issuing_authority_code": "350900",
    "issuing_authority_name": "宁德市交通运输局", "issuing_province": "350000",
    "issued_at": "2026-03-06 12:00:00", "valid_from": "2020-04-01", "valid_to": "2026-03-31",
    "status": "valid", "version": "1", "received_at": "2026-03-06 12:10:00", "signer_key_id": "K",
    "signature": "ab", "canonical_sm4": "c", "signature_check": "verified",
}  # fmt: skip
STRINGS = [
    "licence_id", "licence_type", "licence_no", "holder_type", "holder_key_sm4", "holder_key_hmac",
    "holder_key_masked", "holder_name_sm4", "holder_name_hmac", "holder_name_masked",
    "holder_phone_sm4", "holder_phone_hmac", "holder_phone_masked", "legal_representative_sm4",
    "legal_representative_hmac", "legal_representative_masked", "contact_phone_sm4",
    "contact_phone_hmac", "contact_phone_masked", "scope", "issuing_authority_code",
    "issuing_authority_name", "issuing_province", "issued_at", "valid_from", "valid_to", "status",
    "version", "received_at", "signer_key_id", "signature", "canonical_sm4", "signature_check",
    "signature_detail", "raw_preview",
]  # fmt: skip


def issuance_batch(spark, n_good, bad):
    rows = [dict(GOOD) for _ in range(n_good)] + [{**GOOD, **b} for b in bad]
    data = [
        tuple(r.get(c) for c in STRINGS) + ("f", i, "d", dt.datetime(2026, 3, 7))
        for i, r in enumerate(rows)
    ]
    schema = ", ".join(f"{c} string" for c in STRINGS) + (
        ", _source_file string, _line bigint, _file_sm3 string, _landed_at timestamp"
    )
    typed = typed_issuance(spark.createDataFrame(data, schema), RULES)
    return tag_issuance(typed, RULES)


def _tags(tagged) -> dict[str, int]:
    return {
        r["rule"]: r["n"]
        for r in tagged.select(F.explode("failed_rules").alias("rule"))
        .groupBy("rule")
        .agg(F.count(F.lit(1)).alias("n"))
        .collect()
    }


def test_issuance_gx_counts_match_row_tags(spark):
    bad = [
        {"licence_type": "driving_licence"},
        {"licence_type": "vehicle_transport"},  # a person cannot hold a 道路运输证
        {"holder_type": "robot"},
        {"status": "lost"},
        {"status": None},
        {"valid_from": "2027-01-01"},  # after valid_to
        {"valid_to": "2026-02-30"},
        {"version": "0"},
        {"issued_at": "2026-03-06"},
        {"issuing_province": "990000"},
        {"issuing_authority_code": "35090"},
        {"issuing_authority_code": "330100"},  # an authority of another province
        {"holder_key_hmac": None},
        {"licence_no": " "},
        {"signature_check": "bad_signature"},  # tagged, but no field rule: GX does not count it
    ]
    tagged = issuance_batch(spark, 30, bad)
    report = validate_dataframe(tagged, issuance_suite(RULES))
    assert report.success
    gx = {rule: n for rule, n in report.unexpected_by_rule().items() if n}
    expected = {
        "licence_type_valid": 1, "holder_type_matches": 1, "holder_type_valid": 1,
        "status_valid": 2, "dates_ordered": 1, "valid_to_valid": 1, "version_valid": 1,
        "issued_at_valid": 1, "issuing_province_valid": 1, "authority_code_valid": 1,
        "authority_in_province": 1, "holder_key_present": 1, "licence_no_present": 1,
    }  # fmt: skip
    assert gx == expected
    assert _tags(tagged) == {**expected, "bad_signature": 1}
    # each defect fails exactly one rule; the signature reason comes first
    failed = [r["failed_rules"] for r in tagged.orderBy("_line").collect()]
    assert failed[:30] == [[]] * 30 and all(len(f) == 1 for f in failed[30:])
    assert failed[-1] == ["bad_signature"]


def test_issuance_suite_blocks_a_broken_batch(spark):
    tagged = issuance_batch(spark, 2, [{"status": "lost"}] * 3)
    report = validate_dataframe(tagged, issuance_suite(RULES))
    assert not report.success
    assert [o.rule for o in report.failed] == ["status_valid"]


def test_authority_rules_and_suite(spark):
    good = ("K1", "350000", "福建省交通运输厅", "04" + "ab" * 64, "2026-01-01", "2030-12-31")
    bad = [
        ("K2", "35000", "x", good[3], "2026-01-01", "2030-12-31"),
        ("K3", "350000", "x", "ab" * 64, "2026-01-01", "2030-12-31"),
        ("K4", "350000", "x", good[3], "2031-01-01", "2030-12-31"),
        (None, "350000", "x", good[3], "2026-01-01", "2030-12-31"),
    ]
    rows = [(*r, "2026-01-01", "f", i, "d", dt.datetime(2026, 1, 1))
            for i, r in enumerate([good] * 4 + bad)]  # fmt: skip
    schema = ("key_id string, authority_code string, authority_name string, sm2_public_key string, "
              "valid_from string, valid_to string, _folder_date string, _source_file string, "
              "_line bigint, _file_sm3 string, _landed_at timestamp")  # fmt: skip
    bronze = spark.createDataFrame(rows, schema).withColumn(
        "_folder_date", F.col("_folder_date").cast("date")
    )
    tagged = tag_authorities(typed_authorities(bronze), RULES)
    report = validate_dataframe(tagged, authorities_suite(RULES))
    expected = {"authority_code_valid": 1, "public_key_valid": 1, "dates_ordered": 1,
                "key_id_present": 1}  # fmt: skip
    assert {k: v for k, v in report.unexpected_by_rule().items() if v} == expected == _tags(tagged)
    assert report.success


@pytest.mark.parametrize(("code", "ok"), [("350902", True), ("110000", True), ("710000", False),
                                          ("3509", False), ("35090a", False)])  # fmt: skip
def test_gb2260_division_pattern(code, ok):
    import re

    assert bool(re.match(division_pattern(RULES), code)) is ok

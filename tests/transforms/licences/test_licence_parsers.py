"""The issuance feed's own `.jsonl` parser: the canonical text a signature is checked on, the
flattened issuing authority, the shared line rules; and what landing keeps of it (personal fields
and the signed text only encrypted / hashed / masked)."""

from __future__ import annotations

import json

from deltalake import DeltaTable

from transforms.lake.landing import land_feed, parse_jsonl
from transforms.lake.protection import ProtectionKeys, reveal
from transforms.licences.feeds import ISSUANCE
from transforms.licences.parsers import canonical_text, parse_issuance

RECORD = {
    "licence_id": "L1", "licence_type": "qualification", "licence_no": "QC1", "holder_type": "person",
    "holder_key": "35090219900101123X", "holder_name": "张三", "holder_phone": "13800138000",
    "scope": "道路旅客运输驾驶员", "issuing_authority": {"name": "福建省交通运输厅", "code": "350000"},
    "issuing_province": "350000", "issued_at": "2026-03-06 12:00:00", "valid_from": "2020-04-01",
    "valid_to": "2026-03-31", "status": "valid", "version": 1, "received_at": "2026-03-06 12:10:00",
    "signature": "ab" * 64, "signer_key_id": "K1",
}  # fmt: skip


def test_canonical_text_is_the_record_without_its_signature_sorted_and_compact():
    text = canonical_text(RECORD)
    assert text.startswith('{"holder_key":"35090219900101123X","holder_name":"张三"')
    assert '"issuing_authority":{"code":"350000","name":"福建省交通运输厅"}' in text
    assert text.endswith(',"version":1}') and ", " not in text and '": ' not in text
    assert "signature" not in text and "signer_key_id" not in text
    assert json.loads(text) == {k: v for k, v in RECORD.items() if "sign" not in k}


def test_parser_adds_canonical_and_flattens_the_authority():
    line = json.dumps(RECORD, ensure_ascii=False, indent=None)
    other = dict(RECORD, version=2.0, issuing_authority="350900", status=None)
    data = "\n".join([line, "", "not json", json.dumps(other, ensure_ascii=False), "[1]"]).encode()
    parsed = parse_issuance(data, ISSUANCE)
    (n1, first), (n4, second) = parsed.records
    assert (n1, n4, parsed.lines) == (1, 4, 4)
    assert first["canonical"] == canonical_text(RECORD)
    assert (first["issuing_authority_code"], first["issuing_authority_name"]) == (
        "350000", "福建省交通运输厅",
    )  # fmt: skip
    assert first["version"] == "1" and first["signature"] == "ab" * 64
    # numbers stay numbers in the signed text (2.0 is not "2"), a bare authority code is a code
    assert '"version":2.0' in second["canonical"] and second["version"] == "2.0"
    assert (second["issuing_authority_code"], second["issuing_authority_name"]) == ("350900", None)
    assert [(n, rule) for n, _, _, rule in parsed.malformed] == [
        (3, "malformed_record"),
        (5, "malformed_record"),
    ]
    # the same line rules as the generic parser
    generic = parse_jsonl(data, ISSUANCE)
    assert [m[:3] for m in generic.malformed] == [m[:3] for m in parsed.malformed]


def test_landing_keeps_personal_fields_and_the_signed_text_only_protected(tmp_path):
    lake = tmp_path / "lake"
    folder = lake / "landing/licences/issuance/2026-03-06"
    folder.mkdir(parents=True)
    org = dict(RECORD, holder_type="organisation", holder_key="91350902MA2Y8K7N0X",
               holder_name="宁德顺通客运有限公司", legal_representative="陈建国",
               contact_phone="0593-2233445", licence_type="operating_permit")  # fmt: skip
    del org["holder_phone"]
    lines = [json.dumps(r, ensure_ascii=False) for r in (RECORD, org)] + ['{"holder_key": "35090']
    (folder / "a.jsonl").write_text("\n".join(lines) + "\n", "utf-8")

    result = land_feed(lake, ISSUANCE)

    assert (result.records, result.malformed) == (2, 1)
    bronze = DeltaTable(str(lake / "bronze/licences__issuance")).to_pyarrow_table()
    assert "canonical" not in bronze.column_names and "holder_key" not in bronze.column_names
    person, company = bronze.to_pylist()
    assert person["holder_key_masked"] == "350902********123X"
    assert person["holder_name_masked"] == "张*" and person["holder_phone_masked"] == "138****8000"
    assert (
        company["holder_key_masked"] == "91350902MA2Y8K7N0X" and company["holder_key_sm4"] is None
    )
    assert company["holder_name_masked"] == "宁德顺通客运有限公司"
    assert company["legal_representative_masked"] == "陈**"
    assert person["canonical_masked"] is None
    keys = ProtectionKeys.load()
    assert reveal([person["canonical_sm4"]], keys) == [canonical_text(RECORD)]
    text = json.dumps(bronze.to_pylist(), ensure_ascii=False, default=str)
    for clear in ("35090219900101123X", "张三", "13800138000", "陈建国", "0593-2233445"):
        assert clear not in text
    quarantine = DeltaTable(str(lake / "quarantine/licences__issuance")).to_pyarrow_table()
    (bad,) = quarantine.to_pylist()
    assert bad["failed_rules"] == ["malformed_record"] and "35090" in bad["raw_record"]
    assert reveal([bad["raw_record_sm4"]], keys) == ['{"holder_key": "35090']


def test_a_misspelt_or_missing_holder_type_keeps_the_holder_protected(tmp_path):
    lake = tmp_path / "lake"
    folder = lake / "landing/licences/issuance/2026-03-06"
    folder.mkdir(parents=True)
    records = [dict(RECORD, holder_type="Persn"), {k: v for k, v in RECORD.items()
                                                   if k != "holder_type"},
               dict(RECORD, holder_type=" Vehicle ", holder_key="闽J12345-2")]  # fmt: skip
    (folder / "a.jsonl").write_text(
        "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records), "utf-8"
    )
    land_feed(lake, ISSUANCE)
    rows = DeltaTable(str(lake / "bronze/licences__issuance")).to_pyarrow_table().to_pylist()
    assert [(r["holder_key_masked"], r["holder_key_sm4"] is None) for r in rows] == [
        ("350902********123X", False),
        ("350902********123X", False),
        ("闽J12345-2", True),  # a vehicle's plate is not personal, whatever the case and spaces
    ]

"""Landing and opening freight envelopes on a hand-built landing zone: every result code of
freight.md in its order, documents in silver with personal fields protected, the first accepted
reference winning, a file that is not JSON rejected, re-running a no-op."""

from __future__ import annotations

import base64
import datetime as dt
import json
from pathlib import Path

import pytest
from deltalake import DeltaTable

from transforms.crypto import keys as key_files
from transforms.crypto import sm2, sm4
from transforms.freight.envelope import pack_envelope

DAY = "2026-11-03"
DIVISIONS = [
    {"code": "350000", "name": "福建省", "level": "province", "parent_code": None, "lon": 118.3, "lat": 26.1},
    {"code": "350900", "name": "宁德市", "level": "city", "parent_code": "350000", "lon": 119.55, "lat": 26.67},
    {"code": "350902", "name": "蕉城区", "level": "county", "parent_code": "350900", "lon": 119.526, "lat": 26.660},
    {"code": "350100", "name": "福州市", "level": "city", "parent_code": "350000", "lon": 119.3, "lat": 26.08},
    {"code": "350102", "name": "鼓楼区", "level": "county", "parent_code": "350100", "lon": 119.296, "lat": 26.075},
]  # fmt: skip
SENT = dt.datetime(2026, 11, 3, 9, 30, 0)


def _waybill(number: str, despatch: str | None = "20261101080000") -> dict:
    doc = {
        "originalDocumentNumber": f"O{number}",
        "shippingNoteNumber": number,
        "serialNumber": "0000",
        "vehicleAmount": 1,
        "unifiedSocialCreditIdentifier": "91350900MA2Y0XXX1A",
        "permitNumber": "闽交运管许可宁字350900000001号",
        "despatchActualDateTime": despatch,
        "goodsReceiptDateTime": "20261101180000",
        "totalMonetaryAmount": 1200.5,
        "consignorInfo": {"consignor": "福建某某贸易有限公司", "countrySubdivisionCode": "350902"},
        "consigneeInfo": {"consignee": "王小明", "countrySubdivisionCode": "350102"},
        "actualCarrierName": "李四",
        "actualCarrierID": "350902199001011234",
        "vehicleInfo": [
            {
                "vehicleNumber": "闽J12345",
                "vehiclePlateColorCode": "2",
                "loadingCountrySubdivisionCode": "350902",
                "receiptCountrySubdivisionCode": "350102",
                "driver": [{"driverName": "李四", "drivingLicense": "350902199001011234"}],
                "goodsInfo": [
                    {"descriptionOfGoods": "茶叶", "goodsItemGrossWeight": 8000},
                    {"descriptionOfGoods": "茶具", "goodsItemGrossWeight": 500.5},
                ],
            }
        ],
    }
    if despatch is None:
        del doc["despatchActualDateTime"]
    return doc


FUND_FLOW = {
    "documentNumber": "F1",
    "actualCarrierID": "350902199001011234",
    "vehicleNumber": "闽J12345",
    "vehiclePlateColorCode": "2",
    "shippingNoteList": [
        {"shippingNoteNumber": "W1", "serialNumber": "0000", "totalMonetaryAmount": 1200.5}
    ],
    "financiallist": [
        {
            "paymentMeansCode": "32",
            "recipient": "李四",
            "receiptAccount": "6222020200112233445",
            "monetaryAmount": 1200.5,
            "dateTime": "20261102100000",
        }
    ],
}
VEHICLE = {"vehicleNumber": "闽J12345", "vehiclePlateColorCode": "2", "grossMass": 18.0}
DRIVER = {"driverName": "李四", "drivingLicense": "350902199001011234", "telephone": "13800001111"}


def _resigned(envelope: dict, content: str, private_key: str) -> dict:
    """``envelope`` with its content replaced and signed again (so the signature passes)."""
    return {
        **envelope,
        "encryptedContent": content,
        "signature": sm2.sign(content.encode(), private_key),
    }


def _landing(lake: Path) -> dict[str, int | None]:
    """Write the landing zone; returns the expected result code by reference."""
    platform = key_files.platform_public_key()
    s1, s2 = sm2.generate_keypair(), sm2.generate_keypair()
    old3, new3 = sm2.generate_keypair(), sm2.generate_keypair()
    stranger = sm2.generate_keypair()
    other_platform = sm2.generate_keypair()
    senders = [
        {"enterpriseSenderCode": "S1", "name": "平台一", "sm2_public_key": s1[1], "valid_from": "2026-01-01", "valid_to": None},
        {"enterpriseSenderCode": "S2", "name": "平台二", "sm2_public_key": s2[1], "valid_from": "2026-01-01", "valid_to": None},
        {"enterpriseSenderCode": "S3", "name": "平台三", "sm2_public_key": old3[1], "valid_from": "2025-01-01", "valid_to": "2026-10-31"},
        {"enterpriseSenderCode": "S3", "name": "平台三", "sm2_public_key": new3[1], "valid_from": "2026-11-01", "valid_to": None},
        {"enterpriseSenderCode": "S4", "name": "坏钥", "sm2_public_key": "04zz", "valid_from": "2026-01-01", "valid_to": None},
    ]  # fmt: skip

    def pack(doc, sender, key, ipc="WLHY_YD1001", reference=None, platform_key=platform, **kw):
        return pack_envelope(
            doc, ipc_type=ipc, enterprise_sender_code=sender, sender_private_key=key[0],
            platform_public_key=platform_key, sent_at=SENT, reference=reference, **kw,
        )  # fmt: skip

    key = bytes(range(16))
    not_json = base64.b64encode(sm4.encrypt_ecb(b"{not json", key)).decode()
    wrong_key = base64.b64encode(sm4.encrypt_ecb(b"{}", bytes(16))).decode()
    base = pack(_waybill("W9"), "S2", s2, reference="R7", sm4_key=key)
    envelopes = [
        ("R1", 1001, pack(_waybill("W1"), "S1", s1, reference="R1")),
        ("R1", 3001, pack(_waybill("W1"), "S1", s1, reference="R1")),
        ("R3", 3009, pack(_waybill("W3"), "S9", stranger, reference="R3")),
        ("R4", 3009, {**pack(_waybill("W4"), "S1", s1, reference="R4"), "encryptedContent": wrong_key}),
        ("R5", 3006, pack(_waybill("W5"), "S2", s2, reference="R5", platform_key=other_platform[1])),
        ("R6", 3007, _resigned(pack(_waybill("W6"), "S2", s2, reference="R6"), "***", s2[0])),
        ("R7", 3008, _resigned(base, not_json, s2[0])),
        ("R8", 3005, pack(_waybill("W8", despatch=None), "S1", s1, reference="R8")),
        ("R9", 3009, pack(_waybill("W9"), "S3", old3, reference="R9")),
        ("R10", 1001, pack(FUND_FLOW, "S1", s1, ipc="WLHY_ZJ1001", reference="R10", with_04=False)),
        ("R11", 1001, pack([VEHICLE], "S1", s1, ipc="WLHY_CL1001", reference="R11")),
        ("R12", 3007, _resigned(pack(DRIVER, "S2", s2, reference="R12"), wrong_key[:-4] + "AAAA", s2[0])),
        ("R13", 3005, pack(DRIVER, "S1", s1, ipc="WLHY_XX9999", reference="R13")),
        ("R14", 3009, pack(DRIVER, "S4", s1, ipc="WLHY_JSY1001", reference="R14")),
    ]  # fmt: skip
    day = lake / "landing" / "freight"
    (day / "senders" / DAY).mkdir(parents=True)
    (day / "senders" / DAY / "senders.jsonl").write_text(
        "\n".join(json.dumps(s, ensure_ascii=False) for s in senders) + "\n", encoding="utf-8"
    )
    folder = day / "envelopes" / DAY
    folder.mkdir(parents=True)
    (folder / "a.jsonl").write_text(
        "\n".join(json.dumps(e) for _, _, e in envelopes) + "\nnot an envelope\n"
    )
    driver = pack(DRIVER, "S3", new3, ipc="WLHY_JSY1001", reference="R20")
    (folder / "b.json").write_text(json.dumps(driver, indent=2))
    (folder / "c.json").write_text("this is no JSON")
    positions = day / "national_positions" / DAY
    positions.mkdir(parents=True)
    points = [
        {"plate": "闽J12345", "plate_color": "2", "gnss_time": "2026-11-01 09:00:00", "lon": 119.5, "lat": 26.6, "speed": 60},
        {"plate": "闽J12345", "plate_color": "2", "gnss_time": "2026-11-01 09:00:00", "lon": 119.5, "lat": 26.6, "speed": 60},
        {"plate": "闽J12345", "plate_color": "2", "gnss_time": "2026-11-01 10:00:00", "lon": 119.3, "lat": 26.1, "speed": 50},
        {"plate": "闽J12345", "plate_color": "2", "gnss_time": "yesterday", "lon": 119.3, "lat": 26.1, "speed": 50},
    ]  # fmt: skip
    (positions / "p.jsonl").write_text(
        "\n".join(json.dumps(p, ensure_ascii=False) for p in points) + "\n", encoding="utf-8"
    )
    divisions = lake / "landing" / "reference" / "divisions" / DAY
    divisions.mkdir(parents=True)
    (divisions / "d.jsonl").write_text(
        "\n".join(json.dumps(d, ensure_ascii=False) for d in DIVISIONS) + "\n", encoding="utf-8"
    )
    expected = {}
    for reference, code, _ in envelopes:
        expected.setdefault(reference, []).append(code)
    expected["R20"] = [1001]
    return expected


def _rows(lake: Path, name: str) -> list[dict]:
    layer, entity = name.split(".")
    return DeltaTable(str(lake / layer / entity)).to_pyarrow_table().to_pylist()


def test_envelopes_open_with_the_spec_codes(tmp_path, spark):
    from transforms.freight.feeds import FEEDS
    from transforms.freight.jobs import publish
    from transforms.lake.landing import land_feed
    from transforms.rules import load_rules

    lake = tmp_path / "lake"
    expected = _landing(lake)
    rules = load_rules(domain="freight")
    landed = {feed.name: land_feed(lake, feed) for feed in FEEDS}
    assert landed["envelopes"].rejected_files == 1  # c.json is no JSON at all
    assert "c.json" in landed["envelopes"].errors[0]
    assert landed["envelopes"].malformed == 1  # "not an envelope" → quarantine with its line

    assert publish.publish_senders(lake) == 4  # S4's key is no key: quarantined
    (bad,) = _rows(lake, "quarantine.freight__senders")
    assert bad["failed_rules"] == ["public_key_valid"]
    result = publish.publish_envelopes(spark, lake, rules)
    assert result.published

    rows = sorted(
        _rows(lake, "silver.freight__envelopes"), key=lambda r: (r["_source_file"], r["_line"])
    )
    got: dict[str, list[int]] = {}
    for r in rows:
        got.setdefault(r["message_reference_number"], []).append(r["result_code"])
    assert got == expected
    reasons = {r["message_reference_number"]: r["reason"] for r in rows if r["result_code"] != 1001}
    assert "already accepted" in reasons["R1"]
    assert "unknown sender S9" in reasons["R3"]
    assert "despatchActualDateTime missing" in reasons["R8"]
    # signed with S3's retired key: the key valid that day is the new one
    assert "signature does not verify under sender S3" in reasons["R9"]
    assert "unknown interface" in reasons["R13"]
    assert "unusable" in reasons["R14"] or "unknown sender" in reasons["R14"]

    waybills = _rows(lake, "silver.freight__waybills")
    # R1 twice (its duplicate's documents are kept, readers take the accepted envelope's)
    assert sorted(w["shipping_note_number"] for w in waybills) == ["W1", "W1"]
    w = waybills[0]
    assert w["gross_weight_kg"] == pytest.approx(8500.5)
    assert str(w["total_monetary_amount"]) == "1200.500"
    assert w["despatch_time"].replace(tzinfo=None) == dt.datetime(2026, 11, 1, 8, 0)
    assert "consignee_name" not in w and w["consignee_name_masked"] != "王小明"
    (payment,) = _rows(lake, "silver.freight__payments")
    assert payment["receipt_account_masked"].endswith("3445") and "receipt_account" not in payment
    assert len(_rows(lake, "silver.freight__waybill_drivers")) == 2
    assert {d["driving_license_hmac"] for d in _rows(lake, "silver.freight__drivers")}
    assert len(_rows(lake, "silver.freight__vehicles")) == 1

    assert publish.publish_positions(spark, lake) == 2  # a repeated point counts once
    (q,) = _rows(lake, "quarantine.freight__national_positions")
    assert q["failed_rules"] == ["gnss_time_valid"]

    # again: nothing pending, nothing changes
    again = publish.publish_envelopes(spark, lake, rules)
    assert again.files == 0
    assert len(_rows(lake, "silver.freight__envelopes")) == len(rows)
    clear = json.dumps(
        [_rows(lake, f"silver.freight__{t}") for t in ("waybills", "drivers", "payments")],
        default=str,
        ensure_ascii=False,
    )
    for secret in ("王小明", "350902199001011234", "13800001111", "6222020200112233445"):
        assert secret not in clear

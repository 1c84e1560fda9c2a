"""`lakehouse profile` on a hand-built lake: one vehicle and one enterprise present in every domain,
a neighbour that must not leak into them, and exact counts, periods and validity."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal

import pyarrow as pa
import pytest
from click.testing import CliRunner
from deltalake import write_deltalake

from orchestration.cli import main
from transforms.lake import registry
from transforms.profile import ProfileError, enterprise_profile, vehicle_profile

USCC = "91350902MA2Y0ABC1X"
OTHER = "91350981MA2Y0DEF2Y"
PLATE, COLOR = "闽J12345", 2


def _ts(day: int, hour: int = 8) -> dt.datetime:
    return dt.datetime(2026, 11, day, hour)


def _write(lake, name: str, rows: list[dict]) -> None:
    write_deltalake(str(registry.table(name).location(lake)), pa.Table.from_pylist(rows))


@pytest.fixture(scope="module")
def lake(tmp_path_factory):
    lake = tmp_path_factory.mktemp("profile") / "lake"
    vehicle = dict(vehicle_type="truck", county_code="350902", platform_id="P1",
                   operating_status="operating", terminal_phone_masked="138****0000",
                   is_current=True)  # fmt: skip
    _write(lake, "silver.telematics__vehicles", [
        {"plate": PLATE, "plate_color": COLOR, "enterprise_id": OTHER, **vehicle,
         "valid_from": dt.date(2026, 1, 1), "valid_to": dt.date(2026, 11, 10), "is_current": False},
        {"plate": PLATE, "plate_color": COLOR, "enterprise_id": USCC, **vehicle,
         "valid_from": dt.date(2026, 11, 10), "valid_to": None},
        {"plate": PLATE, "plate_color": 1, "enterprise_id": OTHER, **vehicle,  # another colour
         "valid_from": dt.date(2026, 1, 1), "valid_to": None},
    ])  # fmt: skip
    _write(lake, "silver.telematics__enterprises", [
        {"enterprise_id": USCC, "name": "蕉城顺达物流有限公司", "county_code": "350902",
         "business_type": "freight", "valid_from": dt.date(2025, 5, 1), "valid_to": None,
         "is_current": True},
        {"enterprise_id": OTHER, "name": "福安另一家公司", "county_code": "350981",
         "business_type": "freight", "valid_from": dt.date(2025, 5, 1), "valid_to": None,
         "is_current": True},
    ])  # fmt: skip
    _write(lake, "gold.licences__licences", [
        {"licence_no": "L-V1", "licence_type": "vehicle_transport", "holder_type": "vehicle",
         "holder_key": f"{PLATE}-{COLOR}", "scope": "道路普通货物运输", "status": "valid",
         "version": 2, "valid_from": dt.date(2025, 1, 1), "valid_to": dt.date(2026, 11, 30),
         "issuing_authority_name": "宁德市交通运输局"},
        {"licence_no": "L-O1", "licence_type": "operating_permit", "holder_type": "organisation",
         "holder_key": USCC, "scope": "网络货运", "status": "revoked", "version": 1,
         "valid_from": dt.date(2025, 1, 1), "valid_to": dt.date(2028, 12, 31),
         "issuing_authority_name": "宁德市交通运输局"},
        {"licence_no": "L-V2", "licence_type": "vehicle_transport", "holder_type": "vehicle",
         "holder_key": f"{PLATE}-1", "scope": "x", "status": "valid", "version": 1,
         "valid_from": dt.date(2025, 1, 1), "valid_to": None, "issuing_authority_name": "x"},
    ])  # fmt: skip
    violation = dict(plate=PLATE, plate_color=COLOR, vehicle_type="truck", county_code="350902",
                     county_name="蕉城区", platform_id="P1", end_at=None, points=3, max_speed=95.0,
                     limit_kmh=80.0, minutes=2.0, lon=119.5, lat=26.6, detail="{}")  # fmt: skip
    _write(lake, "gold.telematics__violations", [
        {**violation, "event_id": "e1", "day": dt.date(2026, 11, 3), "period": "2026-11",
         "kind": "overspeed", "start_at": _ts(3), "enterprise_id": OTHER},
        {**violation, "event_id": "e2", "day": dt.date(2026, 11, 12), "period": "2026-11",
         "kind": "overspeed", "start_at": _ts(12), "enterprise_id": USCC},
        {**violation, "event_id": "e3", "day": dt.date(2026, 11, 13), "period": "2026-11",
         "kind": "fatigue", "start_at": _ts(13), "enterprise_id": USCC},
        {**violation, "event_id": "e4", "day": dt.date(2026, 11, 13), "period": "2026-11",
         "plate_color": 1, "kind": "fatigue", "start_at": _ts(13), "enterprise_id": OTHER},
    ])  # fmt: skip
    _write(lake, "gold.telematics__vehicle_days", [
        {"day": dt.date(2026, 11, d), "plate": PLATE, "plate_color": COLOR, "points": 100,
         "qualified_points": 98, "km": 120.5} for d in (3, 12, 13)
    ])  # fmt: skip
    _write(lake, "gold.telematics__assessments", [
        {"level": "enterprise", "subject_id": USCC, "subject_name": "蕉城顺达物流有限公司",
         "period_type": "month", "period": "2026-11", "vehicles": 1, "score": 76.5,
         "passed": False},
        {"level": "county", "subject_id": "350902", "subject_name": "蕉城区",
         "period_type": "month", "period": "2026-11", "vehicles": 1, "score": 90.0,
         "passed": True},
    ])  # fmt: skip
    _write(lake, "gold.telematics__rectification_items", [
        {"item_id": "r1", "period": "2026-11", "level": "enterprise", "subject_id": USCC,
         "subject_name": "蕉城顺达物流有限公司", "problem": "考核不合格", "status": "open",
         "issued_on": dt.date(2026, 12, 2), "report_due": dt.date(2026, 12, 16),
         "rectify_until": dt.date(2026, 12, 16)},
        {"item_id": "r0", "period": "2026-10", "level": "enterprise", "subject_id": USCC,
         "subject_name": "蕉城顺达物流有限公司", "problem": "考核不合格", "status": "closed",
         "issued_on": dt.date(2026, 11, 2), "report_due": dt.date(2026, 11, 16),
         "rectify_until": dt.date(2026, 11, 16)},
        # the vehicle's own item (rectification.py keys a vehicle plate|colour), and the other
        # colour's, which is not this vehicle's
        {"item_id": "r2", "period": "2026-11", "level": "vehicle", "subject_id": f"{PLATE}|{COLOR}",
         "subject_name": PLATE, "problem": "违法违规", "status": "overdue",
         "issued_on": dt.date(2026, 12, 2), "report_due": dt.date(2026, 12, 16),
         "rectify_until": dt.date(2026, 12, 16)},
        {"item_id": "r3", "period": "2026-11", "level": "vehicle", "subject_id": f"{PLATE}|1",
         "subject_name": PLATE, "problem": "违法违规", "status": "open",
         "issued_on": dt.date(2026, 12, 2), "report_due": dt.date(2026, 12, 16),
         "rectify_until": dt.date(2026, 12, 16)},
    ])  # fmt: skip
    _write(lake, "silver.freight__senders", [
        {"enterprise_sender_code": "3509020001", "name": "蕉城顺达物流有限公司", "uscc": USCC,
         "valid_from": dt.date(2026, 1, 1), "valid_to": None},
    ])  # fmt: skip
    waybill = dict(enterprise_sender_code="3509020001", carrier="蕉城顺达物流有限公司", uscc=USCC,
                   receipt_time=_ts(5, 18), gross_weight_kg=8000.0,
                   total_monetary_amount=Decimal("1200.500"))  # fmt: skip
    _write(lake, "silver.freight__waybills", [
        {**waybill, "message_reference_number": "M1", "document_index": 0,
         "message_sending_time": _ts(5, 19), "shipping_note_number": "W1", "serial_number": "0000",
         "despatch_time": _ts(5)},
        # a later version of W1: one waybill, the latest version's values
        {**waybill, "message_reference_number": "M2", "document_index": 0,
         "message_sending_time": _ts(6, 9), "shipping_note_number": "W1", "serial_number": "0000",
         "despatch_time": _ts(5, 9)},
        {**waybill, "message_reference_number": "M3", "document_index": 0,
         "message_sending_time": _ts(7, 19), "shipping_note_number": "W2", "serial_number": "0000",
         "despatch_time": _ts(7)},
    ])  # fmt: skip
    _write(lake, "silver.freight__waybill_vehicles", [
        {"message_reference_number": "M1", "document_index": 0, "vehicle_number": PLATE,
         "plate_color": str(COLOR)},
        {"message_reference_number": "M2", "document_index": 0, "vehicle_number": PLATE,
         "plate_color": str(COLOR)},
        {"message_reference_number": "M3", "document_index": 0, "vehicle_number": "闽J99999",
         "plate_color": "2"},
    ])  # fmt: skip
    _write(lake, "silver.freight__vehicles", [
        {"enterprise_sender_code": "3509020001", "message_sending_time": _ts(1),
         "vehicle_number": PLATE, "plate_color": str(COLOR), "vehicle_type": "H12",
         "vehicle_tonnage": 13.0, "gross_mass": 22.0,
         "road_transport_certificate_number": "闽交运输宁字350902000001号",
         "owner_masked": "蕉*********", "owner_sm4": "secret-ciphertext"},
    ])  # fmt: skip
    anomaly = dict(operator_id="3509020001", document_kind="waybill", rule="r", evidence="{}",
                   detected_at=_ts(8), status="open")  # fmt: skip
    _write(lake, "silver.freight__anomalies", [
        {**anomaly, "anomaly_id": "qualification:W1/0000", "anomaly_type": "qualification",
         "document_key": "W1/0000", "event_time": _ts(5)},
        {**anomaly, "anomaly_id": "trajectory:W2/0000", "anomaly_type": "trajectory",
         "document_key": "W2/0000", "event_time": _ts(7)},
    ])  # fmt: skip
    _write(lake, "gold.freight__operator_stats", [
        {"operator_id": "3509020001", "period": "2026-11", "grain": "month", "waybills": 2,
         "tonnes": 16.0, "charges_yuan": 2401.0, "score": 88.0, "rank": 1, "rate_access": 0.0,
         "rate_qualification": 0.5, "rate_vehicle_network": 0.0, "rate_trajectory": 0.5,
         "rate_match": 0.0, "rate_duplicate": 0.0},
        {"operator_id": "3509020001", "period": "2026-11-05", "grain": "day", "waybills": 1,
         "tonnes": 8.0, "charges_yuan": 1200.5, "score": 80.0, "rank": 1, "rate_access": 0.0,
         "rate_qualification": 1.0, "rate_vehicle_network": 0.0, "rate_trajectory": 0.0,
         "rate_match": 0.0, "rate_duplicate": 0.0},
    ])  # fmt: skip
    _write(lake, "silver.ridehailing__static_versions", [
        {"interface": "baseInfoCompany", "company_id": "WYC1", "entity_key": "WYC1",
         "valid_from": _ts(1), "valid_to": None, "state": "0", "address": "350902",
         "vehicle_no": None, "payload": json.dumps({"Identifier": USCC})},
        {"interface": "baseInfoCompany", "company_id": "WYC2", "entity_key": "WYC2",
         "valid_from": _ts(1), "valid_to": None, "state": "0", "address": "350981",
         "vehicle_no": None, "payload": json.dumps({"Identifier": OTHER})},
        {"interface": "baseInfoVehicle", "company_id": "WYC1", "entity_key": f"WYC1|{PLATE}",
         "valid_from": _ts(2), "valid_to": None, "state": "0", "address": "350902",
         "vehicle_no": PLATE, "payload": "{}"},
    ])  # fmt: skip
    _write(lake, "silver.ridehailing__orders", [
        {"company_id": "WYC1", "order_id": f"O{n}", "status": status, "created_at": _ts(d),
         "arrived_at": None, "vehicle_no": PLATE}
        for n, (status, d) in enumerate([("paid", 9), ("paid", 10), ("cancelled", 11)])
    ] + [
        {"company_id": "WYC2", "order_id": "O9", "status": "paid", "created_at": _ts(9),
         "arrived_at": None, "vehicle_no": "闽J99999"},
    ])  # fmt: skip
    _write(lake, "gold.ridehailing__company_periods", [
        {"company_id": c, "company_name": n, "period": "2026-11", "grain": "month", "records": 10,
         "completeness_rate": 1.0, "normativity_rate": 0.9, "timeliness_rate": 0.8,
         "truthfulness_rate": 1.0, "city_coverage_rate": 0.5, "score": 92.5, "transmitted": True}
        for c, n in (("WYC1", "蕉城约车"), ("WYC2", "福安约车"))
    ])  # fmt: skip
    return lake


def test_a_vehicle_across_every_domain(lake):
    p = vehicle_profile(lake, PLATE, COLOR, on=dt.date(2026, 12, 6))
    assert p["subject"] == {"kind": "vehicle", "plate": PLATE, "plate_color": COLOR}
    # master data with its history, of this colour only; the freight vehicle document
    assert [v["enterprise_id"] for v in p["master"]["telematics"]] == [OTHER, USCC]
    assert [v["company_id"] for v in p["master"]["ridehailing"]] == ["WYC1"]
    assert p["master"]["freight"][0]["owner_masked"] == "蕉*********"
    assert "owner_sm4" not in p["master"]["freight"][0]
    assert p["master"]["covers"] == {"from": "2026-01-01", "to": "2026-11-10"}
    # the vehicle licence expired on 2026-11-30: listed, not valid on 2026-12-06
    assert [i["licence_no"] for i in p["licences"]["items"]] == ["L-V1"]
    assert p["licences"]["valid"] == 0 and p["licences"]["items"][0]["valid_on"] is False
    assert vehicle_profile(lake, PLATE, COLOR, on=dt.date(2026, 11, 30))["licences"]["valid"] == 1
    t = p["telematics"]
    assert t["violations"]["total"] == 3 and t["violations"]["by_kind"] == {
        "fatigue": 1,
        "overspeed": 2,
    }
    assert [v["day"] for v in t["violations"]["latest"]] == [
        "2026-11-13",
        "2026-11-12",
        "2026-11-03",
    ]
    assert (t["days_online"], t["km"], t["points"], t["qualified_points"]) == (3, 361.5, 300, 294)
    assert t["covers"] == {"from": "2026-11-03", "to": "2026-11-13"}
    # the scores of the enterprises it belonged to (not the county's)
    assert [(s["subject_id"], s["score"]) for s in t["enterprise_scores"]] == [(USCC, 76.5)]
    f = p["freight"]
    assert f["waybills"] == 1  # W1 in two versions counts once; W2 is another vehicle's
    assert f["latest_waybills"][0]["despatch_time"] == "2026-11-05 09:00:00"  # the later version
    assert f["anomalies"]["by_type"] == {"qualification": 1}
    r = p["ridehailing"]
    assert r["orders"] == {
        "total": 3,
        "by_status": {"cancelled": 1, "paid": 2},
        "by_company": {"WYC1": 3},
    }
    assert [q["company_id"] for q in r["company_quality"]] == ["WYC1"]
    assert r["covers"] == {"from": "2026-11-09", "to": "2026-11-11"}
    # its own item and its enterprise's open one (r0 is closed, r3 is the other colour's)
    assert [i["item_id"] for i in p["rectification"]["open"]] == ["r1", "r2"]


def test_an_enterprise_across_every_domain(lake):
    p = enterprise_profile(lake, USCC.lower(), on=dt.date(2026, 12, 6))
    assert p["subject"] == {"kind": "enterprise", "uscc": USCC, "name": "蕉城顺达物流有限公司"}
    assert [i["licence_no"] for i in p["licences"]["items"]] == ["L-O1"]
    assert p["licences"]["valid"] == 0  # revoked
    t = p["telematics"]
    assert t["vehicles"] == 1
    assert t["violations"]["total"] == 2  # e2, e3: while the vehicle was this enterprise's
    assert [s["score"] for s in t["scores"]] == [76.5]
    f = p["freight"]
    assert f["operator_codes"] == ["3509020001"]
    assert f["waybills"] == 2 and f["anomalies"]["total"] == 2
    assert [m["period"] for m in f["monthly"]] == ["2026-11"]  # months, not days
    r = p["ridehailing"]
    assert r["company_ids"] == ["WYC1"] and r["orders"]["total"] == 3
    assert [q["score"] for q in r["quality"]] == [92.5]
    assert [i["item_id"] for i in p["rectification"]["open"]] == ["r1"]


def test_a_subject_the_lake_does_not_know_has_empty_parts(lake):
    p = vehicle_profile(lake, "闽J00000", 2)
    for part in ("master", "licences", "telematics", "freight", "ridehailing", "rectification"):
        assert p[part]["covers"] is None, part
    with pytest.raises(ProfileError):
        enterprise_profile(lake, "123")


def test_the_cli(lake):
    run = CliRunner().invoke(main, ["profile", "--lake", str(lake), "--enterprise", USCC])
    assert run.exit_code == 0, run.output
    assert json.loads(run.output)["freight"]["waybills"] == 2
    run = CliRunner().invoke(
        main,
        ["profile", "--lake", str(lake), "--plate", PLATE, "--color", "2", "--format", "table"],
    )
    assert run.exit_code == 0, run.output
    assert "violations 3" in run.output and "waybills 1" in run.output
    run = CliRunner().invoke(main, ["profile", "--lake", str(lake), "--plate", PLATE])
    assert run.exit_code != 0 and "--color" in run.output


def test_the_pipeline_lake_profiles_without_clear_personal_fields(pipeline_lake):
    """On the generated lake: a vehicle and its enterprise have data in their parts, and nothing
    printed is a ciphertext or a join hash."""
    from deltalake import DeltaTable

    def read(name, columns):
        location = registry.table(name).location(pipeline_lake)
        return DeltaTable(str(location)).to_pyarrow_table(columns=columns).to_pylist()

    licensed = {r["holder_key"] for r in read("gold.licences__licences", ["holder_key"])}
    plate, color, uscc = next(
        (r["plate"], r["plate_color"], r["enterprise_id"])
        for r in read("gold.telematics__violations", ["plate", "plate_color", "enterprise_id"])
        if f"{r['plate']}-{r['plate_color']}" in licensed and r["enterprise_id"] in licensed
    )
    for args in (["--plate", plate, "--color", str(color)], ["--enterprise", uscc]):
        run = CliRunner().invoke(main, ["profile", "--lake", str(pipeline_lake), *args])
        assert run.exit_code == 0, run.output
        body = json.loads(run.output)
        assert body["telematics"]["violations"]["total"] > 0
        assert body["licences"]["covers"] is not None
        assert "_sm4" not in run.output and "_hmac" not in run.output

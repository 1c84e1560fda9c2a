"""The 车辆/企业画像 tables of the infra tests' lake (conftest.py), built by the real job.

`lakehouse profile` reads master data and facts of every domain (transforms/profile.py); the lake
of conftest.py holds only the gold tables of the other dashboards. This module adds what the
profiles read beside them — consistent with those tables: 京A12345 moved from 福安市 to 蕉城区,
京B67890 belongs to E002 in 鼓楼区, the 2026-11 violations and rectification items are conftest's
— and then runs :func:`transforms.profile_gold.build_profile_tables`, so the dashboard shows what
the job made of them. The test computes the expected numbers with the profile code itself.

- 京B67890 (blue, 1) is in every domain: 2 licences (1 valid on AS_OF), 1 day online (40 km),
  3 violations, its enterprise E002's scores, 2 waybills (W1 sent twice: once) and 2 anomalies of
  them, 5 ride-hailing orders of 2 companies, its own open rectification item (r3 of conftest);
- ENTERPRISE (榕城智运, a freight sender and ride-hailing company R001) has licences, waybills,
  anomalies, monthly freight scores, orders and quality, and no telematics data;
- a Zhejiang sender and its vehicle: rows the Fujian regulators must not see (the sender's USCC
  names Hangzhou; the vehicle has no region: the province's).
"""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from pathlib import Path

import pyarrow as pa
from deltalake import DeltaTable, write_deltalake

from transforms.lake import registry
from transforms.profile_gold import build_profile_tables

AS_OF = dt.date(2026, 12, 6)  # the day licences are judged valid on
PLATE, COLOR = "京B67890", 1
ENTERPRISE = "91350102MA34XK7Q1B"  # 榕城智运物流有限公司, 鼓楼区
ZHEJIANG = "91330100MA2H7N5C8K"  # 杭州云货网络科技有限公司
NAMES = {ENTERPRISE: "榕城智运物流有限公司", ZHEJIANG: "杭州云货网络科技有限公司"}


def _ts(day: int, hour: int = 8, month: int = 11) -> dt.datetime:
    return dt.datetime(2026, month, day, hour, tzinfo=dt.UTC)  # GMT+8 wall clock, tagged UTC


def _write(lake: Path, name: str, rows: list[dict]) -> None:
    location = registry.table(name).location(lake)
    write_deltalake(str(location), pa.Table.from_pylist(rows), mode="overwrite")


def _vehicles() -> list[dict]:
    base = dict(platform_id="P01", operating_status="operating",
                terminal_phone_masked="138****1111")  # fmt: skip
    return [
        {"plate": "京A12345", "plate_color": 2, "vehicle_type": "bus_scheduled",
         "enterprise_id": "E001", "county_code": "350981", **base,
         "valid_from": dt.date(2026, 1, 1), "valid_to": dt.date(2026, 10, 15), "is_current": False},
        {"plate": "京A12345", "plate_color": 2, "vehicle_type": "bus_scheduled",
         "enterprise_id": "E001", "county_code": "350902", **base,
         "valid_from": dt.date(2026, 10, 15), "valid_to": None, "is_current": True},
        {"plate": PLATE, "plate_color": COLOR, "vehicle_type": "bus_charter",
         "enterprise_id": "E002", "county_code": "350102", **base, "platform_id": "P02",
         "valid_from": dt.date(2026, 3, 1), "valid_to": None, "is_current": True},
        {"plate": "京C11111", "plate_color": 2, "vehicle_type": "bus_scheduled",
         "enterprise_id": "E001", "county_code": "350981", **base,
         "valid_from": dt.date(2026, 2, 1), "valid_to": None, "is_current": True},
    ]  # fmt: skip


def _licences() -> list[dict]:
    def licence(no, kind, holder_type, key, status, start, end, scope="道路旅客运输"):
        return {"licence_no": no, "licence_type": kind, "holder_type": holder_type,
                "holder_key": key, "scope": scope, "status": status, "version": 1,
                "valid_from": start, "valid_to": end, "issuing_authority_name": "福州市交通运输局",
                "province_code": "350000"}  # fmt: skip

    d = dt.date
    return [
        licence("闽交运管榕字350102000001号", "vehicle_transport", "vehicle", f"{PLATE}-{COLOR}",
                "valid", d(2025, 1, 1), d(2027, 12, 31)),
        licence("闽交运管榕字350102000002号", "vehicle_transport", "vehicle", f"{PLATE}-{COLOR}",
                "revoked", d(2023, 1, 1), d(2025, 12, 31)),
        licence("闽交运管宁字350902000003号", "vehicle_transport", "vehicle", "京A12345-2",
                "valid", d(2025, 6, 1), d(2026, 11, 30)),  # expired before AS_OF
        licence("闽交运管许可榕字350102000004号", "operating_permit", "organisation", ENTERPRISE,
                "valid", d(2024, 1, 1), d(2028, 12, 31), "网络货运、网络预约出租汽车客运"),
    ]  # fmt: skip


def _freight() -> dict[str, list[dict]]:
    senders = [
        {"enterprise_sender_code": "3501020001", "name": NAMES[ENTERPRISE], "uscc": ENTERPRISE,
         "valid_from": dt.date(2026, 1, 1), "valid_to": None},
        {"enterprise_sender_code": "3301000001", "name": NAMES[ZHEJIANG], "uscc": ZHEJIANG,
         "valid_from": dt.date(2026, 1, 1), "valid_to": None},
    ]  # fmt: skip
    ours = dict(enterprise_sender_code="3501020001", carrier=NAMES[ENTERPRISE], uscc=ENTERPRISE,
                gross_weight_kg=8000.0, total_monetary_amount=Decimal("1200.500"))  # fmt: skip
    waybills = [
        {**ours, "message_reference_number": "M1", "document_index": 0,
         "message_sending_time": _ts(5, 19), "shipping_note_number": "W1", "serial_number": "0000",
         "despatch_time": _ts(5), "receipt_time": _ts(5, 18)},
        # a later version of W1: one waybill, the latest version's values
        {**ours, "message_reference_number": "M2", "document_index": 0,
         "message_sending_time": _ts(6, 9), "shipping_note_number": "W1", "serial_number": "0000",
         "despatch_time": _ts(5, 9), "receipt_time": _ts(5, 20)},
        {**ours, "message_reference_number": "M3", "document_index": 0,
         "message_sending_time": _ts(8, 19), "shipping_note_number": "W2", "serial_number": "0000",
         "despatch_time": _ts(8), "receipt_time": _ts(8, 17), "total_monetary_amount":
         Decimal("980.000")},
        {**ours, "enterprise_sender_code": "3301000001", "carrier": NAMES[ZHEJIANG],
         "uscc": ZHEJIANG, "message_reference_number": "M9", "document_index": 0,
         "message_sending_time": _ts(9, 19), "shipping_note_number": "Z1", "serial_number": "0000",
         "despatch_time": _ts(9), "receipt_time": _ts(9, 17)},
    ]  # fmt: skip
    carried = [
        {"message_reference_number": m, "document_index": 0, "vehicle_number": plate,
         "plate_color": colour}
        for m, plate, colour in (("M1", PLATE, "1"), ("M2", PLATE, "1"), ("M3", PLATE, "1"),
                                 ("M9", "浙A00001", "2"))
    ]  # fmt: skip
    vehicles = [
        {"enterprise_sender_code": "3501020001", "message_sending_time": _ts(1),
         "vehicle_number": PLATE, "plate_color": "1", "vehicle_type": "K33",
         "vehicle_tonnage": 1.5, "gross_mass": 4.5,
         "road_transport_certificate_number": "闽交运管榕字350102000001号",
         "owner_masked": "榕*********"},
    ]  # fmt: skip
    anomaly = dict(operator_id="3501020001", rule="r", evidence="{}", detected_at=_ts(10),
                   status="open")  # fmt: skip
    anomalies = [
        {**anomaly, "anomaly_id": "qualification:W1/0000", "anomaly_type": "qualification",
         "document_kind": "waybill", "document_key": "W1/0000", "event_time": _ts(5)},
        {**anomaly, "anomaly_id": "trajectory:W2/0000", "anomaly_type": "trajectory",
         "document_kind": "waybill", "document_key": "W2/0000", "event_time": _ts(8),
         "status": "confirmed"},
        {**anomaly, "anomaly_id": "match:F1", "anomaly_type": "match",
         "document_kind": "fund_flow", "document_key": "F1", "event_time": _ts(9)},
    ]  # fmt: skip
    stats = [
        {"operator_id": "3501020001", "period": period, "grain": "month", "waybills": n,
         "tonnes": 8.0 * n, "charges_yuan": 1100.0 * n, "score": score, "rank": rank,
         "rate_access": 0.0, "rate_qualification": q, "rate_vehicle_network": 0.0,
         "rate_trajectory": t, "rate_match": 0.0, "rate_duplicate": 0.0}
        for period, n, score, rank, q, t in (("2026-10", 4, 95.5, 1, 0.0, 0.25),
                                             ("2026-11", 2, 81.25, 2, 0.5, 0.5))
    ]  # fmt: skip
    return {"silver.freight__senders": senders, "silver.freight__waybills": waybills,
            "silver.freight__waybill_vehicles": carried, "silver.freight__vehicles": vehicles,
            "silver.freight__anomalies": anomalies, "gold.freight__operator_stats": stats}  # fmt: skip


def _ridehailing() -> dict[str, list[dict]]:
    versions = [
        {"interface": "baseInfoCompany", "company_id": "R001", "entity_key": "R001",
         "valid_from": _ts(1, 0, 10), "valid_to": None, "state": "0", "address": "350102",
         "vehicle_no": None, "payload": json.dumps({"Identifier": ENTERPRISE})},
        {"interface": "baseInfoCompany", "company_id": "R002", "entity_key": "R002",
         "valid_from": _ts(1, 0, 10), "valid_to": None, "state": "0", "address": "350100",
         "vehicle_no": None, "payload": json.dumps({"Identifier": "91350100MA2YQ0RC3D"})},
        {"interface": "baseInfoVehicle", "company_id": "R001", "entity_key": f"R001|{PLATE}",
         "valid_from": _ts(2, 0, 10), "valid_to": None, "state": "0", "address": "350102",
         "vehicle_no": PLATE, "payload": json.dumps({"PlateColor": "1"})},
    ]  # fmt: skip
    orders = [
        {"company_id": company, "order_id": f"O{n}", "status": status, "created_at": _ts(day),
         "arrived_at": None, "vehicle_no": PLATE}
        for n, (company, status, day) in enumerate([
            ("R001", "paid", 3), ("R001", "paid", 4), ("R001", "paid", 6),
            ("R001", "cancelled", 7), ("R002", "arrived", 12)])
    ]  # fmt: skip
    quality = [
        {"company_id": c, "company_name": name, "period": "2026-11", "grain": "month",
         "records": records, "completeness_rate": 1.0, "normativity_rate": 0.98,
         "timeliness_rate": 0.9, "truthfulness_rate": 0.995, "city_coverage_rate": 0.5,
         "score": score, "transmitted": True}
        for c, name, records, score in (("R001", "闽运约车", 1200, 97.25),
                                        ("R002", "榕城出行", 800, 91.5))
    ]  # fmt: skip
    return {"silver.ridehailing__static_versions": versions, "silver.ridehailing__orders": orders,
            "gold.ridehailing__company_periods": quality}  # fmt: skip


def profile_gold(lake: Path) -> dict[str, int]:
    """Write what the profiles read beside conftest's gold tables, then build the profile tables
    (licences judged on AS_OF); returns the job's row counts."""
    ranked = DeltaTable(str(lake / "gold" / "telematics__ranked_assessments")).to_pyarrow_table()
    assessments = ranked.drop_columns(["score_rank"])  # the assessments the ranking is made of
    write_deltalake(str(registry.table("gold.telematics__assessments").location(lake)),
                    assessments, mode="overwrite")  # fmt: skip
    tables = {"silver.telematics__vehicles": _vehicles(), "gold.licences__licences": _licences(),
              **_freight(), **_ridehailing()}  # fmt: skip
    for name, rows in tables.items():
        _write(lake, name, rows)
    return build_profile_tables(lake, on=AS_OF)

"""The four document kinds as the platforms upload them (freight.md "Waybill", "Fund flow",
"Vehicle / driver", "Fine print"): date-times n14 ``YYYYMMDDhhmmss`` and dates n8 (GMT+8), numbers
(charges in yuan, weights in kg, masses in t, cube in m³) as JSON numbers, codes as strings."""

from __future__ import annotations

import datetime as dt
from typing import Any

from transforms.freight.generate.content import Content, FundFlow, carrier
from transforms.freight.generate.schedule import Waybills, seconds
from transforms.freight.generate.world import KINDS, World, city_of
from transforms.reference.divisions import by_code

WAYBILL, FUND_FLOW, VEHICLE, DRIVER = "YD", "ZJ", "CL", "JSY"
IPC = {WAYBILL: "WLHY_YD1001", FUND_FLOW: "WLHY_ZJ1001", VEHICLE: "WLHY_CL1001",
       DRIVER: "WLHY_JSY1001"}  # fmt: skip
DOCUMENT_NAME = {WAYBILL: "电子运单", FUND_FLOW: "资金流水单", VEHICLE: "车辆基本信息",
                 DRIVER: "驾驶员基本信息"}  # fmt: skip
# the fields a 3005 case leaves out, in turn (freight.md "Fine print": required fields)
REQUIRED = {
    WAYBILL: ("despatchActualDateTime", "totalMonetaryAmount", "goodsReceiptDateTime",
              "shippingNoteNumber", "unifiedSocialCreditIdentifier", "originalDocumentNumber",
              "serialNumber", "vehicleInfo[].vehicleNumber"),
    FUND_FLOW: ("documentNumber", "financiallist[].dateTime", "shippingNoteList",
                "financiallist[].monetaryAmount", "financiallist"),
    VEHICLE: ("vehiclePlateColorCode", "vehicleNumber"),
    DRIVER: ("drivingLicense",),
}  # fmt: skip
ENERGY = {"light": "A", "heavy": "B", "tractor": "B"}  # 汽油 / 柴油; small new-energy: C 电
POLICE = "{province}{city}公安局交通警察支队"


def n14(t: dt.datetime) -> str:
    return t.strftime("%Y%m%d%H%M%S")


def n8(day: dt.date) -> str:
    return day.strftime("%Y%m%d")


def waybill(world: World, trips: Waybills, c: Content, i: int, version: int) -> dict[str, Any]:
    """Waybill ``i`` as uploaded in ``version`` (1, or 2: the correction)."""
    fleet = world.fleet
    op = world.operators[trips.operator[i]]
    v = trips.vehicle[i]
    goods = c.goods_v2[i] if version == 2 and c.goods_v2[i] else c.goods[i]
    amount = c.amount_v2[i] if version == 2 and c.amount_v2[i] is not None else c.amount[i]
    upload = c.upload_v2[i] if version == 2 else c.upload[i]
    despatch, arrival = seconds(world, trips.despatch[i]), seconds(world, trips.arrival[i])
    name, carrier_id, licence = carrier(world, v)
    doc: dict[str, Any] = {
        "originalDocumentNumber": c.original[i],
        "shippingNoteNumber": c.note[i],
        "serialNumber": c.serial[i],
        "vehicleAmount": c.vehicle_amount[i],
        "transportTypeCode": "1",
        "sendToProDateTime": n14(seconds(world, upload)),
        "carrier": op.name,
        "unifiedSocialCreditIdentifier": op.uscc,
        "permitNumber": op.permit_no,
        "consignmentDateTime": n14(seconds(world, c.consignment[i])),
        "businessTypeCode": c.business[i],
        "despatchActualDateTime": n14(despatch),
        "goodsReceiptDateTime": n14(arrival),
        "consignorInfo": {
            "consignor": c.consignor[i][0],
            "consignorID": c.consignor[i][1],
            "placeOfLoading": c.consignor[i][2],
            "countrySubdivisionCode": trips.filed_loading[i],
        },
        "consigneeInfo": {
            "consignee": c.consignee[i][0],
            "consigneeID": c.consignee[i][1],
            "goodsReceiptPlace": c.consignee[i][2],
            "countrySubdivisionCode": trips.filed_receipt[i],
        },
        "totalMonetaryAmount": amount,
        "vehicleInfo": [
            {
                "vehiclePlateColorCode": str(fleet.color[v]),
                "vehicleNumber": fleet.plate[v],
                "placeOfLoading": c.consignor[i][2],
                "loadingCountrySubdivisionCode": trips.filed_loading[i],
                "loadingDateTime": n14(despatch),
                "goodsReceiptPlace": c.consignee[i][2],
                "receiptCountrySubdivisionCode": trips.filed_receipt[i],
                "receiptDateTime": n14(arrival),
                "driver": [
                    {"driverName": fleet.d_name[d], "drivingLicense": fleet.d_id[d]}
                    for d in fleet.drivers[v]
                ],
                "goodsInfo": [
                    {
                        "descriptionOfGoods": g.description,
                        "cargoTypeClassificationCode": g.code,
                        "goodsItemGrossWeight": g.kg,
                        "cube": g.cube,
                        "totalNumberOfPackages": g.packages,
                    }
                    for g in goods
                ],
            }
        ],
        "actualCarrierName": name,
        "actualCarrierBusinessLicense": licence,
        "actualCarrierID": carrier_id,
        "insuranceInformation": {
            "policyNumber": c.insurance[i][0],
            "insuranceCompanyCode": c.insurance[i][1],
        },
    }
    if c.permit_missing[i]:
        del doc["permitNumber"]
    return doc


def fund_flow(world: World, trips: Waybills, c: Content, f: FundFlow) -> dict[str, Any]:
    fleet = world.fleet
    v = f.vehicle
    return {
        "documentNumber": f.number,
        "sendToProDateTime": n14(seconds(world, f.upload)),
        "carrier": world.operators[f.operator].name,
        "actualCarrierID": carrier(world, v)[1],
        "vehicleNumber": fleet.plate[v],
        "vehiclePlateColorCode": str(fleet.color[v]),
        "shippingNoteList": [
            {
                "shippingNoteNumber": c.note[i],
                "serialNumber": c.serial[i],
                "totalMonetaryAmount": amount,
            }
            for i, amount in f.entries
        ],  # fmt: skip
        "financiallist": [
            {
                "paymentMeansCode": code,
                "recipient": recipient,
                "receiptAccount": account,
                "bankCode": bank,
                "sequenceCode": sequence,
                "monetaryAmount": amount,
                "dateTime": n14(seconds(world, t)),
            }
            for code, recipient, account, bank, sequence, amount, t in f.payments
        ],  # fmt: skip
    }


def _police(county: str) -> str:
    city = by_code()[city_of(county)]
    return POLICE.format(province="福建省", city=city.name)


def vehicle(world: World, v: int, certificate: str) -> dict[str, Any]:
    fleet = world.fleet
    kind = fleet.kind[v]
    owner = fleet.owner[v]
    registered = fleet.register_date[v]
    doc: dict[str, Any] = {
        "vehicleNumber": fleet.plate[v],
        "vehiclePlateColorCode": str(fleet.color[v]),
        "vehicleType": KINDS[kind][1],
        "owner": fleet.c_name[owner] if owner >= 0 else fleet.d_name[fleet.drivers[v][0]],
        "useCharacter": "货运",
        "VIN": fleet.vin[v],
        "issuingOrganizations": _police(fleet.county[v]),
        "registerDate": n8(registered),
        "issueDate": n8(registered + dt.timedelta(days=(v * 37) % 900)),
        "vehicleEnergyType": "C" if fleet.color[v] == 5 else ENERGY[kind],
        "vehicleTonnage": fleet.tonnage[v],
        "grossMass": fleet.gross_mass[v],
        "roadTransportCertificateNumber": certificate,
    }
    if fleet.trailer[v]:
        doc["trailerVehiclePlateNumber"] = fleet.trailer[v]
    return doc


def driver(world: World, d: int, certificate: str) -> dict[str, Any]:
    fleet = world.fleet
    valid_from = fleet.d_licence_from[d]
    return {
        "driverName": fleet.d_name[d],
        "drivingLicense": fleet.d_id[d],
        "vehicleClass": fleet.d_class[d],
        "issuingOrganizations": _police(fleet.county[fleet.d_vehicle[d]]),
        "validPeriodFrom": n8(valid_from),
        "validPeriodTo": n8(dt.date(valid_from.year + 10, valid_from.month, 1)),
        "qualificationCertificate": certificate,
        "telephone": fleet.d_phone[d],
    }


def without(document: dict[str, Any], path: str) -> dict[str, Any]:
    """A copy of ``document`` without the field at ``path`` (``list[].field``: in the first
    element)."""
    out = dict(document)
    if "[]." in path:
        head, rest = path.split("[].", 1)
        items = [dict(x) for x in out[head]]
        items[0].pop(rest, None)
        out[head] = items
    else:
        out.pop(path, None)
    return out


def fake_waybill(world: World, n: int, at: dt.datetime) -> dict[str, Any]:
    """A waybill of the never-registered sender (its envelopes are 3009)."""
    op = world.unknown_sender
    return {
        "originalDocumentNumber": f"{op.prefix}DD{at:%y%m%d}{n:07d}",
        "shippingNoteNumber": f"{op.prefix}{at:%y%m%d}{n:07d}",
        "serialNumber": "0000",
        "vehicleAmount": 1,
        "transportTypeCode": "1",
        "sendToProDateTime": n14(at),
        "carrier": op.name,
        "unifiedSocialCreditIdentifier": op.uscc,
        "permitNumber": op.permit_no,
        "despatchActualDateTime": n14(at - dt.timedelta(hours=5)),
        "goodsReceiptDateTime": n14(at - dt.timedelta(hours=1)),
        "totalMonetaryAmount": 880.0 + n,
        "vehicleInfo": [{"vehiclePlateColorCode": "2", "vehicleNumber": f"闽CZ{1000 + n:04d}",
                         "loadingCountrySubdivisionCode": op.county,
                         "receiptCountrySubdivisionCode": "350102"}],
    }  # fmt: skip

"""The hand-built ride-hailing (网约车) world of test_scenario.py: every landing line, named.

Nothing here computes an expected number: this module only writes the landing zone (the
interfaces' records, the outage notices, the signed licences) and remembers where each named
record landed (interface, day folder, file, line), so that the test can name the defective
records it expects by hand. The world itself is described in test_scenario.py's docstring; the
record names used here (O1…, N1…, K3-create, P1…, Q1…) are the ones used there.

Times are GMT+8 wall-clock times; PositionTime is unix seconds of the same instant.
"""

from __future__ import annotations

import calendar
import datetime as dt
import json
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

from transforms.crypto import sm2
from transforms.ridehailing.interfaces import interface

DOMAIN = "ridehailing"
RECORDS_FILE = "records.jsonl"
OUTAGE_FILE = "notices.jsonl"

# ---- people, vehicles, companies ---------------------------------------------------------------

ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
ID_CHECK = "10X98765432"


def id_number(first17: str) -> str:
    """An 18-digit ID number with its GB 11643 check character (a driver's LicenseId)."""
    total = sum(int(c) * w for c, w in zip(first17, ID_WEIGHTS, strict=True))
    return first17 + ID_CHECK[total % 11]


# companies (sorted by id: C1 < C2 < C3)
C1 = "91350100MA00RHC01X"  # 闽都约车: permits 福州 350100 and 宁德 350900, data only in 宁德
C2 = "91350200MA00RHC02X"  # 鹭岛出行: permit 厦门 350200
C3 = "91350900MA00RHC03X"  # 三都澳约车: permit 宁德 350900, silent in November
NAMES = {C1: "闽都约车科技有限公司", C2: "鹭岛出行网络科技有限公司", C3: "三都澳约车服务有限公司"}
HQ = {C1: "350102", C2: "350203", C3: "350902"}  # Address of the company's static records

# where the cars run (county code, lon, lat)
JIAOCHENG = ("350902", 119.526, 26.660)  # 宁德市蕉城区 (city 3509)
SIMING = ("350203", 118.082, 24.445)  # 厦门市思明区 (city 3502)
GULOU = ("350102", 119.296, 26.075)  # 福州市鼓楼区 (city 3501)

# drivers: LicenseId (= ID number), name, phone, birthday
D1 = id_number("35010219850101001")
D2 = id_number("35010219880202002")
D3 = id_number("35090219900303003")
D5 = id_number("35090219920505005")
D4 = id_number("35020319870404004")
S = [id_number(f"35020319950601{i:03d}") for i in range(1, 6)]  # C2's five sentinel drivers
E1 = id_number("35090219830707007")
SENTINEL_PHONE = "13900000000"

# vehicles: plate, colour (JT/T 697.7: 5 green)
V1, V2, V6 = "闽JD10001", "闽JD10002", "闽JD10006"  # C1
V3, V4 = "闽DD20003", "闽DD20004"  # C2
VX = "闽DX9999"  # C2 deletes it without ever having added it
V5 = "闽JD30005"  # C3
GREEN = "5"

# ---- times --------------------------------------------------------------------------------------


def t(month: int, day: int, hour: int, minute: int = 0, second: int = 0) -> dt.datetime:
    """A GMT+8 wall-clock time of 2026."""
    return dt.datetime(2026, month, day, hour, minute, second)


def f14(at: dt.datetime) -> str:
    return at.strftime("%Y%m%d%H%M%S")


def received(at: dt.datetime) -> str:
    return at.strftime("%Y-%m-%d %H:%M:%S")


def unix(at: dt.datetime) -> int:
    """Unix seconds of a GMT+8 wall-clock time."""
    return calendar.timegm((at - dt.timedelta(hours=8)).timetuple())


def coord(value: float) -> int:
    """Degrees as the interfaces carry them: an integer in 1e-6 degrees."""
    return round(value * 1_000_000)


# ---- the landing zone ---------------------------------------------------------------------------


@dataclass
class Landing:
    """Landing lines by (feed, day folder), and where each named record went."""

    files: dict[tuple[str, str], list[str]] = field(default_factory=lambda: defaultdict(list))
    where: dict[str, tuple[str, str, str, int]] = field(default_factory=dict)
    # lines deliberately not a well-formed record of their interface (self-check exceptions)
    bad_lines: set[tuple[str, str, int]] = field(default_factory=set)

    def _append(self, feed: str, day: str, line: str) -> int:
        lines = self.files[(feed, day)]
        lines.append(line)
        return len(lines)

    def put(self, name: str, name_of_interface: str, values: dict, at: dt.datetime) -> None:
        """One record of ``name_of_interface`` received at ``at``: every field of the interface
        (those not given are null) plus received_at."""
        spec = interface(name_of_interface)
        unknown = set(values) - set(spec.field_names)
        if unknown:
            raise ValueError(f"{name}: {name_of_interface} has no field(s) {sorted(unknown)}")
        record = {f: values.get(f) for f in spec.field_names}
        record["received_at"] = received(at)
        day = at.date().isoformat()
        line = self._append(name_of_interface, day, json.dumps(record, ensure_ascii=False))
        if name in self.where:
            raise ValueError(f"record name {name} used twice")
        self.where[name] = (name_of_interface, day, RECORDS_FILE, line)

    def raw(self, name: str, feed: str, day: str, text: str) -> None:
        """A line written as it is (a malformed or key-less line)."""
        line = self._append(feed, day, text)
        self.where[name] = (feed, day, RECORDS_FILE, line)
        self.bad_lines.add((feed, day, line))

    def write(self, lake: Path) -> None:
        for (feed, day), lines in self.files.items():
            folder = lake / "landing" / DOMAIN / feed / day
            folder.mkdir(parents=True, exist_ok=True)
            name = OUTAGE_FILE if feed == "outageNotice" else RECORDS_FILE
            (folder / name).write_text("".join(x + "\n" for x in lines), "utf-8")


def _common(company: str, address: str, update: dt.datetime | None, flag="1", state="0") -> dict:
    return {"CompanyId": company, "Address": address, "Flag": flag, "State": state,
            "UpdateTime": f14(update) if update else None, "Encrypt": "1"}  # fmt: skip


# ---- static records -----------------------------------------------------------------------------


def company(w: Landing, name: str, cid: str, ut: dt.datetime, at: dt.datetime) -> None:
    w.put(name, "baseInfoCompany", {
        **_common(cid, HQ[cid], ut), "CompanyName": NAMES[cid], "Identifier": cid,
        "BusinessArea": "网络预约出租汽车经营", "ContactAddress": "福建省某市某路1号",
        "LegalName": "林某某", "LegalPhone": "0591-88880000",
    }, at)  # fmt: skip


def permit(w: Landing, name: str, cid: str, city: str, ut: dt.datetime, at: dt.datetime) -> None:
    w.put(name, "baseInfoCompanyPermit", {
        **_common(cid, city, ut), "Certificate": f"网约车经营许可{city}-{cid[-4:]}",
        "OperationArea": "本市行政区域", "OwnerName": NAMES[cid], "Organization": "市交通运输局",
        "StartDate": "20260101", "StopDate": "20291231", "CertifyDate": "20260101",
    }, at)  # fmt: skip


def driver(w: Landing, name: str, cid: str, lic: str, phone: str, birthday: str,
           ut: dt.datetime, at: dt.datetime, flag="1", gender="1") -> None:  # fmt: skip
    w.put(name, "baseInfoDriver", {
        **_common(cid, HQ[cid], ut, flag), "LicenseId": lic, "DriverName": "陈某",
        "DriverPhone": phone, "Gender": gender, "Birthday": birthday,
        "CertificateNo": f"WYC{lic[-8:]}", "NetworkCarIssueDate": "20250301",
        "GetNetworkCarProofOn": "20250301", "GetNetworkCarProofOff": "20310228",
        "ContractCompany": NAMES[cid], "ContractOn": "20250301", "ContractOff": "20271231",
    }, at)  # fmt: skip


def vehicle(w: Landing, name: str, cid: str, plate: str, ut: dt.datetime, at: dt.datetime,
            flag="1", vin: str | None = None, colour=GREEN) -> None:  # fmt: skip
    w.put(name, "baseInfoVehicle", {
        **_common(cid, HQ[cid], ut, flag), "VehicleNo": plate, "PlateColor": colour,
        "Seats": 5, "Brand": "比亚迪", "Model": "秦PLUS", "VehicleType": "小型轿车",
        "OwnerName": NAMES[cid], "VIN": vin or f"LGXCE4CB{plate[-5:]}0000",
        "Certificate": f"闽交运输网约{plate[-5:]}", "TransArea": "本市", "TransDateStart": "20250301",
        "TransDateStop": "20290228", "CheckState": "1", "RegisterDate": "20250201",
        "CommercialType": "1",
    }, at)  # fmt: skip


# ---- dynamic records ----------------------------------------------------------------------------


def _dyn(cid: str, place: tuple, event: dt.datetime | None) -> dict:
    return _common(cid, place[0], event)


def order_create(w, name, cid, oid, place, when, at, **over) -> None:
    values = {
        **_dyn(cid, place, when), "OrderId": oid, "DepartTime": f14(when), "OrderTime": f14(when),
        "Departure": "火车站", "DepLongitude": coord(place[1]), "DepLatitude": coord(place[2]),
        "Destination": "万达广场", "DestLongitude": coord(place[1] + 0.03),
        "DestLatitude": coord(place[2] + 0.02), "FareType": "1",
    }  # fmt: skip
    w.put(name, "orderCreate", {**values, **over}, at)


def order_match(w, name, cid, oid, place, when, at, lic, plate, phone) -> None:
    w.put(name, "orderMatch", {
        **_dyn(cid, place, when), "OrderId": oid, "Longitude": coord(place[1]),
        "Latitude": coord(place[2]), "LicenseId": lic, "DriverPhone": phone, "VehicleNo": plate,
        "DistributeTime": f14(when),
    }, at)  # fmt: skip


def order_cancel(w, name, cid, oid, place, ordered, when, at, operator, **over) -> None:
    values = {
        **_dyn(cid, place, when), "OrderId": oid, "OrderTime": f14(ordered),
        "CancelTime": f14(when), "Operator": operator, "CancelTypeCode": "1",
        "CancelReason": "行程有变",
    }  # fmt: skip
    w.put(name, "orderCancel", {**values, **over}, at)


def operate_depart(w, name, cid, oid, place, when, at, lic, plate) -> None:
    w.put(name, "operateDepart", {
        **_dyn(cid, place, when), "OrderId": oid, "LicenseId": lic, "FareType": "1",
        "VehicleNo": plate, "DepLongitude": coord(place[1]), "DepLatitude": coord(place[2]),
        "DepTime": f14(when), "WaitMile": 0.5, "WaitTime": 60,
    }, at)  # fmt: skip


def operate_arrive(w, name, cid, oid, place, when, at, mile=8.5, seconds=1200) -> None:
    w.put(name, "operateArrive", {
        **_dyn(cid, place, when), "OrderId": oid, "DestLongitude": coord(place[1] + 0.03),
        "DestLatitude": coord(place[2] + 0.02), "DestTime": f14(when), "DriveMile": mile,
        "DriveTime": seconds,
    }, at)  # fmt: skip


def operate_pay(w, name, cid, oid, place, when, at, lic, plate, depart, arrive, matched,
                mile=8.5, seconds=1200, **over) -> None:  # fmt: skip
    values = {
        **_dyn(cid, place, when), "OrderId": oid, "OnArea": place[0], "LicenseId": lic,
        "VehicleNo": plate, "FareType": "1", "DepTime": f14(depart), "DestTime": f14(arrive),
        "DriveMile": mile, "DriveTime": seconds, "FactPrice": 25.5, "Price": 25.5,
        "PayState": "1", "PayTime": f14(when), "OrderMatchTime": f14(matched),
    }  # fmt: skip
    w.put(name, "operatePay", {**values, **over}, at)


def rated_passenger(w, name, cid, oid, place, when, at) -> None:
    w.put(name, "ratedPassenger", {
        **_dyn(cid, place, when), "OrderId": oid, "EvaluateTime": f14(when) if when else None,
        "ServiceScore": 5, "DriverScore": 5, "VehicleScore": 4, "Detail": "准时",
    }, at)  # fmt: skip


def rated_driver(w, name, cid, oid, place, when, at, lic) -> None:
    w.put(name, "ratedDriver", {
        **_dyn(cid, place, when), "OrderId": oid, "LicenseId": lic, "EvaluateTime": f14(when),
        "Level": 5,
    }, at)  # fmt: skip


def operate_login(w, name, cid, place, when, at, lic, plate, logout=False) -> None:
    which = "operateLogout" if logout else "operateLogin"
    time_field = "LogoutTime" if logout else "LoginTime"
    w.put(name, which, {
        **_dyn(cid, place, when), "LicenseId": lic, "VehicleNo": plate, time_field: f14(when),
        "Longitude": coord(place[1]), "Latitude": coord(place[2]),
    }, at)  # fmt: skip


def position_driver(w, name, cid, place, when, at, lic, plate, biz, oid=None, speed=40) -> None:
    w.put(name, "positionDriver", {
        **_dyn(cid, place, when), "LicenseId": lic, "VehicleNo": plate,
        "PositionTime": unix(when), "Longitude": coord(place[1]), "Latitude": coord(place[2]),
        "Direction": 90, "Elevation": 12, "Speed": speed, "BizStatus": biz, "OrderId": oid,
    }, at)  # fmt: skip


def position_vehicle(w, name, cid, place, when, at, plate, biz, oid=None, region=None) -> None:
    w.put(name, "positionVehicle", {
        **_dyn(cid, place, when), "VehicleNo": plate, "VehicleRegionCode": region or place[0],
        "PositionTime": unix(when), "Longitude": coord(place[1]), "Latitude": coord(place[2]),
        "Speed": 35, "Direction": 180, "Elevation": 15, "Mileage": 12345.6, "WarnStatus": 0,
        "VehStatus": 0, "BizStatus": biz, "OrderId": oid,
    }, at)  # fmt: skip


def outage(w: Landing, day: str, cid: str, planned: bool, notified, start, end) -> None:
    notice = {"CompanyId": cid, "planned": planned, "notified_at": f14(notified),
              "start": f14(start), "end": f14(end)}  # fmt: skip
    w._append("outageNotice", day, json.dumps(notice, ensure_ascii=False))


def sec(at: dt.datetime, seconds: int) -> dt.datetime:
    return at + dt.timedelta(seconds=seconds)


# ---- the world ----------------------------------------------------------------------------------

PHONE = {D1: "13805910001", D2: "13805910002", D3: "13805930003", D5: "13805930005",
         D4: "13905920004", E1: "13705930007"}  # fmt: skip
PHONE.update({s: SENTINEL_PHONE for s in S})


def build_landing() -> Landing:  # one statement per hand-made record
    w = Landing()
    JC, SM = JIAOCHENG, SIMING
    five_min = 300

    # ================================ October ================================
    # C1: company, two permits, three drivers, two vehicles, order K1 (rating late)
    company(w, "O1", C1, t(10, 1, 9), t(10, 1, 9, 5))
    permit(w, "O2", C1, "350100", t(10, 1, 9), t(10, 1, 9, 5))
    permit(w, "O3", C1, "350900", t(10, 1, 9), t(10, 1, 9, 5))
    driver(w, "O4", C1, D1, PHONE[D1], "19850101", t(10, 2, 9), t(10, 2, 9, 5))
    driver(w, "O5", C1, D2, PHONE[D2], "19880202", t(10, 2, 9), t(10, 2, 9, 5), gender="2")
    driver(w, "O6", C1, D3, PHONE[D3], "19900303", t(10, 2, 9), t(10, 2, 9, 5))
    vehicle(w, "O7", C1, V1, t(10, 2, 9), t(10, 2, 9, 5))
    vehicle(w, "O8", C1, V2, t(10, 2, 9), t(10, 2, 9, 5))
    k1, m1 = "C1-202610-0001", t(10, 20, 10, 1)
    order_create(w, "O9", C1, k1, JC, t(10, 20, 10), t(10, 20, 10, 0, 30))
    order_match(w, "O10", C1, k1, JC, m1, t(10, 20, 10, 1, 20), D1, V1, PHONE[D1])
    operate_depart(w, "O11", C1, k1, JC, t(10, 20, 10, 10), t(10, 20, 10, 10, 30), D1, V1)
    operate_arrive(w, "O12", C1, k1, JC, t(10, 20, 10, 30), t(10, 20, 10, 30, 30))
    operate_pay(w, "O13", C1, k1, JC, t(10, 20, 10, 31), t(10, 20, 10, 31, 30), D1, V1,
                t(10, 20, 10, 10), t(10, 20, 10, 30), m1)  # fmt: skip
    rated_passenger(w, "O14", C1, k1, JC, t(10, 20, 12), t(10, 20, 12, 10))  # 600 s: late

    # C2: company, permit, driver D4, vehicles V3 and V4, a login received after midnight
    company(w, "O15", C2, t(10, 1, 10), t(10, 1, 10, 10))
    permit(w, "O16", C2, "350200", t(10, 1, 10), t(10, 1, 10, 10))
    driver(w, "O17", C2, D4, PHONE[D4], "19870404", t(10, 3, 9), t(10, 3, 9, 5))
    vehicle(w, "O18", C2, V3, t(10, 3, 9), t(10, 3, 9, 5))
    vehicle(w, "O19", C2, V4, t(10, 3, 9), t(10, 3, 9, 5))
    operate_login(w, "O27", C2, SM, t(10, 31, 23, 50), t(11, 1, 0, 10), D4, V4)  # 1200 s late

    # C3: company, permit, driver E1, vehicle V5, order K2 cancelled by the passenger
    company(w, "O20", C3, t(10, 1, 11), t(10, 1, 11, 5))
    permit(w, "O21", C3, "350900", t(10, 1, 11), t(10, 1, 11, 5))
    driver(w, "O22", C3, E1, PHONE[E1], "19830707", t(10, 5, 9), t(10, 5, 9, 5))
    vehicle(w, "O23", C3, V5, t(10, 5, 9), t(10, 5, 9, 5))
    k2 = "C3-202610-0001"
    order_create(w, "O24", C3, k2, JC, t(10, 25, 15), t(10, 25, 15, 0, 40))
    order_match(w, "O25", C3, k2, JC, t(10, 25, 15, 2), t(10, 25, 15, 2, 10), E1, V5, PHONE[E1])
    order_cancel(w, "O26", C3, k2, JC, t(10, 25, 15), t(10, 25, 15, 5), t(10, 25, 15, 5, 20), "1")

    # ================================ November: C1 ================================
    w.put("N1", "baseInfoCompanyFare", {
        **_common(C1, HQ[C1], t(11, 1, 9)), "FareType": "1",
        "FareValidOn": "20261101000000", "FareValidOff": "20271231235959",  # validity end: exempt
        "StartFare": 10.5, "StartMile": 3.0, "UnitPricePerMile": 2.2, "UnitPricePerMinute": 0.5,
    }, t(11, 1, 9, 2))  # fmt: skip
    # D3 updated (still valid), received 30 h after its UpdateTime: late
    driver(w, "N2", C1, D3, PHONE[D3], "19900303", t(11, 3, 9), t(11, 4, 15), flag="2")
    # V6 added with a 16-character VIN (F17): not normative
    vehicle(w, "N3", C1, V6, t(11, 5, 9), t(11, 5, 9, 5), vin="LGXCE4CB10006000")
    # D5 added with Gender 3 (not in GB/T 2261.1's table): not normative
    driver(w, "N4", C1, D5, PHONE[D5], "19920505", t(11, 5, 9), t(11, 5, 9, 5), gender="3")

    # K3: a clean order; its orderCreate received exactly 300 s late with a blank Departure,
    # then re-sent the next day complete
    k3 = "C1-202611-0003"
    c3, m3, d3, a3, p3 = (
        t(11, 2, 8),
        t(11, 2, 8, 1),
        t(11, 2, 8, 10),
        t(11, 2, 8, 30),
        t(11, 2, 8, 31),
    )
    order_create(w, "K3-create", C1, k3, JC, c3, sec(c3, five_min), Departure="  ")
    order_create(w, "K3-create-resent", C1, k3, JC, c3, t(11, 3, 9), Departure="蕉城火车站")
    order_match(w, "K3-match", C1, k3, JC, m3, sec(m3, 30), D1, V1, PHONE[D1])
    operate_depart(w, "K3-depart", C1, k3, JC, d3, sec(d3, 20), D1, V1)
    operate_arrive(w, "K3-arrive", C1, k3, JC, a3, sec(a3, 20), mile=10.2)
    operate_pay(w, "K3-pay", C1, k3, JC, p3, sec(p3, 20), D1, V1, d3, a3, m3, mile=10.2)
    rated_passenger(w, "K3-rated", C1, k3, JC, t(11, 2, 9), t(11, 2, 9, 0, 30))
    rated_driver(w, "K3-rated-driver", C1, k3, JC, t(11, 2, 9), t(11, 2, 9, 1), D1)

    # K4: arrives before it departs; paid with DriveMile 0.0; its rating has no EvaluateTime
    k4 = "C1-202611-0004"
    c4, m4, d4, a4, p4 = (
        t(11, 5, 10),
        t(11, 5, 10, 1),
        t(11, 5, 10, 15),
        t(11, 5, 10, 10),
        t(11, 5, 10, 40),
    )
    order_create(w, "K4-create", C1, k4, JC, c4, sec(c4, 20))
    order_match(w, "K4-match", C1, k4, JC, m4, sec(m4, 10), D1, V1, PHONE[D1])
    operate_depart(w, "K4-depart", C1, k4, JC, d4, sec(d4, 10), D1, V1)
    operate_arrive(w, "K4-arrive", C1, k4, JC, a4, sec(a4, 10), mile=5.0, seconds=600)
    operate_pay(w, "K4-pay", C1, k4, JC, p4, sec(p4, 10), D1, V1, d4, a4, m4, mile=0.0, seconds=600)
    rated_passenger(w, "K4-rated", C1, k4, JC, None, t(11, 5, 11))

    # K5 (D2, V2 — both licensed then): a departure longitude of 2°; matched 600 s late;
    # DriveMile with 3 decimals; an OrderMatchTime a year in the future
    k5 = "C1-202611-0005"
    c5, m5, d5, a5, p5 = (
        t(11, 8, 14),
        t(11, 8, 14, 1),
        t(11, 8, 14, 10),
        t(11, 8, 14, 40),
        t(11, 8, 14, 41),
    )
    order_create(w, "K5-create", C1, k5, JC, c5, sec(c5, 20), DepLongitude=2_000_000)
    order_match(w, "K5-match", C1, k5, JC, m5, sec(m5, 600), D2, V2, PHONE[D2])
    operate_depart(w, "K5-depart", C1, k5, JC, d5, sec(d5, 20), D2, V2)
    operate_arrive(w, "K5-arrive", C1, k5, JC, a5, sec(a5, 20), mile=12.345)
    operate_pay(w, "K5-pay", C1, k5, JC, p5, sec(p5, 20), D2, V2, d5, a5, m5, mile=12.3,
                OrderMatchTime="20271108140100")  # fmt: skip

    # K6 (D2, V2) after D2's 网约车驾驶员证 was revoked (2026-11-10 09:00)
    k6 = "C1-202611-0006"
    c6, m6, d6, a6, p6 = (
        t(11, 12, 9),
        t(11, 12, 9, 1),
        t(11, 12, 9, 10),
        t(11, 12, 9, 30),
        t(11, 12, 9, 31),
    )
    order_create(w, "K6-create", C1, k6, JC, c6, sec(c6, 20))
    order_match(w, "K6-match", C1, k6, JC, m6, sec(m6, 20), D2, V2, PHONE[D2])
    operate_depart(w, "K6-depart", C1, k6, JC, d6, sec(d6, 20), D2, V2)
    operate_arrive(w, "K6-arrive", C1, k6, JC, a6, sec(a6, 20))
    operate_pay(w, "K6-pay", C1, k6, JC, p6, sec(p6, 20), D2, V2, d6, a6, m6)

    # K7 (D1, V2) after V2's 网约车运输证 was suspended (2026-11-20 09:00); paid without FactPrice
    k7 = "C1-202611-0007"
    c7, m7, d7, a7, p7 = (
        t(11, 22, 16),
        t(11, 22, 16, 1),
        t(11, 22, 16, 10),
        t(11, 22, 16, 30),
        t(11, 22, 16, 31),
    )
    order_create(w, "K7-create", C1, k7, JC, c7, sec(c7, 20))
    order_match(w, "K7-match", C1, k7, JC, m7, sec(m7, 20), D1, V2, PHONE[D1])
    operate_depart(w, "K7-depart", C1, k7, JC, d7, sec(d7, 20), D1, V2)
    operate_arrive(w, "K7-arrive", C1, k7, JC, a7, sec(a7, 20))
    operate_pay(w, "K7-pay", C1, k7, JC, p7, sec(p7, 20), D1, V2, d7, a7, m7, FactPrice=None)

    # K8: ordered, cancelled by the passenger before any match
    k8 = "C1-202611-0008"
    c8 = t(11, 15, 18)
    order_create(w, "K8-create", C1, k8, JC, c8, sec(c8, 20))
    order_cancel(w, "K8-cancel", C1, k8, JC, c8, t(11, 15, 18, 3), t(11, 15, 18, 3, 20), "1")

    # positions and operations of C1
    position_driver(w, "P1", C1, JC, t(11, 2, 8, 20), t(11, 2, 8, 20, 10), D1, V1, "1", k3)
    position_driver(w, "P2", C1, JC, t(11, 2, 8, 20, 30), t(11, 2, 8, 22), D1, V1, "1", k3)  # 90 s
    position_driver(w, "P3", C1, JC, t(11, 5, 10, 20), t(11, 5, 10, 20, 10), D1, V1, "1", k4,
                    speed=350)  # fmt: skip
    position_vehicle(w, "P4", C1, JC, t(11, 2, 8, 20), t(11, 2, 8, 20, 10), V1, "1")  # no OrderId
    position_vehicle(w, "P5", C1, JC, t(11, 2, 8, 45), t(11, 2, 8, 45, 10), V1, "3")
    # C1's planned outage 2026-11-14 00:00–06:00, announced 11-10 08:00 (88 h ahead): back-filled
    outage(w, "2026-11-10", C1, True, t(11, 10, 8), t(11, 14, 0), t(11, 14, 6))
    position_vehicle(w, "P6", C1, JC, t(11, 14, 2), t(11, 16, 10), V1, "3")
    operate_login(w, "P7", C1, JC, t(11, 14, 5), t(11, 16, 10, 0, 5), D1, V1)
    position_vehicle(w, "P8", C1, JC, t(11, 14, 6, 30), t(11, 16, 10, 0, 10), V1, "3")  # after it
    operate_login(w, "P9", C1, JC, t(11, 14, 23), t(11, 14, 23, 0, 10), D1, V1, logout=True)
    position_driver(w, "P10", C1, JC, t(11, 6, 12), t(11, 6, 12, 0, 10), D3, V2, "3")

    # ================================ November: C2 ================================
    for i, lic in enumerate(S, start=1):  # five new drivers sharing one phone: sentinel
        ut = t(11, 6, 9, i)
        driver(w, f"N{4 + i}", C2, lic, SENTINEL_PHONE, f"1995060{i}", ut, sec(ut, five_min))
    vehicle(w, "N10", C2, V3, t(11, 18, 9), t(11, 18, 9, 5), flag="3")  # V3 deleted
    vehicle(w, "N11", C2, VX, t(11, 12, 9), t(11, 12, 9, 5), flag="3", colour="1")  # never added

    # K9 (D4, V4): a clean order with a rating
    k9 = "C2-202611-0009"
    c9, m9, d9, a9, p9 = (
        t(11, 9, 9),
        t(11, 9, 9, 1),
        t(11, 9, 9, 10),
        t(11, 9, 9, 25),
        t(11, 9, 9, 26),
    )
    order_create(w, "K9-create", C2, k9, SM, c9, sec(c9, 20))
    order_match(w, "K9-match", C2, k9, SM, m9, sec(m9, 20), D4, V4, PHONE[D4])
    operate_depart(w, "K9-depart", C2, k9, SM, d9, sec(d9, 20), D4, V4)
    operate_arrive(w, "K9-arrive", C2, k9, SM, a9, sec(a9, 20), mile=6.4, seconds=900)
    operate_pay(w, "K9-pay", C2, k9, SM, p9, sec(p9, 20), D4, V4, d9, a9, m9, mile=6.4, seconds=900)
    rated_passenger(w, "K9-rated", C2, k9, SM, t(11, 9, 10), t(11, 9, 10, 0, 30))
    # a line without its OrderId (quarantined, never counted), then a line that is not JSON
    keyless = {**_common(C2, SM[0], t(11, 9, 11)), "DepartTime": f14(t(11, 9, 11)),
               "OrderTime": f14(t(11, 9, 11)), "Departure": "中山路", "DepLongitude": coord(SM[1]),
               "DepLatitude": coord(SM[2]), "Destination": "高崎机场", "DestLongitude": coord(SM[1]),
               "DestLatitude": coord(SM[2]), "FareType": "1", "received_at": received(t(11, 9, 11, 0, 20))}  # fmt: skip
    w.raw("X-keyless", "orderCreate", "2026-11-09", json.dumps(keyless, ensure_ascii=False))

    # K10: C1's driver D1 drives for C2 (no C2 baseInfoDriver)
    k10 = "C2-202611-0010"
    c10, m10, d10, a10, p10 = (
        t(11, 11, 20),
        t(11, 11, 20, 1),
        t(11, 11, 20, 10),
        t(11, 11, 20, 30),
        t(11, 11, 20, 31),
    )
    order_create(w, "K10-create", C2, k10, SM, c10, sec(c10, 20))
    order_match(w, "K10-match", C2, k10, SM, m10, sec(m10, 20), D1, V4, PHONE[D1])
    operate_depart(w, "K10-depart", C2, k10, SM, d10, sec(d10, 20), D1, V4)
    operate_arrive(w, "K10-arrive", C2, k10, SM, a10, sec(a10, 20))
    operate_pay(w, "K10-pay", C2, k10, SM, p10, sec(p10, 20), D1, V4, d10, a10, m10)

    # K11: matched to V3 after V3 was deleted; cancelled by the platform, the cancel carrying
    # an OrderTime of 1970-01-01 (an epoch default: "no 1970 times")
    k11 = "C2-202611-0011"
    c11 = t(11, 25, 12)
    order_create(w, "K11-create", C2, k11, SM, c11, sec(c11, 20))
    order_match(
        w, "K11-match", C2, k11, SM, t(11, 25, 12, 1), t(11, 25, 12, 1, 20), D4, V3, PHONE[D4]
    )
    order_cancel(w, "K11-cancel", C2, k11, SM, c11, t(11, 25, 12, 5), t(11, 25, 12, 5, 20), "3",
                 OrderTime="19700101080000")  # fmt: skip

    # positions of C2
    # unplanned outage 2026-11-20 10:00–12:00 (reported afterwards): the back-fill is late
    outage(w, "2026-11-20", C2, False, t(11, 20, 13), t(11, 20, 10), t(11, 20, 12))
    position_vehicle(w, "Q1", C2, SM, t(11, 20, 10, 30), t(11, 20, 13, 30), V4, "3")
    # planned outage 2026-11-27 00:00–04:00 announced only 15 h ahead: the back-fill is late
    outage(w, "2026-11-26", C2, True, t(11, 26, 9), t(11, 27, 0), t(11, 27, 4))
    position_vehicle(w, "Q2", C2, SM, t(11, 27, 1), t(11, 27, 9), V4, "3")
    # V4 in 福州 (a city C2 holds no permit for)
    position_vehicle(w, "Q3", C2, GULOU, t(11, 10, 15), t(11, 10, 15, 0, 20), V4, "3",
                     region=SM[0])  # fmt: skip
    w.raw(
        "X-malformed", "positionVehicle", "2026-11-10", '{"CompanyId": "' + C2 + '", "VehicleNo": '
    )
    position_driver(w, "Q4", C2, SM, t(11, 9, 9, 30), t(11, 9, 9, 30, 20), D4, V4, "3")
    return w


# ---- licences (signed, landed through the licences feed) -----------------------------------------

AUTHORITY = {"code": "350000", "name": "福建省交通运输厅"}
KEY_ID = "350000-RH1"
RIDE_DRIVER_SCOPE = "网络预约出租汽车驾驶员"
RIDE_VEHICLE_SCOPE = "网络预约出租汽车客运"
TAXI_DRIVER_SCOPE = "巡游出租汽车驾驶员"


def _licence(lid, ltype, no, holder_type, holder_key, holder_name, scope, issued, valid_from,
             valid_to, status, version, **personal) -> dict:  # fmt: skip
    at = dt.datetime.fromisoformat(issued)
    return {
        "licence_id": lid, "licence_type": ltype, "licence_no": no, "holder_type": holder_type,
        "holder_key": holder_key, "holder_name": holder_name, **personal, "scope": scope,
        "issuing_authority": dict(AUTHORITY), "issuing_province": "350000", "issued_at": issued,
        "valid_from": valid_from, "valid_to": valid_to, "status": status, "version": version,
        "received_at": received(at + dt.timedelta(seconds=60)),
    }  # fmt: skip


def licence_records() -> list[dict]:
    """Every issuance record (unsigned), in issued_at order.

    | licence | holder | kind | versions |
    |---|---|---|---|
    | WY-D1 | D1 | ride_hailing_driver | valid 2025-03-01 … 2031-02-28 |
    | WY-D2 | D2 | ride_hailing_driver | valid; v2 revoked, issued 2026-11-10 09:00 |
    | CZ-D3 | D3 | driver_qualification (巡游出租) | valid 2020-01-06 … 2025-12-31 (lapsed) |
    | WY-D4 | D4 | ride_hailing_driver | valid 2025-06-01 … 2031-05-31 |
    | YS-V1 | 闽JD10001-5 | ride_hailing_vehicle | valid 2025-03-01 … 2029-02-28 |
    | YS-V2 | 闽JD10002-5 | ride_hailing_vehicle | valid; v2 suspended, issued 2026-11-20 09:00 |
    | YS-V4 | 闽DD20004-5 | ride_hailing_vehicle | valid 2025-06-01 … 2029-05-31 |
    """
    q, v = "qualification", "vehicle_transport"
    return [
        _licence("RH-L-D3", q, "CZ350902000003", "person", D3, "陈三", TAXI_DRIVER_SCOPE,
                 "2020-01-06 10:00:00", "2020-01-06", "2025-12-31", "valid", 1, holder_phone=PHONE[D3]),
        _licence("RH-L-D1", q, "WY350102000001", "person", D1, "陈一", RIDE_DRIVER_SCOPE,
                 "2025-03-01 10:00:00", "2025-03-01", "2031-02-28", "valid", 1, holder_phone=PHONE[D1]),
        _licence("RH-L-D2", q, "WY350102000002", "person", D2, "陈二", RIDE_DRIVER_SCOPE,
                 "2025-03-01 10:00:00", "2025-03-01", "2031-02-28", "valid", 1, holder_phone=PHONE[D2]),
        _licence("RH-L-V1", v, "YS350900000001", "vehicle", f"{V1}-{GREEN}", NAMES[C1], RIDE_VEHICLE_SCOPE,
                 "2025-03-01 10:00:00", "2025-03-01", "2029-02-28", "valid", 1),
        _licence("RH-L-V2", v, "YS350900000002", "vehicle", f"{V2}-{GREEN}", NAMES[C1], RIDE_VEHICLE_SCOPE,
                 "2025-03-01 10:00:00", "2025-03-01", "2029-02-28", "valid", 1),
        _licence("RH-L-D4", q, "WY350203000004", "person", D4, "陈四", RIDE_DRIVER_SCOPE,
                 "2025-06-01 10:00:00", "2025-06-01", "2031-05-31", "valid", 1, holder_phone=PHONE[D4]),
        _licence("RH-L-V4", v, "YS350200000004", "vehicle", f"{V4}-{GREEN}", NAMES[C2], RIDE_VEHICLE_SCOPE,
                 "2025-06-01 10:00:00", "2025-06-01", "2029-05-31", "valid", 1),
        _licence("RH-L-D2", q, "WY350102000002", "person", D2, "陈二", RIDE_DRIVER_SCOPE,
                 "2026-11-10 09:00:00", "2025-03-01", "2031-02-28", "revoked", 2, holder_phone=PHONE[D2]),
        _licence("RH-L-V2", v, "YS350900000002", "vehicle", f"{V2}-{GREEN}", NAMES[C1], RIDE_VEHICLE_SCOPE,
                 "2026-11-20 09:00:00", "2025-03-01", "2029-02-28", "suspended", 2),
    ]  # fmt: skip


def canonical(record: dict) -> str:
    """licences.md "Signature": the record without its signature fields, keys sorted, compact."""
    signed = {k: v for k, v in record.items() if k not in ("signature", "signer_key_id")}
    return json.dumps(signed, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


@dataclass
class Licences:
    private_key: str
    public_key: str
    authorities: list[dict]
    issuance: dict[str, list[str]]  # day folder (received day) -> signed lines

    def write(self, lake: Path) -> None:
        folder = lake / "landing" / "licences" / "authorities" / "2026-01-01"
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "authorities.jsonl").write_text(
            "".join(json.dumps(a, ensure_ascii=False) + "\n" for a in self.authorities), "utf-8"
        )
        for day, lines in self.issuance.items():
            folder = lake / "landing" / "licences" / "issuance" / day
            folder.mkdir(parents=True, exist_ok=True)
            (folder / "issuance.jsonl").write_text("".join(x + "\n" for x in lines), "utf-8")


def build_licences() -> Licences:
    private, public = sm2.generate_keypair()
    authorities = [{"key_id": KEY_ID, "authority_code": AUTHORITY["code"],
                    "authority_name": AUTHORITY["name"], "sm2_public_key": public,
                    "valid_from": "2020-01-01", "valid_to": "2030-12-31"}]  # fmt: skip
    issuance: dict[str, list[str]] = defaultdict(list)
    for record in licence_records():
        signed = dict(record)
        signed["signature"] = sm2.sign(canonical(record).encode("utf-8"), private)
        signed["signer_key_id"] = KEY_ID
        issuance[record["received_at"][:10]].append(json.dumps(signed, ensure_ascii=False))
    return Licences(private, public, authorities, dict(issuance))


@dataclass
class World:
    landing: Landing
    licences: Licences

    def write(self, lake: Path) -> None:
        self.landing.write(lake)
        self.licences.write(lake)

    def location(self, name: str) -> tuple[str, str, str, int]:
        """(interface, day folder, file name, line) of a named record."""
        return self.landing.where[name]


def build() -> World:
    return World(build_landing(), build_licences())

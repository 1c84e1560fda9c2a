"""Records as the interfaces send them: one :class:`Rec` per record (its fields in catalogue order,
its event time, its copies and when each was received, what it is known to fail), built from the
planned static history and a company's day; and the positions' lines, written straight from the
numpy columns (the slow path, :func:`position_fields`, gives the same text for the few points a
defect touches)."""

from __future__ import annotations

import json
from typing import Any

import numpy as np

from transforms.reference.divisions import by_code
from transforms.ridehailing.generate import names
from transforms.ridehailing.generate.names import GMT8_S, f14
from transforms.ridehailing.generate.trips import COMPLETED, Day, Points
from transforms.ridehailing.generate.world import ENCRYPT, StaticRecord, World, common, record
from transforms.ridehailing.interfaces import BY_NAME

# normal delays between the event and its arrival at the industry platform (s), by group
DELAYS = {"static": (10, 5400), "order": (1, 46), "operation": (1, 46), "rated": (5, 121),
          "position": (1, 16)}  # fmt: skip
CANCEL_TYPES = {1: ("PSG01", "乘客取消：行程有变"), 2: ("DRV02", "驾驶员取消：乘客未到上车点"),
                3: ("PLT03", "平台取消：无可派车辆")}  # fmt: skip
DUMPS = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode


class Rec:
    """One record (distinct natural key) and every copy of it that was sent.

    ``fields`` are the values kept (the latest-received copy's); ``recv`` when that copy
    arrived; ``extra`` the other copies as (received, fields or None for the same fields).
    ``incomplete`` / ``nonnormative`` / ``untrue`` say what the record itself was made to fail;
    ``lic`` / ``veh`` the driver / vehicle (index) it names for the checks that need other
    records; ``tags`` why (defect kinds and planned cases)."""

    __slots__ = ("iface", "company", "event", "recv", "fields", "city", "lic", "veh", "tags",
                 "extra", "incomplete", "nonnormative", "untrue", "order")  # fmt: skip

    def __init__(self, iface: str, company: int, event: int, fields: dict[str, Any],
                 city: str | None = None, lic: int | None = None, veh: int | None = None,
                 order: int | None = None) -> None:  # fmt: skip
        self.iface = iface
        self.company = company
        self.event = event
        self.recv = event
        self.fields = fields
        self.city = city
        self.lic = lic
        self.veh = veh
        self.order = order
        self.tags: list[str] = []
        self.extra: list[tuple[int, dict[str, Any] | None]] = []
        self.incomplete = self.nonnormative = self.untrue = False

    @property
    def group(self) -> str:
        return BY_NAME[self.iface].group

    @property
    def first_recv(self) -> int:
        return min([self.recv, *(r for r, _ in self.extra)])

    @property
    def last_recv(self) -> int:
        return max([self.recv, *(r for r, _ in self.extra)])

    def copies(self) -> list[tuple[int, dict[str, Any]]]:
        return [(self.recv, self.fields)] + [(r, f if f is not None else self.fields)
                                             for r, f in self.extra]  # fmt: skip


def line(fields: dict[str, Any], received: int) -> str:
    """A landing line: the fields and received_at."""
    return DUMPS({**fields, "received_at": names.received_text(received)}) + "\n"


def static_rec(sr: StaticRecord) -> Rec:
    rec = Rec(sr.iface, sr.company, sr.t, dict(sr.fields))
    for tag in sr.tags:
        rec.tags.append(tag)
        if tag.startswith("truth:"):
            rec.untrue = True
    return rec


def _dyn(iface: str, cid: str, city: str, t: int, values: dict[str, Any]) -> dict[str, Any]:
    return record(iface, {**common(cid, city, 1, 0, t), **values})


def _xy(point: tuple[float, float]) -> tuple[int, int]:
    return round(point[0] * 1e6), round(point[1] * 1e6)


def day_recs(
    world: World, day: Day, rng: np.random.Generator
) -> tuple[list[Rec], dict[int, dict[str, Rec]]]:
    """Every non-position record of a company's day, and by order the lifecycle records
    (orderCreate, orderMatch, operateDepart, operateArrive) the event-order cases shift."""
    c = day.company
    cid = c.company_id
    ci = c.index
    fare_type = c.fare["FareType"]
    divisions = by_code()
    out: list[Rec] = []
    lifecycle: dict[int, dict[str, Rec]] = {}
    drivers, vehicles = world.drivers, world.vehicles
    for j in range(len(day)):
        oid = day.order_id[j]
        city = day.city[j]
        county = divisions[day.county[j]]
        city_name = divisions[city].name
        d = day.driver[j]
        kind = day.kind[j]
        dep_x, dep_y = _xy(day.dep_xy[j])
        dest_xy = day.dest_xy[j]
        if kind != COMPLETED:  # the destination the passenger asked for
            dest_xy = (dest_xy[0] + 0.021, dest_xy[1] + 0.013)
        dest_x, dest_y = _xy(dest_xy)
        create = day.create[j]
        steps: dict[str, Rec] = {}
        r = Rec("orderCreate", ci, create, _dyn("orderCreate", cid, city, create, {
            "OrderId": oid, "DepartTime": f14(create), "OrderTime": f14(create),
            "Departure": names.place(rng, city_name, county.name), "DepLongitude": dep_x,
            "DepLatitude": dep_y, "Destination": names.place(rng, city_name, county.name),
            "DestLongitude": dest_x, "DestLatitude": dest_y, "FareType": fare_type,
        }), city, order=j)  # fmt: skip
        out.append(r)
        steps["orderCreate"] = r
        if d >= 0:
            drv, veh = drivers[d], vehicles[d]
            match = day.match[j]
            x, y = _xy(day.start_xy[j])
            r = Rec("orderMatch", ci, match, _dyn("orderMatch", cid, city, match, {
                "OrderId": oid, "Longitude": x, "Latitude": y, "LicenseId": drv.license_id,
                "DriverPhone": drv.phone_at(match), "VehicleNo": veh.plate,
                "DistributeTime": f14(match),
            }), city, d, d, order=j)  # fmt: skip
            out.append(r)
            steps["orderMatch"] = r
        if kind != COMPLETED:
            cancel = day.cancel[j]
            op = day.cancel_op[j]
            code, reason = CANCEL_TYPES[op]
            values = {"OrderId": oid, "OrderTime": f14(create), "CancelTime": f14(cancel),
                      "Operator": op, "CancelTypeCode": code}  # fmt: skip
            if rng.random() < 0.7:
                values["CancelReason"] = reason
            out.append(Rec("orderCancel", ci, cancel, _dyn("orderCancel", cid, city, cancel, values),
                           city, order=j))  # fmt: skip
            lifecycle[j] = steps
            continue
        dep, arr, pay = day.dep[j], day.arr[j], day.pay[j]
        r = Rec("operateDepart", ci, dep, _dyn("operateDepart", cid, city, dep, {
            "OrderId": oid, "LicenseId": drv.license_id, "FareType": fare_type,
            "VehicleNo": veh.plate, "DepLongitude": dep_x, "DepLatitude": dep_y,
            "DepTime": f14(dep), "WaitMile": day.wait_km[j], "WaitTime": day.wait_s[j],
        }), city, d, d, order=j)  # fmt: skip
        out.append(r)
        steps["operateDepart"] = r
        r = Rec("operateArrive", ci, arr, _dyn("operateArrive", cid, city, arr, {
            "OrderId": oid, "DestLongitude": dest_x, "DestLatitude": dest_y, "DestTime": f14(arr),
            "DriveMile": day.drive_km[j], "DriveTime": arr - dep,
        }), city, order=j)  # fmt: skip
        out.append(r)
        steps["operateArrive"] = r
        lifecycle[j] = steps
        paid = pay >= 0
        when = pay if paid else arr
        values = {
            "OrderId": oid, "OnArea": county.code, "LicenseId": drv.license_id,
            "VehicleNo": veh.plate, "FareType": fare_type, "DepTime": f14(dep),
            "DestTime": f14(arr), "DriveMile": day.drive_km[j], "DriveTime": arr - dep,
            "FactPrice": day.fact[j], "Price": day.price[j],
            "PayState": "已支付" if paid else "未支付", "OrderMatchTime": f14(day.match[j]),
        }  # fmt: skip
        if paid:
            values["PayTime"] = f14(pay)
        rec = Rec("operatePay", ci, when, _dyn("operatePay", cid, city, when, values), city, d, d,
                  order=j)  # fmt: skip
        if not paid and j % 2 == 0:  # an unpaid trip with no mileage: passes (not paid)
            rec.fields["DriveMile"] = 0.0
            rec.tags.append("trap:unpaid_zero_mile")
        out.append(rec)
    for iface, j, at, values in day.rated:
        city = day.city[j]
        d = day.driver[j]
        own = {"OrderId": day.order_id[j], **values}
        event_field = BY_NAME[iface].event
        own[event_field] = f14(at)
        lic = None
        if iface in ("ratedDriverPunish", "ratedDriver"):
            own["LicenseId"] = drivers[d].license_id
            lic = d
        if iface == "ratedPassenger" and rng.random() < 0.3:
            own["Detail"] = "司机服务很好，车内整洁"
        out.append(Rec(iface, ci, at, _dyn(iface, cid, city, at, own), city, lic, order=j))
    for s in range(len(day.s_driver)):
        d = day.s_driver[s]
        drv, veh = drivers[d], vehicles[d]
        for iface, at, xy, name in (("operateLogin", day.login[s], day.login_xy[s], "LoginTime"),
                                    ("operateLogout", day.logout[s], day.logout_xy[s], "LogoutTime")):  # fmt: skip
            x, y = _xy(xy)
            out.append(Rec(iface, ci, at, _dyn(iface, cid, drv.city, at, {
                "LicenseId": drv.license_id, "VehicleNo": veh.plate, name: f14(at),
                "Longitude": x, "Latitude": y,
            }), drv.city, d, d))  # fmt: skip
    return out, lifecycle


# ---- positions ------------------------------------------------------------------------------


def position_fields(world: World, day: Day, pts: Points, i: int, iface: str) -> dict[str, Any]:
    """One point as a record of ``iface`` (positionDriver / positionVehicle): the fields the
    fast path writes."""
    j = int(pts.order[i])
    d = day.driver[j]
    t = int(pts.t[i])
    drv, veh = world.drivers[d], world.vehicles[d]
    values: dict[str, Any] = {
        **common(day.company.company_id, day.city[j], 1, 0, t), "PositionTime": t - GMT8_S,
        "Longitude": int(pts.lon[i]), "Latitude": int(pts.lat[i]),
        "Direction": int(pts.direction[i]), "Elevation": int(pts.elevation[i]),
        "Speed": int(pts.speed[i]), "BizStatus": int(pts.biz[i]),
    }  # fmt: skip
    if iface == "positionDriver":
        values.update(LicenseId=drv.license_id, VehicleNo=veh.plate)
    else:
        values.update(VehicleNo=veh.plate, VehicleRegionCode=veh.county,
                      Mileage=float(pts.mileage[i]), WarnStatus=0, VehStatus=1)  # fmt: skip
    if pts.biz[i] != 3:
        values["OrderId"] = day.order_id[j]
    return record(iface, values)


def position_text(world: World, day: Day, pts: Points, idx: np.ndarray, recv: np.ndarray,
                  iface: str) -> str:  # fmt: skip
    """The lines of the points ``idx`` (received at ``recv``) as :func:`line` would write
    :func:`position_fields` — without building a dict per point."""
    if not len(idx):
        return ""
    cid = DUMPS(day.company.company_id)
    order = pts.order[idx].tolist()
    t = pts.t[idx]
    days_ = (t // names.DAY_S).tolist()
    sec = (t % names.DAY_S).tolist()
    r = recv[idx]
    rdays = (r // names.DAY_S).tolist()
    rsec = (r % names.DAY_S).tolist()
    unix = (t - GMT8_S).tolist()
    lon, lat = pts.lon[idx].tolist(), pts.lat[idx].tolist()
    direction, elevation = pts.direction[idx].tolist(), pts.elevation[idx].tolist()
    speed, biz = pts.speed[idx].tolist(), pts.biz[idx].tolist()
    day8, day10, hms, hmsc = names.day8, names.day10, names.HMS, names.HMS_COLON
    oid = [DUMPS(o) for o in day.order_id]
    head: dict[int, str] = {}  # per order: the constant start of its lines
    out: list[str] = []
    if iface == "positionDriver":
        for n, j in enumerate(order):
            h = head.get(j)
            if h is None:
                d = day.driver[j]
                h = head[j] = (f'{{"CompanyId":{cid},"Address":"{day.city[j]}","Flag":1,'
                               f'"State":0,"UpdateTime":"')  # fmt: skip
                lic = DUMPS(world.drivers[d].license_id)
                veh = DUMPS(world.vehicles[d].plate)
                head[-1 - j] = f'","Encrypt":{ENCRYPT},"LicenseId":{lic},"VehicleNo":{veh},"PositionTime":'  # fmt: skip
            tail = f',"OrderId":{oid[j]}' if biz[n] != 3 else ""
            out.append(
                f'{h}{day8(days_[n])}{hms[sec[n]]}{head[-1 - j]}{unix[n]},"Longitude":{lon[n]},'
                f'"Latitude":{lat[n]},"Direction":{direction[n]},"Elevation":{elevation[n]},'
                f'"Speed":{speed[n]},"BizStatus":{biz[n]}{tail},'
                f'"received_at":"{day10(rdays[n])} {hmsc[rsec[n]]}"}}\n'
            )
        return "".join(out)
    mileage = pts.mileage[idx].tolist()
    for n, j in enumerate(order):
        h = head.get(j)
        if h is None:
            d = day.driver[j]
            veh = world.vehicles[d]
            h = head[j] = (f'{{"CompanyId":{cid},"Address":"{day.city[j]}","Flag":1,'
                           f'"State":0,"UpdateTime":"')  # fmt: skip
            head[-1 - j] = (f'","Encrypt":{ENCRYPT},"VehicleNo":{DUMPS(veh.plate)},'
                            f'"VehicleRegionCode":"{veh.county}","PositionTime":')  # fmt: skip
        tail = f',"OrderId":{oid[j]}' if biz[n] != 3 else ""
        out.append(
            f'{h}{day8(days_[n])}{hms[sec[n]]}{head[-1 - j]}{unix[n]},"Longitude":{lon[n]},'
            f'"Latitude":{lat[n]},"Speed":{speed[n]},"Direction":{direction[n]},'
            f'"Elevation":{elevation[n]},"Mileage":{mileage[n]!r},"WarnStatus":0,"VehStatus":1,'
            f'"BizStatus":{biz[n]}{tail},"received_at":"{day10(rdays[n])} {hmsc[rsec[n]]}"}}\n'
        )
    return "".join(out)

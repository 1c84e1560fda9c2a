"""The ride-hailing (网约车) interfaces as data: every field with its format, every interface with
its natural key, event time, mandatory fields and timeliness group (../shared/domain/ridehailing.md,
"Interface and exact rules"; field formats from the 总体技术要求 Appendix A).

One catalogue feeds everything: the landing feeds (:mod:`transforms.ridehailing.feeds`), the typing
and the three record-level dimensions (:mod:`transforms.ridehailing.checks`), the GX suites, the
generator and the docs. A field's format is Appendix A's notation:

- ``F<n>`` fixed length n (F14 a time ``YYYYMMDDhhmmss``, F8 a date ``YYYYMMDD``, F6 a GB/T 2260
  division code, F17 a VIN);
- ``V<n>`` text of at most n characters;
- ``N<n>`` a number of at most n digits (``N<n>.<d>``: at most d of them after the point);
- a code table (PlateColor, Flag, State, Encrypt, BizStatus, CommercialType, Gender, Operator);
- coordinates: N10 in 1e-6 degrees, inside China's bounds (rules file) after ×1e-6.

Field names are exactly the interfaces' (CamelCase); the common fields (CompanyId, Address, Flag,
State, UpdateTime, Encrypt) are part of every interface and all mandatory.
"""

from __future__ import annotations

from dataclasses import dataclass

# ---- fields ------------------------------------------------------------------------------------

TEXT, TIME, DATE, UNIX, NUMBER, CODE, COORD, DIVISION = (
    "text", "time", "date", "unix", "number", "code", "coord", "division",
)  # fmt: skip

# code tables (values as the text a record carries)
CODE_TABLES: dict[str, tuple[str, ...]] = {
    "PlateColor": ("1", "2", "3", "4", "5", "9"),  # JT/T 697.7: 蓝 黄 黑 白 绿 其他
    "Flag": ("1", "2", "3"),  # 新增 更新 删除
    "State": ("0", "1"),  # 有效 失效
    "Encrypt": ("0", "1", "2", "3", "4"),  # 其他 GCJ-02 WGS84 BD-09 CGCS2000
    "BizStatus": ("1", "2", "3", "4"),  # 载客 接单 空驶 停运
    "CommercialType": ("1", "2", "3"),  # 网约车 巡游 私人小客车合乘
    "Gender": ("0", "1", "2", "9"),  # GB/T 2261.1: 未知 男 女 未说明
    "Operator": ("1", "2", "3"),  # who cancelled: 乘客 驾驶员 平台公司
}


@dataclass(frozen=True)
class FieldSpec:
    """One field of an interface and the format its values must meet (normativity)."""

    name: str
    kind: str  # TEXT | TIME | DATE | UNIX | NUMBER | CODE | COORD | DIVISION
    length: int  # F/V: characters; N: digits before the point
    fixed: bool = False  # F<n> (exact length) rather than V<n> (at most)
    decimals: int = 0  # NUMBER: digits allowed after the point
    low: float | None = None  # NUMBER: value range (inclusive)
    high: float | None = None
    code_table: str | None = None  # CODE: a key of CODE_TABLES
    axis: str | None = None  # COORD: "lon" | "lat"
    # a time that may lie ahead of its record's reception — a validity end (FareValidOff), a
    # booked departure (orderCreate.DepartTime): exempt from the "future" half of "no 1970 or
    # future times", still checked for "before 2000" (decision: the spec exempts validity ends;
    # a booked departure is ahead by nature as well)
    validity_end: bool = False
    sensitive: str | None = None  # a protection kind (transforms.lake.protection.KINDS)

    @property
    def fmt(self) -> str:
        """Appendix A's notation (``F14``, ``V32``, ``N10.1``)."""
        if self.kind in (NUMBER, COORD, UNIX):
            return f"N{self.length}" + (f".{self.decimals}" if self.decimals else "")
        return f"{'F' if self.fixed else 'V'}{self.length}"


def V(name: str, length: int, sensitive: str | None = None) -> FieldSpec:
    return FieldSpec(name, TEXT, length, sensitive=sensitive)


def F(name: str, length: int) -> FieldSpec:
    return FieldSpec(name, TEXT, length, fixed=True)


def T14(name: str, validity_end: bool = False) -> FieldSpec:
    return FieldSpec(name, TIME, 14, fixed=True, validity_end=validity_end)


def D8(name: str) -> FieldSpec:
    return FieldSpec(name, DATE, 8, fixed=True)


def N(
    name: str, length: int, decimals: int = 0, low: float | None = None, high: float | None = None
) -> FieldSpec:
    return FieldSpec(name, NUMBER, length, decimals=decimals, low=low, high=high)


def C(name: str, table: str | None = None, length: int = 1) -> FieldSpec:
    return FieldSpec(name, CODE, length, code_table=table or name)


def LON(name: str) -> FieldSpec:
    return FieldSpec(name, COORD, 10, axis="lon")


def LAT(name: str) -> FieldSpec:
    return FieldSpec(name, COORD, 10, axis="lat")


def DIV(name: str) -> FieldSpec:
    return FieldSpec(name, DIVISION, 6, fixed=True)


COMMON: tuple[FieldSpec, ...] = (
    V("CompanyId", 32),
    DIV("Address"),
    C("Flag"),
    C("State"),
    T14("UpdateTime"),
    C("Encrypt"),
)
COMMON_NAMES = tuple(f.name for f in COMMON)

# ---- interfaces ----------------------------------------------------------------------------------

STATIC, ORDER, OPERATION, POSITION, RATED = "static", "order", "operation", "position", "rated"
GROUPS = (STATIC, ORDER, OPERATION, POSITION, RATED)
DYNAMIC_GROUPS = (ORDER, OPERATION, POSITION, RATED)


@dataclass(frozen=True)
class Interface:
    """One interface (one landing feed): its own fields (after the common ones), its natural key,
    the field dating a record and the fields it must carry."""

    name: str
    group: str  # STATIC | ORDER | OPERATION | POSITION | RATED (the timeliness limit)
    own_fields: tuple[FieldSpec, ...]
    identity: tuple[
        str, ...
    ]  # identifying fields; the natural key adds CompanyId (and, static, UpdateTime)
    event: str  # the field giving the event time (static: UpdateTime)
    mandatory: tuple[str, ...] = ()  # besides the common fields and the identity
    # mandatory only when this (field, values) condition holds: OrderId of a position in 载客/接单
    conditional: tuple[tuple[str, str, tuple[str, ...]], ...] = ()
    title: str = ""

    @property
    def fields(self) -> tuple[FieldSpec, ...]:
        return (*COMMON, *self.own_fields)

    @property
    def field_names(self) -> tuple[str, ...]:
        return tuple(f.name for f in self.fields)

    def field(self, name: str) -> FieldSpec:
        for f in self.fields:
            if f.name == name:
                return f
        raise KeyError(f"{self.name} has no field {name!r}")

    @property
    def is_static(self) -> bool:
        return self.group == STATIC

    @property
    def key(self) -> tuple[str, ...]:
        """The natural key: a later-received copy of the same key is a re-send, counted once."""
        key = ("CompanyId", *self.identity)
        return (*key, "UpdateTime") if self.is_static else key

    @property
    def required(self) -> tuple[str, ...]:
        """Every field completeness asks for on every record (conditional ones apart)."""
        out: list[str] = []
        for name in (*COMMON_NAMES, *self.identity, *self.mandatory):
            if name not in out:
                out.append(name)
        return tuple(out)

    @property
    def sensitive(self) -> tuple[FieldSpec, ...]:
        return tuple(f for f in self.fields if f.sensitive)


PHONE, ID_NUMBER, NAME = "phone", "id_number", "name"
LICENSE_ID = FieldSpec("LicenseId", TEXT, 32, sensitive=ID_NUMBER)  # 机动车驾驶证号 (= ID number)
DRIVER_PHONE = V("DriverPhone", 32, PHONE)
VEHICLE_NO = V("VehicleNo", 32)
ORDER_ID = V("OrderId", 64)

INTERFACES: tuple[Interface, ...] = (
    # ---- 基础静态数据 ----
    Interface(
        "baseInfoCompany", STATIC,
        (V("CompanyName", 256), V("Identifier", 32), V("BusinessArea", 256),
         V("ContactAddress", 256), V("LegalName", 64, NAME), V("LegalPhone", 32, PHONE)),
        identity=(), event="UpdateTime", title="平台公司基本信息",
    ),
    Interface(
        "baseInfoCompanyStat", STATIC,
        (N("VehicleNum", 10, low=0), N("DriverNum", 10, low=0)),
        identity=(), event="UpdateTime", title="平台公司营运规模",
    ),
    Interface(
        "baseInfoCompanyPay", STATIC,
        (V("PayName", 256), V("PayId", 32), V("PayType", 16)),
        identity=(), event="UpdateTime", title="平台公司支付信息",
    ),
    Interface(
        "baseInfoCompanyService", STATIC,
        (V("ServiceName", 256), V("ServiceNo", 64), V("DetailAddress", 128),
         V("ResponsibleName", 64, NAME), V("ResponsiblePhone", 32, PHONE), D8("CreateDate")),
        identity=(), event="UpdateTime", title="平台公司服务机构",
    ),
    Interface(
        "baseInfoCompanyPermit", STATIC,
        (V("Certificate", 64), V("OperationArea", 128), V("OwnerName", 256),
         V("Organization", 256), D8("StartDate"), D8("StopDate"), D8("CertifyDate")),
        identity=("Address",), event="UpdateTime", title="平台公司经营许可",
    ),
    Interface(
        "baseInfoCompanyFare", STATIC,
        (V("FareType", 16), T14("FareValidOn"), T14("FareValidOff", validity_end=True),
         N("StartFare", 10, 2, low=0), N("StartMile", 10, 1, low=0),
         N("UnitPricePerMile", 10, 2, low=0), N("UnitPricePerMinute", 10, 2, low=0)),
        identity=(), event="UpdateTime", title="平台公司运价信息",
    ),
    Interface(
        "baseInfoVehicle", STATIC,
        (VEHICLE_NO, C("PlateColor"), N("Seats", 3, low=1, high=99), V("Brand", 64),
         V("Model", 64), V("VehicleType", 64), V("OwnerName", 64, NAME), F("VIN", 17),
         V("Certificate", 64), V("TransArea", 256), D8("TransDateStart"), D8("TransDateStop"),
         V("CheckState", 2), D8("RegisterDate"), C("CommercialType")),
        identity=("VehicleNo",), event="UpdateTime",
        mandatory=("PlateColor", "Seats", "Brand", "Model", "VehicleType", "OwnerName", "VIN",
                   "Certificate", "TransArea", "TransDateStart", "TransDateStop", "CheckState",
                   "RegisterDate", "CommercialType"),
        title="车辆基本信息",
    ),
    Interface(
        "baseInfoVehicleInsurance", STATIC,
        (VEHICLE_NO, V("InsurCom", 64), V("InsurNum", 64), V("InsurType", 32),
         N("InsurCount", 10, 2, low=0), D8("InsurEff"), D8("InsurExp")),
        identity=("VehicleNo",), event="UpdateTime", title="车辆保险信息",
    ),
    Interface(
        "baseInfoVehicleTotalMile", STATIC,
        (VEHICLE_NO, N("TotalMile", 10, 1, low=0)),
        identity=("VehicleNo",), event="UpdateTime", title="车辆里程信息",
    ),
    Interface(
        "baseInfoDriver", STATIC,
        (LICENSE_ID, V("DriverName", 64, NAME), DRIVER_PHONE, C("Gender"), D8("Birthday"),
         V("CertificateNo", 128), D8("NetworkCarIssueDate"), D8("GetNetworkCarProofOn"),
         D8("GetNetworkCarProofOff"), V("ContractCompany", 256), D8("ContractOn"),
         D8("ContractOff")),
        identity=("LicenseId",), event="UpdateTime",
        mandatory=("DriverPhone", "Gender", "Birthday", "CertificateNo", "NetworkCarIssueDate",
                   "GetNetworkCarProofOn", "GetNetworkCarProofOff", "ContractCompany",
                   "ContractOn", "ContractOff"),
        title="驾驶员基本信息",
    ),
    Interface(
        "baseInfoDriverEducate", STATIC,
        (LICENSE_ID, V("CourseName", 64), D8("CourseDate"), N("Duration", 5, low=0)),
        identity=("LicenseId",), event="UpdateTime", title="驾驶员培训信息",
    ),
    Interface(
        "baseInfoDriverApp", STATIC,
        (LICENSE_ID, DRIVER_PHONE, N("NetType", 1, low=1, high=4), V("AppVersion", 32),
         N("MapType", 1, low=1, high=4)),
        identity=("LicenseId",), event="UpdateTime", title="驾驶员移动终端信息",
    ),
    Interface(
        "baseInfoDriverStat", STATIC,
        (LICENSE_ID, N("Cycle", 6), N("OrderCount", 10, low=0),
         N("TrafficViolationCount", 10, low=0), N("ComplainedCount", 10, low=0)),
        identity=("LicenseId",), event="UpdateTime", title="驾驶员统计信息",
    ),
    Interface(
        "baseInfoPassenger", STATIC,
        (V("PassengerPhone", 32, PHONE), V("PassengerName", 64, NAME), D8("RegisterDate"),
         C("PassengerGender", "Gender")),
        identity=("PassengerPhone",), event="UpdateTime", title="乘客基本信息",
    ),
    # ---- 订单 ----
    Interface(
        "orderCreate", ORDER,
        (ORDER_ID, T14("DepartTime", validity_end=True), T14("OrderTime"), V("Departure", 128),
         LON("DepLongitude"), LAT("DepLatitude"), V("Destination", 128), LON("DestLongitude"),
         LAT("DestLatitude"), V("FareType", 16)),
        identity=("OrderId",), event="OrderTime",
        mandatory=("DepartTime", "OrderTime", "Departure", "DepLongitude", "DepLatitude",
                   "Destination", "DestLongitude", "DestLatitude", "FareType"),
        title="订单发起",
    ),
    Interface(
        "orderMatch", ORDER,
        (ORDER_ID, LON("Longitude"), LAT("Latitude"), LICENSE_ID, DRIVER_PHONE, VEHICLE_NO,
         T14("DistributeTime")),
        identity=("OrderId",), event="DistributeTime",
        mandatory=("LicenseId", "VehicleNo", "DistributeTime"),
        title="订单成功",
    ),
    Interface(
        "orderCancel", ORDER,
        (ORDER_ID, T14("OrderTime"), T14("CancelTime"), C("Operator"), V("CancelTypeCode", 32),
         V("CancelReason", 128)),
        identity=("OrderId",), event="CancelTime",
        mandatory=("CancelTime", "Operator", "CancelTypeCode"),
        title="订单撤销",
    ),
    # ---- 经营 ----
    Interface(
        "operateLogin", OPERATION,
        (LICENSE_ID, VEHICLE_NO, T14("LoginTime"), LON("Longitude"), LAT("Latitude")),
        identity=("LicenseId", "LoginTime"), event="LoginTime", title="车辆经营上线",
    ),
    Interface(
        "operateLogout", OPERATION,
        (LICENSE_ID, VEHICLE_NO, T14("LogoutTime"), LON("Longitude"), LAT("Latitude")),
        identity=("LicenseId", "LogoutTime"), event="LogoutTime", title="车辆经营下线",
    ),
    Interface(
        "operateDepart", OPERATION,
        (ORDER_ID, LICENSE_ID, V("FareType", 16), VEHICLE_NO, LON("DepLongitude"),
         LAT("DepLatitude"), T14("DepTime"), N("WaitMile", 10, 1, low=0),
         N("WaitTime", 10, low=0)),
        identity=("OrderId",), event="DepTime",
        mandatory=("DepTime", "WaitMile", "WaitTime"),
        title="经营出发",
    ),
    Interface(
        "operateArrive", OPERATION,
        (ORDER_ID, LON("DestLongitude"), LAT("DestLatitude"), T14("DestTime"),
         N("DriveMile", 10, 1, low=0), N("DriveTime", 10, low=0)),
        identity=("OrderId",), event="DestTime",
        mandatory=("DestTime", "DriveMile", "DriveTime"),
        title="经营到达",
    ),
    Interface(
        "operatePay", OPERATION,
        (ORDER_ID, DIV("OnArea"), LICENSE_ID, VEHICLE_NO, V("FareType", 16), T14("DepTime"),
         T14("DestTime"), N("DriveMile", 10, 1, low=0), N("DriveTime", 10, low=0),
         N("FactPrice", 10, 2, low=0), N("Price", 10, 2, low=0), V("PayState", 32),
         T14("PayTime"), T14("OrderMatchTime")),
        identity=("OrderId",), event="PayTime",  # or DestTime when unpaid (checks.event_time)
        # PayTime is mandatory only when paid, and "paid" means PayTime is present: never required
        mandatory=("OnArea", "DepTime", "DestTime", "DriveMile", "DriveTime", "FactPrice",
                   "Price", "PayState", "OrderMatchTime"),
        title="经营支付",
    ),
    # ---- 定位 ----
    Interface(
        "positionDriver", POSITION,
        (LICENSE_ID, VEHICLE_NO, N("PositionTime", 10), LON("Longitude"), LAT("Latitude"),
         N("Direction", 3, low=0, high=359), N("Elevation", 5, low=-500, high=9000),
         N("Speed", 3, low=0, high=300), C("BizStatus"), ORDER_ID),
        identity=("LicenseId", "PositionTime"), event="PositionTime",
        mandatory=("Longitude", "Latitude", "Direction", "Elevation", "Speed", "BizStatus"),
        conditional=(("OrderId", "BizStatus", ("1", "2")),),
        title="驾驶员定位",
    ),
    Interface(
        "positionVehicle", POSITION,
        (VEHICLE_NO, DIV("VehicleRegionCode"), N("PositionTime", 10), LON("Longitude"),
         LAT("Latitude"), N("Speed", 3, low=0, high=300), N("Direction", 3, low=0, high=359),
         N("Elevation", 5, low=-500, high=9000), N("Mileage", 10, 1, low=0),
         N("WarnStatus", 10, low=0), N("VehStatus", 10, low=0), C("BizStatus"), ORDER_ID),
        identity=("VehicleNo", "PositionTime"), event="PositionTime",
        mandatory=("VehicleRegionCode", "Longitude", "Latitude", "Speed", "Direction",
                   "Elevation", "Mileage", "WarnStatus", "VehStatus", "BizStatus"),
        conditional=(("OrderId", "BizStatus", ("1", "2")),),
        title="车辆定位",
    ),
    # ---- 服务质量 ----
    Interface(
        "ratedPassenger", RATED,
        (ORDER_ID, T14("EvaluateTime"), N("ServiceScore", 1, low=1, high=5),
         N("DriverScore", 1, low=1, high=5), N("VehicleScore", 1, low=1, high=5),
         V("Detail", 128)),
        identity=("OrderId",), event="EvaluateTime",
        mandatory=("EvaluateTime", "ServiceScore", "DriverScore", "VehicleScore"),
        title="乘客评价",
    ),
    Interface(
        "ratedPassengerComplaint", RATED,
        (ORDER_ID, T14("ComplaintTime"), V("Detail", 256), V("Result", 128)),
        identity=("OrderId",), event="ComplaintTime",
        mandatory=("ComplaintTime", "Detail", "Result"),
        title="乘客投诉",
    ),
    Interface(
        "ratedDriverPunish", RATED,
        (ORDER_ID, LICENSE_ID, T14("PunishTime"), V("PunishReason", 128),
         V("PunishResult", 128)),
        identity=("OrderId",), event="PunishTime",
        mandatory=("LicenseId", "PunishTime", "PunishReason", "PunishResult"),
        title="驾驶员处罚",
    ),
    Interface(
        "ratedDriver", RATED,
        (ORDER_ID, LICENSE_ID, T14("EvaluateTime"), N("Level", 1, low=1, high=5)),
        identity=("OrderId",), event="EvaluateTime",
        mandatory=("LicenseId", "EvaluateTime", "Level"),
        title="驾驶员信誉",
    ),
)  # fmt: skip

BY_NAME: dict[str, Interface] = {i.name: i for i in INTERFACES}

# the event order of an order's lifecycle (truthfulness): in each pair the later interface's event
# time must not be before the earlier one's; when it is, the later record fails
EVENT_ORDER: tuple[tuple[str, str], ...] = (
    ("orderCreate", "orderMatch"),
    ("orderMatch", "operateDepart"),
    ("operateDepart", "operateArrive"),
)

# outage notices (停运报备): not evaluated, they make back-filled records timely
OUTAGE_FIELDS = ("CompanyId", "planned", "notified_at", "start", "end")


def interface(name: str) -> Interface:
    """The interface called ``name`` (CamelCase, as in the landing folder)."""
    try:
        return BY_NAME[name]
    except KeyError:
        raise KeyError(f"unknown ride-hailing interface {name!r}") from None

"""The documents inside freight envelopes (freight.md "Waybill", "Fund flow", "Vehicle / driver",
"Fine print"): their field rules (result code 3005) and their flattening into the silver tables.

Field rules are data (:data:`FIELD_RULES`): per document kind, the fields that must be present and
the form each must have. :func:`check_fields` applies them to the decoded documents of an envelope
(the first broken rule is the envelope's 3005 reason); :func:`flatten` turns the documents of
accepted envelopes into one Arrow table per silver table, every value as text (typed in Spark,
:mod:`transforms.freight.typing`), each row carrying its envelope's lineage and its index in the
body. Nested lists become child tables (a waybill's vehicles, their drivers; a fund flow's
waybills and payments).
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import pyarrow as pa

from transforms.crypto import sm3
from transforms.lake.landing import as_text
from transforms.lake.protection import Sensitive

WAYBILL, FUND_FLOW, VEHICLE, DRIVER = "waybill", "fund_flow", "vehicle", "driver"
KINDS = (WAYBILL, FUND_FLOW, VEHICLE, DRIVER)


# ---- field rules (3005) --------------------------------------------------------------------


@dataclass(frozen=True)
class FieldRule:
    """``path`` (``a``, ``list[].b``) must be present and of ``form``: ``text`` (a non-empty
    string or number, at most ``max_length`` characters), ``n14`` (YYYYMMDDhhmmss, a real time),
    ``number`` (a JSON number or numeric string), ``uscc`` (rules ``fields.uscc_pattern``),
    ``list`` (a non-empty array)."""

    path: str
    form: str = "text"


FIELD_RULES: dict[str, tuple[FieldRule, ...]] = {
    WAYBILL: (
        FieldRule("originalDocumentNumber"),
        FieldRule("shippingNoteNumber"),
        FieldRule("serialNumber"),
        FieldRule("unifiedSocialCreditIdentifier", "uscc"),
        FieldRule("despatchActualDateTime", "n14"),
        FieldRule("goodsReceiptDateTime", "n14"),
        FieldRule("totalMonetaryAmount", "number"),
        FieldRule("vehicleInfo", "list"),
        FieldRule("vehicleInfo[].vehicleNumber"),
    ),
    FUND_FLOW: (
        FieldRule("documentNumber"),
        FieldRule("shippingNoteList", "list"),
        FieldRule("financiallist", "list"),
        FieldRule("financiallist[].monetaryAmount", "number"),
        FieldRule("financiallist[].dateTime", "n14"),
    ),
    VEHICLE: (FieldRule("vehicleNumber"), FieldRule("vehiclePlateColorCode")),
    DRIVER: (FieldRule("drivingLicense"),),
}


def parse_n14(value: Any) -> dt.datetime | None:
    """``YYYYMMDDhhmmss`` (GMT+8 wall clock) → datetime; None for anything else."""
    if isinstance(value, int) and not isinstance(value, bool):
        value = str(value)
    if not isinstance(value, str) or len(value) != 14 or not value.isdigit():
        return None
    try:
        return dt.datetime.strptime(value, "%Y%m%d%H%M%S")
    except ValueError:
        return None


def _is_number(value: Any) -> bool:
    if isinstance(value, bool):
        return False
    if isinstance(value, (int, float)):
        return value == value and value not in (float("inf"), float("-inf"))
    if isinstance(value, str):
        try:
            return _is_number(float(value))
        except ValueError:
            return False
    return False


def _values(document: Mapping[str, Any], path: str) -> list[tuple[str, Any]]:
    """(where, value) of every value at ``path`` (``list[].field`` visits each element)."""
    if "[]." not in path:
        return [(path, document.get(path))]
    head, rest = path.split("[].", 1)
    items = document.get(head)
    if not isinstance(items, list):
        return []  # the list's own rule reports it
    out = []
    for i, item in enumerate(items):
        value = item.get(rest) if isinstance(item, dict) else None
        out.append((f"{head}[{i}].{rest}", value))
    return out


def _broken(rule: FieldRule, value: Any, rules: Mapping[str, Any]) -> str | None:
    """Why ``value`` breaks ``rule`` (None: it does not)."""
    if value is None or value == "" or value == []:
        return "missing"
    form = rule.form
    if form == "list":
        return None if isinstance(value, list) else "not an array"
    if form == "n14":
        return None if parse_n14(value) else f"not YYYYMMDDhhmmss: {str(value)[:20]!r}"
    if form == "number":
        return None if _is_number(value) else f"not a number: {str(value)[:20]!r}"
    if isinstance(value, (dict, list, bool)):
        return "not a string"
    text = str(value)
    if form == "uscc" and not re.fullmatch(rules["uscc_pattern"], text):
        return f"not a 统一社会信用代码: {text[:20]!r}"
    field = rule.path.rsplit(".", 1)[-1]
    limit = rules.get("max_lengths", {}).get(field)
    if limit is not None and len(text) > int(limit):
        return f"longer than {limit} characters"
    return None


def document_kind(ipc_type: str | None, rules: Mapping[str, Any]) -> str | None:
    """The document kind an interface code carries (rules ``interfaces``), None if unknown."""
    return rules["interfaces"].get(ipc_type) if ipc_type else None


def rule_name(rule: FieldRule) -> str:
    """A rule's name, also a column name: ``vehicleInfo[].vehicleNumber`` → ``vehicleInfo_vehicleNumber``."""
    return rule.path.replace("[].", "_")


def document_failures(
    kind: str, document: Mapping[str, Any], rules: Mapping[str, Any]
) -> list[tuple[str, str]]:
    """(rule name, where and why) of every field rule of ``kind`` the document breaks, in rule
    order (a rule is named once, at its first failing element)."""
    form_rules = rules["fields"]
    out = []
    for rule in FIELD_RULES[kind]:
        for where, value in _values(document, rule.path):
            why = _broken(rule, value, form_rules)
            if why is not None:
                out.append((rule_name(rule), f"{where} {why}"))
                break
    return out


def check_fields(
    ipc_type: str | None, documents: Sequence[Mapping[str, Any]], rules: Mapping[str, Any]
) -> str | None:
    """The first field rule the envelope's documents break, as its 3005 reason; None if none.
    An unknown interface code and an empty array are field errors too (decision: the envelope
    then carries no document the platform can take)."""
    kind = document_kind(ipc_type, rules)
    if kind is None:
        return f"unknown interface (ipcType) {ipc_type!r}"
    if not documents:
        return "the body holds no document"
    for number, document in enumerate(documents):
        failures = document_failures(kind, document, rules)
        if failures:
            return f"{kind} {number}: {failures[0][1]}"
    return None


# ---- flattening ----------------------------------------------------------------------------

# the envelope context every document row carries
CONTEXT = (
    "_file_sm3", "_line", "document_index", "message_reference_number", "enterprise_sender_code",
    "message_sending_time", "received_at",
)  # fmt: skip

# (column, source field) of each kind; a dotted source reads a nested object
WAYBILL_COLUMNS = (
    ("original_document_number", "originalDocumentNumber"),
    ("shipping_note_number", "shippingNoteNumber"),
    ("serial_number", "serialNumber"),
    ("vehicle_amount", "vehicleAmount"),
    ("transport_type_code", "transportTypeCode"),
    ("send_to_pro_time", "sendToProDateTime"),
    ("carrier", "carrier"),
    ("uscc", "unifiedSocialCreditIdentifier"),
    ("permit_number", "permitNumber"),
    ("consignment_time", "consignmentDateTime"),
    ("business_type_code", "businessTypeCode"),
    ("despatch_time", "despatchActualDateTime"),
    ("receipt_time", "goodsReceiptDateTime"),
    ("consignor_name", "consignorInfo.consignor"),
    ("consignor_id", "consignorInfo.consignorID"),
    ("consignor_place", "consignorInfo.placeOfLoading"),
    ("consignor_county", "consignorInfo.countrySubdivisionCode"),
    ("consignee_name", "consigneeInfo.consignee"),
    ("consignee_id", "consigneeInfo.consigneeID"),
    ("consignee_place", "consigneeInfo.goodsReceiptPlace"),
    ("consignee_county", "consigneeInfo.countrySubdivisionCode"),
    ("total_monetary_amount", "totalMonetaryAmount"),
    ("actual_carrier_name", "actualCarrierName"),
    ("actual_carrier_business_license", "actualCarrierBusinessLicense"),
    ("actual_carrier_id", "actualCarrierID"),
    ("insurance_policy_number", "insuranceInformation.policyNumber"),
    ("insurance_company_code", "insuranceInformation.insuranceCompanyCode"),
)
WAYBILL_VEHICLE_COLUMNS = (
    ("vehicle_number", "vehicleNumber"),
    ("plate_color", "vehiclePlateColorCode"),
    ("loading_place", "placeOfLoading"),
    ("loading_county", "loadingCountrySubdivisionCode"),
    ("loading_time", "loadingDateTime"),
    ("receipt_place", "goodsReceiptPlace"),
    ("receipt_county", "receiptCountrySubdivisionCode"),
    ("receipt_time", "receiptDateTime"),
)
WAYBILL_DRIVER_COLUMNS = (("driver_name", "driverName"), ("driving_license", "drivingLicense"))
FUND_FLOW_COLUMNS = (
    ("document_number", "documentNumber"),
    ("send_to_pro_time", "sendToProDateTime"),
    ("carrier", "carrier"),
    ("actual_carrier_id", "actualCarrierID"),
    ("vehicle_number", "vehicleNumber"),
    ("plate_color", "vehiclePlateColorCode"),
)
ENTRY_COLUMNS = (
    ("shipping_note_number", "shippingNoteNumber"),
    ("serial_number", "serialNumber"),
    ("total_monetary_amount", "totalMonetaryAmount"),
)
PAYMENT_COLUMNS = (
    ("payment_means_code", "paymentMeansCode"),
    ("recipient", "recipient"),
    ("receipt_account", "receiptAccount"),
    ("bank_code", "bankCode"),
    ("sequence_code", "sequenceCode"),
    ("monetary_amount", "monetaryAmount"),
    ("date_time", "dateTime"),
)
VEHICLE_COLUMNS = (
    ("vehicle_number", "vehicleNumber"),
    ("plate_color", "vehiclePlateColorCode"),
    ("vehicle_type", "vehicleType"),
    ("owner", "owner"),
    ("use_character", "useCharacter"),
    ("vin", "VIN"),
    ("issuing_organizations", "issuingOrganizations"),
    ("register_date", "registerDate"),
    ("issue_date", "issueDate"),
    ("energy_type", "vehicleEnergyType"),
    ("vehicle_tonnage", "vehicleTonnage"),
    ("gross_mass", "grossMass"),
    ("road_transport_certificate_number", "roadTransportCertificateNumber"),
    ("trailer_plate", "trailerVehiclePlateNumber"),
)
DRIVER_COLUMNS = (
    ("driver_name", "driverName"),
    ("driving_license", "drivingLicense"),
    ("vehicle_class", "vehicleClass"),
    ("issuing_organizations", "issuingOrganizations"),
    ("valid_period_from", "validPeriodFrom"),
    ("valid_period_to", "validPeriodTo"),
    ("qualification_certificate", "qualificationCertificate"),
    ("telephone", "telephone"),
)

# personal fields of the documents: kept only encrypted, hashed and masked in silver (a consignor
# or an actual carrier may be a person; fail-safe, the names and IDs of all are protected)
SENSITIVE: dict[str, tuple[Sensitive, ...]] = {
    "waybills": (
        Sensitive("consignor_name", "name"),
        Sensitive("consignor_id", "id_number"),
        Sensitive("consignee_name", "name"),
        Sensitive("consignee_id", "id_number"),
        Sensitive("actual_carrier_name", "name"),
        Sensitive("actual_carrier_id", "id_number"),
    ),
    "waybill_drivers": (
        Sensitive("driver_name", "name"),
        Sensitive("driving_license", "id_number"),
    ),
    "fund_flows": (Sensitive("actual_carrier_id", "id_number"),),
    "payments": (Sensitive("recipient", "name"), Sensitive("receipt_account", "account")),
    "vehicles": (Sensitive("owner", "name"),),
    "drivers": (
        Sensitive("driver_name", "name"),
        Sensitive("driving_license", "id_number"),
        Sensitive("telephone", "phone"),
    ),
}

# silver table entity → (its own columns, extra columns) in row order
TABLE_COLUMNS: dict[str, tuple[str, ...]] = {
    "waybills": (
        *CONTEXT, *(c for c, _ in WAYBILL_COLUMNS), "vehicle_count", "gross_weight_kg",
        "document_sm3",
    ),
    "waybill_vehicles": (
        *CONTEXT, "vehicle_index", *(c for c, _ in WAYBILL_VEHICLE_COLUMNS), "gross_weight_kg",
        "cube_m3", "packages", "goods_description",
    ),
    "waybill_drivers": (
        *CONTEXT, "vehicle_index", "driver_index", *(c for c, _ in WAYBILL_DRIVER_COLUMNS),
    ),
    "fund_flows": (*CONTEXT, *(c for c, _ in FUND_FLOW_COLUMNS), "document_sm3"),
    "fund_flow_waybills": (*CONTEXT, "entry_index", *(c for c, _ in ENTRY_COLUMNS)),
    "payments": (*CONTEXT, "payment_index", *(c for c, _ in PAYMENT_COLUMNS)),
    "vehicles": (*CONTEXT, *(c for c, _ in VEHICLE_COLUMNS), "document_sm3"),
    "drivers": (*CONTEXT, *(c for c, _ in DRIVER_COLUMNS), "document_sm3"),
}  # fmt: skip
KIND_TABLES = {
    WAYBILL: ("waybills", "waybill_vehicles", "waybill_drivers"),
    FUND_FLOW: ("fund_flows", "fund_flow_waybills", "payments"),
    VEHICLE: ("vehicles",),
    DRIVER: ("drivers",),
}


def _get(obj: Any, source: str) -> str | None:
    for part in source.split("."):
        if not isinstance(obj, dict):
            return None
        obj = obj.get(part)
    return as_text(obj)


def _pick(obj: Any, columns: Iterable[tuple[str, str]]) -> dict[str, str | None]:
    return {column: _get(obj, source) for column, source in columns}


def document_digest(document: Mapping[str, Any]) -> str:
    """SM3 of the document's canonical JSON: equal for a re-sent identical document whatever
    the key order or spacing of the body it came in."""
    text = json.dumps(document, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return sm3.sm3_bytes(text.encode("utf-8", "surrogatepass"))


def _sum(items: Iterable[Any], name: str) -> str | None:
    total, seen = 0.0, False
    for item in items:
        value = item.get(name) if isinstance(item, dict) else None
        if _is_number(value):
            total += float(value)
            seen = True
    return repr(total) if seen else None


def _list(obj: Mapping[str, Any], name: str) -> list[Any]:
    value = obj.get(name)
    return value if isinstance(value, list) else []


class Flattener:
    """Collects the rows of every silver document table, envelope by envelope."""

    def __init__(self) -> None:
        self.rows: dict[str, list[dict[str, str | int | None]]] = {t: [] for t in TABLE_COLUMNS}

    def add(self, kind: str, context: Mapping[str, Any], documents: Sequence[Mapping]) -> None:
        """The documents of one accepted envelope (``context``: its CONTEXT values but
        document_index)."""
        for index, document in enumerate(documents):
            base = {**context, "document_index": index}
            getattr(self, f"_{kind}")(base, document)

    def _waybill(self, base: dict, doc: Mapping[str, Any]) -> None:
        vehicles = _list(doc, "vehicleInfo")
        weights = []
        for v_index, vehicle in enumerate(vehicles):
            vehicle = vehicle if isinstance(vehicle, dict) else {}
            goods = _list(vehicle, "goodsInfo")
            weight = _sum(goods, "goodsItemGrossWeight")
            weights.append(weight)
            first = goods[0] if goods and isinstance(goods[0], dict) else {}
            self.rows["waybill_vehicles"].append(
                {
                    **base,
                    "vehicle_index": v_index,
                    **_pick(vehicle, WAYBILL_VEHICLE_COLUMNS),
                    "gross_weight_kg": weight,
                    "cube_m3": _sum(goods, "cube"),
                    "packages": _sum(goods, "totalNumberOfPackages"),
                    "goods_description": as_text(first.get("descriptionOfGoods")),
                }
            )
            for d_index, driver in enumerate(_list(vehicle, "driver")):
                self.rows["waybill_drivers"].append(
                    {
                        **base,
                        "vehicle_index": v_index,
                        "driver_index": d_index,
                        **_pick(driver, WAYBILL_DRIVER_COLUMNS),
                    }
                )
        known = [float(w) for w in weights if w is not None]
        self.rows["waybills"].append(
            {
                **base,
                **_pick(doc, WAYBILL_COLUMNS),
                "vehicle_count": str(len(vehicles)),
                "gross_weight_kg": repr(sum(known)) if known else None,
                "document_sm3": document_digest(doc),
            }
        )

    def _fund_flow(self, base: dict, doc: Mapping[str, Any]) -> None:
        for e_index, entry in enumerate(_list(doc, "shippingNoteList")):
            self.rows["fund_flow_waybills"].append(
                {**base, "entry_index": e_index, **_pick(entry, ENTRY_COLUMNS)}
            )
        for p_index, payment in enumerate(_list(doc, "financiallist")):
            self.rows["payments"].append(
                {**base, "payment_index": p_index, **_pick(payment, PAYMENT_COLUMNS)}
            )
        self.rows["fund_flows"].append(
            {**base, **_pick(doc, FUND_FLOW_COLUMNS), "document_sm3": document_digest(doc)}
        )

    def _vehicle(self, base: dict, doc: Mapping[str, Any]) -> None:
        self.rows["vehicles"].append(
            {**base, **_pick(doc, VEHICLE_COLUMNS), "document_sm3": document_digest(doc)}
        )

    def _driver(self, base: dict, doc: Mapping[str, Any]) -> None:
        self.rows["drivers"].append(
            {**base, **_pick(doc, DRIVER_COLUMNS), "document_sm3": document_digest(doc)}
        )

    def tables(self) -> dict[str, pa.Table]:
        """One Arrow table per silver document table: ``_line`` and the indexes as int64, every
        other column as text."""
        out = {}
        for name, columns in TABLE_COLUMNS.items():
            rows = self.rows[name]
            arrays = []
            for column in columns:
                kind = pa.int64() if column == "_line" or column.endswith("_index") else pa.string()
                values = [r.get(column) for r in rows]
                if kind == pa.string():
                    values = [None if v is None else str(v) for v in values]
                arrays.append(pa.array(values, kind))
            out[name] = pa.Table.from_arrays(arrays, names=list(columns))
        return out

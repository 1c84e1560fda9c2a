"""The gold tables of the 车辆/企业画像 dashboard: every vehicle's and every enterprise's
`lakehouse profile` (:mod:`transforms.profile`), flattened into rows.

The rows are made from the profile objects themselves — the rules (which waybill version counts,
which licence is valid on the day, which rectification item is still open, …) live only in
transforms/profile.py — so the dashboard cannot show another number than the command prints for
the same subject and day. Every row carries its subject (``subject_kind`` vehicle | enterprise,
``subject_key`` ``plate|colour`` or the USCC, the labels the dashboard's filters offer) and the
GB/T 2260 code of the subject's region (access.md: the row-level security of its datasets):

- a vehicle: the county of its current telematics version, else the registration area of its
  latest ride-hailing version, else none (the province's: an unregistered vehicle);
- an enterprise: the county of its current telematics version, else its ride-hailing company's
  registration area, else the registration authority's division in its USCC (characters 3–8),
  else none.

The subjects: every (plate, colour) of the telematics register and facts, the vehicle licences,
the freight vehicle documents and waybills, and the ride-hailing vehicles (baseInfoVehicle, with
its PlateColor; an order alone names no colour); every USCC of the telematics enterprises and
vehicles, the freight senders, the ride-hailing companies (Identifier) and the organisation
licences.

    gold.profile__parts          one row per subject and part: the period it covers, its counts
    gold.profile__counts         the parts' breakdowns (violations by kind, anomalies by type,
                                 orders by status and by company)
    gold.profile__licences, __violations, __scores, __waybills, __anomalies, __rectification,
    gold.profile__master         the parts' lists, in the command's order (``seq``)

The job (:func:`build_profile_tables`) reads the lake's tables once (:func:`transforms.profile.
loaded`) and overwrites the nine tables; it needs no engine.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import pyarrow as pa
from deltalake import DeltaTable, write_deltalake

from transforms.lake import registry
from transforms.profile import ProfileError, enterprise_profile, loaded, vehicle_profile

PARTS = ("master", "licences", "telematics", "freight", "ridehailing", "rectification")
PLATE_COLOURS = {1: "蓝", 2: "黄", 3: "黑", 4: "白", 5: "绿", 9: "其他"}  # JT/T 697.7
_CODE = re.compile(r"^[1-9][0-9]{5}$")  # GB/T 2260
TS = pa.timestamp("us", tz="UTC")  # GMT+8 wall clock, as every timestamp of the lake

# every table: who the row is about and the subject's region (row-level security)
SUBJECT = [
    ("subject_kind", pa.string()), ("subject_key", pa.string()), ("plate", pa.string()),
    ("uscc", pa.string()), ("vehicle", pa.string()),
    ("enterprise", pa.string()), ("region_code", pa.string()), ("county_code", pa.string()),
    ("city_code", pa.string()), ("province_code", pa.string()),
]  # fmt: skip
_COUNTS = ("licences", "valid_licences", "master_records", "days_online", "points",
           "qualified_points", "vehicles", "violations", "waybills", "anomalies", "orders",
           "open_items")  # fmt: skip
SCHEMAS: dict[str, pa.Schema] = {
    "gold.profile__parts": pa.schema(SUBJECT + [
        ("part", pa.string()), ("part_order", pa.int32()), ("covers_from", pa.date32()),
        ("covers_to", pa.date32()), ("summary", pa.string()), ("as_of", pa.date32()),
        ("km", pa.float64()),
    ] + [(c, pa.int64()) for c in _COUNTS]),
    "gold.profile__counts": pa.schema(SUBJECT + [
        ("part", pa.string()), ("breakdown", pa.string()), ("item", pa.string()),
        ("quantity", pa.int64()),
    ]),
    "gold.profile__licences": pa.schema(SUBJECT + [
        ("seq", pa.int32()), ("licence_no", pa.string()), ("licence_type", pa.string()),
        ("scope", pa.string()), ("status", pa.string()), ("version", pa.int32()),
        ("valid_from", pa.date32()), ("valid_to", pa.date32()),
        ("issuing_authority_name", pa.string()), ("valid_on", pa.bool_()), ("as_of", pa.date32()),
    ]),
    "gold.profile__violations": pa.schema(SUBJECT + [
        ("seq", pa.int32()), ("day", pa.date32()), ("kind", pa.string()),
        ("vehicle_plate", pa.string()), ("vehicle_plate_color", pa.int32()), ("start_at", TS),
        ("end_at", TS), ("max_speed", pa.float64()), ("limit_kmh", pa.float64()),
        ("minutes", pa.float64()),
    ]),
    "gold.profile__scores": pa.schema(SUBJECT + [
        ("seq", pa.int32()), ("source", pa.string()), ("scored_id", pa.string()),
        ("scored_name", pa.string()), ("period_type", pa.string()), ("period", pa.string()),
        ("score", pa.float64()), ("passed", pa.bool_()), ("score_rank", pa.int64()),
        ("transmitted", pa.bool_()), ("detail", pa.string()),
    ]),
    "gold.profile__waybills": pa.schema(SUBJECT + [
        ("seq", pa.int32()), ("shipping_note_number", pa.string()),
        ("serial_number", pa.string()), ("enterprise_sender_code", pa.string()),
        ("carrier", pa.string()), ("despatch_time", TS), ("receipt_time", TS),
        ("gross_weight_kg", pa.float64()), ("total_monetary_amount", pa.float64()),
    ]),
    "gold.profile__anomalies": pa.schema(SUBJECT + [
        ("seq", pa.int32()), ("anomaly_id", pa.string()), ("operator_id", pa.string()),
        ("anomaly_type", pa.string()), ("document_kind", pa.string()),
        ("document_key", pa.string()), ("rule", pa.string()), ("event_time", TS),
        ("status", pa.string()),
    ]),
    "gold.profile__rectification": pa.schema(SUBJECT + [
        ("seq", pa.int32()), ("item_id", pa.string()), ("period", pa.string()),
        ("level", pa.string()), ("item_subject_id", pa.string()),
        ("item_subject_name", pa.string()), ("problem", pa.string()), ("status", pa.string()),
        ("issued_on", pa.date32()), ("report_due", pa.date32()), ("rectify_until", pa.date32()),
    ]),
    "gold.profile__master": pa.schema(SUBJECT + [
        ("seq", pa.int32()), ("source", pa.string()), ("belongs_to", pa.string()),
        ("name", pa.string()), ("region", pa.string()), ("kind", pa.string()),
        ("status", pa.string()), ("valid_from", pa.string()), ("valid_to", pa.string()),
        ("detail", pa.string()),
    ]),
}  # fmt: skip
TABLES = tuple(SCHEMAS)


# ---- who: the subjects and their region -------------------------------------------------------


def _read(lake: Path, name: str, columns: list[str]) -> list[dict[str, Any]]:
    table = registry.table(name)
    if not table.exists(lake):
        return []
    dataset = DeltaTable(str(table.location(lake))).to_pyarrow_dataset()
    return dataset.to_table(columns=columns).to_pylist()


def _colour(value: Any) -> int | None:
    text = str(value).strip() if value is not None else ""
    return int(text) if text.isdigit() else None


def vehicle_subjects(lake: Path) -> list[tuple[str, int]]:
    """Every (plate, colour) the lake knows, sorted."""
    found: set[tuple[str, int | None]] = set()
    for name in ("silver.telematics__vehicles", "gold.telematics__vehicle_days",
                 "gold.telematics__violations"):  # fmt: skip
        found |= {
            (r["plate"], r["plate_color"]) for r in _read(lake, name, ["plate", "plate_color"])
        }
    for r in _read(lake, "gold.licences__licences", ["holder_type", "holder_key"]):
        if r["holder_type"] == "vehicle" and "-" in (r["holder_key"] or ""):
            plate, _, colour = r["holder_key"].rpartition("-")
            found.add((plate, _colour(colour)))
    for name in ("silver.freight__vehicles", "silver.freight__waybill_vehicles"):
        found |= {(r["vehicle_number"], _colour(r["plate_color"]))
                  for r in _read(lake, name, ["vehicle_number", "plate_color"])}  # fmt: skip
    for r in _read(lake, "silver.ridehailing__static_versions",
                   ["interface", "vehicle_no", "payload"]):  # fmt: skip
        if r["interface"] == "baseInfoVehicle" and r["payload"]:
            found.add((r["vehicle_no"], _colour(json.loads(r["payload"]).get("PlateColor"))))
    return sorted((p.strip(), c) for p, c in found if p and p.strip() and c is not None)


def enterprise_subjects(lake: Path) -> list[str]:
    """Every unified social credit code the lake knows (18 characters), sorted."""
    found: set[str] = set()
    found |= {r["enterprise_id"] for r in _read(lake, "silver.telematics__enterprises",
                                                ["enterprise_id"])}  # fmt: skip
    found |= {r["enterprise_id"] for r in _read(lake, "silver.telematics__vehicles",
                                                ["enterprise_id"])}  # fmt: skip
    found |= {r["uscc"] for r in _read(lake, "silver.freight__senders", ["uscc"])}
    for r in _read(lake, "gold.licences__licences", ["holder_type", "holder_key"]):
        if r["holder_type"] == "organisation":
            found.add(r["holder_key"])
    for r in _read(lake, "silver.ridehailing__static_versions", ["interface", "payload"]):
        if r["interface"] == "baseInfoCompany" and r["payload"]:
            found.add(json.loads(r["payload"]).get("Identifier"))
    return sorted({u.strip().upper() for u in found if u} - {""})


def _current(versions: list[dict[str, Any]]) -> dict[str, Any] | None:
    """The open version of a history (``valid_to`` null), else the latest."""
    if not versions:
        return None
    ordered = sorted(versions, key=lambda v: (v.get("valid_to") is None, v.get("valid_from") or ""))
    return ordered[-1]


def _code(value: Any) -> str | None:
    text = str(value).strip() if value is not None else ""
    return text if _CODE.match(text) else None


def subject_region(profile: dict[str, Any]) -> str | None:
    """The GB/T 2260 code of the subject's region (see the module's docstring), None: unknown."""
    master, subject = profile["master"], profile["subject"]
    if subject["kind"] == "vehicle":
        candidates = [(_current(master["telematics"]) or {}).get("county_code"),
                      (_current(master["ridehailing"]) or {}).get("address")]  # fmt: skip
    else:
        candidates = [(_current(master["telematics"]) or {}).get("county_code"),
                      (_current(master["ridehailing_companies"]) or {}).get("address"),
                      subject["uscc"][2:8]]  # fmt: skip
    return next((c for c in map(_code, candidates) if c), None)


def region_columns(code: str | None) -> dict[str, str | None]:
    """region_code (the most precise code known) and the county, city and province it lies in."""
    if code is None:
        return {"region_code": None, "county_code": None, "city_code": None, "province_code": None}
    return {
        "region_code": code,
        "county_code": code if not code.endswith("00") else None,
        "city_code": f"{code[:4]}00" if code[2:4] != "00" else None,
        "province_code": f"{code[:2]}0000",
    }


def vehicle_label(plate: str, colour: int) -> str:
    """What the 车牌 filter offers: ``闽J12345（黄）``."""
    return f"{plate}（{PLATE_COLOURS.get(colour, str(colour))}）"


def enterprise_label(uscc: str, name: str | None) -> str:
    """What the 企业 filter offers: ``宁德顺达物流有限公司（91350902MA2Y0ABC1X）``."""
    return f"{name}（{uscc}）" if name else uscc


# ---- the rows of one profile --------------------------------------------------------------------


def _date(value: str | None) -> dt.date | None:
    return dt.date.fromisoformat(value[:10]) if value else None


def _ts(value: str | None) -> dt.datetime | None:
    return dt.datetime.fromisoformat(value).replace(tzinfo=dt.UTC) if value else None


def _num(value: Any) -> str:
    return f"{value:,.1f}" if isinstance(value, float) else f"{value:,}"


def _summary(part: str, body: dict[str, Any], kind: str) -> str:
    """One line of Chinese for the part (what the counts are), 无数据 when it covers nothing."""
    if part == "master":
        lists = {"telematics": "动态监控", "ridehailing": "网约车", "freight": "网络货运",
                 "freight_senders": "网络货运发送方", "ridehailing_companies": "网约车平台公司"}  # fmt: skip
        shown = [f"{label} {len(body[key])} 条" for key, label in lists.items() if body.get(key)]
    elif part == "licences":
        shown = [f"有效 {body['valid']} 张 / 共 {len(body['items'])} 张（{body['as_of']}）"]
    elif part == "telematics" and kind == "vehicle":
        shown = [f"上线 {body['days_online']} 天", f"里程 {_num(float(body['km']))} 公里",
                 f"违法违规 {body['violations']['total']} 起"]  # fmt: skip
    elif part == "telematics":
        shown = [f"车辆 {body['vehicles']} 辆", f"违法违规 {body['violations']['total']} 起",
                 f"考核 {len(body['scores'])} 期"]  # fmt: skip
    elif part == "freight":
        shown = [f"运单 {body['waybills']} 单", f"异常 {body['anomalies']['total']} 条"]
        if body.get("operator_codes"):
            shown.append("经营者 " + "、".join(body["operator_codes"]))
    elif part == "ridehailing":
        shown = [f"订单 {body['orders']['total']} 单"]
        companies = body.get("company_ids") or sorted(body["orders"]["by_company"])
        if companies:
            shown.append("平台公司 " + "、".join(companies))
    else:
        shown = [f"未销号 {len(body['open'])} 项"]
    return "，".join(shown) if body.get("covers") else "无数据"


def _part_counts(part: str, body: dict[str, Any], kind: str) -> dict[str, Any]:
    if part == "master":
        return {"master_records": sum(len(v) for v in body.values() if isinstance(v, list))}
    if part == "licences":
        return {"licences": len(body["items"]), "valid_licences": body["valid"],
                "as_of": _date(body["as_of"])}  # fmt: skip
    if part == "telematics" and kind == "vehicle":
        return {"days_online": body["days_online"], "km": float(body["km"]),
                "points": body["points"], "qualified_points": body["qualified_points"],
                "violations": body["violations"]["total"]}  # fmt: skip
    if part == "telematics":
        return {"vehicles": body["vehicles"], "violations": body["violations"]["total"]}
    if part == "freight":
        return {"waybills": body["waybills"], "anomalies": body["anomalies"]["total"]}
    if part == "ridehailing":
        return {"orders": body["orders"]["total"]}
    return {"open_items": len(body["open"])}


def _scores(profile: dict[str, Any]) -> list[dict[str, Any]]:
    """The scored periods of every domain: telematics assessments of the enterprise(s), freight
    operator months, ride-hailing company periods."""
    vehicle = profile["subject"]["kind"] == "vehicle"
    out = []
    for s in profile["telematics"]["enterprise_scores" if vehicle else "scores"]:
        out.append({"source": "telematics", "scored_id": s["subject_id"],
                    "scored_name": s["subject_name"], "period_type": s["period_type"],
                    "period": s["period"], "score": s["score"], "passed": s["passed"],
                    "detail": f"车辆 {s['vehicles']} 辆" if s["vehicles"] is not None else None})  # fmt: skip
    for s in profile["freight"].get("monthly", []):
        rates = [("单据接入", "rate_access"), ("资质", "rate_qualification"),
                 ("车辆入网", "rate_vehicle_network"), ("运输轨迹", "rate_trajectory"),
                 ("运单与资金流水单匹配", "rate_match"), ("运单重复", "rate_duplicate")]  # fmt: skip
        detail = [f"运单 {_num(s['waybills'])} 单", f"{_num(float(s['tonnes'] or 0))} 吨",
                  f"运费 {_num(float(s['charges_yuan'] or 0))} 元"]  # fmt: skip
        detail += [f"{label}异常率 {s[k]:.2%}" for label, k in rates if s.get(k)]
        out.append({"source": "freight", "scored_id": s["operator_id"], "scored_name": None,
                    "period_type": "month", "period": s["period"], "score": s["score"],
                    "score_rank": s["rank"], "detail": "，".join(detail)})  # fmt: skip
    for q in profile["ridehailing"]["company_quality" if vehicle else "quality"]:
        rates = [("完整性", "completeness_rate"), ("规范性", "normativity_rate"),
                 ("及时性", "timeliness_rate"), ("真实性", "truthfulness_rate"),
                 ("城市覆盖率", "city_coverage_rate")]  # fmt: skip
        detail = [f"记录 {_num(q['records'])} 条"] + [
            f"{label} {q[k]:.2%}" for label, k in rates if q.get(k) is not None
        ]
        out.append({"source": "ridehailing", "scored_id": q["company_id"],
                    "scored_name": q["company_name"], "period_type": q["grain"],
                    "period": q["period"], "score": q["score"], "transmitted": q["transmitted"],
                    "detail": "，".join(detail)})  # fmt: skip
    return out


def _master(profile: dict[str, Any]) -> list[dict[str, Any]]:
    """Master data with its history, one row per version and source, in a shape common to all."""
    m = profile["master"]
    out = []
    if profile["subject"]["kind"] == "vehicle":
        for v in m["telematics"]:
            detail = [f"平台 {v['platform_id']}" if v.get("platform_id") else None,
                      f"终端 {v['terminal_phone_masked']}" if v.get("terminal_phone_masked") else None]  # fmt: skip
            out.append({"source": "telematics", "belongs_to": v["enterprise_id"],
                        "region": v["county_code"], "kind": v["vehicle_type"],
                        "status": v["operating_status"], "valid_from": v["valid_from"],
                        "valid_to": v["valid_to"], "detail": "，".join(d for d in detail if d)})  # fmt: skip
        for v in m["ridehailing"]:
            out.append({"source": "ridehailing", "belongs_to": v["company_id"],
                        "region": v["address"], "status": v["state"],
                        "valid_from": v["valid_from"], "valid_to": v["valid_to"]})  # fmt: skip
        for v in m["freight"]:
            detail = [f"核定载质量 {v['vehicle_tonnage']} 吨" if v.get("vehicle_tonnage") else None,
                      f"总质量 {v['gross_mass']} 吨" if v.get("gross_mass") else None,
                      v.get("road_transport_certificate_number"),
                      f"所有人 {v['owner_masked']}" if v.get("owner_masked") else None]  # fmt: skip
            out.append({"source": "freight", "belongs_to": v["enterprise_sender_code"],
                        "kind": v["vehicle_type"], "valid_from": v["message_sending_time"],
                        "detail": "，".join(d for d in detail if d)})  # fmt: skip
        return out
    for e in m["telematics"]:
        out.append({"source": "telematics", "name": e["name"], "region": e["county_code"],
                    "kind": e["business_type"], "valid_from": e["valid_from"],
                    "valid_to": e["valid_to"]})  # fmt: skip
    for s in m["freight_senders"]:
        out.append({"source": "freight_sender", "belongs_to": s["enterprise_sender_code"],
                    "name": s["name"], "valid_from": s["valid_from"], "valid_to": s["valid_to"]})  # fmt: skip
    for c in m["ridehailing_companies"]:
        out.append({"source": "ridehailing_company", "belongs_to": c["company_id"],
                    "region": c["address"], "status": c["state"], "valid_from": c["valid_from"],
                    "valid_to": c["valid_to"]})  # fmt: skip
    return out


def profile_rows(profile: dict[str, Any]) -> dict[str, list[dict[str, Any]]]:
    """The rows of every gold table for one profile (:func:`transforms.profile.vehicle_profile` or
    :func:`~transforms.profile.enterprise_profile`), keyed by table name."""
    subject = profile["subject"]
    kind = subject["kind"]
    if kind == "vehicle":
        plate, colour = subject["plate"], subject["plate_color"]
        who = {"subject_kind": kind, "subject_key": f"{plate}|{colour}", "plate": plate,
               "uscc": None, "vehicle": vehicle_label(plate, colour), "enterprise": None}  # fmt: skip
    else:
        who = {"subject_kind": kind, "subject_key": subject["uscc"], "plate": None,
               "uscc": subject["uscc"], "vehicle": None,
               "enterprise": enterprise_label(subject["uscc"], subject.get("name"))}  # fmt: skip
    who |= region_columns(subject_region(profile))
    out: dict[str, list[dict[str, Any]]] = {name: [] for name in TABLES}

    def listed(table: str, items: Iterable[dict[str, Any]]) -> None:
        out[f"gold.profile__{table}"] += [{**who, "seq": i, **item}
                                          for i, item in enumerate(items, 1)]  # fmt: skip

    for order, part in enumerate(PARTS, 1):
        body = profile[part]
        covers = body.get("covers") or {}
        out["gold.profile__parts"].append({
            **who, "part": part, "part_order": order, "covers_from": _date(covers.get("from")),
            "covers_to": _date(covers.get("to")), "summary": _summary(part, body, kind),
            **_part_counts(part, body, kind),
        })  # fmt: skip
    t, f, r = profile["telematics"], profile["freight"], profile["ridehailing"]
    breakdowns = [("telematics", "violations_by_kind", t["violations"]["by_kind"]),
                  ("freight", "anomalies_by_type", f["anomalies"]["by_type"]),
                  ("ridehailing", "orders_by_status", r["orders"]["by_status"]),
                  ("ridehailing", "orders_by_company", r["orders"]["by_company"])]  # fmt: skip
    out["gold.profile__counts"] = [
        {**who, "part": part, "breakdown": breakdown, "item": item, "quantity": count}
        for part, breakdown, counted in breakdowns for item, count in counted.items()
    ]  # fmt: skip
    as_of = _date(profile["licences"]["as_of"])
    listed("licences", ({**i, "valid_from": _date(i["valid_from"]), "valid_to": _date(i["valid_to"]),
                         "valid_on": i["valid_on"], "as_of": as_of}
                        for i in profile["licences"]["items"]))  # fmt: skip
    listed("violations", ({"day": _date(v["day"]), "kind": v["kind"], "vehicle_plate": v["plate"],
                           "vehicle_plate_color": v["plate_color"], "start_at": _ts(v["start_at"]),
                           "end_at": _ts(v["end_at"]), "max_speed": v["max_speed"],
                           "limit_kmh": v["limit_kmh"], "minutes": v["minutes"]}
                          for v in t["violations"]["latest"]))  # fmt: skip
    listed("scores", _scores(profile))
    listed("waybills", ({**w, "despatch_time": _ts(w["despatch_time"]),
                         "receipt_time": _ts(w["receipt_time"])}
                        for w in f["latest_waybills"]))  # fmt: skip
    listed("anomalies", ({**a, "event_time": _ts(a["event_time"])}
                         for a in f["anomalies"]["items"]))  # fmt: skip
    listed("rectification", ({"item_id": i["item_id"], "period": i["period"], "level": i["level"],
                              "item_subject_id": i["subject_id"],
                              "item_subject_name": i["subject_name"], "problem": i["problem"],
                              "status": i["status"], "issued_on": _date(i["issued_on"]),
                              "report_due": _date(i["report_due"]),
                              "rectify_until": _date(i["rectify_until"])}
                             for i in profile["rectification"]["open"]))  # fmt: skip
    listed("master", ({**m, "valid_from": m.get("valid_from"), "valid_to": m.get("valid_to")}
                      for m in _master(profile)))  # fmt: skip
    return out


# ---- the job ------------------------------------------------------------------------------------


def build_profile_tables(
    lake: Path, on: dt.date | None = None, progress: Callable[[str], None] | None = None
) -> dict[str, int]:
    """Profile every subject of ``lake`` (licences judged valid ``on``, default today) and
    overwrite the gold tables with their rows; returns the rows per table."""
    lake = Path(lake)
    on = on or dt.date.today()
    say = progress or (lambda _m: None)
    rows: dict[str, list[dict[str, Any]]] = {name: [] for name in TABLES}
    with loaded(lake):
        vehicles = vehicle_subjects(lake)
        enterprises = enterprise_subjects(lake)
        profiles = [vehicle_profile(lake, plate, colour, on) for plate, colour in vehicles]
        for uscc in enterprises:
            try:
                profiles.append(enterprise_profile(lake, uscc, on))
            except ProfileError:  # not a USCC (18 characters): no enterprise profile either
                continue
    for profile in profiles:
        for name, found in profile_rows(profile).items():
            rows[name] += found
    for name, schema in SCHEMAS.items():
        data = pa.Table.from_pylist(
            [{c: r.get(c) for c in schema.names} for r in rows[name]], schema=schema
        )
        location = registry.table(name).location(lake)
        write_deltalake(str(location), data, mode="overwrite", schema_mode="overwrite")
    counts = {name: len(found) for name, found in rows.items()}
    say(f"profile: {len(vehicles)} vehicle(s), {len(profiles) - len(vehicles)} enterprise(s); "
        + ", ".join(f"{name.split('__', 1)[1]} {n}" for name, n in counts.items()))  # fmt: skip
    return counts


__all__ = [
    "PLATE_COLOURS", "SCHEMAS", "TABLES", "build_profile_tables", "enterprise_label",
    "enterprise_subjects", "profile_rows", "region_columns", "subject_region", "vehicle_label",
    "vehicle_subjects",
]  # fmt: skip

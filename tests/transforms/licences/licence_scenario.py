"""The hand-built licence scenario (keys generated here, records signed here), shared by the
licences tests: what is landed, and every answer worked out by hand.

Authorities (silver.licences__authorities):
  K-PROV-1  350000 福建省交通运输厅    2020-01-01 … 2025-12-31   (expired key)
  K-PROV-2  350000 福建省交通运输厅    2026-01-01 … 2030-12-31
  K-CITY    350900 宁德市交通运输局    2020-01-01 … 2030-12-31
  K-ZJ      330000 浙江省交通运输厅    2020-01-01 … 2030-12-31
  (K-ROGUE: a key pair no authority registered)

Records (issued_at, received delay) — file 1 (folder 2026-03-31), then file 2 (folder 2026-04-01):
  op v1   operating permit 闽交运管许可宁字350902300001号, org, K-CITY, 03-03 09:00, +60 s
  op v2   the same, scope changed,                          K-CITY, 03-20 10:00, +120 s
  veh v1  道路运输证 闽J12345-2, valid,                     K-CITY, 03-05 08:00, +30 s
  veh v2  the same, suspended,                              K-CITY, 03-25 08:00, +30 s
  drv v1  从业资格证 (person), valid to 2026-03-31,          K-PROV-2, 03-06 12:00, +600 s
  rev v1  operating permit, valid                           K-PROV-2, 02-10 09:00, +3600 s
  rev v2  the same, revoked                                 K-PROV-2, 03-12 09:00, +60 s
  exp v1  道路运输证 闽J54321-1, status expired              K-CITY, 03-07 09:00, +60 s
  can v1  从业资格证 (person), status cancelled              K-PROV-2, 03-08 09:00, +60 s
  rh v1   网约车驾驶员证 (person), valid from 2026-04-01      K-PROV-2, 03-09 09:00, +60 s
  zj v1   Zhejiang operating permit                         K-ZJ, 03-15 09:00, +300 s
  forged (all issuing province 350000, March):
  F-tamper  veh v2 altered to status valid after signing          → bad_signature  +30 s
  F-rogue   signed by K-ROGUE under key id K-ROGUE                → unknown_signer +60 s
  F-oldkey  signed by K-PROV-1, issued 03-10 (key expired 2025)   → unknown_signer +60 s
  F-garble  signature not hex                                     → bad_signature  +60 s
  F-other   issued by 350000, signed with K-CITY (another authority's key) → unknown_signer +60 s
  F-forger  key id K-CITY but signed with K-ROGUE's private key   → bad_signature  +60 s
  R-type    validly signed, licence_type "driving_licence"        → licence_type_valid (field rule)
  a malformed line (not JSON)                                     → malformed_record (landing)
  file 2 re-sends op v1's line byte for byte: counted once
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass, field
from pathlib import Path

from transforms.crypto import sm2

ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
ID_CHECK = "10X98765432"


def id_number(first17: str) -> str:
    """An 18-digit ID number with its GB 11643 check character."""
    total = sum(int(c) * w for c, w in zip(first17, ID_WEIGHTS, strict=True))
    return first17 + ID_CHECK[total % 11]


DRIVER_ID = id_number("35090219900101123")
CANCELLED_ID = id_number("35092119850615201")
RIDE_ID = id_number("35098119920304567")
ORG = "91350902MA2Y8K7N0X"
ORG_REV = "91350100MA2XYZ1234"
ORG_ZJ = "91330100MA2ABCDE12"
VEHICLE = "闽J12345-2"
VEHICLE_EXP = "闽J54321-1"
# the scenario's personal values: none may appear in clear in any Delta table
PERSONAL = [
    DRIVER_ID, CANCELLED_ID, RIDE_ID, "张伟明", "李秀英", "王芳华", "13800138001", "13900139002",
    "13700137003", "陈建国", "林志强", "赵建华", "0591-87654321", "0593-2233445", "0571-88889999",
]  # fmt: skip

OP_NO = "闽交运管许可宁字350902300001号"
VEH_NO = "闽交运输字350902200001号"
DRV_NO = "QC350902000001"
REV_NO = "闽交运管许可榕字350100300002号"
EXP_NO = "闽交运输字350902200002号"
CAN_NO = "QC350921000002"
RH_NO = "WY350981000003"
ZJ_NO = "浙交运管许可杭字330100300003号"
TYPE_NO = "QC350902000009"

CITY = {"code": "350900", "name": "宁德市交通运输局"}
PROV = {"code": "350000", "name": "福建省交通运输厅"}
ZJ = {"code": "330000", "name": "浙江省交通运输厅"}


@dataclass
class Scenario:
    keys: dict[str, tuple[str, str]]  # key id -> (private, public)
    authorities: list[dict]
    file1: list[str] = field(default_factory=list)
    file2: list[str] = field(default_factory=list)

    def write(self, lake: Path) -> None:
        """The landing files: authorities, then the two issuance files."""
        auth = lake / "landing/licences/authorities/2026-01-01"
        auth.mkdir(parents=True, exist_ok=True)
        (auth / "authorities.jsonl").write_text(
            "".join(json.dumps(a, ensure_ascii=False) + "\n" for a in self.authorities), "utf-8"
        )
        for day, lines in (("2026-03-31", self.file1), ("2026-04-01", self.file2)):
            folder = lake / "landing/licences/issuance" / day
            folder.mkdir(parents=True, exist_ok=True)
            (folder / "issuance.jsonl").write_text("".join(x + "\n" for x in lines), "utf-8")


def canonical(record: dict) -> str:
    signed = {k: v for k, v in record.items() if k not in ("signature", "signer_key_id")}
    return json.dumps(signed, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def _time(text: str, seconds: int = 0) -> str:
    t = dt.datetime.fromisoformat(text) + dt.timedelta(seconds=seconds)
    return t.strftime("%Y-%m-%d %H:%M:%S")


def _record(
    licence_id, licence_type, licence_no, holder_type, holder_key, holder_name, scope, authority,
    issued_at, delay_s, valid_from, valid_to, status, version, **extra,
) -> dict:  # fmt: skip
    record = {
        "licence_id": licence_id,
        "licence_type": licence_type,
        "licence_no": licence_no,
        "holder_type": holder_type,
        "holder_key": holder_key,
        "holder_name": holder_name,
        "scope": scope,
        "issuing_authority": authority,
        "issuing_province": "350000" if authority["code"].startswith("35") else "330000",
        "issued_at": issued_at,
        "valid_from": valid_from,
        "valid_to": valid_to,
        "status": status,
        "version": version,
        "received_at": _time(issued_at, delay_s),
    }
    record.update(extra)
    return record


def sign(record: dict, key_id: str, private: str) -> str:
    signed = dict(record)
    signed["signature"] = sm2.sign(canonical(record).encode(), private)
    signed["signer_key_id"] = key_id
    return json.dumps(signed, ensure_ascii=False)


def build() -> Scenario:
    keys = {
        k: sm2.generate_keypair() for k in ("K-PROV-1", "K-PROV-2", "K-CITY", "K-ZJ", "K-ROGUE")
    }
    authorities = [
        {"key_id": "K-PROV-1", "authority_code": "350000", "authority_name": PROV["name"],
         "sm2_public_key": keys["K-PROV-1"][1], "valid_from": "2020-01-01", "valid_to": "2025-12-31"},
        {"key_id": "K-PROV-2", "authority_code": "350000", "authority_name": PROV["name"],
         "sm2_public_key": keys["K-PROV-2"][1], "valid_from": "2026-01-01", "valid_to": "2030-12-31"},
        {"key_id": "K-CITY", "authority_code": "350900", "authority_name": CITY["name"],
         "sm2_public_key": keys["K-CITY"][1], "valid_from": "2020-01-01", "valid_to": "2030-12-31"},
        {"key_id": "K-ZJ", "authority_code": "330000", "authority_name": ZJ["name"],
         "sm2_public_key": keys["K-ZJ"][1], "valid_from": "2020-01-01", "valid_to": "2030-12-31"},
    ]  # fmt: skip
    s = Scenario(keys, authorities)

    def signed(record: dict, key_id: str, by: str | None = None) -> str:
        return sign(record, key_id, keys[by or key_id][0])

    org = {"legal_representative": "陈建国", "contact_phone": "0593-2233445"}
    org_rev = {"legal_representative": "林志强", "contact_phone": "0591-87654321"}
    op1 = _record("L-OP", "operating_permit", OP_NO, "organisation", ORG, "宁德顺通客运有限公司",
                  "道路旅客运输", CITY, "2026-03-03 09:00:00", 60, "2026-03-03", "2030-03-02",
                  "valid", 1, **org)  # fmt: skip
    op2 = dict(op1, scope="道路旅客运输、道路普通货物运输", issued_at="2026-03-20 10:00:00",
               received_at="2026-03-20 10:02:00", version=2)  # fmt: skip
    veh1 = _record("L-VEH", "vehicle_transport", VEH_NO, "vehicle", VEHICLE, "宁德顺通客运有限公司",
                   "道路旅客运输", CITY, "2026-03-05 08:00:00", 30, "2026-03-05", "2028-03-04",
                   "valid", 1)  # fmt: skip
    veh2 = dict(veh1, status="suspended", issued_at="2026-03-25 08:00:00",
                received_at="2026-03-25 08:00:30", version=2)  # fmt: skip
    drv = _record("L-DRV", "qualification", DRV_NO, "person", DRIVER_ID, "张伟明",
                  "道路旅客运输驾驶员", PROV, "2026-03-06 12:00:00", 600, "2020-04-01",
                  "2026-03-31", "valid", 1, holder_phone="13800138001")  # fmt: skip
    rev1 = _record("L-REV", "operating_permit", REV_NO, "organisation", ORG_REV,
                   "福州宏运物流有限公司", "道路普通货物运输", PROV, "2026-02-10 09:00:00", 3600,
                   "2026-02-10", "2030-02-09", "valid", 1, **org_rev)  # fmt: skip
    rev2 = dict(rev1, status="revoked", issued_at="2026-03-12 09:00:00",
                received_at="2026-03-12 09:01:00", version=2)  # fmt: skip
    exp = _record("L-EXP", "vehicle_transport", EXP_NO, "vehicle", VEHICLE_EXP,
                  "宁德顺通客运有限公司", "道路旅客运输", CITY, "2026-03-07 09:00:00", 60,
                  "2022-03-07", "2026-03-06", "expired", 1)  # fmt: skip
    can = _record("L-CAN", "qualification", CAN_NO, "person", CANCELLED_ID, "李秀英",
                  "道路货物运输驾驶员", PROV, "2026-03-08 09:00:00", 60, "2021-01-01",
                  "2027-12-31", "cancelled", 1, holder_phone="13900139002")  # fmt: skip
    rh = _record("L-RH", "qualification", RH_NO, "person", RIDE_ID, "王芳华",
                 "网络预约出租汽车驾驶员", PROV, "2026-03-09 09:00:00", 60, "2026-04-01",
                 "2032-03-31", "valid", 1, holder_phone="13700137003")  # fmt: skip
    zj = _record("L-ZJ", "operating_permit", ZJ_NO, "organisation", ORG_ZJ, "杭州远航物流有限公司",
                 "网络货运", ZJ, "2026-03-15 09:00:00", 300, "2026-03-15", "2030-03-14", "valid",
                 1, legal_representative="赵建华", contact_phone="0571-88889999")  # fmt: skip
    # forgeries
    tamper = json.loads(signed(veh2, "K-CITY"))
    tamper["status"] = "valid"  # altered after signing
    rogue = _record("L-F2", "vehicle_transport", "闽交运输字350902200099号", "vehicle", "闽J99999-2",
                    "冒名运输公司", "道路普通货物运输", PROV, "2026-03-11 09:00:00", 60,
                    "2026-03-11", "2028-03-10", "valid", 1)  # fmt: skip
    oldkey = dict(rogue, licence_id="L-F3", licence_no="闽交运输字350902200098号",
                  issued_at="2026-03-10 09:00:00", received_at="2026-03-10 09:01:00")  # fmt: skip
    garble = json.loads(signed(dict(rogue, licence_id="L-F4", licence_no="闽交运输字350902200097号"),
                               "K-PROV-2"))  # fmt: skip
    garble["signature"] = "zz" * 64
    other = dict(rogue, licence_id="L-F5", licence_no="闽交运输字350902200096号")
    forger = dict(rogue, licence_id="L-F6", licence_no="闽交运输字350902200095号",
                  issuing_authority=CITY)  # fmt: skip
    wrong_type = _record("L-TYPE", "driving_licence", TYPE_NO, "person", DRIVER_ID, "张伟明",
                         "道路旅客运输驾驶员", PROV, "2026-03-13 09:00:00", 60, "2026-03-13",
                         "2032-03-12", "valid", 1, holder_phone="13800138001")  # fmt: skip
    op1_line = signed(op1, "K-CITY")
    s.file1 = [
        op1_line, signed(veh1, "K-CITY"), signed(drv, "K-PROV-2"),
        signed(rev1, "K-PROV-2"), signed(rev2, "K-PROV-2"), signed(exp, "K-CITY"),
        signed(can, "K-PROV-2"), json.dumps(tamper, ensure_ascii=False),
        signed(rogue, "K-ROGUE"), signed(oldkey, "K-PROV-1"), json.dumps(garble, ensure_ascii=False),
        "{not json at all",
    ]  # fmt: skip
    s.file2 = [
        op1_line, signed(op2, "K-CITY"), signed(veh2, "K-CITY"), signed(rh, "K-PROV-2"),
        signed(zj, "K-ZJ"), signed(other, "K-CITY"), signed(forger, "K-CITY", by="K-ROGUE"),
        signed(wrong_type, "K-PROV-2"),
    ]  # fmt: skip
    return s


def land_and_publish(spark, lake: Path) -> None:
    """Land every licences feed and publish it through the real jobs."""
    from transforms.lake.landing import land_feed
    from transforms.licences.feeds import FEEDS
    from transforms.licences.jobs.publish import publish_authorities, publish_issuance
    from transforms.rules import load_rules

    rules = load_rules(domain="licences")
    for feed in FEEDS:
        land_feed(lake, feed)
    publish_authorities(spark, lake, rules)
    publish_issuance(spark, lake, rules)


def scenario_lake(spark, tmp: Path) -> tuple[Scenario, Path]:
    """The scenario written under ``tmp`` and published."""
    scenario = build()
    lake = tmp / "lake"
    scenario.write(lake)
    land_and_publish(spark, lake)
    return scenario, lake

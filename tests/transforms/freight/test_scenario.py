"""A hand-built freight month whose every envelope result code, anomaly row and operator statistic
is known (freight.md "Interface and exact rules"), asserted through `lakehouse report freight`.

Two operators (S1, S2), November 2026, evaluated as of 2026-12-15. Licences are written straight
into silver.licences__licences (the licences domain has its own tests); everything freight goes
through landing, opening, publishing and the monitoring job.

| waybill | what is wrong | anomalies |
|---|---|---|
| W1 (S1) | nothing: licensed, on its route, paid to its carrier | — |
| W2 (S1) | 道路运输证 expired; no point; never paid | qualification, vehicle_network, match |
| W3 (S1) | ≤ 4.5 t placeholders (allowed); first point 38 km off; paid 900 of 1000 | trajectory, match |
| W4 (S1) | 18 t vehicle with a placeholder; points 40 %–60 % of the way | qualification, trajectory; its fund flow F8 pays 400 of 500 listed (match on F8) |
| W5 (S1) | no vehicle record, a driver whose 从业资格证 is someone else's; uploaded 2 days after receipt; paid to a stranger | qualification, access, match |
| W6 (S1) | re-sent with another amount | duplicate |
| W7 (S2) | permit revoked; W1's vehicle while W1 runs; paid in cash | qualification, duplicate, match |
| W8 (S1) | loading county unknown | — (unknown_distance) |
"""

from __future__ import annotations

import datetime as dt
import json
import math
from pathlib import Path

import pyarrow as pa
import pytest
from click.testing import CliRunner
from deltalake import write_deltalake

from transforms.crypto import keys as key_files
from transforms.crypto import sm2
from transforms.freight.envelope import pack_envelope
from transforms.lake.protection import ProtectionKeys
from transforms.licences.lookups import holder_hmac

AS_OF = "2026-12-15"
JC = ("350902", 119.526, 26.660)  # 蕉城区
GL = ("350102", 119.296, 26.075)  # 鼓楼区
UNKNOWN = "999999"
U1, U2 = "91350902MA2Y00001A", "91350102MA2Y00002B"
ID1, ID2, ID3 = "350902199001011234", "350902198502023456", "350102199203034567"
WEIGHTS = {"access": 0.15, "qualification": 0.20, "vehicle_network": 0.15, "trajectory": 0.20,
           "match": 0.20, "duplicate": 0.10}  # fmt: skip
R = 6371.0088


def haversine(lon1, lat1, lon2, lat2):
    p1, p2 = math.radians(lat1), math.radians(lat2)
    a = (
        math.sin((p2 - p1) / 2) ** 2
        + math.cos(p1) * math.cos(p2) * math.sin(math.radians(lon2 - lon1) / 2) ** 2
    )
    return 2 * R * math.asin(math.sqrt(a))


CENTROID_KM = haversine(JC[1], JC[2], GL[1], GL[2])


def n14(t: dt.datetime) -> str:
    return t.strftime("%Y%m%d%H%M%S")


def at(day: int, hour: int, minute: int = 0) -> dt.datetime:
    return dt.datetime(2026, 11, day, hour, minute)


def waybill(number, *, vehicle, colour, driver, despatch, receipt, amount, kg, carrier,
            loading=JC[0], receipt_county=GL[0], uscc=U1, permit="P1", uploaded=None):  # fmt: skip
    return {
        "originalDocumentNumber": f"O-{number}",
        "shippingNoteNumber": number,
        "serialNumber": "0000",
        "unifiedSocialCreditIdentifier": uscc,
        "permitNumber": permit,
        "sendToProDateTime": n14(uploaded or receipt + dt.timedelta(hours=1)),
        "despatchActualDateTime": n14(despatch),
        "goodsReceiptDateTime": n14(receipt),
        "totalMonetaryAmount": amount,
        "actualCarrierName": carrier,
        "vehicleInfo": [
            {
                "vehicleNumber": vehicle,
                "vehiclePlateColorCode": colour,
                "loadingCountrySubdivisionCode": loading,
                "receiptCountrySubdivisionCode": receipt_county,
                "driver": [{"driverName": driver[0], "drivingLicense": driver[1]}],
                "goodsInfo": [{"descriptionOfGoods": "货物", "goodsItemGrossWeight": kg}],
            }
        ],
    }


def fund_flow(number, listed, payments):
    return {
        "documentNumber": number,
        "shippingNoteList": [
            {"shippingNoteNumber": w, "serialNumber": "0000", "totalMonetaryAmount": a}
            for w, a in listed
        ],
        "financiallist": [
            {
                "paymentMeansCode": code,
                "recipient": to,
                "receiptAccount": "6222000011112222",
                "monetaryAmount": amount,
                "dateTime": n14(when),
            }
            for code, to, amount, when in payments
        ],  # fmt: skip
    }


def along(plate, colour, start, fractions):
    """Points from JC towards GL at the given fractions of the way, an hour apart."""
    return [
        {"plate": plate, "plate_color": colour,
         "gnss_time": (start + dt.timedelta(hours=i)).strftime("%Y-%m-%d %H:%M:%S"),
         "lon": JC[1] + f * (GL[1] - JC[1]), "lat": JC[2] + f * (GL[2] - JC[2]), "speed": 60}
        for i, f in enumerate(fractions)
    ]  # fmt: skip


D1, D2, D3 = ("张三", ID1), ("李四", ID2), ("王五", ID3)
WAYBILLS = {
    "W1": waybill("W1", vehicle="闽J00001", colour="2", driver=D1, despatch=at(2, 8), receipt=at(2, 14), amount=1000, kg=10000, carrier="张三"),
    "W2": waybill("W2", vehicle="闽J00002", colour="2", driver=D1, despatch=at(5, 8), receipt=at(5, 12), amount=800, kg=5000, carrier="张三"),
    "W3": waybill("W3", vehicle="闽J00003", colour="1", driver=D2, despatch=at(6, 8), receipt=at(6, 14), amount=1000, kg=4000, carrier="李四"),
    "W4": waybill("W4", vehicle="闽J00004", colour="2", driver=D1, despatch=at(7, 8), receipt=at(7, 14), amount=500, kg=3000, carrier="张三"),
    "W5": waybill("W5", vehicle="闽J00005", colour="2", driver=D3, despatch=at(8, 8), receipt=at(8, 14), amount=700, kg=2000, carrier="王五", uploaded=at(10, 9)),
    "W6": waybill("W6", vehicle="闽J00001", colour="2", driver=D1, despatch=at(12, 8), receipt=at(12, 14), amount=600, kg=6000, carrier="张三"),
    "W8": waybill("W8", vehicle="闽J00001", colour="2", driver=D1, despatch=at(14, 8), receipt=at(14, 14), amount=300, kg=1000, carrier="张三", loading=UNKNOWN),
    "W7": waybill("W7", vehicle="闽J00001", colour="2", driver=D1, despatch=at(2, 10), receipt=at(2, 16), amount=500, kg=2500, carrier="张三", loading=UNKNOWN, receipt_county=UNKNOWN, uscc=U2, permit="P2"),
}  # fmt: skip
W6_V2 = {**WAYBILLS["W6"], "totalMonetaryAmount": 650}
VEHICLES = [
    {"vehicleNumber": "闽J00001", "vehiclePlateColorCode": "2", "grossMass": 18.0, "roadTransportCertificateNumber": "RT1"},
    {"vehicleNumber": "闽J00002", "vehiclePlateColorCode": "2", "grossMass": 18.0, "roadTransportCertificateNumber": "RT2"},
    {"vehicleNumber": "闽J00003", "vehiclePlateColorCode": "1", "grossMass": 4.0, "roadTransportCertificateNumber": "350902000000"},
    {"vehicleNumber": "闽J00004", "vehiclePlateColorCode": "2", "grossMass": 18.0, "roadTransportCertificateNumber": "350902000000"},
]  # fmt: skip
DRIVERS = [
    {"driverName": "张三", "drivingLicense": ID1, "qualificationCertificate": "Q1"},
    {"driverName": "李四", "drivingLicense": ID2, "qualificationCertificate": "350902000000000000"},
    {"driverName": "王五", "drivingLicense": ID3, "qualificationCertificate": "Q3"},
]
PAY = at(3, 10)
FUND_FLOWS = {
    "F1": fund_flow("F1", [("W1", 1000)], [("32", "张三", 1000, at(3, 10))]),
    "F3": fund_flow("F3", [("W3", 900)], [("32", "李四", 900, at(7, 10))]),
    "F5": fund_flow("F5", [("W5", 700)], [("41", "赵六", 700, at(9, 10))]),
    "F6": fund_flow("F6", [("W6", 650)], [("42", "张三", 650, at(13, 10))]),
    "F8": fund_flow("F8", [("W4", 500)], [("32", "张三", 400, at(8, 10))]),
    "F9": fund_flow("F9", [("W8", 300)], [("32", "张三", 300, at(15, 10))]),
    "F7": fund_flow("F7", [("W7", 500)], [("5", "张三", 500, at(3, 11))]),
}
POINTS = [
    *along("闽J00001", "2", at(2, 9), [0.05, 0.5, 0.95]),  # W1 (and W7 overlapping it)
    *[{**p, "lon": p["lon"] + 0.3, "lat": p["lat"] + 0.25} for p in along("闽J00003", "1", at(6, 9), [0.0])],
    *along("闽J00003", "1", at(6, 12), [0.95]),
    *along("闽J00004", "2", at(7, 9), [0.4, 0.6]),
    *along("闽J00005", "2", at(8, 9), [0.05, 0.5, 0.95]),
    *along("闽J00001", "2", at(12, 9), [0.05, 0.5, 0.95]),
    *along("闽J00001", "2", at(14, 9), [0.05, 0.5, 0.95]),
]  # fmt: skip


def _licences(lake: Path) -> None:
    """silver.licences__licences as the licences domain would have published it."""
    join = ProtectionKeys.load().join
    ts = pa.timestamp("us", tz="UTC")

    def row(no, kind, scope, holder, status, valid_from, valid_to, version=1, issued="2025-01-01", until=None):  # fmt: skip
        return {
            "licence_no": no, "licence_type": kind, "scope": scope,
            "holder_key_hmac": holder_hmac(holder, join), "status": status,
            "valid_from": dt.date.fromisoformat(valid_from), "valid_to": dt.date.fromisoformat(valid_to),
            "version": version, "issued_at": dt.datetime.fromisoformat(issued),
            "version_valid_from": dt.datetime.fromisoformat(issued),
            "version_valid_to": dt.datetime.fromisoformat(until) if until else None,
        }  # fmt: skip

    rows = [
        row("P1", "operating_permit", "道路普通货物运输、网络货运", U1, "valid", "2025-01-01", "2028-12-31"),
        row("P2", "operating_permit", "网络货运", U2, "valid", "2025-01-01", "2028-12-31", until="2026-10-01"),
        row("P2", "operating_permit", "网络货运", U2, "revoked", "2025-01-01", "2028-12-31", version=2, issued="2026-10-01"),
        row("RT1", "vehicle_transport", "道路普通货物运输", "闽J00001-2", "valid", "2025-01-01", "2028-12-31"),
        row("RT2", "vehicle_transport", "道路普通货物运输", "闽J00002-2", "valid", "2024-01-01", "2026-10-31"),
        row("Q1", "qualification", "道路货物运输驾驶员", ID1, "valid", "2020-01-01", "2030-12-31"),
        row("Q3", "qualification", "道路货物运输驾驶员", ID1, "valid", "2020-01-01", "2030-12-31"),
    ]  # fmt: skip
    schema = pa.schema(
        [("licence_no", pa.string()), ("licence_type", pa.string()), ("scope", pa.string()),
         ("holder_key_hmac", pa.string()), ("status", pa.string()), ("valid_from", pa.date32()),
         ("valid_to", pa.date32()), ("version", pa.int32()), ("issued_at", ts),
         ("version_valid_from", ts), ("version_valid_to", ts)]
    )  # fmt: skip
    write_deltalake(str(lake / "silver" / "licences__licences"), pa.Table.from_pylist(rows, schema))


def _write_jsonl(path: Path, rows) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in rows) + "\n", "utf-8")


def _landing(lake: Path) -> dict[str, int]:
    """The landing zone; returns the expected result code of each envelope by its reference."""
    platform = key_files.platform_public_key()
    s1, s2 = sm2.generate_keypair(), sm2.generate_keypair()
    keys = {"S1": s1, "S2": s2}
    expected: dict[str, int] = {}
    envelopes = []

    def send(ref, sender, docs, ipc, sent, code=1001, **kw):
        envelope = pack_envelope(
            docs, ipc_type=ipc, enterprise_sender_code=sender, sender_private_key=keys[sender][0],
            platform_public_key=kw.pop("platform", platform), sent_at=sent, reference=ref, **kw,
        )  # fmt: skip
        envelopes.append(envelope)
        expected.setdefault(ref, code)
        return envelope

    send("V-S1", "S1", VEHICLES, "WLHY_CL1001", at(1, 9))
    send("D-S1", "S1", DRIVERS, "WLHY_JSY1001", at(1, 9))
    for number, doc in WAYBILLS.items():
        sender = "S2" if number == "W7" else "S1"
        send(
            f"E-{number}",
            sender,
            doc,
            "WLHY_YD1001",
            dt.datetime.strptime(doc["sendToProDateTime"], "%Y%m%d%H%M%S"),
        )
    send("E-W6b", "S1", W6_V2, "WLHY_YD1001", at(12, 18))
    for number, doc in FUND_FLOWS.items():
        sender = "S2" if number == "F7" else "S1"
        send(f"E-{number}", sender, doc, "WLHY_ZJ1001", at(16, 9))
    tampered = send("E-BAD", "S1", WAYBILLS["W1"], "WLHY_YD1001", at(20, 9), code=3009)
    tampered["encryptedContent"] = envelopes[2]["encryptedContent"]  # another envelope's body
    envelopes.append(dict(envelopes[2]))  # E-W1 again, later: 3001
    send(
        "E-S2BAD",
        "S2",
        WAYBILLS["W7"],
        "WLHY_YD1001",
        at(20, 9),
        code=3006,
        platform=sm2.generate_keypair()[1],
    )

    landing = lake / "landing"
    _write_jsonl(landing / "freight" / "senders" / "2026-11-01" / "senders.jsonl", [
        {"enterpriseSenderCode": s, "name": f"平台{s}", "unifiedSocialCreditIdentifier": u,
         "sm2_public_key": keys[s][1], "valid_from": "2026-01-01", "valid_to": None}
        for s, u in (("S1", U1), ("S2", U2))
    ])  # fmt: skip
    _write_jsonl(landing / "freight" / "envelopes" / "2026-11-20" / "envelopes.jsonl", envelopes)
    _write_jsonl(landing / "freight" / "national_positions" / "2026-11-20" / "points.jsonl", POINTS)
    _write_jsonl(landing / "reference" / "divisions" / "2026-11-01" / "divisions.jsonl", [
        {"code": "350000", "name": "福建省", "level": "province", "parent_code": None, "lon": 118.3, "lat": 26.1},
        {"code": JC[0], "name": "蕉城区", "level": "county", "parent_code": "350900", "lon": JC[1], "lat": JC[2]},
        {"code": GL[0], "name": "鼓楼区", "level": "county", "parent_code": "350100", "lon": GL[1], "lat": GL[2]},
    ])  # fmt: skip
    return expected


EXPECTED_ANOMALIES = {
    ("S1", "access", "E-BAD", "rejected"),
    ("S1", "access", "E-W1", "rejected"),  # the 3001 copy
    ("S1", "access", "W5/0000", "late_upload"),
    ("S2", "access", "E-S2BAD", "rejected"),
    ("S1", "qualification", "W2/0000", "vehicle_licence_expired"),
    ("S1", "qualification", "W4/0000", "vehicle_placeholder_not_allowed"),
    ("S1", "qualification", "W5/0000", "vehicle_record_missing"),
    ("S2", "qualification", "W7/0000", "operator_permit_revoked"),
    ("S1", "vehicle_network", "W2/0000", "no_positions"),
    ("S1", "trajectory", "W3/0000", "first_point_far"),
    ("S1", "trajectory", "W4/0000", "track_too_short"),
    ("S1", "match", "W2/0000", "no_fund_flow"),
    ("S1", "match", "W3/0000", "amount_mismatch"),
    ("S1", "match", "W5/0000", "payee_mismatch"),
    ("S1", "match", "F8", "fund_flow_sum_mismatch"),
    ("S2", "match", "W7/0000", "payment_means_not_allowed"),
    ("S1", "duplicate", "W6/0000", "versions"),
    ("S2", "duplicate", "W7/0000", "vehicle_overlap"),
}


def _expected_operators() -> list[dict]:
    def stats(op, name, envelopes, rejected, waybills, vehicles, drivers, kg, tkm_tonnes, charges, counts, waybill_rows, unknown):  # fmt: skip
        rates = {t: round((counts[t] / envelopes) if t == "access" else (waybill_rows[t] / waybills), 6) for t in WEIGHTS}  # fmt: skip
        score = round(max(0.0, min(100.0, 100 - 100 * sum(WEIGHTS[t] * rates[t] for t in WEIGHTS))), 2)  # fmt: skip
        return {
            "operator_id": op, "operator_name": name, "period": "2026-11", "envelopes": envelopes,
            "accepted": envelopes - rejected, "rejected": rejected, "waybills": waybills,
            "vehicles": vehicles, "drivers": drivers, "tonnes": kg / 1000,
            "tonne_km": round(tkm_tonnes * CENTROID_KM, 3), "charges_yuan": charges,
            **{f"anomalies_{t}": counts[t] for t in WEIGHTS}, "unknown_distance": unknown,
            "score": score,
        }  # fmt: skip

    s1 = stats(
        "S1", "平台S1", envelopes=2 + 8 + 6 + 2, rejected=2, waybills=7, vehicles=5, drivers=3,
        kg=10000 + 5000 + 4000 + 3000 + 2000 + 6000 + 1000, tkm_tonnes=10 + 5 + 4 + 3 + 2 + 6,
        charges=1000 + 800 + 1000 + 500 + 700 + 650 + 300,
        counts={"access": 3, "qualification": 3, "vehicle_network": 1, "trajectory": 2, "match": 4, "duplicate": 1},
        waybill_rows={"qualification": 3, "vehicle_network": 1, "trajectory": 2, "match": 3, "duplicate": 1},
        unknown=1,
    )  # fmt: skip
    s2 = stats(
        "S2", "平台S2", envelopes=3, rejected=1, waybills=1, vehicles=1, drivers=1, kg=2500,
        tkm_tonnes=0, charges=500,
        counts={"access": 1, "qualification": 1, "vehicle_network": 0, "trajectory": 0, "match": 1, "duplicate": 1},
        waybill_rows={"qualification": 1, "vehicle_network": 0, "trajectory": 0, "match": 1, "duplicate": 1},
        unknown=1,
    )  # fmt: skip
    ranked = sorted([s1, s2], key=lambda r: (-r["score"], r["operator_id"]))
    for rank, r in enumerate(ranked, start=1):
        r["rank"] = rank
    return [s1, s2]


@pytest.fixture(scope="module")
def scenario(tmp_path_factory, spark):
    from transforms.freight.feeds import FEEDS
    from transforms.freight.jobs import monitor, publish
    from transforms.lake.landing import land_feed
    from transforms.reference.feeds import DIVISIONS
    from transforms.reference.publish import publish_divisions
    from transforms.rules import load_rules

    lake = tmp_path_factory.mktemp("freight") / "lake"
    expected = _landing(lake)
    _licences(lake)
    for feed in (DIVISIONS, *FEEDS):
        land_feed(lake, feed)
    publish_divisions(lake)
    publish.publish_senders(lake)
    rules = load_rules(domain="freight")
    assert publish.publish_envelopes(spark, lake, rules).published
    publish.publish_positions(spark, lake)
    monitor.refresh(spark, lake, rules, load_rules(domain="licences"))
    return lake, expected


def _report(lake: Path, *args: str):
    from orchestration.cli import main

    result = CliRunner().invoke(
        main,
        ["report", "freight", "--lake", str(lake), "--period", "2026-11", "--as-of", AS_OF, *args],
    )
    assert result.exit_code == 0, result.output
    return json.loads(result.output)


def test_every_envelope_gets_its_result_code(scenario):
    lake, expected = scenario
    rows = _report(lake, "--envelopes")
    got = {}
    for r in rows:
        got.setdefault(r["message_reference_number"], []).append(r["result_code"])
    assert {ref: codes[0] for ref, codes in got.items()} == expected
    assert got["E-W1"] == [1001, 3001]
    assert [r["message_reference_number"] for r in rows] == sorted(
        r["message_reference_number"] for r in rows
    )


def test_every_anomaly_is_found_once(scenario):
    lake, _ = scenario
    rows = _report(lake, "--anomalies")
    assert {
        (r["operator_id"], r["anomaly_type"], r["document_key"], r["rule"]) for r in rows
    } == EXPECTED_ANOMALIES
    assert len(rows) == len(EXPECTED_ANOMALIES)
    by_key = {(r["anomaly_type"], r["document_key"]): r for r in rows}
    assert {r["status"] for r in rows} == {"open"}
    # the evidence says why
    w5 = by_key[("qualification", "W5/0000")]["evidence"]["failures"]
    assert [f["reason"] for f in w5] == ["vehicle_record_missing", "driver_licence_holder_mismatch"]
    assert by_key[("trajectory", "W3/0000")]["evidence"]["vehicles"][0]["first_km"] > 30
    assert by_key[("duplicate", "W6/0000")]["evidence"]["extra_versions"] == 1
    assert by_key[("duplicate", "W7/0000")]["evidence"]["overlapping_waybills"] == ["W1/0000"]
    assert by_key[("access", "E-BAD")]["evidence"]["result_code"] == 3009


def test_operator_statistics_score_and_rank(scenario):
    lake, _ = scenario
    rows = _report(lake)
    for got, want in zip(rows, _expected_operators(), strict=True):
        for key, value in want.items():
            assert got[key] == pytest.approx(value, abs=1e-6), key


def test_before_the_payment_window_closes_no_fund_flow_is_not_yet_an_anomaly(scenario):
    lake, _ = scenario
    from orchestration.cli import main

    result = CliRunner().invoke(
        main, ["report", "freight", "--lake", str(lake), "--period", "2026-11", "--as-of", "2026-12-04", "--anomalies"]
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    rules = {(r["anomaly_type"], r["document_key"]): r["rule"] for r in json.loads(result.output)}
    assert ("match", "W2/0000") not in rules  # receipt 11-05 12:00 + 30 days is 12-05
    assert rules[("match", "W3/0000")] == "amount_mismatch"  # a fund flow exists: evaluated


def test_explain_shows_the_score_terms(scenario):
    lake, _ = scenario
    answer = _report(lake, "--explain", "S2")
    terms = {t["anomaly_type"]: t for t in answer["score"]["terms"]}
    assert terms["qualification"]["rate"] == 1.0 and terms["qualification"]["weight"] == 0.2
    assert answer["score"]["score"] == pytest.approx(45.0)
    assert {a["document_key"] for a in answer["anomalies"]} == {"E-S2BAD", "W7/0000"}


def test_an_appeal_is_withdrawn_by_fresh_licence_data_or_confirmed_after_30_days(
    scenario, tmp_path, spark
):
    """W2's 道路运输证 turns out to have been renewed before despatch (a version received late):
    its appeal is withdrawn and the anomaly stops counting; W4's placeholder stays wrong: its
    appeal is confirmed when the window closes. A match anomaly cannot be appealed."""
    import shutil

    from deltalake import DeltaTable

    from orchestration.cli import main
    from transforms.freight.jobs import monitor
    from transforms.lake.clock import now_beijing
    from transforms.rules import load_rules

    lake = tmp_path / "lake"
    shutil.copytree(scenario[0], lake)
    runner = CliRunner()

    def appeal(anomaly_id):
        return runner.invoke(
            main, ["freight", "appeal", "--lake", str(lake), anomaly_id, "--reason", "已续期"]
        )

    assert appeal("qualification:W2/0000").exit_code == 0
    assert appeal("qualification:W4/0000").exit_code == 0
    refused = appeal("match:W2/0000")
    assert refused.exit_code == 1 and "only qualification anomalies" in refused.output
    again = appeal("qualification:W2/0000")
    assert again.exit_code == 1 and "already has an open appeal" in again.output

    # fresh licence data: RT2 was renewed on 2026-10-30 (before W2's despatch on 11-05)
    location = str(lake / "silver" / "licences__licences")
    licences = DeltaTable(location).to_pyarrow_table().to_pylist()
    renewed = []
    for row in licences:
        if row["licence_no"] == "RT2":
            row["version_valid_to"] = dt.datetime(2026, 10, 30, tzinfo=dt.UTC)
            renewed.append(
                {**row, "version": 2, "valid_to": dt.date(2028, 10, 31), "version_valid_to": None,
                 "issued_at": dt.datetime(2026, 10, 30, tzinfo=dt.UTC),
                 "version_valid_from": dt.datetime(2026, 10, 30, tzinfo=dt.UTC)}
            )  # fmt: skip
    table = pa.Table.from_pylist(licences + renewed, DeltaTable(location).to_pyarrow_table().schema)
    write_deltalake(location, table, mode="overwrite")

    rules, licence_rules = load_rules(domain="freight"), load_rules(domain="licences")
    now = now_beijing().replace(tzinfo=None)
    assert monitor.refresh(spark, lake, rules, licence_rules, as_of=now)["appeals_decided"] == 1
    later = now + dt.timedelta(days=31)
    assert monitor.refresh(spark, lake, rules, licence_rules, as_of=later)["appeals_decided"] == 1

    listed = runner.invoke(main, ["freight", "appeals", "--lake", str(lake), "--format", "json"])
    outcome = {(e["anomaly_id"], e["event"]) for e in json.loads(listed.output)}
    assert outcome == {
        ("qualification:W2/0000", "filed"), ("qualification:W2/0000", "withdrawn"),
        ("qualification:W4/0000", "filed"), ("qualification:W4/0000", "confirmed"),
    }  # fmt: skip
    rows = _report(lake, "--anomalies")
    status = {(r["anomaly_type"], r["document_key"]): r["status"] for r in rows}
    assert status[("qualification", "W2/0000")] == "withdrawn"
    assert status[("qualification", "W4/0000")] == "confirmed"
    (s1, _) = _report(lake)
    assert s1["anomalies_qualification"] == 2  # W2's no longer counts


def test_accepted_documents_are_uploaded_once_repacked_for_the_ministry(
    scenario, tmp_path, monkeypatch
):
    """Every accepted envelope (and no other) is in the outbox of the day it arrived, encrypted
    for the ministry's key, signed with the province platform's; a second upload packs nothing;
    without the ministry's key the command says which file is missing."""
    import shutil

    from orchestration.cli import main
    from transforms.crypto.keys import KEYS_ENV, keys_dir
    from transforms.freight.envelope import SenderKey, open_envelope

    lake = tmp_path / "lake"
    shutil.copytree(scenario[0], lake)
    keys = tmp_path / "keys"
    shutil.copytree(keys_dir(), keys)
    monkeypatch.setenv(KEYS_ENV, str(keys))
    runner = CliRunner()
    missing = runner.invoke(main, ["freight", "upload", "--lake", str(lake)])
    assert missing.exit_code == 1 and "freight_ministry_sm2.pub" in missing.output

    ministry_private, ministry_public = sm2.generate_keypair()
    (keys / "freight_ministry_sm2.pub").write_text(ministry_public + "\n")
    first = runner.invoke(main, ["freight", "upload", "--lake", str(lake)])
    assert first.exit_code == 0, first.output
    assert "18 envelope(s)" in first.output  # S1: 18 less 2 rejected; S2: 3 less 1

    (day,) = sorted((lake / "outbox" / "freight").iterdir())
    assert day.name == "2026-11-20"  # the landing day the envelopes arrived
    manifest = json.loads((day / "manifest.json").read_text(encoding="utf-8"))
    (packed_file,) = day.glob("upload-*.jsonl")
    assert manifest["envelopes"] == 18 and manifest["files"][0]["file"] == packed_file.name
    platform = SenderKey("S1", key_files.platform_public_key())
    documents = {}
    for line in packed_file.read_text(encoding="utf-8").splitlines():
        packed = json.loads(line)
        assert packed["senderCode"] == "350000"
        opened = open_envelope(
            packed, {packed["enterpriseSenderCode"]: [platform]}, ministry_private, lambda *_: None
        )
        assert opened.code is None, opened.reason
        for doc in opened.documents:
            documents[doc.get("shippingNoteNumber") or doc.get("documentNumber") or doc.get("vehicleNumber") or doc.get("drivingLicense"), doc.get("totalMonetaryAmount")] = doc  # fmt: skip
    assert ("W6", 600) in documents and ("W6", 650) in documents  # both accepted versions
    assert ("W1", 1000) in documents and documents["W1", 1000] == WAYBILLS["W1"]

    again = runner.invoke(main, ["freight", "upload", "--lake", str(lake)])
    assert again.exit_code == 0 and "nothing new" in again.output


def test_an_alarm_stays_open_until_the_rectification_result_is_recorded(scenario, tmp_path, spark):
    import shutil

    from deltalake import DeltaTable

    from orchestration.cli import main
    from transforms.freight.jobs import monitor
    from transforms.rules import load_rules

    lake = tmp_path / "lake"
    shutil.copytree(scenario[0], lake)

    def alarms():
        rows = DeltaTable(str(lake / "gold" / "freight__alarms")).to_pyarrow_table().to_pylist()
        return {(r["operator_id"], r["day"]): r for r in rows}

    # S2's only waybill (W7, 2026-11-02) has three anomalies: 300 % > 5 %
    assert alarms()[("S2", "2026-11-02")]["status"] == "open"
    assert alarms()[("S2", "2026-11-02")]["anomalies"] == 3
    runner = CliRunner()
    unknown = runner.invoke(main, ["freight", "close-alarm", "--lake", str(lake), "S2", "2026-11-09", "--result", "x"])  # fmt: skip
    assert unknown.exit_code == 1 and "no alarm of S2 on 2026-11-09" in unknown.output
    closed = runner.invoke(
        main, ["freight", "close-alarm", "--lake", str(lake), "S2", "2026-11-02", "--result", "已更换车辆并补充许可证"]
    )  # fmt: skip
    assert closed.exit_code == 0, closed.output
    monitor.refresh(spark, lake, load_rules(domain="freight"), load_rules(domain="licences"))
    alarm = alarms()[("S2", "2026-11-02")]
    assert (alarm["status"], alarm["result"]) == ("closed", "已更换车辆并补充许可证")
    assert all(a["status"] == "open" for k, a in alarms().items() if k != ("S2", "2026-11-02"))


def test_the_same_sql_on_duckdb_gives_the_same_anomalies_and_statistics(scenario, spark):
    """The benchmark's baseline (the anomaly and statistics SQL transpiled to DuckDB) agrees with
    Sail row for row on the hand-built month."""
    from orchestration.bench.freight_duckdb import connect, evaluate
    from transforms.freight import anomalies
    from transforms.rules import load_rules

    lake, _ = scenario
    rules, licence_rules = load_rules(domain="freight"), load_rules(domain="licences")
    as_of = dt.datetime(2026, 12, 15, 23, 59, 59)
    rows, stats = evaluate(connect(lake), rules, licence_rules, as_of)
    assert {r[:4] for r in rows} == EXPECTED_ANOMALIES and len(rows) == len(EXPECTED_ANOMALIES)
    sail = anomalies.compute(spark, lake, rules, licence_rules, as_of)
    assert sorted(tuple(r) for r in sail.select("operator_id", "anomaly_type", "document_key", "rule", "status").collect()) == rows  # fmt: skip
    ours = {r["operator_id"]: r.asDict() for r in anomalies.compute_statistics(spark, rules, "month").collect()}  # fmt: skip
    assert len(stats) == len(ours) == 2
    for row in stats:
        mine = ours[row["operator_id"]]
        for key, value in row.items():
            assert mine[key] == pytest.approx(value, abs=1e-6) if isinstance(value, float) else mine[key] == value, key  # fmt: skip

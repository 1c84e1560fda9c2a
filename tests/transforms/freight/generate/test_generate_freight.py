"""The freight generator: every envelope opens with the code its summary says, every case of
freight.md occurs, the summary is consistent with the files, the licences it needs are what the
licence generator signs, and the same seed gives the same documents."""

from __future__ import annotations

import datetime as dt
import importlib
import json
import re
from collections import Counter
from pathlib import Path

import pytest

from transforms.crypto import keys as key_files
from transforms.crypto import sm2
from transforms.freight.envelope import (
    KEY_DECRYPT,
    PARSE,
    PAYLOAD_DECRYPT,
    SIGNATURE,
    SenderKey,
    open_envelope,
)
from transforms.freight.generate import generate_freight, licence_subjects
from transforms.reference import divisions
from transforms.reference.identifiers import is_valid_id, is_valid_uscc, is_valid_vin

START = dt.date(2026, 3, 30)  # across a month boundary
DAYS = 3
SEED = 5
PER_DAY = 120
OPENED_BEFORE_FIELDS = (SIGNATURE, KEY_DECRYPT, PAYLOAD_DECRYPT, PARSE)
REQUIRED = {  # freight.md "Fine print": the required fields (3005)
    "WLHY_YD1001": ("originalDocumentNumber", "shippingNoteNumber", "serialNumber",
                    "unifiedSocialCreditIdentifier", "despatchActualDateTime",
                    "goodsReceiptDateTime", "totalMonetaryAmount", "vehicleInfo[].vehicleNumber"),
    "WLHY_ZJ1001": ("documentNumber", "shippingNoteList", "financiallist",
                    "financiallist[].monetaryAmount", "financiallist[].dateTime"),
    "WLHY_CL1001": ("vehicleNumber", "vehiclePlateColorCode"),
    "WLHY_JSY1001": ("drivingLicense",),
}  # fmt: skip


@pytest.fixture(scope="module")
def keys_folder(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("freight-keys") / "keys"
    key_files.init_keys(folder)
    return folder


@pytest.fixture
def own_keys(monkeypatch, keys_folder) -> Path:
    monkeypatch.setenv(key_files.KEYS_ENV, str(keys_folder))
    return keys_folder


def _generate(lake: Path, keys_folder: Path, seed: int = SEED, **kw):
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv(key_files.KEYS_ENV, str(keys_folder))
        return generate_freight(lake, START, DAYS, seed=seed, waybills_per_day=PER_DAY, **kw)


@pytest.fixture(scope="module")
def generated(tmp_path_factory, keys_folder):
    lake = tmp_path_factory.mktemp("freight") / "lake"
    return lake, _generate(lake, keys_folder)


def _senders(lake: Path) -> dict[str, list[SenderKey]]:
    out: dict[str, list[SenderKey]] = {}
    for path in (lake / "landing/freight/senders").glob("*/*.jsonl"):
        for line in path.read_text("utf-8").splitlines():
            s = json.loads(line)
            out.setdefault(s["enterpriseSenderCode"], []).append(
                SenderKey(s["enterpriseSenderCode"], s["sm2_public_key"],
                          dt.date.fromisoformat(s["valid_from"]),
                          dt.date.fromisoformat(s["valid_to"]) if s["valid_to"] else None)
            )  # fmt: skip
    return out


def _envelopes(lake: Path) -> list[tuple[str, int, dict]]:
    """(file, line, envelope) of every landing file, a byte-identical copy of an earlier file
    left out (landing skips it)."""
    seen: set[bytes] = set()
    out = []
    for path in sorted((lake / "landing/freight/envelopes").glob("*/*.json*")):
        data = path.read_bytes()
        if data in seen:
            continue
        seen.add(data)
        name = str(path.relative_to(lake))
        for n, line in enumerate(data.decode("utf-8").splitlines(), start=1):
            out.append((name, n, json.loads(line)))
    return out


def _missing(ipc: str | None, docs: list[dict]) -> str | None:
    for doc in docs:
        for path in REQUIRED[ipc]:
            head, _, rest = path.partition("[].")
            value = doc.get(head)
            if rest and isinstance(value, list) and value:
                value = value[0].get(rest)
            if value in (None, "", []):
                return path
    return None


@pytest.fixture(scope="module")
def opened(generated, keys_folder):
    """Every envelope opened with the platform's private key and the senders' keys (a field
    check accepting everything; the required fields checked here), in order of arrival
    (received_at, else 00:00 of the folder's day), with its code: 3001 for a reference already
    accepted, else 1001."""
    lake, _ = generated
    private = key_files.platform_private_key(keys_folder)
    senders = _senders(lake)
    out = []
    for name, line, envelope in _envelopes(lake):
        result = open_envelope(envelope, senders, private, lambda ipc, docs: None)
        code = result.code
        if code is None and _missing(envelope.get("ipcType"), result.documents):
            code = 3005
        out.append((name, line, envelope, code, result.documents))

    def arrival(item):
        name, line, envelope, *_ = item
        return (envelope.get("received_at") or name.split("/")[3] + " 00:00:00", name, line)

    accepted: set[str] = set()
    decided = []
    for name, line, envelope, code, docs in sorted(out, key=arrival):
        if code is None:
            reference = envelope["messageReferenceNumber"]
            code = 3001 if reference in accepted else 1001
            accepted.add(reference)
        decided.append((name, line, envelope, code, docs))
    return decided


def test_every_envelope_opens_with_the_code_of_the_summary(generated, opened):
    _, s = generated
    got: dict[str, list[int]] = {}
    for _, _, envelope, code, _ in opened:
        got.setdefault(envelope["messageReferenceNumber"], []).append(code)
    assert got == s.envelope_codes
    assert Counter(c for codes in got.values() for c in codes) == Counter(
        {int(k): v for k, v in s.by_code.items()}
    )
    assert len(opened) == s.envelopes
    # 3009, 3006, 3007, 3008 all decided by opening
    assert {c for _, _, _, c, _ in opened} >= {*OPENED_BEFORE_FIELDS, 3005}


def test_every_case_occurs(generated):
    _, s = generated
    for case, n in s.injected.items():
        if case != "resent_lines":
            assert n >= 1, case
    assert set(s.by_code) == {"1001", "3001", "3005", "3006", "3007", "3008", "3009"}
    for kind in ("late_upload", "correction", "resend", "permit_missing"):
        assert s.cases[f"waybill.{kind}"] >= 1, kind
    for kind in ("no_fund_flow", "amount", "sum_mismatch", "payee", "early", "cash", "unlisted"):
        assert s.cases[f"payment.{kind}"] >= 1, kind
    for kind in ("trip_off", "late_start", "early_stop", "hover", "offline_vehicle"):
        assert s.cases[f"positions.{kind}"] >= 1, kind
    assert s.cases["double_booking.cross_operator"] >= 1
    assert s.cases["double_booking"] > s.cases["double_booking.cross_operator"]
    assert s.cases["unknown_county"] >= 1 and s.unknown_distance >= 1
    expected_rules = {
        "access.rejected", "access.late_upload",
        "qualification.operator_permit_not_found", "qualification.operator_permit_expired",
        "qualification.operator_permit_revoked", "qualification.vehicle_record_missing",
        "qualification.vehicle_licence_not_found", "qualification.vehicle_licence_expired",
        "qualification.vehicle_licence_revoked", "qualification.vehicle_licence_holder_mismatch",
        "qualification.vehicle_placeholder_not_allowed", "qualification.driver_record_missing",
        "qualification.driver_licence_not_found", "qualification.driver_licence_expired",
        "qualification.driver_licence_revoked", "qualification.driver_licence_suspended",
        "qualification.driver_placeholder_not_allowed", "vehicle_network.no_positions",
        "trajectory.first_point_far", "trajectory.last_point_far", "trajectory.track_too_short",
        "match.no_fund_flow", "match.amount_mismatch", "match.payee_mismatch",
        "match.payment_before_despatch", "match.payment_means_not_allowed",
        "match.fund_flow_sum_mismatch", "duplicate.versions", "duplicate.vehicle_overlap",
    }  # fmt: skip
    assert expected_rules <= set(s.rules), expected_rules - set(s.rules)
    # and the cases that must not be anomalies are there too
    assert s.identical_resends >= 1 and s.small_overlaps >= 1
    assert s.placeholders_allowed["vehicle"] >= 1 and s.placeholders_allowed["driver"] >= 1
    assert s.injected["without_04"] >= 1 and s.injected["same_reference_retry"] >= 1


def test_the_summary_adds_up(generated, opened):
    lake, s = generated
    assert sum(s.by_code.values()) == s.envelopes
    assert len(s.anomalies) == len(set(s.anomalies)) == sum(s.anomalies_by_type.values())
    assert sum(s.rules.values()) == len(s.anomalies)
    assert s.as_of == (START + dt.timedelta(days=DAYS - 1 + 31)).isoformat()
    rejected = {r for r, codes in s.envelope_codes.items() if any(c != 1001 for c in codes)}
    assert {k for _, t, k in s.anomalies if t == "access" and "/" not in k} == rejected
    # statistics: registered operators only, every one in both months, ranks 1..n per period
    senders = _senders(lake)
    periods = {row["period"] for row in s.stats.values()}
    assert periods >= {"2026-03", "2026-04"}
    assert {row["operator_id"] for row in s.stats.values()} == set(senders)
    assert all(f"{o}|{p}" in s.stats for o in senders for p in ("2026-03", "2026-04"))
    for period in periods:
        rows = [r for r in s.stats.values() if r["period"] == period]
        assert sorted(r["rank"] for r in rows) == list(range(1, len(rows) + 1))
        assert all(0 <= r["score"] <= 100 for r in rows)
    rows = list(s.stats.values())
    assert sum(r["waybills"] for r in rows) == s.waybills
    assert sum(r["envelopes"] for r in rows) + s.injected["unknown_sender"] == s.envelopes
    assert sum(r["unknown_distance"] for r in rows) == s.unknown_distance
    for t in s.anomalies_by_type:
        unregistered = sum(1 for o, x, _ in s.anomalies if x == t and o not in senders)
        assert sum(r[f"anomalies_{t}"] for r in rows) + unregistered == s.anomalies_by_type[t]
    # the accepted documents: one winning waybill per key, its charges and weights
    waybills: dict[str, list[tuple[str, dict]]] = {}
    for _, _, envelope, code, docs in opened:
        if code == 1001 and envelope["ipcType"] == "WLHY_YD1001":
            for doc in docs:
                key = f"{doc['shippingNoteNumber']}/{doc['serialNumber']}"
                waybills.setdefault(key, []).append((envelope["messageSendingDateTime"], doc))
    assert len(waybills) == s.waybills
    winners = {k: max(v, key=lambda x: x[0])[1] for k, v in waybills.items()}
    charges = sum(w["totalMonetaryAmount"] for w in winners.values())
    assert charges == pytest.approx(sum(r["charges_yuan"] for r in rows), abs=0.01)
    tonnes = sum(g["goodsItemGrossWeight"] for w in winners.values()
                 for v in w["vehicleInfo"] for g in v["goodsInfo"]) / 1000  # fmt: skip
    assert tonnes == pytest.approx(sum(r["tonnes"] for r in rows), rel=1e-9)
    # versions: two distinct bodies ⇒ a duplicate row; one body sent twice ⇒ none for that
    bodies = {k: {json.dumps(d, sort_keys=True) for _, d in v} for k, v in waybills.items()}
    duplicate = {k for _, t, k in s.anomalies if t == "duplicate"}
    versions = {k for k, b in bodies.items() if len(b) >= 2}
    assert len(versions) == s.waybill_versions and versions <= duplicate
    identical = {k for k, v in waybills.items() if len(v) >= 2 and len(bodies[k]) == 1}
    assert len(identical) == s.identical_resends >= 1
    assert len(duplicate) - len(versions) == s.rules["duplicate.vehicle_overlap"]
    # late uploads ⇒ access rows
    late = {k for k, w in winners.items()
            if dt.datetime.strptime(w["sendToProDateTime"], "%Y%m%d%H%M%S")
            > dt.datetime.strptime(w["goodsReceiptDateTime"], "%Y%m%d%H%M%S")
            + dt.timedelta(hours=24)}  # fmt: skip
    assert late == {k for _, t, k in s.anomalies if t == "access" and "/" in k}
    # unknown county codes
    unknown = {k for k, w in winners.items() for v in w["vehicleInfo"]
               if divisions.division(v["loadingCountrySubdivisionCode"]) is None
               or divisions.division(v["receiptCountrySubdivisionCode"]) is None}  # fmt: skip
    assert len(unknown) == s.unknown_distance
    assert all(c in divisions.RETIRED for w in winners.values() for v in w["vehicleInfo"]
               for c in (v["loadingCountrySubdivisionCode"], v["receiptCountrySubdivisionCode"])
               if divisions.division(c) is None)  # fmt: skip


def test_the_documents_look_real(opened):
    for _, _, envelope, code, docs in opened:
        if code != 1001:
            continue
        kind = envelope["ipcType"]
        for doc in docs:
            if kind == "WLHY_YD1001":
                assert is_valid_uscc(doc["unifiedSocialCreditIdentifier"])
                assert re.fullmatch(r"\d{14}", doc["despatchActualDateTime"])
                assert isinstance(doc["totalMonetaryAmount"], float | int)
                assert doc["insuranceInformation"] and doc["consignorInfo"] and doc["consigneeInfo"]
                for v in doc["vehicleInfo"]:
                    assert all(is_valid_id(d["drivingLicense"]) for d in v["driver"])
                    assert all(isinstance(g["goodsItemGrossWeight"], float | int)
                               for g in v["goodsInfo"])  # fmt: skip
            elif kind == "WLHY_CL1001":
                assert is_valid_vin(doc["VIN"]) and isinstance(doc["grossMass"], float | int)
            elif kind == "WLHY_JSY1001":
                assert is_valid_id(doc["drivingLicense"])


def test_the_field_rules_of_the_lake_agree(opened):
    """The lake's field rules (transforms/freight/documents.py) fail exactly the 3005 cases."""
    from transforms.freight.documents import check_fields
    from transforms.rules import load_rules

    rules = load_rules(domain="freight")
    for name, line, envelope, code, docs in opened:
        if code in (1001, 3001, 3005):
            broken = check_fields(envelope["ipcType"], docs, rules)
            assert (broken is not None) == (code == 3005), (name, line, broken)


def test_positions_senders_and_divisions(generated):
    lake, s = generated
    base = lake / "landing"
    points = [json.loads(x) for p in sorted(base.glob("freight/national_positions/*/*.jsonl"))
              for x in p.read_text("utf-8").splitlines()]  # fmt: skip
    assert len(points) == s.national_positions > 0
    assert set(points[0]) == {"plate", "plate_color", "gnss_time", "lon", "lat", "speed"}
    assert all(re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d", p["gnss_time"]) for p in points)
    keys = [(p["plate"], p["plate_color"], p["gnss_time"]) for p in points]
    assert len(keys) == len(set(keys))  # one point per vehicle and second
    senders = [json.loads(x) for x in (base / f"freight/senders/{START}/senders.jsonl")
               .read_text("utf-8").splitlines()]  # fmt: skip
    assert len(senders) == s.sender_keys == s.operators + 1  # one operator rotated its key
    rotated = Counter(x["enterpriseSenderCode"] for x in senders).most_common(1)[0]
    assert rotated[1] == 2
    assert all(len(x["sm2_public_key"]) == 130 and is_valid_uscc(x["unifiedSocialCreditIdentifier"])
               for x in senders)  # fmt: skip
    rows = [json.loads(x) for x in (base / f"reference/divisions/{START}/divisions.jsonl")
            .read_text("utf-8").splitlines()]  # fmt: skip
    assert len(rows) == s.divisions
    codes = {r["code"] for r in rows}
    assert all(r["parent_code"] in codes for r in rows if r["level"] != "province")
    assert {"350000", "350900", "350902", "350982"} <= codes
    assert not codes & set(divisions.RETIRED)


def test_divisions_agree_with_the_telematics_geography():
    from transforms.telematics.generate.geography import COUNTIES, EXTERNAL_TOWNS

    for town in COUNTIES:
        d = divisions.division(town.code)
        assert (d.name, d.lon, d.lat) == (town.name, town.lon, town.lat)
    cities = {d.name: d for d in divisions.DIVISIONS if d.level == "city"}
    for town in EXTERNAL_TOWNS:
        assert (cities[town.name].lon, cities[town.name].lat) == (town.lon, town.lat)


def test_same_seed_same_documents(generated, keys_folder, tmp_path):
    lake, s = generated
    again = tmp_path / "lake"
    t = _generate(again, keys_folder)
    assert t.to_dict() == s.to_dict()

    def stable(lake):  # everything but the SM2 bytes (nonces from the OS)
        return [(n, line, {k: v for k, v in e.items() if k not in ("encryptedCode", "signature")})
                for n, line, e in _envelopes(lake)]  # fmt: skip

    assert stable(again) == stable(lake)
    for pattern in ("freight/national_positions/*/*.jsonl", "freight/senders/*/*.jsonl",
                    "reference/divisions/*/*.jsonl"):  # fmt: skip
        a = sorted((lake / "landing").glob(pattern))
        b = sorted((again / "landing").glob(pattern))
        assert [p.read_bytes() for p in a] == [p.read_bytes() for p in b]
    other = _generate(tmp_path / "other", keys_folder, seed=SEED + 1)
    assert other.envelope_codes != s.envelope_codes
    with pytest.raises(FileExistsError, match="force"):
        _generate(again, keys_folder)
    assert _generate(again, keys_folder, force=True).to_dict() == s.to_dict()


def test_missing_keys_are_a_clear_error(tmp_path, monkeypatch):
    monkeypatch.setenv(key_files.KEYS_ENV, str(tmp_path / "no-keys"))
    with pytest.raises(key_files.MissingKeyError, match="keys init"):
        generate_freight(tmp_path / "lake", START, 1, waybills_per_day=10)
    assert not (tmp_path / "lake").exists()


def test_the_licences_are_the_ones_the_licence_generator_signs(
    generated, opened, tmp_path, own_keys
):
    """licence_subjects gives the numbers the documents file; the licence generator (through
    the `lakehouse generate` hook, with freight registered) signs and counts them."""
    import transforms.domains as domains
    from orchestration.cli.licences import generate_after_telematics
    from transforms.freight.domain import DOMAIN as FREIGHT

    _, s = generated
    specs = licence_subjects(START, DAYS, SEED, PER_DAY)
    assert len(specs) == s.licences
    numbers = {x["licence_no"]: x for x in specs}
    filed = Counter()
    for _, _, _, code, docs in opened:
        if code != 1001:
            continue
        for doc in docs:
            for field, kind in (("permitNumber", "freight_platform_permit"),
                                ("roadTransportCertificateNumber", "vehicle_transport"),
                                ("qualificationCertificate", "driver_qualification")):  # fmt: skip
                number = doc.get(field)
                if number in numbers:
                    assert numbers[number]["kind"] == kind
                    filed[kind] += 1
    assert set(filed) == {"freight_platform_permit", "vehicle_transport", "driver_qualification"}

    lake = tmp_path / "licences-lake"
    # the domains that hand the licence generator no subjects of their own (ride-hailing does)
    others = tuple(
        d for d in domains.DOMAINS
        if not hasattr(importlib.import_module(f"orchestration.cli.{d.name}"), "licence_subjects")
    )  # fmt: skip
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(domains, "DOMAINS", (*others, FREIGHT))
        scale = {"freight_waybills_per_day": PER_DAY}
        summary = generate_after_telematics(lake, START, DAYS, SEED, False, None, scale=scale)
    assert summary["extra"] == len(specs)
    versions = sum(len(x["versions"]) for x in specs)
    lines = [json.loads(x) for p in sorted((lake / "landing/licences/issuance").glob("*/*.jsonl"))
             for x in p.read_text("utf-8").splitlines()]  # fmt: skip
    authorities = [json.loads(x) for p in (lake / "landing/licences/authorities").glob("*/*.jsonl")
                   for x in p.read_text("utf-8").splitlines()]  # fmt: skip
    public = {a["key_id"]: a["sm2_public_key"] for a in authorities}
    from transforms.licences.parsers import canonical_text

    def signed(x: dict) -> bool:  # a forgery may alter one of these licences: not signed
        key = public.get(x["signer_key_id"])
        return key is not None and sm2.verify(canonical_text(x).encode(), x["signature"], key)

    mine = {json.dumps(x, sort_keys=True): x for x in lines if x["licence_no"] in numbers}
    assert sum(1 for x in mine.values() if signed(x)) == versions
    assert {(x["licence_no"], x["version"]) for x in mine.values() if signed(x)} == {
        (x["licence_no"], n) for x in specs for n in range(1, len(x["versions"]) + 1)
    }
    kinds = Counter(x["kind"] for x in specs)
    for kind, n in kinds.items():
        assert summary["by_kind"][kind] >= n
    # without freight the hook is what it was: only an explicit `extra` adds licences
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(domains, "DOMAINS", others)
        plain = generate_after_telematics(tmp_path / "plain", START, DAYS, SEED, False, None)
        explicit = generate_after_telematics(tmp_path / "explicit", START, DAYS, SEED, False,
                                             None, extra=specs[:3])  # fmt: skip
    assert plain["extra"] == 0
    assert explicit["extra"] == 3 and explicit["licences"] == plain["licences"] + 3

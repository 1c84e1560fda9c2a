"""Documents into national-crypto envelopes (freight.md "Uploads and the national-crypto
envelope"), the envelope cases, and the landing files.

Each operator uploads its vehicle and driver records (WLHY_CL1001 / WLHY_JSY1001) at the start of
the run, each waybill when it is uploaded (sendToProDateTime; a correction or a re-send later),
each fund flow when it is uploaded. An operator's documents of one kind within 15 minutes go into
one envelope (up to its ``max_docs``), sent 1–30 s after the last of them and received 1–20 s
later. Envelope cases (forced on the first waybill envelopes that qualify, then the share of
envelopes):

| case | share | what | code |
|---|---|---|---|
| ``tampered`` | 0.2 % | encryptedContent changed after signing | 3009 |
| ``key_not_valid`` | 2 % of the rotating operator's from its key rotation on | signed with its retired key | 3009 |
| ``unknown_sender`` | one a day | a platform that never registered | 3009 |
| ``other_platform_key`` | 0.2 % | SM4 key encrypted for another province platform's key | 3006 |
| ``bad_base64`` | 0.1 % | one character of encryptedContent is not base64 (signed as sent) | 3007 |
| ``bad_padding`` | 0.1 % | SM4 without PKCS#7 (zero padding) | 3007 |
| ``not_json`` | 0.2 % | a cut-off body, a UTF-16 body, or a bare JSON string | 3008 |
| ``missing_field`` | 0.4 % | one document lacks a required field (each in turn) | 3005 |
| ``duplicate_reference`` | 0.3 % | the same envelope re-sent 1–6 h after it was accepted | 3001 |

A rejected envelope (every case but the last two) is re-sent 10–90 min later, corrected, and
accepted: half the time under the same messageReferenceNumber (which a rejection does not use
up), half under a new one. The 泉州 operator's SDK leaves C1's ``04`` out of encryptedCode
(accepted). The small operator writes each envelope to its own ``.json`` file without
``received_at`` (it arrives at 00:00 of its folder's day) and a single document as a JSON object
instead of an array; the others write ``<operator>-<YYYYMMDD>-<quarter>.jsonl`` files per arrival
day and 6 hours, with ``received_at``. One ``.jsonl`` file of the first day is re-sent byte for
byte into the next day's folder (a no-op at landing).
"""

from __future__ import annotations

import base64
import datetime as dt
import json
import uuid
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from transforms.crypto import sm2, sm4
from transforms.freight.envelope import pack_envelope
from transforms.freight.generate import documents
from transforms.freight.generate.documents import DRIVER, FUND_FLOW, IPC, VEHICLE, WAYBILL
from transforms.freight.generate.world import KEY_ROTATING, World

SEED_STREAM_ENVELOPES = 67
BATCH_WINDOW_S = 15 * 60
SEND_DELAY_S = (1, 31)
RECEIVE_DELAY_S = (1, 21)
REGISTRATION_S = (5 * 60, 55 * 60)  # records uploaded 00:05–00:55 of the first day
RESEND_AFTER_REJECTION_S = (10 * 60, 90 * 60)
DUPLICATE_AFTER_S = (3600, 6 * 3600)
OK, DUPLICATE = 1001, 3001
CASES = {  # case → (share, code)
    "tampered": (0.002, 3009),
    "key_not_valid": (0.02, 3009),
    "other_platform_key": (0.002, 3006),
    "bad_base64": (0.001, 3007),
    "bad_padding": (0.001, 3007),
    "not_json": (0.002, 3008),
    "missing_field": (0.004, 3005),
    "duplicate_reference": (0.003, DUPLICATE),
}
UNKNOWN_SENDER_CODE = 3009
NOT_JSON_FORMS = ("cut", "utf16", "scalar")
QUARTER_S = 6 * 3600


@dataclass(frozen=True)
class Doc:
    """A document to upload: kind, index (waybill / fund flow / vehicle / driver), version
    (waybills: 1 or 2), upload time (s from the run start), operator."""

    kind: str
    key: int
    version: int
    time: int
    operator: int


@dataclass
class Envelope:
    reference: str
    operator: int  # -1: the unknown sender
    kind: str
    docs: list[Doc]
    sent: int
    received: int
    case: str = ""  # "" for an ordinary envelope
    code: int = OK  # what it must get
    variant: int = 0  # which missing field / not-JSON form
    same_reference_retry: bool = False  # a retry after a rejection that kept the reference
    fake: list[dict[str, Any]] = field(default_factory=list)  # the unknown sender's documents
    file: str = ""  # relative to landing/freight/envelopes
    line: int = 0
    json_file: bool = False

    @property
    def sent_day(self) -> int:
        return self.sent // 86_400


def _guid(rng: np.random.Generator) -> str:
    return str(uuid.UUID(bytes=bytes(rng.integers(0, 256, 16, dtype=np.uint8)), version=4)).upper()


def upload_documents(world: World, trips, content, flows, subjects) -> list[Doc]:
    """Every document upload of the run (module docstring), in time order."""
    rng = np.random.default_rng([world.seed, SEED_STREAM_ENVELOPES, 1])
    fleet = world.fleet
    docs: list[Doc] = []
    # records: each operator uploads its vehicles and their drivers; an operator that books a
    # vehicle it does not own (a double booking) uploads that vehicle's records too
    registered: dict[int, set[int]] = {op.index: set() for op in world.operators}
    for v, op in enumerate(fleet.operator):
        registered[op].add(v)
    for i in range(len(trips)):
        registered[trips.operator[i]].add(trips.vehicle[i])
    for op, vehicles in registered.items():
        for v in sorted(vehicles):
            if subjects.vehicle_record[v]:
                docs.append(Doc(VEHICLE, v, 1, int(rng.integers(*REGISTRATION_S)), op))
            for d in fleet.drivers[v]:
                if subjects.driver_record[d]:
                    docs.append(Doc(DRIVER, d, 1, int(rng.integers(*REGISTRATION_S)), op))
    for i in range(len(trips)):
        op = trips.operator[i]
        docs.append(Doc(WAYBILL, i, 1, content.upload[i], op))
        if content.upload_v2[i] is not None:
            version = 2 if content.case[i] == "correction" else 1
            docs.append(Doc(WAYBILL, i, version, content.upload_v2[i], op))
    for f_index, f in enumerate(flows):
        docs.append(Doc(FUND_FLOW, f_index, 1, f.upload, f.operator))
    docs.sort(key=lambda d: (d.time, d.operator, d.kind, d.key, d.version))
    return docs


def batch(world: World, docs: list[Doc]) -> list[Envelope]:
    """Documents into envelopes: an operator's documents of one kind within the window, up to
    its max_docs (references drawn later, in order)."""
    rng = np.random.default_rng([world.seed, SEED_STREAM_ENVELOPES, 2])
    open_batches: dict[tuple[int, str], list[Doc]] = {}
    out: list[Envelope] = []

    def close(key: tuple[int, str]) -> None:
        group = open_batches.pop(key)
        sent = group[-1].time + int(rng.integers(*SEND_DELAY_S))
        out.append(Envelope("", key[0], key[1], group, sent, 0))

    for doc in docs:
        key = (doc.operator, doc.kind)
        group = open_batches.get(key)
        if group is not None and (
            doc.time - group[0].time > BATCH_WINDOW_S
            or len(group) >= world.operators[doc.operator].max_docs
        ):
            close(key)
            group = None
        if group is None:
            open_batches[key] = [doc]
        else:
            group.append(doc)
    for key in list(open_batches):
        close(key)
    out.sort(key=lambda e: (e.sent, e.operator, e.kind))
    return out


def inject(world: World, envelopes: list[Envelope]) -> tuple[list[Envelope], dict[str, int]]:
    """The envelope cases (module docstring); every envelope gets its reference, received time
    and the code it must get. Returns every envelope (rejected attempts and duplicates
    included) and what was injected."""
    rng = np.random.default_rng([world.seed, SEED_STREAM_ENVELOPES, 3])
    todo = [c for c in CASES]
    injected: dict[str, int] = {c: 0 for c in CASES}
    injected.update(unknown_sender=0, same_reference_retry=0, new_reference_retry=0)
    retries_forced = ["same", "new"]
    missing_turn = {kind: 0 for kind in documents.REQUIRED}
    not_json_turn = 0
    out: list[Envelope] = []
    rotation_day = (world.rotation - world.start).days

    def eligible(e: Envelope, case: str) -> bool:
        op = world.operators[e.operator]
        if case == "key_not_valid":
            return e.operator == KEY_ROTATING and e.sent_day >= rotation_day
        if case == "duplicate_reference":
            return not op.writes_json
        return True

    for e in envelopes:
        e.reference = _guid(rng)
        e.received = e.sent + int(rng.integers(*RECEIVE_DELAY_S))
        case = ""
        if e.kind == WAYBILL:
            case = next((c for c in todo if eligible(e, c)), "")
            if case:
                todo.remove(case)
        if not case:
            u, acc = rng.random(), 0.0
            for name, (share, _) in CASES.items():
                acc += share
                if u < acc:
                    case = name if eligible(e, name) else ""
                    break
        out.append(e)
        if not case:
            continue
        injected[case] += 1
        if case == "duplicate_reference":
            sent = e.sent + int(rng.integers(*DUPLICATE_AFTER_S))
            out.append(Envelope(e.reference, e.operator, e.kind, e.docs, sent,
                                sent + int(rng.integers(*RECEIVE_DELAY_S)), case, DUPLICATE))  # fmt: skip
            continue
        # a rejected attempt at the original time, the corrected envelope later
        bad = Envelope(e.reference, e.operator, e.kind, e.docs, e.sent, e.received, case,
                       CASES[case][1])  # fmt: skip
        if case == "missing_field":
            fields = documents.REQUIRED[e.kind]
            bad.variant = missing_turn[e.kind] % len(fields)
            missing_turn[e.kind] += 1
        elif case == "not_json":
            bad.variant = not_json_turn % len(NOT_JSON_FORMS)
            not_json_turn += 1
        out[-1] = bad
        retry = (
            retries_forced.pop(0) if retries_forced else ("same" if rng.random() < 0.5 else "new")
        )
        e.sent = e.sent + int(rng.integers(*RESEND_AFTER_REJECTION_S))
        e.received = e.sent + int(rng.integers(*RECEIVE_DELAY_S))
        if retry == "same":
            e.same_reference_retry = True
            injected["same_reference_retry"] += 1
        else:
            e.reference = _guid(rng)
            injected["new_reference_retry"] += 1
        out.append(e)
    # the never-registered sender: one envelope a day
    for day in range(world.days):
        sent = day * 86_400 + int(rng.integers(8 * 3600, 20 * 3600))
        at = dt.datetime.combine(world.start, dt.time()) + dt.timedelta(seconds=sent)
        fake = [documents.fake_waybill(world, day * 10 + k + 1, at)
                for k in range(int(rng.integers(1, 4)))]  # fmt: skip
        out.append(Envelope(_guid(rng), -1, WAYBILL, [], sent,
                            sent + int(rng.integers(*RECEIVE_DELAY_S)), "unknown_sender",
                            UNKNOWN_SENDER_CODE, fake=fake))  # fmt: skip
        injected["unknown_sender"] += 1
    injected["without_04"] = sum(
        1 for e in out if e.operator >= 0 and not world.operators[e.operator].with_04
    )
    return out, injected


def received_effective(world: World, e: Envelope) -> int:
    """When the lake takes the envelope to have arrived: its received_at, or 00:00 of its
    folder's day for a ``.json`` file without one."""
    return (e.received // 86_400) * 86_400 if e.json_file else e.received


def decide_codes(world: World, envelopes: list[Envelope]) -> None:
    """Check the codes the cases set against the spec's reception-order rule: in order of
    arrival, a reference already accepted makes 3001, else the case's code, else 1001."""
    accepted: set[str] = set()
    for e in sorted(envelopes, key=lambda e: (received_effective(world, e), e.file, e.line)):
        expected = e.code
        if e.case and e.case != "duplicate_reference":
            code = e.code
        elif e.reference in accepted:
            code = DUPLICATE
        else:
            code = OK
            accepted.add(e.reference)
        if code != expected:
            raise AssertionError(
                f"envelope {e.reference}: constructed {expected}, rule gives {code}"
            )


def assign_files(world: World, envelopes: list[Envelope]) -> dict[str, list[Envelope]]:
    """Envelopes into landing files (module docstring): relative path → envelopes in order."""
    files: dict[str, list[Envelope]] = {}
    seq: dict[int, int] = {}
    for e in sorted(envelopes, key=lambda e: (e.received, e.operator, e.reference)):
        day = world.start + dt.timedelta(days=e.received // 86_400)
        op = world.operators[e.operator] if e.operator >= 0 else world.unknown_sender
        if op.writes_json:
            seq[e.operator] = seq.get(e.operator, 0) + 1
            name = f"{day.isoformat()}/{op.code}-{seq[e.operator]:06d}.json"
            e.json_file = True
        else:
            quarter = (e.received % 86_400) // QUARTER_S + 1
            name = f"{day.isoformat()}/{op.code}-{day:%Y%m%d}-{quarter}.jsonl"
        files.setdefault(name, []).append(e)
        e.file = name
        e.line = len(files[name])
    return files


def _resigned(envelope: dict[str, str], content: str, private_key: str) -> dict[str, str]:
    return {**envelope, "encryptedContent": content,
            "signature": sm2.sign(content.encode("ascii"), private_key)}  # fmt: skip


def pack(
    world: World,
    e: Envelope,
    bodies: list[dict[str, Any]],
    platform_key: str,
    rng: np.random.Generator,
) -> dict[str, Any]:
    """The envelope object of ``e`` with its documents ``bodies`` (the case applied)."""
    op = world.operators[e.operator] if e.operator >= 0 else world.unknown_sender
    sent_at = dt.datetime.combine(world.start, dt.time()) + dt.timedelta(seconds=e.sent)
    key = op.key_on(sent_at.date())
    private = key.private_key
    if e.case == "key_not_valid":
        private = op.keys[0].private_key  # the retired key
    if e.case == "missing_field":
        path = documents.REQUIRED[e.kind][e.variant]
        bodies = [documents.without(bodies[0], path), *bodies[1:]]
    payload: Any = bodies[0] if op.writes_json and len(bodies) == 1 else bodies
    sm4_key = bytes(rng.integers(0, 256, 16, dtype=np.uint8))
    envelope = pack_envelope(
        payload, ipc_type=IPC[e.kind], enterprise_sender_code=op.code,
        sender_private_key=private,
        platform_public_key=world.other_platform_public_key if e.case == "other_platform_key"
        else platform_key,
        sent_at=sent_at, document_name=documents.DOCUMENT_NAME[e.kind], reference=e.reference,
        sm4_key=sm4_key, with_04=op.with_04,
    )  # fmt: skip
    body = json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode()
    if e.case == "tampered":  # altered on the way: the signature no longer matches
        altered = json.dumps([{**bodies[0], "remark": "改"}, *bodies[1:]], ensure_ascii=False,
                             separators=(",", ":")).encode()  # fmt: skip
        envelope["encryptedContent"] = base64.b64encode(sm4.encrypt_ecb(altered, sm4_key)).decode()
    elif e.case == "bad_base64":
        content = envelope["encryptedContent"]
        middle = len(content) // 2
        envelope = _resigned(envelope, content[:middle] + "*" + content[middle + 1 :], private)
    elif e.case == "bad_padding":  # zero padding instead of PKCS#7: the last byte is 0
        padded = body + b"\0" * (16 - len(body) % 16)
        cipher = sm4.encrypt_ecb(padded, sm4_key)[: len(padded)]
        envelope = _resigned(envelope, base64.b64encode(cipher).decode(), private)
    elif e.case == "not_json":
        form = NOT_JSON_FORMS[e.variant]
        if form == "cut":
            raw = body[: len(body) // 2]
        elif form == "utf16":
            raw = body.decode("utf-8").encode("utf-16")
        else:
            raw = json.dumps("运单已上传", ensure_ascii=False).encode()
        envelope = _resigned(
            envelope, base64.b64encode(sm4.encrypt_ecb(raw, sm4_key)).decode(), private
        )
    if not e.json_file:
        envelope["received_at"] = (sent_at + dt.timedelta(seconds=e.received - e.sent)).strftime(
            "%Y-%m-%d %H:%M:%S"
        )
    return envelope

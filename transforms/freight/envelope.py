"""The national-crypto envelope of network-freight uploads (freight.md "Uploads and the
national-crypto envelope", "Crypto details", "Fine print"): packing one, and opening one with the
spec's result codes in the spec's order.

An envelope is a JSON object: messageReferenceNumber, documentName, documentVersionNumber,
senderCode, enterpriseSenderCode, messageSendingDateTime (``YYYYMMDDhhmmss``, GMT+8), ipcType (the
interface code), encryptedCode, encryptedContent and signature:

- encryptedCode = hex of SM2 encryption (C1C2C3) of a random 16-byte SM4 key under the province
  platform's public key, with C1's ``04`` or without it — told apart by length (226 or 224 hex
  digits), never by the leading digits;
- encryptedContent = base64 of SM4-ECB (PKCS#7) of the UTF-8 JSON body: one document (an object)
  or several of the same kind (an array);
- signature = hex r‖s of SM2 (SM3, user id ``1234567812345678``) by the sender's private key over
  the UTF-8 bytes of the encryptedContent string.

:func:`open_envelope` runs the checks up to the field rules — 3009 (unknown sender, no key valid on
the sending day, bad signature) → 3006 (key unwrap) → 3007 (base64, SM4, padding) → 3008 (not
UTF-8, not JSON, neither an object nor an array of objects) → 3005 (unknown interface, a required
field missing or invalid). 3001 (a reference already accepted) needs every envelope received before
this one, so publishing decides it, then 1001.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import json
import os
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from transforms.crypto import sm2, sm3, sm4
from transforms.crypto.errors import CryptoError
from transforms.lake.landing import first_value_wins

OK = 1001
DUPLICATE = 3001
FIELD_RULES = 3005
KEY_DECRYPT = 3006
PAYLOAD_DECRYPT = 3007
PARSE = 3008
SIGNATURE = 3009
RESULT_CODES = {
    OK: "ok",
    DUPLICATE: "duplicate messageReferenceNumber",
    FIELD_RULES: "field validation failed",
    KEY_DECRYPT: "SM4 key could not be decrypted",
    PAYLOAD_DECRYPT: "payload could not be decrypted",
    PARSE: "payload could not be parsed",
    SIGNATURE: "unknown sender or bad signature",
}

# the envelope's own fields, in the order the spec lists them
ENVELOPE_FIELDS = (
    "messageReferenceNumber", "documentName", "documentVersionNumber", "senderCode",
    "enterpriseSenderCode", "messageSendingDateTime", "ipcType", "encryptedCode",
    "encryptedContent", "signature",
)  # fmt: skip
DOCUMENT_VERSION = "2015WCCYR"
SM4_KEY_BYTES = 16
ENCRYPTED_CODE_HEX = {226: True, 224: False}  # length → carries C1's 04 prefix
TIME_FORMAT = "%Y%m%d%H%M%S"


@dataclass(frozen=True)
class SenderKey:
    """One registered public key of a sender (freight/senders), valid over a date range
    (inclusive; None = open)."""

    enterprise_sender_code: str
    public_key: str
    valid_from: dt.date | None = None
    valid_to: dt.date | None = None

    def valid_on(self, day: dt.date) -> bool:
        return (self.valid_from is None or self.valid_from <= day) and (
            self.valid_to is None or day <= self.valid_to
        )


@dataclass
class Opened:
    """What opening an envelope gave: ``code`` None when every check up to the field rules
    passed (publishing then decides 3001 / 1001), else the result code; ``reason`` says why in
    one line; ``documents`` the parsed body's documents (when it parsed); ``body_sm3`` the SM3 of
    the decrypted body (when it decrypted)."""

    code: int | None
    reason: str | None = None
    documents: list[dict[str, Any]] = field(default_factory=list)
    body_sm3: str | None = None


def sending_time(text: Any) -> dt.datetime | None:
    """``YYYYMMDDhhmmss`` → a (GMT+8 wall-clock) datetime; None when it is not one."""
    if not isinstance(text, str) or len(text) != 14 or not text.isdigit():
        return None
    try:
        return dt.datetime.strptime(text, TIME_FORMAT)
    except ValueError:
        return None


def pack_envelope(
    documents: Mapping[str, Any] | Sequence[Mapping[str, Any]],
    *,
    ipc_type: str,
    enterprise_sender_code: str,
    sender_private_key: str,
    platform_public_key: str,
    sent_at: dt.datetime,
    sender_code: str = "350000",
    document_name: str | None = None,
    reference: str | None = None,
    sm4_key: bytes | None = None,
    with_04: bool = True,
    user_id: bytes = sm2.DEFAULT_USER_ID,
) -> dict[str, str]:
    """An envelope of ``documents`` (one object, or a list of objects of one kind) from sender
    ``enterprise_sender_code``, encrypted for the platform key and signed with the sender's key;
    the reference is a fresh GUID unless given."""
    body = json.dumps(documents, ensure_ascii=False, separators=(",", ":")).encode()
    key = sm4_key if sm4_key is not None else os.urandom(SM4_KEY_BYTES)
    if len(key) != SM4_KEY_BYTES:
        raise CryptoError(f"an SM4 key has {SM4_KEY_BYTES} bytes, got {len(key)}")
    wrapped = sm2.encrypt(key, platform_public_key)
    if not with_04:
        wrapped = wrapped[1:]
    content = base64.b64encode(sm4.encrypt_ecb(body, key)).decode("ascii")
    return {
        "messageReferenceNumber": reference or str(uuid.uuid4()).upper(),
        "documentName": document_name or ipc_type,
        "documentVersionNumber": DOCUMENT_VERSION,
        "senderCode": sender_code,
        "enterpriseSenderCode": enterprise_sender_code,
        "messageSendingDateTime": sent_at.strftime(TIME_FORMAT),
        "ipcType": ipc_type,
        "encryptedCode": wrapped.hex().upper(),
        "encryptedContent": content,
        "signature": sm2.sign(content.encode(), sender_private_key, user_id=user_id),
    }


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def sender_key_for(
    keys: Mapping[str, Sequence[SenderKey]], code: str | None, day: dt.date | None
) -> tuple[SenderKey | None, str | None]:
    """The key of sender ``code`` valid on ``day`` (the latest-starting one when several are),
    or None and why not."""
    if not code:
        return None, "enterpriseSenderCode missing"
    registered = keys.get(code)
    if not registered:
        return None, f"unknown sender {code}"
    if day is None:
        return None, "messageSendingDateTime is not YYYYMMDDhhmmss: no sender key can be chosen"
    valid = [k for k in registered if k.valid_on(day)]
    if not valid:
        return None, f"no key of sender {code} is valid on {day.isoformat()}"
    return max(valid, key=lambda k: k.valid_from or dt.date.min), None


def unwrap_key(encrypted_code: str | None, platform_private_key: str) -> tuple[bytes | None, str]:
    """The SM4 key in ``encryptedCode``, or None and why (3006)."""
    text = _text(encrypted_code)
    if text is None:
        return None, "encryptedCode missing"
    with_04 = ENCRYPTED_CODE_HEX.get(len(text))
    if with_04 is None:
        return None, f"encryptedCode has {len(text)} hex digits, not 226 or 224"
    try:
        raw = bytes.fromhex(text)
    except ValueError:
        return None, "encryptedCode is not hex"
    if with_04:
        if raw[0] != 4:
            return None, "encryptedCode of 226 hex digits does not start with 04"
        raw = raw[1:]
    try:
        key = sm2.decrypt(b"\x04" + raw, platform_private_key)
    except CryptoError as exc:
        return None, f"SM2: {exc}"
    if len(key) != SM4_KEY_BYTES:
        return None, f"the decrypted SM4 key has {len(key)} bytes, not {SM4_KEY_BYTES}"
    return key, ""


def open_envelope(
    envelope: Mapping[str, Any],
    keys: Mapping[str, Sequence[SenderKey]],
    platform_private_key: str,
    check_fields: Callable[[str | None, list[dict[str, Any]]], str | None],
    *,
    user_id: bytes = sm2.DEFAULT_USER_ID,
) -> Opened:
    """Open ``envelope`` with the senders' ``keys`` (by enterpriseSenderCode) and the platform's
    private key, in the spec's order; ``check_fields(ipc_type, documents)`` gives the first field
    rule the documents break (None: none), which makes 3005."""
    code = _text(envelope.get("enterpriseSenderCode"))
    sent = sending_time(envelope.get("messageSendingDateTime"))
    key, why = sender_key_for(keys, code, sent.date() if sent else None)
    if key is None:
        return Opened(SIGNATURE, why)
    content = _text(envelope.get("encryptedContent"))
    signature = _text(envelope.get("signature"))
    if content is None or signature is None:
        return Opened(SIGNATURE, "encryptedContent or signature missing")
    try:
        signed = content.encode()
    except UnicodeEncodeError:  # a lone surrogate, from a JSON "\ud800" escape
        return Opened(SIGNATURE, "encryptedContent has no UTF-8 bytes to verify (lone surrogate)")
    try:
        good = sm2.verify(signed, signature, key.public_key, user_id=user_id)
    except CryptoError as exc:
        return Opened(SIGNATURE, f"sender {code}'s registered key is unusable: {exc}")
    if not good:
        return Opened(SIGNATURE, f"signature does not verify under sender {code}'s key")

    sm4_key, why = unwrap_key(envelope.get("encryptedCode"), platform_private_key)
    if sm4_key is None:
        return Opened(KEY_DECRYPT, why)
    try:
        ciphertext = base64.b64decode(content, validate=True)
    except (binascii.Error, ValueError):
        return Opened(PAYLOAD_DECRYPT, "encryptedContent is not base64")
    try:
        body = sm4.decrypt_ecb(ciphertext, sm4_key)
    except CryptoError as exc:
        return Opened(PAYLOAD_DECRYPT, f"SM4: {exc}")

    digest = sm3.sm3_bytes(body)
    documents, why = parse_body(body)
    if documents is None:
        return Opened(PARSE, why, body_sm3=digest)
    broken = check_fields(_text(envelope.get("ipcType")), documents)
    if broken is not None:
        return Opened(FIELD_RULES, broken, documents, digest)
    return Opened(None, None, documents, digest)


def _not_json_constant(name: str) -> Any:
    """json.loads takes NaN, Infinity and -Infinity; JSON (RFC 8259) has none of them."""
    raise ValueError(f"{name} is not a JSON value")


def _finite_float(text: str) -> float:
    value = float(text)
    if value in (float("inf"), float("-inf")):
        raise ValueError(f"number {text[:20]} is beyond a double")
    return value


def parse_body(body: bytes) -> tuple[list[dict[str, Any]] | None, str]:
    """The documents of a decrypted body (an object, or an array of objects), or None and why
    (3008)."""
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as exc:
        return None, f"body is not UTF-8 (byte {exc.start})"
    try:
        value = json.loads(
            text,
            parse_constant=_not_json_constant,
            parse_float=_finite_float,
            object_pairs_hook=first_value_wins,  # a repeated key keeps its first value, as landing
        )
    except json.JSONDecodeError as exc:
        return None, f"body is not JSON: {exc.msg} at line {exc.lineno} column {exc.colno}"
    except RecursionError:
        return None, "body is not JSON: nested too deeply"
    except ValueError as exc:  # NaN / Infinity, or an integer beyond Python's 4300 digits
        return None, f"body is not JSON: {str(exc).split(';')[0]}"
    if "\\u" in text:  # an escaped lone surrogate decodes to text no UTF-8 column can hold
        try:
            json.dumps(value, ensure_ascii=False).encode("utf-8")
        except UnicodeEncodeError:
            return None, "body is not valid Unicode: a lone surrogate escape"
    if isinstance(value, dict):
        return [value], ""
    if isinstance(value, list):
        if not all(isinstance(v, dict) for v in value):
            return None, "body is an array whose elements are not all objects"
        return value, ""
    return None, f"body is a JSON {type(value).__name__}, neither an object nor an array"

"""The national-crypto envelope (freight.md "Uploads and the national-crypto envelope", "Crypto
details", "Fine print"): every result code of `open_envelope` in the spec's order — 3009 → 3006 →
3007 → 3008 → 3005 → opened —, a case failing two checks getting the earlier code, the 04-less
encryptedCode told by its length, and envelopes built by gmssl (pure Python, an independent SM2 /
SM3 / SM4) opened here, and ours opened by gmssl.

The broken envelopes are built by hand: the body encrypted as it stands, the altered
encryptedContent re-signed, so that the check under test is the first one to fail.

gmssl 3.2 (gmssl/sm2.py, sm4.py, func.py) computes the same SM2, SM3 and SM4 — the bytes agree
both ways — but with these conventions of its own, found on the way and respected here:
- Ciphertext: C1 is x‖y without the 04 byte; mode 0 = C1C2C3 (the spec's order, and gmssl's real
  default although its docstring says "default is 1"), mode 1 = C1C3C2 (refused: test_3006). So
  gmssl's output is the spec's 224-digit bare form, and "04" + it the 226-digit form.
- Public keys are x‖y (128 hex). Its constructor removes a 04 prefix with ``lstrip("04")``, which
  removes EVERY leading "0" and "4" digit: given 04‖x‖y it mangles x for one key in eight (x's
  first digit 0 or 4), given x‖y for one in 256 (x beginning 04), and every Z, signature check and
  encryption after that is wrong. So the key is set on the object after construction.
- Z: the user id is hard-coded ("0080" ‖ "1234567812345678"): the spec's default, no other.
- Signatures: hex r‖s, 128 digits (asn1=False), as the spec. `sign_with_sm3` takes the nonce k
  from the caller and otherwise draws it with Python's non-cryptographic `random`; here k comes
  from `secrets`.
- No integrity check on decryption: `decrypt` never compares C3, and its SM4 PKCS#7 unpadding never
  checks the padding bytes — a wrong key gives garbage, not an error. So the tests of gmssl
  opening ours compare with the known SM4 key and body, not merely "it decrypted".
"""

import base64
import datetime as dt
import json
import os
import secrets

import pytest
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from gmssl import sm2 as gmssl_sm2
from gmssl import sm3 as gmssl_sm3
from gmssl import sm4 as gmssl_sm4

from transforms.crypto import sm2, sm3, sm4
from transforms.freight.envelope import (
    DOCUMENT_VERSION,
    FIELD_RULES,
    KEY_DECRYPT,
    PARSE,
    PAYLOAD_DECRYPT,
    SIGNATURE,
    SenderKey,
    open_envelope,
    pack_envelope,
    unwrap_key,
)

PLATFORM_D, PLATFORM_PUB = sm2.generate_keypair()
SENDER_D, SENDER_PUB = sm2.generate_keypair()
OTHER_D, OTHER_PUB = sm2.generate_keypair()
SENDER = "91350100MA00000001"
SENT = dt.datetime(2026, 11, 3, 10, 0, 0)
DAY = SENT.date()
KEYS = {SENDER: [SenderKey(SENDER, SENDER_PUB, dt.date(2026, 1, 1), None)]}
# fixed SM4 keys: a body under K1 decrypted with K2 gives the same bytes every run (bad padding)
K1 = bytes.fromhex("0123456789abcdeffedcba9876543210")
K2 = bytes.fromhex("00112233445566778899aabbccddeeff")
WAYBILL = {
    "originalDocumentNumber": "YD20261103001",
    "shippingNoteNumber": "SN20261103001",
    "serialNumber": "0000",
    "unifiedSocialCreditIdentifier": SENDER,
    "despatchActualDateTime": "20261103080000",
    "goodsReceiptDateTime": "20261103180000",
    "totalMonetaryAmount": 1250.5,
    "vehicleInfo": [{"vehicleNumber": "闽A12345", "vehiclePlateColorCode": "2"}],
    "consignorInfo": {"consignor": "福州某某物流有限公司"},
}


def gmssl_sm2_of(private: str, public_xy: str, mode: int = 0) -> gmssl_sm2.CryptSM2:
    crypt = gmssl_sm2.CryptSM2(private_key=private, public_key="", mode=mode)
    crypt.public_key = public_xy  # not through the constructor: its lstrip("04") (see above)
    return crypt


def no_fields(_ipc_type, _documents):
    return None


def envelope(documents=WAYBILL, **overrides):
    """A good envelope from SENDER on SENT, wrapping K1 (overrides: pack_envelope arguments)."""
    arguments = {
        "ipc_type": "WLHY_YD1001",
        "enterprise_sender_code": SENDER,
        "sender_private_key": SENDER_D,
        "platform_public_key": PLATFORM_PUB,
        "sent_at": SENT,
        "sm4_key": K1,
    } | overrides
    return pack_envelope(documents, **arguments)


def with_content(packed, content: str, signer: str = SENDER_D) -> dict:
    """``packed`` with encryptedContent replaced and signed again, so the signature passes."""
    return packed | {"encryptedContent": content, "signature": sm2.sign(content.encode(), signer)}


def with_body(body: bytes, sm4_key: bytes = K1, **overrides) -> dict:
    """A good envelope whose decrypted body is exactly ``body`` (PKCS#7-padded under ``sm4_key``)."""
    content = base64.b64encode(sm4.encrypt_ecb(body, sm4_key)).decode()
    return with_content(envelope(**overrides), content)


def raw_ecb(data: bytes, key: bytes = K1) -> bytes:
    """SM4-ECB with no padding added (``data`` whole blocks), for padding that is wrong on purpose."""
    enc = Cipher(algorithms.SM4(key), modes.ECB()).encryptor()
    return enc.update(data) + enc.finalize()


def open_(packed, keys=KEYS, check=no_fields):
    return open_envelope(packed, keys, PLATFORM_D, check)


def compact(documents) -> bytes:
    return json.dumps(documents, ensure_ascii=False, separators=(",", ":")).encode()


# --- opened --------------------------------------------------------------------------------------


def test_an_object_and_an_array_open():
    packed = envelope()
    assert packed["messageSendingDateTime"] == "20261103100000"
    assert packed["documentVersionNumber"] == DOCUMENT_VERSION
    assert packed["ipcType"] == packed["documentName"] == "WLHY_YD1001"
    assert len(packed["encryptedCode"]) == 226 and packed["encryptedCode"].startswith("04")
    assert len(packed["signature"]) == 128
    opened = open_(packed)
    assert (opened.code, opened.reason) == (None, None)
    assert opened.documents == [WAYBILL]
    assert opened.body_sm3 == sm3.sm3_bytes(compact(WAYBILL))

    second = WAYBILL | {"serialNumber": "0001"}
    opened = open_(envelope([WAYBILL, second], reference="GUID-2"))
    assert opened.code is None and opened.documents == [WAYBILL, second]


def test_encrypted_code_without_04_opens():
    packed = envelope(with_04=False)
    assert len(packed["encryptedCode"]) == 224
    assert open_(packed).documents == [WAYBILL]


def test_04_is_told_by_length_never_by_leading_digits():
    """A C1 whose x itself begins with 04: its bare form (224 digits) starts with "04" too, and
    still opens as the bare form; the full form starts "0404"."""
    wrapped = sm2.encrypt(K1, PLATFORM_PUB)
    while wrapped[1] != 0x04:  # x's first byte is 04 once in 256 encryptions
        wrapped = sm2.encrypt(K1, PLATFORM_PUB)
    bare, full = wrapped[1:].hex(), wrapped.hex().upper()
    assert bare.startswith("04") and full.startswith("0404")
    for code in (bare, full):
        assert open_(envelope() | {"encryptedCode": code}).documents == [WAYBILL]


def test_the_key_valid_on_the_sending_day_is_used():
    old = SenderKey(SENDER, OTHER_PUB, None, DAY - dt.timedelta(days=1))
    new = SenderKey(SENDER, SENDER_PUB, DAY, None)
    keys = {SENDER: [old, new]}
    assert open_(envelope(), keys).code is None  # new key, its first day
    by_old = envelope(sender_private_key=OTHER_D)
    assert open_(by_old, keys).code == SIGNATURE  # the old key has expired the day before
    day_before = envelope(sender_private_key=OTHER_D, sent_at=SENT - dt.timedelta(days=1))
    assert open_(day_before, keys).code is None  # its last day: valid_to is inclusive
    # overlapping registrations: the latest-starting key valid that day is the one checked
    overlapping = {SENDER: [SenderKey(SENDER, OTHER_PUB), new]}
    assert open_(envelope(), overlapping).code is None


# --- 3009: unknown sender or bad signature -------------------------------------------------------


def _tampered_content(packed):
    content = packed["encryptedContent"]
    swapped = "A" if content[5] != "A" else "B"
    return packed | {"encryptedContent": content[:5] + swapped + content[6:]}  # signature kept


SIGNATURE_CASES = {
    "unknown sender": (envelope(enterprise_sender_code="91350100MA00000009"), KEYS, "unknown"),
    "no enterpriseSenderCode": (
        {k: v for k, v in envelope().items() if k != "enterpriseSenderCode"},
        KEYS,
        "enterpriseSenderCode missing",
    ),
    "key valid only from the next day": (
        envelope(),
        {SENDER: [SenderKey(SENDER, SENDER_PUB, DAY + dt.timedelta(days=1), None)]},
        "valid on 2026-11-03",
    ),
    "key expired the day before": (
        envelope(),
        {SENDER: [SenderKey(SENDER, SENDER_PUB, None, DAY - dt.timedelta(days=1))]},
        "valid on 2026-11-03",
    ),
    "signed by another key": (envelope(sender_private_key=OTHER_D), KEYS, "does not verify"),
    "encryptedContent tampered": (_tampered_content(envelope()), KEYS, "does not verify"),
    "signature missing": (
        {k: v for k, v in envelope().items() if k != "signature"},
        KEYS,
        "signature missing",
    ),
    "signature empty": (envelope() | {"signature": ""}, KEYS, "does not verify"),
    "signature of the right length, not hex": (
        envelope() | {"signature": "zz" * 64},
        KEYS,
        "does not verify",
    ),
    "sending time with dashes": (
        envelope() | {"messageSendingDateTime": "2026-11-03 10:00:00"},
        KEYS,
        "YYYYMMDDhhmmss",
    ),
    "sending time of 12 digits": (
        envelope() | {"messageSendingDateTime": "202611031000"},
        KEYS,
        "YYYYMMDDhhmmss",
    ),
    "sending time in month 13": (
        envelope() | {"messageSendingDateTime": "20261303100000"},
        KEYS,
        "YYYYMMDDhhmmss",
    ),
    "sending time in full-width digits": (
        envelope() | {"messageSendingDateTime": "２０２６１１０３１０００００"},
        KEYS,
        "YYYYMMDDhhmmss",
    ),
    "sending time missing": (
        {k: v for k, v in envelope().items() if k != "messageSendingDateTime"},
        KEYS,
        "YYYYMMDDhhmmss",
    ),
    "registered key is no point of the curve": (
        envelope(),
        {SENDER: [SenderKey(SENDER, "04" + "00" * 64)]},
        "unusable",
    ),
    "encryptedContent with a lone surrogate": (
        envelope() | {"encryptedContent": "\ud800"},
        KEYS,
        "lone surrogate",
    ),
}


@pytest.mark.parametrize(
    ("packed", "keys", "reason"), SIGNATURE_CASES.values(), ids=SIGNATURE_CASES
)
def test_3009(packed, keys, reason):
    opened = open_(packed, keys)
    assert opened.code == SIGNATURE
    assert reason in opened.reason
    assert opened.documents == [] and opened.body_sm3 is None  # nothing was decrypted


# --- 3006: the SM4 key does not unwrap -----------------------------------------------------------


def _altered_c2(packed):
    code = packed["encryptedCode"]  # 04 ‖ C1 (128 hex) ‖ C2 (32 hex) ‖ C3 (64 hex)
    at = 2 + 128 + 3
    return packed | {
        "encryptedCode": code[:at] + format(int(code[at], 16) ^ 1, "X") + code[at + 1 :]
    }


KEY_CASES = {
    "wrapped for another platform": (envelope(platform_public_key=OTHER_PUB), "C3"),
    "C2 altered": (_altered_c2(envelope()), "C3"),
    "225 hex digits": (envelope() | {"encryptedCode": envelope()["encryptedCode"][:-1]}, "225"),
    "228 hex digits": (envelope() | {"encryptedCode": envelope()["encryptedCode"] + "00"}, "228"),
    "empty": (envelope() | {"encryptedCode": ""}, "0 hex digits"),
    "226 digits starting 05": (
        envelope() | {"encryptedCode": "05" + envelope()["encryptedCode"][2:]},
        "does not start with 04",
    ),
    "226 digits not hex": (
        envelope() | {"encryptedCode": "04" + "zz" + envelope()["encryptedCode"][4:]},
        "not hex",
    ),
    "the full form's last byte cut (224 digits, read as the bare form)": (
        envelope() | {"encryptedCode": envelope()["encryptedCode"][:-2]},
        "SM2",
    ),
    "missing": ({k: v for k, v in envelope().items() if k != "encryptedCode"}, "missing"),
    # gmssl's mode 1 is C1C3C2: the right key in the wrong order is no C1C2C3 ciphertext
    "C1C3C2 order (gmssl mode 1)": (
        envelope()
        | {"encryptedCode": "04" + gmssl_sm2_of("", PLATFORM_PUB[2:], mode=1).encrypt(K1).hex()},
        "C3",
    ),
}


@pytest.mark.parametrize(("packed", "reason"), KEY_CASES.values(), ids=KEY_CASES)
def test_3006(packed, reason):
    opened = open_(packed)
    assert opened.code == KEY_DECRYPT
    assert reason in opened.reason
    assert opened.documents == [] and opened.body_sm3 is None


# --- 3007: the payload does not decrypt ----------------------------------------------------------

PAYLOAD_CASES = {
    "not base64": (with_content(envelope(), "not base64!"), "base64"),
    "base64 with a line break": (
        with_content(envelope(), envelope()["encryptedContent"][:20] + "\n" + "A" * 4),
        "base64",
    ),
    "empty": (with_content(envelope(), ""), "multiple of 16"),
    "17 bytes": (with_content(envelope(), base64.b64encode(bytes(17)).decode()), "multiple of 16"),
    # the same bytes every run: K1's body read with K2 ends in no valid PKCS#7 padding
    "wrong SM4 key": (
        envelope() | {"encryptedCode": envelope(sm4_key=K2)["encryptedCode"]},
        "padding",
    ),
    "padding byte 0": (
        with_content(envelope(), base64.b64encode(raw_ecb(b"{}" + bytes(14))).decode()),
        "padding",
    ),
    "padding byte 17": (
        with_content(envelope(), base64.b64encode(raw_ecb(b"{}" + bytes([17]) * 14)).decode()),
        "padding",
    ),
    "padding bytes that differ": (
        with_content(
            envelope(), base64.b64encode(raw_ecb(b"{}" + bytes([3]) * 13 + b"\x02")).decode()
        ),
        "padding",
    ),
}


@pytest.mark.parametrize(("packed", "reason"), PAYLOAD_CASES.values(), ids=PAYLOAD_CASES)
def test_3007(packed, reason):
    opened = open_(packed)
    assert opened.code == PAYLOAD_DECRYPT
    assert reason in opened.reason
    assert opened.documents == [] and opened.body_sm3 is None


def test_the_wrong_key_case_really_has_the_wrong_key():
    packed = PAYLOAD_CASES["wrong SM4 key"][0]
    key, _ = unwrap_key(packed["encryptedCode"], PLATFORM_D)
    assert key == K2
    body = sm4.decrypt_ecb(base64.b64decode(packed["encryptedContent"]), K1)
    assert json.loads(body) == WAYBILL  # under K1 it is a good body


# --- 3008: the body does not parse ---------------------------------------------------------------

PARSE_CASES = {
    "not UTF-8": (b'{"a":"\xff"}', "UTF-8"),
    "UTF-16": ('{"a":1}'.encode("utf-16"), "UTF-8"),
    "not JSON": (b"{not json", "not JSON"),
    "two objects": (b"{}{}", "not JSON"),
    "NaN": (b'{"totalMonetaryAmount":NaN}', "NaN"),
    "Infinity": (b'[{"a":-Infinity}]', "Infinity"),
    "an integer of 5000 digits": (b'{"a":' + b"7" * 5000 + b"}", "not JSON"),
    "nested too deeply": (b"[" * 100_000, "not JSON"),
    "a number": (b"42", "neither an object nor an array"),
    "a string": (b'"WLHY"', "neither an object nor an array"),
    "null": (b"null", "neither an object nor an array"),
    "an array with a non-object": (b'[{"a":1},2]', "not all objects"),
    "an array of arrays": (b"[[]]", "not all objects"),
}


@pytest.mark.parametrize(("body", "reason"), PARSE_CASES.values(), ids=PARSE_CASES)
def test_3008(body, reason):
    opened = open_(with_body(body))
    assert opened.code == PARSE
    assert reason in opened.reason
    assert opened.documents == []
    assert opened.body_sm3 == sm3.sm3_bytes(body)  # it decrypted: the body's digest is kept


# --- 3005 and the order of the checks ------------------------------------------------------------


def test_3005_from_the_field_check_which_sees_the_interface_and_documents():
    seen = []

    def check(ipc_type, documents):
        seen.append((ipc_type, documents))
        return "shippingNoteNumber missing" if "shippingNoteNumber" not in documents[0] else None

    broken = {k: v for k, v in WAYBILL.items() if k != "shippingNoteNumber"}
    opened = open_(envelope(broken), check=check)
    assert (opened.code, opened.reason) == (FIELD_RULES, "shippingNoteNumber missing")
    assert opened.documents == [broken] and opened.body_sm3 == sm3.sm3_bytes(compact(broken))
    assert open_(envelope(), check=check).code is None
    assert seen == [("WLHY_YD1001", [broken]), ("WLHY_YD1001", [WAYBILL])]


def _never_called(_ipc_type, _documents):
    raise AssertionError("the field rules come after every other check")


TWO_FAILURES = {
    # (envelope failing two checks, the earlier code)
    "bad signature + wrong platform key": (
        envelope(platform_public_key=OTHER_PUB, sender_private_key=OTHER_D),
        SIGNATURE,
    ),
    "sending time not n14 + encryptedCode not hex": (
        envelope() | {"messageSendingDateTime": "2026-11-03", "encryptedCode": "zz" * 113},
        SIGNATURE,
    ),
    "tampered content (not base64) + wrong length of encryptedCode": (
        envelope() | {"encryptedContent": "***", "encryptedCode": "04"},
        SIGNATURE,
    ),
    "wrong platform key + not base64": (
        with_content(envelope(platform_public_key=OTHER_PUB), "not base64!"),
        KEY_DECRYPT,
    ),
    "encryptedCode cut + bad padding": (
        with_content(envelope(), base64.b64encode(raw_ecb(bytes(16))).decode())
        | {"encryptedCode": envelope()["encryptedCode"][:-1]},
        KEY_DECRYPT,
    ),
    "not base64 + (never reached) field rules": (
        with_content(envelope(), "@@@@"),
        PAYLOAD_DECRYPT,
    ),
    "not JSON + (never reached) field rules": (with_body(b"{"), PARSE),
}


@pytest.mark.parametrize(("packed", "code"), TWO_FAILURES.values(), ids=TWO_FAILURES)
def test_the_earlier_check_decides(packed, code):
    assert open_(packed, check=_never_called).code == code


# --- gmssl, an independent implementation (its conventions: the module docstring) ----------

CURVE = gmssl_sm2.default_ecc_table
N = int(CURVE["n"], 16)


def gmssl_keypair() -> tuple[str, str]:
    """(private 64 hex, public x‖y 128 hex) computed by gmssl alone."""
    d = f"{secrets.randbelow(N - 2) + 1:064x}"
    return d, gmssl_sm2.CryptSM2(private_key=d, public_key="")._kg(int(d, 16), CURVE["g"])


def gmssl_envelope(documents, platform_xy: str, sender_d: str, sender_xy: str, *, with_04: bool):
    """An envelope built with gmssl only: SM2 (C1C2C3) of a fresh SM4 key, SM4-ECB with PKCS#7,
    base64, SM2-with-SM3 signature over the base64 text."""
    key = os.urandom(16)
    body = json.dumps(documents, ensure_ascii=False, indent=1).encode()  # any layout will do
    wrapped = gmssl_sm2_of("", platform_xy, mode=0).encrypt(key).hex()
    sm4_crypt = gmssl_sm4.CryptSM4()
    sm4_crypt.set_key(key, gmssl_sm4.SM4_ENCRYPT)
    content = base64.b64encode(sm4_crypt.crypt_ecb(body)).decode()
    signature = gmssl_sm2_of(sender_d, sender_xy).sign_with_sm3(
        content.encode(), secrets.token_hex(32)
    )
    return body, {
        "messageReferenceNumber": "3F2504E0-4F89-11D3-9A0C-0305E82C3301",
        "documentName": "运单",
        "documentVersionNumber": "2015WCCYR",
        "senderCode": "350000",
        "enterpriseSenderCode": SENDER,
        "messageSendingDateTime": "20261103100000",
        "ipcType": "WLHY_YD1001",
        "encryptedCode": ("04" if with_04 else "") + wrapped,
        "encryptedContent": content,
        "signature": signature,
    }


@pytest.mark.parametrize("with_04", [True, False], ids=["226 digits", "224 digits"])
def test_an_envelope_built_by_gmssl_opens(with_04):
    platform_d, platform_xy = gmssl_keypair()
    sender_d, sender_xy = gmssl_keypair()
    documents = [WAYBILL, WAYBILL | {"serialNumber": "0001"}]
    body, packed = gmssl_envelope(documents, platform_xy, sender_d, sender_xy, with_04=with_04)
    assert len(packed["encryptedCode"]) == (226 if with_04 else 224)
    for registered in ("04" + sender_xy, sender_xy):  # 130 and 128 digits
        keys = {SENDER: [SenderKey(SENDER, registered)]}
        opened = open_envelope(packed, keys, platform_d, no_fields)
        assert (opened.code, opened.reason) == (None, None)
        assert opened.documents == documents
        assert opened.body_sm3 == gmssl_sm3.sm3_hash(list(body))
    # and it is the signature that lets it in: another sender's key refuses it
    other = {SENDER: [SenderKey(SENDER, "04" + gmssl_keypair()[1])]}
    assert open_envelope(packed, other, platform_d, no_fields).code == SIGNATURE


@pytest.mark.parametrize("with_04", [True, False], ids=["226 digits", "224 digits"])
def test_gmssl_opens_our_envelope(with_04):
    key = os.urandom(16)
    documents = [WAYBILL]
    packed = envelope(documents, sm4_key=key, with_04=with_04)
    sender = gmssl_sm2_of("", SENDER_PUB[2:])
    content = packed["encryptedContent"].encode()
    assert sender.verify_with_sm3(packed["signature"], content)
    assert not sender.verify_with_sm3(packed["signature"], content[:-4] + b"AAA=")
    assert not gmssl_sm2_of("", OTHER_PUB[2:]).verify_with_sm3(packed["signature"], content)

    wrapped = bytes.fromhex(packed["encryptedCode"])
    if with_04:
        assert wrapped[0] == 4
        wrapped = wrapped[1:]
    assert gmssl_sm2_of(PLATFORM_D, PLATFORM_PUB[2:], mode=0).decrypt(wrapped) == key
    sm4_crypt = gmssl_sm4.CryptSM4()
    sm4_crypt.set_key(key, gmssl_sm4.SM4_DECRYPT)
    body = sm4_crypt.crypt_ecb(base64.b64decode(packed["encryptedContent"]))
    assert json.loads(body) == documents
    assert gmssl_sm3.sm3_hash(list(body)) == open_(packed).body_sm3

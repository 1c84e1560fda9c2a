"""SM2: the GB/T 32918.5 examples on the recommended curve, OpenSSL's vector, gmssl both ways,
rejection of tampered messages, signatures and ciphertexts, and the key forms — every case once with
verification and decryption through OpenSSL and once through gmalglib; and the OpenSSL binding's
own DER forms, threads and error queue."""

import ctypes
import subprocess
import sys
import threading

import pytest
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature
from gmalglib.sm2 import SM2
from gmssl import sm2 as gmssl_sm2

from transforms.crypto import openssl_sm2, sm2
from transforms.crypto.errors import CryptoError, DecryptionError

# GB/T 32918.5-2017 (= GM/T 0003.5-2012) Annex A (signature) and Annex C (encryption) on the
# recommended curve sm2p256v1, with the default user id; the same values are OpenSSL's
# test/sm2_internal_test.c (sm2_sig_test, sm2_crypt_test "From Annex A/C ...").
D = "3945208f7b2144b13f36e38ac6d39f95889393692860b51a42fb81ef4df7c5b8"
PUB = (
    "04"
    "09f9df311e5421a150dd7d161e4bc5c672179fad1833fc076bb08ff356f35020"
    "ccea490ce26775a52dc6ea718cc1aa600aed05fbf35e084a6632f6072da9ad13"
)
K = "59276e27d506861a16680f3ad9c02dccef3cc1fa3cdbe4ce6d54b80deac1bc21"
Z_A = "b2e14c5c79c6df5b85f4fe7ed8db7a262b9da7e07ccb0ea9f4747b8ccda8a4f3"
SIGNED = b"message digest"
SIGNATURE = (
    "f5a03b0648d2c4630eeac513e1bb81a15944da3827d5b74143ac7eaceee720b3"
    "b1b6aa29df212fd8763182bc0d421ca1bb9038fd1f7f42d4840b69c485bbc1aa"
)
PLAIN = b"encryption standard"
C1 = (  # x begins with 04: without the prefix it still looks like one
    "04ebfc718e8d1798620432268e77feb6415e2ede0e073c0f4f640ecd2e149a73"
    "e858f9d81e5430a57b36daab8f950a3c64e6ee6a63094d99283aff767e124df0"
)
C2 = "21886ca989ca9c7d58087307ca93092d651efa"
C3 = "59983c18f809e262923c53aec295d30383b54e39d609d160afcb1908d0bd8766"

# OpenSSL test/recipes/30-test_evp_data/evppkey_sm2.txt: SM2_key1 (the private key and public key
# read out of its PKCS#8 PEM) and its "Decrypt" vector, an ASN.1 SEQUENCE {x, y, C3, C2}
OSSL_D = "d09156733017bdad809fd9bbd8c693f60230593169b6f94aaf1c8ee138cc99b5"
OSSL_PUB = (
    "04393a2ad9e27e43acaaab85a19d3b85591e14406157175addd37bf77ff0caf9ed"
    "37fcf3a8b4f55c038523261fca6636afe6a7afa2a1482a606f5cb3a18b2e2a1e"
)
OSSL_DER = (
    "30818A0220466BE2EF5C11782EC77864A0055417F407A5AFC11D653C6BCE69E417BB1D05B6022062B572E21FF0DDF5"
    "C726BD3F9FF2EAE56E6294713A607E9B9525628965F62CC804203C1B5713B5DB2728EB7BF775E44F4689FC32668BDC"
    "564F52EA45B09E8DF2A5F40422084A9D0CC2997092B7D3C404FCE95956EB604D732B2307A8E5B8900ED6608CA5B197"
)
OSSL_PLAIN = b"The floofy bunnies hop at midnight"


def _der_to_c1c2c3(der: bytes) -> bytes:
    """x‖y‖C2‖C3 from the GM/T 0009 ASN.1 form SEQUENCE {INTEGER x, INTEGER y, OCTET C3, OCTET C2}."""

    def read(at: int) -> tuple[bytes, int]:
        length, at = der[at + 1], at + 2
        if length & 0x80:
            n = length & 0x7F
            length, at = int.from_bytes(der[at : at + n], "big"), at + n
        return der[at : at + length], at + length

    body, _ = read(0)
    der, items, at = body, [], 0
    while at < len(der):
        value, at = read(at)
        items.append(value)
    x, y, c3, c2 = items
    return x[-32:].rjust(32, b"\0") + y[-32:].rjust(32, b"\0") + c2 + c3


@pytest.fixture(autouse=True, params=["openssl", "gmalglib"])
def backend(request, monkeypatch):
    """Each test twice: verify / decrypt through OpenSSL, then through gmalglib."""
    monkeypatch.setattr(sm2, "_openssl", lambda: request.param == "openssl")
    return request.param


@pytest.fixture
def standard_k(monkeypatch):
    """Every SM2 object our module builds draws the standard's k (gmalglib takes it little-endian)."""
    k = bytes.fromhex(K)[::-1]
    monkeypatch.setattr(sm2, "SM2", lambda **kwargs: SM2(rnd_fn=lambda _n: k, **kwargs))
    sm2._private.cache_clear()
    yield
    sm2._private.cache_clear()


def _gmssl(private: str, public: str, mode: int = 0) -> gmssl_sm2.CryptSM2:
    reference = gmssl_sm2.CryptSM2(private_key=private, public_key="", mode=mode)
    # set after construction: its lstrip("04") eats the leading 0/4 digits of x, even of a 128-hex
    # x‖y whose x begins with 04 (test_public_key_whose_x_begins_with_04)
    reference.public_key = public[2:]
    return reference


def test_standard_key_and_z():
    assert sm2.public_key_of(D) == PUB
    assert SM2(pk=bytes.fromhex(PUB)).get_entity_info().hex() == Z_A  # default user id in Z


def test_standard_signature_verifies():
    assert sm2.verify(SIGNED, SIGNATURE, PUB)
    assert sm2.verify(SIGNED, SIGNATURE.upper(), PUB[2:])  # case, and x‖y without the 04
    assert not sm2.verify(SIGNED, SIGNATURE, PUB, user_id=b"ALICE123@YAHOO.COM")


def test_sign_and_encrypt_reproduce_the_standard_with_its_k(standard_k):
    assert sm2.sign(SIGNED, D) == SIGNATURE
    assert sm2.encrypt(PLAIN, PUB).hex() == "04" + C1 + C2 + C3


@pytest.mark.parametrize("prefix", ["04", ""])
def test_standard_ciphertext_decrypts_with_or_without_04(prefix):
    ciphertext = prefix + C1 + C2 + C3
    assert sm2.decrypt(bytes.fromhex(ciphertext), D) == PLAIN
    assert sm2.decrypt(ciphertext, D) == PLAIN  # hex text too


def test_openssl_vector_decrypts():
    assert sm2.public_key_of(OSSL_D) == OSSL_PUB
    assert sm2.decrypt(_der_to_c1c2c3(bytes.fromhex(OSSL_DER)), OSSL_D) == OSSL_PLAIN


def test_signatures_interoperate_with_gmssl_both_ways():
    private, public = sm2.generate_keypair()
    message = '{"licence_no":"闽交运管许可榕字350100000001号"}'.encode()
    reference = _gmssl(private, public)
    assert sm2.verify(message, reference.sign_with_sm3(message), public)
    assert reference.verify_with_sm3(sm2.sign(message, private), message)
    assert not reference.verify_with_sm3(sm2.sign(message + b" ", private), message)


def test_ciphertexts_interoperate_with_gmssl_both_ways():
    private, public = sm2.generate_keypair()
    key = bytes(range(16))
    reference = _gmssl(private, public, mode=0)  # C1C2C3, C1 without 04
    assert sm2.decrypt(reference.encrypt(key), private) == key
    ours = sm2.encrypt(key, public)
    assert ours[0] == 4 and len(ours) == 1 + 64 + 16 + 32
    assert reference.decrypt(ours[1:]) == key
    # gmssl's mode 1 is C1C3C2: read as C1C2C3 its "C3" does not match
    with pytest.raises(DecryptionError, match="C3"):
        sm2.decrypt(_gmssl(private, public, mode=1).encrypt(key), private)


def test_public_key_whose_x_begins_with_04():
    private = f"{11:064x}"  # 11·G has x = 04b3cb…
    public = sm2.public_key_of(private)
    assert public.startswith("0404") and len(public) == 130
    signature = sm2.sign(b"m", private)
    assert sm2.verify(b"m", signature, public)
    assert sm2.decrypt(sm2.encrypt(b"k", public[2:]), private) == b"k"
    assert _gmssl(private, public).verify_with_sm3(signature, b"m")


def test_tampered_message_or_signature_is_rejected():
    private, public = sm2.generate_keypair()
    signature = sm2.sign(b"record", private)
    assert sm2.verify(b"record", signature, public)
    assert not sm2.verify(b"record ", signature, public)
    flipped = signature[:70] + format(int(signature[70], 16) ^ 1, "x") + signature[71:]
    assert not sm2.verify(b"record", flipped, public)
    assert not sm2.verify(b"record", signature, sm2.generate_keypair()[1])


@pytest.mark.parametrize(
    "signature",
    ["", SIGNATURE[:-2], SIGNATURE + "00", "zz" + SIGNATURE[2:], "00" * 32 + SIGNATURE[64:], None],
)
def test_malformed_signature_is_not_valid(signature):
    assert sm2.verify(SIGNED, signature, PUB) is False


@pytest.mark.parametrize(
    ("public", "problem"),
    [
        (PUB[:-4], "must be 130 hex digits"),
        ("05" + PUB[2:], "must be 130 hex digits"),
        (PUB[:-1] + "g", "must be 130 hex digits"),
        ("04" + "00" * 64, "not a point of the curve"),
        ("04" + PUB[2:66] + "00" * 32, "not a point of the curve"),
    ],
)
def test_malformed_public_key_is_an_error(public, problem):
    with pytest.raises(CryptoError, match=f"public key.*{problem}"):
        sm2.verify(SIGNED, SIGNATURE, public)
    with pytest.raises(CryptoError, match=problem):
        sm2.encrypt(b"x", public)


@pytest.mark.parametrize(
    ("private", "problem"),
    [
        ("00" * 32, "out of range"),
        ("ff" * 32, "out of range"),
        (D[:-2], "must be 64 hex digits"),
        (D[:-1] + "x", "must be 64 hex digits"),
        (D + "00", "must be 64 hex digits"),
    ],
)
def test_malformed_private_key_is_an_error(private, problem):
    with pytest.raises(CryptoError, match=f"private key.*{problem}"):
        sm2.sign(b"m", private)
    with pytest.raises(CryptoError, match=problem):
        sm2.public_key_of(private)
    with pytest.raises(CryptoError, match=problem):
        sm2.decrypt("04" + C1 + C2 + C3, private)


def test_c3_mismatch_and_alterations_are_rejected():
    private, public = sm2.generate_keypair()
    ciphertext = bytearray(sm2.encrypt(b"sixteen byte key", public))
    with pytest.raises(DecryptionError, match="C3"):
        sm2.decrypt(bytes(ciphertext), sm2.generate_keypair()[0])  # wrapped for another key
    for at in (-1, -33):  # a byte of C3, a byte of C2
        altered = ciphertext.copy()
        altered[at] ^= 1
        with pytest.raises(DecryptionError, match="C3"):
            sm2.decrypt(bytes(altered), private)
    altered = ciphertext.copy()
    altered[5] ^= 1  # C1 off the curve
    with pytest.raises(DecryptionError, match="C1"):
        sm2.decrypt(bytes(altered), private)
    with pytest.raises(DecryptionError, match="C1"):
        sm2.decrypt(bytes(ciphertext[:97]), private)  # no C2
    with pytest.raises(DecryptionError, match="hex"):
        sm2.decrypt("not hex", private)


def test_empty_plaintext_is_refused():
    with pytest.raises(CryptoError, match="empty"):
        sm2.encrypt(b"", PUB)


def test_generated_keys_have_the_file_forms_and_differ():
    private, public = sm2.generate_keypair()
    assert len(private) == 64 and len(public) == 130 and public.startswith("04")
    assert sm2.public_key_of(private) == public
    assert sm2.generate_keypair()[0] != private


def test_keys_differ_between_fresh_processes():
    # an unseeded C rand() fallback would give every new process the same first key
    code = "from transforms.crypto.sm2 import generate_keypair; print(generate_keypair()[0])"
    keys = {subprocess.check_output([sys.executable, "-c", code], text=True) for _ in range(2)}
    assert len(keys) == 2


def test_openssl_is_what_verifies_and_decrypts_here():
    # this machine and CI have OpenSSL 3 (the bench's envelope rate counts on it)
    assert openssl_sm2.available()
    assert openssl_sm2.version().startswith("OpenSSL 3.")


@pytest.mark.parametrize(
    "r_s",
    [
        bytes.fromhex(SIGNATURE),  # r and s with the high bit set: a 0 byte in front
        b"\0" * 31 + b"\x01" + b"\x7f" + b"\0" * 31,  # leading zeros dropped
        b"\0" * 64,
        b"\xff" * 64,
    ],
)
def test_signature_der_is_what_cryptography_encodes(r_s):
    r, s = int.from_bytes(r_s[:32], "big"), int.from_bytes(r_s[32:], "big")
    assert openssl_sm2.signature_der(r_s) == encode_dss_signature(r, s)


def test_ciphertext_der_is_openssl_s_own_form():
    der = bytes.fromhex(OSSL_DER)
    body = _der_to_c1c2c3(der)
    assert openssl_sm2.ciphertext_der(body[:64], body[64:-32], body[-32:]) == der


def test_openssl_verifies_in_threads_and_leaves_no_errors():
    private, public = sm2.generate_keypair()
    messages = [f"envelope {i}".encode() for i in range(200)]
    signatures = [sm2.sign(m, private) for m in messages]
    signatures[7] = signatures[8]  # one that does not sign its message
    point = bytes.fromhex(public)
    results: dict[int, list[bool]] = {}

    def run(worker: int) -> None:
        results[worker] = [
            openssl_sm2.verify(m, bytes.fromhex(s), point, sm2.DEFAULT_USER_ID)
            for m, s in zip(messages, signatures, strict=True)
        ]

    threads = [threading.Thread(target=run, args=(w,)) for w in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    expected = [i != 7 for i in range(200)]
    assert all(results[w] == expected for w in range(4))
    peek = openssl_sm2._lib.ERR_peek_error
    peek.restype, peek.argtypes = ctypes.c_ulong, []
    assert peek() == 0  # the refused signature left nothing in this thread's error queue

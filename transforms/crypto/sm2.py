"""SM2 (GB/T 32918) signatures and public-key encryption, in the forms the feeds use.

- Keys: private = 64 hex digits; public = 130 hex digits ``04‖x‖y`` (128 digits ``x‖y`` accepted too,
  told apart by length, never by stripping a leading "04": x itself may begin with 04).
- Signatures: SM2 over SM3(Z‖M), Z from the user id (default ``1234567812345678``), as 128 hex digits
  r‖s (64 bytes, not ASN.1). licences.md and freight.md both sign this way.
- Ciphertexts: ``04‖C1(x‖y)‖C2‖C3`` (the GB/T 32918 order; freight's encryptedCode). `decrypt`
  accepts C1 with or without the ``04`` and checks C3, raising `DecryptionError` on a mismatch.

Implementation: verification and decryption through the system's OpenSSL 3 libcrypto
(`transforms.crypto.openssl_sm2`, ctypes) where it loads and meets the standard's vectors, else
gmalglib (C); signing, encrypting and key generation through gmalglib. gmssl (pure Python) is the
independent cross-check in the tests and the baseline of `transforms.crypto.bench`. `backend()`
names what is in use. Measured with `bench.measure` on this project's 2-core machine, one process
(2026-12-07, three runs, one of them on a quiet machine; gmalglib's sign from earlier runs):

    per second   OpenSSL 3.0     gmalglib        gmssl      ratio OpenSSL / gmalglib
    sign         -               6,900-8,800     117-154    (gmalglib keeps a signer per key)
    verify       2,440-3,160     1,890-2,100     65-89      ~1.5x
    decrypt      2,740-3,000     2,310-2,460     128-195    ~1.2x

OpenSSL also lets go of the GIL during a call: two threads of one process verified 6,300/s on
the quiet machine (gmalglib holds it: two threads are no faster than one). Freight opens an envelope with one verify and one decrypt, so this is most of
an envelope's cost.

Checked before choosing gmalglib: it reproduces the GB/T 32918.5 Annex A signature and Annex C
ciphertext byte for byte with the standard's k, decrypts OpenSSL's evppkey_sm2 vector, and
interoperates with gmssl both ways (signatures, and ciphertexts after reordering). PyPI has no Linux
wheel of 0.5.9, so uv builds it from the sdist (gcc and the Python headers, on every machine); its
nonces come from /dev/urandom (the build has no ``rand()`` fallback), unlike gmssl, whose k comes
from Python's non-cryptographic ``random`` — one more reason gmssl never signs here. gmalglib's own
ciphertext order is C1C3C2; this module reorders. Its C3 check is kept (gmssl has none). The tests
run every verification and decryption case on both OpenSSL and gmalglib.
"""

from __future__ import annotations

import functools
import re

from gmalglib.sm2 import SM2

from transforms.crypto import openssl_sm2
from transforms.crypto.errors import CryptoError, DecryptionError

DEFAULT_USER_ID = b"1234567812345678"
PRIVATE_HEX = 64
PUBLIC_HEX = 130
SIGNATURE_HEX = 128
_POINT_BYTES = 64  # x‖y
_C3_BYTES = 32
_HEX = re.compile(r"[0-9a-fA-F]*")


def _is_hex(text: object, length: int) -> bool:
    return isinstance(text, str) and len(text) == length and _HEX.fullmatch(text) is not None


def _private_bytes(private_key: str) -> bytes:
    if not _is_hex(private_key, PRIVATE_HEX):
        raise CryptoError(f"SM2 private key must be {PRIVATE_HEX} hex digits")
    return bytes.fromhex(private_key)


def _public_bytes(public_key: str) -> bytes:
    """65 bytes 04‖x‖y from 130 hex digits ``04‖x‖y`` or 128 digits ``x‖y``."""
    if _is_hex(public_key, PUBLIC_HEX) and public_key.startswith("04"):
        return bytes.fromhex(public_key)
    if _is_hex(public_key, PUBLIC_HEX - 2):
        return b"\x04" + bytes.fromhex(public_key)
    raise CryptoError(
        f"SM2 public key must be {PUBLIC_HEX} hex digits 04‖x‖y (or {PUBLIC_HEX - 2} digits x‖y)"
    )


@functools.lru_cache(maxsize=64)
def _private(private_key: str, user_id: bytes) -> SM2:
    """The gmalglib object of a private key, kept: building one (the public key and Z) costs more
    than a signature."""
    secret = _private_bytes(private_key)
    try:
        return SM2(sk=secret, uid=user_id)
    except ValueError:
        raise CryptoError("SM2 private key is out of range [1, n-2]") from None


@functools.lru_cache(maxsize=256)
def _public(public_key: str, user_id: bytes = DEFAULT_USER_ID) -> SM2:
    """The gmalglib object of a public key, kept: rebuilding it (point check and Z) for every
    verification cost a third of the verification rate (a sender signs thousands of envelopes with
    one key)."""
    point = _public_bytes(public_key)
    try:
        return SM2(pk=point, uid=user_id)
    except ValueError:
        raise CryptoError("SM2 public key is not a point of the curve") from None


@functools.cache
def _openssl() -> bool:
    """Whether verify / decrypt go through OpenSSL (decided once per process)."""
    return openssl_sm2.available()


def backend() -> str:
    """What verifies and decrypts here, e.g. ``OpenSSL 3.0.19 27 Jan 2026`` or ``gmalglib``."""
    return openssl_sm2.version() if _openssl() else "gmalglib"


def releases_gil() -> bool:
    """Whether verify / decrypt let go of the GIL (OpenSSL through ctypes does; gmalglib does not):
    then threads of one process open envelopes in parallel, without spawning processes."""
    return _openssl()


@functools.lru_cache(maxsize=256)
def _point(public_key: str) -> bytes:
    return _public_bytes(public_key)


@functools.lru_cache(maxsize=64)
def _key_pair(private_key: str) -> tuple[bytes, bytes]:
    """(private 32 bytes, public 65 bytes 04‖x‖y) of a private key already range-checked."""
    secret = _private_bytes(private_key)
    return secret, SM2.get_pk(secret)


def generate_keypair() -> tuple[str, str]:
    """A new key pair: (private 64 hex, public 130 hex 04‖x‖y), from the OS random source."""
    private, public = SM2().generate_keypair()
    return private.hex(), public.hex()


def public_key_of(private_key: str) -> str:
    """The 130-hex public key 04‖x‖y of a private key."""
    secret = _private_bytes(private_key)
    try:
        return SM2.get_pk(secret).hex()
    except ValueError:
        raise CryptoError("SM2 private key is out of range [1, n-2]") from None


def sign(message: bytes, private_key: str, *, user_id: bytes = DEFAULT_USER_ID) -> str:
    """SM2 signature of ``message`` (SM3 with Z of ``user_id``) as 128 hex digits r‖s."""
    return _private(private_key, user_id).sign(message).hex()


def verify(
    message: bytes, signature: str, public_key: str, *, user_id: bytes = DEFAULT_USER_ID
) -> bool:
    """Whether ``signature`` (128 hex r‖s) signs ``message`` under ``public_key``.

    A malformed signature (length, not hex, r or s out of range) is simply not valid: False. A
    malformed public key raises `CryptoError`, since it says nothing about the message.
    """
    verifier = _public(public_key, user_id)  # the key's checks, whichever library verifies
    if not _is_hex(signature, SIGNATURE_HEX):
        return False
    if _openssl():
        return openssl_sm2.verify(message, bytes.fromhex(signature), _point(public_key), user_id)
    return verifier.verify(message, bytes.fromhex(signature))


def encrypt(plaintext: bytes, public_key: str) -> bytes:
    """SM2 encryption of ``plaintext`` as ``04‖C1(x‖y)‖C2‖C3``."""
    if not plaintext:
        raise CryptoError("SM2 cannot encrypt an empty message")
    c1c3c2 = _public(public_key).encrypt(plaintext)  # gmalglib's order
    c2_at = 1 + _POINT_BYTES + _C3_BYTES
    return c1c3c2[: 1 + _POINT_BYTES] + c1c3c2[c2_at:] + c1c3c2[1 + _POINT_BYTES : c2_at]


def _is_point(xy: bytes) -> bool:
    return SM2.is_pk_valid(b"\x04" + xy)


def decrypt(ciphertext: bytes | str, private_key: str) -> bytes:
    """The plaintext of a ``[04]‖C1‖C2‖C3`` ciphertext (bytes, or its hex text).

    C1 is read as ``04‖x‖y`` when the ciphertext starts with 04 and those 64 bytes are a point of the
    curve, else as ``x‖y`` (a bare x may itself begin with 04; both readings being points is a
    2^-256 accident). `DecryptionError` when C1 is no point, the ciphertext is too short, or C3 does
    not match (wrong key, altered ciphertext) — gmssl would return garbage instead.
    """
    if isinstance(ciphertext, str):
        try:
            ciphertext = bytes.fromhex(ciphertext)
        except ValueError:
            raise DecryptionError("SM2 ciphertext is not hex") from None
    minimum = _POINT_BYTES + _C3_BYTES + 1
    if (
        len(ciphertext) > minimum
        and ciphertext[0] == 4
        and _is_point(ciphertext[1 : 1 + _POINT_BYTES])
    ):
        body = ciphertext[1:]
    elif len(ciphertext) >= minimum and _is_point(ciphertext[:_POINT_BYTES]):
        body = ciphertext
    else:
        raise DecryptionError(
            f"SM2 ciphertext of {len(ciphertext)} bytes: C1 is not a point of the curve "
            f"or the ciphertext is shorter than C1 + C3 + 1 byte"
        )
    c1, c2, c3 = body[:_POINT_BYTES], body[_POINT_BYTES:-_C3_BYTES], body[-_C3_BYTES:]
    decrypter = _private(private_key, DEFAULT_USER_ID)  # the key's checks, whichever decrypts
    if _openssl():
        plain = openssl_sm2.decrypt(c1, c2, c3, *_key_pair(private_key))
        if plain is None:
            raise DecryptionError("SM2 C3 does not match: wrong key or altered ciphertext")
        return plain
    try:
        return decrypter.decrypt(b"\x04" + c1 + c3 + c2)
    except ValueError as exc:
        if "C3" in str(exc):
            raise DecryptionError(
                "SM2 C3 does not match: wrong key or altered ciphertext"
            ) from None
        raise DecryptionError(f"SM2 ciphertext does not decrypt: {exc}") from None

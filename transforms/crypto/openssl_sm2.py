"""SM2 verification and decryption through the system's OpenSSL 3 libcrypto (ctypes).

Why: opening a freight envelope is one SM2 verification and one SM2 decryption, and they are most of
its cost. Measured on this project's 2-core machine (one process, ``transforms.crypto.bench``, a
quiet run): OpenSSL verifies 3,146 signatures/s and decrypts 2,998 ciphertexts/s, gmalglib 2,099
and 2,429; and ctypes lets go of the GIL during each call, so two threads of one process verify
6,300/s (gmalglib holds the GIL: two threads are no faster than one). Signing and encrypting stay with
gmalglib (they are not on any hot path, and gmalglib's keys are what `sm2` builds anyway).

Only what `sm2.verify` / `sm2.decrypt` need, with the rules OpenSSL 3.0 imposes:

- keys enter as DER (a SubjectPublicKeyInfo / PKCS#8 on the sm2p256v1 OID, which 3.0 types "SM2"),
  built here from the raw forms; the private key's range was checked by `sm2` before it gets here;
- the user id of Z must be set *after* ``EVP_DigestVerifyInit`` (3.0 refuses it before and has
  no default id);
- signatures are r‖s here and minimal DER ``SEQUENCE {INTEGER r, INTEGER s}`` for OpenSSL;
  ciphertexts C1‖C2‖C3 here and ``SEQUENCE {INTEGER x, INTEGER y, OCTET C3, OCTET C2}`` there;
- every failure clears the thread's OpenSSL error queue (it would otherwise grow without end).

`available()` says whether this machine's libcrypto can be used: it loads, is 3.x, and reproduces the
GB/T 32918.5 Annex A signature check and Annex C decryption at first use. Where it cannot, `sm2`
stays on gmalglib — the results are the same, only slower (`sm2.backend()` names the one in use).
"""

from __future__ import annotations

import ctypes
import ctypes.util
import functools
import threading

_SPKI_PREFIX = bytes.fromhex(  # SEQUENCE {SEQUENCE {ecPublicKey, sm2p256v1}, BIT STRING 04‖x‖y}
    "3059301306072a8648ce3d020106082a811ccf5501822d03420004"
)
_SM2_CURVE_OID = bytes.fromhex("06082a811ccf5501822d")
_EC_PUBLIC_KEY_OID = bytes.fromhex("06072a8648ce3d0201")

_lock = threading.Lock()
_lib: ctypes.CDLL | None = None
_sm3: int | None = None
_checked: bool | None = None


def _load() -> ctypes.CDLL | None:
    """libcrypto with the prototypes used here (every return type declared: 64-bit pointers)."""
    name = ctypes.util.find_library("crypto")
    if name is None:
        return None
    try:
        lib = ctypes.CDLL(name)
        version = lib.OpenSSL_version_num
    except (OSError, AttributeError):
        return None
    version.restype = ctypes.c_ulong
    version.argtypes = []
    if version() < 0x30000000:  # EVP_PKEY_CTX_set1_id as a function, typed SM2 keys: 3.0 on
        return None
    vp, cp, ip, sz = ctypes.c_void_p, ctypes.c_char_p, ctypes.c_int, ctypes.c_size_t
    prototypes = {
        "ERR_clear_error": (None, []),
        "EVP_MD_fetch": (vp, [vp, cp, cp]),
        "EVP_MD_CTX_new": (vp, []),
        "EVP_MD_CTX_free": (None, [vp]),
        "EVP_DigestVerifyInit": (ip, [vp, ctypes.POINTER(vp), vp, vp, vp]),
        "EVP_DigestVerify": (ip, [vp, cp, sz, cp, sz]),
        "EVP_PKEY_CTX_set1_id": (ip, [vp, cp, ip]),
        "EVP_PKEY_CTX_new": (vp, [vp, vp]),
        "EVP_PKEY_CTX_free": (None, [vp]),
        "EVP_PKEY_decrypt_init": (ip, [vp]),
        "EVP_PKEY_decrypt": (ip, [vp, cp, ctypes.POINTER(sz), cp, sz]),
        "EVP_PKEY_free": (None, [vp]),
        "EVP_PKEY_is_a": (ip, [vp, cp]),
        "d2i_PUBKEY": (vp, [vp, ctypes.POINTER(cp), ctypes.c_long]),
        "d2i_AutoPrivateKey": (vp, [vp, ctypes.POINTER(cp), ctypes.c_long]),
    }
    try:
        for symbol, (restype, argtypes) in prototypes.items():
            function = getattr(lib, symbol)
            function.restype = restype
            function.argtypes = argtypes
    except AttributeError:
        return None
    return lib


def _library() -> ctypes.CDLL | None:
    global _lib, _sm3, _checked
    if _checked is not None:
        return _lib if _checked else None
    with _lock:
        if _checked is None:
            lib = _load()
            md = lib.EVP_MD_fetch(None, b"SM3", None) if lib is not None else None
            if lib is None or not md:
                _checked = False
            else:
                _lib, _sm3 = lib, md  # the fetched SM3 lives as long as the process
                _checked = _self_test()
                if not _checked:
                    _lib = None
    return _lib if _checked else None


def _ready() -> ctypes.CDLL:
    lib = _lib or _library()  # _lib is set while the self-test runs
    if lib is None:
        raise RuntimeError("OpenSSL 3 libcrypto with SM2 is not available here")
    return lib


def _der_length(n: int) -> bytes:
    if n < 0x80:
        return bytes([n])
    body = n.to_bytes((n.bit_length() + 7) // 8, "big")
    return bytes([0x80 | len(body)]) + body


def _der(tag: int, body: bytes) -> bytes:
    return bytes([tag]) + _der_length(len(body)) + body


def _der_integer(value: bytes) -> bytes:
    """A non-negative big-endian number as a minimal DER INTEGER."""
    value = value.lstrip(b"\0") or b"\0"
    if value[0] & 0x80:
        value = b"\0" + value
    return _der(0x02, value)


def signature_der(r_s: bytes) -> bytes:
    """64 bytes r‖s → DER ``SEQUENCE {INTEGER r, INTEGER s}``."""
    return _der(0x30, _der_integer(r_s[:32]) + _der_integer(r_s[32:]))


def ciphertext_der(c1: bytes, c2: bytes, c3: bytes) -> bytes:
    """C1 (x‖y, 64 bytes), C2, C3 → DER ``SEQUENCE {INTEGER x, INTEGER y, OCTET C3, OCTET C2}``."""
    return _der(
        0x30,
        _der_integer(c1[:32]) + _der_integer(c1[32:]) + _der(0x04, c3) + _der(0x04, c2),
    )


def _private_key_der(secret: bytes, public: bytes) -> bytes:
    """PKCS#8 of an SM2 private key (32 bytes) with its public key (65 bytes 04‖x‖y)."""
    ec_private = _der(
        0x30,
        _der(0x02, b"\x01") + _der(0x04, secret) + _der(0xA1, _der(0x03, b"\0" + public)),
    )
    algorithm = _der(0x30, _EC_PUBLIC_KEY_OID + _SM2_CURVE_OID)
    return _der(0x30, _der(0x02, b"\0") + algorithm + _der(0x04, ec_private))


class _Key:
    """One EVP_PKEY, freed with the object."""

    def __init__(self, lib: ctypes.CDLL, der: bytes, private: bool):
        self._lib = lib
        buffer = ctypes.c_char_p(der)
        reader = (lib.d2i_AutoPrivateKey if private else lib.d2i_PUBKEY)(
            None, ctypes.byref(buffer), len(der)
        )
        self.pointer = reader
        if not reader or lib.EVP_PKEY_is_a(reader, b"SM2") != 1:
            lib.ERR_clear_error()
            raise ValueError("OpenSSL did not read the key as an SM2 key")

    def __del__(self):
        if getattr(self, "pointer", None):
            self._lib.EVP_PKEY_free(self.pointer)
            self.pointer = None


@functools.lru_cache(maxsize=256)
def _public_key(point: bytes) -> _Key:
    """The EVP_PKEY of a public key 04‖x‖y (65 bytes), kept per key."""
    return _Key(_lib, _SPKI_PREFIX + point[1:], private=False)


@functools.lru_cache(maxsize=64)
def _private_key(secret: bytes, public: bytes) -> _Key:
    return _Key(_lib, _private_key_der(secret, public), private=True)


def verify(message: bytes, r_s: bytes, point: bytes, user_id: bytes) -> bool:
    """Whether the 64-byte signature r‖s signs ``message`` under the public key ``point``
    (04‖x‖y, already checked to be a point of the curve), Z from ``user_id``."""
    lib = _ready()
    key = _public_key(point)
    md_ctx = lib.EVP_MD_CTX_new()
    if not md_ctx:
        raise MemoryError("EVP_MD_CTX_new")
    try:
        pkey_ctx = ctypes.c_void_p()
        if lib.EVP_DigestVerifyInit(md_ctx, ctypes.byref(pkey_ctx), _sm3, None, key.pointer) != 1:
            lib.ERR_clear_error()
            raise RuntimeError("OpenSSL could not start an SM2 verification")
        if lib.EVP_PKEY_CTX_set1_id(pkey_ctx, user_id, len(user_id)) != 1:
            lib.ERR_clear_error()
            raise RuntimeError("OpenSSL did not take the SM2 user id")
        der = signature_der(r_s)
        good = lib.EVP_DigestVerify(md_ctx, der, len(der), message, len(message)) == 1
        if not good:
            lib.ERR_clear_error()
        return good
    finally:
        lib.EVP_MD_CTX_free(md_ctx)


def decrypt(c1: bytes, c2: bytes, c3: bytes, secret: bytes, public: bytes) -> bytes | None:
    """The plaintext of C1 (x‖y, a point of the curve) ‖ C2 ‖ C3 under the private key ``secret``
    (with its public key ``public``), or None when C3 does not match."""
    lib = _ready()
    key = _private_key(secret, public)
    ctx = lib.EVP_PKEY_CTX_new(key.pointer, None)
    if not ctx:
        lib.ERR_clear_error()
        raise MemoryError("EVP_PKEY_CTX_new")
    try:
        if lib.EVP_PKEY_decrypt_init(ctx) != 1:
            lib.ERR_clear_error()
            raise RuntimeError("OpenSSL could not start an SM2 decryption")
        der = ciphertext_der(c1, c2, c3)
        size = ctypes.c_size_t(len(c2) + 1)
        out = ctypes.create_string_buffer(size.value)
        if lib.EVP_PKEY_decrypt(ctx, out, ctypes.byref(size), der, len(der)) != 1:
            lib.ERR_clear_error()
            return None
        return out.raw[: size.value]
    finally:
        lib.EVP_PKEY_CTX_free(ctx)


# GB/T 32918.5-2017 Annex A (signature) and Annex C (encryption), default user id
_A_PUB = bytes.fromhex(
    "0409f9df311e5421a150dd7d161e4bc5c672179fad1833fc076bb08ff356f35020"
    "ccea490ce26775a52dc6ea718cc1aa600aed05fbf35e084a6632f6072da9ad13"
)
_A_SECRET = bytes.fromhex("3945208f7b2144b13f36e38ac6d39f95889393692860b51a42fb81ef4df7c5b8")
_A_SIGNATURE = bytes.fromhex(
    "f5a03b0648d2c4630eeac513e1bb81a15944da3827d5b74143ac7eaceee720b3"
    "b1b6aa29df212fd8763182bc0d421ca1bb9038fd1f7f42d4840b69c485bbc1aa"
)
_C_C1 = bytes.fromhex(
    "04ebfc718e8d1798620432268e77feb6415e2ede0e073c0f4f640ecd2e149a73"
    "e858f9d81e5430a57b36daab8f950a3c64e6ee6a63094d99283aff767e124df0"
)
_C_C2 = bytes.fromhex("21886ca989ca9c7d58087307ca93092d651efa")
_C_C3 = bytes.fromhex("59983c18f809e262923c53aec295d30383b54e39d609d160afcb1908d0bd8766")


def _self_test() -> bool:
    """The standard's vectors through this library, and a changed byte refused."""
    user_id = b"1234567812345678"
    try:
        return (
            verify(b"message digest", _A_SIGNATURE, _A_PUB, user_id)
            and not verify(b"message digest!", _A_SIGNATURE, _A_PUB, user_id)
            and decrypt(_C_C1, _C_C2, _C_C3, _A_SECRET, _A_PUB) == b"encryption standard"
            and decrypt(_C_C1, _C_C2[:-1] + b"\0", _C_C3, _A_SECRET, _A_PUB) is None
        )
    except (ValueError, RuntimeError, MemoryError):
        return False
    finally:
        _public_key.cache_clear()
        _private_key.cache_clear()


def available() -> bool:
    """Whether verify / decrypt can run here (libcrypto 3.x with SM2, the standard's vectors met)."""
    return _library() is not None


def version() -> str | None:
    """OpenSSL's version text, when available."""
    lib = _library()
    if lib is None:
        return None
    text = lib.OpenSSL_version
    text.restype = ctypes.c_char_p
    text.argtypes = [ctypes.c_int]
    return text(0).decode()

"""SM4 (GB/T 32907) in ECB and CBC mode with PKCS#7 padding through OpenSSL, and the encryption of
sensitive columns.

Bulk functions (`encrypt_ecb` / `decrypt_ecb`, `encrypt_cbc` / `decrypt_cbc`) take and return bytes;
the key is 16 bytes, the CBC IV 16 bytes. Freight envelopes use ECB (freight.md: encryptedContent =
base64 of SM4-ECB, PKCS#7, of the UTF-8 body).

Columns (`encrypt_column` / `decrypt_column`): every value is SM4-CBC encrypted under its own random
IV and stored as base64(IV ‖ ciphertext) text, None staying None. Random IVs make the stored text
non-deterministic on purpose: two rows with one ID number look unrelated, so the column reveals
neither repeats nor frequencies; joins and equality tests use the HMAC-SM3 column instead
(`transforms.crypto.sm3.hmac_sm3_column`). An 18-digit ID number becomes 64 characters (16 IV + 32
ciphertext bytes), base64 rather than hex to keep it at 4/3 of the bytes instead of 2x.

Speed: OpenSSL allocates a context per IV, which dominates for short strings, so the column
functions run CBC over one ECB context per call: round j encrypts, in one call, the j-th block of
every value long enough XOR-ed with its previous ciphertext block (the IV for j = 0); decryption has
no chaining at all (P_j = D(C_j) XOR C_{j-1}), so all blocks of all values go through one ECB call
and one XOR. The XORs are done on Python integers of the whole round. Measured here on 18-character
ID numbers: 425-458 k values/s encrypted, 560-600 k/s decrypted, against 134 k/s with one OpenSSL
context per value; bulk SM4 runs at 90-120 MB/s (ECB and CBC), pure-Python gmssl at 0.24 MB/s.
"""

from __future__ import annotations

import base64
import binascii
import os
from collections.abc import Iterable

from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

from transforms.crypto.errors import CryptoError, DecryptionError

KEY_BYTES = 16
BLOCK_BYTES = 16


def _cipher(key: bytes, mode: modes.Mode) -> Cipher:
    if not isinstance(key, bytes | bytearray) or len(key) != KEY_BYTES:
        got = f"{len(key)} bytes" if isinstance(key, bytes | bytearray) else type(key).__name__
        raise CryptoError(f"SM4 key must be {KEY_BYTES} bytes, got {got}")
    return Cipher(algorithms.SM4(bytes(key)), mode)


def _check_iv(iv: bytes) -> modes.CBC:
    if len(iv) != BLOCK_BYTES:
        raise CryptoError(f"SM4-CBC IV must be {BLOCK_BYTES} bytes, got {len(iv)}")
    return modes.CBC(iv)


def _pad(data: bytes) -> bytes:
    n = BLOCK_BYTES - len(data) % BLOCK_BYTES
    return data + bytes((n,)) * n


def _unpad(data: bytes) -> bytes:
    n = data[-1] if data else 0
    if not 1 <= n <= BLOCK_BYTES or data[-n:] != bytes((n,)) * n:
        raise DecryptionError("bad PKCS#7 padding: wrong key or altered ciphertext")
    return data[:-n]


def _check_blocks(ciphertext: bytes) -> None:
    if not ciphertext or len(ciphertext) % BLOCK_BYTES:
        raise DecryptionError(
            f"SM4 ciphertext must be a non-zero multiple of {BLOCK_BYTES} bytes, "
            f"got {len(ciphertext)}"
        )


def _xor(a: bytes, b: bytes) -> bytes:
    return (int.from_bytes(a, "little") ^ int.from_bytes(b, "little")).to_bytes(len(a), "little")


def encrypt_ecb(plaintext: bytes, key: bytes) -> bytes:
    """SM4-ECB of ``plaintext`` padded with PKCS#7 (always at least one padding byte)."""
    enc = _cipher(key, modes.ECB()).encryptor()
    return enc.update(_pad(plaintext)) + enc.finalize()


def decrypt_ecb(ciphertext: bytes, key: bytes) -> bytes:
    """Inverse of `encrypt_ecb`; `DecryptionError` on a bad length or padding."""
    _check_blocks(ciphertext)
    dec = _cipher(key, modes.ECB()).decryptor()
    return _unpad(dec.update(ciphertext) + dec.finalize())


def encrypt_cbc(plaintext: bytes, key: bytes, iv: bytes) -> bytes:
    """SM4-CBC of ``plaintext`` padded with PKCS#7; the IV is not included in the output."""
    enc = _cipher(key, _check_iv(iv)).encryptor()
    return enc.update(_pad(plaintext)) + enc.finalize()


def decrypt_cbc(ciphertext: bytes, key: bytes, iv: bytes) -> bytes:
    """Inverse of `encrypt_cbc`; `DecryptionError` on a bad length or padding."""
    _check_blocks(ciphertext)
    dec = _cipher(key, _check_iv(iv)).decryptor()
    return _unpad(dec.update(ciphertext) + dec.finalize())


def encrypt_column(values: Iterable[str | None], key: bytes) -> list[str | None]:
    """base64(IV ‖ SM4-CBC(UTF-8 value)) of each value under a fresh random IV; None stays None."""
    ecb = _cipher(key, modes.ECB()).encryptor()
    values = list(values)
    present = [i for i, v in enumerate(values) if v is not None]
    padded = [_pad(values[i].encode("utf-8")) for i in present]
    ivs = os.urandom(BLOCK_BYTES * len(padded))
    # chain[k]: the block value k's next plaintext block is XOR-ed with (its IV, then its last C_j)
    chain = [ivs[k * BLOCK_BYTES : (k + 1) * BLOCK_BYTES] for k in range(len(padded))]
    parts = [[iv] for iv in chain]
    active = list(range(len(padded)))
    offset = 0
    while active:
        blocks = b"".join(padded[k][offset : offset + BLOCK_BYTES] for k in active)
        encrypted = ecb.update(_xor(blocks, b"".join(chain[k] for k in active)))
        for n, k in enumerate(active):
            chain[k] = encrypted[n * BLOCK_BYTES : (n + 1) * BLOCK_BYTES]
            parts[k].append(chain[k])
        offset += BLOCK_BYTES
        active = [k for k in active if len(padded[k]) > offset]
    out: list[str | None] = [None] * len(values)
    for i, blocks in zip(present, parts, strict=True):
        out[i] = base64.b64encode(b"".join(blocks)).decode("ascii")
    return out


def decrypt_column(values: Iterable[str | None], key: bytes) -> list[str | None]:
    """Inverse of `encrypt_column`; `DecryptionError` names the position of a value that does not
    decrypt (never the value)."""
    ecb = _cipher(key, modes.ECB()).decryptor()
    values = list(values)
    present = [i for i, v in enumerate(values) if v is not None]
    raws = []
    for i in present:
        try:
            raw = base64.b64decode(values[i], validate=True)
        except (binascii.Error, ValueError):
            raise DecryptionError(f"value {i} is not base64") from None
        if len(raw) < 2 * BLOCK_BYTES or len(raw) % BLOCK_BYTES:
            raise DecryptionError(
                f"value {i}: IV + ciphertext must be a multiple of {BLOCK_BYTES} bytes and at "
                f"least {2 * BLOCK_BYTES}, got {len(raw)}"
            )
        raws.append(raw)
    # P_j = D(C_j) XOR C_{j-1} with C_0 = IV: every block of every value at once
    plain = _xor(
        ecb.update(b"".join(raw[BLOCK_BYTES:] for raw in raws)),
        b"".join(raw[:-BLOCK_BYTES] for raw in raws),
    )
    out: list[str | None] = [None] * len(values)
    start = 0
    for i, raw in zip(present, raws, strict=True):
        end = start + len(raw) - BLOCK_BYTES
        try:
            out[i] = _unpad(plain[start:end]).decode("utf-8")
        except (DecryptionError, UnicodeDecodeError):
            raise DecryptionError(f"value {i} does not decrypt: wrong key or altered") from None
        start = end
    return out

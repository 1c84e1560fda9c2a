"""The key files in ``$LAKEHOUSE_KEYS`` (default ``./keys``, git-ignored, never committed).

| file | content | used for |
|---|---|---|
| ``column_sm4.key`` | 32 hex (16 bytes) | SM4 of sensitive columns (licences.md, data protection) |
| ``join_hmac_sm3.key`` | 64 hex (32 bytes) | HMAC-SM3 of join columns |
| ``freight_platform_sm2.key`` | 64 hex | the province platform's SM2 private key (freight.md) |
| ``freight_platform_sm2.pub`` | 130 hex ``04‖x‖y`` | its public key, given to the senders |

`init_keys` (``lakehouse keys init``) creates the folder (mode 0700) and the missing files (mode 0600)
and never overwrites one; the loaders read a file each call and raise `MissingKeyError` /
`MalformedKeyError` (both `KeyFileError`) with the path and what to do. The environment is read
when a function is called, never at import. No message, log line or output ever holds a key value.
"""

from __future__ import annotations

import os
import re
import secrets
from pathlib import Path

from transforms.crypto import sm2
from transforms.crypto.errors import CryptoError

KEYS_ENV = "LAKEHOUSE_KEYS"
COLUMN_KEY = "column_sm4.key"
JOIN_KEY = "join_hmac_sm3.key"
PLATFORM_PRIVATE_KEY = "freight_platform_sm2.key"
PLATFORM_PUBLIC_KEY = "freight_platform_sm2.pub"
KEY_FILES = (COLUMN_KEY, JOIN_KEY, PLATFORM_PRIVATE_KEY, PLATFORM_PUBLIC_KEY)
# the ministry system's (部网络货运信息交互系统) public key, which uploads are encrypted for: the
# ministry's to give, so `keys init` never creates it
MINISTRY_PUBLIC_KEY = "freight_ministry_sm2.pub"

# file name -> (hex digits, what it is)
_FORMS = {
    COLUMN_KEY: (32, "SM4 key of sensitive columns"),
    JOIN_KEY: (64, "HMAC-SM3 key of join columns"),
    PLATFORM_PRIVATE_KEY: (sm2.PRIVATE_HEX, "SM2 private key of the province freight platform"),
    PLATFORM_PUBLIC_KEY: (
        sm2.PUBLIC_HEX,
        "SM2 public key (04‖x‖y) of the province freight platform",
    ),
    MINISTRY_PUBLIC_KEY: (
        sm2.PUBLIC_HEX,
        "SM2 public key (04‖x‖y) of the ministry freight system (given by the ministry)",
    ),
}
_HEX = re.compile(r"[0-9a-fA-F]+")


class KeyFileError(RuntimeError):
    """A key file that is missing, malformed or inconsistent with its pair."""


class MissingKeyError(KeyFileError):
    """A key file that does not exist."""


class MalformedKeyError(KeyFileError):
    """A key file of the wrong length or not hex, or an SM2 pair that does not match."""


def keys_dir(folder: Path | str | None = None) -> Path:
    """The keys folder: ``folder``, else ``$LAKEHOUSE_KEYS``, else ``./keys`` (absolute)."""
    chosen = folder if folder is not None else os.environ.get(KEYS_ENV) or "keys"
    return Path(chosen).expanduser().absolute()


def _read(name: str, folder: Path | str | None) -> str:
    path = keys_dir(folder) / name
    digits, what = _FORMS[name]
    try:
        text = path.read_text(encoding="ascii").strip()
    except FileNotFoundError:
        raise MissingKeyError(
            f"{what} not found: {path} (keys folder from ${KEYS_ENV}, default ./keys). "
            f"Create the missing keys with `lakehouse keys init`."
        ) from None
    except UnicodeDecodeError:
        text = "?"  # reported below as not hex, without showing the bytes
    if len(text) != digits or not _HEX.fullmatch(text):
        if not text:
            form = "an empty file"
        elif not _HEX.fullmatch(text):
            form = "characters that are not hex"
        else:
            form = f"{len(text)} hex digits"
        raise MalformedKeyError(
            f"{what} in {path} is malformed: expected {digits} hex digits, found {form}. "
            f"Restore the file, or remove it and run `lakehouse keys init` (data encrypted or "
            f"signed with the old key can then no longer be read or verified)."
        )
    return text.lower()


def column_key(folder: Path | str | None = None) -> bytes:
    """The 16-byte SM4 key of sensitive columns."""
    return bytes.fromhex(_read(COLUMN_KEY, folder))


def join_key(folder: Path | str | None = None) -> bytes:
    """The 32-byte HMAC-SM3 key of join columns."""
    return bytes.fromhex(_read(JOIN_KEY, folder))


def platform_private_key(folder: Path | str | None = None) -> str:
    """The province freight platform's SM2 private key, 64 hex."""
    return _read(PLATFORM_PRIVATE_KEY, folder)


def platform_public_key(folder: Path | str | None = None) -> str:
    """The province freight platform's SM2 public key, 130 hex 04‖x‖y."""
    return _read(PLATFORM_PUBLIC_KEY, folder)


def ministry_public_key(folder: Path | str | None = None) -> str:
    """The ministry freight system's SM2 public key, 130 hex 04‖x‖y (uploads are encrypted for
    it). Not created by `lakehouse keys init`: the ministry gives it."""
    try:
        return _read(MINISTRY_PUBLIC_KEY, folder)
    except MissingKeyError:
        raise MissingKeyError(
            f"the ministry freight system's SM2 public key is not in {keys_dir(folder)} "
            f"({MINISTRY_PUBLIC_KEY}, 130 hex digits 04‖x‖y): put the key the ministry gave "
            f"there; uploads are encrypted for it"
        ) from None


def _write_new(path: Path, text: str) -> None:
    """Create ``path`` with mode 0600; O_EXCL makes an existing file (even one created meanwhile by
    another process) an error instead of overwriting it."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        os.fchmod(fd, 0o600)  # whatever the umask
        os.write(fd, f"{text}\n".encode("ascii"))
    finally:
        os.close(fd)


def _public_of_existing(root: Path) -> str:
    try:
        return sm2.public_key_of(platform_private_key(root))
    except CryptoError:
        raise MalformedKeyError(
            f"{root / PLATFORM_PRIVATE_KEY} is not a valid SM2 private key (out of range [1, n-2]): "
            f"restore the file."
        ) from None


def init_keys(folder: Path | str | None = None) -> list[str]:
    """Create the keys folder and every missing key file; return the names created.

    Existing files are never rewritten, only checked first (length, hex, and that the SM2 public key
    belongs to the private key), so a bad folder gets an error and no new file. A missing public key is derived from an existing private key; a
    public key without its private key is an error, since a new private key could not match it.
    """
    root = keys_dir(folder)
    if not root.is_dir():
        root.mkdir(parents=True)
        root.chmod(0o700)
    present = {name for name in KEY_FILES if (root / name).exists()}
    for name in present:
        _read(name, root)
    if PLATFORM_PUBLIC_KEY in present and PLATFORM_PRIVATE_KEY not in present:
        raise MissingKeyError(
            f"{root / PLATFORM_PUBLIC_KEY} exists without its private key "
            f"{root / PLATFORM_PRIVATE_KEY}: restore the private key, or remove both files to "
            f"create a new pair (senders must then be given the new public key)."
        )
    if PLATFORM_PRIVATE_KEY in present:
        public = _public_of_existing(root)
        if PLATFORM_PUBLIC_KEY in present and platform_public_key(root) != public:
            raise MalformedKeyError(
                f"{root / PLATFORM_PUBLIC_KEY} is not the public key of "
                f"{root / PLATFORM_PRIVATE_KEY}: restore the matching pair."
            )
    created = []
    if COLUMN_KEY not in present:
        _write_new(root / COLUMN_KEY, secrets.token_hex(16))
        created.append(COLUMN_KEY)
    if JOIN_KEY not in present:
        _write_new(root / JOIN_KEY, secrets.token_hex(32))
        created.append(JOIN_KEY)
    if PLATFORM_PRIVATE_KEY not in present:
        private, public = sm2.generate_keypair()
        _write_new(root / PLATFORM_PRIVATE_KEY, private)
        created.append(PLATFORM_PRIVATE_KEY)
    if PLATFORM_PUBLIC_KEY not in present:
        _write_new(root / PLATFORM_PUBLIC_KEY, public)
        created.append(PLATFORM_PUBLIC_KEY)
    return created

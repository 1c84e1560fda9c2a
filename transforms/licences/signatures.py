"""The signature check of a licence record (licences.md "Signature"), in Python over Arrow columns.

A record is ``verified`` when its ``signer_key_id`` is a registered key of the record's issuing
authority, valid on the date of ``issued_at`` (valid_from ≤ date ≤ valid_to, inclusive), and the
signature (hex r‖s) is an SM2 signature (SM3, user id from the rules) of the record's canonical text
under that key. Otherwise it is ``unknown_signer`` (no key id, a key not registered, registered for
another authority, not valid that day — or an ``issued_at`` that names no day, so that no key can be
shown valid on it) or ``bad_signature`` (no signature, or one that does not verify: a record altered
after signing, or signed with another private key).

gmalglib holds the GIL (≈ 1.6 k verifications/s per core), so a large batch is split over worker
processes; a small one is checked here.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence
from dataclasses import dataclass

from transforms.crypto import sm2
from transforms.crypto.errors import CryptoError
from transforms.lake.parallel import map_chunks

VERIFIED = "verified"
BAD_SIGNATURE = "bad_signature"
UNKNOWN_SIGNER = "unknown_signer"
TIME_PATTERN = re.compile(r"^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$")


@dataclass(frozen=True)
class AuthorityKey:
    """One registered key of an issuing authority (silver.licences__authorities)."""

    key_id: str
    authority_code: str
    public_key: str
    valid_from: dt.date
    valid_to: dt.date


@dataclass(frozen=True)
class Record:
    """What the check of one record needs (the canonical text in clear)."""

    canonical: str | None
    signature: str | None
    signer_key_id: str | None
    authority_code: str | None
    issued_at: str | None


def issued_day(issued_at: str | None) -> dt.date | None:
    """The date of ``YYYY-MM-DD HH:MM:SS``; None for anything else."""
    text = (issued_at or "").strip()
    if not TIME_PATTERN.match(text):
        return None
    try:
        return dt.datetime.fromisoformat(text).date()
    except ValueError:
        return None


def check_record(
    record: Record, keys: dict[str, AuthorityKey], user_id: bytes = sm2.DEFAULT_USER_ID
) -> tuple[str, str | None]:
    """(result, detail): ``verified`` with no detail, or the failure reason and what failed."""
    key_id = (record.signer_key_id or "").strip()
    if not key_id:
        return UNKNOWN_SIGNER, "the record names no signer_key_id"
    key = keys.get(key_id)
    if key is None:
        return UNKNOWN_SIGNER, f"key {key_id} is not registered"
    if key.authority_code != (record.authority_code or "").strip():
        return (
            UNKNOWN_SIGNER,
            f"key {key_id} is registered for authority {key.authority_code}, "
            f"not {record.authority_code}",
        )
    day = issued_day(record.issued_at)
    if day is None:
        return UNKNOWN_SIGNER, f"issued_at {record.issued_at!r} is no time: key validity unknown"
    if not key.valid_from <= day <= key.valid_to:
        return (
            UNKNOWN_SIGNER,
            f"key {key_id} is valid {key.valid_from} … {key.valid_to}, not on {day}",
        )
    if not record.signature or record.canonical is None:
        return BAD_SIGNATURE, "the record has no signature"
    try:
        ok = sm2.verify(
            record.canonical.encode("utf-8"), record.signature.strip(), key.public_key,
            user_id=user_id,
        )  # fmt: skip
    except CryptoError as exc:
        return UNKNOWN_SIGNER, f"key {key_id} is unusable: {exc}"
    if not ok:
        return BAD_SIGNATURE, f"the signature does not verify under key {key_id}"
    return VERIFIED, None


def _check_chunk(
    records: list[Record], keys: dict[str, AuthorityKey], user_id: bytes
) -> list[tuple[str, str | None]]:
    return [check_record(r, keys, user_id) for r in records]


def check_records(
    records: Sequence[Record],
    keys: dict[str, AuthorityKey],
    user_id: bytes = sm2.DEFAULT_USER_ID,
    parallel_min: int = 20_000,
    workers: int = 0,
) -> list[tuple[str, str | None]]:
    """(result, detail) of every record, in order; in workers when there are at least
    ``parallel_min`` records and more than one worker (threads where SM2 lets go of the GIL)."""
    return map_chunks(
        _check_chunk,
        records,
        keys,
        user_id,
        parallel_min=parallel_min,
        workers=workers,
        threads=sm2.releases_gil(),
    )

"""Sensitive personal fields, protected from the first table on (licences.md, "Data protection").

A feed names its sensitive fields (:class:`Sensitive`: ID numbers, phone numbers — the JT/T 808
terminal SIM number counts as one —, names of persons, bank accounts). Landing replaces each such
field by three columns before anything is written, so the clear value is in no table, no Delta
version and no ``_delta_log`` statistic:

- ``<field>_sm4``: the value as received, SM4-CBC under a fresh random IV (base64 of IV ‖
  ciphertext, :func:`transforms.crypto.sm4.encrypt_column`) with the column key — the only form it
  is kept in (:func:`reveal` gives it back to whoever holds the key);
- ``<field>_hmac``: HMAC-SM3 with the join key of the normalised value (a phone without the
  zero padding of a BCD SIM number, an ID number in upper case) — equal values of two tables
  join, and count as one, without being readable;
- ``<field>_masked``: the display form (350102********1234, 138****5678, 张*). Where the field is
  not sensitive on a row (``when``: the holder of a licence is an organisation, not a person) it is
  the value itself, and ``_sm4`` is null.

A quarantined raw line of such a feed is kept encrypted the same way (``raw_record_sm4``) and
shown only as a masked preview (``raw_record``, :func:`mask_text`).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from transforms.crypto import keys as key_files
from transforms.crypto import masking, sm3, sm4

SUFFIXES = ("_sm4", "_hmac", "_masked")


def _phone(value: str) -> str:
    """A number as dialled: a SIM number without the zero padding of its BCD form (JT/T 808
    sends 12 or 20 digits for an 11-digit number); a number with other characters as it is."""
    value = value.strip()
    return (value.lstrip("0") or value) if value.isdigit() else value


def _id_number(value: str) -> str:
    return value.strip().upper()


def _text(value: str) -> str:
    return value.strip()


def _hidden(_value: str | None) -> None:
    return None


# kind → (normalised form for the join hash and the mask, mask); a "record" (e.g. the canonical
# text a signature is checked on, which holds personal fields) has no display form at all
KINDS: dict[str, tuple[Callable[[str], str], Callable[[str | None], str | None]]] = {
    "id_number": (_id_number, masking.mask_id_number),
    "phone": (_phone, masking.mask_phone),
    "name": (_text, masking.mask_name),
    "account": (_text, masking.mask_account),
    "record": (_text, _hidden),
}


@dataclass(frozen=True)
class Sensitive:
    """A sensitive field of a feed, and on which rows it is sensitive."""

    field: str
    kind: str  # a key of KINDS
    # sensitive only where this other field has one of these values (None: on every row)
    when: tuple[str, tuple[str, ...]] | None = None

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"unknown sensitive kind {self.kind!r}; known: {', '.join(KINDS)}")

    @property
    def columns(self) -> tuple[str, str, str]:
        """The columns that replace the field: ``_sm4``, ``_hmac``, ``_masked``."""
        return tuple(f"{self.field}{s}" for s in SUFFIXES)  # type: ignore[return-value]


@dataclass(frozen=True)
class ProtectionKeys:
    """The column (SM4) and join (HMAC-SM3) keys, read once per landing."""

    column: bytes
    join: bytes

    @classmethod
    def load(cls) -> ProtectionKeys:
        """From ``$LAKEHOUSE_KEYS``; a missing or malformed key file raises a
        :class:`transforms.crypto.keys.KeyFileError` naming the folder and ``lakehouse keys
        init``."""
        return cls(column=key_files.column_key(), join=key_files.join_key())


def stored_fields(fields: Sequence[str], sensitive: Sequence[Sensitive]) -> tuple[str, ...]:
    """``fields`` as a table keeps them: each sensitive field replaced by its three columns."""
    by_field = {s.field: s for s in sensitive}
    out: list[str] = []
    for name in fields:
        out.extend(by_field[name].columns if name in by_field else (name,))
    return tuple(out)


def protect(table: pa.Table, sensitive: Sequence[Sensitive], keys: ProtectionKeys) -> pa.Table:
    """``table`` (string columns) with each sensitive field replaced by its three columns, in its
    place. Only the non-null values are encrypted, hashed and masked (C-speed OpenSSL calls)."""
    for s in sensitive:
        if s.field not in table.column_names:
            raise KeyError(f"sensitive field {s.field!r} is not a column of the records")
        values = table.column(s.field).combine_chunks()
        present = np.flatnonzero(values.is_valid().to_numpy(zero_copy_only=False))
        texts = values.take(pa.array(present)).to_pylist() if len(present) else []
        if s.when is None:
            secret = np.ones(len(present), dtype=bool)
        else:
            other, chosen = s.when
            flags = pc.is_in(table.column(other), value_set=pa.array(chosen, pa.string()))
            secret = flags.combine_chunks().fill_null(False).to_numpy(zero_copy_only=False)
            secret = secret[present]
        normalise, mask = KINDS[s.kind]
        normalised = [normalise(t) for t in texts]
        secrets = [t for t, hide in zip(texts, secret, strict=True) if hide]
        encrypted = iter(sm4.encrypt_column(secrets, keys.column))
        hidden = [next(encrypted) if hide else None for hide in secret]
        masked = [
            mask(n) if hide else t for t, n, hide in zip(texts, normalised, secret, strict=True)
        ]
        hashed = sm3.hmac_sm3_column(normalised, keys.join)
        index = table.column_names.index(s.field)
        table = table.remove_column(index)
        for offset, (name, column) in enumerate(
            zip(s.columns, (hidden, hashed, masked), strict=True)
        ):
            table = table.add_column(index + offset, name, _scatter(column, present, len(values)))
    return table


def _scatter(values: list[str | None], at: np.ndarray, length: int) -> pa.Array:
    """A string column of ``length`` nulls with ``values`` at the positions ``at``."""
    if len(at) == length:
        return pa.array(values, pa.string())
    out: list[str | None] = [None] * length
    for position, value in zip(at.tolist(), values, strict=True):
        out[position] = value
    return pa.array(out, pa.string())


def reveal(ciphertexts: Sequence[str | None], keys: ProtectionKeys) -> list[str | None]:
    """The clear values of an ``_sm4`` column (for whoever holds the column key: a 核验 of one
    licence, a signature check)."""
    return sm4.decrypt_column(ciphertexts, keys.column)


def reveal_table(table: pa.Table, keys: ProtectionKeys) -> pa.Table:
    """``table`` with every ``_sm4`` column decrypted in place (an authorised export, and the
    tests that compare two landings: each encryption draws a fresh IV)."""
    for index, name in enumerate(table.column_names):
        if name.endswith("_sm4"):
            clear = reveal(table.column(name).to_pylist(), keys)
            table = table.set_column(index, name, pa.array(clear, pa.string()))
    return table


# runs of 7+ digits (ID, phone, account numbers, SIM numbers) and of 2–4 Chinese characters
# (personal names; place and company names are masked too: a preview errs on the safe side)
_DIGITS = re.compile(r"\d{7,}[\dXx]?")
_HAN = re.compile(r"[\u4e00-\u9fff]{2,4}")


def mask_text(text: str | None) -> str | None:
    """A masked preview of a raw line of a protected feed (for the quality owner's drill-down):
    long digit runs keep their first 3 and last 4 digits, short Chinese runs their first
    character."""
    if text is None:
        return None
    text = _DIGITS.sub(lambda m: masking.mask_phone(m.group()) or "", text)
    return _HAN.sub(lambda m: masking.mask_name(m.group()) or "", text)


def protect_raw(raws: list[str], keys: ProtectionKeys) -> tuple[list[str | None], list[str | None]]:
    """(masked previews, encrypted raw lines) of quarantined lines of a protected feed."""
    return [mask_text(r) for r in raws], sm4.encrypt_column(raws, keys.column)

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
  not sensitive on a row (``unless``: the holder of a licence is an organisation or a vehicle, not
  a person) it is the value itself, and ``_sm4`` is null.

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
    # sensitive on every row UNLESS this other field has one of these values (an organisation's
    # or a vehicle's licence holder): fail-safe, a missing or misspelt value keeps it protected
    unless: tuple[str, tuple[str, ...]] | None = None
    # sensitive only where this other field has one of these values — or none at all; prefer
    # ``unless``: a misspelt value here leaves the field in clear
    when: tuple[str, tuple[str, ...]] | None = None

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"unknown sensitive kind {self.kind!r}; known: {', '.join(KINDS)}")
        if self.unless is not None and self.when is not None:
            raise ValueError(f"sensitive field {self.field!r}: give `unless` or `when`, not both")

    def sensitive_rows(self, table: pa.Table) -> pa.Array:
        """Per row, whether the field is sensitive there (values compared trimmed, lower case)."""
        condition = self.unless or self.when
        if condition is None:
            return pa.array(np.ones(table.num_rows, dtype=bool))
        other, values = condition
        text = pc.utf8_lower(pc.utf8_trim_whitespace(table.column(other).combine_chunks()))
        chosen = pa.array([v.strip().lower() for v in values], pa.string())
        listed = pc.is_in(text, value_set=chosen)  # false where the other field is null
        if self.unless is not None:
            return pc.invert(listed)
        return pc.or_(listed, pc.is_null(text))

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
    place. The work is done once per distinct value (a SIM number repeats in every record of its
    vehicle) and spread to the rows by index: equal values of one call share their ciphertext,
    which tells no more than their equal join hashes already do."""
    for s in sensitive:
        if s.field not in table.column_names:
            raise KeyError(f"sensitive field {s.field!r} is not a column of the records")
        encoded = pc.dictionary_encode(table.column(s.field).combine_chunks())
        distinct = encoded.dictionary.to_pylist()
        indices = encoded.indices  # null where the value is
        secret = pc.and_(pc.is_valid(indices), s.sensitive_rows(table))
        normalise, mask = KINDS[s.kind]
        normalised = [normalise(v) for v in distinct]
        encrypted = pa.array(sm4.encrypt_column(distinct, keys.column), pa.string()).take(indices)
        hashed = pa.array(sm3.hmac_sm3_column(normalised, keys.join), pa.string()).take(indices)
        masks = pa.array([mask(v) for v in normalised], pa.string()).take(indices)
        clear = pa.array(distinct, pa.string()).take(indices)
        hidden = pc.if_else(secret, encrypted, pa.scalar(None, pa.string()))
        shown = pc.if_else(secret, masks, clear)
        index = table.column_names.index(s.field)
        table = table.remove_column(index)
        for offset, (name, column) in enumerate(
            zip(s.columns, (hidden, hashed, shown), strict=True)
        ):
            table = table.add_column(index + offset, name, column)
    return table


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

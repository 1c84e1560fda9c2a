"""Masked display of sensitive personal fields (licences.md: 350102********1234, 138****5678, 张*).

Every function keeps None as None and masks a value too short for its rule completely, so no rule
ever shows a whole value. Masks keep the length of phones, names and accounts (a masked column
still lines up); an ID number always shows 6 + 8 ``*`` + 4 as licences.md prescribes.

- ID number: first 6 digits (the GB/T 2260 area of registration) + ``********`` + last 4.
- Phone (and the JT/T 808 terminal SIM number, which access.md counts as one): first 3 + one ``*``
  per hidden digit + last 4, so 13812345678 -> 138****5678.
- Name of a person: first character + one ``*`` per further character (张三 -> 张*, 欧阳娜娜 ->
  欧***); a one-character name is ``*``.
- Bank account: only the last 4 digits, the rest ``*`` ("尾号 1234", as banks print it); the first
  digits (the card BIN) would name the bank, which a regulator's view does not need.
"""

from __future__ import annotations

ID_HEAD, ID_STARS, ID_TAIL = 6, 8, 4
PHONE_HEAD, PHONE_TAIL = 3, 4
ACCOUNT_TAIL = 4


def mask_id_number(value: str | None) -> str | None:
    """350102199001011234 -> 350102********1234."""
    if value is None:
        return None
    if len(value) <= ID_HEAD + ID_TAIL:
        return "*" * len(value)
    return value[:ID_HEAD] + "*" * ID_STARS + value[-ID_TAIL:]


def mask_phone(value: str | None) -> str | None:
    """13812345678 -> 138****5678."""
    if value is None:
        return None
    hidden = len(value) - PHONE_HEAD - PHONE_TAIL
    if hidden <= 0:
        return "*" * len(value)
    return value[:PHONE_HEAD] + "*" * hidden + value[-PHONE_TAIL:]


def mask_name(value: str | None) -> str | None:
    """张三 -> 张*, 张三丰 -> 张**."""
    if value is None:
        return None
    if len(value) <= 1:
        return "*" * len(value)
    return value[0] + "*" * (len(value) - 1)


def mask_account(value: str | None) -> str | None:
    """6222021234567890123 -> ***************0123."""
    if value is None:
        return None
    if len(value) <= ACCOUNT_TAIL:
        return "*" * len(value)
    return "*" * (len(value) - ACCOUNT_TAIL) + value[-ACCOUNT_TAIL:]

"""Check characters of the national identifiers the feeds carry (pure Python).

- resident ID numbers, 18 characters (GB 11643-1999, ISO 7064 MOD 11-2);
- unified social credit identifiers, 18 characters (GB 32100-2015), whose characters 9–17 are an
  organisation code (GB 11714) with its own check character;
- vehicle identification numbers, 17 characters, check digit in position 9 (GB 16735 / ISO 3779).

And :func:`new_uscc`, a synthetic USCC every domain's generator draws the same way.
"""

from __future__ import annotations

ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
ID_CHECK = "10X98765432"
USCC_CHARSET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
USCC_WEIGHTS = tuple(pow(3, i, 31) for i in range(17))
ORG_CODE_WEIGHTS = (3, 7, 9, 10, 5, 8, 4, 2)
VIN_CHARSET = "0123456789ABCDEFGHJKLMNPRSTUVWXYZ"  # no I, O, Q
VIN_VALUES = {
    **{str(d): d for d in range(10)},
    **dict(zip("ABCDEFGH", range(1, 9), strict=True)),
    **dict(zip("JKLMN", range(1, 6), strict=True)),
    "P": 7,
    "R": 9,
    **dict(zip("STUVWXYZ", range(2, 10), strict=True)),
}
VIN_WEIGHTS = (8, 7, 6, 5, 4, 3, 2, 10, 0, 9, 8, 7, 6, 5, 4, 3, 2)


def id_check_char(first17: str) -> str:
    """The 18th character of a resident ID number."""
    total = sum(int(c) * w for c, w in zip(first17, ID_WEIGHTS, strict=True))
    return ID_CHECK[total % 11]


def is_valid_id(number: str) -> bool:
    """An 18-character resident ID number whose check character is right."""
    return (
        len(number) == 18
        and number[:17].isdigit()
        and id_check_char(number[:17]) == number[17].upper()
    )


def org_code_check_char(body8: str) -> str:
    """The 9th character of an organisation code (GB 11714)."""
    total = sum(int(c, 36) * w for c, w in zip(body8, ORG_CODE_WEIGHTS, strict=True))
    check = 11 - total % 11
    return "X" if check == 10 else "0" if check == 11 else str(check)


def uscc_check_char(first17: str) -> str:
    """The 18th character of a unified social credit identifier."""
    total = sum(USCC_CHARSET.index(c) * w for c, w in zip(first17, USCC_WEIGHTS, strict=True))
    return USCC_CHARSET[(31 - total % 31) % 31]


def is_valid_uscc(code: str) -> bool:
    """An 18-character USCC of the GB 32100 alphabet whose check characters are right."""
    return (
        len(code) == 18
        and all(c in USCC_CHARSET for c in code)
        and org_code_check_char(code[8:16]) == code[16]
        and uscc_check_char(code[:17]) == code[17]
    )


def vin_check_char(vin: str) -> str:
    """The check character (position 9) of a 17-character VIN (the 9th character is ignored)."""
    total = sum(VIN_VALUES[c] * w for c, w in zip(vin, VIN_WEIGHTS, strict=True))
    r = total % 11
    return "X" if r == 10 else str(r)


def is_valid_vin(vin: str) -> bool:
    """A 17-character VIN without I, O, Q whose check character is right."""
    return len(vin) == 17 and all(c in VIN_CHARSET for c in vin) and vin_check_char(vin) == vin[8]


def new_uscc(rng, county: str, taken: set[str]) -> str:
    """A synthetic enterprise USCC (GB 32100; organisation code GB 11714) registered in
    ``county``, drawn from the numpy generator ``rng``, none of ``taken`` (to which it is added)."""
    while True:
        body = "".join(str(int(d)) for d in rng.integers(0, 10, 8))
        first17 = "91" + county + body + org_code_check_char(body)
        code = first17 + uscc_check_char(first17)
        if code not in taken:
            taken.add(code)
            return code

"""Synthetic persons for licences: Chinese names, 18-digit resident ID numbers (GB 11643, with a
GB/T 2260 area of Fujian), mobile phone numbers. Pure Python + numpy, deterministic by rng."""

from __future__ import annotations

import datetime as dt

import numpy as np

ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
ID_CHECK = "10X98765432"
# common surnames of Fujian (闽东), then given-name characters
SURNAMES = "陈林黄张李王吴刘蔡杨郑许谢郭洪曾邱廖赖周徐苏叶庄吕江何萧罗高潘朱钟彭游詹胡施沈余缪阮雷"
GIVEN = (
    "伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超秀兰霞平刚桂英建华文辉玉珍志强海燕俊峰国庆晓东"
    "丽娟宏伟春梅振华德福金水荣华美玲"
)
MOBILE_PREFIXES = ("133", "135", "136", "137", "138", "139", "150", "151", "158", "159", "177",
                   "180", "186", "187", "188", "189", "199")  # fmt: skip
BIRTH_FIRST = dt.date(1962, 1, 1)
BIRTH_DAYS = (dt.date(2001, 12, 31) - BIRTH_FIRST).days


def id_check_char(first17: str) -> str:
    """The 18th character of a resident ID number (GB 11643-1999, ISO 7064 MOD 11-2)."""
    total = sum(int(c) * w for c, w in zip(first17, ID_WEIGHTS, strict=True))
    return ID_CHECK[total % 11]


def is_valid_id(number: str) -> bool:
    """An 18-character ID number whose check character is right."""
    return (
        len(number) == 18
        and number[:17].isdigit()
        and id_check_char(number[:17]) == number[17].upper()
    )


def id_number(rng: np.random.Generator, area: str, taken: set[str]) -> str:
    """A new ID number registered in ``area`` (a 6-digit GB/T 2260 county code)."""
    while True:
        birth = BIRTH_FIRST + dt.timedelta(days=int(rng.integers(BIRTH_DAYS)))
        first17 = f"{area}{birth:%Y%m%d}{int(rng.integers(1, 1000)):03d}"
        number = first17 + id_check_char(first17)
        if number not in taken:
            taken.add(number)
            return number


def name(rng: np.random.Generator) -> str:
    """A Chinese name of two or three characters."""
    surname = SURNAMES[int(rng.integers(len(SURNAMES)))]
    length = 1 if rng.random() < 0.3 else 2
    return surname + "".join(GIVEN[int(rng.integers(len(GIVEN)))] for _ in range(length))


def mobile(rng: np.random.Generator) -> str:
    """An 11-digit mobile number."""
    prefix = MOBILE_PREFIXES[int(rng.integers(len(MOBILE_PREFIXES)))]
    return prefix + f"{int(rng.integers(10**8)):08d}"


def landline(rng: np.random.Generator, area_code: str = "0593") -> str:
    """A 宁德 landline (0593-xxxxxxx)."""
    return f"{area_code}-{int(rng.integers(2_000_000, 9_000_000)):07d}"

"""Synthetic identities for the freight generator: names of persons and companies, resident ID
numbers, USCCs, plates, VINs, phone numbers, addresses. Deterministic by the numpy generator
they are given; check characters from :mod:`transforms.reference.identifiers`."""

from __future__ import annotations

import datetime as dt

import numpy as np

from transforms.reference.identifiers import (
    VIN_CHARSET,
    id_check_char,
    new_uscc,
    vin_check_char,
)

SURNAMES = "陈林黄张李王吴刘蔡杨郑许谢郭洪曾邱廖赖周徐苏叶庄吕江何萧罗高潘朱钟彭游詹胡施沈余缪阮雷"
GIVEN = (
    "伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超兰霞平刚桂建华文辉玉珍志海燕俊峰国庆晓东宏春梅"
    "振德福金水荣美玲鑫淼森斌彬瑞祥顺发财旺龙凤"
)
MOBILE_PREFIXES = ("133", "135", "136", "137", "138", "139", "150", "151", "158", "159", "177",
                   "180", "186", "187", "188", "189", "199")  # fmt: skip
PLATE_LETTERS = "ABCDEFGHJKLMNPQRSTUVWXYZ"  # no I, no O
BIRTH_FIRST = dt.date(1965, 1, 1)
BIRTH_DAYS = (dt.date(2002, 12, 31) - BIRTH_FIRST).days
# words of company names: a place word, a trade word, and the kind of company
COMPANY_WORDS = ("宏达", "顺丰", "鑫源", "恒通", "海峡", "远航", "鸿翔", "华运", "汇通", "东南",
                 "闽发", "永盛", "祥和", "金桥", "天成", "聚力", "兴业", "嘉禾", "众联", "新锐")  # fmt: skip
TRADES = ("贸易", "建材", "食品", "电子", "机械", "纺织", "陶瓷", "茶业", "水产", "家具", "化工",
          "钢铁", "物资", "农业", "医药")  # fmt: skip
ROADS = ("工业路", "建设路", "滨海大道", "南环路", "北环路", "东湖路", "物流园路", "兴业大道",
         "港口路", "创业路", "金山路", "迎宾大道")  # fmt: skip


def pick(rng: np.random.Generator, items) -> object:
    return items[int(rng.integers(len(items)))]


def person_name(rng: np.random.Generator) -> str:
    """A Chinese name of two or three characters."""
    length = 1 if rng.random() < 0.3 else 2
    return pick(rng, SURNAMES) + "".join(pick(rng, GIVEN) for _ in range(length))


def id_number(rng: np.random.Generator, area: str, taken: set[str]) -> str:
    """A new 18-character resident ID number registered in ``area`` (a GB/T 2260 county)."""
    while True:
        birth = BIRTH_FIRST + dt.timedelta(days=int(rng.integers(BIRTH_DAYS)))
        first17 = f"{area}{birth:%Y%m%d}{int(rng.integers(1, 1000)):03d}"
        number = first17 + id_check_char(first17)
        if number not in taken:
            taken.add(number)
            return number


def mobile(rng: np.random.Generator) -> str:
    return pick(rng, MOBILE_PREFIXES) + f"{int(rng.integers(10**8)):08d}"


def landline(rng: np.random.Generator, area_code: str) -> str:
    return f"{area_code}-{int(rng.integers(2_000_000, 9_000_000)):07d}"


def uscc(rng: np.random.Generator, county: str, taken: set[str]) -> str:
    """A new enterprise USCC registered in ``county`` (the one every generator draws)."""
    return new_uscc(rng, county, taken)


def company_name(rng: np.random.Generator, place: str, trade: str | None = None) -> str:
    """``<place><word><trade>有限公司``."""
    return f"{place}{pick(rng, COMPANY_WORDS)}{trade or pick(rng, TRADES)}有限公司"


def plate(rng: np.random.Generator, prefix: str, taken: set[str], new_energy: bool = False) -> str:
    """A plate of ``prefix`` (``闽C``): a letter and four digits, or ``D`` and five digits for a
    small new-energy vehicle."""
    while True:
        digits = "".join(str(int(d)) for d in rng.integers(0, 10, 5))
        if new_energy:
            text = f"{prefix}D{digits}"
        else:
            text = f"{prefix}{pick(rng, PLATE_LETTERS)}{digits[:4]}"
        if text not in taken:
            taken.add(text)
            return text


def vin(rng: np.random.Generator, wmi: str, year_code: str) -> str:
    """A 17-character VIN of manufacturer ``wmi`` (3 characters) with its check character."""
    vds = "".join(pick(rng, VIN_CHARSET[10:]) if rng.random() < 0.5 else str(int(rng.integers(10)))
                  for _ in range(5))  # fmt: skip
    serial = "".join(str(int(d)) for d in rng.integers(0, 10, 6))
    draft = f"{wmi}{vds}0{year_code}{pick(rng, 'ABCDEFGH')}{serial}"
    return draft[:8] + vin_check_char(draft) + draft[9:]


def address(rng: np.random.Generator, province: str, city: str, county: str) -> str:
    return f"{province}{city}{county}{pick(rng, ROADS)}{int(rng.integers(1, 400))}号"

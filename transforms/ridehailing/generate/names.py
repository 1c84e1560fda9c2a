"""Synthetic identities of the ride-hailing generator: names of persons and companies, resident ID
numbers, mobile numbers, USCCs, plates, VINs, addresses, times as the interfaces write them.
Deterministic by the numpy generator they are given; check characters from
:mod:`transforms.reference.identifiers`."""

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
GIVEN = "伟芳娜英敏静丽强磊军洋勇艳杰娟涛明超兰霞平刚建华文辉玉珍志海燕俊峰国庆晓东宏春梅振德福金水荣美玲鑫森斌瑞祥龙凤"
MOBILE_PREFIXES = ("133", "135", "136", "137", "138", "139", "150", "151", "152", "157", "158",
                   "159", "177", "180", "181", "186", "187", "188", "189", "199")  # fmt: skip
PLATE_LETTERS = "ABCEFGHJKLMNPQRSTUVWXYZ"  # no D (new-energy), I, O
BIRTH_FIRST = dt.date(1966, 1, 1)
BIRTH_DAYS = (dt.date(2001, 12, 31) - BIRTH_FIRST).days
ROADS = ("五四路", "湖东路", "八一七路", "工业路", "华林路", "六一路", "东街", "温泉路", "江滨大道",
         "金山大道", "湖滨南路", "嘉禾路", "厦禾路", "莲前路", "泉秀路", "丰泽街", "刺桐路",
         "胜利路", "建设路", "南环路", "北环路", "学府路", "滨海大道", "站前路")  # fmt: skip
PLACES = ("万达广场", "火车站", "人民医院", "第一中学", "市政府", "汽车站", "体育中心", "大学城",
          "机场", "步行街", "公园", "小区", "菜市场", "图书馆", "博物馆", "写字楼")  # fmt: skip
WMI = ("LGX", "LFV", "LSV", "LVG", "LGW", "LB3", "LNB")  # BYD, FAW-VW, SAIC-VW, GAC Toyota, …
VIN_YEARS = "HJKLMNPRS"  # 2017 … 2025
EPOCH = dt.datetime(1970, 1, 1)
DAY_S = 86400
GMT8_S = 8 * 3600  # wall-clock seconds − this = unix seconds (the instant)

# "hhmmss" and "hh:mm:ss" of every second of a day (fast F14 / received_at text)
HMS = [f"{h:02d}{m:02d}{s:02d}" for h in range(24) for m in range(60) for s in range(60)]
HMS_COLON = [f"{h:02d}:{m:02d}:{s:02d}" for h in range(24) for m in range(60) for s in range(60)]
_DAY8: dict[int, str] = {}
_DAY10: dict[int, str] = {}


def pick(rng: np.random.Generator, items):
    return items[int(rng.integers(len(items)))]


def day8(day: int) -> str:
    """``YYYYMMDD`` of a day number (days since 1970-01-01)."""
    text = _DAY8.get(day)
    if text is None:
        text = _DAY8[day] = (EPOCH + dt.timedelta(days=day)).strftime("%Y%m%d")
    return text


def day10(day: int) -> str:
    """``YYYY-MM-DD`` of a day number."""
    text = _DAY10.get(day)
    if text is None:
        text = _DAY10[day] = (EPOCH + dt.timedelta(days=day)).strftime("%Y-%m-%d")
    return text


def f14(t: int) -> str:
    """A wall-clock time (seconds since 1970-01-01 00:00 GMT+8) as ``YYYYMMDDhhmmss``."""
    return day8(t // DAY_S) + HMS[t % DAY_S]


def received_text(t: int) -> str:
    """A wall-clock time as ``YYYY-MM-DD HH:MM:SS`` (received_at)."""
    return day10(t // DAY_S) + " " + HMS_COLON[t % DAY_S]


def wall(day: dt.date, seconds: int = 0) -> int:
    """Wall-clock seconds of ``seconds`` after 00:00 of ``day``."""
    return (day - EPOCH.date()).days * DAY_S + seconds


def date_of(t: int) -> dt.date:
    return EPOCH.date() + dt.timedelta(days=t // DAY_S)


def month_of(t: int) -> str:
    return day10(t // DAY_S)[:7]


def d8(day: dt.date) -> str:
    return day.strftime("%Y%m%d")


def person_name(rng: np.random.Generator) -> str:
    """A Chinese name of two or three characters."""
    length = 1 if rng.random() < 0.3 else 2
    return pick(rng, SURNAMES) + "".join(pick(rng, GIVEN) for _ in range(length))


def id_number(rng: np.random.Generator, area: str, taken: set[str]) -> tuple[str, dt.date]:
    """A new 18-character resident ID number registered in ``area`` and its date of birth."""
    while True:
        birth = BIRTH_FIRST + dt.timedelta(days=int(rng.integers(BIRTH_DAYS)))
        first17 = f"{area}{birth:%Y%m%d}{int(rng.integers(1, 1000)):03d}"
        number = first17 + id_check_char(first17)
        if number not in taken:
            taken.add(number)
            return number, birth


def mobile(rng: np.random.Generator, taken: set[str]) -> str:
    while True:
        number = pick(rng, MOBILE_PREFIXES) + f"{int(rng.integers(10**8)):08d}"
        if number not in taken:
            taken.add(number)
            return number


def landline(rng: np.random.Generator, city: str) -> str:
    area = {"3501": "0591", "3502": "0592", "3503": "0594", "3504": "0598", "3505": "0595",
            "3506": "0596", "3507": "0599", "3508": "0597", "3509": "0593"}.get(city[:4], "0591")  # fmt: skip
    return f"{area}-{int(rng.integers(2_000_000, 9_000_000)):07d}"


def uscc(rng: np.random.Generator, county: str, taken: set[str]) -> str:
    """A new enterprise USCC registered in ``county`` (the one every generator draws)."""
    return new_uscc(rng, county, taken)


def plate(rng: np.random.Generator, prefix: str, taken: set[str], new_energy: bool) -> str:
    """A small passenger car's plate: ``D`` and five digits (new energy, green) or a letter and
    four digits (blue). Never ``闽JD…``: the licence generator's own 网约车 fleet uses those."""
    while True:
        digits = "".join(str(int(d)) for d in rng.integers(0, 10, 5))
        if new_energy:
            text = f"{prefix}{'F' if prefix == '闽J' else 'D'}{digits}"
        else:
            text = f"{prefix}{pick(rng, PLATE_LETTERS)}{digits[:4]}"
        if text not in taken:
            taken.add(text)
            return text


def vin(rng: np.random.Generator) -> str:
    """A 17-character VIN with its check character."""
    vds = "".join(pick(rng, VIN_CHARSET[10:]) if rng.random() < 0.5 else str(int(rng.integers(10)))
                  for _ in range(5))  # fmt: skip
    serial = "".join(str(int(d)) for d in rng.integers(0, 10, 6))
    draft = f"{pick(rng, WMI)}{vds}0{pick(rng, VIN_YEARS)}{pick(rng, 'ABCDEFGH')}{serial}"
    return draft[:8] + vin_check_char(draft) + draft[9:]


def address(rng: np.random.Generator, city_name: str, county_name: str) -> str:
    return f"{city_name}{county_name}{pick(rng, ROADS)}{int(rng.integers(1, 400))}号"


def place(rng: np.random.Generator, city_name: str, county_name: str) -> str:
    """Where a trip starts or ends, as a passenger types it."""
    if rng.random() < 0.5:
        return f"{city_name}{county_name}{pick(rng, PLACES)}"
    return address(rng, city_name, county_name)

"""Write a synthetic licences landing zone (authorities and signed issuance records) for the
enterprises and vehicles the telematics generator wrote, plus drivers and ride-hailing (网约车)
licences, and return its known answer.

The telematics master data is read from the lake's landing files
(``landing/telematics/{enterprises,vehicles}/<day>/*.jsonl``, the record of the latest folder
winning), so the packages stay independent. Everything is deterministic by ``seed`` except the SM2
signatures (gmalglib draws its nonce from the OS): two runs give the same records with other
signature bytes.
"""

from __future__ import annotations

import datetime as dt
import json
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from dataclasses import asdict, dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Any

import numpy as np

from transforms.crypto import sm2
from transforms.crypto.errors import CryptoError
from transforms.licences.generate import people
from transforms.licences.generate.extra import PERSONAL_KEYS, ExtraLicence, as_extra
from transforms.licences.parsers import canonical_text

DOMAIN = "licences"
TELEMATICS = "telematics"
PROVINCE = {"code": "350000", "name": "福建省交通运输厅"}
CITY = {"code": "350900", "name": "宁德市交通运输局"}
PROVINCE_CODE = "350000"
ROGUE_KEY_ID = "350900-K9"  # a key id no authority registered
HISTORY_DAYS = 730  # licences are first issued within the two years before the run
KEY_ROTATION_DAYS = 365  # the province's key rotated a year before the run
FILE_PREFIX = "issuance-"
AUTHORITIES_FILE = "authorities.jsonl"

# scope (经营范围 / 从业类别) by telematics business type and vehicle type
ENTERPRISE_SCOPE = {
    "passenger": "道路旅客运输",
    "freight": "道路普通货物运输",
    "dangerous_goods": "道路危险货物运输",
    "city_bus": "城市公共汽车客运",
    "taxi": "巡游出租汽车客运",
}
DRIVER_SCOPE = {
    "bus_scheduled": "道路旅客运输驾驶员",
    "bus_charter": "道路旅客运输驾驶员",
    "city_bus": "道路旅客运输驾驶员",
    "dangerous_goods": "道路危险货物运输驾驶员",
    "heavy_truck": "道路货物运输驾驶员",
    "tractor": "道路货物运输驾驶员",
    "taxi": "巡游出租汽车驾驶员",
}
FREIGHT_PLATFORM_SCOPE = "网络货运"
RIDE_PERMIT_SCOPE = "网络预约出租汽车经营"
RIDE_VEHICLE_SCOPE = "网络预约出租汽车客运"
RIDE_DRIVER_SCOPE = "网络预约出租汽车驾驶员"
RIDE_COMPANY = "宁德约车网络科技有限公司"
RIDE_COUNTY = "350902"
GREEN_PLATE = 5  # 新能源 (JT/T 697.7: 5 绿)

# shares of licences given each later version (the first ones of a kind are forced, so that a
# small run has every case)
CHANGE_SHARE = 0.15
SUSPEND_SHARE = 0.03
REVOKE_SHARE = 0.02
CANCEL_SHARE = 0.02
EXPIRED_STATUS_SHARE = 0.02
LAPSED_SHARE = 0.04  # valid_to already past at the start of the run (status still valid)
SECOND_CHANGE_SHARE = 0.3  # of changed licences, changed once more
FORGED_PER_RECORDS = 150  # one forgery of each kind per this many genuine records (at least 1)
RESENT_PER_RECORDS = 200  # one genuine line re-sent in a later file per this many (at least 1)
SEED_STREAM = 41
EXTRA_SEED_STREAM = 42  # personal fields an extra licence left out (its own stream)
# licence_id kind digit of an extra licence, by licence type
EXTRA_ID_DIGIT = {"operating_permit": 1, "qualification": 2, "vehicle_transport": 3}


@dataclass
class Authority:
    key_id: str
    code: str
    name: str
    private_key: str
    public_key: str
    valid_from: dt.date
    valid_to: dt.date

    def record(self) -> dict[str, str]:
        return {
            "key_id": self.key_id,
            "authority_code": self.code,
            "authority_name": self.name,
            "sm2_public_key": self.public_key,
            "valid_from": self.valid_from.isoformat(),
            "valid_to": self.valid_to.isoformat(),
        }


@dataclass
class LicenceSummary:
    """The known answer of a generated licences landing zone.

    - ``authorities`` / ``keys``: issuing authorities and their registered keys;
    - ``licences``: genuine licences, by ``kind`` (rules ``kinds``); ``versions``: their distinct
      genuine versions (what silver.licences__licences holds); ``lines``: issuance lines written
      (versions + ``resent_records`` byte-identical copies in a later file + forgeries);
    - ``forged``: forgeries by how they were made (``tampered`` after signing, signed by an
      ``unknown_key``, signed by an ``expired_key``), ``signature_failures``: the same by the
      quarantine reason they must get (bad_signature / unknown_signer);
    - ``persons``: drivers with an ID number (those of ``extra`` licences included);
      ``files``: feed → files written;
    - ``extra``: licences given by other domains' generators (``generate_licences(extra=…)``),
      also counted in ``licences``, ``versions``, ``by_kind`` and everything else;
    - ``answers_at_end``: the 核验 answer of every genuine licence at the end of the run (the
      last second of its last day), by reason (``valid`` when valid);
    - ``report``: ``"<province>|<YYYY-MM>"`` → the operation-quality values of that month.
    """

    authorities: int = 0
    keys: int = 0
    licences: int = 0
    versions: int = 0
    lines: int = 0
    resent_records: int = 0
    persons: int = 0
    extra: int = 0
    by_kind: dict[str, int] = field(default_factory=dict)
    forged: dict[str, int] = field(default_factory=dict)
    signature_failures: dict[str, int] = field(default_factory=dict)
    answers_at_end: dict[str, int] = field(default_factory=dict)
    files: dict[str, int] = field(default_factory=dict)
    report: dict[str, dict[str, Any]] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class _Licence:
    """A genuine licence: what every version shares, and its versions (dicts of what differs)."""

    licence_id: str
    kind: str
    licence_type: str
    licence_no: str
    holder_type: str
    holder_key: str
    holder_name: str
    scope: str
    authority: dict[str, str]
    personal: dict[str, str]
    versions: list[dict[str, Any]] = field(default_factory=list)


def _read_master(lake: Path, feed: str, key: tuple[str, ...]) -> list[dict[str, Any]]:
    """The telematics master records of ``feed`` as landed (the latest folder wins per key)."""
    base = lake / "landing" / TELEMATICS / feed
    out: dict[tuple, dict[str, Any]] = {}
    if not base.is_dir():
        return []
    for path in sorted(base.glob("*/*.jsonl")):
        for line in path.read_text(encoding="utf-8").splitlines():
            try:
                record = json.loads(line)
            except json.JSONDecodeError:
                continue
            if isinstance(record, dict) and all(record.get(k) is not None for k in key):
                out[tuple(record[k] for k in key)] = record
    return list(out.values())


def _keypair(rng: np.random.Generator) -> tuple[str, str]:
    """An SM2 key pair drawn from ``rng`` (deterministic by seed)."""
    while True:
        private = bytes(rng.integers(0, 256, 32, dtype=np.uint8)).hex()
        try:
            return private, sm2.public_key_of(private)
        except CryptoError:  # out of [1, n-2]: draw again
            continue


def _authorities(rng: np.random.Generator, start: dt.date) -> list[Authority]:
    rotation = start - dt.timedelta(days=KEY_ROTATION_DAYS)
    far = dt.date(start.year + 5, 12, 31)
    early = dt.date(start.year - 5, 1, 1)
    specs = [
        ("350000-K1", PROVINCE, early, rotation - dt.timedelta(days=1)),
        ("350000-K2", PROVINCE, rotation, far),
        ("350900-K1", CITY, early, far),
    ]
    return [Authority(k, a["code"], a["name"], *_keypair(rng), f, t) for k, a, f, t in specs]


def _fmt(t: dt.datetime) -> str:
    return t.strftime("%Y-%m-%d %H:%M:%S")


class _Generator:
    def __init__(self, lake: Path, start: dt.date, days: int, seed: int) -> None:
        self.lake = lake
        self.start = start
        self.begin = dt.datetime.combine(start - dt.timedelta(days=HISTORY_DAYS), dt.time())
        self.run_start = dt.datetime.combine(start, dt.time())
        self.end = dt.datetime.combine(start + dt.timedelta(days=days), dt.time())
        self.rng = np.random.default_rng([seed, SEED_STREAM])
        self.serial = Counter()
        self.ids: set[str] = set()

    # ---- times ---------------------------------------------------------------------------

    def _time_between(self, first: dt.datetime, last: dt.datetime) -> dt.datetime:
        span = max(1, int((last - first).total_seconds()))
        return first + dt.timedelta(seconds=int(self.rng.integers(span)))

    def _delay(self) -> int:
        u = self.rng.random()
        if u < 0.8:
            return int(self.rng.integers(5, 600))
        if u < 0.95:
            return int(self.rng.integers(600, 7200))
        return int(self.rng.integers(7200, 48 * 3600))

    # ---- licences ------------------------------------------------------------------------

    def _licence_id(self, authority: dict[str, str], kind_digit: int, year: int) -> str:
        self.serial[("id", authority["code"])] += 1
        return f"{authority['code']}{year}{kind_digit}{self.serial[('id', authority['code'])]:07d}"

    def _number(self, template: str, county: str) -> str:
        self.serial[template] += 1
        return template.format(county=county, n=self.serial[template])

    def _first_version(self, years: int) -> dict[str, Any]:
        issued = self._time_between(self.begin, self.run_start - dt.timedelta(hours=1))
        valid_from = issued.date()
        valid_to = dt.date(valid_from.year + years, valid_from.month, 1) - dt.timedelta(days=1)
        return {"issued_at": issued, "valid_from": valid_from, "valid_to": valid_to,
                "status": "valid"}  # fmt: skip

    def _later(self, licence: _Licence, **changes: Any) -> None:
        last = licence.versions[-1]
        first = last["issued_at"] + dt.timedelta(days=1)
        if first >= self.end:
            first = last["issued_at"] + dt.timedelta(minutes=1)
        issued = self._time_between(first, max(self.end, first + dt.timedelta(minutes=1)))
        licence.versions.append({**last, "issued_at": issued, **changes})

    def _events(self, licence: _Licence, forced: str | None, shares: dict[str, float]) -> None:
        """Later versions: a change (possibly two), a suspension, a revocation …"""
        event = forced
        if event is None:
            u, acc = self.rng.random(), 0.0
            for name, share in shares.items():
                acc += share
                if u < acc:
                    event = name
                    break
        if event == "lapsed":  # the validity ran out before the run (status still valid)
            first = licence.versions[0]
            first["valid_to"] = self.start - dt.timedelta(days=int(self.rng.integers(1, 60)))
            first["valid_from"] = min(first["valid_from"], first["valid_to"])
        elif event == "change":
            self._later(licence, **self._change(licence))
            if self.rng.random() < SECOND_CHANGE_SHARE:
                self._later(licence, **self._change(licence))
        elif event in ("suspended", "revoked", "cancelled", "expired"):
            self._later(licence, status=event)

    def _change(self, licence: _Licence) -> dict[str, Any]:
        last = licence.versions[-1]
        if licence.holder_type == "person":  # a new phone number
            return {"holder_phone": people.mobile(self.rng)}
        if licence.holder_type == "vehicle":  # renewed: valid two more years
            return {"valid_to": dt.date(last["valid_to"].year + 2, last["valid_to"].month, 1)
                    - dt.timedelta(days=1)}  # fmt: skip
        extra = (
            "道路普通货物运输" if "道路普通货物运输" not in licence.scope else "道路货物专用运输"
        )
        scope = last.get("scope", licence.scope) + "、" + extra
        return {"scope": scope}

    def _extra(self, spec: ExtraLicence, fill: np.random.Generator) -> _Licence:
        """The licence of an extra spec (transforms/licences/generate/extra.py)."""
        authority = PROVINCE if spec.authority_code == PROVINCE["code"] else CITY
        versions = [v.as_version() for v in spec.versions]
        late = [v["issued_at"] for v in versions if v["issued_at"] >= self.end]
        if late:
            raise ValueError(
                f"extra licence {spec.licence_no!r}: a version issued at {late[0]}, after the "
                f"run (which ends {self.end})"
            )
        draw = {"holder_phone": people.mobile, "legal_representative": people.name,
                "contact_phone": people.landline}  # fmt: skip
        personal = {
            key: spec.personal[key] if key in spec.personal else draw[key](fill)
            for key in PERSONAL_KEYS[spec.holder_type]
        }
        return _Licence(
            self._licence_id(authority, EXTRA_ID_DIGIT[spec.licence_type],
                             versions[0]["issued_at"].year),
            spec.kind, spec.licence_type, spec.licence_no, spec.holder_type, spec.holder_key,
            spec.holder_name, spec.scope, authority, personal, versions,
        )  # fmt: skip

    def build(
        self, extra: list[ExtraLicence] | None = None, seed: int = 0
    ) -> tuple[list[Authority], list[_Licence], int]:
        rng = self.rng
        authorities = _authorities(rng, self.start)
        enterprises = _read_master(self.lake, "enterprises", ("enterprise_id",))
        vehicles = _read_master(self.lake, "vehicles", ("plate", "plate_color"))
        names = {e["enterprise_id"]: e.get("name") for e in enterprises}
        licences: list[_Licence] = []
        shares_org = {"change": CHANGE_SHARE, "revoked": REVOKE_SHARE}
        shares_vehicle = {"change": CHANGE_SHARE, "lapsed": LAPSED_SHARE,
                          "expired": EXPIRED_STATUS_SHARE}  # fmt: skip
        shares_person = {"change": CHANGE_SHARE, "suspended": SUSPEND_SHARE,
                         "revoked": REVOKE_SHARE, "cancelled": CANCEL_SHARE,
                         "lapsed": LAPSED_SHARE}  # fmt: skip
        freight_platform_done = False
        for i, e in enumerate(enterprises):
            county = str(e.get("county_code") or RIDE_COUNTY)
            scope = ENTERPRISE_SCOPE.get(e.get("business_type"), "道路普通货物运输")
            kind = "operating_permit"
            if e.get("business_type") == "freight" and not freight_platform_done:
                scope, kind, freight_platform_done = (
                    f"{scope}、{FREIGHT_PLATFORM_SCOPE}",
                    "freight_platform_permit",
                    True,
                )
            first = self._first_version(4)
            lic = _Licence(
                self._licence_id(CITY, 1, first["issued_at"].year), kind, "operating_permit",
                self._number("闽交运管许可宁字{county}3{n:05d}号", county), "organisation",
                e["enterprise_id"], e.get("name") or "", scope, CITY,
                {"legal_representative": people.name(rng),
                 "contact_phone": people.landline(rng)},
                [first],
            )  # fmt: skip
            self._events(lic, "change" if i == 0 else None, shares_org)
            licences.append(lic)
        persons: list[tuple[str, str, str]] = []  # (county, vehicle type or ride, …)
        for i, v in enumerate(vehicles):
            county = str(v.get("county_code") or RIDE_COUNTY)
            vtype = str(v.get("vehicle_type") or "heavy_truck")
            first = self._first_version(5)
            registered = v.get("registered_at")
            if registered:  # the certificate of a key vehicle dates from its registration
                day = dt.date.fromisoformat(registered)
                if self.begin.date() <= day < self.start:
                    first = {**first, "issued_at": dt.datetime.combine(day, dt.time(9, 30)),
                             "valid_from": day,
                             "valid_to": dt.date(day.year + 5, day.month, 1)
                             - dt.timedelta(days=1)}  # fmt: skip
            lic = _Licence(
                self._licence_id(CITY, 3, first["issued_at"].year), "vehicle_transport",
                "vehicle_transport", self._number("闽交运输宁字{county}2{n:05d}号", county),
                "vehicle", f"{v['plate']}-{int(v['plate_color'])}",
                names.get(v.get("enterprise_id")) or "", DRIVER_SCOPE_TO_BUSINESS.get(vtype, ""),
                CITY, {}, [first],
            )  # fmt: skip
            if v.get("operating_status") == "suspended":
                self._events(lic, "suspended", {})
            else:
                forced = {1: "lapsed", 2: "expired"}.get(i)
                self._events(lic, forced, shares_vehicle)
            licences.append(lic)
            persons.append((county, vtype, "driver"))
        # ride-hailing (网约车): a platform company, its vehicles and their drivers
        rides = max(3, len(vehicles) // 10)
        first = self._first_version(4)
        licences.append(
            _Licence(
                self._licence_id(CITY, 1, first["issued_at"].year), "ride_hailing_permit",
                "operating_permit", self._number("闽交运管许可网约宁字{county}5{n:05d}号", RIDE_COUNTY),
                "organisation", _ride_uscc(rng), RIDE_COMPANY, RIDE_PERMIT_SCOPE, CITY,
                {"legal_representative": people.name(rng), "contact_phone": people.landline(rng)},
                [first],
            )
        )  # fmt: skip
        for _ in range(rides):
            first = self._first_version(8)
            plate = f"闽JD{int(rng.integers(10**5)):05d}"
            lic = _Licence(
                self._licence_id(CITY, 4, first["issued_at"].year), "ride_hailing_vehicle",
                "vehicle_transport", self._number("闽交网约运输宁字{county}6{n:05d}号", RIDE_COUNTY),
                "vehicle", f"{plate}-{GREEN_PLATE}", RIDE_COMPANY, RIDE_VEHICLE_SCOPE, CITY, {},
                [first],
            )  # fmt: skip
            self._events(lic, None, shares_vehicle)
            licences.append(lic)
            persons.append((RIDE_COUNTY, "ride", "ride"))
        # drivers: 从业资格证 (the province) and 网约车驾驶员证 (the city)
        forced_person = {0: "change", 1: "suspended", 2: "revoked", 3: "cancelled", 4: "lapsed"}
        for i, (county, vtype, role) in enumerate(persons):
            number = people.id_number(rng, county, self.ids)
            personal = {"holder_phone": people.mobile(rng)}
            first = self._first_version(6)
            if role == "ride":
                authority, kind, scope = CITY, "ride_hailing_driver", RIDE_DRIVER_SCOPE
                template, digit = "WY{county}{n:07d}", 5
            else:
                authority, kind, scope = PROVINCE, "driver_qualification", DRIVER_SCOPE[vtype]
                template, digit = "QC{county}{n:07d}", 2
                first["valid_from"] = first["valid_from"] - dt.timedelta(days=365 * 3)
            lic = _Licence(
                self._licence_id(authority, digit, first["issued_at"].year), kind, "qualification",
                self._number(template, county), "person", number, people.name(rng), scope,
                authority, personal, [first],
            )  # fmt: skip
            self._events(lic, forced_person.get(i), shares_person)
            licences.append(lic)
        # other domains' licences, after every own one (so that these do not move)
        if extra:
            own = {x.licence_no for x in licences}
            clash = next((s.licence_no for s in extra if s.licence_no in own), None)
            if clash is not None:
                raise ValueError(f"extra licence number {clash!r} is one the generator issues")
            fill = np.random.default_rng([seed, EXTRA_SEED_STREAM])
            licences += [self._extra(s, fill) for s in extra]
            persons_extra = {s.holder_key for s in extra if s.holder_type == "person"}
            return authorities, licences, len(persons) + len(persons_extra)
        return authorities, licences, len(persons)


# a vehicle's certificate lists the business it serves (经营范围 of the vehicle)
DRIVER_SCOPE_TO_BUSINESS = {
    "bus_scheduled": "道路旅客运输",
    "bus_charter": "道路旅客运输",
    "city_bus": "城市公共汽车客运",
    "dangerous_goods": "道路危险货物运输",
    "heavy_truck": "道路普通货物运输",
    "tractor": "道路普通货物运输",
    "taxi": "巡游出租汽车客运",
}


def _ride_uscc(rng: np.random.Generator) -> str:
    """The ride-hailing company's USCC (GB 32100 check character)."""
    charset = "0123456789ABCDEFGHJKLMNPQRTUWXY"
    body = "".join(charset[int(rng.integers(len(charset)))] for _ in range(9))
    first17 = "91" + RIDE_COUNTY + body
    total = sum(charset.index(c) * pow(3, i, 31) for i, c in enumerate(first17))
    return first17 + charset[(31 - total % 31) % 31]


def _record(lic: _Licence, number: int, version: dict[str, Any], received: dt.datetime) -> dict:
    """The feed record of one version (licences.md "Licence record"), without its signature."""
    record: dict[str, Any] = {
        "licence_id": lic.licence_id,
        "licence_type": lic.licence_type,
        "licence_no": lic.licence_no,
        "holder_type": lic.holder_type,
        "holder_key": lic.holder_key,
        "holder_name": lic.holder_name,
    }
    if lic.holder_type == "person":
        record["holder_phone"] = version.get("holder_phone", lic.personal.get("holder_phone"))
    elif lic.holder_type == "organisation":
        record["legal_representative"] = lic.personal["legal_representative"]
        record["contact_phone"] = lic.personal["contact_phone"]
    record.update(
        {
            "scope": version.get("scope", lic.scope),
            "issuing_authority": dict(lic.authority),
            "issuing_province": PROVINCE_CODE,
            "issued_at": _fmt(version["issued_at"]),
            "valid_from": version["valid_from"].isoformat(),
            "valid_to": version["valid_to"].isoformat(),
            "status": version["status"],
            "version": number,
            "received_at": _fmt(received),
        }
    )
    return record


def _signed(record: dict[str, Any], key: Authority, key_id: str | None = None) -> dict[str, Any]:
    out = dict(record)
    out["signature"] = sm2.sign(canonical_text(record).encode("utf-8"), key.private_key)
    out["signer_key_id"] = key_id or key.key_id
    return out


def _signer(authorities: list[Authority], code: str, day: dt.date) -> Authority:
    for a in authorities:
        if a.code == code and a.valid_from <= day <= a.valid_to:
            return a
    raise ValueError(f"no key of authority {code} valid on {day}")


def _round(value: float, digits: int) -> float:
    """Half up, as the engines round."""
    return float(Decimal(repr(value)).quantize(Decimal(1).scaleb(-digits), ROUND_HALF_UP))


def _answer(versions: list[dict[str, Any]], at: dt.datetime) -> str:
    """The 核验 reason (or ``valid``) of a licence at ``at`` (transforms/licences/lookups.py)."""
    known = [v for v in versions if v["issued_at"] <= at]
    if not known:
        return "not_found"
    v = max(known, key=lambda x: (x["number"], x["issued_at"]))
    if v["status"] != "valid":
        return v["status"]
    if at.date() < v["valid_from"]:
        return "not_yet_valid"
    if at.date() > v["valid_to"]:
        return "expired"
    return "valid"


def _existing(lake: Path) -> list[Path]:
    base = lake / "landing" / DOMAIN
    return sorted(base.glob(f"issuance/*/{FILE_PREFIX}*.jsonl")) + sorted(
        base.glob(f"authorities/*/{AUTHORITIES_FILE}")
    )


def generate_licences(
    lake: Path,
    start: dt.date,
    days: int,
    seed: int = 7,
    force: bool = False,
    progress: Callable[[str], None] | None = None,
    extra: Iterable[ExtraLicence | Mapping[str, Any]] | None = None,
) -> LicenceSummary:
    """Write ``landing/licences/authorities/<start>/authorities.jsonl`` and one
    ``landing/licences/issuance/<day>/issuance-<day>.jsonl`` per day a record was received, for
    the telematics enterprises and vehicles already in the landing zone and the ``extra``
    licences other domains' generators need (:mod:`transforms.licences.generate.extra`: specs or
    their plain-data mappings; signed, written and counted like the generator's own), and return
    the exact known answer. Existing licence files raise :class:`FileExistsError` unless
    ``force``."""
    say = progress or (lambda _m: None)
    lake = Path(lake)
    extras = as_extra(extra)
    existing = _existing(lake)
    if existing and not force:
        raise FileExistsError(
            f"licence landing file(s) already exist: {existing[0]}"
            + (f" and {len(existing) - 1} more" if len(existing) > 1 else "")
            + "; pass force=True (CLI --force) to overwrite"
        )
    for path in existing:
        path.unlink()
    gen = _Generator(lake, start, days, seed)
    authorities, licences, persons = gen.build(extras, seed)
    rng = gen.rng
    summary = LicenceSummary(
        authorities=len({a.code for a in authorities}),
        keys=len(authorities),
        persons=persons,
        extra=len(extras),
    )
    lines: list[tuple[dt.datetime, str]] = []
    # (province, period) → verified rows / failures, with their delays
    measured: list[tuple[str, dt.datetime, dt.datetime, int, str, bool, bool]] = []
    genuine: list[tuple[dt.datetime, str]] = []
    at_end = gen.end - dt.timedelta(seconds=1)
    answers: Counter[str] = Counter()
    for lic in licences:
        numbered = []
        for number, version in enumerate(lic.versions, start=1):
            received = version["issued_at"] + dt.timedelta(seconds=gen._delay())
            record = _record(lic, number, version, received)
            key = _signer(authorities, lic.authority["code"], version["issued_at"].date())
            line = json.dumps(_signed(record, key), ensure_ascii=False)
            lines.append((received, line))
            genuine.append((received, line))
            measured.append(
                (PROVINCE_CODE, version["issued_at"], received, number, version["status"], True,
                 False)
            )  # fmt: skip
            numbered.append({**version, "number": number})
        answers[_answer(numbered, at_end)] += 1
        summary.by_kind[lic.kind] = summary.by_kind.get(lic.kind, 0) + 1
    summary.licences = len(licences)
    summary.versions = len(genuine)
    summary.answers_at_end = dict(sorted(answers.items()))

    # forgeries, issued during the run
    n = max(1, len(genuine) // FORGED_PER_RECORDS)
    vehicles = [x for x in licences if x.holder_type == "vehicle"]
    drivers = [x for x in licences if x.kind == "driver_qualification"] or vehicles
    rogue_private, _ = _keypair(rng)
    rogue = Authority(ROGUE_KEY_ID, CITY["code"], CITY["name"], rogue_private, "", gen.begin.date(),
                      gen.end.date())  # fmt: skip
    old_key = next(a for a in authorities if a.key_id == "350000-K1")
    forged: Counter[str] = Counter()
    failures: Counter[str] = Counter()
    for k in range(n):
        for how in ("tampered", "unknown_key", "expired_key"):
            pool = drivers if how == "expired_key" else vehicles
            if not pool:
                continue
            lic = pool[int(rng.integers(len(pool)))]
            issued = gen._time_between(gen.run_start, gen.end - dt.timedelta(minutes=5))
            received = issued + dt.timedelta(seconds=gen._delay())
            version = {**lic.versions[-1], "issued_at": issued, "status": "valid"}
            if how == "tampered":  # a genuine later version, then its status or validity altered
                version["status"] = "suspended"
                record = _record(lic, len(lic.versions) + 1, version, received)
                key = _signer(authorities, lic.authority["code"], issued.date())
                out = _signed(record, key)
                out["status"] = "valid"
                out["valid_to"] = f"{version['valid_to'].year + 3}-12-31"
                reason = "bad_signature"
            elif how == "unknown_key":  # a licence no authority issued, signed by a rogue key
                fake = _Licence(**{**asdict(lic), "versions": []})
                fake.licence_id = f"{CITY['code']}{issued.year}9{k + 1:07d}"
                fake.licence_no = f"闽交运输宁字{RIDE_COUNTY}9{k + 1:05d}号"
                out = _signed(_record(fake, 1, version, received), rogue)
                reason = "unknown_signer"
            else:  # signed with the province's retired key
                fake = _Licence(**{**asdict(lic), "versions": []})
                fake.licence_id = f"{PROVINCE['code']}{issued.year}8{k + 1:07d}"
                fake.licence_no = f"QC{RIDE_COUNTY}8{k + 1:06d}"
                fake.authority = dict(PROVINCE)
                out = _signed(_record(fake, 1, version, received), old_key)
                reason = "unknown_signer"
            lines.append((received, json.dumps(out, ensure_ascii=False)))
            measured.append((PROVINCE_CODE, issued, received, 1, "valid", False, True))
            forged[how] += 1
            failures[reason] += 1
    summary.forged = dict(forged)
    summary.signature_failures = dict(failures)

    # a few genuine lines re-sent byte for byte in the next day's file (counted once)
    resent = max(1, len(genuine) // RESENT_PER_RECORDS)
    for i in sorted(rng.choice(len(genuine), size=min(resent, len(genuine)), replace=False)):
        received, line = genuine[int(i)]
        lines.append((received + dt.timedelta(days=1), line))
    summary.resent_records = min(resent, len(genuine))

    # files: one per day of reception
    by_day: dict[dt.date, list[tuple[dt.datetime, str]]] = {}
    for received, line in lines:
        by_day.setdefault(received.date(), []).append((received, line))
    for day, items in sorted(by_day.items()):
        folder = lake / "landing" / DOMAIN / "issuance" / day.isoformat()
        folder.mkdir(parents=True, exist_ok=True)
        items.sort(key=lambda x: x[0])
        text = "".join(line + "\n" for _, line in items)
        (folder / f"{FILE_PREFIX}{day.isoformat()}.jsonl").write_text(text, encoding="utf-8")
    keys_folder = lake / "landing" / DOMAIN / "authorities" / start.isoformat()
    keys_folder.mkdir(parents=True, exist_ok=True)
    (keys_folder / AUTHORITIES_FILE).write_text(
        "".join(json.dumps(a.record(), ensure_ascii=False) + "\n" for a in authorities),
        encoding="utf-8",
    )
    summary.lines = len(lines)
    summary.files = {"authorities": 1, "issuance": len(by_day)}
    summary.report = _expected_report(measured)
    say(
        f"licences: {summary.licences} licences ({summary.versions} versions) of "
        f"{summary.persons} drivers, {len(vehicles)} vehicles and the enterprises, "
        f"{sum(forged.values())} forged, in {len(by_day)} issuance file(s)"
    )
    return summary


def _expected_report(measured: list[tuple]) -> dict[str, dict[str, Any]]:
    """The operation-quality values per province and month (transforms/licences/report.py)."""
    groups: dict[tuple[str, str], list[tuple]] = {}
    for row in measured:
        groups.setdefault((row[0], f"{row[1]:%Y-%m}"), []).append(row)
    out = {}
    for (province, period), rows in sorted(groups.items()):
        verified = [r for r in rows if r[5]]
        failures = sum(1 for r in rows if r[6])
        delay = sum((r[2] - r[1]).total_seconds() for r in rows) / len(rows)
        out[f"{province}|{period}"] = {
            "province_code": province,
            "period": period,
            "issued": sum(1 for r in verified if r[3] == 1),
            "changed": sum(1 for r in verified if r[3] > 1 and r[4] != "revoked"),
            "revoked": sum(1 for r in verified if r[4] == "revoked"),
            "records": len(rows),
            "signature_failures": failures,
            "signature_failure_rate": _round(failures / len(rows), 6),
            "mean_feed_delay_s": _round(delay, 1),
        }
    return out

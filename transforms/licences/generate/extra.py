"""Licences other domains' generators need (``generate_licences(..., extra=...)``).

Another domain's synthetic data checks qualifications against the licences domain (freight.md
"Qualification": operator permits, vehicle 道路运输证, driver 从业资格证). Its generator knows which
licence numbers it files and what state each licence must be in at the time of each business
event, so it describes them here and the licence generator signs, writes and counts them exactly
like its own (same authorities and keys, same received_at delays, same files, same summary).

The protocol is plain data, so a domain never imports this package: each spec is an
:class:`ExtraLicence` or a mapping of the same keys (what ``licence_subjects`` functions return):

.. code-block:: python

    {"kind": "vehicle_transport",            # rules `kinds` name, counted in LicenceSummary.by_kind
     "licence_type": "vehicle_transport",    # qualification / operating_permit / vehicle_transport
     "holder_type": "vehicle",               # person / organisation / vehicle (must match the type)
     "holder_key": "闽A12345-2",              # ID number / USCC / <plate>-<colour code>
     "holder_name": "…", "licence_no": "…", "scope": "道路普通货物运输",
     "authority_code": "350000",             # 350000 福建省交通运输厅 or 350900 宁德市交通运输局
     "personal": {"holder_phone": "…"},      # persons: holder_phone; organisations:
                                             # legal_representative, contact_phone (optional)
     "versions": [                           # version 1, 2, … in issued_at order
         {"issued_at": "2025-04-01 09:30:00", "valid_from": "2025-04-01",
          "valid_to": "2029-03-31", "status": "valid"},
         {"issued_at": "2026-03-03 10:00:00", "valid_from": "2025-04-01",
          "valid_to": "2029-03-31", "status": "revoked", "scope": "…"}]}

Times are ``YYYY-MM-DD HH:MM:SS`` (GMT+8) or datetimes, dates ``YYYY-MM-DD`` or dates. A
version may also change ``scope`` or ``holder_phone`` from then on. Every ``issued_at`` must fall
where the authority has a registered key (the province's current key from a year before the run,
宁德's from five years before) and before the end of the run. Personal fields left out are drawn
by the licence generator (from a stream of its own, so its other records do not move).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

LICENCE_TYPES = {
    "qualification": "person",
    "operating_permit": "organisation",
    "vehicle_transport": "vehicle",
}
STATUSES = ("valid", "suspended", "revoked", "expired", "cancelled")
VERSION_CHANGES = ("scope", "holder_phone")  # what a later version may change besides its dates
PERSONAL_KEYS = {"person": ("holder_phone",),
                 "organisation": ("legal_representative", "contact_phone"),
                 "vehicle": ()}  # fmt: skip
AUTHORITY_CODES = ("350000", "350900")


def _datetime(value: Any, what: str) -> dt.datetime:
    if isinstance(value, dt.datetime):
        return value.replace(tzinfo=None)
    try:
        return dt.datetime.strptime(str(value), "%Y-%m-%d %H:%M:%S")
    except ValueError:
        raise ValueError(f"{what} {value!r} is not 'YYYY-MM-DD HH:MM:SS'") from None


def _date(value: Any, what: str) -> dt.date:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value))
    except ValueError:
        raise ValueError(f"{what} {value!r} is not YYYY-MM-DD") from None


@dataclass(frozen=True)
class ExtraVersion:
    """One version of an extra licence: when it was issued, its validity and status, and what
    else it changes from then on (``scope``, ``holder_phone``)."""

    issued_at: dt.datetime
    valid_from: dt.date
    valid_to: dt.date
    status: str = "valid"
    changes: Mapping[str, str] = field(default_factory=dict)

    def as_version(self) -> dict[str, Any]:
        """The licence generator's form of a version."""
        return {"issued_at": self.issued_at, "valid_from": self.valid_from,
                "valid_to": self.valid_to, "status": self.status, **self.changes}  # fmt: skip


@dataclass(frozen=True)
class ExtraLicence:
    """A licence another domain's generator needs (see the module docstring)."""

    kind: str
    licence_type: str
    holder_type: str
    holder_key: str
    holder_name: str
    licence_no: str
    scope: str
    versions: tuple[ExtraVersion, ...]
    authority_code: str = "350000"
    personal: Mapping[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        where = f"extra licence {self.licence_no!r}"
        if LICENCE_TYPES.get(self.licence_type) != self.holder_type:
            raise ValueError(
                f"{where}: licence_type {self.licence_type!r} is issued to "
                f"{LICENCE_TYPES.get(self.licence_type, 'nobody')}, not {self.holder_type!r}"
            )
        if self.authority_code not in AUTHORITY_CODES:
            raise ValueError(f"{where}: authority_code must be one of {AUTHORITY_CODES}")
        if not self.versions:
            raise ValueError(f"{where}: no version")
        for a, b in zip(self.versions, self.versions[1:], strict=False):
            if b.issued_at <= a.issued_at:
                raise ValueError(f"{where}: versions must be in increasing issued_at order")
        for v in self.versions:
            if v.status not in STATUSES:
                raise ValueError(f"{where}: status {v.status!r} is not one of {STATUSES}")
            if v.valid_to < v.valid_from:
                raise ValueError(f"{where}: valid_to {v.valid_to} before valid_from")
            unknown = set(v.changes) - set(VERSION_CHANGES)
            if unknown:
                raise ValueError(f"{where}: a version can change only {VERSION_CHANGES}")
        unknown = set(self.personal) - set(PERSONAL_KEYS[self.holder_type])
        if unknown:
            raise ValueError(
                f"{where}: personal fields of a {self.holder_type} are "
                f"{PERSONAL_KEYS[self.holder_type]}, not {sorted(unknown)}"
            )

    @classmethod
    def from_mapping(cls, spec: Mapping[str, Any]) -> ExtraLicence:
        """An :class:`ExtraLicence` from its plain-data form (the module docstring)."""
        versions = []
        for i, v in enumerate(spec["versions"], start=1):
            what = f"licence {spec.get('licence_no')!r} version {i}"
            versions.append(
                ExtraVersion(
                    _datetime(v["issued_at"], f"{what} issued_at"),
                    _date(v["valid_from"], f"{what} valid_from"),
                    _date(v["valid_to"], f"{what} valid_to"),
                    v.get("status", "valid"),
                    {k: v[k] for k in VERSION_CHANGES if v.get(k) is not None},
                )
            )
        return cls(
            kind=spec["kind"],
            licence_type=spec["licence_type"],
            holder_type=spec["holder_type"],
            holder_key=spec["holder_key"],
            holder_name=spec["holder_name"],
            licence_no=spec["licence_no"],
            scope=spec["scope"],
            versions=tuple(versions),
            authority_code=str(spec.get("authority_code", "350000")),
            personal=dict(spec.get("personal") or {}),
        )


def as_extra(specs: Iterable[ExtraLicence | Mapping[str, Any]] | None) -> list[ExtraLicence]:
    """Every spec as an :class:`ExtraLicence`; licence numbers must be unique among them."""
    out = [s if isinstance(s, ExtraLicence) else ExtraLicence.from_mapping(s) for s in specs or ()]
    seen: set[str] = set()
    for s in out:
        if s.licence_no in seen:
            raise ValueError(f"extra licence number {s.licence_no!r} given twice")
        seen.add(s.licence_no)
    return out

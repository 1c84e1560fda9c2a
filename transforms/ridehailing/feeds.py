"""The ride-hailing (网约车) landing feeds: one per interface, ``ridehailing/<interface>/<day>/*.jsonl``
(../shared/domain/contracts.md), plus the outage notices (``outageNotice``).

Each feed's bronze columns are its interface's fields (:mod:`transforms.ridehailing.interfaces`, names
exactly as the interface spells them) and ``received_at`` (arrival at the industry platform). Every
feed lands by day. Personal fields — the driver's licence number (an ID number), phones, names of
persons — are protected from bronze on (``<field>_sm4`` / ``_hmac`` / ``_masked``): the natural keys
that hold them (LicenseId, PassengerPhone) use the join hash.
"""

from __future__ import annotations

from transforms.lake.feeds import Feed
from transforms.lake.protection import Sensitive
from transforms.ridehailing.interfaces import INTERFACES, OUTAGE_FIELDS, Interface

DOMAIN = "ridehailing"
RECEIVED_AT = "received_at"
OUTAGE_NOTICE = "outageNotice"


def _feed(spec: Interface) -> Feed:
    return Feed(
        DOMAIN,
        spec.name,
        (*spec.field_names, RECEIVED_AT),
        (".jsonl",),
        by_day=True,
        sensitive=tuple(Sensitive(f.name, f.sensitive) for f in spec.sensitive),
    )


INTERFACE_FEEDS: tuple[Feed, ...] = tuple(_feed(spec) for spec in INTERFACES)
OUTAGES = Feed(DOMAIN, OUTAGE_NOTICE, OUTAGE_FIELDS, (".jsonl",), by_day=True)

# static interfaces first (the dynamic records are checked against them), outages last
FEEDS: tuple[Feed, ...] = (*INTERFACE_FEEDS, OUTAGES)
FEED_BY_INTERFACE: dict[str, Feed] = {f.name: f for f in INTERFACE_FEEDS}

"""The network-freight (网络货运) landing feeds and their fields (../shared/domain/contracts.md,
freight.md "Interface and exact rules").

- ``senders``: the platforms' (enterpriseSenderCode) SM2 public keys, each valid over a date range.
- ``envelopes``: the national-crypto envelopes as received (``.json``: one envelope per file;
  ``.jsonl``: one per line). Bronze keeps each envelope's fields as text — the body stays
  encrypted, so no personal field is in clear there; publishing opens them
  (:mod:`transforms.freight.jobs.publish`). A ``.json`` file that is not one JSON object at all
  is a rejected file, with the reason.
- ``national_positions``: points of the national freight vehicle platform (全国道路货运车辆公共监管
  与服务平台).

Every feed lands whatever is pending whatever its day folder (the freight job, triggered by any new
file); the folder date is kept in lineage (an envelope's default ``received_at``).
"""

from __future__ import annotations

import json

from transforms.freight.envelope import ENVELOPE_FIELDS
from transforms.lake.feeds import Feed
from transforms.lake.landing import FileRejected, ParsedFile, as_text, first_value_wins

DOMAIN = "freight"

SENDER_FIELDS = (
    "enterpriseSenderCode", "name", "unifiedSocialCreditIdentifier", "sm2_public_key",
    "valid_from", "valid_to",
)  # fmt: skip
# what bronze keeps of an envelope: its fields and, when the object carries it, its arrival time
ENVELOPE_EXTRA = ("received_at",)
ENVELOPE_COLUMNS = (*ENVELOPE_FIELDS, *ENVELOPE_EXTRA)
POSITION_FIELDS = ("plate", "plate_color", "gnss_time", "lon", "lat", "speed")


def parse_envelope_file(data: bytes, feed: Feed) -> ParsedFile:
    """A ``.json`` landing file: exactly one envelope (a JSON object). A file that is not UTF-8
    JSON, or JSON but not an object, cannot be landed at all: it is rejected with the reason
    (the rejected-files table keeps it), not landed as a malformed line."""
    out = ParsedFile(feed.fields)
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise FileRejected(f"not a freight envelope: not UTF-8 ({exc})") from None
    try:
        obj = json.JSONDecoder(object_pairs_hook=first_value_wins).decode(text)
    except json.JSONDecodeError as exc:
        raise FileRejected(
            f"not a freight envelope: not JSON ({exc.msg} at line {exc.lineno} column {exc.colno})"
        ) from None
    if type(obj) is not dict:
        raise FileRejected(f"not a freight envelope: a JSON {type(obj).__name__}, not an object")
    out.lines = 1
    out.add(1, {name: as_text(obj.get(name)) for name in feed.fields})
    return out


SENDERS = Feed(DOMAIN, "senders", SENDER_FIELDS, (".jsonl",))
ENVELOPES = Feed(
    DOMAIN, "envelopes", ENVELOPE_COLUMNS, (".json", ".jsonl"),
    parsers=((".json", parse_envelope_file),),
)  # fmt: skip
NATIONAL_POSITIONS = Feed(DOMAIN, "national_positions", POSITION_FIELDS, (".jsonl",))

# the order a pass lands them in: the keys first, so the envelopes can be opened
FEEDS = (SENDERS, ENVELOPES, NATIONAL_POSITIONS)

"""The landing parser of the licence issuance feed (``.jsonl``, one signed record per line).

The signature is over the canonical form of the ORIGINAL JSON record (licences.md "Signature"):
``json.dumps(record without signature and signer_key_id, sort_keys=True, separators=(",", ":"),
ensure_ascii=False)``. Bronze keeps text columns, in which a number and a string look alike and
the nested ``issuing_authority`` is flattened, so the canonical text is computed here, from the
decoded object, and kept as a field of its own (``canonical``, encrypted at landing). Lines are
read by the shared landing's line parser, so a blank, non-UTF-8, non-JSON or non-object line is
treated exactly as in every other ``.jsonl`` feed.
"""

from __future__ import annotations

import json

from transforms.lake.feeds import Feed
from transforms.lake.landing import MALFORMED, ParsedFile, _jsonl_line, as_text, first_value_wins

# the top-level keys of an issuance record as the feed sends them (licences.md "Licence record")
RECORD_KEYS = (
    "licence_id", "licence_type", "licence_no", "holder_type", "holder_key", "holder_name",
    "holder_phone", "legal_representative", "contact_phone", "scope", "issuing_authority",
    "issuing_province", "issued_at", "valid_from", "valid_to", "status", "version", "received_at",
    "signer_key_id", "signature",
)  # fmt: skip
# not part of the signed text (licences.md "Signature")
UNSIGNED_KEYS = ("signature", "signer_key_id")
_DECODER = json.JSONDecoder(object_pairs_hook=first_value_wins)


def canonical_text(record: dict) -> str:
    """The text an authority signs: the record without its signature fields, keys sorted, no
    spaces, UTF-8 characters as they are."""
    signed = {k: v for k, v in record.items() if k not in UNSIGNED_KEYS}
    return json.dumps(signed, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def _authority(value: object) -> tuple[str | None, str | None]:
    """(code, name) of ``issuing_authority``: ``{"code": …, "name": …}``, or a bare code."""
    if isinstance(value, dict):
        return as_text(value.get("code")), as_text(value.get("name"))
    return as_text(value), None


def parse_issuance(data: bytes, feed: Feed) -> ParsedFile:
    """Signed licence records, one per line, each with its canonical text (``canonical``)."""
    line_parser = _jsonl_line(RECORD_KEYS)
    out = ParsedFile(feed.fields)
    for number, raw in enumerate(data.split(b"\n"), start=1):
        kind, value = line_parser(number, raw)
        if kind == "blank":
            continue
        out.lines += 1
        if kind == "malformed":
            out.malformed.append(value)  # type: ignore[arg-type]
            continue
        text = raw.decode("utf-8").rstrip("\r")
        obj = _DECODER.decode(text)
        canonical = canonical_text(obj)
        try:
            canonical.encode("utf-8")
        except UnicodeEncodeError:  # a lone surrogate escape inside a nested value
            error = "not valid Unicode: a lone surrogate in the record"
            out.malformed.append((number, text, error, MALFORMED))
            continue
        record = dict(value)  # type: ignore[call-overload]
        record["issuing_authority_code"], record["issuing_authority_name"] = _authority(
            obj.get("issuing_authority")
        )
        record["canonical"] = canonical
        out.add(number, record)
    return out

"""The licences (电子证照) landing feeds and their fields (../shared/domain/contracts.md,
licences.md "Interface and exact rules").

- ``authorities``: the issuing authorities' SM2 public keys, each valid over a date range.
- ``issuance``: the provincial issuance feed, one signed licence record per line. Its own ``.jsonl``
  parser (:mod:`transforms.licences.parsers`) flattens ``issuing_authority`` into its code and name
  and adds ``canonical``: the exact text the authority signed, which bronze's text columns could
  not reproduce. ``canonical`` holds personal fields, so it is kept only encrypted (kind
  ``record``); the holder's key and name are protected when the holder is a person.
"""

from __future__ import annotations

import pyarrow as pa

from transforms.lake.feeds import Feed
from transforms.lake.protection import Sensitive
from transforms.licences.parsers import parse_issuance

DOMAIN = "licences"
TS = pa.timestamp("us", tz="UTC")  # GMT+8 wall-clock values, see docs/tables.md

AUTHORITY_FIELDS = (
    "key_id", "authority_code", "authority_name", "sm2_public_key", "valid_from", "valid_to",
)  # fmt: skip
# what bronze keeps of a record: issuing_authority flattened, and the signed text
ISSUANCE_FIELDS = (
    "licence_id", "licence_type", "licence_no", "holder_type", "holder_key", "holder_name",
    "holder_phone", "legal_representative", "contact_phone", "scope", "issuing_authority_code",
    "issuing_authority_name", "issuing_province", "issued_at", "valid_from", "valid_to", "status",
    "version", "received_at", "signer_key_id", "signature", "canonical",
)  # fmt: skip

# a holder's key is personal unless the holder is an organisation or a vehicle (a USCC, a plate);
# its name unless the holder is an organisation: a vehicle's holder name is its owner's, often a
# person (个体运输户). Fail-safe: a missing or misspelt holder_type keeps both protected.
NOT_PERSON = ("holder_type", ("organisation", "vehicle"))
ORGANISATION = ("holder_type", ("organisation",))
ISSUANCE_SENSITIVE = (
    Sensitive("holder_key", "id_number", unless=NOT_PERSON),  # ID of a person; USCC, plate: clear
    Sensitive("holder_name", "name", unless=ORGANISATION),
    Sensitive("holder_phone", "phone"),
    Sensitive("legal_representative", "name"),
    Sensitive("contact_phone", "phone"),
    Sensitive("canonical", "record"),  # the signed text holds all of the above
)
# quarantined records keep their typed key (a rule or signature failure; null for a malformed line)
ISSUANCE_QUARANTINE_COLUMNS = (
    ("licence_id", pa.string()), ("licence_no", pa.string()), ("licence_type", pa.string()),
    ("holder_type", pa.string()), ("version", pa.int32()), ("status", pa.string()),
    ("issuing_authority_code", pa.string()), ("province_code", pa.string()),
    ("signer_key_id", pa.string()), ("issued_at", TS), ("received_at", TS),
    ("detail", pa.string()),
)  # fmt: skip

AUTHORITIES = Feed(DOMAIN, "authorities", AUTHORITY_FIELDS, (".jsonl",), ("key_id",))
ISSUANCE = Feed(
    DOMAIN, "issuance", ISSUANCE_FIELDS, (".jsonl",), parsers=((".jsonl", parse_issuance),),
    quarantine_columns=ISSUANCE_QUARANTINE_COLUMNS, sensitive=ISSUANCE_SENSITIVE,
)  # fmt: skip

# the order a pass lands them in: the keys first, so the records can be verified
FEEDS = (AUTHORITIES, ISSUANCE)

"""The signature check of a licence record: verified, and every way to fail it, with the reason;
the same answers from worker processes."""

from __future__ import annotations

import datetime as dt

import pytest

from transforms.crypto import sm2
from transforms.licences.signatures import (
    BAD_SIGNATURE,
    UNKNOWN_SIGNER,
    VERIFIED,
    AuthorityKey,
    Record,
    check_record,
    check_records,
    issued_day,
)

PRIVATE, PUBLIC = sm2.generate_keypair()
OTHER_PRIVATE, _ = sm2.generate_keypair()
KEYS = {
    "K": AuthorityKey("K", "350900", PUBLIC, dt.date(2026, 1, 1), dt.date(2026, 12, 31)),
    "BROKEN": AuthorityKey(
        "BROKEN", "350900", "04" + "00" * 64, dt.date(2020, 1, 1), dt.date(2030, 1, 1)
    ),  # fmt: skip
}
TEXT = '{"licence_no":"X","version":1}'


def record(**changes) -> Record:
    base = dict(canonical=TEXT, signature=sm2.sign(TEXT.encode(), PRIVATE), signer_key_id="K",
                authority_code="350900", issued_at="2026-03-01 10:00:00")  # fmt: skip
    return Record(**{**base, **changes})


@pytest.mark.parametrize(
    ("changes", "result", "detail"),
    [
        ({}, VERIFIED, None),
        ({"canonical": TEXT.replace("1}", "2}")}, BAD_SIGNATURE, "does not verify under key K"),
        ({"signature": sm2.sign(TEXT.encode(), OTHER_PRIVATE)}, BAD_SIGNATURE, "does not verify"),
        ({"signature": "zz" * 64}, BAD_SIGNATURE, "does not verify"),
        ({"signature": None}, BAD_SIGNATURE, "no signature"),
        ({"signer_key_id": "NOPE"}, UNKNOWN_SIGNER, "key NOPE is not registered"),
        ({"signer_key_id": None}, UNKNOWN_SIGNER, "names no signer_key_id"),
        ({"authority_code": "350000"}, UNKNOWN_SIGNER, "registered for authority 350900"),
        ({"issued_at": "2025-12-31 23:59:59"}, UNKNOWN_SIGNER, "not on 2025-12-31"),
        ({"issued_at": "2027-01-01 00:00:00"}, UNKNOWN_SIGNER, "not on 2027-01-01"),
        ({"issued_at": "2026/03/01"}, UNKNOWN_SIGNER, "validity unknown"),
        ({"signer_key_id": "BROKEN"}, UNKNOWN_SIGNER, "unusable"),
    ],
)
def test_each_outcome_and_its_detail(changes, result, detail):
    got, why = check_record(record(**changes), KEYS)
    assert got == result
    assert (why is None) if detail is None else (detail in why)


def test_validity_is_inclusive_on_both_days():
    for day in ("2026-01-01 00:00:00", "2026-12-31 23:59:59"):
        assert check_record(record(issued_at=day), KEYS)[0] == VERIFIED
    assert issued_day(" 2026-02-28 10:00:00 ") == dt.date(2026, 2, 28)
    assert issued_day("2026-02-30 10:00:00") is None


def test_worker_processes_give_the_same_answers():
    records = [record(), record(signer_key_id="NOPE"), record(canonical="{}")] * 3
    serial = check_records(records, KEYS, parallel_min=10**9)
    parallel = check_records(records, KEYS, parallel_min=1, workers=2)
    assert parallel == serial
    assert [r for r, _ in serial[:3]] == [VERIFIED, UNKNOWN_SIGNER, BAD_SIGNATURE]

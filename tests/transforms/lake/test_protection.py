"""Personal fields replaced by encrypted, hashed and masked columns before anything is written
(transforms/lake/protection.py), and a landing without keys stopped before it writes."""

import pyarrow as pa
import pytest

from transforms.crypto.keys import KEYS_ENV, MissingKeyError
from transforms.lake.feeds import Feed
from transforms.lake.landing import land_feed
from transforms.lake.protection import (
    ProtectionKeys,
    Sensitive,
    mask_text,
    protect,
    protect_raw,
    reveal,
    reveal_table,
    stored_fields,
)

PHONE = Sensitive("phone", "phone")
ID = Sensitive("id_no", "id_number")
NAME = Sensitive("name", "name", unless=("holder_type", ("organisation", "vehicle")))


@pytest.fixture
def keys() -> ProtectionKeys:
    return ProtectionKeys.load()


def test_each_field_becomes_three_columns_in_its_place(keys):
    table = pa.table(
        {
            "a": ["1", "2", "3"],
            "phone": ["013912345678", "13912345678", None],
            "id_no": ["35010219900101123x", None, "350102199001011234"],
            "b": ["x", "y", "z"],
        }
    )
    out = protect(table, (PHONE, ID), keys)
    assert out.column_names == [
        "a", "phone_sm4", "phone_hmac", "phone_masked",
        "id_no_sm4", "id_no_hmac", "id_no_masked", "b",
    ]  # fmt: skip
    rows = out.to_pylist()
    # the BCD zero padding of a SIM number is not part of the number: same hash, same mask
    assert rows[0]["phone_hmac"] == rows[1]["phone_hmac"] is not None
    assert [r["phone_masked"] for r in rows] == ["139****5678", "139****5678", None]
    assert [r["id_no_masked"] for r in rows] == ["350102********123X", None, "350102********1234"]
    assert rows[2]["phone_sm4"] is None and rows[2]["phone_hmac"] is None
    # the value as received comes back with the key, and only there
    assert reveal(out.column("phone_sm4").to_pylist(), keys) == [
        "013912345678",
        "13912345678",
        None,
    ]
    assert (
        reveal_table(out, keys).column("id_no_sm4").to_pylist() == table.column("id_no").to_pylist()
    )
    clear = {"013912345678", "13912345678", "35010219900101123x", "350102199001011234"}
    assert not clear & {v for r in rows for v in r.values()}


def test_unless_keeps_organisations_in_clear_and_fails_safe(keys):
    table = pa.table(
        {
            "holder_type": ["person", "organisation", None, "persn", " Vehicle "],
            "name": ["张三", "某某运输公司", "李四", "王五", "闽J12345"],
        }
    )
    rows = protect(table, (NAME,), keys).to_pylist()
    assert [r["name_masked"] for r in rows] == ["张*", "某某运输公司", "李*", "王*", "闽J12345"]
    assert [r["name_sm4"] is not None for r in rows] == [True, False, True, True, False]
    assert all(r["name_hmac"] for r in rows)  # every holder joins by the same hash column
    with pytest.raises(ValueError, match="not both"):
        Sensitive("x", "name", unless=("t", ("a",)), when=("t", ("b",)))
    with pytest.raises(ValueError, match="unknown sensitive kind"):
        Sensitive("x", "passport")


def test_stored_fields_and_missing_columns(keys):
    assert stored_fields(("a", "phone", "b"), (PHONE,)) == (
        "a", "phone_sm4", "phone_hmac", "phone_masked", "b",
    )  # fmt: skip
    with pytest.raises(KeyError, match="not a column"):
        protect(pa.table({"a": ["1"]}), (PHONE,), keys)


def test_raw_lines_are_kept_encrypted_beside_a_masked_preview(keys):
    raw = '{"name": "张三丰", "phone": "13912345678", "id_no": "350102199001011234"'
    previews, encrypted = protect_raw([raw], keys)
    assert "13912345678" not in previews[0] and "350102199001011234" not in previews[0]
    assert "张三丰" not in previews[0] and "139****5678" in previews[0]
    assert reveal(encrypted, keys) == [raw]
    assert mask_text(None) is None


def test_a_feed_with_personal_fields_does_not_land_without_keys(tmp_path, monkeypatch):
    feed = Feed("demo", "people", ("name", "phone"), (".jsonl",), sensitive=(PHONE,))
    folder = tmp_path / "landing" / "demo" / "people" / "2026-11-01"
    folder.mkdir(parents=True)
    (folder / "a.jsonl").write_text('{"name": "x", "phone": "13912345678"}\n', encoding="utf-8")
    monkeypatch.setenv(KEYS_ENV, str(tmp_path / "no-keys"))
    with pytest.raises(MissingKeyError, match="lakehouse keys init"):
        land_feed(tmp_path, feed)
    assert not (tmp_path / "bronze").exists() and not (tmp_path / "ops").exists()

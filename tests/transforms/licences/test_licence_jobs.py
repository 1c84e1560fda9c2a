"""The hand-built scenario (licence_scenario.py) landed and published through the real jobs on the
`spark` fixture: verified versions and their history in silver, every quarantine row with its
reason, the counted records, idempotence, a corrected file, and no clear-text personal value in
any Delta table, version or log."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import licence_scenario as sc
import pytest
from deltalake import DeltaTable

from transforms.lake.protection import ProtectionKeys, reveal
from transforms.licences.lookups import holder_hmac


@pytest.fixture(scope="module")
def scenario(spark, tmp_path_factory):
    return sc.scenario_lake(spark, tmp_path_factory.mktemp("licences"))


def _rows(lake: Path, table: str) -> list[dict]:
    layer, name = table.split(".")
    return DeltaTable(str(lake / layer / name)).to_pyarrow_table().to_pylist()


def _t(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text)


def test_silver_holds_every_verified_version_with_its_valid_time_range(scenario):
    _, lake = scenario
    rows = _rows(lake, "silver.licences__licences")
    got = {
        (r["licence_no"], r["version"]): (
            r["status"],
            r["version_valid_from"].replace(tzinfo=None),
            r["version_valid_to"] and r["version_valid_to"].replace(tzinfo=None),
            r["is_current"],
        )
        for r in rows
    }
    assert len(rows) == len(got) == 11  # op v1 sent twice: one row
    assert got == {
        (sc.OP_NO, 1): ("valid", _t("2026-03-03 09:00:00"), _t("2026-03-20 10:00:00"), False),
        (sc.OP_NO, 2): ("valid", _t("2026-03-20 10:00:00"), None, True),
        (sc.VEH_NO, 1): ("valid", _t("2026-03-05 08:00:00"), _t("2026-03-25 08:00:00"), False),
        (sc.VEH_NO, 2): ("suspended", _t("2026-03-25 08:00:00"), None, True),
        (sc.DRV_NO, 1): ("valid", _t("2026-03-06 12:00:00"), None, True),
        (sc.REV_NO, 1): ("valid", _t("2026-02-10 09:00:00"), _t("2026-03-12 09:00:00"), False),
        (sc.REV_NO, 2): ("revoked", _t("2026-03-12 09:00:00"), None, True),
        (sc.EXP_NO, 1): ("expired", _t("2026-03-07 09:00:00"), None, True),
        (sc.CAN_NO, 1): ("cancelled", _t("2026-03-08 09:00:00"), None, True),
        (sc.RH_NO, 1): ("valid", _t("2026-03-09 09:00:00"), None, True),
        (sc.ZJ_NO, 1): ("valid", _t("2026-03-15 09:00:00"), None, True),
    }
    drv = next(r for r in rows if r["licence_no"] == sc.DRV_NO)
    keys = ProtectionKeys.load()
    # a person: masked, hashed for joins, and the clear value only for whoever holds the key
    assert drv["holder_key_masked"] == sc.DRIVER_ID[:6] + "*" * 8 + sc.DRIVER_ID[-4:]
    assert drv["holder_name_masked"] == "张**"
    assert drv["holder_phone_masked"] == "138****8001"
    assert drv["holder_key_hmac"] == holder_hmac(sc.DRIVER_ID, keys.join)
    assert reveal([drv["holder_key_sm4"], drv["holder_phone_sm4"]], keys) == [
        sc.DRIVER_ID,
        "13800138001",
    ]
    # an organisation: its USCC and name are not personal, its representative and phone are
    op = next(r for r in rows if r["licence_no"] == sc.OP_NO and r["version"] == 2)
    assert (op["holder_key_masked"], op["holder_key_sm4"]) == (sc.ORG, None)
    assert op["holder_name_masked"] == "宁德顺通客运有限公司"
    assert op["legal_representative_masked"] == "陈**"
    assert op["scope"] == "道路旅客运输、道路普通货物运输"
    # the signed text, kept encrypted, is the record as signed
    signed = json.loads(reveal([op["canonical_sm4"]], keys)[0])
    assert signed["version"] == 2 and "signature" not in signed


def test_every_failure_is_quarantined_with_its_reason_and_never_published(scenario):
    _, lake = scenario
    rows = _rows(lake, "quarantine.licences__issuance")
    got = sorted((r["licence_no"] or "", r["failed_rules"], r["detail"]) for r in rows)
    assert got == sorted(
        [
            ("", ["malformed_record"], None),
            (sc.VEH_NO, ["bad_signature"], "the signature does not verify under key K-CITY"),
            ("闽交运输字350902200099号", ["unknown_signer"], "key K-ROGUE is not registered"),
            (
                "闽交运输字350902200098号",
                ["unknown_signer"],
                "key K-PROV-1 is valid 2020-01-01 … 2025-12-31, not on 2026-03-10",
            ),
            ("闽交运输字350902200097号", ["bad_signature"], "the signature does not verify under key K-PROV-2"),
            (
                "闽交运输字350902200096号",
                ["unknown_signer"],
                "key K-CITY is registered for authority 350900, not 350000",
            ),
            ("闽交运输字350902200095号", ["bad_signature"], "the signature does not verify under key K-CITY"),
            (sc.TYPE_NO, ["licence_type_valid"], None),
        ]
    )  # fmt: skip
    tampered = next(r for r in rows if r["licence_no"] == sc.VEH_NO)
    assert tampered["status"] == "valid" and tampered["version"] == 2  # what the forger claims
    assert tampered["raw_record"] and tampered["raw_record_sm4"]
    published = {r["licence_no"] for r in _rows(lake, "silver.licences__licences")}
    assert not published & {r["licence_no"] for r in rows if r["licence_no"] != sc.VEH_NO}


def test_the_counted_records_are_each_version_and_each_quarantined_record_once(scenario):
    _, lake = scenario
    records = _rows(lake, "silver.licences__records")
    by_outcome: dict[str, int] = {}
    for r in records:
        by_outcome[r["outcome"]] = by_outcome.get(r["outcome"], 0) + 1
    assert by_outcome == {
        "verified": 11,
        "bad_signature": 3,
        "unknown_signer": 3,
        "rule_failure": 1,
    }
    op1 = [r for r in records if r["licence_no"] == sc.OP_NO and r["version"] == 1]
    assert len(op1) == 1 and op1[0]["feed_delay_s"] == 60 and op1[0]["period"] == "2026-03"


def test_running_again_changes_nothing(spark, scenario):
    _, lake = scenario
    tables = ("silver.licences__licences", "quarantine.licences__issuance",
              "silver.licences__records", "silver.licences__authorities")  # fmt: skip

    def snapshot():
        return {t: sorted(map(repr, _rows(lake, t))) for t in tables if "records" not in t} | {
            "silver.licences__records": sorted(
                (r["_file_sm3"], r["_line"], r["outcome"]) for r in _rows(lake, tables[2])
            )
        }

    before = snapshot()
    sc.land_and_publish(spark, lake)
    assert snapshot() == before


def test_no_clear_personal_value_in_any_table_version_or_log(scenario):
    """licences.md: encrypted from bronze on — quarantine, raw-line columns, every Delta version
    and `_delta_log` included."""
    _, lake = scenario
    needles = sc.PERSONAL
    scanned = 0
    for layer in ("bronze", "quarantine", "silver", "gold", "ops"):
        for table in sorted((lake / layer).glob("*/_delta_log")):
            dt_ = DeltaTable(str(table.parent))
            for version in range(dt_.version() + 1):
                data = DeltaTable(str(table.parent), version=version).to_pyarrow_table()
                for column in data.column_names:
                    for value in data.column(column).to_pylist():
                        text = value if isinstance(value, str) else json.dumps(value, default=str)
                        assert not any(n in text for n in needles), (table.parent.name, column)
                scanned += 1
    for path in lake.rglob("*"):
        if path.is_file() and "landing" not in path.relative_to(lake).parts:
            raw = path.read_bytes()
            assert not any(n.encode() in raw for n in needles), path
    assert scanned >= 8


def test_a_corrected_file_adds_a_version_and_counts_a_resent_one_once(spark, tmp_path):
    scenario = sc.build()
    lake = tmp_path / "lake"
    scenario.write(lake)
    sc.land_and_publish(spark, lake)
    op2 = json.loads(scenario.file2[1])
    op2_again = scenario.file2[1]
    op3 = {k: v for k, v in op2.items() if k not in ("signature", "signer_key_id")}
    op3.update(version=3, status="suspended", issued_at="2026-04-02 09:00:00",
               received_at="2026-04-02 09:00:10")  # fmt: skip
    folder = lake / "landing/licences/issuance/2026-04-02"
    folder.mkdir(parents=True)
    line3 = sc.sign(op3, "K-CITY", scenario.keys["K-CITY"][0])
    (folder / "corrected.jsonl").write_text(op2_again + "\n" + line3 + "\n", "utf-8")
    sc.land_and_publish(spark, lake)
    versions = {
        r["version"]: r
        for r in _rows(lake, "silver.licences__licences")
        if r["licence_no"] == sc.OP_NO
    }
    assert sorted(versions) == [1, 2, 3]
    assert versions[2]["version_valid_to"].replace(tzinfo=None) == _t("2026-04-02 09:00:00")
    assert versions[3]["is_current"] and not versions[2]["is_current"]
    records = [r for r in _rows(lake, "silver.licences__records") if r["licence_no"] == sc.OP_NO]
    assert sorted(r["version"] for r in records) == [1, 2, 3]

"""Acceptance of the licences commands on the hand-built scenario
(tests/transforms/licences/licence_scenario.py, landed and published through the real jobs): every
`lakehouse licence verify` answer and every `lakehouse report licences` value asserted."""

from __future__ import annotations

import csv
import importlib.util
import io
import json
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from orchestration.cli import main

SCENARIO_FILE = Path(__file__).resolve().parents[2] / "transforms/licences/licence_scenario.py"


def _scenario_module():
    if "licence_scenario" not in sys.modules:
        spec = importlib.util.spec_from_file_location("licence_scenario", SCENARIO_FILE)
        module = importlib.util.module_from_spec(spec)
        sys.modules["licence_scenario"] = module
        spec.loader.exec_module(module)
    return sys.modules["licence_scenario"]


sc = _scenario_module()


@pytest.fixture(scope="module")
def lake(spark, tmp_path_factory) -> Path:
    return sc.scenario_lake(spark, tmp_path_factory.mktemp("licence_cli"))[1]


def run(*args) -> str:
    result = CliRunner().invoke(main, [str(a) for a in args])
    assert result.exit_code == 0, result.output
    return result.output


def verify(lake: Path, licence_no: str, *options: str) -> dict:
    return json.loads(run("licence", "verify", "--lake", lake, licence_no, *options))


def answer(licence_no, result, reason, licence_type, holder_key, status, valid_from, valid_to,
           version) -> dict:  # fmt: skip
    return dict(licence_no=licence_no, result=result, reason=reason, licence_type=licence_type,
                holder_key=holder_key, status=status, valid_from=valid_from, valid_to=valid_to,
                version=version)  # fmt: skip


def masked_id(number: str) -> str:
    return number[:6] + "*" * 8 + number[-4:]


OP = dict(licence_type="operating_permit", holder_key=None, valid_from="2026-03-03",
          valid_to="2030-03-02")  # fmt: skip


def test_operating_permit_versions_holder_and_time(lake):
    op = {**OP, "holder_key": sc.ORG}
    # --at in the past picks the older version; a date alone is 00:00:00 of that day
    assert verify(lake, sc.OP_NO, "--holder", sc.ORG, "--at", "2026-03-10") == answer(
        sc.OP_NO, "valid", None, status="valid", version=1, **op
    )
    assert verify(lake, sc.OP_NO, "--at", "2026-03-20 10:00:00") == answer(
        sc.OP_NO, "valid", None, status="valid", version=2, **op
    )
    assert verify(lake, sc.OP_NO, "--at", "2026-03-20 09:59:59")["version"] == 1
    # the holder is compared by its join hash: another organisation's USCC does not match
    assert verify(lake, sc.OP_NO, "--holder", sc.ORG_REV, "--at", "2026-03-21") == answer(
        sc.OP_NO, "invalid", "holder_mismatch", status="valid", version=2, **op
    )
    # before its first version was issued, the licence is unknown
    assert verify(lake, sc.OP_NO, "--at", "2026-03-03 08:59:59") == answer(
        sc.OP_NO, "unknown", "not_found", None, None, None, None, None, None
    )


def test_vehicle_certificate_suspended_later_and_status_before_dates(lake):
    veh = dict(licence_type="vehicle_transport", holder_key=sc.VEHICLE, valid_from="2026-03-05",
               valid_to="2028-03-04")  # fmt: skip
    assert verify(lake, sc.VEH_NO, "--holder", sc.VEHICLE, "--at", "2026-03-10") == answer(
        sc.VEH_NO, "valid", None, status="valid", version=1, **veh
    )
    # the tampered copy claiming version 2 is valid is never used: version 2 is suspended
    assert verify(lake, sc.VEH_NO, "--at", "2026-03-26") == answer(
        sc.VEH_NO, "invalid", "suspended", status="suspended", version=2, **veh
    )
    # the status is reported before the dates (valid_to is past as well)
    assert verify(lake, sc.VEH_NO, "--at", "2029-01-01")["reason"] == "suspended"
    assert verify(lake, sc.VEH_NO, "--holder", "闽J12345-1", "--at", "2026-03-10")["reason"] == (
        "holder_mismatch"
    )


def test_qualifications_of_persons(lake):
    drv = dict(licence_type="qualification", holder_key=masked_id(sc.DRIVER_ID),
               valid_from="2020-04-01", valid_to="2026-03-31", status="valid", version=1)  # fmt: skip
    assert verify(lake, sc.DRV_NO, "--holder", sc.DRIVER_ID, "--at", "2026-03-31 23:59:59") == (
        answer(sc.DRV_NO, "valid", None, **drv)
    )
    assert verify(lake, sc.DRV_NO, "--holder", sc.DRIVER_ID, "--at", "2026-04-01") == answer(
        sc.DRV_NO, "invalid", "expired", **drv
    )
    assert verify(lake, sc.DRV_NO, "--holder", sc.CANCELLED_ID, "--at", "2026-03-15")["reason"] == (
        "holder_mismatch"
    )
    rh = dict(licence_type="qualification", holder_key=masked_id(sc.RIDE_ID),
              valid_from="2026-04-01", valid_to="2032-03-31", status="valid", version=1)  # fmt: skip
    assert verify(lake, sc.RH_NO, "--at", "2026-03-15") == answer(
        sc.RH_NO, "invalid", "not_yet_valid", **rh
    )
    assert verify(lake, sc.RH_NO, "--holder", sc.RIDE_ID, "--at", "2026-04-01") == answer(
        sc.RH_NO, "valid", None, **rh
    )
    assert verify(lake, sc.CAN_NO, "--at", "2026-03-15") == answer(
        sc.CAN_NO, "invalid", "cancelled", "qualification", masked_id(sc.CANCELLED_ID),
        "cancelled", "2021-01-01", "2027-12-31", 1,
    )  # fmt: skip


def test_revoked_expired_other_province_and_what_never_verified(lake):
    rev = dict(licence_type="operating_permit", holder_key=sc.ORG_REV, valid_from="2026-02-10",
               valid_to="2030-02-09")  # fmt: skip
    # default --at: now (later than every record of the scenario)
    assert verify(lake, sc.REV_NO) == answer(
        sc.REV_NO, "invalid", "revoked", status="revoked", version=2, **rev
    )
    assert verify(lake, sc.REV_NO, "--at", "2026-03-01") == answer(
        sc.REV_NO, "valid", None, status="valid", version=1, **rev
    )
    # a holder mismatch is reported before the status
    assert verify(lake, sc.REV_NO, "--holder", sc.ORG)["reason"] == "holder_mismatch"
    assert verify(lake, sc.EXP_NO, "--at", "2026-03-10") == answer(
        sc.EXP_NO, "invalid", "expired", "vehicle_transport", sc.VEHICLE_EXP, "expired",
        "2022-03-07", "2026-03-06", 1,
    )  # fmt: skip
    assert verify(lake, sc.ZJ_NO, "--at", "2026-06-01")["result"] == "valid"
    # forged, unknown-signer and rule-failing records are never used by a check
    for number in ("闽交运输字350902200099号", "闽交运输字350902200098号", "闽交运输字350902200097号",
                   "闽交运输字350902200096号", "闽交运输字350902200095号", sc.TYPE_NO):  # fmt: skip
        assert verify(lake, number) == answer(
            number, "unknown", "not_found", None, None, None, None, None, None
        )


def test_verify_as_a_table_and_bad_input(lake):
    out = run("licence", "verify", "--lake", lake, sc.DRV_NO, "--at", "2026-04-01",
              "--format", "table")  # fmt: skip
    lines = {line.split()[0]: line.split()[1] for line in out.splitlines()[2:]}
    assert lines["result"] == "invalid" and lines["reason"] == "expired"
    assert lines["holder_key"] == masked_id(sc.DRIVER_ID) and sc.DRIVER_ID not in out
    bad = CliRunner().invoke(main, ["licence", "verify", "--lake", str(lake), sc.DRV_NO,
                                    "--at", "2026/04/01"])  # fmt: skip
    assert bad.exit_code == 2 and "YYYY-MM-DD" in bad.output


MARCH_FUJIAN = {
    # verified March versions: op v1, op v2, veh v1, veh v2 (suspended), drv, rev v2 (revoked),
    # exp, can, rh = 9; quarantined: 6 forgeries + 1 rule failure = 7 (the malformed line has no
    # month); issued = op v1, veh v1, drv, exp, can, rh; changed = op v2, veh v2
    "province_code": "350000", "period": "2026-03", "issued": 6, "changed": 2, "revoked": 1,
    "records": 16, "signature_failures": 6, "signature_failure_rate": 0.375,
    # delays: 60 120 30 30 600 60 60 60 60 | forged 30 60 60 60 60 60 | rule failure 60 → 1470/16
    "mean_feed_delay_s": 91.9,
}  # fmt: skip
MARCH_ZHEJIANG = {
    "province_code": "330000", "period": "2026-03", "issued": 1, "changed": 0, "revoked": 0,
    "records": 1, "signature_failures": 0, "signature_failure_rate": 0.0,
    "mean_feed_delay_s": 300.0,
}  # fmt: skip
FEBRUARY = {
    "province_code": "350000", "period": "2026-02", "issued": 1, "changed": 0, "revoked": 0,
    "records": 1, "signature_failures": 0, "signature_failure_rate": 0.0,
    "mean_feed_delay_s": 3600.0,
}  # fmt: skip


def test_report_licences_every_value(lake):
    march = json.loads(run("report", "licences", "--lake", lake, "--period", "2026-03"))
    assert march == [MARCH_ZHEJIANG, MARCH_FUJIAN]
    assert list(march[0]) == list(MARCH_FUJIAN)  # the spec's key order
    assert json.loads(run("report", "licences", "--lake", lake, "--period", "2026-02")) == [
        FEBRUARY
    ]
    empty = CliRunner().invoke(
        main, ["report", "licences", "--lake", str(lake), "--period", "2026-04"]
    )
    assert empty.exit_code == 0 and json.loads(empty.stdout) == []
    assert "no licence record" in empty.stderr


def test_report_licences_as_csv_and_table_and_bad_period(lake):
    out = run("report", "licences", "--lake", lake, "--period", "2026-03", "--format", "csv")
    rows = list(csv.DictReader(io.StringIO(out)))
    assert [r["province_code"] for r in rows] == ["330000", "350000"]
    assert rows[1]["signature_failure_rate"] == "0.375" and rows[1]["records"] == "16"
    table = run("report", "licences", "--lake", lake, "--period", "2026-03", "--format", "table")
    assert table.splitlines()[0].split()[:3] == ["province_code", "period", "issued"]
    assert table.splitlines()[3].split()[:4] == ["350000", "2026-03", "6", "2"]
    bad = CliRunner().invoke(
        main, ["report", "licences", "--lake", str(lake), "--period", "2026-3"]
    )
    assert bad.exit_code == 2 and "YYYY-MM" in bad.output

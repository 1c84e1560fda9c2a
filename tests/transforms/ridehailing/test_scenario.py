"""A hand-built ride-hailing (网约车) world over October and November 2026 whose every number
is derived by hand from ridehailing.md "Interface and exact rules" (and the decisions of
transforms/ridehailing/rules.yaml), asserted through `lakehouse run` and `lakehouse report
ridehailing` (per company for 2026-11, 2026-10 and 2026; the overview; the defects).

The landing files are written by world.py (beside this file); every record has a name (O…, N…,
K<n>-<interface>, P…, Q…) used below. Times are GMT+8. Unless said otherwise a record is complete,
normative, received within its limit and consistent; dynamic records carry UpdateTime = their
event time, Flag 1, State 0, Encrypt 1.

Companies (sorted by id: C1 < C2 < C3)
  C1 91350100MA00RHC01X 闽都约车   permits 350100 (福州) and 350900 (宁德); its cars run in 350902
                                    (蕉城, city 3509) only → city coverage 1/2
  C2 91350200MA00RHC02X 鹭岛出行   permit 350200 (厦门); cars in 350203 (思明) and once in 350102
                                    (福州, not a permit city: not in the numerator) → 1/1
  C3 91350900MA00RHC03X 三都澳约车 permit 350900; records in October only → November:
                                    transmitted false, score 0, rates null, coverage 0

Licences (signed by 350000's key, landed through the licences feed; holder = ID number or
<VehicleNo>-<PlateColor>):
  D1 网约车驾驶员证 valid;  D2 网约车驾驶员证 valid, REVOKED by version 2 issued 2026-11-10 09:00;
  D3 only a 巡游出租汽车驾驶员 从业资格证 (kind driver_qualification, lapsed 2025-12-31) — the feed
  knows no ride_hailing_driver licence of D3, so D3 is never licence-checked;
  D4 网约车驾驶员证 valid;  闽JD10001-5 (V1) and 闽DD20004-5 (V4) 网约车运输证 valid;
  闽JD10002-5 (V2) valid, SUSPENDED by version 2 issued 2026-11-20 09:00.
  D5, E1, the sentinel drivers S1–S5 and V3, V5, V6 have no licence at all (not checked).

October (all in force from their UpdateTime on)
  C1: O1 company, O2/O3 permits (350100, 350900), O4–O6 drivers D1 D2 D3, O7/O8 vehicles V1 V2;
      order K1 (D1, V1, 10-20): O9 create, O10 match, O11 depart, O12 arrive, O13 pay, all on time;
      O14 ratedPassenger received 600 s after EvaluateTime → late.                       14 records
  C2: O15 company, O16 permit 350200, O17 driver D4, O18/O19 vehicles V3 V4; O27 operateLogin
      (D4, V4) at 10-31 23:50 received 11-01 00:10 (1200 s → late; an OCTOBER record).   6 records
  C3: O20 company, O21 permit 350900, O22 driver E1, O23 vehicle V5; order K2 (E1, V5, 10-25):
      O24 create, O25 match, O26 cancel (by the passenger). All clean.                   7 records

November, C1 (44 records)
  N1  baseInfoCompanyFare, FareValidOff 2027-12-31 (a validity end: no "future time")    clean
  N2  baseInfoDriver D3 Flag 2 (still State 0), received 30 h after UpdateTime           TIMELINESS
  N3  baseInfoVehicle V6 with a 16-character VIN (F17)                                   NORMATIVITY
  N4  baseInfoDriver D5 with Gender 3 (not in the code table)                            NORMATIVITY
  K3  (D1, V1, 11-02): create, match, depart, arrive, pay, ratedPassenger, ratedDriver — clean.
      Its orderCreate was first received exactly 300 s after OrderTime (timely: ≤) with a blank
      Departure ("  "), then RE-SENT the next day complete: one record, timely by the first copy,
      complete by the latest.                                                     7 records clean
  K4  (D1, V1, 11-05): create, match, depart (10:15) clean;
      K4-arrive DestTime 10:10 before DepTime (the later record of the pair fails)    TRUTHFULNESS
      K4-pay paid with DriveMile 0.0 (< 0.1 km)                                      TRUTHFULNESS
      K4-rated ratedPassenger without EvaluateTime/UpdateTime: counted on its receipt day
      (11-05), incomplete and not timely                                  COMPLETENESS, TIMELINESS
  K5  (D2, V2, 11-08, both licences still valid): depart clean;
      K5-create DepLongitude 2000000 (2° east: outside China)                        NORMATIVITY
      K5-match received 600 s after DistributeTime                                   TIMELINESS
      K5-arrive DriveMile 12.345 (N10.1)                                             NORMATIVITY
      K5-pay OrderMatchTime 2027-11-08 (after its received_at)                       TRUTHFULNESS
  K6  (D2, V2, 11-12, D2 revoked since 11-10): create, arrive clean (no LicenseId);
      K6-match, K6-depart, K6-pay carry D2                                           TRUTHFULNESS
  K7  (D1, V2, 11-22, V2 suspended since 11-20): create, arrive clean;
      K7-match, K7-depart carry V2                                                   TRUTHFULNESS
      K7-pay carries V2 and has no FactPrice                          COMPLETENESS, TRUTHFULNESS
  K8  (11-15): create and a cancel by the passenger — clean                           2 records
  P1  positionDriver D1/V1 BizStatus 1 with OrderId, +10 s                                clean
  P2  positionDriver D1/V1 received 90 s late (limit 60 s)                           TIMELINESS
  P3  positionDriver D1/V1 Speed 350 (0–300)                                         NORMATIVITY
  P4  positionVehicle V1 BizStatus 1 without OrderId                                COMPLETENESS
  P5  positionVehicle V1 BizStatus 3 without OrderId (not required)                       clean
  C1's PLANNED outage 11-14 00:00–06:00, notified 11-10 08:00 (88 h ahead ≥ 72 h):
  P6  positionVehicle at 02:00 received 11-16 10:00 (≤ end + 72 h)       clean (back-fill timely)
  P7  operateLogin D1/V1 at 05:00 received 11-16 10:00:05                clean (back-fill timely)
  P8  positionVehicle at 06:30 (after the outage) received 11-16 10:00:10            TIMELINESS
  P9  operateLogout D1/V1, +10 s                                                          clean
  P10 positionDriver D3/V2 on 11-06 (D3 in force after its update; no ride-hailing licence) clean

November, C2 (25 records)
  N5–N9 baseInfoDriver S1–S5, five LicenseIds with DriverPhone 13900000000 (sentinel, ≥ 5)
                                                                            TRUTHFULNESS ×5
  N10 baseInfoVehicle V3 Flag 3 (added in October: a real delete)                          clean
  N11 baseInfoVehicle 闽DX9999 Flag 3, never added                                 TRUTHFULNESS
  K9  (D4, V4, 11-09): create, match, depart, arrive, pay, ratedPassenger — clean     6 records
  K10 (11-11) C1's driver D1 with V4: D1 has no C2 baseInfoDriver;
      K10-create, K10-arrive (no LicenseId) clean
      K10-match, K10-depart, K10-pay carry D1                                        TRUTHFULNESS
  K11 (11-25) K11-create clean; K11-match with V3, deleted 11-18                     TRUTHFULNESS
      K11-cancel (by the platform) with OrderTime 1970-01-01 08:00                   TRUTHFULNESS
  Q1  positionVehicle V4 in an UNPLANNED outage, received 3 h late                   TIMELINESS
  Q2  positionVehicle V4 in a planned outage announced only 15 h ahead, received 8 h late
                                                                                     TIMELINESS
  Q3  positionVehicle V4 in 福州 (Address 350102)                                          clean
  Q4  positionDriver D4/V4                                                                 clean
  Not records (quarantined at landing, never counted): X-keyless, an orderCreate line without
  OrderId; X-malformed, a positionVehicle line that is not JSON.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from . import world as W
from .world import C1, C2, C3

RATES = ("completeness_rate", "normativity_rate", "timeliness_rate", "truthfulness_rate")
COMPANY_KEYS = {
    "company_id", "company_name", "period", "transmitted", "records", "completeness_rate",
    "normativity_rate", "timeliness_rate", "truthfulness_rate", "city_coverage_rate", "score",
}  # fmt: skip
OVERVIEW_KEYS = {
    "period", "platform_companies", "driver_licences", "vehicle_licences", "orders",
    "driver_licences_mom", "vehicle_licences_mom", "orders_mom",
}  # fmt: skip
NAME1, NAME2, NAME3 = "闽都约车科技有限公司", "鹭岛出行网络科技有限公司", "三都澳约车服务有限公司"


def score(c: float, n: float, t: float, tr: float) -> float:
    """100 × (.25 each) — the rules file's default weights."""
    return 100 * (0.25 * c + 0.25 * n + 0.25 * t + 0.25 * tr)


# ---- November 2026 ----------------------------------------------------------------------------
# C1: 44 records = 4 static (N1–N4) + K3 7 (the re-sent create counted once) + K4 6 + K5 5
#     + K6 5 + K7 5 + K8 2 + P1–P10 10.
#   completeness fails: K4-rated, K7-pay, P4                                    → 41/44
#   normativity fails:  N3, N4, K5-create, K5-arrive, P3                        → 39/44
#   timeliness fails:   N2, K4-rated, K5-match, P2, P8                          → 39/44
#   truthfulness fails: K4-arrive, K4-pay, K5-pay, K6-match, K6-depart, K6-pay,
#                       K7-match, K7-depart, K7-pay                             → 35/44
#   score = 25 × (41 + 39 + 39 + 35) / 44 = 25 × 154 / 44 = 87.5
#   coverage: dynamic records' cities {3509} ∩ permit cities {3501, 3509} → 1/2
#   (N1–N4 carry Address 350102, city 3501, but static records do not count for coverage)
# C2: 25 records = 7 static (N5–N11) + K9 6 + K10 5 + K11 3 + Q1–Q4 4.
#   completeness 25/25; normativity 25/25
#   timeliness fails:   Q1, Q2                                                  → 23/25
#   truthfulness fails: N5–N9, N11, K10-match, K10-depart, K10-pay, K11-match,
#                       K11-cancel                                              → 14/25
#   score = 25 × (25 + 25 + 23 + 14) / 25 = 87
#   coverage: cities {3502, 3501} of which permit cities {3502} → 1/1
# C3: a permit in force (O21), no record in November → transmitted false, score 0, rates null,
#   coverage 0.
NOVEMBER = [
    {"company_id": C1, "company_name": NAME1, "period": "2026-11", "transmitted": True,
     "records": 44, "completeness_rate": 41 / 44, "normativity_rate": 39 / 44,
     "timeliness_rate": 39 / 44, "truthfulness_rate": 35 / 44, "city_coverage_rate": 0.5,
     "score": 87.5},
    {"company_id": C2, "company_name": NAME2, "period": "2026-11", "transmitted": True,
     "records": 25, "completeness_rate": 1.0, "normativity_rate": 1.0,
     "timeliness_rate": 23 / 25, "truthfulness_rate": 14 / 25, "city_coverage_rate": 1.0,
     "score": 87.0},
    {"company_id": C3, "company_name": NAME3, "period": "2026-11", "transmitted": False,
     "records": 0, "completeness_rate": None, "normativity_rate": None,
     "timeliness_rate": None, "truthfulness_rate": None, "city_coverage_rate": 0.0,
     "score": 0.0},
]  # fmt: skip

# ---- October 2026 -----------------------------------------------------------------------------
# C1: O1–O14 = 14 records; only O14 (ratedPassenger, 600 s) fails: timeliness 13/14.
#   score = 25 × (14 + 14 + 13 + 14) / 14 = 25 × 55 / 14; coverage {3509} of {3501, 3509} → 1/2
# C2: O15–O19 and O27 (the login of 10-31 23:50, received in November) = 6 records; O27 is
#   late: timeliness 5/6. score = 25 × 23 / 6; coverage: O27 in 3502 of {3502} → 1
# C3: O20–O26 = 7 clean records, score 100; coverage: K2 in 3509 of {3509} → 1
OCTOBER = [
    {"company_id": C1, "company_name": NAME1, "period": "2026-10", "transmitted": True,
     "records": 14, "completeness_rate": 1.0, "normativity_rate": 1.0,
     "timeliness_rate": 13 / 14, "truthfulness_rate": 1.0, "city_coverage_rate": 0.5,
     "score": 25 * 55 / 14},
    {"company_id": C2, "company_name": NAME2, "period": "2026-10", "transmitted": True,
     "records": 6, "completeness_rate": 1.0, "normativity_rate": 1.0,
     "timeliness_rate": 5 / 6, "truthfulness_rate": 1.0, "city_coverage_rate": 1.0,
     "score": 25 * 23 / 6},
    {"company_id": C3, "company_name": NAME3, "period": "2026-10", "transmitted": True,
     "records": 7, "completeness_rate": 1.0, "normativity_rate": 1.0,
     "timeliness_rate": 1.0, "truthfulness_rate": 1.0, "city_coverage_rate": 1.0,
     "score": 100.0},
]  # fmt: skip

# ---- 2026 (over the year's records, not a mean of months) --------------------------------------
# C1: 14 + 44 = 58 records; passing: completeness 14 + 41 = 55, normativity 14 + 39 = 53,
#   timeliness 13 + 39 = 52, truthfulness 14 + 35 = 49; score = 25 × 209 / 58; coverage 1/2
# C2: 6 + 25 = 31; completeness 31, normativity 31, timeliness 5 + 23 = 28, truthfulness
#   6 + 14 = 20; score = 25 × 110 / 31; coverage {3502, 3501} ∩ {3502} → 1
# C3: its 7 October records; score 100, coverage 1
YEAR = [
    {"company_id": C1, "company_name": NAME1, "period": "2026", "transmitted": True,
     "records": 58, "completeness_rate": 55 / 58, "normativity_rate": 53 / 58,
     "timeliness_rate": 52 / 58, "truthfulness_rate": 49 / 58, "city_coverage_rate": 0.5,
     "score": 25 * 209 / 58},
    {"company_id": C2, "company_name": NAME2, "period": "2026", "transmitted": True,
     "records": 31, "completeness_rate": 1.0, "normativity_rate": 1.0,
     "timeliness_rate": 28 / 31, "truthfulness_rate": 20 / 31, "city_coverage_rate": 1.0,
     "score": 25 * 110 / 31},
    {"company_id": C3, "company_name": NAME3, "period": "2026", "transmitted": True,
     "records": 7, "completeness_rate": 1.0, "normativity_rate": 1.0,
     "timeliness_rate": 1.0, "truthfulness_rate": 1.0, "city_coverage_rate": 1.0,
     "score": 100.0},
]  # fmt: skip

# ---- the overviews -------------------------------------------------------------------------------
# platform companies: C1, C2, C3 each hold a State 0 permit in force at both month ends → 3.
# driver licences (baseInfoDriver versions in force with State 0 at the month's end, all companies):
#   October end: D1 D2 D3 (C1), D4 (C2), E1 (C3) = 5
#   November end: D1 D2 D3 (its Flag 2 version) D5 (C1), D4 S1–S5 (C2), E1 (C3) = 11
# vehicle licences (baseInfoVehicle likewise):
#   October end: V1 V2 (C1), V3 V4 (C2), V5 (C3) = 5
#   November end: V1 V2 V6 (C1), V4 (C2: V3 deleted, 闽DX9999 never added), V5 (C3) = 5
# orders (distinct orderCreate records of the month): October K1 K2 = 2; November K3 (once)
#   K4 K5 K6 K7 K8 (C1), K9 K10 K11 (C2) = 9 (the key-less orderCreate line is not a record)
# MoM: drivers (11 − 5) / 5 = 1.2, vehicles (5 − 5) / 5 = 0, orders (9 − 2) / 2 = 3.5;
#   October has no previous month (nothing before it): null
OVERVIEW_NOVEMBER = {
    "period": "2026-11", "platform_companies": 3, "driver_licences": 11, "vehicle_licences": 5,
    "orders": 9, "driver_licences_mom": 1.2, "vehicle_licences_mom": 0.0, "orders_mom": 3.5,
}  # fmt: skip
OVERVIEW_OCTOBER = {
    "period": "2026-10", "platform_companies": 3, "driver_licences": 5, "vehicle_licences": 5,
    "orders": 2, "driver_licences_mom": None, "vehicle_licences_mom": None, "orders_mom": None,
}  # fmt: skip

# ---- the defects: (company, interface, dimension, record name) ----------------------------------
# (rule names are the implementation's; a record failing two rules of one dimension is one entry)
COMPLETENESS, NORMATIVITY, TIMELINESS, TRUTHFULNESS = (
    "completeness", "normativity", "timeliness", "truthfulness",
)  # fmt: skip
DEFECTS_NOVEMBER = {
    (C1, "baseInfoDriver", TIMELINESS, "N2"),
    (C1, "baseInfoVehicle", NORMATIVITY, "N3"),
    (C1, "baseInfoDriver", NORMATIVITY, "N4"),
    (C1, "operateArrive", TRUTHFULNESS, "K4-arrive"),
    (C1, "operatePay", TRUTHFULNESS, "K4-pay"),
    (C1, "ratedPassenger", COMPLETENESS, "K4-rated"),
    (C1, "ratedPassenger", TIMELINESS, "K4-rated"),
    (C1, "orderCreate", NORMATIVITY, "K5-create"),
    (C1, "orderMatch", TIMELINESS, "K5-match"),
    (C1, "operateArrive", NORMATIVITY, "K5-arrive"),
    (C1, "operatePay", TRUTHFULNESS, "K5-pay"),
    (C1, "orderMatch", TRUTHFULNESS, "K6-match"),
    (C1, "operateDepart", TRUTHFULNESS, "K6-depart"),
    (C1, "operatePay", TRUTHFULNESS, "K6-pay"),
    (C1, "orderMatch", TRUTHFULNESS, "K7-match"),
    (C1, "operateDepart", TRUTHFULNESS, "K7-depart"),
    (C1, "operatePay", COMPLETENESS, "K7-pay"),
    (C1, "operatePay", TRUTHFULNESS, "K7-pay"),
    (C1, "positionDriver", TIMELINESS, "P2"),
    (C1, "positionDriver", NORMATIVITY, "P3"),
    (C1, "positionVehicle", COMPLETENESS, "P4"),
    (C1, "positionVehicle", TIMELINESS, "P8"),
    (C2, "baseInfoDriver", TRUTHFULNESS, "N5"),
    (C2, "baseInfoDriver", TRUTHFULNESS, "N6"),
    (C2, "baseInfoDriver", TRUTHFULNESS, "N7"),
    (C2, "baseInfoDriver", TRUTHFULNESS, "N8"),
    (C2, "baseInfoDriver", TRUTHFULNESS, "N9"),
    (C2, "baseInfoVehicle", TRUTHFULNESS, "N11"),
    (C2, "orderMatch", TRUTHFULNESS, "K10-match"),
    (C2, "operateDepart", TRUTHFULNESS, "K10-depart"),
    (C2, "operatePay", TRUTHFULNESS, "K10-pay"),
    (C2, "orderMatch", TRUTHFULNESS, "K11-match"),
    (C2, "orderCancel", TRUTHFULNESS, "K11-cancel"),
    (C2, "positionVehicle", TIMELINESS, "Q1"),
    (C2, "positionVehicle", TIMELINESS, "Q2"),
}
DEFECTS_OCTOBER = {
    (C1, "ratedPassenger", TIMELINESS, "O14"),
    (C2, "operateLogin", TIMELINESS, "O27"),
}


def test_the_defect_lists_agree_with_the_rates():
    """The expected defect entries per company and dimension are the failures the rates count."""
    for month, expected in ((NOVEMBER, DEFECTS_NOVEMBER), (OCTOBER, DEFECTS_OCTOBER)):
        for row in month:
            if not row["transmitted"]:
                continue
            for dimension in (COMPLETENESS, NORMATIVITY, TIMELINESS, TRUTHFULNESS):
                failed = sum(
                    1 for c, _, d, _ in expected if c == row["company_id"] and d == dimension
                )
                rate = row[f"{dimension}_rate"]
                assert rate == pytest.approx((row["records"] - failed) / row["records"], abs=1e-12)
            assert row["score"] == pytest.approx(score(*(row[r] for r in RATES)), abs=1e-9)


# ---- the fixture itself ---------------------------------------------------------------------------


def test_every_landing_line_is_a_record_of_its_interface(tmp_path):
    """Each line parses as JSON and carries exactly its interface's fields plus received_at
    (outage notices: exactly their five fields), except the two lines meant to be bad; the
    licences verify under the authority's key; the world's clock conversions are right."""
    from transforms.crypto import sm2
    from transforms.ridehailing.interfaces import OUTAGE_FIELDS, interface

    world = W.build()
    lake = tmp_path / "lake"
    world.write(lake)
    root = lake / "landing" / "ridehailing"
    seen_bad = set()
    lines = 0
    for path in sorted(root.rglob("*.jsonl")):
        feed, day = path.parent.parent.name, path.parent.name
        for number, text in enumerate(path.read_text("utf-8").splitlines(), start=1):
            lines += 1
            if (feed, day, number) in world.landing.bad_lines:
                seen_bad.add((feed, day, number))
                continue
            record = json.loads(text)
            if feed == "outageNotice":
                assert tuple(record) == OUTAGE_FIELDS, (path, number)
                continue
            assert set(record) == {*interface(feed).field_names, "received_at"}, (path, number)
            assert list(record)[:-1] == list(interface(feed).field_names), (path, number)
            dt.datetime.strptime(record["received_at"], "%Y-%m-%d %H:%M:%S")
            assert record["received_at"][:10] == day, (path, number)  # filed by its arrival day
    assert seen_bad == world.landing.bad_lines and len(seen_bad) == 2
    (keyless_feed, keyless_day, _, keyless_line) = world.location("X-keyless")
    keyless = json.loads(
        (root / keyless_feed / keyless_day / W.RECORDS_FILE)
        .read_text("utf-8")
        .splitlines()[keyless_line - 1]
    )
    assert "OrderId" not in keyless
    malformed = world.location("X-malformed")
    with pytest.raises(json.JSONDecodeError):
        json.loads(
            (root / malformed[0] / malformed[1] / W.RECORDS_FILE)
            .read_text("utf-8")
            .splitlines()[malformed[3] - 1]
        )
    # 14 + 6 + 7 October records, 44 + 25 November ones, the re-send, 3 outage notices, 2 bad lines
    assert lines == 14 + 6 + 7 + 44 + 25 + 1 + 3 + 2
    assert len(world.landing.where) == 14 + 6 + 7 + 44 + 25 + 1 + 2

    # licences: every line verifies under the one registered key, on a day the key is valid
    public = world.licences.authorities[0]["sm2_public_key"]
    records = [json.loads(x) for day in world.licences.issuance.values() for x in day]
    assert len(records) == 9
    for r in records:
        assert sm2.verify(W.canonical(r).encode("utf-8"), r["signature"], public)
        assert r["signer_key_id"] == W.KEY_ID
    revoked = {(r["holder_key"], r["status"], r["issued_at"]) for r in records if r["version"] == 2}
    assert revoked == {(W.D2, "revoked", "2026-11-10 09:00:00"),
                       ("闽JD10002-5", "suspended", "2026-11-20 09:00:00")}  # fmt: skip

    # unix seconds of a GMT+8 wall time
    beijing = dt.timezone(dt.timedelta(hours=8))
    assert W.unix(W.t(11, 14, 2)) == int(dt.datetime(2026, 11, 14, 2, tzinfo=beijing).timestamp())
    assert W.id_number("11010519491231002") == "11010519491231002X"  # GB 11643's example


# ---- the pipeline ---------------------------------------------------------------------------------


def _lakehouse(*args) -> str:
    """One `lakehouse` command in this process (the lake's own Dagster home, the venv's dbt on
    PATH, as tests/conftest.py runs them); its standard output."""
    from orchestration.cli import main

    with pytest.MonkeyPatch.context() as env:
        env.delenv("DAGSTER_HOME", raising=False)
        env.setenv("PATH", f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}")
        result = CliRunner().invoke(main, [str(a) for a in args], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result.stdout


@pytest.fixture(scope="module")
def scenario(tmp_path_factory):
    world = W.build()
    lake = tmp_path_factory.mktemp("ridehailing") / "lake"
    world.write(lake)
    # the licences its drivers and vehicles are checked against, then ride-hailing: the other
    # domains have nothing landed here (`lakehouse run` without --domain gives the same numbers)
    _lakehouse("run", "--lake", lake, "--domain", "licences", "--domain", "ridehailing")
    return world, lake


def _report(lake: Path, period: str, *args: str):
    out = _lakehouse("report", "ridehailing", "--lake", lake, "--period", period, *args,
                     "--format", "json")  # fmt: skip
    return json.loads(out)


def _compare_companies(got: list[dict], want: list[dict]) -> None:
    assert [r["company_id"] for r in got] == [r["company_id"] for r in want]
    for g, w in zip(got, want, strict=True):
        assert set(g) == COMPANY_KEYS, g["company_id"]
        for key, value in w.items():
            where = f"{w['company_id']} {w['period']} {key}"
            if value is None or isinstance(value, bool | str) or key == "records":
                assert g[key] == value, where
            else:
                assert g[key] == pytest.approx(value, abs=1e-9), where


def test_november_per_company(scenario):
    _, lake = scenario
    _compare_companies(_report(lake, "2026-11"), NOVEMBER)


def test_october_per_company(scenario):
    _, lake = scenario
    _compare_companies(_report(lake, "2026-10"), OCTOBER)


def test_the_year_per_company(scenario):
    _, lake = scenario
    _compare_companies(_report(lake, "2026"), YEAR)


@pytest.mark.parametrize(
    "period, want", [("2026-11", OVERVIEW_NOVEMBER), ("2026-10", OVERVIEW_OCTOBER)]
)
def test_overview(scenario, period, want):
    _, lake = scenario
    got = _report(lake, period, "--overview")
    assert set(got) == OVERVIEW_KEYS
    for key, value in want.items():
        if value is None or isinstance(value, str):
            assert got[key] == value, key
        else:
            assert got[key] == pytest.approx(value, abs=1e-9), key


def _defect_set(world: W.World, expected: set[tuple[str, str, str, str]]) -> set[tuple]:
    out = set()
    for company, name_of_interface, dimension, record in expected:
        feed, day, file, line = world.location(record)
        assert feed == name_of_interface, record  # the list names each record's interface right
        out.add((company, name_of_interface, dimension, (feed, day, file), line))
    return out


@pytest.mark.parametrize(
    "period, expected", [("2026-11", DEFECTS_NOVEMBER), ("2026-10", DEFECTS_OCTOBER)]
)
def test_defects_name_exactly_the_failed_records(scenario, period, expected):
    """Every defective record appears with each dimension it fails, and no other record does
    (rows are per rule: a record failing two rules of a dimension gives two rows, one entry)."""
    world, lake = scenario
    rows = _report(lake, period, "--defects")
    for r in rows:
        assert {"company_id", "interface", "record_key", "dimension", "rule", "source_file",
                "line"} <= set(r)  # fmt: skip
    got = {
        (r["company_id"], r["interface"], r["dimension"], Path(r["source_file"]).parts[-3:],
         int(r["line"]))
        for r in rows
    }  # fmt: skip
    assert got == _defect_set(world, expected)
    assert [r["company_id"] for r in rows] == sorted(r["company_id"] for r in rows)


def test_explain_accounts_for_the_company_s_numbers(scenario):
    """`--explain C1` for November: its records and failed records per dimension add up, interface
    by interface, to the report's records and rates (44 records; 3, 5, 5 and 9 failing)."""
    _, lake = scenario
    out = _lakehouse("report", "ridehailing", "--lake", lake, "--period", "2026-11",
                     "--explain", C1)  # fmt: skip
    answer = json.loads(out)
    want = next(r for r in NOVEMBER if r["company_id"] == C1)
    assert answer["records"] == want["records"] == 44
    rows = answer["interfaces"]
    assert sum(r["records"] for r in rows) == 44
    for dimension, failed in (("completeness", 3), ("normativity", 5), ("timeliness", 5),
                              ("truthfulness", 9)):  # fmt: skip
        assert sum(r[f"{dimension}_failed"] for r in rows) == failed, dimension
        rate = want[f"{dimension}_rate"]
        assert answer[f"{dimension}_rate"] == pytest.approx(rate, abs=1e-9)
    assert answer["top_rules"] and all(r["records"] >= 1 for r in answer["top_rules"])
    # an unknown company is one clear error
    from orchestration.cli import main

    result = CliRunner().invoke(
        main,
        ["report", "ridehailing", "--lake", str(lake), "--period", "2026-11", "--explain", "X"],
    )
    assert result.exit_code == 1 and "was not evaluated for 2026-11" in result.output

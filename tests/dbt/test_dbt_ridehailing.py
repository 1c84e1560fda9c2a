"""The ride-hailing marts (dbt_project/models/marts/ridehailing/) over what the evaluation Spark job
really writes: a tiny landing zone of three platform companies over two months landed, published
and evaluated (transforms.ridehailing.jobs), then `dbt build -s tag:ridehailing` in embedded mode.
The marts carry the evaluation's numbers with the month's ranking (ties share a rank, a company that
transmitted nothing is not ranked), the defect counts per rule, the overview with its changes, and
every row its region; a lake whose ride-hailing folders are empty builds empty marts.

The scenario (GMT+8):
- 快车出行 C1 (350100, permits in 350100 and 350200): a driver and a vehicle; November: orders O1,
  O2, O6 — O2 and O6 without a Departure (completeness), O2 matched 10 minutes late
  (timeliness); December: order O4;
- 顺风约车 C2 (350200): November order O3; December a vehicle whose VIN has 18 characters
  (normativity) and order O5;
- 安心专车 C3 (350100): licensed, static records in November only — nothing in December.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pandas as pd
import pytest
from deltalake import DeltaTable
from test_dbt_assessment import _dbt_build

pytestmark = pytest.mark.slow

MARTS = ("ridehailing__company_months", "ridehailing__defect_counts",
         "ridehailing__overview_months")  # fmt: skip
UNIT_TESTS = ("test_company_months_rank_and_region", "test_defect_counts_by_rule",
              "test_overview_months_platform_companies_mom")  # fmt: skip
NOV, DEC = "2026-11", "2026-12"
LICENSE_ID = "350102199001011234"
COMPANIES = {"C1": ("快车出行", "350100"), "C2": ("顺风约车", "350200"),
             "C3": ("安心专车", "350100")}  # fmt: skip


def _received(f14: str, delay_s: int) -> str:
    at = dt.datetime.strptime(f14, "%Y%m%d%H%M%S") + dt.timedelta(seconds=delay_s)
    return at.strftime("%Y-%m-%d %H:%M:%S")


def _record(company: str, address: str, time: str, delay_s: int = 5, **fields) -> dict:
    """A record with the common fields (UpdateTime = ``time``), received ``delay_s`` later."""
    return {"CompanyId": company, "Address": address, "Flag": "1", "State": "0", "Encrypt": "1",
            "UpdateTime": time, **fields, "received_at": _received(time, delay_s)}  # fmt: skip


def _order(company: str, address: str, order: str, time: str, departure: str = "福州站") -> dict:
    return _record(
        company, address, time, 3, OrderId=order, DepartTime=time, OrderTime=time,
        Departure=departure, DepLongitude="119300000", DepLatitude="26080000",
        Destination="五一广场", DestLongitude="119310000", DestLatitude="26090000", FareType="F1",
    )  # fmt: skip


def _match(order: str, time: str, delay_s: int = 3) -> dict:
    return _record(
        "C1", "350100", time, delay_s, OrderId=order, Longitude="119300000", Latitude="26080000",
        LicenseId=LICENSE_ID, DriverPhone="13812345678", VehicleNo="闽A12345", DistributeTime=time,
    )  # fmt: skip


def _vehicle(company: str, address: str, plate: str, time: str, vin: str) -> dict:
    return _record(
        company, address, time, VehicleNo=plate, PlateColor="5", Seats="5", Brand="比亚迪",
        Model="秦", VehicleType="小型轿车", OwnerName="张三", VIN=vin, Certificate="闽交运001",
        TransArea="福州", TransDateStart="20200101", TransDateStop="20300101", CheckState="1",
        RegisterDate="20200101", CommercialType="1",
    )  # fmt: skip


STATIC_NOV, STATIC_DEC = "20261101080000", "20261202080000"
LANDING = {
    "baseInfoCompany/2026-11-01": [
        _record(c, address, STATIC_NOV, CompanyName=name, Identifier=f"91350100MA00000{i}X1")
        for i, (c, (name, address)) in enumerate(COMPANIES.items())
    ],
    "baseInfoCompanyPermit/2026-11-01": [
        _record("C1", "350100", STATIC_NOV, Certificate="闽网约001"),
        _record("C1", "350200", STATIC_NOV, Certificate="闽网约002"),
        _record("C2", "350200", STATIC_NOV, Certificate="闽网约003"),
        _record("C3", "350100", STATIC_NOV, Certificate="闽网约004"),
    ],
    "baseInfoDriver/2026-11-01": [
        _record(
            "C1",
            "350100",
            STATIC_NOV,
            LicenseId=LICENSE_ID,
            DriverPhone="13812345678",
            Gender="1",
            Birthday="19900101",
            CertificateNo="X1",
            NetworkCarIssueDate="20200101",
            GetNetworkCarProofOn="20200101",
            GetNetworkCarProofOff="20300101",
            ContractCompany="快车出行",
            ContractOn="20200101",
            ContractOff="20300101",
        ),
    ],
    "baseInfoVehicle/2026-11-01": [
        _vehicle("C1", "350100", "闽A12345", STATIC_NOV, vin="LGXC1234567890123")
    ],
    "baseInfoVehicle/2026-12-02": [  # 18 characters: VIN is F17
        _vehicle("C2", "350200", "闽B54321", STATIC_DEC, vin="LGXC12345678901234")
    ],
    "orderCreate/2026-11-02": [
        _order("C1", "350100", "O1", "20261102090000"),
        _order("C1", "350100", "O2", "20261103100000", departure=""),
        _order("C1", "350100", "O6", "20261104100000", departure=" "),
        _order("C2", "350200", "O3", "20261105100000"),
    ],
    "orderMatch/2026-11-02": [
        _match("O1", "20261102090100"),
        _match("O2", "20261103100100", delay_s=600),  # 300 s is the limit
    ],
    "orderCreate/2026-12-01": [
        _order("C1", "350100", "O4", "20261201090000"),
        _order("C2", "350200", "O5", "20261203090000"),
    ],
}


def _landing(lake: Path) -> None:
    for rel, rows in LANDING.items():
        folder = lake / "landing" / "ridehailing" / rel
        folder.mkdir(parents=True, exist_ok=True)
        text = "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows)
        (folder / "part-0.jsonl").write_text(text, encoding="utf-8")


def _evaluate(spark, lake: Path) -> None:
    """Land, publish and evaluate as the pipeline does (an empty landing zone included)."""
    from transforms.lake.landing import land_feed
    from transforms.lake.protection import ProtectionKeys
    from transforms.ridehailing.feeds import FEEDS
    from transforms.ridehailing.jobs.evaluate import evaluate
    from transforms.ridehailing.jobs.publish import publish_records
    from transforms.rules import load_rules

    for feed in FEEDS:
        land_feed(lake, feed)
    rules = load_rules(domain="ridehailing")
    publish_records(spark, lake, rules)
    evaluate(spark, lake, rules, load_rules(domain="licences"), ProtectionKeys.load().join)


def _table(lake: Path, layer: str, table: str) -> pd.DataFrame:
    return DeltaTable(str(lake / layer / table)).to_pandas()


@pytest.fixture(scope="module")
def built(spark, tmp_path_factory: pytest.TempPathFactory) -> dict:
    tmp = tmp_path_factory.mktemp("dbt_ridehailing")
    lake, empty = tmp / "lake", tmp / "empty"
    _landing(lake)
    empty.mkdir()
    for path in (lake, empty):
        _evaluate(spark, path)
    nodes = {}
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("RUST_LOG", "error")
        mp.delenv("LAKEHOUSE_DBT_TARGET", raising=False)
        for name, path in (("lake", lake), ("empty", empty)):
            mp.setenv("LAKEHOUSE_LAKE_ABS", str(path))
            nodes[name] = _dbt_build(tmp / name, select="tag:ridehailing")
    return {"lake": lake, "empty": empty, "nodes": nodes}


def test_models_data_tests_and_unit_tests_pass(built: dict) -> None:
    for nodes in built["nodes"].values():
        assert all(status in ("success", "pass") for _, _, status, _ in nodes), nodes
        names = {name for _, name, _, _ in nodes}
        assert {f"fct_{m}" for m in MARTS} | set(UNIT_TESTS) <= names
        tested = {model for kind, _, _, model in nodes if kind == "unit_test"}
        assert tested == {f"fct_{m}" for m in MARTS}
        data_tests = [name for kind, name, _, _ in nodes if kind == "test"]
        assert all(any(f"fct_{m}" in t for t in data_tests) for m in MARTS)


def test_company_months_rank_within_the_month(built: dict) -> None:
    lake = built["lake"]
    months = _table(lake, "gold", "ridehailing__company_months").set_index(["period", "company_id"])
    periods = _table(lake, "gold", "ridehailing__company_periods")
    evaluated = periods[periods["grain"] == "month"].set_index(["period", "company_id"])
    assert sorted(months.index) == sorted(evaluated.index)  # the year rows are not months
    for column in ("company_name", "transmitted", "records", "completeness_rate",
                   "normativity_rate", "timeliness_rate", "truthfulness_rate",
                   "city_coverage_rate", "score", "region_code"):  # fmt: skip
        pd.testing.assert_series_equal(
            months[column].sort_index(), evaluated[column].sort_index(), check_dtype=False
        )
    # November: C2 and C3 made no mistake (100, sharing rank 1), C1's defects cost it 7.5 points
    rank = months["score_rank"]
    assert months.loc[NOV, "score"].to_dict() == {"C1": 92.5, "C2": 100.0, "C3": 100.0}
    assert rank.loc[NOV].to_dict() == {"C1": 3, "C2": 1, "C3": 1}
    # December: C3 transmitted nothing — listed with score 0, not ranked
    assert months.loc[DEC, "score"].to_dict() == {"C1": 100.0, "C2": 87.5, "C3": 0.0}
    assert rank.loc[(DEC, "C1")] == 1 and rank.loc[(DEC, "C2")] == 2
    assert pd.isna(rank.loc[(DEC, "C3")]) and not months.loc[(DEC, "C3"), "transmitted"]
    assert months.loc[(NOV, "C1"), "city_coverage_rate"] == 0.5  # dynamic data in one of 2 cities
    assert months["region_code"].to_dict() == {
        (p, c): COMPANIES[c][1] for p in (NOV, DEC) for c in COMPANIES
    }
    assert months.loc[NOV, "complete_on"].unique().tolist() == [dt.date(2026, 12, 1)]
    assert months.loc[DEC, "complete_on"].unique().tolist() == [dt.date(2027, 1, 1)]


def test_defect_counts_add_up_the_defects(built: dict) -> None:
    lake = built["lake"]
    counts = _table(lake, "gold", "ridehailing__defect_counts")
    keys = ["period", "company_id", "interface", "dimension", "rule"]
    got = {tuple(r[k] for k in keys): r["records"] for _, r in counts.iterrows()}
    assert got == {
        (NOV, "C1", "orderCreate", "completeness", "missing:Departure"): 2,  # O2 and O6
        (NOV, "C1", "orderMatch", "timeliness", "late:300s"): 1,
        (DEC, "C2", "baseInfoVehicle", "normativity", "length:VIN"): 1,
    }
    defects = _table(lake, "silver", "ridehailing__defects")
    assert counts["records"].sum() == len(defects)
    assert dict(zip(counts["rule"], counts["rule_kind"], strict=True)) == {
        "missing:Departure": "missing", "late:300s": "late", "length:VIN": "length",
    }  # fmt: skip
    by_company = counts.set_index("company_id")[["company_name", "region_code"]]
    assert by_company.drop_duplicates().to_dict("index") == {
        "C1": {"company_name": "快车出行", "region_code": "350100"},
        "C2": {"company_name": "顺风约车", "region_code": "350200"},
    }


def test_overview_months_with_changes(built: dict) -> None:
    lake = built["lake"]
    overview = _table(lake, "gold", "ridehailing__overview_months").set_index("period")
    source = _table(lake, "gold", "ridehailing__overview").set_index("period")
    columns = ["platform_companies", "driver_licences", "vehicle_licences", "orders",
               "driver_licences_mom", "vehicle_licences_mom", "orders_mom"]  # fmt: skip
    pd.testing.assert_frame_equal(overview[columns].sort_index(), source[columns].sort_index())
    # three companies licensed both months; C2's vehicle in December; 4 orders, then 2
    counts = ["platform_companies", "vehicle_licences", "orders"]
    assert overview.loc[NOV, counts].tolist() == [3, 1, 4]
    assert overview.loc[DEC, counts].tolist() == [3, 2, 2]
    changes = [f"{c}_mom" for c in counts]
    assert overview.loc[DEC, changes].tolist() == [0.0, 1.0, -0.5]
    assert overview.loc[NOV, ["platform_companies_mom", "orders_mom"]].isna().all()
    assert set(overview["region_code"]) == {"350000"}  # a province-wide total


def test_a_lake_without_ridehailing_builds_empty_marts(built: dict) -> None:
    for table in MARTS:
        assert _table(built["empty"], "gold", table).empty, table

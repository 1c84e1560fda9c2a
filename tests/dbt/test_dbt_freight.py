"""The freight marts (dbt_project/models/marts/freight/) over what the 运行监测 Spark job really
writes: a tiny landing zone (two registered operators with a waybill each, S1's uploaded a day
late, and an envelope of a sender nobody registered) landed, opened, published and monitored,
then `dbt build -s tag:freight` in embedded mode. The typed sources match the job's tables (types
and nullability: Sail checks both when it registers them), the marts carry the job's numbers, and
a lake without any freight table builds too (the sources are created empty)."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pandas as pd
import pytest
from deltalake import DeltaTable
from test_dbt_assessment import _dbt_build

pytestmark = pytest.mark.slow

AS_OF = dt.datetime(2026, 12, 15, 12, 0)
SENT = dt.datetime(2026, 11, 3, 9, 30)
COUNTIES = [
    {"code": "350902", "name": "蕉城区", "level": "county", "parent_code": None, "lon": 119.526, "lat": 26.660},
    {"code": "350102", "name": "鼓楼区", "level": "county", "parent_code": None, "lon": 119.296, "lat": 26.075},
]  # fmt: skip
MARTS = ("freight__operator_months", "freight__operator_days", "freight__anomalies",
         "freight__alarm_days")  # fmt: skip


def _waybill(number: str, uscc: str, weight_kg: float, amount: float, receipt: str) -> dict:
    return {
        "originalDocumentNumber": f"O{number}", "shippingNoteNumber": number,
        "serialNumber": "0000", "vehicleAmount": 1, "unifiedSocialCreditIdentifier": uscc,
        "permitNumber": "闽交运管许可宁字350900000001号",
        "despatchActualDateTime": "20261101080000", "goodsReceiptDateTime": receipt,
        "totalMonetaryAmount": amount,
        "consignorInfo": {"consignor": "福建某某贸易有限公司", "countrySubdivisionCode": "350902"},
        "consigneeInfo": {"consignee": "王小明", "countrySubdivisionCode": "350102"},
        "actualCarrierName": "李四", "actualCarrierID": "350902199001011234",
        "vehicleInfo": [{
            "vehicleNumber": "闽J12345", "vehiclePlateColorCode": "2",
            "loadingCountrySubdivisionCode": "350902", "receiptCountrySubdivisionCode": "350102",
            "driver": [{"driverName": "李四", "drivingLicense": "350902199001011234"}],
            "goodsInfo": [{"descriptionOfGoods": "茶叶", "goodsItemGrossWeight": weight_kg}],
        }],
    }  # fmt: skip


def _landing(lake: Path) -> None:
    from transforms.crypto import keys as key_files
    from transforms.crypto import sm2
    from transforms.freight.envelope import pack_envelope

    platform = key_files.platform_public_key()
    s1, s2, stranger = sm2.generate_keypair(), sm2.generate_keypair(), sm2.generate_keypair()
    senders = [
        {"enterpriseSenderCode": "S1", "name": "平台一", "sm2_public_key": s1[1], "valid_from": "2026-01-01", "valid_to": None},
        {"enterpriseSenderCode": "S2", "name": "平台二", "sm2_public_key": s2[1], "valid_from": "2026-01-01", "valid_to": None},
    ]  # fmt: skip

    def pack(doc, sender, key, reference):
        return pack_envelope(doc, ipc_type="WLHY_YD1001", enterprise_sender_code=sender,
                             sender_private_key=key[0], platform_public_key=platform,
                             sent_at=SENT, reference=reference)  # fmt: skip

    envelopes = [
        # received 2026-11-03: S1's goods arrived on the 1st, more than 24 h before (access)
        pack(_waybill("W1", "91350900MA2Y0XXX1A", 8000, 1200.5, "20261101180000"), "S1", s1, "R1"),
        pack(_waybill("W2", "91350900MA2Y0XXX2B", 5000, 800.0, "20261102200000"), "S2", s2, "R2"),
        pack(_waybill("W3", "91350900MA2Y0XXX3C", 1000, 100.0, "20261101180000"), "S9", stranger, "R3"),
    ]  # fmt: skip
    files = {
        "freight/senders/2026-11-03/senders.jsonl": senders,
        "freight/envelopes/2026-11-03/a.jsonl": envelopes,
        "reference/divisions/2026-11-03/d.jsonl": COUNTIES,
    }
    for rel, rows in files.items():
        path = lake / "landing" / rel
        path.parent.mkdir(parents=True)
        path.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in rows) + "\n")


def _gold(lake: Path, table: str) -> pd.DataFrame:
    return DeltaTable(str(lake / "gold" / table)).to_pandas()


@pytest.fixture(scope="module")
def built(spark, tmp_path_factory: pytest.TempPathFactory) -> dict:
    from transforms.freight.feeds import FEEDS
    from transforms.freight.jobs import publish
    from transforms.freight.jobs.monitor import refresh
    from transforms.lake.landing import land_feed
    from transforms.reference.feeds import DIVISIONS
    from transforms.reference.publish import publish_divisions
    from transforms.rules import load_rules

    tmp = tmp_path_factory.mktemp("dbt_freight")
    lake, empty = tmp / "lake", tmp / "empty"
    _landing(lake)
    empty.mkdir()
    for feed in (*FEEDS, DIVISIONS):
        land_feed(lake, feed)
    publish_divisions(lake)
    publish.publish_senders(lake)
    publish.publish_envelopes(spark, lake, load_rules(domain="freight"))
    publish.publish_positions(spark, lake)
    refresh(spark, lake, load_rules(domain="freight"), load_rules(domain="licences"), AS_OF)
    nodes = {}
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("RUST_LOG", "error")
        mp.delenv("LAKEHOUSE_DBT_TARGET", raising=False)
        for name, path in (("lake", lake), ("empty", empty)):
            mp.setenv("LAKEHOUSE_LAKE_ABS", str(path))
            nodes[name] = _dbt_build(tmp / name, select="tag:freight")
    return {"lake": lake, "empty": empty, "nodes": nodes}


def test_models_data_tests_and_unit_tests_pass(built: dict) -> None:
    for nodes in built["nodes"].values():
        assert all(status in ("success", "pass") for _, _, status, _ in nodes), nodes
        names = {name for _, name, _, _ in nodes}
        assert {f"fct_{m}" for m in MARTS} <= names
        assert {"test_operator_months_total_and_bounds", "test_anomalies_names_periods_and_counted",
                "assert_operator_days_add_up_to_months"} <= names  # fmt: skip


def test_marts_carry_the_monitoring_numbers(built: dict) -> None:
    lake = built["lake"]
    stats = _gold(lake, "freight__operator_stats")
    months = _gold(lake, "freight__operator_months").set_index("operator_id")
    expected = stats[stats["grain"] == "month"].set_index("operator_id")
    assert set(months.index) == {"S1", "S2"} and set(months["period"]) == {"2026-11"}
    for column in ("waybills", "tonnes", "charges_yuan", "score", "anomalies_access"):
        assert months[column].to_dict() == expected[column].to_dict(), column
    assert months["score_rank"].to_dict() == expected["rank"].to_dict()
    assert (months["tonnes"].to_dict(), months["anomalies_access"].to_dict()) == (
        {"S1": 8.0, "S2": 5.0}, {"S1": 1, "S2": 0}
    )  # fmt: skip
    assert set(months["complete_on"]) == {dt.date(2026, 12, 1)}
    assert (
        months.loc["S1", "anomalies"]
        == months.loc[
            "S1",
            [
                "anomalies_" + t
                for t in (
                    "access",
                    "qualification",
                    "vehicle_network",
                    "trajectory",
                    "match",
                    "duplicate",
                )
            ],
        ].sum()
    )

    days = _gold(lake, "freight__operator_days")
    assert {(r.day, r.operator_id): r.waybills for r in days.itertuples() if r.waybills} == {
        (dt.date(2026, 11, 1), "S1"): 1, (dt.date(2026, 11, 1), "S2"): 1,
    }  # fmt: skip
    assert set(days["period"]) == {"2026-11"}

    anomalies = _gold(lake, "freight__anomalies").set_index("anomaly_id")
    assert len(anomalies) == len(
        DeltaTable(str(lake / "silver" / "freight__anomalies")).to_pandas()
    )
    # S9 is no registered sender: its rejected envelope is an anomaly without an operator name
    assert anomalies.loc["access:R3", "operator_name"] is None
    assert anomalies.loc["access:R3", "period"] == "2026-11"
    assert anomalies.loc["access:W1/0000", ["operator_name", "rule"]].tolist() == [
        "平台一", "late_upload"
    ]  # fmt: skip
    assert anomalies["is_counted"].all()

    alarms = _gold(lake, "freight__alarm_days")
    raw = _gold(lake, "freight__alarms")
    assert len(alarms) == len(raw) > 0
    assert set(alarms["status"]) == {"open"} and alarms["closed_at"].isna().all()


def test_a_lake_without_freight_builds_empty_marts(built: dict) -> None:
    for table in MARTS:
        assert _gold(built["empty"], table).empty, table

"""The 车辆/企业画像 gold tables on test_profile.py's hand-built lake: every subject the lake knows,
its region, and rows equal to what `lakehouse profile` prints for it — read once through the
job's in-memory index, compared with profiles read straight from the Delta tables."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from click.testing import CliRunner
from deltalake import DeltaTable
from test_profile import COLOR, OTHER, PLATE, USCC, lake  # noqa: F401 - the module's fixture

from orchestration.cli import main
from transforms.lake import registry
from transforms.profile import enterprise_profile, vehicle_profile
from transforms.profile_gold import (
    SCHEMAS,
    TABLES,
    build_profile_tables,
    enterprise_subjects,
    profile_rows,
    region_columns,
    vehicle_subjects,
)

ON = dt.date(2026, 12, 6)


def _read(root, name: str) -> list[dict]:
    return DeltaTable(str(registry.table(name).location(root))).to_pyarrow_table().to_pylist()


@pytest.fixture(scope="module")
def built(lake):  # noqa: F811 - test_profile's fixture
    counts = build_profile_tables(lake, on=ON)
    return counts, {name: _read(lake, name) for name in TABLES}


def test_every_subject_of_the_lake(lake) -> None:  # noqa: F811
    # the register's two colours of the plate, a waybill's other vehicle; the enterprises of the
    # register, the freight sender and the ride-hailing companies
    assert vehicle_subjects(lake) == [(PLATE, 1), (PLATE, 2), ("闽J99999", 2)]
    assert enterprise_subjects(lake) == sorted([USCC, OTHER])


def test_the_rows_are_the_profiles(lake, built) -> None:  # noqa: F811
    """Row for row what profile_rows makes of the command's own profiles (read without the
    job's in-memory index), and nothing else."""
    counts, tables = built
    expected = {name: [] for name in TABLES}
    profiles = [vehicle_profile(lake, p, c, ON) for p, c in vehicle_subjects(lake)]
    profiles += [enterprise_profile(lake, u, ON) for u in enterprise_subjects(lake)]
    for profile in profiles:
        for name, rows in profile_rows(profile).items():
            expected[name] += rows

    def canonical(rows, schema):
        out = []
        for r in rows:
            row = {c: r.get(c) for c in schema.names}
            for c, v in row.items():  # Delta gives timestamps back tagged UTC, as written
                if isinstance(v, dt.datetime):
                    row[c] = v.replace(tzinfo=None)
            out.append(json.dumps(row, sort_keys=True, default=str, ensure_ascii=False))
        return sorted(out)

    for name, schema in SCHEMAS.items():
        assert canonical(tables[name], schema) == canonical(expected[name], schema), name
        assert counts[name] == len(tables[name])
    # 3 vehicles and 2 enterprises, six parts each
    assert counts["gold.profile__parts"] == 5 * 6


def test_the_vehicles_numbers_and_region(built) -> None:
    _, tables = built
    key = f"{PLATE}|{COLOR}"
    parts = {r["part"]: r for r in tables["gold.profile__parts"] if r["subject_key"] == key}
    assert list(parts) == ["master", "licences", "telematics", "freight", "ridehailing",
                           "rectification"]  # fmt: skip
    t = parts["telematics"]
    assert (t["days_online"], t["km"], t["points"], t["violations"]) == (3, 361.5, 300, 3)
    assert (t["covers_from"], t["covers_to"]) == (dt.date(2026, 11, 3), dt.date(2026, 11, 13))
    assert t["summary"] == "上线 3 天，里程 361.5 公里，违法违规 3 起"
    assert (parts["licences"]["licences"], parts["licences"]["valid_licences"]) == (1, 0)
    assert parts["licences"]["as_of"] == ON
    assert (parts["freight"]["waybills"], parts["freight"]["anomalies"]) == (1, 1)
    assert parts["ridehailing"]["orders"] == 3
    assert parts["rectification"]["open_items"] == 2  # its own item and its enterprise's
    assert parts["master"]["master_records"] == 2 + 1 + 1  # telematics, ride-hailing, freight
    # the current version's county, and the labels the dashboard's filters offer
    assert {(r["vehicle"], r["enterprise"], r["region_code"], r["city_code"], r["province_code"])
            for r in parts.values()} == {("闽J12345（黄）", None, "350902", "350900", "350000")}  # fmt: skip
    counts = {(r["breakdown"], r["item"]): r["quantity"] for r in tables["gold.profile__counts"]
              if r["subject_key"] == key}  # fmt: skip
    assert counts == {
        ("violations_by_kind", "fatigue"): 1, ("violations_by_kind", "overspeed"): 2,
        ("anomalies_by_type", "qualification"): 1, ("orders_by_status", "cancelled"): 1,
        ("orders_by_status", "paid"): 2, ("orders_by_company", "WYC1"): 3,
    }  # fmt: skip
    items = [r["item_id"] for r in tables["gold.profile__rectification"] if r["subject_key"] == key]
    assert items == ["r1", "r2"]
    (waybill,) = [r for r in tables["gold.profile__waybills"] if r["subject_key"] == key]
    assert waybill["despatch_time"].replace(tzinfo=None) == dt.datetime(2026, 11, 5, 9)
    scores = [(r["source"], r["scored_id"], r["score"]) for r in tables["gold.profile__scores"]
              if r["subject_key"] == key]  # fmt: skip
    assert scores == [("telematics", USCC, 76.5), ("ridehailing", "WYC1", 92.5)]


def test_the_enterprises_rows(built) -> None:
    _, tables = built
    parts = {r["part"]: r for r in tables["gold.profile__parts"] if r["subject_key"] == USCC}
    assert parts["telematics"]["vehicles"] == 1 and parts["telematics"]["violations"] == 2
    assert parts["freight"]["summary"] == "运单 2 单，异常 2 条，经营者 3509020001"
    assert {r["enterprise"] for r in parts.values()} == {
        "蕉城顺达物流有限公司（91350902MA2Y0ABC1X）"
    }
    assert {r["region_code"] for r in parts.values()} == {"350902"}
    other = {r["region_code"] for r in tables["gold.profile__parts"] if r["subject_key"] == OTHER}
    assert other == {"350981"}
    freight = [r for r in tables["gold.profile__scores"]
               if r["subject_key"] == USCC and r["source"] == "freight"]  # fmt: skip
    assert [(r["period"], r["score"], r["score_rank"]) for r in freight] == [("2026-11", 88.0, 1)]
    assert freight[0]["detail"].startswith("运单 2 单，16.0 吨，运费 2,401.0 元，资质异常率 50.00%")


def test_regions_and_an_empty_lake(tmp_path) -> None:
    assert region_columns("350902") == {"region_code": "350902", "county_code": "350902",
                                        "city_code": "350900", "province_code": "350000"}  # fmt: skip
    assert region_columns("350900")["county_code"] is None
    assert region_columns(None)["province_code"] is None
    # a lake without any domain's tables: every gold table exists, with its columns, empty
    counts = build_profile_tables(tmp_path, on=ON)
    assert set(counts.values()) == {0}
    for name, schema in SCHEMAS.items():
        data = DeltaTable(str(registry.table(name).location(tmp_path))).to_pyarrow_table()
        assert data.num_rows == 0 and data.schema.names == schema.names, name


def test_the_dashboard_and_the_command_agree_on_the_json(lake, built) -> None:  # noqa: F811
    """The command's JSON for the vehicle and the gold rows of its tiles: the same numbers."""
    _, tables = built
    run = CliRunner().invoke(main, ["profile", "--lake", str(lake), "--plate", PLATE, "--color",
                                    str(COLOR), "--on", ON.isoformat()])  # fmt: skip
    assert run.exit_code == 0, run.output
    body = json.loads(run.output)
    parts = {r["part"]: r for r in tables["gold.profile__parts"]
             if r["subject_key"] == f"{PLATE}|{COLOR}"}  # fmt: skip
    assert parts["telematics"]["violations"] == body["telematics"]["violations"]["total"]
    assert parts["telematics"]["km"] == body["telematics"]["km"]
    assert parts["licences"]["valid_licences"] == body["licences"]["valid"]
    assert parts["freight"]["waybills"] == body["freight"]["waybills"]
    assert parts["ridehailing"]["orders"] == body["ridehailing"]["orders"]["total"]
    assert parts["rectification"]["open_items"] == len(body["rectification"]["open"])

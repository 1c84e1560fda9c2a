"""Fixtures for the infra tests: a tiny gold lake with known values."""

from __future__ import annotations

import datetime as dt
import os
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pytest
from deltalake import DeltaTable, write_deltalake

DAY_1, DAY_2 = dt.date(2026, 11, 1), dt.date(2026, 11, 2)

COUNTY_DAYS_SCHEMA = pa.schema(
    [
        ("day", pa.date32()),
        ("county_code", pa.string()),
        ("county_name", pa.string()),
        ("vehicles", pa.int64()),
        ("online_vehicles", pa.int64()),
        ("points", pa.int64()),
        ("qualified_points", pa.int64()),
        ("qualified_rate", pa.float64()),
        ("km", pa.float64()),
    ]
)

VEHICLE_DAYS_SCHEMA = pa.schema(
    [
        ("day", pa.date32()),
        ("plate", pa.string()),
        ("plate_color", pa.int32()),
        ("county_code", pa.string()),
        ("enterprise_id", pa.string()),
        ("platform_id", pa.string()),
        ("points", pa.int64()),
        ("qualified_points", pa.int64()),
        ("km", pa.float64()),
        ("first_point_at", pa.timestamp("us")),
        ("last_point_at", pa.timestamp("us")),
    ]
)


def county_days_frame() -> pd.DataFrame:
    """3 counties x 2 days; latest-day online total 37, qualified rates 96.6% / 77.8% / 97.0%."""
    rows = [
        # day, code, name, vehicles, online, points, qualified, km
        (DAY_1, "110101", "东城区", 10, 8, 1000, 950, 1234.5),
        (DAY_1, "110102", "西城区", 6, 5, 400, 300, 456.7),
        (DAY_1, "110105", "朝阳区", 20, 17, 2000, 1960, 3210.9),
        (DAY_2, "110101", "东城区", 10, 9, 1100, 1078, 1300.2),
        (DAY_2, "110102", "西城区", 6, 4, 500, 400, 380.0),
        (DAY_2, "110105", "朝阳区", 25, 24, 2100, 2016, 3333.3),
    ]
    df = pd.DataFrame(
        rows,
        columns=["day", "county_code", "county_name", "vehicles", "online_vehicles", "points",
                 "qualified_points", "km"],
    )  # fmt: skip
    df["qualified_rate"] = df["qualified_points"] / df["points"]
    return df[COUNTY_DAYS_SCHEMA.names]


def vehicle_days_frame() -> pd.DataFrame:
    at = dt.datetime.combine
    rows = [
        (DAY_1, "京A12345", 2, "110101", "E001", "P01", 120, 118, 85.2,
         at(DAY_1, dt.time(6, 0)), at(DAY_1, dt.time(21, 30))),
        (DAY_2, "京A12345", 2, "110101", "E001", "P01", 130, 130, 90.4,
         at(DAY_2, dt.time(6, 5)), at(DAY_2, dt.time(22, 0))),
        (DAY_2, "京B67890", 1, "110105", "E002", "P02", 80, 60, 40.0,
         at(DAY_2, dt.time(7, 0)), at(DAY_2, dt.time(19, 45))),
    ]  # fmt: skip
    return pd.DataFrame(rows, columns=VEHICLE_DAYS_SCHEMA.names)


@dataclass(frozen=True)
class GoldLake:
    path: Path
    county_days: pd.DataFrame


@pytest.fixture(scope="session")
def gold_lake(tmp_path_factory: pytest.TempPathFactory) -> GoldLake:
    """A lake holding gold.telematics__county_days and gold.telematics__vehicle_days.

    By default written from the small frames above; set LAKEHOUSE_TEST_GOLD_LAKE to a lake
    that already has both gold tables to test against it instead (expectations follow its data).
    """
    existing = os.environ.get("LAKEHOUSE_TEST_GOLD_LAKE")
    if existing:
        lake = Path(existing).resolve()
        frame = DeltaTable(str(lake / "gold" / "telematics__county_days")).to_pandas()
        return GoldLake(lake, frame)
    lake = tmp_path_factory.mktemp("lake")
    county = county_days_frame()
    tables = {
        "telematics__county_days": (county, COUNTY_DAYS_SCHEMA),
        "telematics__vehicle_days": (vehicle_days_frame(), VEHICLE_DAYS_SCHEMA),
    }
    for name, (frame, schema) in tables.items():
        data = pa.Table.from_pandas(frame, schema=schema, preserve_index=False)
        write_deltalake(str(lake / "gold" / name), data, mode="overwrite")
    return GoldLake(lake, county)

"""End-to-end test of dbt_project/: a tiny lake, `dbt build` in embedded mode, exact gold values.

The four source tables are written as Delta through an in-process Sail server (schemas of
docs/tables.md), then dbt (embedded Sail, fresh catalog, the rules file as --vars) registers them
at run start, builds the staging views and the gold Delta tables, and runs the data tests and unit
tests. The expected numbers are computed here independently with `math`.
"""

from __future__ import annotations

import contextlib
import math
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest
from deltalake import DeltaTable

from transforms.rules import dbt_vars, load_rules

pytestmark = pytest.mark.slow

PROJECT_DIR = Path(__file__).resolve().parents[2] / "dbt_project"
EARTH_RADIUS_KM = 6371.0088

# --- source tables: column -> Spark SQL type (docs/tables.md) -------------------------------
LINEAGE = {
    "_source_file": "string",
    "_line": "bigint",
    "_file_sm3": "string",
    "_landed_at": "timestamp",
}
POSITIONS = {
    "platform_id": "string",
    "plate": "string",
    "plate_color": "int",
    "gnss_time": "timestamp",
    "lon": "double",
    "lat": "double",
    "speed": "double",
    "recorder_speed": "double",
    "mileage_km": "double",
    "direction": "int",
    "altitude": "int",
    "state": "bigint",
    "alarm": "bigint",
    "received_at": "timestamp",
    "is_late": "boolean",
    "day": "date",
    **LINEAGE,
}
QUARANTINE = {
    "platform_id": "string",
    "plate": "string",
    "plate_color": "int",
    "gnss_time": "timestamp",
    "day": "date",
    "received_at": "timestamp",
    "failed_rules": "array<string>",
    "raw_record": "string",
    **LINEAGE,
    "_quarantined_at": "timestamp",
}
VEHICLES = {
    "plate": "string",
    "plate_color": "int",
    "vehicle_type": "string",
    "enterprise_id": "string",
    "county_code": "string",
    "platform_id": "string",
    "operating_status": "string",
    "speed_limit_kmh": "double",
    "route_id": "string",
    "region_id": "string",
    "route_exempt": "boolean",
    "registered_at": "date",
    "valid_from": "date",
    "valid_to": "date",
    "is_current": "boolean",
    "_source_file": "string",
    "_landed_at": "timestamp",
}
COUNTIES = {
    "county_code": "string",
    "name": "string",
    "city_code": "string",
    "province_code": "string",
    "valid_from": "date",
    "valid_to": "date",
    "is_current": "boolean",
    "_source_file": "string",
    "_landed_at": "timestamp",
}

A = ("闽J12345", 2)  # known, drives across midnight
B = ("闽J00001", 1)  # known, quarantined records only, registered on day 2
C = ("闽J55555", 2)  # known, no records at all (county 350921)
D1, D2 = "2024-05-01", "2024-05-02"

# qualified track of A: (gnss_time, lat, lon)
TRACK_A = [
    (f"{D1} 08:00:00", 26.660, 119.520),
    (f"{D1} 08:10:00", 26.670, 119.530),
    (f"{D1} 08:20:00", 26.690, 119.550),
    (f"{D1} 23:59:00", 26.700, 119.560),
    (f"{D2} 00:01:00", 26.750, 119.600),  # the 23:59 -> 00:01 segment belongs to no day
    (f"{D2} 00:30:00", 26.760, 119.620),
]


def _position(plate: str, color: int, t: str, lat: float, lon: float) -> dict:
    return {
        "platform_id": "P1",
        "plate": plate,
        "plate_color": str(color),
        "gnss_time": t,
        "lon": str(lon),
        "lat": str(lat),
        "speed": "40",
        "recorder_speed": "40",
        "mileage_km": "1000",
        "direction": "90",
        "altitude": "10",
        "state": "3",
        "alarm": "0",
        "received_at": t,
        "is_late": "false",
        "day": t[:10],
        "_source_file": "f.csv",
        "_line": "2",
        "_file_sm3": "00",
        "_landed_at": t,
    }


def _quarantined(plate: str | None, color: int | None, t: str | None, rules: str) -> dict:
    return {
        "platform_id": "P1",
        "plate": plate,
        "plate_color": None if color is None else str(color),
        "gnss_time": t,
        "day": None if t is None else t[:10],
        "received_at": t,
        "failed_rules": rules,
        "raw_record": "{}",
        "_source_file": "f.csv",
        "_line": "3",
        "_file_sm3": "00",
        "_landed_at": "2024-05-03 00:00:00",
        "_quarantined_at": "2024-05-03 00:00:00",
    }


def _vehicle(plate: str, color: int, county: str, registered: str, current: bool = True) -> dict:
    return {
        "plate": plate,
        "plate_color": str(color),
        "vehicle_type": "heavy_truck",
        "enterprise_id": "E1",
        "county_code": county,
        "platform_id": "P1",
        "operating_status": "operating",
        "speed_limit_kmh": "80",
        "route_id": None,
        "region_id": None,
        "route_exempt": "false",
        "registered_at": registered,
        "valid_from": registered if current else "2023-12-01",  # the old version came first
        "valid_to": None if current else "2024-04-30",
        "is_current": str(current).lower(),
        "_source_file": "v.csv",
        "_landed_at": registered,
    }


SOURCE_ROWS = {
    "silver/telematics__positions": (
        POSITIONS,
        [
            *(_position(*A, t, lat, lon) for t, lat, lon in TRACK_A),
            _position("闽J99999", 2, f"{D1} 09:00:00", 26.6, 119.5),  # unknown plate
            _position("闽J12345", 1, f"{D1} 09:00:00", 26.6, 119.5),  # known plate, unknown colour
        ],
    ),
    "quarantine/telematics__positions": (
        QUARANTINE,
        [
            _quarantined(*A, f"{D1} 08:10:00", "speed_in_range"),  # also qualified: counts once
            _quarantined(*A, f"{D1} 12:00:00", "lat_in_range"),
            _quarantined(*B, f"{D2} 09:00:00", "lon_in_range"),
            _quarantined(*B, f"{D2} 09:00:00", "lon_in_range|speed_in_range"),  # same record twice
            _quarantined(None, None, None, "malformed_record"),
        ],
    ),
    "silver/telematics__vehicles": (
        VEHICLES,
        [
            _vehicle(*A, "350921", "2024-01-01", current=False),  # old version, elsewhere
            _vehicle(*A, "350902", "2024-01-01"),
            _vehicle(*B, "350902", D2),
            _vehicle(*C, "350921", "2024-03-01"),
        ],
    ),
    "silver/telematics__counties": (
        COUNTIES,
        [
            {
                "county_code": code,
                "name": name,
                "city_code": "3509",
                "province_code": "35",
                "valid_from": since,
                "valid_to": until,
                "is_current": until is None,
                "_source_file": "c.csv",
                "_landed_at": "2024-01-01 00:00:00",
            }
            for code, name, since, until in [
                ("350902", "蕉城区", "2024-01-01", None),
                ("350921", "霞浦县", "2024-01-01", None),
                # renamed: the old name is history
                ("350981", "福安县", "2024-01-01", "2024-02-01"),
                ("350981", "福安市", "2024-02-01", None),
            ]
        ],
    ),
}


def _cast(column: str, sql_type: str) -> str:
    if sql_type == "array<string>":
        return f"split({column}, '[|]') as {column}"
    return f"cast({column} as {sql_type}) as {column}"


def _write_lake(lake: Path) -> None:
    """Write the four source tables as Delta through a throw-away in-process Sail server; the
    assessment's sources are written empty (dbt registers every source it declares)."""
    from pysail.spark import SparkConnectServer
    from pyspark.sql import SparkSession
    from pyspark.sql import types as T
    from test_dbt_assessment import SOURCE_ROWS as ASSESSMENT_SOURCES

    server = SparkConnectServer(ip="127.0.0.1", port=0)
    server.start(background=True)
    host, port = server.listening_address
    spark = SparkSession.builder.remote(f"sc://{host}:{port}").create()
    try:
        spark.conf.set("spark.sql.session.timeZone", "UTC")
        empty = {name: (columns, []) for name, (columns, _) in ASSESSMENT_SOURCES.items()}
        for name, (columns, rows) in {**empty, **SOURCE_ROWS}.items():
            raw_schema = T.StructType([T.StructField(c, T.StringType()) for c in columns])
            raw = spark.createDataFrame([[r[c] for c in columns] for r in rows], raw_schema)
            df = raw.selectExpr(*(_cast(c, t) for c, t in columns.items()))
            writer = df.write.format("delta").mode("overwrite")
            if name == "silver/telematics__positions":
                writer = writer.partitionBy("day")
            writer.save(str(lake / name))
    finally:
        spark.stop()
        server.stop()


@contextlib.contextmanager
def _no_default_spark_session() -> Iterator[None]:
    """Hide any Spark Connect session of this process from dbt-spark's `getOrCreate()`.

    dbt-spark's session cursor calls `SparkSession.builder...getOrCreate()`, which would reuse a
    session another test left as default (pointing at another server) instead of dbt's own
    embedded Sail server. The session dbt created is stopped afterwards, so every build starts
    with a fresh Sail catalog (Sail keeps one catalog per Spark Connect session), like a new
    orchestrator process would.
    """
    from pyspark.sql.connect.session import SparkSession

    saved_default = SparkSession._default_session
    saved_active = getattr(SparkSession._active_session, "session", None)
    SparkSession._default_session = None
    SparkSession._active_session.session = None
    try:
        yield
    finally:
        dbt_session = SparkSession._default_session
        if dbt_session is not None:
            dbt_session.stop()
        SparkSession._default_session = saved_default
        SparkSession._active_session.session = saved_active


def _dbt_build(tmp: Path, run: str) -> list[tuple[str, str, str]]:
    """Run `dbt build` in embedded mode; return (resource_type, name, status) per node."""
    from dbt.cli.main import dbtRunner

    args = [
        "build",
        "--project-dir",
        str(PROJECT_DIR),
        "--profiles-dir",
        str(PROJECT_DIR),
        "--target",
        "embedded",
        "--target-path",
        str(tmp / f"target_{run}"),
        "--log-path",
        str(tmp / f"logs_{run}"),
        "--no-use-colors",
        "--quiet",
        "--vars",
        dbt_vars(load_rules()),
    ]
    with _no_default_spark_session():
        result = dbtRunner().invoke(args)
    assert result.exception is None, result.exception
    nodes = [(r.node.resource_type, r.node.name, str(r.status)) for r in result.result]
    assert result.success, [n for n in nodes if n[2] not in ("success", "pass")]
    return nodes


def _read(lake: Path, table: str, keys: list[str]) -> pd.DataFrame:
    df = DeltaTable(str(lake / "gold" / table)).to_pandas()
    return df.sort_values(keys).reset_index(drop=True)


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> dict:
    tmp = tmp_path_factory.mktemp("dbt_lake")
    lake = tmp / "lake"
    _write_lake(lake)
    env = {"LAKEHOUSE_LAKE_ABS": str(lake), "RUST_LOG": "error"}
    with pytest.MonkeyPatch.context() as mp:
        for key, value in env.items():
            mp.setenv(key, value)
        mp.delenv("LAKEHOUSE_DBT_TARGET", raising=False)
        first = _dbt_build(tmp, "first")
        vehicle_days = _read(lake, "telematics__vehicle_days", ["day", "plate"])
        county_days = _read(lake, "telematics__county_days", ["day", "county_code"])
        second = _dbt_build(tmp, "second")
    return {
        "lake": lake,
        "first": first,
        "second": second,
        "vehicle_days": vehicle_days,
        "county_days": county_days,
    }


def _haversine_km(p: tuple[str, float, float], q: tuple[str, float, float]) -> float:
    (_, lat1, lon1), (_, lat2, lon2) = p, q
    phi1, phi2 = math.radians(lat1), math.radians(lat2)
    a = (
        math.sin((phi2 - phi1) / 2) ** 2
        + math.cos(phi1) * math.cos(phi2) * math.sin(math.radians(lon2 - lon1) / 2) ** 2
    )
    return 2 * EARTH_RADIUS_KM * math.asin(math.sqrt(a))


def _track_km(points: list[tuple[str, float, float]]) -> float:
    return sum(_haversine_km(p, q) for p, q in zip(points, points[1:], strict=False))


KM_A_D1 = _track_km(TRACK_A[:4])
KM_A_D2 = _track_km(TRACK_A[4:])


def _ts(text: str) -> pd.Timestamp:
    return pd.Timestamp(text, tz="UTC")


def test_build_runs_every_model_test_and_unit_test(built: dict) -> None:
    nodes = built["first"]
    kinds = {kind for kind, _, _ in nodes}
    names = {name for _, name, _ in nodes}
    assert {"model", "test", "unit_test"} <= {str(k) for k in kinds}
    assert {
        "stg_telematics__positions",
        "stg_telematics__quarantined_positions",
        "stg_telematics__vehicles",
        "stg_telematics__counties",
        "fct_telematics__vehicle_days",
        "fct_telematics__county_days",
        "test_vehicle_days_points_km_and_midnight",
        "test_county_days_spine_and_rates",
    } <= names
    assert all(status in ("success", "pass") for _, _, status in nodes), nodes


def test_vehicle_days_columns_and_values(built: dict) -> None:
    df = built["vehicle_days"]
    assert list(df.columns) == [
        "day",
        "plate",
        "plate_color",
        "county_code",
        "enterprise_id",
        "platform_id",
        "points",
        "qualified_points",
        "km",
        "first_point_at",
        "last_point_at",
    ]
    rows = {(str(r.day), r.plate, r.plate_color): r for r in df.itertuples()}
    # unknown plate, unknown colour and C (no records) have no row
    assert set(rows) == {(D1, *A), (D2, *A), (D2, *B)}

    a1, a2, b2 = rows[(D1, *A)], rows[(D2, *A)], rows[(D2, *B)]
    # A day 1: 4 qualified + 1 quarantined-only; the 08:10 duplicate counts once
    assert (a1.points, a1.qualified_points) == (5, 4)
    assert a1.km == pytest.approx(KM_A_D1, abs=1e-3)
    assert (a1.first_point_at, a1.last_point_at) == (_ts(f"{D1} 08:00:00"), _ts(f"{D1} 23:59:00"))
    assert (a1.county_code, a1.enterprise_id, a1.platform_id) == ("350902", "E1", "P1")
    # A day 2: the midnight-spanning segment is not counted
    assert (a2.points, a2.qualified_points) == (2, 2)
    assert a2.km == pytest.approx(KM_A_D2, abs=1e-3)
    assert (a2.first_point_at, a2.last_point_at) == (_ts(f"{D2} 00:01:00"), _ts(f"{D2} 00:30:00"))
    # B: quarantined only, the same record twice counts once
    assert (b2.points, b2.qualified_points, b2.km) == (1, 0, 0.0)
    assert pd.isna(b2.first_point_at) and pd.isna(b2.last_point_at)
    # km rounded to 3 decimals
    assert all(round(km, 3) == km for km in df["km"])


def test_county_days_columns_and_values(built: dict) -> None:
    df = built["county_days"]
    assert list(df.columns) == [
        "day",
        "county_code",
        "county_name",
        "vehicles",
        "online_vehicles",
        "points",
        "qualified_points",
        "qualified_rate",
        "km",
    ]
    got = {
        (str(r.day), r.county_code): (
            r.county_name,
            r.vehicles,
            r.online_vehicles,
            r.points,
            r.qualified_points,
            None if pd.isna(r.qualified_rate) else r.qualified_rate,
            r.km,
        )
        for r in df.itertuples()
    }
    expected = {
        # B registers on day 2; the old version of A in 350921 is not current
        (D1, "350902"): ("蕉城区", 1, 1, 5, 4, 4 / 5, KM_A_D1),
        (D2, "350902"): ("蕉城区", 2, 1, 3, 2, 2 / 3, KM_A_D2),
        (D1, "350921"): ("霞浦县", 1, 0, 0, 0, None, 0.0),
        (D2, "350921"): ("霞浦县", 1, 0, 0, 0, None, 0.0),
        (D1, "350981"): ("福安市", 0, 0, 0, 0, None, 0.0),
        (D2, "350981"): ("福安市", 0, 0, 0, 0, None, 0.0),
    }
    assert set(got) == set(expected)
    for key, (name, vehicles, online, points, qualified, rate, km) in expected.items():
        g = got[key]
        assert g[:5] == (name, vehicles, online, points, qualified), key
        assert (g[5] is None) if rate is None else g[5] == pytest.approx(rate, abs=1e-12), key
        assert g[6] == pytest.approx(km, abs=1e-3), key


def test_second_build_gives_identical_tables(built: dict) -> None:
    lake = built["lake"]
    assert all(status in ("success", "pass") for _, _, status in built["second"])
    again = _read(lake, "telematics__vehicle_days", ["day", "plate"])
    pd.testing.assert_frame_equal(again, built["vehicle_days"])
    again = _read(lake, "telematics__county_days", ["day", "county_code"])
    pd.testing.assert_frame_equal(again, built["county_days"])


def test_gold_tables_live_under_the_lake(built: dict) -> None:
    for table in ("telematics__vehicle_days", "telematics__county_days"):
        assert (built["lake"] / "gold" / table / "_delta_log").is_dir()

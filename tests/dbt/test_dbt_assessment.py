"""End-to-end test of the assessment (dbt_project/models/intermediate/telematics and
marts/telematics/fct_telematics__assessments): a tiny lake, `dbt build` in embedded mode with the
rules file as --vars, then the exact values of gold.telematics__assessments.

The eleven source tables are written as Delta through an in-process Sail server (schemas of
docs/tables.md), exactly as in test_dbt_project.py; dbt (embedded Sail, fresh catalog) registers
them at run start, builds everything and runs the data tests and unit tests. Every expected
number below is worked out by hand in the comments from the rows of the lake.

The lake (May 2024, days D1-D3):
  counties   350902 蕉城区, 350921 霞浦县
  enterprises E1 (350902, renamed on D2), E2 (350921)
  platforms  P1, P2
  vehicles   V1 350902/E1/P1 operating              facts D1-D3 (drift day on D2)
             V2 350902/E1/P1 suspended, moves to P2 on D3 (new master version); facts D1
             V3 350902/E2/P2 operating, never online (no facts, no records)
             V4 350921/E2/P2 operating              facts D1-D2; on D2 its records came via P1
             V5 350921/E2/P1 operating, registered on D2; facts D2
  record counts also hold an unknown plate (P1, D1) and an unparseable record (no keys, D2)
  checks     C1 E1/P1 D1 5 min, C2 E1/P1 D1 16 min (late), C3 P1 D2 unanswered,
             C4 E2/P2 D2 exactly 15 min, C5 E1/P1 D3 10 min
  links      P1: up D1 00:00, down D1 10:00 reported_outage (excused), up D1 12:00,
                 down D2 06:00:30 fault, up D2 07:30; P2: up D1 06:00, down D3 23:00 operator
"""

from __future__ import annotations

import contextlib
import math
import shutil
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest
from deltalake import DeltaTable, write_deltalake

from transforms.lake.protection import stored_fields
from transforms.rules import dbt_vars, load_rules
from transforms.telematics.feeds import PLATFORM_SENSITIVE

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]
PROJECT_DIR = ROOT / "dbt_project"

D1, D2, D3 = "2024-05-01", "2024-05-02", "2024-05-03"
MONTH_MINUTES = 31 * 24 * 60  # May

# --- source tables: column -> Spark SQL type (docs/tables.md) -------------------------------
LINEAGE = {"_source_file": "string", "_landed_at": "timestamp"}
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
    "_source_file": "string",
    "_line": "bigint",
    "_file_sm3": "string",
    "_landed_at": "timestamp",
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
    "_source_file": "string",
    "_line": "bigint",
    "_file_sm3": "string",
    "_landed_at": "timestamp",
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
    **LINEAGE,
}
COUNTIES = {
    "county_code": "string",
    "name": "string",
    "city_code": "string",
    "province_code": "string",
    "valid_from": "date",
    "valid_to": "date",
    "is_current": "boolean",
    **LINEAGE,
}
ENTERPRISES = {
    "enterprise_id": "string",
    "name": "string",
    "county_code": "string",
    "business_type": "string",
    "valid_from": "date",
    "valid_to": "date",
    "is_current": "boolean",
    **LINEAGE,
}
FILING_FIELDS = (
    "software_version", "service_scope", "machine_room_address", "deployment", "architecture",
    "upstream_network", "upstream_ip_port", "terminal_ip_port", "map_approval_number",
    "map_source", "map_scope", "map_date", "map_matching_accuracy_m", "map_provider",
    "map_valid_until", "security_filing_number", "security_level", "security_assessor",
    "applicant_company", "applicant_uscc", "legal_representative", "technical_lead", "contact",
    "filing_status",
)  # fmt: skip
# as silver keeps them: the persons and their number encrypted, hashed and masked
FILING_FIELDS = stored_fields(FILING_FIELDS, PLATFORM_SENSITIVE)
PLATFORMS = {
    "platform_id": "string",
    "name": "string",
    "provider_name": "string",
    "kind": "string",
    **dict.fromkeys(FILING_FIELDS, "string"),
    "filed_at": "date",
    "valid_from": "date",
    "valid_to": "date",
    "is_current": "boolean",
    **LINEAGE,
}
FACTS = {
    "day": "date",
    "plate": "string",
    "plate_color": "int",
    "vehicle_type": "string",
    "qualified_points": "bigint",
    "total_km": "double",
    "broken_km": "double",
    "complete_km": "double",
    "drift_jumps": "int",
    "is_drift_day": "boolean",
    "overspeed_events": "int",
    "driving_minutes": "double",
    "fatigue_minutes": "double",
    "bus_night_running": "boolean",
    "off_route": "boolean",
    "out_of_region": "boolean",
    "daily_driving_over": "boolean",
    "has_violation": "boolean",
}
EVENTS = {
    "event_id": "string",
    "day": "date",
    "plate": "string",
    "plate_color": "int",
    "kind": "string",
    "start_at": "timestamp",
    "end_at": "timestamp",
    "points": "int",
    "max_speed": "double",
    "limit_kmh": "double",
    "minutes": "double",
    "lon": "double",
    "lat": "double",
    "detail": "string",
}
RECORD_COUNTS = {
    "day": "date",
    "platform_id": "string",
    "plate": "string",
    "plate_color": "int",
    "records": "bigint",
    "qualified_records": "bigint",
}
LINKS = {
    "platform_id": "string",
    "event": "string",
    "at": "timestamp",
    "reason": "string",
    **LINEAGE,
}
CHECKS = {
    "check_id": "string",
    "platform_id": "string",
    "enterprise_id": "string",
    "sent_at": "timestamp",
    "answered_at": "timestamp",
    "answer": "string",
    "response_s": "bigint",
    **LINEAGE,
}

V1, V2, V3, V4, V5 = (
    ("闽J10001", 2),
    ("闽J10002", 2),
    ("闽J10003", 2),
    ("闽J20001", 1),
    ("闽J20002", 1),
)
UNKNOWN = ("闽J99999", 2)
E1, E2 = "913509000000000001", "913509000000000002"


def _vehicle(v, county, enterprise, platform, status="operating", registered="2024-01-01",
             valid_from="2024-01-01", valid_to=None) -> dict:  # fmt: skip
    return {
        "plate": v[0],
        "plate_color": v[1],
        "vehicle_type": "heavy_truck",
        "enterprise_id": enterprise,
        "county_code": county,
        "platform_id": platform,
        "operating_status": status,
        "speed_limit_kmh": 80,
        "route_id": None,
        "region_id": None,
        "route_exempt": False,
        "registered_at": registered,
        "valid_from": valid_from,
        "valid_to": valid_to,
        "is_current": valid_to is None,
        "_source_file": "v.jsonl",
        "_landed_at": f"{valid_from} 00:00:00",
    }


def _fact(day, v, qualified, total, complete, overspeed=0, fatigue=0.0, drift=False,
          violation=False) -> dict:  # fmt: skip
    return {
        "day": day,
        "plate": v[0],
        "plate_color": v[1],
        "vehicle_type": "heavy_truck",
        "qualified_points": qualified,
        "total_km": total,
        "broken_km": total - complete,
        "complete_km": complete,
        "drift_jumps": 3 if drift else 0,
        "is_drift_day": drift,
        "overspeed_events": overspeed,
        "driving_minutes": 300.0,
        "fatigue_minutes": fatigue,
        "bus_night_running": False,
        "off_route": False,
        "out_of_region": False,
        "daily_driving_over": False,
        "has_violation": violation,
    }


def _records(day, platform, v, records, qualified) -> dict:
    plate, color = v if v else (None, None)
    return {
        "day": day,
        "platform_id": platform,
        "plate": plate,
        "plate_color": color,
        "records": records,
        "qualified_records": qualified,
    }


def _link(platform, event, at, reason=None) -> dict:
    return {
        "platform_id": platform,
        "event": event,
        "at": at,
        "reason": reason,
        "_source_file": "l.jsonl",
        "_landed_at": at,
    }


def _check(check_id, platform, enterprise, sent, answered, response_s) -> dict:
    return {
        "check_id": check_id,
        "platform_id": platform,
        "enterprise_id": enterprise,
        "sent_at": sent,
        "answered_at": answered,
        "answer": None if answered is None else "在岗",
        "response_s": response_s,
        "_source_file": "c.jsonl",
        "_landed_at": sent,
    }


def _enterprise(eid, name, county, valid_from, valid_to=None) -> dict:
    return {
        "enterprise_id": eid,
        "name": name,
        "county_code": county,
        "business_type": "freight",
        "valid_from": valid_from,
        "valid_to": valid_to,
        "is_current": valid_to is None,
        "_source_file": "e.jsonl",
        "_landed_at": f"{valid_from} 00:00:00",
    }


def _platform(pid, name) -> dict:
    return {
        "platform_id": pid,
        "name": name,
        "provider_name": f"{name}运营公司",
        "kind": "commercial",
        **dict.fromkeys(FILING_FIELDS),
        "filed_at": "2023-12-01",
        "valid_from": "2024-01-01",
        "valid_to": None,
        "is_current": True,
        "_source_file": "p.jsonl",
        "_landed_at": "2024-01-01 00:00:00",
    }


SOURCE_ROWS: dict[str, tuple[dict[str, str], list[dict]]] = {
    # the gold marts of test_dbt_project.py read these; the assessment does not
    "silver/telematics__positions": (POSITIONS, []),
    "quarantine/telematics__positions": (QUARANTINE, []),
    "silver/telematics__counties": (
        COUNTIES,
        [
            {
                "county_code": code,
                "name": name,
                "city_code": "3509",
                "province_code": "35",
                "valid_from": "2024-01-01",
                "valid_to": None,
                "is_current": True,
                "_source_file": "c.jsonl",
                "_landed_at": "2024-01-01 00:00:00",
            }
            for code, name in [("350902", "蕉城区"), ("350921", "霞浦县")]
        ],  # fmt: skip
    ),
    "silver/telematics__enterprises": (
        ENTERPRISES,
        [
            _enterprise(E1, "宁德快运有限公司", "350902", "2024-01-01", valid_to=D2),
            _enterprise(E1, "宁德快运集团有限公司", "350902", D2),  # renamed on D2
            _enterprise(E2, "霞浦客运有限公司", "350921", "2024-01-01"),
        ],
    ),
    "silver/telematics__platforms": (
        PLATFORMS,
        [_platform("P1", "闽东监控平台"), _platform("P2", "霞浦自建平台")],
    ),
    "silver/telematics__vehicles": (
        VEHICLES,
        [
            _vehicle(V1, "350902", E1, "P1"),
            _vehicle(V2, "350902", E1, "P1", "suspended", valid_to=D3),
            _vehicle(V2, "350902", E1, "P2", "suspended", valid_from=D3),  # moves to P2 on D3
            _vehicle(V3, "350902", E2, "P2"),
            _vehicle(V4, "350921", E2, "P2"),
            _vehicle(V5, "350921", E2, "P1", registered=D2),
        ],
    ),
    "silver/telematics__vehicle_day_facts": (
        FACTS,
        [
            _fact(D1, V1, 100, 120.0, 110.0, overspeed=2, violation=True),
            _fact(D2, V1, 80, 100.0, 100.0, fatigue=15.5, drift=True, violation=True),
            _fact(D3, V1, 50, 50.0, 40.0, overspeed=1, violation=True),
            _fact(D1, V2, 30, 40.0, 20.0, overspeed=5, fatigue=30.0, violation=True),
            _fact(D1, V4, 60, 80.0, 76.0),
            _fact(D2, V4, 60, 60.0, 30.0, overspeed=1, violation=True),
            _fact(D2, V5, 10, 10.0, 10.0),
        ],
    ),
    "silver/telematics__violation_events": (
        EVENTS,
        [
            {
                "event_id": "e1",
                "day": D1,
                "plate": V1[0],
                "plate_color": V1[1],
                "kind": "overspeed",
                "start_at": f"{D1} 10:00:00",
                "end_at": f"{D1} 10:01:00",
                "points": 3,
                "max_speed": 95.0,
                "limit_kmh": 80.0,
                "minutes": 1.0,
                "lon": 119.5,
                "lat": 26.6,
                "detail": "{}",
            },
        ],  # fmt: skip
    ),
    "silver/telematics__record_counts": (
        RECORD_COUNTS,
        [
            _records(D1, "P1", V1, 110, 100),
            _records(D1, "P1", V2, 40, 30),
            _records(D1, "P1", UNKNOWN, 20, 5),  # unknown vehicle: its platform only
            _records(D1, "P2", V4, 60, 60),
            _records(D2, "P1", V1, 90, 80),
            _records(D2, "P1", V4, 70, 60),  # V4 (a P2 vehicle) sent through P1
            _records(D2, "P1", V5, 10, 10),
            _records(D2, None, None, 3, 0),  # unparseable: nobody's
            _records(D3, "P1", V1, 50, 50),
            _records(D3, "P1", V2, 4, 0),  # unqualified only: no fact row
        ],
    ),
    "silver/telematics__platform_links": (
        LINKS,
        [
            _link("P1", "up", f"{D1} 00:00:00"),
            _link("P1", "down", f"{D1} 10:00:00", "reported_outage"),
            _link("P1", "up", f"{D1} 12:00:00"),
            _link("P1", "down", f"{D2} 06:00:30", "fault"),
            _link("P1", "up", f"{D2} 07:30:00"),
            _link("P2", "up", f"{D1} 06:00:00"),
            _link("P2", "down", f"{D3} 23:00:00", "operator"),
        ],
    ),
    "silver/telematics__platform_checks": (
        CHECKS,
        [
            _check("C1", "P1", E1, f"{D1} 09:00:00", f"{D1} 09:05:00", 300),
            _check("C2", "P1", E1, f"{D1} 15:00:00", f"{D1} 15:16:00", 960),  # 16 min: late
            _check("C3", "P1", None, f"{D2} 10:00:00", None, None),  # never answered
            _check("C4", "P2", E2, f"{D2} 11:00:00", f"{D2} 11:15:00", 900),  # exactly 15 min
            _check("C5", "P1", E1, f"{D3} 08:00:00", f"{D3} 08:10:00", 600),
        ],
    ),
}


def _cast(column: str, sql_type: str) -> str:
    if sql_type == "array<string>":
        return f"split({column}, '[|]') as {column}"
    return f"cast({column} as {sql_type}) as {column}"


def _write_lake(lake: Path) -> None:
    """Write the source tables as Delta through a throw-away in-process Sail server."""
    from pysail.spark import SparkConnectServer
    from pyspark.sql import SparkSession
    from pyspark.sql import types as T

    server = SparkConnectServer(ip="127.0.0.1", port=0)
    server.start(background=True)
    host, port = server.listening_address
    spark = SparkSession.builder.remote(f"sc://{host}:{port}").create()
    try:
        spark.conf.set("spark.sql.session.timeZone", "UTC")
        for name, (columns, rows) in SOURCE_ROWS.items():
            raw_schema = T.StructType([T.StructField(c, T.StringType()) for c in columns])
            data = [[None if r[c] is None else str(r[c]).lower() if isinstance(r[c], bool)
                     else str(r[c]) for c in columns] for r in rows]  # fmt: skip
            raw = spark.createDataFrame(data, raw_schema)
            df = raw.selectExpr(*(_cast(c, t) for c, t in columns.items()))
            df.write.format("delta").mode("overwrite").save(str(lake / name))
    finally:
        spark.stop()
        server.stop()


@contextlib.contextmanager
def _no_default_spark_session() -> Iterator[None]:
    """Hide any Spark Connect session of this process from dbt-spark's `getOrCreate()` (see
    test_dbt_project.py) and stop the one dbt created, so every build starts a fresh catalog."""
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


def _dbt_build(
    tmp: Path, rules: dict | None = None, command: str = "build", select: str | None = None
) -> list[tuple[str, str, str, str | None]]:
    """Run `dbt <command>` in embedded mode with `rules` (default: the rules file) as --vars, as
    the orchestrator does; return (resource_type, name, status, tested model) per node (the
    model only for unit tests)."""
    from dbt.cli.main import dbtRunner

    args = [
        command,
        "--project-dir", str(PROJECT_DIR),
        "--profiles-dir", str(PROJECT_DIR),
        "--target", "embedded",
        "--target-path", str(tmp / "target"),
        "--log-path", str(tmp / "logs"),
        "--no-use-colors",
        "--quiet",
        "--vars", dbt_vars(load_rules() if rules is None else rules),
        *(["--select", select] if select else []),
    ]  # fmt: skip
    with _no_default_spark_session():
        result = dbtRunner().invoke(args)
    assert result.exception is None, result.exception
    nodes = [
        (
            str(r.node.resource_type),
            r.node.name,
            str(r.status),
            (getattr(r.node, "tested_node_unique_id", None) or "").rpartition(".")[2] or None,
        )
        for r in result.result
    ]
    assert result.success, [n for n in nodes if n[2] not in ("success", "pass")]
    return nodes


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> dict:
    tmp = tmp_path_factory.mktemp("dbt_assessment")
    lake = tmp / "lake"
    _write_lake(lake)
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("LAKEHOUSE_LAKE_ABS", str(lake))
        mp.setenv("RUST_LOG", "error")
        mp.delenv("LAKEHOUSE_DBT_TARGET", raising=False)
        nodes = _dbt_build(tmp)
    table = DeltaTable(str(lake / "gold" / "telematics__assessments")).to_pandas()
    return {"lake": lake, "nodes": nodes, "table": table}


COLUMNS = [
    "level", "subject_id", "subject_name", "county_code", "period_type", "period", "period_start",
    "period_end", "vehicles", "online_vehicles", "platform_connectivity_rate", "network_entry_rate",
    "online_rate", "track_completeness_rate", "data_qualification_rate", "drift_vehicle_rate",
    "check_response_rate", "mean_overspeed_count", "mean_fatigue_minutes", "violation_rate",
    "score", "passed", "failed_quarters", "entered_vehicles", "operating_entered_vehicles",
    "complete_km", "total_km", "qualified_records", "records", "drift_vehicles",
    "checks_answered", "checks_sent", "overspeed_events", "fatigue_minutes",
    "violation_vehicles", "connected_minutes", "counted_minutes",
]  # fmt: skip

NULL_CONNECTIVITY = {"platform_connectivity_rate": None, "connected_minutes": None,
                     "counted_minutes": None}  # fmt: skip
NULL_CHECKS = {"check_response_rate": None, "checks_answered": None, "checks_sent": None}
NULL_NON_PLATFORM = {
    "network_entry_rate": None, "entered_vehicles": None,
    "mean_overspeed_count": None, "overspeed_events": None,
    "mean_fatigue_minutes": None, "fatigue_minutes": None,
    "violation_rate": None, "violation_vehicles": None,
}  # fmt: skip

# --- county 350902 (V1 operating, V2 suspended, V3 never online) ----------------------------
# D1: vehicles V1 V2 V3 = 3; entered V1 V2 = 2; operating & entered V1 = 1, online V1 = 1.
#   track V1: 110 / 120; records of V1 + V2 (by attribution): (100 + 30) / (110 + 40);
#   drift 0 / 1; overspeed 2 / 1; fatigue 0 / 1; violation V1 V2 = 2 / 3.
#   score (5, 10, 40, 30, 15): entry 2/3 < 0.9 -> 0; online 1 * 10; track 110/120 * 40;
#   data 130/150 * 30 (>= 0.8); drift 15 - 0 = 15; all weights present -> / 100 * 100
COUNTY_D1_SCORE = 0 + 10 + 110 / 120 * 40 + 130 / 150 * 30 + 15
# May: track V1 (110 + 100 + 40) / (120 + 100 + 50) = 250 / 270;
#   records V1 250 rec / 230 qualified, V2 44 / 30 -> 260 / 294;
#   drift V1 (D2) 1 / 1 = 1.0 > 0.05 -> 0 points; overspeed 3 / 1; fatigue 15.5 / 1
COUNTY_MAY_SCORE = 0 + 10 + 250 / 270 * 40 + 260 / 294 * 30 + 0
COUNTY_ROWS = {
    D1: {
        "level": "county", "subject_id": "350902", "subject_name": "蕉城区", "county_code": "350902",
        "period_type": "day", "period": D1, "period_start": D1, "period_end": D1,
        "vehicles": 3, "online_vehicles": 1,
        "network_entry_rate": 2 / 3, "online_rate": 1.0,
        "track_completeness_rate": 110 / 120, "data_qualification_rate": 130 / 150,
        "drift_vehicle_rate": 0.0, "mean_overspeed_count": 2.0, "mean_fatigue_minutes": 0.0,
        "violation_rate": 2 / 3,
        "score": COUNTY_D1_SCORE, "passed": True, "failed_quarters": None,
        "entered_vehicles": 2, "operating_entered_vehicles": 1,
        "complete_km": 110.0, "total_km": 120.0, "qualified_records": 130, "records": 150,
        "drift_vehicles": 0, "overspeed_events": 2, "fatigue_minutes": 0.0,
        "violation_vehicles": 2, **NULL_CONNECTIVITY, **NULL_CHECKS,
    },
    "2024-05": {
        "level": "county", "subject_id": "350902", "subject_name": "蕉城区", "county_code": "350902",
        "period_type": "month", "period": "2024-05", "period_start": "2024-05-01",
        "period_end": "2024-05-31",
        "vehicles": 3, "online_vehicles": 1,
        "network_entry_rate": 2 / 3, "online_rate": 1.0,
        "track_completeness_rate": 250 / 270, "data_qualification_rate": 260 / 294,
        "drift_vehicle_rate": 1.0, "mean_overspeed_count": 3.0, "mean_fatigue_minutes": 15.5,
        "violation_rate": 2 / 3,
        "score": COUNTY_MAY_SCORE, "passed": False, "failed_quarters": None,
        "entered_vehicles": 2, "operating_entered_vehicles": 1,
        "complete_km": 250.0, "total_km": 270.0, "qualified_records": 260, "records": 294,
        "drift_vehicles": 1, "overspeed_events": 3, "fatigue_minutes": 15.5,
        "violation_vehicles": 2, **NULL_CONNECTIVITY, **NULL_CHECKS,
    },
}  # fmt: skip

# --- enterprise E1 (V1, V2) against E2 (V3, V4, V5) -----------------------------------------
# D1: E1 vehicles 2, entered 2, operating & entered 1 (V1), online 1; track 110/120;
#   records (100 + 30) / (110 + 40); drift 0; checks C1 in time, C2 16 min -> 1 / 2;
#   overspeed 2 / 1, fatigue 0 / 1, violation V1 V2 -> 2 / 2.
#   E2 on D1: V5 not registered yet; online V4 only: overspeed 0, fatigue 0.
#   A(overspeed) = (2 + 0) / 2 = 1: E1 x = 2 >= 2A -> shape 0;
#   A(fatigue) = 0 (so x = 0) -> shape 20 -> full 20 points.
#   score (5, 5, 15, 15, 10, 20, 20, 10):
E1_D1_SCORE = 1.0 * 5 + 1.0 * 5 + 110 / 120 * 15 + 130 / 150 * 15 + 10 + 0 + 20 + 0.5 * 10
# May: E1 track 250 / 270, records 260 / 294, drift V1 -> 1 / 1 -> 0 points,
#   checks C1 C2 C5 -> 2 / 3, overspeed 3 / 1, fatigue 15.5 / 1.
#   E2 in May: online V4 V5: overspeed (0 + 1 + 0) / 2 = 0.5, fatigue 0 / 2 = 0.
#   A(overspeed) = (3 + 0.5) / 2 = 1.75: A < 3 < 2A -> shape (3.5 - 3) / 1.75 * 10;
#   A(fatigue) = (15.5 + 0) / 2 = 7.75: x = 15.5 = 2A -> 0.
E1_MAY_SCORE = (
    5 + 5 + 250 / 270 * 15 + 260 / 294 * 15 + 0
    + 20 * ((3.5 - 3.0) / 1.75 * 10) / 20 + 0 + 2 / 3 * 10
)  # fmt: skip
ENTERPRISE_ROWS = {
    D1: {
        "level": "enterprise", "subject_id": E1, "subject_name": "宁德快运有限公司",
        "county_code": "350902",
        "period_type": "day", "period": D1, "period_start": D1, "period_end": D1,
        "vehicles": 2, "online_vehicles": 1,
        "network_entry_rate": 1.0, "online_rate": 1.0,
        "track_completeness_rate": 110 / 120, "data_qualification_rate": 130 / 150,
        "drift_vehicle_rate": 0.0, "check_response_rate": 0.5,
        "mean_overspeed_count": 2.0, "mean_fatigue_minutes": 0.0, "violation_rate": 1.0,
        "score": E1_D1_SCORE, "passed": False, "failed_quarters": None,
        "entered_vehicles": 2, "operating_entered_vehicles": 1,
        "complete_km": 110.0, "total_km": 120.0, "qualified_records": 130, "records": 150,
        "drift_vehicles": 0, "checks_answered": 1, "checks_sent": 2,
        "overspeed_events": 2, "fatigue_minutes": 0.0, "violation_vehicles": 2,
        **NULL_CONNECTIVITY,
    },
    "2024-05": {
        # the version valid on the period's last day names the subject (renamed on D2)
        "level": "enterprise", "subject_id": E1, "subject_name": "宁德快运集团有限公司",
        "county_code": "350902",
        "period_type": "month", "period": "2024-05", "period_start": "2024-05-01",
        "period_end": "2024-05-31",
        "vehicles": 2, "online_vehicles": 1,
        "network_entry_rate": 1.0, "online_rate": 1.0,
        "track_completeness_rate": 250 / 270, "data_qualification_rate": 260 / 294,
        "drift_vehicle_rate": 1.0, "check_response_rate": 2 / 3,
        "mean_overspeed_count": 3.0, "mean_fatigue_minutes": 15.5, "violation_rate": 1.0,
        "score": E1_MAY_SCORE, "passed": False, "failed_quarters": None,
        "entered_vehicles": 2, "operating_entered_vehicles": 1,
        "complete_km": 250.0, "total_km": 270.0, "qualified_records": 260, "records": 294,
        "drift_vehicles": 1, "checks_answered": 2, "checks_sent": 3,
        "overspeed_events": 3, "fatigue_minutes": 15.5, "violation_vehicles": 2,
        **NULL_CONNECTIVITY,
    },
}  # fmt: skip

# --- platform P1 ---------------------------------------------------------------------------
# D1: vehicles V1 V2 (V5 registers on D2) = 2, online V1 = 1 of operating & entered 1;
#   track V1 110 / 120; records sent by P1 incl. the unknown plate: (100 + 30 + 5) /
#   (110 + 40 + 20) = 135 / 170 = 0.794 < 0.8 -> 0 points; drift 0 / 1;
#   checks C1 C2 -> 1 / 2 (reported, not weighted for platforms);
#   links: up 00:00-10:00 (600), excused down 10:00-12:00 (120), up 12:00-24:00 (720):
#   connected 1320 / counted 1440 - 120 = 1320.
#   score (10, 20, 25, 25, 20): online 10 + connectivity 20 + track 110/120 * 25 + data 0 + 20
P1_D1_SCORE = 10 + 20 + 110 / 120 * 25 + 0 + 20
# May (V2 is on P2 from D3, so P1 = V1 V5 on May 31): vehicles 2, online 2 of 2;
#   track (250 + 10) / (270 + 10); records sent by P1: D1 135 / 170,
#   D2 V1 80/90 + V4 60/70 + V5 10/10 = 150 / 170, D3 V1 50/50 + V2 0/4 = 50 / 54
#   -> 335 / 394; drift V1 -> 1 / 2 = 0.5 > 0.05 -> 0; checks C1 C2 C3 C5 -> 2 / 4;
#   links: fault down D2 06:00:30-07:30:00 = 89.5 min, excused 120 min, up to the end of May
#   (the state carries past the last event): connected 44640 - 120 - 89.5, counted 44640 - 120
P1_MAY_CONNECTED = MONTH_MINUTES - 120 - 89.5
P1_MAY_COUNTED = MONTH_MINUTES - 120
P1_MAY_SCORE = (
    10 + P1_MAY_CONNECTED / P1_MAY_COUNTED * 20 + 260 / 280 * 25 + 335 / 394 * 25 + 0
)  # fmt: skip
PLATFORM_ROWS = {
    D1: {
        "level": "platform", "subject_id": "P1", "subject_name": "闽东监控平台", "county_code": None,
        "period_type": "day", "period": D1, "period_start": D1, "period_end": D1,
        "vehicles": 2, "online_vehicles": 1,
        "platform_connectivity_rate": 1.0, "online_rate": 1.0,
        "track_completeness_rate": 110 / 120, "data_qualification_rate": 135 / 170,
        "drift_vehicle_rate": 0.0, "check_response_rate": 0.5,
        "score": P1_D1_SCORE, "passed": False, "failed_quarters": None,
        "operating_entered_vehicles": 1, "complete_km": 110.0, "total_km": 120.0,
        "qualified_records": 135, "records": 170, "drift_vehicles": 0,
        "checks_answered": 1, "checks_sent": 2,
        "connected_minutes": 1320.0, "counted_minutes": 1320.0, **NULL_NON_PLATFORM,
    },
    "2024-05": {
        "level": "platform", "subject_id": "P1", "subject_name": "闽东监控平台", "county_code": None,
        "period_type": "month", "period": "2024-05", "period_start": "2024-05-01",
        "period_end": "2024-05-31",
        "vehicles": 2, "online_vehicles": 2,
        "platform_connectivity_rate": P1_MAY_CONNECTED / P1_MAY_COUNTED, "online_rate": 1.0,
        "track_completeness_rate": 260 / 280, "data_qualification_rate": 335 / 394,
        "drift_vehicle_rate": 0.5, "check_response_rate": 0.5,
        "score": P1_MAY_SCORE, "passed": False, "failed_quarters": None,
        "operating_entered_vehicles": 2, "complete_km": 260.0, "total_km": 280.0,
        "qualified_records": 335, "records": 394, "drift_vehicles": 1,
        "checks_answered": 2, "checks_sent": 4,
        "connected_minutes": P1_MAY_CONNECTED, "counted_minutes": P1_MAY_COUNTED,
        **NULL_NON_PLATFORM,
    },
}  # fmt: skip


def _row(table: pd.DataFrame, level: str, subject: str, period: str) -> dict:
    got = table[
        (table["level"] == level) & (table["subject_id"] == subject) & (table["period"] == period)
    ]
    assert len(got) == 1, (level, subject, period, len(got))
    return got.iloc[0].to_dict()


def _same(got: object, expected: object) -> bool:
    if expected is None:
        return got is None or (not isinstance(got, str) and pd.isna(got))
    if isinstance(expected, bool):
        return bool(got) is expected and not pd.isna(got)
    if isinstance(expected, float):
        return isinstance(got, float) and math.isclose(got, expected, rel_tol=1e-12, abs_tol=1e-9)
    if isinstance(expected, int):
        return not pd.isna(got) and int(got) == expected and float(got) == expected
    return str(got) == expected


def _assert_row(table: pd.DataFrame, expected: dict) -> None:
    got = _row(table, expected["level"], expected["subject_id"], expected["period"])
    assert set(expected) == set(COLUMNS), set(COLUMNS) ^ set(expected)
    wrong = {c: (got[c], expected[c]) for c in COLUMNS if not _same(got[c], expected[c])}
    assert not wrong, wrong


def test_dbt_takes_the_rules_from_the_file_at_run_time(built: dict, tmp_path: Path) -> None:
    """A province's override of telematics.scoring.pass_score (80 -> 70), loaded by load_rules()
    and passed as dbt_vars(), moves the pass mark of the run: same scores, other pass / fail.

    The run goes over a gold table of an older release (no county_code): the model replaces its
    schema, as upgrading an existing lake does."""
    override = tmp_path / "rules_35.yaml"
    override.write_text("telematics:\n  scoring:\n    pass_score: 70\n", encoding="utf-8")
    rules = load_rules(override)
    assert rules["telematics"]["scoring"]["pass_score"] == 70
    source = built["lake"]
    lake = tmp_path / "lake"
    shutil.copytree(source, lake, ignore=lambda d, names: ["gold"] if Path(d) == source else [])
    older = DeltaTable(str(source / "gold" / "telematics__assessments")).to_pyarrow_table()
    older_location = str(lake / "gold" / "telematics__assessments")
    write_deltalake(older_location, older.drop_columns(["county_code"]))
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("LAKEHOUSE_LAKE_ABS", str(lake))
        mp.setenv("RUST_LOG", "error")
        mp.delenv("LAKEHOUSE_DBT_TARGET", raising=False)
        _dbt_build(tmp_path, rules, command="run", select="+fct_telematics__assessments")
    table = DeltaTable(older_location).to_pandas()
    default = built["table"]
    assert list(table.columns) == COLUMNS  # the older table's schema replaced

    keys = ["level", "subject_id", "period_type", "period"]
    both = default.merge(table, on=keys, suffixes=("_80", "_70"), validate="one_to_one")
    assert len(both) == len(default) == len(table)
    assert both["score_80"].equals(both["score_70"])
    # between 70 and 80: failed with the rules file, pass with the override
    for level, subject, period, score in [
        ("county", "350902", "2024-05", COUNTY_MAY_SCORE),
        ("enterprise", E1, D1, E1_D1_SCORE),
        ("platform", "P1", D1, P1_D1_SCORE),
    ]:
        assert 70 <= score < 80
        assert _same(_row(default, level, subject, period)["passed"], False)
        assert _same(_row(table, level, subject, period)["passed"], True)
    # every scored day, month and quarter passes exactly when its score reaches 70
    scored = both[both["period_type"].isin(["day", "month", "quarter"]) & both["score_70"].notna()]
    assert len(scored) > 0
    assert (scored["passed_70"].astype(bool) == (scored["score_70"] >= 70)).all()


@pytest.mark.parametrize(
    ("variables", "message"),
    [
        (None, "var 'rules' missing: pass --vars from transforms.rules.dbt_vars"),
        # the rules file before it was split per domain: no `telematics` section
        ('{"rules": {"scoring": {"pass_score": 80}}}', "var 'rules' has no section 'telematics'"),
    ],
)
def test_dbt_without_the_rules_stops_with_a_clear_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, variables: str | None, message: str
) -> None:
    from dbt.cli.main import dbtRunner

    monkeypatch.setenv("LAKEHOUSE_LAKE_ABS", str(tmp_path / "lake"))
    args = [
        "parse",
        "--project-dir", str(PROJECT_DIR),
        "--profiles-dir", str(PROJECT_DIR),
        "--target-path", str(tmp_path / "target"),
        "--log-path", str(tmp_path / "logs"),
        "--no-use-colors",
        "--quiet",
        *(["--vars", variables] if variables else []),
    ]  # fmt: skip
    result = dbtRunner().invoke(args)
    assert not result.success
    assert message in str(result.exception)


def test_build_runs_every_assessment_model_and_unit_test(built: dict) -> None:
    nodes = built["nodes"]
    assert all(status in ("success", "pass") for _, _, status, _ in nodes), nodes
    models = {name for kind, name, _, _ in nodes if kind == "model"}
    indicators = {
        f"ind_{i}_subject_periods"
        for i in (
            "platform_connectivity_rate", "network_entry_rate", "online_rate",
            "track_completeness_rate", "data_qualification_rate", "drift_vehicle_rate",
            "check_response_rate", "mean_overspeed_count", "mean_fatigue_minutes",
            "violation_rate",
        )
    }  # fmt: skip
    assert indicators | {"fct_telematics__assessments"} <= models
    # every indicator model has a unit test, and the scoring its three
    unit_tested = [model for kind, _, _, model in nodes if kind == "unit_test"]
    assert indicators <= set(unit_tested), indicators - set(unit_tested)
    assert unit_tested.count("int_subject_periods_scored") == 3


def test_table_columns_and_grain(built: dict) -> None:
    table = built["table"]
    assert list(table.columns) == COLUMNS
    # 3 days + 2024-05 + 2024Q2 + 2024, for 2 counties + 2 enterprises + 2 platforms
    assert len(table) == 6 * 6
    assert sorted(table[table["level"] == "county"]["period"].unique()) == [
        "2024", "2024-05", D1, D2, D3, "2024Q2",
    ]  # fmt: skip
    assert not table.duplicated(["level", "subject_id", "period_type", "period"]).any()
    # the county row-level security filters on: a county's own, an enterprise's, none for platforms
    enterprise_county = {E1: "350902", E2: "350921"}
    for row in table.itertuples():
        expected = {"county": row.subject_id, "platform": None}.get(row.level)
        expected = enterprise_county[row.subject_id] if row.level == "enterprise" else expected
        assert row.county_code == expected, row
    assert (built["lake"] / "gold" / "telematics__assessments" / "_delta_log").is_dir()


@pytest.mark.parametrize("period", [D1, "2024-05"])
def test_county_values(built: dict, period: str) -> None:
    _assert_row(built["table"], dict.fromkeys(COLUMNS) | COUNTY_ROWS[period])


@pytest.mark.parametrize("period", [D1, "2024-05"])
def test_enterprise_values(built: dict, period: str) -> None:
    _assert_row(built["table"], dict.fromkeys(COLUMNS) | ENTERPRISE_ROWS[period])


@pytest.mark.parametrize("period", [D1, "2024-05"])
def test_platform_values(built: dict, period: str) -> None:
    _assert_row(built["table"], dict.fromkeys(COLUMNS) | PLATFORM_ROWS[period])


def test_quarter_and_year_roll_up_the_month(built: dict) -> None:
    table = built["table"]
    # one month in the quarter: the quarter's score is May's; the year's is the quarter's
    # and the failed quarter (73.6 < 80) is counted
    quarter = _row(table, "county", "350902", "2024Q2")
    year = _row(table, "county", "350902", "2024")
    assert (str(quarter["period_start"]), str(quarter["period_end"])) == (
        "2024-04-01",
        "2024-06-30",
    )
    assert (str(year["period_start"]), str(year["period_end"])) == ("2024-01-01", "2024-12-31")
    assert math.isclose(quarter["score"], COUNTY_MAY_SCORE, rel_tol=1e-12)
    assert math.isclose(year["score"], COUNTY_MAY_SCORE, rel_tol=1e-12)
    assert (quarter["passed"], year["passed"], year["failed_quarters"]) == (False, False, 1)
    assert pd.isna(quarter["failed_quarters"])
    # indicators of the quarter are computed over the whole quarter (= May here)
    assert math.isclose(quarter["track_completeness_rate"], 250 / 270, rel_tol=1e-12)

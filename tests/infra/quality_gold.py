"""The quality owner's ops tables of the infra tests' lake (conftest.py): 数据质量 and 审计日志 with
known values.

- ``ops.validation_results``: five validations (runs r-1 … r-3) of three suites on two days, in
  the columns of transforms/lake/validations.py; one failed (licences__licences on DAY_2);
- the quarantine summary, built by its real job (transforms/lake/quarantine.py ``refresh``) over
  two quarantine tables written here: telematics positions (two rule failures, one record failing
  two rules, one malformed line) and ride-hailing baseInfoDriver, a feed with personal fields
  whose lines are kept as landing keeps them — a masked preview and the line SM4-encrypted — so
  the clear phone numbers and names below are nowhere a dashboard could read;
- ``ops.landing__rejected_files``: two files;
- ``ops.audit_log``: nine events on DAY_1 and DAY_2 (the session's own Superset events land on
  today's date beside them): two refused logins, one refused query.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass, field
from pathlib import Path

import pyarrow as pa
from deltalake import write_deltalake

from transforms.lake import audit, quarantine, validations
from transforms.lake.landing import quarantine_schema
from transforms.lake.protection import ProtectionKeys, protect_raw
from transforms.ridehailing.feeds import FEED_BY_INTERFACE
from transforms.telematics.feeds import POSITIONS

DAY_1, DAY_2 = dt.date(2026, 11, 1), dt.date(2026, 11, 2)
NOT_NULL, BETWEEN = "expect_column_values_to_not_be_null", "expect_column_values_to_be_between"
IN_SET, REGEX = "expect_column_values_to_be_in_set", "expect_column_values_to_match_regex"

# (run, day, suite, batch, suite passed, [(expectation, column, rule, elements, unexpected, ok)])
VALIDATIONS = [
    ("r-1", DAY_1, "telematics__positions", "2026-11-01 · 3 files aaaa1111", True,
     [(REGEX, "plate", "plate_valid", 1000, 10, True),
      (BETWEEN, "lon", "lon_in_range", 1000, 20, True)]),
    ("r-1", DAY_1, "licences__licences", "2026-11-01 · 2 files bbbb2222", True,
     [(IN_SET, "status", "status_valid", 100, 0, True),
      (NOT_NULL, "licence_id", "licence_id_present", 100, 0, True)]),
    ("r-2", DAY_2, "telematics__positions", "2026-11-02 · 2 files cccc3333", True,
     [(REGEX, "plate", "plate_valid", 500, 5, True),
      (BETWEEN, "lon", "lon_in_range", 500, 45, True)]),
    ("r-2", DAY_2, "licences__licences", "2026-11-02 · 1 file dddd4444", False,
     [(IN_SET, "status", "status_valid", 100, 60, False),
      (NOT_NULL, "licence_id", "licence_id_present", 100, 0, True)]),
    ("r-3", DAY_2, "ridehailing__orderCreate", "2026-11-02 · 1 file eeee5555", True,
     [(IN_SET, "completeness_ok", "completeness", 40, 4, True),
      (IN_SET, "normativity_ok", "normativity", 40, 0, True),
      (IN_SET, "truthfulness_ok", "truthfulness_own", 40, 0, True)]),
]  # fmt: skip
# 规则检查通过率 per (day, suite): 1 - unexpected / checked
PASS_RATES = {(DAY_1, "telematics__positions"): 1 - 30 / 2000,
              (DAY_1, "licences__licences"): 1.0,
              (DAY_2, "telematics__positions"): 1 - 50 / 1000,
              (DAY_2, "licences__licences"): 1 - 60 / 200,
              (DAY_2, "ridehailing__orderCreate"): 1 - 4 / 120}  # fmt: skip

# the personal values of the baseInfoDriver lines: only their masks may ever be shown
DRIVERS = [("13912345678", "张伟", "139****5678"), ("13800001111", "李娜", "138****1111")]
# quarantined records per (feed label, rule); a record failing two rules counts under each
QUARANTINE = {("动态监控 · positions", "lon_in_range"): 2, ("动态监控 · positions", "lat_in_range"): 1,
              ("动态监控 · positions", "malformed_record"): 1,
              ("网约车 · baseInfoDriver", "missing_key:CompanyId"): 2}  # fmt: skip
REJECTED = [
    ("landing/freight/envelopes/2026-11-02/broken.json", "freight", "envelopes",
     "not one JSON object", dt.datetime(2026, 11, 2, 9, 30)),
    ("landing/telematics/positions/2026-11-01/garbled.csv", "telematics", "positions",
     "unreadable: 'utf-8' codec can't decode byte 0xb9", dt.datetime(2026, 11, 1, 8, 15)),
]  # fmt: skip

# (UTC time, channel, actor, action, target, origin, outcome, detail)
AUDIT = [
    (dt.datetime(2026, 11, 1, 1, 0), "cli", "ops_user", "lakehouse run", "--lake lake", "etl-1", "ok", {}),
    (dt.datetime(2026, 11, 1, 1, 30), "cli", "ops_user", "lakehouse status", "--lake lake", "etl-1", "ok", {}),
    (dt.datetime(2026, 11, 1, 2, 0), "pipeline", "schedule", "telematics_daily", "2026-10-31", "etl-1", "ok", {}),
    (dt.datetime(2026, 11, 1, 3, 0), "superset", "stat_1", "login", "", "10.0.0.5", "ok", {}),
    (dt.datetime(2026, 11, 1, 3, 5), "superset", "intruder_x", "login", "", "10.0.0.66", "denied",
     {"reason": "unknown user"}),
    (dt.datetime(2026, 11, 2, 2, 0), "superset", "stat_1", "sql_lab_query",
     "SELECT count(*) FROM telematics__county_days", "10.0.0.5", "ok", {"status": 200}),
    (dt.datetime(2026, 11, 2, 2, 5), "superset", "stat_1", "query_refused",
     "SELECT * FROM read_csv('/etc/passwd')", "10.0.0.5", "denied",
     {"reason": "table function read_csv is not allowed"}),
    (dt.datetime(2026, 11, 2, 2, 10), "superset", "stat_1", "login", "", "10.0.0.77", "denied", {}),
    (dt.datetime(2026, 11, 2, 3, 0), "pipeline", "sensor", "ridehailing_daily", "2026-11-01", "etl-1",
     "error", {}),
]  # fmt: skip
EVENTS_BY_DAY = {"2026-11-01": 5, "2026-11-02": 4}
REFUSED_LOGINS = {("intruder_x", "10.0.0.66", "unknown user"), ("stat_1", "10.0.0.77", None)}
REFUSED_QUERIES = {("stat_1", "SELECT * FROM read_csv('/etc/passwd')")}


@dataclass(frozen=True)
class QualityGold:
    """What the quality owner's dashboards must show of the tables written here."""

    validations: int = len(VALIDATIONS)
    failed_validations: int = sum(not ok for *_, ok, _ in VALIDATIONS)
    pass_rates: dict = field(default_factory=lambda: dict(PASS_RATES))
    quarantine: dict = field(default_factory=lambda: dict(QUARANTINE))
    rejected: int = len(REJECTED)
    drivers: tuple = tuple(DRIVERS)


def _validation_rows() -> pa.Table:
    rows = []
    for run_id, day, suite, batch, suite_ok, expectations in VALIDATIONS:
        for expectation, column, rule, elements, unexpected, ok in expectations:
            percent = 100.0 * unexpected / elements
            rows.append({
                "run_id": run_id, "validated_at": dt.datetime.combine(day, dt.time(10)),
                "domain": validations.domain_of(suite), "suite": suite, "batch": batch,
                "suite_success": suite_ok, "expectation": expectation, "column_name": column,
                "rule": rule, "kwargs": json.dumps({"column": column, "mostly": 0.5}),
                "observed_value": f"{unexpected} unexpected ({percent:.2f} %)", "success": ok,
                "element_count": elements, "unexpected_count": unexpected,
                "unexpected_percent": percent,
                "data_docs_page": f"validations/{suite}/{run_id}/{day:%Y%m%d}T100000.000000Z/"
                                  f"{validations.batch_key(batch)}.html",
            })  # fmt: skip
    return pa.Table.from_pylist(rows, schema=validations.SCHEMA)


def _quarantine_tables(lake: Path) -> None:
    """Two quarantine tables as the domains write them."""
    landed_1 = dt.datetime.combine(DAY_1, dt.time(8))
    landed_2 = dt.datetime.combine(DAY_2, dt.time(9))
    lineage = {"_file_sm3": "f" * 64, "_quarantined_at": landed_2}
    positions = [
        (["lon_in_range"], '{"plate":"闽J12345","lon":"1.0","lat":"26.6"}', None, 3, landed_1),
        (["lon_in_range", "lat_in_range"], '{"plate":"闽J54321","lon":"0.5","lat":"90.5"}', None, 7,
         landed_1),
        (["malformed_record"], "xx garbage", "not JSON: Expecting value", 2, landed_2),
    ]  # fmt: skip
    rows = [{"failed_rules": rules, "raw_record": raw, "error": error, "_line": line,
             "_source_file": "landing/telematics/positions/2026-11-01/p.jsonl",
             "_landed_at": landed, **lineage}
            for rules, raw, error, line, landed in positions]  # fmt: skip
    write_deltalake(str(lake / "quarantine" / "telematics__positions"),
                    pa.Table.from_pylist(rows, schema=quarantine_schema(POSITIONS)))  # fmt: skip

    feed = FEED_BY_INTERFACE["baseInfoDriver"]
    raws = [json.dumps({"Address": "350100", "DriverPhone": phone, "DriverName": name,
                        "LicenseId": "350102199001011234"}, ensure_ascii=False)
            for phone, name, _ in DRIVERS]  # fmt: skip
    previews, encrypted = protect_raw(raws, ProtectionKeys.load())  # what landing keeps
    rows = [{"failed_rules": ["missing_key:CompanyId"], "raw_record": preview,
             "raw_record_sm4": sealed, "error": None, "_line": i + 1,
             "_source_file": "landing/ridehailing/baseInfoDriver/2026-11-02/d.jsonl",
             "_landed_at": landed_2, **lineage}
            for i, (preview, sealed) in enumerate(zip(previews, encrypted, strict=True))]  # fmt: skip
    write_deltalake(str(lake / "quarantine" / "ridehailing__baseInfoDriver"),
                    pa.Table.from_pylist(rows, schema=quarantine_schema(feed)))  # fmt: skip


def quality_gold(lake: Path) -> QualityGold:
    """Write the quality owner's ops tables into ``lake``; return what they must show."""
    validations.append_rows(lake, _validation_rows())
    _quarantine_tables(lake)
    quarantine.refresh(lake)
    from transforms.lake.ledger import REJECTED_SCHEMA

    rejected = [{"file_path": path, "domain": domain, "feed": feed, "file_sm3": str(i) * 64,
                 "error": error, "rejected_at": at}
                for i, (path, domain, feed, error, at) in enumerate(REJECTED)]  # fmt: skip
    write_deltalake(str(lake / "ops" / "landing__rejected_files"),  # refresh made it, empty
                    pa.Table.from_pylist(rejected, schema=REJECTED_SCHEMA), mode="append")  # fmt: skip
    events = [{"event_id": f"fixture-{i}", "at": at.replace(tzinfo=dt.UTC), "channel": channel,
               "actor": actor, "action": action, "target": target, "origin": origin,
               "outcome": outcome, "detail": json.dumps(detail, sort_keys=True)}
              for i, (at, channel, actor, action, target, origin, outcome, detail)
              in enumerate(AUDIT)]  # fmt: skip
    write_deltalake(str(audit.AUDIT_LOG.location(lake)),
                    pa.Table.from_pylist(events, schema=audit.SCHEMA), mode="append",
                    configuration={"delta.appendOnly": "true"})  # fmt: skip
    return QualityGold()

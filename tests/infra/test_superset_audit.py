"""Superset's logins and SQL Lab queries reach the lake's ops.audit_log (access.md "Audit"):
accepted and refused logins, a query as it ran (its jurisdiction applied) and a query the DuckDB
lock-down refused, each with who and from where."""

from __future__ import annotations

import json

import pytest
import requests
from deltalake import DeltaTable
from superset_harness import Superset, SupersetApi

from transforms.lake import audit

pytestmark = [pytest.mark.slow]


def _sql_lab(session: SupersetApi, sql: str) -> requests.Response:
    databases = session.get(f"{session.url}/api/v1/database/", timeout=30)
    return session.post(
        f"{session.url}/api/v1/sqllab/execute/",
        json={"database_id": databases.json()["result"][0]["id"], "sql": sql, "schema": "main",
              "runAsync": False},
        timeout=60,
    )  # fmt: skip


def _login(superset: Superset, username: str, password: str) -> int:
    return requests.post(
        f"{superset.url}/api/v1/security/login",
        json={"username": username, "password": password, "provider": "db", "refresh": False},
        timeout=60,
    ).status_code


def test_logins_and_sql_lab_queries_are_audited(superset: Superset, gold_lake) -> None:
    lake = gold_lake.path
    stat = SupersetApi(superset, "stat_1", superset.demo_password)
    assert _login(superset, "stat_1", "not-the-password") == 401
    assert _login(superset, "nobody_at_all", "x") == 401
    ran = _sql_lab(stat, "SELECT count(*) AS n FROM telematics__county_days")
    assert ran.ok, ran.text[:300]
    # a query over a serving view that the lock-down refuses (a settings function)
    refused = _sql_lab(stat, "SELECT current_setting('threads') AS t FROM telematics__county_days")
    assert not refused.ok

    audit.collect_inbox(lake)  # what every `lakehouse` command and pipeline run does
    rows = DeltaTable(str(audit.AUDIT_LOG.location(lake))).to_pyarrow_table().to_pylist()
    seen = [(r["actor"], r["action"], r["outcome"]) for r in rows if r["channel"] == "superset"]
    assert ("stat_1", "login", "ok") in seen
    assert ("stat_1", "login", "denied") in seen
    assert ("nobody_at_all", "login", "denied") in seen
    assert ("stat_1", "sql_lab_query", "ok") in seen
    assert ("stat_1", "query_refused", "denied") in seen
    # (the session's other tests query SQL Lab as stat_1 too: these two are among them)
    queries = {(r["target"], r["outcome"]): r for r in rows
               if r["action"] == "sql_lab_query" and r["actor"] == "stat_1"}  # fmt: skip
    ours = [("SELECT count(*) AS n FROM telematics__county_days", "ok"),
            ("SELECT current_setting('threads') AS t FROM telematics__county_days", "error")]  # fmt: skip
    assert all(q in queries and queries[q]["origin"] for q in ours), sorted(queries)
    unknown = next(r for r in rows if r["actor"] == "nobody_at_all")
    assert json.loads(unknown["detail"]) == {"reason": "unknown user"}
    refusal = next(r for r in rows if r["action"] == "query_refused"
                   and "current_setting('threads')" in r["target"].lower())  # fmt: skip
    assert refusal["actor"] == "stat_1"
    assert "current_setting" in json.loads(refusal["detail"])["reason"]

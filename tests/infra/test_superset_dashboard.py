"""End to end: gold Delta tables -> DuckDB serving file -> Superset -> dashboard in Chromium.

The session-scoped ``superset`` fixture (conftest.py) bootstraps Superset (its own venv) into a
temporary SUPERSET_HOME on a free port, shared with test_superset_assessment.py, and stops it
whatever happens. Here: the chart queries of 动态监控 · 县区日报 through the REST API, the SQL Lab
lock-down, and the rendered dashboard in a browser holding an admin session.
"""

from __future__ import annotations

import pytest
import requests
from superset_harness import (
    ARTIFACTS,
    EMPTY_OR_ERROR_TEXTS,
    Superset,
    SupersetApi,
    dashboard_text,
    day_of,
    logged_in_page,
    open_dashboard,
    wait_for_charts,
)

DASHBOARD_SLUG = "telematics-county-daily"
DASHBOARD_TITLE = "动态监控 · 县区日报"

pytestmark = [pytest.mark.slow, pytest.mark.browser]


def test_chart_queries_return_gold_numbers(api: SupersetApi, gold_lake) -> None:
    frame = gold_lake.county_days
    charts = api.charts(DASHBOARD_SLUG)
    assert set(charts) == {
        "每日上线车辆数",
        "各县区数据合格率",
        "最新一日上线车辆总数",
        "县区日报明细",
    }

    # (a) online vehicles per day and county, with the chart's own metric and series column
    line = charts["每日上线车辆数"]
    query = {"columns": [line["x_axis"], *line["groupby"]], "metrics": line["metrics"]}
    rows = api.query(line, query)
    got = {(day_of(r["day"]), r["county_name"]): r["online_vehicles_sum"] for r in rows}
    expected = frame.groupby(["day", "county_name"])["online_vehicles"].sum().to_dict()
    assert got == expected

    # (b) qualified rate per county = sum(qualified_points) / sum(points)
    bar = charts["各县区数据合格率"]
    rows = api.query(bar, {"columns": [bar["x_axis"]], "metrics": bar["metrics"]})
    sums = frame.groupby("county_name")[["qualified_points", "points"]].sum()
    expected_rate = (sums["qualified_points"] / sums["points"]).to_dict()
    assert {r["county_name"]: r["qualified_rate_overall"] for r in rows} == pytest.approx(
        expected_rate
    )

    # (c) latest day's total online vehicles
    big = charts["最新一日上线车辆总数"]
    rows = api.query(big, {"columns": [big["x_axis"]], "metrics": [big["metric"]]})
    latest = max(rows, key=lambda r: day_of(r["day"]))
    latest_rows = frame[frame["day"] == frame["day"].max()]
    assert latest["online_vehicles_sum"] == latest_rows["online_vehicles"].sum()

    # (d) the raw table
    table = charts["县区日报明细"]
    rows = api.query(table, {"columns": table["all_columns"], "metrics": []})
    assert len(rows) == len(frame)
    assert {r["county_name"] for r in rows} == set(frame["county_name"])


def test_sql_lab_cannot_escape_the_lake(superset: Superset, api: SupersetApi, gold_lake) -> None:
    dbs = api.get(f"{superset.url}/api/v1/database/", timeout=30).json()["result"]
    database_id = next(d["id"] for d in dbs if d["backend"] == "duckdb")

    def execute(sql: str) -> requests.Response:
        return api.post(
            f"{superset.url}/api/v1/sqllab/execute/",
            json={"database_id": database_id, "sql": sql, "schema": "main", "runAsync": False},
            timeout=60,
        )

    ok = execute("SELECT count(*) AS n FROM telematics__county_days")
    assert ok.ok, ok.text
    assert ok.json()["data"][0]["n"] == len(gold_lake.county_days)
    for sql in (
        "SELECT * FROM read_csv('/etc/passwd')",  # outside allowed_directories
        f"COPY (SELECT 1) TO '{gold_lake.path}/gold/x.csv'",  # writes inside the lake
        "SET enable_external_access = true",
        "ATTACH '/tmp/other.duckdb' AS other",
    ):
        resp = execute(sql)
        assert not resp.ok, f"{sql!r} was allowed: {resp.text[:300]}"
    assert not (gold_lake.path / "gold" / "x.csv").exists()


def test_dashboard_renders_in_chromium(superset: Superset, gold_lake) -> None:
    frame = gold_lake.county_days
    last_day = frame["day"].max()
    latest_total = int(frame.loc[frame["day"] == last_day, "online_vehicles"].sum())
    ARTIFACTS.mkdir(exist_ok=True)
    shot = ARTIFACTS / "superset_dashboard.png"
    with logged_in_page(superset, "superset_dashboard") as page:
        open_dashboard(page, superset, DASHBOARD_SLUG, DASHBOARD_TITLE)
        wait_for_charts(page, 4)
        page.screenshot(path=str(shot), full_page=True)

        text = dashboard_text(page, ("日期", "县区", "上线车辆数", "数据合格率"))
        for bad in EMPTY_OR_ERROR_TEXTS:
            assert bad not in text, f"dashboard shows {bad!r}"
        assert page.locator(".ant-alert-error, [data-test=error-message]").count() == 0
        assert page.locator("table tbody tr").count() >= len(frame)
        for county in frame["county_name"].unique():
            assert county in text
        big = page.locator(".header-line").first.inner_text()
        assert big.strip().replace(",", "") == str(latest_total)
        top = frame.sort_values("qualified_rate").iloc[-1]
        assert f"{top['qualified_rate']:.1%}" in text  # table's percent formatting
    assert shot.stat().st_size > 20_000

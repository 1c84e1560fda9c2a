"""End to end: gold Delta tables -> DuckDB serving file -> Superset -> dashboard in Chromium.

Bootstraps Superset (its own venv) into a temporary SUPERSET_HOME on a free port, checks the
chart queries through the REST API and the rendered dashboard through the real login form, and
stops the server whatever happens.
"""

from __future__ import annotations

import datetime as dt
import os
import secrets
import socket
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import requests

REPO_ROOT = Path(__file__).resolve().parents[2]
SUPERSET_DIR = REPO_ROOT / "infra" / "superset"
SUPERSET_VENV = REPO_ROOT / ".venv-superset"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_FLAGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]  # fmt: skip
ARTIFACTS = Path(__file__).resolve().parent / "artifacts"
DASHBOARD_SLUG = "telematics-county-daily"
DASHBOARD_TITLE = "动态监控 · 县区日报"
ADMIN_USER = "admin"
EMPTY_OR_ERROR_TEXTS = ("No results", "没有结果", "暂无数据", "No data", "Unexpected error", "错误")

pytestmark = [
    pytest.mark.slow,
    pytest.mark.browser,
    pytest.mark.skipif(not SUPERSET_VENV.is_dir(), reason="no .venv-superset (see README)"),
]


@dataclass(frozen=True)
class Superset:
    url: str
    password: str


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _run(script: str, args: list[str], env: dict[str, str], timeout: int) -> None:
    cmd = [str(SUPERSET_DIR / script), *args]
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=timeout)
    output = f"{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}"
    assert proc.returncode == 0, f"{script} {args} failed:\n{output}"


@pytest.fixture(scope="module")
def superset(gold_lake, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Superset]:
    home = tmp_path_factory.mktemp("superset_home")
    port = _free_port()
    password = secrets.token_urlsafe(12)
    env = {
        **os.environ,
        "SUPERSET_HOME": str(home),
        "LAKEHOUSE_LAKE": str(gold_lake.path),
        "SUPERSET_PORT": str(port),
        "SUPERSET_ADMIN_USER": ADMIN_USER,
        "SUPERSET_ADMIN_PASSWORD": password,
        "SUPERSET_SECRET_KEY": secrets.token_urlsafe(32),
    }
    env.pop("VIRTUAL_ENV", None)
    _run("bootstrap.sh", [], env, timeout=300)
    assert (home / "serving.duckdb").is_file()
    try:
        _run("run.sh", ["start"], env, timeout=180)
        yield Superset(f"http://127.0.0.1:{port}", password)
    finally:
        subprocess.run([str(SUPERSET_DIR / "run.sh"), "stop"], env=env, timeout=60, check=False)


@pytest.fixture(scope="module")
def api(superset: Superset) -> requests.Session:
    """A session holding a bearer token, the session cookie and the CSRF token."""
    session = requests.Session()
    login = session.post(
        f"{superset.url}/api/v1/security/login",
        json={"username": ADMIN_USER, "password": superset.password, "provider": "db"},
        timeout=30,
    )
    login.raise_for_status()
    session.headers["Authorization"] = f"Bearer {login.json()['access_token']}"
    csrf = session.get(f"{superset.url}/api/v1/security/csrf_token/", timeout=30)
    csrf.raise_for_status()
    session.headers.update({"X-CSRFToken": csrf.json()["result"], "Referer": superset.url})
    return session


def _charts(api: requests.Session, url: str) -> dict[str, dict]:
    resp = api.get(f"{url}/api/v1/dashboard/{DASHBOARD_SLUG}/charts", timeout=30)
    resp.raise_for_status()
    return {chart["slice_name"]: chart["form_data"] for chart in resp.json()["result"]}


def _query(api: requests.Session, url: str, form_data: dict, query: dict) -> list[dict]:
    dataset_id = int(str(form_data["datasource"]).split("__")[0])
    body = {
        "datasource": {"id": dataset_id, "type": "table"},
        "queries": [{"row_limit": 1000, **query}],
        "result_format": "json",
        "result_type": "full",
    }
    resp = api.post(f"{url}/api/v1/chart/data", json=body, timeout=60)
    assert resp.ok, resp.text
    return resp.json()["result"][0]["data"]


def _day(value: object) -> dt.date:
    if isinstance(value, int | float):  # Superset sends temporal values as epoch milliseconds
        return dt.datetime.fromtimestamp(value / 1000, tz=dt.UTC).date()
    return dt.date.fromisoformat(str(value)[:10])


def test_chart_queries_return_gold_numbers(superset: Superset, api, gold_lake) -> None:
    frame = gold_lake.county_days
    charts = _charts(api, superset.url)
    assert set(charts) == {
        "每日上线车辆数",
        "各县区数据合格率",
        "最新一日上线车辆总数",
        "县区日报明细",
    }

    # (a) online vehicles per day and county, with the chart's own metric and series column
    line = charts["每日上线车辆数"]
    query = {"columns": [line["x_axis"], *line["groupby"]], "metrics": line["metrics"]}
    rows = _query(api, superset.url, line, query)
    got = {(_day(r["day"]), r["county_name"]): r["online_vehicles_sum"] for r in rows}
    expected = frame.groupby(["day", "county_name"])["online_vehicles"].sum().to_dict()
    assert got == expected

    # (b) qualified rate per county = sum(qualified_points) / sum(points)
    bar = charts["各县区数据合格率"]
    rows = _query(api, superset.url, bar, {"columns": [bar["x_axis"]], "metrics": bar["metrics"]})
    sums = frame.groupby("county_name")[["qualified_points", "points"]].sum()
    expected_rate = (sums["qualified_points"] / sums["points"]).to_dict()
    assert {r["county_name"]: r["qualified_rate_overall"] for r in rows} == pytest.approx(
        expected_rate
    )

    # (c) latest day's total online vehicles
    big = charts["最新一日上线车辆总数"]
    rows = _query(api, superset.url, big, {"columns": [big["x_axis"]], "metrics": [big["metric"]]})
    latest = max(rows, key=lambda r: _day(r["day"]))
    latest_rows = frame[frame["day"] == frame["day"].max()]
    assert latest["online_vehicles_sum"] == latest_rows["online_vehicles"].sum()

    # (d) the raw table
    table = charts["县区日报明细"]
    rows = _query(api, superset.url, table, {"columns": table["all_columns"], "metrics": []})
    assert len(rows) == len(frame)
    assert {r["county_name"] for r in rows} == set(frame["county_name"])


def test_sql_lab_cannot_escape_the_lake(superset: Superset, api, gold_lake) -> None:
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
    from playwright.sync_api import sync_playwright

    frame = gold_lake.county_days
    last_day = frame["day"].max()
    latest_total = int(frame.loc[frame["day"] == last_day, "online_vehicles"].sum())
    ARTIFACTS.mkdir(exist_ok=True)
    shot = ARTIFACTS / "superset_dashboard.png"
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_FLAGS)
        try:
            page = browser.new_page(viewport={"width": 1600, "height": 1000}, locale="zh-CN")
            page.goto(f"{superset.url}/login/", wait_until="networkidle")
            page.locator("input#username, input[name=username]").first.fill(ADMIN_USER)
            page.locator("input#password, input[name=password]").first.fill(superset.password)
            page.locator("button[type=submit]").first.click()
            page.wait_for_url(lambda u: "/login" not in u, timeout=30_000)

            page.goto(f"{superset.url}/superset/dashboard/{DASHBOARD_SLUG}/")
            page.get_by_text(DASHBOARD_TITLE).first.wait_for(timeout=60_000)
            charts = page.locator(".dashboard-component-chart-holder")
            _wait_until(lambda: charts.count() == 4, "4 chart holders")
            _wait_until(
                lambda: page.locator(".dashboard-component-chart-holder .loading").count() == 0,
                "charts to stop loading",
            )
            # each chart drew something: echarts canvas/svg, the big number, the table rows
            for i in range(4):
                holder = charts.nth(i)
                _wait_until(
                    lambda h=holder: h.locator("canvas, svg, table tbody tr").count() > 0,
                    f"chart {i} to draw",
                )
            page.wait_for_timeout(1500)  # let the echarts animations finish for the screenshot
            page.screenshot(path=str(shot), full_page=True)

            text = page.locator(".dashboard").inner_text()
            for bad in EMPTY_OR_ERROR_TEXTS:
                assert bad not in text, f"dashboard shows {bad!r}"
            assert page.locator(".ant-alert-error, [data-test=error-message]").count() == 0
            assert page.locator("table tbody tr").count() >= len(frame)
            for county in frame["county_name"].unique():
                assert county in text
            big = page.locator(".header-line").first.inner_text()
            assert big.strip().replace(",", "") == str(latest_total)
            for header in ("日期", "县区", "上线车辆数", "数据合格率"):
                assert header in text
            top = frame.sort_values("qualified_rate").iloc[-1]
            assert f"{top['qualified_rate']:.1%}" in text  # table's percent formatting
        finally:
            browser.close()
    assert shot.stat().st_size > 20_000


def _wait_until(predicate, what: str, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.5)
    raise AssertionError(f"timed out waiting for {what}")

"""Shared by the Superset tests: a throw-away server, its REST API and a logged-in Chromium page.

Imported by conftest.py (the session-scoped ``superset`` / ``api`` fixtures: ONE server for every
dashboard test) and by the test modules (helpers).
"""

from __future__ import annotations

import datetime as dt
import os
import secrets
import socket
import subprocess
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

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
ADMIN_USER = "admin"
EMPTY_OR_ERROR_TEXTS = ("No results", "没有结果", "暂无数据", "No data", "Unexpected error", "错误")


@dataclass(frozen=True)
class Superset:
    url: str
    password: str


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def run_script(script: str, args: list[str], env: dict[str, str], timeout: int) -> None:
    cmd = [str(SUPERSET_DIR / script), *args]
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=timeout)
    output = f"{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}"
    assert proc.returncode == 0, f"{script} {args} failed:\n{output}"


@contextmanager
def running_superset(lake: Path, home: Path) -> Iterator[Superset]:
    """bootstrap.sh + run.sh start over ``lake`` in ``home`` on a free port; stopped on exit."""
    port = free_port()
    password = secrets.token_urlsafe(12)
    env = {
        **os.environ,
        "SUPERSET_HOME": str(home),
        "LAKEHOUSE_LAKE": str(lake),
        "SUPERSET_PORT": str(port),
        "SUPERSET_ADMIN_USER": ADMIN_USER,
        "SUPERSET_ADMIN_PASSWORD": password,
        "SUPERSET_SECRET_KEY": secrets.token_urlsafe(32),
    }
    env.pop("VIRTUAL_ENV", None)
    run_script("bootstrap.sh", [], env, timeout=300)
    assert (home / "serving.duckdb").is_file()
    try:
        run_script("run.sh", ["start"], env, timeout=180)
        yield Superset(f"http://127.0.0.1:{port}", password)
    finally:
        subprocess.run([str(SUPERSET_DIR / "run.sh"), "stop"], env=env, timeout=60, check=False)


class SupersetApi(requests.Session):
    """A session holding a bearer token, the session cookie and the CSRF token."""

    def __init__(self, superset: Superset) -> None:
        super().__init__()
        self.url = superset.url
        login = self.post(
            f"{self.url}/api/v1/security/login",
            json={"username": ADMIN_USER, "password": superset.password, "provider": "db"},
            timeout=30,
        )
        login.raise_for_status()
        self.headers["Authorization"] = f"Bearer {login.json()['access_token']}"
        csrf = self.get(f"{self.url}/api/v1/security/csrf_token/", timeout=30)
        csrf.raise_for_status()
        self.headers.update({"X-CSRFToken": csrf.json()["result"], "Referer": self.url})

    def charts(self, slug: str) -> dict[str, dict]:
        """``{slice_name: form_data}`` of the charts of dashboard ``slug``."""
        resp = self.get(f"{self.url}/api/v1/dashboard/{slug}/charts", timeout=30)
        resp.raise_for_status()
        return {chart["slice_name"]: chart["form_data"] for chart in resp.json()["result"]}

    def query(self, form_data: dict, query: dict) -> list[dict]:
        """Rows of ``/api/v1/chart/data`` for ``query`` on the chart's dataset."""
        dataset_id = int(str(form_data["datasource"]).split("__")[0])
        body = {
            "datasource": {"id": dataset_id, "type": "table"},
            "queries": [{"row_limit": 1000, **query}],
            "result_format": "json",
            "result_type": "full",
        }
        resp = self.post(f"{self.url}/api/v1/chart/data", json=body, timeout=60)
        assert resp.ok, resp.text
        return resp.json()["result"][0]["data"]


def chart_filters(form_data: dict) -> list[dict]:
    """The chart's SIMPLE adhoc filters as query-object filters."""
    ops = {"==": "==", "!=": "!=", "IN": "IN", "NOT IN": "NOT IN"}
    return [
        {"col": f["subject"], "op": ops[f["operator"]], "val": f["comparator"]}
        for f in form_data.get("adhoc_filters", [])
        if f.get("expressionType") == "SIMPLE"
    ]


def day_of(value: object) -> dt.date:
    if isinstance(value, int | float):  # Superset sends temporal values as epoch milliseconds
        return dt.datetime.fromtimestamp(value / 1000, tz=dt.UTC).date()
    return dt.date.fromisoformat(str(value)[:10])


def wait_until(predicate: Callable[[], bool], what: str, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.5)
    raise AssertionError(f"timed out waiting for {what}")


@contextmanager
def logged_in_page(superset: Superset, viewport: dict | None = None):
    """A headless Chromium page logged in through the real login form."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_FLAGS)
        try:
            page = browser.new_page(
                viewport=viewport or {"width": 1600, "height": 1000}, locale="zh-CN"
            )
            _log_in(page, superset)
            yield page
        finally:
            browser.close()


def _log_in(page, superset: Superset, attempts: int = 3) -> None:
    """Fill and submit the login form until the browser leaves /login.

    The form is a React page: on a loaded machine a click can land before it is wired up, and then
    nothing navigates. Each attempt reloads the form, checks the filled values and waits 45 s; a
    failed attempt leaves a screenshot in ARTIFACTS and the page text in the error.
    """
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    text = ""
    for attempt in range(1, attempts + 1):
        page.goto(f"{superset.url}/login/", wait_until="networkidle")
        user = page.locator("input#username, input[name=username]").first
        password = page.locator("input#password, input[name=password]").first
        submit = page.locator("button[type=submit]").first
        submit.wait_for(state="visible", timeout=60_000)
        user.fill(ADMIN_USER)
        password.fill(superset.password)
        if user.input_value() != ADMIN_USER or password.input_value() != superset.password:
            continue  # the form re-rendered under us: reload and fill again
        submit.click()
        try:
            page.wait_for_url(lambda u: "/login" not in u, timeout=45_000)
            return
        except PlaywrightTimeout:
            ARTIFACTS.mkdir(exist_ok=True)
            page.screenshot(path=str(ARTIFACTS / f"login-attempt-{attempt}.png"))
            text = page.locator("body").inner_text()[:500]
    raise AssertionError(f"still on the login page after {attempts} attempts: {text!r}")


def wait_for_charts(page, count: int) -> None:
    """Wait until ``count`` chart holders finished loading and each drew something, and still do
    once the network is idle: the native filters' defaults can apply after a first render and
    redraw every chart (a run once read an empty grid there)."""
    _charts_drawn(page, count)
    page.wait_for_load_state("networkidle")
    _charts_drawn(page, count)


def _charts_drawn(page, count: int) -> None:
    charts = page.locator(".dashboard-component-chart-holder")
    wait_until(lambda: charts.count() == count, f"{count} chart holders")
    wait_until(
        lambda: page.locator(".dashboard-component-chart-holder .loading").count() == 0,
        "charts to stop loading",
    )
    # each chart drew something: echarts canvas/svg, a big number, table rows
    for i in range(count):
        holder = charts.nth(i)
        wait_until(
            lambda h=holder: h.locator("canvas, svg, table tbody tr, .header-line").count() > 0,
            f"chart {i} to draw",
        )

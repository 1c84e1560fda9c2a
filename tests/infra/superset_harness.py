"""Shared by the Superset tests: a throw-away server, its REST API and a logged-in Chromium page.

Imported by conftest.py (the session-scoped ``superset`` / ``api`` fixtures: ONE server for every
dashboard test) and by the test modules (helpers). A missing Superset environment (venv, Chromium,
Playwright) fails the tests with what to install; nothing is skipped. The browser logs in over HTTP
(the login form's POST with its CSRF token) and waits on what it can observe (chart holders,
chart-data responses, canvases that stopped changing), never on a fixed delay.
"""

from __future__ import annotations

import datetime as dt
import importlib.util
import json
import os
import re
import secrets
import socket
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
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
ADMIN_USER = "admin"
EMPTY_OR_ERROR_TEXTS = ("No results", "没有结果", "暂无数据", "No data", "Unexpected error", "错误")


@dataclass(frozen=True)
class Superset:
    url: str
    password: str  # the admin's
    demo_password: str = ""  # SUPERSET_DEMO_PASSWORD: the users of infra/superset/users.yaml
    env: dict[str, str] = field(default_factory=dict, compare=False, hash=False)  # of bootstrap


def require_superset_env() -> None:
    """Fail (never skip) when the Superset virtualenv is missing."""
    superset_bin = SUPERSET_VENV / "bin" / "superset"
    if not superset_bin.is_file():
        pytest.fail(
            f"no Superset environment: {superset_bin} is missing. Install it with `make install` "
            "or the commands of infra/superset/README.md (Set up and run)",
            pytrace=False,
        )


def require_browser() -> None:
    """Fail (never skip) when Chromium or Playwright is missing."""
    missing = []
    if not Path(CHROMIUM).is_file():
        missing.append(f"{CHROMIUM} (Debian package `chromium`, plus `fonts-wqy-microhei`)")
    if importlib.util.find_spec("playwright") is None:
        missing.append("the `playwright` Python package in the main venv")
    if missing:
        pytest.fail(f"no browser for the dashboard tests: {'; '.join(missing)}", pytrace=False)


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
    demo_password = secrets.token_urlsafe(12)
    env = {
        **os.environ,
        "SUPERSET_HOME": str(home),
        "LAKEHOUSE_LAKE": str(lake),
        "SUPERSET_PORT": str(port),
        "SUPERSET_ADMIN_USER": ADMIN_USER,
        "SUPERSET_ADMIN_PASSWORD": password,
        "SUPERSET_SECRET_KEY": secrets.token_urlsafe(32),
        "SUPERSET_DEMO_PASSWORD": demo_password,
    }
    env.pop("VIRTUAL_ENV", None)
    run_script("bootstrap.sh", [], env, timeout=300)
    assert (home / "serving.duckdb").is_file()
    try:
        run_script("run.sh", ["start"], env, timeout=180)
        yield Superset(f"http://127.0.0.1:{port}", password, demo_password, env)
    finally:
        subprocess.run([str(SUPERSET_DIR / "run.sh"), "stop"], env=env, timeout=60, check=False)


class SupersetApi(requests.Session):
    """A session holding a bearer token, the session cookie and the CSRF token (of the admin, or
    of ``username`` / ``password``)."""

    def __init__(
        self, superset: Superset, username: str = ADMIN_USER, password: str | None = None
    ) -> None:
        super().__init__()
        self.url = superset.url
        self.username = username
        login = self.post(
            f"{self.url}/api/v1/security/login",
            json={"username": username, "password": password or superset.password,
                  "provider": "db"},
            timeout=30,
        )  # fmt: skip
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

    def native_filters(self, slug: str) -> list[dict]:
        """The native filters of dashboard ``slug`` as provisioned (its ``json_metadata``)."""
        resp = self.get(f"{self.url}/api/v1/dashboard/{slug}", timeout=30)
        resp.raise_for_status()
        return json.loads(resp.json()["result"]["json_metadata"])["native_filter_configuration"]

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


def assert_complete_months_offered(api: SupersetApi, slug: str, ranking: dict, known) -> None:
    """A monthly dashboard's 统计月份 filter: ``is_complete`` is computed at query time (the
    view's ``reached_today`` flag) and the filter offers the complete months, latest first, its
    default the last complete month. ``ranking``: a chart on the monthly dataset; ``known``: its
    ``earlier`` and ``last`` (complete) and ``current`` (incomplete) periods."""
    rows = api.query(ranking, {"columns": ["period", "is_complete"], "metrics": []})
    assert {r["period"]: r["is_complete"] for r in rows} == {
        known.earlier: True, known.last: True, known.current: False,
    }  # fmt: skip
    (month_filter,) = api.native_filters(slug)
    assert month_filter["name"] == "统计月份"
    assert month_filter["controlValues"]["defaultToFirstItem"] is True
    assert month_filter["controlValues"]["sortAscending"] is False
    (only,) = month_filter["adhoc_filters"]
    options = api.query(ranking, {"columns": ["period"], "metrics": [],
                                  "extras": {"where": only["sqlExpression"]}})  # fmt: skip
    assert sorted({r["period"] for r in options}, reverse=True) == [known.last, known.earlier]


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


def login_session(
    superset: Superset, username: str = ADMIN_USER, password: str | None = None
) -> requests.Session:
    """A requests session logged in as the login page does (POST /login/ with the CSRF token of
    the page): the session cookie, the CSRF token as a header (for session-only endpoints)."""
    http = requests.Session()
    page = http.get(f"{superset.url}/login/", timeout=60)
    page.raise_for_status()
    token = re.search(r'id="csrf_token"[^>]*value="([^"]+)"', page.text) or re.search(
        r'value="([^"]+)"[^>]*id="csrf_token"', page.text
    )
    assert token, f"no csrf_token on {superset.url}/login/: {page.text[:300]!r}"
    done = http.post(
        f"{superset.url}/login/",
        data={"username": username, "password": password or superset.password,
              "csrf_token": token.group(1)},
        timeout=60,
    )  # fmt: skip
    done.raise_for_status()
    me = http.get(f"{superset.url}/api/v1/me/", timeout=60)
    assert me.ok, f"login as {username} failed: /api/v1/me/ answered {me.status_code}"
    http.headers.update({"X-CSRFToken": token.group(1), "Referer": superset.url})
    return http


def login_cookies(superset: Superset) -> list[dict]:
    """Log in as the admin over HTTP (``login_session``) and return the session cookies for a
    browser context."""
    with login_session(superset) as http:
        return [
            {"name": c.name, "value": c.value, "url": superset.url} for c in http.cookies if c.value
        ]


@contextmanager
def logged_in_page(
    superset: Superset,
    name: str,
    viewport: dict | None = None,
    user: tuple[str, str] | None = None,
):
    """A headless Chromium page whose context holds an admin session (``login_cookies``), or
    that logged in as ``user`` (username, password) through the login page's form.

    If the block fails, the page is saved as ``ARTIFACTS/<name>-failure.png`` first.
    """
    require_browser()
    from playwright.sync_api import sync_playwright

    cookies = login_cookies(superset) if user is None else []
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_FLAGS)
        try:
            context = browser.new_context(
                viewport=viewport or {"width": 1600, "height": 1000}, locale="zh-CN"
            )
            if cookies:
                context.add_cookies(cookies)
            page = context.new_page()
            try:
                if user is not None:
                    log_in_through_the_form(page, superset, *user)
                yield page
            except BaseException:
                ARTIFACTS.mkdir(exist_ok=True)
                page.screenshot(path=str(ARTIFACTS / f"{name}-failure.png"), full_page=True)
                raise
        finally:
            browser.close()


def log_in_through_the_form(page, superset: Superset, username: str, password: str) -> None:
    """Type ``username`` / ``password`` into the login page and submit, as a person does; waits
    until the form's POST was answered and the browser was sent off the login page.

    The form is filled only once the login page's own requests are over: the session lives in a
    cookie, and the page's fetch of its language pack (redirected to the login, with a new
    anonymous session cookie) still running when the login was answered overwrote the logged-in
    cookie — the browser was sent back to the login page (once in CI, once here). Waits for the
    page after the login to be committed, not loaded (it is never used). A POST answered with an
    error, or a redirect back to the login page, fails at once with what the server said."""
    from playwright.sync_api import expect

    page.goto(f"{superset.url}/login/", wait_until="networkidle")
    fields = {"username-input": username, "password-input": password}
    for test_id, value in fields.items():
        page.locator(f"[data-test={test_id}]").fill(value)
    for test_id, value in fields.items():  # the form holds them (not reset by a late render)
        expect(page.locator(f"[data-test={test_id}]")).to_have_value(value, timeout=30_000)
    chain: list[str] = []  # the documents the browser was sent to, for a failure's message

    def note(response) -> None:
        if response.request.resource_type == "document":
            to = response.headers.get("location", "")
            chain.append(f"{response.request.method} {response.url} → {response.status} {to}")

    page.on("response", note)
    with page.expect_response(
        lambda r: r.request.method == "POST" and "/login" in r.url, timeout=90_000
    ) as posted:
        page.locator("[data-test=login-button]").click()
    answer = posted.value
    target = answer.headers.get("location", "")
    if answer.status not in (302, 303) or "/login" in target:
        try:
            body = answer.text()[:300]
        except Exception as exc:  # a redirect has no body to read
            body = f"(no body: {exc})"
        pytest.fail(f"logging in as {username}: POST {answer.url} answered {answer.status} "
                    f"(to {target!r}): {body!r}")  # fmt: skip
    try:
        page.wait_for_url(lambda url: "/login" not in url, wait_until="commit", timeout=90_000)
    except Exception as exc:
        pytest.fail(f"logging in as {username}: still at {page.url} after {chain}: {exc}")
    finally:
        page.remove_listener("response", note)


def dashboard_text(page, labels: tuple[str, ...] | list[str] = ()) -> str:
    """The text of the open dashboard once it shows every one of ``labels``: a web-first wait,
    as the grid can redraw after the charts settled (a run read an empty dashboard right after
    its full-page screenshot once)."""
    from playwright.sync_api import expect

    dashboard = page.locator(".dashboard")
    expect(dashboard).not_to_have_text("", timeout=60_000)
    for label in labels:
        expect(dashboard).to_contain_text(label, timeout=60_000)
    return dashboard.inner_text()


def open_dashboard(page, superset: Superset, slug: str, title: str) -> None:
    """Go to dashboard ``slug`` and wait for its title; fails if the session was not accepted."""
    from playwright.sync_api import expect

    page.goto(f"{superset.url}/superset/dashboard/{slug}/")
    assert "/login" not in page.url, f"the browser session was not accepted: at {page.url}"
    expect(page.get_by_text(title).first).to_be_visible(timeout=90_000)


def active_tab(page):
    """The pane of the dashboard's active tab (the innermost, for nested tabs) — a pane visited
    before stays in the page, hidden."""
    return (
        page.locator(".ant-tabs-tabpane-active")
        .filter(has=page.locator(".dashboard-component-chart-holder"))
        .last
    )


def open_tab(page, name: str) -> None:
    """Click the visible dashboard tab called ``name``."""
    page.locator(".ant-tabs-tab:visible").filter(has_text=name).click()


def wait_for_charts(page, count: int, scope=None) -> None:
    """Wait until ``count`` chart holders (of ``scope``, e.g. `active_tab(page)`; default the
    page) finished loading and each drew something, and still do once the network is idle: the
    native filters' defaults can apply after a first render and redraw every chart (a run once
    read an empty grid there). Then wait until the canvases stop changing (the echarts
    animations are over), so a screenshot shows the final charts."""
    scope = page if scope is None else scope
    _charts_drawn(scope, count)
    page.wait_for_load_state("networkidle", timeout=120_000)
    _charts_drawn(scope, count)
    # two samples of every canvas, 300 ms apart (polling), equal: nothing animates any more
    page.wait_for_function(
        """() => {
            const now = [...document.querySelectorAll('.dashboard-component-chart-holder canvas')]
                .map(c => c.toDataURL()).join('|');
            const still = window.__lakehouseCanvases === now;
            window.__lakehouseCanvases = now;
            return still;
        }""",
        polling=300,
        timeout=60_000,
    )


def _charts_drawn(scope, count: int) -> None:
    from playwright.sync_api import expect

    charts = scope.locator(".dashboard-component-chart-holder")
    expect(charts).to_have_count(count, timeout=90_000)
    loading = scope.locator(".dashboard-component-chart-holder .loading")
    expect(loading).to_have_count(0, timeout=90_000)
    # each chart drew something: echarts canvas/svg, a big number, table rows
    for i in range(count):
        drawn = charts.nth(i).locator("canvas, svg, table tbody tr, .header-line")
        expect(drawn.first).to_be_attached(timeout=60_000)

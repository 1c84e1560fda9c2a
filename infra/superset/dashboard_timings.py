"""How long each Superset dashboard takes to draw, as a regulator opening it would wait.

Opens every dashboard (or those named) in headless Chromium, logged in through the login form,
and times from navigation until every chart of the tab it opens on has finished loading and drawn
something (a canvas or SVG, a big number, table rows) or said it has no rows; "charts" prints how
many were drawn of the dashboard's total (the other tabs draw when chosen). Each dashboard is opened ``--runs`` times
in one browser: the first opening is *cold* (the browser has nothing of the dashboard yet, and
the server's query results are whatever its cache holds: right after `make demo` or a pipeline
run, nothing), the following ones *warm*, of which the median is printed. Prints one line per
dashboard and whether it is within the targets (issue 13: ≤ 3 s warm, ≤ 8 s cold).

Runs in the main environment (Playwright is a dev dependency there), against any
running Superset, e.g. after `make demo`:

    uv run python infra/superset/dashboard_timings.py            # http://127.0.0.1:$SUPERSET_PORT
    uv run python infra/superset/dashboard_timings.py --json --dashboard telematics-assessment

Exit status: 0, or 1 with ``--check`` when a dashboard misses a target, 2 when one does not draw.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from dataclasses import asdict, dataclass
from typing import Any

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_FLAGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]  # fmt: skip
WARM_TARGET_S = 3.0
COLD_TARGET_S = 8.0
# every chart of the open tab finished loading and drew something — or showed that it has no
# rows (an empty result is an answer too); charts of other tabs are not drawn until chosen
EMPTY_TEXTS = ("No results", "没有结果", "暂无数据", "No data")
ALL_DRAWN = """(empty) => {
    const holders = [...document.querySelectorAll('.dashboard-component-chart-holder')];
    if (holders.length === 0) return false;
    if (document.querySelector('.dashboard-component-chart-holder .loading')) return false;
    return holders.every(h => h.querySelector('canvas, svg, table tbody tr, .header-line')
        || empty.some(t => h.innerText.includes(t)));
}"""
DRAWN_HOLDERS = "() => document.querySelectorAll('.dashboard-component-chart-holder').length"


@dataclass
class Timing:
    slug: str
    title: str
    charts: int  # on the dashboard (every tab)
    drawn: int  # drawn on opening (the first tab's)
    cold_s: float | None
    warm_s: float | None  # the median of the warm openings
    error: str | None = None

    @property
    def within_targets(self) -> bool:
        return (
            self.error is None
            and self.cold_s is not None
            and self.cold_s <= COLD_TARGET_S
            and (self.warm_s is None or self.warm_s <= WARM_TARGET_S)
        )


def dashboards(request: Any, url: str) -> list[tuple[str, str, int]]:
    """(slug, title, number of charts) of every dashboard the user can open, by slug, through
    ``request`` (the logged-in browser's API requests: one login, as Superset limits them)."""

    def get(path: str) -> Any:
        resp = request.get(f"{url}{path}", timeout=60_000)
        if not resp.ok:
            raise RuntimeError(f"{path}: HTTP {resp.status}")
        return resp.json()

    out = []
    for d in get("/api/v1/dashboard/?q=(page_size:100)")["result"]:
        slug = d.get("slug") or str(d["id"])
        charts = get(f"/api/v1/dashboard/{d['id']}/charts")["result"]
        out.append((slug, d["dashboard_title"], len(charts)))
    return sorted(out)


def time_dashboards(
    url: str,
    username: str,
    password: str,
    slugs: list[str] | None = None,
    runs: int = 3,
    timeout_s: float = 120.0,
    progress=None,
) -> list[Timing]:
    """Open each dashboard ``runs`` times in one headless Chromium and time it (module doc)."""
    from playwright.sync_api import sync_playwright

    say = progress or (lambda _m: None)
    timings = []
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_FLAGS)
        try:
            page = browser.new_context(
                viewport={"width": 1600, "height": 1000}, locale="zh-CN"
            ).new_page()
            page.goto(f"{url}/login/")
            page.locator("[data-test=username-input]").fill(username)
            page.locator("[data-test=password-input]").fill(password)
            page.locator("[data-test=login-button]").click()
            page.wait_for_url(lambda u: "/login" not in u, timeout=60_000)
            listed = dashboards(page.request, url)
            if slugs:
                unknown = sorted(set(slugs) - {s for s, _, _ in listed})
                if unknown:
                    raise SystemExit(
                        f"no dashboard {', '.join(unknown)}; "
                        f"there are: {', '.join(s for s, _, _ in listed)}"
                    )
                listed = [d for d in listed if d[0] in slugs]
            for slug, title, charts in listed:
                seconds, error, drawn = [], None, 0
                for _ in range(max(1, runs)):
                    start = time.perf_counter()
                    try:
                        page.goto(f"{url}/superset/dashboard/{slug}/")
                        page.wait_for_function(
                            ALL_DRAWN, arg=list(EMPTY_TEXTS), timeout=timeout_s * 1000
                        )
                    except Exception as exc:  # noqa: BLE001 - reported per dashboard
                        error = f"{type(exc).__name__}: {str(exc).splitlines()[0][:120]}"
                        break
                    seconds.append(time.perf_counter() - start)
                    drawn = page.evaluate(DRAWN_HOLDERS)
                timing = Timing(
                    slug, title, charts, drawn,
                    cold_s=round(seconds[0], 2) if seconds else None,
                    warm_s=round(statistics.median(seconds[1:]), 2) if len(seconds) > 1 else None,
                    error=error,
                )  # fmt: skip
                say(_line(timing))
                timings.append(timing)
        finally:
            browser.close()
    return timings


def _line(t: Timing) -> str:
    def sec(v: float | None) -> str:
        return "—" if v is None else f"{v:.2f} s"

    verdict = t.error or ("ok" if t.within_targets else "SLOW")
    charts = f"{t.drawn}/{t.charts}"
    return f"{t.slug:<32} {charts:>7} {sec(t.cold_s):>9} {sec(t.warm_s):>9}  {verdict}  {t.title}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description="Time every Superset dashboard to all charts drawn, in headless Chromium "
        f"(targets: ≤ {COLD_TARGET_S:g} s cold, ≤ {WARM_TARGET_S:g} s warm)."
    )
    port = os.environ.get("SUPERSET_PORT", "8088")
    parser.add_argument("--url", default=f"http://127.0.0.1:{port}", help="Superset's address")
    parser.add_argument("--username", default=os.environ.get("SUPERSET_ADMIN_USER", "admin"))
    parser.add_argument(
        "--password",
        default=os.environ.get("SUPERSET_ADMIN_PASSWORD", "lakehouse-demo"),
        help="[default: $SUPERSET_ADMIN_PASSWORD, else the demo's]",
    )
    parser.add_argument("--dashboard", action="append", help="a slug (repeatable); default: all")
    parser.add_argument("--runs", type=int, default=3, help="openings per dashboard (1 cold)")
    parser.add_argument("--json", action="store_true", help="print JSON instead of a table")
    parser.add_argument("--check", action="store_true", help="exit 1 when a target is missed")
    args = parser.parse_args(argv)
    if not os.path.isfile(CHROMIUM):
        print(f"no browser: {CHROMIUM} (Debian package `chromium`)", file=sys.stderr)
        return 2
    if not args.json:
        print(f"{'dashboard':<32} {'charts':>7} {'cold':>9} {'warm':>9}  verdict  title")
    timings = time_dashboards(
        args.url, args.username, args.password, args.dashboard, args.runs,
        progress=None if args.json else print,
    )  # fmt: skip
    if args.json:
        print(json.dumps([{**asdict(t), "within_targets": t.within_targets} for t in timings],
                         ensure_ascii=False, indent=2))  # fmt: skip
    if any(t.error for t in timings):
        return 2
    return 1 if args.check and not all(t.within_targets for t in timings) else 0


if __name__ == "__main__":
    sys.exit(main())

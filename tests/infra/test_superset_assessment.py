"""动态监控 · 月度考核: the Issue 3 views, their chart queries and the dashboard in Chromium.

Shares the session-scoped Superset of conftest.py with test_superset_dashboard.py. The known
values come from conftest.py's gold frames (ranked assessments, violations, rectification items).
"""

from __future__ import annotations

import json

import pytest
from conftest import MONTH_1, MONTH_2
from superset_harness import (
    ARTIFACTS,
    EMPTY_OR_ERROR_TEXTS,
    Superset,
    SupersetApi,
    active_tab,
    chart_filters,
    logged_in_page,
    open_dashboard,
    open_tab,
    wait_for_charts,
)

SLUG = "telematics-assessment"
TITLE = "动态监控 · 月度考核"
RANKINGS = {"county": "县区考核排名", "enterprise": "企业考核排名", "platform": "平台考核排名"}
TREND, VIOLATIONS, RECTIFICATION = (
    "指标趋势（月度，各对象平均）",
    "违法违规事件（按类型、县区）",
    "整改清单",
)
PLATFORMS = "平台连通率与查岗响应率"
KPIS = ("本月考核不合格对象", "本月违法违规事件", "未销号整改项")
TABS = ("考核结果与排名", "指标趋势与违法违规", "整改清单")  # the first opens with the page
KIND_LABELS = {
    "overspeed": "超速", "fatigue": "疲劳驾驶", "bus_night_running": "凌晨2-5时运行",
    "off_route": "不按核定线路", "out_of_region": "超区域经营", "daily_driving_over": "日驾驶超时",
    "drift_jump": "定位漂移",
}  # fmt: skip
LATEST = {"col": "period", "op": "==", "val": MONTH_2}  # what the 考核月份 filter defaults to

pytestmark = [pytest.mark.slow, pytest.mark.browser]


@pytest.fixture(scope="module")
def known(gold_lake):
    if gold_lake.assessments is None:
        pytest.skip("LAKEHOUSE_TEST_GOLD_LAKE: no known 月度考核 values")
    return gold_lake


@pytest.fixture(scope="module")
def charts(api: SupersetApi) -> dict[str, dict]:
    return api.charts(SLUG)


def test_dashboard_has_the_charts(charts) -> None:
    assert set(charts) == {*RANKINGS.values(), TREND, VIOLATIONS, RECTIFICATION, PLATFORMS, *KPIS}


@pytest.mark.parametrize("level", RANKINGS)
def test_ranking_is_by_score_with_pass_labels(api, charts, known, level) -> None:
    form = charts[RANKINGS[level]]
    assert form["all_columns"][:4] == ["score_rank", "subject_name", "score", "passed_label"]
    orderby = [json.loads(o) for o in form["order_by_cols"]]
    rows = api.query(form, {"columns": form["all_columns"], "orderby": orderby,
                            "filters": [*chart_filters(form), LATEST]})  # fmt: skip
    a = known.assessments
    want = a[(a.level == level) & (a.period_type == "month") & (a.period == MONTH_2)]
    want = want.sort_values("score", ascending=False)
    assert [r["subject_name"] for r in rows] == list(want["subject_name"])
    assert [r["score"] for r in rows] == pytest.approx(list(want["score"]))
    assert [r["score_rank"] for r in rows] == list(range(1, len(want) + 1))
    assert [r["passed_label"] for r in rows] == ["合格" if p else "不合格" for p in want["passed"]]
    assert "不合格" in {r["passed_label"] for r in rows}


def test_ranking_month_filter_picks_the_month(api, charts, known) -> None:
    form = charts[RANKINGS["county"]]
    rows = api.query(form, {"columns": ["subject_name", "score"], "filters": [
        *chart_filters(form), {"col": "period", "op": "==", "val": MONTH_1}]})  # fmt: skip
    a = known.assessments
    want = a[(a.level == "county") & (a.period == MONTH_1)].set_index("subject_name")["score"]
    assert {r["subject_name"]: r["score"] for r in rows} == pytest.approx(want.to_dict())


def test_violations_by_kind_and_county(api, charts, known) -> None:
    form = charts[VIOLATIONS]
    assert (form["x_axis"], form["groupby"]) == ("kind_label", ["county_name"])
    rows = api.query(form, {"columns": ["kind_label"], "metrics": form["metrics"],
                            "filters": [LATEST]})  # fmt: skip
    events = known.violations
    latest = events[events.day.map(lambda d: d.strftime("%Y-%m")) == MONTH_2]
    want = latest.groupby("kind").size().rename(index=KIND_LABELS).to_dict()
    assert {r["kind_label"]: r["events"] for r in rows} == want
    assert want["超速"] == 4 and want["定位漂移"] == 1

    # by county: the CURRENT vehicle version counts (京A12345 moved 福安市 -> 蕉城区)
    rows = api.query(form, {"columns": ["county_name"], "metrics": form["metrics"],
                            "filters": [LATEST]})  # fmt: skip
    assert {r["county_name"]: r["events"] for r in rows} == {
        "蕉城区": 4, "福安市": 3, "鼓楼区": 3, "未登记车辆": 1,
    }  # fmt: skip


def test_rectification_statuses(api, charts, known) -> None:
    form = charts[RECTIFICATION]
    assert form["all_columns"][0] == "status_label"
    orderby = [json.loads(o) for o in form["order_by_cols"]]
    rows = api.query(form, {"columns": form["all_columns"], "orderby": orderby})
    assert {r["subject_name"]: r["status_label"] for r in rows} == known.rectification_status
    order = [r["status_label"] for r in rows]
    rank = {"逾期": 0, "未整改": 1, "已报告": 2, "已销号": 3}
    assert order == sorted(order, key=rank.__getitem__)  # unresolved first


def test_platform_connectivity_and_checks(api, charts, known) -> None:
    form = charts[PLATFORMS]
    rows = api.query(form, {"columns": [form["x_axis"]], "metrics": form["metrics"],
                            "filters": [*chart_filters(form), LATEST]})  # fmt: skip
    a = known.assessments
    want = a[(a.level == "platform") & (a.period == MONTH_2) & (a.period_type == "month")]
    got = {r["subject_name"]: (r["avg_platform_connectivity_rate"], r["avg_check_response_rate"])
           for r in rows}  # fmt: skip
    assert got == {
        r.subject_name: pytest.approx((r.platform_connectivity_rate, r.check_response_rate))
        for r in want.itertuples()
    }


def test_trend_is_the_monthly_mean_per_level(api, charts, known) -> None:
    form = charts[TREND]
    assert form["x_axis"] == "period"
    rows = api.query(form, {"columns": ["period"], "metrics": form["metrics"],
                            "filters": [*chart_filters(form),
                                        {"col": "level_label", "op": "==", "val": "县区"}]})  # fmt: skip
    a = known.assessments
    want = a[(a.level == "county") & (a.period_type == "month")].groupby("period")
    want = want["online_rate"].mean().to_dict()
    assert {r["period"]: r["avg_online_rate"] for r in rows} == pytest.approx(want)
    assert set(want) == {MONTH_1, MONTH_2}


def test_assessment_dashboard_renders_in_chromium(superset: Superset, known) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    shot = ARTIFACTS / "superset_assessment.png"
    chart_data: list[dict] = []
    with logged_in_page(superset, "superset_assessment", {"width": 1600, "height": 1200}) as page:

        def record(response) -> None:
            if "/api/v1/chart/data" in response.url and response.request.method == "POST":
                try:
                    chart_data.append(response.json())
                except Exception:  # noqa: BLE001 - a failed call shows up as a missing chart
                    chart_data.append({"error": response.status})

        page.on("response", record)
        open_dashboard(page, superset, SLUG, TITLE)
        assert [t.strip() for t in page.locator(".ant-tabs-tab").all_inner_texts()] == list(TABS)
        # the first tab: what a regulator sees on opening — KPIs and the rankings, 7 charts
        wait_for_charts(page, 7, active_tab(page))
        page.screenshot(path=str(shot), full_page=True)
        texts = [page.locator("body").inner_text()]  # + the header and the filter bar

        # the county ranking, in score order, for the default (latest) month
        holder = page.locator(".dashboard-component-chart-holder", has_text=RANKINGS["county"])
        names = holder.locator("table tbody tr td:nth-child(2)").all_inner_texts()
        a = known.assessments
        want = a[(a.level == "county") & (a.period == MONTH_2) & (a.period_type == "month")]
        assert names == list(want.sort_values("score", ascending=False)["subject_name"])
        assert "92.5" in holder.inner_text() and "96.0%" in holder.inner_text()

        big = [t.strip() for t in page.locator(".header-line").all_inner_texts()]
        assert big == ["3", "10", "4"]  # failed subjects, violations w/o drift, unresolved items
        # the other tabs' charts are not drawn (nor queried) before their tab is opened
        assert page.locator(".dashboard-component-chart-holder").count() == 7

        for tab, count in ((TABS[1], 2), (TABS[2], 1)):
            open_tab(page, tab)
            wait_for_charts(page, count, active_tab(page))
            page.screenshot(path=str(ARTIFACTS / f"superset_assessment_{count}.png"))
            texts.append(active_tab(page).inner_text())

        for text in texts:
            for bad in EMPTY_OR_ERROR_TEXTS:
                assert bad not in text, f"dashboard shows {bad!r}"
        assert page.locator(".ant-alert-error, [data-test=error-message]").count() == 0
        text = "\n".join(texts)
        for label in (TITLE, *RANKINGS.values(), TREND, VIOLATIONS, RECTIFICATION, PLATFORMS,
                      *KPIS, "考核月份", MONTH_2, "排名", "考核对象", "得分", "考核结果", "合格",
                      "不合格", "车辆上线率", "轨迹完整率", "平台连通率", "查岗响应率", "整改状态",
                      "整改报告期限", "逾期", "已报告", "已销号", "未整改"):  # fmt: skip
            assert label in text, f"{label!r} not on the dashboard"

    # every chart query of the page returned rows; the echarts (canvas) got Chinese labels
    results = [r for payload in chart_data for r in payload.get("result", [])]
    assert len(results) >= 10 and all(r.get("rowcount", 0) > 0 for r in results), chart_data
    labels = {v for r in results for row in r["data"] for v in row.values() if isinstance(v, str)}
    assert {"超速", "疲劳驾驶", "定位漂移", "蕉城区", "闽运通监控平台"} <= labels
    assert shot.stat().st_size > 50_000

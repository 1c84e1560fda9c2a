"""网约车数据质量: the ride-hailing dashboard's chart queries return the gold numbers, only complete
months are offered by its 统计月份 filter, and in Chromium it opens on the last complete month with
every chart drawn, its Chinese labels and no error. Shares the session-scoped Superset of
conftest.py; the known values are ridehailing_gold.py's (months relative to today's Beijing
date)."""

from __future__ import annotations

import pandas as pd
import pytest
from ridehailing_gold import (
    DIMENSION_LABELS,
    LAST_BY_INTERFACE,
    LAST_BY_RULE,
    NAMES,
    RATES,
    UNNAMED,
)
from superset_harness import (
    ARTIFACTS,
    EMPTY_OR_ERROR_TEXTS,
    Superset,
    SupersetApi,
    assert_complete_months_offered,
    dashboard_text,
    logged_in_page,
    open_dashboard,
    wait_for_charts,
)

SLUG = "ridehailing-quality"
TITLE = "网约车数据质量"
KPIS = {  # chart -> (metric, the overview's column)
    "网约车平台公司": ("platform_companies_value", "platform_companies"),
    "网约车驾驶员": ("driver_licences_value", "driver_licences"),
    "网约车车辆": ("vehicle_licences_value", "vehicle_licences"),
    "订单量": ("orders_value", "orders"),
    "平台公司环比": ("platform_companies_mom_value", "platform_companies_mom"),
    "驾驶员环比": ("driver_licences_mom_value", "driver_licences_mom"),
    "车辆环比": ("vehicle_licences_mom_value", "vehicle_licences_mom"),
    "订单量环比": ("orders_mom_value", "orders_mom"),
}
RANKING, TREND = "平台公司数据质量排名", "月度综合得分趋势"
BY_INTERFACE, BY_RULE = "问题记录（按接口）", "问题记录（按规则）"
CHARTS = {*KPIS, RANKING, TREND, BY_INTERFACE, BY_RULE}

pytestmark = [pytest.mark.slow, pytest.mark.browser]


@pytest.fixture(scope="session")  # before the session's Superset: a skip starts no server
def known(gold_lake):
    known = getattr(gold_lake, "ridehailing", None)
    if known is None:
        pytest.skip(
            "no known 网约车 values: LAKEHOUSE_TEST_GOLD_LAKE, or a gold lake without "
            "ridehailing_gold's tables"
        )
    return known


def _month(period: str) -> dict:
    return {"col": "period", "op": "==", "val": period}


def _label(company_id: str) -> str:
    return NAMES[company_id] or UNNAMED


def test_only_complete_months_are_offered(known, api: SupersetApi) -> None:
    assert_complete_months_offered(api, SLUG, api.charts(SLUG)[RANKING], known)


def test_chart_queries_return_gold_numbers(known, api: SupersetApi) -> None:
    charts = api.charts(SLUG)
    assert set(charts) == CHARTS
    last = _month(known.last)

    # the ranking of the last complete month: rank, company, score, the four rates, coverage; the
    # company that transmitted nothing last, unranked
    ranking = charts[RANKING]
    rows = api.query(ranking, {"columns": [*ranking["all_columns"], "company_id"], "metrics": [],
                               "filters": [last], "orderby": [["score_rank", True]]})  # fmt: skip
    month = known.months[known.months["period"] == known.last]
    expected = month.sort_values("score_rank", na_position="last")
    assert [r["company_id"] for r in rows] == ["R001", "R002", "R003", "R009", "R004"]
    shown = ("score_rank", "company_label", "score", "transmitted_label")
    assert [tuple(r[c] for c in shown) for r in rows] == [
        (1, NAMES["R001"], 97.25, "已传输"), (2, NAMES["R002"], 91.5, "已传输"),
        (3, NAMES["R003"], 84.75, "已传输"), (4, UNNAMED, 70.0, "已传输"),
        (None, NAMES["R004"], 0.0, "当月未传输数据"),
    ]  # fmt: skip
    for row, gold in zip(rows, expected.itertuples(), strict=True):
        columns = (*RATES, "city_coverage_rate", "records")
        assert [row[c] for c in columns] == pytest.approx(
            [None if pd.isna(getattr(gold, c)) else getattr(gold, c) for c in columns]
        ), row["company_id"]

    # the score trend: every complete month (not this one), one series per company
    trend = charts[TREND]
    rows = api.query(trend, {"columns": [trend["x_axis"], *trend["groupby"]],
                             "metrics": trend["metrics"],
                             "extras": {"where": "is_complete"}})  # fmt: skip
    complete = known.months[known.months["period"].isin([known.earlier, known.last])]
    assert {(r["period"], r["company_label"]): r["score_max"] for r in rows} == pytest.approx({
        (m.period, _label(m.company_id)): m.score for m in complete.itertuples()
    })  # fmt: skip

    # failed records of the month per interface and per rule (Chinese labels), by dimension
    for name, expected_totals in ((BY_INTERFACE, LAST_BY_INTERFACE), (BY_RULE, LAST_BY_RULE)):
        chart = charts[name]
        rows = api.query(chart, {"columns": [chart["x_axis"], *chart["groupby"]],
                                 "metrics": chart["metrics"], "filters": [last]})  # fmt: skip
        totals: dict[str, int] = {}
        for r in rows:
            assert r["dimension_label"] in DIMENSION_LABELS.values(), r
            totals[r[chart["x_axis"]]] = totals.get(r[chart["x_axis"]], 0) + r["records_sum"]
        assert totals == expected_totals, name
    rows = api.query(charts[BY_RULE], {"columns": ["dimension_label"], "metrics": ["records_sum"],
                                       "filters": [last]})  # fmt: skip
    assert {r["dimension_label"]: r["records_sum"] for r in rows} == {
        "完整性": 6, "规范性": 2, "及时性": 9, "真实性": 12,
    }  # fmt: skip

    # the overview tiles: the month's values and their month-on-month changes
    overview = known.overview.set_index("period").loc[known.last]
    for name, (metric, column) in KPIS.items():
        (row,) = api.query(charts[name], {"columns": [], "metrics": [metric], "filters": [last]})
        assert row[metric] == pytest.approx(overview[column]), name
    assert [overview[c] for c in ("platform_companies_mom", "orders_mom")] == pytest.approx(
        [0.25, 0.2]
    )


def test_dashboard_renders_in_chromium(known, superset: Superset) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    shot = ARTIFACTS / "superset_ridehailing.png"
    with logged_in_page(superset, "superset_ridehailing", {"width": 1600, "height": 1600}) as page:
        open_dashboard(page, superset, SLUG, TITLE)
        wait_for_charts(page, len(CHARTS))
        page.screenshot(path=str(shot), full_page=True)
        text = dashboard_text(page, (*CHARTS, "排名", "平台公司", "综合得分", "完整性", "规范性",
                                     "及时性", "真实性", "城市覆盖率", "传输情况",
                                     "当月未传输数据", UNNAMED))  # fmt: skip
        for bad in EMPTY_OR_ERROR_TEXTS:
            assert bad not in text, f"dashboard shows {bad!r}"
        assert page.locator(".ant-alert-error, [data-test=error-message]").count() == 0
        # the filter chose the last complete month: its ranking, not this month's or the one before
        ranking = page.locator(".dashboard-component-chart-holder").filter(has_text=RANKING)
        first = ranking.locator("table tbody tr").first.inner_text()
        assert NAMES["R001"] in first and "97.25" in first, first
        assert "99.80" not in text and "94.50" not in text
        assert ranking.locator("table tbody tr").count() == 5
        kpis = [t.strip() for t in page.locator(".header-line").all_inner_texts()]
        assert kpis == ["5", "1,260", "1,155", "60,000", "+25.0%", "+5.0%", "+5.0%", "+20.0%"], kpis
    assert shot.stat().st_size > 20_000

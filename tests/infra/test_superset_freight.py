"""网络货运监测: the freight dashboard's chart queries return the gold numbers, only complete months
are offered by its 统计月份 filter, and in Chromium it opens on the last complete month with every
chart drawn, its Chinese labels and no error. Shares the session-scoped Superset of conftest.py;
the known values are freight_gold.py's (months relative to today's Beijing date)."""

from __future__ import annotations

import pytest
from freight_gold import NAMES, RESULT, TYPE_LABELS, TYPES, UNREGISTERED
from superset_harness import (
    ARTIFACTS,
    EMPTY_OR_ERROR_TEXTS,
    Superset,
    SupersetApi,
    assert_complete_months_offered,
    dashboard_text,
    day_of,
    logged_in_page,
    open_dashboard,
    wait_for_charts,
)

SLUG = "freight-monitoring"
TITLE = "网络货运监测"
KPI_WAYBILLS, KPI_ANOMALIES, KPI_ALARMS = "统计月份运单数", "统计月份异常数", "未整改预警"
RANKING, BY_TYPE, BY_OPERATOR = "平台综合评分排名", "异常类型分布", "各平台异常（按类型）"
DAILY_WAYBILLS, DAILY_TONNES, DAILY_CHARGES = "每日运单数", "每日货运量（吨）", "每日运费（元）"
ALARMS = "预警列表"
CHARTS = {KPI_WAYBILLS, KPI_ANOMALIES, KPI_ALARMS, RANKING, BY_TYPE, BY_OPERATOR, DAILY_WAYBILLS,
          DAILY_TONNES, DAILY_CHARGES, ALARMS}  # fmt: skip
STATUS_LABELS = {"open": "未整改", "closed": "已销号"}

pytestmark = [pytest.mark.slow, pytest.mark.browser]


@pytest.fixture(scope="module")
def known(gold_lake):
    if gold_lake.freight is None:
        pytest.skip("LAKEHOUSE_TEST_GOLD_LAKE: no known 网络货运 values")
    return gold_lake.freight


def _month(period: str) -> dict:
    return {"col": "period", "op": "==", "val": period}


def test_only_complete_months_are_offered(api: SupersetApi, known) -> None:
    assert_complete_months_offered(api, SLUG, api.charts(SLUG)[RANKING], known)


def test_chart_queries_return_gold_numbers(api: SupersetApi, known) -> None:
    charts = api.charts(SLUG)
    assert set(charts) == CHARTS
    last = _month(known.last)

    # ranking of the last complete month: rank, operator, score and the six counts, in rank order
    ranking = charts[RANKING]
    rows = api.query(ranking, {"columns": ranking["all_columns"], "metrics": [],
                               "filters": [last], "orderby": [["score_rank", True]]})  # fmt: skip
    month = known.months[known.months["period"] == known.last].sort_values("score_rank")
    assert [
        (r["score_rank"], r["operator_label"], r["score"], *(r[f"anomalies_{t}"] for t in TYPES))
        for r in rows
    ] == [
        (
            m.score_rank,
            NAMES[m.operator_id],
            m.score,
            *(getattr(m, f"anomalies_{t}") for t in TYPES),
        )
        for m in month.itertuples()
    ]
    assert [r["operator_id"] for r in rows] == ["S001", "S002", "S003"]

    # anomalies by type and by operator: the counted rows (a withdrawn one is not; an unregistered
    # sender's is, under its code)
    counted = known.counted(known.last)
    by_type = charts[BY_TYPE]
    rows = api.query(by_type, {"columns": [by_type["x_axis"]], "metrics": by_type["metrics"],
                               "filters": [last]})  # fmt: skip
    expected = counted.groupby("anomaly_type").size()
    assert {r["type_label"]: r["anomalies_counted"] for r in rows} == {
        TYPE_LABELS[t]: n for t, n in expected.items()
    }
    assert sum(expected) == 26
    by_operator = charts[BY_OPERATOR]
    rows = api.query(by_operator, {"columns": [by_operator["x_axis"], *by_operator["groupby"]],
                                   "metrics": by_operator["metrics"], "filters": [last]})  # fmt: skip
    got: dict[str, int] = {}
    for r in rows:
        got[r["operator_label"]] = got.get(r["operator_label"], 0) + r["anomalies_counted"]
    assert got == {NAMES["S001"]: 4, NAMES["S002"]: 8, NAMES["S003"]: 13,
                   f"未登记发送方 {UNREGISTERED}": 1}  # fmt: skip

    # the KPIs: the month's waybills and anomalies; open alarms of every month
    (row,) = api.query(charts[KPI_WAYBILLS], {"columns": [], "metrics": ["waybills_sum"],
                                              "filters": [last]})  # fmt: skip
    assert row["waybills_sum"] == month["waybills"].sum() == 185
    (row,) = api.query(charts[KPI_ANOMALIES], {"columns": [], "metrics": ["anomalies_counted"],
                                               "filters": [last]})  # fmt: skip
    assert row["anomalies_counted"] == len(counted)
    (row,) = api.query(charts[KPI_ALARMS], {"columns": [], "metrics": ["open_alarms"]})
    assert row["open_alarms"] == (known.alarms["status"] == "open").sum() == 3

    # daily waybills, tonnes and charges over every operator, every day
    days = known.days.groupby("day")[["waybills", "tonnes", "charges_yuan"]].sum()
    for name, metric, column in ((DAILY_WAYBILLS, "waybills_sum", "waybills"),
                                 (DAILY_TONNES, "tonnes_sum", "tonnes"),
                                 (DAILY_CHARGES, "charges_sum", "charges_yuan")):  # fmt: skip
        chart = charts[name]
        rows = api.query(chart, {"columns": [chart["x_axis"]], "metrics": chart["metrics"]})
        assert {day_of(r["day"]): r[metric] for r in rows} == pytest.approx(
            days[column].to_dict()
        ), name

    # the alarms with their status labels and rectification results, latest first
    alarms = charts[ALARMS]
    rows = api.query(alarms, {"columns": [*alarms["all_columns"], "operator_id"], "metrics": [],
                              "orderby": [["day", False]]})  # fmt: skip
    expected_alarms = known.alarms.sort_values("day", ascending=False)
    assert [
        (day_of(r["day"]), r["operator_id"], r["anomalies"], r["status_label"], r["result"])
        for r in rows
    ] == [
        (a.day, a.operator_id, a.anomalies, STATUS_LABELS[a.status], a.result)
        for a in expected_alarms.itertuples()
    ]


def test_dashboard_renders_in_chromium(superset: Superset, known) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    shot = ARTIFACTS / "superset_freight.png"
    with logged_in_page(superset, "superset_freight", {"width": 1600, "height": 1400}) as page:
        open_dashboard(page, superset, SLUG, TITLE)
        wait_for_charts(page, len(CHARTS))
        page.screenshot(path=str(shot), full_page=True)
        text = dashboard_text(page, (*CHARTS, "排名", "平台", "综合评分", "单据接入异常",
                                     "运单重复异常", "整改状态", "未整改", "已销号", "整改结果",
                                     RESULT))  # fmt: skip
        for bad in EMPTY_OR_ERROR_TEXTS:
            assert bad not in text, f"dashboard shows {bad!r}"
        assert page.locator(".ant-alert-error, [data-test=error-message]").count() == 0
        # the filter chose the last complete month: its ranking, not this month's or the one before
        ranking = page.locator(".dashboard-component-chart-holder").filter(has_text=RANKING)
        first = ranking.locator("table tbody tr").first.inner_text()
        assert NAMES["S001"] in first and "96.50" in first, first
        assert "99.90" not in text and "93.00" not in text
        assert page.locator("table tbody tr").count() >= 3 + len(known.alarms)
        kpis = [t.strip() for t in page.locator(".header-line").all_inner_texts()]
        assert kpis == ["185", str(len(known.counted(known.last))), "3"], kpis
    assert shot.stat().st_size > 20_000

"""电子证照运行质量: the licences dashboard's chart queries return the gold numbers, and it renders
in Chromium with its Chinese labels and no error. Shares the session-scoped Superset of
conftest.py; the known values are conftest.py's operation_quality_frame()."""

from __future__ import annotations

import pytest
from conftest import MONTH_2
from superset_harness import (
    ARTIFACTS,
    EMPTY_OR_ERROR_TEXTS,
    Superset,
    SupersetApi,
    dashboard_text,
    logged_in_page,
    open_dashboard,
    wait_for_charts,
)

SLUG = "licences-operation-quality"
TITLE = "电子证照运行质量"
VOLUME, RATE, DELAY, KPI, TABLE = (
    "各省新发、变更、吊销证照",
    "各省验签失败率",
    "各省平均报送时延（秒）",
    "验签失败记录数",
    "电子证照运行质量明细",
)
LATEST = {"col": "period", "op": "==", "val": MONTH_2}  # what the 月份 filter defaults to

pytestmark = [pytest.mark.slow, pytest.mark.browser]


@pytest.fixture(scope="module")
def known(gold_lake):
    if gold_lake.operation_quality is None:
        pytest.skip("LAKEHOUSE_TEST_GOLD_LAKE: no known 运行质量 values")
    return gold_lake.operation_quality


def test_chart_queries_return_gold_numbers(api: SupersetApi, known) -> None:
    charts = api.charts(SLUG)
    assert set(charts) == {VOLUME, RATE, DELAY, KPI, TABLE}
    month = known[known["period"] == MONTH_2].set_index("province_code")

    volume = charts[VOLUME]
    rows = api.query(volume, {"columns": [volume["x_axis"]], "metrics": volume["metrics"],
                              "filters": [LATEST]})  # fmt: skip
    assert {r["province_code"]: (r["issued_sum"], r["changed_sum"], r["revoked_sum"])
            for r in rows} == {p: (m["issued"], m["changed"], m["revoked"])
                               for p, m in month.iterrows()}  # fmt: skip

    rate = charts[RATE]
    rows = api.query(rate, {"columns": [rate["x_axis"]], "metrics": rate["metrics"],
                            "filters": [LATEST]})  # fmt: skip
    expected = (month["signature_failures"] / month["records"]).to_dict()
    assert {r["province_code"]: r["signature_failure_rate_overall"] for r in rows} == (
        pytest.approx(expected)
    )

    # over both months of Fujian the delay is weighted by records: (120.5×50 + 95×44) / 94
    delay = charts[DELAY]
    rows = api.query(delay, {"columns": [delay["x_axis"]], "metrics": delay["metrics"]})
    fujian = known[known["province_code"] == "350000"]
    weighted = (fujian["mean_feed_delay_s"] * fujian["records"]).sum() / fujian["records"].sum()
    got = {r["province_code"]: r["mean_feed_delay_overall"] for r in rows}
    assert got["350000"] == pytest.approx(weighted) and got["330000"] == pytest.approx(310.0)

    kpi = charts[KPI]
    (row,) = api.query(kpi, {"columns": [], "metrics": [kpi["metric"]], "filters": [LATEST]})
    assert row["signature_failures_sum"] == month["signature_failures"].sum()

    table = charts[TABLE]
    rows = api.query(table, {"columns": table["all_columns"], "metrics": []})
    assert len(rows) == len(known)


def test_dashboard_renders_in_chromium(superset: Superset, known) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    shot = ARTIFACTS / "superset_licences.png"
    with logged_in_page(superset, "superset_licences") as page:
        open_dashboard(page, superset, SLUG, TITLE)
        wait_for_charts(page, 5)
        page.screenshot(path=str(shot), full_page=True)
        headers = ("月份", "发证省份代码", "新发证照", "验签失败率", "平均报送时延（秒）")
        text = dashboard_text(page, headers)
        for bad in EMPTY_OR_ERROR_TEXTS:
            assert bad not in text, f"dashboard shows {bad!r}"
        assert page.locator(".ant-alert-error, [data-test=error-message]").count() == 0
        assert page.locator("table tbody tr").count() >= len(known)
        latest = known[known["period"] == MONTH_2]["signature_failures"].sum()
        assert page.locator(".header-line").first.inner_text().strip() == str(latest)
    assert shot.stat().st_size > 20_000

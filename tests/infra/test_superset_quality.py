"""数据质量 and 审计日志, the quality owner's dashboards: their chart queries return the known numbers
of quality_gold.py (validations, pass rates per suite and day, quarantine by feed and rule, rejected
files, masked samples; audit events per day by kind and outcome, refused logins and queries); only
the quality owner (and the admin) may read their datasets; in Chromium, logged in as `quality_1`
through the login form, both dashboards draw every chart with Chinese labels, and no clear-text
personal value is on the page or in any chart-data response. Shares the session-scoped Superset
of conftest.py."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from quality_gold import EVENTS_BY_DAY, REFUSED_LOGINS, REFUSED_QUERIES
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

QUALITY, AUDIT = ("data-quality", "数据质量"), ("audit-log", "审计日志")
QUALITY_KPIS = {"校验次数": "validations", "未通过的校验": "failed_validations",
                "隔离记录": "records_sum", "拒收文件": "files"}  # fmt: skip
PASS_RATES, BY_FEED = "各校验套件规则检查通过率（按日）", "隔离记录（按数据源、规则）"
REJECTED, FAILED, SAMPLES = "拒收文件列表", "未通过的规则检查", "隔离记录样例（已脱敏）"
QUALITY_CHARTS = {*QUALITY_KPIS, PASS_RATES, BY_FEED, REJECTED, FAILED, SAMPLES}
AUDIT_KPIS = {
    "审计事件": "events",
    "拒绝的登录": "refused_logins",
    "拒绝的查询": "refused_queries",
}
BY_DAY, LOGINS, QUERIES, EVENTS = (
    "每日审计事件（按类型、结果）",
    "被拒绝的登录",
    "被拒绝的查询",
    "审计记录",
)
AUDIT_CHARTS = {*AUDIT_KPIS, BY_DAY, LOGINS, QUERIES, EVENTS}
QUALITY_OWNER = "quality_1"

pytestmark = [pytest.mark.slow, pytest.mark.browser]


@pytest.fixture(scope="session")  # before the session's Superset: a skip starts no server
def known(gold_lake):
    if getattr(gold_lake, "quality", None) is None:
        pytest.skip("no known quality values: LAKEHOUSE_TEST_GOLD_LAKE names another lake")
    return gold_lake.quality


def _charts(api: SupersetApi, slug: str) -> dict[str, dict]:
    """``{slice_name: form_data}`` of the dashboard's charts, their names distinct."""
    resp = api.get(f"{api.url}/api/v1/dashboard/{slug}/charts", timeout=30)
    resp.raise_for_status()
    names = [chart["slice_name"] for chart in resp.json()["result"]]
    assert len(names) == len(set(names)), names
    return api.charts(slug)


def _rows(api: SupersetApi, form_data: dict, **query) -> list[dict]:
    return api.query(form_data, {"metrics": [], **query})


def test_quality_chart_queries_return_known_numbers(known, api: SupersetApi) -> None:
    charts = _charts(api, QUALITY[0])
    assert set(charts) == QUALITY_CHARTS
    expected = {"校验次数": known.validations, "未通过的校验": known.failed_validations,
                "隔离记录": sum(known.quarantine.values()), "拒收文件": known.rejected}  # fmt: skip
    for name, metric in QUALITY_KPIS.items():
        (row,) = _rows(api, charts[name], columns=[], metrics=[metric])
        assert row[metric] == expected[name], name

    trend = charts[PASS_RATES]
    rows = _rows(api, trend, columns=[trend["x_axis"], *trend["groupby"]], metrics=trend["metrics"])
    assert {(dt.date.fromisoformat(r["validated_day"]), r["suite"]): r["check_pass_rate"]
            for r in rows} == pytest.approx(known.pass_rates)  # fmt: skip

    by_feed = charts[BY_FEED]
    rows = _rows(api, by_feed, columns=[by_feed["x_axis"], *by_feed["groupby"]],
                 metrics=by_feed["metrics"])  # fmt: skip
    assert {(r["feed_label"], r["rule"]): r["records_sum"] for r in rows} == known.quarantine

    rows = _rows(api, charts[REJECTED], columns=charts[REJECTED]["all_columns"])
    assert len(rows) == known.rejected and all(r["error"] for r in rows)
    failed = charts[FAILED]
    rows = _rows(api, failed, columns=failed["all_columns"],
                 extras={"where": failed["adhoc_filters"][0]["sqlExpression"]})  # fmt: skip
    assert sorted((r["suite"], r["rule"], r["unexpected_count"]) for r in rows) == [
        ("licences__licences", "status_valid", 60), ("ridehailing__orderCreate", "completeness", 4),
        ("telematics__positions", "lon_in_range", 20), ("telematics__positions", "lon_in_range", 45),
        ("telematics__positions", "plate_valid", 5), ("telematics__positions", "plate_valid", 10),
    ]  # fmt: skip
    assert {r["suite_result_label"] for r in rows if r["suite"] == "licences__licences"} == {
        "未通过"
    }

    rows = _rows(api, charts[SAMPLES], columns=charts[SAMPLES]["all_columns"])
    drivers = [r["record"] for r in rows if r["feed_label"] == "网约车 · baseInfoDriver"]
    assert len(drivers) == len(known.drivers)
    for phone, name, masked in known.drivers:
        assert any(masked in record for record in drivers)
        assert not any(phone in r["record"] or name in r["record"] for r in rows)


def test_audit_chart_queries_return_known_numbers(known, api: SupersetApi) -> None:
    """The fixture's events of its two days; the session's own logins and queries are today's."""
    charts = _charts(api, AUDIT[0])
    assert set(charts) == AUDIT_CHARTS
    by_day = charts[BY_DAY]
    rows = _rows(api, by_day, columns=[by_day["x_axis"], *by_day["groupby"]],
                 metrics=by_day["metrics"],
                 filters=[{"col": "event_day", "op": "IN", "val": sorted(EVENTS_BY_DAY)}])  # fmt: skip
    per_day: dict[str, int] = {}
    for r in rows:
        per_day[r["event_day"]] = per_day.get(r["event_day"], 0) + r["events"]
    assert per_day == EVENTS_BY_DAY
    assert {(r["kind_label"], r["outcome_label"]) for r in rows if r["event_day"] == "2026-11-02"} \
        == {("查询", "成功"), ("查询", "拒绝"), ("登录", "拒绝"), ("流水线运行", "失败")}  # fmt: skip

    def listed(name: str) -> list[dict]:
        chart = charts[name]
        where = " AND ".join(f"({f['sqlExpression']})" for f in chart["adhoc_filters"])
        return _rows(api, chart, columns=chart["all_columns"], extras={"where": where})

    logins = {(r["actor"], r["origin"], r["reason"]) for r in listed(LOGINS)}
    assert REFUSED_LOGINS <= logins
    queries = {(r["actor"], r["target"]) for r in listed(QUERIES)}
    assert REFUSED_QUERIES <= queries
    (row,) = _rows(api, charts["拒绝的登录"], columns=[], metrics=["refused_logins"],
                   filters=[{"col": "event_day", "op": "IN", "val": sorted(EVENTS_BY_DAY)}])  # fmt: skip
    assert row["refused_logins"] == len(REFUSED_LOGINS)


def test_only_the_quality_owner_reads_its_datasets(known, superset: Superset, api) -> None:
    """A regulator and the statistician are granted every other dataset, not these."""
    charts = {**api.charts(QUALITY[0]), **api.charts(AUDIT[0])}
    datasets = {str(f["datasource"]) for f in charts.values()}
    assert len(datasets) == 5
    for username in (QUALITY_OWNER, "prov_350000", "stat_1"):
        session = SupersetApi(superset, username, superset.demo_password)
        for datasource in sorted(datasets):
            dataset_id = int(datasource.split("__")[0])
            resp = session.post(f"{session.url}/api/v1/chart/data", timeout=60, json={
                "datasource": {"id": dataset_id, "type": "table"},
                "queries": [{"columns": [], "metrics": [{"label": "n", "expressionType": "SQL",
                                                         "sqlExpression": "COUNT(*)"}]}],
                "result_format": "json", "result_type": "full"})  # fmt: skip
            if username == QUALITY_OWNER:
                assert resp.ok and resp.json()["result"][0]["data"][0]["n"] > 0, resp.text[:300]
            else:
                assert resp.status_code == 403, (username, datasource, resp.status_code)


def _open(page, superset: Superset, slug: str, title: str, charts: int) -> tuple[str, list[str]]:
    """Open the dashboard, wait for every chart; (its text, every chart-data response body of
    the page, read before the page navigates away)."""
    responses: list = []
    page.on("response", lambda r: responses.append(r) if "/api/v1/chart/data" in r.url else None)
    open_dashboard(page, superset, slug, title)
    wait_for_charts(page, charts)
    text = dashboard_text(page)
    for bad in EMPTY_OR_ERROR_TEXTS:
        assert bad not in text, f"{title} shows {bad!r}"
    assert page.locator(".ant-alert-error, [data-test=error-message]").count() == 0
    bodies = [json.dumps(r.json(), ensure_ascii=False) for r in responses if r.ok]
    assert len(bodies) >= charts, f"{title}: {len(bodies)} chart-data responses"
    return text, bodies


def test_the_quality_owner_sees_both_dashboards_masked(known, superset: Superset) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    user = (QUALITY_OWNER, superset.demo_password)
    with logged_in_page(
        superset, "superset_quality", {"width": 1600, "height": 2200}, user
    ) as page:
        text, bodies = _open(page, superset, *QUALITY, len(QUALITY_CHARTS))
        page.screenshot(path=str(ARTIFACTS / "superset_quality.png"), full_page=True)
        for label in (*QUALITY_CHARTS, "校验时间", "校验套件", "批次", "规则", "观测值", "期望结果",
                      "套件结果", "数据源", "来源文件", "记录（已脱敏）", "解析失败原因", "拒收时间", "原因",
                      "网约车 · baseInfoDriver", "动态监控 · positions"):  # fmt: skip
            assert label in text, label
        kpis = [t.strip() for t in page.locator(".header-line").all_inner_texts()]
        expected = [known.validations, known.failed_validations, sum(known.quarantine.values()),
                    known.rejected]  # fmt: skip
        assert kpis == [str(n) for n in expected], kpis
        assert known.drivers[0][2] in text  # the masked phone of a quarantined driver line

        audit_text, audit_bodies = _open(page, superset, *AUDIT, len(AUDIT_CHARTS))
        page.screenshot(path=str(ARTIFACTS / "superset_audit.png"), full_page=True)
        for label in (*AUDIT_CHARTS, "时间", "用户", "来源", "原因", "事件类型", "结果", "intruder_x",
                      "unknown user", "read_csv"):  # fmt: skip
            assert label in audit_text, label
    for phone, name, _masked in known.drivers:
        for shown in (text, audit_text, *bodies, *audit_bodies):
            assert phone not in shown and name not in shown

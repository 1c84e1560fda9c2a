"""车辆/企业画像: the dashboard shows, for the plate (or enterprise) chosen in its filter, the numbers
`lakehouse profile` prints for it. The expected numbers are computed here by the profile code
(transforms/profile.py) over the session's test lake, whose profile tables the real job built
(profile_gold.py); nothing is copied from the dashboard. Shares the session-scoped Superset of
conftest.py."""

from __future__ import annotations

import json
from typing import Any

import pytest
from profile_gold import AS_OF, COLOR, ENTERPRISE, NAMES, PLATE
from superset_harness import (
    ARTIFACTS,
    EMPTY_OR_ERROR_TEXTS,
    Superset,
    SupersetApi,
    logged_in_page,
    open_dashboard,
    open_tab,
)

from transforms.profile import enterprise_profile, vehicle_profile
from transforms.profile_gold import enterprise_label, vehicle_label, vehicle_subjects

SLUG, TITLE = "profile", "车辆/企业画像"
VEHICLE_TAB, ENTERPRISE_TAB = "车辆画像", "企业画像"
DEFAULT = ("京A12345", 2)  # the first plate of the 车牌 filter (sorted): what the page opens on
VEHICLE_KPIS = ("有效证照", "上线天数", "行驶里程（公里）", "违法违规事件", "货运运单", "货运异常",
                "网约车订单", "未销号整改项")  # fmt: skip
ENTERPRISE_KPIS = ("有效证照", "在册车辆", "违法违规事件", "未销号整改项", "货运运单", "货运异常",
                   "网约车订单")  # fmt: skip
SUMMARY_TAB, DETAIL_TAB = "概况", "明细"  # the two tabs inside each: 概况 opens first
SUMMARY_LISTS = ("各数据域覆盖期间", "分类统计")  # on 概况, below the tiles
DETAIL_LISTS = ("电子证照", "最近违法违规事件", "考核与评分", "最近货运运单", "货运异常明细",
                "未销号整改项清单", "档案与变更历史")  # fmt: skip
LISTS = SUMMARY_LISTS + DETAIL_LISTS
PART_LABELS = ("档案", "电子证照", "动态监控", "网络货运", "网约车", "整改")
BREAKDOWNS = {"违法违规类型": ("telematics", "violations", "by_kind"),
              "货运异常类型": ("freight", "anomalies", "by_type"),
              "网约车订单状态": ("ridehailing", "orders", "by_status"),
              "网约车订单所属平台公司": ("ridehailing", "orders", "by_company")}  # fmt: skip

pytestmark = [pytest.mark.slow, pytest.mark.browser]


@pytest.fixture(scope="session")  # before the session's Superset: a skip starts no server
def lake(gold_lake):
    if getattr(gold_lake, "profile", None) is None:
        pytest.skip("no profile tables built by profile_gold.py (LAKEHOUSE_TEST_GOLD_LAKE)")
    return gold_lake.path


def kpis(profile: dict[str, Any]) -> list[str]:
    """The tiles of the profile's tab, in order, as the charts format them (',d', ',.1f')."""
    t, f, r = profile["telematics"], profile["freight"], profile["ridehailing"]
    head = [profile["licences"]["valid"]]
    if profile["subject"]["kind"] == "vehicle":
        head += [t["days_online"], f"{t['km']:,.1f}", t["violations"]["total"]]
        tail = [len(profile["rectification"]["open"])]
    else:
        head += [t["vehicles"], t["violations"]["total"], len(profile["rectification"]["open"])]
        tail = []
    numbers = head + [f["waybills"], f["anomalies"]["total"], r["orders"]["total"], *tail]
    return [n if isinstance(n, str) else f"{n:,}" for n in numbers]


def scores(profile: dict[str, Any]) -> list[str]:
    """The 考核与评分 column 得分 (every period but days), in the profile's order."""
    vehicle = profile["subject"]["kind"] == "vehicle"
    telematics = profile["telematics"]["enterprise_scores" if vehicle else "scores"]
    quality = profile["ridehailing"]["company_quality" if vehicle else "quality"]
    rows = [s["score"] for s in telematics if s["period_type"] != "day"]
    rows += [s["score"] for s in profile["freight"].get("monthly", [])]
    rows += [q["score"] for q in quality]
    return [f"{s:.2f}" for s in rows]


# --- the chart queries ---------------------------------------------------------------------------


def _charts_by_tab(api: SupersetApi) -> dict[str, dict[str, dict]]:
    """``{tab title: {slice_name: form_data}}`` (a name is used once per tab)."""
    resp = api.get(f"{api.url}/api/v1/dashboard/{SLUG}", timeout=30)
    resp.raise_for_status()
    position = json.loads(resp.json()["result"]["position_json"])
    tab_of = {node["meta"]["chartId"]: position[node["parents"][2]]["meta"]["text"]
              for node in position.values()
              if isinstance(node, dict) and node.get("type") == "CHART"}  # fmt: skip
    resp = api.get(f"{api.url}/api/v1/dashboard/{SLUG}/charts", timeout=30)
    resp.raise_for_status()
    out: dict[str, dict[str, dict]] = {VEHICLE_TAB: {}, ENTERPRISE_TAB: {}}
    for chart in resp.json()["result"]:
        out[tab_of[chart["id"]]][chart["slice_name"]] = chart["form_data"]
    return out


def test_the_filters_offer_every_subject_and_the_tiles_equal_the_profile(lake, api) -> None:
    charts = _charts_by_tab(api)
    assert set(charts[VEHICLE_TAB]) == {*VEHICLE_KPIS, *LISTS}
    assert set(charts[ENTERPRISE_TAB]) == {*ENTERPRISE_KPIS, *LISTS}
    filters = api.native_filters(SLUG)
    assert [(f["name"], f["targets"][0]["column"]["name"], f["scope"]["rootPath"]) for f in
            filters] == [("车牌", "vehicle", ["TAB-vehicle"]),
                         ("企业", "enterprise", ["TAB-enterprise"])]  # fmt: skip

    # the 车牌 filter's options: one per (plate, colour) the lake knows
    parts = charts[VEHICLE_TAB]["各数据域覆盖期间"]
    options = api.query(parts, {"columns": ["vehicle"], "metrics": [],
                                "filters": [{"col": "subject_kind", "op": "==", "val": "vehicle"}]})  # fmt: skip
    assert {r["vehicle"] for r in options} == {
        vehicle_label(p, c) for p, c in vehicle_subjects(lake)
    }

    for tab, names, column, value, profile in (
        (VEHICLE_TAB, VEHICLE_KPIS, "vehicle", vehicle_label(PLATE, COLOR),
         vehicle_profile(lake, PLATE, COLOR, AS_OF)),
        (ENTERPRISE_TAB, ENTERPRISE_KPIS, "enterprise", enterprise_label(ENTERPRISE, NAMES[ENTERPRISE]),
         enterprise_profile(lake, ENTERPRISE, AS_OF)),
    ):  # fmt: skip
        shown = []
        for name in names:
            form = charts[tab][name]
            (row,) = api.query(form, {"columns": [], "metrics": [form["metric"]],
                                      "filters": [{"col": column, "op": "==", "val": value}]})  # fmt: skip
            number = row[form["metric"]]
            shown.append(f"{number:,.1f}" if form["y_axis_format"] == ",.1f" else f"{number:,}")
        assert shown == kpis(profile), tab


# --- in Chromium ---------------------------------------------------------------------------------


def _pane(page):
    """The content of the active inner tab (概况 or 明细) of the active outer tab (车辆画像 or 企业画像);
    a pane visited before stays in the page, hidden. (The harness' ``active_tab`` takes the last
    active pane in the page: with nested tabs that can be the inner pane of a hidden outer tab.)"""
    return page.locator(".ant-tabs-tabpane-active .ant-tabs-tabpane-active").filter(
        has=page.locator(".dashboard-component-chart-holder")
    )


def _drawn(page, count: int) -> None:
    """The active tab's ``count`` charts finished loading and each drew a number or a table."""
    from playwright.sync_api import expect

    charts = _pane(page).locator(".dashboard-component-chart-holder")
    expect(charts).to_have_count(count, timeout=90_000)
    expect(charts.locator(".loading")).to_have_count(0, timeout=90_000)
    for i in range(count):
        # a number, table rows, or the empty-result picture (an svg) of an empty list
        expect(charts.nth(i).locator(".header-line, table tbody tr, svg").first).to_be_attached(
            timeout=60_000
        )


def _tiles(page) -> list[str]:
    return [t.strip() for t in _pane(page).locator(".header-line").all_inner_texts()]


def _rows(page, chart: str) -> list[list[str]]:
    holder = _pane(page).locator(f'[data-test-chart-name="{chart}"]')
    assert holder.count() == 1, chart
    return [
        [cell.strip() for cell in row.locator("td").all_inner_texts()]
        for row in holder.locator("table tbody tr").all()
    ]


def _choose(page, filter_id: str, label: str, tiles: list[str]) -> None:
    """Pick ``label`` in the filter bar's ``filter_id`` (typing part of it, as a person does),
    apply, and wait until the tiles show ``tiles`` and every chart is drawn again."""
    from playwright.sync_api import expect

    item = page.locator(".filter-item-wrapper").filter(
        has=page.locator(f"#filter-name-{filter_id}")
    )
    item.locator(".ant-select").first.click()
    page.keyboard.type(label[:8])
    option = page.locator(".ant-select-item-option").filter(has_text=label)
    expect(option).to_have_count(1, timeout=30_000)
    option.click()
    apply = page.locator("[data-test=filter-bar__apply-button]")
    expect(apply).to_be_enabled(timeout=30_000)
    apply.click()
    expect(_pane(page).locator(".header-line")).to_have_text(tiles, timeout=90_000)


def _check_summary(page, profile: dict[str, Any]) -> None:
    """The tables of 概况 against the profile: the periods covered, the breakdowns."""
    covers = [(p.get("covers") or {}) for p in (profile[k] for k in (
        "master", "licences", "telematics", "freight", "ridehailing", "rectification"))]  # fmt: skip
    assert [r[:3] for r in _rows(page, "各数据域覆盖期间")] == [
        [label, c.get("from", "N/A"), c.get("to", "N/A")]
        for label, c in zip(PART_LABELS, covers, strict=True)
    ]
    totals: dict[str, int] = {}
    for breakdown, _, count in _rows(page, "分类统计"):
        totals[breakdown] = totals.get(breakdown, 0) + int(count.replace(",", ""))
    expected = {}
    for label, (part, key, by) in BREAKDOWNS.items():
        counted = profile[part][key][by]
        if counted:
            expected[label] = sum(counted.values())
    assert totals == expected


def _check_details(page, profile: dict[str, Any]) -> None:
    """The tables of 明细 against the profile: licences, scores, the lists."""
    licences = _rows(page, "电子证照")
    assert sorted(r[1] for r in licences) == sorted(
        i["licence_no"] for i in profile["licences"]["items"]
    )
    assert sum(r[-1] == "有效" for r in licences) == profile["licences"]["valid"]
    assert [r[-3] for r in _rows(page, "考核与评分")] == scores(profile)
    t, f = profile["telematics"], profile["freight"]
    assert [r[0] for r in _rows(page, "最近违法违规事件")] == [
        v["day"] for v in t["violations"]["latest"]
    ]
    assert [r[0] for r in _rows(page, "最近货运运单")] == [
        w["shipping_note_number"] for w in f["latest_waybills"]
    ]
    assert [r[2] for r in _rows(page, "货运异常明细")] == [
        a["document_key"] for a in f["anomalies"]["items"]
    ]
    assert len(_rows(page, "未销号整改项清单")) == len(profile["rectification"]["open"])
    masters = sum(len(v) for v in profile["master"].values() if isinstance(v, list))
    assert len(_rows(page, "档案与变更历史")) == masters


def test_a_plate_and_an_enterprise_in_chromium(lake, superset: Superset) -> None:
    """Opens on the first plate's 概况; choosing 京B67890 in 车牌 shows its profile (概况, then
    明细); on the 企业画像 tab, choosing 榕城智运 in 企业 shows the enterprise's — tiles and tables
    equal the profiles."""
    from playwright.sync_api import expect

    first = vehicle_profile(lake, *DEFAULT, AS_OF)
    vehicle = vehicle_profile(lake, PLATE, COLOR, AS_OF)
    enterprise = enterprise_profile(lake, ENTERPRISE, AS_OF)
    assert kpis(first) != kpis(vehicle)  # else choosing the plate would prove nothing
    ARTIFACTS.mkdir(exist_ok=True)
    with logged_in_page(superset, "superset_profile", {"width": 1600, "height": 2400}) as page:
        open_dashboard(page, superset, SLUG, TITLE)
        _drawn(page, len(VEHICLE_KPIS) + len(SUMMARY_LISTS))
        expect(_pane(page).locator(".header-line")).to_have_text(kpis(first), timeout=60_000)

        _choose(page, "NATIVE_FILTER-profile-vehicle", vehicle_label(PLATE, COLOR), kpis(vehicle))
        _drawn(page, len(VEHICLE_KPIS) + len(SUMMARY_LISTS))
        text = _pane(page).inner_text()
        _check_summary(page, vehicle)
        page.screenshot(path=str(ARTIFACTS / "superset_profile.png"), full_page=True)
        open_tab(page, DETAIL_TAB)
        _drawn(page, len(DETAIL_LISTS))
        text += _pane(page).inner_text()
        for bad in EMPTY_OR_ERROR_TEXTS:
            assert bad not in text, f"dashboard shows {bad!r}"
        assert page.locator(".ant-alert-error, [data-test=error-message]").count() == 0
        for label in (*VEHICLE_KPIS, *LISTS, *PART_LABELS, "超速", "定位漂移", "已支付", "道路运输证",
                      "动态监控考核", "网约车数据质量", "资质异常", "未整改"):  # fmt: skip
            assert label in text, label
        _check_details(page, vehicle)
        page.screenshot(path=str(ARTIFACTS / "superset_profile_details.png"), full_page=True)

        page.get_by_role("tab", name=ENTERPRISE_TAB).click()
        _drawn(page, len(ENTERPRISE_KPIS) + len(SUMMARY_LISTS))
        label = enterprise_label(ENTERPRISE, NAMES[ENTERPRISE])
        _choose(page, "NATIVE_FILTER-profile-enterprise", label, kpis(enterprise))
        _drawn(page, len(ENTERPRISE_KPIS) + len(SUMMARY_LISTS))
        _check_summary(page, enterprise)
        open_tab(page, DETAIL_TAB)
        _drawn(page, len(DETAIL_LISTS))
        _check_details(page, enterprise)
        text = _pane(page).inner_text()
        assert "网络货运监测" in text and "第 1 名" in text and "道路运输经营许可证" in text
        page.screenshot(path=str(ARTIFACTS / "superset_profile_enterprise.png"), full_page=True)
    assert (ARTIFACTS / "superset_profile.png").stat().st_size > 20_000

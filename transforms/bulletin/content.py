"""What a monthly bulletin (月通报) says, from the domains' own report functions — the numbers are
exactly those of ``lakehouse report telematics|freight|ridehailing`` for the month.

Parts, in this order, each only when its domain holds data for the month:

- 动态监控考核 (telematics, always): the county, enterprise and platform rankings — every key of
  the report, ranked by score among the level's subjects (1 = best, equal scores share a rank, the
  next skips, a null score last: ``gold.telematics__ranked_assessments``' rule) — and the failed
  subjects (passed false) with the day their rectification report is due (整改报告, 第三十七条:
  ``telematics.rectification.report_due_working_days`` working days after the bulletin);
- 网络货运运行监测 (freight, when an operator has statistics in the month): the operators with the
  report's score and rank, evaluated as of the publication's time;
- 网约车数据质量考核 (ride-hailing, when a company transmitted in the month): the industry overview
  and the companies, ranked among those that transmitted (``gold.ridehailing__company_months``).

A jurisdiction (GB/T 2260 province, city or county) keeps the rows whose region code falls inside
it by prefix, the rule of the Superset row-level security (infra/superset/access.py
``jurisdiction_prefix`` / ``row_filter``): a county's row is its county's, an enterprise's its
county's (the version valid at the month's end, silver.telematics__enterprises), a ride-hailing
company's its registered division (``region_code``); platforms, freight operators, province-wide
totals and rows without a code are the province's (rules ``bulletin.province``) and appear in the
province's bulletin only. Ranks are the province-wide ones the dashboards show.

Every table is read through transforms/lake/timetravel.py, so a publication records (and a
reproduction pins) the version of each.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pyspark.sql import SparkSession

from transforms.lake import registry, timetravel
from transforms.reference import divisions

_CODE = re.compile(r"^[1-9][0-9]{5}$")
LEVEL_NAMES = {"county": "县区", "enterprise": "企业", "platform": "平台"}
PART_TITLES = {
    "telematics": "道路运输车辆动态监控考核",
    "freight": "网络货运运行监测",
    "ridehailing": "网约车数据质量考核",
}
Progress = Callable[[str], None]


class BulletinError(ValueError):
    """A bulletin that cannot be made (a malformed period or code, nothing assessed)."""


@dataclass(frozen=True)
class Column:
    """One column of a section: the report key, its Chinese header, how a value is shown
    (text | int | rate | number | score | bool | date) and whether the PDF shows it (the XLSX shows
    every column)."""

    key: str
    header: str
    kind: str = "text"
    in_pdf: bool = True


@dataclass
class Section:
    """One table of the bulletin: its rows are the report's objects (every key) plus ``rank``."""

    key: str  # county | enterprise | platform | failed | freight | ridehailing_overview | ridehailing
    domain: str
    title: str
    sheet: str  # the XLSX sheet's name (≤ 31 characters)
    columns: tuple[Column, ...]
    rows: list[dict[str, Any]]
    note: str = ""
    empty: str = "本辖区本月无此项数据"  # what the PDF says when the jurisdiction has no row


@dataclass
class Bulletin:
    """A month's bulletin for one jurisdiction, before it is rendered."""

    period: str
    jurisdiction: str
    jurisdiction_name: str
    sections: list[Section] = field(default_factory=list)

    def parts(self) -> list[tuple[str, list[Section]]]:
        """(domain, its sections) in the order of :data:`PART_TITLES`, domains with a section."""
        return [
            (d, [s for s in self.sections if s.domain == d])
            for d in PART_TITLES
            if any(s.domain == d for s in self.sections)
        ]

    def section(self, key: str) -> Section | None:
        return next((s for s in self.sections if s.key == key), None)


# ---- jurisdictions (GB/T 2260) -------------------------------------------------------------------


def jurisdiction_prefix(code: str) -> str:
    """The region-code prefix inside ``code``: province 350000 → '35', city 350900 → '3509',
    county 350902 → '350902' (the rule of infra/superset/access.py)."""
    if not _CODE.match(code or ""):
        raise BulletinError(f"jurisdiction {code!r} is no GB/T 2260 code (six digits, e.g. 350902)")
    if code.endswith("0000"):
        return code[:2]
    if code.endswith("00"):
        return code[:4]
    return code


def visible(region: str | None, jurisdiction: str, province: str) -> bool:
    """Whether a row with region code ``region`` (None: the province's) is the jurisdiction's."""
    return (region or province).startswith(jurisdiction_prefix(jurisdiction))


def jurisdiction_name(code: str) -> str:
    """宁德市蕉城区, 宁德市, 福建省 — the code itself for a division the reference lacks."""
    d = divisions.division(code)
    if d is None:
        return code
    if d.level == divisions.COUNTY and d.parent_code:
        parent = divisions.division(d.parent_code)
        return (parent.name if parent else "") + d.name
    return d.name


def check_period(period: str) -> tuple[dt.date, dt.date]:
    """A bulletin's month ``YYYY-MM`` → its first and last day; a BulletinError otherwise."""
    if not re.fullmatch(r"\d{4}-(0[1-9]|1[0-2])", period or ""):
        raise BulletinError(f"period {period!r} is not a month (YYYY-MM)")
    start = dt.date.fromisoformat(f"{period}-01")
    following = dt.date(start.year + start.month // 12, start.month % 12 + 1, 1)
    return start, following - dt.timedelta(days=1)


# ---- ranks ---------------------------------------------------------------------------------------


def competition_ranks(scores: list[float | None]) -> list[int]:
    """RANK() over score descending, nulls last: equal scores share a rank, the next one skips."""
    order = sorted(range(len(scores)), key=lambda i: (scores[i] is None, -(scores[i] or 0.0)))
    ranks = [0] * len(scores)
    for position, i in enumerate(order):
        previous = order[position - 1] if position else None
        same = previous is not None and scores[previous] == scores[i]
        ranks[i] = ranks[previous] if same else position + 1
    return ranks


def _by_rank(rows: list[dict[str, Any]], id_key: str) -> list[dict[str, Any]]:
    return sorted(
        rows, key=lambda r: (r["rank"] is None, r["rank"] or 0, str(r[id_key] or ""))
    )  # fmt: skip


# ---- telematics ----------------------------------------------------------------------------------

SUBJECT_HEADERS = {
    "county": ("县区代码", "县区名称"),
    "enterprise": ("统一社会信用代码", "企业名称"),
    "platform": ("平台编码", "平台名称"),
}
# (key, header, kind) of the report's indicators (telematics.md 第三十三条), REPORT_KEYS' order
TELEMATICS_INDICATORS = (
    ("platform_connectivity_rate", "平台连通率", "rate"),
    ("network_entry_rate", "车辆入网率", "rate"),
    ("online_rate", "车辆上线率", "rate"),
    ("track_completeness_rate", "轨迹完整率", "rate"),
    ("data_qualification_rate", "数据合格率", "rate"),
    ("drift_vehicle_rate", "卫星定位漂移车辆率", "rate"),
    ("check_response_rate", "平台查岗响应率", "rate"),
    ("mean_overspeed_count", "平均车辆超速次数", "number"),
    ("mean_fatigue_minutes", "平均疲劳驾驶时长（分钟）", "number"),
    ("violation_rate", "车辆违法违规率", "rate"),
)  # fmt: skip


def telematics_columns(level: str, weights: Mapping[str, Any]) -> tuple[Column, ...]:
    """Every key of the telematics report but level and period (the sheet's title says them);
    the PDF shows the indicators the level is scored on (rules ``scoring.weights``)."""
    id_header, name_header = SUBJECT_HEADERS[level]
    scored = set(weights[level])
    return (
        Column("rank", "排名", "int"),
        Column("subject_id", id_header),
        Column("subject_name", name_header),
        Column("vehicles", "车辆数", "int"),
        Column("online_vehicles", "上线车辆数", "int"),
        *(Column(k, h, kind, k in scored) for k, h, kind in TELEMATICS_INDICATORS),
        Column("score", "得分", "score"),
        Column("passed", "是否合格", "bool"),
    )


FAILED_COLUMNS = (
    Column("level_label", "层级"),
    Column("subject_id", "代码"),
    Column("subject_name", "名称"),
    Column("score", "得分", "score"),
    Column("rank", "排名", "int"),
    Column("report_due", "整改报告报送期限", "date"),
)


def _enterprise_counties(lake: Path, end: dt.date) -> dict[str, str | None]:
    """enterprise_id → its county on ``end`` (the version valid then, else its first one)."""
    table = registry.table("silver.telematics__enterprises")
    if not timetravel.exists(table, lake):
        return {}
    rows = timetravel.delta_table(table, lake).to_pyarrow_table(
        columns=["enterprise_id", "county_code", "valid_from", "valid_to"]
    ).to_pylist()  # fmt: skip
    out: dict[str, tuple[dt.date, str | None]] = {}
    for r in sorted(rows, key=lambda r: (r["enterprise_id"], r["valid_from"])):
        valid = r["valid_from"] <= end and (r["valid_to"] is None or r["valid_to"] > end)
        if r["enterprise_id"] not in out or valid:
            out[r["enterprise_id"]] = (r["valid_from"], r["county_code"])
    return {k: county for k, (_, county) in out.items()}


def _telematics(
    spark: SparkSession,
    lake: Path,
    period: str,
    jurisdiction: str,
    province: str,
    rules: Mapping[str, Any],
    published_on: dt.date,
    say: Progress,
) -> list[Section]:
    from transforms.telematics.jobs.rectification import add_working_days
    from transforms.telematics.jobs.report import LEVELS, parse_period, report

    month = parse_period(period)
    t_rules = rules["telematics"]
    counties = None
    sections, failed = [], []
    found = 0
    for level in LEVELS:
        rows = [dict(r) for r in report(spark, lake, level, month)]
        found += len(rows)
        for row, rank in zip(rows, competition_ranks([r["score"] for r in rows]), strict=True):
            row["rank"] = rank
        if level == "county":
            regions = {r["subject_id"]: r["subject_id"] for r in rows}
        elif level == "enterprise":
            counties = counties if counties is not None else _enterprise_counties(lake, month.end)
            regions = {r["subject_id"]: counties.get(r["subject_id"]) for r in rows}
        else:
            regions = {}
        mine = [r for r in rows if visible(regions.get(r["subject_id"]), jurisdiction, province)]
        say(f"  动态监控 {level}: {len(rows)} subject(s) assessed, {len(mine)} in {jurisdiction}")
        sections.append(Section(
            key=level, domain="telematics", title=f"{LEVEL_NAMES[level]}考核排名",
            sheet=f"{LEVEL_NAMES[level]}考核排名",
            columns=telematics_columns(level, t_rules["scoring"]["weights"]),
            rows=_by_rank(mine, "subject_id"),
            note=f"{period} 月度考核（满分 100 分，{t_rules['scoring']['pass_score']} 分及以上为合格）",
        ))  # fmt: skip
        failed += [{**r, "level": level, "level_label": LEVEL_NAMES[level]}
                   for r in _by_rank(mine, "subject_id") if r["passed"] is False]  # fmt: skip
    if not found:
        raise BulletinError(
            f"nothing was assessed for {period} in {lake} (gold.telematics__assessments): land "
            "the month's data and run `lakehouse run` first"
        )
    cfg = t_rules["rectification"]
    holidays = {dt.date.fromisoformat(str(h)) for h in cfg.get("holidays", [])}
    due = add_working_days(published_on, int(cfg["report_due_working_days"]), holidays)
    for r in failed:
        r["report_due"] = due
    sections.append(Section(
        key="failed", domain="telematics", title="考核不合格名单", sheet="考核不合格名单",
        columns=FAILED_COLUMNS, rows=failed, empty="本辖区本月无考核不合格单位",
        note=f"被通报单位应在通报发布后 {cfg['report_due_working_days']} 个工作日内上报整改报告"
             "（第三十七条）",
    ))  # fmt: skip
    return sections


# ---- freight -------------------------------------------------------------------------------------

FREIGHT_ANOMALY_HEADERS = {
    "access": "单据接入异常", "qualification": "资质异常", "vehicle_network": "车辆入网异常",
    "trajectory": "运输轨迹异常", "match": "运单资金流水匹配异常", "duplicate": "运单重复异常",
}  # fmt: skip
FREIGHT_COLUMNS = (
    Column("rank", "排名", "int"),
    Column("operator_id", "平台代码"),
    Column("operator_name", "平台名称"),
    Column("envelopes", "报文数", "int", False),
    Column("accepted", "接收成功", "int", False),
    Column("rejected", "接收失败", "int", False),
    Column("waybills", "运单数", "int"),
    Column("vehicles", "车辆数", "int", False),
    Column("drivers", "驾驶员数", "int", False),
    Column("tonnes", "货运量（吨）", "number"),
    Column("tonne_km", "周转量（吨公里）", "number", False),
    Column("charges_yuan", "运费（元）", "number"),
    *(Column(f"anomalies_{t}", h, "int") for t, h in FREIGHT_ANOMALY_HEADERS.items()),
    Column("unknown_distance", "距离未知运单数", "int", False),
    Column("score", "综合评分", "score"),
)


def _freight(
    spark: SparkSession,
    lake: Path,
    period: str,
    jurisdiction: str,
    province: str,
    rules: Mapping[str, Any],
    as_of: dt.datetime,
    say: Progress,
) -> list[Section]:
    from transforms.freight import report
    from transforms.rules import domain_rules

    try:
        rows = report.operators(
            spark, lake, domain_rules(rules, "freight"), domain_rules(rules, "licences"),
            period, as_of,
        )  # fmt: skip
    except FileNotFoundError:  # no freight in this lake
        rows = []
    mine = [dict(r) for r in rows if visible(None, jurisdiction, province)]
    say(f"  网络货运: {len(rows)} operator(s) with statistics, {len(mine)} in {jurisdiction}")
    if not mine:
        return []
    return [Section(
        key="freight", domain="freight", title="网络货运平台运行监测排名", sheet="网络货运平台排名",
        columns=FREIGHT_COLUMNS, rows=_by_rank(mine, "operator_id"),
        note=f"综合评分 = 100 − 100 × Σ 权重 × 异常率；异常按 {as_of:%Y-%m-%d %H:%M:%S} 评估",
    )]  # fmt: skip


# ---- ride-hailing --------------------------------------------------------------------------------

RIDEHAILING_COLUMNS = (
    Column("rank", "排名", "int"),
    Column("company_id", "平台公司标识"),
    Column("company_name", "平台公司名称"),
    Column("transmitted", "是否报送数据", "bool"),
    Column("records", "记录数", "int"),
    Column("completeness_rate", "完整性", "rate"),
    Column("normativity_rate", "规范性", "rate"),
    Column("timeliness_rate", "及时性", "rate"),
    Column("truthfulness_rate", "真实性", "rate"),
    Column("city_coverage_rate", "城市覆盖率", "rate"),
    Column("score", "得分", "score"),
)
OVERVIEW_COLUMNS = (
    Column("platform_companies", "平台公司数", "int"),
    Column("driver_licences", "驾驶员许可数", "int"),
    Column("vehicle_licences", "车辆许可数", "int"),
    Column("orders", "订单数", "int"),
    Column("driver_licences_mom", "驾驶员许可数环比", "rate"),
    Column("vehicle_licences_mom", "车辆许可数环比", "rate"),
    Column("orders_mom", "订单数环比", "rate"),
)


def _company_regions(lake: Path, period: str) -> dict[str, str | None]:
    table = registry.table("gold.ridehailing__company_periods")
    rows = timetravel.delta_table(table, lake).to_pyarrow_table(
        columns=["company_id", "period", "region_code"]
    ).to_pylist()  # fmt: skip
    return {r["company_id"]: r["region_code"] for r in rows if r["period"] == period}


def _ridehailing(
    lake: Path, period: str, jurisdiction: str, province: str, say: Progress
) -> list[Section]:
    from transforms.ridehailing import report

    try:
        rows = [dict(r) for r in report.companies(lake, period)]
        # read whatever the jurisdiction, so that every bulletin records its version
        overview = report.overview(lake, period)
        regions = _company_regions(lake, period)
    except report.ReportError:  # no ride-hailing in this lake
        return []
    if not any(r["transmitted"] for r in rows):
        say("  网约车: no company transmitted in the month")
        return []
    ranked = [r for r in rows if r["transmitted"]]
    for row, rank in zip(ranked, competition_ranks([r["score"] for r in ranked]), strict=True):
        row["rank"] = rank
    mine = [
        {"rank": None, **r} for r in rows
        if visible(regions.get(r["company_id"]), jurisdiction, province)
    ]  # fmt: skip
    say(f"  网约车: {len(rows)} company(ies) evaluated, {len(mine)} in {jurisdiction}")
    sections = []
    if visible(None, jurisdiction, province):  # the industry's totals: the province's
        sections.append(Section(
            key="ridehailing_overview", domain="ridehailing", title="网约车行业运行概况",
            sheet="网约车行业概况", columns=OVERVIEW_COLUMNS, rows=[overview],
            note="许可数为月末在有效期内的许可；环比 = (本月 − 上月) / 上月",
        ))  # fmt: skip
    if mine:
        sections.append(Section(
            key="ridehailing", domain="ridehailing", title="网约车平台公司数据质量排名",
            sheet="网约车平台公司排名", columns=RIDEHAILING_COLUMNS,
            rows=_by_rank(mine, "company_id"),
            note="排名为报送数据的平台公司之间的排名；未报送数据的平台公司不排名",
        ))  # fmt: skip
    return sections


# ---- the whole bulletin --------------------------------------------------------------------------


def build(
    spark: SparkSession,
    lake: Path,
    period: str,
    jurisdiction: str,
    rules: Mapping[str, Any],
    published_on: dt.date,
    as_of: dt.datetime,
    progress: Progress | None = None,
) -> Bulletin:
    """The bulletin of ``period`` for ``jurisdiction`` (``rules``: the whole nested rules file;
    freight evaluated as of ``as_of``; rectification due dates counted from ``published_on``)."""
    say = progress or (lambda _m: None)
    check_period(period)
    province = str(rules["bulletin"]["province"])
    jurisdiction_prefix(jurisdiction)
    out = Bulletin(period, jurisdiction, jurisdiction_name(jurisdiction))
    say(f"reading the reports of {period} for {out.jurisdiction_name} ({jurisdiction})")
    out.sections += _telematics(
        spark, lake, period, jurisdiction, province, rules, published_on, say
    )
    out.sections += _freight(spark, lake, period, jurisdiction, province, rules, as_of, say)
    out.sections += _ridehailing(lake, period, jurisdiction, province, say)
    if not any(s.rows for s in out.sections if s.key != "failed"):
        raise BulletinError(
            f"nothing of {period} falls inside jurisdiction {jurisdiction} "
            f"({out.jurisdiction_name}): no bulletin to publish"
        )
    return out

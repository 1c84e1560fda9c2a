"""The ride-hailing gold tables of the infra tests' lake (conftest.py): 网约车数据质量 with known
values.

Each table has the columns and types of its dbt model (dbt_project/models/marts/ridehailing/);
their logic is tested in tests/dbt/test_dbt_ridehailing.py, here they are known inputs. The months
are relative to today's Beijing date, so the dashboard's default month — the last complete one — is
always LAST:

- EARLIER and LAST are complete, CURRENT (this month) is not: the 统计月份 filter never offers it;
- the rankings differ per month (LAST: R001 97.25 > R002 91.50 > R003 84.75 > R009 70.00, R004
  transmitted nothing and is not ranked; CURRENT's best is 99.80, EARLIER's 94.50), so the
  ranking on the page tells which month the filter chose; R009 has no name (未登记平台公司);
- LAST's defect counts add up to known totals per interface and per rule; EARLIER's and CURRENT's
  are far larger, so a chart that ignored the filter would show it;
- the overview's month-on-month changes of LAST are +25 %, +5 %, +5 %, +20 %.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from zoneinfo import ZoneInfo

import pandas as pd
import pyarrow as pa

DIMENSION_LABELS = {"completeness": "完整性", "normativity": "规范性", "timeliness": "及时性",
                    "truthfulness": "真实性"}  # fmt: skip
NAMES = {"R001": "闽运约车", "R002": "榕城出行", "R003": "八闽专车", "R004": "海峡顺风",
         "R009": None}  # fmt: skip
REGIONS = {"R001": "350102", "R002": "350100", "R003": "350200", "R004": "350900",
           "R009": "350000"}  # fmt: skip
UNNAMED = "未登记平台公司 R009"  # the label of a company without baseInfoCompany
RATES = ("completeness_rate", "normativity_rate", "timeliness_rate", "truthfulness_rate")

# fct_ridehailing__company_months
COMPANY_MONTHS_SCHEMA = pa.schema(
    [("company_id", pa.string()), ("company_name", pa.string()), ("period", pa.string()),
     ("period_start", pa.date32()), ("complete_on", pa.date32()), ("transmitted", pa.bool_()),
     ("records", pa.int64())]
    + [(r, pa.float64()) for r in RATES]
    + [("city_coverage_rate", pa.float64()), ("score", pa.float64()), ("score_rank", pa.int32()),
       ("region_code", pa.string())]
)  # fmt: skip
# fct_ridehailing__defect_counts
DEFECT_COUNTS_SCHEMA = pa.schema(
    [("period", pa.string()), ("period_start", pa.date32()), ("company_id", pa.string()),
     ("company_name", pa.string()), ("interface", pa.string()), ("dimension", pa.string()),
     ("rule", pa.string()), ("rule_kind", pa.string()), ("records", pa.int64()),
     ("region_code", pa.string())]
)  # fmt: skip
_OVERVIEW = ("platform_companies", "driver_licences", "vehicle_licences", "orders")
# fct_ridehailing__overview_months
OVERVIEW_MONTHS_SCHEMA = pa.schema(
    [("period", pa.string()), ("period_start", pa.date32()), ("complete_on", pa.date32())]
    + [(c, pa.int64()) for c in _OVERVIEW]
    + [(f"{c}_mom", pa.float64()) for c in _OVERVIEW]
    + [("region_code", pa.string())]
)  # fmt: skip

# per month: company -> (records, the four rates, city coverage); None: transmitted nothing
EVALUATIONS = {
    "earlier": {"R002": (900, (1.0, 1.0, 0.9, 0.88), 1.0),
                "R001": (1200, (1.0, 0.98, 0.9, 0.84), 0.5),
                "R003": (400, (0.9, 0.9, 0.7, 0.7), 1.0),
                "R004": (150, (0.8, 0.8, 0.7, 0.7), 0.0)},
    "last": {"R001": (1500, (1.0, 0.99, 0.95, 0.95), 1.0),
             "R002": (1000, (0.98, 0.96, 0.88, 0.84), 0.5),
             "R003": (450, (0.95, 0.9, 0.8, 0.74), 1.0),
             "R009": (60, (0.9, 0.8, 0.6, 0.5), None),
             "R004": None},
    "current": {"R003": (120, (1.0, 1.0, 0.996, 0.996), 1.0),
                "R001": (300, (1.0, 0.98, 0.98, 0.96), 1.0),
                "R002": (200, (0.9, 0.9, 0.9, 0.9), 0.5)},
}  # fmt: skip
# per month: (company, interface, dimension, rule, records)
DEFECTS = {
    "earlier": [("R001", "orderMatch", "timeliness", "late:300s", 50),
                ("R004", "baseInfoVehicle", "completeness", "missing:VIN", 40)],
    "last": [("R001", "orderMatch", "timeliness", "late:300s", 3),
             ("R001", "baseInfoDriver", "completeness", "missing:CertificateNo", 1),
             ("R002", "orderCreate", "completeness", "missing:Departure", 4),
             ("R002", "positionVehicle", "timeliness", "late:60s", 6),
             ("R003", "baseInfoVehicle", "normativity", "length:VIN", 2),
             ("R003", "operateArrive", "truthfulness", "event_order:operateDepart", 5),
             ("R003", "orderCreate", "completeness", "missing:Departure", 1),
             ("R009", "orderMatch", "truthfulness", "driver_not_in_static:LicenseId", 7)],
    "current": [("R002", "positionVehicle", "timeliness", "late:60s", 90)],
}  # fmt: skip
# LAST's failed records per interface and per rule, as the charts label them
LAST_BY_INTERFACE = {"订单成功": 10, "驾驶员基本信息": 1, "订单发起": 5, "车辆定位": 6,
                     "车辆基本信息": 2, "经营到达": 5}  # fmt: skip
LAST_BY_RULE = {"上传超时（300s）": 3, "必填项缺失（CertificateNo）": 1,
                "必填项缺失（Departure）": 5, "上传超时（60s）": 6, "长度不符（VIN）": 2,
                "事件先后顺序颠倒（operateDepart）": 5,
                "驾驶员无基础信息（LicenseId）": 7}  # fmt: skip
# per month: platform companies, driver licences, vehicle licences, orders
OVERVIEW = {"earlier": (4, 1200, 1100, 50000), "last": (5, 1260, 1155, 60000),
            "current": (5, 1300, 1200, 20000)}  # fmt: skip


def _month_start(day: dt.date, back: int = 0) -> dt.date:
    index = day.year * 12 + day.month - 1 - back
    return dt.date(index // 12, index % 12 + 1, 1)


def _next_month(start: dt.date) -> dt.date:
    return _month_start(start + dt.timedelta(days=31))


@dataclass(frozen=True)
class RidehailingGold:
    """The three gold frames and the numbers the dashboard must show."""

    earlier: str
    last: str  # the last complete month: the 统计月份 filter's default
    current: str  # this month, not complete
    months: pd.DataFrame
    defects: pd.DataFrame
    overview: pd.DataFrame

    def tables(self) -> dict[str, tuple[pd.DataFrame, pa.Schema]]:
        """``{gold table: (frame, schema)}``."""
        return {
            "ridehailing__company_months": (self.months, COMPANY_MONTHS_SCHEMA),
            "ridehailing__defect_counts": (self.defects, DEFECT_COUNTS_SCHEMA),
            "ridehailing__overview_months": (self.overview, OVERVIEW_MONTHS_SCHEMA),
        }


def ridehailing_gold(today: dt.date | None = None) -> RidehailingGold:
    """The frames, with the months relative to ``today`` (default: today's Beijing date)."""
    today = today or dt.datetime.now(ZoneInfo("Asia/Shanghai")).date()
    starts = {"earlier": _month_start(today, 2), "last": _month_start(today, 1),
              "current": _month_start(today)}  # fmt: skip
    label = {key: start.strftime("%Y-%m") for key, start in starts.items()}

    months, defects, overview = [], [], []
    for key, evaluations in EVALUATIONS.items():
        scores = {c: 25.0 * sum(e[1]) for c, e in evaluations.items() if e is not None}
        ranked = sorted(scores.values(), reverse=True)
        for company, evaluation in evaluations.items():
            records, rates, coverage = evaluation or (0, (None,) * 4, 0.0)
            months.append({
                "company_id": company, "company_name": NAMES[company], "period": label[key],
                "period_start": starts[key], "complete_on": _next_month(starts[key]),
                "transmitted": evaluation is not None, "records": records,
                **dict(zip(RATES, rates, strict=True)), "city_coverage_rate": coverage,
                "score": round(scores.get(company, 0.0), 6),
                "score_rank": ranked.index(scores[company]) + 1 if company in scores else None,
                "region_code": REGIONS[company],
            })  # fmt: skip
        for company, interface, dimension, rule, count in DEFECTS[key]:
            defects.append({
                "period": label[key], "period_start": starts[key], "company_id": company,
                "company_name": NAMES[company], "interface": interface, "dimension": dimension,
                "rule": rule, "rule_kind": rule.split(":", 1)[0], "records": count,
                "region_code": REGIONS[company],
            })  # fmt: skip
    previous = None
    for key, values in OVERVIEW.items():
        row = {"period": label[key], "period_start": starts[key],
               "complete_on": _next_month(starts[key]), "region_code": "350000"}  # fmt: skip
        for column, value, before in zip(_OVERVIEW, values, previous or (None,) * 4, strict=True):
            row[column] = value
            row[f"{column}_mom"] = None if not before else (value - before) / before
        overview.append(row)
        previous = values
    return RidehailingGold(
        label["earlier"], label["last"], label["current"],
        pd.DataFrame(months)[COMPANY_MONTHS_SCHEMA.names],
        pd.DataFrame(defects)[DEFECT_COUNTS_SCHEMA.names],
        pd.DataFrame(overview)[OVERVIEW_MONTHS_SCHEMA.names],
    )  # fmt: skip

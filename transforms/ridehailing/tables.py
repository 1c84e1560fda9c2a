"""Every Delta table of the ride-hailing domain (网约车): layer, location, partitions, retention, key.

Bronze and quarantine: one pair per interface feed (``bronze.ridehailing__orderCreate`` …), as landed.
Silver: every record of every interface once per natural key (``records``, with the three
record-level dimensions), the static interfaces as SCD2 history (``static_versions``), the order
lifecycle (``orders``) and the outage notices. The evaluation (``evaluated``, ``defects``) and the
gold results are rebuilt per period by :mod:`transforms.ridehailing.jobs.evaluate`.

The record tables (records, static records, evaluated, orders) are not partitioned: the engine
writes a partitioned Delta table by hashing its rows on the partition columns and sorting each
task's rows by them, so a batch of one month (one ``period_month``, the usual case) was written and
sorted by a single task — at one company-month (15 M records) 23–32 s and ≈ 11 GB where the same
rows unpartitioned take 11–14 s on both cores. Their readers read whole periods, which Parquet
statistics on ``period_month`` / ``event_day`` prune as well; retention deletes by ``event_day``
(a lake written before keeps its partitioned tables and writes into them as they are: drop and
re-publish to change them).
"""

from __future__ import annotations

from transforms.lake.registry import RetentionColumns, Table
from transforms.ridehailing.feeds import FEEDS
from transforms.ridehailing.interfaces import STATIC, interface

# 第十条: operation data (经营数据) kept ≥ 2 years; in days, whatever the calendar (a leap day)
TWO_YEARS_DAYS = 2 * 365 + 1
LANDED = ("_file_sm3", "_line")
RECORD = ("interface", "natural_key")


def _landed(feed) -> tuple[Table, ...]:
    dynamic = feed.name != "outageNotice" and interface(feed.name).group != STATIC
    # dynamic interfaces' raw records are operation data: ≥ 2 years, aged by landing day; static
    # data and outage notices are kept (they date the history every evaluation reads)
    retention = (
        dict(retention_days=TWO_YEARS_DAYS,
             retention_columns=RetentionColumns(time="_folder_date"))
        if dynamic else {}
    )  # fmt: skip
    return (
        Table(feed.bronze_table, f"{feed.name} records as received (strings) with lineage.",
              partition_by=feed.bronze_partition_by, key=LANDED, **retention),
        Table(feed.quarantine_table,
              f"{feed.name} lines that are not JSON objects, or lack a field of the natural key.",
              key=LANDED),
    )  # fmt: skip


# fmt: off
TABLES: tuple[Table, ...] = (
    *(t for feed in FEEDS for t in _landed(feed)),
    Table("silver.ridehailing__records",
          "Every record of the dynamic interfaces (orders, operations, positions, service "
          "quality) once per natural key — re-sends counted once, values of the latest copy, "
          "timed by the first —: event time and period, first received, and the failures of "
          "completeness, normativity and the record's own truthfulness rules.",
          key=RECORD, retention_days=TWO_YEARS_DAYS,
          retention_columns=RetentionColumns(time="event_day")),
    Table("silver.ridehailing__static_records",
          "The same for the 14 static interfaces (one record per key and UpdateTime); kept for "
          "ever: they date the history every evaluation reads.",
          key=RECORD),
    Table("silver.ridehailing__static_versions",
          "SCD2 history of the 14 static interfaces (Flag 1 add / 2 update open a version, 3 "
          "delete closes it): valid_from, valid_to, the fields as received (protected).",
          key=("interface", "company_id", "entity_key", "valid_from")),
    Table("silver.ridehailing__outages",
          "Outage notices (停运报备): company, planned, notified_at, start, end.",
          key=("company_id", "start")),
    Table("silver.ridehailing__orders",
          "The order lifecycle (订单): one row per company and order — created, matched, departed, "
          "arrived, settled, paid or cancelled times, driver (join hash) and vehicle, mileage, "
          "duration, fare, status — rebuilt by each evaluation.",
          key=("company_id", "order_id"),
          retention_days=TWO_YEARS_DAYS,
          retention_columns=RetentionColumns(time="created_at")),
    Table("silver.ridehailing__evaluated",
          "Every record of an evaluated period with its four dimensions: timely or not (outages "
          "applied), truthfulness with the cross-record rules (static data, licences, event "
          "order, sentinels), failed rules per dimension.",
          key=RECORD, retention_days=TWO_YEARS_DAYS,
          retention_columns=RetentionColumns(time="event_day")),
    Table("silver.ridehailing__defects",
          "One row per failed record and rule (--defects): company, interface, record key "
          "(personal parts masked), dimension, rule, source file and line.",
          key=("interface", "natural_key", "dimension", "rule")),
    Table("gold.ridehailing__company_periods",
          "Monthly and annual data-quality evaluation per platform company: records, the four "
          "rates, city coverage, score, transmitted (第十四–十八条).",
          key=("company_id", "period")),
    Table("gold.ridehailing__overview",
          "The industry's monthly operating overview: platform companies, driver and vehicle "
          "licences, orders, and their month-on-month change.", key=("period",)),
    Table("gold.ridehailing__company_months",
          "The monthly ranking and score trend the dashboard shows (dbt): company_periods' "
          "months, score_rank among the companies that transmitted, complete_on, region_code.",
          key=("company_id", "period")),
    Table("gold.ridehailing__defect_counts",
          "Failed records per month, company, interface, dimension and rule (dbt), with the "
          "company's name and region_code.",
          key=("period", "company_id", "interface", "dimension", "rule")),
    Table("gold.ridehailing__overview_months",
          "The overview with its month-on-month changes (platform companies' too), complete_on "
          "and the province's region_code (dbt).", key=("period",)),
)
# fmt: on

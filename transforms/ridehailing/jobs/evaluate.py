"""The monthly and annual data-quality evaluation of the platform companies (第十四–十八条) and the
industry overview, from the published records (ridehailing.md, "Rates per company and period").

What a record shows by itself was checked when it was published (:mod:`transforms.ridehailing.checks`);
here come the rules that need other records, then the rates:

- static history (SCD2): a static record with Flag 1 / 2 opens a version of its entity (CompanyId +
  identity) valid from its UpdateTime to the next record's; Flag 3 closes it. A Flag 3 with no
  earlier add or update is kept and fails truthfulness (``delete_without_add:Flag``);
- truthfulness across records: the driver / vehicle a dynamic record names has a version of the
  same company in force at the event time with State 0 (``driver_not_in_static:LicenseId``,
  ``vehicle_not_in_static:VehicleNo``); a driver or vehicle the licence feed knows holds a valid
  网约车 licence at that time (``driver_licence:…``, ``vehicle_licence:…``, the reason as the
  licence lookups give it); an order's events in order (``event_order:<earlier interface>`` on the
  later record); sentinel phones and birthdays (``sentinel:DriverPhone`` / ``sentinel:Birthday``);
- timeliness: the first-received copy within the group's limit (``late:<limit>s``), or inside a
  planned outage notified in time and back-filled in time; no event time: ``no_event_time``.

Every run rebuilds the evaluation of every period that still has records in silver (records of a
back-fill, a late static record or a new licence can change any earlier month); the evaluation of
a month whose records have passed retention (2 years) is kept as it was computed.

The plan is :func:`evaluation` (DataFrames in, the frame of every table out — the benchmark runs
it on JVM Spark too); :func:`evaluate` is the job: the Delta reads and writes around it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
from deltalake import DeltaTable, write_deltalake
from pyspark.sql import Column, DataFrame, SparkSession, Window
from pyspark.sql import functions as F

from transforms.lake import registry
from transforms.lake.catalog import register_table
from transforms.lake.clock import now_beijing
from transforms.ridehailing.interfaces import EVENT_ORDER, STATIC

RECORDS = registry.table("silver.ridehailing__records")
STATIC_RECORDS = registry.table("silver.ridehailing__static_records")
OUTAGES = registry.table("silver.ridehailing__outages")
VERSIONS = registry.table("silver.ridehailing__static_versions")
EVALUATED = registry.table("silver.ridehailing__evaluated")
DEFECTS = registry.table("silver.ridehailing__defects")
COMPANY_PERIODS = registry.table("gold.ridehailing__company_periods")
OVERVIEW = registry.table("gold.ridehailing__overview")
ORDERS = registry.table("silver.ridehailing__orders")
LICENCES = registry.table("silver.licences__licences")

DIMENSIONS = ("completeness", "normativity", "timeliness", "truthfulness")
FAILED = {d: f"{d}_failed" for d in DIMENSIONS}


@dataclass
class EvaluationResult:
    records: int = 0
    periods: int = 0
    companies: int = 0
    defects: int = 0


def _entity(natural_key: Column) -> Column:
    """A static record's entity: its natural key without the trailing UpdateTime."""
    return F.regexp_replace(natural_key, r"\|[^|]*$", "")


def static_versions(static: DataFrame) -> DataFrame:
    """SCD2 versions of every static entity: each add / update valid until the entity's next
    record (any Flag); a delete opens nothing."""
    dated = static.where(F.col("event_time").isNotNull()).withColumn(
        "entity_key", _entity(F.col("natural_key"))
    )
    following = Window.partitionBy("interface", "entity_key").orderBy("event_time")
    return (
        dated.withColumn("valid_to", F.lead("event_time").over(following))
        .where(F.col("flag").isin("1", "2"))
        .select(
            "interface", "company_id", "entity_key",
            F.col("event_time").alias("valid_from"), "valid_to", "flag", "state", "address",
            "natural_key", "license_hmac", "vehicle_no", "payload",
        )
    )  # fmt: skip


def deletes_without_add(static: DataFrame) -> DataFrame:
    """(interface, natural_key) of Flag 3 records with no earlier add or update of the entity."""
    dated = static.withColumn("entity_key", _entity(F.col("natural_key")))
    earlier = Window.partitionBy("interface", "entity_key").orderBy("event_time")
    opened = F.max(F.when(F.col("flag").isin("1", "2"), 1).otherwise(0)).over(
        earlier.rowsBetween(Window.unboundedPreceding, -1)
    )
    return (
        dated.withColumn("_opened", F.coalesce(opened, F.lit(0)))
        .where((F.col("flag") == "3") & (F.col("_opened") == 0))
        .select("interface", "natural_key", F.lit("delete_without_add:Flag").alias("_rule"))
    )


def sentinels(static: DataFrame, min_drivers: int) -> DataFrame:
    """(interface, natural_key, rule) of baseInfoDriver records whose phone or birthday is shared
    by ≥ ``min_drivers`` drivers of the company. A blank phone or birthday is no value (it fails
    completeness): the join hash of a blank phone is that of the empty string, so blanks are told
    by the mask."""
    phone_given = F.trim(F.get_json_object("payload", "$.DriverPhone_masked")) != ""
    drivers = static.where(F.col("interface") == "baseInfoDriver").select(
        "interface", "natural_key", "company_id", "license_hmac",
        F.when(phone_given, F.get_json_object("payload", "$.DriverPhone_hmac")).alias("DriverPhone"),
        F.trim(F.get_json_object("payload", "$.Birthday")).alias("Birthday"),
    )  # fmt: skip
    out = []
    for field in ("DriverPhone", "Birthday"):
        value = F.col(field)
        shared = (
            drivers.where(value.isNotNull() & (value != ""))
            .groupBy("company_id", field)
            .agg(F.countDistinct("license_hmac").alias("_drivers"))
            .where(F.col("_drivers") >= min_drivers)
            .select("company_id", field)
        )
        out.append(
            drivers.join(shared, ["company_id", field], "left_semi").select(
                "interface", "natural_key", F.lit(f"sentinel:{field}").alias("_rule")
            )
        )
    return out[0].unionByName(out[1])


def _in_force(
    records: DataFrame, versions: DataFrame, interface: str, entity: Column, rule: str
) -> DataFrame:
    """(interface, natural_key, rule) of records naming an entity (``entity``, null: none) that
    has no version of ``interface`` in force with State 0 at the record's event time."""
    candidates = versions.where((F.col("interface") == interface) & (F.col("state") == "0")).select(
        F.col("entity_key").alias("_v_entity"),
        F.col("valid_from").alias("_v_from"),
        F.col("valid_to").alias("_v_to"),
    )
    asking = records.select(
        "interface", "natural_key", "event_time", entity.alias("_entity")
    ).where(F.col("_entity").isNotNull() & F.col("event_time").isNotNull())
    # one anti join against the (small) versions: a record is its own key, no join back needed
    return asking.join(
        candidates,
        (F.col("_entity") == F.col("_v_entity"))
        & (F.col("_v_from") <= F.col("event_time"))
        & (F.col("_v_to").isNull() | (F.col("event_time") < F.col("_v_to"))),
        "left_anti",
    ).select("interface", "natural_key", F.lit(rule).alias("_rule"))


def event_order(records: DataFrame) -> DataFrame:
    """(interface, natural_key, rule) of lifecycle records earlier than the step before them."""
    steps = records.where(
        F.col("order_id").isNotNull() & (F.col("order_id") != "") & F.col("event_time").isNotNull()
    ).select("interface", "natural_key", "company_id", "order_id", "event_time")
    out = None
    for before, after in EVENT_ORDER:
        first = steps.where(F.col("interface") == before).select(
            "company_id", "order_id", F.col("event_time").alias("_before")
        )
        late = (
            steps.where(F.col("interface") == after)
            .join(first, ["company_id", "order_id"])
            .where(F.col("event_time") < F.col("_before"))
            .select("interface", "natural_key", F.lit(f"event_order:{before}").alias("_rule"))
            .distinct()
        )
        out = late if out is None else out.unionByName(late)
    return out


# the order lifecycle (create → match → depart → arrive → pay, or a cancellation): the interface
# giving each step's time
STEPS = {
    "orderCreate": "created_at", "orderMatch": "matched_at", "operateDepart": "departed_at",
    "operateArrive": "arrived_at", "operatePay": "settled_at", "orderCancel": "cancelled_at",
}  # fmt: skip


def order_lifecycle(dynamic: DataFrame) -> DataFrame:
    """One row per (company, order): the time of each step (its record's event time), the
    driver (join hash) and vehicle matched, the trip's mileage, duration and fare as paid, where
    it ended (``status``: cancelled, paid, arrived, departed, matched, created) and the month it
    belongs to (its creation's, else its first record's)."""
    rows = dynamic.where(
        F.col("interface").isin(list(STEPS)) & F.col("order_id").isNotNull()
        & (F.col("order_id") != "")
    )  # fmt: skip

    def of(interface: str, column: Column) -> Column:
        return F.max(F.when(F.col("interface") == interface, column))

    def paid(field: str) -> Column:
        return of("operatePay", F.get_json_object("payload", f"$.{field}"))

    paid_at = F.get_json_object("payload", "$.PayTime")
    facts = rows.groupBy("company_id", "order_id").agg(
        *[of(i, F.col("event_time")).alias(name) for i, name in STEPS.items()],
        of("operatePay", F.when(F.trim(paid_at) != "", F.col("event_time"))).alias("paid_at"),
        of("orderMatch", F.col("license_hmac")).alias("driver_hmac"),
        of("orderMatch", F.col("vehicle_no")).alias("vehicle_no"),
        of("orderCreate", F.col("address")).alias("city_code"),
        paid("DriveMile").try_cast("double").alias("drive_mile_km"),
        paid("DriveTime").try_cast("double").alias("drive_time_s"),
        paid("FactPrice").try_cast("double").alias("fact_price"),
        F.min("period_month").alias("_first_month"),
        F.count(F.lit(1)).alias("records"),
    )
    status = (
        F.when(F.col("cancelled_at").isNotNull(), "cancelled")
        .when(F.col("paid_at").isNotNull(), "paid")
        .when(F.col("arrived_at").isNotNull(), "arrived")
        .when(F.col("departed_at").isNotNull(), "departed")
        .when(F.col("matched_at").isNotNull(), "matched")
        .otherwise("created")
    )
    month = F.coalesce(F.date_format("created_at", "yyyy-MM"), F.col("_first_month"))
    return facts.select(
        "company_id", "order_id", *STEPS.values(), "paid_at", status.alias("status"),
        "driver_hmac", "vehicle_no", "city_code", "drive_mile_km", "drive_time_s", "fact_price",
        "records", month.alias("period_month"),
    )  # fmt: skip


def licence_failures(
    records: DataFrame,
    versions: DataFrame,
    licences: DataFrame,
    rules: dict[str, Any],
    licence_rules: dict[str, Any],
    join_key: bytes,
) -> DataFrame:
    """(interface, natural_key, rule) of records whose driver or vehicle the licence feed
    (``licences``: silver.licences__licences) knows but who held no valid licence of the 网约车
    kinds at the event time."""
    from transforms.licences.lookups import (
        JOIN_COLUMN,
        kind_condition,
        qualified_at,
        with_holder_hmac,
    )

    truth = rules["truthfulness"]
    out = []
    for role, kinds, holder in (
        ("driver", truth["driver_licence_kinds"], "license_hmac"),
        ("vehicle", truth["vehicle_licence_kinds"], "_vehicle_holder"),
    ):
        known = (
            licences.where(kind_condition(kinds, licence_rules))
            .select(F.col(JOIN_COLUMN).alias("_known"))
            .distinct()
        )
        asking = records.where(F.col("event_time").isNotNull())
        if role == "vehicle":
            asking = _vehicle_holders(asking, versions, join_key, with_holder_hmac)
        else:
            asking = asking.where(F.col(holder).isNotNull())
        asking = asking.select(
            "interface", "natural_key", "event_time", F.col(holder).alias(JOIN_COLUMN)
        ).join(known, F.col(JOIN_COLUMN) == F.col("_known"), "left_semi")
        checked = qualified_at(asking, licences, kinds, licence_rules, prefix="_l")
        field = "LicenseId" if role == "driver" else "VehicleNo"
        out.append(
            checked.where(~F.col("_l_valid")).select(
                "interface",
                "natural_key",
                F.concat(F.lit(f"{role}_licence:"), F.col("_l_reason"), F.lit(f":{field}")).alias(
                    "_rule"
                ),
            )  # fmt: skip
        )
    return out[0].unionByName(out[1])


def _vehicle_holders(records, versions, join_key, with_holder_hmac) -> DataFrame:
    """Records naming a vehicle, with its licence holder hash ``<VehicleNo>-<PlateColor>`` (the
    colour of the vehicle's version in force at the event time)."""
    colours = versions.where(F.col("interface") == "baseInfoVehicle").select(
        F.col("entity_key").alias("_v_entity"),
        F.col("valid_from").alias("_v_from"),
        F.col("valid_to").alias("_v_to"),
        F.trim(F.get_json_object("payload", "$.PlateColor")).alias("_colour"),
    )
    named = records.where(F.col("vehicle_no").isNotNull() & (F.col("vehicle_no") != ""))
    joined = named.join(
        colours,
        (F.concat_ws("|", "company_id", "vehicle_no") == F.col("_v_entity"))
        & (F.col("_v_from") <= F.col("event_time"))
        & (F.col("_v_to").isNull() | (F.col("event_time") < F.col("_v_to"))),
    ).withColumn("_vehicle_key", F.concat_ws("-", "vehicle_no", "_colour"))
    return with_holder_hmac(joined, "_vehicle_key", join_key, out="_vehicle_holder")


def timeliness(rules: dict[str, Any]) -> Column:
    """The timeliness failures of a record row (array column), given its outage exemption in
    ``_exempt``."""
    limits = rules["timeliness_limits_s"]
    limit = F.lit(None).cast("bigint")
    for group, seconds in limits.items():
        limit = F.when(F.col("grp") == group, F.lit(int(seconds))).otherwise(limit)
    delay = F.unix_timestamp("first_received_at") - F.unix_timestamp("event_time")
    late = F.when(F.col("event_time").isNull(), F.lit("no_event_time")).when(
        (delay > limit) & ~F.col("_exempt"),
        F.concat(F.lit("late:"), limit.cast("string"), F.lit("s")),
    )
    return F.filter(F.array(late), lambda x: x.isNotNull())


def exempt(records: DataFrame, outages: DataFrame | None, rules: dict[str, Any]) -> DataFrame:
    """``records`` with ``_exempt``: its event time lies in a planned outage of its company
    notified ≥ notice_h before the outage began, and it was first received ≤ backfill_h after
    the outage ended."""
    if outages is None:
        return records.withColumn("_exempt", F.lit(False))
    notice_s = int(rules["outage"]["notice_h"]) * 3600
    backfill_s = int(rules["outage"]["backfill_h"]) * 3600
    planned = outages.where(
        F.col("planned") & (F.unix_timestamp("start") - F.unix_timestamp("notified_at") >= notice_s)
    ).select(
        F.col("company_id").alias("_o_company"),
        F.col("start").alias("_o_start"),
        F.col("end").alias("_o_end"),
    )
    covered = (
        (F.col("company_id") == F.col("_o_company"))
        & (F.col("event_time") >= F.col("_o_start"))
        & (F.col("event_time") <= F.col("_o_end"))
        & (F.unix_timestamp("first_received_at") <= F.unix_timestamp("_o_end") + backfill_s)
    )
    # the records split by a semi and an anti join against the (few) notices: no join of the
    # records with themselves
    return (
        records.join(planned, covered, "left_semi")
        .withColumn("_exempt", F.lit(True))
        .unionByName(
            records.join(planned, covered, "left_anti").withColumn("_exempt", F.lit(False))
        )
    )


@dataclass
class EvaluationFrames:
    """What one evaluation writes, as DataFrames: each the content of one table."""

    versions: DataFrame  # silver.ridehailing__static_versions
    evaluated: DataFrame  # silver.ridehailing__evaluated
    defects: DataFrame  # silver.ridehailing__defects
    orders: DataFrame  # silver.ridehailing__orders
    company_periods: DataFrame  # gold.ridehailing__company_periods
    overview: DataFrame  # gold.ridehailing__overview


# stores a frame later steps read many times (the static versions, the evaluated records) as
# ``table`` and returns it read back; identity: the plan stays one lazy DAG
Checkpoint = Callable[[registry.Table, DataFrame], DataFrame]


def evaluation(
    static: DataFrame,
    dynamic: DataFrame,
    outages: DataFrame | None,
    licences: DataFrame | None,
    rules: dict[str, Any],
    licence_rules: dict[str, Any],
    join_key: bytes,
    checkpoint: Checkpoint | None = None,
) -> EvaluationFrames:
    """The evaluation as a plan over DataFrames, from the published records (``static``:
    silver.ridehailing__static_records, ``dynamic``: silver.ridehailing__records), the outage
    notices and the licences (None: none known) to the frames of every table it writes.

    ``checkpoint`` is where the caller stores the static versions and then the evaluated records
    (each read by several later steps) and reads them back — the job writes its Delta tables,
    another engine its own files; the month lists of the company periods and the overview are
    read from the evaluated records (a small query each)."""
    keep = checkpoint or (lambda _table, frame: frame)
    versions = keep(VERSIONS, static_versions(static))

    truth = rules["truthfulness"]
    cross = [deletes_without_add(static), sentinels(static, int(truth["sentinel_min_drivers"]))]
    cross.append(
        _in_force(dynamic, versions, "baseInfoDriver",
                  F.when(F.col("license_hmac").isNotNull(),
                         F.concat_ws("|", "company_id", "license_hmac")),
                  "driver_not_in_static:LicenseId")
    )  # fmt: skip
    cross.append(
        _in_force(dynamic, versions, "baseInfoVehicle",
                  F.when(F.col("vehicle_no").isNotNull() & (F.col("vehicle_no") != ""),
                         F.concat_ws("|", "company_id", "vehicle_no")),
                  "vehicle_not_in_static:VehicleNo")
    )  # fmt: skip
    cross.append(event_order(dynamic))
    if licences is not None:
        cross.append(licence_failures(dynamic, versions, licences, rules, licence_rules, join_key))
    failures = cross[0]
    for frame in cross[1:]:
        failures = failures.unionByName(frame)
    by_record = failures.groupBy("interface", "natural_key").agg(
        F.array_sort(F.collect_set("_rule")).alias("_cross")
    )

    every = static.unionByName(dynamic)
    every = exempt(every, outages, rules)
    evaluated = (
        every.join(by_record, ["interface", "natural_key"], "left")
        .select(
            "interface", "grp", "company_id", "natural_key", "record_key", "event_time",
            "event_day", "period_month", "first_received_at", "address",
            F.col("completeness_failed"), F.col("normativity_failed"),
            timeliness(rules).alias("timeliness_failed"),
            F.concat(F.col("truth_failed"),
                     F.coalesce("_cross", F.array().cast("array<string>")))
            .alias("truthfulness_failed"),
            "_source_file", "_line",
        )
    )  # fmt: skip
    evaluated = keep(EVALUATED, evaluated)

    return EvaluationFrames(
        versions=versions,
        evaluated=evaluated,
        defects=defect_rows(evaluated),
        orders=order_lifecycle(dynamic),
        company_periods=company_periods(evaluated, versions, static, rules),
        overview=overview(evaluated, versions),
    )


def defect_rows(evaluated: DataFrame) -> DataFrame:
    """One row per failed record and rule (``--defects``)."""
    defects = None
    for dimension in DIMENSIONS:
        rows = evaluated.select(
            "company_id", "interface", "natural_key", "record_key",
            F.lit(dimension).alias("dimension"),
            F.explode(FAILED[dimension]).alias("rule"),
            F.col("_source_file").alias("source_file"), F.col("_line").alias("line"),
            "period_month", "event_time",
        )  # fmt: skip
        defects = rows if defects is None else defects.unionByName(rows)
    return defects


def evaluate(
    spark: SparkSession,
    lake: Path,
    rules: dict[str, Any],
    licence_rules: dict[str, Any],
    join_key: bytes,
    progress: Callable[[str], None] | None = None,
) -> EvaluationResult:
    """Rebuild the static history, the evaluated records, the defects, the company periods and
    the overview from silver (the plan: :func:`evaluation`; here the Delta reads and writes)."""
    say = progress or (lambda _m: None)
    result = EvaluationResult()
    if not (RECORDS.exists(lake) and STATIC_RECORDS.exists(lake)):
        say("ridehailing: nothing published yet")
        return result
    load = lambda t: spark.read.format("delta").load(str(t.location(lake)))  # noqa: E731

    def checkpoint(table: registry.Table, frame: DataFrame) -> DataFrame:
        _write(spark, lake, table, frame)
        return load(table)

    frames = evaluation(
        load(STATIC_RECORDS),
        load(RECORDS),
        load(OUTAGES) if OUTAGES.exists(lake) else None,
        load(LICENCES) if LICENCES.exists(lake) else None,
        rules,
        licence_rules,
        join_key,
        checkpoint,
    )
    _write(spark, lake, DEFECTS, frames.defects)
    _write(spark, lake, ORDERS, frames.orders)
    frozen = _retained_from(rules)
    _write_periods(spark, lake, COMPANY_PERIODS, frames.company_periods, frozen)
    _write_periods(spark, lake, OVERVIEW, frames.overview, frozen)
    counts = (
        spark.read.format("delta")
        .load(str(COMPANY_PERIODS.location(lake)))
        .agg(
            F.countDistinct("period").alias("periods"),
            F.countDistinct("company_id").alias("companies"),
        )
        .first()
    )
    result.periods, result.companies = counts["periods"], counts["companies"]
    result.records, result.defects = _rows(lake, EVALUATED), _rows(lake, DEFECTS)
    say(
        f"ridehailing: {result.records:,} record(s) of {result.companies} company(ies) evaluated "
        f"over {result.periods} period(s); {result.defects:,} defect row(s)"
    )
    return result


def _write(spark: SparkSession, lake: Path, table: registry.Table, frame: DataFrame) -> None:
    """Overwrite ``table`` with ``frame``, every column nullable whatever the plan made of it
    (readers — dbt sources — declare one schema for an empty lake and a full one): the table is
    created, or re-created when its columns changed, empty through delta-rs with that schema,
    and the engine's overwrite keeps it. Not partitioned (:mod:`transforms.ridehailing.tables`
    says why; a table a lake made partitioned before keeps its partitions)."""
    schema = frame.limit(0).toArrow().schema
    schema = pa.schema([f.with_nullable(True) for f in schema])
    location = table.location(lake)
    if not table.exists(lake) or pa.schema(DeltaTable(str(location)).schema().to_arrow()) != schema:
        write_deltalake(
            str(location), schema.empty_table(), mode="overwrite", schema_mode="overwrite"
        )
    frame.write.format("delta").mode("overwrite").save(str(location))
    register_table(spark, table.name, location)


def _rows(lake: Path, table: registry.Table) -> int:
    """The rows a table holds, from its Delta log (no data read)."""
    actions = pa.table(DeltaTable(str(table.location(lake))).get_add_actions(flatten=True))
    return int(pc.sum(actions.column("num_records")).as_py() or 0)


def _retained_from(rules: dict[str, Any], today: dt.date | None = None) -> dt.date | None:
    """The first day whose dynamic records retention still keeps (None: kept for ever)."""
    days = (rules.get("retention") or {}).get(RECORDS.name)
    if not days:
        return None
    return (today or now_beijing().date()) - dt.timedelta(days=int(days))


def _period_start(period: str) -> dt.date:
    return dt.date(int(period[:4]), int(period[5:7]) if len(period) == 7 else 1, 1)


def _write_periods(
    spark: SparkSession,
    lake: Path,
    table: registry.Table,
    frame: DataFrame,
    retained_from: dt.date | None = None,
) -> None:
    """Replace the periods ``frame`` holds; keep the others — and keep, as computed then, every
    period already written that began before ``retained_from``: retention may have deleted some
    of its dynamic records, and what is left (its static records) must not change its score."""
    fresh = frame.toArrow()
    fresh = fresh.cast(pa.schema([f.with_nullable(True) for f in fresh.schema]))
    location = str(table.location(lake))
    if table.exists(lake):
        existing = DeltaTable(location).to_pyarrow_dataset().to_table()
        frozen = {
            p for p in set(existing.column("period").to_pylist())
            if retained_from is not None and _period_start(p) < retained_from
        }  # fmt: skip
        if frozen:
            fresh = fresh.filter(~pc.field("period").isin(pa.array(sorted(frozen), pa.string())))
        computed = pa.array(sorted(set(fresh.column("period").to_pylist())), pa.string())
        kept = existing.filter(~pc.field("period").isin(computed))
        if kept.num_rows:
            fresh = pa.concat_tables([kept.select(fresh.column_names).cast(fresh.schema), fresh])
    write_deltalake(location, fresh, mode="overwrite", schema_mode="overwrite")
    register_table(spark, table.name, table.location(lake))


def _month_bounds(month: str) -> tuple[dt.datetime, dt.datetime]:
    start = dt.datetime.strptime(month + "-01", "%Y-%m-%d")
    end = (start + dt.timedelta(days=32)).replace(day=1)
    return start, end


def company_periods(
    evaluated: DataFrame, versions: DataFrame, static: DataFrame, rules: dict[str, Any]
) -> DataFrame:
    """Per company and period (every month with records, and its year): records, the four
    rates, city coverage, score, transmitted."""
    weights = rules["score_weights"]
    digits = int(rules["coverage_city_digits"])
    months = sorted(r[0] for r in evaluated.select("period_month").distinct().collect() if r[0])
    spark = evaluated.sparkSession
    periods = [(m, "month", *_month_bounds(m)) for m in months]
    for year in sorted({m[:4] for m in months}):
        periods.append(
            (year, "year", dt.datetime(int(year), 1, 1), dt.datetime(int(year) + 1, 1, 1))
        )
    if not periods:
        return _empty_periods(spark)
    calendar = spark.createDataFrame(
        periods, "period string, grain string, _p_start timestamp, _p_end timestamp"
    )
    city = F.substring("address", 1, digits)
    # the records read once, per company and month (records passing each dimension, the cities
    # served), then each month and year summed from those: a rate is passing ÷ records (exact
    # integers as doubles: the same value an average of 1s and 0s gives)
    dated = evaluated.where(F.col("period_month").isNotNull())
    passing = {d: F.sum(F.when(F.size(FAILED[d]) == 0, 1.0).otherwise(0.0)) for d in DIMENSIONS}
    monthly = dated.groupBy("company_id", "period_month").agg(
        F.count(F.lit(1)).alias("_records"), *[p.alias(f"_{d}") for d, p in passing.items()]
    )
    cities = (
        dated.where(F.col("grp") != STATIC)
        .select("company_id", "period_month", city.alias("_city"))
        .distinct()
    )

    def in_periods(frame: DataFrame) -> DataFrame:
        """Month rows in their month and in their year."""
        return frame.withColumns(
            {"period": F.col("period_month"), "grain": F.lit("month")}
        ).unionByName(
            frame.withColumns({"period": F.substring("period_month", 1, 4), "grain": F.lit("year")})
        )

    rates = (
        in_periods(monthly)
        .groupBy("company_id", "period", "grain")
        .agg(
            F.sum("_records").alias("records"),
            *[(F.sum(f"_{d}") / F.sum("_records")).alias(f"{d}_rate") for d in DIMENSIONS],
        )
    )
    permits = (
        versions.where((F.col("interface") == "baseInfoCompanyPermit") & (F.col("state") == "0"))
        .join(
            calendar,
            (F.col("valid_from") < F.col("_p_end"))
            & (F.col("valid_to").isNull() | (F.col("valid_to") > F.col("_p_start"))),
        )
        .select("company_id", "period", "grain", city.alias("_city"))
        .distinct()
    )
    permitted = permits.groupBy("company_id", "period", "grain").agg(
        F.count(F.lit(1)).alias("_permit_cities")
    )
    served = (
        in_periods(cities)
        .select("company_id", "period", "grain", "_city")
        .distinct()
        .join(permits, ["company_id", "period", "grain", "_city"], "left_semi")
        .groupBy("company_id", "period", "grain")
        .agg(F.count(F.lit(1)).alias("_served_cities"))
    )
    subjects = (
        rates.select("company_id", "period", "grain")
        .unionByName(permitted.select("company_id", "period", "grain"))
        .distinct()
    )
    names = _company_names(static)
    joined = (
        subjects.join(rates, ["company_id", "period", "grain"], "left")
        .join(permitted, ["company_id", "period", "grain"], "left")
        .join(served, ["company_id", "period", "grain"], "left")
        .join(names, ["company_id"], "left")
    )
    transmitted = F.coalesce(F.col("records"), F.lit(0)) > 0
    coverage = F.when(~transmitted, F.lit(0.0)).when(
        F.col("_permit_cities").isNotNull(),
        F.coalesce(F.col("_served_cities"), F.lit(0)) / F.col("_permit_cities"),
    )
    score = sum(F.col(f"{d}_rate") * F.lit(float(weights[d])) for d in DIMENSIONS) * F.lit(100.0)
    return joined.select(
        "company_id", "company_name", "period", "grain",
        transmitted.alias("transmitted"),
        F.coalesce(F.col("records"), F.lit(0)).cast("bigint").alias("records"),
        *[F.col(f"{d}_rate") for d in DIMENSIONS],
        coverage.cast("double").alias("city_coverage_rate"),
        F.when(transmitted, score).otherwise(F.lit(0.0)).alias("score"),
        "region_code",
    )  # fmt: skip


def _company_names(static: DataFrame) -> DataFrame:
    """Each company's name and registered division (region_code) from its latest baseInfoCompany
    record."""
    latest = Window.partitionBy("company_id").orderBy(F.col("event_time").desc_nulls_last())
    return (
        static.where(F.col("interface") == "baseInfoCompany")
        .withColumn("_rank", F.row_number().over(latest))
        .where(F.col("_rank") == 1)
        .select(
            "company_id",
            F.get_json_object("payload", "$.CompanyName").alias("company_name"),
            F.col("address").alias("region_code"),
        )
    )


def _empty_periods(spark: SparkSession) -> DataFrame:
    return spark.createDataFrame(
        [],
        "company_id string, company_name string, period string, grain string, "
        "transmitted boolean, records bigint, completeness_rate double, "
        "normativity_rate double, timeliness_rate double, truthfulness_rate double, "
        "city_coverage_rate double, score double, region_code string",
    )


def overview(evaluated: DataFrame, versions: DataFrame) -> DataFrame:
    """Per month from the first to the last with records: companies with a permit, driver and
    vehicle licences in force at the month's end, orders, and the month-on-month changes."""
    spark = evaluated.sparkSession
    months = sorted(r[0] for r in evaluated.select("period_month").distinct().collect() if r[0])
    if not months:
        return spark.createDataFrame(
            [],
            "period string, platform_companies bigint, driver_licences bigint, "
            "vehicle_licences bigint, orders bigint, driver_licences_mom double, "
            "vehicle_licences_mom double, orders_mom double",
        )
    every: list[str] = []
    month = dt.date.fromisoformat(months[0] + "-01")
    last = dt.date.fromisoformat(months[-1] + "-01")
    while month <= last:
        every.append(month.strftime("%Y-%m"))
        month = (month + dt.timedelta(days=32)).replace(day=1)
    calendar = spark.createDataFrame(
        [(m, _month_bounds(m)[1] - dt.timedelta(seconds=1)) for m in every],
        "period string, _at timestamp",
    )
    in_force = (
        versions.where(F.col("state") == "0")
        .join(
            calendar,
            (F.col("valid_from") <= F.col("_at"))
            & (F.col("valid_to").isNull() | (F.col("valid_to") > F.col("_at"))),
        )
        .groupBy("period")
        .agg(
            F.countDistinct(
                F.when(F.col("interface") == "baseInfoCompanyPermit", F.col("company_id"))
            ).alias("platform_companies"),
            F.count(F.when(F.col("interface") == "baseInfoDriver", 1)).alias("driver_licences"),
            F.count(F.when(F.col("interface") == "baseInfoVehicle", 1)).alias("vehicle_licences"),
        )
    )
    orders = (
        evaluated.where(F.col("interface") == "orderCreate")
        .groupBy(F.col("period_month").alias("period"))
        .agg(F.count(F.lit(1)).alias("orders"))
    )
    base = (
        calendar.select("period")
        .join(in_force, ["period"], "left")
        .join(orders, ["period"], "left")
        .select(
            "period",
            *[
                F.coalesce(F.col(c), F.lit(0)).cast("bigint").alias(c)
                for c in ("platform_companies", "driver_licences", "vehicle_licences", "orders")
            ],
        )
    )
    previous = Window.orderBy("period")

    def mom(column: str) -> Column:
        before = F.lag(column).over(previous)
        return (F.col(column) - before) / F.when(before != 0, before).cast("double")

    return base.select(
        "*",
        mom("driver_licences").alias("driver_licences_mom"),
        mom("vehicle_licences").alias("vehicle_licences_mom"),
        mom("orders").alias("orders_mom"),
    )

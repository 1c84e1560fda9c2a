"""Bronze strings of one interface → one record row per line, with what the record itself shows of
the four dimensions (ridehailing.md, "Rates per company and period").

Pure ``DataFrame -> DataFrame`` functions over the catalogue (:mod:`transforms.ridehailing.interfaces`);
the job that reads, deduplicates and writes is :mod:`transforms.ridehailing.jobs.publish`, the
checks that need other records (static data, licences, event order, sentinels, outages) are
:mod:`transforms.ridehailing.jobs.evaluate`.

Rule names (the ``rule`` of ``--defects``) are ``<check>:<Field>``:

- completeness: ``missing:<Field>`` — a mandatory field absent or empty after trimming;
- normativity: ``length:`` (F exact / V at most), ``time:`` (not a valid YYYYMMDDhhmmss),
  ``date:`` (not a valid YYYYMMDD), ``division:`` (not 6 digits), ``number:`` (not a number of
  that many digits and decimals), ``range:`` (outside the field's range), ``code:`` (not in the
  code table), ``coordinate:`` (not an integer, or outside China's bounds after ×1e-6);
- truthfulness (the record's own): ``before_2000:`` / ``after_received:`` (an F14 time or
  PositionTime; a validity end or a booked departure may lie ahead), ``paid_drive_mile:`` / ``paid_drive_time:`` (operatePay).

Personal fields are kept only protected: their presence and the formats that survive masking
(the length of a phone or a name) are checked on the masked form, the natural key uses the join
hash, the displayed record key the masked value.
"""

from __future__ import annotations

from typing import Any

from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F

from transforms.ridehailing.interfaces import (
    CODE,
    CODE_TABLES,
    COORD,
    DATE,
    DIVISION,
    NUMBER,
    STATIC,
    TIME,
    FieldSpec,
    Interface,
)

LINEAGE = ("_source_file", "_line", "_file_sm3", "_landed_at")
# GMT+8 wall-clock times are stored as timestamps of a UTC session (as everywhere in the lake)
GMT8_S = 8 * 3600
UNIX_FIELD = "PositionTime"
RECEIVED_PATTERN = r"^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$"

# the columns of a record row (silver.ridehailing__records and __static_records)
RECORD_COLUMNS = (
    "interface", "grp", "company_id", "natural_key", "record_key", "event_time", "event_day",
    "period_month", "received_at", "first_received_at", "copies", "address", "flag", "state",
    "completeness_failed", "normativity_failed", "truth_failed",
    "license_hmac", "vehicle_no", "order_id", "payload", *LINEAGE,
)  # fmt: skip


def stored(spec: FieldSpec) -> str:
    """The bronze column holding what can be seen of a field: its masked form when personal."""
    return f"{spec.name}_masked" if spec.sensitive else spec.name


def text(spec: FieldSpec) -> Column:
    return F.trim(F.col(stored(spec)))


def present(spec: FieldSpec) -> Column:
    value = text(spec)
    return value.isNotNull() & (value != F.lit(""))


def f14(value: Column) -> Column:
    """YYYYMMDDhhmmss → timestamp (null when not a valid time)."""
    iso = F.concat_ws(
        "",
        F.substring(value, 1, 4), F.lit("-"), F.substring(value, 5, 2), F.lit("-"),
        F.substring(value, 7, 2), F.lit(" "), F.substring(value, 9, 2), F.lit(":"),
        F.substring(value, 11, 2), F.lit(":"), F.substring(value, 13, 2),
    )  # fmt: skip
    return F.when(value.rlike(r"^\d{14}$"), iso.try_cast("timestamp"))


def f8(value: Column) -> Column:
    """YYYYMMDD → date (null when not a valid date)."""
    iso = F.concat_ws(
        "-", F.substring(value, 1, 4), F.substring(value, 5, 2), F.substring(value, 7, 2)
    )
    return F.when(value.rlike(r"^\d{8}$"), iso.try_cast("date"))


def unix_wall(value: Column) -> Column:
    """Unix seconds → the GMT+8 wall-clock time (null when not an integer)."""
    seconds = F.when(value.rlike(r"^-?\d{1,12}$"), value.try_cast("bigint"))
    return F.timestamp_seconds(seconds + F.lit(GMT8_S))


def typed_time(spec: FieldSpec) -> Column:
    """A time field's value as a timestamp (F14, or PositionTime's unix seconds)."""
    if spec.name == UNIX_FIELD:
        return unix_wall(text(spec))
    return f14(text(spec))


def _number_pattern(spec: FieldSpec) -> str:
    decimals = rf"(\.\d{{1,{spec.decimals}}})?" if spec.decimals else ""
    return rf"^-?\d{{1,{spec.length}}}{decimals}$"


def format_failures(spec: FieldSpec, rules: dict[str, Any]) -> list[tuple[str, Column]]:
    """(rule name, fails) of a field's format; each applies only where the field is present."""
    value = text(spec)
    name = spec.name
    out: list[tuple[str, Column]] = []
    if spec.sensitive and spec.sensitive == "id_number":
        return out  # an ID number's mask is always 18 characters: its length is not visible
    if spec.kind == TIME and name != UNIX_FIELD:
        out.append((f"time:{name}", f14(value).isNull()))
    elif spec.kind == DATE:
        out.append((f"date:{name}", f8(value).isNull()))
    elif spec.kind == DIVISION:
        out.append((f"division:{name}", ~value.rlike(r"^\d{6}$")))
    elif spec.kind == CODE:
        out.append((f"code:{name}", ~value.isin(list(CODE_TABLES[spec.code_table or name]))))
    elif spec.kind == COORD:
        low, high = rules["china_bounds"][spec.axis or "lon"]
        degrees = F.when(value.rlike(r"^-?\d{1,10}$"), value.try_cast("double") / F.lit(1e6))
        out.append(
            (
                f"coordinate:{name}",
                degrees.isNull() | (degrees < F.lit(low)) | (degrees > F.lit(high)),
            )
        )
    elif spec.kind == NUMBER:
        is_number = value.rlike(_number_pattern(spec))
        out.append((f"number:{name}", ~is_number))
        if spec.low is not None or spec.high is not None:
            number = value.try_cast("double")
            outside = F.lit(False)
            if spec.low is not None:
                outside = outside | (number < F.lit(float(spec.low)))
            if spec.high is not None:
                outside = outside | (number > F.lit(float(spec.high)))
            out.append((f"range:{name}", is_number & outside))
    else:  # TEXT
        length = F.length(value)
        too_long = (length != spec.length) if spec.fixed else (length > spec.length)
        out.append((f"length:{name}", too_long))
    return out


def _names(checks: list[tuple[str, Column]]) -> Column:
    """An array of the names of the checks that fail (null conditions do not fail)."""
    if not checks:
        return F.array().cast("array<string>")
    tagged = [F.when(F.coalesce(c, F.lit(False)), F.lit(n)) for n, c in checks]
    return F.filter(F.array(*tagged), lambda x: x.isNotNull())


def completeness_checks(spec: Interface) -> list[tuple[str, Column]]:
    checks = [(f"missing:{n}", ~present(spec.field(n))) for n in spec.required]
    for name, other, values in spec.conditional:
        applies = text(spec.field(other)).isin(list(values))
        checks.append((f"missing:{name}", applies & ~present(spec.field(name))))
    return checks


def normativity_checks(spec: Interface, rules: dict[str, Any]) -> list[tuple[str, Column]]:
    return [
        (rule, present(f) & fails) for f in spec.fields for rule, fails in format_failures(f, rules)
    ]


def time_fields(spec: Interface) -> list[FieldSpec]:
    """The fields "no 1970 or future times" applies to: F14 times and PositionTime (a validity
    end or a booked departure only to the "before 2000" half: it may lie ahead)."""
    return [f for f in spec.fields if f.kind == TIME or f.name == UNIX_FIELD]


def truth_checks(spec: Interface, rules: dict[str, Any]) -> list[tuple[str, Column]]:
    """The truthfulness rules a record shows by itself."""
    truth = rules["truthfulness"]
    earliest = F.lit(truth["earliest_time"]).cast("timestamp")
    checks: list[tuple[str, Column]] = []
    for f in time_fields(spec):
        value = typed_time(f)
        checks.append((f"before_2000:{f.name}", value < earliest))
        if not f.validity_end:
            checks.append((f"after_received:{f.name}", value > F.col("received_at")))
    if spec.name == "operatePay":
        paid = present(spec.field("PayTime"))
        mile = text(spec.field("DriveMile")).try_cast("double")
        seconds = text(spec.field("DriveTime")).try_cast("double")
        minimum = F.lit(float(truth["min_paid_drive_mile_km"]))
        checks.append(("paid_drive_mile:DriveMile", paid & (mile.isNull() | (mile < minimum))))
        checks.append(("paid_drive_time:DriveTime", paid & (seconds.isNull() | (seconds <= 0))))
    return checks


def event_time(spec: Interface) -> Column:
    """When the record happened (ridehailing.md "Event time"); operatePay: PayTime, or DestTime
    when unpaid."""
    if spec.name == "operatePay":
        return F.coalesce(typed_time(spec.field("PayTime")), typed_time(spec.field("DestTime")))
    return typed_time(spec.field(spec.event))


def _key_part(spec: Interface, name: str) -> tuple[Column, Column]:
    """(identity, display) of one natural-key field: a personal field's join hash and mask."""
    f = spec.field(name)
    if f.sensitive:
        return F.trim(F.col(f"{name}_hmac")), text(f)
    return text(f), text(f)


def key_missing(spec: Interface) -> Column:
    """True when a field of the natural key is absent: the line cannot be a record."""
    missing = F.lit(False)
    for name in spec.key:
        missing = missing | ~present(spec.field(name))
    return missing


def records(
    bronze: DataFrame, spec: Interface, rules: dict[str, Any], carry: tuple[str, ...] = ()
) -> DataFrame:
    """Bronze rows of ``spec`` as record rows: identity, event time and period, reception, and
    the failures the record shows by itself; the ``carry`` columns of ``bronze`` after them. A
    line lacking its natural key (:func:`key_missing`) is no record: the caller sets it apart."""
    received = F.trim("received_at")
    typed = bronze.withColumn(
        "received_at",
        F.coalesce(F.when(received.rlike(RECEIVED_PATTERN), received.try_cast("timestamp")),
                   F.col("_landed_at")),
    )  # fmt: skip
    parts = [_key_part(spec, n) for n in spec.key]
    when = event_time(spec)
    # a record whose event time is missing or invalid counts in the period it was received in
    period_time = F.coalesce(when, F.col("received_at"))
    sensitive = {f.name for f in spec.sensitive}
    payload = (
        F.lit(None).cast("string")
        if spec.group == "position"
        else F.to_json(F.struct(*[F.col(c) for c in _payload_columns(spec)]))
    )
    license_hmac = (
        F.trim(F.col("LicenseId_hmac")) if "LicenseId" in sensitive else F.lit(None).cast("string")
    )
    names = spec.field_names
    vehicle = text(spec.field("VehicleNo")) if "VehicleNo" in names else F.lit(None)
    order = text(spec.field("OrderId")) if "OrderId" in names else F.lit(None)
    return typed.select(
        F.lit(spec.name).alias("interface"),
        F.lit(spec.group).alias("grp"),
        text(spec.field("CompanyId")).alias("company_id"),
        F.concat_ws("|", *[p[0] for p in parts]).alias("natural_key"),
        F.concat_ws("|", *[p[1] for p in parts]).alias("record_key"),
        when.alias("event_time"),
        F.to_date(period_time).alias("event_day"),
        F.date_format(period_time, "yyyy-MM").alias("period_month"),
        F.col("received_at"),
        F.col("received_at").alias("first_received_at"),
        F.lit(1).cast("bigint").alias("copies"),
        text(spec.field("Address")).alias("address"),
        text(spec.field("Flag")).alias("flag"),
        text(spec.field("State")).alias("state"),
        _names(completeness_checks(spec)).alias("completeness_failed"),
        _names(normativity_checks(spec, rules)).alias("normativity_failed"),
        _names(truth_checks(spec, rules)).alias("truth_failed"),
        license_hmac.alias("license_hmac"),
        vehicle.cast("string").alias("vehicle_no"),
        order.cast("string").alias("order_id"),
        payload.alias("payload"),
        *LINEAGE,
        *carry,
    )


def _payload_columns(spec: Interface) -> list[str]:
    """What a record keeps of its own fields for later checks and profiles: the fields beyond
    the common ones as bronze holds them (a personal field's join hash and mask, never its
    ciphertext)."""
    out: list[str] = []
    for f in spec.own_fields:
        if f.sensitive:
            out.extend([f"{f.name}_hmac", f"{f.name}_masked"])
        else:
            out.append(f.name)
    return out


def is_static(spec: Interface) -> bool:
    return spec.group == STATIC

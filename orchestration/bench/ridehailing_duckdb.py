"""The DuckDB baseline of the ride-hailing (网约车) evaluation: landing files → the company periods
of ``gold.ridehailing__company_periods``, in DuckDB SQL (issue 11, "Speed").

The same work our pipeline does (landing → :mod:`transforms.ridehailing.jobs.publish` →
:mod:`transforms.ridehailing.jobs.evaluate`), from the files:

- every interface's JSON lines (``ridehailing/<interface>/<day>/*.jsonl``) read by ``read_csv``
  as whole lines (multithreaded, within and across files) and parsed with DuckDB's JSON
  functions, every field as a string as our bronze holds it (``json_transform`` to VARCHAR, the
  text our native landing parser keeps). A line that is not a JSON object, or lacks a field of
  its natural key, is not a record (our landing and publish quarantine it);
- one record per natural key: the values of the copy received last, the reception of the first
  (timeliness);
- what a record shows by itself — completeness, normativity, its own truthfulness — rendered
  as SQL from the catalogue (:mod:`transforms.ridehailing.interfaces`: the FieldSpecs, each
  interface's required / conditional fields, time fields, event time) and the rules file, one
  rule per field kind exactly as :mod:`transforms.ridehailing.checks` builds its Spark columns
  (a change of the catalogue or the rules changes both);
- the cross-record rules of :mod:`transforms.ridehailing.jobs.evaluate`: SCD2 static versions,
  a delete without an earlier add, sentinel phones and birthdays, the driver and vehicle of the
  same company in force (State 0) at the event time, the order of an order's events
  (``interfaces.EVENT_ORDER``); timeliness with planned outages; per company and month / year the
  four rates, city coverage, score and ``transmitted``.

Where it stops short of ours or differs by construction:

- **no licence data**: the licence rule (``driver_licence:`` / ``vehicle_licence:``) applies in
  ours only when ``silver.licences__licences`` exists; the bench lands no licence feed, so this
  baseline supports exactly that case;
- **personal fields in clear**: our bronze keeps a personal field as ciphertext, join hash
  (HMAC-SM3 of the normalised value) and mask; here the normalised clear value
  (:data:`transforms.lake.protection.KINDS`: stripped, an ID number in upper case, a phone
  without zero padding) is the join key — equal values join and count as one exactly as equal
  hashes do — and what the mask shows (presence, the length of a phone or a name: masks keep the
  normalised value's length) is read from that value;
- no file digests and no line numbers (neither reader gives them): copies of a key received in
  the same second are ordered by file path, not by (landing time, SM3 digest, line); a file
  already landed under another name (the same digest) is read again; a record's received_at
  that is not ``YYYY-MM-DD HH:MM:SS`` falls back to the time this run started (ours: the
  landing time);
- Python's ``str.strip`` (the normalisation of personal fields) is rendered as a trim of
  Python's whitespace characters, ``str.isdigit`` as ASCII digits; a JSON line with a trailing
  comma outside its strings is not an object (as Python's parser, our landing's arbiter, says);
  a nested array or object as a field's value keeps DuckDB's compact JSON text (ours: Python's,
  with a space after each separator); a key repeated in one object keeps its first value in both.

Timestamps are plain TIMESTAMPs of the GMT+8 wall clock (our lake's UTC-labelled values).
"""

from __future__ import annotations

import datetime as dt
import json
import os
from pathlib import Path
from typing import Any

import duckdb

from transforms.ridehailing.checks import GMT8_S, RECEIVED_PATTERN, UNIX_FIELD, time_fields
from transforms.ridehailing.checks import _number_pattern as number_pattern
from transforms.ridehailing.feeds import DOMAIN, OUTAGE_NOTICE, RECEIVED_AT
from transforms.ridehailing.interfaces import (
    CODE,
    CODE_TABLES,
    COORD,
    DATE,
    DIVISION,
    EVENT_ORDER,
    INTERFACES,
    NUMBER,
    OUTAGE_FIELDS,
    STATIC,
    TIME,
    FieldSpec,
    Interface,
)

SUFFIX = ".jsonl"
DIMENSIONS = ("completeness", "normativity", "timeliness", "truthfulness")
# the static interfaces the cross-record rules of evaluate.py read (named there as literals)
DRIVER_STATIC, VEHICLE_STATIC, PERMIT_STATIC = (
    "baseInfoDriver", "baseInfoVehicle", "baseInfoCompanyPermit",
)  # fmt: skip
# Python's str.isspace characters (str.strip, the normalisation of personal fields)
PY_WHITESPACE = (
    "\t\n\x0b\x0c\r\x1c\x1d\x1e\x1f \x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006"
    "\u2007\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000"
)
# a comma before a closing bracket (DuckDB's JSON reader accepts it, Python's does not) and a
# JSON string (to look for that comma outside the strings)
TRAILING_COMMA = r",[ \t\n\r]*[]}]"
JSON_STRING = r'"(\\.|[^"\\])*"'
OUTPUT_KEYS = (
    "company_id", "period", "grain", "records", "completeness_rate", "normativity_rate",
    "timeliness_rate", "truthfulness_rate", "city_coverage_rate", "score", "transmitted",
)  # fmt: skip


# ---- SQL text ----------------------------------------------------------------------------------
def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _any(conditions: list[str]) -> str:
    """True when any condition holds (a null condition does not: ``checks._names``)."""
    if not conditions:
        return "false"
    return "(" + " OR ".join(f"coalesce({c}, false)" for c in conditions) + ")"


def _raw(name: str) -> str:
    """A field of the line as received (bronze text), from the parsed struct ``_v``."""
    return f"_v.{_ident(name)}"


def _py_strip(value: str) -> str:
    """Python's ``str.strip()`` (the set trim only where an end is whitespace: it is slow)."""
    spaces = _literal(PY_WHITESPACE)
    return (
        f"CASE WHEN strpos({spaces}, {value}[1]) = 0 AND strpos({spaces}, {value}[-1]) = 0 "
        f"THEN {value} ELSE trim({value}, {spaces}) END"
    )


def _text_of(spec: FieldSpec) -> str:
    """What ``checks.text`` reads of a field, from the line: its trimmed value; a personal
    field's normalised value (``protection.KINDS``) — what its join hash is of, and what its
    mask shows (presence; masks keep the length of a phone or a name)."""
    if not spec.sensitive:
        return f"trim({_raw(spec.name)})"
    value = _py_strip(_raw(spec.name))
    if spec.sensitive == "id_number":
        return f"upper({value})"
    if spec.sensitive == "phone":  # a number without its zero padding (all zeros: as it is)
        return (
            f"CASE WHEN regexp_full_match({value}, '[0-9]+') "
            f"THEN coalesce(nullif(ltrim({value}, '0'), ''), {value}) ELSE {value} END"
        )
    return value


def _text(spec: FieldSpec) -> str:
    """``checks.text``: the column holding :func:`_text_of` the field (``t_<Field>``)."""
    return _ident(f"t_{spec.name}")


def _present(spec: FieldSpec) -> str:
    value = _text(spec)
    return f"({value} IS NOT NULL AND {value} != '')"


def _f14(value: str) -> str:
    """``checks.f14``: YYYYMMDDhhmmss → timestamp, null when not a valid time (DuckDB reads hour
    24 as the next day, Spark does not: refused)."""
    iso = (
        f"substr({value}, 1, 4) || '-' || substr({value}, 5, 2) || '-' || substr({value}, 7, 2)"
        f" || ' ' || substr({value}, 9, 2) || ':' || substr({value}, 11, 2) || ':' "
        f"|| substr({value}, 13, 2)"
    )
    return (
        f"CASE WHEN regexp_matches({value}, '^\\d{{14}}$') AND substr({value}, 9, 2) < '24' "
        f"THEN TRY_CAST({iso} AS TIMESTAMP) END"
    )


def _f8(value: str) -> str:
    """``checks.f8``: YYYYMMDD → date (null when not a valid date)."""
    iso = f"substr({value}, 1, 4) || '-' || substr({value}, 5, 2) || '-' || substr({value}, 7, 2)"
    return f"CASE WHEN regexp_matches({value}, '^\\d{{8}}$') THEN TRY_CAST({iso} AS DATE) END"


def _unix_wall(value: str) -> str:
    """``checks.unix_wall``: unix seconds → the GMT+8 wall-clock time."""
    seconds = (
        f"CASE WHEN regexp_matches({value}, '^-?\\d{{1,12}}$') THEN TRY_CAST({value} AS BIGINT) END"
    )
    return f"make_timestamp(({seconds} + {GMT8_S}) * 1000000)"


def _typed_time(spec: FieldSpec) -> str:
    if spec.name == UNIX_FIELD:
        return _unix_wall(_text(spec))
    return _f14(_text(spec))


def _format_failures(spec: FieldSpec, rules: dict[str, Any]) -> list[str]:
    """``checks.format_failures``: a field's format rules, as SQL conditions that fail."""
    value = _text(spec)
    if spec.sensitive == "id_number":
        return []  # an ID number's mask is always 18 characters: its length is not visible
    if spec.kind == TIME and spec.name != UNIX_FIELD:
        return [f"{_f14(value)} IS NULL"]
    if spec.kind == DATE:
        return [f"{_f8(value)} IS NULL"]
    if spec.kind == DIVISION:
        return [f"NOT regexp_matches({value}, '^\\d{{6}}$')"]
    if spec.kind == CODE:
        table = CODE_TABLES[spec.code_table or spec.name]
        return [f"{value} NOT IN ({', '.join(_literal(v) for v in table)})"]
    if spec.kind == COORD:
        low, high = rules["china_bounds"][spec.axis or "lon"]
        degrees = (
            f"(CASE WHEN regexp_matches({value}, '^-?\\d{{1,10}}$') "
            f"THEN TRY_CAST({value} AS DOUBLE) / 1e6 END)"
        )
        return [f"({degrees} IS NULL OR {degrees} < {float(low)!r} OR {degrees} > {float(high)!r})"]
    if spec.kind == NUMBER:
        is_number = f"regexp_matches({value}, {_literal(number_pattern(spec))})"
        out = [f"NOT {is_number}"]
        if spec.low is not None or spec.high is not None:
            number = f"TRY_CAST({value} AS DOUBLE)"
            outside = ["false"]
            if spec.low is not None:
                outside.append(f"{number} < {float(spec.low)!r}")
            if spec.high is not None:
                outside.append(f"{number} > {float(spec.high)!r}")
            out.append(f"({is_number} AND ({' OR '.join(outside)}))")
        return out
    # TEXT
    if spec.fixed:
        return [f"length({value}) != {spec.length}"]
    return [f"length({value}) > {spec.length}"]


def completeness_failures(spec: Interface) -> list[str]:
    """``checks.completeness_checks``: the required fields present, the conditional ones when
    their condition holds."""
    out = [f"NOT {_present(spec.field(n))}" for n in spec.required]
    for name, other, values in spec.conditional:
        listed = ", ".join(_literal(v) for v in values)
        out.append(
            f"({_text(spec.field(other))} IN ({listed}) AND NOT {_present(spec.field(name))})"
        )
    return out


def normativity_failures(spec: Interface, rules: dict[str, Any]) -> list[str]:
    """``checks.normativity_checks``: every format rule of every field, where it is present."""
    return [
        f"({_present(f)} AND {fails})" for f in spec.fields for fails in _format_failures(f, rules)
    ]


def truth_failures(spec: Interface, rules: dict[str, Any]) -> list[str]:
    """``checks.truth_checks``: no 1970 or future times; a paid trip's mileage and duration."""
    truth = rules["truthfulness"]
    earliest = f"TIMESTAMP {_literal(truth['earliest_time'])}"
    out = []
    for f in time_fields(spec):
        value = _typed_time(f)
        out.append(f"{value} < {earliest}")
        if not f.validity_end:
            out.append(f"{value} > received_at")
    if spec.name == "operatePay":
        paid = _present(spec.field("PayTime"))
        mile = f"TRY_CAST({_text(spec.field('DriveMile'))} AS DOUBLE)"
        seconds = f"TRY_CAST({_text(spec.field('DriveTime'))} AS DOUBLE)"
        minimum = float(truth["min_paid_drive_mile_km"])
        out.append(f"({paid} AND ({mile} IS NULL OR {mile} < {minimum!r}))")
        out.append(f"({paid} AND ({seconds} IS NULL OR {seconds} <= 0))")
    return out


def event_time(spec: Interface) -> str:
    """``checks.event_time``; operatePay: PayTime, or DestTime when unpaid."""
    if spec.name == "operatePay":
        pay, dest = (_typed_time(spec.field(n)) for n in ("PayTime", "DestTime"))
        return f"coalesce({pay}, {dest})"
    return _typed_time(spec.field(spec.event))


# ---- reading -----------------------------------------------------------------------------------
def landing_files(landing: Path, feed: str) -> list[Path]:
    """The feed's files in landing order (date folders, then file names), as our landing lists
    them (``landing.candidate_files``; only ``.jsonl`` files land)."""
    base = landing / DOMAIN / feed
    if not base.is_dir():
        return []
    out = []
    for folder in sorted(p for p in base.iterdir() if p.is_dir()):
        try:
            dt.date.fromisoformat(folder.name)
        except ValueError:
            continue
        out += sorted(
            p
            for p in folder.iterdir()
            if p.is_file() and not p.name.startswith(".") and p.suffix.lower() == SUFFIX
        )
    return out


def parsed_sql(files: list[Path], fields: tuple[str, ...]) -> str:
    """(filename, ``_v``) of every line of ``files`` that is a JSON object, its ``fields`` as
    text (``json_transform`` to VARCHAR, as our native landing parser). Loaded as a table
    (:func:`load`): over a subquery DuckDB would evaluate ``json_transform`` once per field read
    from it, or before the filter that keeps it from what is not JSON."""
    shape = json.dumps({f: "VARCHAR" for f in fields})
    paths = ", ".join(_literal(str(p)) for p in files)
    trailing = _literal(TRAILING_COMMA)
    outside_strings = f"regexp_replace(line, {_literal(JSON_STRING)}, '\"\"', 'g')"
    return f"""
        SELECT filename, json_transform(line, {_literal(shape)}) AS _v
        FROM read_csv([{paths}], columns = {{'line': 'VARCHAR'}}, delim = chr(0), quote = '',
                      escape = '', header = false, auto_detect = false, filename = true)
        WHERE json_type(TRY_CAST(line AS JSON)) = 'OBJECT'
          AND NOT CASE WHEN regexp_matches(line, {trailing})
                       THEN regexp_matches({outside_strings}, {trailing}) ELSE false END"""


RECORD_COLUMNS = (
    "interface VARCHAR, grp VARCHAR, company_id VARCHAR, natural_key VARCHAR, entity VARCHAR, "
    "event_time TIMESTAMP, period_month VARCHAR, received_at TIMESTAMP, "
    "first_received_at TIMESTAMP, address VARCHAR, flag VARCHAR, state VARCHAR, "
    "complete BOOLEAN, normative BOOLEAN, truthful_own BOOLEAN, licence VARCHAR, "
    "vehicle_no VARCHAR, order_id VARCHAR, driver_phone VARCHAR, birthday VARCHAR"
)


def records_sql(spec: Interface, parsed: str, rules: dict[str, Any], started: str) -> str:
    """The records of one interface (its lines in table ``parsed``: :func:`parsed_sql`), once
    per natural key, with what each shows by itself (``checks.records`` then
    ``publish.one_per_key``). A natural-key field is its text (a personal field its normalised
    value, in place of our join hash)."""
    received = f"trim({_raw(RECEIVED_AT)})"
    texts = ", ".join(f"{_text_of(f)} AS {_text(f)}" for f in spec.fields)
    key_present = " AND ".join(_present(spec.field(n)) for n in spec.key)
    key = f"concat_ws('|', {', '.join(_text(spec.field(n)) for n in spec.key)})"
    columns = ", ".join(_text(f) for f in spec.fields)
    names = spec.field_names

    def own(name: str) -> str:  # a field only some interfaces have
        return _text(spec.field(name)) if name in names else "NULL::VARCHAR"

    static, driver = spec.is_static, spec.name == DRIVER_STATIC
    # evaluate._entity: the natural key without its trailing UpdateTime
    entity = "regexp_replace(natural_key, '\\|[^|]*$', '')" if static else "NULL::VARCHAR"
    return f"""
WITH texts AS (
    SELECT filename, {texts},
           coalesce(CASE WHEN regexp_matches({received}, {_literal(RECEIVED_PATTERN)})
                         THEN TRY_CAST({received} AS TIMESTAMP) END,
                    TIMESTAMP {_literal(started)}) AS received_at
    FROM {parsed}
),
latest AS (  -- one row per natural key: the copy received last, the first reception
    SELECT {key} AS natural_key,
           arg_max(struct_pack({columns}, received_at), {{'r': received_at, 'f': filename}})
               AS _w,
           min(received_at) AS first_received_at
    FROM texts WHERE {key_present}
    GROUP BY natural_key
),
copy AS (SELECT natural_key, _w.*, first_received_at FROM latest),
dated AS (SELECT *, {event_time(spec)} AS event_time FROM copy)
SELECT {_literal(spec.name)} AS interface, {_literal(spec.group)} AS grp,
       {_text(spec.field("CompanyId"))} AS company_id,
       natural_key, {entity} AS entity,
       event_time,
       strftime(coalesce(event_time, received_at), '%Y-%m') AS period_month,
       received_at, first_received_at,
       {_text(spec.field("Address"))} AS address,
       {_text(spec.field("Flag"))} AS flag,
       {_text(spec.field("State"))} AS state,
       NOT {_any(completeness_failures(spec))} AS complete,
       NOT {_any(normativity_failures(spec, rules))} AS normative,
       NOT {_any(truth_failures(spec, rules))} AS truthful_own,
       {own("LicenseId")} AS licence,
       {own("VehicleNo")} AS vehicle_no,
       {own("OrderId")} AS order_id,
       {own("DriverPhone") if driver else "NULL::VARCHAR"} AS driver_phone,
       {own("Birthday") if driver else "NULL::VARCHAR"} AS birthday
FROM dated"""


def _load_outages(con: duckdb.DuckDBPyConnection, landing: Path) -> None:
    """``publish.publish_outages``: the valid notices, one per (company, start), the one landed
    last winning."""
    files = landing_files(landing, OUTAGE_NOTICE)
    con.execute(
        "CREATE TEMP TABLE outages (company_id VARCHAR, planned BOOLEAN, notified_at TIMESTAMP, "
        "start_at TIMESTAMP, end_at TIMESTAMP)"
    )
    if not files:
        return
    _parse(con, files, OUTAGE_FIELDS)
    strip = lambda name: _py_strip(_raw(name))  # noqa: E731
    planned = f"lower({strip('planned')})"
    con.execute(f"""
INSERT INTO outages
WITH notices AS (
    SELECT filename, {strip("CompanyId")} AS company_id,
           CASE WHEN {planned} IN ('true', '1') THEN true
                WHEN {planned} IN ('false', '0') THEN false END AS planned,
           {_f14(strip("notified_at"))} AS notified_at,
           {_f14(strip("start"))} AS start_at,
           {_f14(strip("end"))} AS end_at
    FROM _parsed
)
SELECT company_id, planned, notified_at, start_at, end_at FROM notices
WHERE company_id IS NOT NULL AND company_id != '' AND planned IS NOT NULL
  AND notified_at IS NOT NULL AND start_at IS NOT NULL AND end_at IS NOT NULL
  AND end_at >= start_at
QUALIFY row_number() OVER (PARTITION BY company_id, start_at ORDER BY filename DESC) = 1""")
    con.execute("DROP TABLE _parsed")


def _parse(con: duckdb.DuckDBPyConnection, files: list[Path], fields: tuple[str, ...]) -> None:
    """Table ``_parsed``: :func:`parsed_sql` of ``files``."""
    con.execute(f"CREATE TEMP TABLE _parsed AS {parsed_sql(files, fields)}")


# ---- the evaluation ----------------------------------------------------------------------------
def evaluated_sql(rules: dict[str, Any]) -> str:
    """Every record with its four dimensions (``evaluate.evaluate``: the cross-record rules,
    timeliness with outages)."""
    truth = rules["truthfulness"]
    notice_s = int(rules["outage"]["notice_h"]) * 3600
    backfill_s = int(rules["outage"]["backfill_h"]) * 3600
    limits = " ".join(
        f"WHEN {_literal(g)} THEN {int(s)}" for g, s in rules["timeliness_limits_s"].items()
    )
    interfaces = sorted({i for pair in EVENT_ORDER for i in pair})
    steps = ", ".join(
        f"max(CASE WHEN interface = {_literal(i)} THEN event_time END) AS {_ident(i)}"
        for i in interfaces
    )
    late_step = " OR ".join(
        f"(d.interface = {_literal(after)} AND d.event_time < o.{_ident(before)})"
        for before, after in EVENT_ORDER
    )
    return f"""
WITH dated_static AS (
    SELECT * FROM records WHERE grp = {_literal(STATIC)}
),
-- a Flag 3 with no earlier add or update of its entity (evaluate.deletes_without_add)
static_checked AS (
    SELECT *,
           flag = '3' AND coalesce(max(CASE WHEN flag IN ('1', '2') THEN 1 ELSE 0 END) OVER (
               PARTITION BY interface, entity ORDER BY event_time NULLS FIRST
               ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING), 0) = 0 AS _delete_without_add
    FROM dated_static
),
-- the same phone or birthday on ≥ sentinel_min_drivers drivers of a company (evaluate.sentinels)
shared_phones AS (
    SELECT company_id, driver_phone FROM records
    WHERE interface = {_literal(DRIVER_STATIC)} AND driver_phone IS NOT NULL AND driver_phone != ''
    GROUP BY ALL HAVING count(DISTINCT licence) >= {int(truth["sentinel_min_drivers"])}
),
shared_birthdays AS (
    SELECT company_id, birthday FROM records
    WHERE interface = {_literal(DRIVER_STATIC)} AND birthday IS NOT NULL AND birthday != ''
    GROUP BY ALL HAVING count(DISTINCT licence) >= {int(truth["sentinel_min_drivers"])}
),
static_truth AS (
    SELECT s.*,
           s.truthful_own AND NOT s._delete_without_add
           AND NOT (p.company_id IS NOT NULL OR b.company_id IS NOT NULL) AS truthful
    FROM static_checked s
    -- equality joins only (a condition on one side makes DuckDB loop): only baseInfoDriver
    -- records carry a phone or birthday here
    LEFT JOIN shared_phones p ON p.company_id = s.company_id AND p.driver_phone = s.driver_phone
    LEFT JOIN shared_birthdays b ON b.company_id = s.company_id AND b.birthday = s.birthday
),
-- an order's steps (evaluate.event_order): each interface's event time per (company, order)
order_steps AS (
    SELECT company_id, order_id, {steps} FROM records
    WHERE interface IN ({", ".join(_literal(i) for i in interfaces)})
      AND order_id IS NOT NULL AND order_id != '' AND event_time IS NOT NULL
    GROUP BY ALL
),
dynamic AS (
    SELECT r.*,
           r.licence IS NOT NULL AND r.event_time IS NOT NULL AND NOT EXISTS (
               SELECT 1 FROM versions v
               WHERE v.interface = {_literal(DRIVER_STATIC)} AND v.state = '0'
                 AND v.entity = r.company_id || '|' || r.licence
                 AND v.valid_from <= r.event_time AND r.event_time < v.valid_until
           ) AS _driver_not_in_static,
           r.vehicle_no IS NOT NULL AND r.vehicle_no != '' AND r.event_time IS NOT NULL
           AND NOT EXISTS (
               SELECT 1 FROM versions v
               WHERE v.interface = {_literal(VEHICLE_STATIC)} AND v.state = '0'
                 AND v.entity = r.company_id || '|' || r.vehicle_no
                 AND v.valid_from <= r.event_time AND r.event_time < v.valid_until
           ) AS _vehicle_not_in_static
    FROM records r WHERE r.grp != {_literal(STATIC)}
),
dynamic_truth AS (
    SELECT d.*,
           d.truthful_own AND NOT d._driver_not_in_static AND NOT d._vehicle_not_in_static
           AND NOT coalesce({late_step}, false) AS truthful
    FROM dynamic d
    -- one step row per order; the interface is tested above (an equality join plans as a hash)
    LEFT JOIN order_steps o ON o.company_id = d.company_id AND o.order_id = d.order_id
),
every AS (
    SELECT interface, grp, company_id, event_time, period_month, first_received_at, address,
           complete, normative, truthful FROM static_truth
    UNION ALL
    SELECT interface, grp, company_id, event_time, period_month, first_received_at, address,
           complete, normative, truthful FROM dynamic_truth
),
-- planned outages notified in time (evaluate.exempt)
planned AS (
    SELECT company_id, start_at, end_at FROM outages
    WHERE planned AND epoch(start_at) - epoch(notified_at) >= {notice_s}
)
SELECT e.*,
       CASE WHEN e.event_time IS NULL THEN false
            WHEN NOT coalesce(epoch(e.first_received_at) - epoch(e.event_time)
                              > CASE e.grp {limits} END, false) THEN true
            ELSE EXISTS (
                SELECT 1 FROM planned o
                WHERE o.company_id = e.company_id
                  AND e.event_time >= o.start_at AND e.event_time <= o.end_at
                  AND epoch(e.first_received_at) <= epoch(o.end_at) + {backfill_s})
       END AS timely
FROM every e"""


VERSIONS_SQL = f"""
SELECT interface, company_id, entity, valid_from, valid_to,
       coalesce(valid_to, TIMESTAMP 'infinity') AS valid_until, flag, state, address
FROM (
    SELECT *, event_time AS valid_from,
           lead(event_time) OVER (PARTITION BY interface, entity ORDER BY event_time) AS valid_to
    FROM records WHERE grp = {_literal(STATIC)} AND event_time IS NOT NULL
)
WHERE flag IN ('1', '2')"""


def periods_sql(rules: dict[str, Any]) -> str:
    """``evaluate.company_periods``: per company and month (every month with records) and year:
    records, the four rates, city coverage, score, transmitted."""
    weights = rules["score_weights"]
    digits = int(rules["coverage_city_digits"])
    passed = {
        "completeness": "complete", "normativity": "normative", "timeliness": "timely",
        "truthfulness": "truthful",
    }  # fmt: skip
    counts = ", ".join(f"count_if({c}) AS {d}_passed" for d, c in passed.items())
    sums = ", ".join(f"sum({d}_passed) AS {d}_passed" for d in DIMENSIONS)
    rates = ", ".join(f"CAST(r.{d}_passed AS DOUBLE) / r.records AS {d}_rate" for d in DIMENSIONS)
    score = " + ".join(f"{d}_rate * {float(weights[d])!r}" for d in DIMENSIONS)
    return f"""
WITH monthly AS (
    SELECT company_id, period_month, count(*) AS records, {counts}
    FROM evaluated WHERE period_month IS NOT NULL AND period_month != '' GROUP BY ALL
),
months AS (SELECT DISTINCT period_month AS period FROM monthly),
calendar AS (
    SELECT period, 'month' AS grain, strptime(period || '-01', '%Y-%m-%d') AS p_start,
           strptime(period || '-01', '%Y-%m-%d') + INTERVAL 1 MONTH AS p_end
    FROM months
    UNION ALL
    SELECT DISTINCT substr(period, 1, 4), 'year', strptime(substr(period, 1, 4), '%Y'),
           strptime(substr(period, 1, 4), '%Y') + INTERVAL 1 YEAR
    FROM months
),
counted AS (
    SELECT company_id, period_month AS period, 'month' AS grain, records,
           {", ".join(f"{d}_passed" for d in DIMENSIONS)}
    FROM monthly
    UNION ALL
    SELECT company_id, substr(period_month, 1, 4), 'year', sum(records), {sums}
    FROM monthly GROUP BY 1, 2
),
permits AS (  -- the cities of the company's valid permits in force during the period
    SELECT DISTINCT v.company_id, c.period, c.grain, substr(v.address, 1, {digits}) AS city
    FROM versions v JOIN calendar c ON v.valid_from < c.p_end AND v.valid_until > c.p_start
    WHERE v.interface = {_literal(PERMIT_STATIC)} AND v.state = '0'
),
permitted AS (
    SELECT company_id, period, grain, count(*) AS permit_cities FROM permits GROUP BY ALL
),
month_cities AS (
    SELECT DISTINCT company_id, period_month, substr(address, 1, {digits}) AS city
    FROM evaluated WHERE grp != {_literal(STATIC)} AND period_month IS NOT NULL
),
cities AS (
    SELECT company_id, period_month AS period, 'month' AS grain, city FROM month_cities
    UNION
    SELECT company_id, substr(period_month, 1, 4), 'year', city FROM month_cities
),
served AS (
    SELECT company_id, period, grain, count(*) AS served_cities
    FROM cities SEMI JOIN permits USING (company_id, period, grain, city)
    GROUP BY ALL
),
subjects AS (
    SELECT company_id, period, grain FROM counted
    UNION
    SELECT company_id, period, grain FROM permitted
),
joined AS (
    SELECT s.company_id, s.period, s.grain, coalesce(r.records, 0) AS records,
           coalesce(r.records, 0) > 0 AS transmitted, {rates},
           p.permit_cities, coalesce(v.served_cities, 0) AS served_cities
    FROM subjects s
    LEFT JOIN counted r USING (company_id, period, grain)
    LEFT JOIN permitted p USING (company_id, period, grain)
    LEFT JOIN served v USING (company_id, period, grain)
)
SELECT company_id, period, grain, CAST(records AS BIGINT) AS records,
       {", ".join(f"{d}_rate" for d in DIMENSIONS)},
       CASE WHEN NOT transmitted THEN 0.0
            WHEN permit_cities IS NOT NULL THEN CAST(served_cities AS DOUBLE) / permit_cities END
           AS city_coverage_rate,
       CASE WHEN transmitted THEN ({score}) * 100.0 ELSE 0.0 END AS score,
       transmitted
FROM joined
ORDER BY company_id, grain, period"""


def connect(work: Path, threads: int | None = None) -> duckdb.DuckDBPyConnection:
    """An in-memory DuckDB that spills to ``work`` (GMT+8 wall clock as plain timestamps)."""
    work.mkdir(parents=True, exist_ok=True)
    con = duckdb.connect(
        config={
            "threads": threads or os.cpu_count() or 1,
            "temp_directory": str(work / "duckdb_tmp"),
            "preserve_insertion_order": False,
        }
    )
    con.execute("SET TimeZone = 'UTC'")
    return con


def load(
    con: duckdb.DuckDBPyConnection, landing: Path, rules: dict[str, Any], started: dt.datetime
) -> None:
    """Tables ``records`` (every interface, once per natural key), ``outages``, ``versions``."""
    con.execute(f"CREATE TEMP TABLE records ({RECORD_COLUMNS})")
    stamp = started.strftime("%Y-%m-%d %H:%M:%S")
    for spec in INTERFACES:
        files = landing_files(landing, spec.name)
        if not files:
            continue
        _parse(con, files, (*spec.field_names, RECEIVED_AT))
        con.execute(f"INSERT INTO records {records_sql(spec, '_parsed', rules, stamp)}")
        con.execute("DROP TABLE _parsed")
    _load_outages(con, landing)
    con.execute(f"CREATE TEMP TABLE versions AS {VERSIONS_SQL}")


def evaluate_landing(
    landing: Path, work: Path, rules: dict[str, Any], threads: int | None = None
) -> list[dict]:
    """The rows of ``gold.ridehailing__company_periods`` (month and year) computed by DuckDB from
    the landing root ``landing`` (holding ``ridehailing/<interface>/<day>/*.jsonl``), with the
    ride-hailing ``rules`` (``load_rules(domain="ridehailing")``); ``work`` is scratch space."""
    from transforms.lake.clock import now_beijing

    started = now_beijing().replace(tzinfo=None)
    con = connect(work, threads)
    try:
        load(con, landing, rules, started)
        con.execute(f"CREATE TEMP TABLE evaluated AS {evaluated_sql(rules)}")
        result = con.execute(periods_sql(rules))
        names = [d[0] for d in result.description]
        rows = [dict(zip(names, r, strict=True)) for r in result.fetchall()]
    finally:
        con.close()
    return [{k: row[k] for k in OUTPUT_KEYS} for row in rows]

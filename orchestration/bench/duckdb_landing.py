"""The DuckDB end-to-end baseline up to silver: landing files → vehicle, route and region history,
silver and quarantine positions, in DuckDB SQL.

A SQL port of what our landing and publish jobs do to the files the monthly indicators need, so
that the facts port (:mod:`orchestration.bench.duckdb_baseline`) can run on the result:

- master data (:mod:`transforms.telematics.master`): ``read_json`` of the vehicles, routes and
  regions files, typed as ``_typed`` types them, kept as SCD2 history (:func:`history_sql`, the
  port of ``master.history``: the last record of a key per landing folder, a version where the
  attributes change, valid until the next);
- positions (:mod:`transforms.telematics.positions`): the position files (JSON lines through
  ``read_csv`` as a line reader and DuckDB's JSON functions, CSV through ``read_csv``) and the
  decoded frames (:mod:`orchestration.bench.landing_files`) as bronze strings;
  ``attach_terminals`` (JT/T 808 phone → plate), ``typed_positions``, ``tag_rules`` (the 数据合格
  rules of :func:`expectations.telematics.position_rules`, rendered as SQL the way
  ``rule_passes`` builds Spark columns), ``qualified`` (one row per (plate, plate_color, gnss_time),
  the copy received last winning, then the one landed last) and ``unqualified``, plus a
  quarantine row for every line no reader could parse.

Readers differ from our landing where the engine decides: ``read_json(ignore_errors)`` would read a
truncated line on into the next one and lose both, so JSON lines are read as lines and parsed one
by one (a line that is not a JSON object is kept as a malformed line, with its text);
``read_csv`` reports a row of the wrong width in ``reject_errors`` (line and text kept). Neither
gives the line number of a good record, so ``_line`` is null for file records (with the file
digest, which is not computed: ``_file_sm3`` null, it only orders byte-identical copies received
in the same second — whichever wins, the values are the same). Timestamps are plain TIMESTAMPs of the GMT+8 wall clock, as the facts port wants them.
"""

from __future__ import annotations

import csv
import datetime as dt
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa

from expectations.rules import Rule
from expectations.telematics import position_rules
from orchestration.bench.duckdb_baseline import INPUTS, sql_value
from orchestration.bench.landing_files import (
    CSV_SUFFIX,
    JSON_SUFFIX,
    feed_files,
    in_clear,
)
from transforms.telematics import master, positions
from transforms.telematics.feeds import (
    POSITION_BRONZE_FIELDS,
    REGION_FIELDS,
    ROUTE_FIELDS,
    VEHICLE_FIELDS,
)

# our positions columns, with the personal fields in clear (landing_files.in_clear)
SILVER_COLUMNS = in_clear(positions.SILVER_COLUMNS)
QUARANTINE_COLUMNS = in_clear(positions.QUARANTINE_COLUMNS)
RAW_FIELDS = in_clear(positions.RAW_FIELDS)

MALFORMED_RECORD = "malformed_record"  # the rule name of an unparseable line (our landing's)
MALFORMED_FRAME = "malformed_frame"
TIME_PATTERN = r"^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$"
FOLDER_DATE_PATTERN = r"/(\d{4}-\d{2}-\d{2})/[^/]*$"
SOURCE_PATTERN = r"(telematics/[^/]+/[^/]+/[^/]+)$"  # the path below the landing directory
LINEAGE = ["_source_file", "_line", "_file_sm3", "_landed_at"]
# the history tables (name → feed, fields, key, attributes); geometry columns are JSON arrays
HISTORIES = {
    "vehicle_history": (
        "vehicles",
        VEHICLE_FIELDS,
        master.VEHICLE_KEY,
        in_clear(master.VEHICLE_ATTRIBUTES),
    ),
    "route_history": ("routes", ROUTE_FIELDS, ["route_id"], master.ROUTE_ATTRIBUTES),
    "region_history": ("regions", REGION_FIELDS, ["region_id"], master.REGION_ATTRIBUTES),
}
GEOMETRY = {"polyline", "polygon"}


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _list(paths: list[Path]) -> str:
    return "[" + ", ".join(_literal(str(p)) for p in paths) + "]"


def _timestamp(value: dt.datetime) -> str:
    return f"TIMESTAMP {_literal(value.isoformat(sep=' '))}"


def _varchar_columns(fields: tuple[str, ...] | list[str]) -> str:
    return "{" + ", ".join(f"{_literal(f)}: 'VARCHAR'" for f in fields) + "}"


def _lineage(path_column: str, landed_at: dt.datetime) -> str:
    """_source_file (relative to the lake, as our landing writes it), _folder_date, _landed_at."""
    source = f"'landing/' || regexp_extract({path_column}, {_literal(SOURCE_PATTERN)}, 1)"
    return (
        f"{source} AS _source_file, "
        f"TRY_CAST(regexp_extract({path_column}, {_literal(FOLDER_DATE_PATTERN)}, 1) AS DATE) "
        f"AS _folder_date, {_timestamp(landed_at)} AS _landed_at"
    )


# ---- master data ------------------------------------------------------------------------------
def _typed_master(name: str) -> str:
    """``transforms.telematics.master._typed`` in SQL (geometry: the JSON array parsed)."""
    if name in master.TYPED_DATES:
        return f"TRY_CAST({name} AS DATE) AS {name}"
    if name in master.TYPED_DOUBLES:
        return f"TRY_CAST({name} AS DOUBLE) AS {name}"
    if name in master.TYPED_INTS:
        return f"TRY_CAST({name} AS INTEGER) AS {name}"
    if name == "route_exempt":
        return f"lower({name}) = 'true' AS {name}"
    if name in GEOMETRY:
        return (
            f"CASE WHEN json_valid({name}) THEN TRY_CAST(CAST({name} AS JSON) AS DOUBLE[][]) END "
            f"AS {name}"
        )
    return f"CASE WHEN trim({name}) != '' THEN trim({name}) END AS {name}"


def history_sql(source: str, key: list[str], attributes: list[str]) -> str:
    """``master.history``: one row per version of a key, valid [valid_from, valid_to) by landing
    folder date (the last record of a folder date wins; a version starts where attributes change)."""
    keys = ", ".join(key)
    attrs = ", ".join(attributes)
    typed = ", ".join(_typed_master(c) for c in (*key, *attributes))
    present = " AND ".join(f"{k} IS NOT NULL" for k in key)
    return f"""
WITH typed AS (
    SELECT {typed}, _folder_date, _source_file, _line, _landed_at FROM {source}
),
daily AS (
    SELECT * FROM typed WHERE {present}
    QUALIFY row_number() OVER (
        PARTITION BY {keys}, _folder_date ORDER BY _source_file DESC, _line DESC) = 1
),
changes AS (
    SELECT * FROM daily
    QUALIFY lag(row({attrs})) OVER (PARTITION BY {keys} ORDER BY _folder_date)
            IS DISTINCT FROM row({attrs})
)
SELECT {keys}, {attrs},
       _folder_date AS valid_from,
       lead(_folder_date) OVER w AS valid_to,
       lead(_folder_date) OVER w IS NULL AS is_current,
       _source_file, _landed_at
FROM changes
WINDOW w AS (PARTITION BY {keys} ORDER BY _folder_date)
"""


def load_master(con: duckdb.DuckDBPyConnection, landing: Path, landed_at: dt.datetime) -> None:
    """Tables ``vehicle_history``, ``route_history``, ``region_history`` from the landing files."""
    for table, (feed, fields, key, attributes) in HISTORIES.items():
        files = feed_files(landing, feed, JSON_SUFFIX)
        raw = f"_landing_{feed}"
        if files:
            # master files are small: the row order of the read is the line order
            con.execute(
                f"CREATE TEMP VIEW {raw} AS SELECT {', '.join(fields)}, "
                f"{_lineage('filename', landed_at)}, row_number() OVER () AS _line "
                f"FROM read_json({_list(files)}, columns = {_varchar_columns(fields)}, "
                "format = 'newline_delimited', ignore_errors = true, filename = true)"
            )
        else:
            nulls = ", ".join(f"NULL::VARCHAR AS {f}" for f in fields)
            con.execute(
                f"CREATE TEMP VIEW {raw} AS SELECT {nulls}, NULL::VARCHAR AS _source_file, "
                "NULL::DATE AS _folder_date, NULL::TIMESTAMP AS _landed_at, "
                "NULL::BIGINT AS _line LIMIT 0"
            )
        con.execute(f"CREATE TEMP TABLE {table} AS {history_sql(raw, key, attributes)}")


# ---- positions --------------------------------------------------------------------------------
def _bronze_select(columns: list[str], available: set[str]) -> str:
    """The bronze position fields (strings) from a reader's columns, null where it has none."""
    return ", ".join(c if c in available else f"NULL::VARCHAR AS {c}" for c in columns)


def _csv_header(path: Path) -> list[str]:
    with open(path, encoding="utf-8-sig", newline="") as fh:
        return [h.strip() for h in next(csv.reader([fh.readline().rstrip("\r\n")]))]


def load_bronze(
    con: duckdb.DuckDBPyConnection,
    landing: Path,
    frames: pa.Table,
    landed_at: dt.datetime,
    frames_landed_at: dt.datetime,
) -> int:
    """Table ``landing_bronze``: every position record of the landing files as strings with
    lineage, and every line no reader could parse (``_error``, ``_rule``, ``_raw``); returns the
    records (good and malformed)."""
    fields = [f for f in POSITION_BRONZE_FIELDS if f != "source"]
    tail = "NULL::VARCHAR AS _file_sm3"
    nulls = ", ".join(f"NULL::VARCHAR AS {f}" for f in (*fields, "source"))
    con.execute(  # the table's columns, then each reader's rows inserted by name
        f"CREATE TEMP TABLE landing_bronze AS SELECT {nulls}, NULL::VARCHAR AS _source_file, "
        f"NULL::DATE AS _folder_date, NULL::TIMESTAMP AS _landed_at, NULL::BIGINT AS _line, "
        f"{tail}, NULL::VARCHAR AS _error, NULL::VARCHAR AS _rule, NULL::VARCHAR AS _raw LIMIT 0"
    )
    parts = []
    json_files = feed_files(landing, "positions", JSON_SUFFIX)
    if json_files:
        # read_csv as a line reader (no delimiter, no quotes), then DuckDB's JSON functions: one
        # line is one record, whatever the line before it held (read_json(ignore_errors) reads
        # a truncated line on into the next one and loses both)
        paths = "[" + ", ".join(_literal(f"$.{f}") for f in fields) + "]"
        values = ", ".join(f"_v[{i}] AS {f}" for i, f in enumerate(fields, start=1))
        parts.append(
            f"""SELECT {values}, 'file' AS source, {_lineage("filename", landed_at)},
                   NULL::BIGINT AS _line, {tail},
                   CASE WHEN _type IS NULL THEN 'not JSON (DuckDB json_valid)'
                        WHEN _type != 'OBJECT' THEN 'not a JSON object' END AS _error,
                   {_literal(MALFORMED_RECORD)} AS _rule,
                   CASE WHEN _type IS DISTINCT FROM 'OBJECT' THEN line END AS _raw
            FROM (
                SELECT *, CASE WHEN _type = 'OBJECT' THEN json_extract_string(line, {paths})
                          END AS _v
                FROM (
                    SELECT filename, line,
                           CASE WHEN json_valid(line) THEN json_type(line) END AS _type
                    FROM read_csv({_list(json_files)}, columns = {{'line': 'VARCHAR'}},
                                  delim = chr(0), quote = '', escape = '', header = false,
                                  auto_detect = false, filename = true)
                    WHERE NOT regexp_matches(coalesce(line, ''), '^\\s*$')))"""
        )
    csv_files = feed_files(landing, "positions", CSV_SUFFIX)
    if csv_files:
        header = _csv_header(csv_files[0])
        reader = (
            f"read_csv({_list(csv_files)}, header = true, delim = ',', quote = '\"', "
            f"escape = '\"', columns = {_varchar_columns(header)}, store_rejects = true, "
            "filename = true)"
        )
        parts.append(
            f"SELECT {_bronze_select(fields, set(header))}, 'file' AS source, "
            f"{_lineage('filename', landed_at)}, NULL::BIGINT AS _line, {tail}, "
            "NULL::VARCHAR AS _error, NULL::VARCHAR AS _rule, NULL::VARCHAR AS _raw "
            f"FROM {reader}"
        )
        # after the scan (inserted after it): the rows read_csv rejected, with line and text
        parts.append(
            f"SELECT {nulls}, {_lineage('s.file_path', landed_at)}, "
            f"CAST(e.line AS BIGINT) AS _line, {tail}, e.error_message AS _error, "
            f"{_literal(MALFORMED_RECORD)} AS _rule, e.csv_line AS _raw "
            "FROM reject_errors e JOIN reject_scans s USING (scan_id, file_id)"
        )
    if frames.num_rows:
        con.register("_landing_frames", frames)
        parts.append(
            f"SELECT {', '.join(fields)}, source, {_lineage('_source_file', frames_landed_at)}, "
            f"_line, {tail}, _error, {_literal(MALFORMED_FRAME)} AS _rule, _raw "
            "FROM _landing_frames"
        )
    for part in parts:
        con.execute(f"INSERT INTO landing_bronze BY NAME {part}")
    if frames.num_rows:
        con.unregister("_landing_frames")
    return int(con.execute("SELECT count(*) FROM landing_bronze").fetchone()[0])


def _number(name: str, kind: str) -> str:
    """``positions._number``: integral fields accept "12" and "12.0", not "12.5"."""
    value = f"TRY_CAST(trim({name}) AS DOUBLE)"
    if kind in ("INTEGER", "BIGINT"):
        return f"CASE WHEN {value} = floor({value}) THEN TRY_CAST({value} AS {kind}) END"
    return value


def _time(name: str) -> str:
    value = f"trim({name})"
    return (
        f"CASE WHEN regexp_matches({value}, {_literal(TIME_PATTERN)}) "
        f"THEN TRY_CAST({value} AS TIMESTAMP) END"
    )


def _unix_seconds(ts: str) -> str:
    return f"CAST(floor(epoch_us({ts}) / 1000000) AS BIGINT)"


def rule_passes(rule: Rule) -> str:
    """``transforms.lake.tagging.rule_passes`` as a SQL boolean (never null)."""
    col = rule.column
    if rule.kind == "not_null":
        check = "true"
    elif rule.kind == "between":
        bounds = ["true"]
        if rule.params.get("min") is not None:
            bounds.append(f"{col} >= {sql_value(rule.params['min'])}")
        if rule.params.get("max") is not None:
            bounds.append(f"{col} <= {sql_value(rule.params['max'])}")
        check = " AND ".join(bounds)
    elif rule.kind == "max":
        check = f"{col} <= {sql_value(rule.params['max'])}"
    elif rule.kind == "in_set":
        check = f"{col} IN ({', '.join(sql_value(v) for v in rule.params['values'])})"
    elif rule.kind == "regex":
        check = f"regexp_matches({col}, {_literal(rule.params['pattern'])})"
    else:
        raise ValueError(f"unknown rule kind {rule.kind!r}")
    if rule.null_ok:
        return f"({col} IS NULL OR ({check}))"
    return f"({col} IS NOT NULL AND coalesce({check}, false))"


def tagged_sql(rules: dict[str, Any]) -> str:
    """``attach_terminals`` → ``typed_positions`` → ``tag_rules`` over ``landing_bronze``."""
    late_after_s = int(rules["qualification"]["late_after_s"])
    failed = ", ".join(
        f"CASE WHEN NOT {rule_passes(r)} THEN {_literal(r.name)} END" for r in position_rules(rules)
    )
    raw = ", ".join(f"{f} := {f}" for f in RAW_FIELDS)
    return f"""
WITH phones AS (  -- the vehicle currently registered with a phone, compared unpadded
    SELECT regexp_replace(terminal_phone, '^0+', '') AS _phone, plate AS _plate,
           CAST(plate_color AS VARCHAR) AS _plate_color
    FROM vehicle_history WHERE is_current AND terminal_phone IS NOT NULL
    QUALIFY row_number() OVER (PARTITION BY _phone) = 1
),
attached AS (
    SELECT b.* REPLACE (coalesce(b.plate, p._plate) AS plate,
                        coalesce(b.plate_color, p._plate_color) AS plate_color)
    FROM landing_bronze b
    LEFT JOIN phones p ON regexp_replace(b.terminal_phone, '^0+', '') = p._phone
    WHERE b._error IS NULL
),
typed AS (
    SELECT trim(platform_id) AS platform_id,
           trim(plate) AS plate,
           {_number("plate_color", "INTEGER")} AS plate_color,
           trim(terminal_phone) AS terminal_phone,
           {_time("gnss_time")} AS gnss_time,
           {_number("lon", "DOUBLE")} AS lon,
           {_number("lat", "DOUBLE")} AS lat,
           {_number("speed", "DOUBLE")} AS speed,
           {_number("recorder_speed", "DOUBLE")} AS recorder_speed,
           {_number("mileage_km", "DOUBLE")} AS mileage_km,
           {_number("direction", "INTEGER")} AS direction,
           {_number("altitude", "INTEGER")} AS altitude,
           {_number("state", "BIGINT")} AS state,
           {_number("alarm", "BIGINT")} AS alarm,
           coalesce({_time("received_at")}, _landed_at) AS received_at,
           coalesce(source, 'file') AS source,
           struct_pack({raw}) AS _raw_struct,
           {", ".join(LINEAGE)}
    FROM attached
),
leads AS (
    SELECT *, {_unix_seconds("gnss_time")} - {_unix_seconds("received_at")} AS gnss_lead_s
    FROM typed
),
tagged AS (
    SELECT * EXCLUDE (_raw_struct),
           gnss_lead_s < -{late_after_s} AS is_late,
           CAST(gnss_time AS DATE) AS day,
           list_filter([{failed}], x -> x IS NOT NULL) AS failed_rules,
           _raw_struct
    FROM leads
)
SELECT * EXCLUDE (_raw_struct),
       CASE WHEN len(failed_rules) > 0 THEN CAST(to_json(_raw_struct) AS VARCHAR) END
       AS raw_record
FROM tagged
"""


def load_positions(
    con: duckdb.DuckDBPyConnection, out: Path, rules: dict[str, Any], quarantined_at: dt.datetime
) -> dict[str, int]:
    """Tables ``landing_silver`` (``qualified``) and ``landing_quarantine`` (``unqualified`` and
    the unparseable lines), written to ``out`` as Parquet like the JVM baseline's; row counts."""
    con.execute(f"CREATE TEMP TABLE landing_tagged AS {tagged_sql(rules)}")
    con.execute(
        f"CREATE TEMP TABLE landing_silver AS SELECT {', '.join(SILVER_COLUMNS)} "
        "FROM landing_tagged WHERE len(failed_rules) = 0 "
        "QUALIFY row_number() OVER (PARTITION BY plate, plate_color, gnss_time ORDER BY "
        "received_at DESC, _landed_at DESC, _file_sm3 DESC, _line DESC) = 1"
    )
    rule_rows = ", ".join(
        f"NULL::VARCHAR AS {c}" if c in ("error",) else c
        for c in QUARANTINE_COLUMNS
        if c != "_quarantined_at"
    )
    keys = {
        "platform_id": "VARCHAR", "plate": "VARCHAR", "plate_color": "INTEGER",
        "gnss_time": "TIMESTAMP", "day": "DATE", "received_at": "TIMESTAMP",
    }  # fmt: skip
    malformed = ", ".join(
        [f"NULL::{t} AS {c}" for c, t in keys.items()]
        + ["[_rule] AS failed_rules", "_raw AS raw_record", "_error AS error", *LINEAGE]
    )
    con.execute(
        f"CREATE TEMP TABLE landing_quarantine AS "
        f"SELECT {rule_rows}, {_timestamp(quarantined_at)} AS _quarantined_at "
        "FROM landing_tagged WHERE len(failed_rules) > 0 "
        f"UNION ALL BY NAME SELECT {malformed}, _landed_at AS _quarantined_at "
        "FROM landing_bronze WHERE _error IS NOT NULL"
    )
    counts = {}
    for table, name, options in (
        ("landing_silver", "silver_positions", "FORMAT parquet, PARTITION_BY (day)"),
        ("landing_quarantine", "quarantine_positions.parquet", "FORMAT parquet"),
    ):
        written = con.execute(f"COPY {table} TO {_literal(str(out / name))} ({options})").fetchone()
        counts[name.removesuffix(".parquet")] = int(written[0]) if written else 0
    return counts


def register_fact_inputs(con: duckdb.DuckDBPyConnection) -> None:
    """The input views of the facts port (``positions``, ``quarantine``, ``vehicles``, ``routes``,
    ``regions``) over the tables built here; ``vehicles`` keeps every column of the history (the
    monthly indicators read ``county_code`` and ``is_current``)."""
    for view, (_, schema) in INPUTS.items():
        source = {
            "positions": "landing_silver",
            "quarantine": "landing_quarantine",
            "vehicles": "vehicle_history",
            "routes": "route_history",
            "regions": "region_history",
        }[view]
        columns = "*" if view == "vehicles" else ", ".join(schema.fieldNames())
        con.execute(f"CREATE TEMP VIEW {view} AS SELECT {columns} FROM {source}")

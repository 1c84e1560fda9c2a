"""Native (C++) parsing of landing files, with the exact per-line results of the Python parsers.

JSON lines are split with numpy and handed to DuckDB as a string column (zero-copy, in batches it
scans on every core), whose JSON functions (yyjson) give the field values as Arrow columns; CSV blocks are parsed by Arrow's CSV reader. Either way every line keeps its number,
and any line whose native result could differ from the Python parser's is re-parsed by the Python
parser, so that a file lands byte for byte the same whichever path parsed it (a test checks this on
files full of defects):

- JSON: a line that is not UTF-8, not valid JSON or not an object, or has a comma before a closing
  bracket (yyjson accepts trailing commas, Python does not); a value yyjson writes
  differently from ``json.dumps`` — a number in exponent form, below 1e-4 or of 16+ digits in a
  row, a nested object or array, a surrogate escape (this prefilter is conservative: it may send a few
  good lines to Python, never a line that would differ to the native result). A key repeated in
  one object keeps its first value in both parsers.
- CSV: a block with a quote character, a carriage return that does not end a line, or a repeated
  header name goes to Python whole; otherwise rows whose field count differs from the header are
  the malformed lines (exactly what ``csv.reader`` finds on a quote-free line).

Malformed lines are rare, so almost every line is parsed natively.
"""

from __future__ import annotations

import io
import json
import os
import threading
from collections.abc import Callable, Sequence

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pa_csv

NATIVE_ENV = "LAKEHOUSE_NATIVE_PARSE"  # "0": the Python parsers only (for comparisons)
# below this many bytes the Python parser is as fast (no engine call to pay for)
NATIVE_MIN_BYTES = 64 * 1024

# Python's blank line: nothing but ASCII whitespace (bytes.strip())
_BLANK = r"[ \t\n\r\x0b\x0c]*"
# a comma before a closing bracket outside a string (yyjson accepts it, Python does not); also
# matches inside strings, which only sends a good line to Python
_TRAILING_COMMA = r",[ \t\n\r]*[]}]"
# a surrogate escape: Python keeps a lone one (no UTF-8 column can hold it), DuckDB rejects it
_SURROGATE = r"\\u[dD][89a-fA-F]"
# a value (fields joined by chr(1)) whose text DuckDB may write differently from json.dumps: a
# number with an exponent or below 1e-4, infinities, a nested object or array
_ODD_VALUE = r"(^|\x01)(-?[0-9.]*[0-9][eE]|-?0\.0000|-?Infinity|-?inf|[\[{])"
# a number token of 16+ digits in a row (beyond a double's precision): looked for in the line, not
# in the values, so that a string of digits (an ID card number, an order number) stays native;
# also matches such digits after a colon inside a string, which only sends a good line to Python;
# an object's value follows a colon (a number in an array is a nested value: Python anyway), and
# the literal colon first lets RE2 skip ahead (3× faster than a class of ":,[")
_LONG_NUMBER = r":[ \t\n\r]*-?[0-9.]*[0-9]{16}"

_BATCH_LINES = 8192
_local = threading.local()


def enabled() -> bool:
    return os.environ.get(NATIVE_ENV, "1") != "0"


def _duckdb():
    """One DuckDB connection per thread (landing workers are processes, each with its own)."""
    con = getattr(_local, "con", None)
    if con is None:
        import duckdb

        con = duckdb.connect(
            config={"threads": max(1, os.cpu_count() or 1), "preserve_insertion_order": True}
        )
        _local.con = con
    return con


def line_bounds(data: bytes) -> tuple[np.ndarray, np.ndarray]:
    """Start and end offsets of every line of ``data`` (split on ``\\n``, which is excluded; a
    final line without a newline counts, an empty tail after the last newline does not)."""
    arr = np.frombuffer(data, np.uint8)
    # in 1 MB pieces: the comparison stays in cache (2.5× faster than over the whole buffer)
    step = 1 << 20
    pieces = [np.flatnonzero(arr[i : i + step] == 10) + i for i in range(0, len(arr), step)]
    newlines = np.concatenate(pieces) if pieces else np.empty(0, dtype=np.int64)
    starts = np.concatenate(([0], newlines + 1))
    ends = np.concatenate((newlines, [len(data)]))
    if starts[-1] == len(data):
        starts, ends = starts[:-1], ends[:-1]
    return starts, ends


def _lines_array(data: bytes, starts: np.ndarray, ends: np.ndarray) -> pa.Array:
    """Every line as one string value (each value keeps its trailing newline: JSON whitespace),
    zero-copy over ``data``; a line that is not UTF-8 is null (the Python parser reports it)."""
    offsets = pa.py_buffer(np.concatenate((starts, [len(data)])).astype(np.int64))
    values = pa.py_buffer(data)
    binary = pa.Array.from_buffers(pa.large_binary(), len(starts), [None, offsets, values])
    try:
        return binary.cast(pa.large_string())
    except pa.ArrowInvalid:
        pass
    valid = np.ones(len(starts), dtype=bool)
    position = 0
    while position < len(data):  # find each line that is not UTF-8 (C-speed decoding)
        try:
            data[position:].decode("utf-8")
            break
        except UnicodeDecodeError as exc:
            line = int(np.searchsorted(ends, position + exc.start))
            valid[line] = False
            position = int(ends[line]) + 1
    mask = pa.array(valid).buffers()[1]
    binary = pa.Array.from_buffers(pa.large_binary(), len(starts), [mask, offsets, values])
    return binary.cast(pa.large_string())


def parse_jsonl_native(
    data: bytes,
    fields: Sequence[str],
    python_line: Callable[[int, bytes], tuple[str, object]],
) -> tuple[pa.Table, list, int, int]:
    """Parse JSON lines natively; ``python_line(number, raw)`` parses one line the Python way and
    returns ("record", {field: text}), ("malformed", (line, raw, error, rule)) or ("blank", None).

    Returns the records as a table (``_line`` + ``fields``, strings, in line order), the malformed
    lines, the number of non-blank lines, and how many records were parsed natively.

    The lines are handed to DuckDB as one string column (zero-copy over ``data``), so row i is
    line i whatever happens to the others; one query finds the blank lines, the valid JSON objects
    and their field values (``json_transform``, one parse per line after ``json_valid``), and flags
    the values it may write differently from Python. Those lines and the invalid ones are parsed
    in Python."""
    starts, ends = line_bounds(data)
    n = len(starts)
    if n == 0:
        return _empty(fields), [], 0, 0
    con = _duckdb()
    # in batches, so that DuckDB scans them on every core; each line keeps its index, checked
    lines = pa.table(
        {"_index": np.arange(n, dtype=np.int64), "_raw": _lines_array(data, starts, ends)}
    )
    landing_lines = pa.Table.from_batches(lines.to_batches(max_chunksize=_BATCH_LINES))  # noqa: F841
    shape = "{" + ", ".join(f'{json.dumps(f)}: "VARCHAR"' for f in fields) + "}"
    values = ", ".join(f"_v.{_quoted(f)} AS {_quoted(f)}" for f in fields)
    text = ", ".join(f"coalesce(_v.{_quoted(f)}, '')" for f in fields)
    rows = con.sql(
        f"""
        WITH checked AS (
            SELECT _index, _raw, coalesce(regexp_full_match(_raw, '{_BLANK}'), false) AS _blank,
                coalesce(json_valid(_raw) AND starts_with(_raw, '{{')
                    AND NOT regexp_matches(_raw, '{_TRAILING_COMMA}')
                    AND NOT (contains(_raw, '\\u') AND regexp_matches(_raw, '{_SURROGATE}')),
                    false) AS _ok,
                coalesce(regexp_matches(_raw, '{_LONG_NUMBER}'), true) AS _long
            FROM landing_lines
        ), parsed AS (
            SELECT _index, _blank, _ok, _long,
                CASE WHEN _ok THEN json_transform(_raw, '{shape.replace("'", "''")}') END AS _v
            FROM checked
        )
        SELECT _index, _blank, _ok AND NOT coalesce(regexp_matches(concat_ws(chr(1), {text}),
            '{_ODD_VALUE}'), false) AND NOT _long AS _plain, {values}
        FROM parsed
        """
    ).to_arrow_table()
    index = rows.column("_index").to_numpy()
    if len(index) != n or not np.array_equal(index, np.arange(n)):  # one row per line, in order
        raise RuntimeError(
            f"native JSON parse returned {len(index)} rows for {n} lines, or not in order"
        )
    blank = rows.column("_blank").to_numpy(zero_copy_only=False)
    plain = rows.column("_plain").to_numpy(zero_copy_only=False)
    non_blank = np.flatnonzero(~blank)
    native_lines = np.flatnonzero(plain)
    values = rows.select(list(fields))
    if len(native_lines) < n:
        values = values.filter(pa.array(plain))
    native_table = pa.table(
        [pa.array(native_lines + 1, pa.int64()), *values.columns], names=["_line", *fields]
    )
    others = np.flatnonzero(~plain & ~blank)
    natively = native_table.num_rows
    if len(others) == 0:
        return _as_strings(native_table), [], len(non_blank), natively
    extra, malformed, counted = _python_lines(others, data, starts, ends, fields, python_line)
    merged = _as_strings(native_table)
    if extra.num_rows:  # records parsed in Python go back to their lines' places
        merged = pa.concat_tables([merged, extra]).sort_by("_line")
    return merged, malformed, len(non_blank) - len(others) + counted, natively


def _quoted(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _python_lines(indices, data, starts, ends, fields, python_line) -> tuple[pa.Table, list, int]:
    numbers: list[int] = []
    columns: dict[str, list] = {f: [] for f in fields}
    malformed = []
    non_blank = 0
    for i in indices:
        kind, value = python_line(int(i) + 1, data[starts[i] : ends[i]])
        if kind == "blank":
            continue
        non_blank += 1
        if kind == "malformed":
            malformed.append(value)
            continue
        numbers.append(int(i) + 1)
        for f in fields:
            columns[f].append(value.get(f))  # type: ignore[union-attr]
    table = pa.table(
        {
            "_line": pa.array(numbers, pa.int64()),
            **{f: pa.array(columns[f], pa.string()) for f in fields},
        }
    )
    return table, malformed, non_blank


def _empty(fields: Sequence[str]) -> pa.Table:
    return pa.table(
        {"_line": pa.array([], pa.int64()), **{f: pa.array([], pa.string()) for f in fields}}
    )


def _as_strings(table: pa.Table) -> pa.Table:
    """``_line`` int64 and every field a plain (not large) string column."""
    columns = [table.column("_line").cast(pa.int64())]
    columns += [table.column(f).cast(pa.string()) for f in table.column_names[1:]]
    return pa.table(columns, names=table.column_names)


def csv_block_is_plain(data: bytes) -> bool:
    """A block the native CSV path parses exactly like ``csv.reader`` line by line: no quote
    character, and every carriage return ends a line."""
    return b'"' not in data and data.count(b"\r") == data.count(b"\r\n")


def parse_csv_native(
    text_lines: bytes,
    first_line: int,
    header: list[str],
    fields: Sequence[str],
) -> tuple[pa.Table, list, int, int]:
    """Parse the body of a quote-free CSV (``text_lines``: the lines after the header, whose first
    line is file line ``first_line``). Returns the records table (``_line`` + ``fields``; an empty
    value is null), the malformed lines (wrong field count), the number of non-blank lines and how
    many records were parsed natively (all of them)."""
    if len(header) < 2:  # an empty line would be a row: leave such files to Python
        raise ValueError("native CSV needs at least two columns")
    starts, ends = line_bounds(text_lines)
    n = len(starts)
    if n == 0:
        return _empty(fields), [], 0, 0
    arr = np.frombuffer(text_lines, np.uint8)
    commas = np.bincount(np.searchsorted(ends, np.flatnonzero(arr == 44)), minlength=n)
    widths = commas + 1
    good = widths == len(header)
    malformed = []
    non_blank = int(good.sum())
    for i in np.flatnonzero(~good):
        raw = text_lines[starts[i] : ends[i]].decode("utf-8")
        line = raw.rstrip("\r")
        if not line.strip():
            continue
        non_blank += 1
        malformed.append(
            (
                first_line + int(i),
                line,
                f"CSV row has {int(widths[i])} fields, header has {len(header)}",
                "malformed_record",
            )
        )
    wanted = [f for f in fields if f in header]
    types = {name: pa.string() for name in header}
    rows = pa_csv.read_csv(
        io.BytesIO(text_lines),
        read_options=pa_csv.ReadOptions(column_names=header, use_threads=True),
        parse_options=pa_csv.ParseOptions(
            invalid_row_handler=lambda _row: "skip", newlines_in_values=False
        ),
        convert_options=pa_csv.ConvertOptions(
            column_types=types,
            include_columns=wanted,
            strings_can_be_null=False,
            quoted_strings_can_be_null=False,
        ),
    )
    line_numbers = pa.array(np.flatnonzero(good) + first_line, pa.int64())
    if rows.num_rows != len(line_numbers):  # Arrow saw the rows differently: not exact, refuse
        raise ValueError("native CSV rows do not match the lines")
    columns = [line_numbers]
    for f in fields:
        if f in wanted:
            col = rows.column(f)
            columns.append(pc.if_else(pc.equal(col, ""), pa.scalar(None, pa.string()), col))
        else:
            columns.append(pa.nulls(rows.num_rows, pa.string()))
    table = _as_strings(pa.table(columns, names=["_line", *fields]))
    return table, malformed, non_blank, table.num_rows

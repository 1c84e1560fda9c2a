"""Land files from the landing zone into bronze Delta tables (extract + load, no transformation).

The shared landing of every domain: a feed (:mod:`transforms.lake.feeds`) says where its files are
and how each file type is parsed. Every bronze row keeps its lineage (source file, line, the file's SM3 digest, landed_at). A file whose
digest was landed before is skipped, so re-running is a no-op. Lines that cannot be parsed go to the
feed's quarantine table as ``malformed_record``; a file that cannot be read at all goes to
``ops.landing__rejected_files`` with the error. Nothing is moved or edited in the landing zone.
"""

from __future__ import annotations

import codecs
import csv
import datetime as dt
import io
import json
import math
import multiprocessing as mp
import os
import threading
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Executor, Future, ProcessPoolExecutor, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
from cryptography.hazmat.primitives import hashes
from deltalake import write_deltalake

from transforms.crypto import sm3_bytes
from transforms.lake import native, registry
from transforms.lake.clock import TS, now_beijing
from transforms.lake.feeds import Feed
from transforms.lake.ledger import (
    FILES_SCHEMA,
    REJECTED_SCHEMA,
    delete_partial,
    known_digests,
    known_paths,
)
from transforms.lake.protection import ProtectionKeys, protect, protect_raw

MALFORMED = "malformed_record"

LINEAGE = [
    ("_source_file", pa.string()),
    ("_line", pa.int64()),
    ("_file_sm3", pa.string()),
    ("_landed_at", TS),
    ("_folder_date", pa.date32()),
]


def bronze_schema(feed: Feed) -> pa.Schema:
    return pa.schema([(f, pa.string()) for f in feed.stored_fields] + LINEAGE)


def quarantine_schema(feed: Feed) -> pa.Schema:
    """Schema of a feed's quarantine table (the feed's typed columns first, e.g. a position's key)."""
    typed = list(feed.quarantine_columns)
    # a protected feed's raw lines: a masked preview, and the line itself encrypted
    raw = [("raw_record", pa.string())] + (
        [("raw_record_sm4", pa.string())] if feed.sensitive else []
    )
    return pa.schema(
        typed
        + [("failed_rules", pa.list_(pa.string()))]
        + raw
        + [("error", pa.string())]
        + LINEAGE[:4]
        + [("_quarantined_at", TS)]
    )


def empty_bronze(spark, feed: Feed):
    """A Spark DataFrame with the feed's bronze schema and no rows (builds empty silver tables)."""
    types = {pa.string(): "string", pa.int64(): "bigint", TS: "timestamp", pa.date32(): "date"}
    ddl = ", ".join(f"`{f.name}` {types[f.type]}" for f in bronze_schema(feed))
    return spark.createDataFrame([], ddl)


class FileRejected(Exception):
    """The whole file cannot be landed."""


@dataclass
class ParsedFile:
    """The records of one file: those parsed natively as an Arrow table (``native``: ``_line`` and
    the feed's fields as strings), those parsed in Python column by column (one list per field,
    plus line numbers), and the malformed lines. :meth:`to_arrow` gives them all in line order."""

    fields: tuple[str, ...]
    line_numbers: list[int] = field(default_factory=list)
    columns: dict[str, list[str | None]] = field(default_factory=dict)
    # line, raw text, error, rule name (malformed_record, or malformed_frame for raw frames)
    malformed: list[tuple[int, str, str, str]] = field(default_factory=list)
    lines: int = 0
    native: pa.Table | None = None
    native_records: int = 0  # of the records, how many the native parser read (the rest: Python)
    # columns every record gets whatever the file said (a feed's constants)
    constants: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not self.columns:
            self.columns = {f: [] for f in self.fields}

    @property
    def n_records(self) -> int:
        return len(self.line_numbers) + (self.native.num_rows if self.native is not None else 0)

    def to_arrow(self) -> pa.Table:
        """Every record: ``_line`` (int64) and the fields (strings), in line order."""
        parts = []
        if self.native is not None and self.native.num_rows:
            parts.append(self.native.select(["_line", *self.fields]))
        if self.line_numbers or not parts:
            python = {"_line": pa.array(self.line_numbers, pa.int64())}
            python.update({f: pa.array(self.columns[f], pa.string()) for f in self.fields})
            parts.append(pa.table(python))
        table = parts[0] if len(parts) == 1 else pa.concat_tables(parts).sort_by("_line")
        for name, value in self.constants.items():
            index = table.schema.get_field_index(name)
            table = table.set_column(
                index, name, pa.repeat(pa.scalar(value, pa.string()), len(table))
            )
        return table

    @property
    def records(self) -> list[tuple[int, dict[str, str | None]]]:
        """(line, {field: text}) per record — a convenience view for tests and debugging."""
        return [(r.pop("_line"), r) for r in self.to_arrow().to_pylist()]

    def shifted(self, offset: int) -> ParsedFile:
        """The same records and malformed lines with every line number moved by ``offset`` (a
        block of a large file, parsed on its own, numbers its lines from its first)."""
        if offset:
            self.line_numbers = [n + offset for n in self.line_numbers]
            self.malformed = [(n + offset, *rest) for n, *rest in self.malformed]  # type: ignore[misc]
            if self.native is not None:
                lines = pc.add(self.native.column("_line"), pa.scalar(offset, pa.int64()))
                index = self.native.schema.get_field_index("_line")
                self.native = self.native.set_column(index, "_line", lines)
        return self

    def add(self, number: int, record: dict[str, str | None]) -> None:
        self.line_numbers.append(number)
        for name, values in self.columns.items():
            values.append(record.get(name))


_float_repr = float.__repr__


def as_text(value: object) -> str | None:
    """A JSON value as the text bronze keeps: strings as they are, numbers as JSON writes them
    (``json.dumps`` gives the same text as ``str``/``repr`` for ints and finite floats, at a
    fraction of the cost), anything else as its `json.dumps` text."""
    kind = type(value)
    if kind is str:
        return value  # type: ignore[return-value]
    if value is None:
        return None
    if kind is int:
        return str(value)
    if kind is float and math.isfinite(value):  # type: ignore[arg-type]
        return _float_repr(value)  # type: ignore[arg-type]
    return json.dumps(value, ensure_ascii=False)


def first_value_wins(pairs: list[tuple[str, object]]) -> dict[str, object]:
    """A JSON object whose repeated keys keep their FIRST value (as the native parser does; the
    standard leaves it open, Python's default keeps the last)."""
    obj = dict(pairs)
    if len(obj) != len(pairs):
        obj = {}
        for key, value in pairs:
            obj.setdefault(key, value)
    return obj


def _jsonl_line(fields: tuple[str, ...]):
    """The Python parser of one JSON line (small files, and the lines the native parser leaves to
    Python)."""
    decoder = json.JSONDecoder(object_pairs_hook=first_value_wins)
    loads = decoder.decode

    def parse(number: int, raw: bytes) -> tuple[str, object]:
        if not raw.strip():
            return "blank", None
        try:
            text = raw.decode("utf-8").rstrip("\r")
        except UnicodeDecodeError as exc:
            return "malformed", (
                number,
                raw.decode("utf-8", "replace"),
                f"not UTF-8: {exc}",
                MALFORMED,
            )
        try:
            obj = loads(text)
        except json.JSONDecodeError as exc:
            error = f"not JSON: {exc.msg} at column {exc.colno}"
            return "malformed", (number, text, error, MALFORMED)
        if type(obj) is not dict:
            return "malformed", (number, text, "not a JSON object", MALFORMED)
        get = obj.get
        record = {name: as_text(get(name)) for name in fields}
        if b"\\u" in raw:  # a lone surrogate escape decodes to text no UTF-8 column can hold
            for name, value in record.items():
                try:
                    value is None or value.encode("utf-8")
                except UnicodeEncodeError:
                    error = f"not valid Unicode: a lone surrogate in {name!r}"
                    return "malformed", (number, text, error, MALFORMED)
        return "record", record

    return parse


def parse_jsonl(data: bytes, feed: Feed) -> ParsedFile:
    """One JSON object per line; blank lines are ignored; anything else is a malformed line.
    Large inputs are parsed natively (:mod:`transforms.lake.native`), with the same result."""
    line_parser = _jsonl_line(feed.fields)
    if native.enabled() and len(data) >= native.NATIVE_MIN_BYTES:
        table, malformed, lines, natively = native.parse_jsonl_native(
            data, feed.fields, line_parser
        )
        return ParsedFile(
            feed.fields, malformed=malformed, lines=lines, native=table, native_records=natively
        )
    out = ParsedFile(feed.fields)
    targets = [(name, out.columns[name]) for name in feed.fields]
    numbers = out.line_numbers
    for number, raw in enumerate(data.split(b"\n"), start=1):
        kind, value = line_parser(number, raw)
        if kind == "blank":
            continue
        out.lines += 1
        if kind == "malformed":
            out.malformed.append(value)  # type: ignore[arg-type]
            continue
        numbers.append(number)
        for name, values in targets:
            values.append(value[name])  # type: ignore[index]
    return out


def parse_csv(data: bytes, feed: Feed) -> ParsedFile:
    """UTF-8 CSV with a header naming the contract fields; a row of the wrong width is malformed.
    Large quote-free bodies are parsed natively (:mod:`transforms.lake.native`), same result."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise FileRejected(f"not UTF-8: {exc}") from None
    first, _, _ = text.partition("\n")
    header = next(csv.reader([first.rstrip("\r")])) if first.strip() else []
    header = [h.strip() for h in header]
    missing = [f for f in feed.required if f not in header]
    if missing:
        raise FileRejected(f"CSV header lacks required columns: {', '.join(missing)}")
    if (
        native.enabled()
        and len(data) >= native.NATIVE_MIN_BYTES
        and len(set(header)) == len(header)
    ):
        body = data[data.find(b"\n") + 1 :] if b"\n" in data else b""
        if native.csv_block_is_plain(body):
            try:
                table, malformed, lines, natively = native.parse_csv_native(
                    body, 2, header, feed.fields
                )
            except (ValueError, pa.ArrowInvalid):
                pass  # Arrow read the rows differently: the Python parser decides
            else:
                return ParsedFile(
                    feed.fields,
                    malformed=malformed,
                    lines=lines,
                    native=table,
                    native_records=natively,
                )
    lines = text.split("\n")
    index = {name: i for i, name in enumerate(header) if name in feed.fields}
    out = ParsedFile(feed.fields)
    numbers = out.line_numbers
    targets = [(out.columns[f], index.get(f)) for f in feed.fields]
    for number, line in enumerate(lines[1:], start=2):
        line = line.rstrip("\r")
        if not line.strip():
            continue
        out.lines += 1
        try:
            row = next(csv.reader(io.StringIO(line)))
        except csv.Error as exc:
            out.malformed.append((number, line, f"CSV error: {exc}", MALFORMED))
            continue
        if len(row) != len(header):
            out.malformed.append(
                (
                    number,
                    line,
                    f"CSV row has {len(row)} fields, header has {len(header)}",
                    MALFORMED,
                )
            )
            continue
        numbers.append(number)
        for values, i in targets:
            values.append(row[i] if i is not None and row[i] != "" else None)
    return out


def parse_json(data: bytes, feed: Feed) -> ParsedFile:
    """One JSON object per file (e.g. a freight envelope): one record at line 1, else the whole
    file is one malformed record."""
    out = ParsedFile(feed.fields)
    if not data.strip():
        return out
    out.lines = 1
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        out.malformed.append((1, data.decode("utf-8", "replace"), f"not UTF-8: {exc}", MALFORMED))
        return out
    try:
        obj = json.JSONDecoder(object_pairs_hook=first_value_wins).decode(text)
    except json.JSONDecodeError as exc:
        error = f"not JSON: {exc.msg} at line {exc.lineno} column {exc.colno}"
        out.malformed.append((1, text, error, MALFORMED))
        return out
    if type(obj) is not dict:
        out.malformed.append((1, text, "not a JSON object", MALFORMED))
        return out
    out.add(1, {name: as_text(obj.get(name)) for name in feed.fields})
    return out


# the generic parsers, by file type; a feed adds its own (Feed.parsers)
GENERIC_PARSERS: dict[str, Callable[[bytes, Feed], ParsedFile]] = {
    ".jsonl": parse_jsonl,
    ".csv": parse_csv,
    ".json": parse_json,
}


def parse_file(path: Path, feed: Feed, data: bytes | None = None) -> ParsedFile:
    """Parse a landing file of ``feed`` (its bytes ``data`` when already read) with the parser of
    its file type (the feed's own, else a generic one); raises FileRejected when it cannot be read
    at all."""
    suffix = path.suffix.lower()
    if suffix not in feed.extensions:
        raise FileRejected(
            f"unsupported file type {suffix or '(none)'} for feed {feed.key}; "
            f"expected {', '.join(feed.extensions)}"
        )
    if data is None:
        try:
            data = path.read_bytes()
        except OSError as exc:
            raise FileRejected(f"cannot read: {exc}") from None
    own = feed.parser_for(suffix)
    if own is not None:
        return own(data, feed)
    parser = GENERIC_PARSERS.get(suffix)
    if parser is None:
        raise FileRejected(f"no parser for {suffix} files (feed {feed.key})")
    parsed = parser(data, feed)
    parsed.constants.update(feed.constants)
    return parsed


@dataclass
class LandingResult:
    """What one landing pass did for one feed."""

    feed: str
    landed_files: int = 0
    skipped_files: int = 0
    rejected_files: int = 0
    records: int = 0
    malformed: int = 0
    errors: list[str] = field(default_factory=list)


def folder_dates(lake: Path, feed: Feed) -> list[dt.date]:
    """Date folders present in the feed's landing directory."""
    base = lake / "landing" / feed.domain / feed.name
    dates = []
    if base.is_dir():
        for child in sorted(base.iterdir()):
            if child.is_dir():
                try:
                    dates.append(dt.date.fromisoformat(child.name))
                except ValueError:
                    continue
    return dates


def unknown_feed_folders(lake: Path, domain: str, feeds: Iterable[Feed]) -> list[str]:
    """Folders of ``landing/<domain>/`` that are no feed of the domain (a misspelt interface
    name): the landing leaves them untouched and the caller warns about each."""
    base = lake / "landing" / domain
    known = {f.name for f in feeds}
    if not base.is_dir():
        return []
    return sorted(
        c.name
        for c in base.iterdir()
        if c.is_dir() and not c.name.startswith((".", "_")) and c.name not in known
    )


def candidate_files(
    lake: Path, feed: Feed, dates: Iterable[dt.date] | None
) -> list[tuple[dt.date, Path]]:
    """Files of the feed in date-folder order, then file-name order."""
    wanted = set(dates) if dates is not None else None
    out = []
    base = lake / "landing" / feed.domain / feed.name
    for day in folder_dates(lake, feed):
        if wanted is not None and day not in wanted:
            continue
        for path in sorted((base / day.isoformat()).iterdir()):
            if path.is_file() and not path.name.startswith("."):
                out.append((day, path))
    return out


def _append(lake: Path, table_name: str, data: pa.Table, partition_by: list[str] | None = None):
    t = registry.table(table_name)
    write_deltalake(
        str(t.location(lake)),
        data,
        mode="append",
        partition_by=partition_by or None,
        schema_mode="merge",
    )


def _bronze_rows(
    feed: Feed,
    rel: str,
    digest: str,
    day: dt.date,
    landed_at: dt.datetime,
    parsed: ParsedFile,
    keys: ProtectionKeys | None = None,
) -> pa.Table:
    records = parsed.to_arrow()
    if feed.sensitive:
        records = protect(records, feed.sensitive, _required(keys, feed))
    n = len(records)
    schema = bronze_schema(feed)
    lineage = {
        "_source_file": rel,
        "_line": None,
        "_file_sm3": digest,
        "_landed_at": landed_at,
        "_folder_date": day,
    }
    columns = []
    for f in schema:
        if f.name == "_line":
            columns.append(records.column("_line"))
        elif f.name in lineage:
            columns.append(pa.repeat(pa.scalar(lineage[f.name], f.type), n))
        else:
            columns.append(records.column(f.name).cast(f.type))
    return pa.Table.from_arrays(columns, schema=schema)


def _required(keys: ProtectionKeys | None, feed: Feed) -> ProtectionKeys:
    if keys is None:
        raise ValueError(f"feed {feed.key} has sensitive fields: landing it needs the keys")
    return keys


def _malformed_rows(
    feed: Feed,
    rel: str,
    digest: str,
    landed_at: dt.datetime,
    parsed: ParsedFile,
    keys: ProtectionKeys | None = None,
) -> pa.Table:
    schema = quarantine_schema(feed)
    n = len(parsed.malformed)
    columns: dict[str, list] = {name: [None] * n for name in schema.names}
    columns["failed_rules"] = [[rule] for *_, rule in parsed.malformed]
    columns["raw_record"] = [raw for _, raw, _, _ in parsed.malformed]
    if feed.sensitive:
        columns["raw_record"], columns["raw_record_sm4"] = protect_raw(
            columns["raw_record"], _required(keys, feed)
        )
    columns["error"] = [error for _, _, error, _ in parsed.malformed]
    columns["_source_file"] = [rel] * n
    columns["_line"] = [line for line, *_ in parsed.malformed]
    columns["_file_sm3"] = [digest] * n
    columns["_landed_at"] = [landed_at] * n
    columns["_quarantined_at"] = [landed_at] * n
    return pa.Table.from_pydict(columns, schema=schema)


# files larger than this in total are prepared by a pool of threads: the SM3 digest (OpenSSL), the
# native parsers (DuckDB, Arrow) and the Delta writes release the GIL, so threads keep every core
# busy without the start-up and pickling a pool of processes costs
PARALLEL_MIN_BYTES = 8 * 1024 * 1024
WORKERS_ENV = "LAKEHOUSE_LANDING_WORKERS"
# a `.jsonl` / `.csv` file larger than this is landed block by block, so that memory stays flat
# however large one file is: hashed first (its digest is every row's lineage), then parsed and
# written in blocks of whole lines of about BLOCK_BYTES
LARGE_FILE_BYTES = 256 * 2**20
BLOCK_BYTES = 64 * 2**20
BLOCKWISE = (".jsonl", ".csv")


@dataclass
class PreparedFile:
    """One landing file digested and parsed into its bronze and quarantine rows (in a worker) —
    or one block of a large file: its first block is ``first``, its last ``last``."""

    day: dt.date
    rel: str
    digest: str
    size: int
    first: bool = True
    last: bool = True
    skipped: bool = False
    error: str | None = None
    bronze: pa.Table | None = None
    malformed_rows: pa.Table | None = None
    lines: int = 0
    records: int = 0
    malformed: int = 0


def prepare_file(
    lake: Path,
    feed: Feed,
    day: dt.date,
    path: Path,
    landed_at: dt.datetime,
    known: frozenset[str] | set[str],
    seen_paths: frozenset[str] | set[str] = frozenset(),
    keys: ProtectionKeys | None = None,
) -> PreparedFile:
    """SM3 digest, parse and Arrow rows of one file (pool threads run it).

    The file is read once. A path never landed before is hashed on a second thread while it is
    parsed (the digest is OpenSSL's, the parse DuckDB's: neither holds the GIL); a path landed
    before is hashed first, so that an unchanged file is not parsed again for nothing."""
    rel = str(path.relative_to(lake))
    data = path.read_bytes()
    prepared = PreparedFile(day=day, rel=rel, digest="", size=len(data))
    if rel in seen_paths:
        prepared.digest = sm3_bytes(data)
        if prepared.digest in known:
            prepared.skipped = True
            return prepared
        digest = None
    else:
        digest = _hasher().submit(sm3_bytes, data)
    try:
        parsed = parse_file(path, feed, data)
    except FileRejected as exc:
        parsed = None
        prepared.error = str(exc)
    if digest is not None:
        prepared.digest = digest.result()
        if prepared.digest in known:
            prepared.skipped = True
            return prepared
    if parsed is not None:
        _fill(prepared, feed, landed_at, parsed, keys)
    return prepared


def _fill(
    prepared: PreparedFile,
    feed: Feed,
    landed_at: dt.datetime,
    parsed: ParsedFile,
    keys: ProtectionKeys | None,
) -> None:
    """The bronze and quarantine rows of a parsed file (or block) and its counts."""
    rel, digest, day = prepared.rel, prepared.digest, prepared.day
    prepared.bronze = _bronze_rows(feed, rel, digest, day, landed_at, parsed, keys)
    prepared.malformed_rows = _malformed_rows(feed, rel, digest, landed_at, parsed, keys)
    prepared.lines = parsed.lines
    prepared.records = parsed.n_records
    prepared.malformed = len(parsed.malformed)


def blockwise(feed: Feed, path: Path, size: int) -> bool:
    """Whether ``path`` is landed block by block (see LARGE_FILE_BYTES)."""
    suffix = path.suffix.lower()
    return size > LARGE_FILE_BYTES and suffix in BLOCKWISE and feed.parser_for(suffix) is None


def prepare_large_file(
    lake: Path,
    feed: Feed,
    day: dt.date,
    path: Path,
    landed_at: dt.datetime,
    known: frozenset[str] | set[str],
    keys: ProtectionKeys | None = None,
) -> Iterator[PreparedFile]:
    """A large file as parts of at most about BLOCK_BYTES each (the first ``first``, the last
    ``last``), with the same rows as :func:`prepare_file` would give: each block of whole lines is
    parsed on its own and its line numbers moved to the file's. A CSV file is checked to be UTF-8
    while it is hashed (a file is rejected whole, before any block is written); each later block
    is parsed behind the header line."""
    rel = str(path.relative_to(lake))
    suffix = path.suffix.lower()
    digest, error = _digest_and_check(path, utf8=suffix == ".csv")
    size = path.stat().st_size
    if digest in known or error is not None:
        yield PreparedFile(day, rel, digest, size, skipped=digest in known, error=error)
        return
    parser = GENERIC_PARSERS[suffix]
    header = b""
    blocks = _blocks(path, BLOCK_BYTES)
    part: PreparedFile | None = None
    for number, (first_line, block) in enumerate(blocks):
        if part is not None:
            yield part
        if suffix == ".csv" and number == 0:
            header = block.split(b"\n", 1)[0] + b"\n"
            try:
                parsed = parser(block, feed)
            except FileRejected as exc:  # its header: nothing of the file is written
                yield PreparedFile(day, rel, digest, size, error=str(exc))
                return
        elif suffix == ".csv":  # behind the header its first line is line 2
            parsed = parser(header + block, feed).shifted(first_line - 2)
        else:
            parsed = parser(block, feed).shifted(first_line - 1)
        parsed.constants.update(feed.constants)
        part = PreparedFile(day, rel, digest, size, first=number == 0, last=False)
        _fill(part, feed, landed_at, parsed, keys)
    if part is None:  # cannot happen: a large file has a block
        raise RuntimeError(f"{rel}: no block read from a {size}-byte file")
    part.last = True
    yield part


def _digest_and_check(path: Path, utf8: bool) -> tuple[str, str | None]:
    """SM3 of a file streamed, and (``utf8``) whether it is UTF-8 (the error as the CSV parser
    words it, else None)."""
    h = hashes.Hash(hashes.SM3())
    decoder = codecs.getincrementaldecoder("utf-8-sig")() if utf8 else None
    error = None
    with open(path, "rb") as fh:
        while chunk := fh.read(BLOCK_BYTES):
            h.update(chunk)
            if decoder is not None and error is None:
                try:
                    decoder.decode(chunk)
                except UnicodeDecodeError as exc:
                    error = f"not UTF-8: {exc}"
    if decoder is not None and error is None:
        try:
            decoder.decode(b"", final=True)
        except UnicodeDecodeError as exc:
            error = f"not UTF-8: {exc}"
    return h.finalize().hex(), error


def _blocks(path: Path, size: int) -> Iterator[tuple[int, bytes]]:
    """(first line number, bytes) of blocks of whole lines of about ``size`` bytes."""
    line = 1
    rest = b""
    with open(path, "rb") as fh:
        while chunk := fh.read(size):
            data = rest + chunk
            cut = data.rfind(b"\n") + 1
            if cut == 0:  # no line ends in it yet
                rest = data
                continue
            block, rest = data[:cut], data[cut:]
            yield line, block
            line += block.count(b"\n")
    if rest:
        yield line, rest


_hashers = threading.local()


def _hasher() -> ThreadPoolExecutor:
    """This thread's hashing thread (hashes one file while this thread parses it)."""
    pool = getattr(_hashers, "pool", None)
    if pool is None:
        pool = _hashers.pool = ThreadPoolExecutor(1, thread_name_prefix="sm3")
    return pool


def _pool(feed: Feed, workers: int) -> Executor:
    """Threads for the native parsers, which release the GIL; spawned processes (never forked:
    the embedded engine runs threads in this process) for a feed with parsers of its own, which
    are Python (JT/T 809 / 808 frames, encrypted envelopes) and would take turns on the GIL."""
    if feed.parsers and workers > 1:
        return ProcessPoolExecutor(workers, mp_context=mp.get_context("spawn"))
    return ThreadPoolExecutor(workers, thread_name_prefix="landing")


def landing_workers() -> int:
    """Preparing threads (or processes) for a large landing: $LAKEHOUSE_LANDING_WORKERS, else one
    per core (≤ 8). Processes are *spawned*, which re-imports the caller's ``__main__`` script:
    only safe behind an ``if __name__ == "__main__":`` guard (the CLI, Dagster and pytest have
    one)."""
    configured = os.environ.get(WORKERS_ENV)
    if configured:
        return max(1, int(configured))
    return max(1, min(os.cpu_count() or 1, 8))


def _prepared_files(
    lake: Path,
    feed: Feed,
    files: list[tuple[dt.date, Path]],
    landed_at: dt.datetime,
    known: set[str],
    workers: int,
    seen: frozenset[str] = frozenset(),
    keys: ProtectionKeys | None = None,
) -> Iterator[PreparedFile]:
    """Every file prepared, in order: in this thread for a small landing, else by a pool of
    threads (processes for a feed's own Python parsers, :func:`_pool`) with a bounded number of
    files in flight, so memory stays flat however large the
    landing is (the caller writes the prepared rows while the pool prepares the next files). A
    large file is prepared here, block by block, once the files before it are out."""
    sizes = {path: path.stat().st_size for _, path in files}
    frozen = frozenset(known)
    small = workers == 1 or len(files) < 2 or sum(sizes.values()) < PARALLEL_MIN_BYTES
    in_flight: deque[Future[PreparedFile]] = deque()
    with _pool(feed, 1 if small else workers) as pool:

        def submit(day: dt.date, path: Path) -> None:
            in_flight.append(
                pool.submit(prepare_file, lake, feed, day, path, landed_at, frozen, seen, keys)
            )

        for day, path in files:
            if blockwise(feed, path, sizes[path]):
                while in_flight:
                    yield in_flight.popleft().result()
                yield from prepare_large_file(lake, feed, day, path, landed_at, frozen, keys)
                continue
            if small:
                yield prepare_file(lake, feed, day, path, landed_at, known, seen, keys)
                continue
            submit(day, path)
            if len(in_flight) >= 2 * workers:
                yield in_flight.popleft().result()
        while in_flight:
            yield in_flight.popleft().result()


def _write_batch(
    lake: Path,
    feed: Feed,
    bronze_parts: list[pa.Table],
    malformed_parts: list[pa.Table],
    files: list[dict],
    starting: list[str],
) -> None:
    """Append one batch of prepared files: bronze and quarantine rows first, then the files
    complete in it to the ledger. A file cut short by a crash is not in the ledger: the rows it
    left are deleted when it is landed again, before its first rows (``starting``: the digests of
    the files whose first rows are in this batch) are written."""
    delete_partial(lake, feed.bronze_table, starting)
    delete_partial(lake, feed.quarantine_table, starting)
    bronze = pa.concat_tables(bronze_parts)
    if bronze.num_rows:
        _append(lake, feed.bronze_table, bronze, list(feed.bronze_partition_by))
    malformed = pa.concat_tables(malformed_parts)
    if malformed.num_rows:
        _append(lake, feed.quarantine_table, malformed)
    _append(lake, "ops.landing__files", pa.Table.from_pylist(files, FILES_SCHEMA))


def land_feed(
    lake: Path,
    feed: Feed,
    dates: Iterable[dt.date] | None = None,
    progress: Callable[[str], None] | None = None,
    batch_rows: int = 2_000_000,
    workers: int | None = None,
    ledger: tuple[set[str], frozenset[str]] | None = None,
) -> LandingResult:
    """Land every not-yet-landed file of ``feed`` (optionally only the given date folders).

    Large landings are prepared on ``workers`` threads (default :func:`landing_workers`; 1: all
    in this thread); files are still recorded in order, so the result is the same.
    ``ledger``: the digests and paths landed before, when the caller read them once for many
    feeds (:func:`land_feeds`); the digests landed here are added to it."""
    say = progress or (lambda _msg: None)
    workers = landing_workers() if workers is None else workers
    result = LandingResult(feed=feed.key)
    # a feed with sensitive fields cannot land without its keys: fail before anything is written
    keys = ProtectionKeys.load() if feed.sensitive else None
    known = ledger[0] if ledger is not None else known_digests(lake)
    landed_at = now_beijing()
    pending_bronze: list[pa.Table] = []
    pending_malformed: list[pa.Table] = []
    pending_files: list[dict] = []
    starting: list[str] = []
    rejected: list[dict] = []

    # batches are written by one writer thread, in order, while the next batch is prepared
    writer = ThreadPoolExecutor(1, thread_name_prefix="bronze-writer")
    writing: list[Future[None]] = []

    def flush() -> None:
        if not pending_bronze:
            return
        batch = (list(pending_bronze), list(pending_malformed), list(pending_files), list(starting))
        for pending in (pending_bronze, pending_malformed, pending_files, starting):
            pending.clear()
        if writing:
            writing.pop().result()  # one batch in the writer at a time: memory stays flat
        writing.append(writer.submit(_write_batch, lake, feed, *batch))

    try:
        files = candidate_files(lake, feed, dates)
        rows_in_batch = 0
        seen = ledger[1] if ledger is not None else frozenset(known_paths(lake))
        prepared_files = _prepared_files(lake, feed, files, landed_at, known, workers, seen, keys)
        for prepared in prepared_files:
            rel, digest = prepared.rel, prepared.digest
            if prepared.first:
                if prepared.skipped or digest in known:  # landed before, or a copy in this pass
                    result.skipped_files += 1
                    continue
                known.add(digest)
            if prepared.error is not None:  # only ever a whole file (blocks come after checks)
                result.rejected_files += 1
                result.errors.append(f"{rel}: {prepared.error}")
                rejected.append(
                    {
                        "file_path": rel,
                        "domain": feed.domain,
                        "feed": feed.name,
                        "file_sm3": digest,
                        "error": prepared.error,
                        "rejected_at": landed_at,
                    }
                )
                say(f"  rejected {rel}: {prepared.error}")
                continue
            assert prepared.bronze is not None and prepared.malformed_rows is not None
            pending_bronze.append(prepared.bronze)
            pending_malformed.append(prepared.malformed_rows)
            if prepared.first:
                starting.append(digest)
                entry = {
                    "file_path": rel,
                    "domain": feed.domain,
                    "feed": feed.name,
                    "folder_date": prepared.day,
                    "file_sm3": digest,
                    "size_bytes": prepared.size,
                    "lines": 0,
                    "records": 0,
                    "malformed": 0,
                    "status": "landed",
                    "landed_at": landed_at,
                    "published_at": None,
                }
            entry["lines"] += prepared.lines
            entry["records"] += prepared.records
            entry["malformed"] += prepared.malformed
            result.records += prepared.records
            result.malformed += prepared.malformed
            if prepared.last:
                pending_files.append(entry)
                result.landed_files += 1
                if entry["malformed"]:
                    say(f"  {rel}: {entry['malformed']} malformed line(s) quarantined")
            else:
                say(f"  {rel}: {entry['records']:,} records so far")
            rows_in_batch += prepared.records
            if rows_in_batch >= batch_rows:
                flush()
                rows_in_batch = 0
                say(f"  {feed.key}: {result.landed_files} files, {result.records:,} records landed")
        flush()
        if writing:
            writing.pop().result()
    finally:
        writer.shutdown(wait=True)
    if rejected:
        _append(
            lake, "ops.landing__rejected_files", pa.Table.from_pylist(rejected, REJECTED_SCHEMA)
        )
    say(
        f"{feed.key}: landed {result.landed_files} file(s), {result.records:,} records, "
        f"{result.malformed} malformed, {result.skipped_files} already landed, "
        f"{result.rejected_files} rejected"
    )
    return result


def land_feeds(
    lake: Path,
    feeds: Iterable[Feed],
    dates: Iterable[dt.date] | None = None,
    progress: Callable[[str], None] | None = None,
) -> list[LandingResult]:
    """Land many feeds of one domain (one per interface: 网约车 has 29) reading the landing ledger
    once rather than twice per feed — on a lake of many landed files that read is most of a small
    feed's landing. Feeds with nothing to land say nothing."""
    say = progress or (lambda _msg: None)
    wanted = list(dates) if dates is not None else None
    ledger = (known_digests(lake), frozenset(known_paths(lake)))
    results = []
    for feed in feeds:
        if not candidate_files(lake, feed, wanted):
            results.append(LandingResult(feed=feed.key))
            continue
        results.append(land_feed(lake, feed, wanted, say, ledger=ledger))
    return results

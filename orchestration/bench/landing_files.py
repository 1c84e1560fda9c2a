"""The landing zone as the end-to-end baselines see it: which files, their lineage, and the raw
JT/T 809 / 808 frames decoded with the project's codec.

Both end-to-end baselines (:mod:`orchestration.bench.end_to_end`) start from the files our landing
job reads (``<landing>/telematics/<feed>/<YYYY-MM-DD>/<file>``), in the order it reads them
(date folder, then file name). Position files (``.jsonl``, ``.csv``) are read by each engine's own
reader. Neither Spark nor DuckDB reads a ``.hex`` frame file, so both decode the frames with
:func:`transforms.telematics.frames.decode_line` — the codec our landing uses — inside their
timed work: JVM Spark in its Python workers (``mapInArrow``), DuckDB in a pool of processes
before the SQL. :func:`decode_frames` turns one file into bronze rows (every field as text, as
our landing keeps it), one row per non-blank line; a line the codec refuses is a row with
``_error`` set (it becomes a quarantine row, as our landing's ``malformed_frame``).
"""

from __future__ import annotations

import datetime as dt
import multiprocessing as mp
import re
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import pyarrow as pa

from transforms.lake.protection import ProtectionKeys, protect
from transforms.telematics.feeds import PHONE, PLATFORM_SENSITIVE, POSITION_BRONZE_FIELDS
from transforms.telematics.frames import FrameError, decode_line

DOMAIN = "telematics"
# the position feeds and the file types each engine reads natively
JSON_SUFFIX, CSV_SUFFIX, FRAME_SUFFIX = ".jsonl", ".csv", ".hex"
FOLDER_DATE = re.compile(r"/(\d{4}-\d{2}-\d{2})/[^/]*$")
# the DecodedFrame attributes kept as bronze text (transforms.telematics.parsers.parse_frames)
FRAME_ATTRIBUTES = (
    "platform_id", "plate", "plate_color", "terminal_phone", "gnss_time", "lon", "lat", "speed",
    "recorder_speed", "mileage_km", "direction", "altitude", "state", "alarm",
)  # fmt: skip
# one decoded line: the bronze position fields (text), its line number, and for a line the codec
# refuses the reason and the line itself
FRAME_SCHEMA = pa.schema(
    [(name, pa.string()) for name in POSITION_BRONZE_FIELDS]
    + [("_line", pa.int64()), ("_error", pa.string()), ("_raw", pa.string())]
)
# decode in a pool of processes above this many bytes of frames (below, spawning costs more)
POOL_MIN_BYTES = 16 * 1024 * 1024


# ---- personal fields: our tables keep them protected, the baselines read the files in clear ----
PROTECTED = (PHONE, *PLATFORM_SENSITIVE)


def in_clear(columns: list[str] | tuple[str, ...]) -> list[str]:
    """Our column names as a pipeline without data protection keeps them: each protected field's
    ``_sm4`` / ``_hmac`` / ``_masked`` columns as the one clear field, the encrypted raw line
    dropped. The DuckDB baseline works in clear (as a plain DuckDB job would): its phone join
    strips the BCD zero padding as our join hash does, so both attach the same vehicles."""
    out: list[str] = []
    for name in columns:
        field = next((s.field for s in PROTECTED if name in s.columns), None)
        if name == "raw_record_sm4":
            continue
        if field is None:
            out.append(name)
        elif field not in out:
            out.append(field)
    return out


def protected_phones(phones: list[str]) -> pa.Table:
    """``terminal_phone`` (clear, as in the landing files) and the columns our landing writes for
    it (``PHONE.columns``): the JVM baseline runs our transforms, which join phones by their hash,
    so it protects the distinct phones of its files once (one ciphertext per phone, not per row
    as ours: the ciphertexts are never compared)."""
    distinct = sorted(set(phones))
    table = pa.table({PHONE.field: pa.array(distinct, pa.string())})
    protected = protect(table, (PHONE,), ProtectionKeys.load())
    return protected.append_column(PHONE.field, table.column(PHONE.field))


def feed_files(landing: Path, feed: str, suffix: str) -> list[Path]:
    """The feed's files of one type, in landing order (date folder, then file name)."""
    base = landing / DOMAIN / feed
    if not base.is_dir():
        return []
    files = []
    for folder in sorted(p for p in base.iterdir() if p.is_dir()):
        try:
            dt.date.fromisoformat(folder.name)
        except ValueError:
            continue  # not a date folder: our landing ignores it too
        files += sorted(
            p
            for p in folder.iterdir()
            if p.is_file() and not p.name.startswith(".") and p.suffix.lower() == suffix
        )
    return files


def source_file(landing: Path, path: Path) -> str:
    """``_source_file`` as our landing writes it: the path relative to the lake
    (``landing/telematics/positions/2026-10-01/35090001-001.jsonl``)."""
    return f"landing/{path.relative_to(landing).as_posix()}"


def _text(value: object) -> str | None:
    """A decoded value as the text bronze keeps (as ``transforms.lake.landing.as_text`` writes
    the str / int / float / None values the codec returns)."""
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, float):
        return repr(value)
    return str(value)


def decode_frames(data: bytes) -> dict[str, list]:
    """One ``.hex`` file's bytes → columns of :data:`FRAME_SCHEMA` (one row per non-blank line)."""
    columns: dict[str, list] = {name: [] for name in FRAME_SCHEMA.names}
    fields = [(name, columns[name]) for name in FRAME_ATTRIBUTES]
    received, source = columns["received_at"], columns["source"]
    lines, errors, raws = columns["_line"], columns["_error"], columns["_raw"]
    for number, raw in enumerate(data.split(b"\n"), start=1):
        text = raw.decode("ascii", "replace").strip()
        if not text:
            continue
        lines.append(number)
        try:
            received_at, frame = decode_line(text)
        except FrameError as exc:
            for _, values in fields:
                values.append(None)
            received.append(None)
            source.append(None)
            errors.append(f"{exc.reason}: {exc}")
            raws.append(text)
            continue
        for name, values in fields:
            values.append(_text(getattr(frame, name)))
        received.append(received_at)
        source.append(frame.protocol)
        errors.append(None)
        raws.append(None)
    return columns


def _decode_file(path: str) -> pa.Table:
    return pa.Table.from_pydict(decode_frames(Path(path).read_bytes()), schema=FRAME_SCHEMA)


def decode_frame_files(landing: Path, files: list[Path], workers: int) -> pa.Table:
    """Every frame file decoded (with ``_source_file``), in a pool of ``workers`` spawned
    processes when there is enough to decode, else in this process."""
    schema = FRAME_SCHEMA.append(pa.field("_source_file", pa.string()))
    total = sum(p.stat().st_size for p in files)
    if workers > 1 and len(files) > 1 and total >= POOL_MIN_BYTES:
        with ProcessPoolExecutor(workers, mp_context=mp.get_context("spawn")) as pool:
            tables = list(pool.map(_decode_file, [str(p) for p in files]))
    else:
        tables = [_decode_file(str(p)) for p in files]
    out = [
        t.append_column(
            "_source_file", pa.array([source_file(landing, p)] * t.num_rows, pa.string())
        )
        for p, t in zip(files, tables, strict=True)
    ]
    return pa.concat_tables(out) if out else schema.empty_table()

"""Publish the freight feeds: sender keys to silver; pending envelope files opened (signature →
key unwrap → SM4 → JSON → field rules, freight.md's order), each envelope a row of
silver.freight__envelopes with its result code and reason, the documents of those that opened into
the silver document tables; national positions typed and deduplicated.

Write–audit–publish: the batch is the envelopes of the files landed but not yet published. Every
document that decrypted and parsed is checked against the field rules of its kind
(:mod:`transforms.freight.documents`); the GX suite of each kind runs on those checks before
anything is written, and a batch the suite rejects (most documents of a kind failing a rule: a
platform's software changed, not a few bad documents) is held back, its files pending.

Result codes 3001 / 1001 need every envelope received so far: the first envelope received of a
messageReferenceNumber among those that passed every check is accepted (1001), a later one 3001.
silver.freight__envelopes is rebuilt with that rule on each publish (a file received earlier but
landed late is ordered by its reception, so the answer does not depend on landing order). The
documents of every envelope that passed the checks are kept; readers take those of accepted
envelopes (:func:`transforms.freight.silver.accepted`).

Re-running is idempotent: only pending files are read, their document rows are replaced (never
appended twice), and a file is marked published last.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
from deltalake import DeltaTable, write_deltalake
from pyspark.sql import SparkSession

from expectations.freight import document_suite
from expectations.suites import ValidationReport, batch_label, validate_dataframe
from transforms.crypto import keys as key_files
from transforms.crypto import sm2, sm3
from transforms.freight import documents as docs
from transforms.freight import envelope as env
from transforms.freight.feeds import ENVELOPES, NATIONAL_POSITIONS, SENDERS
from transforms.freight.opening import open_chunk
from transforms.freight.typing import TS, date_or_none, floats, typed, wall_clock
from transforms.lake import registry
from transforms.lake.catalog import register_table
from transforms.lake.clock import now_beijing
from transforms.lake.feeds import Feed
from transforms.lake.landing import quarantine_schema
from transforms.lake.ledger import mark_published, pending_files
from transforms.lake.parallel import iter_chunks
from transforms.lake.protection import KINDS, ProtectionKeys, protect
from transforms.licences.lookups import vehicle_holder_key

ENVELOPE_TABLE = registry.table("silver.freight__envelopes")
SENDER_TABLE = registry.table("silver.freight__senders")
POSITIONS = registry.table("silver.freight__national_positions")
LINEAGE = ("_source_file", "_line", "_file_sm3", "_landed_at", "_folder_date")
LINEAGE_TYPES = (
    ("_source_file", pa.string()),
    ("_line", pa.int64()),
    ("_file_sm3", pa.string()),
    ("_landed_at", TS),
    ("_folder_date", pa.date32()),
)
PUBLIC_KEY = re.compile(r"^04[0-9a-fA-F]{128}$")


@dataclass
class PublishResult:
    """What one publish of the envelope feed did."""

    files: int = 0
    envelopes: int = 0
    by_code: dict[int, int] = field(default_factory=dict)
    documents: dict[str, int] = field(default_factory=dict)
    published: bool = True
    reports: list[ValidationReport] = field(default_factory=list)


def _say(progress: Callable[[str], None] | None) -> Callable[[str], None]:
    return progress or (lambda _m: None)


def _read(lake: Path, name: str, filter_digests: Sequence[str] | None = None) -> pa.Table | None:
    table = registry.table(name)
    if not table.exists(lake):
        return None
    dataset = DeltaTable(str(table.location(lake))).to_pyarrow_dataset()
    if filter_digests is None:
        return dataset.to_table()
    return dataset.to_table(filter=pc.field("_file_sm3").isin(list(filter_digests)))


def _overwrite(lake: Path, name: str, data: pa.Table) -> None:
    write_deltalake(
        str(registry.table(name).location(lake)), data, mode="overwrite", schema_mode="overwrite"
    )


# ---- sender keys ----------------------------------------------------------------------------


SENDER_SCHEMA = pa.schema(
    [
        ("enterprise_sender_code", pa.string()),
        ("name", pa.string()),
        ("uscc", pa.string()),
        ("sm2_public_key", pa.string()),
        ("valid_from", pa.date32()),
        ("valid_to", pa.date32()),
        *LINEAGE_TYPES,
    ]
)


def _sender_failures(row: Mapping[str, Any]) -> list[str]:
    failed = []
    if not row.get("enterpriseSenderCode"):
        failed.append("sender_code_present")
    if not PUBLIC_KEY.match(row.get("sm2_public_key") or ""):
        failed.append("public_key_valid")
    for name in ("valid_from", "valid_to"):
        if row.get(name) and date_or_none(row[name]) is None:
            failed.append(f"{name}_valid")
    start, end = date_or_none(row.get("valid_from")), date_or_none(row.get("valid_to"))
    if start and end and end < start:
        failed.append("dates_ordered")
    return failed


def publish_senders(lake: Path, progress: Callable[[str], None] | None = None) -> int:
    """Rebuild silver.freight__senders from every bronze sender record: one key per (sender,
    valid_from), the record landed last winning; a record breaking a rule (no code, a public key
    that is not ``04``‖x‖y, a date that is not one, valid_to before valid_from) goes to
    quarantine.freight__senders with the rules it breaks. Returns the keys registered."""
    say = _say(progress)
    bronze = _read(lake, SENDERS.bronze_table)
    rows = [] if bronze is None else bronze.to_pylist()
    good, bad = {}, []
    for row in sorted(rows, key=lambda r: (r["_landed_at"], r["_source_file"], r["_line"])):
        failed = _sender_failures(row)
        if failed:
            bad.append((row, failed))
            continue
        key = (row["enterpriseSenderCode"], date_or_none(row.get("valid_from")))
        good[key] = row
    registered = [
        {
            "enterprise_sender_code": r["enterpriseSenderCode"],
            "name": r.get("name"),
            "uscc": r.get("unifiedSocialCreditIdentifier"),
            "sm2_public_key": r["sm2_public_key"].upper(),
            "valid_from": date_or_none(r.get("valid_from")),
            "valid_to": date_or_none(r.get("valid_to")),
            **{c: r[c] for c in LINEAGE},
        }
        for r in good.values()
    ]
    _overwrite(lake, SENDER_TABLE.name, pa.Table.from_pylist(registered, SENDER_SCHEMA))
    _write_rule_failures(lake, SENDERS, bad)
    mark_published(lake, pending_files(lake, SENDERS).column("file_sm3").to_pylist(), now_beijing())
    say(f"{SENDER_TABLE.name}: {len(registered)} key(s), {len(bad)} record(s) quarantined")
    return len(registered)


def _write_rule_failures(
    lake: Path, feed: Feed, bad: list[tuple[dict, list[str]]], digests: list[str] | None = None
) -> None:
    """The feed's rule-failure quarantine rows: those of ``digests``' files replaced (None: every
    file's — the feed is rebuilt whole); landing's malformed lines (``error`` set) stay."""
    table = registry.table(feed.quarantine_table)
    schema = quarantine_schema(feed)
    location = str(table.location(lake))
    if not table.exists(lake):
        write_deltalake(location, schema.empty_table())
    condition = "error IS NULL"
    if digests is not None:
        condition += f" AND _file_sm3 IN ({', '.join(repr(d) for d in digests)})"
    DeltaTable(location).delete(condition)
    if not bad:
        return
    now = now_beijing()
    rows = [
        {
            "failed_rules": failed,
            "raw_record": str({k: row.get(k) for k in feed.fields}),
            "error": None,
            **{c: row[c] for c in LINEAGE[:4]},
            "_quarantined_at": now,
        }
        for row, failed in bad
    ]
    write_deltalake(location, pa.Table.from_pylist(rows, schema), mode="append")


def sender_keys(lake: Path) -> dict[str, list[env.SenderKey]]:
    """The registered keys by enterpriseSenderCode."""
    out: dict[str, list[env.SenderKey]] = {}
    table = _read(lake, SENDER_TABLE.name)
    for r in [] if table is None else table.to_pylist():
        out.setdefault(r["enterprise_sender_code"], []).append(
            env.SenderKey(
                r["enterprise_sender_code"], r["sm2_public_key"], r["valid_from"], r["valid_to"]
            )
        )
    return out


# ---- opening envelopes ----------------------------------------------------------------------


def received_at(row: Mapping[str, Any]) -> dt.datetime:
    """When an envelope arrived: its own ``received_at`` (``YYYY-MM-DD HH:MM:SS`` or n14) when it
    carries one, else 00:00 of its landing-day folder (freight.md "Landing")."""
    text = row.get("received_at")
    if text:
        for form in ("%Y-%m-%d %H:%M:%S", "%Y%m%d%H%M%S"):
            try:
                return dt.datetime.strptime(text.strip(), form)
            except ValueError:
                pass
    day = row["_folder_date"]
    return dt.datetime(day.year, day.month, day.day)


ENVELOPE_COLUMNS = pa.schema(
    [
        ("message_reference_number", pa.string()),
        ("document_name", pa.string()),
        ("document_version_number", pa.string()),
        ("sender_code", pa.string()),
        ("enterprise_sender_code", pa.string()),
        ("ipc_type", pa.string()),
        ("document_kind", pa.string()),
        ("message_sending_time", TS),
        ("received_at", TS),
        ("check_code", pa.int32()),
        ("check_reason", pa.string()),
        ("documents", pa.int32()),
        ("body_sm3", pa.string()),
        ("_source_file", pa.string()),
        ("_line", pa.int64()),
        ("_file_sm3", pa.string()),
        ("_landed_at", TS),
        ("_folder_date", pa.date32()),
    ]
)


def _utc(value: dt.datetime | None) -> dt.datetime | None:
    return None if value is None else value.replace(tzinfo=dt.UTC)


def publish_envelopes(
    spark: SparkSession,
    lake: Path,
    rules: dict[str, Any],
    progress: Callable[[str], None] | None = None,
) -> PublishResult:
    """Open, check and publish the envelopes of every pending file (see the module doc)."""
    say = _say(progress)
    ensure_tables(lake)  # a first run leaves the same tables as any later one
    pending_rows = pending_files(lake, ENVELOPES)
    pending = pending_rows.column("file_sm3").to_pylist()
    result = PublishResult(files=len(pending))
    if not pending:
        say(f"{ENVELOPES.key}: nothing pending")
        return result
    bronze = _read(lake, ENVELOPES.bronze_table, pending)
    rows = [] if bronze is None else bronze.to_pylist()
    signature = rules["signature"]
    # opened chunk by chunk: this loop reads the first envelopes while the workers open the rest
    opened = iter_chunks(
        open_chunk,
        [{k: r.get(k) for k in env.ENVELOPE_FIELDS} for r in rows],
        sender_keys(lake),
        key_files.platform_private_key(),
        rules,
        str(signature["user_id"]).encode(),
        parallel_min=int(signature["parallel_min_envelopes"]),
        workers=int(signature["workers"]),
        threads=sm2.releases_gil(),
    )

    flat = docs.Flattener()
    checks: dict[str, list[dict[str, Any]]] = {k: [] for k in docs.KINDS}
    envelope_rows = []
    for row, (code, reason, documents, body_sm3) in zip(rows, opened, strict=True):
        kind = docs.document_kind(row.get("ipcType"), rules)
        sent = env.sending_time(row.get("messageSendingDateTime"))
        arrived = received_at(row)
        envelope_rows.append(
            {
                "message_reference_number": row.get("messageReferenceNumber"),
                "document_name": row.get("documentName"),
                "document_version_number": row.get("documentVersionNumber"),
                "sender_code": row.get("senderCode"),
                "enterprise_sender_code": row.get("enterpriseSenderCode"),
                "ipc_type": row.get("ipcType"),
                "document_kind": kind,
                "message_sending_time": _utc(sent),
                "received_at": _utc(arrived),
                "check_code": code,
                "check_reason": reason,
                "documents": len(documents) if documents else 0,
                "body_sm3": body_sm3,
                **{c: row[c] for c in LINEAGE},
            }
        )
        if kind is not None and documents and code in (None, env.FIELD_RULES):
            for document in documents:
                # an accepted envelope's documents broke no rule (check_fields saw every one)
                failures = (
                    {} if code is None else dict(docs.document_failures(kind, document, rules))
                )
                checks[kind].append(
                    {docs.rule_name(r): docs.rule_name(r) not in failures
                     for r in docs.FIELD_RULES[kind]}
                )  # fmt: skip
        if code is None and kind is not None:
            context = {
                "_file_sm3": row["_file_sm3"],
                "_line": row["_line"],
                "message_reference_number": row.get("messageReferenceNumber"),
                "enterprise_sender_code": row.get("enterpriseSenderCode"),
                "message_sending_time": row.get("messageSendingDateTime"),
                "received_at": arrived.strftime("%Y%m%d%H%M%S"),
            }
            flat.add(kind, context, documents)

    say(f"{ENVELOPES.key}: opened {len(rows)} envelope(s) from {len(pending)} file(s)")

    # audit: each kind's field-rule checks through its GX suite, before anything is written
    mostly = float(rules["quality"]["min_pass_fraction"])
    label = batch_label(days=pending_rows.column("folder_date").to_pylist(), files=pending)
    for kind, rows_of_kind in checks.items():
        if not rows_of_kind:
            continue
        frame = spark.createDataFrame(pa.Table.from_pylist(rows_of_kind))
        report = validate_dataframe(frame, document_suite(kind, mostly), label)
        result.reports.append(report)
        say(report.summary())
        if not report.success:
            result.published = False
    if not result.published:
        say(f"{ENVELOPES.key}: batch HELD — a GX suite failed; nothing of it published")
        return result

    protection = ProtectionKeys.load()
    now = now_beijing()
    for name, table in flat.tables().items():
        table = with_holder_hashes(name, typed(table), protection)
        sensitive = docs.SENSITIVE.get(name, ())
        if sensitive:
            table = protect(table, sensitive, protection)
        table = table.append_column("_published_at", pa.array([now] * table.num_rows, TS))
        target = registry.table(f"silver.freight__{name}")
        location = str(target.location(lake))
        if target.exists(lake):
            DeltaTable(location).delete(f"_file_sm3 IN ({', '.join(repr(d) for d in pending)})")
            write_deltalake(location, table, mode="append")
        else:
            write_deltalake(location, table)
        result.documents[name] = table.num_rows
    _publish_envelope_rows(lake, pa.Table.from_pylist(envelope_rows, ENVELOPE_COLUMNS), pending)
    mark_published(lake, pending, now)
    register_tables(spark, lake)

    codes = _read(lake, ENVELOPE_TABLE.name, pending).column("result_code").to_pylist()
    result.envelopes = len(codes)
    for c in codes:
        result.by_code[c] = result.by_code.get(c, 0) + 1
    say(
        f"{ENVELOPES.key}: {result.envelopes} envelope(s) → result codes "
        f"{dict(sorted(result.by_code.items()))}; documents {result.documents}"
    )
    return result


def with_holder_hashes(name: str, table: pa.Table, protection: ProtectionKeys) -> pa.Table:
    """The licence join keys a table's clear holders need (lookups.JOIN_COLUMN form): a waybill's
    operator (``uscc_hmac``), a vehicle's ``<plate>-<colour>`` (``vehicle_holder_hmac``); a
    person's comes with the protection of their ID number (``driving_license_hmac``)."""
    if name == "waybills":
        keys = table.column("uscc").to_pylist()
        return table.append_column("uscc_hmac", _hashes(keys, protection))
    if name in ("waybill_vehicles", "vehicles"):
        keys = [
            vehicle_key(plate, colour)
            for plate, colour in zip(
                table.column("vehicle_number").to_pylist(),
                table.column("plate_color").to_pylist(),
                strict=True,
            )
        ]
        return table.append_column("vehicle_holder_hmac", _hashes(keys, protection))
    return table


def vehicle_key(plate: str | None, colour: str | None) -> str | None:
    """``<plate>-<colour code>`` (a 道路运输证's holder key), None when either is unusable."""
    if not plate or colour is None:
        return None
    try:
        return vehicle_holder_key(plate, int(colour))
    except ValueError:
        return None


def _hashes(keys: list[str | None], protection: ProtectionKeys) -> pa.Array:
    distinct = sorted({k for k in keys if k is not None})
    normalise = KINDS["id_number"][0]  # as landing hashes a licence's holder key
    values = sm3.hmac_sm3_column([normalise(k) for k in distinct], protection.join)
    hashed = dict(zip(distinct, values, strict=True))
    return pa.array([hashed.get(k) if k is not None else None for k in keys], pa.string())


def _publish_envelope_rows(lake: Path, batch: pa.Table, digests: list[str]) -> None:
    """silver.freight__envelopes = every envelope so far (this batch's files replaced) with the
    final result code: the check's, else 1001 for the first received of its reference and 3001
    for the later ones."""
    old = _read(lake, ENVELOPE_TABLE.name)
    if old is not None:
        old = old.filter(~pc.field("_file_sm3").isin(digests)).select(ENVELOPE_COLUMNS.names)
        batch = pa.concat_tables([old.cast(ENVELOPE_COLUMNS), batch])
    frame = batch.to_pandas()
    passed = frame["check_code"].isna()
    order = ["received_at", "_landed_at", "_source_file", "_line"]
    ranked = frame[passed].sort_values(order, kind="stable")
    first = ranked.groupby("message_reference_number", dropna=False).cumcount() == 0
    first_of = ranked[first].set_index("message_reference_number")
    codes = frame["check_code"].astype("Int64").copy()
    reasons = frame["check_reason"].copy()
    codes.loc[ranked.index[first.to_numpy()]] = env.OK
    for index in ranked.index[~first.to_numpy()]:
        accepted = first_of.loc[frame.at[index, "message_reference_number"]]
        codes.at[index] = env.DUPLICATE
        reasons.at[index] = (
            f"messageReferenceNumber already accepted from {accepted['_source_file']} "
            f"line {accepted['_line']}"
        )
    out = batch.append_column("result_code", pa.array(codes.astype("float").tolist(), pa.float64()))
    out = out.set_column(
        out.column_names.index("result_code"),
        "result_code",
        pc.cast(out.column("result_code"), pa.int32()),
    )
    out = out.append_column("reason", pa.array(reasons.tolist(), pa.string()))
    _overwrite(lake, ENVELOPE_TABLE.name, out)


# ---- national positions ---------------------------------------------------------------------


def publish_positions(
    spark: SparkSession, lake: Path, progress: Callable[[str], None] | None = None
) -> int:
    """Type the pending national-position files into silver (one row per plate, colour and
    gnss_time: a point re-sent counts once, the first landed kept); a line whose time, plate or
    coordinates do not read goes to quarantine with the rules it breaks. Returns rows added."""
    say = _say(progress)
    pending = pending_files(lake, NATIONAL_POSITIONS).column("file_sm3").to_pylist()
    if not pending:
        say(f"{NATIONAL_POSITIONS.key}: nothing pending")
        ensure_tables(lake)
        return 0
    raw = _read(lake, NATIONAL_POSITIONS.bronze_table, pending)
    gnss = wall_clock(raw.column("gnss_time"))
    lon = _num(raw, "lon")
    lat = _num(raw, "lat")
    speed = _num(raw, "speed")
    checks = {
        "plate_present": pc.is_valid(raw.column("plate")),
        "plate_color_valid": pc.match_substring_regex(raw.column("plate_color"), r"^\d{1,2}$"),
        "gnss_time_valid": pc.is_valid(gnss),
        "lon_valid": pc.and_(pc.greater_equal(lon, 73.0), pc.less_equal(lon, 136.0)),
        "lat_valid": pc.and_(pc.greater_equal(lat, 3.0), pc.less_equal(lat, 54.0)),
    }
    ok = None
    for check in checks.values():
        check = pc.fill_null(check, False)
        ok = check if ok is None else pc.and_(ok, check)
    typed_rows = pa.table(
        {
            "plate": raw.column("plate"),
            "plate_color": raw.column("plate_color"),
            "gnss_time": gnss,
            "gnss_date": pc.cast(gnss, pa.date32()),
            "lon": lon,
            "lat": lat,
            "speed": speed,
            **{c: raw.column(c) for c in LINEAGE[:4]},
        }
    )
    good = typed_rows.filter(ok).sort_by(
        [("_landed_at", "ascending"), ("_source_file", "ascending"), ("_line", "ascending")]
    )
    good = _first_per_key(good, ("plate", "plate_color", "gnss_time"))
    location = str(POSITIONS.location(lake))
    if POSITIONS.exists(lake):
        days = pc.unique(good.column("gnss_date")).to_pylist()
        known = DeltaTable(location).to_pyarrow_dataset()
        have = known.to_table(
            columns=["plate", "plate_color", "gnss_time"],
            filter=pc.field("gnss_date").isin(days) & ~pc.field("_file_sm3").isin(pending),
        )
        if have.num_rows:
            good = good.join(
                have.append_column("_seen", pa.array([True] * have.num_rows)),
                ["plate", "plate_color", "gnss_time"],
                join_type="left outer",
            )
            good = good.filter(pc.is_null(good.column("_seen"))).drop(["_seen"])
        DeltaTable(location).delete(f"_file_sm3 IN ({', '.join(repr(d) for d in pending)})")
        write_deltalake(location, good, mode="append", partition_by=["gnss_date"])
    else:
        write_deltalake(location, good, partition_by=["gnss_date"])
    failing = raw.filter(pc.invert(ok))
    passed = {
        n: pc.fill_null(c, False).filter(pc.invert(ok)).to_pylist() for n, c in checks.items()
    }
    bad = [
        (row, [n for n in checks if not passed[n][i]]) for i, row in enumerate(failing.to_pylist())
    ]
    _write_rule_failures(lake, NATIONAL_POSITIONS, bad, pending)
    mark_published(lake, pending, now_beijing())
    register_tables(spark, lake)
    say(f"{POSITIONS.name}: +{good.num_rows} point(s), {len(bad)} quarantined")
    return good.num_rows


def _num(table: pa.Table, name: str) -> pa.Array:
    return floats(table.column(name).to_pylist())


def _first_per_key(table: pa.Table, key: tuple[str, ...]) -> pa.Table:
    """The first row of each key (``table`` in the wanted order)."""
    numbered = table.append_column("_row", pa.array(range(table.num_rows), pa.int64()))
    firsts = numbered.group_by(list(key), use_threads=False).aggregate([("_row", "min")])
    keep = pc.is_in(numbered.column("_row"), firsts.column("_row_min"))
    return numbered.filter(keep).drop(["_row"])


# ---- tables ---------------------------------------------------------------------------------


def ensure_tables(lake: Path) -> None:
    """Every silver table of the domain exists (empty when nothing arrived yet), so readers —
    anomalies, reports, dbt — see their schemas."""
    if not SENDER_TABLE.exists(lake):
        write_deltalake(str(SENDER_TABLE.location(lake)), SENDER_SCHEMA.empty_table())
    if not ENVELOPE_TABLE.exists(lake):
        empty = ENVELOPE_COLUMNS.empty_table()
        empty = empty.append_column("result_code", pa.array([], pa.int32()))
        empty = empty.append_column("reason", pa.array([], pa.string()))
        write_deltalake(str(ENVELOPE_TABLE.location(lake)), empty)
    protection = None
    for name, table in docs.Flattener().tables().items():
        target = registry.table(f"silver.freight__{name}")
        if target.exists(lake):
            continue
        protection = protection or ProtectionKeys.load()
        table = with_holder_hashes(name, typed(table), protection)
        sensitive = docs.SENSITIVE.get(name, ())
        if sensitive:
            table = protect(table, sensitive, protection)
        table = table.append_column("_published_at", pa.array([], TS))
        write_deltalake(str(target.location(lake)), table)
    if not POSITIONS.exists(lake):
        schema = pa.schema(
            [
                ("plate", pa.string()),
                ("plate_color", pa.string()),
                ("gnss_time", TS),
                ("gnss_date", pa.date32()),
                ("lon", pa.float64()),
                ("lat", pa.float64()),
                ("speed", pa.float64()),
                *LINEAGE_TYPES[:4],
            ]
        )
        write_deltalake(
            str(POSITIONS.location(lake)), schema.empty_table(), partition_by=["gnss_date"]
        )
    for feed in (SENDERS, ENVELOPES, NATIONAL_POSITIONS):
        table = registry.table(feed.quarantine_table)
        if not table.exists(lake):
            write_deltalake(str(table.location(lake)), quarantine_schema(feed).empty_table())


def register_tables(spark: SparkSession, lake: Path) -> None:
    """Every existing freight table in the session's catalog."""
    from transforms.freight.tables import TABLES

    for table in TABLES:
        if table.exists(lake):
            register_table(spark, table.name, table.location(lake))

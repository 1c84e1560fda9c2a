"""上传部级系统: accepted documents re-packaged for the ministry system (freight.md "Alarms,
appeals, follow-up": "accepted records are re-packaged in the same envelope format, signed with
the province's key").

Each accepted envelope (1001) not uploaded yet is opened again from bronze (the body is kept only
encrypted) and packed anew: the same documents, interface code and enterpriseSenderCode, a new
SM4 key encrypted for the ministry's public key (``$LAKEHOUSE_KEYS/freight_ministry_sm2.pub``),
signed with the province platform's private key, ``senderCode`` the province (rules
``upload.sender_code``), and a reference derived from the original one (UUID5, so the ministry can
trace it and a re-pack gets the same reference). Envelopes are written to the outbox folder of the
day they were received (``<lake>/<upload.outbox>/<YYYY-MM-DD>/upload-<run>.jsonl``, one per line),
beside a ``manifest.json`` of every file of that day (SM3, envelopes, references). Every packed
envelope is a row of ops.freight__uploads; re-running packs only what is new.
"""

from __future__ import annotations

import datetime as dt
import json
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
from deltalake import DeltaTable, write_deltalake

from transforms.crypto import keys as key_files
from transforms.crypto import sm3
from transforms.freight import envelope as env
from transforms.freight.feeds import ENVELOPES
from transforms.freight.jobs.publish import sender_keys
from transforms.lake import registry
from transforms.lake.clock import now_beijing

UPLOADS = registry.table("ops.freight__uploads")
SILVER = registry.table("silver.freight__envelopes")
BRONZE = registry.table(ENVELOPES.bronze_table)
TS = pa.timestamp("us", tz="UTC")
SCHEMA = pa.schema(
    [
        ("message_reference_number", pa.string()),  # the operator's envelope
        ("upload_reference", pa.string()),  # the envelope sent to the ministry
        ("enterprise_sender_code", pa.string()),
        ("ipc_type", pa.string()),
        ("documents", pa.int32()),
        ("day", pa.date32()),
        ("outbox_file", pa.string()),
        ("packed_at", TS),
        ("_file_sm3", pa.string()),
        ("_line", pa.int64()),
    ]
)
NAMESPACE = uuid.UUID("6f1c5a52-2b1e-4c3c-9f7e-5a0f2c7d9e11")  # this project's UUID5 namespace


@dataclass
class UploadResult:
    envelopes: int = 0
    days: list[str] = field(default_factory=list)
    files: list[str] = field(default_factory=list)


def upload_reference(reference: str) -> str:
    """The reference of the re-packed envelope: UUID5 of the original one."""
    return str(uuid.uuid5(NAMESPACE, reference)).upper()


def _uploaded(lake: Path) -> set[tuple[str, int]]:
    if not UPLOADS.exists(lake):
        return set()
    done = DeltaTable(str(UPLOADS.location(lake))).to_pyarrow_table(columns=["_file_sm3", "_line"])
    return set(
        zip(done.column("_file_sm3").to_pylist(), done.column("_line").to_pylist(), strict=True)
    )


def upload(
    lake: Path,
    rules: Mapping[str, Any],
    progress: Callable[[str], None] | None = None,
    now: dt.datetime | None = None,
) -> UploadResult:
    """Pack every accepted envelope not uploaded yet into the outbox (see the module doc)."""
    say = progress or (lambda _m: None)
    result = UploadResult()
    if not SILVER.exists(lake):
        say("freight upload: no envelopes yet")
        return result
    ministry = key_files.ministry_public_key()  # fail before anything is opened
    platform_private = key_files.platform_private_key()
    accepted = (
        DeltaTable(str(SILVER.location(lake)))
        .to_pyarrow_dataset()
        .to_table(filter=pc.field("result_code") == env.OK)
        .to_pylist()
    )
    done = _uploaded(lake)
    todo = [r for r in accepted if (r["_file_sm3"], r["_line"]) not in done]
    if not todo:
        say("freight upload: nothing new to upload")
        return result
    digests = sorted({r["_file_sm3"] for r in todo})
    raw = (
        DeltaTable(str(BRONZE.location(lake)))
        .to_pyarrow_dataset()
        .to_table(filter=pc.field("_file_sm3").isin(digests))
        .to_pylist()
    )
    by_line = {(r["_file_sm3"], r["_line"]): r for r in raw}
    packed_at = now or now_beijing().replace(tzinfo=None)
    user_id = str(rules["signature"]["user_id"]).encode()
    senders = sender_keys(lake)
    outbox = lake / str(rules["upload"]["outbox"])
    by_day: dict[dt.date, list[tuple[dict, dict]]] = {}
    for row in sorted(todo, key=lambda r: (r["received_at"], r["_source_file"], r["_line"])):
        original = by_line[(row["_file_sm3"], row["_line"])]
        fields = {k: original.get(k) for k in env.ENVELOPE_FIELDS}
        opened = env.open_envelope(
            fields, senders, platform_private, lambda _i, _d: None, user_id=user_id
        )
        if opened.code is not None:  # accepted before: it opened then, so it must open now
            raise RuntimeError(
                f"envelope {row['message_reference_number']} ({row['_source_file']} line "
                f"{row['_line']}) was accepted but no longer opens: {opened.reason}"
            )
        body = opened.documents if len(opened.documents) > 1 else opened.documents[0]
        packed = env.pack_envelope(
            body,
            ipc_type=fields["ipcType"],
            enterprise_sender_code=fields["enterpriseSenderCode"],
            sender_private_key=platform_private,
            platform_public_key=ministry,
            sent_at=packed_at,
            sender_code=str(rules["upload"]["sender_code"]),
            document_name=fields.get("documentName"),
            reference=upload_reference(fields["messageReferenceNumber"]),
            user_id=user_id,
        )
        day = row["received_at"].date()
        by_day.setdefault(day, []).append((row, packed))
    rows = []
    stamp = packed_at.strftime("%Y%m%d%H%M%S")
    for day, items in sorted(by_day.items()):
        folder = outbox / day.isoformat()
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"upload-{stamp}.jsonl"
        path.write_text(
            "".join(json.dumps(p, ensure_ascii=False) + "\n" for _, p in items), encoding="utf-8"
        )
        relative = str(path.relative_to(lake))
        for row, packed in items:
            rows.append(
                {
                    "message_reference_number": row["message_reference_number"],
                    "upload_reference": packed["messageReferenceNumber"],
                    "enterprise_sender_code": row["enterprise_sender_code"],
                    "ipc_type": row["ipc_type"],
                    "documents": row["documents"],
                    "day": day,
                    "outbox_file": relative,
                    "packed_at": packed_at.replace(tzinfo=dt.UTC),
                    "_file_sm3": row["_file_sm3"],
                    "_line": row["_line"],
                }
            )
        _write_manifest(folder)
        result.days.append(day.isoformat())
        result.files.append(relative)
        result.envelopes += len(items)
    write_deltalake(
        str(UPLOADS.location(lake)),
        pa.Table.from_pylist(rows, SCHEMA),
        mode="append" if UPLOADS.exists(lake) else "error",
    )
    say(
        f"freight upload: {result.envelopes} envelope(s) packed for the ministry into "
        f"{len(result.files)} file(s) ({', '.join(result.days)})"
    )
    return result


def _write_manifest(folder: Path) -> None:
    """``manifest.json``: every upload file of the day folder with its SM3 and references."""
    files = []
    for path in sorted(folder.glob("upload-*.jsonl")):
        lines = [json.loads(x) for x in path.read_text(encoding="utf-8").splitlines() if x]
        files.append(
            {
                "file": path.name,
                "sm3": sm3.sm3_file(path),
                "envelopes": len(lines),
                "references": [x["messageReferenceNumber"] for x in lines],
            }
        )
    manifest = {"day": folder.name, "files": files, "envelopes": sum(f["envelopes"] for f in files)}
    (folder / "manifest.json").write_text(
        json.dumps(manifest, ensure_ascii=False, indent=2) + "\n", encoding="utf-8"
    )

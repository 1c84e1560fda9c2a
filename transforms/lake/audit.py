"""``ops.audit_log``: who did what to the lake, when, from where, and how it ended (access.md "Audit";
等保三级 安全审计). Every `lakehouse` command that names an existing lake and every pipeline run
appends one row; nothing updates or deletes one.

Append-only twice over: the table is created with the Delta property ``delta.appendOnly=true``
(a DELETE, UPDATE or MERGE on it fails in every engine that honours the protocol: Spark, Sail,
delta-rs), and no job of the lakehouse — retention included — writes it other than by appending.

Rows are appended with delta-rs (no engine): an audit row must land even when the engine cannot
start. Appends never conflict with each other, so concurrent commands each keep theirs.

Superset (its own environment, no Delta writer) appends its events — logins, SQL Lab queries,
refused queries — as JSON lines to ``<lake>/ops/audit_inbox/`` (infra/superset/superset_config.py);
:func:`collect_inbox` moves them into the table, exactly once, whenever a `lakehouse` command or a
pipeline run ends.
"""

from __future__ import annotations

import datetime as dt
import getpass
import json
import os
import socket
import uuid
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pyarrow as pa
from deltalake import write_deltalake

from transforms.lake import registry

AUDIT_LOG = next(t for t in registry.SHARED_TABLES if t.name == "ops.audit_log")
SCHEMA = pa.schema([
    ("event_id", pa.string()),
    ("at", pa.timestamp("us", tz="UTC")),
    ("channel", pa.string()),   # cli | pipeline | superset
    ("actor", pa.string()),     # OS user (CLI, pipeline) or Superset user name
    ("action", pa.string()),    # e.g. "lakehouse run", "pipeline telematics_daily", "login"
    ("target", pa.string()),    # the arguments / the run's partition / the SQL (values masked)
    ("origin", pa.string()),    # host name (CLI, pipeline) or client address (Superset)
    ("outcome", pa.string()),   # ok | error | denied …
    ("detail", pa.string()),    # JSON: exit code, error's first line, run id …
])  # fmt: skip
# option values the log never keeps (a password, a key, a personal value given on the command line)
SECRET_OPTIONS = ("--password", "--key", "--secret", "--token", "--phone", "--id-number", "--name")


def actor() -> str:
    """The operating-system user running this process (``LAKEHOUSE_ACTOR`` overrides it, e.g. for
    a service account acting for a person)."""
    explicit = os.environ.get("LAKEHOUSE_ACTOR")
    if explicit:
        return explicit
    try:
        return getpass.getuser()
    except Exception:  # no user name for this uid (a container): its number
        return f"uid:{os.getuid()}"


def masked_arguments(args: Sequence[str]) -> str:
    """The command line as typed, the value of every secret option replaced by ``***``."""
    out: list[str] = []
    hide_next = False
    for arg in args:
        if hide_next:
            out.append("***")
            hide_next = False
            continue
        name, eq, _value = arg.partition("=")
        if name in SECRET_OPTIONS:
            if eq:
                out.append(f"{name}=***")
            else:
                out.append(arg)
                hide_next = True
            continue
        out.append(arg)
    return " ".join(out)


def record(
    lake: Path,
    *,
    channel: str,
    action: str,
    target: str = "",
    outcome: str = "ok",
    detail: dict[str, Any] | None = None,
    who: str | None = None,
    origin: str | None = None,
    at: dt.datetime | None = None,
) -> str:
    """Append one audit row to ``lake``'s ``ops.audit_log`` (created append-only on first use);
    return its event id."""
    event_id = uuid.uuid4().hex
    row = {
        "event_id": event_id,
        "at": at or dt.datetime.now(dt.UTC),
        "channel": channel,
        "actor": who or actor(),
        "action": action,
        "target": target,
        "origin": origin or socket.gethostname(),
        "outcome": outcome,
        "detail": json.dumps(detail or {}, ensure_ascii=False, sort_keys=True),
    }
    location = AUDIT_LOG.location(Path(lake))
    write_deltalake(
        str(location), pa.Table.from_pylist([row], schema=SCHEMA), mode="append",
        configuration={"delta.appendOnly": "true"},
    )  # fmt: skip
    return event_id


INBOX = Path("ops") / "audit_inbox"


def collect_inbox(lake: Path) -> int:
    """Move the events waiting in ``<lake>/ops/audit_inbox/*.jsonl`` into ops.audit_log; return
    how many rows were appended. Each file is first renamed (a writer then starts a new one), its
    events already in the table (a collection interrupted after its append) are skipped, and it is
    deleted once its events are in. A line that is not an event is kept in ``rejected/``."""
    inbox = Path(lake) / INBOX
    files = sorted(inbox.glob("*.jsonl")) if inbox.is_dir() else []
    claimed = sorted(inbox.glob("*.collecting"))
    for path in files:
        target = path.with_suffix(".collecting")
        try:
            path.rename(target)
        except FileNotFoundError:  # another collector took it
            continue
        claimed.append(target)
    if not claimed:
        return 0
    events, bad = [], []
    for path in claimed:
        for line in path.read_text(encoding="utf-8").splitlines():
            if not line.strip():
                continue
            try:
                event = json.loads(line)
                if not isinstance(event, dict) or not event.get("event_id"):
                    raise ValueError("not an event")
                event["at"] = dt.datetime.fromisoformat(event["at"])
                events.append({name: event.get(name) for name in SCHEMA.names})
            except (ValueError, KeyError, TypeError):
                bad.append(line)
    location = AUDIT_LOG.location(Path(lake))
    if events and (location / "_delta_log").is_dir():
        from deltalake import DeltaTable

        present = set(
            DeltaTable(str(location)).to_pyarrow_table(columns=["event_id"])
            .column("event_id").to_pylist()
        )  # fmt: skip
        events = [e for e in events if e["event_id"] not in present]
    if events:
        write_deltalake(
            str(location), pa.Table.from_pylist(events, schema=SCHEMA), mode="append",
            configuration={"delta.appendOnly": "true"},
        )  # fmt: skip
    if bad:
        rejected = inbox / "rejected"
        rejected.mkdir(exist_ok=True)
        with (rejected / f"{uuid.uuid4().hex}.jsonl").open("w", encoding="utf-8") as fh:
            fh.write("\n".join(bad) + "\n")
    for path in claimed:
        path.unlink(missing_ok=True)
    return len(events)

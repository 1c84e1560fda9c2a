"""``ops.audit_log``: who did what to the lake, when, from where, and how it ended (access.md "Audit";
等保三级 安全审计). Every `lakehouse` command that names an existing lake and every pipeline run
appends one row; nothing updates or deletes one.

Append-only twice over: the table is created with the Delta property ``delta.appendOnly=true``
(a DELETE, UPDATE or MERGE on it fails in every engine that honours the protocol: Spark, Sail,
delta-rs), and no job of the lakehouse — retention included — writes it other than by appending.

Rows are appended with delta-rs (no engine): an audit row must land even when the engine cannot
start. Appends never conflict with each other, so concurrent commands each keep theirs.
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

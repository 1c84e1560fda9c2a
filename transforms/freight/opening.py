"""Opening envelopes in bulk: the worker side of publishing (worker processes import only this,
the envelope and the field rules — not the engine, GX or Delta: a spawned worker starts in half a
second instead of several)."""

from __future__ import annotations

from typing import Any

from transforms.freight import documents as docs
from transforms.freight import envelope as env


def open_chunk(
    envelopes: list[dict[str, Any]],
    keys: dict[str, list[env.SenderKey]],
    platform_key: str,
    rules: dict[str, Any],
    user_id: bytes,
) -> list[tuple[int | None, str | None, list[dict], str | None]]:
    """(check code, reason, documents, body SM3) of each envelope, in order."""
    out = []
    for e in envelopes:
        opened = env.open_envelope(
            e,
            keys,
            platform_key,
            lambda ipc, documents: docs.check_fields(ipc, documents, rules),
            user_id=user_id,
        )
        out.append((opened.code, opened.reason, opened.documents, opened.body_sm3))
    return out

"""Qualification lookups other domains call: "is licence X of holder H valid at time T".

One join column for every holder: ``holder_key_hmac``, the HMAC-SM3 (join key) of the holder key
normalised as an ID number (trimmed, upper case) — a person's ID number, an organisation's USCC, a
vehicle's ``<plate>-<colour code>`` (``闽J12345-2``) alike. Landing computes it for every licence
(protection.py), another domain's protected feed carries it for its persons (``<field>_hmac`` of an
``id_number`` field), and :func:`holder_hmac` / :func:`with_holder_hmac` give it for keys held in
clear (USCCs, plates). Nobody needs a clear ID number to ask.

- :func:`licence_valid_at` — the answer for one licence number (核验, licences.md "Verification
  CLI"): the verified version with the highest version number whose issued_at ≤ at; ``valid`` when
  its status is valid and valid_from ≤ date(at) ≤ valid_to, else ``invalid`` with the first reason
  of: holder_mismatch, the status (suspended, revoked, cancelled, expired), not_yet_valid, expired;
  no such version: ``unknown`` / ``not_found``.
- :func:`qualified_at` — the same rule as a DataFrame join at scale: per event, whether its holder
  had a licence of the asked kinds (rules ``kinds``: 经营许可证, 道路运输证, 网约车运输证,
  从业资格证, 网约车驾驶员证 …) valid at the event's time, with the licence and the reason.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import pyarrow as pa
from pyspark.sql import Column, DataFrame, Window
from pyspark.sql import functions as F
from pyspark.sql import types as T

from transforms.crypto import sm3
from transforms.lake.protection import KINDS

VALID, INVALID, UNKNOWN = "valid", "invalid", "unknown"
NOT_FOUND = "not_found"
HOLDER_MISMATCH = "holder_mismatch"
NOT_YET_VALID = "not_yet_valid"
EXPIRED = "expired"
# the keys of a 核验 answer, in the order licences.md gives them
RESULT_KEYS = (
    "licence_no", "result", "reason", "licence_type", "holder_key", "status", "valid_from",
    "valid_to", "version",
)  # fmt: skip
JOIN_COLUMN = "holder_key_hmac"
_normalise = KINDS["id_number"][0]
FAR_FUTURE = dt.datetime(9999, 12, 31, 23, 59, 59)


def vehicle_holder_key(plate: str, plate_color: int | str) -> str:
    """The holder key of a vehicle's 道路运输证: ``<plate>-<JT/T 697.7 colour code>``."""
    return f"{plate.strip()}-{int(plate_color)}"


def holder_hmac(holder_key: str | None, join_key: bytes) -> str | None:
    """The join hash of a holder key given in clear (as landing computes ``holder_key_hmac``)."""
    if holder_key is None:
        return None
    return sm3.hmac_sm3_column([_normalise(holder_key)], join_key)[0]


def parse_at(text: str | None, date_only_time: str = "00:00:00") -> dt.datetime | None:
    """``YYYY-MM-DD HH:MM:SS`` or ``YYYY-MM-DD`` (at ``date_only_time`` of that day); None stays
    None. A ValueError names the accepted forms."""
    if text is None:
        return None
    value = text.strip()
    try:
        if len(value) == 10:
            return dt.datetime.fromisoformat(f"{value} {date_only_time}")
        if len(value) == 19 and value[10] == " ":
            return dt.datetime.fromisoformat(value)
    except ValueError:
        pass
    raise ValueError(f"{text!r} is not a time: use YYYY-MM-DD or 'YYYY-MM-DD HH:MM:SS'")


def _naive(value: Any) -> Any:
    """GMT+8 wall-clock values are stored in UTC-labelled columns: drop the label."""
    if isinstance(value, dt.datetime) and value.tzinfo is not None:
        return value.replace(tzinfo=None)
    return value


def _as_date(value: Any) -> dt.date | None:
    if isinstance(value, dt.datetime):
        return value.date()
    return value


def reason_of(
    version: Mapping[str, Any],
    at: dt.datetime,
    holder_hmac_value: str | None = None,
    status_reasons: Sequence[str] = ("suspended", "revoked", "cancelled", "expired"),
) -> str | None:
    """Why ``version`` does not make its licence valid at ``at`` (None: it does), in the order
    of licences.md: holder_mismatch, the status, not_yet_valid, expired."""
    if holder_hmac_value is not None and version.get(JOIN_COLUMN) != holder_hmac_value:
        return HOLDER_MISMATCH
    status = version.get("status")
    if status != VALID:
        return status if status in status_reasons else (status or "unknown_status")
    day = at.date()
    valid_from, valid_to = _as_date(version.get("valid_from")), _as_date(version.get("valid_to"))
    if valid_from is None or day < valid_from:
        return NOT_YET_VALID
    if valid_to is None or day > valid_to:
        return EXPIRED
    return None


def licence_valid_at(
    versions: Iterable[Mapping[str, Any]],
    licence_no: str,
    at: dt.datetime,
    holder_hmac_value: str | None = None,
    status_reasons: Sequence[str] = ("suspended", "revoked", "cancelled", "expired"),
) -> dict[str, Any]:
    """The 核验 answer for ``licence_no`` at ``at`` from its verified versions (rows of
    silver.licences__licences; other licences' rows are ignored), keys :data:`RESULT_KEYS`; the
    holder key is shown masked (``holder_key_masked``: a person's ID 6 + 8 ``*`` + 4; a USCC or
    a plate as it is — neither is personal)."""
    candidates = [
        v
        for v in versions
        if v.get("licence_no") == licence_no
        and v.get("issued_at") is not None
        and _naive(v["issued_at"]) <= at
    ]
    if not candidates:
        answer = dict.fromkeys(RESULT_KEYS)
        answer.update(licence_no=licence_no, result=UNKNOWN, reason=NOT_FOUND)
        return answer
    chosen = max(
        candidates,
        key=lambda v: (v["version"], _naive(v["issued_at"]), _naive(v.get("received_at"))),
    )
    reason = reason_of(chosen, at, holder_hmac_value, status_reasons)
    return {
        "licence_no": licence_no,
        "result": VALID if reason is None else INVALID,
        "reason": reason,
        "licence_type": chosen.get("licence_type"),
        "holder_key": chosen.get("holder_key_masked"),
        "status": chosen.get("status"),
        "valid_from": _iso(chosen.get("valid_from")),
        "valid_to": _iso(chosen.get("valid_to")),
        "version": chosen.get("version"),
    }


def _iso(value: Any) -> str | None:
    return None if value is None else _as_date(value).isoformat()


# ---- at scale: a DataFrame join ------------------------------------------------------------


def kind_condition(kinds: Sequence[str], rules: dict[str, Any]) -> Column:
    """Licences of any of ``kinds`` (rules ``kinds``: a type and the scope items, one of which
    the licence's ``scope`` must list)."""
    known = rules["kinds"]
    unknown = [k for k in kinds if k not in known]
    if unknown or not kinds:
        raise KeyError(f"unknown licence kinds {unknown or kinds}; known: {', '.join(known)}")
    items = F.split(F.coalesce(F.col("scope"), F.lit("")), rules["scope_separator"])
    conditions = []
    for name in kinds:
        kind = known[name]
        condition = F.col("licence_type") == F.lit(kind["licence_type"])
        if kind.get("scopes"):
            condition = condition & F.arrays_overlap(
                items, F.array(*[F.lit(s) for s in kind["scopes"]])
            )
        conditions.append(condition)
    out = conditions[0]
    for c in conditions[1:]:
        out = out | c
    return out


def qualified_at(
    events: DataFrame,
    licences: DataFrame,
    kinds: Sequence[str],
    rules: dict[str, Any],
    *,
    at: str = "event_time",
    holder: str = JOIN_COLUMN,
    prefix: str = "licence",
) -> DataFrame:
    """``events`` (each row once, in no particular order) with ``<prefix>_no``,
    ``<prefix>_valid`` and ``<prefix>_reason``: whether the event's holder (column ``holder``,
    a holder_key_hmac) had a licence of ``kinds`` valid at the event's time (column ``at``, a
    timestamp), by the rule of :func:`licence_valid_at` per licence. A holder with several
    licences of the kinds is qualified when one of them is valid (that one is named; the one
    issued last among them); otherwise the licence whose version was issued last is named with
    its reason; no licence of the kinds at that time: ``not_found``.

    ``licences`` is silver.licences__licences (every version with its valid-time range)."""
    candidates = licences.where(kind_condition(kinds, rules)).select(
        F.col(JOIN_COLUMN).alias("_l_holder"),
        F.col("licence_no").alias("_l_no"),
        F.col("version_valid_from").alias("_l_from"),
        F.col("version_valid_to").alias("_l_to"),
        F.col("issued_at").alias("_l_issued_at"),
        F.col("status").alias("_l_status"),
        F.col("valid_from").alias("_l_valid_from"),
        F.col("valid_to").alias("_l_valid_to"),
    )
    columns = events.columns
    numbered = events.withColumn("_event", F.monotonically_increasing_id())
    time = F.col(at)
    joined = numbered.join(
        candidates,
        (F.col(holder) == F.col("_l_holder"))
        & (F.col("_l_from") <= time)
        & (F.col("_l_to").isNull() | (time < F.col("_l_to"))),
        "left",
    )
    day = F.to_date(time)
    reason = (
        F.when(F.col("_l_holder").isNull(), F.lit(NOT_FOUND))
        .when(F.col("_l_status") != VALID, F.col("_l_status"))  # a status is its own reason
        .when(F.col("_l_valid_from").isNull() | (day < F.col("_l_valid_from")), NOT_YET_VALID)
        .when(F.col("_l_valid_to").isNull() | (day > F.col("_l_valid_to")), EXPIRED)
    )
    best = Window.partitionBy("_event").orderBy(
        F.col("_reason").isNotNull(), F.col("_l_issued_at").desc(), F.col("_l_no")
    )
    return (
        joined.withColumn("_reason", reason)
        .withColumn("_rank", F.row_number().over(best))
        .where(F.col("_rank") == 1)
        .select(
            *columns,
            F.col("_l_no").alias(f"{prefix}_no"),
            F.col("_reason").isNull().alias(f"{prefix}_valid"),
            F.col("_reason").alias(f"{prefix}_reason"),
        )
    )


def with_holder_hmac(
    events: DataFrame, key_column: str, join_key: bytes, out: str = JOIN_COLUMN
) -> DataFrame:
    """``events`` with ``out``: the join hash of the clear holder key in ``key_column`` (a USCC,
    ``<plate>-<colour>``), computed over Arrow batches. The join key travels with the plan to
    wherever the engine runs Python."""
    schema = T.StructType([*events.schema.fields, T.StructField(out, T.StringType())])
    normalise = _normalise

    def add(batches):
        for batch in batches:
            values = batch.column(key_column).to_pylist()
            hashed = sm3.hmac_sm3_column(
                [None if v is None else normalise(v) for v in values], join_key
            )
            yield pa.RecordBatch.from_arrays(
                [*batch.columns, pa.array(hashed, pa.string())], names=[*batch.schema.names, out]
            )

    return events.mapInArrow(add, schema)

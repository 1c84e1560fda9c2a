"""Row-level rules as data (the shared core): one definition feeds both the GX suite and the row
tagging of a domain. Each domain lists its rules in ``expectations/<domain>.py``.

A rule passes for a row when its column is not null and (for ``between``/``in_set``/``regex``/``max``)
the value satisfies the bound. ``null_ok`` rules leave nulls to another rule, so that each defect fails
exactly one rule.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Rule:
    """One named row-level rule on one column."""

    name: str
    column: str
    kind: str  # "not_null" | "between" | "in_set" | "regex" | "max"
    params: dict[str, Any] = field(default_factory=dict)
    null_ok: bool = False  # True: a null is not a failure of this rule

"""Split large jobs into passes of bounded size, so memory stays flat and time grows linearly.

Every position computation is per gnss day (facts) or per landing folder (publishing), so a job over
many days can run as several passes over groups of whole days without changing any result.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Sequence
from typing import TypeVar

T = TypeVar("T", bound=Hashable)


def group_by_rows(items: Sequence[T], rows: Callable[[T], int], max_rows: int) -> list[list[T]]:
    """Consecutive ``items`` grouped so that no group holds more than ``max_rows`` rows (an item
    larger than that is a group of its own). ``max_rows`` ≤ 0: one group."""
    if max_rows <= 0:
        return [list(items)] if items else []
    groups: list[list[T]] = []
    current: list[T] = []
    size = 0
    for item in items:
        n = rows(item)
        if current and size + n > max_rows:
            groups.append(current)
            current, size = [], 0
        current.append(item)
        size += n
    if current:
        groups.append(current)
    return groups


def max_rows_per_pass(rules: dict) -> int:
    """rules.yaml pipeline.max_rows_per_pass (0: no limit)."""
    return int(rules.get("pipeline", {}).get("max_rows_per_pass", 0) or 0)

"""The reference feeds every domain shares (contracts.md: ``reference/divisions``): GB/T 2260
administrative divisions with their centroids. Landed by the shared landing like any feed; the
tables are in the shared part of the registry (transforms/lake/registry.py)."""

from __future__ import annotations

from transforms.lake.feeds import Feed

DIVISION_FIELDS = ("code", "name", "level", "parent_code", "lon", "lat")
DIVISIONS = Feed("reference", "divisions", DIVISION_FIELDS, (".jsonl",))
FEEDS = (DIVISIONS,)

"""The telematics domain (动态监控) as the shared machinery sees it: feeds, tables, rules."""

from pathlib import Path

from transforms.lake.domain import Domain
from transforms.telematics.feeds import FEEDS
from transforms.telematics.tables import TABLES

DOMAIN = Domain(
    name="telematics",
    title="动态监控",
    feeds=FEEDS,
    tables=TABLES,
    rules_file=Path(__file__).with_name("rules.yaml"),
)

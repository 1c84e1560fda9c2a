"""The ride-hailing domain (网约车) as the shared machinery sees it: feeds, tables, rules."""

from pathlib import Path

from transforms.lake.domain import Domain
from transforms.ridehailing.feeds import FEEDS
from transforms.ridehailing.tables import TABLES

DOMAIN = Domain(
    name="ridehailing",
    title="网约车",
    feeds=FEEDS,
    tables=TABLES,
    rules_file=Path(__file__).with_name("rules.yaml"),
)

"""The licences domain (电子证照) as the shared machinery sees it: feeds, tables, rules."""

from pathlib import Path

from transforms.lake.domain import Domain
from transforms.licences.feeds import FEEDS
from transforms.licences.tables import TABLES

DOMAIN = Domain(
    name="licences",
    title="电子证照",
    feeds=FEEDS,
    tables=TABLES,
    rules_file=Path(__file__).with_name("rules.yaml"),
)

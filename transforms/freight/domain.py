"""The network-freight domain (网络货运) as the shared machinery sees it: feeds, tables, rules."""

from pathlib import Path

from transforms.freight.feeds import FEEDS
from transforms.freight.tables import TABLES
from transforms.lake.domain import Domain

DOMAIN = Domain(
    name="freight",
    title="网络货运",
    feeds=FEEDS,
    tables=TABLES,
    rules_file=Path(__file__).with_name("rules.yaml"),
)

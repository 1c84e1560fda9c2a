"""What a domain declares to the shared machinery: its feeds, its tables and its rules file.

Each domain package has a ``domain.py`` with one :class:`Domain`; ``transforms/domains.py`` lists
them, and landing, the registry, the rules loader, the Dagster definitions, the pipeline, the CLI and
the Superset serving iterate that list.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from transforms.lake.feeds import Feed
from transforms.lake.registry import Table


@dataclass(frozen=True)
class Domain:
    """One supervision domain (动态监控, 网络货运, 网约车, 电子证照)."""

    name: str  # the package name and the table prefix: <layer>.<name>__<entity>
    title: str  # what regulators call it
    feeds: tuple[Feed, ...]  # in landing order (master data first)
    tables: tuple[Table, ...]
    rules_file: Path  # the domain's sections of the rules file

    def feed(self, name: str) -> Feed:
        for f in self.feeds:
            if f.name == name:
                return f
        known = ", ".join(f.name for f in self.feeds)
        raise KeyError(f"domain {self.name} has no feed {name!r}; its feeds: {known}")

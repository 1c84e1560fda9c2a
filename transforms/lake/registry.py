"""The table registry: what a Delta table of the lake is (layer, location, partitions, retention,
key), the shared ``ops`` tables of landing, and the lookup over every domain's tables.

A table named ``<layer>.<domain>__<entity>`` lives at ``<lake>/<layer>/<domain>__<entity>``; each
domain lists its own in ``transforms/<domain>/tables.py``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

LAYERS = ("ops", "bronze", "quarantine", "silver", "gold")


@dataclass(frozen=True)
class Table:
    """One Delta table of the lake."""

    name: str  # "<layer>.<domain>__<entity>"
    description: str
    partition_by: tuple[str, ...] = ()
    retention_days: int | None = None  # None: kept for ever
    key: tuple[str, ...] = field(default=())

    @property
    def layer(self) -> str:
        return self.name.split(".", 1)[0]

    @property
    def entity(self) -> str:
        return self.name.split(".", 1)[1]

    def location(self, lake: Path) -> Path:
        return lake / self.layer / self.entity

    def exists(self, lake: Path) -> bool:
        return (self.location(lake) / "_delta_log").is_dir()


# fmt: off
SHARED_TABLES: tuple[Table, ...] = (
    Table("ops.landing__files",
          "Every landed file of every domain, by SM3 digest: re-landing it is a no-op.",
          key=("file_sm3",)),
    Table("ops.landing__rejected_files", "Landing files that could not be read at all, with the error.",
          key=("file_sm3",)),
)
# fmt: on


def all_tables() -> tuple[Table, ...]:
    """The shared tables and every domain's (transforms/domains.py)."""
    from transforms.domains import DOMAINS

    return SHARED_TABLES + tuple(t for d in DOMAINS for t in d.tables)


def by_name() -> dict[str, Table]:
    return {t.name: t for t in all_tables()}


def table(name: str) -> Table:
    """The registered table called ``name``; a clear error for an unknown one."""
    known = by_name()
    try:
        return known[name]
    except KeyError:
        raise KeyError(
            f"unknown table {name!r}; known tables: {', '.join(sorted(known))}"
        ) from None


def discover(lake: Path) -> list[str]:
    """Names of every Delta table found under the lake's layer folders (registered or not)."""
    found = []
    for layer in LAYERS:
        layer_dir = lake / layer
        if not layer_dir.is_dir():
            continue
        for child in sorted(layer_dir.iterdir()):
            if (child / "_delta_log").is_dir():
                found.append(f"{layer}.{child.name}")
    return found

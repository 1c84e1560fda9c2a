"""What every command module of the CLI shares: the --lake option, dates, tables on a terminal."""

from __future__ import annotations

import csv
import datetime as dt
import importlib
import json
import sys
from collections.abc import Callable
from pathlib import Path

import click

from transforms.lake.session import LAKE_ENV, lake_root

LAKE_OPTION = click.option(
    "--lake",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help=f"Lake root directory [default: ${LAKE_ENV}, else ./lake].",
)


def parse_date(_ctx, param, value: str | None) -> dt.date | None:
    """click callback: a YYYY-MM-DD option."""
    if value is None:
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise click.BadParameter(f"{value!r} is not a date; use YYYY-MM-DD", param=param) from None


def existing_lake(lake: Path | None) -> Path:
    """The lake root, which must exist (a clear error otherwise)."""
    root = lake_root(lake)
    if not root.is_dir():
        raise click.ClickException(
            f"lake {root} does not exist. Create a sample with `lakehouse generate --lake {root}` "
            f"or point --lake / ${LAKE_ENV} at an existing lake."
        )
    return root


def cell(value) -> str:
    if value is None:
        return "NULL"
    try:
        import pandas as pd

        if pd.isna(value):
            return "NULL"
    except (TypeError, ValueError):
        pass
    return str(value)


def _width(text: str) -> int:
    import unicodedata

    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def echo_table(header: list[str], rows: list) -> None:
    widths = [max([_width(h)] + [_width(r[i]) for r in rows]) for i, h in enumerate(header)]

    def line(cells) -> str:
        return "  ".join(c + " " * (w - _width(c)) for c, w in zip(cells, widths, strict=True))

    click.echo(line(header))
    click.echo("  ".join("-" * w for w in widths))
    for r in rows:
        click.echo(line(r))


def echo_rows(rows: list[dict], fmt: str, keys: list[str], table_keys: list[str]) -> None:
    """A report's rows on stdout as JSON (every key), CSV (``keys``, in order) or an aligned table
    (``table_keys``)."""
    if fmt == "json":
        click.echo(json.dumps(rows, ensure_ascii=False, indent=2))
    elif fmt == "csv":
        writer = csv.DictWriter(sys.stdout, fieldnames=keys, lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
    else:
        echo_table(table_keys, [[cell(r[k]) for k in table_keys] for r in rows])


def domain_generators() -> list[tuple[str, Callable]]:
    """(domain, hook) of every domain whose CLI module has a ``generate_after_telematics(lake,
    start, days, seed, force, progress, scale=None) -> dict`` hook, in transforms/domains.py
    order: ``lakehouse generate`` runs them on the telematics master data it has just written
    (``scale``: its sizes, e.g. ``freight_waybills_per_day``)."""
    from transforms.domains import DOMAINS

    hooks = []
    for d in DOMAINS:
        module = importlib.import_module(f"orchestration.cli.{d.name}")
        hook = getattr(module, "generate_after_telematics", None)
        if hook is not None:
            hooks.append((d.name, hook))
    return hooks

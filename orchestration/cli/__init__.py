"""`lakehouse`: generate sample data, run the pipeline, inspect and query the lake.

The command group and the commands every domain shares live here and in :mod:`.lake` / :mod:`.bench`;
each domain adds its own commands from ``orchestration/cli/<domain>.py`` (a ``register(main)``
function), iterated over ``transforms.domains.DOMAINS``.
"""

from __future__ import annotations

import importlib

import click

from transforms.domains import DOMAINS


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
def main() -> None:
    """Road-transport supervision lakehouse (道路运输监管数据湖).

    Lands telematics feeds into Delta tables, validates them, builds the gold marts and serves them.
    Typical use: `lakehouse generate`, then `lakehouse run`, then `lakehouse status` / `query`.
    """


@main.group()
def report() -> None:
    """Regulator reports, one command per domain (stable JSON keys; ../shared/domain/)."""


def _register() -> None:
    from orchestration.cli import bench, keys, lake

    lake.register(main)
    bench.register(main)
    keys.register(main)
    importlib.import_module("orchestration.cli.protection").register(main)
    importlib.import_module("orchestration.cli.retention").register(main)
    importlib.import_module("orchestration.cli.profile").register(main)
    for domain in DOMAINS:
        importlib.import_module(f"orchestration.cli.{domain.name}").register(main, report)


_register()

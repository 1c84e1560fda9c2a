"""`lakehouse profile`: one vehicle or one enterprise across every domain (access.md; the work is
:mod:`transforms.profile`)."""

from __future__ import annotations

import click

from orchestration.cli.common import LAKE_OPTION, existing_lake, parse_date


def register(main: click.Group) -> None:
    main.add_command(profile)


@click.command()
@LAKE_OPTION
@click.option("--plate", help="A vehicle's plate, e.g. 闽J12345 (with --color).")
@click.option(
    "--color",
    "plate_color",
    type=click.IntRange(0, 99),
    help="The plate colour code (JT/T 415: 1 blue, 2 yellow, 3 black, 4 white, 5 green, 9 other).",
)
@click.option("--enterprise", help="An enterprise's unified social credit code (18 characters).")
@click.option(
    "--on",
    callback=parse_date,
    default=None,
    help="Judge licences valid on this day (YYYY-MM-DD) [default: today].",
)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["json", "table"]),
    default="json",
    show_default=True,
    help="json: the whole profile; table: one line per part with what it covers.",
)
def profile(lake, plate, plate_color, enterprise, on, fmt) -> None:
    """One vehicle (--plate and --color) or one enterprise (--enterprise USCC) across every
    domain that holds data: master data with its history, licences and their validity, telematics
    violations and scores, freight waybills and anomalies, ride-hailing orders and quality, open
    rectification items — each part with the period it covers (`covers`: null when the lake
    holds nothing about the subject there). Masked values only.

    Example: `lakehouse profile --plate 闽J12345 --color 2 --format table`.
    """
    from transforms.profile import (
        ProfileError,
        enterprise_profile,
        to_json,
        to_table,
        vehicle_profile,
    )

    if bool(plate) == bool(enterprise):
        raise click.UsageError("give either --plate (with --color) or --enterprise")
    if plate and plate_color is None:
        raise click.UsageError("--plate needs --color (the plate colour code)")
    root = existing_lake(lake)
    try:
        result = (
            vehicle_profile(root, plate, plate_color, on)
            if plate
            else enterprise_profile(root, enterprise, on)
        )
    except ProfileError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(to_json(result) if fmt == "json" else to_table(result))

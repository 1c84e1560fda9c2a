"""Ride-hailing (网约车) commands: `report ridehailing` — the monthly and annual data-quality
evaluation per platform company (第十四–十八条), the industry overview, the failed records
(ridehailing.md "CLI"; the work is :mod:`transforms.ridehailing.report`)."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import click

from orchestration.cli.bulletin import AS_PUBLISHED_OPTION
from orchestration.cli.bulletin import as_published as published_state
from orchestration.cli.common import LAKE_OPTION, echo_rows, existing_lake

REPORT_FORMATS = click.Choice(["json", "csv", "table"])


def register(main: click.Group, report: click.Group) -> None:
    report.add_command(report_ridehailing)


# ---- `lakehouse generate` hooks (transforms/ridehailing/generate) -----------------------------


def _orders(scale: dict[str, int] | None) -> int | None:
    return (scale or {}).get("ridehailing_orders_per_day")


def licence_subjects(
    lake: Path, start: dt.date, days: int, seed: int, scale: dict[str, int] | None = None
) -> list[dict[str, Any]]:
    """`lakehouse generate`: the licences the ride-hailing generator's companies, vehicles and
    drivers hold (the licences generator signs them; transforms/ridehailing/generate)."""
    from transforms.ridehailing.generate import licence_subjects as subjects

    return subjects(start, days, seed, _orders(scale))


def generate_after_telematics(
    lake: Path,
    start: dt.date,
    days: int,
    seed: int,
    force: bool,
    progress,
    scale: dict[str, int] | None = None,
) -> dict[str, Any]:
    """`lakehouse generate`: every interface's landing files and the outage notices for the same
    days (transforms/ridehailing/generate); its summary (the known answer)."""
    from transforms.ridehailing.generate import generate_ridehailing

    summary = generate_ridehailing(
        lake, start, days, seed=seed, force=force, progress=progress,
        orders_per_day=_orders(scale),
    )  # fmt: skip
    return summary.to_dict()


@click.command("ridehailing")
@LAKE_OPTION
@click.option("--period", required=True, help="The month (YYYY-MM) or year (YYYY), GMT+8.")
@click.option(
    "--overview", "what", flag_value="overview",
    help="The industry's monthly overview (a month): companies, licences, orders, MoM.",
)  # fmt: skip
@click.option(
    "--defects", "what", flag_value="defects",
    help="One row per failed record and rule: company, interface, record, dimension, rule, file, line.",
)  # fmt: skip
@click.option(
    "--explain", "company", default=None, metavar="COMPANY",
    help="One company's records and failures by interface and dimension, and its top rules.",
)  # fmt: skip
@click.option("--format", "fmt", type=REPORT_FORMATS, default="json", show_default=True)
@AS_PUBLISHED_OPTION
def report_ridehailing(lake, period, what, company, fmt, as_published) -> None:
    """网约车数据质量: per platform company — records, completeness, normativity, timeliness and
    truthfulness rates, city coverage, score; a licensed company that sent nothing is listed
    with transmitted false. Run `lakehouse run` first: the report reads the evaluation."""
    from transforms.ridehailing import report

    root = existing_lake(lake)
    try:
        with published_state(root, as_published, period):
            if company is not None:
                click.echo(json.dumps(report.explain(root, period, company), ensure_ascii=False,
                                      indent=2))  # fmt: skip
                return
            if what == "overview":
                row = report.overview(root, period)
                if fmt == "json":
                    click.echo(json.dumps(row, ensure_ascii=False, indent=2))
                else:
                    echo_rows([row], fmt, report.OVERVIEW_KEYS, report.OVERVIEW_KEYS)
                return
            if what == "defects":
                rows = report.defects(root, period)
                echo_rows(rows, fmt, report.DEFECT_KEYS, report.DEFECT_KEYS)
                return
            rows = report.companies(root, period)
    except report.ReportError as exc:
        raise click.ClickException(str(exc)) from None
    echo_rows(
        rows, fmt, report.COMPANY_KEYS,
        ["company_id", "company_name", "transmitted", "records", "completeness_rate",
         "normativity_rate", "timeliness_rate", "truthfulness_rate", "city_coverage_rate",
         "score"],
    )  # fmt: skip

"""Telematics (动态监控) commands: the sample generator, `report telematics` and `rectify`."""

from __future__ import annotations

import datetime as dt
import json

import click

from orchestration.cli.bulletin import AS_PUBLISHED_OPTION
from orchestration.cli.bulletin import as_published as published_state
from orchestration.cli.common import (
    LAKE_OPTION,
    domain_generators,
    echo_rows,
    echo_table,
    existing_lake,
    parse_date,
)
from orchestration.cli.locking import writes_lake
from transforms.lake.session import lake_root

FREIGHT_WAYBILLS_PER_DAY = 100  # `lakehouse generate`'s default freight volume
# `lakehouse generate`'s default ride-hailing volume: the generator's own default, so that a hook
# called without `scale` (the licences e2e test) builds the same world
RIDEHAILING_ORDERS_PER_DAY = 100


def register(main: click.Group, report: click.Group) -> None:
    main.add_command(generate)
    report.add_command(report_telematics)
    main.add_command(rectify)


@click.command()
@LAKE_OPTION
@click.option(
    "--start",
    callback=parse_date,
    default=None,
    help="First day (YYYY-MM-DD) [default: 7 days before today].",
)
@click.option(
    "--days", type=click.IntRange(1, 366), default=3, show_default=True, help="Number of days."
)
@click.option(
    "--vehicles",
    type=click.IntRange(1, 1_000_000),
    default=50,
    show_default=True,
    help="Number of key vehicles.",
)
@click.option(
    "--seed", type=int, default=7, show_default=True, help="Random seed (same seed, same files)."
)
@click.option(
    "--bad-rate",
    type=click.FloatRange(0, 0.05),
    default=0.0007,
    show_default=True,
    help="Fraction of records given each kind of defect (9 kinds; the default gives a "
    "data-qualification rate near 99.4 %).",
)
@click.option(
    "--waybills-per-day",
    type=click.IntRange(1, 1_000_000),
    default=FREIGHT_WAYBILLS_PER_DAY,
    show_default=True,
    help="Network-freight (网络货运) waybills a day; 200000 is a province-day.",
)
@click.option(
    "--ridehailing-orders-per-day",
    type=click.IntRange(1, 1_000_000),
    default=RIDEHAILING_ORDERS_PER_DAY,
    show_default=True,
    help="Ride-hailing (网约车) orders a day; 33000 is a province-day (with 55 companies).",
)
@click.option("--force", is_flag=True, help="Overwrite landing files that already exist.")
@click.option("--json", "as_json", is_flag=True, help="Print the generation summary as JSON.")
def generate(
    lake,
    start,
    days,
    vehicles,
    seed,
    bad_rate,
    waybills_per_day,
    ridehailing_orders_per_day,
    force,
    as_json,
) -> None:
    """Write realistic synthetic landing files (positions, vehicles, counties, …)."""
    from transforms.telematics.generate import generate_landing

    root = lake_root(lake)
    start = start or (dt.date.today() - dt.timedelta(days=7))
    say = None if as_json else (lambda m: click.echo(m, err=True))
    try:
        summary = generate_landing(
            root,
            start=start,
            days=days,
            vehicles=vehicles,
            seed=seed,
            bad_rate=bad_rate,
            force=force,
            progress=say,
        )
        # the other domains' data on this master data (e.g. licences): one key each in --json
        scale = {
            "freight_waybills_per_day": waybills_per_day,
            "ridehailing_orders_per_day": ridehailing_orders_per_day,
        }
        extra = {
            d: hook(root, start, days, seed, force, say, scale=scale)
            for d, hook in domain_generators()
        }
    except FileExistsError as exc:
        raise click.ClickException(f"{exc} (use --force to overwrite)") from None
    data = {**summary.to_dict(), **extra}
    if as_json:
        click.echo(json.dumps(data, ensure_ascii=False, indent=2, default=str))
        return
    click.echo(
        f"generated {data['lines_total']:,} position lines for {data['vehicles']} vehicles over "
        f"{days} day(s) from {start} in {root / 'landing'}\n"
        f"  injected defects: {data['malformed_lines']} malformed lines, "
        f"{data['unqualified_records']} unqualified records, {data['duplicate_records']} duplicates"
    )


@click.command("telematics")
@LAKE_OPTION
@click.option(
    "--level",
    type=click.Choice(["county", "enterprise", "platform"]),
    required=True,
    help="Assessed subjects: 辖区 county, 道路运输经营者 enterprise, 运营服务商 platform.",
)
@click.option("--period", required=True, help="YYYY-MM-DD, YYYY-MM, YYYYQn or YYYY.")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["json", "csv", "table"]),
    default="json",
    show_default=True,
)
@click.option(
    "--explain",
    "subject",
    default=None,
    metavar="SUBJECT",
    help="Show the evidence behind one subject's numbers instead (vehicles, records, events).",
)
@click.option(
    "--rules",
    "rules_file",
    type=click.Path(dir_okay=False, exists=True),
    default=None,
    help="Rules override used for --explain.",
)
@AS_PUBLISHED_OPTION
def report_telematics(lake, level, period, fmt, subject, rules_file, as_published) -> None:
    """动态监控考核: indicators, score and pass/fail per subject for one period."""
    from transforms.lake.session import get_spark
    from transforms.rules import load_rules
    from transforms.telematics.jobs.report import REPORT_KEYS, explain, parse_period, report

    root = existing_lake(lake)
    try:
        p = parse_period(period)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--period") from None
    spark = get_spark(root)
    try:
        with published_state(root, as_published, p.label):
            if subject:
                data = explain(
                    spark, root, level, p, subject, load_rules(rules_file, domain="telematics")
                )
                click.echo(json.dumps(data, ensure_ascii=False, indent=2, default=str))
                return
            rows = report(spark, root, level, p)
    except FileNotFoundError as exc:
        raise click.ClickException(str(exc)) from None
    if not rows:
        click.echo(f"no {level} assessed for {p.label}", err=True)
    keys = ["subject_id", "subject_name", "vehicles", "online_vehicles", "score", "passed"]
    echo_rows(rows, fmt, list(REPORT_KEYS), keys)


@click.group()
def rectify() -> None:
    """整改清单 / 销号清单: rectification items after each monthly bulletin, and their status."""


@rectify.command("issue")
@LAKE_OPTION
@click.option("--period", required=True, help="The bulletin's month, YYYY-MM.")
@click.option(
    "--bulletin-date",
    callback=parse_date,
    default=None,
    help="Date of the monthly bulletin (月通报) [default: today].",
)
@click.option("--rules", "rules_file", type=click.Path(dir_okay=False, exists=True), default=None)
@writes_lake
def rectify_issue(lake, period, bulletin_date, rules_file) -> None:
    """Create items for every subject that failed the month and every violation vehicle."""
    from transforms.rules import load_rules
    from transforms.telematics.jobs.rectification import RectificationError, issue

    root = existing_lake(lake)
    try:
        result = issue(
            root,
            period,
            bulletin_date or dt.date.today(),
            load_rules(rules_file, domain="telematics"),
        )
    except RectificationError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"{period}: {result.created} new item(s), {result.already} already issued")


@rectify.command("list")
@LAKE_OPTION
@click.option(
    "--status", type=click.Choice(["open", "reported", "closed", "overdue"]), default=None
)
@click.option(
    "--format", "fmt", type=click.Choice(["table", "json"]), default="table", show_default=True
)
def rectify_list(lake, status, fmt) -> None:
    """Items with their current status (an open item past its report due date is marked late)."""
    from transforms.telematics.jobs.rectification import items_with_status

    items = items_with_status(existing_lake(lake))
    if status:
        items = [i for i in items if i["status"] == status]
    if fmt == "json":
        click.echo(json.dumps(items, ensure_ascii=False, indent=2, default=str))
        return
    header = ["item", "period", "level", "subject", "problem", "due", "status"]
    rows = [[i["item_id"][:8], i["period"], i["level"], i["subject_name"] or i["subject_id"],
             i["problem"][:40], str(i["report_due"]),
             i["status"] + (" (late)" if i["overdue_now"] else "")] for i in items]  # fmt: skip
    echo_table(header, rows)


def _change(lake, item, status, by, note) -> None:
    from transforms.telematics.jobs.rectification import RectificationError, change_status

    try:
        done = change_status(existing_lake(lake), item, status, by, note)
    except RectificationError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"{done['item_id']} ({done['subject_name']}): {status}")


@rectify.command("report")
@LAKE_OPTION
@click.argument("item")
@click.option("--note", required=True, help="What the rectification report (整改报告) says.")
@click.option("--by", default="regulator", show_default=True, help="Who records it.")
@writes_lake
def rectify_report(lake, item, note, by) -> None:
    """Record that ITEM's rectification report was received."""
    _change(lake, item, "reported", by, note)


@rectify.command("close")
@LAKE_OPTION
@click.argument("item")
@click.option("--disposal", required=True, help="The recorded disposal (处置结果) that closes it.")
@click.option("--by", default="regulator", show_default=True, help="Who closes it.")
@writes_lake
def rectify_close(lake, item, disposal, by) -> None:
    """Close ITEM (销号); it must have been reported first."""
    _change(lake, item, "closed", by, disposal)


@rectify.command("refresh")
@LAKE_OPTION
@click.option("--today", callback=parse_date, default=None, help="Reference date [default: today].")
@writes_lake
def rectify_refresh(lake, today) -> None:
    """Record `overdue` for open items whose report is past due."""
    from transforms.telematics.jobs.rectification import mark_overdue

    n = mark_overdue(existing_lake(lake), today or dt.date.today())
    click.echo(f"{n} item(s) became overdue")


@rectify.command("anomalies")
@LAKE_OPTION
def rectify_anomalies(lake) -> None:
    """Vehicles newly attached to a provider under rectification (not allowed, 第四十一条)."""
    from transforms.telematics.jobs.rectification import newly_attached_anomalies

    found = newly_attached_anomalies(existing_lake(lake))
    click.echo(json.dumps(found, ensure_ascii=False, indent=2, default=str))

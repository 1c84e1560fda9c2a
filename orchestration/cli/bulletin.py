"""`lakehouse bulletin publish|correct|list` — the monthly bulletin (月通报) with its publicity
window and corrections — and the ``--as-published DATE`` option of the reports, which reads the
tables at the Delta versions that day's bulletin recorded (access.md "Monthly bulletin"; the work
is :mod:`transforms.bulletin`, the versions :mod:`transforms.lake.timetravel`)."""

from __future__ import annotations

import contextlib
import datetime as dt
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import click

from orchestration.cli.common import LAKE_OPTION, echo_table, existing_lake, parse_date
from orchestration.cli.locking import writes_lake

AS_PUBLISHED_OPTION = click.option(
    "--as-published",
    "as_published",
    callback=parse_date,
    default=None,
    metavar="YYYY-MM-DD",
    help="The report as it stood when that day's bulletin (月通报) was published: every table "
    "read at the Delta version the bulletin recorded (ops.publications), whatever landed or "
    "ran since.",
)


def register(main: click.Group) -> None:
    main.add_command(bulletin)


@contextlib.contextmanager
def as_published(lake: Path, day: dt.date | None, period: str | None) -> Iterator[dict | None]:
    """The block's table reads pinned to the versions of the bulletin published on ``day`` (of
    ``period`` when that day has one; no ``day``: nothing pinned); yields its ops.publications
    row. No publication that day, or a table it did not read: one clear line."""
    if day is None:
        yield None
        return
    from transforms.bulletin.publications import PublicationError, publication_on
    from transforms.lake import timetravel

    try:
        row = publication_on(lake, day, period)
    except PublicationError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(
        f"as published on {day}: bulletin {row['publication_id']} of "
        f"{row['published_at']:%Y-%m-%d %H:%M:%S}",
        err=True,
    )
    try:
        with timetravel.pinned(row["source_versions"]):
            yield row
    except timetravel.NotRecorded as exc:
        raise click.ClickException(f"--as-published {day}: {exc}") from None


@click.group()
def bulletin() -> None:
    """月通报: the monthly bulletin — rankings and failed subjects as XLSX and PDF, publicity
    (公示: 5 working days, rules bulletin.publicity_working_days) and corrections (seed 001
    第三十六–三十七条).

    \b
      lakehouse bulletin publish --period 2026-11                  # the province's, today
      lakehouse bulletin publish --period 2026-11 --jurisdiction 350902 --on 2026-12-03
      lakehouse bulletin correct --period 2026-11 --reason "复核更正：…"   # inside the window
      lakehouse bulletin list
      lakehouse report telematics --level county --period 2026-11 --as-published 2026-12-03

    Files go to <lake>/publications/<period>/, one row per version to ops.publications (the
    files' SM3 and the Delta version of every table read). A month is published once per
    jurisdiction; a correction is a new version, the earlier ones are never touched.
    """


PERIOD_OPTION = click.option("--period", required=True, help="The bulletin's month, YYYY-MM.")
JURISDICTION_OPTION = click.option(
    "--jurisdiction",
    default=None,
    metavar="CODE",
    help="GB/T 2260 province, city or county code: only rows inside it (platforms and "
    "province-wide rows: the province's only) [default: the lake's province, rules "
    "bulletin.province].",
)
RULES_OPTION = click.option(
    "--rules",
    "rules_file",
    type=click.Path(dir_okay=False, exists=True),
    default=None,
    help="Rules override (the publicity length, freight's scoring).",
)


def _say(message: str) -> None:
    click.echo(message, err=True)


def _run(action: str, lake: Path | None, **kwargs: Any) -> dict[str, Any]:
    from transforms.bulletin import publications
    from transforms.bulletin.content import BulletinError
    from transforms.bulletin.render import FontNotFound
    from transforms.lake.session import get_spark
    from transforms.rules import load_rules

    root = existing_lake(lake)
    rules = load_rules(kwargs.pop("rules_file"))
    work = publications.publish if action == "publish" else publications.correct
    try:
        return work(get_spark(root), root, rules=rules, progress=_say, **kwargs)
    except (publications.PublicationError, BulletinError, FontNotFound) as exc:
        raise click.ClickException(str(exc)) from None


def _done(row: dict[str, Any]) -> None:
    click.echo(
        f"{row['publication_id']} ({row['kind']}) published on {row['published_on']}; "
        f"publicity until {row['publicity_ends']}\n"
        f"  {row['xlsx_path']}  SM3 {row['xlsx_sm3']}\n"
        f"  {row['pdf_path']}  SM3 {row['pdf_sm3']}"
    )


@bulletin.command("publish")
@LAKE_OPTION
@PERIOD_OPTION
@JURISDICTION_OPTION
@click.option(
    "--on", "on", callback=parse_date, default=None, metavar="YYYY-MM-DD",
    help="The publication date (the publicity window counts from it) [default: today].",
)  # fmt: skip
@RULES_OPTION
@writes_lake
def publish_command(lake, period, jurisdiction, on, rules_file) -> None:
    """Publish the month's bulletin (version 1): XLSX and PDF, recorded in ops.publications.
    Refused when the month was already published for the jurisdiction (correct it instead)."""
    row = _run(
        "publish", lake, period=period, jurisdiction=jurisdiction, on=on, rules_file=rules_file
    )
    _done(row)
    click.echo(
        f"rectification items (整改清单) of this bulletin: `lakehouse rectify issue --period "
        f"{period} --bulletin-date {row['published_on']}`",
        err=True,
    )


@bulletin.command("correct")
@LAKE_OPTION
@PERIOD_OPTION
@JURISDICTION_OPTION
@click.option("--reason", required=True, help="Why it is corrected (复核结果), printed in it.")
@click.option(
    "--on", "on", callback=parse_date, default=None, metavar="YYYY-MM-DD",
    help="The correction's date; it must fall inside the publicity window [default: today].",
)  # fmt: skip
@RULES_OPTION
@writes_lake
def correct_command(lake, period, jurisdiction, reason, on, rules_file) -> None:
    """Publish a corrected version (n+1) from the lake as it is now — only inside the publicity
    window; the earlier versions' files and rows stay as they are."""
    row = _run(
        "correct", lake, period=period, jurisdiction=jurisdiction, reason=reason, on=on,
        rules_file=rules_file,
    )  # fmt: skip
    _done(row)


@bulletin.command("list")
@LAKE_OPTION
@click.option(
    "--format", "fmt", type=click.Choice(["table", "json"]), default="table", show_default=True
)
def list_command(lake, fmt) -> None:
    """Every published and corrected version, by month, jurisdiction and version."""
    from transforms.bulletin.publications import rows

    found = rows(existing_lake(lake))
    if fmt == "json":
        for r in found:
            r["source_versions"] = json.loads(r["source_versions"])
            r["sections"] = json.loads(r["sections"])
        click.echo(json.dumps(found, ensure_ascii=False, indent=2, default=str))
        return
    if not found:
        click.echo("no bulletin published yet", err=True)
        return
    header = ["period", "jurisdiction", "version", "kind", "published_on", "publicity_ends",
              "pdf", "reason"]  # fmt: skip
    echo_table(header, [
        [r["period"], r["jurisdiction"], str(r["version"]), r["kind"], str(r["published_on"]),
         str(r["publicity_ends"]), r["pdf_path"], r["reason"] or ""]
        for r in found
    ])  # fmt: skip

"""Licences (电子证照) commands: `licence verify` (核验), `report licences` (运行质量), and the
licences part of `lakehouse generate` (:func:`generate_after_telematics`)."""

from __future__ import annotations

import datetime as dt
import importlib
import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import click

from orchestration.cli.common import LAKE_OPTION, cell, echo_rows, echo_table, existing_lake

FORMATS = click.Choice(["json", "table"])


def register(main: click.Group, report: click.Group) -> None:
    main.add_command(licence)
    report.add_command(report_licences)


def licence_subjects(
    lake: Path, start: dt.date, days: int, seed: int, scale: dict[str, int] | None = None
) -> list[Any]:
    """The licences other domains' generators need (transforms/licences/generate/extra.py):
    what every other domain CLI module's ``licence_subjects(lake, start, days, seed, scale)``
    returns, in transforms/domains.py order (``scale``: `lakehouse generate`'s sizes)."""
    from transforms.domains import DOMAINS

    subjects: list[Any] = []
    for d in DOMAINS:
        if d.name == "licences":
            continue
        module = importlib.import_module(f"orchestration.cli.{d.name}")
        hook = getattr(module, "licence_subjects", None)
        if hook is not None:
            subjects.extend(hook(lake, start, days, seed, scale))
    return subjects


def generate_after_telematics(
    lake: Path,
    start: dt.date,
    days: int,
    seed: int,
    force: bool,
    progress,
    scale: dict[str, int] | None = None,
    extra: Iterable[Any] | None = None,
) -> dict[str, Any]:
    """`lakehouse generate`: authorities and signed licences for the enterprises and vehicles
    the telematics generator has just written, and for the subjects other domains' generators
    file (:func:`licence_subjects`, plus ``extra``) (transforms/licences/generate); its
    summary."""
    from transforms.licences.generate import generate_licences

    subjects = [*licence_subjects(lake, start, days, seed, scale), *(extra or ())]
    summary = generate_licences(
        lake, start, days, seed=seed, force=force, progress=progress, extra=subjects
    )
    return summary.to_dict()


@click.group()
def licence() -> None:
    """电子证照: online verification (核验) of one licence."""


@licence.command("verify")
@LAKE_OPTION
@click.argument("licence_no")
@click.option(
    "--holder",
    default=None,
    metavar="KEY",
    help="Holder key in clear (ID number, USCC or plate-colour such as 闽J12345-2); compared by "
    "its join hash, never stored or printed.",
)
@click.option(
    "--at",
    "at_text",
    default=None,
    metavar="TIME",
    help="YYYY-MM-DD or 'YYYY-MM-DD HH:MM:SS' (GMT+8) [default: now]; a date alone is the "
    "rules' verification.date_only_time of that day (00:00:00).",
)
@click.option("--format", "fmt", type=FORMATS, default="json", show_default=True)
@click.option("--rules", "rules_file", type=click.Path(dir_okay=False, exists=True), default=None)
def licence_verify(lake, licence_no, holder, at_text, fmt, rules_file) -> None:
    """Is LICENCE_NO valid (at --at, for --holder)? valid / invalid / unknown with the reason:
    holder_mismatch, the status (suspended, revoked, cancelled, expired), not_yet_valid, expired;
    not_found when no verified version was issued by then."""
    from transforms.crypto.keys import KeyFileError
    from transforms.licences.jobs.verify import verify_licence
    from transforms.licences.lookups import RESULT_KEYS, parse_at
    from transforms.rules import load_rules

    root = existing_lake(lake)
    rules = load_rules(rules_file, domain="licences")
    try:
        at = parse_at(at_text, rules["verification"]["date_only_time"])
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--at") from None
    try:
        answer = verify_licence(root, licence_no, rules, holder=holder, at=at)
    except (FileNotFoundError, KeyFileError) as exc:
        raise click.ClickException(str(exc)) from None
    if fmt == "json":
        click.echo(json.dumps(answer, ensure_ascii=False, indent=2))
    else:
        echo_table(["key", "value"], [[k, cell(answer[k])] for k in RESULT_KEYS])


@click.command("licences")
@LAKE_OPTION
@click.option("--period", required=True, help="The month, YYYY-MM (of issued_at).")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["json", "csv", "table"]),
    default="json",
    show_default=True,
)
@click.option("--rules", "rules_file", type=click.Path(dir_okay=False, exists=True), default=None)
def report_licences(lake, period, fmt, rules_file) -> None:
    """电子证照运行质量: per issuing province — issued, changed, revoked, records, signature
    failures and their rate, mean feed delay (s)."""
    from transforms.lake.session import get_spark
    from transforms.licences.jobs.report import report
    from transforms.licences.report import REPORT_KEYS, check_period
    from transforms.rules import load_rules

    root = existing_lake(lake)
    try:
        check_period(period)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--period") from None
    try:
        rows = report(get_spark(root), root, period, load_rules(rules_file, domain="licences"))
    except FileNotFoundError as exc:
        raise click.ClickException(str(exc)) from None
    if not rows:
        click.echo(f"no licence record issued in {period}", err=True)
    echo_rows(rows, fmt, list(REPORT_KEYS), list(REPORT_KEYS))

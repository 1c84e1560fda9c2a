"""`lakehouse retention run` and `lakehouse hold add|list|release`: retention with legal holds
(保存期限, 封存; transforms/lake/retention.py), for every domain's tables."""

from __future__ import annotations

import json

import click

from orchestration.cli.common import LAKE_OPTION, cell, echo_table, existing_lake, parse_date
from orchestration.cli.locking import writes_lake

FORMAT = click.option(
    "--format", "fmt", type=click.Choice(["table", "json"]), default="table", show_default=True
)


def register(main: click.Group) -> None:
    main.add_command(retention)
    main.add_command(hold)


@click.group()
def retention() -> None:
    """保存期限: delete what is past each table's retention period, except what a legal hold keeps.

    Periods are in the rules file (`<domain>: retention: {table: days}`), never below the legal
    minimum (动态监控数据 ≥ 6 months, 违法违规信息及处理情况 ≥ 3 years)."""


@retention.command("run")
@LAKE_OPTION
@click.option(
    "--as-of",
    "as_of",
    callback=parse_date,
    default=None,
    help="Reference date (YYYY-MM-DD, not after today) [default: today, GMT+8].",
)
@click.option("--dry-run", is_flag=True, help="Report what would be deleted; change nothing.")
@click.option(
    "--rules",
    "rules_file",
    type=click.Path(dir_okay=False, exists=True),
    default=None,
    help="Province/city rules override (YAML, deep-merged over transforms/rules.yaml).",
)
@click.option("--by", default="regulator", show_default=True, help="Who runs it (recorded).")
@FORMAT
@writes_lake
def retention_run(lake, as_of, dry_run, rules_file, by, fmt) -> None:
    """Delete (Delta DELETE, then VACUUM) every row past its table's period that no current hold
    covers; one event per table in ops.retention__deletions. A second run deletes nothing."""
    from transforms.lake.retention import RetentionError, check_as_of, run_retention
    from transforms.rules import load_rules

    root = existing_lake(lake)
    if as_of is not None:
        try:
            check_as_of(as_of)
        except RetentionError as exc:
            raise click.BadParameter(str(exc), param_hint="'--as-of'") from None
    try:
        run = run_retention(root, load_rules(rules_file), as_of, dry_run=dry_run, by=by)
    except (RetentionError, ValueError, FileNotFoundError) as exc:
        raise click.ClickException(str(exc)) from None
    data = run.to_dict()
    if fmt == "json":
        click.echo(json.dumps(data, ensure_ascii=False, indent=2, default=str))
        return
    head = "dry run: nothing deleted — " if dry_run else ""
    click.echo(f"{head}retention as of {run.as_of} (run {run.run_id}, {run.holds} current hold(s))")
    rows = [
        [t.table, str(t.period_days), str(t.cutoff),
         f"{t.rows_deleted:,}" if t.present else "absent", f"{t.rows_held:,}",
         str(t.files_removed)]
        for t in run.tables
    ]  # fmt: skip
    verb = "would delete" if dry_run else "deleted"
    echo_table(["table", "days", "cutoff", verb, "held", "files removed"], rows)
    done = "would be deleted" if dry_run else "deleted"
    click.echo(f"{data['rows_deleted']:,} row(s) {done}, {data['rows_held']:,} kept by holds")


@click.group()
def hold() -> None:
    """封存: legal holds on a vehicle (plate and colour) or an enterprise over a date range; what a
    current hold covers is never deleted by retention."""


@hold.command("add")
@LAKE_OPTION
@click.option("--plate", default=None, help="The vehicle's plate (车牌号), with --color.")
@click.option("--color", "plate_color", type=int, default=None, help="Plate colour (车牌颜色代码).")
@click.option(
    "--enterprise", "enterprise_id", default=None, help="The enterprise (统一社会信用代码)."
)
@click.option(
    "--from", "start", callback=parse_date, required=True, help="First day held (YYYY-MM-DD)."
)
@click.option("--to", "end", callback=parse_date, required=True, help="Last day held (YYYY-MM-DD).")
@click.option("--reason", required=True, help="Why, e.g. the accident it seals (事故封存).")
@click.option("--by", default="regulator", show_default=True, help="Who places it (recorded).")
@writes_lake
def hold_add(lake, plate, plate_color, enterprise_id, start, end, reason, by) -> None:
    """Place a hold: a plate with its colour, or an enterprise (its vehicles' data too, for the
    days they belonged to it), from --from to --to (both days included). Prints the hold id."""
    from transforms.lake.retention import RetentionError, add_hold, check_hold_dates

    root = existing_lake(lake)
    try:
        check_hold_dates(start, end)
    except RetentionError as exc:
        raise click.BadParameter(str(exc), param_hint="'--from' / '--to'") from None
    if plate and enterprise_id:
        raise click.UsageError("give --plate (with --color) or --enterprise, not both")
    if not plate and not enterprise_id:
        raise click.UsageError("give --plate (with --color) or --enterprise")
    if plate and plate_color is None:
        raise click.UsageError("--plate needs --color (the plate colour code)")
    try:
        placed = add_hold(root, plate=plate, plate_color=plate_color, enterprise_id=enterprise_id,
                          start=start, end=end, reason=reason, by=by)  # fmt: skip
    except RetentionError as exc:
        raise click.UsageError(str(exc)) from None
    click.echo(f"{placed.hold_id}  {placed.subject}  {placed.from_date} – {placed.to_date}")


@hold.command("list")
@LAKE_OPTION
@click.option("--all", "include_released", is_flag=True, help="Released holds too.")
@FORMAT
def hold_list(lake, include_released, fmt) -> None:
    """The current holds (with --all, released ones too)."""
    from transforms.lake.retention import list_holds

    holds = list_holds(existing_lake(lake), include_released=include_released)
    if fmt == "json":
        data = [h.to_dict() for h in holds]
        click.echo(json.dumps(data, ensure_ascii=False, indent=2, default=str))
        return
    header = ["hold", "subject", "from", "to", "reason", "by", "at", "status"]
    rows = [[h.hold_id, h.subject, str(h.from_date), str(h.to_date), h.reason, h.by,
             cell(h.at)[:19], "active" if h.active else f"released {cell(h.released_at)[:10]}"]
            for h in holds]  # fmt: skip
    echo_table(header, rows)


@hold.command("release")
@LAKE_OPTION
@click.argument("hold_id")
@click.option("--reason", required=True, help="Why it is released (e.g. 调查结束).")
@click.option("--by", default="regulator", show_default=True, help="Who releases it (recorded).")
@writes_lake
def hold_release(lake, hold_id, reason, by) -> None:
    """Release HOLD_ID: the next retention run may delete what it kept."""
    from transforms.lake.retention import RetentionError, release_hold

    try:
        released = release_hold(existing_lake(lake), hold_id, reason, by)
    except RetentionError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"{released.hold_id} ({released.subject}): released")

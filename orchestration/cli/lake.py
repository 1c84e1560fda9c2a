"""Commands over the whole lake: run the pipeline, its status, SQL queries."""

from __future__ import annotations

import json
import sys

import click

from orchestration.cli.common import (
    LAKE_OPTION,
    cell,
    echo_table,
    existing_lake,
    parse_date,
)
from orchestration.cli.locking import WAIT_OPTION, lake_writer


def register(main: click.Group) -> None:
    for command in (run, status, query):
        main.add_command(command)


@click.command()
@LAKE_OPTION
@click.option("--start", callback=parse_date, default=None, help="First landing day (YYYY-MM-DD).")
@click.option("--end", callback=parse_date, default=None, help="Last landing day (YYYY-MM-DD).")
@click.option(
    "--rules",
    "rules_file",
    type=click.Path(dir_okay=False, exists=True),
    default=None,
    help="Province/city rules override (YAML, deep-merged over transforms/rules.yaml).",
)
@click.option(
    "--domain",
    "domains",
    multiple=True,
    metavar="NAME",
    help="Run only this domain's steps (repeatable; in the pipeline's order: licences first, "
    "the others check qualifications against them). Default: every domain.",
)
@WAIT_OPTION
def run(lake, start, end, rules_file, domains, wait) -> None:
    """Run the whole pipeline (through Dagster, in this process) for the landing days in range.

    One writer per lake: when another writer (a run, a Dagster run, rectify, retention …) holds
    the lake, says who and waits for it (--no-wait: exits with status 3 instead)."""
    from orchestration.pipeline import PipelineError, run_pipeline

    root = existing_lake(lake)
    try:
        with lake_writer(root, wait=wait):
            result = run_pipeline(
                root,
                start=start,
                end=end,
                rules_file=rules_file,
                progress=lambda m: click.echo(m, err=True),
                domains=domains or None,
            )
    except PipelineError as exc:
        raise click.ClickException(str(exc)) from None
    total = sum(s for *_, s in result.runs)
    click.echo(
        f"pipeline finished in {total:.1f} s: {len(result.runs)} run(s), "
        f"{len(result.days)} landing day(s). See `lakehouse status --lake {root}`."
    )


@click.command()
@LAKE_OPTION
@click.option(
    "--format", "fmt", type=click.Choice(["table", "json"]), default="table", show_default=True
)
def status(lake, fmt) -> None:
    """Tables, Delta versions, row counts and the last pipeline run."""
    from orchestration.status import lake_status

    root = existing_lake(lake)
    info = lake_status(root)
    if fmt == "json":
        click.echo(json.dumps(info, ensure_ascii=False, indent=2, default=str))
        return
    click.echo(f"lake {root}")
    rows = [
        (t["table"], str(t["version"]), f"{t['rows']:,}", str(t["files"]), t["modified"])
        for t in info["tables"]
    ]
    echo_table(["table", "version", "rows", "files", "last write"], rows)
    last = info["last_run"]
    if last:
        click.echo(
            f"last run: {last['status']} {last['started']} ({last['run_id'][:8]}, {last['assets']})"
        )
    else:
        click.echo("last run: none")


@click.command()
@LAKE_OPTION
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["table", "json", "csv"]),
    default="table",
    show_default=True,
)
@click.option(
    "--limit",
    type=int,
    default=1000,
    show_default=True,
    help="At most this many rows are printed (0: all).",
)
@click.argument("sql")
def query(lake, fmt, limit, sql) -> None:
    """Run SQL over the lake's registered tables, e.g. "SELECT * FROM silver.telematics__positions"."""
    from pyspark.errors import PySparkException

    from transforms.lake.session import get_spark

    root = existing_lake(lake)
    spark = get_spark(root)
    try:
        df = spark.sql(sql)
        if limit:
            df = df.limit(limit)
        pdf = df.toPandas()
    except PySparkException as exc:
        raise click.ClickException(f"query failed: {str(exc).splitlines()[0]}") from None
    if fmt == "json":
        click.echo(pdf.to_json(orient="records", force_ascii=False, date_format="iso"))
    elif fmt == "csv":
        pdf.to_csv(sys.stdout, index=False)
    else:
        echo_table(
            list(pdf.columns), [[cell(v) for v in row] for row in pdf.itertuples(index=False)]
        )
        click.echo(f"({len(pdf)} row{'s' if len(pdf) != 1 else ''})")

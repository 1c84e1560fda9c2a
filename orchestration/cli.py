"""`lakehouse`: generate sample data, run the pipeline, inspect and query the lake."""

from __future__ import annotations

import datetime as dt
import json
import sys
from pathlib import Path

import click

from transforms.lake.session import LAKE_ENV, lake_root

LAKE_OPTION = click.option(
    "--lake",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help=f"Lake root directory [default: ${LAKE_ENV}, else ./lake].",
)


def _date(_ctx, param, value: str | None) -> dt.date | None:
    if value is None:
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise click.BadParameter(f"{value!r} is not a date; use YYYY-MM-DD", param=param) from None


def _existing_lake(lake: Path | None) -> Path:
    root = lake_root(lake)
    if not root.is_dir():
        raise click.ClickException(
            f"lake {root} does not exist. Create a sample with `lakehouse generate --lake {root}` "
            f"or point --lake / ${LAKE_ENV} at an existing lake."
        )
    return root


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
def main() -> None:
    """Road-transport supervision lakehouse (道路运输监管数据湖).

    Lands telematics feeds into Delta tables, validates them, builds the gold marts and serves them.
    Typical use: `lakehouse generate`, then `lakehouse run`, then `lakehouse status` / `query`.
    """


@main.command()
@LAKE_OPTION
@click.option(
    "--start",
    callback=_date,
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
    type=click.FloatRange(0, 0.5),
    default=0.003,
    show_default=True,
    help="Fraction of records with an injected defect.",
)
@click.option("--force", is_flag=True, help="Overwrite landing files that already exist.")
@click.option("--json", "as_json", is_flag=True, help="Print the generation summary as JSON.")
def generate(lake, start, days, vehicles, seed, bad_rate, force, as_json) -> None:
    """Write realistic synthetic landing files (positions, vehicles, counties, …)."""
    from transforms.generate import generate_landing

    root = lake_root(lake)
    start = start or (dt.date.today() - dt.timedelta(days=7))
    try:
        summary = generate_landing(
            root,
            start=start,
            days=days,
            vehicles=vehicles,
            seed=seed,
            bad_rate=bad_rate,
            force=force,
            progress=None if as_json else (lambda m: click.echo(m, err=True)),
        )
    except FileExistsError as exc:
        raise click.ClickException(f"{exc} (use --force to overwrite)") from None
    data = summary.to_dict()
    if as_json:
        click.echo(json.dumps(data, ensure_ascii=False, indent=2, default=str))
        return
    click.echo(
        f"generated {data['lines_total']:,} position lines for {data['vehicles']} vehicles over "
        f"{days} day(s) from {start} in {root / 'landing'}\n"
        f"  injected defects: {data['malformed_lines']} malformed lines, "
        f"{data['unqualified_records']} unqualified records, {data['duplicate_records']} duplicates"
    )


@main.command()
@LAKE_OPTION
@click.option("--start", callback=_date, default=None, help="First landing day (YYYY-MM-DD).")
@click.option("--end", callback=_date, default=None, help="Last landing day (YYYY-MM-DD).")
@click.option(
    "--rules",
    "rules_file",
    type=click.Path(dir_okay=False, exists=True),
    default=None,
    help="Province/city rules override (YAML, deep-merged over transforms/rules.yaml).",
)
def run(lake, start, end, rules_file) -> None:
    """Run the whole pipeline (through Dagster, in this process) for the landing days in range."""
    from orchestration.pipeline import PipelineError, run_pipeline

    root = _existing_lake(lake)
    try:
        result = run_pipeline(
            root,
            start=start,
            end=end,
            rules_file=rules_file,
            progress=lambda m: click.echo(m, err=True),
        )
    except PipelineError as exc:
        raise click.ClickException(str(exc)) from None
    total = sum(s for *_, s in result.runs)
    click.echo(
        f"pipeline finished in {total:.1f} s: {len(result.runs)} run(s), "
        f"{len(result.days)} landing day(s). See `lakehouse status --lake {root}`."
    )


@main.command()
@LAKE_OPTION
@click.option(
    "--format", "fmt", type=click.Choice(["table", "json"]), default="table", show_default=True
)
def status(lake, fmt) -> None:
    """Tables, Delta versions, row counts and the last pipeline run."""
    from orchestration.status import lake_status

    root = _existing_lake(lake)
    info = lake_status(root)
    if fmt == "json":
        click.echo(json.dumps(info, ensure_ascii=False, indent=2, default=str))
        return
    click.echo(f"lake {root}")
    rows = [
        (t["table"], str(t["version"]), f"{t['rows']:,}", str(t["files"]), t["modified"])
        for t in info["tables"]
    ]
    _echo_table(["table", "version", "rows", "files", "last write"], rows)
    last = info["last_run"]
    if last:
        click.echo(
            f"last run: {last['status']} {last['started']} ({last['run_id'][:8]}, {last['assets']})"
        )
    else:
        click.echo("last run: none")


@main.command()
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

    root = _existing_lake(lake)
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
        _echo_table(
            list(pdf.columns), [[_cell(v) for v in row] for row in pdf.itertuples(index=False)]
        )
        click.echo(f"({len(pdf)} row{'s' if len(pdf) != 1 else ''})")


def _cell(value) -> str:
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


def _echo_table(header: list[str], rows: list) -> None:
    widths = [max([_width(h)] + [_width(r[i]) for r in rows]) for i, h in enumerate(header)]

    def line(cells) -> str:
        return "  ".join(c + " " * (w - _width(c)) for c, w in zip(cells, widths, strict=True))

    click.echo(line(header))
    click.echo("  ".join("-" * w for w in widths))
    for r in rows:
        click.echo(line(r))


if __name__ == "__main__":
    main()

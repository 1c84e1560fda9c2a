"""`lakehouse`: generate sample data, run the pipeline, inspect and query the lake."""

from __future__ import annotations

import datetime as dt
import json
import sys
from pathlib import Path

import click

from transforms.lake.session import LAKE_ENV, lake_root

BENCH_BASELINES = ("jvm_spark", "duckdb", "raw_scan")  # tests/bench/harness.py BASELINES
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
    type=click.FloatRange(0, 0.05),
    default=0.0007,
    show_default=True,
    help="Fraction of records given each kind of defect (9 kinds; the default gives a "
    "data-qualification rate near 99.4 %).",
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
@click.option(
    "--sizes",
    default="1M,10M,30M",
    show_default=True,
    help="Comma-separated sizes in position points (k, M suffixes).",
)
@click.option(
    "--work",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path(".bench"),
    show_default=True,
    help="Working directory: generated data is cached here and reused by the next run.",
)
@click.option(
    "--baselines",
    default=",".join(BENCH_BASELINES),
    show_default=True,
    help="Baseline engines to compare against (comma-separated), or 'none'.",
)
@click.option(
    "--baseline-max",
    default="10M",
    show_default=True,
    help="Run the baselines only up to this size ('all': every size; JVM Spark is slow).",
)
@click.option("--keep", is_flag=True, help="Keep each size's lake after the run (for inspection).")
@click.option(
    "--json", "as_json", is_flag=True, help="Print one JSON object (progress goes to stderr)."
)
def bench(sizes, work, baselines, baseline_max, keep, as_json) -> None:
    """Benchmark the telematics pipeline at several sizes against JVM Spark and DuckDB.

    For each size: generate a month of landing data (cached), run land → publish → facts →
    indicators, then time the same facts + monthly-indicator work on the baselines in the same
    run. Prints rows/s, MB/s, wall time and peak RSS per stage, the ratios baseline ÷ ours
    (above 1: we are faster) and how time grows with size. Example:
    `lakehouse bench --sizes 1M,10M --json`.
    """
    harness = _bench_harness()
    try:
        parsed = harness.parse_sizes(sizes)
        limit = None if baseline_max.strip().lower() == "all" else harness.parse_size(baseline_max)
    except ValueError as exc:
        raise click.BadParameter(str(exc)) from None
    engines = tuple(b.strip() for b in baselines.split(",") if b.strip() and b.strip() != "none")
    unknown = [b for b in engines if b not in harness.BASELINES]
    if unknown:
        raise click.BadParameter(
            f"unknown baseline(s) {', '.join(unknown)}; choose from {', '.join(harness.BASELINES)}"
        )

    def say(message: str) -> None:
        click.echo(message, err=as_json)

    result = harness.run_bench(parsed, work, engines, limit, keep, say)
    click.echo(harness.to_json(result) if as_json else "\n" + harness.render(result))


def _bench_harness():
    """The benchmark lives with the tests (tests/bench/) and needs the source tree."""
    root = Path(__file__).resolve().parents[1]
    if not (root / "tests" / "bench" / "harness.py").is_file():
        raise click.ClickException(
            f"the benchmark needs the source tree (tests/bench/ under {root}); run it from a clone"
        )
    if str(root) not in sys.path:
        sys.path.insert(0, str(root))
    from tests.bench import harness

    return harness


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


@main.group()
def report() -> None:
    """Regulator reports (stable JSON keys; see ../shared/domain/telematics.md)."""


@report.command("telematics")
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
def report_telematics(lake, level, period, fmt, subject, rules_file) -> None:
    """动态监控考核: indicators, score and pass/fail per subject for one period."""
    from transforms.lake.session import get_spark
    from transforms.rules import load_rules
    from transforms.telematics.report import REPORT_KEYS, explain, parse_period, report

    root = _existing_lake(lake)
    try:
        p = parse_period(period)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--period") from None
    spark = get_spark(root)
    try:
        if subject:
            data = explain(spark, root, level, p, subject, load_rules(rules_file))
            click.echo(json.dumps(data, ensure_ascii=False, indent=2, default=str))
            return
        rows = report(spark, root, level, p)
    except FileNotFoundError as exc:
        raise click.ClickException(str(exc)) from None
    if not rows:
        click.echo(f"no {level} assessed for {p.label}", err=True)
    if fmt == "json":
        click.echo(json.dumps(rows, ensure_ascii=False, indent=2))
    elif fmt == "csv":
        import csv

        writer = csv.DictWriter(sys.stdout, fieldnames=list(REPORT_KEYS), lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
    else:
        keys = ["subject_id", "subject_name", "vehicles", "online_vehicles", "score", "passed"]
        _echo_table(keys, [[_cell(r[k]) for k in keys] for r in rows])


@main.group()
def rectify() -> None:
    """整改清单 / 销号清单: rectification items after each monthly bulletin, and their status."""


@rectify.command("issue")
@LAKE_OPTION
@click.option("--period", required=True, help="The bulletin's month, YYYY-MM.")
@click.option(
    "--bulletin-date",
    callback=_date,
    default=None,
    help="Date of the monthly bulletin (月通报) [default: today].",
)
@click.option("--rules", "rules_file", type=click.Path(dir_okay=False, exists=True), default=None)
def rectify_issue(lake, period, bulletin_date, rules_file) -> None:
    """Create items for every subject that failed the month and every violation vehicle."""
    from transforms.rules import load_rules
    from transforms.telematics.rectification import RectificationError, issue

    root = _existing_lake(lake)
    try:
        result = issue(root, period, bulletin_date or dt.date.today(), load_rules(rules_file))
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
    from transforms.telematics.rectification import items_with_status

    items = items_with_status(_existing_lake(lake))
    if status:
        items = [i for i in items if i["status"] == status]
    if fmt == "json":
        click.echo(json.dumps(items, ensure_ascii=False, indent=2, default=str))
        return
    header = ["item", "period", "level", "subject", "problem", "due", "status"]
    rows = [[i["item_id"][:8], i["period"], i["level"], i["subject_name"] or i["subject_id"],
             i["problem"][:40], str(i["report_due"]),
             i["status"] + (" (late)" if i["overdue_now"] else "")] for i in items]  # fmt: skip
    _echo_table(header, rows)


def _change(lake, item, status, by, note) -> None:
    from transforms.telematics.rectification import RectificationError, change_status

    try:
        done = change_status(_existing_lake(lake), item, status, by, note)
    except RectificationError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"{done['item_id']} ({done['subject_name']}): {status}")


@rectify.command("report")
@LAKE_OPTION
@click.argument("item")
@click.option("--note", required=True, help="What the rectification report (整改报告) says.")
@click.option("--by", default="regulator", show_default=True, help="Who records it.")
def rectify_report(lake, item, note, by) -> None:
    """Record that ITEM's rectification report was received."""
    _change(lake, item, "reported", by, note)


@rectify.command("close")
@LAKE_OPTION
@click.argument("item")
@click.option("--disposal", required=True, help="The recorded disposal (处置结果) that closes it.")
@click.option("--by", default="regulator", show_default=True, help="Who closes it.")
def rectify_close(lake, item, disposal, by) -> None:
    """Close ITEM (销号); it must have been reported first."""
    _change(lake, item, "closed", by, disposal)


@rectify.command("refresh")
@LAKE_OPTION
@click.option("--today", callback=_date, default=None, help="Reference date [default: today].")
def rectify_refresh(lake, today) -> None:
    """Record `overdue` for open items whose report is past due."""
    from transforms.telematics.rectification import mark_overdue

    n = mark_overdue(_existing_lake(lake), today or dt.date.today())
    click.echo(f"{n} item(s) became overdue")


@rectify.command("anomalies")
@LAKE_OPTION
def rectify_anomalies(lake) -> None:
    """Vehicles newly attached to a provider under rectification (not allowed, 第四十一条)."""
    from transforms.telematics.rectification import newly_attached_anomalies

    found = newly_attached_anomalies(_existing_lake(lake))
    click.echo(json.dumps(found, ensure_ascii=False, indent=2, default=str))


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

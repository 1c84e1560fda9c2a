"""`lakehouse bench`: the benchmark (orchestration/bench/)."""

from __future__ import annotations

from pathlib import Path

import click

from orchestration.bench.harness import BASELINES


def register(main: click.Group) -> None:
    main.add_command(bench)


@click.command()
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
    default=",".join(BASELINES),
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
    from orchestration.bench import harness

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

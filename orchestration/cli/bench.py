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
    help="Comma-separated telematics sizes in position points (k, M suffixes); 'none': only the "
    "crypto, freight and ride-hailing sections.",
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
@click.option(
    "--end-to-end/--no-end-to-end",
    "end_to_end",
    default=True,
    show_default=True,
    help="Also race JVM Spark and DuckDB from the landing files to the monthly indicators.",
)
@click.option(
    "--crypto-seconds",
    type=click.FloatRange(min=0),
    default=0.5,
    show_default=True,
    help="Time each national-crypto operation (SM2, SM4, SM3) this long; 0: skip them.",
)
@click.option(
    "--freight-envelopes",
    type=click.IntRange(min=0),
    default=20_000,
    show_default=True,
    help="Network freight: open, verify and land this many single-document envelopes; 0: skip.",
)
@click.option(
    "--freight-waybills",
    type=click.IntRange(min=0),
    default=200_000,
    show_default=True,
    help="Network freight: a province-day of this many waybills (generated once, cached), its "
    "anomalies and statistics against DuckDB running the same SQL; 0: skip.",
)
@click.option(
    "--ridehailing-orders",
    type=click.IntRange(min=0),
    # a tenth of issue 11's company-month (1 M orders, 10 M points): at full size our publishing
    # step would need more memory than this 23 GB machine has (7.5 GB peak at a tenth)
    default=100_000,
    show_default=True,
    help="Ride-hailing: land and evaluate one company-month of about this many orders (generated "
    "once, cached) against JVM Spark on the same plan and DuckDB on the same SQL (those of "
    "--baselines); 0: skip. Issue 11's size is 1000000 with --ridehailing-positions 10000000.",
)
@click.option(
    "--ridehailing-positions",
    type=click.IntRange(min=0),
    default=1_000_000,
    show_default=True,
    help="Ride-hailing: position points (positionDriver + positionVehicle) of that month, about.",
)
@click.option("--keep", is_flag=True, help="Keep each size's lake after the run (for inspection).")
@click.option(
    "--json", "as_json", is_flag=True, help="Print one JSON object (progress goes to stderr)."
)
def bench(
    sizes,
    work,
    baselines,
    baseline_max,
    end_to_end,
    crypto_seconds,
    freight_envelopes,
    freight_waybills,
    ridehailing_orders,
    ridehailing_positions,
    keep,
    as_json,
) -> None:
    """Benchmark the telematics pipeline at several sizes against JVM Spark and DuckDB.

    For each size: generate a month of landing data (cached), run land → publish → facts →
    indicators, then, in the same run, time the same facts + monthly-indicator work from the
    silver snapshot on the baselines (the compared work), and race JVM Spark and DuckDB end to
    end: the same landing files (JSON, CSV and the raw JT/T 809/808 frames, which they decode
    with the project's codec) to the same monthly indicators, against our land + publish +
    compared work. Every engine must compute the same monthly indicators: a difference is
    reported and the command exits with status 1.

    Prints seconds, rows/s, records/s, MB/s and peak RSS per stage, the ratios baseline ÷ ours
    (above 1: we are faster) for the compared work and end to end, a province-day (≈ 288 M
    points) extrapolated from the largest size's end-to-end rate on this machine's cores, and how
    time grows with size; SM2 sign / verify / decrypt per second, SM4 and SM3 MB/s; and network
    freight: envelopes opened and landed per second, a province-day's anomalies and statistics
    against DuckDB running the same SQL; ride-hailing: one company-month (by default a tenth of
    the issue's 1 M orders and 10 M points) landed and evaluated, each stage's seconds and
    records/s, against JVM Spark running our plan and DuckDB the same SQL (the issue's targets:
    ×3 and ×0.8). Example: `lakehouse bench --sizes 1M,10M --json`.
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

    result = harness.run_bench(
        parsed,
        work,
        engines,
        limit,
        keep,
        say,
        end_to_end=end_to_end,
        crypto_seconds=crypto_seconds,
        freight_envelopes=freight_envelopes,
        freight_waybills=freight_waybills,
        ridehailing_orders=ridehailing_orders,
        ridehailing_positions=ridehailing_positions,
    )
    click.echo(harness.to_json(result) if as_json else "\n" + harness.render(result))
    if result.mismatches:
        raise click.ClickException(
            "engines computed different results:\n" + "\n".join(result.mismatches)
        )

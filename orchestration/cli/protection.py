"""Data protection commands shared by every domain: tamper evidence (防篡改) through the SM3
manifest of landed files and bronze commits (transforms/lake/manifest.py)."""

from __future__ import annotations

import json
import sys

import click

from orchestration.cli.common import LAKE_OPTION, echo_table, existing_lake
from orchestration.cli.locking import writes_lake


def register(main: click.Group) -> None:
    main.add_command(verify)
    main.add_command(manifest)


@click.command()
@LAKE_OPTION
@click.option(
    "--format", "fmt", type=click.Choice(["table", "json"]), default="table", show_default=True
)
def verify(lake, fmt) -> None:
    """Verify the tamper-evidence manifest (防篡改校验): recompute the SM3 of every landed file and
    of every file a bronze commit wrote (its _delta_log entry and every data file it added).

    Prints files_checked, commits_checked and mismatches (path relative to the lake, expected,
    actual); exits 1 when any file does not match. Only checks, never records: new landings are
    recorded by the landing itself or `lakehouse manifest record`.
    """
    from transforms.lake.manifest import verify as verify_manifest

    report = verify_manifest(existing_lake(lake))
    mismatches = report["mismatches"]
    if fmt == "json":
        click.echo(json.dumps(report, ensure_ascii=False, indent=2))
    else:
        click.echo(
            f"files_checked {report['files_checked']}, commits_checked "
            f"{report['commits_checked']}, mismatches {len(mismatches)}"
        )
        click.echo(
            f"removed (vacuumed after a recorded commit) {report['removed']}, expired log "
            f"entries {report['expired']}, not yet recorded: {report['unrecorded_commits']} "
            f"commit(s), {report['unrecorded_files']} landed file(s)"
        )
        if mismatches:
            echo_table(
                ["path", "expected", "actual"],
                [
                    (m["path"], m["expected"] or "(not recorded)", m["actual"] or "(missing)")
                    for m in mismatches
                ],
            )
    if mismatches:
        if fmt == "table":
            click.echo(
                f"{len(mismatches)} file(s) do not match the manifest (篡改或删除)", err=True
            )
        sys.exit(1)


@click.group()
def manifest() -> None:
    """The tamper-evidence manifest (ops.manifest): SM3 of landed files and bronze commits."""


@manifest.command("record")
@LAKE_OPTION
@writes_lake
def record(lake) -> None:
    """Record every landed file and bronze commit not in the manifest yet (landing assets do
    this after every landing). Append-only; a landed file keeps the digest taken at landing."""
    from transforms.lake.manifest import record as record_manifest

    root = existing_lake(lake)
    counts = record_manifest(root)
    click.echo(
        f"manifest of {root}: recorded " + ", ".join(f"{n} {kind}" for kind, n in counts.items())
    )

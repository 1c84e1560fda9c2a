"""`lakehouse`: generate sample data, run the pipeline, inspect and query the lake.

The command group and the commands every domain shares live here and in :mod:`.lake` / :mod:`.bench`;
each domain adds its own commands from ``orchestration/cli/<domain>.py`` (a ``register(main)``
function), iterated over ``transforms.domains.DOMAINS``.
"""

from __future__ import annotations

import importlib
from pathlib import Path

import click

from transforms.domains import DOMAINS


class AuditedGroup(click.Group):
    """The `lakehouse` group: every command that names an existing lake (``--lake``, else
    ``$LAKEHOUSE_LAKE`` / ``./lake``) leaves a row in its ``ops.audit_log`` — who, what (the
    arguments, secret values masked), from where, how it ended (transforms/lake/audit.py). Help
    and commands whose lake does not exist leave none."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        ctx.meta["audit_args"] = list(args)
        return super().parse_args(ctx, args)

    def invoke(self, ctx: click.Context):
        args = ctx.meta.get("audit_args", [])
        outcome, detail = "ok", {}
        try:
            return super().invoke(ctx)
        except click.exceptions.Exit as exc:
            outcome = "ok" if exc.exit_code == 0 else "error"
            detail = {"exit_code": exc.exit_code}
            raise
        except click.Abort:
            outcome = "aborted"
            raise
        except click.ClickException as exc:
            outcome, detail = "error", {"exit_code": exc.exit_code, "error": _first_line(exc)}
            raise
        except Exception as exc:
            outcome, detail = "error", {"error": f"{type(exc).__name__}: {_first_line(exc)}"}
            raise
        finally:
            _audit(args, outcome, detail)


def _first_line(exc: BaseException) -> str:
    text = exc.format_message() if isinstance(exc, click.ClickException) else str(exc)
    return (text.strip().splitlines() or [""])[0][:300]


def _audit(args: list[str], outcome: str, detail: dict) -> None:
    if not args or any(a in ("--help", "-h") for a in args):
        return
    from transforms.lake import audit
    from transforms.lake.session import lake_root

    lake = None
    for i, arg in enumerate(args):
        if arg == "--lake" and i + 1 < len(args):
            lake = args[i + 1]
        elif arg.startswith("--lake="):
            lake = arg.partition("=")[2]
    root = lake_root(Path(lake) if lake else None)
    if not root.is_dir():
        return
    command = " ".join(a for a in args[:2] if not a.startswith("-"))
    try:
        audit.record(root, channel="cli", action=f"lakehouse {command}",
                     target=audit.masked_arguments(args), outcome=outcome, detail=detail)  # fmt: skip
        audit.collect_inbox(root)  # Superset's events waiting in the lake's audit inbox
    except Exception as exc:  # the command's own outcome stands; say the audit row is missing
        click.echo(f"warning: no audit row written to {root}: {exc}", err=True)


@click.group(
    cls=AuditedGroup,
    context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100},
)
def main() -> None:
    """Road-transport supervision lakehouse (道路运输监管数据湖).

    Lands telematics feeds into Delta tables, validates them, builds the gold marts and serves them.
    Typical use: `lakehouse generate`, then `lakehouse run`, then `lakehouse status` / `query`.
    """


@main.group()
def report() -> None:
    """Regulator reports, one command per domain (stable JSON keys; ../shared/domain/)."""


def _register() -> None:
    from orchestration.cli import bench, keys, lake

    lake.register(main)
    bench.register(main)
    keys.register(main)
    importlib.import_module("orchestration.cli.protection").register(main)
    importlib.import_module("orchestration.cli.retention").register(main)
    importlib.import_module("orchestration.cli.profile").register(main)
    importlib.import_module("orchestration.cli.bulletin").register(main)
    for domain in DOMAINS:
        importlib.import_module(f"orchestration.cli.{domain.name}").register(main, report)


_register()

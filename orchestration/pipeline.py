"""Run the whole pipeline for a lake in this process, through Dagster (runs recorded in $DAGSTER_HOME)."""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import dagster as dg

from orchestration.environment import ensure_dagster_home, lake_tags, resources
from transforms.domains import DOMAINS
from transforms.lake import audit
from transforms.lake.conflicts import CommitConflict, is_commit_conflict
from transforms.lake.landing import folder_dates
from transforms.lake.lock import writer_lock

RANGE_START = "dagster/asset_partition_range_start"
RANGE_END = "dagster/asset_partition_range_end"


class PipelineError(Exception):
    """The pipeline could not run or a run failed."""


@dataclass
class PipelineResult:
    lake: Path
    days: list[dt.date]
    runs: list[tuple[str, str, bool, float]] = field(default_factory=list)  # name, run id, ok, s

    @property
    def success(self) -> bool:
        return all(ok for _, _, ok, _ in self.runs)


def _table_of(step_key: str) -> str:
    """The table a step writes, from its key (``silver__telematics__routes`` →
    ``silver.telematics__routes``); other steps (dbt) by their key."""
    layer, _, rest = step_key.partition("__")
    return f"{layer}.{rest}" if rest and "__" in rest else step_key


def conflict_line(error, step_key: str) -> str:
    """The one line for a step that failed on a Delta commit conflict (``error``: the step
    failure's serialised error): the :class:`CommitConflict` it raised, naming the table and the
    retries, else a conflict named after the step's table."""
    found = error
    while found is not None and found.cls_name != CommitConflict.__name__:
        found = found.cause or found.context
    if found is None:
        return str(CommitConflict(_table_of(step_key)))
    prefix = f"{CommitConflict.__module__}.{CommitConflict.__name__}: "
    return found.message.strip().removeprefix(prefix).removeprefix(f"{CommitConflict.__name__}: ")


def brief(message: str, limit: int = 6) -> str:
    """A step's error for the terminal: its first line (a dbt failure's first line holds the whole
    command with the rules as --vars: cut) and, for dbt, the errors parsed from its log; the full
    text stays in the run's event log (Dagster UI)."""
    lines = [line.rstrip() for line in message.strip().splitlines() if line.strip()]
    if not lines:
        return "failed"
    first = lines[0] if len(lines[0]) <= 200 else lines[0][:200] + " …"
    parsed = next((i for i, line in enumerate(lines) if line.startswith("Errors parsed")), None)
    rest = lines[parsed : parsed + limit] if parsed is not None else lines[1:limit]
    return "\n    ".join([first, *rest])


# the terminal shows the assets' own progress lines (INFO); Dagster's step chatter (DEBUG) stays in
# the run's event log, visible in the Dagster UI
CONSOLE = {"loggers": {"console": {"config": {"log_level": "INFO"}}}}


def run_pipeline(
    lake: Path,
    start: dt.date | None = None,
    end: dt.date | None = None,
    rules_file: str | None = None,
    progress: Callable[[str], None] = print,
    domains: Sequence[str] | None = None,
) -> PipelineResult:
    """For every domain (``transforms.domains.DOMAINS``; or only those named in ``domains``), in
    its own order (``defs/<domain>/`` ``PIPELINE``): land, validate and publish the landing days
    in [start, end] (default: all), then refresh what is built on them; then the dbt models of
    every domain that ran, in one run (one dbt start: ``defs/marts.py``), and the steps that read
    them (``after_marts``); then what reads every domain (``defs/profile.py``: 车辆/企业画像)."""
    if not lake.is_dir():
        raise PipelineError(
            f"lake {lake} does not exist; create it with `lakehouse generate --lake {lake}` "
            "or point --lake / $LAKEHOUSE_LAKE at an existing lake"
        )
    if start and end and start > end:
        raise PipelineError(f"--start {start} is after --end {end}")
    known = [d.name for d in DOMAINS]
    unknown = sorted(set(domains or ()) - set(known))
    if unknown:
        raise PipelineError(f"no domain {', '.join(unknown)}; the domains: {', '.join(known)}")
    chosen = set(domains or known)
    if any(feed.sensitive for d in DOMAINS for feed in d.feeds):
        from transforms.crypto.keys import KeyFileError
        from transforms.lake.protection import ProtectionKeys

        try:  # personal fields cannot land without their keys: say so before any run starts
            ProtectionKeys.load()
        except KeyFileError as exc:
            raise PipelineError(str(exc)) from None
    home = ensure_dagster_home(lake)
    from orchestration.defs import domain_modules
    from orchestration.defs.marts import dbt_marts, marts
    from orchestration.defs.partitions import landing_days

    valid = set(landing_days.get_partition_keys())
    by_domain: dict[str, list[dt.date]] = {}
    for d in DOMAINS:
        present = {day for feed in d.feeds if feed.by_day for day in folder_dates(lake, feed)}
        by_domain[d.name] = [
            day
            for day in sorted(present)
            if (start is None or day >= start) and (end is None or day <= end)
        ]
    days = sorted({day for name, ds in by_domain.items() if name in chosen for day in ds})
    outside = [d for d in days if d.isoformat() not in valid]
    if outside:
        raise PipelineError(
            f"landing folders outside the partition range ({landing_days.start:%Y-%m-%d} … today): "
            + ", ".join(d.isoformat() for d in outside)
        )
    result = PipelineResult(lake=lake, days=days)
    instance = dg.DagsterInstance.from_config(str(home))
    res = resources(lake=str(lake), rules_file=rules_file)

    def execute(
        name: str,
        assets: list,
        tags: dict[str, str] | None = None,
        selection: dg.AssetSelection | None = None,
    ) -> None:
        """One Dagster run. A step failing on a Delta commit conflict (a writer outside the lake's
        lock) is retried by Dagster after 2, 4, 8 s when it is idempotent
        (``orchestration.defs.writer.on_commit_conflict``, ``pipeline.conflict_retries``)."""
        t0 = time.perf_counter()
        progress(f"▶ {name}")
        run = dg.materialize(
            assets,
            selection=selection,
            instance=instance,
            resources=res,
            tags={**lake_tags(lake), **(tags or {})},
            raise_on_error=False,
            run_config=CONSOLE,
        )
        seconds = time.perf_counter() - t0
        result.runs.append((name, run.run_id, run.success, seconds))
        span = f"{tags[RANGE_START]} … {tags[RANGE_END]}" if tags else ""
        audit.record(lake, channel="pipeline", action=name, target=span,
                     outcome="ok" if run.success else "error",
                     detail={"run_id": run.run_id, "seconds": round(seconds, 1)})  # fmt: skip
        for event in run.all_events:
            if event.event_type_value == "STEP_FAILURE":
                error = event.event_specific_data.error
                if is_commit_conflict(error):  # one line naming the table, not the stack
                    progress(f"  ✗ {conflict_line(error, event.step_key)}")
                else:
                    progress(f"  ✗ {event.step_key}: {brief(error.message)}")
            elif event.event_type_value == "ASSET_CHECK_EVALUATION":
                data = event.event_specific_data
                if not data.passed:
                    progress(f"  ✗ check {data.check_name} on {data.asset_key.to_user_string()}")
        progress(f"  {'✓' if run.success else '✗'} {name}: {seconds:.1f} s (run {run.run_id[:8]})")
        if not run.success:
            raise PipelineError(f"run {name} failed (run id {run.run_id}); see the Dagster UI")

    # one writer per lake: `lakehouse run` holds the lock already (it says who holds the lake
    # and waits, or refuses); another caller waits here silently
    with writer_lock(lake, "lakehouse run"):
        runs = [(d, m) for d, m in zip(DOMAINS, domain_modules(), strict=True) if d.name in chosen]
        for d, module in runs:
            domain_days = by_domain[d.name]
            for step in module.PIPELINE:
                if step.after_marts:
                    continue
                if not step.by_day:
                    execute(step.name, step.assets)
                elif domain_days:
                    first, last = domain_days[0].isoformat(), domain_days[-1].isoformat()
                    progress(f"{d.name}: landing days {first} … {last} ({len(domain_days)} day(s))")
                    execute(step.name, step.assets, tags={RANGE_START: first, RANGE_END: last})
                else:
                    progress(f"{d.name}: no landing days in range")
        # the dbt models of every domain run: one dbt start (orchestration/defs/marts.py)
        names = [d.name for d, _ in runs]
        execute(f"dbt: marts of {', '.join(names)}", [dbt_marts], selection=marts(*names))
        for _, module in runs:
            for step in module.PIPELINE:
                if step.after_marts:
                    execute(step.name, step.assets)
        # across the domains (whichever ran): 车辆/企业画像 reads every domain's tables
        from orchestration.defs import profile

        for step in profile.PIPELINE:
            execute(step.name, step.assets)
    return result

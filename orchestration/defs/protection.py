"""Tamper evidence in Dagster, shared by every domain (transforms/lake/manifest.py).

- :func:`record_manifest` — called at the end of every domain's landing assets (telematics:
  ``bronze/telematics__positions`` and each master-feed bronze asset), so what a landing wrote is
  in the manifest seconds later, however the landing ran (``lakehouse run``, a schedule, the
  landing sensor, the UI). Recording there rather than inside ``land_feed`` keeps the landing
  code free of it; rather than once at the end of ``lakehouse run`` or in the daily job, so
  nothing written by a sensor-triggered landing waits a day unrecorded (a commit file changed
  before it is recorded would be blessed). It logs an observation of ``ops/manifest``.
- ``ops/manifest`` — the manifest table as an external asset (no bronze asset is shared by every
  domain, and the manifest is what the check is about), and its asset check ``manifest_verified``:
  ``transforms.lake.manifest.verify``, which only reads. A mismatch fails the check with
  ERROR severity and every mismatching path in its metadata; commits not recorded yet (a writer
  that is not a landing, e.g. retention, before the next landing records them) only WARN.
- ``protection_verify`` — a job of just that check; ``protection_verify_daily`` runs it every
  morning, after the nightly landing and assessment.
"""

from __future__ import annotations

from pathlib import Path

import dagster as dg

from orchestration.environment import LakehouseResource
from transforms.lake import manifest
from transforms.rules import load_rules

_PIPELINE = load_rules()["pipeline"]

MANIFEST = dg.AssetSpec(
    ["ops", "manifest"],
    description="Tamper evidence (第十七条): the SM3 digest of every landed file and of every file "
    "a bronze Delta commit wrote (log entry, data files, checkpoints); append-only, recorded by "
    "every landing asset.",
    group_name="protection",
    kinds={"delta"},
)


def record_manifest(context: dg.AssetExecutionContext, lake: Path) -> dict[str, int]:
    """Record what the landing just wrote in ``ops.manifest`` (call it at the end of a landing
    asset); logs the counts and an observation of ``ops/manifest``."""
    counts = manifest.record(lake)
    context.log.info(
        "manifest: recorded " + ", ".join(f"{n} {kind}(s)" for kind, n in counts.items() if n)
        if any(counts.values())
        else "manifest: nothing new to record"
    )
    context.log_event(dg.AssetObservation(asset_key=MANIFEST.key, metadata=counts))
    return counts


def _mismatch_table(mismatches: list[dict]) -> str:
    lines = ["| path | expected | actual |", "|---|---|---|"]
    lines += [
        f"| {m['path']} | {m['expected'] or 'not recorded'} | {m['actual'] or 'missing'} |"
        for m in mismatches
    ]
    return "\n".join(lines)


@dg.asset_check(
    asset=MANIFEST.key,
    name="manifest_verified",
    description="Recompute the SM3 of every recorded landed file and bronze commit file; fails "
    "(ERROR) on any mismatch, naming every path.",
)
def manifest_verified(lakehouse: LakehouseResource) -> dg.AssetCheckResult:
    report = manifest.verify(lakehouse.root)
    mismatches = report["mismatches"]
    metadata = {k: v for k, v in report.items() if k != "mismatches"}
    metadata["mismatch_count"] = len(mismatches)
    metadata["mismatches"] = dg.MetadataValue.md(
        _mismatch_table(mismatches) if mismatches else "none"
    )
    passed = not mismatches and not report["unrecorded_commits"]
    return dg.AssetCheckResult(
        passed=passed,
        severity=dg.AssetCheckSeverity.ERROR if mismatches else dg.AssetCheckSeverity.WARN,
        metadata=metadata,
    )


verify_job = dg.define_asset_job(
    "protection_verify",
    selection=dg.AssetSelection.checks(manifest_verified),
    description="Verify the tamper-evidence manifest (`lakehouse verify`).",
)
_MINUTE, _HOUR = (int(x) for x in _PIPELINE["schedule_cron"].split()[:2])
verify_schedule = dg.ScheduleDefinition(
    job=verify_job,
    cron_schedule=f"{_MINUTE} {(_HOUR + 2) % 24} * * *",
    execution_timezone=_PIPELINE["timezone"],
    name="protection_verify_daily",
    description="Every morning, after the nightly landing: verify the SM3 manifest.",
)

defs = dg.Definitions(
    assets=[MANIFEST],
    asset_checks=[manifest_verified],
    jobs=[verify_job],
    schedules=[verify_schedule],
)

"""The landing-zone sensor of every domain: it watches each domain's feeds and requests a run of the
domain's daily job for every landing day whose by-day files changed (positions, frames …), and a run
of the domain's master job when any of its other feeds changed."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path

import dagster as dg

from orchestration.defs.partitions import landing_days
from orchestration.environment import LakehouseResource
from transforms.lake.domain import Domain
from transforms.lake.feeds import Feed
from transforms.rules import load_rules

_PIPELINE = load_rules()["pipeline"]


@dataclass(frozen=True)
class LandingJobs:
    """What a domain's landing triggers: a partitioned job per landing day of its by-day feeds,
    and a job for its other feeds (master data, events) whenever any of their files change."""

    domain: Domain
    by_day: dg.UnresolvedAssetJobDefinition | None
    whole: dg.UnresolvedAssetJobDefinition | None


def landing_metadata(result) -> dict:
    """What a landing asset reports of a ``LandingResult``: files landed / skipped / rejected,
    records, malformed lines, and the errors as a list."""
    return {
        "landed_files": result.landed_files,
        "skipped_files": result.skipped_files,
        "rejected_files": result.rejected_files,
        "records": result.records,
        "malformed_lines": result.malformed,
        "errors": dg.MetadataValue.md("\n".join(f"- {e}" for e in result.errors) or "none"),
    }


def landing_signature(lake: Path, feed: Feed) -> dict[str, str]:
    """Per date folder of ``feed``: a fingerprint of its files' names, sizes and mtimes."""
    base = lake / "landing" / feed.domain / feed.name
    out: dict[str, str] = {}
    if not base.is_dir():
        return out
    for folder in sorted(p for p in base.iterdir() if p.is_dir()):
        entries = sorted(
            (f.name, f.stat().st_size, int(f.stat().st_mtime))
            for f in folder.iterdir()
            if f.is_file()
        )
        if entries:
            out[folder.name] = hashlib.sha1(json.dumps(entries).encode()).hexdigest()[:16]
    return out


def _domain_requests(lake: Path, jobs: LandingJobs, previous: dict, valid: set[str]):
    """The run requests of one domain, and its new cursor."""
    domain = jobs.domain
    days: dict[str, str] = {}
    for feed in (f for f in domain.feeds if f.by_day):  # a day changes when any of its files do
        for day, signature in landing_signature(lake, feed).items():
            days[day] = (days.get(day, "") + signature)[-32:]
    requests = []
    if jobs.by_day is not None:
        for day, signature in days.items():
            if previous.get("days", {}).get(day) != signature and day in valid:
                requests.append(
                    dg.RunRequest(
                        job_name=jobs.by_day.name,
                        partition_key=day,
                        run_key=f"{domain.name}:{day}:{signature}",
                    )
                )
    whole = {f.key: landing_signature(lake, f) for f in domain.feeds if not f.by_day}
    # a domain none of whose other feeds has a file yet has nothing to land: no run
    if jobs.whole is not None and previous.get("whole") != whole and any(whole.values()):
        digest = hashlib.sha1(json.dumps(whole).encode()).hexdigest()[:16]
        requests.append(dg.RunRequest(job_name=jobs.whole.name, run_key=f"{domain.name}:{digest}"))
    return requests, {"days": days, "whole": whole}


def build_landing_sensor(all_jobs: list[LandingJobs]) -> dg.SensorDefinition:
    """One sensor over the landing zone of every domain (``transforms.domains.DOMAINS``)."""
    targets = [j for jobs in all_jobs for j in (jobs.by_day, jobs.whole) if j is not None]

    @dg.sensor(
        name="landing_sensor",
        jobs=targets,
        minimum_interval_seconds=int(_PIPELINE["sensor_interval_s"]),
        default_status=dg.DefaultSensorStatus.STOPPED,
        description="Requests, per domain, a run of its daily job for each landing day whose "
        "files changed, and of its master-data job when its other feeds changed.",
    )
    def landing_sensor(context: dg.SensorEvaluationContext, lakehouse: LakehouseResource):
        previous = json.loads(context.cursor) if context.cursor else {}
        valid = set(landing_days.get_partition_keys())
        cursor = {}
        for jobs in all_jobs:
            requests, cursor[jobs.domain.name] = _domain_requests(
                lakehouse.root, jobs, previous.get(jobs.domain.name, {}), valid
            )
            yield from requests
        context.update_cursor(json.dumps(cursor))

    return landing_sensor

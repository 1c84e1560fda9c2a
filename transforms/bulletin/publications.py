"""``ops.publications``: every version of every monthly bulletin published or corrected, with its
files' SM3 digests and the Delta version of every table its numbers came from; append-only.

- :func:`publish` — version 1 of a month's bulletin for a jurisdiction; a second publication of
  the same month and jurisdiction is refused (a correction is the way).
- :func:`correct` — version n+1, from the lake as it is now, accepted only inside the publicity
  window (公示期, 第三十六条: ``bulletin.publicity_working_days`` working days from version 1's
  publication, public holidays ``telematics.rectification.holidays`` skipped — the working-day
  count of the rectification items); a correction does not extend the window and never touches an
  earlier version's files or row.
- :func:`publication_on` — the publication of a day, whose recorded versions
  ``lakehouse report … --as-published DATE`` reads the tables at (transforms/lake/timetravel.py).

Files: ``<lake>/publications/<period>/bulletin_<period>_<jurisdiction>_v<n>.xlsx`` and ``.pdf``,
written before their row; a file without a row (a publication interrupted before it was recorded)
is not published and is replaced by the next attempt. Rows are appended with delta-rs to a table
created with ``delta.appendOnly=true`` (transforms/lake/audit.py does the same): no job updates or
deletes one.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import pyarrow as pa
from deltalake import DeltaTable, write_deltalake
from pyspark.sql import SparkSession

from transforms.bulletin import content, render
from transforms.crypto import sm3_file
from transforms.lake import audit, registry, timetravel
from transforms.lake.clock import TS, now_beijing

PUBLICATIONS = next(t for t in registry.SHARED_TABLES if t.name == "ops.publications")
FOLDER = "publications"
SCHEMA = pa.schema([
    ("publication_id", pa.string()),    # <period>/<jurisdiction>/v<version>
    ("period", pa.string()),            # YYYY-MM
    ("jurisdiction", pa.string()),      # GB/T 2260 code
    ("version", pa.int32()),            # 1 = the publication, 2… the corrections
    ("kind", pa.string()),              # publish | correct
    ("reason", pa.string()),            # the correction's reason (null for a publication)
    ("published_on", pa.date32()),      # the day it was published (--as-published matches it)
    ("published_at", TS),               # when it was made (GMT+8 wall clock): freight's as-of
    ("publicity_ends", pa.date32()),    # last day of the publicity window (version 1's)
    ("xlsx_path", pa.string()), ("xlsx_sm3", pa.string()),  # relative to the lake
    ("pdf_path", pa.string()), ("pdf_sm3", pa.string()),
    ("source_versions", pa.string()),   # JSON {table: Delta version read, null: absent}
    ("sections", pa.string()),          # JSON {section: rows published}
    ("by", pa.string()),                # who (transforms/lake/audit.py actor)
])  # fmt: skip
Progress = Callable[[str], None]


class PublicationError(ValueError):
    """A publication or correction refused (nothing written), or no publication on a day."""


def publicity_ends(published_on: dt.date, rules: Mapping[str, Any]) -> dt.date:
    """The last day of the publicity window of a bulletin published on ``published_on``."""
    from transforms.telematics.jobs.rectification import add_working_days

    days = int(rules["bulletin"]["publicity_working_days"])
    holidays = rules["telematics"]["rectification"].get("holidays") or []
    return add_working_days(published_on, days, {dt.date.fromisoformat(str(h)) for h in holidays})


def rows(lake: Path) -> list[dict[str, Any]]:
    """Every publication of the lake by period, jurisdiction and version (published_at naive)."""
    if not PUBLICATIONS.exists(lake):
        return []
    out = DeltaTable(str(PUBLICATIONS.location(lake))).to_pyarrow_table().to_pylist()
    for r in out:
        r["published_at"] = r["published_at"].replace(tzinfo=None)
    return sorted(out, key=lambda r: (r["period"], r["jurisdiction"], r["version"]))


def _versions_of(lake: Path, period: str, jurisdiction: str) -> list[dict[str, Any]]:
    return [r for r in rows(lake) if r["period"] == period and r["jurisdiction"] == jurisdiction]


def file_names(period: str, jurisdiction: str, version: int) -> tuple[str, str]:
    """The XLSX's and the PDF's paths relative to the lake."""
    stem = f"{FOLDER}/{period}/bulletin_{period}_{jurisdiction}_v{version}"
    return f"{stem}.xlsx", f"{stem}.pdf"


def _today(on: dt.date | None, now: dt.datetime) -> dt.date:
    day = on or now.date()
    if day > now.date():
        raise PublicationError(f"{day} is in the future (today is {now.date()})")
    return day


def publish(
    spark: SparkSession,
    lake: Path,
    period: str,
    jurisdiction: str | None,
    rules: Mapping[str, Any],
    on: dt.date | None = None,
    progress: Progress | None = None,
    now: dt.datetime | None = None,
) -> dict[str, Any]:
    """Publish version 1 of ``period``'s bulletin for ``jurisdiction`` (default: the province)
    on ``on`` (default today); return its ops.publications row."""
    say = progress or (lambda _m: None)
    now = (now or now_beijing()).replace(microsecond=0)
    jurisdiction = jurisdiction or str(rules["bulletin"]["province"])
    content.jurisdiction_prefix(jurisdiction)
    _, month_end = content.check_period(period)
    day = _today(on, now)
    if day <= month_end:
        raise PublicationError(f"{period} has not ended on {day}: a month is published after it")
    existing = _versions_of(lake, period, jurisdiction)
    if existing:
        last = existing[-1]
        raise PublicationError(
            f"the bulletin of {period} for {jurisdiction} was already published on "
            f"{existing[0]['published_on']} (latest version {last['version']}); it is never "
            f"published twice — a change is a correction, `lakehouse bulletin correct --period "
            f"{period} --jurisdiction {jurisdiction} --reason …`, accepted until "
            f"{existing[0]['publicity_ends']}"
        )
    ends = publicity_ends(day, rules)
    return _issue(spark, lake, period, jurisdiction, rules, 1, "publish", None, day, ends, now, say)


def correct(
    spark: SparkSession,
    lake: Path,
    period: str,
    jurisdiction: str | None,
    reason: str,
    rules: Mapping[str, Any],
    on: dt.date | None = None,
    progress: Progress | None = None,
    now: dt.datetime | None = None,
) -> dict[str, Any]:
    """Publish version n+1 of ``period``'s bulletin for ``jurisdiction`` from the lake as it is
    now, on ``on`` (default today), inside the publicity window; return its row."""
    say = progress or (lambda _m: None)
    now = (now or now_beijing()).replace(microsecond=0)
    jurisdiction = jurisdiction or str(rules["bulletin"]["province"])
    content.jurisdiction_prefix(jurisdiction)
    content.check_period(period)
    if not (reason or "").strip():
        raise PublicationError("a correction needs its reason (--reason)")
    existing = _versions_of(lake, period, jurisdiction)
    if not existing:
        raise PublicationError(
            f"no bulletin of {period} for {jurisdiction} has been published: publish it first "
            f"(`lakehouse bulletin publish --period {period} --jurisdiction {jurisdiction}`)"
        )
    first, last = existing[0], existing[-1]
    day = _today(on, now)
    if day < last["published_on"]:
        raise PublicationError(
            f"{day} is before version {last['version']} was published ({last['published_on']})"
        )
    if day > first["publicity_ends"]:
        raise PublicationError(
            f"the publicity window of {period} for {jurisdiction} ended on "
            f"{first['publicity_ends']} (published {first['published_on']}, "
            f"{rules['bulletin']['publicity_working_days']} working days): corrections are "
            f"accepted only inside it (第三十六条); nothing was written"
        )
    version = last["version"] + 1
    return _issue(
        spark, lake, period, jurisdiction, rules, version, "correct", reason.strip(), day,
        first["publicity_ends"], now, say,
    )  # fmt: skip


def _issue(
    spark: SparkSession,
    lake: Path,
    period: str,
    jurisdiction: str,
    rules: Mapping[str, Any],
    version: int,
    kind: str,
    reason: str | None,
    day: dt.date,
    ends: dt.date,
    now: dt.datetime,
    say: Progress,
) -> dict[str, Any]:
    with timetravel.recording() as versions:
        bulletin = content.build(spark, lake, period, jurisdiction, rules, day, now, say)
    edition = render.Edition(
        version=version, kind=kind, published_on=day, publicity_ends=ends, reason=reason,
        source_versions=dict(versions),
        publicity_days=int(rules["bulletin"]["publicity_working_days"]),
    )  # fmt: skip
    xlsx_rel, pdf_rel = file_names(period, jurisdiction, version)
    xlsx, pdf = lake / xlsx_rel, lake / pdf_rel
    try:
        say(f"writing {xlsx_rel}")
        render.write_xlsx(bulletin, edition, xlsx)
        say(f"writing {pdf_rel}")
        pages = render.write_pdf(bulletin, edition, pdf)
        say(f"  {pages} page(s)")
        row = {
            "publication_id": f"{period}/{jurisdiction}/v{version}",
            "period": period,
            "jurisdiction": jurisdiction,
            "version": version,
            "kind": kind,
            "reason": reason,
            "published_on": day,
            "published_at": now,
            "publicity_ends": ends,
            "xlsx_path": xlsx_rel,
            "xlsx_sm3": sm3_file(xlsx),
            "pdf_path": pdf_rel,
            "pdf_sm3": sm3_file(pdf),
            "source_versions": json.dumps(versions, sort_keys=True),
            "sections": json.dumps({s.key: len(s.rows) for s in bulletin.sections}),
            "by": audit.actor(),
        }
        write_deltalake(
            str(PUBLICATIONS.location(lake)), pa.Table.from_pylist([row], schema=SCHEMA),
            mode="append", configuration={"delta.appendOnly": "true"},
        )  # fmt: skip
    except BaseException:
        # not recorded, not published: no file of this version stays behind
        xlsx.unlink(missing_ok=True)
        pdf.unlink(missing_ok=True)
        raise
    say(f"recorded {row['publication_id']} in {PUBLICATIONS.name} ({len(versions)} source tables)")
    return row


def publication_on(lake: Path, day: dt.date, period: str | None = None) -> dict[str, Any]:
    """The publication made on ``day`` (of ``period`` when one of that day is; else the day's
    last), with ``source_versions`` as a mapping; a PublicationError listing the days that have
    one otherwise."""
    every = rows(lake)
    that_day = [r for r in every if r["published_on"] == day]
    if not that_day:
        days = sorted({r["published_on"].isoformat() for r in every})
        known = ", ".join(days) if days else "none — nothing has been published in this lake"
        raise PublicationError(f"no bulletin was published on {day}; days with one: {known}")
    same = [r for r in that_day if r["period"] == period]
    chosen = max(same or that_day, key=lambda r: (r["published_at"], r["version"]))
    return {**chosen, "source_versions": json.loads(chosen["source_versions"])}

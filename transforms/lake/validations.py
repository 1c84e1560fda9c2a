"""Every Great Expectations validation of every domain, kept (issue 13; access.md: the quality
owner sees the GX validation results and the Data Docs).

- ``ops.validation_results``: one row per expectation per validated batch and run — run id, time,
  domain, suite, batch, expectation, column, rule, observed value, success, counts — appended
  (``delta.appendOnly``), never updated.
- The GX JSON of each result and the suites, in the lake's file-backed GX project ``<lake>/ops/gx/``
  (``expectations/<suite>.json``, ``uncommitted/validations/<suite>/<run id>/<time>/<batch>.json``),
  rendered by GX's own Data Docs renderer into the static site ``<lake>/ops/data_docs/``
  (``index.html`` names every suite; one page per validation).

How a validation gets here: every domain validates through
:func:`expectations.suites.validate_dataframe`, which hands each validation to the recorders
registered with it. A :class:`RunRecorder` is registered for as long as a pipeline run is open
(the lake resource of every Dagster run opens one: orchestration/environment.py), so every
validation is kept the moment it ran, whichever domain made it, and no domain writes these
records itself. A validation of a (run, suite, batch) already kept — a step retried after a
commit conflict validates its batch again — is not kept twice; one of an empty batch (a job that
found nothing to publish) validated nothing and is not kept. When the run ends
(:meth:`RunRecorder.close`) the Data Docs are rebuilt from the kept results: the pages of the
run's validations, every suite's page and the index (:func:`build_data_docs`; ``full=True`` or a
missing index renders every kept result), and the quarantine summary is refreshed
(transforms/lake/quarantine.py).
"""

from __future__ import annotations

import datetime as dt
import json
import re
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
from deltalake import DeltaTable, write_deltalake

from expectations import suites
from transforms.lake import registry
from transforms.lake.clock import BEIJING, TS

VALIDATION_RESULTS = next(t for t in registry.SHARED_TABLES if t.name == "ops.validation_results")
SCHEMA = pa.schema([
    ("run_id", pa.string()),            # the Dagster run that validated
    ("validated_at", TS),               # GMT+8 wall-clock
    ("domain", pa.string()),            # from the suite's name: <domain>__<entity>
    ("suite", pa.string()),
    ("batch", pa.string()),             # what was validated: landing days, files (batch_label)
    ("suite_success", pa.bool_()),      # false: the suite failed (a blocking check held the batch)
    ("expectation", pa.string()),       # GX expectation type
    ("column_name", pa.string()),
    ("rule", pa.string()),              # the rule name (meta.rule), as quarantine tags it
    ("kwargs", pa.string()),            # JSON: the expectation's parameters (bounds, set, mostly)
    ("observed_value", pa.string()),
    ("success", pa.bool_()),
    ("element_count", pa.int64()),
    ("unexpected_count", pa.int64()),
    ("unexpected_percent", pa.float64()),
    ("data_docs_page", pa.string()),    # the validation's page, relative to the Data Docs site
])  # fmt: skip

GX_DIR = Path("ops") / "gx"  # the GX project (great_expectations.yml and its stores)
DATA_DOCS_DIR = Path("ops") / "data_docs"  # the static site
SITE = "lakehouse"
SITE_CONFIG = {
    "class_name": "SiteBuilder",
    "show_how_to_buttons": False,
    # relative to the GX project: <lake>/ops/data_docs/, the lake can move
    "store_backend": {"class_name": "TupleFilesystemStoreBackend", "base_directory": "../data_docs/"},
    # the index lists (and reads) the latest results only, so a rebuild stays quick over years
    "site_index_builder": {"class_name": "DefaultSiteIndexBuilder",
                           "validation_results_limit": 500},
}  # fmt: skip

_contexts: dict[Path, Any] = {}
_lock = threading.Lock()


def data_docs_index(lake: Path) -> Path:
    """The Data Docs site's index page of ``lake``."""
    return Path(lake) / DATA_DOCS_DIR / "index.html"


def gx_context(lake: Path) -> Any:
    """The lake's file-backed GX project (``<lake>/ops/gx``), created on first use with the Data
    Docs site ``<lake>/ops/data_docs`` and GX's analytics off; one per lake and process."""
    import great_expectations as gx

    root = Path(lake).resolve() / "ops"
    with _lock:
        context = _contexts.get(root)
        if context is None:
            root.mkdir(parents=True, exist_ok=True)
            context = gx.get_context(mode="file", project_root_dir=str(root))
            if context.config.analytics_enabled is not False:
                context.enable_analytics(False)
            sites = context.variables.data_docs_sites or {}
            if sites.get(SITE) != SITE_CONFIG:
                if SITE in sites:
                    context.update_data_docs_site(SITE, SITE_CONFIG)
                else:
                    context.add_data_docs_site(SITE, SITE_CONFIG)
            for other in set(sites) - {SITE}:  # GX's default local_site
                context.delete_data_docs_site(other)
            _contexts[root] = context
        return context


def batch_key(batch: str) -> str:
    """The batch as a GX batch identifier (a file name: letters, digits, ``._-``)."""
    return re.sub(r"[^0-9A-Za-z._-]+", "_", batch).strip("_")[:150] or "batch"


def domain_of(suite: str) -> str:
    """A suite is named after the table it guards, ``<domain>__<entity>``."""
    return suite.split("__", 1)[0] if "__" in suite else ""


def observed(result: dict[str, Any]) -> str:
    """What GX observed: its observed value where the expectation reports one, else the unexpected
    values of a column-map expectation as GX's Data Docs show them (the share of the non-null
    values), and the nulls a range or set expectation leaves to its not-null rule."""
    if result.get("observed_value") is not None:
        return json.dumps(result["observed_value"], ensure_ascii=False, default=str)
    unexpected = int(result.get("unexpected_count") or 0)
    percent = float(result.get("unexpected_percent") or 0.0)
    missing = int(result.get("missing_count") or 0)
    return f"{unexpected} unexpected ({percent:.2f} %)" + (f", {missing} null" if missing else "")


def kept_batches(lake: Path, run_id: str) -> set[tuple[str, str]]:
    """(suite, batch) of every validation of ``run_id`` already in ops.validation_results."""
    if not VALIDATION_RESULTS.exists(lake):
        return set()
    data = (
        DeltaTable(str(VALIDATION_RESULTS.location(lake)))
        .to_pyarrow_dataset()
        .to_table(columns=["suite", "batch"], filter=pc.field("run_id") == run_id)
    )
    return set(zip(data.column("suite").to_pylist(), data.column("batch").to_pylist(), strict=True))


class RunRecorder:
    """Keeps every validation made while it is registered (:meth:`open` … :meth:`close`) as the
    validations of run ``run_id`` of ``lake``."""

    def __init__(self, lake: Path, run_id: str, log: Callable[[str], None] | None = None) -> None:
        self.lake = Path(lake)
        self.run_id = run_id
        self.log = log or (lambda _m: None)
        self.kept: set[tuple[str, str]] | None = None  # read once, on the first validation
        self.keys: list[Any] = []  # GX ValidationResultIdentifiers kept by this run
        self.suites: set[str] = set()

    def open(self) -> RunRecorder:
        suites.add_recorder(self)
        return self

    def __call__(self, report: suites.ValidationReport, suite: Any, result: Any) -> None:
        """Keep one validation (``validate_dataframe`` calls this); an empty batch validated
        nothing and is not kept."""
        if report.rows == 0:
            return
        if self.kept is None:
            self.kept = kept_batches(self.lake, self.run_id)
        batch = report.batch or suites.batch_label()
        key = self._key(report.suite, batch, result)
        page = "validations/" + "/".join(key.to_tuple()) + ".html"
        if (report.suite, batch) in self.kept:  # a retried step: kept by its first attempt
            report.pages.append(self._kept_page(report.suite, batch) or page)
            return
        context = gx_context(self.lake)
        context.suites.add_or_update(suite)
        # an attempt that stored its result but failed before its rows: its JSON goes (the rows
        # are what marks a validation kept, and they are written last)
        store = self.lake / GX_DIR / "uncommitted" / "validations" / report.suite / self.run_id
        for stale in store.glob(f"*/{key.batch_identifier}.json"):
            stale.unlink()
        markers = result.meta.setdefault("batch_markers", {})
        markers.update({"lakehouse_batch": batch, "dagster_run_id": self.run_id})
        result.meta["run_id"] = key.run_id
        context.validation_results_store.set(key, result)
        append_rows(self.lake, rows(self.run_id, report, result, page))
        self.kept.add((report.suite, batch))
        self.keys.append(key)
        self.suites.add(report.suite)
        report.pages.append(page)

    def _key(self, suite_name: str, batch: str, result: Any) -> Any:
        from great_expectations.core.run_identifier import RunIdentifier
        from great_expectations.data_context.types.resource_identifiers import (
            ExpectationSuiteIdentifier,
            ValidationResultIdentifier,
        )

        at = result.meta.get("validation_time") or dt.datetime.now(dt.UTC)
        return ValidationResultIdentifier(
            ExpectationSuiteIdentifier(suite_name),
            RunIdentifier(run_name=self.run_id, run_time=at),
            batch_key(batch),
        )

    def _kept_page(self, suite_name: str, batch: str) -> str | None:
        if not VALIDATION_RESULTS.exists(self.lake):
            return None
        data = (
            DeltaTable(str(VALIDATION_RESULTS.location(self.lake)))
            .to_pyarrow_dataset()
            .to_table(
                columns=["data_docs_page"],
                filter=(pc.field("run_id") == self.run_id)
                & (pc.field("suite") == suite_name)
                & (pc.field("batch") == batch),
            )
        )
        pages = data.column("data_docs_page").to_pylist()
        return pages[0] if pages else None

    def close(self) -> Path | None:
        """Stop recording; when this run kept a validation, rebuild the Data Docs (its pages, the
        suites, the index) and the quarantine summary. Returns the index page, if built."""
        suites.remove_recorder(self)
        if not self.keys:
            return None
        index = build_data_docs(self.lake, self.keys, sorted(self.suites))
        self.log(f"data docs: {len(self.keys)} validation(s) of this run rendered; {index}")
        from transforms.lake import quarantine

        counts = quarantine.refresh(self.lake)
        self.log(f"quarantine summary: {counts} record(s) in the lake's quarantine tables")
        return index


def rows(run_id: str, report: suites.ValidationReport, result: Any, page: str) -> pa.Table:
    """The ops.validation_results rows of one validation (one per expectation)."""
    at = result.meta.get("validation_time")
    at = at.astimezone(BEIJING).replace(tzinfo=None) if at else None
    out = []
    for outcome, r in zip(report.outcomes, result.results, strict=True):
        kwargs = {k: v for k, v in r.expectation_config.kwargs.items() if k != "batch_id"}
        out.append({
            "run_id": run_id, "validated_at": at, "domain": domain_of(report.suite),
            "suite": report.suite, "batch": report.batch or suites.batch_label(),
            "suite_success": report.success, "expectation": outcome.expectation,
            "column_name": outcome.column, "rule": outcome.rule,
            "kwargs": json.dumps(kwargs, ensure_ascii=False, sort_keys=True, default=str),
            "observed_value": observed(r.result or {}), "success": outcome.success,
            "element_count": outcome.element_count, "unexpected_count": outcome.unexpected_count,
            "unexpected_percent": outcome.unexpected_percent, "data_docs_page": page,
        })  # fmt: skip
    return pa.Table.from_pylist(out, schema=SCHEMA)


def append_rows(lake: Path, data: pa.Table) -> None:
    """Append to ops.validation_results (created append-only on first use)."""
    write_deltalake(
        str(VALIDATION_RESULTS.location(Path(lake))), data, mode="append",
        configuration={"delta.appendOnly": "true"},
    )  # fmt: skip


def build_data_docs(
    lake: Path, keys: list[Any] | None = None, suite_names: list[str] | None = None
) -> Path:
    """Render the lake's Data Docs with GX's renderer: the validations ``keys`` and the suites
    ``suite_names`` (their pages), and the index; every kept result and suite when ``keys`` is
    None or the site has no index yet. Returns the index page."""
    from great_expectations.data_context.types.resource_identifiers import (
        ExpectationSuiteIdentifier,
    )

    context = gx_context(lake)
    index = data_docs_index(lake)
    if keys is None or not index.is_file():
        context.build_data_docs(site_names=[SITE])
    else:
        identifiers = [*keys, *(ExpectationSuiteIdentifier(name) for name in suite_names or ())]
        context.build_data_docs(site_names=[SITE], resource_identifiers=identifiers)
    return index


def page_url(lake: Path, page: str | None, base_url: str | None = None) -> str:
    """The URL of a Data Docs page (relative to the site; None: the index): under ``base_url``
    when the site is served (``make demo``: ``$LAKEHOUSE_DATA_DOCS_URL``), else a file URL."""
    relative = page or "index.html"
    if base_url:
        return f"{base_url.rstrip('/')}/{relative}"
    return (Path(lake).resolve() / DATA_DOCS_DIR / relative).as_uri()

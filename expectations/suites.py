"""Great Expectations suites as code, and running them on Spark Connect DataFrames.

Suites are built from the rule definitions in :mod:`expectations.rules`; never hand-edit GX JSON.
Each expectation carries ``meta.rule`` so a result maps back to the rule name used in quarantine.

Every validation of every domain goes through :func:`validate_dataframe`, which hands it — the
report, the suite and GX's own result — to the recorders registered with :func:`add_recorder`:
while a pipeline run is open, the lake's recorder (transforms/lake/validations.py) keeps it in
``ops.validation_results`` and as GX JSON for the Data Docs. A domain names the batch it validates
with :func:`batch_label` (its landing days and files), so a retried step is recognised.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

import great_expectations as gx
import great_expectations.expectations as gxe
from great_expectations.data_context.types.base import ProgressBarsConfig

from expectations.rules import Rule

DATASOURCE = "lakehouse_spark"

logging.getLogger("great_expectations").setLevel(logging.WARNING)


def _expectations(rule: Rule, mostly: float) -> list[gxe.Expectation]:
    meta = {"rule": rule.name}
    out: list[gxe.Expectation] = []
    if not rule.null_ok:
        out.append(gxe.ExpectColumnValuesToNotBeNull(column=rule.column, mostly=mostly, meta=meta))
    if rule.kind == "between":
        out.append(
            gxe.ExpectColumnValuesToBeBetween(
                column=rule.column,
                min_value=rule.params.get("min"),
                max_value=rule.params.get("max"),
                mostly=mostly,
                meta=meta,
            )
        )
    elif rule.kind == "max":
        out.append(
            gxe.ExpectColumnValuesToBeBetween(
                column=rule.column, max_value=rule.params["max"], mostly=mostly, meta=meta
            )
        )
    elif rule.kind == "in_set":
        out.append(
            gxe.ExpectColumnValuesToBeInSet(
                column=rule.column, value_set=rule.params["values"], mostly=mostly, meta=meta
            )
        )
    elif rule.kind == "regex":
        out.append(
            gxe.ExpectColumnValuesToMatchRegex(
                column=rule.column, regex=rule.params["pattern"], mostly=mostly, meta=meta
            )
        )
    elif rule.kind != "not_null":
        raise ValueError(f"unknown rule kind {rule.kind!r} in rule {rule.name}")
    return out


def build_suite(name: str, rules: list[Rule], mostly: float) -> gx.ExpectationSuite:
    """A suite with the expectations of ``rules``, each passing when ≥ ``mostly`` of rows comply."""
    expectations = [e for rule in rules for e in _expectations(rule, mostly)]
    return gx.ExpectationSuite(name=name, expectations=expectations)


@dataclass
class ExpectationOutcome:
    """One expectation's result, flattened for reports and Dagster metadata."""

    expectation: str
    column: str
    rule: str
    success: bool
    element_count: int
    unexpected_count: int
    unexpected_percent: float


@dataclass
class ValidationReport:
    """What a suite run found."""

    suite: str
    success: bool
    rows: int
    outcomes: list[ExpectationOutcome] = field(default_factory=list)
    batch: str = ""  # what was validated (batch_label): landing days, files
    # the Data Docs page of each validation behind this report (relative to the site), when a
    # recorder kept it (transforms/lake/validations.py)
    pages: list[str] = field(default_factory=list)

    @property
    def failed(self) -> list[ExpectationOutcome]:
        return [o for o in self.outcomes if not o.success]

    def unexpected_by_rule(self) -> dict[str, int]:
        """Unexpected rows per rule name (a rule's not-null and range counts add up)."""
        out: dict[str, int] = {}
        for o in self.outcomes:
            out[o.rule] = out.get(o.rule, 0) + o.unexpected_count
        return out

    @classmethod
    def combine(cls, reports: list[ValidationReport]) -> ValidationReport:
        """One report for a batch validated in passes: counts add up per expectation; it succeeds
        when every pass did."""
        if len(reports) == 1:
            return reports[0]
        merged: dict[tuple[str, str, str], ExpectationOutcome] = {}
        for report in reports:
            for o in report.outcomes:
                key = (o.expectation, o.column, o.rule)
                m = merged.get(key)
                if m is None:
                    merged[key] = ExpectationOutcome(**vars(o))
                    continue
                m.success = m.success and o.success
                m.element_count += o.element_count
                m.unexpected_count += o.unexpected_count
                m.unexpected_percent = (
                    100.0 * m.unexpected_count / m.element_count if m.element_count else 0.0
                )
        return cls(
            suite=reports[0].suite,
            success=all(r.success for r in reports),
            rows=sum(r.rows for r in reports),
            outcomes=list(merged.values()),
            batch=" + ".join(r.batch for r in reports if r.batch),
            pages=[page for r in reports for page in r.pages],
        )

    def summary(self) -> str:
        status = "passed" if self.success else "FAILED"
        lines = [f"suite {self.suite}: {status} on {self.rows} rows"]
        for o in self.outcomes:
            if o.unexpected_count:
                lines.append(
                    f"  {o.rule} ({o.expectation} on {o.column}): {o.unexpected_count} unexpected"
                    f" ({o.unexpected_percent:.2f} %){'' if o.success else ' — FAILED'}"
                )
        return "\n".join(lines)


# (report, suite, GX's ExpectationSuiteValidationResult) of every validation, see add_recorder
Recorder = Callable[[ValidationReport, gx.ExpectationSuite, Any], None]
_RECORDERS: list[Recorder] = []


def add_recorder(recorder: Recorder) -> None:
    """Hand every later validation to ``recorder`` (until :func:`remove_recorder`)."""
    _RECORDERS.append(recorder)


def remove_recorder(recorder: Recorder) -> None:
    if recorder in _RECORDERS:
        _RECORDERS.remove(recorder)


def batch_label(*, days: Iterable[Any] = (), files: Iterable[str] = (), what: str = "") -> str:
    """A stable name of a validated batch: its landing days (first … last), its files (how many,
    and the first 8 hex digits of a digest of their sorted SM3s: the same files, the same name)
    and ``what`` else it is, e.g. ``2026-09-29..2026-10-01 · 24 files 3f2a9c1b``."""
    day_list = sorted({str(d)[:10] for d in days if d is not None})
    file_list = sorted(set(files))
    parts = []
    if day_list:
        parts.append(day_list[0] if len(day_list) == 1 else f"{day_list[0]}..{day_list[-1]}")
    if file_list:
        digest = hashlib.sha256("\n".join(file_list).encode()).hexdigest()[:8]
        parts.append(f"{len(file_list)} file{'s' if len(file_list) > 1 else ''} {digest}")
    if what:
        parts.append(what)
    return " · ".join(parts) or "whole table"


def validate_dataframe(df: Any, suite: gx.ExpectationSuite, batch: str = "") -> ValidationReport:
    """Run ``suite`` on a Spark (Connect) DataFrame in an ephemeral GX context; ``batch`` names
    what the frame holds (:func:`batch_label`). The recorders (:func:`add_recorder`) get it."""
    context = gx.get_context(mode="ephemeral")
    context.variables.progress_bars = ProgressBarsConfig(globally=False)
    source = context.data_sources.add_or_update_spark(name=DATASOURCE)
    asset = source.add_dataframe_asset(name=suite.name)
    batch_definition = asset.add_batch_definition_whole_dataframe(f"{suite.name}__batch")
    suite = context.suites.add_or_update(suite)
    definition = context.validation_definitions.add_or_update(
        gx.ValidationDefinition(
            name=f"{suite.name}__validation", data=batch_definition, suite=suite
        )
    )
    result = definition.run(
        batch_parameters={"dataframe": df}, result_format={"result_format": "SUMMARY"}
    )
    outcomes = []
    rows = 0
    for r in result.results:
        cfg = r.expectation_config
        res = r.result or {}
        rows = max(rows, int(res.get("element_count") or 0))
        outcomes.append(
            ExpectationOutcome(
                expectation=cfg.type,
                column=cfg.kwargs.get("column", ""),
                rule=(cfg.meta or {}).get("rule", cfg.type),
                success=bool(r.success),
                element_count=int(res.get("element_count") or 0),
                unexpected_count=int(res.get("unexpected_count") or 0),
                unexpected_percent=float(res.get("unexpected_percent") or 0.0),
            )
        )
    report = ValidationReport(
        suite=suite.name, success=bool(result.success), rows=rows, outcomes=outcomes, batch=batch
    )
    for recorder in list(_RECORDERS):
        recorder(report, suite, result)
    return report

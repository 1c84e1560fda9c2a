"""Ride-hailing (网约车) suites: one per interface, over the records of a published batch — what
each record shows of completeness, normativity and its own truthfulness rules
(:mod:`transforms.ridehailing.checks`; the rule-level detail is in the defects).

The suites report, they never hold a batch back: a defective record is exactly what the
evaluation measures (第十四–十八条), so holding a company's bad batch would raise its score. A
suite failing (fewer than ``quality.min_pass_fraction`` of an interface's records passing a
dimension) warns in the Dagster check; the records are published and counted.
"""

from __future__ import annotations

import great_expectations as gx

from expectations.rules import Rule
from expectations.suites import build_suite

# dimension → the boolean column of a batch frame (transforms.ridehailing.jobs.publish)
DIMENSION_COLUMNS = {
    "completeness": "completeness_ok",
    "normativity": "normativity_ok",
    "truthfulness_own": "truthfulness_ok",
}


def record_rules() -> list[Rule]:
    # the columns are never null (a dimension's failed-rule list is always an array): no
    # not-null expectation beside each (it doubled the suite's queries)
    return [
        Rule(d, c, "in_set", {"values": [True]}, null_ok=True) for d, c in DIMENSION_COLUMNS.items()
    ]


def record_suite(interface: str, mostly: float) -> gx.ExpectationSuite:
    return build_suite(f"ridehailing__{interface}", record_rules(), mostly)

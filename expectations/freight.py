"""Freight (网络货运) suites: the field rules of each document kind (freight.md "Fine print",
result code 3005), one suite per kind, over the checks of every document that decrypted and parsed
in a batch (one boolean column per rule, :func:`transforms.freight.documents.document_failures`).

A document breaking a rule makes its envelope 3005 whatever the suite says; the suite decides
whether the batch is published at all: a kind whose rule most documents break (below
``quality.min_pass_fraction``) means a platform's software changed, and the batch is held.
"""

from __future__ import annotations

import great_expectations as gx

from expectations.rules import Rule
from expectations.suites import build_suite
from transforms.freight.documents import FIELD_RULES, rule_name


def document_rules(kind: str) -> list[Rule]:
    """The rules of ``kind`` as flag rules on the checks' columns."""
    return [
        Rule(rule_name(r), rule_name(r), "in_set", {"values": [True]}) for r in FIELD_RULES[kind]
    ]


def document_suite(kind: str, mostly: float) -> gx.ExpectationSuite:
    return build_suite(f"freight__{kind}", document_rules(kind), mostly)

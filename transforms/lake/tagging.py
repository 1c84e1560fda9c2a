"""Row-level rules (``expectations.rules.Rule``) as Spark columns, with the same semantics as their
GX expectations, for any domain: a domain tags each row with the names of the rules it breaks
(``failed_rules``) and validates the same rules with its GX suite, so both counts agree.
"""

from __future__ import annotations

from collections.abc import Iterable

from pyspark.sql import Column
from pyspark.sql import functions as F

from expectations.rules import Rule


def rule_passes(rule: Rule) -> Column:
    """True when the row satisfies ``rule`` (never null)."""
    col = F.col(rule.column)
    if rule.kind == "not_null":
        check = F.lit(True)
    elif rule.kind == "between":
        check = F.lit(True)
        if rule.params.get("min") is not None:
            check = check & (col >= F.lit(rule.params["min"]))
        if rule.params.get("max") is not None:
            check = check & (col <= F.lit(rule.params["max"]))
    elif rule.kind == "max":
        check = col <= F.lit(rule.params["max"])
    elif rule.kind == "in_set":
        check = col.isin(rule.params["values"])
    elif rule.kind == "regex":
        check = col.rlike(rule.params["pattern"])
    else:
        raise ValueError(f"unknown rule kind {rule.kind!r}")
    if rule.null_ok:
        return col.isNull() | F.coalesce(check, F.lit(False))
    return col.isNotNull() & F.coalesce(check, F.lit(False))


def failed_rules(rules: Iterable[Rule], *first: Column) -> Column:
    """An array of the names of the rules a row breaks, after ``first`` (string columns, null when
    not failed), in order; empty when it breaks none."""
    failed = [*first, *(F.when(~rule_passes(r), F.lit(r.name)) for r in rules)]
    return F.filter(F.array(*failed), lambda x: x.isNotNull())

"""Load the rules file: the shared sections (transforms/rules.yaml) and every domain's own sections
(transforms/<domain>/rules.yaml, under the domain's name), deep-merged with a jurisdiction override.

A domain's transforms read :func:`domain_rules`: its own sections beside the shared ones, so the
telematics code reads ``rules["qualification"]`` and ``rules["pipeline"]`` alike. dbt gets the whole
nested file as ``--vars`` (:func:`dbt_vars`) at run time; it keeps no copy of it.
"""

from __future__ import annotations

import copy
import json
import os
from pathlib import Path
from typing import Any

import yaml

DEFAULT_RULES_FILE = Path(__file__).with_name("rules.yaml")
RULES_ENV = "LAKEHOUSE_RULES"


def _merge(base: dict[str, Any], override: dict[str, Any]) -> dict[str, Any]:
    out = copy.deepcopy(base)
    for key, value in override.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = _merge(out[key], value)
        else:
            out[key] = value
    return out


def _yaml(path: Path) -> dict[str, Any]:
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    if not isinstance(data, dict):
        raise ValueError(f"rules file {path} must be a YAML mapping")
    return data


def default_rules() -> dict[str, Any]:
    """The shared sections with each domain's sections nested under its name."""
    from transforms.domains import DOMAINS

    rules = _yaml(DEFAULT_RULES_FILE)
    for domain in DOMAINS:
        if domain.name in rules:
            raise ValueError(
                f"{DEFAULT_RULES_FILE} must not hold the domain section {domain.name!r}"
            )
        section = _yaml(domain.rules_file)
        clash = set(section) & set(rules)
        if clash:
            raise ValueError(f"{domain.rules_file} repeats shared sections: {sorted(clash)}")
        rules[domain.name] = section
    return rules


def _unknown(extra: dict[str, Any], known: dict[str, Any], where: str = "") -> list[str]:
    """Keys of ``extra`` (one level into domain sections) that the defaults do not have."""
    out = []
    for key, value in extra.items():
        if key not in known:
            out.append(where + key)
        elif where == "" and isinstance(value, dict) and isinstance(known[key], dict):
            if key in _domain_names():
                out.extend(_unknown(value, known[key], f"{key}."))
    return out


def _domain_names() -> set[str]:
    from transforms.domains import DOMAINS

    return {d.name for d in DOMAINS}


def load_rules(
    override: str | os.PathLike | None = None, domain: str | None = None
) -> dict[str, Any]:
    """The default rules deep-merged with ``override`` (or ``$LAKEHOUSE_RULES``) when given; with
    ``domain``, that domain's view (:func:`domain_rules`)."""
    rules = default_rules()
    path = override or os.environ.get(RULES_ENV)
    if path:
        path = Path(path)
        if not path.is_file():
            raise FileNotFoundError(f"rules override file not found: {path}")
        extra = _yaml(path)
        unknown = _unknown(extra, rules)
        if unknown:
            raise ValueError(
                f"rules override {path} has unknown sections: {sorted(unknown)} (a domain's "
                "sections go under its name, e.g. `telematics: {scoring: {pass_score: 85}}`)"
            )
        rules = _merge(rules, extra)
    return domain_rules(rules, domain) if domain else rules


def domain_rules(rules: dict[str, Any], domain: str) -> dict[str, Any]:
    """What ``domain``'s transforms read: its own sections beside the shared ones."""
    domains = _domain_names()
    if domain not in domains:
        raise KeyError(f"unknown domain {domain!r}; known: {', '.join(sorted(domains))}")
    if domain not in rules:  # already a domain's view
        return rules
    shared = {k: v for k, v in rules.items() if k not in domains}
    return {**shared, **rules[domain]}


def dbt_vars(rules: dict[str, Any]) -> str:
    """The ``--vars`` of a dbt invocation: the whole nested rules file (dbt keeps no copy)."""
    return json.dumps({"rules": rules}, ensure_ascii=False, default=str)

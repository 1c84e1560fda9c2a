"""Load the rules file (transforms/rules.yaml), optionally deep-merged with a jurisdiction override."""

from __future__ import annotations

import copy
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


def load_rules(override: str | os.PathLike | None = None) -> dict[str, Any]:
    """The default rules, deep-merged with ``override`` (or ``$LAKEHOUSE_RULES``) when given."""
    rules = yaml.safe_load(DEFAULT_RULES_FILE.read_text(encoding="utf-8"))
    path = override or os.environ.get(RULES_ENV)
    if path:
        path = Path(path)
        if not path.is_file():
            raise FileNotFoundError(f"rules override file not found: {path}")
        extra = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        if not isinstance(extra, dict):
            raise ValueError(f"rules override {path} must be a YAML mapping")
        unknown = set(extra) - set(rules)
        if unknown:
            raise ValueError(f"rules override {path} has unknown sections: {sorted(unknown)}")
        rules = _merge(rules, extra)
    return rules

"""orchestration/defs/marts.py and dbt_manifest.py: what a run's dbt build leaves out, and the parse
state every run's dbt starts from."""

from __future__ import annotations

import os

from orchestration.defs.dbt_manifest import STATE, prepare_manifest
from orchestration.defs.marts import unit_test_args
from transforms.rules import load_rules


def test_a_run_leaves_dbt_unit_tests_to_ci_unless_the_rules_file_asks_for_them() -> None:
    rules = load_rules()
    assert rules["pipeline"]["dbt_unit_tests"] is False
    assert unit_test_args(rules) == ["--exclude-resource-type", "unit_test"]
    rules["pipeline"]["dbt_unit_tests"] = True
    assert unit_test_args(rules) == []


def test_the_manifest_is_parsed_again_when_another_dbt_command_wrote_it() -> None:
    manifest = prepare_manifest()
    assert "vars sha256 " in STATE.read_text()  # the rules are part of the parse state
    parsed = manifest.stat().st_mtime_ns
    assert prepare_manifest() == manifest and manifest.stat().st_mtime_ns == parsed  # kept
    # a dbt command run in the project's own target folder (another profile, another endpoint)
    later = STATE.stat().st_mtime_ns + 1_000_000_000
    os.utime(manifest, ns=(later, later))
    prepare_manifest()
    assert manifest.stat().st_mtime_ns != later  # parsed again
    assert STATE.stat().st_mtime_ns >= manifest.stat().st_mtime_ns

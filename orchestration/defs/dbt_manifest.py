"""The dbt manifest every domain's ``@dbt_assets`` is built from (one project, one manifest; each
domain selects its tag): parsed again when absent, older than the project's files, parsed with other
rules, or overwritten by another dbt command (``prepare_manifest``)."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

from orchestration.dbt_cli import PARSE_STATE, leave_endpoint_out_of_parse_state
from orchestration.environment import DBT_PROJECT_DIR
from transforms.lake.session import lake_root
from transforms.rules import dbt_vars, load_rules

MANIFEST = DBT_PROJECT_DIR / "target" / "manifest.json"
STATE = DBT_PROJECT_DIR / "target" / "parse_state.txt"
_SOURCES = ("models", "macros", "tests", "dbt_project.yml", "profiles.yml")


def _newest_source_mtime() -> float:
    newest = 0.0
    for name in _SOURCES:
        path = DBT_PROJECT_DIR / name
        paths = [path] if path.is_file() else path.rglob("*")
        for p in paths:
            if p.is_file():
                newest = max(newest, p.stat().st_mtime)
    return newest


def prepare_manifest() -> Path:
    """The dbt manifest, parsed again when absent, older than the project's files, parsed with
    another parse state (:data:`orchestration.dbt_cli.PARSE_STATE`) or other rules (the ``--vars``
    are part of dbt's parse state: a changed rules file made every run parse the whole project),
    or written since by another dbt command in the project's target folder. It is parsed as the
    runs' dbt steps parse — target ``remote`` (the endpoint left out of the parse state), the
    rules as ``--vars`` — so that the ``partial_parse.msgpack`` it leaves, which Dagster's dbt
    resource copies into each run's target folder, spares every run a whole parse (a lake run
    with another rules file than the default parses the whole project in each run)."""
    rules = dbt_vars(load_rules())
    state = f"{PARSE_STATE}\nvars sha256 {hashlib.sha256(rules.encode('utf-8')).hexdigest()}"
    if (
        MANIFEST.exists()
        and MANIFEST.stat().st_mtime >= _newest_source_mtime()
        and STATE.exists()
        # written after the parse: a manifest newer than it was parsed by another dbt command
        # (another profile or endpoint in its partial_parse.msgpack: every run would parse anew)
        and STATE.stat().st_mtime >= MANIFEST.stat().st_mtime
        and STATE.read_text() == state
    ):
        return MANIFEST
    from dbt.cli.main import dbtRunner

    leave_endpoint_out_of_parse_state()
    os.environ.setdefault("LAKEHOUSE_LAKE_ABS", str(lake_root()))
    # the runs' target; its endpoint is not part of the parse state, any value parses the same
    env = {"LAKEHOUSE_DBT_TARGET": "remote", "LAKEHOUSE_SPARK_HOST": "127.0.0.1",
           "LAKEHOUSE_SPARK_PORT": "15002"}  # fmt: skip
    saved = {k: os.environ.get(k) for k in env}
    os.environ.update(env)
    try:
        result = dbtRunner().invoke(
            [
                "parse",
                "--project-dir",
                str(DBT_PROJECT_DIR),
                "--profiles-dir",
                str(DBT_PROJECT_DIR),
                "--quiet",
                # the models read the rules while they are parsed (dbt keeps no copy of them)
                "--vars",
                rules,
            ]
        )
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
    if not result.success or not MANIFEST.exists():
        raise RuntimeError(f"dbt parse failed: {result.exception}")
    STATE.write_text(state)
    return MANIFEST

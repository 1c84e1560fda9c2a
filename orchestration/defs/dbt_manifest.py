"""The dbt manifest every domain's ``@dbt_assets`` is built from (one project, one manifest; each
domain selects its tag): parsed again when absent or older than the project's files."""

from __future__ import annotations

import os
from pathlib import Path

from orchestration.environment import DBT_PROJECT_DIR
from transforms.lake.session import lake_root
from transforms.rules import dbt_vars, load_rules

MANIFEST = DBT_PROJECT_DIR / "target" / "manifest.json"
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
    """The dbt manifest, parsed again when absent or older than the project's files."""
    if MANIFEST.exists() and MANIFEST.stat().st_mtime >= _newest_source_mtime():
        return MANIFEST
    from dbt.cli.main import dbtRunner

    os.environ.setdefault("LAKEHOUSE_LAKE_ABS", str(lake_root()))
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
            dbt_vars(load_rules()),
        ]
    )
    if not result.success or not MANIFEST.exists():
        raise RuntimeError(f"dbt parse failed: {result.exception}")
    return MANIFEST

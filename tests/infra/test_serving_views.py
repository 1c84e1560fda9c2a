"""serving.py without Superset: optional views follow the Delta tables that exist."""

from __future__ import annotations

import importlib.util
import shutil
import sys

import duckdb
import pytest
from superset_harness import SUPERSET_DIR


@pytest.fixture(scope="module")
def serving():
    spec = importlib.util.spec_from_file_location("lakehouse_serving", SUPERSET_DIR / "serving.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclass needs the module registered
    spec.loader.exec_module(module)
    try:
        module.find_delta_extension()
    except FileNotFoundError as exc:
        pytest.fail(f"the DuckDB delta extension is part of the install: {exc}")
    return module


def _views(serving, out, ext) -> dict[str, list]:
    con = duckdb.connect(str(out), read_only=True, config=serving.connect_config(ext))
    try:
        con.execute("LOAD delta")
        names = [
            r[0]
            for r in con.sql("SELECT view_name FROM duckdb_views() WHERE NOT internal").fetchall()
        ]
        return {n: con.execute(f"SELECT * FROM {n}").fetchall() for n in names}
    finally:
        con.close()


def test_optional_views_follow_the_lake(serving, gold_lake, tmp_path) -> None:
    lake = tmp_path / "lake"
    shutil.copytree(gold_lake.path / "gold", lake / "gold")
    shutil.rmtree(lake / "gold" / "telematics__assessments")
    out, ext = tmp_path / "serving.duckdb", tmp_path / "ext"
    serving.build_serving_db(lake, out, extension_dir=ext)
    assert set(_views(serving, out, ext)) == {"telematics__county_days", "telematics__vehicle_days"}

    for layer in ("silver", "ops"):
        shutil.copytree(gold_lake.path / layer, lake / layer)
    shutil.copytree(gold_lake.path / "gold" / "telematics__assessments",
                    lake / "gold" / "telematics__assessments")  # fmt: skip
    serving.build_serving_db(lake, out, extension_dir=ext)
    views = _views(serving, out, ext)
    assert set(views) == {v.name for v in serving.VIEWS}
    assert len(views["telematics__violations"]) == len(gold_lake.violations)

    shutil.rmtree(lake / "ops")  # a table that disappears takes its view with it
    serving.build_serving_db(lake, out, extension_dir=ext)
    assert "telematics__rectification" not in _views(serving, out, ext)

    shutil.rmtree(lake / "gold" / "telematics__county_days")
    with pytest.raises(FileNotFoundError, match="telematics__county_days"):
        serving.build_serving_db(lake, out, extension_dir=ext)

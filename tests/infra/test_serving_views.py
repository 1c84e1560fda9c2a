"""serving.py and build_bundle.py without Superset: the views per domain over gold tables, and every
dataset's declared columns on the serving file of a lake the real pipeline built."""

from __future__ import annotations

import importlib.util
import shutil
import sys
from pathlib import Path

import duckdb
import pytest
import yaml
from deltalake import DeltaTable
from superset_harness import SUPERSET_DIR

DASHBOARDS = SUPERSET_DIR / "dashboards"
# folders of dashboards over every domain: 车辆/企业画像; the quality owner's 数据质量 / 审计日志
CROSS_DOMAIN = {"profile", "quality"}


def _load(name: str):
    spec = importlib.util.spec_from_file_location(f"lakehouse_{name}", SUPERSET_DIR / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclass needs the module registered
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def serving():
    module = _load("serving")
    try:
        module.find_delta_extension()
    except FileNotFoundError as exc:
        pytest.fail(f"the DuckDB delta extension is part of the install: {exc}")
    return module


@pytest.fixture(scope="module")
def bundle():
    return _load("build_bundle")


def _connect(serving, out: Path, ext: Path) -> duckdb.DuckDBPyConnection:
    con = duckdb.connect(str(out), read_only=True, config=serving.connect_config(ext))
    con.execute("LOAD delta")
    return con


def _views(serving, out: Path, ext: Path) -> dict[str, list]:
    con = _connect(serving, out, ext)
    try:
        names = [
            r[0]
            for r in con.sql("SELECT view_name FROM duckdb_views() WHERE NOT internal").fetchall()
        ]
        return {n: con.execute(f"SELECT * FROM {n}").fetchall() for n in names}
    finally:
        con.close()


def _datasets() -> dict[str, dict]:
    """``{path below dashboards/: dataset YAML}`` of every domain."""
    return {
        path.relative_to(DASHBOARDS).as_posix(): yaml.safe_load(path.read_text(encoding="utf-8"))
        for path in sorted(DASHBOARDS.glob("*/datasets/**/*.yaml"))
    }


def test_views_are_select_star_over_gold_tables(serving) -> None:
    assert {v.domain for v in serving.VIEWS} == {"freight", "licences", "ridehailing", "telematics",
                                                 *CROSS_DOMAIN}  # fmt: skip
    for view in serving.VIEWS:
        # the quality owner's views read the lake's ops records, and are granted to it only
        assert view.table.startswith("gold.") or (
            view.domain == "quality" and view.table.startswith("ops.") and view.roles
        ), view
        sql = view.select("<scan>")
        assert sql.startswith("SELECT *") and sql.endswith("FROM <scan> AS t"), sql
    # the query-time computations: open items past their report due date, complete months
    flags = {v.name: v.reached_today for v in serving.VIEWS if v.reached_today}
    assert flags == {
        "telematics__rectification": (("overdue_now", "overdue_on"),),
        "freight__operator_months": (("is_complete", "complete_on"),),
        "ridehailing__company_months": (("is_complete", "complete_on"),),
    }
    passed = {v.name: v.passed_today for v in serving.VIEWS if v.passed_today}
    assert passed == {"telematics__assessments": (("is_complete", "period_end"),)}


def test_dashboard_folders_are_domains_with_a_dataset_per_view(serving) -> None:
    from transforms.domains import DOMAINS

    folders = serving.domains(DASHBOARDS)
    assert folders and set(folders) <= {d.name for d in DOMAINS} | CROSS_DOMAIN
    datasets = _datasets()
    for domain in folders:
        tables = {d["table_name"] for rel, d in datasets.items() if rel.startswith(f"{domain}/")}
        assert tables == {v.name for v in serving.VIEWS if v.domain == domain}


def test_a_new_domain_is_a_new_folder(serving, bundle, tmp_path) -> None:
    root = tmp_path / "dashboards"
    shutil.copytree(DASHBOARDS, root)
    (root / "taxi").mkdir()
    (root / "taxi" / "views.yaml").write_text(
        "views:\n  - {name: taxi__orders, table: gold.taxi__orders}\n",
        encoding="utf-8",
    )
    views = serving.load_views(root)
    assert [(v.domain, v.name, v.path) for v in views if v.domain == "taxi"] == [
        ("taxi", "taxi__orders", "gold/taxi__orders")
    ]
    assert len(views) == len(serving.VIEWS) + 1
    files = bundle.render_bundle(tmp_path / "s.duckdb", tmp_path / "ext", root)
    assert "taxi/views.yaml" not in files and "metadata.yaml" in files
    assert any(rel.startswith("charts/telematics/") for rel in files)

    (root / "taxi" / "views.yaml").write_text(
        "views:\n  - {name: telematics__x, table: gold.taxi__x}\n", encoding="utf-8"
    )
    with pytest.raises(ValueError, match="named taxi__<entity>"):
        serving.load_views(root)
    (root / "taxi" / "views.yaml").write_text(
        "views:\n  - {name: taxi__x, table: silver.taxi__x}\n", encoding="utf-8"
    )
    with pytest.raises(ValueError, match="views read gold tables only"):
        serving.load_views(root)
    (root / "taxi" / "views.yaml").write_text(
        "views:\n  - {name: taxi__x, table: ops.audit_log}\n", encoding="utf-8"
    )
    with pytest.raises(ValueError, match="names the roles it is for"):
        serving.load_views(root)
    shutil.copytree(root / "telematics" / "charts", root / "taxi" / "charts")
    with pytest.raises(ValueError, match="uuid .* is also"):
        bundle.render_bundle(tmp_path / "s.duckdb", tmp_path / "ext", root)


def test_optional_views_follow_the_lake(serving, gold_lake, tmp_path) -> None:
    lake = tmp_path / "lake"
    for name in ("telematics__county_days", "telematics__vehicle_days"):
        shutil.copytree(gold_lake.path / "gold" / name, lake / "gold" / name)
    out, ext = tmp_path / "serving.duckdb", tmp_path / "ext"
    serving.build_serving_db(lake, out, extension_dir=ext)
    assert set(_views(serving, out, ext)) == {"telematics__county_days", "telematics__vehicle_days"}

    shutil.rmtree(lake / "gold")
    shutil.copytree(gold_lake.path / "gold", lake / "gold")
    serving.build_serving_db(lake, out, extension_dir=ext)
    views = _views(serving, out, ext)
    assert set(views) == {v.name for v in serving.VIEWS if v.table.startswith("gold.")}
    shutil.copytree(gold_lake.path / "ops", lake / "ops")  # the quality owner's records
    serving.build_serving_db(lake, out, extension_dir=ext)
    views = _views(serving, out, ext)
    assert set(views) == {v.name for v in serving.VIEWS}
    assert len(views["quality__validation_results"]) == 11  # quality_gold.py's expectations
    assert len(views["telematics__violations"]) == len(gold_lake.violations)

    shutil.rmtree(lake / "gold" / "telematics__rectification_items")  # its view goes with it
    serving.build_serving_db(lake, out, extension_dir=ext)
    assert "telematics__rectification" not in _views(serving, out, ext)

    shutil.rmtree(lake / "gold" / "telematics__county_days")
    with pytest.raises(FileNotFoundError, match="telematics__county_days"):
        serving.build_serving_db(lake, out, extension_dir=ext)


def test_overdue_now_is_computed_against_todays_date(serving, gold_lake, tmp_path) -> None:
    out, ext = tmp_path / "serving.duckdb", tmp_path / "ext"
    serving.build_serving_db(gold_lake.path, out, extension_dir=ext)
    con = _connect(serving, out, ext)
    try:
        rows = con.execute(
            "SELECT subject_name, status, overdue_now FROM telematics__rectification"
        ).fetchall()
    finally:
        con.close()
    # open and past due (京B67890) or open and not yet due (京C11111); the others are not open
    assert {name: (status, late) for name, status, late in rows} == {
        "福安市": ("reported", False),
        "闽东旅游包车有限公司": ("closed", False),
        "京B67890": ("open", True),
        "海峡卫星定位服务平台": ("overdue", False),
        "京C11111": ("open", False),
    }


@pytest.mark.slow
def test_every_declared_column_exists_on_a_real_lake(serving, pipeline_lake, tmp_path) -> None:
    """The serving file of a lake built by `lakehouse generate` + `lakehouse run`: every view
    is there, and every column and metric every dataset declares can be selected from it."""
    out, ext = tmp_path / "serving.duckdb", tmp_path / "ext"
    serving.build_serving_db(pipeline_lake, out, extension_dir=ext)
    con = _connect(serving, out, ext)
    try:
        names = con.sql("SELECT view_name FROM duckdb_views() WHERE NOT internal").fetchall()
        views = {name for (name,) in names}
        assert views == {v.name for v in serving.VIEWS}
        checked = 0
        for rel, dataset in _datasets().items():
            view = dataset["table_name"]
            assert view in views, f"{rel}: no view {view}"
            for column in dataset["columns"]:
                select = column["expression"] or f'"{column["column_name"]}"'
                try:
                    con.execute(f"SELECT {select} FROM {view} LIMIT 10").fetchall()
                except duckdb.Error as exc:
                    pytest.fail(f"{rel}: column {column['column_name']}: {exc}")
                checked += 1
            for metric in dataset.get("metrics") or []:
                try:
                    con.execute(f"SELECT {metric['expression']} FROM {view}").fetchall()
                except duckdb.Error as exc:
                    pytest.fail(f"{rel}: metric {metric['metric_name']}: {exc}")
            dttm = dataset.get("main_dttm_col")
            assert dttm is None or dttm in {c["column_name"] for c in dataset["columns"]}, rel
        assert checked > 100
        # the rectification items the run issued after its assessment are in gold already
        items = DeltaTable(str(pipeline_lake / "ops" / "telematics__rectification_items"))
        served = con.execute("SELECT count(*) FROM telematics__rectification").fetchone()[0]
        assert served == items.to_pyarrow_table().num_rows > 0
    finally:
        con.close()


def test_passed_today_is_strictly_before_today(serving) -> None:
    """``passed_today`` (a complete period: its last day is over) is ``<`` today's Beijing date,
    where ``reached_today`` is ``<=``; a missing date is neither."""
    view = serving.View("telematics", "telematics__x", "gold.x",
                        reached_today=(("reached", "d"),), passed_today=(("passed", "d"),))  # fmt: skip
    today = serving.BEIJING_TODAY
    scan = (f"(SELECT {today} - 1 AS d, 'yesterday' AS k UNION ALL SELECT {today}, 'today' "
            f"UNION ALL SELECT {today} + 1, 'tomorrow' UNION ALL SELECT NULL, 'none')")  # fmt: skip
    rows = duckdb.connect().execute(f"SELECT k, reached, passed FROM ({view.select(scan)})")
    assert {k: (r, p) for k, r, p in rows.fetchall()} == {
        "yesterday": (True, True), "today": (True, False),
        "tomorrow": (False, False), "none": (False, False),
    }  # fmt: skip


def test_a_rebuild_replaces_the_file_whole(serving, gold_lake, tmp_path) -> None:
    """A reader holding the serving file open keeps reading it while it is rebuilt (the build
    writes beside it and renames), and the next connection sees the new file; no build file
    is left behind."""
    out, ext = tmp_path / "serving.duckdb", tmp_path / "ext"
    serving.build_serving_db(gold_lake.path, out, extension_dir=ext)
    reader = _connect(serving, out, ext)
    try:
        before = reader.execute("SELECT count(*) FROM telematics__county_days").fetchone()
        inode = out.stat().st_ino
        serving.build_serving_db(gold_lake.path, out, extension_dir=ext)  # while it is open
        assert out.stat().st_ino != inode
        assert reader.execute("SELECT count(*) FROM telematics__county_days").fetchone() == before
    finally:
        reader.close()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ext", "serving.duckdb"]
    views = _views(serving, out, ext)
    assert len(views["telematics__county_days"]) == before[0]
    assert all(isinstance(row[-1], bool) for row in views["telematics__assessments"])

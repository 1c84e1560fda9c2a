"""Superset's cache of chart results (superset_config.py, DATA_CACHE_CONFIG) in Superset's own
environment, without a server: a result is found again while the lake is unchanged, and is gone
once a served table gets a new Delta version or the serving file is rebuilt (the key also names
the Beijing day); and the serving file's DuckDB instance kept open between queries, let go when
the file is replaced."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

from deltalake import DeltaTable, write_deltalake
from superset_harness import SUPERSET_DIR, SUPERSET_VENV, require_superset_env

# one step per line of stdin: "generation", "set KEY VALUE", "get KEY"; prints a JSON line each
PROBE = """
import importlib.util, json, sys
spec = importlib.util.spec_from_file_location("superset_config", sys.argv[1])
cfg = importlib.util.module_from_spec(spec)
spec.loader.exec_module(cfg)
conf = cfg.DATA_CACHE_CONFIG
assert conf["CACHE_TYPE"] == "lakehouse_superset_cache.LakeStateCache", conf
assert cfg.FEATURE_FLAGS["CACHE_QUERY_BY_USER"] is True
module, _, name = conf["CACHE_TYPE"].rpartition(".")
cache = getattr(importlib.import_module(module), name)(conf["CACHE_DIR"], threshold=100)
for line in sys.stdin:
    step, *args = line.split()
    if step == "generation":
        out = cfg.lake_generation()
    elif step == "set":
        out = cache.set(args[0], args[1])
    else:
        out = cache.get(args[0])
    print(json.dumps(out), flush=True)
"""


def _probe(env: dict[str, str], steps: list[str]) -> list:
    proc = subprocess.run(
        [str(SUPERSET_VENV / "bin" / "python"), "-c", PROBE, str(SUPERSET_DIR / "superset_config.py")],
        input="\n".join(steps) + "\n", env=env, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-3000:]
    return [json.loads(line) for line in proc.stdout.strip().splitlines()]


def test_a_cached_result_lives_as_long_as_the_lake_state(gold_lake, tmp_path: Path) -> None:
    require_superset_env()
    lake, home = tmp_path / "lake", tmp_path / "superset"
    shutil.copytree(gold_lake.path / "gold", lake / "gold")
    home.mkdir()
    (home / "serving.duckdb").write_bytes(b"")  # only its stat() is part of the state
    env = {**os.environ, "LAKEHOUSE_LAKE": str(lake), "SUPERSET_HOME": str(home)}
    env.pop("SUPERSET_SERVING_DB", None)

    first = _probe(env, ["generation", "set chart-1 rows-a", "get chart-1", "generation"])
    assert first[1] is True and first[2] == "rows-a"
    assert first[0] == first[3]  # nothing changed: the same state, the result is found again
    assert _probe(env, ["get chart-1"]) == ["rows-a"]  # in another process (gunicorn workers)

    table = lake / "gold" / "telematics__county_days"
    write_deltalake(
        str(table), DeltaTable(str(table)).to_pyarrow_table().slice(0, 1), mode="append"
    )
    after_commit = _probe(env, ["generation", "get chart-1", "set chart-1 rows-b", "get chart-1"])
    assert after_commit[0] != first[0]
    assert after_commit[1] is None  # the result of the older version is not served
    assert after_commit[3] == "rows-b"

    os.utime(home / "serving.duckdb", ns=(1, 1))  # the serving file rebuilt (a new mtime)
    assert _probe(env, ["get chart-1"]) == [None]
    # the day (Beijing) is part of the state: the views' query-time flags change with it
    assert first[0].split("|")[0] == after_commit[0].split("|")[0]
    assert len(first[0].split("|")[0]) == len("2026-12-07")


# a query per line of stdin, as Superset runs one: a new engine and connection (NullPool) through
# the config's DB_CONNECTION_MUTATOR and its pool hook; prints the views of the serving file and
# whether the process holds the file's instance open
KEEPER_PROBE = """
import importlib.util, json, sys
from sqlalchemy import create_engine, text
from sqlalchemy.engine.url import make_url
from sqlalchemy.pool import NullPool
spec = importlib.util.spec_from_file_location("superset_config", sys.argv[1])
cfg = importlib.util.module_from_spec(spec)
spec.loader.exec_module(cfg)
for _ in sys.stdin:
    uri, params = cfg.DB_CONNECTION_MUTATOR(make_url("duckdb:///:memory:?lakehouse=serving"), {})
    with create_engine(uri, poolclass=NullPool, **params).connect() as con:
        views = sorted(r[0] for r in con.execute(text(
            "SELECT view_name FROM duckdb_views() WHERE NOT internal")))
        locked = con.execute(text("SELECT current_setting('lock_configuration')")).scalar()
    print(json.dumps([views, locked, cfg._KEEPER.get("connection") is not None]), flush=True)
"""


def test_the_serving_file_is_kept_open_until_it_is_replaced(gold_lake, tmp_path: Path) -> None:
    """Each query opens a connection (NullPool); the process keeps the locked instance of the
    serving file open between them, and lets go of it when serving.py replaces the file, so
    the next query reads the new file (here: a view less) — not the one it kept."""
    require_superset_env()
    lake, home = tmp_path / "lake", tmp_path / "superset"
    shutil.copytree(gold_lake.path / "gold", lake / "gold")
    build = [str(SUPERSET_VENV / "bin" / "python"), str(SUPERSET_DIR / "serving.py"),
             "--lake", str(lake), "--out", str(home / "serving.duckdb"),
             "--extension-dir", str(home / "duckdb_extensions")]  # fmt: skip
    env = {**os.environ, "LAKEHOUSE_LAKE": str(lake), "SUPERSET_HOME": str(home)}
    env.pop("SUPERSET_SERVING_DB", None)
    subprocess.run(build, env=env, check=True, capture_output=True, timeout=120)
    probe = subprocess.Popen(
        [str(SUPERSET_VENV / "bin" / "python"), "-c", KEEPER_PROBE, str(SUPERSET_DIR / "superset_config.py")],
        env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip

    def query() -> list:
        probe.stdin.write("q\n")
        probe.stdin.flush()
        line = probe.stdout.readline()
        assert line, probe.stderr.read()[-3000:]
        return json.loads(line)

    try:
        first, second = query(), query()
        assert "telematics__rectification" in first[0]
        assert first[1:] == [True, True] and second == first  # locked, and kept between queries
        shutil.rmtree(lake / "gold" / "telematics__rectification_items")
        subprocess.run(build, env=env, check=True, capture_output=True, timeout=120)
        views, locked, kept = query()
        assert "telematics__rectification" not in views  # the new file, not the kept one
        assert set(first[0]) - set(views) == {"telematics__rectification"}
        assert locked and kept
    finally:
        probe.stdin.close()
        probe.wait(timeout=60)

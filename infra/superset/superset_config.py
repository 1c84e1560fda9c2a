"""Superset configuration for the lakehouse dashboards (loaded through ``SUPERSET_CONFIG_PATH``).

State (SQLite metadata DB, DuckDB serving file, extensions, logs) lives in ``$SUPERSET_HOME``
(default ``<repo>/.superset``). Secrets come only from the environment.

DuckDB connections are locked down on connect: the ``delta`` extension is loaded, then
``allowed_directories`` = the lake, ``enable_external_access=false``, ``lock_configuration=true``;
statements that write files or change settings (COPY, EXPORT, ATTACH, INSTALL, SET, ...) are
refused before they reach DuckDB, because DuckDB lets ``COPY ... TO`` write inside allowed dirs.
"""

from __future__ import annotations

import logging
import os
import sys
import threading
from pathlib import Path
from typing import Any

from sqlalchemy import event
from sqlalchemy.pool import Pool

logger = logging.getLogger(__name__)

REPO_ROOT = Path(__file__).resolve().parents[2]
SUPERSET_STATE_DIR = Path(os.environ.get("SUPERSET_HOME") or REPO_ROOT / ".superset").resolve()
SUPERSET_STATE_DIR.mkdir(parents=True, exist_ok=True)
DATA_DIR = str(SUPERSET_STATE_DIR)

# --- metadata DB: SQLite in the state dir (point SUPERSET_DATABASE_URI at PostgreSQL instead) ----
SQLITE_METADATA_URI = f"sqlite:///{SUPERSET_STATE_DIR / 'superset.db'}?check_same_thread=false"
SQLALCHEMY_DATABASE_URI = os.environ.get("SUPERSET_DATABASE_URI", SQLITE_METADATA_URI)

# --- secrets ----------------------------------------------------------------------------------
DEMO_SECRET_KEY = "lakehouse-demo-secret-key-change-me"  # noqa: S105 (demo only, announced below)
SECRET_KEY = os.environ.get("SUPERSET_SECRET_KEY") or DEMO_SECRET_KEY
if SECRET_KEY == DEMO_SECRET_KEY:
    print(
        f"superset_config: SUPERSET_SECRET_KEY unset, using the DEMO key {DEMO_SECRET_KEY!r}",
        file=sys.stderr,
    )

# --- UI: Chinese by default, English selectable -----------------------------------------------
BABEL_DEFAULT_LOCALE = "zh"
LANGUAGES = {
    "zh": {"flag": "cn", "name": "简体中文"},
    "en": {"flag": "us", "name": "English"},
}
D3_FORMAT = {"decimal": ".", "thousands": ",", "grouping": [3], "currency": ["¥", ""]}
APP_NAME = "道路运输监管湖仓"
DEFAULT_TIME_FILTER = "No filter"

FEATURE_FLAGS = {
    # render every chart of a dashboard, not only those scrolled into view (screenshots, tests)
    "DASHBOARD_VIRTUALIZATION": False,
    "DASHBOARD_RBAC": False,
    "ENABLE_TEMPLATE_PROCESSING": False,
    "ALERT_REPORTS": False,
}

# no example data, no telemetry, no outbound calls
SUPERSET_LOAD_EXAMPLES = False
SCARF_ANALYTICS = False
CACHE_CONFIG = {"CACHE_TYPE": "NullCache"}
DATA_CACHE_CONFIG = {"CACHE_TYPE": "NullCache"}
RATELIMIT_STORAGE_URI = "memory://"
SQLLAB_CTAS_NO_LIMIT = False
ROW_LIMIT = 50_000

# --- DuckDB lock-down ---------------------------------------------------------------------------


def duckdb_allowed_directories() -> list[str]:
    """Directories DuckDB connections may read: ``$SUPERSET_DUCKDB_ALLOWED_DIRS`` (os.pathsep
    separated) or the lake, ``$LAKEHOUSE_LAKE`` (default ``<repo>/lake``)."""
    raw = os.environ.get("SUPERSET_DUCKDB_ALLOWED_DIRS") or os.environ.get(
        "LAKEHOUSE_LAKE", str(REPO_ROOT / "lake")
    )
    dirs = [str(Path(d).resolve()) for d in raw.split(os.pathsep) if d]
    return [d.rstrip("/") + "/" for d in dirs]


def _is_duckdb(dbapi_connection: Any) -> bool:
    module = type(dbapi_connection).__module__ or ""
    return module.split(".")[0] in {"duckdb", "_duckdb", "duckdb_engine"}


def _setting(cursor: Any, name: str) -> Any:
    cursor.execute(f"SELECT current_setting('{name}')")
    return cursor.fetchone()[0]


_LOCK_DOWN_MUTEX = threading.Lock()


def lock_down_duckdb(dbapi_connection: Any, connection_record: Any = None) -> None:
    """Pool ``connect`` hook: load delta, restrict file access to the lake, lock the config.

    DuckDB shares one database instance (and its global settings) between the connections a
    process opens on the same file, so another thread may have locked it already, or be half
    way: the steps run under a process-wide mutex and skip what is done. Fails closed: a
    connection whose configuration cannot be locked with external access off raises.
    """
    if not _is_duckdb(dbapi_connection):
        return
    with _LOCK_DOWN_MUTEX:
        cursor = dbapi_connection.cursor()
        try:
            if not _setting(cursor, "lock_configuration"):
                try:
                    cursor.execute("LOAD delta")
                except Exception:  # noqa: BLE001 - a DuckDB database without the extension
                    logger.warning("DuckDB: delta extension not loadable on this connection")
                if _setting(cursor, "enable_external_access"):
                    dirs = ", ".join(
                        "'" + d.replace("'", "''") + "'" for d in duckdb_allowed_directories()
                    )
                    cursor.execute(f"SET allowed_directories = [{dirs}]")
                    cursor.execute("SET enable_external_access = false")
                cursor.execute("SET lock_configuration = true")
            else:
                logger.debug("DuckDB connection already locked; keeping its configuration")
            if _setting(cursor, "enable_external_access"):
                raise RuntimeError("DuckDB connection is locked with external access enabled")
        finally:
            cursor.close()


if not event.contains(Pool, "connect", lock_down_duckdb):
    event.listen(Pool, "connect", lock_down_duckdb)

# statements refused on DuckDB even though Superset does not count them as DML
DUCKDB_FORBIDDEN_STATEMENTS = frozenset(
    {"COPY", "EXPORT", "IMPORT", "ATTACH", "DETACH", "INSTALL", "LOAD", "SET", "RESET",
     "PRAGMA", "CALL", "CHECKPOINT", "USE", "VACUUM", "CREATE", "INSERT", "UPDATE", "DELETE",
     "DROP", "ALTER", "TRUNCATE", "MERGE"}
)  # fmt: skip


def SQL_QUERY_MUTATOR(sql: str, **kwargs: Any) -> str:  # noqa: N802 (Superset config name)
    """Refuse file-writing / config statements on DuckDB databases; pass other SQL unchanged."""
    database = kwargs.get("database")
    if database is None or getattr(database, "backend", None) != "duckdb":
        return sql
    from superset.errors import ErrorLevel, SupersetError, SupersetErrorType
    from superset.exceptions import SupersetSecurityException
    from superset.sql.parse import SQLScript

    for statement in SQLScript(sql, "duckdb").statements:
        words = statement.format(comments=False).split(None, 1)
        if words and words[0].upper() in DUCKDB_FORBIDDEN_STATEMENTS:
            raise SupersetSecurityException(
                SupersetError(
                    message=f"{words[0].upper()} statements are not allowed on this database",
                    error_type=SupersetErrorType.DML_NOT_ALLOWED_ERROR,
                    level=ErrorLevel.ERROR,
                )
            )
    return sql

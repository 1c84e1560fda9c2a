"""Superset configuration for the lakehouse dashboards (loaded through ``SUPERSET_CONFIG_PATH``).

State (SQLite metadata DB, DuckDB serving file, extensions, logs) lives in ``$SUPERSET_HOME``
(default ``<repo>/.superset``). Secrets come only from the environment.

The serving database's URI names no file (``duckdb:///:memory:?lakehouse=serving``):
``DB_CONNECTION_MUTATOR`` opens ``$SUPERSET_SERVING_DB`` read-only with the project's extension
directory, so no path is stored in (or shown from) the metadata DB. DuckDB connections are locked
down on connect: the ``delta`` extension is loaded, then ``allowed_directories`` = the directories
of the tables the serving views read — gold, and the quality owner's ops records (nothing else of
the lake: no landing or silver file, no other ops file) —, ``enable_external_access=false``,
``lock_configuration=true``. Every statement sent to a
DuckDB database — SQL Lab and charts alike — must be a SELECT over the serving views
(``SQL_QUERY_MUTATOR``): no table function (``delta_scan``, ``read_json_auto``, ``query``…), no
file path, no catalog table, no settings — and each view it reads is replaced by a sub-query
filtered by the user's row-level security (access.py), so neither SQL Lab nor a chart's own
filters can reach the rows of another jurisdiction (``RLS_IN_SQLLAB`` binds SQL Lab as well).
"""

from __future__ import annotations

import importlib.util
import logging
import os
import sys
import threading
import types
from functools import cache
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
if SQLALCHEMY_DATABASE_URI.startswith("sqlite:"):
    # SQLAlchemy 1.4 opens a file SQLite database anew for every session (NullPool), a few
    # times per request; a pool keeps them (write-ahead log: fast_sqlite_metadata below)
    from sqlalchemy.pool import QueuePool

    SQLALCHEMY_ENGINE_OPTIONS = {"poolclass": QueuePool, "pool_size": 8, "max_overflow": 8}

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
    # the datasets' row-level security (jurisdictions, access.py) applies to SQL Lab queries too;
    # SQL_QUERY_MUTATOR below refuses what its parser could not see (table functions, paths)
    "RLS_IN_SQLLAB": True,
    # render every chart of a dashboard, not only those scrolled into view (screenshots, tests)
    "DASHBOARD_VIRTUALIZATION": False,
    "DASHBOARD_RBAC": False,
    "ENABLE_TEMPLATE_PROCESSING": False,
    "ALERT_REPORTS": False,
    # cached chart results are per user (DATA_CACHE_CONFIG)
    "CACHE_QUERY_BY_USER": True,
}

# no example data, no telemetry, no outbound calls
SUPERSET_LOAD_EXAMPLES = False
SCARF_ANALYTICS = False
CACHE_CONFIG = {"CACHE_TYPE": "NullCache"}
# chart and filter query results: kept on disk (shared by the gunicorn workers) under a key
# that includes the lake's state (``lake_generation``), so a pipeline run that commits a new
# Delta version to a served table, a rebuilt serving file or a new Beijing day (the query-time
# flags) makes every earlier result unreachable; and, with CACHE_QUERY_BY_USER, the user: a
# result is never served to anyone but who asked for it (the row-level security's key is
# Superset's own as well)
DATA_CACHE_CONFIG = {
    "CACHE_TYPE": "lakehouse_superset_cache.LakeStateCache",
    "CACHE_DIR": str(SUPERSET_STATE_DIR / "data_cache"),
    "CACHE_DEFAULT_TIMEOUT": 7 * 24 * 3600,
    "CACHE_THRESHOLD": 20_000,
}
RATELIMIT_STORAGE_URI = "memory://"
SQLLAB_CTAS_NO_LIMIT = False
ROW_LIMIT = 50_000

# --- DuckDB lock-down ---------------------------------------------------------------------------


@cache
def serving_module() -> Any:
    """``serving.py`` beside this file (the views, the connection settings of the serving file)."""
    path = Path(__file__).with_name("serving.py")
    spec = importlib.util.spec_from_file_location("lakehouse_serving", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault(spec.name, module)
    spec.loader.exec_module(module)
    return module


def serving_views() -> tuple[Any, ...]:
    """The serving views every domain declares."""
    return serving_module().VIEWS


def duckdb_allowed_directories() -> list[str]:
    """Directories DuckDB connections may read: ``$SUPERSET_DUCKDB_ALLOWED_DIRS`` (os.pathsep
    separated), else the directory of each table a serving view reads (gold; the quality
    owner's ops records), under
    ``$LAKEHOUSE_LAKE`` (default ``<repo>/lake``)."""
    raw = os.environ.get("SUPERSET_DUCKDB_ALLOWED_DIRS")
    if raw:
        dirs = [str(Path(d).resolve()) for d in raw.split(os.pathsep) if d]
    else:
        lake = Path(os.environ.get("LAKEHOUSE_LAKE") or REPO_ROOT / "lake").resolve()
        dirs = sorted({str(lake / view.path) for view in serving_views()})
    return [d.rstrip("/") + "/" for d in dirs]


# --- the serving database: no path in the metadata DB ------------------------------------------
SERVING_URI_QUERY = ("lakehouse", "serving")  # duckdb:///:memory:?lakehouse=serving


def serving_db_path() -> Path:
    return Path(os.environ.get("SUPERSET_SERVING_DB") or SUPERSET_STATE_DIR / "serving.duckdb")


def lake_generation() -> str:
    """The state of everything a served query reads, as a short string: the last change of
    each served table's ``_delta_log`` directory (a commit adds a file to it), the serving
    file's, and today's Beijing date (the views' query-time flags). A few dozen ``stat`` calls."""
    from datetime import UTC, datetime, timedelta

    lake = Path(os.environ.get("LAKEHOUSE_LAKE") or REPO_ROOT / "lake").resolve()
    parts = [(datetime.now(UTC) + timedelta(hours=8)).date().isoformat()]
    for path in [serving_db_path(), *(lake / v.path / "_delta_log" for v in serving_views())]:
        try:
            parts.append(str(path.stat().st_mtime_ns))
        except OSError:
            parts.append("-")
    return "|".join(parts)


def _lake_state_cache() -> type:
    """Flask-Caching's file cache with ``lake_generation()`` in every key (DATA_CACHE_CONFIG)."""
    from flask_caching.backends.filesystemcache import FileSystemCache

    class LakeStateCache(FileSystemCache):
        def _get_filename(self, key: Any) -> str:
            if isinstance(key, str) and key != self._fs_count_file:
                key = f"{lake_generation()}#{key}"
            return super()._get_filename(key)

        def set(self, key: str, value: Any, timeout: int | None = None, **kwargs: Any) -> bool:
            os.makedirs(self._path, exist_ok=True)  # emptied by hand while Superset runs
            return super().set(key, value, timeout, **kwargs)

    return LakeStateCache


class _CacheModule(types.ModuleType):
    """``lakehouse_superset_cache``: the import path DATA_CACHE_CONFIG names (the config itself is
    not importable by name); the class is built on first use, in Superset's environment."""

    def __getattr__(self, name: str) -> Any:
        if name != "LakeStateCache":
            raise AttributeError(name)
        value = _lake_state_cache()
        setattr(self, name, value)
        return value


sys.modules.setdefault("lakehouse_superset_cache", _CacheModule("lakehouse_superset_cache"))


def DB_CONNECTION_MUTATOR(  # noqa: N802 (Superset config name)
    uri: Any, params: dict, *args: Any, **kwargs: Any
) -> tuple[Any, dict]:
    """Open the serving database (URI ``duckdb:///:memory:?lakehouse=serving``): the file
    ``$SUPERSET_SERVING_DB``, read-only, delta extension from ``$SUPERSET_EXTENSION_DIR``, no
    download. Other URIs pass unchanged."""
    key, value = SERVING_URI_QUERY
    if uri.get_backend_name() != "duckdb" or uri.query.get(key) != value:
        return uri, params
    connect_args = dict(params.get("connect_args") or {})
    connect_args["read_only"] = True
    connect_args["config"] = {**(connect_args.get("config") or {}), **serving_connect_config()}
    release_replaced_serving_db()
    path = serving_db_path().resolve()
    _OPENING.file = _file_id(path)  # the file this connection opens
    uri = uri.set(database=str(path), query={})
    return uri, {**params, "connect_args": connect_args}


def serving_connect_config() -> dict[str, Any]:
    """DuckDB config of a connection to the serving file: the project's extension directory,
    nothing installed or loaded by itself."""
    extensions = (
        os.environ.get("SUPERSET_EXTENSION_DIR") or SUPERSET_STATE_DIR / "duckdb_extensions"
    )
    return serving_module().connect_config(Path(extensions).resolve())


# One read-only connection to the serving file held by each Superset process, opened once the
# file's DuckDB instance is locked down: Superset opens a new connection for every query
# (NullPool), and DuckDB gives a connection to a file that is already open the same instance —
# already locked, the delta extension already loaded (a third of a chart query's time on 2
# cores). The serving file is replaced whole by serving.py; a connection to a replaced file is
# let go, so the next query opens the new one. Only a connection that created (and locked) the
# instance keeps it, and only when the file did not change while it opened: a connection that
# joined an instance still open on a replaced file must not pin that file.
_KEEPER: dict[str, Any] = {}
_OPENING = threading.local()


def _file_id(path: Path) -> tuple[int, int] | None:
    try:
        st = path.stat()
    except OSError:
        return None
    return st.st_ino, st.st_mtime_ns


def release_replaced_serving_db() -> None:
    with _LOCK_DOWN_MUTEX:
        kept = _KEEPER.get("connection")
        if "file" in _KEEPER and _KEEPER["file"] != _file_id(serving_db_path().resolve()):
            _KEEPER.clear()
            if kept is not None:
                kept.close()


def _keep_serving_instance(cursor: Any) -> None:
    """Hold the locked instance of the serving file open (caller holds the mutex)."""
    path = serving_db_path().resolve()
    if "connection" in _KEEPER or getattr(_OPENING, "file", None) != _file_id(path):
        return
    cursor.execute("SELECT path FROM duckdb_databases() WHERE database_name = current_database()")
    row = cursor.fetchone()
    if not row or not row[0] or Path(row[0]).resolve() != path:
        return
    import duckdb

    # the same configuration as the connection's (duckdb_engine adds its user agent), else
    # DuckDB refuses a second connection to the file
    config = {
        **serving_connect_config(),
        "custom_user_agent": _setting(cursor, "custom_user_agent"),
    }
    try:
        _KEEPER["connection"] = duckdb.connect(str(path), read_only=True, config=config)
    except duckdb.Error as exc:  # only slower: every query opens and locks the file again
        logger.warning("DuckDB: not keeping the serving file open: %s", exc)
        _KEEPER["connection"] = None
    _KEEPER["file"] = _OPENING.file


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
            fresh = not _setting(cursor, "lock_configuration")  # a new instance: lock it
            if fresh:
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
            if fresh:  # (a reused instance may be of a file replaced since: never kept)
                _keep_serving_instance(cursor)
        finally:
            cursor.close()


if not event.contains(Pool, "connect", lock_down_duckdb):
    event.listen(Pool, "connect", lock_down_duckdb)


def fast_sqlite_metadata(dbapi_connection: Any, connection_record: Any = None) -> None:
    """Pool ``connect`` hook for the SQLite metadata DB: write-ahead log, and fsync at
    checkpoints instead of every commit (each request commits Superset's action log; with the
    default rollback journal that commit was a quarter of a cached chart's time)."""
    if type(dbapi_connection).__module__.split(".")[0] not in ("sqlite3", "pysqlite2"):
        return
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
    finally:
        cursor.close()


if not event.contains(Pool, "connect", fast_sqlite_metadata):
    event.listen(Pool, "connect", fast_sqlite_metadata)

# What SQL may reach a DuckDB database (SQL Lab, charts, filter values): one or more SELECTs over
# the serving views, nothing else. Table functions read files or run SQL strings the parser (and
# so the row-level security of SQL Lab) cannot see; catalog tables show the views' file paths.
DUCKDB_TABLE_FUNCTIONS_ALLOWED = frozenset({"range", "generate_series"})
DUCKDB_FUNCTIONS_REFUSED = (  # name prefixes: file readers, SQL runners, settings, catalogs
    "read_", "delta_", "parquet_", "iceberg_", "sniff_", "glob", "query", "duckdb_", "pragma_",
    "current_setting", "getenv", "json_execute", "sql_auto_complete", "which_secret", "load_",
    "install_", "checkpoint", "force_checkpoint", "enable_", "disable_", "test_",
)  # fmt: skip


def duckdb_refusal(sql: str, views: frozenset[str]) -> str | None:
    """Why ``sql`` may not run on the serving database, or None: every statement a query
    (SELECT / UNION / VALUES in a FROM), every table a serving view named as it is (``view``
    or ``main.view``) or a CTE of the statement, no function of ``DUCKDB_FUNCTIONS_REFUSED``."""
    import sqlglot
    from sqlglot import exp

    try:
        statements = [s for s in sqlglot.parse(sql, read="duckdb") if s is not None]
    except sqlglot.errors.ParseError as exc:
        return f"the statement does not parse: {str(exc)[:200]}"
    if not statements:
        return "no statement"
    for statement in statements:
        if not isinstance(statement, exp.Query):
            return f"only SELECT statements may run here, not {statement.key.upper()}"
        ctes = {cte.alias_or_name for cte in statement.find_all(exp.CTE)}
        for table in statement.find_all(exp.Table):
            if not isinstance(table.this, exp.Identifier):
                name = table.this.sql_name() if isinstance(table.this, exp.Func) else ""
                name = table.this.name if name == "ANONYMOUS" else name
                if name.lower() not in DUCKDB_TABLE_FUNCTIONS_ALLOWED:
                    return f"table function {name.lower() or table.this.key} is not allowed"
                continue
            if not table.catalog and not table.db and table.name in ctes:
                continue
            if table.catalog or table.db not in ("", "main") or table.name not in views:
                return f"{table.sql(dialect='duckdb')} is not a serving view"
        for func in statement.find_all(exp.Func):
            name = (func.name if func.sql_name() == "ANONYMOUS" else func.sql_name()).lower()
            if name.startswith(DUCKDB_FUNCTIONS_REFUSED):
                return f"function {name} is not allowed"
    return None


def filter_rows_beneath(sql: str, database: Any) -> str:
    """``sql`` with every serving view it reads replaced by a sub-query holding the current
    user's row-level security rules (``SELECT * FROM view WHERE <rules>``), or unchanged when
    no rule applies to the user (the admin).

    Superset ANDs a dataset's rules into a chart query's WHERE next to the chart's filters, and
    does not parenthesise the SQL of an adhoc column used in a filter: ``county_code = county_code
    OR TRUE`` IS NOT NULL widened a county regulator's query to every county (found by
    tests/infra/test_superset_access.py). Filtering beneath the query, as RLS_IN_SQLLAB does for
    SQL Lab, leaves no predicate of the outer query a way to reach the rows the rules exclude."""
    from superset.sql.parse import RLSMethod, SQLScript
    from superset.utils.rls import get_predicates_for_table

    script = SQLScript(sql, "duckdb")
    applied = False
    for statement in script.statements:
        predicates = {}
        for table in statement.tables:
            table = table.qualify(schema="main")
            found = get_predicates_for_table(table, database, None)
            predicates[table] = [statement.parse_predicate(p) for p in found if p]
            applied = applied or bool(predicates[table])
        statement.apply_rls(None, "main", predicates, RLSMethod.AS_SUBQUERY)
    return script.format() if applied else sql


def SQL_QUERY_MUTATOR(sql: str, **kwargs: Any) -> str:  # noqa: N802 (Superset config name)
    """On DuckDB databases: refuse SQL that is not a SELECT over the serving views, then filter
    the views it reads by the user's row-level security (``filter_rows_beneath``)."""
    database = kwargs.get("database")
    if database is None or getattr(database, "backend", None) != "duckdb":
        return sql
    reason = duckdb_refusal(sql, frozenset(v.name for v in serving_views()))
    if reason is None:
        return filter_rows_beneath(sql, database)
    audit("query_refused", outcome="denied", target=sql, detail={"reason": reason})
    from superset.errors import ErrorLevel, SupersetError, SupersetErrorType
    from superset.exceptions import SupersetSecurityException

    raise SupersetSecurityException(
        SupersetError(
            message=f"{reason}: this database serves SELECT queries over its views only",
            error_type=SupersetErrorType.DML_NOT_ALLOWED_ERROR,
            level=ErrorLevel.ERROR,
        )
    )


# --- audit (access.md "Audit"; the lake's ops.audit_log) ---------------------------------------
# Superset's environment has no Delta writer: each event is one JSON line appended to the lake's
# audit inbox (``<lake>/ops/audit_inbox/``), which every `lakehouse` command and every pipeline run
# moves into ops.audit_log (transforms/lake/audit.py, ``collect_inbox``): logins (accepted and
# refused), every SQL Lab query as submitted with its outcome, every query the lock-down refused.


def audit_inbox() -> Path:
    lake = Path(os.environ.get("LAKEHOUSE_LAKE") or REPO_ROOT / "lake")
    return Path(os.environ.get("LAKEHOUSE_AUDIT_INBOX") or lake / "ops" / "audit_inbox")


def _current_user() -> str:
    try:
        from flask import g

        user = getattr(g, "user", None)
        return getattr(user, "username", None) or "anonymous"
    except RuntimeError:  # outside a request
        return "system"


def _origin() -> str:
    """The client's address: the request's, else the one the request that started this work
    left in ``g`` (SQL Lab runs its query outside the request context, in its app context)."""
    from flask import g, has_app_context, has_request_context, request

    if has_request_context():
        return request.headers.get("X-Forwarded-For") or request.remote_addr or ""
    return getattr(g, "lakehouse_origin", "") if has_app_context() else ""


def FLASK_APP_MUTATOR(app: Any) -> None:  # noqa: N802 (Superset config name)
    """Every request leaves its client's address in ``g`` for the audit of work it starts; every
    SQL Lab execution is audited when it is answered."""

    @app.before_request
    def _remember_origin() -> None:
        from flask import g

        g.lakehouse_origin = _origin()

    @app.after_request
    def _audit_sql_lab(response: Any) -> Any:
        """Every SQL Lab query as submitted, with its answer's status (charts' own queries are
        not audited one by one)."""
        from flask import request

        if request.method == "POST" and request.path.rstrip("/") == "/api/v1/sqllab/execute":
            body = request.get_json(silent=True) or {}
            status = response.status_code
            outcome = "ok" if status < 400 else "denied" if status in (401, 403) else "error"
            audit("sql_lab_query", outcome=outcome, target=str(body.get("sql") or ""),
                  detail={"status": status, "database_id": body.get("database_id"),
                          "schema": body.get("schema")})  # fmt: skip
        return response


def audit(
    action: str,
    *,
    outcome: str = "ok",
    target: str = "",
    who: str | None = None,
    detail: dict | None = None,
) -> None:
    """One audit event as a JSON line of the inbox (one ``write`` of one line: lines of several
    workers never interleave). An event that cannot be written is logged, never raised: the
    user's action stands."""
    import datetime as dt
    import json
    import uuid

    try:
        origin = _origin()
        event = {
            "event_id": uuid.uuid4().hex,
            "at": dt.datetime.now(dt.UTC).isoformat(),
            "channel": "superset",
            "actor": who or _current_user(),
            "action": action,
            "target": target[:8000],
            "origin": origin,
            "outcome": outcome,
            "detail": json.dumps(detail or {}, ensure_ascii=False, sort_keys=True),
        }
        inbox = audit_inbox()
        inbox.mkdir(parents=True, exist_ok=True)
        line = (json.dumps(event, ensure_ascii=False) + "\n").encode("utf-8")
        path = inbox / f"superset-{dt.date.today():%Y%m%d}-{os.getpid()}.jsonl"
        fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        try:
            os.write(fd, line)
        finally:
            os.close(fd)
    except Exception:  # noqa: BLE001
        logging.getLogger(__name__).exception("audit event %s not written", action)


def _security_manager() -> type:
    from superset.security import SupersetSecurityManager

    class LakehouseSecurityManager(SupersetSecurityManager):
        """Superset's security manager, every login attempt audited."""

        def update_user_auth_stat(self, user: Any, success: bool = True) -> None:
            super().update_user_auth_stat(user, success)
            audit("login", outcome="ok" if success else "denied", who=user.username)

        def auth_user_db(self, username: str, password: str) -> Any:
            user = super().auth_user_db(username, password)
            if user is None and username:
                known = self.find_user(username=username)
                if known is None or not known.is_active:  # else audited as a failed attempt
                    reason = "unknown user" if known is None else "inactive user"
                    audit("login", outcome="denied", who=username, detail={"reason": reason})
            return user

    return LakehouseSecurityManager


try:
    CUSTOM_SECURITY_MANAGER = _security_manager()
except ImportError:  # read outside Superset's environment (the cluster overlay's probe)
    pass

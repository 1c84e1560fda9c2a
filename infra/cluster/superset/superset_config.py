"""Superset configuration for a cluster: the base config of infra/superset plus PostgreSQL and Redis.

Point ``SUPERSET_CONFIG_PATH`` at this file. It loads ``infra/superset/superset_config.py`` (the
zh locale, the feature flags, the DuckDB lock-down and ``SQL_QUERY_MUTATOR``) and overrides what a
multi-replica deployment needs, all from the environment:

==============================  ==========================================================
``SUPERSET_DATABASE_URI``       metadata DB, ``postgresql+psycopg2://user:pass@host:5432/db``
                                (required; SQLite is refused here)
``SUPERSET_SECRET_KEY``         required; the base config's demo key is refused here
``SUPERSET_REDIS_URL``          ``redis://[:password@]host:6379`` (optional): caches, rate
                                limits and (with Celery) the async-query results; without it
                                every cache is off and rate limits are per process
``SUPERSET_CELERY``             ``1`` to configure Celery workers on Redis (async SQL Lab
                                queries, cache warm-up); needs ``SUPERSET_REDIS_URL``
``SUPERSET_CACHE_TIMEOUT_S``    chart data cache lifetime, default 3600 (the gold tables
                                change once a night)
``SUPERSET_BASE_CONFIG``        path of the base config (default: the repository's)
``SUPERSET_BEHIND_PROXY``       ``1`` behind a TLS-terminating ingress (secure cookies, proxy fix)
==============================  ==========================================================

The Redis databases used: 0 Celery broker, 1 Celery results, 2 cache, 3 chart data, 4 filter and
explore state, 5 rate limits.
"""

from __future__ import annotations

import importlib.util
import os
import sys
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

_BASE_DEFAULT = Path(__file__).resolve().parents[2] / "superset" / "superset_config.py"
_BASE_PATH = Path(os.environ.get("SUPERSET_BASE_CONFIG") or _BASE_DEFAULT)
_BASE_MODULE = "lakehouse_superset_base_config"


def _load_base():
    if _BASE_MODULE in sys.modules:
        return sys.modules[_BASE_MODULE]
    spec = importlib.util.spec_from_file_location(_BASE_MODULE, _BASE_PATH)
    if spec is None or spec.loader is None:
        raise RuntimeError(f"cannot load the base Superset config {_BASE_PATH}")
    module = importlib.util.module_from_spec(spec)
    sys.modules[_BASE_MODULE] = module
    spec.loader.exec_module(module)
    return module


_base = _load_base()
# Superset reads the UPPER_CASE names of this module: take every one of the base config's
globals().update({name: getattr(_base, name) for name in dir(_base) if name.isupper()})


def _required(name: str) -> str:
    value = os.environ.get(name, "").strip()
    if not value:
        raise RuntimeError(f"superset cluster config: {name} must be set")
    return value


# --- metadata DB: PostgreSQL only ---------------------------------------------------------------
SQLALCHEMY_DATABASE_URI = _required("SUPERSET_DATABASE_URI")
if urlsplit(SQLALCHEMY_DATABASE_URI).scheme.split("+")[0] not in {"postgresql", "postgres"}:
    raise RuntimeError("superset cluster config: SUPERSET_DATABASE_URI must be a PostgreSQL URI")
SQLALCHEMY_ENGINE_OPTIONS = {"pool_pre_ping": True, "pool_recycle": 1800}

# --- secrets ------------------------------------------------------------------------------------
SECRET_KEY = _required("SUPERSET_SECRET_KEY")
if SECRET_KEY == _base.DEMO_SECRET_KEY or len(SECRET_KEY) < 32:
    raise RuntimeError("superset cluster config: SUPERSET_SECRET_KEY must be a random >= 32 chars")

# --- caches, rate limits, Celery -----------------------------------------------------------------
REDIS_URL = os.environ.get("SUPERSET_REDIS_URL", "").strip()
CACHE_TIMEOUT_S = int(os.environ.get("SUPERSET_CACHE_TIMEOUT_S", "3600"))


def redis_db_url(db: int) -> str:
    """``SUPERSET_REDIS_URL`` with its database number set to ``db``."""
    parts = urlsplit(REDIS_URL)
    return urlunsplit((parts.scheme, parts.netloc, f"/{db}", parts.query, parts.fragment))


def _redis_cache(db: int, prefix: str, timeout: int) -> dict:
    return {
        "CACHE_TYPE": "RedisCache",
        "CACHE_REDIS_URL": redis_db_url(db),
        "CACHE_KEY_PREFIX": f"lakehouse_{prefix}_",
        "CACHE_DEFAULT_TIMEOUT": timeout,
    }


if REDIS_URL:
    if urlsplit(REDIS_URL).scheme not in {"redis", "rediss"}:
        raise RuntimeError(
            "superset cluster config: SUPERSET_REDIS_URL must be redis:// or rediss://"
        )
    CACHE_CONFIG = _redis_cache(2, "meta", CACHE_TIMEOUT_S)
    # chart results: the gold tables change once a night, so an hour of cache is safe and spares
    # DuckDB a Delta scan per chart per viewer
    DATA_CACHE_CONFIG = _redis_cache(3, "data", CACHE_TIMEOUT_S)
    FILTER_STATE_CACHE_CONFIG = _redis_cache(4, "filter", 90 * 24 * 3600)
    EXPLORE_FORM_DATA_CACHE_CONFIG = _redis_cache(4, "explore", 7 * 24 * 3600)
    RATELIMIT_STORAGE_URI = redis_db_url(5)
# else: the base config's NullCache / memory:// (one replica only)

if os.environ.get("SUPERSET_CELERY") == "1":
    if not REDIS_URL:
        raise RuntimeError("superset cluster config: SUPERSET_CELERY=1 needs SUPERSET_REDIS_URL")

    class CeleryConfig:
        broker_url = redis_db_url(0)
        result_backend = redis_db_url(1)
        imports = ("superset.sql_lab", "superset.tasks.scheduler", "superset.tasks.cache")
        worker_prefetch_multiplier = 1
        task_acks_late = False

    CELERY_CONFIG = CeleryConfig
    from cachelib.redis import RedisCache as _ResultsCache

    _results = urlsplit(redis_db_url(1))
    RESULTS_BACKEND = _ResultsCache(
        host=_results.hostname,
        port=_results.port or 6379,
        password=_results.password,
        db=1,
        key_prefix="lakehouse_results_",
        username=_results.username,
        ssl=_results.scheme == "rediss",
    )

# --- behind an ingress ----------------------------------------------------------------------------
if os.environ.get("SUPERSET_BEHIND_PROXY") == "1":
    ENABLE_PROXY_FIX = True
    SESSION_COOKIE_SECURE = True
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"

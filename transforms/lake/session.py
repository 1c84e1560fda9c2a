"""The one place a SparkSession comes from.

Embedded Sail (a Rust Spark Connect server started in this process) by default; a remote Spark
Connect endpoint (Apache Spark with Delta, or a Sail cluster) when ``LAKEHOUSE_SPARK_REMOTE`` is set
to ``sc://host:port``. Either way the lake's tables are registered in the session catalog at start.
"""

from __future__ import annotations

import os
import threading
from dataclasses import dataclass
from pathlib import Path

from pyspark.sql import SparkSession

REMOTE_ENV = "LAKEHOUSE_SPARK_REMOTE"
LAKE_ENV = "LAKEHOUSE_LAKE"
DEFAULT_LAKE = "./lake"
# Every timestamp in the lake is GMT+8 wall-clock; sessions run in UTC so that no engine shifts it.
SESSION_TIME_ZONE = "UTC"

_lock = threading.Lock()
_server = None  # the embedded Sail server of this process, started once


@dataclass(frozen=True)
class Endpoint:
    """Where the Spark Connect server listens."""

    host: str
    port: int
    embedded: bool

    @property
    def url(self) -> str:
        return f"sc://{self.host}:{self.port}"


def lake_root(lake: str | os.PathLike | None = None) -> Path:
    """The lake root: the argument, else ``$LAKEHOUSE_LAKE``, else ``./lake`` (absolute)."""
    return Path(lake or os.environ.get(LAKE_ENV) or DEFAULT_LAKE).expanduser().resolve()


def _parse_remote(url: str) -> Endpoint:
    if not url.startswith("sc://"):
        raise ValueError(f"{REMOTE_ENV} must look like sc://host:port, got {url!r}")
    hostport = url[len("sc://") :].split("/", 1)[0].split(";", 1)[0]
    host, _, port = hostport.rpartition(":")
    if not host or not port.isdigit():
        raise ValueError(f"{REMOTE_ENV} must look like sc://host:port, got {url!r}")
    return Endpoint(host=host, port=int(port), embedded=False)


def endpoint() -> Endpoint:
    """The Spark Connect endpoint: the remote one if configured, else this process's embedded Sail."""
    global _server
    remote = os.environ.get(REMOTE_ENV)
    if remote:
        return _parse_remote(remote)
    with _lock:
        if _server is None:
            os.environ.setdefault("RUST_LOG", "error")
            from pysail.spark import SparkConnectServer

            server = SparkConnectServer(ip="127.0.0.1", port=0)
            server.start(background=True)
            _server = server
        host, port = _server.listening_address
    return Endpoint(host=host, port=int(port), embedded=True)


def get_spark(lake: str | os.PathLike | None = None, register: bool = True) -> SparkSession:
    """A SparkSession over Spark Connect with the lake's tables registered in its catalog."""
    ep = endpoint()
    try:
        spark = _session(ep.url)
        alive = _alive(spark)
    except Exception as exc:
        if not _ended(exc):
            raise
        alive = False
    if not alive:
        # the server ended an idle session (a long-lived process — the Dagster UI, a test session
        # waiting on a subprocess — outlives the server's idle timeout): forget it, start anew
        from pyspark.sql.connect.session import SparkSession as ConnectSession

        for stale in {ConnectSession.getActiveSession(), ConnectSession._default_session}:
            if stale is not None:
                try:
                    stale.stop()
                except Exception:  # noqa: BLE001 — it is gone already
                    pass
        ConnectSession._default_session = None
        spark = _session(ep.url)
    if register:
        from transforms.lake.catalog import register_lake

        register_lake(spark, lake_root(lake))
    return spark


def _session(url: str) -> SparkSession:
    return (
        SparkSession.builder.remote(url)
        .config("spark.sql.session.timeZone", SESSION_TIME_ZONE)
        .getOrCreate()
    )


def _ended(exc: Exception) -> bool:
    """The server's answer for a session it no longer runs."""
    return "is not running" in str(exc)


def _alive(spark: SparkSession) -> bool:
    """Whether the server still runs the session (a trivial query; a few milliseconds)."""
    try:
        spark.sql("SELECT 1").collect()
    except Exception as exc:
        if _ended(exc):
            return False
        raise
    return True

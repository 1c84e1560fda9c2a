"""Build the DuckDB serving file that Superset queries: views over the lake's Delta tables.

The file holds no data, only views over ``delta_scan('<lake>/<layer>/<table>')``, so every new
Delta version is visible to the next query with no refresh step. The ``delta`` extension is
installed OFFLINE from the ``duckdb_extension_delta`` wheel into a project-owned extension directory
(never from the network), and connections must use that directory with autoinstall off.

Every view is declared once, in ``VIEWS``: its SQL names the Delta tables it reads as ``{source}``
placeholders (keys of ``SOURCES``). Required views fail the build when a table is missing; the
others are only created when all their tables exist (a lake from before Issue 3 still serves the
county dashboard) and are dropped when a table disappears. Delta ``timestamp`` columns (UTC-tagged
GMT+8 wall-clock, docs/tables.md) are served as naive ``TIMESTAMP`` wall-clock values.

Runs in the main env or the Superset env: stdlib + duckdb (1.5.5 in both) only.

    python infra/superset/serving.py --lake lake --out .superset/serving.duckdb
"""

from __future__ import annotations

import argparse
import glob
import os
import string
import sys
from dataclasses import dataclass
from pathlib import Path

import duckdb

REPO_ROOT = Path(__file__).resolve().parents[2]

# Delta tables the views read: placeholder -> path below the lake root (contracts: docs/tables.md)
SOURCES: dict[str, str] = {
    "vehicle_days": "gold/telematics__vehicle_days",
    "county_days": "gold/telematics__county_days",
    "assessments": "gold/telematics__assessments",
    "violation_events": "silver/telematics__violation_events",
    "vehicles": "silver/telematics__vehicles",
    "counties": "silver/telematics__counties",
    "platform_links": "silver/telematics__platform_links",
    "platform_checks": "silver/telematics__platform_checks",
    "rectification_items": "ops/telematics__rectification_items",
    "rectification_events": "ops/telematics__rectification_events",
}

# "today" for overdue items: the Beijing calendar day, like rectification.py's now_beijing()
BEIJING_TODAY = "CAST(timezone('Asia/Shanghai', now()) AS DATE)"


@dataclass(frozen=True)
class View:
    """One view of the serving file; ``sql`` reads Delta tables through ``{source}`` fields."""

    name: str
    sql: str
    required: bool = False
    comment: str = ""

    @property
    def sources(self) -> tuple[str, ...]:
        fields = [f for _, f, _, _ in string.Formatter().parse(self.sql) if f]
        return tuple(dict.fromkeys(fields))


VIEWS: tuple[View, ...] = (
    View("telematics__vehicle_days", "SELECT * FROM {vehicle_days}", True, "车辆日统计"),
    View("telematics__county_days", "SELECT * FROM {county_days}", True, "县区日统计"),
    View(
        "telematics__assessments",
        """
        SELECT a.*,
               rank() OVER (PARTITION BY level, period_type, period
                            ORDER BY score DESC NULLS LAST) AS score_rank
        FROM {assessments} AS a
        """,
        comment="考核结果（各层级、各周期）+ 同层级同周期得分排名",
    ),
    View(
        "telematics__violation_events",
        "SELECT e.*, strftime(e.day, '%Y-%m') AS period FROM {violation_events} AS e",
        comment="违法违规事件（原样）",
    ),
    View(
        "telematics__violations",
        """
        WITH vehicle AS (  -- the CURRENT version of each vehicle (else its latest one)
            SELECT plate, plate_color, vehicle_type, county_code, enterprise_id, platform_id
            FROM {vehicles}
            QUALIFY row_number() OVER (
                PARTITION BY plate, plate_color
                ORDER BY is_current DESC NULLS LAST, valid_from DESC NULLS LAST) = 1
        ), county AS (
            SELECT county_code, name AS county_name  -- the current version of each county
            FROM {counties} WHERE is_current
        )
        SELECT e.event_id, e.day, strftime(e.day, '%Y-%m') AS period, e.kind,
               e.plate, e.plate_color, v.vehicle_type,
               v.county_code, coalesce(c.county_name, v.county_code, '未登记车辆') AS county_name,
               v.enterprise_id, v.platform_id,
               e.start_at, e.end_at, e.points, e.max_speed, e.limit_kmh, e.minutes,
               e.lon, e.lat, e.detail
        FROM {violation_events} AS e
        LEFT JOIN vehicle AS v ON v.plate = e.plate AND v.plate_color = e.plate_color
        LEFT JOIN county AS c ON c.county_code = v.county_code
        """,
        comment="违法违规事件 + 车辆当前所属县区/企业/平台",
    ),
    View(
        "telematics__rectification",
        f"""
        WITH latest AS (  -- status = latest event (ties: the furthest along)
            SELECT item_id, status, "at" AS status_at, "by" AS status_by, note AS status_note
            FROM {{rectification_events}}
            QUALIFY row_number() OVER (
                PARTITION BY item_id
                ORDER BY "at" DESC, CASE status WHEN 'closed' THEN 3 WHEN 'reported' THEN 2
                                              WHEN 'overdue' THEN 1 ELSE 0 END DESC) = 1
        )
        SELECT i.*, coalesce(l.status, 'open') AS status, l.status_at, l.status_by, l.status_note,
               coalesce(l.status, 'open') = 'open' AND i.report_due < {BEIJING_TODAY}
                   AS overdue_now
        FROM {{rectification_items}} AS i
        LEFT JOIN latest AS l ON l.item_id = i.item_id
        """,
        comment="整改清单：整改项 + 当前状态（最新事件）+ 是否已逾期",
    ),
    View(
        "telematics__platform_checks",
        """
        SELECT c.*, strftime(c.sent_at, '%Y-%m') AS period,
               coalesce(c.answered_at IS NOT NULL AND c.response_s <= 900, false)
                   AS answered_in_time
        FROM {platform_checks} AS c
        """,
        comment="查岗记录（15 分钟内应答为有效应答）",
    ),
    View(
        "telematics__platform_link_events",
        """SELECT l.*, strftime(l."at", '%Y-%m') AS period FROM {platform_links} AS l""",
        comment="平台链路上线/断开事件",
    ),
)

EXTENSION_REL = Path("duckdb_extension_delta/extensions") / f"v{duckdb.__version__}"
EXTENSION_FILE = "delta.duckdb_extension"


def state_dir() -> Path:
    """The Superset state dir: ``$SUPERSET_HOME`` or ``<repo>/.superset``."""
    return Path(os.environ.get("SUPERSET_HOME") or REPO_ROOT / ".superset").resolve()


def default_extension_dir() -> Path:
    """Project-owned DuckDB extension directory under the state dir."""
    return state_dir() / "duckdb_extensions"


def find_delta_extension(explicit: str | Path | None = None) -> Path:
    """Locate ``delta.duckdb_extension`` shipped by the ``duckdb_extension_delta`` wheel.

    Looks at ``explicit`` (a file path), ``$DUCKDB_DELTA_EXTENSION``, the running interpreter's
    site-packages, then the repo's ``.venv-superset`` and ``.venv``.
    """
    candidates: list[Path] = []
    for given in (explicit, os.environ.get("DUCKDB_DELTA_EXTENSION")):
        if given:
            candidates.append(Path(given))
    for entry in sys.path:
        if entry:
            candidates.append(Path(entry) / EXTENSION_REL / EXTENSION_FILE)
    for venv in (".venv-superset", ".venv"):
        pattern = str(REPO_ROOT / venv / "lib" / "python3*" / "site-packages" / EXTENSION_REL)
        candidates += [Path(p) / EXTENSION_FILE for p in sorted(glob.glob(pattern))]
    for path in candidates:
        if path.is_file():
            return path.resolve()
    raise FileNotFoundError(
        f"{EXTENSION_FILE} for duckdb {duckdb.__version__} not found; install "
        f"duckdb-extension-delta=={duckdb.__version__} or pass --extension-file"
    )


def connect_config(extension_dir: Path) -> dict[str, object]:
    """DuckDB config every connection to the serving file needs (offline extension loading)."""
    return {
        "extension_directory": str(extension_dir),
        "autoinstall_known_extensions": False,
        "autoload_known_extensions": False,
    }


def build_serving_db(
    lake: Path,
    out: Path,
    extension_file: str | Path | None = None,
    extension_dir: Path | None = None,
) -> Path:
    """Create or refresh ``out`` with the ``VIEWS`` whose Delta tables exist. Idempotent.

    Returns the resolved path of the DuckDB file. Raises if a table of a required view is missing,
    because a view over a missing table would only fail later, inside a dashboard. Optional views
    whose tables are missing are dropped (see ``plan_views``).
    """
    lake = Path(lake).resolve()
    out = Path(out).resolve()
    extension_dir = Path(extension_dir or default_extension_dir()).resolve()
    built, skipped = plan_views(lake)
    missing = sorted({SOURCES[s] for v in skipped if v.required for s in v.sources
                      if not _exists(lake, s)})  # fmt: skip
    if missing:
        raise FileNotFoundError(f"gold Delta tables missing under {lake}: {', '.join(missing)}")

    out.parent.mkdir(parents=True, exist_ok=True)
    extension_dir.mkdir(parents=True, exist_ok=True)
    ext = find_delta_extension(extension_file)
    con = duckdb.connect(str(out), config=connect_config(extension_dir))
    try:
        con.execute(f"FORCE INSTALL '{_sql_str(ext)}'")
        con.execute("LOAD delta")
        scans = {s: _scan(con, lake / SOURCES[s]) for v in built for s in v.sources}
        for view in VIEWS:
            if view not in built:
                con.execute(f"DROP VIEW IF EXISTS main.{view.name}")
                continue
            select = view.sql.format(**scans)
            con.execute(f"CREATE OR REPLACE VIEW main.{view.name} AS {select}")
            # bind now: a broken view fails here, not inside a dashboard
            con.execute(f"SELECT * FROM main.{view.name} LIMIT 0")
            if view.comment:
                con.execute(f"COMMENT ON VIEW main.{view.name} IS '{_sql_str(view.comment)}'")
        con.execute("CHECKPOINT")
    finally:
        con.close()
    return out


def plan_views(lake: Path) -> tuple[list[View], list[View]]:
    """Split ``VIEWS`` into (views whose Delta tables all exist, views missing a table)."""
    lake = Path(lake).resolve()
    built = [v for v in VIEWS if all(_exists(lake, s) for s in v.sources)]
    return built, [v for v in VIEWS if v not in built]


def _exists(lake: Path, source: str) -> bool:
    return (lake / SOURCES[source] / "_delta_log").is_dir()


def _scan(con: duckdb.DuckDBPyConnection, table: Path) -> str:
    """``delta_scan`` of ``table`` as a subquery, its UTC-tagged timestamps as naive wall-clock."""
    scan = f"delta_scan('{_sql_str(table)}')"
    columns = con.execute(f"DESCRIBE SELECT * FROM {scan}").fetchall()
    tz = [name for name, kind, *_ in columns if kind == "TIMESTAMP WITH TIME ZONE"]
    if not tz:
        return f"(SELECT * FROM {scan})"
    replace = ", ".join(f'timezone(\'UTC\', "{c}") AS "{c}"' for c in tz)
    return f"(SELECT * REPLACE ({replace}) FROM {scan})"


def _sql_str(value: object) -> str:
    return str(value).replace("'", "''")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--lake", type=Path, default=Path(os.environ.get("LAKEHOUSE_LAKE", "lake")))
    parser.add_argument("--out", type=Path, default=None, help="default: <state>/serving.duckdb")
    parser.add_argument("--extension-file", default=None, help="path to delta.duckdb_extension")
    parser.add_argument("--extension-dir", type=Path, default=None)
    args = parser.parse_args(argv)
    out = build_serving_db(
        args.lake,
        args.out or state_dir() / "serving.duckdb",
        extension_file=args.extension_file,
        extension_dir=args.extension_dir,
    )
    built, skipped = plan_views(args.lake)
    for view in skipped:
        tables = ", ".join(SOURCES[s] for s in view.sources if not _exists(args.lake.resolve(), s))
        print(f"serving: no view {view.name} (missing {tables})", file=sys.stderr)
    print(out)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

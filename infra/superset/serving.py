"""Build the DuckDB serving file that Superset queries: one view per gold Delta table.

The file holds no data, only views over ``delta_scan('<lake>/<layer>/<table>')``, so every new
Delta version is visible to the next query with no refresh step. The ``delta`` extension is
installed OFFLINE from the ``duckdb_extension_delta`` wheel into a project-owned extension directory
(never from the network), and connections must use that directory with autoinstall off.

Each domain declares its views in ``dashboards/<domain>/views.yaml`` (a new domain is a new folder;
nothing here names one). A view is ``SELECT *`` over one gold table: the business logic lives in
the dbt gold models. The quality owner's folder (``dashboards/quality/``) serves the lake's own
records from ``ops`` tables (validation results, the quarantine summary, rejected files, the audit
log), which hold no clear-text personal field either; a view may name the ``roles`` (users.yaml)
its dataset is granted to, so those stay the quality owner's. Required views fail the build when their table is missing; the others are only
created when it exists (a lake from before Issue 3 still serves the county dashboard) and are
dropped when it disappears. Delta ``timestamp`` columns (UTC-tagged GMT+8 wall-clock,
docs/tables.md) are served as naive ``TIMESTAMP`` wall-clock values. The one thing computed at
query time is what depends on the day someone looks (``reached_today`` / ``passed_today``: a
gold date column on or before / before today's Beijing date).

Runs in the main env or the Superset env: stdlib + duckdb (1.5.5 in both) + PyYAML (in both).

    python infra/superset/serving.py --lake lake --out .superset/serving.duckdb
"""

from __future__ import annotations

import argparse
import glob
import os
import re
import sys
from dataclasses import dataclass
from pathlib import Path

import duckdb
import yaml

REPO_ROOT = Path(__file__).resolve().parents[2]
DASHBOARDS_DIR = Path(__file__).resolve().parent / "dashboards"
SHARED_DIRS = frozenset({"databases"})  # dashboards/ folders shared by every domain
VIEWS_FILE = "views.yaml"

# "today" for reached_today flags: the Beijing calendar day, like rectification.py's now_beijing()
BEIJING_TODAY = "CAST(timezone('Asia/Shanghai', now()) AS DATE)"
_IDENTIFIER = re.compile(r"^[a-z_][a-z0-9_]*$")
_VIEW_KEYS = {"name", "table", "required", "comment", "reached_today", "passed_today", "region",
              "roles"}  # fmt: skip
SERVED_LAYERS = ("gold", "ops")  # ops: the lake's records of itself, for the quality owner


@dataclass(frozen=True)
class View:
    """One view of the serving file: ``SELECT *`` over the gold table ``table`` (layer.name)."""

    domain: str
    name: str
    table: str
    required: bool = False
    comment: str = ""
    reached_today: tuple[tuple[str, str], ...] = ()  # (flag column, date column)
    # the GB/T 2260 code(s) of a row's subject, as SQL over the view's columns; () = none
    # (every row is the province's); None = not declared (access.py refuses to serve it)
    region: tuple[str, ...] | None = None
    # the users.yaml roles its dataset is granted to; None: every role granted "all" datasets
    roles: tuple[str, ...] | None = None
    # (flag column, date column): flag = the date is before today (a period whose last day is
    # over: a complete month)
    passed_today: tuple[tuple[str, str], ...] = ()

    @property
    def path(self) -> str:
        """The table's location below the lake root."""
        return self.table.replace(".", "/", 1)

    def select(self, scan: str) -> str:
        """The view's SQL over ``scan`` (the table as a subquery)."""
        flags = "".join(
            f', coalesce("{date}" {op} {BEIJING_TODAY}, false) AS "{flag}"'
            for pairs, op in ((self.reached_today, "<="), (self.passed_today, "<"))
            for flag, date in pairs
        )
        return f"SELECT *{flags} FROM {scan} AS t"


def domains(root: Path = DASHBOARDS_DIR) -> list[str]:
    """The domain folders of ``root`` (every folder but the shared ones)."""
    return sorted(p.name for p in Path(root).iterdir() if p.is_dir() and p.name not in SHARED_DIRS)


def load_views(root: Path = DASHBOARDS_DIR) -> tuple[View, ...]:
    """Every domain's views (``<root>/<domain>/views.yaml``), checked: names unique and prefixed
    with their domain, tables ``gold.<table>`` (or ``ops.<table>``), no unknown keys."""
    views: list[View] = []
    for domain in domains(root):
        path = Path(root) / domain / VIEWS_FILE
        if not path.is_file():
            continue
        for entry in (yaml.safe_load(path.read_text(encoding="utf-8")) or {}).get("views", []):
            where = f"{path}: view {entry.get('name')!r}"
            if unknown := set(entry) - _VIEW_KEYS:
                raise ValueError(f"{where}: unknown keys {sorted(unknown)}")
            layer, _, table = str(entry.get("table", "")).partition(".")
            reached = tuple((entry.get("reached_today") or {}).items())
            passed = tuple((entry.get("passed_today") or {}).items())
            region = entry.get("region")
            if region is not None and not (
                isinstance(region, list) and all(isinstance(r, str) and r for r in region)
            ):
                raise ValueError(f"{where}: region is a list of SQL expressions (may be empty)")
            roles = entry.get("roles")
            if roles is not None and not (
                isinstance(roles, list) and roles and all(isinstance(r, str) for r in roles)
            ):
                raise ValueError(f"{where}: roles is a list of users.yaml role names")
            names = [entry.get("name", ""), layer, table,
                     *(c for pair in (*reached, *passed) for c in pair)]  # fmt: skip
            if not all(_IDENTIFIER.match(str(n)) for n in names):
                raise ValueError(f"{where}: name, table (<layer>.<table>) and columns must be "
                                 "lowercase identifiers")  # fmt: skip
            if layer not in SERVED_LAYERS:  # the business logic lives in the dbt gold models
                raise ValueError(f"{where}: serves {entry['table']}; views read gold tables only "
                                 "(and the lake's ops records)")  # fmt: skip
            if layer == "ops" and roles is None:  # the lake's records are not every role's
                raise ValueError(f"{where}: a view of an ops table names the roles it is for")
            if not entry["name"].startswith(f"{domain}__"):
                raise ValueError(f"{where}: a view of domain {domain} is named {domain}__<entity>")
            views.append(View(domain, entry["name"], entry["table"],
                              bool(entry.get("required", False)), entry.get("comment", ""),
                              reached, None if region is None else tuple(region),
                              None if roles is None else tuple(roles), passed))  # fmt: skip
    names = [v.name for v in views]
    if duplicates := sorted({n for n in names if names.count(n) > 1}):
        raise ValueError(f"views declared twice under {root}: {duplicates}")
    return tuple(views)


VIEWS: tuple[View, ...] = load_views()

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
    views: tuple[View, ...] = VIEWS,
) -> Path:
    """Create or replace ``out`` with the ``views`` whose Delta tables exist. Idempotent.

    Returns the resolved path of the DuckDB file. Raises if a table of a required view is missing,
    because a view over a missing table would only fail later, inside a dashboard. Optional views
    whose tables are missing are left out (see ``plan_views``); the new file replaces the old one
    whole (a rename), so nothing of an earlier build remains and a reader never sees half of it.
    """
    lake = Path(lake).resolve()
    out = Path(out).resolve()
    extension_dir = Path(extension_dir or default_extension_dir()).resolve()
    built, skipped = plan_views(lake, views)
    missing = sorted(v.table for v in skipped if v.required)
    if missing:
        raise FileNotFoundError(f"gold Delta tables missing under {lake}: {', '.join(missing)}")

    out.parent.mkdir(parents=True, exist_ok=True)
    extension_dir.mkdir(parents=True, exist_ok=True)
    ext = find_delta_extension(extension_file)
    # built beside and then renamed over ``out``: a running Superset keeps reading the file it
    # has open (its processes hold it, superset_config.py) and opens the new one next
    building = out.with_name(f".{out.name}.building")
    building.unlink(missing_ok=True)
    con = duckdb.connect(str(building), config=connect_config(extension_dir))
    try:
        con.execute(f"FORCE INSTALL '{_sql_str(ext)}'")
        con.execute("LOAD delta")
        for view in built:
            select = view.select(_scan(con, lake / view.path))
            con.execute(f"CREATE VIEW main.{view.name} AS {select}")
            # bind now: a broken view fails here, not inside a dashboard
            con.execute(f"SELECT * FROM main.{view.name} LIMIT 0")
            if view.comment:
                con.execute(f"COMMENT ON VIEW main.{view.name} IS '{_sql_str(view.comment)}'")
        con.execute("CHECKPOINT")
    except BaseException:
        con.close()
        building.unlink(missing_ok=True)
        raise
    con.close()
    os.replace(building, out)
    return out


def plan_views(lake: Path, views: tuple[View, ...] = VIEWS) -> tuple[list[View], list[View]]:
    """Split ``views`` into (views whose Delta table exists, views whose table is missing)."""
    lake = Path(lake).resolve()
    built = [v for v in views if (lake / v.path / "_delta_log").is_dir()]
    return built, [v for v in views if v not in built]


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
    _, skipped = plan_views(args.lake)
    for view in skipped:
        print(f"serving: no view {view.name} (missing {view.table})", file=sys.stderr)
    print(out)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""Build the DuckDB serving file that Superset queries: one view per gold Delta table.

The file holds no data, only views over ``delta_scan('<lake>/gold/<table>')``, so every new Delta
version is visible to the next query with no refresh step. The ``delta`` extension is installed
OFFLINE from the ``duckdb_extension_delta`` wheel into a project-owned extension directory (never
from the network), and connections must use that directory with autoinstall off.

Runs in the main env or the Superset env: stdlib + duckdb (1.5.5 in both) only.

    python infra/superset/serving.py --lake lake --out .superset/serving.duckdb
"""

from __future__ import annotations

import argparse
import glob
import os
import sys
from pathlib import Path

import duckdb

REPO_ROOT = Path(__file__).resolve().parents[2]

# (view name, path below the lake root) — contracts in docs/tables.md
GOLD_VIEWS: tuple[tuple[str, str], ...] = (
    ("telematics__vehicle_days", "gold/telematics__vehicle_days"),  # 车辆日统计
    ("telematics__county_days", "gold/telematics__county_days"),  # 县区日统计
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
    """Create or refresh ``out`` with one view per gold table over ``delta_scan``. Idempotent.

    Returns the resolved path of the DuckDB file. Raises if a gold table is missing, because a
    view over a missing table would only fail later, inside a dashboard.
    """
    lake = Path(lake).resolve()
    out = Path(out).resolve()
    extension_dir = Path(extension_dir or default_extension_dir()).resolve()
    missing = [rel for _, rel in GOLD_VIEWS if not (lake / rel / "_delta_log").is_dir()]
    if missing:
        raise FileNotFoundError(f"gold Delta tables missing under {lake}: {', '.join(missing)}")

    out.parent.mkdir(parents=True, exist_ok=True)
    extension_dir.mkdir(parents=True, exist_ok=True)
    ext = find_delta_extension(extension_file)
    con = duckdb.connect(str(out), config=connect_config(extension_dir))
    try:
        con.execute(f"FORCE INSTALL '{_sql_str(ext)}'")
        con.execute("LOAD delta")
        for view, rel in GOLD_VIEWS:
            table = _sql_str(lake / rel)
            select = f"SELECT * FROM delta_scan('{table}')"
            con.execute(f"CREATE OR REPLACE VIEW main.{view} AS {select}")
            # bind now: a broken view fails here, not inside a dashboard
            con.execute(f"SELECT * FROM main.{view} LIMIT 0")
        con.execute("CHECKPOINT")
    finally:
        con.close()
    return out


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
    print(out)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

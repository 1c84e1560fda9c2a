"""Zip the dashboards-as-code folder into a Superset import bundle.

Substitutes ``@SERVING_DB@`` (the DuckDB serving file) and ``@EXTENSION_DIR@`` (its extension
directory), checks every file parses and that the dashboards' ``position`` references every chart,
then writes a zip that ``superset import-dashboards -p <zip> -u admin`` accepts.

    python infra/superset/build_bundle.py --serving-db .superset/serving.duckdb --out bundle.zip
"""

from __future__ import annotations

import argparse
import io
import zipfile
from pathlib import Path

import yaml

HERE = Path(__file__).resolve().parent
SOURCE_DIR = HERE / "dashboards"
BUNDLE_ROOT = "lakehouse_dashboards"  # Superset strips the zip's first path component


def chart_uuids_in_position(dashboard: dict) -> set[str]:
    """Chart uuids referenced by a dashboard's ``position`` (CHART nodes' ``meta.uuid``)."""
    return {
        node["meta"]["uuid"]
        for node in dashboard["position"].values()
        if isinstance(node, dict) and node.get("type") == "CHART"
    }


def render_bundle(serving_db: Path, extension_dir: Path, source_dir: Path = SOURCE_DIR) -> dict:
    """Return ``{relative path: rendered YAML text}`` for every file of the bundle."""
    substitutions = {
        "@SERVING_DB@": str(Path(serving_db).resolve()),
        "@EXTENSION_DIR@": str(Path(extension_dir).resolve()),
    }
    files: dict[str, str] = {}
    for path in sorted(source_dir.rglob("*.yaml")):
        text = path.read_text(encoding="utf-8")
        for token, value in substitutions.items():
            text = text.replace(token, value)
        files[path.relative_to(source_dir).as_posix()] = text

    docs = {rel: yaml.safe_load(text) for rel, text in files.items()}
    charts = {doc["uuid"] for rel, doc in docs.items() if rel.startswith("charts/")}
    for rel, doc in docs.items():
        if rel.startswith("dashboards/"):
            referenced = chart_uuids_in_position(doc)
            if referenced != charts:
                raise ValueError(
                    f"{rel}: position charts {sorted(referenced)} != chart files {sorted(charts)}"
                )
    leftover = [rel for rel, text in files.items() if any(t in text for t in substitutions)]
    if leftover or "metadata.yaml" not in files:
        raise ValueError(f"bad bundle: unsubstituted {leftover} or no metadata.yaml")
    return files


def build_bundle(serving_db: Path, extension_dir: Path, out: Path) -> Path:
    """Write the import zip to ``out`` and return its path."""
    files = render_bundle(serving_db, extension_dir)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as zf:
        for rel, text in files.items():
            zf.writestr(f"{BUNDLE_ROOT}/{rel}", text.encode("utf-8"))
    out = Path(out).resolve()
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_bytes(buffer.getvalue())
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--serving-db", type=Path, required=True)
    parser.add_argument("--extension-dir", type=Path, default=None,
                        help="default: duckdb_extensions/ beside the serving DB")  # fmt: skip
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args(argv)
    ext = args.extension_dir or args.serving_db.resolve().parent / "duckdb_extensions"
    print(build_bundle(args.serving_db, ext, args.out))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

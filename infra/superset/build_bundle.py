"""Zip the dashboards-as-code folder into a Superset import bundle.

``dashboards/`` holds the shared ``metadata.yaml`` and ``databases/``, and one folder per domain
(``dashboards/<domain>/{charts,datasets,dashboards}/``; a new domain is a new folder, nothing here
names one). Each domain's files go to ``<kind>/<domain>/…`` of the bundle (Superset reads a file's
kind from its first path component). Substitutes ``@SERVING_DB@`` (the DuckDB serving file) and
``@EXTENSION_DIR@`` (its extension directory), checks every file parses, that every uuid is
declared once, that every chart is on a dashboard's ``position`` and that every chart / dataset /
native-filter uuid reference resolves to a file of the bundle, then writes a zip that
``superset import-dashboards -p <zip> -u admin`` accepts.

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
SHARED = ("metadata.yaml", "databases")  # dashboards/ entries every domain shares
DOMAIN_KINDS = ("charts", "datasets", "dashboards")  # what a domain folder holds for the bundle
NOT_BUNDLED = ("views.yaml",)  # a domain's serving views (serving.py)


def source_files(source_dir: Path = SOURCE_DIR) -> dict[str, Path]:
    """``{bundle path: file}``: the shared files as they are, each domain's as ``<kind>/<domain>/…``."""
    source_dir = Path(source_dir)
    files: dict[str, Path] = {}
    unexpected: list[str] = []
    for entry in sorted(source_dir.iterdir()):
        if entry.name in SHARED:
            paths = [entry] if entry.is_file() else sorted(entry.rglob("*.yaml"))
            files.update({p.relative_to(source_dir).as_posix(): p for p in paths})
        elif entry.is_dir():  # a domain
            for path in sorted(entry.rglob("*.yaml")):
                kind, *rest = path.relative_to(entry).parts
                if kind in DOMAIN_KINDS and rest:
                    files["/".join((kind, entry.name, *rest))] = path
                elif kind not in NOT_BUNDLED:
                    unexpected.append(path.relative_to(source_dir).as_posix())
        elif entry.suffix == ".yaml":
            unexpected.append(entry.name)
    if unexpected:
        raise ValueError(
            f"bad bundle: {unexpected} are neither shared ({', '.join(SHARED)}) nor a domain's "
            f"<domain>/{{{','.join(DOMAIN_KINDS)}}}/ file"
        )
    return files


def chart_uuids_in_position(dashboard: dict) -> set[str]:
    """Chart uuids referenced by a dashboard's ``position`` (CHART nodes' ``meta.uuid``)."""
    return {
        node["meta"]["uuid"]
        for node in dashboard["position"].values()
        if isinstance(node, dict) and node.get("type") == "CHART"
    }


def check_references(docs: dict[str, dict]) -> None:
    """Every uuid is declared once, every chart is on a dashboard and every uuid a file refers to
    is a file of the bundle."""
    charts = {doc["uuid"] for rel, doc in docs.items() if rel.startswith("charts/")}
    datasets = {doc["uuid"] for rel, doc in docs.items() if rel.startswith("datasets/")}
    databases = {doc["uuid"] for rel, doc in docs.items() if rel.startswith("databases/")}
    errors: list[str] = []
    declared: dict[str, str] = {}
    for rel, doc in docs.items():
        if "uuid" in doc and (first := declared.setdefault(doc["uuid"], rel)) != rel:
            errors.append(f"{rel}: uuid {doc['uuid']} is also {first}'s")
    on_dashboards: set[str] = set()
    for rel, doc in docs.items():
        if rel.startswith("dashboards/"):
            referenced = chart_uuids_in_position(doc)
            on_dashboards |= referenced
            if unknown := referenced - charts:
                errors.append(f"{rel}: position names no chart file for {sorted(unknown)}")
            for flt in doc.get("metadata", {}).get("native_filter_configuration", []):
                for target in flt.get("targets", []):
                    if target.get("datasetUuid") not in datasets:
                        errors.append(f"{rel}: filter {flt.get('name')} targets no dataset file")
        elif rel.startswith("charts/") and doc.get("dataset_uuid") not in datasets:
            errors.append(f"{rel}: dataset_uuid {doc.get('dataset_uuid')} is no dataset file")
        elif rel.startswith("datasets/") and doc.get("database_uuid") not in databases:
            errors.append(f"{rel}: database_uuid {doc.get('database_uuid')} is no database file")
    if orphans := charts - on_dashboards:
        errors.append(f"chart files on no dashboard: {sorted(orphans)}")
    if errors:
        raise ValueError("bad bundle:\n  " + "\n  ".join(errors))


def render_bundle(serving_db: Path, extension_dir: Path, source_dir: Path = SOURCE_DIR) -> dict:
    """Return ``{relative path: rendered YAML text}`` for every file of the bundle."""
    substitutions = {
        "@SERVING_DB@": str(Path(serving_db).resolve()),
        "@EXTENSION_DIR@": str(Path(extension_dir).resolve()),
    }
    files: dict[str, str] = {}
    for rel, path in source_files(source_dir).items():
        text = path.read_text(encoding="utf-8")
        for token, value in substitutions.items():
            text = text.replace(token, value)
        files[rel] = text

    docs = {rel: yaml.safe_load(text) for rel, text in files.items()}
    check_references(docs)
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

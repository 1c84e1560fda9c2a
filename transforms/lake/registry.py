"""The table registry: what a Delta table of the lake is (layer, location, partitions, retention,
key), the shared ``ops`` tables (landing, retention), and the lookup over every domain's tables.

A table named ``<layer>.<domain>__<entity>`` lives at ``<lake>/<layer>/<domain>__<entity>``; each
domain lists its own in ``transforms/<domain>/tables.py``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

LAYERS = ("ops", "bronze", "quarantine", "silver", "gold")


@dataclass(frozen=True)
class RetentionColumns:
    """What retention (transforms/lake/retention.py) reads of a table: the column that dates a row,
    and the columns naming who the row is about, for legal holds."""

    time: str  # dates a row for its age: a date, a GMT+8 timestamp or a "YYYY-MM-DD…" string
    hold_time: str | None = None  # what a hold's date range is compared with [default: time]
    plate: tuple[str, str] | None = None  # (plate, plate colour) columns naming the vehicle
    enterprise: str | None = None  # column naming the enterprise (统一社会信用代码)
    # SCD2 history (plate, plate_color, enterprise_id, valid_from, valid_to) through which an
    # enterprise's hold covers its vehicles' rows for the days they belonged to it
    fleet: str | None = None


@dataclass(frozen=True)
class Table:
    """One Delta table of the lake."""

    name: str  # "<layer>.<domain>__<entity>"
    description: str
    partition_by: tuple[str, ...] = ()
    # the legal minimum a row is kept (days): the floor of the retention period in the rules file
    retention_days: int | None = None
    key: tuple[str, ...] = field(default=())
    retention_columns: RetentionColumns | None = None  # None: never aged, kept for ever

    @property
    def layer(self) -> str:
        return self.name.split(".", 1)[0]

    @property
    def entity(self) -> str:
        return self.name.split(".", 1)[1]

    def location(self, lake: Path) -> Path:
        return lake / self.layer / self.entity

    def exists(self, lake: Path) -> bool:
        return (self.location(lake) / "_delta_log").is_dir()


# fmt: off
SHARED_TABLES: tuple[Table, ...] = (
    Table("ops.landing__files",
          "Every landed file of every domain, by SM3 digest: re-landing it is a no-op.",
          key=("file_sm3",)),
    Table("ops.landing__rejected_files", "Landing files that could not be read at all, with the error.",
          key=("file_sm3",)),
    Table("ops.retention__holds",
          "Legal holds (封存): every hold added or released, append-only (never deleted).",
          key=("hold_id", "event")),
    Table("ops.retention__deletions",
          "One row per table per retention run: cutoff, rows deleted, rows kept by holds.",
          key=("run_id", "table_name")),
    Table("bronze.reference__divisions",
          "GB/T 2260 administrative divisions with centroids as received (shared reference).",
          key=("_file_sm3", "_line")),
    Table("quarantine.reference__divisions", "Division lines that could not be parsed.",
          key=("_file_sm3", "_line")),
    Table("silver.reference__divisions",
          "GB/T 2260 divisions (province / city / county) and their centroids, one per code, "
          "the record landed last wins; every domain's distances use them.", key=("code",)),
    Table("ops.audit_log",
          "Audit trail (安全审计): one row per CLI command, pipeline run, Superset login and SQL "
          "Lab query — who, when, what, from where, outcome; append-only (delta.appendOnly), "
          "never updated or deleted (transforms/lake/audit.py).",
          key=("event_id",)),
    Table("ops.manifest",
          "Tamper evidence: SM3 of every landed file and bronze commit file; append-only.",
          key=("path", "sm3")),
    Table("ops.publications",
          "Monthly bulletins (月通报): one row per version published or corrected — files and "
          "their SM3, publicity window, the Delta version of every table read; append-only "
          "(delta.appendOnly; transforms/bulletin/publications.py).",
          key=("period", "jurisdiction", "version")),
    # the quality owner's records (transforms/lake/validations.py, quarantine.py)
    Table("ops.validation_results",
          "Every GX validation of every domain and run: one row per expectation per validated "
          "batch (suite, batch, rule, observed value, success, counts, its Data Docs page); "
          "append-only (delta.appendOnly), one validation of a (run, suite, batch) kept once.",
          key=("run_id", "suite", "batch", "expectation", "column_name", "rule")),
    Table("ops.quarantine__counts",
          "Quarantined records per quarantine table, rule and landing day (every domain), "
          "rebuilt after each run that validated something.",
          key=("table_name", "rule", "landed_on")),
    Table("ops.quarantine__samples",
          "The latest 20 quarantined records of each quarantine table and rule, as kept (a "
          "masked preview for a feed with personal fields), rebuilt with the counts.",
          key=("table_name", "rule", "sample_rank")),
    # 车辆/企业画像 (transforms/profile_gold.py): every vehicle's and enterprise's `lakehouse
    # profile` as rows, rebuilt whole by each run; subject_kind + subject_key name the subject
    Table("gold.profile__parts",
          "One row per subject and profile part: the period it covers, its counts, a summary.",
          key=("subject_kind", "subject_key", "part")),
    Table("gold.profile__counts",
          "The profile parts' breakdowns: violations by kind, anomalies by type, orders by "
          "status and by company.", key=("subject_kind", "subject_key", "breakdown", "item")),
    *(Table(f"gold.profile__{entity}", f"The profile's list of {what}, in the command's order.",
            key=("subject_kind", "subject_key", "seq"))
      for entity, what in (("licences", "licences and their validity on the day"),
                           ("violations", "latest violations"),
                           ("scores", "assessment, freight and ride-hailing scores"),
                           ("waybills", "latest waybills (latest version each)"),
                           ("anomalies", "freight anomalies"),
                           ("rectification", "open rectification items"),
                           ("master", "master-data versions (every source)"))),
)
# fmt: on


def all_tables() -> tuple[Table, ...]:
    """The shared tables and every domain's (transforms/domains.py)."""
    from transforms.domains import DOMAINS

    return SHARED_TABLES + tuple(t for d in DOMAINS for t in d.tables)


def by_name() -> dict[str, Table]:
    return {t.name: t for t in all_tables()}


def table(name: str) -> Table:
    """The registered table called ``name``; a clear error for an unknown one."""
    known = by_name()
    try:
        return known[name]
    except KeyError:
        raise KeyError(
            f"unknown table {name!r}; known tables: {', '.join(sorted(known))}"
        ) from None


def discover(lake: Path) -> list[str]:
    """Names of every Delta table found under the lake's layer folders (registered or not)."""
    found = []
    for layer in LAYERS:
        layer_dir = lake / layer
        if not layer_dir.is_dir():
            continue
        for child in sorted(layer_dir.iterdir()):
            if (child / "_delta_log").is_dir():
                found.append(f"{layer}.{child.name}")
    return found

"""The table registry: every Delta table of the lake, its layer, location, partitions and retention.

A table named ``<layer>.<domain>__<entity>`` lives at ``<lake>/<layer>/<domain>__<entity>``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

LAYERS = ("ops", "bronze", "quarantine", "silver", "gold")


@dataclass(frozen=True)
class Table:
    """One Delta table of the lake."""

    name: str  # "<layer>.<domain>__<entity>"
    description: str
    partition_by: tuple[str, ...] = ()
    retention_days: int | None = None  # None: kept for ever
    key: tuple[str, ...] = field(default=())

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


# Raw positions are kept ≥ 6 months, violation records and their disposal ≥ 3 years (第二十六条).
POSITIONS_RETENTION_DAYS = 186
THREE_YEARS_DAYS = 3 * 366

# one table per entry, aligned for reading
# fmt: off
TABLES: tuple[Table, ...] = (
    Table("ops.landing__files", "Every landed file, by SM3 digest: re-landing it is a no-op.",
          key=("file_sm3",)),
    Table("ops.telematics__rectification_items",
          "整改清单: failed subjects and violation vehicles of a monthly bulletin (never deleted).",
          retention_days=THREE_YEARS_DAYS, key=("item_id",)),
    Table("ops.telematics__rectification_events",
          "整改销号: every status change of a rectification item (append-only).",
          retention_days=THREE_YEARS_DAYS, key=("item_id", "at")),
    Table("ops.landing__rejected_files", "Landing files that could not be read at all, with the error.",
          key=("file_sm3",)),
    Table("bronze.telematics__positions", "Position records as received (strings) with lineage.",
          partition_by=("_folder_date",), retention_days=POSITIONS_RETENTION_DAYS,
          key=("_file_sm3", "_line")),
    Table("bronze.telematics__vehicles", "Vehicle master records as received.",
          key=("_file_sm3", "_line")),
    Table("bronze.telematics__counties", "County master records as received.",
          key=("_file_sm3", "_line")),
    Table("bronze.telematics__enterprises", "Enterprises records as received.",
          key=("_file_sm3", "_line")),
    Table("quarantine.telematics__enterprises", "Enterprises lines that could not be parsed.",
          key=("_file_sm3", "_line")),
    Table("bronze.telematics__platforms", "Platforms records as received.",
          key=("_file_sm3", "_line")),
    Table("quarantine.telematics__platforms", "Platforms lines that could not be parsed.",
          key=("_file_sm3", "_line")),
    Table("bronze.telematics__routes", "Routes records as received.",
          key=("_file_sm3", "_line")),
    Table("quarantine.telematics__routes", "Routes lines that could not be parsed.",
          key=("_file_sm3", "_line")),
    Table("bronze.telematics__regions", "Regions records as received.",
          key=("_file_sm3", "_line")),
    Table("quarantine.telematics__regions", "Regions lines that could not be parsed.",
          key=("_file_sm3", "_line")),
    Table("bronze.telematics__platform_links", "Platform links records as received.",
          key=("_file_sm3", "_line")),
    Table("quarantine.telematics__platform_links", "Platform links lines that could not be parsed.",
          key=("_file_sm3", "_line")),
    Table("bronze.telematics__platform_checks", "Platform checks records as received.",
          key=("_file_sm3", "_line")),
    Table("quarantine.telematics__platform_checks", "Platform checks lines that could not be parsed.",
          key=("_file_sm3", "_line")),
    Table("quarantine.telematics__positions",
          "Position records that failed a qualification rule (数据不合格) or could not be parsed.",
          retention_days=THREE_YEARS_DAYS, key=("_file_sm3", "_line")),
    Table("quarantine.telematics__vehicles", "Vehicle master lines that could not be parsed.",
          key=("_file_sm3", "_line")),
    Table("quarantine.telematics__counties", "County master lines that could not be parsed.",
          key=("_file_sm3", "_line")),
    Table("silver.telematics__positions",
          "Qualified positions (合格数据), one per (plate, plate_color, gnss_time), last received wins.",
          partition_by=("day",), retention_days=POSITIONS_RETENTION_DAYS,
          key=("plate", "plate_color", "gnss_time")),
    Table("silver.telematics__vehicles", "Key vehicles (重点营运车辆) with their history (SCD2).",
          key=("plate", "plate_color", "valid_from")),
    Table("silver.telematics__counties", "Counties (辖区), GB/T 2260, history (SCD2).",
          key=("county_code", "valid_from")),
    Table("silver.telematics__enterprises", "Transport enterprises (道路运输经营者), history (SCD2).",
          key=("enterprise_id", "valid_from")),
    Table("silver.telematics__platforms", "Monitoring platforms (监控平台) with 备案 fields, history.",
          key=("platform_id", "valid_from")),
    Table("silver.telematics__routes", "Approved bus routes (核定线路), polylines, history (SCD2).",
          key=("route_id", "valid_from")),
    Table("silver.telematics__regions", "Approved charter regions (包车区域), polygons, history.",
          key=("region_id", "valid_from")),
    Table("silver.telematics__platform_links", "Platform link up/down events (平台连通).",
          key=("platform_id", "at", "event")),
    Table("silver.telematics__platform_checks", "查岗 checks and their answers.", key=("check_id",)),
    Table("silver.telematics__vehicle_day_facts",
          "Per vehicle-day facts: km, broken km, drift, overspeed, fatigue, violations.",
          partition_by=("day",), retention_days=THREE_YEARS_DAYS,
          key=("day", "plate", "plate_color")),
    Table("silver.telematics__violation_events", "Violation events with their evidence (违法违规).",
          partition_by=("day",), retention_days=THREE_YEARS_DAYS, key=("event_id",)),
    Table("silver.telematics__record_counts",
          "Records received and qualified per day, platform and vehicle (数据合格率 inputs).",
          partition_by=("day",), key=("day", "platform_id", "plate", "plate_color")),
    Table("gold.telematics__assessments",
          "Indicators, scores and pass/fail per level, subject and period (dbt).",
          key=("level", "subject_id", "period_type", "period")),
    Table("gold.telematics__vehicle_days", "Per vehicle and day: points, qualified points, km (dbt).",
          key=("day", "plate", "plate_color")),
    Table("gold.telematics__county_days", "Per county and day: online vehicles, qualified rate (dbt).",
          key=("day", "county_code")),
)
# fmt: on

BY_NAME: dict[str, Table] = {t.name: t for t in TABLES}


def table(name: str) -> Table:
    """The registered table called ``name``; a clear error for an unknown one."""
    try:
        return BY_NAME[name]
    except KeyError:
        known = ", ".join(sorted(BY_NAME))
        raise KeyError(f"unknown table {name!r}; known tables: {known}") from None


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

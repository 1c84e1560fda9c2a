"""The landing-zone feeds this pipeline lands (../shared/domain/contracts.md)."""

from __future__ import annotations

from dataclasses import dataclass

POSITION_FIELDS = (
    "platform_id",
    "plate",
    "plate_color",
    "gnss_time",
    "lon",
    "lat",
    "speed",
    "recorder_speed",
    "mileage_km",
    "direction",
    "altitude",
    "state",
    "alarm",
    "received_at",
)
VEHICLE_FIELDS = (
    "plate",
    "plate_color",
    "vehicle_type",
    "enterprise_id",
    "county_code",
    "platform_id",
    "operating_status",
    "speed_limit_kmh",
    "route_id",
    "region_id",
    "route_exempt",
    "registered_at",
)
COUNTY_FIELDS = ("county_code", "name", "city_code", "province_code")


@dataclass(frozen=True)
class Feed:
    """One landing feed: where its files are, what they hold, where they land."""

    domain: str
    name: str
    fields: tuple[str, ...]
    extensions: tuple[str, ...]
    required: tuple[str, ...]  # CSV header must name these

    @property
    def key(self) -> str:
        return f"{self.domain}/{self.name}"

    @property
    def bronze_table(self) -> str:
        return f"bronze.{self.domain}__{self.name}"

    @property
    def quarantine_table(self) -> str:
        return f"quarantine.{self.domain}__{self.name}"


POSITIONS = Feed("telematics", "positions", POSITION_FIELDS, (".jsonl", ".csv"), POSITION_FIELDS)
VEHICLES = Feed("telematics", "vehicles", VEHICLE_FIELDS, (".jsonl",), ("plate", "plate_color"))
COUNTIES = Feed("telematics", "counties", COUNTY_FIELDS, (".jsonl",), ("county_code",))

FEEDS: dict[str, Feed] = {f.key: f for f in (POSITIONS, VEHICLES, COUNTIES)}

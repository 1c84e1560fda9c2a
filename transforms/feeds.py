"""The landing-zone feeds this pipeline lands (../shared/domain/contracts.md)."""

from __future__ import annotations

from dataclasses import dataclass

POSITION_FIELDS = (
    "platform_id", "plate", "plate_color", "gnss_time", "lon", "lat", "speed", "recorder_speed",
    "mileage_km", "direction", "altitude", "state", "alarm", "received_at",
)  # fmt: skip
# bronze positions also hold decoded frames: the 808 terminal phone and where the record came from
POSITION_BRONZE_FIELDS = (*POSITION_FIELDS, "terminal_phone", "source")
VEHICLE_FIELDS = (
    "plate", "plate_color", "vehicle_type", "enterprise_id", "county_code", "platform_id",
    "operating_status", "speed_limit_kmh", "route_id", "region_id", "route_exempt", "registered_at",
    "terminal_phone",
)  # fmt: skip
COUNTY_FIELDS = ("county_code", "name", "city_code", "province_code")
ENTERPRISE_FIELDS = ("enterprise_id", "name", "county_code", "business_type")
PLATFORM_FIELDS = (
    "platform_id", "name", "provider_name", "kind", "software_version", "service_scope",
    "machine_room_address", "deployment", "architecture", "upstream_network", "upstream_ip_port",
    "terminal_ip_port", "map_approval_number", "map_source", "map_scope", "map_date",
    "map_matching_accuracy_m", "map_provider", "map_valid_until", "security_filing_number",
    "security_level", "security_assessor", "applicant_company", "applicant_uscc",
    "legal_representative", "technical_lead", "contact", "filing_status", "filed_at",
)  # fmt: skip
ROUTE_FIELDS = ("route_id", "name", "length_km", "polyline")
REGION_FIELDS = ("region_id", "name", "polygon")
LINK_FIELDS = ("platform_id", "event", "at", "reason")
CHECK_FIELDS = ("check_id", "platform_id", "enterprise_id", "sent_at", "answered_at", "answer")


@dataclass(frozen=True)
class Feed:
    """One landing feed: where its files are, what they hold, where they land."""

    domain: str
    name: str
    fields: tuple[str, ...]
    extensions: tuple[str, ...]
    required: tuple[str, ...]  # CSV header must name these
    lands_into: str | None = None  # another feed's bronze/quarantine tables (frames → positions)

    @property
    def key(self) -> str:
        return f"{self.domain}/{self.name}"

    @property
    def target(self) -> str:
        return self.lands_into or self.name

    @property
    def bronze_table(self) -> str:
        return f"bronze.{self.domain}__{self.target}"

    @property
    def quarantine_table(self) -> str:
        return f"quarantine.{self.domain}__{self.target}"


def _master(name: str, fields: tuple[str, ...], key: tuple[str, ...]) -> Feed:
    return Feed("telematics", name, fields, (".jsonl",), key)


POSITIONS = Feed(
    "telematics", "positions", POSITION_BRONZE_FIELDS, (".jsonl", ".csv"), POSITION_FIELDS
)
FRAMES = Feed("telematics", "frames", POSITION_BRONZE_FIELDS, (".hex",), (), lands_into="positions")
VEHICLES = _master("vehicles", VEHICLE_FIELDS, ("plate", "plate_color"))
COUNTIES = _master("counties", COUNTY_FIELDS, ("county_code",))
ENTERPRISES = _master("enterprises", ENTERPRISE_FIELDS, ("enterprise_id",))
PLATFORMS = _master("platforms", PLATFORM_FIELDS, ("platform_id",))
ROUTES = _master("routes", ROUTE_FIELDS, ("route_id",))
REGIONS = _master("regions", REGION_FIELDS, ("region_id",))
PLATFORM_LINKS = _master("platform_links", LINK_FIELDS, ("platform_id", "event", "at"))
PLATFORM_CHECKS = _master("platform_checks", CHECK_FIELDS, ("check_id",))

# the order a pass lands them in: master data first, so positions can be attributed
MASTER_FEEDS = (COUNTIES, ENTERPRISES, PLATFORMS, ROUTES, REGIONS, VEHICLES)
EVENT_FEEDS = (PLATFORM_LINKS, PLATFORM_CHECKS)
POSITION_FEEDS = (POSITIONS, FRAMES)
FEEDS: dict[str, Feed] = {f.key: f for f in (*MASTER_FEEDS, *EVENT_FEEDS, *POSITION_FEEDS)}

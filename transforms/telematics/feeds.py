"""The telematics (动态监控) landing feeds and their fields (../shared/domain/contracts.md)."""

from __future__ import annotations

import pyarrow as pa

from transforms.lake.feeds import Feed
from transforms.lake.protection import Sensitive
from transforms.telematics.parsers import parse_frames

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


DOMAIN = "telematics"
# personal fields (licences.md, data protection): the JT/T 808 terminal SIM number is a phone
# number (access.md); a platform's filing names its legal representative, technical lead and a
# contact number
PHONE = Sensitive("terminal_phone", "phone")
PLATFORM_SENSITIVE = (
    Sensitive("legal_representative", "name"),
    Sensitive("technical_lead", "name"),
    Sensitive("contact", "phone"),
)
TS = pa.timestamp("us", tz="UTC")  # GMT+8 wall-clock values, see docs/tables.md
# quarantined positions keep their typed key, so a record can be found by vehicle and time
POSITION_QUARANTINE_COLUMNS = (
    ("platform_id", pa.string()), ("plate", pa.string()), ("plate_color", pa.int32()),
    ("gnss_time", TS), ("day", pa.date32()), ("received_at", TS),
)  # fmt: skip


def _master(
    name: str, fields: tuple[str, ...], key: tuple[str, ...], sensitive: tuple[Sensitive, ...] = ()
) -> Feed:
    return Feed(DOMAIN, name, fields, (".jsonl",), key, sensitive=sensitive)


POSITIONS = Feed(
    DOMAIN, "positions", POSITION_BRONZE_FIELDS, (".jsonl", ".csv"), POSITION_FIELDS,
    constants=(("source", "file"),),  # a file cannot claim to be a decoded frame
    by_day=True, quarantine_columns=POSITION_QUARANTINE_COLUMNS, sensitive=(PHONE,),
)  # fmt: skip
FRAMES = Feed(
    DOMAIN, "frames", POSITION_BRONZE_FIELDS, (".hex",), lands_into="positions",
    parsers=((".hex", parse_frames),), by_day=True,
    quarantine_columns=POSITION_QUARANTINE_COLUMNS, sensitive=(PHONE,),
)  # fmt: skip
VEHICLES = _master("vehicles", VEHICLE_FIELDS, ("plate", "plate_color"), (PHONE,))
COUNTIES = _master("counties", COUNTY_FIELDS, ("county_code",))
ENTERPRISES = _master("enterprises", ENTERPRISE_FIELDS, ("enterprise_id",))
PLATFORMS = _master("platforms", PLATFORM_FIELDS, ("platform_id",), PLATFORM_SENSITIVE)
ROUTES = _master("routes", ROUTE_FIELDS, ("route_id",))
REGIONS = _master("regions", REGION_FIELDS, ("region_id",))
PLATFORM_LINKS = _master("platform_links", LINK_FIELDS, ("platform_id", "event", "at"))
PLATFORM_CHECKS = _master("platform_checks", CHECK_FIELDS, ("check_id",))

# the order a pass lands them in: master data first, so positions can be attributed
MASTER_FEEDS = (COUNTIES, ENTERPRISES, PLATFORMS, ROUTES, REGIONS, VEHICLES)
EVENT_FEEDS = (PLATFORM_LINKS, PLATFORM_CHECKS)
POSITION_FEEDS = (POSITIONS, FRAMES)
FEEDS = (*MASTER_FEEDS, *EVENT_FEEDS, *POSITION_FEEDS)

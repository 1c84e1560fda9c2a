"""Telematics (动态监控) suites: the 数据合格 rules of a position record and the suite guarding
silver.telematics__positions; thresholds from the telematics rules (transforms/telematics/rules.yaml)."""

from __future__ import annotations

from typing import Any

import great_expectations as gx

from expectations.rules import Rule
from expectations.suites import build_suite


def position_rules(rules: dict[str, Any]) -> list[Rule]:
    """The 数据合格 rules of a position record (telematics.md), thresholds from the rules file."""
    q = rules["qualification"]

    def between(name: str, column: str, bounds: list[float]) -> Rule:
        return Rule(name, column, "between", {"min": bounds[0], "max": bounds[1]})

    return [
        Rule("plate_valid", "plate", "regex", {"pattern": q["plate_pattern"]}),
        Rule("plate_color_valid", "plate_color", "in_set", {"values": list(q["plate_colors"])}),
        Rule("gnss_time_valid", "gnss_time", "not_null"),
        Rule(
            "gnss_time_not_future",
            "gnss_lead_s",
            "max",
            {"max": q["future_tolerance_s"]},
            null_ok=True,
        ),
        between("lon_in_range", "lon", q["lon"]),
        between("lat_in_range", "lat", q["lat"]),
        between("speed_in_range", "speed", q["speed_kmh"]),
        between("recorder_speed_in_range", "recorder_speed", q["recorder_speed_kmh"]),
        Rule("mileage_km_valid", "mileage_km", "between", {"min": 0, "max": None}),
        between("direction_in_range", "direction", q["direction"]),
        between("altitude_in_range", "altitude", q["altitude_m"]),
        Rule("state_present", "state", "between", {"min": 0, "max": None}),
        Rule("alarm_present", "alarm", "between", {"min": 0, "max": None}),
    ]


def positions_suite(rules: dict[str, Any]) -> gx.ExpectationSuite:
    """The suite guarding silver.telematics__positions (数据合格 rules)."""
    return build_suite(
        "telematics__positions", position_rules(rules), rules["quality"]["min_pass_fraction"]
    )

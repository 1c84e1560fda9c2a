"""Qualification rules as data: one definition feeds both the GX suite and the row tagging.

A rule passes for a row when its column is not null and (for ``between``/``in_set``/``regex``/``max``)
the value satisfies the bound. ``null_ok`` rules leave nulls to another rule, so that each defect fails
exactly one rule.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Rule:
    """One named row-level rule on one column."""

    name: str
    column: str
    kind: str  # "not_null" | "between" | "in_set" | "regex" | "max"
    params: dict[str, Any] = field(default_factory=dict)
    null_ok: bool = False  # True: a null is not a failure of this rule


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

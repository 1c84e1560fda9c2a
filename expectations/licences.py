"""Licences (电子证照) suites: the field rules of a licence record (guarding
silver.licences__licences) and of an authority key (guarding silver.licences__authorities); the
values come from the licences rules (transforms/licences/rules.yaml).

The signature check is not a GX expectation: it is done record by record before the suite runs
(transforms/licences/signatures.py) and a failing record is quarantined with its reason whatever
the suite says. Cross-column rules are checked on flag columns the typing adds
(``holder_type_matches`` …: true, false, or null when an input is missing — another rule fails then).
"""

from __future__ import annotations

from typing import Any

import great_expectations as gx

from expectations.rules import Rule
from expectations.suites import build_suite

PUBLIC_KEY_PATTERN = r"^04[0-9a-fA-F]{128}$"  # SM2 public key 04‖x‖y, 130 hex digits


def province_pattern(rules: dict[str, Any]) -> str:
    """A GB/T 2260 province code (``350000``) of a known province."""
    return rf"^({'|'.join(rules['province_codes'])})0000$"


def division_pattern(rules: dict[str, Any]) -> str:
    """A 6-digit GB/T 2260 division code (province, city or county) inside a known province."""
    return rf"^({'|'.join(rules['province_codes'])})[0-9]{{4}}$"


def _flag(name: str, column: str) -> Rule:
    return Rule(name, column, "in_set", {"values": [True]}, null_ok=True)


def issuance_rules(rules: dict[str, Any]) -> list[Rule]:
    """The field rules of a licence record (licences.md "Licence record")."""
    return [
        Rule("licence_id_present", "licence_id", "not_null"),
        Rule("licence_no_present", "licence_no", "not_null"),
        Rule("licence_type_valid", "licence_type", "in_set", {"values": list(rules["licence_types"])}),
        Rule("holder_type_valid", "holder_type", "in_set", {"values": list(rules["holder_types"])}),
        _flag("holder_type_matches", "holder_type_matches"),
        Rule("holder_key_present", "holder_key_hmac", "not_null"),
        Rule("status_valid", "status", "in_set", {"values": list(rules["statuses"])}),
        Rule("version_valid", "version", "between", {"min": 1, "max": None}),
        Rule("issued_at_valid", "issued_at", "not_null"),
        Rule("received_at_valid", "received_at", "not_null"),
        Rule("valid_from_valid", "valid_from", "not_null"),
        Rule("valid_to_valid", "valid_to", "not_null"),
        _flag("dates_ordered", "dates_ordered"),
        Rule("issuing_province_valid", "issuing_province", "regex", {"pattern": province_pattern(rules)}),
        Rule(
            "authority_code_valid",
            "issuing_authority_code",
            "regex",
            {"pattern": division_pattern(rules)},
        ),
        _flag("authority_in_province", "authority_in_province"),
    ]  # fmt: skip


def authority_rules(rules: dict[str, Any]) -> list[Rule]:
    """The field rules of an authority key record."""
    return [
        Rule("key_id_present", "key_id", "not_null"),
        Rule(
            "authority_code_valid",
            "authority_code",
            "regex",
            {"pattern": division_pattern(rules)},
        ),
        Rule("public_key_valid", "sm2_public_key", "regex", {"pattern": PUBLIC_KEY_PATTERN}),
        Rule("valid_from_valid", "valid_from", "not_null"),
        Rule("valid_to_valid", "valid_to", "not_null"),
        _flag("dates_ordered", "dates_ordered"),
    ]


def issuance_suite(rules: dict[str, Any]) -> gx.ExpectationSuite:
    """The suite guarding silver.licences__licences (field rules of a licence record)."""
    return build_suite(
        "licences__licences", issuance_rules(rules), rules["quality"]["min_pass_fraction"]
    )


def authorities_suite(rules: dict[str, Any]) -> gx.ExpectationSuite:
    """The suite guarding silver.licences__authorities (field rules of an authority key)."""
    return build_suite(
        "licences__authorities", authority_rules(rules), rules["quality"]["min_pass_fraction"]
    )

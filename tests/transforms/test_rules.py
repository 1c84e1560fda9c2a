"""The rules file and province overrides."""

import pytest

from transforms.rules import load_rules


def test_override_is_deep_merged(tmp_path):
    override = tmp_path / "fujian.yaml"
    override.write_text("jurisdiction: '35'\nqualification:\n  speed_kmh: [0, 150]\n")
    rules = load_rules(override)
    assert rules["jurisdiction"] == "35"
    assert rules["qualification"]["speed_kmh"] == [0, 150]
    assert rules["qualification"]["lon"] == [73.55, 135.0833]  # untouched defaults stay


def test_unknown_section_is_refused(tmp_path):
    override = tmp_path / "bad.yaml"
    override.write_text("qualifcation: {}\n")
    with pytest.raises(ValueError, match="unknown sections"):
        load_rules(override)

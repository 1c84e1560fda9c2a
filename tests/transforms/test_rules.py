"""The rules file: shared sections, each domain's sections under its name, province overrides."""

import pytest

from transforms.rules import dbt_vars, domain_rules, load_rules


def test_domain_sections_are_nested_under_the_domain():
    rules = load_rules()
    assert {"version", "jurisdiction", "quality", "geo", "pipeline", "telematics"} <= set(rules)
    assert "qualification" not in rules  # a telematics section, not a shared one
    assert rules["telematics"]["scoring"]["pass_score"] == 80


def test_domain_view_has_its_sections_beside_the_shared_ones():
    view = load_rules(domain="telematics")
    assert view["qualification"]["speed_kmh"] == [0, 160]
    assert view["pipeline"]["timezone"] == "Asia/Shanghai"
    assert "telematics" not in view
    assert domain_rules(view, "telematics") == view  # a view stays a view
    with pytest.raises(KeyError, match="unknown domain"):
        domain_rules(load_rules(), "shipping")


def test_override_is_deep_merged(tmp_path):
    override = tmp_path / "fujian.yaml"
    override.write_text(
        "jurisdiction: '35'\npipeline:\n  sensor_interval_s: 30\n"
        "telematics:\n  qualification:\n    speed_kmh: [0, 150]\n"
    )
    rules = load_rules(override)
    assert rules["jurisdiction"] == "35"
    assert rules["pipeline"]["sensor_interval_s"] == 30
    assert rules["pipeline"]["timezone"] == "Asia/Shanghai"
    assert rules["telematics"]["qualification"]["speed_kmh"] == [0, 150]
    assert rules["telematics"]["qualification"]["lon"] == [73.55, 135.0833]  # defaults stay
    assert load_rules(override, domain="telematics")["qualification"]["speed_kmh"] == [0, 150]


@pytest.mark.parametrize(
    ("text", "unknown"),
    [
        ("qualifcation: {}\n", "qualifcation"),
        # a telematics section at the top level: it belongs under `telematics:`
        ("qualification: {speed_kmh: [0, 150]}\n", "qualification"),
        ("telematics:\n  scorng: {}\n", "telematics.scorng"),
    ],
)
def test_unknown_section_is_refused(tmp_path, text, unknown):
    override = tmp_path / "bad.yaml"
    override.write_text(text)
    with pytest.raises(ValueError, match=f"unknown sections: \\['{unknown}'\\]"):
        load_rules(override)


def test_dbt_gets_the_whole_nested_file():
    import json

    rules = load_rules()
    assert json.loads(dbt_vars(rules)) == {"rules": json.loads(json.dumps(rules, default=str))}

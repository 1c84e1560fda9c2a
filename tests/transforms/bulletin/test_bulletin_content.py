"""What a bulletin says, without a lake: ranks, jurisdictions by GB/T 2260 prefix, the month, the
publicity window's working days."""

import datetime as dt

import pytest

from transforms.bulletin import content
from transforms.bulletin.publications import publicity_ends
from transforms.rules import load_rules


def test_ranks_are_competition_ranks_with_nulls_last():
    # equal scores share a rank, the next one skips; a missing score ranks after every score
    assert content.competition_ranks([90.0, None, 95.5, 90.0, None, 12.0]) == [2, 5, 1, 2, 5, 4]
    assert content.competition_ranks([]) == []


@pytest.mark.parametrize(
    ("jurisdiction", "region", "seen"),
    [
        ("350902", "350902", True),
        ("350902", "350921", False),  # the next county
        ("350902", None, False),  # a platform / province-wide row
        ("350900", "350921", True),  # a county of the city
        ("350900", "350102", False),  # a county of another city
        ("350900", None, False),
        ("350000", "350102", True),
        ("350000", None, True),  # the province's own rows
        ("440000", None, False),  # another province sees nothing of this one
    ],
)
def test_a_jurisdiction_sees_the_rows_inside_it(jurisdiction, region, seen):
    assert content.visible(region, jurisdiction, "350000") is seen


def test_jurisdictions_are_named_and_checked():
    assert content.jurisdiction_name("350902") == "宁德市蕉城区"
    assert content.jurisdiction_name("350900") == "宁德市"
    assert content.jurisdiction_name("350000") == "福建省"
    assert content.jurisdiction_prefix("350900") == "3509"
    with pytest.raises(content.BulletinError, match="no GB/T 2260 code"):
        content.jurisdiction_prefix("3509")


def test_a_bulletin_is_of_a_month():
    assert content.check_period("2026-02") == (dt.date(2026, 2, 1), dt.date(2026, 2, 28))
    for bad in ("2026-13", "2026-09-01", "2026Q3", ""):
        with pytest.raises(content.BulletinError, match="not a month"):
            content.check_period(bad)


def test_publicity_lasts_five_working_days_from_the_rules(tmp_path):
    rules = load_rules()
    assert rules["bulletin"]["publicity_working_days"] == 5
    friday = dt.date(2026, 10, 9)
    assert publicity_ends(friday, rules) == dt.date(2026, 10, 16)  # Mon–Fri of the next week
    assert publicity_ends(dt.date(2026, 10, 10), rules) == dt.date(2026, 10, 16)  # a Saturday
    override = tmp_path / "rules.yaml"
    override.write_text(
        "bulletin: {publicity_working_days: 3}\n"
        "telematics: {rectification: {holidays: ['2026-10-12']}}\n"
    )
    # Tue, Wed, Thu: the Monday is a public holiday (the rectification items' list)
    assert publicity_ends(friday, load_rules(override)) == dt.date(2026, 10, 15)

"""The gold tables the dashboards serve (dbt_project/models/marts/telematics): ranked assessments,
violations with their vehicle's current attribution, 查岗 checks and platform link events — built
by `dbt build` in embedded mode over the lake of test_dbt_assessment.py, and checked against the
rules they share with the assessment. (The rectification items with their status are written by
the rectification job itself: tests/transforms/telematics/jobs/test_rectification.py.)
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from deltalake import DeltaTable
from test_dbt_assessment import SOURCE_ROWS, _dbt_build, _write_lake

pytestmark = pytest.mark.slow

MODELS = (
    "fct_telematics__ranked_assessments",
    "fct_telematics__violations",
    "fct_telematics__platform_checks",
    "fct_telematics__platform_link_events",
)
UNIT_TESTS = (
    "test_ranked_assessments_ties_and_nulls",
    "test_violations_current_attribution",
    "test_platform_checks_answered_in_time",
)


def _gold(lake: Path, table: str) -> pd.DataFrame:
    return DeltaTable(str(lake / "gold" / table)).to_pandas()


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> dict:
    tmp = tmp_path_factory.mktemp("dbt_serving")
    lake = tmp / "lake"
    _write_lake(lake)
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("LAKEHOUSE_LAKE_ABS", str(lake))
        mp.setenv("RUST_LOG", "error")
        mp.delenv("LAKEHOUSE_DBT_TARGET", raising=False)
        nodes = _dbt_build(tmp)
    return {"lake": lake, "nodes": nodes}


def test_models_data_tests_and_unit_tests_pass(built: dict) -> None:
    nodes = built["nodes"]
    assert all(status in ("success", "pass") for _, _, status, _ in nodes), nodes
    names = {name for _, name, _, _ in built["nodes"]}
    assert set(MODELS) | set(UNIT_TESTS) <= names
    tests = [name for kind, name, _, _ in built["nodes"] if kind == "test"]
    untested = [m for m in MODELS if not any(m in name for name in tests)]
    assert not untested, "every serving mart has data tests"


def test_checks_in_time_are_the_indicators_numerator(built: dict) -> None:
    """answered_in_time uses rules.telematics.checks.response_limit_min (15 min: 900 s is in time,
    960 s is not, unanswered is not), the same rule as check_response_rate's numerator."""
    lake = built["lake"]
    checks = _gold(lake, "telematics__platform_checks").set_index("check_id")
    assert checks["answered_in_time"].to_dict() == {
        "C1": True, "C2": False, "C3": False, "C4": True, "C5": True,
    }  # fmt: skip
    assert set(checks["period"]) == {"2024-05"}
    assessments = _gold(lake, "telematics__assessments")
    month = assessments[(assessments.period_type == "month") & (assessments.period == "2024-05")]
    for level, column in (("platform", "platform_id"), ("enterprise", "enterprise_id")):
        answered = checks[checks.answered_in_time].groupby(column).size().to_dict()
        rows = month[(month.level == level) & month.checks_sent.notna()]
        assert len(rows) > 0
        for row in rows.itertuples():
            assert row.checks_answered == answered.get(row.subject_id, 0), (level, row.subject_id)


def test_ranked_assessments_are_the_assessments_with_their_rank(built: dict) -> None:
    lake = built["lake"]
    keys = ["level", "subject_id", "period_type", "period"]
    assessments = _gold(lake, "telematics__assessments").sort_values(keys, ignore_index=True)
    ranked = _gold(lake, "telematics__ranked_assessments").sort_values(keys, ignore_index=True)
    assert list(ranked.columns) == [*assessments.columns, "score_rank"]
    pd.testing.assert_frame_equal(ranked[assessments.columns], assessments)
    by_period = assessments.groupby(["level", "period_type", "period"])["score"]
    want = by_period.rank(method="min", ascending=False, na_option="bottom").astype("int64")
    assert ranked["score_rank"].tolist() == want.tolist()


def test_violations_and_link_events(built: dict) -> None:
    lake = built["lake"]
    violations = _gold(lake, "telematics__violations")
    # e1 of V1 (闽J10001): its current version is in 350902 蕉城区 with E1 and P1
    assert violations[["event_id", "period", "county_code", "county_name", "enterprise_id",
                       "platform_id"]].to_dict("records") == [
        {"event_id": "e1", "period": "2024-05", "county_code": "350902",
         "county_name": "蕉城区", "enterprise_id": "913509000000000001", "platform_id": "P1"},
    ]  # fmt: skip
    links = _gold(lake, "telematics__platform_link_events")
    assert len(links) == len(SOURCE_ROWS["silver/telematics__platform_links"][1])
    assert list(links.columns) == ["platform_id", "event", "event_at", "period", "reason"]
    assert set(links["period"]) == {"2024-05"}

"""The GX suite and the row tagging agree, and the suite blocks a broken batch."""

import datetime as dt

from pyspark.sql import functions as F

from expectations.suites import validate_dataframe
from expectations.telematics import positions_suite
from transforms.rules import load_rules
from transforms.telematics.feeds import POSITIONS
from transforms.telematics.positions import tag_rules, typed_positions

RULES = load_rules(domain="telematics")
FIELDS = list(POSITIONS.stored_fields)  # the phone as its three protected columns


def batch(spark, n_good, bad):
    good = [
        "35090001",
        "闽J12345",
        "2",
        "2026-11-02 08:00:00",
        "119.5",
        "26.6",
        "40",
        "39",
        "100",
        "90",
        "20",
        "3",
        "0",
        "2026-11-02 08:00:05",
        None,
        None,
        None,
        "file",
    ]
    rows = [list(good) for _ in range(n_good)]
    for overrides in bad:
        row = list(good)
        for k, v in overrides.items():
            row[FIELDS.index(k)] = v
        rows.append(row)
    data = [tuple(r) + ("f", i, "d", dt.datetime(2026, 11, 2, 9)) for i, r in enumerate(rows)]
    schema = ", ".join(f"{f} string" for f in FIELDS) + (
        ", _source_file string, _line bigint, _file_sm3 string, _landed_at timestamp"
    )
    return tag_rules(typed_positions(spark.createDataFrame(data, schema), RULES), RULES)


def test_gx_counts_match_row_tags(spark):
    bad = [
        {"speed": "999"},
        {"speed": None},
        {"plate": "X"},
        {"lon": "1"},
        {"lon": "1", "lat": "90"},
        {"gnss_time": "2026-11-02 09:00:00"},
    ]
    tagged = batch(spark, 20, bad)
    report = validate_dataframe(tagged, positions_suite(RULES))
    tags = {
        r["rule"]: r["n"]
        for r in tagged.select(F.explode("failed_rules").alias("rule"))
        .groupBy("rule")
        .count()
        .withColumnRenamed("count", "n")
        .collect()
    }
    gx = {rule: n for rule, n in report.unexpected_by_rule().items() if n}
    assert (
        gx
        == tags
        == {
            "speed_in_range": 2,
            "plate_valid": 1,
            "lon_in_range": 2,
            "lat_in_range": 1,
            "gnss_time_not_future": 1,
        }
    )
    assert report.success and report.rows == 26


def test_suite_fails_when_most_of_a_batch_breaks_a_rule(spark):
    tagged = batch(spark, 2, [{"lon": "0"}] * 3)
    report = validate_dataframe(tagged, positions_suite(RULES))
    assert not report.success
    assert [o.rule for o in report.failed] == ["lon_in_range"]
    assert "FAILED" in report.summary()

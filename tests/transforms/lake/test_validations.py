"""Every GX validation kept (transforms/lake/validations.py): the rows of ops.validation_results
of a hand-built batch agree with its quarantine tags rule by rule, a retried Dagster step keeps
its validation once, and the Data Docs are GX's site over the kept results."""

from __future__ import annotations

import datetime as dt
import json
import sqlite3
from pathlib import Path
from urllib.parse import urlparse

import dagster as dg
import pytest
from deltalake import DeltaTable
from pyspark.sql import functions as F

from expectations.suites import batch_label, validate_dataframe
from expectations.telematics import positions_suite
from orchestration.defs.quality import data_docs_metadata
from orchestration.environment import LakehouseResource
from transforms.lake import quarantine, validations
from transforms.rules import load_rules
from transforms.telematics.feeds import POSITIONS
from transforms.telematics.positions import tag_rules, typed_positions, unqualified

RULES = load_rules(domain="telematics")
FIELDS = list(POSITIONS.stored_fields)
GOOD = {"platform_id": "35090001", "plate": "闽J12345", "plate_color": "2",
        "gnss_time": "2026-11-02 08:00:00", "lon": "119.5", "lat": "26.6", "speed": "40",
        "recorder_speed": "39", "mileage_km": "100", "direction": "90", "altitude": "20",
        "state": "3", "alarm": "0", "received_at": "2026-11-02 08:00:05"}  # fmt: skip
# the defects of the hand-built batch and the rules they break (a record may break two)
BAD = [{"speed": "999"}, {"speed": None}, {"plate": "X"}, {"lon": "1"}, {"lon": "1", "lat": "90"},
       {"gnss_time": "2026-11-02 09:00:00"}]  # fmt: skip
TAGS = {"speed_in_range": 2, "plate_valid": 1, "lon_in_range": 2, "lat_in_range": 1,
        "gnss_time_not_future": 1}  # fmt: skip
GOOD_ROWS = 20
BATCH = batch_label(days=[dt.date(2026, 11, 2)], files=["f1", "f2"])


def hand_built(spark):
    """20 good position records and the six BAD ones, typed and tagged as publishing does."""
    rows = [dict(GOOD) for _ in range(GOOD_ROWS)] + [{**GOOD, **bad} for bad in BAD]
    data = [tuple(r.get(f) for f in FIELDS) + (f"landing/telematics/positions/2026-11-02/f{i % 2 + 1}"
            ".jsonl", i + 1, f"f{i % 2 + 1}", dt.datetime(2026, 11, 2, 9)) for i, r in enumerate(rows)]  # fmt: skip
    schema = ", ".join(f"{f} string" for f in FIELDS) + (
        ", _source_file string, _line bigint, _file_sm3 string, _landed_at timestamp"
    )
    return tag_rules(typed_positions(spark.createDataFrame(data, schema), RULES), RULES)


def kept(lake: Path) -> list[dict]:
    return (
        DeltaTable(str(validations.VALIDATION_RESULTS.location(lake)))
        .to_pyarrow_table()
        .to_pylist()
    )


def test_a_known_batch_is_kept_rule_by_rule_beside_its_quarantine(spark, tmp_path) -> None:
    lake = tmp_path / "lake"
    tagged = hand_built(spark)
    suite = positions_suite(RULES)
    recorder = validations.RunRecorder(lake, "run-known").open()
    try:
        report = validate_dataframe(tagged, suite, BATCH)
        # what publishing does with the failing rows: quarantine, with their rule tags
        target = lake / "quarantine" / "telematics__positions"
        unqualified(tagged, "2026-11-02 09:30:00").write.format("delta").save(str(target))
    finally:
        index = recorder.close()
    assert report.success and report.batch == BATCH

    rows = kept(lake)
    assert len(rows) == len(suite.expectations)  # one row per expectation of the validation
    assert {(r["run_id"], r["domain"], r["suite"], r["batch"]) for r in rows} == {
        ("run-known", "telematics", "telematics__positions", BATCH)
    }
    assert all(r["element_count"] == GOOD_ROWS + len(BAD) and r["suite_success"] for r in rows)
    by_rule: dict[str, int] = {}
    for r in rows:
        by_rule[r["rule"]] = by_rule.get(r["rule"], 0) + r["unexpected_count"]
    assert {rule: n for rule, n in by_rule.items() if n} == TAGS
    tags = {
        r["rule"]: r["count"]
        for r in tagged.select(F.explode("failed_rules").alias("rule")).groupBy("rule").count().collect()
    }  # fmt: skip
    assert tags == TAGS
    speed = next(r for r in rows if r["rule"] == "speed_in_range" and "between" in r["expectation"])
    # GX's share is of the non-null values; the null is the not-null expectation's
    assert speed["observed_value"] == "1 unexpected (4.00 %), 1 null"
    assert json.loads(speed["kwargs"])["max_value"] == RULES["qualification"]["speed_kmh"][1]
    assert all(r["validated_at"].date() == validations_day() for r in rows)

    # the quarantine summary counts the same rules, and keeps the records to look at
    counts = DeltaTable(str(quarantine.COUNTS.location(lake))).to_pyarrow_table().to_pylist()
    assert {c["rule"]: c["records"] for c in counts} == TAGS
    assert {(c["table_name"], c["domain"], c["feed"], c["landed_on"]) for c in counts} == {
        ("quarantine.telematics__positions", "telematics", "positions", dt.date(2026, 11, 2))
    }
    samples = DeltaTable(str(quarantine.SAMPLES.location(lake))).to_pyarrow_table().to_pylist()
    assert {s["rule"]: s["sample_rank"] for s in samples if s["sample_rank"] > 1} == {
        "speed_in_range": 2, "lon_in_range": 2,
    }  # fmt: skip
    assert all(
        s["line"] > GOOD_ROWS and "闽J12345" in s["record"]
        for s in samples
        if s["rule"] != "plate_valid"
    )

    # the GX JSON of the result and its Data Docs page, named after the run and the batch
    (stored,) = (lake / "ops/gx/uncommitted/validations/telematics__positions/run-known").glob(
        "*/*.json"
    )
    assert stored.name == validations.batch_key(BATCH) + ".json"
    assert json.loads(stored.read_text())["meta"]["batch_markers"]["lakehouse_batch"] == BATCH
    assert index == validations.data_docs_index(lake) and index.is_file()
    assert "telematics__positions" in index.read_text(encoding="utf-8")
    (page,) = {r["data_docs_page"] for r in rows}
    assert report.pages == [page] and (lake / "ops/data_docs" / page).is_file()
    html = (lake / "ops/data_docs" / page).read_text(encoding="utf-8")
    assert "telematics__positions" in html and "run-known" in html


def validations_day() -> dt.date:
    from transforms.lake.clock import now_beijing

    return now_beijing().date()


def test_nothing_is_kept_outside_a_run(spark, tmp_path) -> None:
    """A validation with no run open (a unit test, a notebook) writes nothing into a lake."""
    report = validate_dataframe(hand_built(spark), positions_suite(RULES), BATCH)
    assert report.pages == []
    assert not (tmp_path / "lake").exists()


def test_a_retried_step_keeps_its_validation_once(spark, tmp_path) -> None:
    """A Dagster step that validated its batch and then failed is retried (a commit conflict):
    it validates again in the same run; ops.validation_results holds the validation once, and
    the asset check links the page. Another run of the same batch is kept as its own."""
    lake = tmp_path / "lake"
    attempts: list[int] = []

    @dg.asset(check_specs=[dg.AssetCheckSpec("gx_telematics__positions", asset="positions")])
    def positions(context, lakehouse: LakehouseResource):
        report = validate_dataframe(hand_built(spark), positions_suite(RULES), BATCH)
        attempts.append(context.retry_number)
        if context.retry_number == 0:
            raise dg.RetryRequested(max_retries=1, seconds_to_wait=0)
        yield dg.AssetCheckResult(
            check_name="gx_telematics__positions",
            passed=report.success,
            metadata=data_docs_metadata(lakehouse.root, report),
        )
        yield dg.MaterializeResult()

    resources = {"lakehouse": LakehouseResource(lake=str(lake))}
    first = dg.materialize([positions], resources=resources)
    assert first.success and attempts == [0, 1]
    rows = kept(lake)
    assert len(rows) == len(positions_suite(RULES).expectations)
    assert {r["run_id"] for r in rows} == {first.run_id}

    (check,) = first.get_asset_check_evaluations()
    url = check.metadata["data_docs"].value
    assert url.endswith(rows[0]["data_docs_page"]) and Path(urlparse(url).path).is_file()
    assert check.metadata["data_docs_index"].value == str(validations.data_docs_index(lake))

    second = dg.materialize([positions], resources=resources)
    assert second.success
    rows = kept(lake)
    assert len(rows) == 2 * len(positions_suite(RULES).expectations)
    assert {r["run_id"] for r in rows} == {first.run_id, second.run_id}
    stored = sorted(
        (lake / "ops/gx/uncommitted/validations/telematics__positions").glob("*/*/*.json")
    )
    assert [p.parent.parent.name for p in stored] == sorted([first.run_id, second.run_id])
    index = validations.data_docs_index(lake).read_text(encoding="utf-8")
    assert first.run_id in index and second.run_id in index


def test_the_site_can_be_rebuilt_from_the_kept_results(spark, tmp_path) -> None:
    lake = tmp_path / "lake"
    recorder = validations.RunRecorder(lake, "run-a").open()
    try:
        validate_dataframe(hand_built(spark), positions_suite(RULES), BATCH)
    finally:
        recorder.close()
    site = lake / "ops" / "data_docs"
    page = kept(lake)[0]["data_docs_page"]
    for html in site.rglob("*.html"):
        html.unlink()
    index = validations.build_data_docs(lake)
    assert index.is_file() and (site / page).is_file()
    assert (site / "expectations" / "telematics__positions.html").is_file()


def _check_evaluations(lake: Path) -> list[dict]:
    """The GX asset-check evaluations of every run of ``lake``'s Dagster history, read from the
    run event logs opened read-only."""
    found = []
    for db in sorted((lake / "_dagster" / "history" / "runs").glob("*.db")):
        con = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
        try:
            events = con.execute(
                "SELECT event FROM event_logs WHERE dagster_event_type = 'ASSET_CHECK_EVALUATION'"
            ).fetchall()
        finally:
            con.close()
        for (event,) in events:
            data = json.loads(event)["dagster_event"]["event_specific_data"]
            if data["check_name"].startswith("gx_"):
                found.append(data)
    return found


@pytest.mark.slow
def test_the_pipeline_keeps_every_domains_validations(pipeline_lake) -> None:
    """On the shared pipeline lake (read only): every domain's validations are kept once per
    (run, suite, batch), by the lake's own runs; the telematics counts equal its quarantine's
    tags; the Data Docs index names every suite and every page exists; each GX asset check links
    its page."""
    rows = kept(pipeline_lake)
    suites = {r["suite"] for r in rows}
    assert {r["domain"] for r in rows} == {"telematics", "licences", "freight", "ridehailing"}
    assert {"telematics__positions", "licences__authorities", "licences__licences"} <= suites
    assert sum(s.startswith("freight__") for s in suites) >= 2
    assert sum(s.startswith("ridehailing__") for s in suites) >= 10
    keys = [(r["run_id"], r["suite"], r["batch"], r["expectation"], r["column_name"], r["rule"])
            for r in rows]  # fmt: skip
    assert len(keys) == len(set(keys))
    audit = DeltaTable(str(pipeline_lake / "ops" / "audit_log")).to_pyarrow_table().to_pylist()
    runs = {json.loads(a["detail"]).get("run_id") for a in audit if a["channel"] == "pipeline"}
    assert {r["run_id"] for r in rows} <= runs

    validated: dict[str, int] = {}
    for r in rows:
        if r["suite"] == "telematics__positions":
            validated[r["rule"]] = validated.get(r["rule"], 0) + r["unexpected_count"]
    counts = DeltaTable(str(quarantine.COUNTS.location(pipeline_lake))).to_pyarrow_table()
    held: dict[str, int] = {}
    for c in counts.to_pylist():
        if c["table_name"] == "quarantine.telematics__positions":
            held[c["rule"]] = held.get(c["rule"], 0) + c["records"]
    tagged = {rule: n for rule, n in held.items() if not rule.startswith("malformed")}
    assert tagged and {rule: n for rule, n in validated.items() if n} == tagged
    assert sum(held.values()) >= sum(tagged.values()) > 0

    index = validations.data_docs_index(pipeline_lake).read_text(encoding="utf-8")
    assert all(suite in index for suite in suites)
    site = pipeline_lake / "ops" / "data_docs"
    assert all((site / page).is_file() for page in {r["data_docs_page"] for r in rows})
    assert all((site / "expectations" / f"{suite}.html").is_file() for suite in suites)

    checks = _check_evaluations(pipeline_lake)
    linked = {c["check_name"] for c in checks if "data_docs" in c["metadata"]}
    assert {f"gx_{suite}" for suite in suites} <= linked
    for check in checks:  # file URLs; under $LAKEHOUSE_DATA_DOCS_URL where the site is served
        url = urlparse(check["metadata"]["data_docs"]["url"])
        page = Path(url.path) if url.scheme == "file" else site / url.path.lstrip("/")
        assert page.is_file(), (check["check_name"], url)

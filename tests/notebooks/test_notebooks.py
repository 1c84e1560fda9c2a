"""The notebooks run top to bottom on a real lake, draw their plots with the CJK font, and print
numbers that are recomputed here from the Delta tables (delta-rs → pandas, none of the notebooks'
code). 01 reads the hand-built fixture after one run; 02–06 the shared generated pipeline lake,
which holds every domain. Both lakes are only read."""

from __future__ import annotations

import datetime as dt
import importlib.util
import json
from dataclasses import dataclass
from pathlib import Path

import nbformat
import pandas as pd
import pytest
from deltalake import DeltaTable
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError

NOTEBOOKS = Path(__file__).resolve().parents[2] / "notebooks"

pytestmark = pytest.mark.slow


def _builder():
    spec = importlib.util.spec_from_file_location(
        "build_notebooks", NOTEBOOKS / "build_notebooks.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@dataclass
class Run:
    text: str  # everything printed to stdout
    stderr: str
    images: int


def _run(nb: nbformat.NotebookNode, lake: Path, monkeypatch) -> Run:
    monkeypatch.setenv("LAKEHOUSE_LAKE", str(lake))
    NotebookClient(
        nb, timeout=300, kernel_name="python3", resources={"metadata": {"path": str(NOTEBOOKS)}}
    ).execute()
    outputs = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs]
    assert not [o for o in outputs if o.output_type == "error"]
    streams = [o for o in outputs if o.output_type == "stream"]
    return Run(
        text="".join(o.text for o in streams if o.name == "stdout"),
        stderr="".join(o.text for o in streams if o.name == "stderr"),
        images=sum(1 for o in outputs if "image/png" in o.get("data", {})),
    )


def _execute(name: str, lake: Path, monkeypatch) -> Run:
    run = _run(nbformat.read(NOTEBOOKS / f"{name}.ipynb", as_version=4), lake, monkeypatch)
    # every Chinese label found its glyphs (matplotlib warns "Glyph … missing from font(s)")
    assert "missing from font" not in run.stderr, run.stderr
    return run


def _frame(lake: Path, name: str) -> pd.DataFrame:
    layer, entity = name.split(".", 1)
    return DeltaTable(str(lake / layer / entity)).to_pandas()


# ---- the notebooks are what build_notebooks.py writes ---------------------------------------------


def test_every_notebook_is_written_by_the_builder_and_tested():
    builder = _builder()
    on_disk = {p.stem for p in NOTEBOOKS.glob("*.ipynb")}
    assert on_disk == set(builder.NOTEBOOKS)
    for name, cells in builder.NOTEBOOKS.items():
        built = builder.notebook(name, cells())
        saved = nbformat.read(NOTEBOOKS / f"{name}.ipynb", as_version=4)
        assert [(c.id, c.cell_type, c.source) for c in saved.cells] == [
            (c.id, c.cell_type, c.source) for c in built.cells
        ], (
            f"{name}.ipynb differs from build_notebooks.py: run `uv run python notebooks/build_notebooks.py`"
        )
        assert saved.cells[1].source.startswith("import os"), "the setup cell comes first"
    tested = {n[len("test_nb") :][:2] for n in globals() if n.startswith("test_nb")}
    assert tested == {name[:2] for name in builder.NOTEBOOKS}, "every notebook has its test"


def test_a_missing_font_is_a_clear_error(tmp_path):
    setup = _builder().setup(["gold.telematics__assessments"]).source
    assert _builder().CJK_FONT in setup
    source = setup.replace(_builder().CJK_FONT, str(tmp_path / "no-such-font.ttc"))
    with pytest.raises(FileNotFoundError, match="fonts-wqy-microhei"):
        exec(compile(source, "setup", "exec"), {})  # stops before the session is opened


def test_a_lake_without_the_domain_is_a_clear_error(tmp_path, monkeypatch):
    builder = _builder()
    nb = builder.notebook("00_setup", [builder.setup(["gold.freight__operator_months"])])
    (tmp_path / "lake").mkdir()
    with pytest.raises(CellExecutionError, match="has no gold.freight__operator_months"):
        _run(nb, tmp_path / "lake", monkeypatch)


# ---- 01 ------------------------------------------------------------------------------------------


def test_nb01_explore_positions(fixture_pipeline_lake, monkeypatch):
    # the fixture landing after one `lakehouse run` (tests/conftest.py; the notebook only reads)
    run = _execute("01_explore_positions", fixture_pipeline_lake, monkeypatch)
    assert run.images == 2  # the rule bar chart and the vehicle's track
    assert "qualified 7, quarantined 10" in run.text


# ---- 02 ------------------------------------------------------------------------------------------


def _previous(period: str) -> str:
    if len(period) == 7:  # YYYY-MM
        first = dt.date.fromisoformat(f"{period}-01")
        return (first - dt.timedelta(days=1)).strftime("%Y-%m")
    return (dt.date.fromisoformat(period) - dt.timedelta(days=1)).isoformat()


def _falls(rows: pd.DataFrame) -> dict[str, int]:
    """Per enterprise: periods running its score fell, back from the latest period of the grain."""
    score = {(r.subject_id, r.period): r.score for r in rows.itertuples()}
    latest = rows.period.max()
    out = {}
    for subject in rows.subject_id.unique():
        run, p = 0, latest
        while True:
            now, before = score.get((subject, p)), score.get((subject, _previous(p)))
            if now is None or before is None or pd.isna(now) or pd.isna(before) or now >= before:
                break
            run, p = run + 1, _previous(p)
        out[subject] = run
    return out


def test_nb02_telematics_assessment(pipeline_lake, monkeypatch):
    run = _execute("02_telematics_assessment", pipeline_lake, monkeypatch)
    assert run.images == 2  # the scores (months, days) and the indicator histograms

    assessments = _frame(pipeline_lake, "gold.telematics__assessments")
    enterprise = assessments[assessments.level == "enterprise"]
    monthly = enterprise[enterprise.period_type == "month"]
    daily = enterprise[enterprise.period_type == "day"]
    month_falls, day_falls = _falls(monthly), _falls(daily)
    assert any(day_falls.values()), "the scenario has enterprises whose daily score fell"
    for subject, rows in monthly.sort_values("period").groupby("subject_id"):
        last = rows.iloc[-1]
        assert (
            f"{subject} {last.subject_name}: {last.period} score {last.score:.2f}, fell "
            f"{month_falls[subject]} month(s) and {day_falls[subject]} day(s) running"
        ) in run.text
    months = sorted(monthly.period.unique())
    three = sorted(s for s, n in month_falls.items() if n >= 3)
    assert f"fell 3 months running up to {months[-1]}: " in run.text
    if not three:
        assert f"none of {len(month_falls)} (the lake holds {len(months)} month(s)" in run.text


# ---- 03 ------------------------------------------------------------------------------------------

FREIGHT_TYPES = ["access", "qualification", "vehicle_network", "trajectory", "match", "duplicate"]


def test_nb03_freight_monitoring(pipeline_lake, monkeypatch):
    run = _execute("03_freight_monitoring", pipeline_lake, monkeypatch)
    assert run.images == 3  # rates by month, rates by size, waybills and tonnes per day

    # the month's counts from the operator statistics, the anomalies counted row by row
    stats = _frame(pipeline_lake, "gold.freight__operator_stats")
    months = stats[stats.grain == "month"]
    operators = set(_frame(pipeline_lake, "silver.freight__senders").enterprise_sender_code)
    anomalies = _frame(pipeline_lake, "silver.freight__anomalies")
    anomalies = anomalies[(anomalies.status != "withdrawn") & anomalies.operator_id.isin(operators)]
    anomalies = anomalies.assign(period=anomalies.event_time.dt.strftime("%Y-%m"))
    assert len(anomalies) and len(months)
    for period, rows in months.groupby("period"):
        waybills, envelopes = int(rows.waybills.sum()), int(rows.envelopes.sum())
        parts = []
        for t in FREIGHT_TYPES:
            n = int(((anomalies.period == period) & (anomalies.anomaly_type == t)).sum())
            base = envelopes if t == "access" else waybills
            parts.append(f"{t} {n} ({n / base:.2%})")
        line = f"{period}: {waybills} waybills, {envelopes} envelopes; " + ", ".join(parts)
        assert line in run.text

    days = (
        _frame(pipeline_lake, "gold.freight__operator_days").groupby("day").sum(numeric_only=True)
    )
    assert days.waybills.sum() > 0
    for day, r in days.iterrows():
        line = f"{day}: {int(r.waybills)} waybills, {r.tonnes:.3f} t, {int(r.envelopes)} envelopes"
        assert line in run.text


# ---- 04 ------------------------------------------------------------------------------------------


def test_nb04_ridehailing_quality(pipeline_lake, monkeypatch):
    run = _execute("04_ridehailing_quality", pipeline_lake, monkeypatch)
    assert run.images == 3  # timeliness vs orders, the four rates, late records by interface

    orders = _frame(pipeline_lake, "silver.ridehailing__orders")
    created = orders.groupby(["company_id", "period_month"]).size()
    periods = _frame(pipeline_lake, "gold.ridehailing__company_periods")
    months = periods[(periods.grain == "month") & periods.transmitted]
    assert created.sum() > 0 and len(months)
    for r in months.itertuples():
        n = int(created.get((r.company_id, r.period), 0))
        assert (
            f"{r.company_id} {r.company_name} {r.period}: {n} orders, {r.records} records, "
            f"timeliness {r.timeliness_rate:.6f}, score {r.score:.2f}"
        ) in run.text
    defects = _frame(pipeline_lake, "silver.ridehailing__defects")
    late = defects[defects.dimension == "timeliness"].groupby("period_month").size()
    assert late.sum() > 0
    for period, n in late.items():
        assert f"late records {period}: {n}\n" in run.text


# ---- 05 ------------------------------------------------------------------------------------------

LICENCE_TYPES = {"qualification": "从业资格证", "operating_permit": "经营许可证",
                 "vehicle_transport": "道路运输证"}  # fmt: skip


def test_nb05_licence_expiry(pipeline_lake, monkeypatch):
    run = _execute("05_licence_expiry", pipeline_lake, monkeypatch)
    assert run.images == 3  # expiry by type, failed checks, the feed per month

    as_of = _frame(pipeline_lake, "silver.licences__licences").received_at.max().date()
    assert f"as of {as_of} (the latest licence received)" in run.text
    current = _frame(pipeline_lake, "gold.licences__licences")
    valid = current[current.status == "valid"]
    left = valid.valid_to.map(lambda d: (d - as_of).days)
    assert len(valid)
    for kind, label in LICENCE_TYPES.items():
        days = left[valid.licence_type == kind]
        lapsed, soon = int((days < 0).sum()), days[days >= 0]
        assert (
            f"{label} {kind}: {len(days)} valid; lapsed {lapsed}, "
            f"expiring within 30 days {int((soon <= 30).sum())}, "
            f"within 90 days {int((soon <= 90).sum())}, within a year {int((soon <= 365).sum())}"
        ) in run.text

    anomalies = _frame(pipeline_lake, "silver.freight__anomalies")
    failed = anomalies[
        (anomalies.anomaly_type == "qualification") & (anomalies.status != "withdrawn")
    ]
    assert len(failed)
    assert f"网络货运 资质异常: {len(failed)} (" in run.text
    counts = _frame(pipeline_lake, "gold.ridehailing__defect_counts")
    licence_rules = counts[counts.rule_kind.isin(["driver_licence", "vehicle_licence"])]
    assert f"网约车 证照核验: {int(licence_rules.records.sum())} (" in run.text
    records = _frame(pipeline_lake, "silver.licences__records")
    failures = int(records.is_signature_failure.sum())
    assert f"signature failures: {failures} of {len(records)} records" in run.text


# ---- 06 ------------------------------------------------------------------------------------------

DOMAINS = ["动态监控", "网络货运", "网约车", "电子证照"]


def _combinations(ids: dict[str, set[str]]) -> dict[str, int]:
    domains_of: dict[str, list[str]] = {}
    for domain in DOMAINS:
        for key in ids[domain]:
            if key and key.strip():
                domains_of.setdefault(key, []).append(domain)
    counts: dict[str, int] = {}
    for domains in domains_of.values():
        combo = "+".join(domains)
        counts[combo] = counts.get(combo, 0) + 1
    return counts


def _valid_on(version, day: dt.date) -> bool:
    return bool(
        version.status == "valid"
        and version.valid_from is not None
        and version.valid_to is not None
        and version.valid_from <= day <= version.valid_to
    )


def _licence_outcomes(lake: Path) -> dict[str, dict[str, set[str]]]:
    """Per domain: the plates active while validly licensed throughout, at least once without a
    valid 道路运输证 in force, or at least once with none in force."""
    days = _frame(lake, "gold.telematics__vehicle_days")
    carried = _frame(lake, "silver.freight__waybill_vehicles")
    orders = _frame(lake, "silver.ridehailing__orders")
    activity = pd.concat([
        pd.DataFrame({"domain": "动态监控", "plate": days.plate, "at": days.first_point_at}),
        pd.DataFrame({"domain": "网络货运", "plate": carried.vehicle_number,
                      "at": carried.loading_time}),
        pd.DataFrame({"domain": "网约车", "plate": orders.vehicle_no, "at": orders.created_at}),
    ]).dropna().drop_duplicates()  # fmt: skip
    licences = _frame(lake, "silver.licences__licences")
    versions = licences[licences.licence_type == "vehicle_transport"].assign(
        plate=lambda v: v.holder_key_masked.str.rsplit("-", n=1).str[0]
    )
    by_plate = {plate: rows for plate, rows in versions.groupby("plate")}
    out = {d: {"none": set(), "invalid": set(), "all": set()} for d in DOMAINS[:3]}
    for a in activity.itertuples():
        rows = by_plate.get(a.plate)
        out[a.domain]["all"].add(a.plate)
        if rows is not None:
            rows = rows[(rows.version_valid_from <= a.at)
                        & (rows.version_valid_to.isna() | (a.at < rows.version_valid_to))]  # fmt: skip
        if rows is None or rows.empty:
            out[a.domain]["none"].add(a.plate)
            continue
        if not any(_valid_on(r, a.at.date()) for r in rows.itertuples()):
            out[a.domain]["invalid"].add(a.plate)
    return out


def test_nb06_cross_domain(pipeline_lake, monkeypatch):
    run = _execute("06_cross_domain", pipeline_lake, monkeypatch)
    assert run.images == 2  # domain combinations, vehicles active by licence

    lake = pipeline_lake
    current = _frame(lake, "gold.licences__licences")
    static = _frame(lake, "silver.ridehailing__static_versions")
    vehicles = {
        "动态监控": set(_frame(lake, "silver.telematics__vehicles").plate),
        "网络货运": set(_frame(lake, "silver.freight__waybill_vehicles").vehicle_number),
        "网约车": set(static[static.interface == "baseInfoVehicle"].vehicle_no.dropna())
        | set(_frame(lake, "silver.ridehailing__orders").vehicle_no.dropna()),
        "电子证照": {
            k.rsplit("-", 1)[0] for k in current[current.holder_type == "vehicle"].holder_key
        },
    }
    companies = static[static.interface == "baseInfoCompany"].payload.dropna()
    enterprises = {
        "动态监控": set(_frame(lake, "silver.telematics__enterprises").enterprise_id),
        "网络货运": set(_frame(lake, "silver.freight__senders").uscc.dropna()),
        "网约车": {json.loads(p).get("Identifier") for p in companies} - {None},
        "电子证照": set(current[current.holder_type == "organisation"].holder_key),
    }
    for name, ids in (("vehicles", vehicles), ("enterprises", enterprises)):
        counts = _combinations(ids)
        several = sum(n for combo, n in counts.items() if "+" in combo)
        assert several > 0, f"the generated lake links {name} across domains"
        assert f"{name}: {sum(counts.values())}, in several domains {several}\n" in run.text
        for combo, n in counts.items():
            assert f"  {name} in {combo}: {n}\n" in run.text

    kinds = {"overspeed", "fatigue", "bus_night_running", "off_route", "out_of_region"}
    events = _frame(lake, "silver.telematics__violation_events")
    violating = set(events[events.kind.isin(kinds)].plate)
    waybills = _frame(lake, "silver.freight__waybills")
    waybills["document_key"] = waybills.shipping_note_number + "/" + waybills.serial_number
    anomalies = _frame(lake, "silver.freight__anomalies")
    anomalous = anomalies[
        (anomalies.document_kind == "waybill") & (anomalies.status != "withdrawn")
    ]
    plates = (
        waybills[waybills.document_key.isin(anomalous.document_key)]
        .merge(_frame(lake, "silver.freight__waybill_vehicles"),
               on=["message_reference_number", "document_index"])
        .vehicle_number
    )  # fmt: skip
    assert len(violating) and len(set(plates))
    assert (
        f"vehicles with telematics violations: {len(violating)}; on waybills with freight "
        f"anomalies: {len(set(plates))}; both: {len(violating & set(plates))}"
    ) in run.text

    outcomes = _licence_outcomes(lake)
    assert outcomes["动态监控"]["invalid"], "the scenario drives vehicles whose licence lapsed"
    for domain, o in outcomes.items():
        invalid = sorted(o["invalid"] - o["none"])
        line = (f"{domain}: {len(o['all'])} vehicles active, {len(invalid)} at some time without "
                f"a valid 道路运输证, {len(o['none'])} with none on record")  # fmt: skip
        if invalid:
            line += f" ({', '.join(invalid[:10])}{' …' if len(invalid) > 10 else ''})"
        assert line + "\n" in run.text

"""`lakehouse bulletin publish|correct|list` on a copy of the generated lake (`pipeline_lake`,
never written): the files read as a person would — the XLSX's cells equal to `lakehouse report`'s
JSON value by value, the PDF's text holding every ranked row in rank order —, a second publication
refused, a correction inside the publicity window and none after it, SM3 digests equal to the
files', and a county's bulletin holding its county only."""

from __future__ import annotations

import json
import shutil

import pypdfium2 as pdfium
import pytest
from click.testing import CliRunner
from deltalake import DeltaTable
from openpyxl import load_workbook

from orchestration.cli import main
from transforms.bulletin import content, publications, render
from transforms.crypto import sm3_file
from transforms.rules import load_rules

pytestmark = pytest.mark.slow

PERIOD = "2026-09"  # pipeline_lake: 2026-09-29 … 2026-10-01
ON = "2026-10-09"  # a Friday: the publicity window runs to Friday 2026-10-16
ENDS = "2026-10-16"
LEVEL_SHEETS = {"county": "县区考核排名", "enterprise": "企业考核排名", "platform": "平台考核排名"}


def cli(*args, code: int = 0):
    result = CliRunner().invoke(main, [str(a) for a in args], catch_exceptions=False)
    assert result.exit_code == code, result.output
    return result


def report(lake, *args) -> list | dict:
    return json.loads(cli("report", *args, "--lake", lake, "--period", PERIOD).stdout)


@pytest.fixture(scope="module")
def lake(pipeline_lake, tmp_path_factory):
    """A copy of the generated lake with the province's bulletin of PERIOD published on ON."""
    copy = tmp_path_factory.mktemp("bulletin") / "lake"
    shutil.copytree(pipeline_lake, copy)
    result = cli("bulletin", "publish", "--lake", copy, "--period", PERIOD, "--on", ON)
    assert "2026-09/350000/v1 (publish) published on 2026-10-09" in result.stdout
    assert "动态监控 county" in result.stderr and "writing publications/2026-09/" in result.stderr
    return copy


def expected_rank(score, scores) -> int:
    """RANK() over score descending, nulls last — worked out independently of the code."""
    if score is None:
        return 1 + sum(s is not None for s in scores)
    return 1 + sum(s is not None and s > score for s in scores)


def sheet_rows(sheet, columns) -> list[dict]:
    assert [c.value for c in sheet[render.HEADER_ROW]] == [c.header for c in columns]
    out = []
    for values in sheet.iter_rows(min_row=render.FIRST_ROW, values_only=True):
        if any(v is not None for v in values):
            out.append({c.key: v for c, v in zip(columns, values, strict=True)})
    return out


def same(cell, value) -> bool:
    """A cell holds a report value: yes / no as 是 / 否, a double to the 16 significant digits an
    XLSX number is written with (openpyxl; Excel itself shows 15), everything else equal."""
    if isinstance(value, bool):
        return cell == ("是" if value else "否")
    if isinstance(value, float):
        return isinstance(cell, int | float) and cell == float(f"{value:.16g}")
    return cell == value and type(cell) is type(value)


def compare(sheet, columns, reported: list[dict], id_key: str, skip=("period", "level")) -> None:
    """Every reported row is in the sheet once and every value of its equals the report's."""
    rows = {r[id_key]: r for r in sheet_rows(sheet, columns)}
    assert sorted(rows) == sorted(r[id_key] for r in reported)
    for r in reported:
        for key, value in r.items():
            if key in skip:
                continue
            assert same(rows[r[id_key]][key], value), (r[id_key], key, rows[r[id_key]][key], value)


def test_the_xlsx_holds_exactly_the_reports_numbers(lake):
    (published,) = publications.rows(lake)
    book = load_workbook(lake / published["xlsx_path"])
    weights = load_rules()["telematics"]["scoring"]["weights"]
    failed = []
    for level, name in LEVEL_SHEETS.items():
        rows = report(lake, "telematics", "--level", level)
        assert rows, level
        compare(book[name], content.telematics_columns(level, weights), rows, "subject_id")
        ranks = {r["subject_id"]: r["rank"] for r in sheet_rows(book[name],
                 content.telematics_columns(level, weights))}  # fmt: skip
        scores = [r["score"] for r in rows]
        assert ranks == {r["subject_id"]: expected_rank(r["score"], scores) for r in rows}
        failed += sorted(
            ((level, r["subject_id"], r["score"]) for r in rows if r["passed"] is False),
            key=lambda f: (expected_rank(f[2], scores), f[1]),
        )
    assert failed  # the scenario has failed subjects: the list is checked against something
    listed = sheet_rows(book["考核不合格名单"], content.FAILED_COLUMNS)
    assert [("企业" if level == "enterprise" else "平台" if level == "platform" else "县区",
             i, s) for level, i, s in failed] == [
        (r["level_label"], r["subject_id"], r["score"]) for r in listed
    ]  # fmt: skip
    assert {r["report_due"].date().isoformat() for r in listed} == {"2026-10-23"}  # 10 working days

    # freight evaluated as of the publication: the report as published is the same
    freight = json.loads(cli("report", "freight", "--lake", lake, "--period", PERIOD,
                             "--as-published", ON).stdout)  # fmt: skip
    assert freight
    compare(book["网络货运平台排名"], content.FREIGHT_COLUMNS, freight, "operator_id")
    companies = report(lake, "ridehailing")
    assert any(c["transmitted"] for c in companies) and not all(c["transmitted"] for c in companies)
    compare(book["网约车平台公司排名"], content.RIDEHAILING_COLUMNS, companies, "company_id")
    ranks = {r["company_id"]: r["rank"]
             for r in sheet_rows(book["网约车平台公司排名"], content.RIDEHAILING_COLUMNS)}  # fmt: skip
    sent = [c["score"] for c in companies if c["transmitted"]]
    assert ranks == {
        c["company_id"]: expected_rank(c["score"], sent) if c["transmitted"] else None
        for c in companies
    }
    overview = report(lake, "ridehailing", "--overview")
    compare(book["网约车行业概况"], content.OVERVIEW_COLUMNS, [overview], "orders")
    about = {r[0]: r[1] for r in book["说明"].iter_rows(values_only=True) if r[0]}
    versions = json.loads(published["source_versions"])
    assert about["gold.telematics__assessments"] == versions["gold.telematics__assessments"]


def _text(path) -> list[str]:
    pdf = pdfium.PdfDocument(str(path))
    return [pdf[i].get_textpage().get_text_range() for i in range(len(pdf))]


def _in_rank_order(text: str, title: str, ids: list[str], shown: list[str]) -> None:
    """From the section's title on, every id in order, each followed (before the next) by what
    its row shows."""
    position = text.index(title)
    found = []
    for subject in ids:
        position = text.index(subject, position)
        found.append(position)
        position += len(subject)
    for i, start in enumerate(found):
        end = found[i + 1] if i + 1 < len(found) else None
        assert shown[i] in text[start:end], (ids[i], shown[i])


def test_the_pdf_reads_as_a_person_would(lake):
    (published,) = publications.rows(lake)
    pages = _text(lake / published["pdf_path"])
    whole = "\n".join(pages)
    assert "福建省道路运输监管月通报（2026年9月）" in pages[0]
    assert "公示期至 2026-10-16" in pages[0]
    for level, name in LEVEL_SHEETS.items():
        rows = report(lake, "telematics", "--level", level)
        scores = [r["score"] for r in rows]
        ordered = sorted(rows, key=lambda r: (expected_rank(r["score"], scores), r["subject_id"]))
        _in_rank_order(whole, name, [r["subject_id"] for r in ordered],
                       [render.display(r["score"], "score") for r in ordered])  # fmt: skip
    for header in ("排名", "企业名称", "得分", "是否合格", "考核不合格名单"):
        assert header in whole
    operators = json.loads(cli("report", "freight", "--lake", lake, "--period", PERIOD,
                               "--as-published", ON).stdout)  # fmt: skip
    operators.sort(key=lambda r: r["rank"])
    _in_rank_order(whole, "网络货运平台运行监测排名", [r["operator_id"] for r in operators],
                   [f"{r['score']:.2f}" for r in operators])  # fmt: skip
    companies = report(lake, "ridehailing")
    sent = [c["score"] for c in companies if c["transmitted"]]
    companies.sort(key=lambda c: (not c["transmitted"], -c["score"], c["company_id"]))
    _in_rank_order(whole, "网约车平台公司数据质量排名", [c["company_id"] for c in companies],
                   [f"{c['score']:.2f}" for c in companies])  # fmt: skip
    assert len(sent) >= 2
    image = pdfium.PdfDocument(str(lake / published["pdf_path"]))[0].render(scale=1).to_pil()
    grey = image.convert("L")
    assert sum(grey.histogram()[:128]) > 0.005 * grey.width * grey.height  # not a blank page


def test_published_once_corrected_inside_the_window_refused_after(lake):
    (first,) = publications.rows(lake)
    v1_xlsx, v1_pdf = lake / first["xlsx_path"], lake / first["pdf_path"]
    assert (sm3_file(v1_xlsx), sm3_file(v1_pdf)) == (first["xlsx_sm3"], first["pdf_sm3"])
    assert (first["kind"], first["version"], str(first["publicity_ends"])) == ("publish", 1, ENDS)

    again = cli("bulletin", "publish", "--lake", lake, "--period", PERIOD, "--on", "2026-10-12",
                code=1)  # fmt: skip
    assert "already published on 2026-10-09" in again.output and "bulletin correct" in again.output

    fixed = cli("bulletin", "correct", "--lake", lake, "--period", PERIOD, "--on", "2026-10-14",
                "--reason", "复核更正：平台连通率重算")  # fmt: skip
    assert "2026-09/350000/v2 (correct)" in fixed.stdout
    first_again, second = publications.rows(lake)
    assert first_again == first  # version 1's row untouched
    assert (sm3_file(v1_xlsx), sm3_file(v1_pdf)) == (first["xlsx_sm3"], first["pdf_sm3"])
    assert (second["version"], second["kind"], second["reason"]) == (
        2, "correct", "复核更正：平台连通率重算"
    )  # fmt: skip
    assert str(second["published_on"]) == "2026-10-14" and str(second["publicity_ends"]) == ENDS
    for kind in ("xlsx", "pdf"):
        assert second[f"{kind}_path"].endswith(f"bulletin_2026-09_350000_v2.{kind}")
        assert sm3_file(lake / second[f"{kind}_path"]) == second[f"{kind}_sm3"]
    assert "更正原因：复核更正：平台连通率重算" in _text(lake / second["pdf_path"])[0]

    late = cli("bulletin", "correct", "--lake", lake, "--period", PERIOD, "--on", "2026-10-19",
               "--reason", "逾期", code=1)  # fmt: skip
    assert "ended on 2026-10-16" in late.output and "nothing was written" in late.output
    assert len(publications.rows(lake)) == 2
    assert not list((lake / "publications" / PERIOD).glob("*_v3.*"))
    none = cli("bulletin", "correct", "--lake", lake, "--period", "2026-10", "--reason", "x",
               code=1)  # fmt: skip
    assert "publish it first" in none.output

    listed = json.loads(cli("bulletin", "list", "--lake", lake, "--format", "json").stdout)
    assert [(r["version"], r["kind"]) for r in listed] == [(1, "publish"), (2, "correct")]
    assert listed[1]["source_versions"]["gold.telematics__assessments"] is not None
    assert "复核更正" in cli("bulletin", "list", "--lake", lake).stdout
    table = DeltaTable(str(publications.PUBLICATIONS.location(lake)))
    assert table.metadata().configuration["delta.appendOnly"] == "true"
    with pytest.raises(Exception, match="(?i)append"):
        table.delete("version = 1")


def test_a_county_bulletin_holds_its_county_only(lake):
    cli("bulletin", "publish", "--lake", lake, "--period", PERIOD, "--jurisdiction", "350902",
        "--on", ON)  # fmt: skip
    (mine,) = [r for r in publications.rows(lake) if r["jurisdiction"] == "350902"]
    book = load_workbook(lake / mine["xlsx_path"])
    # no platform, no freight operator, no ride-hailing company (none is registered in 3509)
    assert book.sheetnames == ["说明", *LEVEL_SHEETS.values(), "考核不合格名单"]
    weights = load_rules()["telematics"]["scoring"]["weights"]
    ids = {
        level: [r["subject_id"] for r in sheet_rows(book[name],
                content.telematics_columns(level, weights))]
        for level, name in LEVEL_SHEETS.items()
    }  # fmt: skip
    enterprises = DeltaTable(str(lake / "silver" / "telematics__enterprises")).to_pyarrow_table()
    county_of = {r["enterprise_id"]: r["county_code"] for r in enterprises.to_pylist()}
    assessed = [r["subject_id"] for r in report(lake, "telematics", "--level", "enterprise")]
    own = sorted(e for e in assessed if county_of[e] == "350902")
    assert ids == {"county": ["350902"], "enterprise": own, "platform": []}
    assert own
    text = "\n".join(_text(lake / mine["pdf_path"]))
    assert "宁德市蕉城区道路运输监管月通报" in text and "350921" not in text
    nothing = cli("bulletin", "publish", "--lake", lake, "--period", PERIOD, "--jurisdiction",
                  "440000", "--on", ON, code=1)  # fmt: skip
    assert "nothing of 2026-09 falls inside jurisdiction 440000" in nothing.output
    assert not list((lake / "publications" / PERIOD).glob("*_440000_*"))

"""The bulletin's files read back as a person would, on a bulletin long enough to span pages: the
PDF rendered to images and its text extracted (Chinese, headers on every page, every row once, in
order), the XLSX's cells equal to the rows; the CJK font looked up with a clear error."""

import datetime as dt

import pypdfium2 as pdfium
import pytest
from openpyxl import load_workbook

from transforms.bulletin import content, render
from transforms.rules import load_rules

ROWS = 90  # three pages of enterprises in A4 landscape


def _bulletin() -> content.Bulletin:
    weights = load_rules()["telematics"]["scoring"]["weights"]
    rows = []
    for i in range(ROWS):
        rows.append({
            "rank": i + 1, "subject_id": f"913509{i:011d}X", "subject_name": f"闽东测试运输有限公司{i}",
            "vehicles": 10 + i, "online_vehicles": 9 + i % 2, "platform_connectivity_rate": None,
            "network_entry_rate": 1.0, "online_rate": 0.9 + i / 1000, "track_completeness_rate": 0.95,
            "data_qualification_rate": 0.991234567, "drift_vehicle_rate": 0.0,
            "check_response_rate": 1.0, "mean_overspeed_count": 0.25, "mean_fatigue_minutes": 12.5,
            "violation_rate": 0.1, "score": round(99.5 - i * 0.25, 6), "passed": i < 78,
        })  # fmt: skip
    failed = [
        {**r, "level": "enterprise", "level_label": "企业", "report_due": dt.date(2026, 10, 23)}
        for r in rows
        if not r["passed"]
    ]
    return content.Bulletin(
        "2026-09", "350900", "宁德市",
        [
            content.Section("enterprise", "telematics", "企业考核排名", "企业考核排名",
                            content.telematics_columns("enterprise", weights), rows),
            content.Section("failed", "telematics", "考核不合格名单", "考核不合格名单",
                            content.FAILED_COLUMNS, failed),
        ],
    )  # fmt: skip


EDITION = render.Edition(
    version=2, kind="correct", published_on=dt.date(2026, 10, 12),
    publicity_ends=dt.date(2026, 10, 16), reason="复核更正", source_versions={"gold.x": 3},
)  # fmt: skip


def test_the_pdf_has_every_row_once_with_headers_on_every_page(tmp_path):
    bulletin = _bulletin()
    path = tmp_path / "b.pdf"
    pages = render.write_pdf(bulletin, EDITION, path)
    pdf = pdfium.PdfDocument(str(path))
    assert len(pdf) == pages >= 3
    texts = [pdf[i].get_textpage().get_text_range() for i in range(len(pdf))]
    assert "宁德市道路运输监管月通报（2026年9月）" in texts[0]
    assert "更正原因：复核更正" in texts[0]
    # the enterprise table runs over pages: each page that continues it repeats its header
    ranked = [r["subject_id"] for r in bulletin.sections[0].rows]
    with_rows = ["".join(t.split()) for t in texts if any(i in t for i in ranked[:-12])]
    assert len(with_rows) >= 2
    assert all("统一社会信用代码" in t and "是否合格" in t for t in with_rows)
    whole = "\n".join(texts)
    position = 0
    for row in bulletin.sections[0].rows:  # every row once, in rank order, with its score
        # once in the ranking, a second time in the failed list if it failed
        assert whole.count(row["subject_id"]) == (1 if row["passed"] else 2)
        found = whole.index(row["subject_id"], position)
        following = whole.find("913509", found + len(row["subject_id"]))
        segment = whole[found : following if following > 0 else None]
        assert f"{row['score']:.2f}" in segment
        assert ("是" if row["passed"] else "否") in segment
        position = found + 1
    image = pdf[pages - 1].render(scale=1).to_pil().convert("L")
    dark = sum(image.histogram()[:128])  # pixels darker than mid-grey
    assert dark > 0.005 * image.width * image.height  # drawn, not blank
    assert image.getextrema()[0] < 60


def test_the_xlsx_holds_the_rows_values(tmp_path):
    bulletin = _bulletin()
    path = render.write_xlsx(bulletin, EDITION, tmp_path / "b.xlsx")
    book = load_workbook(path)
    assert book.sheetnames == ["说明", "企业考核排名", "考核不合格名单"]
    sheet = book["企业考核排名"]
    columns = bulletin.sections[0].columns
    header = [c.value for c in sheet[render.HEADER_ROW]]
    assert header == [c.header for c in columns]
    assert {"排名", "企业名称", "得分", "是否合格"} <= set(header)
    assert sheet.print_title_rows == "$2:$2"  # the header repeats on every printed page
    cells = list(sheet.iter_rows(min_row=render.FIRST_ROW, values_only=True))
    assert len(cells) == ROWS
    for row, values in zip(bulletin.sections[0].rows, cells, strict=True):
        for column, value in zip(columns, values, strict=True):
            expected = row[column.key]
            if column.kind == "bool":
                expected = "是" if expected else "否"
            assert value == expected, (row["subject_id"], column.key)
    about = {r[0]: r[1] for r in book["说明"].iter_rows(values_only=True) if r[0]}
    assert about["版本"] == "第2版（更正）" and about["更正原因"] == "复核更正"
    assert about["gold.x"] == 3


def test_a_missing_font_is_a_clear_error(monkeypatch, tmp_path):
    monkeypatch.delenv(render.FONT_ENV, raising=False)
    monkeypatch.setattr(render, "FONT_CANDIDATES", (tmp_path / "none.ttc",))
    with pytest.raises(render.FontNotFound, match="make system-packages"):
        render.cjk_font()
    monkeypatch.setenv(render.FONT_ENV, str(tmp_path / "gone.ttf"))
    with pytest.raises(render.FontNotFound, match="no file"):
        render.cjk_font()

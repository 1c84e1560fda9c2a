"""A bulletin as files: the XLSX (openpyxl) and the PDF (reportlab), in Chinese.

XLSX: a first sheet 说明 (title, month, jurisdiction, version, dates, correction reason, the Delta
version of every table read), then one sheet per section — row 1 its title, row 2 the Chinese
headers (repeated on every printed page), the rows from row 3: every column of the section with
the report's value as it is (a rate stays the report's double, shown as a percentage; a number is
written with 16 significant digits, openpyxl's format — Excel shows 15), yes / no as 是 / 否,
nothing as an empty cell.

PDF: A4 landscape, the title, the publicity paragraph, then each part's tables with the columns the
PDF shows (headers repeated on every page, rows never cut), page numbers and the version in the
footer. Chinese text needs a CJK TrueType font: :func:`cjk_font` finds WenQuanYi Micro Hei
(``make system-packages`` installs Debian's fonts-wqy-microhei) or ``$LAKEHOUSE_CJK_FONT``.
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from transforms.bulletin.content import PART_TITLES, Bulletin, Column, Section

FONT_ENV = "LAKEHOUSE_CJK_FONT"
FONT_NAME = "LakehouseCJK"
FONT_CANDIDATES = (
    Path("/usr/share/fonts/truetype/wqy/wqy-microhei.ttc"),  # Debian / Ubuntu fonts-wqy-microhei
    Path("/usr/share/fonts/wqy-microhei/wqy-microhei.ttc"),  # Fedora, Arch
    Path("/usr/share/fonts/wenquanyi/wqy-microhei/wqy-microhei.ttc"),
)
TITLE_ROW, HEADER_ROW, FIRST_ROW = 1, 2, 3  # the XLSX layout of a section's sheet
YES, NO = "是", "否"
NUMBERS = ("一", "二", "三", "四", "五", "六", "七", "八", "九")
XLSX_FORMATS = {"int": "0", "rate": "0.00%", "number": "#,##0.00#", "score": "0.00",
                "date": "yyyy-mm-dd"}  # fmt: skip


class FontNotFound(FileNotFoundError):
    """No CJK TrueType font for the PDF."""


@dataclass(frozen=True)
class Edition:
    """What the document says about itself: version, kind, dates, the correction's reason."""

    version: int
    kind: str  # publish | correct
    published_on: dt.date
    publicity_ends: dt.date
    reason: str | None
    source_versions: Mapping[str, int | None]
    publicity_days: int = 5  # rules bulletin.publicity_working_days

    @property
    def label(self) -> str:
        return f"第{self.version}版" + ("（更正）" if self.kind == "correct" else "")


def cjk_font() -> Path:
    """The CJK TrueType font file: ``$LAKEHOUSE_CJK_FONT``, else WenQuanYi Micro Hei where Linux
    distributions install it; a clear error naming where it looked otherwise."""
    explicit = os.environ.get(FONT_ENV)
    if explicit:
        path = Path(explicit)
        if not path.is_file():
            raise FontNotFound(f"${FONT_ENV} names {path}, which is no file")
        return path
    for path in FONT_CANDIDATES:
        if path.is_file():
            return path
    looked = ", ".join(str(p) for p in FONT_CANDIDATES)
    raise FontNotFound(
        f"no CJK TrueType font for the bulletin's PDF (looked for {looked}): install it with "
        f"`make system-packages` (Debian: apt-get install fonts-wqy-microhei) or set ${FONT_ENV} "
        "to a .ttf / .ttc file with Chinese glyphs"
    )


@cache
def _register_font(path: str) -> str:
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.ttfonts import TTFont

    pdfmetrics.registerFont(TTFont(FONT_NAME, path, subfontIndex=0))
    return FONT_NAME


def title(bulletin: Bulletin) -> str:
    year, month = bulletin.period.split("-")
    return f"{bulletin.jurisdiction_name}道路运输监管月通报（{year}年{int(month)}月）"


def display(value: Any, kind: str) -> str:
    """A value as the PDF prints it: rates in per cent (2 decimals), scores with 2 decimals, yes
    / no in Chinese, nothing as a dash."""
    if value is None:
        return "—"
    if kind == "bool":
        return YES if value else NO
    if kind == "rate":
        return f"{value * 100:.2f}%"
    if kind == "score":
        return f"{value:.2f}"
    if kind == "number":
        return f"{value:,.2f}"
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value)


def cell_value(value: Any, kind: str) -> Any:
    """A value as the XLSX stores it: the report's own, 是 / 否 for yes / no."""
    if kind == "bool" and value is not None:
        return YES if value else NO
    return value


def _publicity_text(bulletin: Bulletin, edition: Edition) -> str:
    text = (
        f"{edition.label}，{edition.published_on:%Y年%m月%d日}发布。根据《道路运输车辆动态监督管理与考核实施办法》第三十六、三十七条，"
        f"考核结果予以通报并公示，公示期 {edition.publicity_days} 个工作日，至 {edition.publicity_ends:%Y年%m月%d日} 止；"
        "公示期内被考核单位对结果有异议的，可向考核单位申请复核，结果有误的予以更正。"
    )
    if edition.kind == "correct":
        text += f"本版为更正版，更正原因：{edition.reason}。此前版本仍予保留，不作修改。"
    return text


# ---- XLSX ----------------------------------------------------------------------------------------


def write_xlsx(bulletin: Bulletin, edition: Edition, path: Path) -> Path:
    """The bulletin's workbook at ``path``."""
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font, PatternFill
    from openpyxl.utils import get_column_letter

    book = Workbook()
    about = book.active
    about.title = "说明"
    bold = Font(bold=True)
    about.append([title(bulletin)])
    about["A1"].font = Font(bold=True, size=14)
    facts = [
        ("通报月份", bulletin.period),
        ("辖区", f"{bulletin.jurisdiction_name}（{bulletin.jurisdiction}）"),
        ("版本", edition.label),
        ("发布日期", edition.published_on),
        ("公示截止日期", edition.publicity_ends),
        ("公示说明", _publicity_text(bulletin, edition)),
        ("更正原因", edition.reason or ""),
    ]
    for name, value in facts:
        about.append([name, value])
        about.cell(about.max_row, 1).font = bold
        if isinstance(value, dt.date):
            about.cell(about.max_row, 2).number_format = XLSX_FORMATS["date"]
    about.append([])
    about.append(["数据来源（Delta 表）", "版本"])
    about.cell(about.max_row, 1).font = bold
    about.cell(about.max_row, 2).font = bold
    for name, version in sorted(edition.source_versions.items()):
        about.append([name, "不存在" if version is None else version])
    about.column_dimensions["A"].width = 44
    about.column_dimensions["B"].width = 60

    header_fill = PatternFill("solid", fgColor="DDE6F0")
    for part, sections in bulletin.parts():
        for section in sections:
            sheet = book.create_sheet(section.sheet[:31])
            sheet.cell(TITLE_ROW, 1, f"{PART_TITLES[part]} · {section.title}").font = bold
            if section.note:
                sheet.cell(TITLE_ROW, 4, section.note)
            for j, column in enumerate(section.columns, start=1):
                c = sheet.cell(HEADER_ROW, j, column.header)
                c.font = bold
                c.fill = header_fill
                c.alignment = Alignment(wrap_text=True, vertical="center")
                width = 30 if column.key.endswith("name") else max(10, 2 * len(column.header) + 2)
                sheet.column_dimensions[get_column_letter(j)].width = width
            for i, row in enumerate(section.rows, start=FIRST_ROW):
                for j, column in enumerate(section.columns, start=1):
                    c = sheet.cell(i, j, cell_value(row.get(column.key), column.kind))
                    if column.kind in XLSX_FORMATS and row.get(column.key) is not None:
                        c.number_format = XLSX_FORMATS[column.kind]
            sheet.freeze_panes = sheet.cell(FIRST_ROW, 3)
            sheet.print_title_rows = f"{HEADER_ROW}:{HEADER_ROW}"
            sheet.page_setup.orientation = "landscape"
            sheet.page_setup.fitToWidth = 1
    path.parent.mkdir(parents=True, exist_ok=True)
    book.save(path)
    return path


# ---- PDF -----------------------------------------------------------------------------------------

# relative widths of the PDF's columns by what they hold
_WIDTHS = {"rank": 0.55, "id": 1.9, "name": 2.6, "int": 0.9, "rate": 0.95, "number": 1.1,
           "score": 0.8, "bool": 0.75, "date": 1.3, "text": 1.0}  # fmt: skip


def _width_class(column: Column) -> str:
    if column.key == "rank":
        return "rank"
    if column.key.endswith("_id"):
        return "id"
    if column.key.endswith("_name"):
        return "name"
    return column.kind


def _styles(font: str) -> dict[str, Any]:
    from reportlab.lib import colors
    from reportlab.lib.enums import TA_CENTER
    from reportlab.lib.styles import ParagraphStyle

    base = ParagraphStyle("base", fontName=font, fontSize=9, leading=13, wordWrap="CJK")
    # a heading stays with the table under it (never alone at the foot of a page)
    heading = {"keepWithNext": 1}
    return {
        "title": ParagraphStyle(
            "title", parent=base, fontSize=17, leading=24, alignment=TA_CENTER, spaceAfter=6
        ),
        "subtitle": ParagraphStyle(
            "subtitle",
            parent=base,
            alignment=TA_CENTER,
            textColor=colors.HexColor("#444444"),
            spaceAfter=8,
        ),
        "body": ParagraphStyle("body", parent=base, fontSize=9.5, leading=15, spaceAfter=6),
        "part": ParagraphStyle(
            "part", parent=base, **heading, fontSize=13, leading=19, spaceBefore=10, spaceAfter=4
        ),
        "section": ParagraphStyle(
            "section",
            parent=base,
            **heading,
            fontSize=10.5,
            leading=15,
            spaceBefore=6,
            spaceAfter=2,
        ),
        "note": ParagraphStyle(
            "note",
            parent=base,
            **heading,
            fontSize=8,
            leading=11,
            textColor=colors.HexColor("#555555"),
            spaceAfter=4,
        ),
        "cell": ParagraphStyle("cell", parent=base, fontSize=7.5, leading=9.5),
        "head": ParagraphStyle("head", parent=base, fontSize=7.5, leading=9.5, alignment=TA_CENTER),
    }


def _table(section: Section, styles: dict[str, Any], width: float, font: str):
    from reportlab.lib import colors
    from reportlab.platypus import Paragraph, Table, TableStyle

    columns = [c for c in section.columns if c.in_pdf]
    weights = [_WIDTHS[_width_class(c)] for c in columns]
    widths = [width * w / sum(weights) for w in weights]
    data: list[list[Any]] = [[Paragraph(c.header, styles["head"]) for c in columns]]
    for row in section.rows:
        data.append([
            Paragraph(display(row.get(c.key), c.kind), styles["cell"])
            if _width_class(c) == "name" else display(row.get(c.key), c.kind)
            for c in columns
        ])  # fmt: skip
    if len(data) == 1:
        data.append([Paragraph(f"（{section.empty}）", styles["cell"])] + [""] * (len(columns) - 1))
    table = Table(data, colWidths=widths, repeatRows=1, splitByRow=1)
    style = [
        ("FONTNAME", (0, 0), (-1, -1), font),
        ("FONTSIZE", (0, 0), (-1, -1), 7.5),
        ("GRID", (0, 0), (-1, -1), 0.4, colors.HexColor("#8a8a8a")),
        ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#dde6f0")),
        ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
        ("ALIGN", (0, 1), (-1, -1), "RIGHT"),
        ("TOPPADDING", (0, 0), (-1, -1), 2),
        ("BOTTOMPADDING", (0, 0), (-1, -1), 2),
    ]
    for j, c in enumerate(columns):
        if _width_class(c) in ("id", "name", "text", "bool", "rank", "date"):
            style.append(("ALIGN", (j, 1), (j, -1), "LEFT" if c.kind == "text" else "CENTER"))
    for i in range(2, len(data), 2):
        style.append(("BACKGROUND", (0, i), (-1, i), colors.HexColor("#f4f6f8")))
    if len(data) == 2 and not section.rows:
        style.append(("SPAN", (0, 1), (-1, 1)))
    table.setStyle(TableStyle(style))
    return table


def write_pdf(bulletin: Bulletin, edition: Edition, path: Path) -> int:
    """The bulletin's PDF at ``path``; returns its number of pages."""
    from reportlab.lib.pagesizes import A4, landscape
    from reportlab.lib.units import mm
    from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer

    font = _register_font(str(cjk_font()))
    styles = _styles(font)
    heading = title(bulletin)
    path.parent.mkdir(parents=True, exist_ok=True)
    doc = SimpleDocTemplate(
        str(path), pagesize=landscape(A4), leftMargin=14 * mm, rightMargin=14 * mm,
        topMargin=16 * mm, bottomMargin=14 * mm, title=heading, author=bulletin.jurisdiction_name,
        subject=f"{bulletin.period} {edition.label}",
    )  # fmt: skip

    def decorate(canvas, document) -> None:
        canvas.saveState()
        canvas.setFont(font, 7.5)
        w, h = document.pagesize
        canvas.drawString(14 * mm, h - 10 * mm, f"{heading} · {edition.label}")
        canvas.drawRightString(w - 14 * mm, 8 * mm, f"第 {document.page} 页")
        canvas.drawString(14 * mm, 8 * mm, f"发布日期 {edition.published_on.isoformat()}")
        canvas.restoreState()

    story: list[Any] = [
        Paragraph(heading, styles["title"]),
        Paragraph(
            f"{bulletin.jurisdiction_name}（{bulletin.jurisdiction}） · {edition.label} · "
            f"公示期至 {edition.publicity_ends.isoformat()}",
            styles["subtitle"],
        ),
        Paragraph(_publicity_text(bulletin, edition), styles["body"]),
    ]
    for n, (part, sections) in enumerate(bulletin.parts()):
        story.append(Paragraph(f"{NUMBERS[n]}、{PART_TITLES[part]}", styles["part"]))
        for m, section in enumerate(sections):
            story.append(Paragraph(f"（{NUMBERS[m]}）{section.title}", styles["section"]))
            if section.note:
                story.append(Paragraph(section.note, styles["note"]))
            story.append(_table(section, styles, doc.width, font))
            story.append(Spacer(1, 4 * mm))
    doc.build(story, onFirstPage=decorate, onLaterPages=decorate)
    return doc.page

"""The printed winner list (PDF, via reportlab) for the jury to sign.

Vietnamese needs a font with its glyphs embedded: DejaVu Sans (Debian's fonts-dejavu-core)
or Noto Sans, looked up in the usual places, or the TTF named by ``QUIZENGINE_PDF_FONT``.
Without one the export fails with a message saying what to install.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import IO, Any
from xml.sax.saxutils import escape

from reportlab.lib import colors
from reportlab.lib.enums import TA_CENTER
from reportlab.lib.pagesizes import A4, landscape
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.platypus import (
    KeepTogether,
    LongTable,
    Paragraph,
    SimpleDocTemplate,
    Spacer,
    Table,
    TableStyle,
)

from quizengine.clock import to_local
from quizengine.judging.canonical import ResultRow
from quizengine.judging.exports import (
    HEADERS,
    NOT_FINAL_LABEL,
    NOT_FINAL_TEXT,
    display_cells,
    prize_label,
)

FONT_ENV = "QUIZENGINE_PDF_FONT"
_FONT_CANDIDATES = (
    ("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf", "DejaVuSans-Bold.ttf"),
    ("/usr/share/fonts/TTF/DejaVuSans.ttf", "DejaVuSans-Bold.ttf"),
    ("/usr/share/fonts/dejavu/DejaVuSans.ttf", "DejaVuSans-Bold.ttf"),
    ("/usr/share/fonts/truetype/noto/NotoSans-Regular.ttf", "NotoSans-Bold.ttf"),
    ("/usr/share/fonts/noto/NotoSans-Regular.ttf", "NotoSans-Bold.ttf"),
    ("/Library/Fonts/Arial Unicode.ttf", ""),
    ("C:/Windows/Fonts/arial.ttf", "arialbd.ttf"),
)
_REGULAR = "QEVietnamese"
_BOLD = "QEVietnamese-Bold"
# The PDF's table leaves out the board column: each board gets its own table.
_PDF_COLUMNS = [i for i, h in enumerate(HEADERS) if h != "Bảng"]
_PDF_WIDTHS = (12, 24, 44, 70, 25, 13, 15, 16, 22, 32)


class PdfFontMissing(RuntimeError):
    """No TrueType font with Vietnamese glyphs could be found."""


@dataclass(frozen=True)
class UnitPrizeLine:
    rank: int
    prize: str | None
    unit_path: str
    participants: int
    members: int | None
    score: str


@dataclass(frozen=True)
class PrintHeader:
    contest_title: str
    round_title: str
    final_hash: str | None
    finalized_at: datetime | None
    printed_at: datetime
    unit_formula_label: str = ""


def find_fonts() -> tuple[Path, Path]:
    """(regular, bold) TTF paths; bold falls back to regular."""
    configured = os.environ.get(FONT_ENV)
    if configured:
        path = Path(configured)
        if not path.is_file():
            raise PdfFontMissing(f"{FONT_ENV}={configured} is not a file")
        return path, path
    for regular, bold in _FONT_CANDIDATES:
        path = Path(regular)
        if path.is_file():
            bold_path = path.with_name(bold) if bold else path
            return path, bold_path if bold_path.is_file() else path
    raise PdfFontMissing(
        "no TrueType font with Vietnamese glyphs was found for the PDF; install Debian's "
        "fonts-dejavu-core (apt-get install fonts-dejavu-core) or set "
        f"{FONT_ENV}=/path/to/a/font.ttf"
    )


def _register_fonts() -> None:
    if _REGULAR in pdfmetrics.getRegisteredFontNames():
        return
    regular, bold = find_fonts()
    pdfmetrics.registerFont(TTFont(_REGULAR, str(regular)))
    pdfmetrics.registerFont(TTFont(_BOLD, str(bold)))


def _styles() -> dict[str, ParagraphStyle]:
    base = ParagraphStyle("base", fontName=_REGULAR, fontSize=10, leading=13)
    return {
        "base": base,
        "cell": ParagraphStyle("cell", parent=base, fontSize=8, leading=10),
        "head": ParagraphStyle("head", parent=base, fontName=_BOLD, fontSize=8, leading=10),
        "title": ParagraphStyle(
            "title", parent=base, fontName=_BOLD, fontSize=15, leading=19, alignment=TA_CENTER
        ),
        "subtitle": ParagraphStyle(
            "subtitle", parent=base, fontSize=12, leading=16, alignment=TA_CENTER
        ),
        "h2": ParagraphStyle(
            "h2",
            parent=base,
            fontName=_BOLD,
            fontSize=12,
            leading=16,
            spaceBefore=8,
            keepWithNext=1,
        ),
        "warning": ParagraphStyle(
            "warning",
            parent=base,
            fontName=_BOLD,
            fontSize=12,
            leading=16,
            alignment=TA_CENTER,
            textColor=colors.HexColor("#b00020"),
        ),
        "sign": ParagraphStyle("sign", parent=base, alignment=TA_CENTER, leading=14),
    }


def _p(text: str, style: ParagraphStyle) -> Paragraph:
    return Paragraph(escape(text), style)


def _table(rows: list[list[Any]], widths: Sequence[float]) -> LongTable:
    table = LongTable(rows, colWidths=[w * mm for w in widths], repeatRows=1)
    table.setStyle(
        TableStyle(
            [
                ("GRID", (0, 0), (-1, -1), 0.4, colors.grey),
                ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#e8eef6")),
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
                ("LEFTPADDING", (0, 0), (-1, -1), 3),
                ("RIGHTPADDING", (0, 0), (-1, -1), 3),
            ]
        )
    )
    return table


def write_pdf(
    header: PrintHeader,
    winners_by_board: Sequence[tuple[str, Sequence[ResultRow]]],
    unit_prizes: Sequence[UnitPrizeLine],
    out: IO[bytes] | str,
) -> None:
    """Render the winner list: titles, date, hash, one table per board, unit prizes,
    the jury's signature lines; the hash (or "not final") in every page's footer."""
    _register_fonts()
    st = _styles()
    story: list[Any] = [
        _p(header.contest_title, st["title"]),
        _p(header.round_title, st["subtitle"]),
        Spacer(1, 3 * mm),
        _p("DANH SÁCH ĐẠT GIẢI", st["title"]),
        Spacer(1, 2 * mm),
    ]
    if header.final_hash and header.finalized_at:
        story.append(
            _p(
                "Kết quả chốt lúc " + to_local(header.finalized_at).strftime("%H:%M ngày %d/%m/%Y"),
                st["subtitle"],
            )
        )
        story.append(_p(f"Mã SHA-256 của bảng xếp hạng: {header.final_hash}", st["base"]))
    else:
        story.append(_p(f"{NOT_FINAL_LABEL} — {NOT_FINAL_TEXT}", st["warning"]))
    story.append(
        _p("In lúc " + to_local(header.printed_at).strftime("%H:%M:%S ngày %d/%m/%Y"), st["base"])
    )

    head = [_p(HEADERS[i], st["head"]) for i in _PDF_COLUMNS]
    if not any(rows for _board, rows in winners_by_board):
        story.append(_p("Chưa có người đạt giải (chưa cấu hình số giải).", st["base"]))
    for board, rows in winners_by_board:
        if not rows:
            continue
        story.append(_p(f"Bảng: {board}" if board else "Người đạt giải", st["h2"]))
        body = [head]
        for row in rows:
            cells = display_cells(row)
            body.append([_p(cells[i], st["cell"]) for i in _PDF_COLUMNS])
        story.append(_table(body, _PDF_WIDTHS))

    if unit_prizes:
        title = "Giải tập thể"
        if header.unit_formula_label:
            title += f" (xét theo {header.unit_formula_label})"
        story.append(_p(title, st["h2"]))
        unit_head = ["Hạng", "Giải", "Đơn vị", "Số người dự thi", "Số đoàn viên", "Điểm xét"]
        body = [[_p(h, st["head"]) for h in unit_head]]
        for line in unit_prizes:
            cells = [
                str(line.rank),
                prize_label(line.prize),
                line.unit_path,
                str(line.participants),
                "" if line.members is None else str(line.members),
                line.score,
            ]
            body.append([_p(c, st["cell"]) for c in cells])
        story.append(_table(body, (12, 28, 120, 30, 30, 30)))

    story.append(Spacer(1, 10 * mm))
    signature = [
        [
            _p(text, st["sign"])
            for text in ("TM. BAN TỔ CHỨC", "THÀNH VIÊN BAN GIÁM KHẢO", "TM. BAN GIÁM KHẢO")
        ],
        [
            _p(text, st["sign"])
            for text in (
                "(Ký, ghi rõ họ tên)",
                "(Ký, ghi rõ họ tên)",
                "Trưởng ban (Ký, ghi rõ họ tên)",
            )
        ],
        ["", "", ""],
        [_p("…………………………………", st["sign"]) for _ in range(3)],
    ]
    sign_table = Table(signature, colWidths=[85 * mm] * 3, rowHeights=[None, None, 22 * mm, None])
    story.append(KeepTogether([sign_table]))

    footer = (
        f"SHA-256: {header.final_hash}"
        if header.final_hash
        else f"{NOT_FINAL_LABEL} — chưa có mã SHA-256"
    )

    def draw_footer(canvas: Any, doc: Any) -> None:
        canvas.saveState()
        canvas.setFont(_REGULAR, 7.5)
        canvas.drawString(doc.leftMargin, 8 * mm, footer)
        canvas.drawRightString(
            doc.pagesize[0] - doc.rightMargin, 8 * mm, f"Trang {canvas.getPageNumber()}"
        )
        canvas.restoreState()

    doc = SimpleDocTemplate(
        out,
        pagesize=landscape(A4),
        leftMargin=12 * mm,
        rightMargin=12 * mm,
        topMargin=12 * mm,
        bottomMargin=15 * mm,
        title=f"{header.contest_title} — {header.round_title}",
        author="quizengine",
    )
    doc.build(story, onFirstPage=draw_footer, onLaterPages=draw_footer)

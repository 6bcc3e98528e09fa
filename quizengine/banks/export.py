"""Exporting a bank's active questions as CSV (UTF-8 with BOM) or XLSX.

The export speaks the import's own format with English headers, so exporting a bank and
importing the file again changes nothing (every question "unchanged"): organisers edit a
bank by exporting it, changing it in Excel and importing it back.
"""

from __future__ import annotations

import csv
import os
import re
from collections.abc import Iterator
from typing import Literal

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Font
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from quizengine.errors import NotFound
from quizengine.models import Bank, Question, QuestionVersion

__all__ = ["ExportFormat", "export_bank", "export_header"]

ExportFormat = Literal["csv", "xlsx"]

_LETTERS = "ABCDEF"
# The fewest option columns an export has, so a template for new questions has room.
_MIN_OPTION_COLUMNS = 4
_STREAM_ROWS = 1000
# Control characters XML 1.0 (hence XLSX) cannot hold; openpyxl refuses them.
_XML_ILLEGAL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")


def export_header(option_count: int) -> list[str]:
    options = [f"option_{letter.lower()}" for letter in _LETTERS[:option_count]]
    return [
        "code",
        "question",
        *options,
        "correct",
        "topic",
        "difficulty",
        "explanation",
        "legal_basis",
    ]


def export_bank(
    session: Session, slug: str, fmt: ExportFormat, path: str | os.PathLike[str]
) -> int:
    """Write the bank's active questions to ``path``; return how many were written."""
    bank = session.scalar(select(Bank).where(Bank.slug == slug))
    if bank is None:
        raise NotFound()
    option_count = max(_MIN_OPTION_COLUMNS, _widest(session, bank.id))
    header = export_header(option_count)
    rows = _rows(session, bank.id, option_count)
    if fmt == "csv":
        return _write_csv(path, header, rows)
    return _write_xlsx(path, header, rows)


def _widest(session: Session, bank_id: int) -> int:
    dialect = session.get_bind().dialect.name
    length = func.jsonb_array_length if dialect == "postgresql" else func.json_array_length
    widest = session.scalar(
        select(func.max(length(QuestionVersion.options)))
        .join(Question, Question.current_version_id == QuestionVersion.id)
        .where(Question.bank_id == bank_id, Question.active.is_(True))
    )
    return min(int(widest or 0), len(_LETTERS))


def _rows(session: Session, bank_id: int, option_count: int) -> Iterator[list[str]]:
    result = session.execute(
        select(
            Question.code,
            Question.topic,
            Question.difficulty,
            QuestionVersion.text,
            QuestionVersion.options,
            QuestionVersion.correct,
            QuestionVersion.explanation,
            QuestionVersion.legal_basis,
        )
        .join(QuestionVersion, QuestionVersion.id == Question.current_version_id)
        .where(Question.bank_id == bank_id, Question.active.is_(True))
        .order_by(Question.id)
        .execution_options(yield_per=_STREAM_ROWS)
    )
    for row in result:
        options = list(row.options) + [""] * (option_count - len(row.options))
        yield [
            row.code or "",
            row.text,
            *options,
            ",".join(_LETTERS[index] for index in row.correct),
            row.topic or "",
            row.difficulty or "",
            row.explanation or "",
            row.legal_basis or "",
        ]


def _write_csv(path: str | os.PathLike[str], header: list[str], rows: Iterator[list[str]]) -> int:
    count = 0
    # The BOM makes Excel read UTF-8 instead of the Windows code page; CRLF is what Excel
    # writes, and quoted cells keep their own line breaks.
    with open(path, "w", encoding="utf-8-sig", newline="") as out:
        writer = csv.writer(out, lineterminator="\r\n")
        writer.writerow(header)
        for row in rows:
            writer.writerow(row)
            count += 1
    return count


def _write_xlsx(path: str | os.PathLike[str], header: list[str], rows: Iterator[list[str]]) -> int:
    book = Workbook(write_only=True)
    sheet = book.create_sheet("Questions")
    bold = Font(bold=True)

    def cell(value: str, *, header_cell: bool = False) -> WriteOnlyCell:
        c = WriteOnlyCell(sheet, value=_XML_ILLEGAL.sub("", value))
        # A question starting with "=" is text, not a formula for Excel to run.
        c.data_type = "s"
        if header_cell:
            c.font = bold
        return c

    sheet.append([cell(name, header_cell=True) for name in header])
    count = 0
    for row in rows:
        sheet.append([cell(value) for value in row])
        count += 1
    book.save(path)
    return count

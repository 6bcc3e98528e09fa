"""``results verify``: does an exported list (CSV or XLSX, full or winners only) match the
stored final ranking and its hash?

Checks, in order: the round is finalised; the stored rows still hash to the stored hash
(nobody edited the database since); every data row of the file equals the stored row at
that place, column by column, after undoing the CSV formula neutralisation; the file holds
the whole list or exactly the winners, in order; the printed hash is the stored hash.
The first difference is reported with the file's line (CSV) or row (XLSX) number.
"""

from __future__ import annotations

import csv
import io
import zipfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from pathlib import Path
from typing import Any

from openpyxl import load_workbook
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from quizengine.judging.canonical import ResultRow, canonical_hash
from quizengine.judging.exports import (
    HASH_LABEL,
    HEADERS,
    LOCAL_FORMAT,
    NOT_FINAL_LABEL,
    display_cells,
    format_duration,
    unneutralise,
    xlsx_text,
)
from quizengine.judging.standings import stored_rows
from quizengine.models import Round
from quizengine.models.judging import FinalResult


@dataclass(frozen=True)
class Verdict:
    ok: bool
    message: str
    rows_checked: int = 0


@dataclass(frozen=True)
class FileRow:
    where: str  # "line 7" / "row 7"
    cells: list[str]


class _Unreadable(Exception):
    pass


# --- reading the file -------------------------------------------------------------------------


def _pad(cells: Sequence[str], width: int) -> list[str]:
    cells = list(cells)
    while cells and cells[-1] == "" and len(cells) > width:
        cells.pop()
    return cells + [""] * (width - len(cells))


class _ExportFile:
    """An export read lazily, as often as needed: header check, data rows, trailer."""

    def __init__(self, path: Path) -> None:
        self.raw = path.read_bytes()
        self.kind = "xlsx" if self.raw.startswith(b"PK\x03\x04") else "csv"
        self.trailer: list[str] | None = None

    def _lines(self) -> Iterator[tuple[str, list[str]]]:
        return _xlsx_lines(self.raw) if self.kind == "xlsx" else _csv_lines(self.raw)

    def rows(self) -> Iterator[FileRow]:
        """Data rows up to the first blank row; the row after it is kept as ``trailer``."""
        header_seen = False
        blank_seen = False
        for where, cells in self._lines():
            if not header_seen:
                head = [c.strip() for c in _pad(cells, len(HEADERS))[: len(HEADERS)]]
                if head != list(HEADERS):
                    raise _Unreadable(
                        f"{where}: the header row is not a quizengine results export "
                        f"(expected: {', '.join(HEADERS)})"
                    )
                header_seen = True
                continue
            if not any(c.strip() for c in cells):
                blank_seen = True
                continue
            if blank_seen:
                self.trailer = cells
                continue
            yield FileRow(where, _pad(cells, len(HEADERS)))
        if not header_seen:
            raise _Unreadable("the file is empty")


def _csv_lines(raw: bytes) -> Iterator[tuple[str, list[str]]]:
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise _Unreadable("the CSV is not UTF-8 (was it saved again by a spreadsheet?)") from exc
    first = text.split("\n", 1)[0]
    delimiter = ";" if first.count(";") > first.count(",") else ","
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    for cells in reader:
        yield f"line {reader.line_num}", [unneutralise(c) for c in cells]


def _xlsx_value(value: Any, column: int) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, timedelta):
        return format_duration(round(value.total_seconds() * 1000))
    if isinstance(value, time):
        ms = (value.hour * 3600 + value.minute * 60 + value.second) * 1000
        return format_duration(ms + round(value.microsecond / 1000))
    if isinstance(value, datetime):
        if column == HEADERS.index("Thời gian làm bài"):
            return format_duration(round((value - datetime(1899, 12, 30)).total_seconds() * 1000))
        return value.strftime(LOCAL_FORMAT)
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else repr(value)
    return str(value)


def _xlsx_lines(raw: bytes) -> Iterator[tuple[str, list[str]]]:
    try:
        workbook = load_workbook(io.BytesIO(raw), read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, OSError, ValueError) as exc:
        raise _Unreadable(f"the XLSX cannot be read: {exc}") from exc
    try:
        sheet = workbook.worksheets[0]
        for number, values in enumerate(sheet.iter_rows(values_only=True), start=1):
            yield f"row {number}", [_xlsx_value(v, i) for i, v in enumerate(values)]
    finally:
        workbook.close()


# --- comparing ----------------------------------------------------------------------------------


def _expected(row: ResultRow, kind: str) -> list[str]:
    cells = display_cells(row)
    return [xlsx_text(c) for c in cells] if kind == "xlsx" else cells


def _describe(row: ResultRow) -> str:
    board = f" on board '{row.board}'" if row.board else ""
    return f"rank {row.rank}{board} ({row.full_name})"


def verify_export(session: Session, round_id: int, path: Path) -> Verdict:
    round_ = session.get(Round, round_id)
    if round_ is None:
        return Verdict(False, f"round {round_id} does not exist")
    if round_.finalized_at is None or not round_.result_hash:
        return Verdict(False, f"round {round_id} is not finalised: there is nothing to verify")
    recomputed = canonical_hash(round_id, stored_rows(session, round_id))
    if recomputed != round_.result_hash:
        return Verdict(
            False,
            f"the stored final ranking of round {round_id} no longer matches its hash "
            f"(stored {round_.result_hash}, recomputed {recomputed}): the database was changed",
        )
    try:
        export = _ExportFile(path)
        return _compare(session, round_, export)
    except _Unreadable as exc:
        return Verdict(False, str(exc))
    except OSError as exc:
        return Verdict(False, f"cannot read {path}: {exc.strerror or exc}")


def _compare(session: Session, round_: Round, export: _ExportFile) -> Verdict:
    round_id = round_.id
    kind = export.kind

    total = int(
        session.scalar(
            select(func.count()).select_from(FinalResult).where(FinalResult.round_id == round_id)
        )
        or 0
    )
    winners_count = int(
        session.scalar(
            select(func.count())
            .select_from(FinalResult)
            .where(FinalResult.round_id == round_id, FinalResult.prize.is_not(None))
        )
        or 0
    )
    # First pass: is it the whole list or the winners only? (Streams; nothing is kept.)
    prize_column = HEADERS.index("Giải")
    rows_in_file = 0
    all_prized = True
    for file_row in export.rows():
        rows_in_file += 1
        all_prized = all_prized and bool(file_row.cells[prize_column])
    winners_only = all_prized and rows_in_file <= winners_count and winners_count < total
    expected = stored_rows(session, round_id, winners_only=winners_only)
    list_name = "winners-only list" if winners_only else "full list"

    checked = 0
    for file_row in export.rows():
        stored = next(expected, None)
        if stored is None:
            return Verdict(
                False,
                f"{file_row.where}: extra row — the stored {list_name} has only {checked} rows",
                checked,
            )
        want = _expected(stored, kind)
        for column, (have, should) in enumerate(zip(file_row.cells, want, strict=False)):
            if have != should:
                return Verdict(
                    False,
                    f"{file_row.where} differs from the final ranking ({_describe(stored)}): "
                    f"column '{HEADERS[column]}' is {have!r} in the file but {should!r} "
                    "in the stored ranking",
                    checked,
                )
        checked += 1
    missing = next(expected, None)
    if missing is not None:
        return Verdict(
            False,
            f"the file ends after {checked} rows; the stored {list_name} continues with "
            f"{_describe(missing)}",
            checked,
        )

    trailer = export.trailer
    if not trailer:
        return Verdict(False, "the file has no SHA-256 line at the end", checked)
    label = trailer[0].strip()
    if label == NOT_FINAL_LABEL:
        return Verdict(
            False, "the file is a provisional export (made before finalising): it has no hash"
        )
    printed = trailer[1].strip() if len(trailer) > 1 else ""
    if label != HASH_LABEL:
        return Verdict(False, "the file's last line is not a SHA-256 line", checked)
    if printed.lower() != round_.result_hash:
        return Verdict(
            False,
            f"the printed SHA-256 {printed} is not the stored hash {round_.result_hash}",
            checked,
        )
    return Verdict(
        True,
        f"OK: {checked} rows ({list_name}) match the final ranking of round {round_id}; "
        f"SHA-256 {round_.result_hash}",
        checked,
    )

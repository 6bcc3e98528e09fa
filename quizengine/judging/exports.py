"""Winner lists as files: CSV (UTF-8 with BOM) and XLSX, written row by row.

Both formats have the same columns and Vietnamese headers, a header row first, the data
rows, then a blank row and the trailer: ``SHA-256<delimiter><hex>`` for a finalised round,
or a plain "not final, no hash" line for a provisional export. Rows are consumed from an
iterator and written as they come, so memory stays flat however many there are.

CSV cells that a spreadsheet would read as a formula (starting with ``= + - @``, tab or
carriage return) are prefixed with an apostrophe, and so are cells that already start with
one, which makes the neutralisation reversible (``unneutralise``) for ``results verify``.
XLSX cells are typed: text is written as text even when it starts with ``=``, numbers as
numbers, times as real dates/durations; never a formula.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator, Sequence
from datetime import datetime, timedelta
from typing import IO, Any

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Font

from quizengine.clock import to_local
from quizengine.judging.canonical import ResultRow

HEADERS = (
    "Hạng",
    "Giải",
    "Họ và tên",
    "Đơn vị",
    "Số điện thoại",
    "Bảng",
    "Điểm",
    "Dự đoán",
    "Chênh lệch",
    "Thời gian làm bài",
    "Thời điểm nộp bài",
)
PRIZE_LABELS = {
    "first": "Giải Nhất",
    "second": "Giải Nhì",
    "third": "Giải Ba",
    "consolation": "Giải Khuyến khích",
}
HASH_LABEL = "SHA-256"
NOT_FINAL_LABEL = "KẾT QUẢ TẠM THỜI"
NOT_FINAL_TEXT = (
    "Vòng thi chưa được chốt kết quả: danh sách này chưa chính thức và không có mã SHA-256."
)
LOCAL_FORMAT = "%d/%m/%Y %H:%M:%S"
UNIT_SEPARATOR = " / "

# Excel's hard limit, header and the two trailer rows included.
XLSX_MAX_ROWS = 1_048_576
_XLSX_WIDTHS = (7, 18, 30, 60, 15, 22, 8, 10, 11, 17, 21)
_DANGEROUS_START = frozenset("=+-@\t\r'")
_CSV_FLUSH_ROWS = 2000


class ExportError(Exception):
    """The export cannot be written as asked (e.g. too many rows for XLSX)."""


# --- how each value is shown -------------------------------------------------------------


def mask_phone(phone: str | None) -> str:
    """``0912345678`` → ``09xx xxx 678``; other lengths show only their last 3 digits."""
    digits = "".join(ch for ch in (phone or "") if ch.isdigit())
    if len(digits) == 10:
        return f"{digits[:2]}xx xxx {digits[-3:]}"
    return f"xxx {digits[-3:]}" if digits else ""


def format_duration(ms: int | None) -> str:
    """Milliseconds as ``MM:SS.mmm`` (minutes keep counting past 59)."""
    if ms is None:
        return ""
    minutes, rest = divmod(ms, 60_000)
    seconds, millis = divmod(rest, 1000)
    return f"{minutes:02d}:{seconds:02d}.{millis:03d}"


def format_local(value: datetime | None) -> str:
    """``dd/mm/yyyy HH:MM:SS`` in Vietnam time (what ``LOCAL_FORMAT`` gives, faster)."""
    if value is None:
        return ""
    t = to_local(value)
    return f"{t.day:02d}/{t.month:02d}/{t.year:04d} {t.hour:02d}:{t.minute:02d}:{t.second:02d}"


def local_naive(value: datetime | None) -> datetime | None:
    """Local wall-clock time to the second, without tzinfo (what a spreadsheet stores)."""
    if value is None:
        return None
    return to_local(value).replace(tzinfo=None, microsecond=0)


def prize_label(prize: str | None) -> str:
    return PRIZE_LABELS.get(prize or "", "")


def _text(value: int | None) -> str:
    return "" if value is None else str(value)


def display_cells(row: ResultRow) -> list[str]:
    """The row as text, column by column (CSV, PDF and ``results verify`` share this)."""
    return [
        str(row.rank),
        prize_label(row.prize),
        row.full_name,
        row.unit_path,
        row.phone_masked,
        row.board,
        str(row.points),
        _text(row.prediction),
        _text(row.error),
        format_duration(row.duration_ms),
        format_local(row.submitted_at),
    ]


def neutralise(cell: str) -> str:
    return "'" + cell if cell and cell[0] in _DANGEROUS_START else cell


def unneutralise(cell: str) -> str:
    return cell[1:] if cell.startswith("'") else cell


# --- CSV -----------------------------------------------------------------------------------


def _trailer(final_hash: str | None) -> list[str]:
    return [HASH_LABEL, final_hash] if final_hash else [NOT_FINAL_LABEL, NOT_FINAL_TEXT]


def csv_text_chunks(
    rows: Iterable[ResultRow],
    *,
    final_hash: str | None,
    delimiter: str = ",",
) -> Iterator[str]:
    """The CSV as text chunks (no BOM), a few thousand rows at a time."""
    return table_csv_chunks(
        HEADERS,
        (display_cells(row) for row in rows),
        trailer=_trailer(final_hash),
        delimiter=delimiter,
    )


def table_csv_chunks(
    headers: Sequence[str],
    cells: Iterable[Sequence[str]],
    *,
    trailer: Sequence[str] | None = None,
    delimiter: str = ",",
) -> Iterator[str]:
    """Any table as neutralised CSV text chunks: header, rows, then blank line + trailer."""
    if delimiter not in (",", ";"):
        raise ExportError("the CSV delimiter must be ',' or ';'")
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=delimiter, lineterminator="\r\n")
    writer.writerow(headers)
    pending = 0
    for line in cells:
        writer.writerow([neutralise(cell) for cell in line])
        pending += 1
        if pending >= _CSV_FLUSH_ROWS:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
            pending = 0
    if trailer is not None:
        writer.writerow([])
        writer.writerow([neutralise(cell) for cell in trailer])
    yield buffer.getvalue()


def csv_byte_chunks(chunks: Iterable[str]) -> Iterator[bytes]:
    """UTF-8 with a BOM, so Excel shows Vietnamese correctly."""
    yield "\ufeff".encode()
    for chunk in chunks:
        yield chunk.encode()


def write_csv(
    rows: Iterable[ResultRow],
    out: IO[bytes],
    *,
    final_hash: str | None,
    delimiter: str = ",",
) -> None:
    for chunk in csv_byte_chunks(csv_text_chunks(rows, final_hash=final_hash, delimiter=delimiter)):
        out.write(chunk)


# --- XLSX ----------------------------------------------------------------------------------


def xlsx_text(value: str) -> str:
    """What an XLSX text cell can hold: XML forbids most control characters."""
    return ILLEGAL_CHARACTERS_RE.sub("\ufffd", value)


def write_xlsx(
    rows: Iterable[ResultRow],
    out: IO[bytes] | str,
    *,
    final_hash: str | None,
    sheet_title: str = "Kết quả",
) -> int:
    """Write the XLSX in openpyxl's write-only mode; returns the number of data rows."""
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(title=sheet_title[:31])
    for index, width in enumerate(_XLSX_WIDTHS):
        sheet.column_dimensions[chr(ord("A") + index)].width = width
    sheet.freeze_panes = "A2"

    bold = Font(bold=True)
    header = []
    for title in HEADERS:
        cell = WriteOnlyCell(sheet, value=title)
        cell.font = bold
        header.append(cell)
    sheet.append(header)

    # One reusable cell per typed column: styled cells are costly to create per row.
    duration = WriteOnlyCell(sheet)
    duration.number_format = "[mm]:ss.000"
    submitted = WriteOnlyCell(sheet)
    submitted.number_format = "dd/mm/yyyy hh:mm:ss"

    count = 0
    limit = XLSX_MAX_ROWS - 3
    for row in rows:
        count += 1
        if count > limit:
            raise ExportError(
                f"an XLSX sheet holds at most {limit:,} result rows; export CSV instead"
            )
        values: list[Any] = [
            row.rank,
            prize_label(row.prize) or None,
            _string_cell(sheet, row.full_name),
            _string_cell(sheet, row.unit_path),
            row.phone_masked or None,
            _string_cell(sheet, row.board),
            row.points,
            row.prediction,
            row.error,
            None,
            None,
        ]
        if row.duration_ms is not None:
            duration.value = timedelta(milliseconds=row.duration_ms)
            values[9] = duration
        if row.submitted_at is not None:
            submitted.value = local_naive(row.submitted_at)
            values[10] = submitted
        sheet.append(values)
    sheet.append([])
    sheet.append([_string_cell(sheet, cell) for cell in _trailer(final_hash)])
    workbook.save(out)
    return count


def _string_cell(sheet: Any, value: str) -> Any:
    """A text cell; one starting with ``=`` is forced to text (openpyxl would make a formula)."""
    if not value:
        return None
    value = xlsx_text(value)
    if not value.startswith("="):
        return value
    cell = WriteOnlyCell(sheet, value=value)
    cell.data_type = "s"
    return cell

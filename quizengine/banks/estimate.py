"""A cheap estimate of how many rows a bank file has, for the CLI's progress bar.

It only sizes the bar, so it may be off (a cell with line breaks counts as several lines,
an XLSX sheet may declare a wrong dimension) and it never fails: 0 means "unknown".
"""

from __future__ import annotations

import os
import zipfile

from openpyxl import load_workbook

__all__ = ["estimate_rows"]

_CHUNK = 1024 * 1024


def estimate_rows(path: str | os.PathLike[str], *, sheet: str | None = None) -> int:
    try:
        if zipfile.is_zipfile(path):
            return _xlsx_rows(path, sheet)
        lines = 0
        last = b"\n"
        with open(path, "rb") as raw:
            while chunk := raw.read(_CHUNK):
                lines += chunk.count(b"\n")
                last = chunk[-1:]
        return lines + (last != b"\n")
    except Exception:  # an estimate must never stop an import; the import reports problems
        return 0


def _xlsx_rows(path: str | os.PathLike[str], sheet: str | None) -> int:
    with open(path, "rb") as raw:
        book = load_workbook(raw, read_only=True)
        try:
            worksheet = book[sheet] if sheet in book.sheetnames else book.worksheets[0]
            return int(worksheet.max_row or 0)
        finally:
            book.close()

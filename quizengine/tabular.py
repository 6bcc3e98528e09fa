"""Reading the spreadsheets organisers send: CSV in whatever encoding Excel used, or XLSX.

Used by the question-bank import and by the unit-tree import. This module only turns a file
into numbered rows of text; what the rows mean is the caller's business. It never writes,
never normalises text (callers apply NFC) and never skips a row.
"""

from __future__ import annotations

import codecs
import csv
import datetime as dt
import os
import re
import unicodedata
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from types import TracebackType
from typing import IO, Any, Literal

from charset_normalizer import from_bytes

__all__ = [
    "DEFAULT_MAX_BYTES",
    "SourceRow",
    "Table",
    "TableFileError",
    "open_table",
]

DEFAULT_MAX_BYTES = 20 * 1024 * 1024

# How much of the start of a file is used for sniffing (type, delimiter, legacy code page).
_HEAD_BYTES = 64 * 1024
_CHUNK_BYTES = 64 * 1024
# The delimiter is judged on this many non-empty records: enough to see a pattern, few
# enough that a title row or two above the header cannot outvote the data.
_SNIFF_RECORDS = 10
_DELIMITERS = (",", ";", "\t")

_ZIP_MAGIC = b"PK\x03\x04"
_OLE2_MAGIC = b"\xd0\xcf\x11\xe0"
# Whitespace that may surround a "blank" file; U+FEFF is the BOM that Notepad and Excel add.
_BLANK_TEXT = " \t\r\n\x0b\x0c\ufeff"
_BLANK_BYTES = b" \t\r\n\x0b\x0c"
_NON_ASCII = re.compile(rb"[\x80-\xff]")

# Bytes that neither Windows-1252 nor Windows-1258 defines: a file containing them was
# written in some other code page and decoding it would only produce garbage.
_UNDEFINED_IN_BOTH = frozenset(b"\x81\x8d\x8f\x90\x9d")
# Š Ž š ž exist in Windows-1252 but not in Windows-1258.
_UNDEFINED_IN_CP1258 = frozenset(b"\x8a\x8e\x9a\x9e")

# A zip bigger than this once unpacked is refused: openpyxl holds the shared-strings part
# in memory even in read-only mode, so a small "zip bomb" could otherwise exhaust memory.
_MIN_UNPACKED_LIMIT = 100 * 1024 * 1024
_UNPACKED_RATIO = 10


class TableFileError(Exception):
    """Something is wrong with the file as a whole (not with one row).

    ``str()`` is the English message prefixed with ``"file: "``; ``code`` and ``params``
    let a web page show its own translation.
    """

    def __init__(self, code: str, message: str, **params: object) -> None:
        super().__init__(f"file: {message}")
        self.code = code
        self.message = message
        self.params: dict[str, object] = params


@dataclass(frozen=True)
class SourceRow:
    """One record of a table.

    ``number`` is, for CSV, the physical line on which the record starts (1-based), and for
    XLSX the sheet's row number: the position an organiser finds in their own editor.
    ``cells`` hold every cell as text, not yet normalised.
    """

    number: int
    cells: tuple[str, ...]


class Table:
    """An open CSV or XLSX file; use as a context manager and iterate ``rows()``."""

    kind: Literal["csv", "xlsx"]
    location_word: Literal["line", "row"]

    def rows(self) -> Iterator[SourceRow]:  # pragma: no cover - overridden
        raise NotImplementedError

    def close(self) -> None:  # pragma: no cover - overridden
        raise NotImplementedError

    def __enter__(self) -> Table:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


def open_table(
    path: str | os.PathLike[str],
    *,
    sheet: str | None = None,
    max_bytes: int = DEFAULT_MAX_BYTES,
) -> Table:
    """Open ``path`` as a table, deciding CSV or XLSX from the content, not the name.

    ``sheet`` picks a worksheet by name in an XLSX file (the first one otherwise); it is
    ignored for CSV, so a caller may pass it without knowing what the upload was.
    Raises TableFileError for anything that is not a readable table.
    """
    try:
        size = os.stat(path).st_size
        with open(path, "rb") as probe:
            head = probe.read(_HEAD_BYTES)
    except OSError as exc:
        raise TableFileError("unreadable", f"cannot open the file: {exc.strerror or exc}") from exc

    if size > max_bytes:
        raise TableFileError(
            "too_large",
            f"the file is {_human_size(size)}; the limit is {_human_size(max_bytes)}",
            size=size,
            limit=max_bytes,
        )
    if not head:
        raise TableFileError("empty_file", "the file is empty")
    if head.startswith(_ZIP_MAGIC):
        return _XlsxTable.open(path, sheet=sheet, max_bytes=max_bytes)
    if head.startswith(_OLE2_MAGIC):
        _refuse_ole2(path)
    return _CsvTable.open(path, head=head, max_bytes=max_bytes)


# --------------------------------------------------------------------------- CSV


class _CsvTable(Table):
    kind = "csv"
    location_word = "line"

    def __init__(self, stream: IO[str], *, encoding: str, delimiter: str, skip_lines: int):
        self._stream = stream
        #: The Python codec the text was read with, e.g. "cp1258"; for diagnostics.
        self.encoding = encoding
        self.delimiter = delimiter
        # Lines before the data that are not records (Excel's "sep=;" directive).
        self._skip_lines = skip_lines

    @classmethod
    def open(cls, path: str | os.PathLike[str], *, head: bytes, max_bytes: int) -> _CsvTable:
        _refuse_non_text(head)
        encoding = _detect_encoding(path, head, max_bytes)
        sample = _decode_head(head, encoding)
        delimiter, skip_lines = _sniff_delimiter(sample)
        # newline="" hands line breaks inside quoted cells to the csv module untouched and
        # lets it count physical lines (\n, \r\n and a lone \r each end one line).
        stream = open(path, encoding=encoding, newline="")  # noqa: SIM115 - closed by close()
        return cls(stream, encoding=encoding, delimiter=delimiter, skip_lines=skip_lines)

    def rows(self) -> Iterator[SourceRow]:
        self._stream.seek(0)
        for _ in range(self._skip_lines):
            self._stream.readline()
        reader = csv.reader(self._stream, delimiter=self.delimiter)
        while True:
            # line_num counts the physical lines consumed so far, so the record about to be
            # read starts on the next one, even if an earlier cell spanned several lines.
            number = reader.line_num + 1 + self._skip_lines
            try:
                record = next(reader)
            except StopIteration:
                return
            except csv.Error as exc:
                hint = ""
                if "field larger than field limit" in str(exc):
                    hint = ' (is a quote mark " left open?)'
                raise TableFileError(
                    "bad_csv",
                    f"cannot read the CSV text from line {number}: {exc}{hint}",
                    line=number,
                ) from exc
            except UnicodeDecodeError as exc:  # only if the file changed since it was checked
                raise TableFileError(
                    "unknown_encoding",
                    f"the text near line {number} is not valid {self.encoding}",
                    line=number,
                ) from exc
            yield SourceRow(number, tuple(_unify_newlines(cell) for cell in record))

    def close(self) -> None:
        self._stream.close()


def _refuse_non_text(head: bytes) -> None:
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        # Excel's "Unicode Text" export: UTF-16 full of NUL bytes, but genuine text.
        text = head.decode("utf-16", errors="replace")
    else:
        if b"\x00" in head:
            raise TableFileError(
                "binary_file", "this is not a spreadsheet or CSV text file (binary data)"
            )
        text = head.decode("utf-8", errors="replace")
    start = text.lstrip(_BLANK_TEXT)[:20].casefold()
    if start.startswith(("<!doctype html", "<html")):
        # Many websites' "export to Excel" buttons send an HTML table named .xls.
        raise TableFileError(
            "html_file",
            "this is a web page (HTML), not a spreadsheet; open it in Excel and save it "
            "as .xlsx or CSV",
        )
    if start.startswith("<?xml"):
        raise TableFileError(
            "xml_file",
            "this is an XML file, not a spreadsheet; open it in Excel and save it as .xlsx or CSV",
        )


def _detect_encoding(path: str | os.PathLike[str], head: bytes, max_bytes: int) -> str:
    """Read the whole file once, in binary chunks, and name the codec to read it with.

    UTF-8 is tried strictly over the whole file, not just a sample: one stray legacy byte
    deep in the file proves it is not UTF-8, and an incremental decoder never mistakes a
    character split across two chunks for an error.

    Chunks holding non-ASCII bytes are kept (up to the sample size) for choosing a legacy
    code page: a file whose first 64 KB are plain ASCII says nothing about that choice.
    """
    utf16 = head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE))
    decoder = codecs.getincrementaldecoder("utf-16" if utf16 else "utf-8")()
    unicode_ok = True
    has_text = False
    high_bytes: set[int] = set()
    legacy_sample = bytearray()
    total = 0
    with open(path, "rb") as raw:
        while chunk := raw.read(_CHUNK_BYTES):
            total += len(chunk)
            if total > max_bytes:  # the file grew after it was measured
                raise TableFileError(
                    "too_large", f"the file is larger than {_human_size(max_bytes)}"
                )
            if unicode_ok:
                try:
                    text = decoder.decode(chunk)
                except UnicodeDecodeError:
                    unicode_ok = False
                else:
                    has_text = has_text or bool(text.strip(_BLANK_TEXT))
            if len(legacy_sample) < _HEAD_BYTES and _NON_ASCII.search(chunk):
                legacy_sample += chunk
            if not unicode_ok:
                has_text = has_text or bool(chunk.strip(_BLANK_BYTES))
            # Checked in every chunk, UTF-8-looking ones included: a file that starts in UTF-8
            # and continues in a legacy code page must fail here, not halfway through rows().
            high_bytes.update(
                b for b in _UNDEFINED_IN_BOTH | _UNDEFINED_IN_CP1258 if bytes([b]) in chunk
            )
    if unicode_ok:
        try:
            decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            unicode_ok = False
    if not has_text:
        raise TableFileError("empty_file", "the file is empty (it holds only blank space)")

    if unicode_ok:
        if utf16:
            return "utf-16"
        # utf-8-sig reads plain UTF-8 too, but naming the BOM case keeps diagnostics honest.
        return "utf-8-sig" if head.startswith(codecs.BOM_UTF8) else "utf-8"
    if utf16:
        raise TableFileError("binary_file", "this is not a spreadsheet or CSV text file")
    if high_bytes & _UNDEFINED_IN_BOTH:
        raise TableFileError(
            "unknown_encoding",
            "the text is not in a known encoding (UTF-8, Windows-1258 or Windows-1252); "
            'in Excel use "Save As" > "CSV UTF-8"',
        )
    if high_bytes & _UNDEFINED_IN_CP1258:
        return "cp1252"
    return _choose_legacy_code_page(bytes(legacy_sample[:_HEAD_BYTES]))


# The Vietnamese alphabet's vowels and the tone marks Windows-1258 writes as separate
# combining characters (grave, acute, tilde, hook above, dot below).
_VN_VOWELS = frozenset("aăâeêioôơuưyAĂÂEÊIOÔƠUƯY")
_VN_TONE_MARKS = frozenset("\u0300\u0301\u0303\u0309\u0323")
# Letters that only Windows-1258 has; the same bytes are Ã Ð Õ Ý Þ ã ð õ ý þ in 1252.
_VN_ONLY_LETTERS = frozenset("ĂăĐđƠơƯư₫")
# Every precomposed Vietnamese letter, toned or not: a Vietnamese file decoded as 1258
# contains these and no other non-ASCII letters.
_VN_LETTERS = frozenset(
    unicodedata.normalize("NFC", vowel + tone)
    for vowel in _VN_VOWELS
    for tone in ("", *_VN_TONE_MARKS)
)


def _choose_legacy_code_page(sample: bytes) -> str:
    """Choose between Windows-1258 (Vietnamese) and Windows-1252 (Western) for a non-UTF-8 file.

    The two code pages agree on all but 18 bytes, and those bytes are exactly Vietnamese's
    own letters (Ă Đ Ơ Ư, ₫) and its five combining tone marks. So the sample is decoded as
    1258 and weighed: a tone mark after a Vietnamese vowel, or Ă/Đ/Ơ/Ư, is evidence for
    Vietnamese; a tone mark after a consonant ("però" would read as "pẹr") or a letter
    Vietnamese never uses (ç, ñ, ü ...) is evidence against.

    * No Vietnamese evidence: 1252, whose reading then differs from 1258's only where 1258
      would produce nonsense.
    * Overwhelming evidence (more than twice the counter-evidence): 1258. The organisers
      are Vietnamese, so this is the common case and must not hinge on a statistical guess
      about short samples; a stray foreign name does not tip it over.
    * Anything in between (Portuguese ã/õ read as ă/ơ, say): charset_normalizer judges which
      decoding reads more like real language, falling back to 1252 if it has no opinion.
    """
    decoded = sample.decode("cp1258", errors="replace")
    evidence = against = 0
    previous = ""
    for char in decoded:
        if char.isascii():
            pass
        elif char in _VN_TONE_MARKS:
            if previous in _VN_VOWELS:
                evidence += 1
            else:
                against += 1
        elif char in _VN_ONLY_LETTERS:
            evidence += 1
        elif char.isalpha() and char not in _VN_LETTERS:
            against += 1
        previous = char
    if evidence == 0:
        return "cp1252"
    if evidence > 2 * against:
        return "cp1258"
    best = from_bytes(sample, cp_isolation=["cp1258", "cp1252"]).best()
    if best is not None and best.encoding in ("cp1258", "cp1252"):
        return best.encoding
    return "cp1252"


def _decode_head(head: bytes, encoding: str) -> str:
    # Incremental and non-final, so a multi-byte character cut off by the sample's end is
    # simply left out instead of becoming an error.
    return codecs.getincrementaldecoder(encoding)(errors="replace").decode(head)


def _sniff_delimiter(sample: str) -> tuple[str, int]:
    """Return the delimiter and the number of leading lines that are not data.

    csv.Sniffer is unreliable on real files (a comma inside Vietnamese prose fools it), so
    each candidate is counted outside quotes on the first non-empty records and the one
    whose count is the same on most records wins, more delimiters breaking a tie (a title
    row saved by Excel as "TITLE;;;;" agrees with the data, prose commas do not).
    """
    first_line, _, _ = sample.partition("\n")
    first_line = first_line.rstrip("\r").strip()
    # Excel honours and writes a "sep=;" first line to say which delimiter the file uses.
    if first_line[:4].casefold() == "sep=" and len(first_line) == 5:
        return first_line[4], 1

    records = _first_records(sample, _SNIFF_RECORDS)
    best = ","
    best_score = (0, 0)
    for delimiter in _DELIMITERS:
        counts = [_count_outside_quotes(record, delimiter) for record in records]
        tally: dict[int, int] = {}
        for count in counts:
            if count > 0:
                tally[count] = tally.get(count, 0) + 1
        if not tally:
            continue
        # Score: how many records agree on the same count, then how large that count is.
        score = max((agreeing, count) for count, agreeing in tally.items())
        if score > best_score:
            best, best_score = delimiter, score
    return best, 0


def _first_records(sample: str, limit: int) -> list[str]:
    """Split the start of a CSV text into records, honouring line breaks inside quotes."""
    records: list[str] = []
    in_quotes = False
    start = 0
    for index, char in enumerate(sample):
        if char == '"':
            in_quotes = not in_quotes
        elif char in "\r\n" and not in_quotes:
            record = sample[start:index]
            start = index + 1
            if record.strip():
                records.append(record)
                if len(records) == limit:
                    return records
    # The tail may be a record cut short by the end of the sample. Its delimiters still
    # count, unless the cut fell inside a quoted cell and complete records are available.
    tail = sample[start:]
    if tail.strip() and (not records or not in_quotes):
        records.append(tail)
    return records


def _count_outside_quotes(record: str, delimiter: str) -> int:
    count = 0
    in_quotes = False
    for char in record:
        if char == '"':
            in_quotes = not in_quotes
        elif char == delimiter and not in_quotes:
            count += 1
    return count


def _unify_newlines(text: str) -> str:
    return text.replace("\r\n", "\n").replace("\r", "\n")


# --------------------------------------------------------------------------- XLSX


class _XlsxTable(Table):
    kind = "xlsx"
    location_word = "row"

    def __init__(self, raw: IO[bytes], workbook: Any, worksheet: Any) -> None:
        self._raw = raw
        self._workbook = workbook
        self._worksheet = worksheet
        self.sheet_name: str = worksheet.title

    @classmethod
    def open(cls, path: str | os.PathLike[str], *, sheet: str | None, max_bytes: int) -> _XlsxTable:
        _check_workbook_zip(path, max_bytes)
        # Imported here so that reading a CSV does not pay for loading openpyxl.
        from openpyxl import load_workbook

        # A file object rather than the path: openpyxl refuses paths whose name does not
        # end in .xlsx, and uploads are often saved under temporary names.
        raw = open(path, "rb")  # noqa: SIM115 - closed by close() or below
        try:
            workbook = load_workbook(raw, read_only=True, data_only=True)
        except Exception as exc:  # openpyxl raises many types for a damaged package
            raw.close()
            raise TableFileError(
                "not_a_workbook",
                "this zip file is not a readable Excel workbook; save it again as .xlsx or CSV",
                detail=str(exc),
            ) from exc
        try:
            worksheet = _pick_worksheet(workbook, sheet)
        except TableFileError:
            workbook.close()
            raw.close()
            raise
        # The <dimension> a file declares is sometimes wrong (other tools write "A1"), and
        # openpyxl would then stop early; without it, every stored row is read.
        worksheet.reset_dimensions()
        return cls(raw, workbook, worksheet)

    def rows(self) -> Iterator[SourceRow]:
        values = self._worksheet.iter_rows(values_only=True)
        number = 0
        while True:
            try:
                row = next(values)
            except StopIteration:
                return
            except Exception as exc:  # a damaged sheet can fail in the XML or zip layer
                raise TableFileError(
                    "not_a_workbook",
                    f"the workbook cannot be read after row {number}: {exc}",
                    row=number,
                ) from exc
            # read-only openpyxl yields every row from 1, filling gaps with empty rows.
            number += 1
            yield SourceRow(number, tuple(_cell_text(value) for value in row))

    def close(self) -> None:
        try:
            self._workbook.close()
        finally:
            self._raw.close()


def _check_workbook_zip(path: str | os.PathLike[str], max_bytes: int) -> None:
    try:
        with zipfile.ZipFile(path) as archive:
            members = archive.infolist()
    except (zipfile.BadZipFile, OSError) as exc:
        raise TableFileError(
            "not_a_workbook",
            "this looks like a zip file but is damaged; save the workbook again as .xlsx",
        ) from exc
    names = {member.filename for member in members}
    if "xl/workbook.xml" not in names:
        if "xl/workbook.bin" in names:
            what = "an Excel binary workbook (.xlsb)"
        elif "content.xml" in names and "mimetype" in names:
            what = "an OpenDocument file (.ods)"
        elif "word/document.xml" in names:
            what = "a Word document"
        else:
            what = "a zip archive"
        raise TableFileError(
            "not_a_workbook",
            f"this is {what}, not an Excel .xlsx workbook; save it as .xlsx or CSV",
        )
    unpacked = sum(member.file_size for member in members)
    limit = max(_MIN_UNPACKED_LIMIT, _UNPACKED_RATIO * max_bytes)
    if unpacked > limit:
        raise TableFileError(
            "too_large",
            f"the workbook unpacks to {_human_size(unpacked)}; the limit is {_human_size(limit)}",
            size=unpacked,
            limit=limit,
        )


def _pick_worksheet(workbook: Any, sheet: str | None) -> Any:
    worksheets = list(workbook.worksheets)
    if not worksheets:
        raise TableFileError("unknown_sheet", "the workbook has no worksheets")
    if sheet is None:
        return worksheets[0]
    titles = [ws.title for ws in worksheets]
    if sheet in titles:
        return worksheets[titles.index(sheet)]
    # People type sheet names from memory: accept a different case or stray spaces when
    # that still points at exactly one sheet.
    wanted = _loose_name(sheet)
    loose = [ws for ws in worksheets if _loose_name(ws.title) == wanted]
    if len(loose) == 1:
        return loose[0]
    listed = ", ".join(f'"{title}"' for title in titles)
    raise TableFileError(
        "unknown_sheet",
        f'there is no sheet named "{sheet}"; the sheets are {listed}',
        sheet=sheet,
        sheets=titles,
    )


def _loose_name(name: str) -> str:
    return " ".join(unicodedata.normalize("NFC", name).casefold().split())


def _cell_text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):  # before int: bool is an int subclass
        return "TRUE" if value else "FALSE"
    if isinstance(value, float):
        # Excel stores every number as a float: the answer "1" arrives as 1.0.
        return str(int(value)) if value.is_integer() else repr(value)
    if isinstance(value, dt.datetime):
        if value.time() == dt.time(0, 0):
            return value.date().isoformat()
        return value.isoformat(sep=" ")
    if isinstance(value, dt.date | dt.time):
        return value.isoformat()
    return _unify_newlines(str(value))


def _refuse_ole2(path: str | os.PathLike[str]) -> None:
    # A password-protected .xlsx is also an OLE2 file; telling the organiser to "save as
    # .xlsx" would send them in circles, so look for its EncryptedPackage stream.
    marker = "EncryptedPackage".encode("utf-16-le")
    encrypted = False
    with open(path, "rb") as raw:
        previous = b""
        while chunk := raw.read(_CHUNK_BYTES):
            if marker in previous[-len(marker) :] + chunk:
                encrypted = True
                break
            previous = chunk
    if encrypted:
        raise TableFileError(
            "encrypted_workbook",
            "this workbook is protected by a password; remove the password and save it again",
        )
    raise TableFileError("old_xls", "this is an old .xls workbook; save it as .xlsx or CSV")


def _human_size(size: int) -> str:
    if size >= 1024 * 1024:
        return f"{size / (1024 * 1024):.1f} MB"
    if size >= 1024:
        return f"{size / 1024:.1f} KB"
    return f"{size} bytes"

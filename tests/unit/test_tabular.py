"""Reading organisers' spreadsheets: encodings, delimiters, line numbers, XLSX, refusals."""

from __future__ import annotations

import codecs
import re
import tracemalloc
import unicodedata
import zipfile
from pathlib import Path

import pytest
from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill

from quizengine.tabular import SourceRow, TableFileError, open_table

DATA = Path(__file__).resolve().parent.parent / "data" / "banks"

_TONE_MARKS = "\u0300\u0301\u0303\u0309\u0323"


def excel_cp1258(text: str, *, all_tones_combining: bool = False) -> bytes:
    """Encode Vietnamese text as Excel/Windows writes Windows-1258.

    1258 has precomposed â ê ô ă ơ ư đ and a few toned vowels (á, à, é ...) but most toned
    vowels ("ấ", "ộ") only as a base letter followed by a combining tone mark. Windows uses
    the precomposed byte where one exists; some tools write every tone as a combining mark.
    """
    out = bytearray()
    for char in unicodedata.normalize("NFC", text):
        if not all_tones_combining:
            try:
                out += char.encode("cp1258")
                continue
            except UnicodeEncodeError:
                pass
        parts = unicodedata.normalize("NFD", char)
        base = unicodedata.normalize("NFC", "".join(c for c in parts if c not in _TONE_MARKS))
        tones = "".join(c for c in parts if c in _TONE_MARKS)
        out += (base + tones).encode("cp1258")
    return bytes(out)


def nfc(text: str) -> str:
    return unicodedata.normalize("NFC", text)


def read_all(path: Path, **kwargs: object) -> list[SourceRow]:
    with open_table(path, **kwargs) as table:  # type: ignore[arg-type]
        return list(table.rows())


def write(tmp_path: Path, name: str, data: bytes) -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


def refusal(path: Path, **kwargs: object) -> TableFileError:
    with pytest.raises(TableFileError) as caught:
        open_table(path, **kwargs)  # type: ignore[arg-type]
    assert str(caught.value).startswith("file: ")
    return caught.value


VIETNAMESE = (
    "Người lao động được nghỉ Tết Âm lịch mấy ngày?",
    "Công đoàn cơ sở; Ủy ban kiểm tra",
    "Đoàn viên ưu tú, xuất sắc",
    "Hỗ trợ, bảo vệ quyền lợi hợp pháp",
)


# ----------------------------------------------------------------- CSV encodings


@pytest.mark.parametrize("all_tones_combining", [False, True])
def test_windows_1258_semicolon_file_reads_as_the_same_vietnamese_text(
    tmp_path: Path, all_tones_combining: bool
) -> None:
    lines = ["Câu hỏi;Đáp án A;Đáp án B", ";".join(f'"{t}"' for t in VIETNAMESE[:3])]
    data = excel_cp1258("\r\n".join(lines) + "\r\n", all_tones_combining=all_tones_combining)
    with pytest.raises(UnicodeDecodeError):
        data.decode("utf-8")  # really a legacy file, as Excel on Vietnamese Windows saves it
    path = write(tmp_path, "bank.csv", data)

    with open_table(path) as table:
        assert (table.kind, table.location_word) == ("csv", "line")
        assert table.encoding == "cp1258"  # type: ignore[attr-defined]
        assert table.delimiter == ";"  # type: ignore[attr-defined]
        rows = list(table.rows())

    assert [row.number for row in rows] == [1, 2]
    # Cells keep 1258's combining tone marks; NFC makes them equal to typed UTF-8 text.
    assert tuple(nfc(c) for c in rows[0].cells) == ("Câu hỏi", "Đáp án A", "Đáp án B")
    assert tuple(nfc(c) for c in rows[1].cells) == VIETNAMESE[:3]


def test_windows_1258_is_chosen_even_with_a_stray_western_letter(tmp_path: Path) -> None:
    text = "Câu hỏi,Đáp án A,Đáp án B\r\nÔng François Müller là người nước nào?,Pháp,Đức\r\n"
    rows = read_all(write(tmp_path, "bank.csv", excel_cp1258(text)))
    assert nfc(rows[1].cells[0]) == "Ông François Müller là người nước nào?"


@pytest.mark.parametrize(
    "text",
    [
        "question;option_a\r\nQuelle île? Café crème à l'été, garçon;Genève\r\n",
        "question,A,B\r\nWhat’s “this” – a test? Señor Müller’s café,Yes,No\r\n",
        "question,A\r\nNão há informações sobre a situação? Informação,São Paulo\r\n",
        "question,A\r\nPerò la città è così bella; Sì, più tardi,Sì\r\n",
        "question,A\r\nŠkoda žije,Ano\r\n",
    ],
    ids=["french", "english-typography", "portuguese", "italian", "czech-names"],
)
def test_windows_1252_western_text_is_not_mistaken_for_vietnamese(
    tmp_path: Path, text: str
) -> None:
    path = write(tmp_path, "bank.csv", text.encode("cp1252"))
    with open_table(path) as table:
        assert table.encoding == "cp1252"  # type: ignore[attr-defined]
        rows = list(table.rows())
    assert "\r\n".join(table.delimiter.join(r.cells) for r in rows) + "\r\n" == text  # type: ignore[attr-defined]


def test_utf8_with_bom_loses_the_bom_and_sniffs_commas(tmp_path: Path) -> None:
    text = 'Câu hỏi,Đáp án A,Đáp án B\r\n"Có 2 câu, một dấu phẩy",Có,Không\r\n'
    path = write(tmp_path, "bank.csv", codecs.BOM_UTF8 + text.encode("utf-8"))
    with open_table(path) as table:
        assert table.delimiter == ","  # type: ignore[attr-defined]
        rows = list(table.rows())
    assert rows[0].cells == ("Câu hỏi", "Đáp án A", "Đáp án B")
    assert rows[1] == SourceRow(2, ("Có 2 câu, một dấu phẩy", "Có", "Không"))


def test_utf8_without_bom_tab_delimited_with_commas_in_the_prose(tmp_path: Path) -> None:
    lines = [
        "Câu hỏi\tA\tB\tĐáp án",
        "Theo luật, ai được nghỉ, và bao lâu?\tNgười lao động, đoàn viên\tKhông ai\tA",
        "Câu hỏi, thứ hai\tCó\tKhông\tB",
    ]
    path = write(tmp_path, "bank.txt", ("\n".join(lines) + "\n").encode("utf-8"))
    rows = read_all(path)
    assert [row.cells for row in rows] == [tuple(line.split("\t")) for line in lines]


def test_utf16_unicode_text_export_from_excel_is_read(tmp_path: Path) -> None:
    text = "Câu hỏi\tĐáp án A\r\nĐoàn viên ưu tú\tCó\r\n"
    path = write(tmp_path, "bank.txt", text.encode("utf-16"))  # with BOM, as Excel writes
    rows = read_all(path)
    assert [row.cells for row in rows] == [("Câu hỏi", "Đáp án A"), ("Đoàn viên ưu tú", "Có")]


def test_utf8_is_decided_on_the_whole_file_not_just_the_start(tmp_path: Path) -> None:
    # 100 KB of pure ASCII, then one Windows-1258 line: strict UTF-8 on a sample would pass.
    ascii_part = "question,A\r\n" + "Plain question,Yes\r\n" * 6000
    data = ascii_part.encode("ascii") + excel_cp1258("Đoàn viên,Có\r\n")
    rows = read_all(write(tmp_path, "bank.csv", data))
    assert nfc(rows[-1].cells[0]) == "Đoàn viên"


def test_a_multibyte_character_across_the_sniffing_boundary_is_still_utf8(
    tmp_path: Path,
) -> None:
    # Put a 3-byte "ộ" right across the 64 KiB boundary.
    prefix = "question,A\n" + "x" * (64 * 1024 - len("question,A\n") - 1)
    data = (prefix + "ộ,B\n").encode("utf-8")
    with open_table(write(tmp_path, "bank.csv", data)) as table:
        assert table.encoding == "utf-8"  # type: ignore[attr-defined]
        assert list(table.rows())[-1].cells[0].endswith("xộ")


# ----------------------------------------------------------------- CSV structure


def test_quoted_cells_with_line_breaks_keep_each_record_on_its_first_line(
    tmp_path: Path,
) -> None:
    text = (
        "Câu hỏi;A;B\r\n"
        '"Dòng một\r\ndòng hai\r\ndòng ba";x;z\r\n'
        "Câu tiếp theo;1;2\r\n"
        '"Cuối\ncùng";"3\r4";4\r\n'
        "Sau cùng;5;6\r\n"
    )
    rows = read_all(write(tmp_path, "bank.csv", text.encode("utf-8")))
    # A lone \r is a line break to editors too, so it counts as a line.
    assert [row.number for row in rows] == [1, 2, 5, 6, 9]
    assert rows[1].cells == ("Dòng một\ndòng hai\ndòng ba", "x", "z")  # no \r survives
    assert rows[3].cells == ("Cuối\ncùng", "3\n4", "4")


def test_old_mac_line_endings_count_as_lines(tmp_path: Path) -> None:
    rows = read_all(write(tmp_path, "bank.csv", b"a,b\rc,d\re,f\r"))
    assert [(row.number, row.cells) for row in rows] == [
        (1, ("a", "b")),
        (2, ("c", "d")),
        (3, ("e", "f")),
    ]


def test_title_and_blank_rows_are_yielded_not_skipped(tmp_path: Path) -> None:
    text = "NGÂN HÀNG CÂU HỎI;;\r\n;;\r\n\r\nCâu hỏi;A;B\r\n"
    rows = read_all(write(tmp_path, "bank.csv", text.encode("utf-8")))
    assert [row.number for row in rows] == [1, 2, 3, 4]
    assert rows[0].cells == ("NGÂN HÀNG CÂU HỎI", "", "")
    assert all(cell == "" for cell in rows[1].cells + rows[2].cells)


def test_semicolons_win_over_commas_in_vietnamese_prose(tmp_path: Path) -> None:
    text = (
        "NGÂN HÀNG CÂU HỎI;;;\r\n"
        "Câu hỏi;A;B;Đáp án\r\n"
        "Theo luật, ai được nghỉ?;Có, được;Không;A\r\n"
        "Ai, khi nào, ở đâu?;Một;Hai, ba;B\r\n"
    )
    with open_table(write(tmp_path, "bank.csv", text.encode("utf-8"))) as table:
        assert table.delimiter == ";"  # type: ignore[attr-defined]


def test_excel_sep_directive_sets_the_delimiter_and_is_not_a_row(tmp_path: Path) -> None:
    rows = read_all(write(tmp_path, "bank.csv", b"sep=;\r\na;b,c\r\nd;e\r\n"))
    assert [(row.number, row.cells) for row in rows] == [(2, ("a", "b,c")), (3, ("d", "e"))]


def test_rows_can_be_read_twice(tmp_path: Path) -> None:
    path = write(tmp_path, "bank.csv", codecs.BOM_UTF8 + "Câu hỏi,A\r\nx,y\r\n".encode())
    with open_table(path) as table:
        first = list(table.rows())
        assert list(table.rows()) == first
        assert first[0].cells[0] == "Câu hỏi"


def test_rows_stream_without_holding_the_file_in_memory(tmp_path: Path) -> None:
    line = "Người lao động được nghỉ bao nhiêu ngày?,Năm ngày,Sáu ngày,A\r\n"
    path = write(tmp_path, "big.csv", ("Câu hỏi,A,B,Đáp án\r\n" + line * 40_000).encode())
    assert path.stat().st_size > 3_000_000
    tracemalloc.start()
    try:
        with open_table(path) as table:
            count = sum(1 for _ in table.rows())
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert count == 40_001
    # What remains is the fixed cost of sniffing (64 KB samples), not a copy of the file.
    assert peak < 1_000_000


def test_an_unclosed_quote_becomes_a_file_error_naming_the_line(tmp_path: Path) -> None:
    text = 'Câu hỏi,A\r\nx,y\r\n"never closed,z\r\n' + "more,text\r\n" * 20_000
    with (
        open_table(write(tmp_path, "bank.csv", text.encode())) as table,
        pytest.raises(TableFileError) as caught,
    ):
        list(table.rows())
    assert str(caught.value).startswith("file: cannot read the CSV text from line 3")


# ----------------------------------------------------------------- XLSX


def make_workbook(path: Path) -> None:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = "Đề 1"
    sheet.append(["NGÂN HÀNG CÂU HỎI THI TÌM HIỂU LUẬT CÔNG ĐOÀN"])
    sheet.merge_cells("A1:F1")
    sheet["A1"].font = Font(bold=True, size=14, color="C00000")
    sheet["A1"].fill = PatternFill("solid", fgColor="FFF2CC")
    sheet["A1"].alignment = Alignment(horizontal="center")
    sheet.append([])
    sheet.append(["STT", "Câu hỏi", "Đáp án A", "Đáp án B", "Đáp án đúng", "Điểm"])
    sheet.append([1, "Đoàn phí\r\nbao nhiêu?", "1%", "2%", 1, 0.5])
    sheet.append([2.0, "Ngày thành lập?", None, True, "A", 10.0])
    other = book.create_sheet("Đề 2")
    other.append(["Câu hỏi", "A", "B", "Đáp án đúng"])
    book.save(path)


def test_xlsx_cells_become_text_with_sheet_row_numbers(tmp_path: Path) -> None:
    path = tmp_path / "bank.xlsx"
    make_workbook(path)
    with open_table(path) as table:
        assert (table.kind, table.location_word) == ("xlsx", "row")
        rows = list(table.rows())
    assert rows[0].number == 1 and rows[0].cells[0].startswith("NGÂN HÀNG")
    assert rows[1].number == 2 and all(cell == "" for cell in rows[1].cells)
    assert rows[3] == SourceRow(4, ("1", "Đoàn phí\nbao nhiêu?", "1%", "2%", "1", "0.5"))
    assert rows[4] == SourceRow(5, ("2", "Ngày thành lập?", "", "TRUE", "A", "10"))


def test_xlsx_sheet_is_picked_by_name(tmp_path: Path) -> None:
    path = tmp_path / "bank.xlsx"
    make_workbook(path)
    assert read_all(path, sheet="Đề 2")[0].cells == ("Câu hỏi", "A", "B", "Đáp án đúng")
    # A name typed with a different case or stray spaces still finds the one sheet.
    assert read_all(path, sheet=" đề 2 ")[0].cells[0] == "Câu hỏi"


def test_an_unknown_sheet_name_lists_the_sheets(tmp_path: Path) -> None:
    path = tmp_path / "bank.xlsx"
    make_workbook(path)
    error = refusal(path, sheet="Sheet1")
    assert str(error) == 'file: there is no sheet named "Sheet1"; the sheets are "Đề 1", "Đề 2"'
    assert error.code == "unknown_sheet"


def test_an_xlsx_upload_is_recognised_by_content_whatever_its_name(tmp_path: Path) -> None:
    path = tmp_path / "upload.tmp"
    make_workbook(path)
    with open_table(path) as table:
        assert table.kind == "xlsx"


def test_a_workbook_with_a_wrong_declared_size_is_read_to_its_last_row(tmp_path: Path) -> None:
    # Some generators write <dimension ref="A1"/>; openpyxl would then stop after row 1.
    good = tmp_path / "good.xlsx"
    make_workbook(good)
    lying = tmp_path / "lying.xlsx"
    with zipfile.ZipFile(good) as src, zipfile.ZipFile(lying, "w") as dst:
        for item in src.infolist():
            data = src.read(item)
            if item.filename == "xl/worksheets/sheet1.xml":
                # openpyxl writes '<dimension ref="A1:F5" />' or, with lxml, without the space.
                data, count = re.subn(
                    rb'<dimension ref="A1:F5"\s*/>', b'<dimension ref="A1"/>', data
                )
                assert count == 1
            dst.writestr(item, data)
    assert len(read_all(lying)) == 5


# ----------------------------------------------------------------- refusals


def test_an_empty_file_is_refused(tmp_path: Path) -> None:
    assert refusal(write(tmp_path, "e.csv", b"")).code == "empty_file"


def test_a_file_of_only_blank_space_and_a_bom_is_refused(tmp_path: Path) -> None:
    path = write(tmp_path, "e.csv", codecs.BOM_UTF8 + b" \r\n\t\r\n")
    assert refusal(path).code == "empty_file"


def test_a_binary_file_is_refused(tmp_path: Path) -> None:
    path = write(tmp_path, "photo.csv", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(200))
    assert str(refusal(path)) == "file: this is not a spreadsheet or CSV text file (binary data)"


@pytest.mark.parametrize(
    "content",
    [
        b"<!DOCTYPE html><html><body><table><tr><td>x</td></tr></table></body></html>",
        codecs.BOM_UTF8 + b'\r\n  <html xmlns:o="urn:schemas-microsoft-com:office:office">',
    ],
    ids=["doctype", "excel-web-export"],
)
def test_an_html_page_saved_as_a_spreadsheet_is_refused(tmp_path: Path, content: bytes) -> None:
    error = refusal(write(tmp_path, "export.xls", content))
    assert error.code == "html_file"
    assert "web page (HTML)" in str(error)


def test_an_old_xls_workbook_is_refused_with_advice(tmp_path: Path) -> None:
    path = write(tmp_path, "bank.xls", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(1024))
    assert str(refusal(path)) == "file: this is an old .xls workbook; save it as .xlsx or CSV"


def test_a_password_protected_workbook_is_not_called_an_old_xls(tmp_path: Path) -> None:
    content = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(70_000)
    content += "EncryptedPackage".encode("utf-16-le") + bytes(100)
    assert refusal(write(tmp_path, "bank.xlsx", content)).code == "encrypted_workbook"


def test_a_zip_that_is_not_a_workbook_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "report.docx"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("word/document.xml", "<w:document/>")
    error = refusal(path)
    assert error.code == "not_a_workbook"
    assert "Word document" in str(error)


def test_a_damaged_zip_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "bank.xlsx"
    make_workbook(path)
    truncated = write(tmp_path, "cut.xlsx", path.read_bytes()[:2000])
    assert refusal(truncated).code == "not_a_workbook"


def test_a_file_over_the_size_limit_is_refused_before_reading(tmp_path: Path) -> None:
    path = write(tmp_path, "big.csv", b"question,A\r\n" * 100)
    error = refusal(path, max_bytes=1000)
    assert error.code == "too_large"
    assert str(error) == "file: the file is 1.2 KB; the limit is 1000 bytes"


def test_bytes_no_windows_code_page_defines_are_refused(tmp_path: Path) -> None:
    path = write(tmp_path, "bank.csv", b"question,A\r\nabc\x81\x8d,def\r\n")
    assert refusal(path).code == "unknown_encoding"


def test_a_missing_file_is_a_file_error(tmp_path: Path) -> None:
    assert refusal(tmp_path / "nope.csv").code == "unreadable"


def test_committed_fixtures_are_still_in_their_original_encodings() -> None:
    # Guard against an editor "helpfully" re-saving a fixture as UTF-8 or LF.
    legacy = (DATA / "vn_cp1258_semicolon.csv").read_bytes()
    with pytest.raises(UnicodeDecodeError):
        legacy.decode("utf-8")
    assert b"\r\n" in legacy
    assert (DATA / "vn_utf8_bom_comma.csv").read_bytes().startswith(codecs.BOM_UTF8)

"""The question-bank file format as organisers meet it: real files in, questions or problems out."""

from __future__ import annotations

import itertools
import unicodedata
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill

from quizengine.banks.fileformat import (
    ParsedQuestion,
    Problem,
    parse_bank,
    question_match_key,
    read_bank_file,
    search_fold,
)
from quizengine.tabular import SourceRow

DATA = Path(__file__).resolve().parent.parent / "data" / "banks"
MOODLE = Path("/work/shared/realdata/moodle-qformat_csv")

_TONE_MARKS = "\u0300\u0301\u0303\u0309\u0323"


def excel_cp1258(text: str) -> bytes:
    """Encode as Excel on Vietnamese Windows saves CSV: Windows-1258, tones often combining.

    Python's cp1258 codec only knows the precomposed letters the code page has, so each
    toned vowel it lacks ("ấ", "ộ") is written as base letter + combining tone mark.
    """
    out = bytearray()
    for char in unicodedata.normalize("NFC", text):
        parts = unicodedata.normalize("NFD", char)
        base = unicodedata.normalize("NFC", "".join(c for c in parts if c not in _TONE_MARKS))
        out += (base + "".join(c for c in parts if c in _TONE_MARKS)).encode("cp1258")
    return bytes(out)


def read(path: Path, **kwargs: object) -> list[ParsedQuestion | Problem]:
    return list(read_bank_file(path, **kwargs))  # type: ignore[arg-type]


def questions(results: list[ParsedQuestion | Problem]) -> list[ParsedQuestion]:
    return [r for r in results if isinstance(r, ParsedQuestion)]


def problems(results: list[ParsedQuestion | Problem]) -> list[Problem]:
    return [r for r in results if isinstance(r, Problem)]


def messages(results: list[ParsedQuestion | Problem]) -> list[str]:
    return [str(p) for p in problems(results)]


def csv_file(tmp_path: Path, text: str, name: str = "bank.csv") -> Path:
    path = tmp_path / name
    path.write_bytes(text.encode("utf-8"))
    return path


class Rows:
    """An in-memory table, for rules that do not depend on the file type."""

    location_word = "line"

    def __init__(self, *rows: tuple[str, ...]) -> None:
        self._rows = rows

    def rows(self) -> Iterator[SourceRow]:
        for number, cells in enumerate(self._rows, start=1):
            yield SourceRow(number, cells)


HEADER = ("Câu hỏi", "A", "B", "C", "D", "Đáp án đúng")


def parse(*rows: tuple[str, ...]) -> list[ParsedQuestion | Problem]:
    return list(parse_bank(Rows(*rows)))


# ----------------------------------------------------------------- real-world files


def test_windows_1258_semicolon_file_imports_with_nfc_text(tmp_path: Path) -> None:
    typed = {
        "text": "Theo Luật Công đoàn, đoàn viên có quyền gì?",
        "a": "Yêu cầu công đoàn đại diện, bảo vệ quyền lợi hợp pháp",
        "b": "Được thông tin, thảo luận, đề xuất ý kiến",
        "c": "Không có quyền gì",
        "topic": "Quyền của đoàn viên",
        "explanation": "Đoàn viên được hưởng các quyền ấy theo Điều lệ.",
    }
    header = "Câu hỏi;Đáp án A;Đáp án B;Đáp án C;Đáp án đúng;Chủ đề;Độ khó;Giải thích"
    cells = [typed["text"], typed["a"], typed["b"], typed["c"], "A, B", typed["topic"]]
    record = ";".join([*cells, "Trung bình", typed["explanation"]])
    path = tmp_path / "ngan_hang.csv"
    path.write_bytes(excel_cp1258(f"{header}\r\n{record}\r\n"))

    [question] = read(path)

    assert question == ParsedQuestion(
        position=2,
        code=None,
        text=typed["text"],
        options=(typed["a"], typed["b"], typed["c"]),
        correct=(0, 1),
        topic=typed["topic"],
        difficulty="medium",
        explanation=typed["explanation"],
        legal_basis=None,
    )
    assert question.multi
    assert unicodedata.is_normalized("NFC", question.text)
    assert all(unicodedata.is_normalized("NFC", option) for option in question.options)


def test_committed_windows_1258_bank_with_title_row_and_every_column() -> None:
    results = read(DATA / "vn_cp1258_semicolon.csv")
    assert problems(results) == []
    first, second, third, fourth = questions(results)
    assert first == ParsedQuestion(
        position=4,
        code="LD-001",
        text="Theo Bộ luật Lao động năm 2019, người lao động được nghỉ Tết Âm lịch bao nhiêu ngày?",
        options=("03 ngày", "04 ngày", "05 ngày", "06 ngày"),
        correct=(2,),
        topic="Thời giờ nghỉ ngơi",
        difficulty="easy",
        explanation="Người lao động được nghỉ Tết Âm lịch 05 ngày.",
        legal_basis="Điều 112 Bộ luật Lao động năm 2019",
    )
    assert (second.position, second.options, second.difficulty) == (5, ("03", "05", "07"), "medium")
    assert (third.correct, third.difficulty, third.multi) == ((0, 1), "hard", True)
    # A quoted cell holding the delimiter and doubled quotes, and a lower-case answer.
    assert (fourth.text, fourth.correct) == ('Theo quy định; "đình công" là gì?', (0,))


def test_committed_utf8_bom_comma_bank_with_english_headers() -> None:
    results = read(DATA / "vn_utf8_bom_comma.csv")
    assert problems(results) == []
    assert [(q.code, q.difficulty, q.options[-1]) for q in questions(results)] == [
        ("TLD-01", "easy", "Trưởng ban"),
        ("TLD-02", "medium", "0,5%"),
    ]


def test_committed_tab_bank_with_headers_typed_without_diacritics() -> None:
    results = read(DATA / "vn_utf8_tab.txt")
    assert problems(results) == []
    assert [(q.correct, q.difficulty) for q in questions(results)] == [
        ((1,), "hard"),
        ((0,), "easy"),
    ]


def test_quoted_multiline_cells_keep_text_and_errors_point_at_the_first_line() -> None:
    results = read(DATA / "multiline_cells.csv")
    assert messages(results) == ["line 6: the correct answer is empty"]
    first, last = questions(results)
    assert first.text == (
        'Đọc đoạn sau:\n"Người lao động có quyền..."\nĐoạn trên trích từ văn bản nào?'
    )
    assert first.options[0] == "Bộ luật\nLao động"
    assert last.position == 8


def test_a_broken_file_reports_every_broken_row_with_its_line() -> None:
    results = read(DATA / "broken_rows.csv")
    assert messages(results) == [
        'line 1: unknown column "Ghi chú" ignored',
        "line 3: the question text is empty",
        "line 4: a question needs at least two options; this one has 1",
        "line 5: the correct answer is empty",
        'line 6: correct answer "X?" is not understood; use letters A-D or numbers 1-4',
        "line 7: correct answer A is given twice",
        "line 8: correct answer C points at an empty option",
        'line 9: unknown difficulty "rất khó" (use easy, medium, hard; dễ, trung bình, khó; '
        "or 1, 2, 3)",
        "line 10: option B is empty but C is not",
        "line 11: same question as line 2",
        'line 13: correct answer "5": there is no option 5; use letters A-D or numbers 1-4',
    ]
    assert [(p.position, p.code, p.severity) for p in problems(results)] == [
        (1, "unknown_column", "warning"),
        (3, "missing_question", "error"),
        (4, "too_few_options", "error"),
        (5, "missing_correct", "error"),
        (6, "bad_correct", "error"),
        (7, "repeated_correct", "error"),
        (8, "correct_points_at_empty", "error"),
        (9, "bad_difficulty", "error"),
        (10, "option_gap", "error"),
        (11, "duplicate_in_file", "error"),
        (13, "bad_correct", "error"),
    ]
    assert [q.position for q in questions(results)] == [2, 14]


def test_one_row_can_have_several_errors_and_all_are_reported() -> None:
    results = parse(HEADER, ("", "Có", "", "", "", "Z"))
    assert [(p.position, p.code) for p in problems(results)] == [
        (2, "missing_question"),
        (2, "too_few_options"),
        (2, "bad_correct"),
    ]


def test_problems_keep_the_message_apart_from_the_location_for_translation() -> None:
    [problem] = problems(parse(HEADER, ("Câu hỏi?", "Có", "Không", "", "", "A; A")))
    assert problem.position == 2
    assert problem.code == "repeated_correct"
    assert problem.message == "correct answer A is given twice"
    assert problem.params == {"answer": "A"}
    assert str(problem) == "line 2: correct answer A is given twice"


# ----------------------------------------------------------------- XLSX


def make_workbook(path: Path) -> None:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = "Hướng dẫn"
    sheet.append(["Điền câu hỏi vào sheet Câu hỏi"])
    bank = book.create_sheet("Câu hỏi")
    bank.append(["NGÂN HÀNG CÂU HỎI CUỘC THI TÌM HIỂU ĐIỀU LỆ CÔNG ĐOÀN VIỆT NAM"])
    bank.merge_cells("A1:H1")
    bank["A1"].font = Font(bold=True, size=16, color="1F4E79")
    bank["A1"].fill = PatternFill("solid", fgColor="DDEBF7")
    bank["A1"].alignment = Alignment(horizontal="center", vertical="center")
    bank.row_dimensions[1].height = 30
    bank.append([])
    bank.append(["STT", "Mã câu hỏi", "Nội dung câu hỏi", "Phương án A", "Phương án B",
                 "Phương án C", "Đáp án", "Độ khó"])  # fmt: skip
    bank.append([1, "DL-01", "Đại hội Công đoàn Việt Nam họp mấy năm một lần?",
                 "3 năm", "5 năm", "10 năm", "B", 2])  # fmt: skip
    bank.append([2, "DL-02", "Đoàn viên công đoàn có những quyền nào?",
                 "Được bầu cử", "Được ứng cử", "Không có quyền", "1, 2", "khó"])  # fmt: skip
    bank.append([3, "DL-03", "Một câu có đáp án sai?", "Có", "Không", None, 3, None])
    bank.append([4, "DL-01", "Một câu trùng mã?", "Có", "Không", None, "A", "rất dễ"])
    book.save(path)


def test_xlsx_with_a_merged_title_row_reports_sheet_row_numbers(tmp_path: Path) -> None:
    path = tmp_path / "ngan_hang.xlsx"
    make_workbook(path)

    results = read(path, sheet="Câu hỏi")

    first, second = questions(results)
    assert (first.position, first.code, first.correct, first.difficulty) == (
        4,
        "DL-01",
        (1,),
        "medium",
    )
    assert (second.correct, second.difficulty, second.multi) == ((0, 1), "hard", True)
    assert messages(results) == [
        "row 6: correct answer 3 (option C) points at an empty option",
        'row 7: unknown difficulty "rất dễ" (use easy, medium, hard; dễ, trung bình, khó; '
        "or 1, 2, 3)",
        'row 7: same code "DL-01" as row 4',
    ]


def test_xlsx_reads_the_first_sheet_unless_told_otherwise(tmp_path: Path) -> None:
    path = tmp_path / "ngan_hang.xlsx"
    make_workbook(path)
    [problem] = read(path)
    assert problem.position is None
    assert problem.code == "no_header"


def test_xlsx_with_an_unknown_sheet_name_is_a_file_problem(tmp_path: Path) -> None:
    path = tmp_path / "ngan_hang.xlsx"
    make_workbook(path)
    [problem] = read(path, sheet="Sheet1")
    assert str(problem) == (
        'file: there is no sheet named "Sheet1"; the sheets are "Hướng dẫn", "Câu hỏi"'
    )


# ----------------------------------------------------------------- header detection


def test_header_is_found_below_a_title_and_blank_rows(tmp_path: Path) -> None:
    text = (
        "NGÂN HÀNG CÂU HỎI THI TÌM HIỂU PHÁP LUẬT,,,\r\n"
        "(Kèm theo Kế hoạch số 12/KH-LĐLĐ),,,\r\n"
        ",,,\r\n"
        "\r\n"
        "Câu hỏi,A,B,Đáp án đúng\r\n"
        "Câu một?,Có,Không,A\r\n"
    )
    [question] = read(csv_file(tmp_path, text))
    assert isinstance(question, ParsedQuestion) and question.position == 6


@pytest.mark.parametrize(
    "header",
    [
        ("question", "option_a", "option_b", "correct", "difficulty"),
        ("QUESTION", "Option-A", "option  b", "Correct", "Difficulty"),
        ("Câu hỏi", "Đáp án A", "Đáp án B", "Đáp án đúng", "Độ khó"),
        ("Cau hoi", "Dap an A", "Dap an B", "Dap an dung", "Do kho"),
        ("  CÂU HỎI ", "Phương án A", "Phuong_an_B", "ĐÁP ÁN", "độ khó"),
        ("Nội dung câu hỏi", "a", "b", "đáp án", "DO KHO"),
    ],
    ids=["english", "english-variants", "vietnamese", "no-diacritics", "shouting", "short"],
)
def test_header_names_in_either_language_with_or_without_diacritics(
    header: tuple[str, ...],
) -> None:
    [question] = parse(header, ("Câu hỏi?", "Có", "Không", "b", "dễ"))
    assert isinstance(question, ParsedQuestion)
    assert (question.options, question.correct, question.difficulty) == (
        ("Có", "Không"),
        (1,),
        "easy",
    )


def test_optional_columns_are_read_and_stt_is_ignored_without_warning() -> None:
    header = ("STT", "Mã câu hỏi", "Câu hỏi", "A", "B", "Đáp án đúng", "Chủ đề",
              "Giải thích", "Căn cứ")  # fmt: skip
    row = ("1", " Q-1 ", "Câu hỏi?", "Có", "Không", "A", "Pháp luật", "Vì thế.", "Điều 5")
    [question] = parse(header, row)
    assert question == ParsedQuestion(
        position=2,
        code="Q-1",
        text="Câu hỏi?",
        options=("Có", "Không"),
        correct=(0,),
        topic="Pháp luật",
        difficulty=None,
        explanation="Vì thế.",
        legal_basis="Điều 5",
    )


def test_legal_basis_column_has_english_and_vietnamese_names() -> None:
    for title in ("legal_basis", "Căn cứ pháp lý", "Can cu"):
        [question] = parse(
            ("question", "A", "B", "correct", title), ("Q?", "x", "y", "A", "Điều 1")
        )
        assert isinstance(question, ParsedQuestion) and question.legal_basis == "Điều 1"


def test_an_unknown_column_is_only_a_warning() -> None:
    results = parse((*HEADER, "Ghi chú"), ("Câu hỏi?", "Có", "Không", "", "", "A", "xem lại"))
    [warning] = problems(results)
    assert (warning.severity, warning.code, str(warning)) == (
        "warning",
        "unknown_column",
        'line 1: unknown column "Ghi chú" ignored',
    )
    assert len(questions(results)) == 1


def test_no_header_in_the_first_ten_rows_is_a_file_problem() -> None:
    rows = [("Tiêu đề",)] * 10 + [HEADER, ("Câu hỏi?", "Có", "Không", "", "", "A")]
    [problem] = parse(*rows)
    assert str(problem) == (
        "file: no header row with a question column and a correct-answer column in the first "
        '10 lines (expected e.g. "question" (Câu hỏi) and "correct" (Đáp án đúng))'
    )


def test_a_header_without_a_correct_column_names_what_is_missing() -> None:
    [problem] = parse(("Câu hỏi", "A", "B", "C"), ("Câu hỏi?", "Có", "Không", ""))
    assert problem.code == "missing_column"
    assert str(problem) == (
        'file: missing column "correct" (Đáp án đúng): the header on line 1 has only '
        "question, A, B, C"
    )


def test_option_columns_must_start_at_a_and_have_no_gaps() -> None:
    [problem] = problems(
        parse(("Câu hỏi", "A", "B", "D", "Đáp án đúng"), ("Q?", "x", "y", "z", "A"))
    )
    assert (problem.code, problem.params["columns"]) == ("missing_column", ["C"])
    [problem] = problems(parse(("Câu hỏi", "A", "Đáp án đúng"), ("Q?", "x", "A")))
    assert (problem.code, problem.params["columns"]) == ("missing_column", ["B"])


def test_a_column_given_twice_is_a_file_problem() -> None:
    [problem] = parse(("Câu hỏi", "A", "Đáp án A", "B", "Đáp án đúng"), ("Q?", "x", "x", "y", "A"))
    assert str(problem) == 'file: the header on line 1 has two A columns ("A" and "Đáp án A")'


def test_a_header_with_no_questions_below_it_is_a_file_problem() -> None:
    [problem] = parse(HEADER, ("", "", "", "", "", ""))
    assert str(problem) == "file: there are no questions below the header on line 1"


@pytest.mark.skipif(not MOODLE.is_dir(), reason=f"third-party sample data not present at {MOODLE}")
@pytest.mark.parametrize("name", ["sample.csv", "extended_sample.csv"])
def test_moodle_csv_plugin_files_get_a_clear_missing_columns_problem(name: str) -> None:
    # Header "questionname,questiontext,A,B,C,D,Answer 1,Answer 2": options but neither a
    # question column nor a correct-answer column of ours.
    [problem] = problems(read(MOODLE / name))
    assert problem.position is None
    assert problem.code == "missing_column"
    assert problem.params["columns"] == ["question", "correct"]
    assert str(problem) == (
        'file: missing columns "question" (Câu hỏi) and "correct" (Đáp án đúng): '
        "the header on line 1 has only A, B, C, D"
    )


# ----------------------------------------------------------------- rows


def test_blank_rows_and_rows_with_only_a_row_number_are_skipped() -> None:
    results = parse(
        ("STT", *HEADER),
        ("", "", "", "", "", "", ""),
        ("1", "Câu hỏi?", "Có", "Không", "", "", "A"),
        (),
        ("2", "", "", "", "", "", ""),  # a template numbered further than it was filled
        ("3", "   ", "\n", "", "", "", ""),
    )
    assert [r.position for r in results] == [3]


def test_text_is_trimmed_nfc_and_line_breaks_are_unified() -> None:
    decomposed = unicodedata.normalize("NFD", "  Người lao động\r\nđược nghỉ?  ")
    [question] = parse(HEADER, (decomposed, " Có\r", "Không", "", "", " a "))
    assert isinstance(question, ParsedQuestion)
    assert question.text == "Người lao động\nđược nghỉ?"
    assert question.options == ("Có", "Không")


def test_trailing_empty_options_are_dropped_but_a_gap_is_an_error() -> None:
    [question] = parse(HEADER, ("Q?", "x", "y", "z", "", "C"))
    assert isinstance(question, ParsedQuestion) and question.options == ("x", "y", "z")
    assert messages(parse(HEADER, ("Q?", "x", "", "", "w", "A"))) == [
        "line 2: option B is empty but D is not",
        "line 2: option C is empty but D is not",
    ]


@pytest.mark.parametrize(
    ("written", "correct"),
    [
        ("A", (0,)),
        ("c", (2,)),
        ("A,C", (0, 2)),
        ("A; C", (0, 2)),
        ("a c", (0, 2)),
        ("AC", (0, 2)),
        ("C, A", (0, 2)),
        ("1", (0,)),
        ("1, 3", (0, 2)),
        ("4;2", (1, 3)),
    ],
)
def test_correct_answers_as_letters_or_kahoot_style_numbers(
    written: str, correct: tuple[int, ...]
) -> None:
    [question] = parse(HEADER, ("Q?", "w", "x", "y", "z", written))
    assert isinstance(question, ParsedQuestion)
    assert question.correct == correct
    assert question.multi == (len(correct) > 1)


@pytest.mark.parametrize(
    ("written", "code"),
    [
        ("E", "bad_correct"),
        ("0", "bad_correct"),
        ("A, 2", "bad_correct"),
        ("Đúng", "bad_correct"),
        ("A, a", "repeated_correct"),
        ("1,1", "repeated_correct"),
        ("D", "correct_points_at_empty"),
    ],
)
def test_correct_answers_that_cannot_be_right(written: str, code: str) -> None:
    [problem] = parse(HEADER, ("Q?", "w", "x", "y", "", written))
    assert (problem.position, problem.code) == (2, code)


@pytest.mark.parametrize(
    ("written", "difficulty"),
    [
        ("easy", "easy"),
        ("Dễ", "easy"),
        ("1", "easy"),
        ("MEDIUM", "medium"),
        ("Trung bình", "medium"),
        ("bình thường", "medium"),
        ("2", "medium"),
        ("hard", "hard"),
        ("khó", "hard"),
        ("3", "hard"),
        ("", None),
    ],
)
def test_difficulty_words_in_either_language(written: str, difficulty: str | None) -> None:
    [question] = parse((*HEADER, "Độ khó"), ("Q?", "x", "y", "", "", "A", written))
    assert isinstance(question, ParsedQuestion) and question.difficulty == difficulty


def test_the_same_question_twice_names_the_first_line() -> None:
    results = parse(
        ("Mã câu hỏi", *HEADER),
        ("Q1", "Người lao động được nghỉ mấy ngày?", "1", "2", "", "", "A"),
        ("Q2", "Người  lao động ĐƯỢC nghỉ mấy ngày? ", "3", "4", "", "", "A"),
        ("q1", "Một câu khác hẳn?", "5", "6", "", "", "A"),
        ("Q4", "Bán hàng là gì?", "x", "y", "", "", "A"),
        ("Q5", "Bạn hàng là gì?", "x", "y", "", "", "A"),  # a tone mark apart: different
    )
    assert messages(results) == [
        "line 3: same question as line 2",
        'line 4: same code "q1" as line 2',
    ]
    assert problems(results)[0].params == {"first_position": 2, "by": "text"}
    assert [r.position for r in questions(results)] == [2, 5, 6]


def test_parsing_streams_results_before_the_table_ends() -> None:
    class Endless:
        location_word = "row"

        def rows(self) -> Iterator[SourceRow]:
            yield SourceRow(1, HEADER)
            for number in itertools.count(2):
                yield SourceRow(number, (f"Câu {number}?", "Có", "Không", "", "", "A"))

    first_three = list(itertools.islice(parse_bank(Endless()), 3))
    assert [q.position for q in first_three] == [2, 3, 4]


# ----------------------------------------------------------------- whole-file problems


@pytest.mark.parametrize(
    ("content", "code"),
    [
        (b"", "empty_file"),
        (b"\xef\xbb\xbf  \r\n", "empty_file"),
        (b"GIF89a\x01\x00\x01\x00\x00\x00\x00;", "binary_file"),
        (b"<!DOCTYPE html>\n<html><table><tr><td>Q</td></tr></table></html>", "html_file"),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(512), "old_xls"),
        (b"PK\x03\x04 definitely not a real zip", "not_a_workbook"),
    ],
    ids=["empty", "blank", "binary", "html", "xls", "bad-zip"],
)
def test_a_file_that_is_not_a_bank_gives_one_file_problem(
    tmp_path: Path, content: bytes, code: str
) -> None:
    path = tmp_path / "upload.xlsx"
    path.write_bytes(content)
    [problem] = problems(read(path))
    assert (problem.position, problem.code, problem.severity) == (None, code, "error")
    assert str(problem).startswith("file: ")


def test_a_file_over_the_size_limit_gives_one_file_problem(tmp_path: Path) -> None:
    path = csv_file(tmp_path, "Câu hỏi,A,B,Đáp án\r\n" + "Q?,x,y,A\r\n" * 200)
    [problem] = problems(read(path, max_bytes=1024))
    assert (problem.code, problem.params["limit"]) == ("too_large", 1024)
    assert str(problem) == "file: the file is 2.0 KB; the limit is 1.0 KB"


def test_a_csv_that_breaks_midway_ends_with_a_file_problem(tmp_path: Path) -> None:
    text = 'Câu hỏi,A,B,Đáp án\r\nQ?,x,y,A\r\n"open quote,x,y,A\r\n' + "filler,x,y,A\r\n" * 20_000
    results = read(csv_file(tmp_path, text))
    assert isinstance(results[0], ParsedQuestion)
    assert [p.code for p in problems(results)] == ["bad_csv"]
    assert str(results[-1]).startswith("file: cannot read the CSV text from line 3")


def test_read_bank_file_closes_the_file_when_abandoned(tmp_path: Path) -> None:
    path = csv_file(tmp_path, "Câu hỏi,A,B,Đáp án\r\nQ1?,x,y,A\r\nQ2?,x,y,B\r\n")
    results = read_bank_file(path)
    assert isinstance(next(results), ParsedQuestion)
    results.close()  # must not raise, and releases the file
    assert list(results) == []


# ----------------------------------------------------------------- match keys

VIETNAMESE_LETTERS = (
    "".join(
        unicodedata.normalize("NFC", vowel + tone)
        for vowel in "aăâeêioôơuưyAĂÂEÊIOÔƠUƯY"
        for tone in ("", "\u0300", "\u0301", "\u0303", "\u0309", "\u0323")
    )
    + "đĐbcdghklmnpqrstvxBCDGHKLMNPQRSTVX"
)


def test_search_fold_drops_diacritics_including_the_stroke_of_d() -> None:
    assert search_fold("  Đáp   án ĐÚNG ") == "dap an dung"
    assert search_fold("Nội dung câu hỏi") == "noi dung cau hoi"


def test_match_key_keeps_tone_marks_but_not_case_or_spacing() -> None:
    assert question_match_key("  Bạn  LÀ ai? ") == question_match_key("bạn là ai?")
    assert question_match_key("bạn là ai?") != question_match_key("bán là ai?")


@given(st.text())
def test_match_key_is_idempotent(text: str) -> None:
    key = question_match_key(text)
    assert question_match_key(key) == key


@given(st.text())
def test_match_key_is_the_same_for_nfc_and_nfd_input(text: str) -> None:
    nfd = unicodedata.normalize("NFD", text)
    assert question_match_key(nfd) == question_match_key(unicodedata.normalize("NFC", text))


@given(st.text(alphabet=VIETNAMESE_LETTERS + " \t\n,.?", min_size=1))
def test_match_key_of_vietnamese_text_survives_decomposition(text: str) -> None:
    assert question_match_key(unicodedata.normalize("NFD", text)) == question_match_key(text)


@given(st.text(alphabet=VIETNAMESE_LETTERS + " ", min_size=1))
def test_search_fold_of_vietnamese_text_is_plain_ascii(text: str) -> None:
    folded = search_fold(text)
    assert folded.isascii()
    assert folded == search_fold(unicodedata.normalize("NFD", text))

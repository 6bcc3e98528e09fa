"""Importing bank files into the database: counts, re-import rules, all-or-nothing.

Files are made the way Excel makes them (Windows-1258 with ";", UTF-8 with BOM, XLSX with a
merged, styled title row). Run on PostgreSQL with TEST_DATABASE_URL (see COMMON.md); the
same tests run on SQLite without it.
"""

from __future__ import annotations

import csv
import io
import json
import unicodedata
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from quizengine.banks.fileformat import search_fold
from quizengine.banks.services import BATCH_SIZE, ImportRejected, ImportReport, import_bank
from quizengine.clock import FrozenClock
from quizengine.models import Bank, Question, QuestionVersion
from tests.unit.test_bank_fileformat import excel_cp1258

DATA = Path(__file__).resolve().parent.parent / "data" / "banks"
DRIVING = Path("/work/shared/realdata/joshrye-sathachlythuyet/questions.json")

EN_HEADER = ["code", "question", "option_a", "option_b", "option_c", "option_d", "correct"]
VN_HEADER = [
    "STT",
    "Mã câu hỏi",
    "Câu hỏi",
    "Đáp án A",
    "Đáp án B",
    "Đáp án C",
    "Đáp án D",
    "Đáp án đúng",
    "Chủ đề",
    "Độ khó",
    "Giải thích",
    "Căn cứ pháp lý",
]


@pytest.fixture(autouse=True)
def _app_context(app: Flask) -> Iterator[None]:
    with app.app_context():
        yield


def csv_bytes(rows: list[list[str]], *, delimiter: str = ",") -> str:
    out = io.StringIO()
    csv.writer(out, delimiter=delimiter, lineterminator="\r\n").writerows(rows)
    return out.getvalue()


def write_csv(
    tmp_path: Path,
    rows: list[list[str]],
    *,
    name: str = "bank.csv",
    excel: str = "utf-8-sig",
) -> Path:
    """``excel``: "utf-8-sig" (Excel's "CSV UTF-8", commas) or "cp1258" (";", Vietnamese)."""
    path = tmp_path / name
    if excel == "cp1258":
        path.write_bytes(excel_cp1258(csv_bytes(rows, delimiter=";")))
    else:
        path.write_bytes(csv_bytes(rows).encode("utf-8-sig"))
    return path


def run(
    session: Session, path: Path, clock: FrozenClock, slug: str = "luat", **kw: Any
) -> ImportReport:
    """Import like the CLI does: commit on success, roll back on rejection."""
    try:
        report = import_bank(session, path, slug=slug, clock=clock, **kw)
    except ImportRejected:
        session.rollback()
        raise
    session.commit()
    return report


def snapshot(session: Session) -> list[tuple[Any, ...]]:
    """Everything an import could change, to compare before and after."""
    session.expire_all()
    questions = session.execute(
        select(
            Question.id,
            Question.bank_id,
            Question.code,
            Question.match_key,
            Question.topic,
            Question.difficulty,
            Question.active,
            Question.current_version_id,
            Question.updated_at,
        ).order_by(Question.id)
    ).all()
    versions = session.execute(
        select(
            QuestionVersion.id,
            QuestionVersion.question_id,
            QuestionVersion.number,
            QuestionVersion.text,
            QuestionVersion.options,
            QuestionVersion.correct,
            QuestionVersion.explanation,
            QuestionVersion.legal_basis,
        ).order_by(QuestionVersion.id)
    ).all()
    banks = session.execute(select(Bank.id, Bank.slug, Bank.title).order_by(Bank.id)).all()
    return [tuple(r) for r in (*banks, *questions, *versions)]


def current(
    session: Session, bank_slug: str = "luat"
) -> dict[str, tuple[Question, QuestionVersion]]:
    """The bank's questions by code (or text when there is none), with their current version."""
    session.expire_all()
    rows = session.execute(
        select(Question, QuestionVersion)
        .join(QuestionVersion, QuestionVersion.id == Question.current_version_id)
        .join(Bank, Bank.id == Question.bank_id)
        .where(Bank.slug == bank_slug)
    ).all()
    return {(q.code or v.text): (q, v) for q, v in rows}


LABOUR_ROWS = [
    ["1", "LD-01", "Người lao động được nghỉ Tết Âm lịch mấy ngày?", "03 ngày", "04 ngày",
     "05 ngày", "06 ngày", "C", "Thời giờ nghỉ ngơi", "Dễ",
     "Nghỉ Tết Âm lịch 05 ngày.", "Điều 112 Bộ luật Lao động 2019"],
    ["2", "LD-02", "Thời giờ làm việc bình thường không quá bao nhiêu giờ trong 01 ngày?",
     "08 giờ", "10 giờ", "12 giờ", "", "A", "Thời giờ làm việc", "Trung bình", "", ""],
    ["3", "", "Đoàn viên công đoàn có những quyền nào?", "Được bầu cử", "Được ứng cử",
     "Không có quyền", "", "A, B", "Quyền của đoàn viên", "Khó", "", ""],
]  # fmt: skip


def labour_file(tmp_path: Path, rows: list[list[str]] | None = None, **kw: Any) -> Path:
    title = ["NGÂN HÀNG CÂU HỎI TÌM HIỂU PHÁP LUẬT LAO ĐỘNG", *[""] * 11]
    return write_csv(
        tmp_path, [title, [""] * 12, VN_HEADER, *(rows or LABOUR_ROWS)], excel="cp1258", **kw
    )


# ----------------------------------------------------------------- first import


def test_windows_1258_semicolon_file_imports_text_equal_to_typed_utf8(
    db_session: Session, clock: FrozenClock, tmp_path: Path
) -> None:
    path = labour_file(tmp_path)
    assert b";" in path.read_bytes() and b"\xcc" in path.read_bytes()  # combining tones

    report = run(db_session, path, clock, title="Pháp luật lao động")

    assert report.summary() == "imported 3, updated 0, unchanged 0"
    assert report.location_word == "line"
    bank = db_session.scalar(select(Bank).where(Bank.slug == "luat"))
    assert bank is not None and bank.title == "Pháp luật lao động"
    questions = current(db_session)
    question, version = questions["LD-01"]
    assert version.text == "Người lao động được nghỉ Tết Âm lịch mấy ngày?"
    assert unicodedata.is_normalized("NFC", version.text)
    assert version.options == ["03 ngày", "04 ngày", "05 ngày", "06 ngày"]
    assert version.correct == [2]
    assert (question.topic, question.difficulty) == ("Thời giờ nghỉ ngơi", "easy")
    assert version.legal_basis == "Điều 112 Bộ luật Lao động 2019"
    assert question.search_text == search_fold(version.text)
    assert "nghi tet am lich" in question.search_text
    assert version.number == 1 and question.active
    _q, multi = questions["Đoàn viên công đoàn có những quyền nào?"]
    assert multi.correct == [0, 1] and multi.multi
    assert questions["LD-02"][1].options == ["08 giờ", "10 giờ", "12 giờ"]


def test_utf8_bom_file_with_english_headers(db_session: Session, clock: FrozenClock) -> None:
    report = run(db_session, DATA / "vn_utf8_bom_comma.csv", clock)
    assert report.summary() == "imported 2, updated 0, unchanged 0"
    _q, version = current(db_session)["TLD-02"]
    assert version.options == ["1%", "2%", "0,5%"]


def make_styled_workbook(path: Path, rows: list[list[Any]]) -> None:
    """An organiser's workbook: a merged, bold, filled title row, a blank row, the header."""
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = "Câu hỏi"
    sheet.append(["NGÂN HÀNG CÂU HỎI AN TOÀN, VỆ SINH LAO ĐỘNG"])
    sheet.merge_cells("A1:L1")
    sheet["A1"].font = Font(bold=True, size=16, color="1F4E79")
    sheet["A1"].fill = PatternFill("solid", fgColor="DDEBF7")
    sheet["A1"].alignment = Alignment(horizontal="center", vertical="center")
    sheet.append([])
    sheet.append(VN_HEADER)
    for cell in sheet[3]:
        cell.font = Font(bold=True)
    for row in rows:
        sheet.append(row)
    book.save(path)


def test_xlsx_with_a_merged_styled_title_row_reports_sheet_rows(
    db_session: Session, clock: FrozenClock, tmp_path: Path
) -> None:
    path = tmp_path / "atvsld.xlsx"
    make_styled_workbook(
        path,
        [
            [1, "AT-01", "Huấn luyện an toàn có bắt buộc không?", "Có", "Không", None, None,
             "A", "Huấn luyện", 1, None, "Điều 14"],
            [2, "AT-02", "Câu có đáp án trỏ vào ô trống?", "Có", "Không", None, None,
             3, None, None, None, None],
        ],
    )  # fmt: skip
    with pytest.raises(ImportRejected) as caught:
        run(db_session, path, clock)
    assert [str(p) for p in caught.value.report.problems] == [
        "row 5: correct answer 3 (option C) points at an empty option"
    ]
    assert db_session.scalar(select(func.count(Bank.id))) == 0

    make_styled_workbook(
        path,
        [[1, "AT-01", "Huấn luyện an toàn có bắt buộc không?", "Có", "Không", None, None,
          "A", "Huấn luyện", 1, None, "Điều 14"]],
    )  # fmt: skip
    assert run(db_session, path, clock).summary() == "imported 1, updated 0, unchanged 0"
    question, version = current(db_session)["AT-01"]
    assert (question.difficulty, version.correct, version.legal_basis) == ("easy", [0], "Điều 14")


# ----------------------------------------------------------------- re-import


def test_reimporting_the_same_file_changes_nothing(
    db_session: Session, clock: FrozenClock, tmp_path: Path
) -> None:
    path = labour_file(tmp_path)
    run(db_session, path, clock)
    before = snapshot(db_session)
    clock.advance(seconds=3600)

    report = run(db_session, path, clock)

    assert report.summary() == "imported 0, updated 0, unchanged 3"
    assert snapshot(db_session) == before


def test_dry_run_prints_what_would_happen_and_writes_nothing(
    db_session: Session, clock: FrozenClock, tmp_path: Path
) -> None:
    first = run(db_session, labour_file(tmp_path), clock, slug="moi", dry_run=True)
    assert first.summary() == "imported 3, updated 0, unchanged 0" and first.dry_run
    assert first.bank_id is None
    assert snapshot(db_session) == []

    run(db_session, labour_file(tmp_path), clock)
    before = snapshot(db_session)
    rows = [list(r) for r in LABOUR_ROWS]
    rows[0][4] = "04 ngày làm việc"  # LD-01 changes
    rows.append(["4", "LD-04", "Câu hỏi mới?", "Có", "Không", "", "", "B", "", "", "", ""])
    changed = labour_file(tmp_path, rows, name="changed.csv")

    dry = run(db_session, changed, clock, dry_run=True)
    assert snapshot(db_session) == before
    real = run(db_session, changed, clock)
    assert dry.summary() == real.summary() == "imported 1, updated 1, unchanged 2"


def test_a_row_with_a_known_code_updates_that_question_in_place(
    db_session: Session, clock: FrozenClock, tmp_path: Path
) -> None:
    run(db_session, labour_file(tmp_path), clock)
    question, version = current(db_session)["LD-01"]
    rows = [list(r) for r in LABOUR_ROWS]
    rows[0][2] = "Theo Bộ luật Lao động 2019, người lao động được nghỉ Tết Âm lịch mấy ngày?"
    rows[0][9] = "Trung bình"

    report = run(db_session, labour_file(tmp_path, rows), clock)

    assert report.summary() == "imported 0, updated 1, unchanged 2"
    question2, version2 = current(db_session)["LD-01"]
    # Never shown in an attempt: same question, same version, corrected in place.
    assert (question2.id, version2.id, version2.number) == (question.id, version.id, 1)
    assert version2.text.startswith("Theo Bộ luật")
    assert question2.difficulty == "medium"
    assert "theo bo luat lao dong 2019" in question2.search_text


def test_a_row_without_a_code_matches_on_normalised_text(
    db_session: Session, clock: FrozenClock, tmp_path: Path
) -> None:
    run(db_session, labour_file(tmp_path), clock)
    original, _v = current(db_session)["Đoàn viên công đoàn có những quyền nào?"]
    rows = [list(r) for r in LABOUR_ROWS]
    # Other case, doubled spaces, decomposed accents: still the same question.
    rows[2][2] = unicodedata.normalize("NFD", "  ĐOÀN VIÊN   công đoàn có những quyền nào? ")
    rows[2][7] = "A,B,C"
    rows[2][5] = "Được giám sát"

    report = run(db_session, labour_file(tmp_path, rows), clock)

    assert report.summary() == "imported 0, updated 1, unchanged 2"
    [version] = [v for q, v in current(db_session).values() if q.id == original.id]
    assert version.text == "ĐOÀN VIÊN   công đoàn có những quyền nào?"
    assert version.correct == [0, 1, 2]


def test_a_tone_mark_makes_a_different_question(
    db_session: Session, clock: FrozenClock, tmp_path: Path
) -> None:
    # "bán" (to sell) and "bạn" (friend): only the tone differs, the questions differ.
    rows = [["", "Ai bán hàng?", "Tôi", "Anh", "", "", "A"]]
    run(db_session, write_csv(tmp_path, [EN_HEADER, *rows]), clock)
    rows2 = [["", "Ai bạn hàng?", "Tôi", "Anh", "", "", "A"]]
    report = run(db_session, write_csv(tmp_path, [EN_HEADER, *rows2], name="b.csv"), clock)
    assert report.summary() == "imported 1, updated 0, unchanged 0"


def test_questions_absent_from_the_file_are_kept(
    db_session: Session, clock: FrozenClock, tmp_path: Path
) -> None:
    run(db_session, labour_file(tmp_path), clock)
    report = run(db_session, labour_file(tmp_path, LABOUR_ROWS[:1]), clock)
    assert report.summary() == "imported 0, updated 0, unchanged 1"
    assert len(current(db_session)) == 3


def test_a_new_code_on_a_question_matched_by_text_is_adopted(
    db_session: Session, clock: FrozenClock, tmp_path: Path
) -> None:
    run(db_session, labour_file(tmp_path), clock)
    rows = [list(r) for r in LABOUR_ROWS]
    rows[2][1] = "DV-03"
    report = run(db_session, labour_file(tmp_path, rows), clock)
    assert report.summary() == "imported 0, updated 1, unchanged 2"
    assert "DV-03" in current(db_session)
    # And the next import finds it by its code.
    assert run(db_session, labour_file(tmp_path, rows), clock).unchanged == 3


def test_a_row_may_take_the_text_an_earlier_row_gave_up(
    db_session: Session, clock: FrozenClock, tmp_path: Path
) -> None:
    first = [EN_HEADER, ["Q1", "Câu một?", "a", "b", "", "", "A"]]
    run(db_session, write_csv(tmp_path, first), clock)
    rows = [
        EN_HEADER,
        ["Q1", "Câu một, sửa lại?", "a", "b", "", "", "A"],
        ["", "Câu một?", "x", "y", "", "", "B"],
    ]
    path = write_csv(tmp_path, rows, name="b.csv")
    dry = run(db_session, path, clock, dry_run=True)
    real = run(db_session, path, clock)
    assert dry.summary() == real.summary() == "imported 1, updated 1, unchanged 0"
    assert current(db_session)["Câu một?"][1].options == ["x", "y"]


# ----------------------------------------------------------------- rejection


def test_a_broken_file_lists_every_broken_row_and_leaves_the_bank_unchanged(
    db_session: Session, clock: FrozenClock, tmp_path: Path
) -> None:
    good = write_csv(
        tmp_path,
        [
            ["Câu hỏi", "A", "B", "C", "D", "Đáp án đúng", "Độ khó"],
            ["Câu hỏi đúng chuẩn?", "Có", "Không", "", "", "B", "khó"],
            ["Câu hỏi hợp lệ thứ hai?", "Một", "Hai", "Ba", "Bốn", "A", ""],
        ],
    )
    run(db_session, good, clock)
    before = snapshot(db_session)

    with pytest.raises(ImportRejected) as caught:
        run(db_session, DATA / "broken_rows.csv", clock, title="Tên mới")

    report = caught.value.report
    assert [str(p) for p in report.errors] == [
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
    assert [str(p) for p in report.warnings] == ['line 1: unknown column "Ghi chú" ignored']
    # Lines 2 and 14 are valid updates, and the title would change: none of it happened.
    assert snapshot(db_session) == before


def test_an_error_after_several_written_batches_still_writes_nothing(
    db_session: Session, clock: FrozenClock, tmp_path: Path
) -> None:
    rows = [EN_HEADER]
    rows += [[f"C{i}", f"Câu hỏi số {i}?", "Đúng", "Sai", "", "", "A"] for i in range(2500)]
    rows.append(["C-last", "Câu cuối thiếu đáp án?", "Đúng", "Sai", "", "", ""])
    rows.append(["C0", "Câu trùng mã?", "Đúng", "Sai", "", "", "B"])
    path = write_csv(tmp_path, rows)
    assert len(rows) > 2 * BATCH_SIZE

    with pytest.raises(ImportRejected) as caught:
        run(db_session, path, clock)

    assert [str(p) for p in caught.value.report.problems] == [
        "line 2502: the correct answer is empty",
        'line 2503: same code "C0" as line 2',
    ]
    assert snapshot(db_session) == []


def test_rows_that_clash_with_the_bank_are_reported_by_line(
    db_session: Session, clock: FrozenClock, tmp_path: Path
) -> None:
    run(db_session, labour_file(tmp_path), clock)
    before = snapshot(db_session)
    rows = [
        EN_HEADER,
        # The text of LD-02 under a new code: renaming a code is an edit, not an import.
        ["NEW-1", "Thời giờ làm việc bình thường không quá bao nhiêu giờ trong 01 ngày?",
         "8", "10", "", "", "A"],
        # LD-01 renamed to the text another coded question has.
        ["LD-01", "Đoàn viên công đoàn có những quyền nào?", "a", "b", "", "", "A"],
        ["X" * 101, "Mã quá dài?", "a", "b", "", "", "A"],
    ]  # fmt: skip
    with pytest.raises(ImportRejected) as caught:
        run(db_session, write_csv(tmp_path, rows, name="clash.csv"), clock)
    assert [str(p) for p in caught.value.report.problems] == [
        'line 2: the bank already has this question under the code "LD-02"',
        "line 3: the bank already has this question (without a code)",
        "line 4: the code is longer than 100 characters",
    ]
    assert snapshot(db_session) == before


def test_two_rows_reaching_one_question_are_refused(
    db_session: Session, clock: FrozenClock, tmp_path: Path
) -> None:
    run(db_session, labour_file(tmp_path), clock)
    rows = [
        EN_HEADER,
        # No code: found by its text, it is LD-02 ...
        ["", "Thời giờ làm việc bình thường không quá bao nhiêu giờ trong 01 ngày?",
         "08 giờ", "10 giờ", "12 giờ", "", "B"],
        # ... which this row also changes, by its code.
        ["LD-02", "Thời giờ làm việc tối đa một ngày?", "8", "10", "", "", "A"],
    ]  # fmt: skip
    with pytest.raises(ImportRejected) as caught:
        run(db_session, write_csv(tmp_path, rows, name="twice.csv"), clock)
    assert [str(p) for p in caught.value.report.problems] == [
        'line 3: line 2 already changes the question with code "LD-02"'
    ]


def test_a_web_page_saved_as_a_spreadsheet_is_a_file_problem(
    db_session: Session, clock: FrozenClock, tmp_path: Path
) -> None:
    path = tmp_path / "export.xls"
    path.write_text("<!DOCTYPE html><html><table><tr><td>Câu hỏi</td></tr></table>")
    with pytest.raises(ImportRejected) as caught:
        run(db_session, path, clock)
    [problem] = caught.value.report.problems
    assert (problem.position, problem.code) == (None, "html_file")
    assert str(problem).startswith("file: this is a web page (HTML)")


def test_a_file_over_the_limit_is_refused(
    db_session: Session, clock: FrozenClock, tmp_path: Path
) -> None:
    path = labour_file(tmp_path)
    with pytest.raises(ImportRejected) as caught:
        run(db_session, path, clock, max_bytes=100)
    [problem] = caught.value.report.problems
    assert problem.code == "too_large" and problem.params["limit"] == 100


def test_html_and_script_in_a_question_are_stored_as_plain_text(
    db_session: Session, clock: FrozenClock, tmp_path: Path
) -> None:
    text = '<script>alert("x")</script> Thẻ <b>đậm</b> & ký hiệu?'
    rows = [EN_HEADER, ["H1", text, "<img src=x onerror=alert(1)>", "b", "", "", "A"]]
    run(db_session, write_csv(tmp_path, rows), clock)
    _q, version = current(db_session)["H1"]
    assert version.text == text
    assert version.options[0] == "<img src=x onerror=alert(1)>"


def test_progress_is_reported_after_each_batch(
    db_session: Session, clock: FrozenClock, tmp_path: Path
) -> None:
    rows = [EN_HEADER]
    rows += [["", f"Câu {i}?", "a", "b", "", "", "A"] for i in range(2 * BATCH_SIZE + 5)]
    seen: list[int] = []
    report = run(db_session, write_csv(tmp_path, rows), clock, progress=seen.append)
    assert seen == [BATCH_SIZE + 1, 2 * BATCH_SIZE + 1]
    assert report.imported == 2 * BATCH_SIZE + 5


def test_preview_lists_the_first_questions_with_their_action(
    db_session: Session, clock: FrozenClock, tmp_path: Path
) -> None:
    run(db_session, labour_file(tmp_path, LABOUR_ROWS[:1]), clock)
    report = run(db_session, labour_file(tmp_path), clock, dry_run=True, preview_limit=2)
    assert [(row.question.position, row.action) for row in report.preview] == [
        (4, "unchanged"),
        (5, "new"),
    ]


# ----------------------------------------------------------------- a real bank


def driving_rows() -> list[list[str]]:
    """The 600-question Vietnamese driving-theory bank as an organiser would lay it out.

    Questions about a picture name the picture, as organisers do when the image is sent
    separately; otherwise many texts ("... như hình dưới đây?") would be identical.
    """
    items = json.loads(DRIVING.read_text(encoding="utf-8"))
    header = ["STT", "Mã câu hỏi", "Nội dung câu hỏi", "Phương án A", "Phương án B",
              "Phương án C", "Phương án D", "Đáp án đúng", "Chủ đề"]  # fmt: skip
    rows = [["BỘ 600 CÂU HỎI SÁT HẠCH LÁI XE", *[""] * 8], header]
    for item in items:
        text = item["text"] + (f" (Hình {item['image']})" if item["image"] else "")
        options = [answer["text"] for answer in item["answers"]]
        correct = [str(i + 1) for i, a in enumerate(item["answers"]) if a["correct"]]
        rows.append(
            [str(item["index"]), f"GPLX-{item['index']:03d}", text,
             *options, *[""] * (4 - len(options)), ",".join(correct), "Sát hạch lái xe"]
        )  # fmt: skip
    return rows


@pytest.fixture
def driving_bank() -> list[list[str]]:
    if not DRIVING.exists():
        pytest.skip("the shared real-data folder is not available")
    return driving_rows()


def test_the_600_question_driving_bank_reports_its_true_duplicates(
    db_session: Session, clock: FrozenClock, tmp_path: Path, driving_bank: list[list[str]]
) -> None:
    path = write_csv(tmp_path, driving_bank, excel="cp1258")
    with pytest.raises(ImportRejected) as caught:
        run(db_session, path, clock, slug="gplx")
    # Questions 65 and 165 repeat the stems of 64 and 107 with other options (lines = +2).
    assert [str(p) for p in caught.value.report.problems] == [
        "line 67: same question as line 66",
        "line 167: same question as line 109",
    ]
    assert snapshot(db_session) == []


def test_the_600_question_driving_bank_imports_and_reimports_unchanged(
    db_session: Session, clock: FrozenClock, tmp_path: Path, driving_bank: list[list[str]]
) -> None:
    for line in (67, 167):  # the organiser tells the repeated stems apart
        driving_bank[line - 1][2] += " (câu tiếp theo)"
    path = write_csv(tmp_path, driving_bank, excel="cp1258")

    assert run(db_session, path, clock, slug="gplx").summary() == (
        "imported 600, updated 0, unchanged 0"
    )
    assert run(db_session, path, clock, slug="gplx").summary() == (
        "imported 0, updated 0, unchanged 600"
    )
    items = json.loads(DRIVING.read_text(encoding="utf-8"))
    _q, first = current(db_session, "gplx")["GPLX-001"]
    assert first.text == unicodedata.normalize("NFC", items[0]["text"])
    assert first.options == [a["text"] for a in items[0]["answers"]]
    assert first.correct == [1]

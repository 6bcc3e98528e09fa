"""Export speaks the import's format: exporting and importing again changes nothing."""

from __future__ import annotations

import csv
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from openpyxl import load_workbook
from sqlalchemy.orm import Session

from quizengine.banks.demo import SAMPLE_BANKS, SAMPLES_DIR
from quizengine.banks.export import export_bank, export_header
from quizengine.banks.services import import_bank
from quizengine.banks.versions import QuestionContent, add_question, set_question_active
from quizengine.clock import FrozenClock
from quizengine.models import Bank
from tests.integration.test_banks_import import snapshot

TRICKY = [
    QuestionContent(
        text='=1+1 là công thức hay "văn bản"?\nDòng thứ hai; có dấu phẩy, và <b>thẻ</b>',
        options=["Văn bản", "Công thức", "0,5%", "+84 912 345 678", "@mention", "-5 điểm"],
        correct=[0, 4],
        code=None,
        topic="Mẹo Excel",
        difficulty="hard",
        explanation="Dòng một\nDòng hai",
        legal_basis=None,
    ),
    QuestionContent(
        text="Câu hỏi chỉ có hai phương án?",
        options=["Đúng", "Sai"],
        correct=[1],
        code="00123",
    ),
]


@pytest.fixture(autouse=True)
def _app_context(app: Flask) -> Iterator[None]:
    with app.app_context():
        yield


def sample_bank(session: Session, clock: FrozenClock) -> Bank:
    name, title = SAMPLE_BANKS["phong-chong-covid-19"]
    report = import_bank(
        session, SAMPLES_DIR / name, slug="phong-chong-covid-19", title=title, clock=clock
    )
    bank = session.get(Bank, report.bank_id)
    assert bank is not None
    for content in TRICKY:
        add_question(session, bank_id=bank.id, content=content, clock=clock)
    session.commit()
    return bank


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_export_then_import_changes_nothing(
    db_session: Session, clock: FrozenClock, tmp_path: Path, fmt: str
) -> None:
    bank = sample_bank(db_session, clock)
    disabled = bank.questions[0]
    set_question_active(db_session, question_id=disabled.id, active=False, clock=clock)
    db_session.commit()
    before = snapshot(db_session)
    path = tmp_path / f"export.{fmt}"

    count = export_bank(db_session, bank.slug, fmt, path)  # type: ignore[arg-type]
    clock.advance(seconds=60)
    report = import_bank(db_session, path, slug=bank.slug, clock=clock)
    db_session.commit()

    assert count == 64 + len(TRICKY) - 1
    assert report.summary() == f"imported 0, updated 0, unchanged {count}"
    assert report.problems == []
    assert snapshot(db_session) == before


def test_csv_export_has_a_bom_english_headers_and_letters(
    db_session: Session, clock: FrozenClock, tmp_path: Path
) -> None:
    bank = sample_bank(db_session, clock)
    path = tmp_path / "export.csv"
    export_bank(db_session, bank.slug, "csv", path)

    raw = path.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbfcode,question,option_a,")
    rows = list(csv.reader(raw.decode("utf-8-sig").splitlines(keepends=True)))
    header = rows[0]
    assert header == export_header(6)
    assert header[-5:] == ["correct", "topic", "difficulty", "explanation", "legal_basis"]
    by_code = {row[0]: dict(zip(header, row, strict=True)) for row in rows[1:]}
    tricky = next(r for r in by_code.values() if r["question"].startswith("=1+1"))
    assert tricky["correct"] == "A,E"
    assert tricky["difficulty"] == "hard"
    assert tricky["option_f"] == "-5 điểm"
    assert "\n" in tricky["question"]
    assert by_code["00123"]["option_c"] == ""
    assert by_code["CV-001"]["difficulty"] in {"easy", "medium", "hard"}


def test_a_bank_of_four_option_questions_exports_four_option_columns(
    db_session: Session, clock: FrozenClock, tmp_path: Path
) -> None:
    name, _title = SAMPLE_BANKS["luat-giao-thong"]
    import_bank(db_session, SAMPLES_DIR / name, slug="gt", clock=clock)
    path = tmp_path / "gt.xlsx"
    assert export_bank(db_session, "gt", "xlsx", path) >= 60

    book = load_workbook(path, read_only=True)
    sheet = book.worksheets[0]
    header = [cell.value for cell in next(sheet.iter_rows(max_row=1))]
    book.close()
    assert header == export_header(4)


def test_xlsx_export_keeps_text_that_looks_like_a_formula_as_text(
    db_session: Session, clock: FrozenClock, tmp_path: Path
) -> None:
    bank = sample_bank(db_session, clock)
    path = tmp_path / "export.xlsx"
    export_bank(db_session, bank.slug, "xlsx", path)
    book = load_workbook(path)  # not read-only: cell types are visible
    sheet = book.worksheets[0]
    cells = [row[1] for row in sheet.iter_rows(min_row=2)]
    formula_like = [c for c in cells if str(c.value).startswith("=1+1")]
    assert len(formula_like) == 1 and formula_like[0].data_type == "s"
    code_cells = [row[0] for row in sheet.iter_rows(min_row=2) if row[0].value == "00123"]
    assert len(code_cells) == 1  # "00123" stays text, leading zeros and all

"""`quizengine banks import|export|list` through the real CLI group."""

from __future__ import annotations

from pathlib import Path

import pytest
from flask.testing import FlaskCliRunner
from openpyxl import Workbook
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from quizengine.banks.demo import SAMPLES_DIR
from quizengine.models import Bank, Question
from tests.integration.test_banks_import import DATA, EN_HEADER, write_csv

TRAFFIC = SAMPLES_DIR / "luat-giao-thong.csv"


def count(session: Session, model: type) -> int:
    session.expire_all()
    return int(session.scalar(select(func.count()).select_from(model)) or 0)


def test_import_prints_the_summary_line_and_list_shows_the_bank(
    runner: FlaskCliRunner, db_session: Session
) -> None:
    result = runner.invoke(
        args=["banks", "import", str(TRAFFIC), "--bank", "luat-giao-thong",
              "--title", "Luật giao thông đường bộ"]
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert result.stdout == "imported 63, updated 0, unchanged 0\n"
    assert result.stderr == ""

    listing = runner.invoke(args=["banks", "list"])
    assert listing.exit_code == 0
    assert listing.stdout.split() == [
        "luat-giao-thong",
        "Luật",
        "giao",
        "thông",
        "đường",
        "bộ",
        "63",
    ]

    again = runner.invoke(args=["banks", "import", str(TRAFFIC), "--bank", "luat-giao-thong"])
    assert again.stdout == "imported 0, updated 0, unchanged 63\n"


def test_dry_run_prints_the_same_summary_and_writes_nothing(
    runner: FlaskCliRunner, db_session: Session
) -> None:
    result = runner.invoke(args=["banks", "import", str(TRAFFIC), "--bank", "gt", "--dry-run"])
    assert result.exit_code == 0, result.output
    assert result.stdout == "imported 63, updated 0, unchanged 0\n"
    assert "dry run" in result.stderr
    assert count(db_session, Bank) == 0


def test_a_broken_file_exits_1_with_one_line_per_problem_and_writes_nothing(
    runner: FlaskCliRunner, db_session: Session
) -> None:
    result = runner.invoke(
        args=["banks", "import", str(DATA / "broken_rows.csv"), "--bank", "hong"]
    )
    assert result.exit_code == 1
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert lines[0] == 'line 1: unknown column "Ghi chú" ignored (warning)'
    assert [line.split(":")[0] for line in lines[1:]] == [
        f"line {n}" for n in (3, 4, 5, 6, 7, 8, 9, 10, 11, 13)
    ]
    assert "Traceback" not in result.output
    assert count(db_session, Bank) == 0


def test_a_moodle_csv_gets_a_clear_missing_columns_report(runner: FlaskCliRunner) -> None:
    moodle = Path("/work/shared/realdata/moodle-qformat_csv/sample.csv")
    if not moodle.exists():
        pytest.skip("the shared real-data folder is not available")
    result = runner.invoke(args=["banks", "import", str(moodle), "--bank", "moodle"])
    assert result.exit_code == 1
    assert result.stderr.startswith('file: missing columns "question" (Câu hỏi) and "correct"')


def test_a_file_problem_starts_with_file(runner: FlaskCliRunner, tmp_path: Path) -> None:
    path = tmp_path / "empty.csv"
    path.write_bytes(b"")
    result = runner.invoke(args=["banks", "import", str(path), "--bank", "rong"])
    assert result.exit_code == 1
    assert result.stderr.splitlines()[0] == "file: the file is empty"


def test_warnings_go_to_stderr_and_do_not_fail(runner: FlaskCliRunner, tmp_path: Path) -> None:
    path = write_csv(tmp_path, [[*EN_HEADER, "Ghi chú"], ["", "Câu?", "a", "b", "", "", "A", "x"]])
    result = runner.invoke(args=["banks", "import", str(path), "--bank", "canh-bao"])
    assert result.exit_code == 0
    assert result.stdout == "imported 1, updated 0, unchanged 0\n"
    assert result.stderr == 'line 1: unknown column "Ghi chú" ignored (warning)\n'


def test_sheet_option_picks_the_worksheet(
    runner: FlaskCliRunner, db_session: Session, tmp_path: Path
) -> None:
    book = Workbook()
    first = book.active
    assert first is not None
    first.title = "Hướng dẫn"
    first.append(["Điền câu hỏi vào trang Câu hỏi"])
    sheet = book.create_sheet("Câu hỏi")
    sheet.append(["Câu hỏi", "A", "B", "Đáp án đúng"])
    sheet.append(["Câu một?", "Có", "Không", "A"])
    path = tmp_path / "bank.xlsx"
    book.save(path)

    refused = runner.invoke(args=["banks", "import", str(path), "--bank", "x"])
    assert refused.exit_code == 1 and refused.stderr.startswith("file: no header row")
    result = runner.invoke(args=["banks", "import", str(path), "--bank", "x", "--sheet", "Câu hỏi"])
    assert result.exit_code == 0, result.output
    assert result.stdout == "imported 1, updated 0, unchanged 0\n"
    bad = runner.invoke(args=["banks", "import", str(path), "--bank", "x", "--sheet", "Sheet9"])
    assert bad.exit_code == 1 and bad.stderr.startswith('file: there is no sheet named "Sheet9"')


def test_a_large_file_shows_a_progress_bar_on_stderr(
    runner: FlaskCliRunner, db_session: Session, tmp_path: Path
) -> None:
    rows = [EN_HEADER, *[["", f"Câu hỏi {i}?", "a", "b", "", "", "A"] for i in range(4000)]]
    path = write_csv(tmp_path, rows)
    result = runner.invoke(args=["banks", "import", str(path), "--bank", "lon"])
    assert result.exit_code == 0, result.output
    assert result.stdout == "imported 4000, updated 0, unchanged 0\n"
    assert "importing" in result.stderr
    assert count(db_session, Question) == 4000


def test_export_then_import_through_the_cli_changes_nothing(
    runner: FlaskCliRunner, db_session: Session, tmp_path: Path
) -> None:
    runner.invoke(args=["banks", "import", str(TRAFFIC), "--bank", "gt"])
    for fmt in ("csv", "xlsx"):
        out = tmp_path / f"gt.{fmt}"
        exported = runner.invoke(args=["banks", "export", "gt", "--format", fmt, "-o", str(out)])
        assert exported.exit_code == 0, exported.output
        assert exported.stdout == f"exported 63 questions to {out}\n"
        again = runner.invoke(args=["banks", "import", str(out), "--bank", "gt"])
        assert again.stdout == "imported 0, updated 0, unchanged 63\n"


def test_export_of_an_unknown_bank_is_a_user_error(runner: FlaskCliRunner, tmp_path: Path) -> None:
    result = runner.invoke(
        args=["banks", "export", "khong-co", "--format", "csv", "-o", str(tmp_path / "x.csv")]
    )
    assert result.exit_code == 1
    assert result.stderr.startswith('error: there is no bank "khong-co"')


def test_a_bad_slug_is_a_user_error(runner: FlaskCliRunner) -> None:
    result = runner.invoke(args=["banks", "import", str(TRAFFIC), "--bank", "Luật Giao Thông"])
    assert result.exit_code == 1
    assert result.stderr.startswith("error: ") and "Traceback" not in result.output

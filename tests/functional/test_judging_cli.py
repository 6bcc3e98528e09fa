"""`quizengine results finalize|export|verify|reopen` through the real CLI group: the
files a jury publishes (CSV with BOM, XLSX, PDF, ZIP bundle) and their verification."""

from __future__ import annotations

import csv
import io
import shutil
import subprocess
import zipfile
from datetime import timedelta
from pathlib import Path

import pytest
from flask.testing import FlaskCliRunner
from openpyxl import load_workbook
from sqlalchemy.orm import Session

from quizengine.clock import FrozenClock
from quizengine.judging.exports import HEADERS
from quizengine.models import Round
from tests.conftest import require
from tests.judging_builders import closed_round, contestant, take, union_tree

INJECTION = '=HYPERLINK("http://x","y")'


def _round(session: Session) -> Round:
    """A closed round whose winner's name is a formula and whose units form a tree."""
    _, _, leaf1, leaf2 = union_tree(session)
    rnd = closed_round(session, prizes=[1, 1, 1, 0], title="Tuần 3")
    take(
        session,
        rnd,
        contestant(session, INJECTION, unit=leaf1, phone="0912345678"),
        score=10,
        prediction=2,
        duration_s=95.5,
    )
    take(
        session,
        rnd,
        contestant(session, "Nguyễn Thị Thuỷ Tiên", unit=leaf2, phone="0987654321"),
        score=10,
        prediction=2,
        duration_s=120,
    )
    take(
        session,
        rnd,
        contestant(session, "Trương Văn Đạt", unit=leaf1, phone="0355512345"),
        score=7,
        prediction=9,
        duration_s=60,
    )
    take(
        session,
        rnd,
        contestant(session, "-Lý Thị Mai", unit=leaf2, phone="0211111999"),
        score=3,
        prediction=None,
        duration_s=30,
    )
    session.commit()
    return rnd


def _finalize(runner: FlaskCliRunner, round_id: int) -> str:
    result = runner.invoke(args=["results", "finalize", "--round", str(round_id)])
    assert result.exit_code == 0, result.output
    last = result.stdout.strip().splitlines()[-1]
    assert len(last) == 64 and int(last, 16) >= 0
    return last


def _export(runner: FlaskCliRunner, round_id: int, path: Path, *extra: str) -> str:
    result = runner.invoke(
        args=["results", "export", "--round", str(round_id), "-o", str(path), *extra]
    )
    assert result.exit_code == 0, result.output
    return result.stdout


def rnd_hash(session: Session, rnd: Round) -> str:
    session.refresh(rnd)
    assert rnd.result_hash is not None
    return rnd.result_hash


def _verify(runner: FlaskCliRunner, round_id: int, path: Path) -> tuple[int, str]:
    result = runner.invoke(args=["results", "verify", str(path), "--round", str(round_id)])
    return result.exit_code, result.stdout + result.stderr


def test_finalize_is_refused_with_a_clear_message_while_the_round_is_open(
    runner: FlaskCliRunner, db_session: Session, clock: FrozenClock
) -> None:
    rnd = closed_round(db_session, closes_at=clock.now() + timedelta(days=2))
    db_session.commit()
    result = runner.invoke(args=["results", "finalize", "--round", str(rnd.id)])
    assert result.exit_code == 1
    assert "still open" in result.stderr and "Traceback" not in result.output
    db_session.refresh(rnd)
    assert rnd.finalized_at is None


def test_finalize_twice_prints_the_same_hash_and_changes_nothing(
    runner: FlaskCliRunner, db_session: Session, clock: FrozenClock
) -> None:
    rnd = _round(db_session)
    first = _finalize(runner, rnd.id)
    clock.advance(minutes=30)
    result = runner.invoke(args=["results", "finalize", "--round", str(rnd.id)])
    assert result.exit_code == 0
    assert "already finalised" in result.stdout
    assert result.stdout.strip().splitlines()[-1] == first
    db_session.refresh(rnd)
    assert rnd.result_hash == first


def test_csv_export_has_a_bom_neutralised_formulas_masked_phones_and_the_hash(
    runner: FlaskCliRunner, db_session: Session, clock: FrozenClock, tmp_path: Path
) -> None:
    rnd = _round(db_session)
    digest = _finalize(runner, rnd.id)
    path = tmp_path / "ket-qua.csv"
    _export(runner, rnd.id, path, "--format", "csv")

    raw = path.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    text = raw.decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(text, newline="")))
    assert rows[0] == list(HEADERS)
    winner = rows[1]
    assert winner[:3] == ["1", "Giải Nhất", "'" + INJECTION]
    assert winner[3] == (
        "Liên đoàn Lao động tỉnh Quảng Ngãi / Công đoàn huyện Đức Phổ"
        " / Công đoàn Công ty May Đức Phổ"
    )
    assert winner[4] == "09xx xxx 678"
    assert winner[6:] == ["10", "2", "0", "01:35.500", "23/02/2026 10:02:35"]
    assert rows[4][2] == "'-Lý Thị Mai"  # a leading minus is a formula to Excel too
    assert all(not cell.startswith(("=", "+", "-", "@")) for row in rows for cell in row)
    assert rows[-2:] == [[], ["SHA-256", digest]]
    assert text.endswith(f"\r\n\r\nSHA-256,{digest}\r\n")


def test_semicolon_csv_and_xlsx_exports_verify_against_the_stored_ranking(
    runner: FlaskCliRunner, db_session: Session, clock: FrozenClock, tmp_path: Path
) -> None:
    rnd = _round(db_session)
    digest = _finalize(runner, rnd.id)
    semi = tmp_path / "semi.csv"
    _export(runner, rnd.id, semi, "--format", "csv", "--delimiter", ";")
    assert semi.read_text(encoding="utf-8-sig").splitlines()[-1] == f"SHA-256;{digest}"
    assert _verify(runner, rnd.id, semi)[0] == 0

    book = tmp_path / "ket-qua.xlsx"
    _export(runner, rnd.id, book, "--format", "xlsx")
    code, output = _verify(runner, rnd.id, book)
    assert code == 0, output

    sheet = load_workbook(book).worksheets[0]
    assert sheet.freeze_panes == "A2"
    assert [c.value for c in sheet[1]] == list(HEADERS)
    name = sheet["C2"]
    assert name.value == INJECTION and name.data_type == "s"  # text, never a formula
    assert sheet["A2"].value == 1 and sheet["G2"].value == 10
    assert sheet["K2"].is_date and sheet["K2"].value.strftime("%d/%m/%Y %H:%M:%S") == (
        "23/02/2026 10:02:35"
    )
    assert sheet.column_dimensions["D"].width >= 40
    last = sheet.max_row
    assert [c.value for c in sheet[last]][:2] == ["SHA-256", digest]
    assert all(c.value is None for c in sheet[last - 1])


def test_verify_accepts_a_winners_only_export_and_reports_one_changed_row(
    runner: FlaskCliRunner, db_session: Session, clock: FrozenClock, tmp_path: Path
) -> None:
    rnd = _round(db_session)
    _finalize(runner, rnd.id)
    full = tmp_path / "full.csv"
    winners = tmp_path / "winners.csv"
    _export(runner, rnd.id, full, "--format", "csv")
    _export(runner, rnd.id, winners, "--format", "csv", "--winners-only")
    assert len(winners.read_text(encoding="utf-8-sig").splitlines()) == 1 + 3 + 2
    code, output = _verify(runner, rnd.id, full)
    assert code == 0 and "OK: 4 rows (full list)" in output
    code, output = _verify(runner, rnd.id, winners)
    assert code == 0 and "OK: 3 rows (winners-only list)" in output

    tampered = tmp_path / "tampered.csv"
    tampered.write_text(
        full.read_text(encoding="utf-8-sig").replace("Trương Văn Đạt", "Trương Văn Đạc"),
        encoding="utf-8-sig",
    )
    code, output = _verify(runner, rnd.id, tampered)
    assert code == 1
    assert "line 4 differs" in output and "Họ và tên" in output and "Trương Văn Đạc" in output

    swapped_hash = tmp_path / "hash.csv"
    digest = rnd_hash(db_session, rnd)
    swapped_hash.write_text(
        full.read_text(encoding="utf-8-sig").replace(digest, digest[::-1]),
        encoding="utf-8-sig",
    )
    code, output = _verify(runner, rnd.id, swapped_hash)
    assert code == 1 and "not the stored hash" in output

    dropped = tmp_path / "dropped.csv"
    lines = full.read_text(encoding="utf-8-sig").splitlines(keepends=True)
    dropped.write_text("".join(lines[:3] + lines[4:]), encoding="utf-8-sig")
    code, output = _verify(runner, rnd.id, dropped)
    assert code == 1 and "line 4 differs" in output


def test_verify_detects_a_changed_xlsx_cell_and_a_database_edited_after_finalising(
    runner: FlaskCliRunner, db_session: Session, clock: FrozenClock, tmp_path: Path
) -> None:
    rnd = _round(db_session)
    _finalize(runner, rnd.id)
    book = tmp_path / "ket-qua.xlsx"
    _export(runner, rnd.id, book, "--format", "xlsx")
    workbook = load_workbook(book)
    workbook.worksheets[0]["G3"] = 9  # the second contestant's points
    edited = tmp_path / "edited.xlsx"
    workbook.save(edited)
    code, output = _verify(runner, rnd.id, edited)
    assert code == 1 and "row 3 differs" in output and "Điểm" in output

    db_session.execute(
        Round.__table__.update().where(Round.id == rnd.id).values(result_hash="0" * 64)
    )
    db_session.commit()
    code, output = _verify(runner, rnd.id, book)
    assert code == 1 and "no longer matches its hash" in output


def test_an_export_before_finalising_says_it_is_not_final_and_has_no_hash(
    runner: FlaskCliRunner, db_session: Session, clock: FrozenClock, tmp_path: Path
) -> None:
    rnd = _round(db_session)
    path = tmp_path / "tam-thoi.csv"
    stdout = _export(runner, rnd.id, path, "--format", "csv")
    assert "NOT FINAL" in stdout
    text = path.read_text(encoding="utf-8-sig")
    assert "SHA-256," not in text
    assert text.splitlines()[-1].startswith("KẾT QUẢ TẠM THỜI,")
    assert "chưa chính thức" in text
    code, output = _verify(runner, rnd.id, path)
    assert code == 1 and "not finalised" in output


def test_pdf_winner_list_keeps_vietnamese_diacritics(
    runner: FlaskCliRunner, db_session: Session, clock: FrozenClock, tmp_path: Path
) -> None:
    require(shutil.which("pdftotext") is not None, "pdftotext (poppler-utils)")
    rnd = _round(db_session)
    digest = _finalize(runner, rnd.id)
    path = tmp_path / "dat-giai.pdf"
    _export(runner, rnd.id, path, "--format", "pdf")
    assert path.read_bytes().startswith(b"%PDF")
    text = subprocess.run(
        ["pdftotext", "-layout", str(path), "-"], capture_output=True, check=True, text=True
    ).stdout
    assert "Nguyễn Thị Thuỷ Tiên" in text
    assert "Trương Văn Đạt" in text
    assert "DANH SÁCH ĐẠT GIẢI" in text
    assert "Tuần 3" in text and "Giải Nhất" in text
    assert digest in text.replace("\n", "")
    assert "BAN GIÁM KHẢO" in text and "Ký, ghi rõ họ tên" in text
    assert "09xx xxx 678" in text


def test_zip_bundle_holds_the_lists_and_the_audit_log(
    runner: FlaskCliRunner, db_session: Session, clock: FrozenClock, tmp_path: Path
) -> None:
    rnd = _round(db_session)
    digest = _finalize(runner, rnd.id)
    path = tmp_path / "bundle.zip"
    _export(runner, rnd.id, path, "--format", "zip")
    with zipfile.ZipFile(path) as bundle:
        names = set(bundle.namelist())
        assert {"ket-qua.csv", "danh-sach-dat-giai.csv", "giai-tap-the.csv", "nhat-ky.csv"} <= (
            names
        )
        log = bundle.read("nhat-ky.csv").decode("utf-8-sig")
        results = bundle.read("ket-qua.csv").decode("utf-8-sig")
    assert "Chốt kết quả" in log and digest in log and "CLI (" in log
    assert results.rstrip().endswith(digest)


def test_reopen_needs_a_reason_and_unlocks_the_round(
    runner: FlaskCliRunner, db_session: Session, clock: FrozenClock
) -> None:
    rnd = _round(db_session)
    _finalize(runner, rnd.id)
    missing = runner.invoke(args=["results", "reopen", "--round", str(rnd.id)])
    assert missing.exit_code == 2
    blank = runner.invoke(args=["results", "reopen", "--round", str(rnd.id), "--reason", " "])
    assert blank.exit_code == 1
    done = runner.invoke(
        args=["results", "reopen", "--round", str(rnd.id), "--reason", "Sai số giải"]
    )
    assert done.exit_code == 0, done.output
    db_session.refresh(rnd)
    assert rnd.finalized_at is None


@pytest.mark.parametrize("args", [["--format", "doc"], ["--format", "csv", "--delimiter", "|"]])
def test_export_refuses_unknown_formats_and_delimiters(
    runner: FlaskCliRunner, db_session: Session, tmp_path: Path, args: list[str]
) -> None:
    result = runner.invoke(
        args=["results", "export", "--round", "1", "-o", str(tmp_path / "x"), *args]
    )
    assert result.exit_code == 2
    assert not (tmp_path / "x").exists()

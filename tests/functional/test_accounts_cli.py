"""`quizengine users ...` and `quizengine units ...` through the CLI."""

from __future__ import annotations

import unicodedata
from pathlib import Path

import openpyxl
import pytest
from flask.testing import FlaskCliRunner
from sqlalchemy import select
from sqlalchemy.orm import Session
from werkzeug.security import check_password_hash

from quizengine.models import Unit, User
from tests.factories import make_contestant, make_unit


def run(runner: FlaskCliRunner, *args: str, input: str | None = None):  # type: ignore[no-untyped-def]
    return runner.invoke(args=list(args), input=input)


# --------------------------------------------------------------------------- users


def test_create_an_organiser_prints_the_id_last(
    runner: FlaskCliRunner, db_session: Session
) -> None:
    result = run(
        runner,
        "users",
        "create",
        "--role",
        "organiser",
        "--phone",
        "+84 901 000 001",
        "--name",
        "  Trần  Thị Thu Hà ",
        "--password",
        "mat-khau-btc",
    )
    assert result.exit_code == 0, result.output
    last = result.stdout.strip().splitlines()[-1]
    user = db_session.get(User, int(last))
    assert user is not None
    assert (user.role, user.phone, user.full_name) == ("organiser", "0901000001", "Trần Thị Thu Hà")
    assert user.password_hash.startswith("scrypt:")
    assert check_password_hash(user.password_hash, "mat-khau-btc")


def test_create_prompts_for_the_password_twice_when_not_given(
    runner: FlaskCliRunner, db_session: Session
) -> None:
    result = run(
        runner,
        "users",
        "create",
        "--role",
        "judge",
        "--phone",
        "0901000002",
        "--name",
        "Lê Minh",
        input="mat-khau-gk\nmat-khau-gk\n",
    )
    assert result.exit_code == 0, result.output
    user = db_session.get(User, int(result.stdout.strip().splitlines()[-1]))
    assert user is not None and check_password_hash(user.password_hash, "mat-khau-gk")
    assert "mat-khau-gk" not in result.stdout


def test_create_a_contestant_needs_a_grassroots_unit(
    runner: FlaskCliRunner, db_session: Session
) -> None:
    root = make_unit(db_session, code="LDLD")
    make_unit(db_session, code="CS-1", parent=root)
    db_session.commit()
    args = [
        "users",
        "create",
        "--role",
        "contestant",
        "--phone",
        "0912345678",
        "--name",
        "An",
        "--password",
        "mat-khau-123",
    ]
    missing = run(runner, *args)
    assert missing.exit_code == 1
    assert "--unit" in missing.stderr and "Traceback" not in missing.output
    upper = run(runner, *args, "--unit", "LDLD")
    assert upper.exit_code == 1 and "công đoàn cấp trên" in upper.stderr
    ok = run(runner, *args, "--unit", "CS-1")
    assert ok.exit_code == 0, ok.output


def test_create_reports_every_invalid_option_on_stderr(
    runner: FlaskCliRunner, db_session: Session
) -> None:
    make_contestant(db_session, phone="0912345678")
    db_session.commit()
    result = run(
        runner,
        "users",
        "create",
        "--role",
        "organiser",
        "--phone",
        "0912 345 678",
        "--name",
        "A\x07",
        "--password",
        "short",
    )
    assert result.exit_code == 1
    lines = result.stderr.strip().splitlines()
    assert [line.split(":")[1].strip() for line in lines] == ["--name", "--phone", "--password"]
    assert all(line.startswith("error: ") for line in lines)
    assert result.stdout == ""


def test_unknown_role_is_a_usage_error(runner: FlaskCliRunner) -> None:
    result = run(
        runner,
        "users",
        "create",
        "--role",
        "admin",
        "--phone",
        "0912345678",
        "--name",
        "x",
        "--password",
        "12345678",
    )
    assert result.exit_code == 2


def test_list_users_one_line_each_with_unit_code(
    runner: FlaskCliRunner, db_session: Session
) -> None:
    unit = make_unit(db_session, code="CS-9")
    member = make_contestant(db_session, phone="0912000001", full_name="Võ Minh Tuấn", unit=unit)
    db_session.commit()
    run(
        runner,
        "users",
        "create",
        "--role",
        "judge",
        "--phone",
        "0901000002",
        "--name",
        "Lê Minh",
        "--password",
        "mat-khau-gk",
    )
    everyone = run(runner, "users", "list").stdout.strip().splitlines()
    assert f"{member.id}\tcontestant\t0912000001\tVõ Minh Tuấn\tCS-9" in everyone
    judges = run(runner, "users", "list", "--role", "judge").stdout.strip().splitlines()
    assert len(judges) == 1 and judges[0].endswith("\tjudge\t0901000002\tLê Minh\t-")


def test_reset_password_from_the_cli(runner: FlaskCliRunner, db_session: Session) -> None:
    member = make_contestant(db_session, phone="0912000001")
    db_session.commit()
    result = run(runner, "users", "reset-password", "--phone", "0912 000 001")
    assert result.exit_code == 0, result.output
    temporary = result.stdout.strip().splitlines()[-1]
    db_session.expire_all()
    user = db_session.get(User, member.id)
    assert user is not None and user.must_change_password
    assert check_password_hash(user.password_hash, temporary)
    assert run(runner, "users", "reset-password", "--phone", "0999999999").exit_code == 1


# --------------------------------------------------------------------------- units import

TREE_CSV = """\
code,name,parent_code,short_name,members
CS-01,Công đoàn cơ sở Công ty May Tịnh Phong,KCN,CĐCS May,"1,850"
KCN,Công đoàn các Khu công nghiệp tỉnh,LDLD,CĐ các KCN,
LDLD,Liên đoàn Lao động tỉnh,,LĐLĐ tỉnh,
GD,Công đoàn ngành Giáo dục,LDLD,,
CS-02,Công đoàn Trường THPT Trần Quốc Tuấn,GD,,96
"""


def write(tmp_path: Path, name: str, text: str, encoding: str = "utf-8") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding=encoding, newline="")
    return path


def units_by_code(session: Session) -> dict[str, Unit]:
    session.expire_all()
    return {unit.code: unit for unit in session.scalars(select(Unit))}


def test_import_a_csv_tree_with_children_before_parents(
    runner: FlaskCliRunner, db_session: Session, tmp_path: Path
) -> None:
    result = run(runner, "units", "import", str(write(tmp_path, "units.csv", TREE_CSV)))
    assert result.exit_code == 0, result.output
    assert result.stdout.strip().splitlines()[-1] == "imported 5, updated 0, unchanged 0"
    units = units_by_code(db_session)
    assert units["CS-01"].parent_id == units["KCN"].id
    assert units["KCN"].parent_id == units["LDLD"].id
    assert units["LDLD"].parent_id is None
    assert (units["CS-01"].short_name, units["CS-01"].members) == ("CĐCS May", 1850)

    again = run(runner, "units", "import", str(write(tmp_path, "units.csv", TREE_CSV)))
    assert again.stdout.strip() == "imported 0, updated 0, unchanged 5"


def test_reimport_updates_by_code_and_keeps_absent_units(
    runner: FlaskCliRunner, db_session: Session, tmp_path: Path
) -> None:
    run(runner, "units", "import", str(write(tmp_path, "a.csv", TREE_CSV)))
    changes = "code,name,parent_code\nCS-02,Công đoàn Trường THPT Trần Quốc Tuấn,KCN\nNEW,Mới,GD\n"
    result = run(runner, "units", "import", str(write(tmp_path, "b.csv", changes)))
    assert result.stdout.strip() == "imported 1, updated 1, unchanged 0"
    units = units_by_code(db_session)
    assert len(units) == 6
    assert units["CS-02"].parent_id == units["KCN"].id
    assert units["CS-02"].members == 96  # no members column: left alone


def test_import_xlsx_with_vietnamese_headers(
    runner: FlaskCliRunner, db_session: Session, tmp_path: Path
) -> None:
    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = "Đơn vị"
    sheet.append(["DANH SÁCH ĐƠN VỊ CÔNG ĐOÀN"])
    sheet.append(["STT", "Mã đơn vị", "Tên đơn vị", "Mã đơn vị cấp trên", "Số đoàn viên"])
    sheet.append([1, "LDLD", "Liên đoàn Lao động tỉnh", None, None])
    # NFD text, as some Mac exports produce; stored as NFC
    sheet.append([2, "CS-1", unicodedata.normalize("NFD", "Công đoàn cơ sở Điện lực"), "LDLD", 230])
    path = tmp_path / "units.xlsx"
    book.save(path)
    result = run(runner, "units", "import", str(path))
    assert result.exit_code == 0, result.output
    assert result.stdout.strip() == "imported 2, updated 0, unchanged 0"
    units = units_by_code(db_session)
    assert units["CS-1"].name == "Công đoàn cơ sở Điện lực"
    assert units["CS-1"].members == 230


def test_import_is_all_or_nothing_with_errors_by_line(
    runner: FlaskCliRunner, db_session: Session, tmp_path: Path
) -> None:
    bad = (
        "code;name;parent_code\n"
        "LDLD;Liên đoàn Lao động tỉnh;\n"
        "A;Đơn vị A;C\n"
        "B;Đơn vị B;A\n"
        "C;Đơn vị C;B\n"
        "D;Đơn vị D;KHONG-CO\n"
    )
    result = run(runner, "units", "import", str(write(tmp_path, "bad.csv", bad)))
    assert result.exit_code == 1
    assert result.stderr.strip().splitlines() == [
        "line 3: the parent codes form a cycle: A → C → B → A",
        'line 6: the parent code "KHONG-CO" is neither in this file nor among the existing units',
    ]
    assert units_by_code(db_session) == {}


def test_import_errors_in_xlsx_say_row(
    runner: FlaskCliRunner, db_session: Session, tmp_path: Path
) -> None:
    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(["code", "name", "parent_code"])
    sheet.append(["A", "", None])
    path = tmp_path / "bad.xlsx"
    book.save(path)
    result = run(runner, "units", "import", str(path))
    assert result.exit_code == 1
    assert result.stderr.strip() == "row 2: the name is empty"


def test_import_refuses_to_give_a_unit_with_contestants_sub_units(
    runner: FlaskCliRunner, db_session: Session, tmp_path: Path
) -> None:
    unit = make_unit(db_session, code="CS-1", name="CĐCS")
    make_contestant(db_session, unit=unit)
    db_session.commit()
    result = run(
        runner,
        "units",
        "import",
        str(write(tmp_path, "x.csv", "code,name,parent_code\nT,Tổ,CS-1\n")),
    )
    assert result.exit_code == 1
    assert 'line 2: the unit "CS-1" has registered contestants' in result.stderr


@pytest.mark.parametrize(
    ("content", "message"),
    [(b"", "file: the file is empty"), (b"\xd0\xcf\x11\xe0" + b"\0" * 600, "file:")],
)
def test_unreadable_files_are_one_clear_line(
    runner: FlaskCliRunner, tmp_path: Path, content: bytes, message: str
) -> None:
    path = tmp_path / "units.xls"
    path.write_bytes(content)
    result = run(runner, "units", "import", str(path))
    assert result.exit_code == 1
    assert result.stderr.startswith(message)
    assert "Traceback" not in result.output


def test_missing_file_is_a_usage_error_or_a_file_error(
    runner: FlaskCliRunner, tmp_path: Path
) -> None:
    result = run(runner, "units", "import", str(tmp_path / "nope.csv"))
    assert result.exit_code == 1
    assert result.stderr.startswith("file: ")


def test_dry_run_checks_and_counts_but_saves_nothing(
    runner: FlaskCliRunner, db_session: Session, tmp_path: Path
) -> None:
    result = run(runner, "units", "import", "--dry-run", str(write(tmp_path, "u.csv", TREE_CSV)))
    assert result.exit_code == 0, result.output
    assert result.stdout.strip() == "dry run: would have imported 5, updated 0, unchanged 0"
    assert units_by_code(db_session) == {}


def test_units_list(runner: FlaskCliRunner, tmp_path: Path) -> None:
    run(runner, "units", "import", str(write(tmp_path, "u.csv", TREE_CSV)))
    lines = run(runner, "units", "list").stdout.strip().splitlines()
    assert "CS-01\tKCN\tCông đoàn cơ sở Công ty May Tịnh Phong\tCĐCS May" in lines
    assert "LDLD\t-\tLiên đoàn Lao động tỉnh\tLĐLĐ tỉnh" in lines

"""The web import report speaks Vietnamese for every problem the import can raise."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask

from quizengine.banks.fileformat import Problem
from quizengine.banks.messages import KNOWN_CODES, problem_line, problem_text

PACKAGE = Path(__file__).resolve().parents[2] / "quizengine"


def raised_codes() -> set[str]:
    """Every problem code written in the sources that produce problems."""
    tabular = (PACKAGE / "tabular.py").read_text()
    fileformat = (PACKAGE / "banks" / "fileformat.py").read_text()
    services = (PACKAGE / "banks" / "services.py").read_text()
    return (
        set(re.findall(r'TableFileError\(\s*"([a-z_]+)"', tabular))
        | set(re.findall(r'problem\(\s*"([a-z_]+)"', fileformat))
        | set(re.findall(r'Problem\(\s*[^,()]+(?:\([^)]*\))?,\s*"([a-z_]+)"', fileformat))
        | set(re.findall(r'self\.problem\(\s*[^,]+,\s*"([a-z_]+)"', services))
    )


@pytest.fixture(autouse=True)
def _request(app: Flask) -> Iterator[None]:
    with app.test_request_context("/"):
        yield


def test_every_problem_code_has_a_vietnamese_message() -> None:
    codes = raised_codes()
    assert len(codes) >= 25  # the scan still finds them
    assert codes <= KNOWN_CODES, sorted(codes - KNOWN_CODES)


@pytest.mark.parametrize(
    ("problem", "expected"),
    [
        (
            Problem(7, "duplicate_in_file", "same question as row 4",
                    {"first_position": 4, "by": "text"}, location_word="row"),
            "Hàng 7: Trùng câu hỏi với hàng 4.",
        ),
        (
            Problem(None, "missing_column", "...",
                    {"columns": ["question", "correct"], "header_position": 3}),
            "Tệp: Thiếu cột “Câu hỏi”, “Đáp án đúng” (hàng tiêu đề là dòng 3).",
        ),
        (
            Problem(None, "missing_column", "...", {"columns": ["B"], "header_position": 1}),
            "Tệp: Thiếu cột “Đáp án B” (hàng tiêu đề là dòng 1).",
        ),
        (
            Problem(None, "too_large", "...", {"size": 31457280, "limit": 20971520}),
            "Tệp: Tệp quá lớn (30,0 MB); giới hạn là 20,0 MB.",
        ),
        (
            Problem(None, "unknown_sheet", "...", {"sheet": "Sheet9", "sheets": ["Đề 1", "Đề 2"]}),
            "Tệp: Không có trang tính tên “Sheet9”. Các trang tính: “Đề 1”, “Đề 2”.",
        ),
        (
            Problem(12, "text_in_use", "...", {"other_code": "LD-02"}),
            "Dòng 12: Ngân hàng đã có câu hỏi này với mã LD-02.",
        ),
    ],
)  # fmt: skip
def test_messages_name_the_place_the_organiser_can_find(problem: Problem, expected: str) -> None:
    assert problem_line(problem) == expected


def test_an_unknown_code_falls_back_to_the_english_message() -> None:
    problem = Problem(3, "brand_new_check", "something new is wrong")
    assert problem_text(problem) == "something new is wrong"

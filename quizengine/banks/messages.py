"""The import report in Vietnamese for the web pages.

Problems carry a stable ``code`` and ``params`` next to their English ``message`` (which the
CLI prints); organisers reading the web page get these translations. A code without one
falls back to the English message, so a new check in the file format never hides an error.
"""

from __future__ import annotations

from collections.abc import Callable

from flask_babel import gettext as _

from quizengine.banks.fileformat import Problem

__all__ = ["KNOWN_CODES", "problem_line", "problem_location", "problem_text"]


def _where(problem: Problem) -> str:
    return _("hàng") if problem.location_word == "row" else _("dòng")


def problem_location(problem: Problem) -> str:
    """ "Dòng 12" (CSV), "Hàng 12" (a sheet's row) or "Tệp" (the whole file)."""
    if problem.position is None:
        return _("Tệp")
    if problem.location_word == "row":
        return _("Hàng %(n)d", n=problem.position)
    return _("Dòng %(n)d", n=problem.position)


def problem_line(problem: Problem) -> str:
    return f"{problem_location(problem)}: {problem_text(problem)}"


def _column_name(name: object) -> str:
    names = {
        "question": _("Câu hỏi"),
        "correct": _("Đáp án đúng"),
        "topic": _("Chủ đề"),
        "difficulty": _("Độ khó"),
        "explanation": _("Giải thích"),
        "code": _("Mã câu hỏi"),
        "legal_basis": _("Căn cứ pháp lý"),
    }
    text = str(name)
    if len(text) == 1:
        return _("Đáp án %(letter)s", letter=text)
    return names.get(text, text)


def _size(value: object) -> str:
    size = int(value) if isinstance(value, int | float | str) and str(value).isdigit() else 0
    if size >= 1024 * 1024:
        return f"{size / (1024 * 1024):.1f} MB".replace(".", ",")
    return f"{max(1, size // 1024)} KB"


def _p(problem: Problem, name: str) -> str:
    return str(problem.params.get(name, ""))


def _list(problem: Problem, name: str) -> list[str]:
    value = problem.params.get(name)
    return [str(item) for item in value] if isinstance(value, list | tuple) else []


_Translate = Callable[[Problem], str]

_MESSAGES: dict[str, _Translate] = {
    # --- the file as a whole
    "unreadable": lambda p: _("Không mở được tệp."),
    "too_large": lambda p: (
        _(
            "Tệp quá lớn (%(size)s); giới hạn là %(limit)s.",
            size=_size(p.params["size"]),
            limit=_size(p.params["limit"]),
        )
        if "size" in p.params and "limit" in p.params
        else _("Tệp quá lớn.")
    ),
    "empty_file": lambda p: _("Tệp trống."),
    "binary_file": lambda p: _(
        "Đây không phải tệp Excel (.xlsx) hay CSV. Hãy mở bằng Excel và lưu lại dạng .xlsx "
        "hoặc CSV UTF-8."
    ),
    "html_file": lambda p: _(
        "Đây là một trang web (HTML), không phải bảng tính. Hãy mở bằng Excel và lưu lại "
        "dạng .xlsx hoặc CSV."
    ),
    "xml_file": lambda p: _(
        "Đây là tệp XML, không phải bảng tính. Hãy mở bằng Excel và lưu lại dạng .xlsx hoặc CSV."
    ),
    "unknown_encoding": lambda p: _(
        "Không nhận ra bảng mã của tệp (UTF-8, Windows-1258 hoặc Windows-1252). Trong Excel "
        "hãy chọn “Lưu thành” > “CSV UTF-8”."
    ),
    "bad_csv": lambda p: _(
        "Không đọc được tệp CSV từ dòng %(line)s (có thể thiếu một dấu ngoặc kép đóng).",
        line=_p(p, "line"),
    ),
    "not_a_workbook": lambda p: _(
        "Tệp không phải sổ tính Excel .xlsx đọc được. Hãy lưu lại dạng .xlsx hoặc CSV."
    ),
    "unknown_sheet": lambda p: _(
        "Không có trang tính tên “%(sheet)s”. Các trang tính: %(sheets)s.",
        sheet=_p(p, "sheet"),
        sheets=", ".join(f"“{s}”" for s in _list(p, "sheets")),
    ),
    "encrypted_workbook": lambda p: _("Sổ tính được đặt mật khẩu. Hãy gỡ mật khẩu rồi lưu lại."),
    "old_xls": lambda p: _("Đây là tệp Excel đời cũ (.xls). Hãy lưu lại dạng .xlsx hoặc CSV."),
    # --- the header
    "no_header": lambda p: _(
        "Không tìm thấy hàng tiêu đề có cột “Câu hỏi” và cột “Đáp án đúng” trong 10 hàng đầu."
    ),
    "missing_column": lambda p: _(
        "Thiếu cột %(columns)s (hàng tiêu đề là %(where)s %(n)s).",
        columns=", ".join(f"“{_column_name(c)}”" for c in _list(p, "columns")),
        where=_where(p),
        n=_p(p, "header_position"),
    ),
    "duplicate_column": lambda p: _(
        "Cột “%(column)s” xuất hiện hai lần trong hàng tiêu đề (%(where)s %(n)s).",
        column=_column_name(p.params.get("column", "")),
        where=_where(p),
        n=_p(p, "header_position"),
    ),
    "unknown_column": lambda p: _(
        "Cột “%(column)s” không thuộc mẫu nên được bỏ qua.", column=_p(p, "column")
    ),
    "no_questions": lambda p: _("Không có câu hỏi nào bên dưới hàng tiêu đề."),
    # --- one row
    "missing_question": lambda p: _("Thiếu nội dung câu hỏi."),
    "option_gap": lambda p: _(
        "Phương án %(option)s để trống nhưng phương án %(later)s có nội dung.",
        option=_p(p, "option"),
        later=_p(p, "later_option"),
    ),
    "too_few_options": lambda p: _(
        "Câu hỏi cần ít nhất hai phương án; câu này có %(count)s.", count=_p(p, "count")
    ),
    "missing_correct": lambda p: _("Thiếu đáp án đúng."),
    "bad_correct": lambda p: _(
        "Đáp án đúng “%(value)s” không hợp lệ: hãy ghi chữ cái của phương án (A, B, …) "
        "hoặc số thứ tự (1, 2, …), nhiều đáp án cách nhau bằng dấu phẩy.",
        value=_p(p, "value"),
    ),
    "repeated_correct": lambda p: _(
        "Đáp án đúng %(answer)s được ghi hai lần.", answer=_p(p, "answer")
    ),
    "correct_points_at_empty": lambda p: _(
        "Đáp án đúng %(answer)s chỉ vào phương án %(option)s đang để trống.",
        answer=_p(p, "answer"),
        option=_p(p, "option"),
    ),
    "bad_difficulty": lambda p: _(
        "Độ khó “%(value)s” không hợp lệ: dùng dễ, trung bình, khó (hoặc 1, 2, 3).",
        value=_p(p, "value"),
    ),
    "duplicate_in_file": lambda p: (
        _("Trùng mã câu hỏi với %(where)s %(n)s.", where=_where(p), n=_p(p, "first_position"))
        if p.params.get("by") == "code"
        else _("Trùng câu hỏi với %(where)s %(n)s.", where=_where(p), n=_p(p, "first_position"))
    ),
    # --- the row against the bank
    "too_long": lambda p: (
        _("Mã câu hỏi dài quá %(n)s ký tự.", n=_p(p, "limit"))
        if p.params.get("field") == "code"
        else _("Chủ đề dài quá %(n)s ký tự.", n=_p(p, "limit"))
    ),
    "text_in_use": lambda p: (
        _("Ngân hàng đã có câu hỏi này với mã %(code)s.", code=_p(p, "other_code"))
        if p.params.get("other_code")
        else _("Ngân hàng đã có câu hỏi này (không có mã).")
    ),
    "question_changed_twice": lambda p: _(
        "%(where)s %(n)s đã sửa câu hỏi mang mã %(code)s; một câu hỏi chỉ được sửa một lần "
        "trong mỗi tệp.",
        where=_where(p).capitalize(),
        n=_p(p, "first_position"),
        code=_p(p, "code"),
    ),
}

KNOWN_CODES = frozenset(_MESSAGES)


def problem_text(problem: Problem) -> str:
    translate = _MESSAGES.get(problem.code)
    if translate is None:
        return problem.message
    return translate(problem)

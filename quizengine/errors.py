"""Domain errors and the one place that maps them to HTTP and JSON.

Services raise these; views never build error responses by hand.
"""

from __future__ import annotations

from typing import Any, ClassVar

from flask import Flask, jsonify, render_template, request
from flask_babel import lazy_gettext as _l
from flask_limiter.errors import RateLimitExceeded
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException


class DomainError(Exception):
    """A refusal the user can understand. ``code`` is part of the JSON contract."""

    status: ClassVar[int] = 400
    code: ClassVar[str] = "invalid"
    default_message: ClassVar[Any] = _l("Yêu cầu không hợp lệ.")

    def __init__(self, message: Any = None, **details: Any) -> None:
        self.message = message if message is not None else self.default_message
        self.details = details
        super().__init__(str(self.message))


class Invalid(DomainError):
    status = 400
    code = "invalid"


class Unauthorized(DomainError):
    status = 401
    code = "unauthorized"
    default_message = _l("Vui lòng đăng nhập để tiếp tục.")


class Forbidden(DomainError):
    status = 403
    code = "forbidden"
    default_message = _l("Bạn không có quyền thực hiện thao tác này.")


class NotFound(DomainError):
    status = 404
    code = "not_found"
    default_message = _l("Không tìm thấy nội dung yêu cầu.")


class Conflict(DomainError):
    status = 409


class DeadlinePassed(Conflict):
    code = "deadline_passed"
    default_message = _l("Đã hết thời gian làm bài; câu trả lời này không được ghi nhận.")


class RoundNotOpen(Conflict):
    code = "round_not_open"
    default_message = _l("Tuần thi chưa mở hoặc đã kết thúc.")


class AttemptsExhausted(Conflict):
    code = "attempts_exhausted"
    default_message = _l("Bạn đã dùng hết số lượt thi của tuần này.")


class AlreadySubmitted(Conflict):
    code = "already_submitted"
    default_message = _l("Bài thi đã được nộp; không thể thay đổi câu trả lời.")


class RateLimited(DomainError):
    status = 429
    code = "rate_limited"
    default_message = _l("Bạn thao tác quá nhanh. Vui lòng thử lại sau ít phút.")


def error_payload(code: str, message: Any) -> dict[str, str]:
    return {"error": code, "message": str(message)}


def register_error_handlers(app: Flask) -> None:
    """The one place where refusals become responses: JSON under /api/, a page elsewhere."""

    def respond(status: int, code: str, message: Any, headers: dict[str, str] | None = None):
        if request.path.startswith("/api/"):
            response = jsonify(error_payload(code, message))
        else:
            response = app.make_response(
                render_template("error.html", status=status, message=str(message))
            )
        response.status_code = status
        for name, value in (headers or {}).items():
            response.headers[name] = value
        return response

    @app.errorhandler(DomainError)
    def domain_error(exc: DomainError):
        return respond(exc.status, exc.code, exc.message)

    @app.errorhandler(CSRFError)
    def csrf_error(exc: CSRFError):
        return respond(
            403, "forbidden", _l("Phiên làm việc đã hết hạn. Vui lòng tải lại trang và thử lại.")
        )

    @app.errorhandler(RateLimitExceeded)
    def rate_limited(exc: RateLimitExceeded):
        retry_after = "60"
        limit = getattr(exc, "limit", None)
        if limit is not None:
            retry_after = str(int(limit.limit.get_expiry()))
        return respond(
            429, RateLimited.code, RateLimited.default_message, {"Retry-After": retry_after}
        )

    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException):
        status = exc.code or 500
        code = {
            400: "invalid",
            401: "unauthorized",
            403: "forbidden",
            404: "not_found",
            405: "invalid",
            413: "invalid",
        }.get(status, "invalid" if status < 500 else "server_error")
        message = {
            404: NotFound.default_message,
            413: _l("Tệp quá lớn."),
        }.get(status, exc.description or "")
        return respond(status, code, message)

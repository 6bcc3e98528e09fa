"""Question-bank pages for organisers: banks, upload → preview → confirm, questions.

Thin: parse a form, call one service or query, render or redirect. The uploaded file is
kept on the server (``uploads.UploadStore``) between the preview and the confirmation.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Any

from flask import (
    Blueprint,
    Response,
    after_this_request,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    send_file,
    url_for,
)
from flask import session as web_session
from flask_babel import gettext as _
from flask_login import current_user
from werkzeug.wrappers import Response as BaseResponse

from quizengine.access import organiser_only
from quizengine.banks import queries, services, versions
from quizengine.banks.export import ExportFormat, export_bank
from quizengine.banks.forms import (
    DIFFICULTY_CHOICES,
    ActionForm,
    BankForm,
    QuestionForm,
    UploadForm,
    apply_errors,
)
from quizengine.banks.messages import problem_line, problem_location, problem_text
from quizengine.banks.services import ImportRejected, ImportReport
from quizengine.banks.uploads import PendingUpload, UploadStore
from quizengine.config import Settings
from quizengine.db import session
from quizengine.errors import Invalid, NotFound
from quizengine.extensions import current_clock, current_store

bp = Blueprint("banks", __name__, url_prefix="/organiser/banks")

# How much of an upload the preview shows; the report lists every problem regardless.
PREVIEW_QUESTIONS = 50
# Problems listed on the page; a longer report is offered as a text file as well.
PROBLEMS_ON_PAGE = 1000
_SESSION_KEY = "bank_uploads"
_MAX_UPLOADS_IN_SESSION = 5

DIFFICULTY_LABELS = {choice.value: choice.label for choice in DIFFICULTY_CHOICES if choice.value}


@bp.app_context_processor
def _bank_template_helpers() -> dict[str, Any]:
    return {
        "difficulty_label": lambda value: DIFFICULTY_LABELS.get(value or "", ""),
    }


def _settings() -> Settings:
    settings: Settings = current_app.config["QUIZENGINE"]
    return settings


def _uploads() -> UploadStore:
    return UploadStore(Path(current_app.instance_path) / "bank_uploads", current_clock())


def _pending(token: str) -> PendingUpload:
    """The upload, only for the organiser session that sent it."""
    if token not in web_session.get(_SESSION_KEY, []):
        raise NotFound()
    return _uploads().get(token, user_id=current_user.id)


def _forget(token: str) -> None:
    tokens = [t for t in web_session.get(_SESSION_KEY, []) if t != token]
    web_session[_SESSION_KEY] = tokens
    _uploads().discard(token)


# --------------------------------------------------------------------------- banks


@bp.get("/")
@organiser_only
def index() -> str:
    return render_template("banks/index.html", lines=queries.bank_lines(session()))


@bp.route("/new", methods=["GET", "POST"])
@organiser_only
def new_bank() -> str | BaseResponse | tuple[str, int]:
    form = BankForm()
    if form.validate_on_submit():
        try:
            bank = services.create_bank(
                session(), slug=form.slug.data, title=form.title.data, clock=current_clock()
            )
        except Invalid as exc:
            apply_errors(form, exc)
        else:
            session().commit()
            flash(
                _("Đã tạo ngân hàng. Tiếp theo: nhập câu hỏi từ tệp hoặc thêm từng câu."),
                "success",
            )
            return redirect(url_for("banks.show", slug=bank.slug))
    status = 400 if form.errors or form.form_errors else 200
    return render_template("banks/bank_form.html", form=form), status


@bp.get("/<slug>")
@organiser_only
def show(slug: str) -> str:
    bank = queries.bank_by_slug(session(), slug)
    text = request.args.get("q", "")[:200]
    topic = request.args.get("topic") or None
    difficulty = request.args.get("difficulty") or None
    status = request.args.get("status") or None
    page = request.args.get("page", 1, type=int) or 1
    result = queries.search_questions(
        session(),
        bank.id,
        text=text,
        topic=topic,
        difficulty=difficulty,
        status=status,
        page=page,
    )
    return render_template(
        "banks/show.html",
        bank=bank,
        result=result,
        topics=queries.bank_topics(session(), bank.id),
        filters={"q": text, "topic": topic, "difficulty": difficulty, "status": status},
        action_form=ActionForm(),
    )


@bp.get("/<slug>/export.<fmt>")
@organiser_only
def export(slug: str, fmt: str) -> Response:
    if fmt not in ("csv", "xlsx"):
        raise NotFound()
    kind: ExportFormat = "csv" if fmt == "csv" else "xlsx"
    handle, name = tempfile.mkstemp(suffix=f".{fmt}")
    os.close(handle)

    @after_this_request
    def _remove(response: Response) -> Response:
        # send_file has opened the file already; on POSIX removing the name is safe.
        os.unlink(name)
        return response

    try:
        export_bank(session(), slug, kind, name)
    except BaseException:
        os.unlink(name)
        raise
    mimetype = (
        "text/csv; charset=utf-8"
        if kind == "csv"
        else "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    return send_file(name, mimetype=mimetype, as_attachment=True, download_name=f"{slug}.{fmt}")


# --------------------------------------------------------------------------- upload


@bp.route("/upload", methods=["GET", "POST"])
@organiser_only
def upload() -> str | BaseResponse | tuple[str, int]:
    form = UploadForm()
    if request.method == "GET" and request.args.get("bank"):
        form.slug.data = request.args["bank"]
    if form.validate_on_submit():
        slug = (form.slug.data or "").strip()
        if not services.valid_slug(slug):
            form.slug.errors = [
                _("Mã ngân hàng chỉ gồm chữ thường không dấu, số và dấu gạch ngang.")
            ]
        else:
            file = form.file.data
            try:
                pending = _uploads().save(
                    file.stream,
                    user_id=current_user.id,
                    slug=slug,
                    title=(form.title.data or "").strip() or None,
                    sheet=(form.sheet.data or "").strip() or None,
                    filename=file.filename or "",
                    max_bytes=_settings().max_upload_bytes,
                )
            except Invalid as exc:
                apply_errors(form, exc)
            else:
                tokens = [*web_session.get(_SESSION_KEY, []), pending.token]
                web_session[_SESSION_KEY] = tokens[-_MAX_UPLOADS_IN_SESSION:]
                return redirect(url_for("banks.preview", token=pending.token))
    status = 400 if form.errors or form.form_errors else 200
    return render_template(
        "banks/upload.html", form=form, lines=queries.bank_lines(session())
    ), status


def _check(pending: PendingUpload, *, dry_run: bool, preview: int = 0) -> ImportReport:
    """Run the import (or its dry run) on the stored upload; errors come back in the report."""
    try:
        return services.import_bank(
            session(),
            _uploads().data_path(pending),
            slug=pending.slug,
            title=pending.title,
            sheet=pending.sheet,
            dry_run=dry_run,
            clock=current_clock(),
            max_bytes=_settings().max_upload_bytes,
            preview_limit=preview,
        )
    except ImportRejected as exc:
        return exc.report


@bp.get("/upload/<token>")
@organiser_only
def preview(token: str) -> str:
    pending = _pending(token)
    report = _check(pending, dry_run=True, preview=PREVIEW_QUESTIONS)
    bank_exists = report.bank_id is not None
    return render_template(
        "banks/preview.html",
        pending=pending,
        report=report,
        bank_exists=bank_exists,
        errors=report.errors[:PROBLEMS_ON_PAGE],
        warnings=report.warnings[:PROBLEMS_ON_PAGE],
        problem_text=problem_text,
        problem_location=problem_location,
        action_form=ActionForm(),
    )


@bp.get("/upload/<token>/report.txt")
@organiser_only
def report_text(token: str) -> Response:
    pending = _pending(token)
    report = _check(pending, dry_run=True)
    lines = [problem_line(problem) for problem in report.problems]
    body = "\r\n".join([pending.filename, *lines]) + "\r\n"
    return Response(
        "\ufeff" + body,
        mimetype="text/plain",
        headers={"Content-Disposition": 'attachment; filename="bao-cao-loi.txt"'},
    )


@bp.post("/upload/<token>/confirm")
@organiser_only
def confirm(token: str) -> BaseResponse:
    pending = _pending(token)
    try:
        report = services.import_bank(
            session(),
            _uploads().data_path(pending),
            slug=pending.slug,
            title=pending.title,
            sheet=pending.sheet,
            clock=current_clock(),
            max_bytes=_settings().max_upload_bytes,
        )
    except ImportRejected:
        # The bank changed since the preview (say, a question was edited meanwhile).
        session().rollback()
        flash(_("Tệp có lỗi nên chưa nhập câu hỏi nào. Xem báo cáo bên dưới."), "error")
        return redirect(url_for("banks.preview", token=token))
    session().commit()
    if report.bank_id is not None:
        services.announce_bank_changed(current_store(), report.bank_id)
    _forget(token)
    flash(
        _(
            "Đã nhập tệp: %(imported)d câu mới, %(updated)d câu cập nhật, "
            "%(unchanged)d câu giữ nguyên.",
            imported=report.imported,
            updated=report.updated,
            unchanged=report.unchanged,
        ),
        "success",
    )
    return redirect(url_for("banks.show", slug=pending.slug))


@bp.post("/upload/<token>/cancel")
@organiser_only
def cancel(token: str) -> BaseResponse:
    pending = _pending(token)
    _forget(pending.token)
    flash(_("Đã huỷ tệp tải lên."), "success")
    return redirect(url_for("banks.index"))


# --------------------------------------------------------------------------- questions


@bp.route("/<slug>/questions/new", methods=["GET", "POST"])
@organiser_only
def new_question(slug: str) -> str | BaseResponse | tuple[str, int]:
    bank = queries.bank_by_slug(session(), slug)
    form = QuestionForm()
    if form.validate_on_submit():
        try:
            versions.add_question(
                session(), bank_id=bank.id, content=form.content(), clock=current_clock()
            )
        except Invalid as exc:
            session().rollback()
            apply_errors(form, exc)
        else:
            session().commit()
            services.announce_bank_changed(current_store(), bank.id)
            flash(_("Đã thêm câu hỏi."), "success")
            return redirect(url_for("banks.show", slug=slug))
    status = 400 if form.errors or form.form_errors else 200
    return render_template(
        "banks/question_form.html", form=form, bank=bank, line=None, version_count=0
    ), status


@bp.route("/<slug>/questions/<int:question_id>/edit", methods=["GET", "POST"])
@organiser_only
def edit_question(slug: str, question_id: int) -> str | BaseResponse | tuple[str, int]:
    bank = queries.bank_by_slug(session(), slug)
    line = queries.question_in_bank(session(), bank.id, question_id)
    form = QuestionForm()
    if request.method == "GET":
        form.fill(line.question, line.version)
    if form.validate_on_submit():
        try:
            outcome = versions.edit_question(
                session(),
                question_id=question_id,
                bank_id=bank.id,
                content=form.content(),
                clock=current_clock(),
            )
        except Invalid as exc:
            session().rollback()
            apply_errors(form, exc)
        else:
            session().commit()
            services.announce_bank_changed(current_store(), bank.id)
            messages = {
                "unchanged": _("Không có thay đổi nào."),
                "edited_in_place": _("Đã lưu câu hỏi."),
                "new_version": _(
                    "Đã lưu câu hỏi thành phiên bản mới; các lượt thi đã làm vẫn giữ nội dung cũ."
                ),
            }
            flash(messages[outcome], "success")
            return redirect(url_for("banks.show", slug=slug))
    status = 400 if form.errors or form.form_errors else 200
    return render_template(
        "banks/question_form.html",
        form=form,
        bank=bank,
        line=line,
        version_count=queries.version_count(session(), question_id),
    ), status


def _set_active(slug: str, question_id: int, active: bool) -> BaseResponse:
    bank = queries.bank_by_slug(session(), slug)
    versions.set_question_active(
        session(),
        question_id=question_id,
        bank_id=bank.id,
        active=active,
        clock=current_clock(),
    )
    session().commit()
    services.announce_bank_changed(current_store(), bank.id)
    flash(
        _("Đã ngừng dùng câu hỏi; câu hỏi không được rút vào đề mới nữa.")
        if not active
        else _("Đã dùng lại câu hỏi."),
        "success",
    )
    back = request.form.get("next", "")
    # Only a path on this site: never an open redirect.
    if not back.startswith("/") or back.startswith(("//", "/\\")):
        back = url_for("banks.show", slug=slug)
    return redirect(back)


@bp.post("/<slug>/questions/<int:question_id>/disable")
@organiser_only
def disable_question(slug: str, question_id: int) -> BaseResponse:
    return _set_active(slug, question_id, False)


@bp.post("/<slug>/questions/<int:question_id>/enable")
@organiser_only
def enable_question(slug: str, question_id: int) -> BaseResponse:
    return _set_active(slug, question_id, True)

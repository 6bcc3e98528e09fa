"""Judges' pages under /judge: standings, flags and review, decisions, finalising,
exports; organisers' prize settings, unit member counts and the audit log.

Thin: parse the form, call one service, commit, let the live board follow, redirect.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable, Iterator
from typing import Any

from flask import (
    Blueprint,
    Response,
    flash,
    redirect,
    render_template,
    request,
    send_file,
    stream_with_context,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy.orm import Session
from werkzeug.wrappers import Response as BaseResponse

from quizengine.access import judge_only, organiser_only
from quizengine.db import session
from quizengine.errors import Conflict, Invalid, NotFound
from quizengine.extensions import current_clock, current_store
from quizengine.judging import publishing, queries, services
from quizengine.judging.audit import ACTION_LABELS, Actor
from quizengine.judging.exports import ExportError, format_duration, prize_label
from quizengine.judging.forms import FORMULA_CHOICES, PrizeForm, ReasonForm
from quizengine.judging.pdf import PdfFontMissing
from quizengine.judging.publishing import UNIT_FORMULA_LABELS

bp = Blueprint("judging", __name__, url_prefix="/judge")


@bp.context_processor
def _helpers() -> dict[str, object]:
    return {"duration": format_duration, "prize_label": prize_label, "page_url": _page_url}


def _page_url(page: int) -> str:
    """This page's URL with its filters kept and another page number."""
    args: dict[str, Any] = {**(request.view_args or {}), **request.args.to_dict()}
    args["page"] = str(page)
    return url_for(str(request.endpoint), **args)


def _actor() -> Actor:
    return Actor(current_user.id, current_user.full_name)


def _int_arg(name: str) -> int | None:
    value = request.args.get(name, "").strip()
    return int(value) if value.isdigit() else None


def _after_change(round_id: int) -> None:
    """Commit the decision, then make the live board follow (Redis after the commit)."""
    session().commit()
    services.refresh_live_board(session(), current_store(), round_id, now=current_clock().now())


def _back(default: str) -> BaseResponse:
    target = request.form.get("next", "")
    if target.startswith("/") and not target.startswith("//"):
        return redirect(target)
    return redirect(default)


# --- judges -------------------------------------------------------------------------------


@bp.get("/")
@judge_only
def index() -> str:
    contests = queries.contests_with_rounds(session(), current_clock().now())
    return render_template("judging/index.html", contests=contests)


@bp.get("/rounds/<int:round_id>")
@judge_only
def standings(round_id: int) -> str:
    view = queries.standings(
        session(),
        round_id,
        now=current_clock().now(),
        unit_id=_int_arg("unit"),
        flag=request.args.get("flag") or None,
        page=_int_arg("page") or 1,
    )
    return render_template(
        "judging/standings.html",
        v=view,
        reason_form=ReasonForm(),
        formula_labels=UNIT_FORMULA_LABELS,
    )


@bp.get("/rounds/<int:round_id>/flags")
@judge_only
def flags(round_id: int) -> str:
    kind = request.args.get("kind") or None
    return render_template(
        "judging/flags.html",
        round=queries.get_round(session(), round_id),
        lines=queries.flagged_attempts(session(), round_id, kind),
        kinds=queries.flag_kinds(session(), round_id),
        kind=kind,
    )


@bp.get("/attempts/<int:attempt_id>")
@judge_only
def review(attempt_id: int) -> str:
    return render_template(
        "judging/review.html",
        r=queries.attempt_review(session(), attempt_id),
        form=ReasonForm(),
    )


def _reason() -> str:
    return request.form.get("reason", "")


def _decide(
    decision: Callable[..., Any],
    *,
    back: str,
    done: str,
    **target: int,
) -> BaseResponse:
    """Run one judge's decision (with its mandatory reason), commit, refresh the live board."""
    try:
        outcome = decision(
            session(), actor=_actor(), reason=_reason(), clock=current_clock(), **target
        )
    except (Invalid, Conflict) as exc:
        flash(str(exc.message), "error")
        return _back(back)
    round_id = target.get("round_id")
    if round_id is None:  # an attempt decision: its round is the changed attempt's
        round_id = outcome.round_id
    _after_change(round_id)
    flash(done, "success")
    return _back(back)


@bp.post("/attempts/<int:attempt_id>/disqualify")
@judge_only
def disqualify_attempt(attempt_id: int) -> BaseResponse:
    return _decide(
        services.disqualify_attempt,
        back=url_for("judging.review", attempt_id=attempt_id),
        done=_("Đã loại lượt thi #%(id)d.", id=attempt_id),
        attempt_id=attempt_id,
    )


@bp.post("/attempts/<int:attempt_id>/reinstate")
@judge_only
def reinstate_attempt(attempt_id: int) -> BaseResponse:
    return _decide(
        services.reinstate_attempt,
        back=url_for("judging.review", attempt_id=attempt_id),
        done=_("Đã khôi phục lượt thi #%(id)d.", id=attempt_id),
        attempt_id=attempt_id,
    )


@bp.post("/rounds/<int:round_id>/contestants/<int:user_id>/disqualify")
@judge_only
def disqualify_contestant(round_id: int, user_id: int) -> BaseResponse:
    return _decide(
        services.disqualify_contestant,
        back=url_for("judging.standings", round_id=round_id),
        done=_("Đã loại thí sinh khỏi vòng thi."),
        round_id=round_id,
        user_id=user_id,
    )


@bp.post("/rounds/<int:round_id>/contestants/<int:user_id>/reinstate")
@judge_only
def reinstate_contestant(round_id: int, user_id: int) -> BaseResponse:
    return _decide(
        services.reinstate_contestant,
        back=url_for("judging.standings", round_id=round_id),
        done=_("Đã khôi phục thí sinh."),
        round_id=round_id,
        user_id=user_id,
    )


@bp.post("/rounds/<int:round_id>/finalise")
@judge_only
def finalise(round_id: int) -> BaseResponse:
    back = url_for("judging.standings", round_id=round_id)
    try:
        outcome = services.finalise_round(
            session(), round_id=round_id, actor=_actor(), clock=current_clock()
        )
    except Conflict as exc:
        flash(str(exc.message), "error")
        return redirect(back)
    if outcome.created:
        _after_change(round_id)
        # The hash itself is shown on the page (a 64-digit word would not wrap in a flash).
        flash(_("Đã chốt kết quả; mã SHA-256 của bảng xếp hạng ở bên dưới."), "success")
    else:
        flash(_("Kết quả đã được chốt trước đó; không có gì thay đổi."), "success")
    return redirect(back)


@bp.get("/rounds/<int:round_id>/export")
@judge_only
def export(round_id: int) -> Response:
    fmt = request.args.get("format", "csv")
    if fmt not in publishing.FORMATS:
        raise NotFound()
    winners_only = request.args.get("winners") == "1"
    delimiter = ";" if request.args.get("delimiter") == ";" else ","
    now = current_clock().now()
    src = publishing.source(session(), round_id, now=now, winners_only=winners_only)
    name = publishing.filename(src.round, fmt, winners_only=winners_only)
    if fmt == "csv":
        return Response(
            stream_with_context(
                _closing_after(publishing.csv_download(src, delimiter=delimiter), session())
            ),
            mimetype=publishing.MEDIA_TYPES["csv"],
            headers={"Content-Disposition": f'attachment; filename="{name}"'},
        )
    # XLSX, PDF and ZIP are written to a temporary file first (zip and xlsx need seeking).
    # Closed by the response once sent (send_file wraps it); closed here on failure.
    out = tempfile.TemporaryFile()  # noqa: SIM115
    try:
        publishing.write_export(
            session(),
            round_id,
            fmt,
            out,
            now=now,
            winners_only=winners_only,
            delimiter=delimiter,
        )
    except (ExportError, PdfFontMissing) as exc:
        out.close()
        raise Invalid(str(exc)) from exc
    out.seek(0)
    return send_file(
        out, mimetype=publishing.MEDIA_TYPES[fmt], as_attachment=True, download_name=name
    )


def _closing_after(chunks: Iterator[bytes], db: Session) -> Iterator[bytes]:
    """Stream, then close the session the rows came from.

    The request's teardown closes its session when the view returns, before the body is
    streamed; reading the rows then opens a new transaction on that session, which nothing
    else would end: its connection would stay "idle in transaction" (holding locks) until
    the garbage collector found the session."""
    try:
        yield from chunks
    finally:
        db.close()


# --- organisers ---------------------------------------------------------------------------


@bp.post("/rounds/<int:round_id>/reopen")
@organiser_only
def reopen(round_id: int) -> BaseResponse:
    back = url_for("judging.standings", round_id=round_id)
    try:
        services.reopen_round(
            session(), round_id=round_id, actor=_actor(), reason=_reason(), clock=current_clock()
        )
    except (Invalid, Conflict) as exc:
        flash(str(exc.message), "error")
        return redirect(back)
    _after_change(round_id)
    flash(_("Đã mở lại kết quả vòng thi; cần chốt lại sau khi điều chỉnh."), "success")
    return redirect(back)


@bp.route("/rounds/<int:round_id>/prizes", methods=["GET", "POST"])
@organiser_only
def prizes(round_id: int) -> str | BaseResponse | tuple[str, int]:
    round_ = queries.get_round(session(), round_id)
    form = PrizeForm()
    if request.method == "GET":
        form.fill(services.settings_of(session(), round_))
    elif form.validate_on_submit():
        try:
            changed = services.configure_prizes(
                session(),
                round_id=round_id,
                actor=_actor(),
                clock=current_clock(),
                prizes=form.values(PrizeForm.PRIZE_FIELDS),
                once_per_contest=bool(form.once_per_contest.data),
                unit_formula=form.unit_formula.data,
                unit_prizes=form.values(PrizeForm.UNIT_FIELDS),
                prize_points=form.values(PrizeForm.POINT_FIELDS),
                reason=form.reason.data or "",
            )
        except (Invalid, Conflict) as exc:
            flash(str(exc.message), "error")
            return render_template(
                "judging/prizes.html", round=round_, form=form, choices=FORMULA_CHOICES
            ), 400
        session().commit()
        flash(_("Đã lưu cấu hình giải.") if changed else _("Không có gì thay đổi."), "success")
        return redirect(url_for("judging.standings", round_id=round_id))
    else:
        return render_template(
            "judging/prizes.html", round=round_, form=form, choices=FORMULA_CHOICES
        ), 400
    return render_template("judging/prizes.html", round=round_, form=form, choices=FORMULA_CHOICES)


@bp.route("/units/members", methods=["GET", "POST"])
@organiser_only
def unit_members() -> str | BaseResponse:
    if request.method == "POST":
        members = {
            int(key.removeprefix("members-")): value
            for key, value in request.form.items()
            if key.startswith("members-") and key.removeprefix("members-").isdigit()
        }
        try:
            changed = services.set_unit_members(
                session(), actor=_actor(), clock=current_clock(), members=members
            )
        except Invalid as exc:
            flash(str(exc.message), "error")
        else:
            session().commit()
            flash(_("Đã cập nhật số đoàn viên của %(n)d đơn vị.", n=changed), "success")
        return redirect(
            url_for(
                "judging.unit_members",
                q=request.form.get("q", ""),
                page=request.form.get("page", "1"),
            )
        )
    view = queries.unit_members_page(
        session(), query=request.args.get("q", ""), page=_int_arg("page") or 1
    )
    return render_template("judging/unit_members.html", v=view)


@bp.get("/audit")
@organiser_only
def audit_log() -> str:
    view = queries.audit_page(session(), round_id=_int_arg("round"), page=_int_arg("page") or 1)
    return render_template("judging/audit.html", v=view, labels=ACTION_LABELS)

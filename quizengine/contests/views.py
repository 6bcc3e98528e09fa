"""Contest and round pages: the public list and contest page, and the organisers' editors.

Thin: parse a form, call one service or query, render or redirect. A service's refusal on a
form page is shown under the fields (status 400); other refusals go to the error handlers.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user
from werkzeug.wrappers import Response

from quizengine.access import organiser_only, public
from quizengine.attempts.queries import entry_state
from quizengine.contests import queries, services
from quizengine.contests.forms import ContestForm, RoundForm, apply_errors
from quizengine.db import session
from quizengine.errors import Invalid
from quizengine.extensions import current_clock
from quizengine.models import Role

bp = Blueprint("contests", __name__)


# --- contestants -------------------------------------------------------------------------


@bp.get("/contests")
@public
def index() -> str:
    lines = queries.listed_contests(session(), current_clock().now())
    return render_template("contests/index.html", lines=lines)


@bp.get("/contests/<int:contest_id>")
@public
def show(contest_id: int) -> str:
    line = queries.contest_page(session(), contest_id, current_clock().now())
    is_contestant = current_user.is_authenticated and current_user.has_role(Role.CONTESTANT)
    state = entry_state(session(), contest_id, current_user.id) if is_contestant else None
    return render_template(
        "contests/show.html",
        line=line,
        contest=line.contest,
        state=state,
        is_contestant=is_contestant,
    )


# --- organisers: contests ----------------------------------------------------------------


@bp.get("/organiser/contests")
@organiser_only
def manage() -> str:
    return render_template(
        "contests/manage.html",
        lines=queries.organiser_contests(session()),
    )


@bp.route("/organiser/contests/new", methods=["GET", "POST"])
@organiser_only
def new_contest() -> str | Response | tuple[str, int]:
    form = ContestForm.for_contest(None)
    if form.validate_on_submit():
        try:
            contest = services.create_contest(
                session(),
                title=form.title.data,
                clock=current_clock(),
                description=form.description.data or "",
                rules=form.rules.data or "",
                access_code=form.access_code.data,
                boards=form.board_names(),
            )
        except Invalid as exc:
            apply_errors(form, exc)
        else:
            session().commit()
            flash(_("Đã tạo cuộc thi. Tiếp theo: thêm tuần thi."), "success")
            return redirect(url_for("contests.manage_contest", contest_id=contest.id))
    return _form_page("contests/contest_form.html", form, contest=None)


@bp.get("/organiser/contests/<int:contest_id>")
@organiser_only
def manage_contest(contest_id: int) -> str:
    contest = queries.contest_for_organiser(session(), contest_id)
    now = current_clock().now()
    rounds = [queries.RoundLine(r, queries.round_status(r, now)) for r in contest.rounds]
    return render_template("contests/manage_contest.html", contest=contest, rounds=rounds)


@bp.route("/organiser/contests/<int:contest_id>/edit", methods=["GET", "POST"])
@organiser_only
def edit_contest(contest_id: int) -> str | Response | tuple[str, int]:
    contest = queries.contest_for_organiser(session(), contest_id)
    form = ContestForm.for_contest(contest)
    if form.validate_on_submit():
        try:
            services.update_contest(
                session(),
                contest_id,
                title=form.title.data,
                description=form.description.data or "",
                rules=form.rules.data or "",
                access_code=form.access_code.data,
                boards=form.board_edits(),
            )
        except Invalid as exc:
            session().rollback()
            apply_errors(form, exc)
        else:
            session().commit()
            flash(_("Đã lưu cuộc thi."), "success")
            return redirect(url_for("contests.manage_contest", contest_id=contest_id))
    return _form_page("contests/contest_form.html", form, contest=contest)


# --- organisers: rounds ------------------------------------------------------------------


@bp.route("/organiser/contests/<int:contest_id>/rounds/new", methods=["GET", "POST"])
@organiser_only
def new_round(contest_id: int) -> str | Response | tuple[str, int]:
    contest = queries.contest_for_organiser(session(), contest_id)
    form = RoundForm.for_round(None)
    form.set_banks(queries.bank_choices(session()))
    if form.validate_on_submit():
        try:
            rnd = services.create_round(
                session(), contest_id=contest_id, clock=current_clock(), **form.values()
            )
        except Invalid as exc:
            session().rollback()
            apply_errors(form, exc)
        else:
            session().commit()
            flash(_("Đã tạo tuần thi."), "success")
            return redirect(url_for("contests.round_overview", round_id=rnd.id))
    return _form_page(
        "contests/round_form.html",
        form,
        contest=contest,
        round=None,
        topics=queries.known_topics(session()),
    )


@bp.get("/organiser/rounds/<int:round_id>")
@organiser_only
def round_overview(round_id: int) -> str:
    overview = queries.round_overview(session(), round_id, current_clock().now())
    return render_template("contests/round_overview.html", o=overview, round=overview.round)


@bp.route("/organiser/rounds/<int:round_id>/edit", methods=["GET", "POST"])
@organiser_only
def edit_round(round_id: int) -> str | Response | tuple[str, int]:
    rnd = queries.round_for_organiser(session(), round_id)
    locked = services.LOCKED_ONCE_TAKEN if services.has_attempts(session(), round_id) else ()
    form = RoundForm.for_round(rnd, locked=locked)
    form.set_banks(queries.bank_choices(session()))
    if form.validate_on_submit():
        try:
            services.update_round(session(), round_id, clock=current_clock(), **form.values())
        except Invalid as exc:
            session().rollback()
            apply_errors(form, exc)
        else:
            session().commit()
            flash(_("Đã lưu tuần thi."), "success")
            return redirect(url_for("contests.round_overview", round_id=round_id))
    return _form_page(
        "contests/round_form.html",
        form,
        contest=rnd.contest,
        round=rnd,
        topics=queries.known_topics(session()),
    )


def _form_page(template: str, form: Any, **context: Any) -> str | tuple[str, int]:
    """The form again; 400 when it was posted with errors, so tests and proxies can tell."""
    html = render_template(template, form=form, **context)
    if form.is_submitted():
        return html, 400
    return html

"""Taking an attempt: the phone pages (work without JavaScript) and the JSON API they use.

Views are thin: read the request, call one service, commit, then update the live boards
for attempts finalised in that transaction, then respond.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from flask import (
    Blueprint,
    Response,
    current_app,
    flash,
    jsonify,
    redirect,
    render_template,
    request,
    url_for,
)
from flask import session as http_session
from flask_babel import gettext as _
from flask_login import current_user
from werkzeug.wrappers import Response as WerkzeugResponse

from quizengine.access import contestant_only
from quizengine.attempts import queries, services
from quizengine.attempts.plans import PlanCache, VersionCache
from quizengine.attempts.pools import PoolCache
from quizengine.clock import iso_z
from quizengine.db import autocommit, session
from quizengine.errors import (
    AlreadySubmitted,
    Conflict,
    DeadlinePassed,
    DomainError,
    Forbidden,
    Invalid,
    NotFound,
)
from quizengine.extensions import (
    client_ip,
    current_clock,
    current_store,
    limiter,
    process_cache,
)
from quizengine.leaderboard.services import rank_of, record_result
from quizengine.models import Attempt, Round
from quizengine.store import StoreUnavailable

bp = Blueprint("attempts", __name__)
api = Blueprint("attempts_api", __name__, url_prefix="/api/v1")

# Rate limits: one per request, keyed by the account in the signed session cookie (never a
# database read), by address only for callers without one (they get 401 anyway). No
# per-address cap for signed-in callers: a whole factory shares one public address, and
# every cap is another Redis round trip on the busiest requests of a round (bench/spike).
ANSWER_LIMIT = "120/minute"
START_LIMIT = "30/minute"
SUBMIT_LIMIT = "30/minute"


def _account_key() -> str:
    user = http_session.get("_user_id")
    return f"attempts:user:{user}" if user else f"attempts:ip:{client_ip()}"


def _answer_key() -> str:
    user = http_session.get("_user_id")
    return f"attempts:answer:user:{user}" if user else f"attempts:answer:ip:{client_ip()}"


# --------------------------------------------------------------------------- plumbing


def _grace() -> float:
    return float(current_app.config["QUIZENGINE"].answer_grace_seconds)


def _start_attempt(
    round_id: int, *, board: str | None, access_code: str | None
) -> services.StartResult:
    """The start service with this request's contestant, clock, store and caches."""
    return services.start_attempt(
        session(),
        round_id=round_id,
        user_id=_user_id(),
        clock=current_clock(),
        store=current_store(),
        # Bank tokens at most once a second: an edit reaches every draw within it.
        pools=process_cache("quizengine.attempts.pools", lambda: PoolCache(check_every=1.0)),
        plans=process_cache("quizengine.attempts.plans", PlanCache),
        versions=process_cache("quizengine.attempts.versions", VersionCache),
        grace_seconds=_grace(),
        board=board,
        access_code=access_code,
        ip=client_ip(),
        user_agent=_user_agent(),
    )


def _user_id() -> int:
    return int(current_user.get_id())


def _commit() -> None:
    """Commit the request's work, then move the live boards for attempts it finished."""
    db = session()
    finished = services.finished_in(db)
    db.commit()
    store = current_store()
    for attempt in finished:
        record_result(db, store, attempt)


def _keep_finalised() -> None:
    """A refusal after an attempt was finalised on the way (its time ran out): keep that
    finalisation, drop the rest."""
    if services.has_finished(session()):
        _commit()
    else:
        session().rollback()


@contextmanager
def _keeping_finalisation(refusal: type[DomainError]) -> Iterator[None]:
    """On ``refusal``, keep an expiry finalised on the way, then let the refusal answer."""
    try:
        yield
    except refusal:
        _keep_finalised()
        raise


def _json_body() -> dict[str, Any]:
    body = request.get_json(silent=True)
    if body is None:
        return {}
    if not isinstance(body, dict):
        raise Invalid(_("Nội dung gửi lên phải là một đối tượng JSON."))
    return body


def _optional_text(value: Any) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise Invalid()
    return value


def _user_agent() -> str | None:
    return request.headers.get("User-Agent")


def _rank(attempt: Attempt) -> int | None:
    # The attempt is already committed: a store outage must not turn its result into a 500.
    try:
        return rank_of(
            session(),
            current_store(),
            attempt.round_id,
            attempt.user_id,
            now=current_clock().now(),
        )
    except StoreUnavailable:
        return None


def _result_payload(attempt: Attempt) -> dict[str, Any]:
    return {
        "score": attempt.score,
        "correct": attempt.correct_count,
        "total": attempt.total,
        "duration_ms": attempt.duration_ms,
        "rank": _rank(attempt),
    }


# --------------------------------------------------------------------------- JSON API


@api.post("/rounds/<int:round_id>/attempts")
@limiter.limit(START_LIMIT, key_func=_account_key)
@contestant_only
@autocommit
def api_start(round_id: int) -> tuple[Response, int]:
    body = _json_body()
    with _keeping_finalisation(DomainError):
        result = _start_attempt(
            round_id,
            board=_optional_text(body.get("board")),
            access_code=_optional_text(body.get("access_code")),
        )
    _commit()
    sheet = _sheet_of(result)
    return jsonify(queries.attempt_payload(result.attempt, sheet)), 201 if result.created else 200


def _sheet_of(result: services.StartResult) -> list[queries.SheetQuestion]:
    if result.drawn:
        return [queries.sheet_question(d.item, d.version) for d in result.drawn]
    return queries.load_sheet(session(), result.attempt.id)


@api.get("/attempts/<int:attempt_id>")
@contestant_only
def api_attempt(attempt_id: int) -> Response:
    attempt = _open(attempt_id)
    if attempt.finished:
        raise DeadlinePassed() if attempt.status == services.EXPIRED else AlreadySubmitted()
    return jsonify(queries.attempt_payload(attempt, queries.load_sheet(session(), attempt.id)))


@api.put("/attempts/<int:attempt_id>/answers/<int:question_id>")
@limiter.limit(ANSWER_LIMIT, key_func=_answer_key)
@contestant_only
def api_save_answer(attempt_id: int, question_id: int) -> Response:
    body = _json_body()
    choice = body.get("choice")
    if not isinstance(choice, list) or not all(isinstance(k, str) for k in choice):
        raise Invalid(_('Gửi "choice" là danh sách các chữ cái phương án, ví dụ ["B"].'))
    with _keeping_finalisation(DeadlinePassed):
        services.save_answer(
            session(),
            attempt_id=attempt_id,
            question_id=question_id,
            user_id=_user_id(),
            choice=choice,
            clock=current_clock(),
            grace_seconds=_grace(),
            ip=client_ip(),
            user_agent=_user_agent(),
        )
    _commit()
    return jsonify({"saved": True})


@api.put("/attempts/<int:attempt_id>/prediction")
@limiter.limit(ANSWER_LIMIT, key_func=_answer_key)
@contestant_only
def api_save_prediction(attempt_id: int) -> Response:
    body = _json_body()
    if "prediction" not in body:
        raise Invalid(_('Gửi "prediction" là một số nguyên không âm.'))
    with _keeping_finalisation(DeadlinePassed):
        services.save_prediction(
            session(),
            attempt_id=attempt_id,
            user_id=_user_id(),
            prediction=body["prediction"],
            clock=current_clock(),
            grace_seconds=_grace(),
        )
    _commit()
    return jsonify({"saved": True})


@api.post("/attempts/<int:attempt_id>/submit")
@limiter.limit(SUBMIT_LIMIT, key_func=_account_key)
@contestant_only
def api_submit(attempt_id: int) -> Response:
    body = _json_body()
    attempt = services.submit_attempt(
        session(),
        attempt_id=attempt_id,
        user_id=_user_id(),
        clock=current_clock(),
        grace_seconds=_grace(),
        prediction=body.get("prediction"),
    )
    _commit()
    return jsonify(_result_payload(attempt))


# --------------------------------------------------------------------------- pages


def _open(attempt_id: int) -> Attempt:
    """The contestant's attempt, finalised first (and committed) if its time ran out."""
    attempt = services.open_attempt(
        session(),
        attempt_id=attempt_id,
        user_id=_user_id(),
        clock=current_clock(),
        grace_seconds=_grace(),
    )
    _commit()
    return attempt


def _to_result(attempt_id: int) -> WerkzeugResponse:
    return redirect(url_for("attempts.result", attempt_id=attempt_id))


@bp.post("/rounds/<int:round_id>/start")
@limiter.limit(START_LIMIT, key_func=_account_key)
@contestant_only
@autocommit
def start(round_id: int) -> WerkzeugResponse:
    try:
        result = _start_attempt(
            round_id,
            board=request.form.get("board") or None,
            access_code=request.form.get("access_code") or None,
        )
    except (Invalid, Forbidden, Conflict) as exc:
        # Back to the contest page's form with the reason (wrong code, no board, no attempts
        # left, round closed); the refusal page only when there is no contest page.
        _keep_finalised()
        contest_id = queries.contest_id_of_round(session(), round_id)
        if contest_id is None or "contests.show" not in current_app.view_functions:
            raise
        flash(str(exc.message), "error")
        return redirect(url_for("contests.show", contest_id=contest_id) + f"#round-{round_id}")
    _commit()
    return redirect(url_for("attempts.show", attempt_id=result.attempt.id))


@bp.get("/attempts/<int:attempt_id>")
@contestant_only
def show(attempt_id: int) -> WerkzeugResponse:
    attempt = _open(attempt_id)
    if attempt.finished:
        return _to_result(attempt.id)
    sheet = queries.load_sheet(session(), attempt.id)
    first_open = next((q.position for q in sheet if not q.answered), 1)
    return redirect(url_for("attempts.question", attempt_id=attempt.id, n=first_open))


@bp.get("/attempts/<int:attempt_id>/q/<int:n>")
@contestant_only
def question(attempt_id: int, n: int) -> str | WerkzeugResponse:
    attempt = _open(attempt_id)
    if attempt.finished:
        return _to_result(attempt.id)
    sheet = queries.load_sheet(session(), attempt.id)
    if not 1 <= n <= len(sheet):
        raise NotFound()
    return _render_take(attempt, sheet, screen=n)


@bp.post("/attempts/<int:attempt_id>/q/<int:n>")
@limiter.limit(ANSWER_LIMIT, key_func=_answer_key)
@contestant_only
def answer(attempt_id: int, n: int) -> WerkzeugResponse:
    """Without JavaScript: save this screen's choice (when it changed), then move."""
    attempt = _open(attempt_id)
    if attempt.finished:
        if attempt.status == services.EXPIRED:
            flash(_("Đã hết giờ làm bài. Bài thi được chấm với các câu trả lời đã lưu."), "error")
        return _to_result(attempt_id)
    sheet = queries.load_sheet(session(), attempt_id)
    if not 1 <= n <= len(sheet):
        raise NotFound()
    current = sheet[n - 1]
    choice = request.form.getlist("choice")
    try:
        if sorted(choice) != sorted(current.chosen):
            services.save_answer(
                session(),
                attempt_id=attempt_id,
                question_id=current.question_id,
                user_id=_user_id(),
                choice=choice,
                clock=current_clock(),
                grace_seconds=_grace(),
                ip=client_ip(),
                user_agent=_user_agent(),
            )
            _commit()
    except DeadlinePassed:
        _keep_finalised()
        flash(_("Đã hết giờ làm bài. Bài thi được chấm với các câu trả lời đã lưu."), "error")
        return _to_result(attempt_id)
    except AlreadySubmitted:
        return _to_result(attempt_id)
    except Invalid as exc:
        flash(str(exc.message), "error")
        return redirect(url_for("attempts.question", attempt_id=attempt_id, n=n))
    go = request.form.get("go", "next")
    if go == "finish" or (go == "next" and n >= len(sheet)):
        return redirect(url_for("attempts.finish", attempt_id=attempt_id))
    target = {"prev": n - 1, "next": n + 1}.get(go) or (int(go) if go.isdigit() else n)
    target = min(max(target, 1), len(sheet))
    return redirect(url_for("attempts.question", attempt_id=attempt_id, n=target))


@bp.get("/attempts/<int:attempt_id>/finish")
@contestant_only
def finish(attempt_id: int) -> str | WerkzeugResponse:
    attempt = _open(attempt_id)
    if attempt.finished:
        return _to_result(attempt.id)
    sheet = queries.load_sheet(session(), attempt.id)
    return _render_take(attempt, sheet, screen="finish")


@bp.post("/attempts/<int:attempt_id>/finish")
@limiter.limit(SUBMIT_LIMIT, key_func=_account_key)
@contestant_only
def finish_post(attempt_id: int) -> WerkzeugResponse:
    """Without JavaScript: save the prediction if given, and submit when asked."""
    raw = (request.form.get("prediction") or "").strip()
    prediction: int | None = None
    try:
        if raw:
            if not raw.isdigit():
                raise Invalid(_("Câu trả lời dự đoán phải là một số nguyên không âm."))
            prediction = int(raw)
        if request.form.get("action") == "submit":
            services.submit_attempt(
                session(),
                attempt_id=attempt_id,
                user_id=_user_id(),
                clock=current_clock(),
                grace_seconds=_grace(),
                prediction=prediction,
            )
            _commit()
            return _to_result(attempt_id)
        if prediction is not None:
            services.save_prediction(
                session(),
                attempt_id=attempt_id,
                user_id=_user_id(),
                prediction=prediction,
                clock=current_clock(),
                grace_seconds=_grace(),
            )
            _commit()
            flash(_("Đã lưu câu trả lời dự đoán."), "success")
    except DeadlinePassed:
        _keep_finalised()
        return _to_result(attempt_id)
    except AlreadySubmitted:
        return _to_result(attempt_id)
    except Invalid as exc:
        flash(str(exc.message), "error")
    return redirect(url_for("attempts.finish", attempt_id=attempt_id))


@bp.get("/attempts/<int:attempt_id>/result")
@contestant_only
def result(attempt_id: int) -> str | WerkzeugResponse:
    attempt = _open(attempt_id)
    if not attempt.finished:
        return redirect(url_for("attempts.show", attempt_id=attempt.id))
    round_ = session().get(Round, attempt.round_id)
    if round_ is None:
        raise NotFound()
    now = current_clock().now()
    review = (
        queries.load_review(session(), attempt.id)
        if queries.review_open(round_, attempt, now)
        else None
    )
    max_score = sum(r.points for r in review) if review is not None else None
    return render_template(
        "attempts/result.html",
        attempt=attempt,
        round=round_,
        rank=_rank(attempt),
        review=review,
        max_score=max_score,
        contest_url=_contest_url(round_.contest_id),
    )


def _contest_url(contest_id: int) -> str:
    # The contest page belongs to the contests feature; fall back home until it exists.
    if "contests.show" in current_app.view_functions:
        return url_for("contests.show", contest_id=contest_id)
    return url_for("home.index")


def _render_take(attempt: Attempt, sheet: list[queries.SheetQuestion], *, screen: Any) -> str:
    round_ = session().get(Round, attempt.round_id)
    if round_ is None:
        raise NotFound()
    now = current_clock().now()
    current = sheet[screen - 1] if isinstance(screen, int) else sheet[-1]
    data = {
        "attempt": queries.attempt_payload(attempt, sheet),
        "now": iso_z(now),
        "grace": _grace(),
        "screen": screen,
        "prediction": attempt.prediction,
        "hasPrediction": round_.has_prediction,
        "urls": {
            "answer": url_for("attempts_api.api_save_answer", attempt_id=attempt.id, question_id=0)[
                :-1
            ],
            "prediction": url_for("attempts_api.api_save_prediction", attempt_id=attempt.id),
            "submit": url_for("attempts_api.api_submit", attempt_id=attempt.id),
            "result": url_for("attempts.result", attempt_id=attempt.id),
            "q": url_for("attempts.question", attempt_id=attempt.id, n=0)[:-1],
            "finish": url_for("attempts.finish", attempt_id=attempt.id),
        },
    }
    seconds_left = max(0, int((attempt.deadline_at - now).total_seconds()))
    return render_template(
        "attempts/take.html",
        attempt=attempt,
        round=round_,
        sheet=sheet,
        current=current,
        screen=screen,
        seconds_left=seconds_left,
        data=data,
    )

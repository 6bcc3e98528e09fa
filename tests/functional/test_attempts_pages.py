"""The phone pages without JavaScript: plain form posts save and move; result and review."""

from __future__ import annotations

import re

from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from quizengine.clock import FrozenClock
from quizengine.models import AnswerEvent, Attempt, AttemptItem, QuestionVersion
from tests.conftest import ROOT
from tests.factories import make_bank, make_contest, make_contestant, make_question, make_round
from tests.functional.test_attempts_api import correct_keys, login

PAGE_BUDGET = 40 * 1024


def _form_start(client: FlaskClient, token: str, round_id: int, **fields: str):  # type: ignore[no-untyped-def]
    return client.post(f"/rounds/{round_id}/start", data={"csrf_token": token, **fields})


def _attempt_id(location: str) -> int:
    match = re.search(r"/attempts/(\d+)", location)
    assert match, location
    return int(match.group(1))


def test_start_form_redirects_to_the_first_question_and_resumes(
    client: FlaskClient, db_session: Session, clock: FrozenClock
) -> None:
    rnd = make_round(db_session, draw=3)
    user = make_contestant(db_session)
    db_session.commit()
    token = login(client, user)

    response = _form_start(client, token, rnd.id)
    assert response.status_code == 302
    aid = _attempt_id(response.headers["Location"])
    follow = client.get(response.headers["Location"])
    assert follow.status_code == 302
    assert follow.headers["Location"].endswith(f"/attempts/{aid}/q/1")

    again = _form_start(client, token, rnd.id)
    assert _attempt_id(again.headers["Location"]) == aid


def test_without_javascript_each_post_saves_and_moves(
    client: FlaskClient, db_session: Session, clock: FrozenClock
) -> None:
    rnd = make_round(db_session, draw=3, prediction="Bao nhiêu người đúng hết?")
    user = make_contestant(db_session)
    db_session.commit()
    token = login(client, user)
    aid = _attempt_id(_form_start(client, token, rnd.id).headers["Location"])

    page = client.get(f"/attempts/{aid}/q/1").get_data(as_text=True)
    assert 'type="radio" name="choice" value="A"' in page
    assert "Câu 1/3" in page

    moved = client.post(
        f"/attempts/{aid}/q/1", data={"csrf_token": token, "choice": "B", "go": "next"}
    )
    assert moved.headers["Location"].endswith(f"/attempts/{aid}/q/2")
    jump = client.post(f"/attempts/{aid}/q/2", data={"csrf_token": token, "go": "3"})
    assert jump.headers["Location"].endswith(f"/attempts/{aid}/q/3")
    back = client.post(
        f"/attempts/{aid}/q/3", data={"csrf_token": token, "choice": "A", "go": "prev"}
    )
    assert back.headers["Location"].endswith(f"/attempts/{aid}/q/2")
    last = client.post(
        f"/attempts/{aid}/q/3", data={"csrf_token": token, "choice": "A", "go": "next"}
    )
    assert last.headers["Location"].endswith(f"/attempts/{aid}/finish")

    items = db_session.scalars(
        select(AttemptItem).where(AttemptItem.attempt_id == aid).order_by(AttemptItem.position)
    ).all()
    assert [i.chosen is not None for i in items] == [True, False, True]
    # Unchanged re-posts log nothing: one event per real change.
    assert len(db_session.scalars(select(AnswerEvent)).all()) == 2
    page = client.get(f"/attempts/{aid}/q/1").get_data(as_text=True)
    assert 'value="B" checked' in page

    finish = client.get(f"/attempts/{aid}/finish").get_data(as_text=True)
    assert "Bao nhiêu người đúng hết?" in finish
    assert "Bạn đã trả lời 2/3 câu." in finish
    refused = client.post(f"/attempts/{aid}/finish", data={"csrf_token": token, "action": "submit"})
    assert refused.headers["Location"].endswith(f"/attempts/{aid}/finish")
    assert "câu hỏi dự đoán" in client.get(f"/attempts/{aid}/finish").get_data(as_text=True)

    done = client.post(
        f"/attempts/{aid}/finish",
        data={"csrf_token": token, "action": "submit", "prediction": "42"},
    )
    assert done.headers["Location"].endswith(f"/attempts/{aid}/result")
    result = client.get(f"/attempts/{aid}/result").get_data(as_text=True)
    assert 'id="score"' in result and 'id="rank">1<' in result
    attempt = db_session.get(Attempt, aid)
    assert attempt is not None and attempt.status == "submitted" and attempt.prediction == 42
    # A finished attempt's pages lead to its result.
    assert client.get(f"/attempts/{aid}/q/1").headers["Location"].endswith("/result")


def test_prediction_can_be_saved_alone_without_javascript(
    client: FlaskClient, db_session: Session, clock: FrozenClock
) -> None:
    rnd = make_round(db_session, draw=1, prediction="Bao nhiêu?")
    user = make_contestant(db_session)
    db_session.commit()
    token = login(client, user)
    aid = _attempt_id(_form_start(client, token, rnd.id).headers["Location"])
    for bad in ("-3", "abc", "1.5"):
        client.post(
            f"/attempts/{aid}/finish",
            data={"csrf_token": token, "prediction": bad, "action": "save"},
        )
        assert db_session.scalar(select(Attempt.prediction).where(Attempt.id == aid)) is None
    client.post(
        f"/attempts/{aid}/finish", data={"csrf_token": token, "prediction": "77", "action": "save"}
    )
    assert db_session.scalar(select(Attempt.prediction).where(Attempt.id == aid)) == 77
    page = client.get(f"/attempts/{aid}/finish").get_data(as_text=True)
    assert 'value="77"' in page


def test_time_out_without_javascript_finalises_and_shows_the_result(
    client: FlaskClient, db_session: Session, clock: FrozenClock
) -> None:
    rnd = make_round(db_session, draw=2, minutes=1)
    user = make_contestant(db_session)
    db_session.commit()
    token = login(client, user)
    aid = _attempt_id(_form_start(client, token, rnd.id).headers["Location"])
    client.post(f"/attempts/{aid}/q/1", data={"csrf_token": token, "choice": "A", "go": "next"})
    clock.advance(minutes=1, seconds=10)

    late = client.post(
        f"/attempts/{aid}/q/2", data={"csrf_token": token, "choice": "A", "go": "next"}
    )
    assert late.headers["Location"].endswith(f"/attempts/{aid}/result")
    page = client.get(late.headers["Location"]).get_data(as_text=True)
    assert "Hết giờ" in page
    attempt = db_session.get(Attempt, aid)
    assert attempt is not None and attempt.status == "expired"
    items = db_session.scalars(
        select(AttemptItem).where(AttemptItem.attempt_id == aid).order_by(AttemptItem.position)
    ).all()
    assert items[0].chosen is not None and items[1].chosen is None


def test_opening_an_expired_attempt_finalises_it(
    client: FlaskClient, db_session: Session, clock: FrozenClock
) -> None:
    rnd = make_round(db_session, draw=2, minutes=1)
    user = make_contestant(db_session)
    db_session.commit()
    token = login(client, user)
    aid = _attempt_id(_form_start(client, token, rnd.id).headers["Location"])
    clock.advance(minutes=3)
    response = client.get(f"/attempts/{aid}")
    assert response.headers["Location"].endswith(f"/attempts/{aid}/result")
    assert db_session.scalar(select(Attempt.status).where(Attempt.id == aid)) == "expired"


def _submitted_with_review(
    client: FlaskClient, db_session: Session, clock: FrozenClock, policy: str
) -> tuple[int, str]:
    bank = make_bank(db_session)
    make_question(
        db_session,
        bank,
        text="Người lao động được nghỉ hằng năm bao nhiêu ngày?",
        options=["10", "12", "14"],
        correct=[1],
        explanation="Đủ 12 tháng làm việc thì được nghỉ 12 ngày.",
        legal_basis="Điều 113 Bộ luật Lao động 2019",
    )
    rnd = make_round(db_session, bank=bank, draw=1, review_policy=policy)
    user = make_contestant(db_session)
    db_session.commit()
    token = login(client, user)
    aid = _attempt_id(_form_start(client, token, rnd.id).headers["Location"])
    qid = db_session.scalars(
        select(AttemptItem.question_id).where(AttemptItem.attempt_id == aid)
    ).one()
    right = correct_keys(db_session, aid, qid)[0]
    client.post(f"/attempts/{aid}/q/1", data={"csrf_token": token, "choice": right, "go": "finish"})
    client.post(f"/attempts/{aid}/finish", data={"csrf_token": token, "action": "submit"})
    return aid, client.get(f"/attempts/{aid}/result").get_data(as_text=True)


def test_review_after_submit_shows_answers_explanation_and_legal_basis(
    client: FlaskClient, db_session: Session, clock: FrozenClock
) -> None:
    _, page = _submitted_with_review(client, db_session, clock, "after_submit")
    assert "Đủ 12 tháng làm việc" in page
    assert "Điều 113 Bộ luật Lao động 2019" in page
    assert "đáp án đúng" in page
    assert 'id="score">1 / 1<' in page
    assert 'id="correct">1/1<' in page


def test_review_after_close_waits_for_the_round_to_close(
    client: FlaskClient, db_session: Session, clock: FrozenClock
) -> None:
    aid, page = _submitted_with_review(client, db_session, clock, "after_close")
    assert "Đủ 12 tháng làm việc" not in page
    assert "sau khi tuần thi kết thúc" in page
    clock.advance(days=7)
    later = client.get(f"/attempts/{aid}/result").get_data(as_text=True)
    assert "Đủ 12 tháng làm việc" in later


def test_review_never_shows_no_answers(
    client: FlaskClient, db_session: Session, clock: FrozenClock
) -> None:
    aid, page = _submitted_with_review(client, db_session, clock, "never")
    clock.advance(days=30)
    later = client.get(f"/attempts/{aid}/result").get_data(as_text=True)
    for text in (page, later):
        assert "Đủ 12 tháng làm việc" not in text
        assert "đáp án đúng" not in text


def test_board_is_asked_by_the_start_form(
    client: FlaskClient, db_session: Session, clock: FrozenClock
) -> None:
    contest = make_contest(db_session, boards=("Bảng A — cán bộ công đoàn", "Bảng B — đoàn viên"))
    rnd = make_round(db_session, contest=contest, draw=1)
    user = make_contestant(db_session)
    db_session.commit()
    token = login(client, user)
    refused = _form_start(client, token, rnd.id)
    assert refused.status_code == 302
    assert refused.headers["Location"].endswith(f"/contests/{contest.id}#round-{rnd.id}")
    page = client.get(f"/contests/{contest.id}").get_data(as_text=True)
    assert "Vui lòng chọn bảng thi của bạn." in page  # the reason, above the form again
    ok = _form_start(client, token, rnd.id, board="Bảng B — đoàn viên")
    assert ok.status_code == 302
    assert db_session.scalar(select(Attempt.board_id)) == contest.boards[1].id


def test_attempt_page_with_one_question_fits_the_40_kb_budget(
    client: FlaskClient, db_session: Session, clock: FrozenClock
) -> None:
    bank = make_bank(db_session)
    make_question(
        db_session,
        bank,
        text="Theo Bộ luật Lao động 2019, thời giờ làm việc bình thường không quá bao nhiêu giờ "
        "trong 01 ngày và không quá bao nhiêu giờ trong 01 tuần?",
        options=[
            "08 giờ/ngày, 48 giờ/tuần",
            "10 giờ/ngày, 48 giờ/tuần",
            "08 giờ/ngày, 44 giờ/tuần",
            "12 giờ/ngày, 60 giờ/tuần",
        ],
        correct=[0],
    )
    rnd = make_round(db_session, bank=bank, draw=1, prediction="Dự đoán số người trả lời đúng?")
    user = make_contestant(db_session)
    db_session.commit()
    token = login(client, user)
    aid = _attempt_id(_form_start(client, token, rnd.id).headers["Location"])
    html = client.get(f"/attempts/{aid}/q/1").data
    assets = re.findall(rb'(?:href|src)="(/static/[^"?]+)', html)
    assert {a.decode() for a in assets} == {"/static/app.css", "/static/attempt.js"}
    sizes = {"html": len(html)}
    for asset in assets:
        sizes[asset.decode()] = len((ROOT / asset.decode().lstrip("/")).read_bytes())
    total = sum(sizes.values())
    assert total <= PAGE_BUDGET, sizes


def test_every_page_of_the_attempt_is_the_contestants_own(
    app, db_session: Session, clock: FrozenClock
) -> None:  # type: ignore[no-untyped-def]
    rnd = make_round(db_session, draw=1)
    alice, bob = make_contestant(db_session), make_contestant(db_session)
    db_session.commit()
    a, b = app.test_client(), app.test_client()
    token_a = login(a, alice)
    token_b = login(b, bob)
    aid = _attempt_id(_form_start(a, token_a, rnd.id).headers["Location"])
    for path in (
        f"/attempts/{aid}",
        f"/attempts/{aid}/q/1",
        f"/attempts/{aid}/finish",
        f"/attempts/{aid}/result",
    ):
        assert b.get(path).status_code == 404
    assert (
        b.post(f"/attempts/{aid}/q/1", data={"csrf_token": token_b, "choice": "A"}).status_code
        == 404
    )
    assert (
        b.post(
            f"/attempts/{aid}/finish", data={"csrf_token": token_b, "action": "submit"}
        ).status_code
        == 404
    )
    assert db_session.scalar(select(Attempt.status)) == "in_progress"


def test_question_versions_shown_are_the_ones_drawn(
    client: FlaskClient, db_session: Session, clock: FrozenClock
) -> None:
    """A bank edit after the draw does not change what the attempt shows or how it grades."""
    bank = make_bank(db_session)
    q = make_question(db_session, bank, text="Phiên bản một?", options=["x", "y"], correct=[0])
    rnd = make_round(db_session, bank=bank, draw=1, shuffle_options=False)
    user = make_contestant(db_session)
    db_session.commit()
    token = login(client, user)
    aid = _attempt_id(_form_start(client, token, rnd.id).headers["Location"])
    v2 = QuestionVersion(
        question_id=q.id,
        number=2,
        text="Phiên bản hai?",
        options=["x", "y"],
        correct=[1],
        created_at=clock.now(),
    )
    db_session.add(v2)
    db_session.flush()
    q.current_version_id = v2.id
    db_session.commit()
    assert "Phiên bản một?" in client.get(f"/attempts/{aid}/q/1").get_data(as_text=True)
    client.post(f"/attempts/{aid}/q/1", data={"csrf_token": token, "choice": "A", "go": "finish"})
    client.post(f"/attempts/{aid}/finish", data={"csrf_token": token, "action": "submit"})
    assert db_session.scalar(select(Attempt.score).where(Attempt.id == aid)) == 1

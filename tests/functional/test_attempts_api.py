"""The attempts JSON API, exactly as the contract says (session cookie + X-CSRFToken)."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import event, func, select
from sqlalchemy.orm import Session

from quizengine.clock import FrozenClock
from quizengine.db import database
from quizengine.models import AnswerEvent, Attempt, AttemptItem, ContestEntry, QuestionVersion, User
from tests.factories import (
    make_bank,
    make_contest,
    make_contestant,
    make_organiser,
    make_question,
    make_round,
)

API = "/api/v1"


# --------------------------------------------------------------------------- helpers


def login(client: FlaskClient, user: User) -> str:
    """Sign ``user`` in on this client; return the CSRF token for JSON writes."""
    with client.session_transaction() as s:
        s["_user_id"] = str(user.id)
        s["_fresh"] = True
    html = client.get("/").get_data(as_text=True)
    match = re.search(r'<meta name="csrf-token" content="([^"]+)"', html)
    assert match, "every page carries the CSRF token"
    return match.group(1)


class Api:
    """A signed-in contestant talking JSON."""

    def __init__(self, client: FlaskClient, user: User) -> None:
        self.client = client
        self.user = user
        self.token = login(client, user)

    def _h(self) -> dict[str, str]:
        return {"X-CSRFToken": self.token}

    def start(self, round_id: int, body: dict[str, Any] | None = None):  # type: ignore[no-untyped-def]
        return self.client.post(
            f"{API}/rounds/{round_id}/attempts", json=body or {}, headers=self._h()
        )

    def answer(self, attempt_id: int, question_id: int, choice: Any):  # type: ignore[no-untyped-def]
        return self.client.put(
            f"{API}/attempts/{attempt_id}/answers/{question_id}",
            json={"choice": choice},
            headers=self._h(),
        )

    def predict(self, attempt_id: int, value: Any):  # type: ignore[no-untyped-def]
        return self.client.put(
            f"{API}/attempts/{attempt_id}/prediction", json={"prediction": value}, headers=self._h()
        )

    def submit(self, attempt_id: int, body: dict[str, Any] | None = None):  # type: ignore[no-untyped-def]
        return self.client.post(
            f"{API}/attempts/{attempt_id}/submit", json=body or {}, headers=self._h()
        )


def correct_keys(db: Session, attempt_id: int, question_id: int) -> list[str]:
    """The letters that are right for this contestant (read from the DB, as a judge would)."""
    item = db.scalars(
        select(AttemptItem).where(
            AttemptItem.attempt_id == attempt_id, AttemptItem.question_id == question_id
        )
    ).one()
    version = db.get(QuestionVersion, item.version_id)
    assert version is not None
    return [chr(65 + k) for k, index in enumerate(item.option_order) if index in version.correct]


def wrong_key(db: Session, attempt_id: int, question_id: int) -> str:
    right = correct_keys(db, attempt_id, question_id)
    return next(k for k in "ABCD" if k not in right)


# --------------------------------------------------------------------------- start


def test_start_returns_201_with_the_drawn_questions_and_a_z_deadline(
    client: FlaskClient, db_session: Session, clock: FrozenClock
) -> None:
    rnd = make_round(db_session, draw=5, minutes=20)
    user = make_contestant(db_session)
    db_session.commit()
    api = Api(client, user)

    response = api.start(rnd.id)

    assert response.status_code == 201
    body = response.get_json()
    assert set(body) == {"attempt_id", "deadline", "questions", "answers"}
    assert body["deadline"] == "2026-03-02T03:20:00.000Z"
    assert body["answers"] == {}
    assert len(body["questions"]) == 5
    assert len({q["id"] for q in body["questions"]}) == 5
    for q in body["questions"]:
        assert set(q) == {"id", "text", "multi", "options"}
        assert q["multi"] is False
        assert [o["key"] for o in q["options"]] == ["A", "B", "C", "D"]
        assert all(set(o) == {"key", "text"} for o in q["options"])


def test_second_start_resumes_the_same_attempt_with_its_answers(
    client: FlaskClient, db_session: Session, clock: FrozenClock
) -> None:
    rnd = make_round(db_session, draw=4)
    user = make_contestant(db_session)
    db_session.commit()
    api = Api(client, user)
    first = api.start(rnd.id).get_json()
    qid = first["questions"][2]["id"]
    assert api.answer(first["attempt_id"], qid, ["C"]).status_code == 200

    again = api.start(rnd.id)

    assert again.status_code == 200
    body = again.get_json()
    assert body["attempt_id"] == first["attempt_id"]
    assert body["questions"] == first["questions"]  # same draw, same letters
    assert body["answers"] == {str(qid): ["C"]}


def test_second_device_gets_the_same_attempt(
    app: Flask, db_session: Session, clock: FrozenClock
) -> None:
    rnd = make_round(db_session, draw=3)
    user = make_contestant(db_session)
    db_session.commit()
    phone, tablet = Api(app.test_client(), user), Api(app.test_client(), user)
    a = phone.start(rnd.id).get_json()
    b = tablet.start(rnd.id)
    assert b.status_code == 200
    assert b.get_json()["attempt_id"] == a["attempt_id"]


def test_start_refuses_a_round_not_open(
    client: FlaskClient, db_session: Session, clock: FrozenClock
) -> None:
    later = make_round(db_session, opens_at=clock.now() + timedelta(hours=1))
    over = make_round(
        db_session,
        opens_at=clock.now() - timedelta(days=8),
        closes_at=clock.now() - timedelta(days=1),
    )
    user = make_contestant(db_session)
    db_session.commit()
    api = Api(client, user)
    for rnd in (later, over):
        response = api.start(rnd.id)
        assert response.status_code == 409
        assert response.get_json()["error"] == "round_not_open"


def test_start_refuses_when_the_attempts_allowed_are_used(
    client: FlaskClient, db_session: Session, clock: FrozenClock
) -> None:
    rnd = make_round(db_session, draw=2, attempts_allowed=2)
    user = make_contestant(db_session)
    db_session.commit()
    api = Api(client, user)
    for expected_number in (1, 2):
        started = api.start(rnd.id)
        assert started.status_code == 201
        assert api.submit(started.get_json()["attempt_id"]).status_code == 200
        number = db_session.scalar(
            select(Attempt.number).where(Attempt.id == started.get_json()["attempt_id"])
        )
        assert number == expected_number

    third = api.start(rnd.id)
    assert third.status_code == 409
    assert third.get_json()["error"] == "attempts_exhausted"


def test_start_needs_a_board_on_first_entry_then_keeps_it(
    client: FlaskClient, db_session: Session, clock: FrozenClock
) -> None:
    contest = make_contest(db_session, boards=("Bảng A", "Bảng B"))
    rnd = make_round(db_session, contest=contest, draw=2, attempts_allowed=2)
    user = make_contestant(db_session)
    db_session.commit()
    api = Api(client, user)

    missing = api.start(rnd.id)
    assert missing.status_code == 400
    assert missing.get_json()["error"] == "invalid"
    unknown = api.start(rnd.id, {"board": "Bảng Z"})
    assert unknown.status_code == 400

    started = api.start(rnd.id, {"board": "Bảng B"})
    assert started.status_code == 201
    api.submit(started.get_json()["attempt_id"])
    # Board fixed: no need to send it again, and a different one is ignored.
    second = api.start(rnd.id, {"board": "Bảng A"})
    assert second.status_code == 201
    boards = db_session.scalars(select(Attempt.board_id).where(Attempt.user_id == user.id)).all()
    entry = db_session.scalars(select(ContestEntry).where(ContestEntry.user_id == user.id)).one()
    assert entry.board_id == contest.boards[1].id
    assert set(boards) == {entry.board_id}


def test_start_checks_the_access_code_on_first_entry(
    client: FlaskClient, db_session: Session, clock: FrozenClock
) -> None:
    contest = make_contest(db_session, access_code="CDQN2026")
    rnd = make_round(db_session, contest=contest, draw=2)
    user = make_contestant(db_session)
    db_session.commit()
    api = Api(client, user)

    for body in ({}, {"access_code": "sai-ma"}):
        response = api.start(rnd.id, body)
        assert response.status_code == 403
        assert response.get_json()["error"] == "forbidden"
    assert api.start(rnd.id, {"access_code": " cdqn2026 "}).status_code == 201


def test_start_unknown_round_is_not_found_and_anonymous_is_unauthorized(
    client: FlaskClient, db_session: Session, clock: FrozenClock
) -> None:
    assert client.post(f"{API}/rounds/1/attempts", json={}).status_code == 401
    user = make_contestant(db_session)
    db_session.commit()
    response = Api(client, user).start(999)
    assert response.status_code == 404
    assert response.get_json()["error"] == "not_found"


def test_organisers_cannot_take_attempts(
    client: FlaskClient, db_session: Session, clock: FrozenClock
) -> None:
    rnd = make_round(db_session)
    organiser = make_organiser(db_session)
    db_session.commit()
    assert Api(client, organiser).start(rnd.id).status_code == 403


def test_deadline_is_capped_by_the_round_close(
    client: FlaskClient, db_session: Session, clock: FrozenClock
) -> None:
    rnd = make_round(
        db_session,
        opens_at=clock.now() - timedelta(days=1),
        closes_at=clock.now() + timedelta(minutes=7),
        minutes=20,
    )
    user = make_contestant(db_session)
    db_session.commit()
    body = Api(client, user).start(rnd.id).get_json()
    assert body["deadline"] == "2026-03-02T03:07:00.000Z"


# --------------------------------------------------------------------------- answers


def test_answer_is_stored_with_an_event_and_empty_list_clears_it(
    client: FlaskClient, db_session: Session, clock: FrozenClock
) -> None:
    rnd = make_round(db_session, draw=3)
    user = make_contestant(db_session)
    db_session.commit()
    api = Api(client, user)
    started = api.start(rnd.id, {}).get_json()
    aid, qid = started["attempt_id"], started["questions"][0]["id"]

    response = api.answer(aid, qid, ["B"])
    assert response.status_code == 200
    assert response.get_json() == {"saved": True}

    item = db_session.scalars(
        select(AttemptItem).where(AttemptItem.attempt_id == aid, AttemptItem.question_id == qid)
    ).one()
    assert item.chosen == [item.option_order[1]]  # stored option index, not the letter
    assert item.answered_at is not None

    assert api.answer(aid, qid, []).status_code == 200
    db_session.expire_all()
    assert db_session.get(AttemptItem, item.id).chosen == []  # type: ignore[union-attr]
    events = db_session.scalars(select(AnswerEvent).where(AnswerEvent.attempt_id == aid)).all()
    assert [e.chosen for e in events] == [[item.option_order[1]], []]
    assert events[0].at == clock.now()
    assert events[0].question_id == qid
    assert events[0].ip == "127.0.0.1"
    assert api.start(rnd.id).get_json()["answers"] == {}


def test_invalid_choices_are_refused(
    client: FlaskClient, db_session: Session, clock: FrozenClock
) -> None:
    bank = make_bank(db_session)
    make_question(db_session, bank, text="Một đáp án?", options=["a", "b", "c"], correct=[1])
    rnd = make_round(db_session, bank=bank, draw=1)
    user = make_contestant(db_session)
    db_session.commit()
    api = Api(client, user)
    started = api.start(rnd.id).get_json()
    aid, qid = started["attempt_id"], started["questions"][0]["id"]

    for bad in (["D"], ["A", "B"], ["AB"], "A", [1], None, ["a"] * 0 + [""]):
        response = api.answer(aid, qid, bad)
        assert response.status_code == 400, bad
        assert response.get_json()["error"] == "invalid"
    # lower-case letters are the same keys
    assert api.answer(aid, qid, ["c"]).status_code == 200
    assert api.answer(aid, 987654, ["A"]).status_code == 404


def test_multi_select_takes_several_keys(
    client: FlaskClient, db_session: Session, clock: FrozenClock
) -> None:
    bank = make_bank(db_session)
    make_question(db_session, bank, text="Nhiều đáp án?", options=["a", "b", "c"], correct=[0, 2])
    rnd = make_round(db_session, bank=bank, draw=1)
    user = make_contestant(db_session)
    db_session.commit()
    api = Api(client, user)
    started = api.start(rnd.id).get_json()
    q = started["questions"][0]
    assert q["multi"] is True
    assert api.answer(started["attempt_id"], q["id"], ["A", "C"]).status_code == 200
    assert api.start(rnd.id).get_json()["answers"] == {str(q["id"]): ["A", "C"]}


def test_another_contestants_attempt_is_not_found(
    app: Flask, db_session: Session, clock: FrozenClock
) -> None:
    rnd = make_round(db_session, draw=2)
    alice, bob = make_contestant(db_session), make_contestant(db_session)
    db_session.commit()
    a = Api(app.test_client(), alice)
    b = Api(app.test_client(), bob)
    started = a.start(rnd.id).get_json()
    aid, qid = started["attempt_id"], started["questions"][0]["id"]
    for response in (b.answer(aid, qid, ["A"]), b.predict(aid, 3), b.submit(aid)):
        assert response.status_code == 404
        assert response.get_json()["error"] == "not_found"
    assert b.client.get(f"/attempts/{aid}/q/1").status_code == 404


def test_late_answer_is_refused_after_grace(
    client: FlaskClient, db_session: Session, clock: FrozenClock
) -> None:
    rnd = make_round(db_session, draw=2, minutes=10)
    user = make_contestant(db_session)
    db_session.commit()
    api = Api(client, user)
    started = api.start(rnd.id).get_json()
    aid, q1, q2 = (
        started["attempt_id"],
        started["questions"][0]["id"],
        started["questions"][1]["id"],
    )

    clock.advance(minutes=10, seconds=4)  # past the deadline, within the 5 s grace
    assert api.answer(aid, q1, ["A"]).status_code == 200

    clock.advance(seconds=2)  # deadline + 6 s
    late = api.answer(aid, q2, ["B"])
    assert late.status_code == 409
    assert late.get_json()["error"] == "deadline_passed"
    assert late.get_json()["message"]

    # The refusal finalised the attempt at its deadline with what was saved.
    attempt = db_session.get(Attempt, aid)
    assert attempt is not None
    assert attempt.status == "expired"
    assert attempt.submitted_at == attempt.deadline_at
    assert attempt.duration_ms == 10 * 60 * 1000
    item2 = db_session.scalars(
        select(AttemptItem).where(AttemptItem.attempt_id == aid, AttemptItem.question_id == q2)
    ).one()
    assert item2.chosen is None
    assert api.answer(aid, q2, ["B"]).get_json()["error"] == "deadline_passed"


def test_answer_after_submission_is_already_submitted(
    client: FlaskClient, db_session: Session, clock: FrozenClock
) -> None:
    rnd = make_round(db_session, draw=2)
    user = make_contestant(db_session)
    db_session.commit()
    api = Api(client, user)
    started = api.start(rnd.id).get_json()
    api.submit(started["attempt_id"])
    response = api.answer(started["attempt_id"], started["questions"][0]["id"], ["A"])
    assert response.status_code == 409
    assert response.get_json()["error"] == "already_submitted"


def test_json_writes_need_the_csrf_token(
    client: FlaskClient, db_session: Session, clock: FrozenClock
) -> None:
    rnd = make_round(db_session, draw=2)
    user = make_contestant(db_session)
    db_session.commit()
    login(client, user)
    response = client.post(f"{API}/rounds/{rnd.id}/attempts", json={})
    assert response.status_code == 403
    assert response.get_json()["error"] == "forbidden"


# --------------------------------------------------------------------------- submit & grading


def test_submit_grades_single_exact_multi_all_or_nothing_and_points(
    client: FlaskClient, db_session: Session, clock: FrozenClock
) -> None:
    bank = make_bank(db_session)
    single = make_question(db_session, bank, text="Đơn?", options=["a", "b", "c"], correct=[1])
    multi = make_question(
        db_session, bank, text="Đa?", options=["a", "b", "c", "d"], correct=[0, 3]
    )
    heavy = make_question(db_session, bank, text="Nặng?", options=["a", "b"], correct=[0])
    partial = make_question(
        db_session, bank, text="Thiếu?", options=["a", "b", "c"], correct=[0, 1]
    )
    heavy.points = 3
    rnd = make_round(db_session, bank=bank, draw=4)
    user = make_contestant(db_session)
    db_session.commit()
    api = Api(client, user)
    started = api.start(rnd.id).get_json()
    aid = started["attempt_id"]

    api.answer(aid, single.id, correct_keys(db_session, aid, single.id))
    api.answer(aid, multi.id, correct_keys(db_session, aid, multi.id))
    api.answer(aid, heavy.id, correct_keys(db_session, aid, heavy.id))
    api.answer(aid, partial.id, correct_keys(db_session, aid, partial.id)[:1])  # half: wrong
    clock.advance(minutes=3, seconds=2.5)

    response = api.submit(aid)

    assert response.status_code == 200
    body = response.get_json()
    assert body == {
        "score": 1 + 1 + 3,
        "correct": 3,
        "total": 4,
        "duration_ms": 182_500,
        "rank": 1,
    }
    items = db_session.scalars(select(AttemptItem).where(AttemptItem.attempt_id == aid)).all()
    assert {i.question_id: i.is_correct for i in items} == {
        single.id: True,
        multi.id: True,
        heavy.id: True,
        partial.id: False,
    }


def test_submitting_again_returns_the_same_result_without_grading_twice(
    client: FlaskClient, db_session: Session, clock: FrozenClock
) -> None:
    rnd = make_round(db_session, draw=3)
    user = make_contestant(db_session)
    db_session.commit()
    api = Api(client, user)
    started = api.start(rnd.id).get_json()
    aid = started["attempt_id"]
    q = started["questions"][0]["id"]
    api.answer(aid, q, correct_keys(db_session, aid, q))
    clock.advance(seconds=30)
    first = api.submit(aid).get_json()
    submitted_at = db_session.scalar(select(Attempt.submitted_at).where(Attempt.id == aid))

    clock.advance(minutes=5)
    second = api.submit(aid).get_json()

    assert second == first
    db_session.expire_all()
    assert db_session.scalar(select(Attempt.submitted_at).where(Attempt.id == aid)) == submitted_at


def test_submit_after_grace_returns_the_result_finalised_at_the_deadline(
    client: FlaskClient, db_session: Session, clock: FrozenClock
) -> None:
    rnd = make_round(db_session, draw=2, minutes=5)
    user = make_contestant(db_session)
    db_session.commit()
    api = Api(client, user)
    started = api.start(rnd.id).get_json()
    aid = started["attempt_id"]
    q = started["questions"][0]["id"]
    api.answer(aid, q, correct_keys(db_session, aid, q))
    clock.advance(minutes=30)

    response = api.submit(aid)

    assert response.status_code == 200
    assert response.get_json() == {
        "score": 1,
        "correct": 1,
        "total": 2,
        "duration_ms": 5 * 60 * 1000,
        "rank": 1,
    }
    attempt = db_session.get(Attempt, aid)
    assert attempt is not None and attempt.status == "expired"


def test_prediction_is_required_to_submit_when_the_round_has_one(
    client: FlaskClient, db_session: Session, clock: FrozenClock
) -> None:
    rnd = make_round(db_session, draw=2, prediction="Bao nhiêu người đúng hết?")
    user = make_contestant(db_session)
    db_session.commit()
    api = Api(client, user)
    aid = api.start(rnd.id).get_json()["attempt_id"]

    missing = api.submit(aid)
    assert missing.status_code == 400
    assert missing.get_json()["error"] == "invalid"
    for bad in (-1, 1.5, "12", True, None):
        assert api.predict(aid, bad).status_code == 400, bad
        assert api.submit(aid, {"prediction": bad}).status_code == 400 or bad is None

    assert api.predict(aid, 123).status_code == 200
    assert api.predict(aid, 123).get_json() == {"saved": True}
    assert db_session.scalar(select(Attempt.prediction).where(Attempt.id == aid)) == 123
    assert api.submit(aid).status_code == 200  # the saved prediction counts


def test_prediction_in_the_submit_body_is_stored(
    client: FlaskClient, db_session: Session, clock: FrozenClock
) -> None:
    rnd = make_round(db_session, draw=2, prediction="Bao nhiêu?")
    plain = make_round(db_session, draw=2)
    user = make_contestant(db_session)
    db_session.commit()
    api = Api(client, user)
    aid = api.start(rnd.id).get_json()["attempt_id"]
    assert api.submit(aid, {"prediction": 0}).status_code == 200
    assert db_session.scalar(select(Attempt.prediction).where(Attempt.id == aid)) == 0

    other = api.start(plain.id).get_json()["attempt_id"]
    assert api.predict(other, 5).status_code == 400
    assert api.submit(other).status_code == 200


def test_expired_attempt_without_prediction_is_finalised_with_none(
    client: FlaskClient, db_session: Session, clock: FrozenClock
) -> None:
    rnd = make_round(db_session, draw=2, minutes=1, prediction="Bao nhiêu?")
    user = make_contestant(db_session)
    db_session.commit()
    api = Api(client, user)
    aid = api.start(rnd.id).get_json()["attempt_id"]
    clock.advance(minutes=2)
    assert api.submit(aid, {"prediction": 10}).status_code == 200  # too late to count
    attempt = db_session.get(Attempt, aid)
    assert attempt is not None
    assert attempt.status == "expired" and attempt.prediction is None


# --------------------------------------------------------------------------- secrecy


def test_correct_answers_never_reach_the_browser_before_grading(
    client: FlaskClient, db_session: Session, clock: FrozenClock
) -> None:
    bank = make_bank(db_session)
    for i in range(4):
        make_question(
            db_session,
            bank,
            text=f"Câu bí mật {i}?",
            options=["Phương án một", "Phương án hai", "Phương án ba"],
            correct=[i % 3],
            explanation="LỜI-GIẢI-BÍ-MẬT",
            legal_basis="ĐIỀU-LUẬT-BÍ-MẬT",
        )
    rnd = make_round(db_session, bank=bank, draw=4, prediction="Bao nhiêu?")
    user = make_contestant(db_session)
    db_session.commit()
    api = Api(client, user)
    started = api.start(rnd.id)
    aid = started.get_json()["attempt_id"]
    api.answer(aid, started.get_json()["questions"][0]["id"], ["A"])

    texts = [
        started.get_data(as_text=True),
        api.start(rnd.id).get_data(as_text=True),
        client.get(f"{API}/attempts/{aid}").get_data(as_text=True),
        client.get(f"/attempts/{aid}/q/1").get_data(as_text=True),
        client.get(f"/attempts/{aid}/q/4").get_data(as_text=True),
        client.get(f"/attempts/{aid}/finish").get_data(as_text=True),
        client.get(f"/attempts/{aid}/result", follow_redirects=True).get_data(as_text=True),
    ]
    for text in texts:
        for secret in (
            "correct",
            "is_correct",
            "LỜI-GIẢI-BÍ-MẬT",
            "ĐIỀU-LUẬT-BÍ-MẬT",
            "explanation",
        ):
            assert secret not in text
        assert "đáp án đúng" not in text


def test_option_letters_are_shuffled_per_attempt(
    app: Flask, db_session: Session, clock: FrozenClock
) -> None:
    bank = make_bank(db_session)
    make_question(db_session, bank, text="Xáo?", options=["a", "b", "c", "d"], correct=[0])
    rnd = make_round(db_session, bank=bank, draw=1)
    users = [make_contestant(db_session) for _ in range(12)]
    db_session.commit()
    orders = set()
    for user in users:
        body = Api(app.test_client(), user).start(rnd.id).get_json()
        orders.add(tuple(o["text"] for o in body["questions"][0]["options"]))
    assert len(orders) > 1  # 12 draws of 24 orders all equal: 1 in 24^11


def test_no_shuffle_keeps_bank_order_and_stored_letters(
    client: FlaskClient, db_session: Session, clock: FrozenClock
) -> None:
    bank = make_bank(db_session, questions=6)
    rnd = make_round(db_session, bank=bank, draw=6, shuffle_questions=False, shuffle_options=False)
    user = make_contestant(db_session)
    db_session.commit()
    body = Api(client, user).start(rnd.id).get_json()
    ids = [q["id"] for q in body["questions"]]
    assert ids == sorted(ids)
    assert [o["text"] for o in body["questions"][0]["options"]] == [
        "Phương án A",
        "Phương án B",
        "Phương án C",
        "Phương án D",
    ]


def test_statements_per_request_do_not_grow_with_the_question_count(
    app: Flask, db_session: Session, clock: FrozenClock
) -> None:
    counts: dict[int, dict[str, int]] = {}
    engine = database(app).engine
    seen: list[str] = []

    def count(conn, cursor, statement, *args) -> None:  # type: ignore[no-untyped-def]
        seen.append(statement)

    for n in (3, 30):
        rnd = make_round(db_session, draw=n)
        user = make_contestant(db_session)
        db_session.commit()
        api = Api(app.test_client(), user)
        event.listen(engine, "before_cursor_execute", count)
        try:
            seen.clear()
            started = api.start(rnd.id).get_json()
            start_n = len(seen)
            seen.clear()
            api.answer(started["attempt_id"], started["questions"][0]["id"], ["A"])
            save_n = len(seen)
            seen.clear()
            api.submit(started["attempt_id"])
            submit_n = len(seen)
        finally:
            event.remove(engine, "before_cursor_execute", count)
        counts[n] = {"start": start_n, "save": save_n, "submit": submit_n}
    assert counts[3] == counts[30], counts
    assert counts[3]["save"] <= 6, counts


def test_attempt_count_in_db_is_one_per_start_and_resume(
    client: FlaskClient, db_session: Session, clock: FrozenClock
) -> None:
    rnd = make_round(db_session, draw=2, attempts_allowed=3)
    user = make_contestant(db_session)
    db_session.commit()
    api = Api(client, user)
    for _ in range(3):
        api.start(rnd.id)
    assert db_session.scalar(select(func.count()).select_from(Attempt)) == 1


def test_answer_saves_are_limited_per_contestant_not_per_address(
    app: Flask, db_session: Session, clock: FrozenClock
) -> None:
    rnd = make_round(db_session, draw=2)
    alice, bob = make_contestant(db_session), make_contestant(db_session)
    db_session.commit()
    a, b = Api(app.test_client(), alice), Api(app.test_client(), bob)
    mine, theirs = a.start(rnd.id).get_json(), b.start(rnd.id).get_json()
    qa, qb = mine["questions"][0]["id"], theirs["questions"][0]["id"]
    for _ in range(120):
        assert a.answer(mine["attempt_id"], qa, ["A"]).status_code == 200

    engine = database(app).engine
    seen: list[str] = []

    def count(conn, cursor, statement, *args) -> None:  # type: ignore[no-untyped-def]
        seen.append(statement)

    event.listen(engine, "before_cursor_execute", count)
    try:
        refused = a.answer(mine["attempt_id"], qa, ["B"])
    finally:
        event.remove(engine, "before_cursor_execute", count)
    assert refused.status_code == 429
    assert refused.get_json()["error"] == "rate_limited"
    assert int(refused.headers["Retry-After"]) > 0
    # The limit's key comes from the signed session cookie, not from a query.
    assert not any("attempt" in s for s in seen), seen
    # Same address (a factory behind one IP), another contestant: not limited.
    assert b.answer(theirs["attempt_id"], qb, ["A"]).status_code == 200


def test_a_refused_start_still_keeps_the_expired_attempt_it_finalised(
    client: FlaskClient, db_session: Session, clock: FrozenClock
) -> None:
    rnd = make_round(db_session, draw=2, minutes=1, attempts_allowed=1)
    user = make_contestant(db_session)
    db_session.commit()
    api = Api(client, user)
    aid = api.start(rnd.id).get_json()["attempt_id"]
    clock.advance(minutes=2)
    refused = api.start(rnd.id)
    assert refused.status_code == 409
    assert refused.get_json()["error"] == "attempts_exhausted"
    assert db_session.scalar(select(Attempt.status).where(Attempt.id == aid)) == "expired"

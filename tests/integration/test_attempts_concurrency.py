"""Races on PostgreSQL: the database, not check-then-insert code, keeps attempts right.

Threads with their own test clients (so their own sessions and connections) meet at a
barrier and fire together, many times over.
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import event, func, select
from sqlalchemy.orm import Session

from quizengine.attempts import services
from quizengine.clock import FrozenClock
from quizengine.db import database
from quizengine.extensions import limiter
from quizengine.models import Attempt
from quizengine.store import Store
from tests.conftest import TEST_DATABASE_URL, require
from tests.factories import make_contestant, make_round
from tests.functional.test_attempts_api import Api


@pytest.fixture(autouse=True)
def _no_rate_limits() -> Any:
    """These tests fire one contestant's requests far faster than a person could."""
    limiter.enabled = False
    yield
    limiter.enabled = True


def together(n: int, fn: Callable[[int], Any]) -> list[Any]:
    """Run ``fn(i)`` in ``n`` threads released at once; re-raise the first failure."""
    barrier = threading.Barrier(n)
    results: list[Any] = [None] * n
    errors: list[BaseException] = []

    def run(i: int) -> None:
        try:
            barrier.wait(timeout=10)
            results[i] = fn(i)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    if errors:
        raise errors[0]
    return results


def test_simultaneous_starts_make_one_attempt(
    app: Flask, db_session: Session, clock: FrozenClock
) -> None:
    require(bool(TEST_DATABASE_URL), "PostgreSQL (TEST_DATABASE_URL)")
    rounds = [make_round(db_session, draw=5, attempts_allowed=3) for _ in range(6)]
    user = make_contestant(db_session)
    db_session.commit()
    clients = [Api(app.test_client(), user) for _ in range(6)]
    for rnd in rounds:
        responses = together(6, lambda i, rnd=rnd: clients[i].start(rnd.id))
        codes = Counter(r.status_code for r in responses)
        assert codes == {201: 1, 200: 5}, codes
        assert len({r.get_json()["attempt_id"] for r in responses}) == 1
        questions = {tuple(q["id"] for q in r.get_json()["questions"]) for r in responses}
        assert len(questions) == 1  # everybody sees the one stored draw
    per_round = db_session.execute(
        select(Attempt.round_id, func.count()).group_by(Attempt.round_id)
    ).all()
    assert sorted(c for _, c in per_round) == [1] * 6


def test_attempts_allowed_is_never_exceeded_under_concurrent_starts(
    app: Flask, db_session: Session, clock: FrozenClock
) -> None:
    require(bool(TEST_DATABASE_URL), "PostgreSQL (TEST_DATABASE_URL)")
    rnd = make_round(db_session, draw=2, attempts_allowed=3)
    user = make_contestant(db_session)
    db_session.commit()
    clients = [Api(app.test_client(), user) for _ in range(8)]

    def start_and_submit(i: int) -> list[int]:
        codes = []
        for _ in range(6):
            r = clients[i].start(rnd.id)
            codes.append(r.status_code)
            if r.status_code in (200, 201):
                clients[i].submit(r.get_json()["attempt_id"])
        return codes

    results = together(8, start_and_submit)
    codes = Counter(c for per in results for c in per)
    assert set(codes) <= {200, 201, 409}, codes
    assert codes[201] == 3
    numbers = db_session.scalars(
        select(Attempt.number).where(Attempt.round_id == rnd.id).order_by(Attempt.number)
    ).all()
    assert numbers == [1, 2, 3]


def test_simultaneous_submits_grade_once(
    app: Flask, db_session: Session, clock: FrozenClock
) -> None:
    require(bool(TEST_DATABASE_URL), "PostgreSQL (TEST_DATABASE_URL)")
    user = make_contestant(db_session)
    rounds = [make_round(db_session, draw=6) for _ in range(5)]
    db_session.commit()
    clients = [Api(app.test_client(), user) for _ in range(4)]
    engine = database(app).engine
    gradings: list[str] = []
    lock = threading.Lock()

    def count(conn, cursor, statement, *args) -> None:  # type: ignore[no-untyped-def]
        if statement.startswith("UPDATE attempt_items SET is_correct"):
            with lock:
                gradings.append(statement)

    event.listen(engine, "before_cursor_execute", count)
    try:
        for rnd in rounds:
            started = clients[0].start(rnd.id).get_json()
            aid = started["attempt_id"]
            for q in started["questions"][:3]:
                clients[0].answer(aid, q["id"], ["A"])
            clock.advance(seconds=17)
            gradings.clear()
            responses = together(4, lambda i, aid=aid: clients[i].submit(aid))
            assert {r.status_code for r in responses} == {200}
            bodies = [r.get_json() for r in responses]
            assert all(b == bodies[0] for b in bodies), bodies
            assert len(gradings) == 1, gradings
    finally:
        event.remove(engine, "before_cursor_execute", count)


def test_a_save_racing_a_submit_is_either_graded_or_refused(
    app: Flask, db_session: Session, clock: FrozenClock
) -> None:
    """Never acknowledged-but-ungraded: the row lock orders the two."""
    require(bool(TEST_DATABASE_URL), "PostgreSQL (TEST_DATABASE_URL)")
    user = make_contestant(db_session)
    rounds = [make_round(db_session, draw=3) for _ in range(8)]
    db_session.commit()
    saver, submitter = Api(app.test_client(), user), Api(app.test_client(), user)
    for rnd in rounds:
        started = saver.start(rnd.id).get_json()
        aid, qid = started["attempt_id"], started["questions"][0]["id"]

        def act(i: int, aid: int = aid, qid: int = qid) -> Any:
            return saver.answer(aid, qid, ["B"]) if i == 0 else submitter.submit(aid)

        save, submit = together(2, act)
        assert submit.status_code == 200
        db_session.expire_all()
        attempt = db_session.get(Attempt, aid)
        assert attempt is not None and attempt.status == "submitted"
        items = {i.question_id: i for i in attempt.items}
        if save.status_code == 200:
            assert items[qid].chosen is not None  # stored before grading, so graded
            assert items[qid].is_correct is not None
        else:
            assert save.get_json()["error"] == "already_submitted"
            assert items[qid].chosen is None


def test_two_finalize_runs_at_once_take_each_attempt_once(
    app: Flask, db_session: Session, store: Store, clock: FrozenClock
) -> None:
    require(bool(TEST_DATABASE_URL), "PostgreSQL (TEST_DATABASE_URL)")
    rnd = make_round(db_session, draw=3, minutes=1)
    users = [make_contestant(db_session) for _ in range(30)]
    db_session.commit()
    for user in users:
        services.start_attempt(
            db_session, round_id=rnd.id, user_id=user.id, clock=clock, store=store
        )
        db_session.commit()
    clock.advance(minutes=5)

    def run(i: int) -> list[int]:
        taken: list[int] = []
        while True:
            with database(app).session_scope() as session:
                batch = services.finalize_expired(session, clock=clock, batch=4)
                taken.extend(a.id for a in batch)
            if not batch:
                return taken

    first, second = together(2, run)
    assert not set(first) & set(second)
    assert len(first) + len(second) == 30
    statuses = Counter(db_session.scalars(select(Attempt.status)).all())
    assert statuses == {"expired": 30}

"""Attempt services on the real database: draw pools, expiry, finalize-expired."""

from __future__ import annotations

import random

import pytest
from flask import Flask
from flask.testing import FlaskCliRunner
from sqlalchemy import event, insert, select, update
from sqlalchemy.orm import Session

from quizengine.attempts import services
from quizengine.attempts.plans import PlanCache
from quizengine.attempts.pools import PoolCache, PoolKey
from quizengine.banks.services import announce_bank_changed
from quizengine.clock import FrozenClock
from quizengine.db import database
from quizengine.errors import Invalid
from quizengine.models import Attempt, AttemptItem, Bank, DrawRule, Question, QuestionVersion
from quizengine.store import Store
from tests.factories import NOW, make_bank, make_contestant, make_question, make_round


def bulk_bank(session: Session, n: int, *, difficulty_every: int = 0) -> Bank:
    """A bank of ``n`` questions written in a few batched statements (fast enough for 20k)."""
    bank = make_bank(session)
    session.execute(
        insert(Question),
        [
            {
                "bank_id": bank.id,
                "match_key": f"q{bank.id}-{i}",
                "search_text": "",
                "difficulty": "hard" if difficulty_every and i % difficulty_every == 0 else None,
                "created_at": NOW,
                "updated_at": NOW,
            }
            for i in range(n)
        ],
    )
    ids = session.scalars(select(Question.id).where(Question.bank_id == bank.id)).all()
    session.execute(
        insert(QuestionVersion),
        [
            {
                "question_id": qid,
                "number": 1,
                "text": f"Câu {qid}?",
                "options": ["A", "B", "C", "D"],
                "correct": [qid % 4],
                "created_at": NOW,
            }
            for qid in ids
        ],
    )
    session.execute(
        update(Question)
        .where(Question.bank_id == bank.id)
        .values(
            current_version_id=select(QuestionVersion.id)
            .where(QuestionVersion.question_id == Question.id)
            .scalar_subquery()
        )
    )
    session.flush()
    return bank


def _start(
    session: Session,
    rnd_id: int,
    user_id: int,
    clock: FrozenClock,
    store: Store,
    pools: PoolCache | None = None,
):  # type: ignore[no-untyped-def]
    result = services.start_attempt(
        session, round_id=rnd_id, user_id=user_id, clock=clock, store=store, pools=pools
    )
    session.commit()
    return result


# --------------------------------------------------------------------------- draw pools


def test_pool_is_built_once_and_reused(
    db_session: Session, store: Store, clock: FrozenClock
) -> None:
    bank = make_bank(db_session, questions=30)
    rnd = make_round(db_session, bank=bank, draw=5, attempts_allowed=1)
    users = [make_contestant(db_session) for _ in range(5)]
    db_session.commit()
    pools = PoolCache()
    for user in users:
        _start(db_session, rnd.id, user.id, clock, store, pools)
    assert pools.builds == 1


def test_bank_invalidation_makes_new_questions_drawable(
    db_session: Session, store: Store, clock: FrozenClock
) -> None:
    bank = make_bank(db_session, questions=3)
    rnd = make_round(db_session, bank=bank, draw=3, attempts_allowed=10)
    user = make_contestant(db_session)
    db_session.commit()
    pools = PoolCache()
    key = PoolKey(bank.id)
    assert len(pools.pool(db_session, store, key)) == 3
    new = make_question(db_session, bank, text="Câu mới?", options=["a", "b"], correct=[0])
    db_session.commit()
    assert len(pools.pool(db_session, store, key)) == 3  # cached
    announce_bank_changed(store, bank.id)
    assert new.id in pools.pool(db_session, store, key)
    assert pools.builds == 2
    _start(db_session, rnd.id, user.id, clock, store, pools)


def test_a_deactivated_question_is_never_drawn_even_from_a_stale_pool(
    db_session: Session, store: Store, clock: FrozenClock
) -> None:
    bank = make_bank(db_session, questions=6)
    rnd = make_round(db_session, bank=bank, draw=5, attempts_allowed=1)
    users = [make_contestant(db_session) for _ in range(20)]
    db_session.commit()
    pools = PoolCache()
    pools.pool(db_session, store, PoolKey(bank.id))  # warm, with all six
    retired = db_session.scalars(select(Question).where(Question.bank_id == bank.id)).first()
    assert retired is not None
    retired.active = False
    db_session.commit()
    for user in users:
        result = _start(db_session, rnd.id, user.id, clock, store, pools)
        drawn = {d.item.question_id for d in result.drawn}
        assert retired.id not in drawn
        assert len(drawn) == 5


def test_draw_rules_filter_by_difficulty_and_topic(
    db_session: Session, store: Store, clock: FrozenClock
) -> None:
    bank = make_bank(db_session)
    hard = [
        make_question(
            db_session, bank, text=f"Khó {i}?", options=["a", "b"], correct=[0], difficulty="hard"
        )
        for i in range(4)
    ]
    safety = [
        make_question(
            db_session, bank, text=f"ATVSLĐ {i}?", options=["a", "b"], correct=[0], topic="ATVSLĐ"
        )
        for i in range(4)
    ]
    for i in range(10):
        make_question(db_session, bank, text=f"Thường {i}?", options=["a", "b"], correct=[0])
    rnd = make_round(db_session, bank=bank, draw=3, attempts_allowed=1)
    rule = db_session.scalars(select(DrawRule).where(DrawRule.round_id == rnd.id)).one()
    rule.count, rule.difficulty = 2, "hard"
    db_session.add(DrawRule(round_id=rnd.id, bank_id=bank.id, count=3, topic="ATVSLĐ", position=1))
    rnd.question_count = 5
    users = [make_contestant(db_session) for _ in range(10)]
    db_session.commit()
    for user in users:
        result = _start(db_session, rnd.id, user.id, clock, store)
        drawn = [d.item.question_id for d in result.drawn]
        assert len(drawn) == 5
        assert sum(q.id in drawn for q in hard) == 2
        assert sum(q.id in drawn for q in safety) == 3


def test_a_bank_too_small_for_the_draw_is_a_clear_refusal(
    db_session: Session, store: Store, clock: FrozenClock
) -> None:
    bank = make_bank(db_session, questions=3)
    rnd = make_round(db_session, bank=bank, draw=3)
    rule = db_session.scalars(select(DrawRule).where(DrawRule.round_id == rnd.id)).one()
    rule.count = 4
    user = make_contestant(db_session)
    db_session.commit()
    with pytest.raises(Invalid):
        _start(db_session, rnd.id, user.id, clock, store)


def test_draw_from_a_big_bank_costs_the_same_statements_as_from_a_small_one(
    app: Flask, db_session: Session, store: Store, clock: FrozenClock
) -> None:
    """20,000 questions vs 50: once the pool is warm, a start runs the same statements, and
    none of them sorts the bank at random."""
    small = make_bank(db_session, questions=50)
    big = bulk_bank(db_session, 20_000)
    rounds = {
        "small": make_round(db_session, bank=small, draw=20, attempts_allowed=50),
        "big": make_round(db_session, bank=big, draw=20, attempts_allowed=50),
    }
    user = make_contestant(db_session)
    db_session.commit()
    pools = PoolCache()
    engine = database(app).engine
    statements: dict[str, list[str]] = {}
    rows_read: dict[str, int] = {}
    for name, rnd in rounds.items():
        # Warm the pool (the one O(bank) read per process per DRAW_POOL_TTL), finish it.
        warm = _start(db_session, rnd.id, user.id, clock, store, pools)
        services.submit_attempt(
            db_session, attempt_id=warm.attempt.id, user_id=user.id, clock=clock
        )
        db_session.commit()
        seen: list[str] = []
        fetched = [0]

        def count(conn, cursor, statement, *args, seen=seen) -> None:  # type: ignore[no-untyped-def]
            seen.append(statement)

        def rows(
            conn, cursor, statement, parameters, context, executemany, fetched=fetched
        ) -> None:  # type: ignore[no-untyped-def]
            if cursor.description is not None and cursor.rowcount and cursor.rowcount > 0:
                fetched[0] += cursor.rowcount

        event.listen(engine, "before_cursor_execute", count)
        event.listen(engine, "after_cursor_execute", rows)
        try:
            result = _start(db_session, rnd.id, user.id, clock, store, pools)
        finally:
            event.remove(engine, "before_cursor_execute", count)
            event.remove(engine, "after_cursor_execute", rows)
        assert len(result.drawn) == 20
        services.submit_attempt(
            db_session, attempt_id=result.attempt.id, user_id=user.id, clock=clock
        )
        db_session.commit()
        statements[name] = seen
        rows_read[name] = fetched[0]
    assert len(statements["big"]) == len(statements["small"])
    assert not any("random" in s.lower() for s in statements["big"])
    assert pools.builds == 2
    if rows_read["small"]:
        assert rows_read["big"] <= rows_read["small"] + 5, rows_read


# --------------------------------------------------------------------------- expiry


def test_finalize_expired_grades_what_was_saved_at_the_deadline_and_is_idempotent(
    db_session: Session, store: Store, clock: FrozenClock
) -> None:
    bank = make_bank(db_session, questions=4)
    rnd = make_round(db_session, bank=bank, draw=4, minutes=10)
    late, fresh = make_contestant(db_session), make_contestant(db_session)
    db_session.commit()
    a = _start(db_session, rnd.id, late.id, clock, store).attempt
    items = db_session.scalars(select(AttemptItem).where(AttemptItem.attempt_id == a.id)).all()
    right = items[0]
    version = db_session.get(QuestionVersion, right.version_id)
    assert version is not None
    letter = chr(65 + right.option_order.index(version.correct[0]))
    services.save_answer(
        db_session,
        attempt_id=a.id,
        question_id=right.question_id,
        user_id=late.id,
        choice=[letter],
        clock=clock,
    )
    db_session.commit()
    clock.advance(minutes=8)
    b = _start(db_session, rnd.id, fresh.id, clock, store).attempt
    clock.advance(minutes=2, seconds=6)  # a: deadline + 6 s; b: 2 min in

    done = services.finalize_expired(db_session, clock=clock, grace_seconds=5)
    finished = services.finished_in(db_session)
    db_session.commit()

    assert [x.id for x in done] == [a.id] == [x.id for x in finished]
    db_session.expire_all()
    a2, b2 = db_session.get(Attempt, a.id), db_session.get(Attempt, b.id)
    assert a2 is not None and b2 is not None
    assert a2.status == "expired"
    assert a2.submitted_at == a2.deadline_at
    assert (a2.score, a2.correct_count, a2.total, a2.duration_ms) == (1, 1, 4, 600_000)
    assert b2.status == "in_progress"
    assert services.finalize_expired(db_session, clock=clock, grace_seconds=5) == []


def test_an_attempt_within_grace_is_not_finalised(
    db_session: Session, store: Store, clock: FrozenClock
) -> None:
    rnd = make_round(db_session, draw=2, minutes=1)
    user = make_contestant(db_session)
    db_session.commit()
    _start(db_session, rnd.id, user.id, clock, store)
    clock.advance(minutes=1, seconds=4)
    assert services.finalize_expired(db_session, clock=clock, grace_seconds=5) == []


def test_start_after_an_expired_attempt_finalises_it_then_starts_the_next(
    db_session: Session, store: Store, clock: FrozenClock
) -> None:
    rnd = make_round(db_session, draw=2, minutes=1, attempts_allowed=2)
    user = make_contestant(db_session)
    db_session.commit()
    first = _start(db_session, rnd.id, user.id, clock, store).attempt
    clock.advance(minutes=5)
    second = _start(db_session, rnd.id, user.id, clock, store)
    assert second.created and second.attempt.number == 2
    db_session.expire_all()
    assert db_session.get(Attempt, first.id).status == "expired"  # type: ignore[union-attr]


def test_finalize_expired_cli_prints_the_count(
    app: Flask, runner: FlaskCliRunner, db_session: Session, store: Store, clock: FrozenClock
) -> None:
    rnd = make_round(db_session, draw=2, minutes=1)
    users = [make_contestant(db_session) for _ in range(3)]
    db_session.commit()
    for user in users:
        _start(db_session, rnd.id, user.id, clock, store)
    clock.advance(minutes=2)
    result = runner.invoke(args=["attempts", "finalize-expired", "--batch", "2"])
    assert result.exit_code == 0, result.output
    assert result.output.strip().splitlines()[-1] == "finalised 3 expired attempt(s)"
    again = runner.invoke(args=["attempts", "finalize-expired"])
    assert again.output.strip().splitlines()[-1] == "finalised 0 expired attempt(s)"
    statuses = db_session.scalars(select(Attempt.status)).all()
    assert statuses == ["expired"] * 3


def test_random_draws_cover_the_bank(db_session: Session, store: Store, clock: FrozenClock) -> None:
    bank = make_bank(db_session, questions=12)
    rnd = make_round(db_session, bank=bank, draw=3, attempts_allowed=100)
    user = make_contestant(db_session)
    db_session.commit()
    seen: set[int] = set()
    pools = PoolCache()
    for _ in range(40):
        result = services.start_attempt(
            db_session,
            round_id=rnd.id,
            user_id=user.id,
            clock=clock,
            store=store,
            pools=pools,
            rng=random.Random(),
        )
        seen.update(d.item.question_id for d in result.drawn)
        services.submit_attempt(
            db_session, attempt_id=result.attempt.id, user_id=user.id, clock=clock
        )
        db_session.commit()
    assert len(seen) == 12


def test_a_round_plan_is_kept_for_its_seconds_then_read_again(db_session: Session) -> None:
    rnd = make_round(db_session, draw=2, attempts_allowed=1)
    db_session.commit()
    ticks = [0.0]
    plans = PlanCache(1.0, monotonic=lambda: ticks[0])
    first = plans.plan(db_session, rnd.id)
    assert first is not None and first.attempts_allowed == 1 and len(first.rules) == 1

    rnd.attempts_allowed = 3  # an organiser's edit
    db_session.commit()
    kept = plans.plan(db_session, rnd.id)
    assert kept is not None and kept.attempts_allowed == 1
    ticks[0] = 1.5
    read_again = plans.plan(db_session, rnd.id)
    assert read_again is not None and read_again.attempts_allowed == 3
    assert plans.plan(db_session, rnd.id + 1000) is None
    assert PlanCache(0).plan(db_session, rnd.id) == read_again  # 0: always the database


def test_bank_tokens_are_read_at_most_once_per_interval(db_session: Session, store: Store) -> None:
    bank = make_bank(db_session, questions=5)
    db_session.commit()
    ticks = [0.0]
    pools = PoolCache(check_every=1.0, monotonic=lambda: ticks[0])
    key = PoolKey(bank.id)
    assert len(pools.pools(db_session, store, [key])[0]) == 5
    make_question(db_session, bank, text="Câu hỏi mới?", options=["Có", "Không"], correct=[0])
    db_session.commit()
    announce_bank_changed(store, bank.id)
    assert len(pools.pools(db_session, store, [key])[0]) == 5  # within the second
    ticks[0] = 1.5
    assert len(pools.pools(db_session, store, [key])[0]) == 6  # the change is seen

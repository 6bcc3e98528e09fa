"""The demo contest: two boards, a round open now for a week, safe to seed twice."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from flask import Flask
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from quizengine.clock import FrozenClock
from quizengine.contests import demo
from quizengine.models import Contest, Round
from tests.factories import make_bank

NOW = datetime(2026, 3, 2, 3, 0, 30, tzinfo=UTC)


def test_demo_contest_is_seeded_once_with_an_open_round(app: Flask, db_session: Session) -> None:
    make_bank(db_session, slug="luat-giao-thong", questions=30)
    make_bank(db_session, slug="phong-chong-covid-19", questions=30)
    make_bank(db_session, slug="an-toan-ve-sinh-lao-dong", questions=30)
    clock = FrozenClock(NOW)
    with app.app_context():
        assert demo.seed(db_session, clock) == []
        clock.advance(minutes=5)
        assert demo.seed(db_session, clock) == []
    contest = db_session.scalars(select(Contest)).one()
    assert contest.title == demo.TITLE
    assert [b.name for b in contest.boards] == list(demo.BOARDS)
    rnd = db_session.scalars(select(Round)).one()
    assert rnd.opens_at == NOW.replace(second=0) and rnd.closes_at - rnd.opens_at == timedelta(
        days=7
    )
    assert (rnd.question_count, rnd.time_limit_seconds, rnd.attempts_allowed) == (20, 1200, 3)
    assert rnd.prizes == [1, 2, 3, 5] and rnd.prediction_text
    assert [(r.bank_slug, r.count) for r in rnd.draw_rules] == [
        ("luat-giao-thong", 8),
        ("phong-chong-covid-19", 6),
        ("an-toan-ve-sinh-lao-dong", 6),
    ]


def test_demo_contest_draws_around_a_missing_bank(app: Flask, db_session: Session) -> None:
    make_bank(db_session, slug="luat-giao-thong", questions=12)
    make_bank(db_session, slug="an-toan-ve-sinh-lao-dong", questions=5)
    with app.app_context():
        notes = demo.seed(db_session, FrozenClock(NOW))
    assert any("phong-chong-covid-19" in n for n in notes)
    assert any("only 17" in n for n in notes)
    rnd = db_session.scalars(select(Round)).one()
    assert rnd.question_count == 17


def test_demo_contest_without_any_bank_has_no_round_yet(app: Flask, db_session: Session) -> None:
    with app.app_context():
        notes = demo.seed(db_session, FrozenClock(NOW))
    assert any("no round" in n for n in notes)
    assert db_session.scalar(select(func.count()).select_from(Contest)) == 1
    assert db_session.scalar(select(func.count()).select_from(Round)) == 0

"""The judges' demo round: seeded once, closed, flagged, and finalisable."""

from __future__ import annotations

import pytest
from flask import Flask
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from quizengine.clock import FrozenClock
from quizengine.demo import seed_demo
from quizengine.judging import demo, services
from quizengine.judging.audit import Actor
from quizengine.models import AnswerEvent, Attempt, Flag, Round


@pytest.mark.slow
def test_demo_seeds_a_closed_round_once_that_judges_can_finalise(
    app: Flask, db_session: Session, clock: FrozenClock
) -> None:
    seed_demo(db_session, app)
    seed_demo(db_session, app)
    db_session.commit()
    rnd = db_session.scalars(select(Round).where(Round.title == demo.TITLE)).one()
    assert rnd.closes_at < clock.now()
    attempts = db_session.scalar(
        select(func.count()).select_from(Attempt).where(Attempt.round_id == rnd.id)
    )
    assert attempts == demo.CONTESTANTS
    assert db_session.scalar(select(func.count()).select_from(AnswerEvent)) == (
        demo.CONTESTANTS * demo.QUESTIONS
    )
    assert db_session.scalars(select(Flag.kind).where(Flag.round_id == rnd.id)).all() == [
        "too_fast"
    ]
    outcome = services.finalise_round(
        db_session, round_id=rnd.id, actor=Actor.cli("test"), clock=clock
    )
    assert outcome.contestants == demo.CONTESTANTS
    assert outcome.winners == 2 * 11  # two boards, 1 + 2 + 3 + 5 prizes each
    assert outcome.truth is not None and outcome.truth > 0

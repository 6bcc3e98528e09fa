"""Builders for leaderboard tests: finished attempts written as rows (no grading involved)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from quizengine.models import Attempt, ContestEntry, Round, User
from tests.factories import NOW


def make_attempt(
    session: Session,
    round_: Round,
    user: User,
    *,
    board_id: int | None = None,
    status: str = "submitted",
    started_at: datetime | None = None,
    duration_ms: int | None = 60_000,
    submitted_at: datetime | None = None,
    score: int | None = 5,
    total: int = 5,
    correct_count: int | None = None,
    prediction: int | None = None,
    disqualified: bool = False,
    **extra: Any,
) -> Attempt:
    """A finished attempt (or one in progress with ``status="in_progress"``)."""
    number = (
        session.scalar(
            select(func.count()).where(Attempt.round_id == round_.id, Attempt.user_id == user.id)
        )
        or 0
    ) + 1
    started = started_at or NOW
    finished = status != "in_progress"
    if finished and submitted_at is None and duration_ms is not None:
        submitted_at = started + timedelta(milliseconds=duration_ms)
    attempt = Attempt(
        round_id=round_.id,
        user_id=user.id,
        board_id=board_id,
        number=number,
        status=status,
        started_at=started,
        deadline_at=started + timedelta(seconds=round_.time_limit_seconds),
        submitted_at=submitted_at if finished else None,
        duration_ms=duration_ms if finished else None,
        score=score if finished else None,
        correct_count=(score if correct_count is None else correct_count) if finished else None,
        total=total,
        prediction=prediction,
        disqualified=disqualified,
        **extra,
    )
    session.add(attempt)
    session.flush()
    return attempt


def enter(session: Session, round_: Round, user: User, board_id: int | None) -> None:
    """The contestant's first entry into the round's contest (their board, then fixed)."""
    session.add(
        ContestEntry(
            contest_id=round_.contest_id, user_id=user.id, board_id=board_id, created_at=NOW
        )
    )
    session.flush()

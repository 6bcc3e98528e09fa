"""Leaderboard verbs: record a finished attempt, a contestant's rank, their best attempt."""

from __future__ import annotations

import logging

from sqlalchemy import select
from sqlalchemy.orm import Session

from quizengine.models import Attempt, AttemptStatus, Round
from quizengine.store import Store, StoreUnavailable

log = logging.getLogger(__name__)

_FINISHED = (AttemptStatus.SUBMITTED.value, AttemptStatus.EXPIRED.value)


def _sort_key(a: Attempt) -> tuple[int, int, float, int]:
    return (
        -(a.score or 0),
        a.duration_ms if a.duration_ms is not None else 2**62,
        a.submitted_at.timestamp() if a.submitted_at else float("inf"),
        a.id,
    )


def best_attempt(session: Session, round_: Round, user_id: int) -> Attempt | None:
    """The attempt that counts: the one ranking highest under the round's ladder."""
    attempts = session.scalars(
        select(Attempt).where(
            Attempt.round_id == round_.id,
            Attempt.user_id == user_id,
            Attempt.status.in_(_FINISHED),
            Attempt.disqualified.is_(False),
        )
    ).all()
    return min(attempts, key=_sort_key) if attempts else None


def record_result(session: Session, store: Store, attempt: Attempt) -> None:
    """Update the live boards after the commit that finished ``attempt``; never raises for Redis."""
    try:
        store.ping()
    except StoreUnavailable as exc:
        log.warning("leaderboard: store unavailable, attempt %s not recorded: %s", attempt.id, exc)


def rank_of(session: Session, store: Store, round_id: int, user_id: int) -> int | None:
    """The contestant's 1-based rank on their board for their best attempt; None if none."""
    round_ = session.get(Round, round_id)
    if round_ is None:
        return None
    mine = best_attempt(session, round_, user_id)
    if mine is None:
        return None
    attempts = session.scalars(
        select(Attempt).where(
            Attempt.round_id == round_id,
            Attempt.status.in_(_FINISHED),
            Attempt.disqualified.is_(False),
            Attempt.board_id == mine.board_id
            if mine.board_id is not None
            else Attempt.board_id.is_(None),
        )
    ).all()
    best: dict[int, Attempt] = {}
    for a in attempts:
        cur = best.get(a.user_id)
        if cur is None or _sort_key(a) < _sort_key(cur):
            best[a.user_id] = a
    ordered = sorted(best.values(), key=_sort_key)
    return next(i for i, a in enumerate(ordered, start=1) if a.user_id == user_id)

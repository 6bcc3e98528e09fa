"""Builders for judging tests: closed rounds and finished attempts written as rows.

Judging never grades; it ranks what the attempts hold, so the tests write attempts
directly (status, score, duration, prediction, times) instead of taking them.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from quizengine.models import Attempt, Board, ContestEntry, Round, Unit, User
from tests.factories import NOW, make_contest, make_contestant, make_round, make_unit

CLOSED_AT = NOW - timedelta(hours=1)
QUESTIONS = 10


def closed_round(
    session: Session,
    *,
    boards: tuple[str, ...] = (),
    prizes: list[int] | None = None,
    prediction: str | None = "Có bao nhiêu người trả lời đúng tất cả các câu hỏi?",
    contest: Any = None,
    closes_at: datetime = CLOSED_AT,
    **extra: Any,
) -> Round:
    """A round that opened a week ago and closed an hour before the test clock's NOW."""
    contest = contest or make_contest(session, boards=boards)
    return make_round(
        session,
        contest=contest,
        opens_at=closes_at - timedelta(days=7),
        closes_at=closes_at,
        prediction=prediction,
        prizes=list(prizes if prizes is not None else [1, 1, 1, 1]),
        **extra,
    )


def board_of(session: Session, round_: Round, name: str) -> Board:
    board = session.scalar(
        select(Board).where(Board.contest_id == round_.contest_id, Board.name == name)
    )
    assert board is not None
    return board


def take(
    session: Session,
    round_: Round,
    user: User,
    *,
    score: int,
    duration_s: float = 300,
    prediction: int | None = None,
    board: Board | None = None,
    started_at: datetime | None = None,
    total: int = QUESTIONS,
    status: str = "submitted",
    **extra: Any,
) -> Attempt:
    """A finished attempt of ``user`` (entered on ``board`` the first time)."""
    if board is not None and not session.scalar(
        select(ContestEntry).where(
            ContestEntry.contest_id == round_.contest_id, ContestEntry.user_id == user.id
        )
    ):
        session.add(
            ContestEntry(
                contest_id=round_.contest_id, user_id=user.id, board_id=board.id, created_at=NOW
            )
        )
    number = (
        session.scalar(
            select(func.count())
            .select_from(Attempt)
            .where(Attempt.round_id == round_.id, Attempt.user_id == user.id)
        )
        or 0
    ) + 1
    started = started_at or (round_.opens_at + timedelta(hours=1, minutes=number))
    duration_ms = int(duration_s * 1000)
    finished = status != "in_progress"
    attempt = Attempt(
        round_id=round_.id,
        user_id=user.id,
        board_id=board.id if board is not None else None,
        number=number,
        status=status,
        started_at=started,
        deadline_at=started + timedelta(seconds=round_.time_limit_seconds),
        submitted_at=started + timedelta(milliseconds=duration_ms) if finished else None,
        duration_ms=duration_ms if finished else None,
        score=score if finished else None,
        correct_count=score if finished else None,
        total=total,
        prediction=prediction,
        **extra,
    )
    session.add(attempt)
    session.flush()
    return attempt


def contestant(
    session: Session,
    name: str,
    *,
    unit: Unit | None = None,
    phone: str | None = None,
) -> User:
    return make_contestant(session, full_name=name, unit=unit or make_unit(session), phone=phone)


def union_tree(session: Session) -> tuple[Unit, Unit, Unit, Unit]:
    """Federation → district union → two grassroots unions; returns (root, mid, leaf1, leaf2)."""
    root = make_unit(session, code="LDLD", name="Liên đoàn Lao động tỉnh Quảng Ngãi")
    mid = make_unit(session, code="CD-DQ", name="Công đoàn huyện Đức Phổ", parent=root)
    leaf1 = make_unit(session, code="CDCS-A", name="Công đoàn Công ty May Đức Phổ", parent=mid)
    leaf2 = make_unit(session, code="CDCS-B", name="Công đoàn Trường THPT Số 1", parent=mid)
    return root, mid, leaf1, leaf2

"""entry_state: what the contest page needs to render the start/resume form."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy.orm import Session

from quizengine.attempts.queries import entry_state
from quizengine.models import Attempt, AttemptStatus, ContestEntry
from tests.factories import NOW, make_contest, make_contestant, make_round


def _attempt(session: Session, rnd, user, number: int, status: AttemptStatus) -> Attempt:  # type: ignore[no-untyped-def]
    a = Attempt(
        round_id=rnd.id,
        user_id=user.id,
        number=number,
        status=status.value,
        started_at=NOW,
        deadline_at=NOW + timedelta(minutes=20),
        total=5,
    )
    session.add(a)
    session.flush()
    return a


def test_first_entry_asks_for_board_and_access_code(db_session: Session) -> None:
    contest = make_contest(db_session, access_code="CD2026", boards=("Bảng A", "Bảng B"))
    user = make_contestant(db_session)
    state = entry_state(db_session, contest.id, user.id)
    assert not state.has_entry
    assert state.needs_board and state.needs_access_code
    assert state.board_names == ["Bảng A", "Bảng B"]
    assert state.board_name is None


def test_entry_fixes_the_board_and_counts_attempts_per_round(db_session: Session) -> None:
    contest = make_contest(db_session, access_code="CD2026", boards=("Bảng A", "Bảng B"))
    r1 = make_round(db_session, contest=contest, attempts_allowed=3)
    r2 = make_round(db_session, contest=contest, attempts_allowed=2)
    other = make_round(db_session)
    user = make_contestant(db_session)
    board_b = contest.boards[1]
    db_session.add(
        ContestEntry(contest_id=contest.id, user_id=user.id, board_id=board_b.id, created_at=NOW)
    )
    _attempt(db_session, r1, user, 1, AttemptStatus.SUBMITTED)
    running = _attempt(db_session, r1, user, 2, AttemptStatus.IN_PROGRESS)
    _attempt(db_session, r2, user, 1, AttemptStatus.EXPIRED)
    _attempt(db_session, other, user, 1, AttemptStatus.IN_PROGRESS)
    db_session.commit()

    state = entry_state(db_session, contest.id, user.id)
    assert state.has_entry and state.board_name == "Bảng B"
    assert not state.needs_board and not state.needs_access_code
    assert state.in_progress == {r1.id: running.id}
    assert state.attempts_used == {r1.id: 2, r2.id: 1}
    assert state.attempts_left(r1.id, 3) == 1
    assert state.attempts_left(r2.id, 2) == 1
    assert state.in_progress_attempt(r2.id) is None


def test_contest_without_boards_or_code_needs_nothing(db_session: Session) -> None:
    contest = make_contest(db_session)
    user = make_contestant(db_session)
    state = entry_state(db_session, contest.id, user.id)
    assert not state.needs_board and not state.needs_access_code
    assert entry_state(db_session, contest.id, None).needs_board is False

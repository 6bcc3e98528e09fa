"""Reads about attempts: the contest page's start form (``entry_state``), the attempt as the
contestant sees it (``load_sheet``: letters after shuffling, never the correct options),
and the review after grading (``load_review``).

No writes here: services.py holds the verbs.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from quizengine.attempts.draw import LetterMap
from quizengine.clock import iso_z
from quizengine.models import (
    Attempt,
    AttemptItem,
    AttemptStatus,
    Board,
    Contest,
    ContestEntry,
    QuestionVersion,
    ReviewPolicy,
    Round,
)


@dataclass(frozen=True)
class EntryState:
    """What the contest page needs to render the start/resume form for one contestant.

    ``needs_board`` / ``needs_access_code``: the start form must ask for them (first entry
    only; once a ContestEntry exists the board is fixed and the code was passed).
    ``in_progress``: round id → id of the attempt in progress (resume it, do not start one).
    ``attempts_used``: round id → attempts taken in that round, whatever their status.
    """

    contest_id: int
    has_entry: bool
    board_name: str | None
    needs_board: bool
    needs_access_code: bool
    board_names: list[str] = field(default_factory=list)
    in_progress: dict[int, int] = field(default_factory=dict)
    attempts_used: dict[int, int] = field(default_factory=dict)

    def in_progress_attempt(self, round_id: int) -> int | None:
        return self.in_progress.get(round_id)

    def used(self, round_id: int) -> int:
        return self.attempts_used.get(round_id, 0)

    def attempts_left(self, round_id: int, attempts_allowed: int) -> int:
        return max(0, attempts_allowed - self.used(round_id))


def entry_state(session: Session, contest_id: int, user_id: int | None) -> EntryState:
    """Three indexed reads, whatever the number of rounds: contest+boards, entry, attempts."""
    contest = session.get(Contest, contest_id)
    if contest is None:
        return EntryState(contest_id, False, None, False, False)
    board_names = list(
        session.scalars(
            select(Board.name).where(Board.contest_id == contest_id).order_by(Board.position)
        )
    )
    if user_id is None:
        return EntryState(
            contest_id,
            has_entry=False,
            board_name=None,
            needs_board=bool(board_names),
            needs_access_code=bool(contest.access_code),
            board_names=board_names,
        )
    entry_row = session.execute(
        select(ContestEntry.id, Board.name)
        .outerjoin(Board, Board.id == ContestEntry.board_id)
        .where(ContestEntry.contest_id == contest_id, ContestEntry.user_id == user_id)
    ).first()
    has_entry = entry_row is not None
    in_progress: dict[int, int] = {}
    used: dict[int, int] = {}
    rows = session.execute(
        select(Attempt.round_id, Attempt.status, func.count(), func.max(Attempt.id))
        .join(Round, Round.id == Attempt.round_id)
        .where(Attempt.user_id == user_id, Round.contest_id == contest_id)
        .group_by(Attempt.round_id, Attempt.status)
    ).all()
    for round_id, status, count, max_id in rows:
        used[round_id] = used.get(round_id, 0) + int(count)
        if status == AttemptStatus.IN_PROGRESS.value:
            in_progress[round_id] = int(max_id)
    return EntryState(
        contest_id,
        has_entry=has_entry,
        board_name=entry_row[1] if entry_row is not None else None,
        needs_board=not has_entry and bool(board_names),
        needs_access_code=not has_entry and bool(contest.access_code),
        board_names=board_names,
        in_progress=in_progress,
        attempts_used=used,
    )


# --------------------------------------------------------------------------- the attempt sheet


@dataclass(frozen=True)
class SheetOption:
    key: str
    text: str


@dataclass(frozen=True)
class SheetQuestion:
    """One question as this contestant sees it: letters after shuffling, no correctness data."""

    position: int
    question_id: int
    text: str
    multi: bool
    options: list[SheetOption]
    chosen: list[str]

    @property
    def answered(self) -> bool:
        return bool(self.chosen)


@dataclass(frozen=True)
class ReviewQuestion:
    """The same question after grading: the correct letters and why."""

    question: SheetQuestion
    correct: list[str]
    is_correct: bool
    points: int
    explanation: str | None
    legal_basis: str | None


class ShownItem(Protocol):
    """What the sheet needs of an attempt item (an AttemptItem or a row with those columns)."""

    @property
    def position(self) -> int: ...
    @property
    def question_id(self) -> int: ...
    @property
    def option_order(self) -> list[int]: ...
    @property
    def chosen(self) -> list[int] | None: ...


class ShownVersion(Protocol):
    """What the sheet needs of the question version shown (never its correct options)."""

    @property
    def text(self) -> str: ...
    @property
    def options(self) -> list[str]: ...
    @property
    def multi(self) -> bool: ...


@dataclass(frozen=True)
class VersionView:
    """A question version read as plain columns (cheaper than an ORM entity on hot paths)."""

    id: int
    text: str
    options: list[str]
    correct: list[int]
    explanation: str | None = None
    legal_basis: str | None = None

    @property
    def multi(self) -> bool:
        return len(self.correct) > 1


def sheet_question(item: ShownItem, version: ShownVersion) -> SheetQuestion:
    letters = LetterMap(item.option_order)
    return SheetQuestion(
        position=item.position,
        question_id=item.question_id,
        text=version.text,
        multi=version.multi,
        options=[
            SheetOption(key, version.options[index])
            for key, index in zip(letters.letters(), item.option_order, strict=True)
        ],
        chosen=letters.to_letters(item.chosen),
    )


@dataclass(frozen=True)
class _ItemView:
    position: int
    question_id: int
    option_order: list[int]
    chosen: list[int] | None
    is_correct: bool | None
    points: int


def _sheet_rows(session: Session, attempt_id: int) -> list[tuple[_ItemView, VersionView]]:
    """One query, plain columns: the attempt's items in order with the versions shown."""
    rows = session.execute(
        select(
            AttemptItem.position,
            AttemptItem.question_id,
            AttemptItem.option_order,
            AttemptItem.chosen,
            AttemptItem.is_correct,
            AttemptItem.points,
            QuestionVersion.id,
            QuestionVersion.text,
            QuestionVersion.options,
            QuestionVersion.correct,
            QuestionVersion.explanation,
            QuestionVersion.legal_basis,
        )
        .join(QuestionVersion, QuestionVersion.id == AttemptItem.version_id)
        .where(AttemptItem.attempt_id == attempt_id)
        .order_by(AttemptItem.position)
    ).all()
    return [(_ItemView(*row[:6]), VersionView(*row[6:])) for row in rows]


def load_sheet(session: Session, attempt_id: int) -> list[SheetQuestion]:
    """Every question of the attempt, in order, in one query."""
    return [sheet_question(item, version) for item, version in _sheet_rows(session, attempt_id)]


def load_review(session: Session, attempt_id: int) -> list[ReviewQuestion]:
    """Only for a finished attempt whose round's review policy allows it (views check)."""
    out = []
    for item, version in _sheet_rows(session, attempt_id):
        letters = LetterMap(item.option_order)
        out.append(
            ReviewQuestion(
                question=sheet_question(item, version),
                correct=letters.to_letters(version.correct),
                is_correct=bool(item.is_correct),
                points=item.points,
                explanation=version.explanation,
                legal_basis=version.legal_basis,
            )
        )
    return out


def attempt_payload(attempt: Attempt, sheet: list[SheetQuestion]) -> dict[str, Any]:
    """The JSON API's attempt: questions with letters, answers by question id. Nothing here
    says which option is right (tested)."""
    return {
        "attempt_id": attempt.id,
        "deadline": iso_z(attempt.deadline_at),
        "questions": [
            {
                "id": q.question_id,
                "text": q.text,
                "multi": q.multi,
                "options": [{"key": o.key, "text": o.text} for o in q.options],
            }
            for q in sheet
        ],
        "answers": {str(q.question_id): q.chosen for q in sheet if q.chosen},
    }


def review_open(round_: Round, attempt: Attempt, now: datetime) -> bool:
    """Whether the contestant may see correct answers and explanations now."""
    if not attempt.finished:
        return False
    policy = round_.review_policy
    if policy == ReviewPolicy.AFTER_SUBMIT.value:
        return True
    if policy == ReviewPolicy.AFTER_CLOSE.value:
        return now >= round_.closes_at
    return False


def contest_id_of_round(session: Session, round_id: int) -> int | None:
    return session.scalar(select(Round.contest_id).where(Round.id == round_id))

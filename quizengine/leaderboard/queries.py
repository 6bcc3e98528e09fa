"""Leaderboard reads on the database — the truth every Redis key is rebuilt from.

``ranked_in_db`` is the ranking rule written as SQL (the ORDER BY is built from the
round's ladder); the judges' final standings reuse it. ``best_rows`` is the same choice of
best attempt per contestant, which rebuilds and recorders encode into Redis.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

from sqlalchemy import ColumnElement, Table, and_, bindparam, case, exists, func, select
from sqlalchemy.orm import Session

from quizengine.leaderboard.ladder import Standing, live_steps
from quizengine.models import Attempt, AttemptStatus, Board, ContestEntry, Round, Unit, User
from quizengine.models.judging import Disqualification

FINISHED = (AttemptStatus.SUBMITTED.value, AttemptStatus.EXPIRED.value)


def counted(round_id: int) -> ColumnElement[bool]:
    """The attempts that count for a round: finished (submitted or expired), not disqualified.

    Every ranking, truth, tally and rebuild goes through this one condition. A contestant
    the judges disqualified from the round stays out even with an attempt finished after
    the decision (judging marks only the attempts that existed then).
    """
    return and_(
        Attempt.round_id == round_id,
        Attempt.status.in_(FINISHED),
        Attempt.disqualified.is_(False),
        ~exists().where(
            Disqualification.round_id == round_id,
            Disqualification.user_id == Attempt.user_id,
        ),
    )


@dataclass(frozen=True)
class _LadderColumns:
    id: Any
    score: Any
    prediction: Any
    duration_ms: Any
    submitted_at: Any
    first_started_at: Any


def _missing_last(column: Any) -> Any:
    return case((column.is_(None), 1), else_=0)


def ladder_order(cols: _LadderColumns, steps: Sequence[str], truth: int | None) -> list[Any]:
    """ORDER BY terms for the ladder (ascending = better), ending with the attempt id."""
    terms: list[Any] = []
    for step in live_steps(list(steps), truth):
        if step == "points":
            terms.append(func.coalesce(cols.score, 0).desc())
        elif step == "prediction":
            terms += [_missing_last(cols.prediction), func.abs(cols.prediction - truth)]
        elif step == "duration":
            terms += [_missing_last(cols.duration_ms), cols.duration_ms]
        elif step == "submitted_at":
            terms += [_missing_last(cols.submitted_at), cols.submitted_at]
        elif step == "started_at":
            terms += [_missing_last(cols.first_started_at), cols.first_started_at]
    terms.append(cols.id)
    return terms


def truth_is_due(round_: Round, now: datetime) -> bool:
    """Does the board use the prediction step now? From the close on, when it has one."""
    return round_.has_prediction and "prediction" in round_.ladder_steps and now >= round_.closes_at


def prediction_truth(session: Session, round_: Round) -> int | None:
    """The prediction's true value: the organiser's (or the judges') stored value, else computed.

    ``participants``: contestants with a counted attempt. ``full_marks``: contestants with a
    counted attempt answering every question correctly (with ``points`` first on the ladder,
    exactly those whose best attempt has full marks — and it does not depend on the
    prediction step itself). Disqualified attempts never count.
    """
    if not round_.has_prediction:
        return None
    if round_.prediction_truth is not None:
        return int(round_.prediction_truth)
    query = select(func.count(func.distinct(Attempt.user_id))).where(counted(round_.id))
    if round_.prediction_target != "participants":
        query = query.where(Attempt.total > 0, Attempt.correct_count == Attempt.total)
    return int(session.scalar(query) or 0)


def truth_in_force(session: Session, round_: Round, now: datetime) -> int | None:
    """The true value the live board uses now: None while the round is open."""
    return prediction_truth(session, round_) if truth_is_due(round_, now) else None


@dataclass(slots=True)  # not frozen: built once per contestant in a rebuild, cheaply
class BestRow:
    """A contestant's best attempt with what the ladder, the boards and the tallies need."""

    user_id: int
    attempt_id: int
    board_id: int | None
    unit_id: int | None
    points: int
    prediction: int | None
    duration_ms: int | None
    submitted_at: datetime | None
    first_started_at: datetime | None
    attempts: int

    @property
    def standing(self) -> Standing:
        return Standing(
            attempt_id=self.attempt_id,
            points=self.points,
            prediction=self.prediction,
            duration_ms=self.duration_ms,
            submitted_at=self.submitted_at,
            first_started_at=self.first_started_at,
        )


def _best_per_user(
    round_: Round,
    truth: int | None,
    *,
    board_id: int | bool | None = False,
    user_id: int | None = None,
) -> Any:
    """Subquery: counted attempts with ``pick`` (1 = the contestant's best) and ``n``.

    ``board_id`` False = every board; None = the attempts without a board.
    """
    first = select(
        Attempt.user_id.label("user_id"),
        func.min(Attempt.started_at).label("first_started_at"),
    ).where(Attempt.round_id == round_.id)
    if user_id is not None:
        first = first.where(Attempt.user_id == user_id)
    fs = first.group_by(Attempt.user_id).subquery("fs")
    cols = _LadderColumns(
        id=Attempt.id,
        score=Attempt.score,
        prediction=Attempt.prediction,
        duration_ms=Attempt.duration_ms,
        submitted_at=Attempt.submitted_at,
        first_started_at=fs.c.first_started_at,
    )
    query = (
        select(
            Attempt.id.label("attempt_id"),
            Attempt.user_id.label("user_id"),
            Attempt.board_id.label("board_id"),
            func.coalesce(Attempt.score, 0).label("points"),
            Attempt.score.label("score"),
            Attempt.prediction.label("prediction"),
            Attempt.duration_ms.label("duration_ms"),
            Attempt.submitted_at.label("submitted_at"),
            fs.c.first_started_at,
            func.row_number()
            .over(
                partition_by=Attempt.user_id,
                order_by=ladder_order(cols, round_.ladder_steps, truth),
            )
            .label("pick"),
            func.count().over(partition_by=Attempt.user_id).label("n"),
        )
        .join(fs, fs.c.user_id == Attempt.user_id)
        .where(counted(round_.id))
    )
    if user_id is not None:
        query = query.where(Attempt.user_id == user_id)
    if board_id is None:
        query = query.where(Attempt.board_id.is_(None))
    elif board_id is not False:
        query = query.where(Attempt.board_id == board_id)
    return query.subquery("per_user")


def best_rows(
    session: Session, round_: Round, truth: int | None, *, user_id: int | None = None
) -> list[BestRow]:
    """Each contestant's best attempt (one contestant with ``user_id``), any board."""
    per_user = _best_per_user(round_, truth, user_id=user_id)
    rows = session.execute(
        select(per_user, User.unit_id)
        .join(User, User.id == per_user.c.user_id)
        .where(per_user.c.pick == 1)
    )
    return [
        BestRow(
            user_id=r.user_id,
            attempt_id=r.attempt_id,
            board_id=r.board_id,
            unit_id=r.unit_id,
            points=int(r.points),
            prediction=r.prediction,
            duration_ms=r.duration_ms,
            submitted_at=r.submitted_at,
            first_started_at=r.first_started_at,
            attempts=int(r.n),
        )
        for r in rows
    ]


@dataclass(frozen=True)
class RankedEntry:
    """One line of a board ranked by the database, with every ranking column."""

    rank: int
    user_id: int
    attempt_id: int
    board_id: int | None
    full_name: str
    unit_id: int | None
    points: int
    prediction: int | None
    error: int | None  # |prediction − truth|; None without a truth or a prediction
    duration_ms: int | None
    submitted_at: datetime | None
    first_started_at: datetime | None
    attempts: int


def ranked_in_db(
    session: Session,
    round_id: int,
    board_id: int | None,
    *,
    truth: int | None,
    limit: int | None = None,
    offset: int = 0,
    user_id: int | None = None,
) -> list[RankedEntry]:
    """The board ranked by SQL under the round's ladder: best attempt per contestant.

    ``truth`` None skips the prediction step (the live board while the round is open);
    pass ``prediction_truth(...)`` for the board from the close on and for final standings.
    ``board_id`` None = the round's attempts without a board (contests without boards).
    ``user_id`` keeps that contestant's line only (with its rank among everyone).
    """
    round_ = session.get(Round, round_id)
    if round_ is None:
        return []
    per_user = _best_per_user(round_, truth, board_id=board_id)
    cols = _LadderColumns(
        id=per_user.c.attempt_id,
        score=per_user.c.score,
        prediction=per_user.c.prediction,
        duration_ms=per_user.c.duration_ms,
        submitted_at=per_user.c.submitted_at,
        first_started_at=per_user.c.first_started_at,
    )
    ranked = (
        select(
            per_user,
            func.row_number()
            .over(order_by=ladder_order(cols, round_.ladder_steps, truth))
            .label("rank"),
        )
        .where(per_user.c.pick == 1)
        .subquery("ranked")
    )
    query = (
        select(ranked, User.full_name, User.unit_id)
        .join(User, User.id == ranked.c.user_id)
        .order_by(ranked.c.rank)
    )
    if user_id is not None:
        query = query.where(ranked.c.user_id == user_id)
    if offset:
        query = query.offset(offset)
    if limit is not None:
        query = query.limit(limit)
    return [
        RankedEntry(
            rank=int(r.rank),
            user_id=r.user_id,
            attempt_id=r.attempt_id,
            board_id=r.board_id,
            full_name=r.full_name,
            unit_id=r.unit_id,
            points=int(r.points),
            prediction=r.prediction,
            error=(
                abs(r.prediction - truth)
                if truth is not None and r.prediction is not None
                else None
            ),
            duration_ms=r.duration_ms,
            submitted_at=r.submitted_at,
            first_started_at=r.first_started_at,
            attempts=int(r.n),
        )
        for r in session.execute(query)
    ]


def counted_attempts(session: Session, round_id: int) -> int:
    return int(
        session.scalar(select(func.count()).select_from(Attempt).where(counted(round_id))) or 0
    )


def user_board(session: Session, round_id: int, user_id: int) -> int | None:
    """The board the contestant's attempts in this round are ranked on."""
    return session.scalar(
        select(Attempt.board_id)
        .where(Attempt.round_id == round_id, Attempt.user_id == user_id)
        .limit(1)
    )


def contest_boards(session: Session, contest_id: int) -> list[Board]:
    return list(
        session.scalars(
            select(Board).where(Board.contest_id == contest_id).order_by(Board.position, Board.id)
        )
    )


def entry_board(session: Session, contest_id: int, user_id: int) -> int | None:
    """The board a contestant picked on first entry (None: no entry or no boards)."""
    return session.scalar(
        select(ContestEntry.board_id).where(
            ContestEntry.contest_id == contest_id, ContestEntry.user_id == user_id
        )
    )


@dataclass(frozen=True)
class DisplayRow:
    attempt_id: int
    user_id: int
    name: str
    unit: str
    score: int
    duration_ms: int | None


_ATTEMPTS, _USERS, _UNITS = (cast(Table, m.__table__) for m in (Attempt, User, Unit))
_DISPLAY_ROWS = (
    select(
        _ATTEMPTS.c.id,
        _ATTEMPTS.c.user_id,
        _ATTEMPTS.c.score,
        _ATTEMPTS.c.duration_ms,
        _USERS.c.full_name,
        _UNITS.c.short_name,
        _UNITS.c.name,
    )
    .select_from(_ATTEMPTS)
    .join(_USERS, _USERS.c.id == _ATTEMPTS.c.user_id)
    .outerjoin(_UNITS, _UNITS.c.id == _USERS.c.unit_id)
    .where(_ATTEMPTS.c.id.in_(bindparam("ids", expanding=True)))
)


def display_rows(session: Session, attempt_ids: Iterable[int]) -> dict[int, DisplayRow]:
    """Names as registered and the unit's short name — never phone numbers."""
    ids = sorted(set(attempt_ids))
    if not ids:
        return {}
    # Every board read runs this (the viewer's own line): Core, a statement built once.
    rows = session.connection().execute(_DISPLAY_ROWS, {"ids": ids})
    return {
        r.id: DisplayRow(
            attempt_id=r.id,
            user_id=r.user_id,
            name=r.full_name,
            unit=r.short_name or r.name or "",
            score=int(r.score or 0),
            duration_ms=r.duration_ms,
        )
        for r in rows
    }


def unit_paths(session: Session) -> dict[int, list[int]]:
    """Unit id → [the unit, its parent, …, the root]. The tree is small (thousands)."""
    parents: dict[int, int | None] = {
        uid: pid for uid, pid in session.execute(select(Unit.id, Unit.parent_id))
    }
    paths: dict[int, list[int]] = {}
    for unit_id in parents:
        path: list[int] = []
        node: int | None = unit_id
        while node is not None and node not in path:
            path.append(node)
            node = parents.get(node)
        paths[unit_id] = path
    return paths


def unit_path(session: Session, unit_id: int | None) -> list[int]:
    path: list[int] = []
    node = unit_id
    while node is not None and node not in path:
        path.append(node)
        unit = session.get(Unit, node)
        node = unit.parent_id if unit is not None else None
    return path


@dataclass
class Tally:
    participants: int = 0
    attempts: int = 0
    points: int = 0


def tallies_from(rows: Iterable[BestRow], paths: dict[int, list[int]]) -> dict[str, Tally]:
    """Per unit (and its parents, and "all"): participants, attempts, sum of best points."""
    out: dict[str, Tally] = defaultdict(Tally)
    for row in rows:
        for group in [*(str(u) for u in paths.get(row.unit_id or 0, [])), "all"]:
            t = out[group]
            t.participants += 1
            t.attempts += row.attempts
            t.points += row.points
    return dict(out)


@dataclass(frozen=True)
class UnitInfo:
    id: int
    code: str
    name: str
    short_name: str | None
    parent_id: int | None
    has_children: bool


def units_by_level(session: Session) -> tuple[list[UnitInfo], list[UnitInfo]]:
    """(grassroots unions = leaves, upper-level unions = inner units below the root)."""
    units = session.execute(
        select(Unit.id, Unit.code, Unit.name, Unit.short_name, Unit.parent_id)
    ).all()
    with_children = {u.parent_id for u in units if u.parent_id is not None}
    infos = [
        UnitInfo(u.id, u.code, u.name, u.short_name, u.parent_id, u.id in with_children)
        for u in units
    ]
    grassroots = [u for u in infos if not u.has_children]
    upper = [u for u in infos if u.has_children and u.parent_id is not None]
    return grassroots, upper

"""Reads for the contest pages: lists, a contest with its rounds, a round's overview.

No writes here; services.py holds the verbs. Each function is a fixed, small number of
queries whatever the number of rounds or attempts (grouped counts, never a loop of queries).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import datetime

from flask_babel import gettext as _
from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload

from quizengine.errors import NotFound
from quizengine.models import (
    Attempt,
    AttemptStatus,
    Bank,
    Board,
    Contest,
    ContestEntry,
    DrawRule,
    Question,
    Round,
)


class RoundStatus(enum.StrEnum):
    UPCOMING = "upcoming"
    OPEN = "open"
    CLOSED = "closed"


def round_status(rnd: Round, now: datetime) -> RoundStatus:
    """Open on [opens_at, closes_at): the close is the first instant nobody may start."""
    if now < rnd.opens_at:
        return RoundStatus.UPCOMING
    if now < rnd.closes_at:
        return RoundStatus.OPEN
    return RoundStatus.CLOSED


@dataclass(frozen=True)
class RoundLine:
    round: Round
    status: RoundStatus


@dataclass(frozen=True)
class ContestLine:
    contest: Contest
    rounds: list[RoundLine]

    @property
    def open_rounds(self) -> list[RoundLine]:
        return [r for r in self.rounds if r.status is RoundStatus.OPEN]

    @property
    def next_round(self) -> RoundLine | None:
        return next((r for r in self.rounds if r.status is RoundStatus.UPCOMING), None)

    @property
    def display_rounds(self) -> list[RoundLine]:
        """Open rounds first, then the coming ones (soonest first), then the closed (latest)."""
        return (
            self.open_rounds
            + [r for r in self.rounds if r.status is RoundStatus.UPCOMING]
            + [r for r in reversed(self.rounds) if r.status is RoundStatus.CLOSED]
        )

    @property
    def status(self) -> RoundStatus:
        """Open when a round is open, upcoming when one will open, closed otherwise."""
        if self.open_rounds:
            return RoundStatus.OPEN
        if self.next_round is not None:
            return RoundStatus.UPCOMING
        return RoundStatus.CLOSED


def _lines(contests: list[Contest], now: datetime) -> list[ContestLine]:
    return [
        ContestLine(c, [RoundLine(r, round_status(r, now)) for r in c.rounds]) for c in contests
    ]


def listed_contests(session: Session, now: datetime) -> list[ContestLine]:
    """Every contest for the public list: open ones first, then upcoming, then closed."""
    contests = list(
        session.scalars(
            select(Contest)
            .options(selectinload(Contest.rounds), selectinload(Contest.boards))
            .order_by(Contest.created_at.desc(), Contest.id.desc())
        )
    )
    order = {RoundStatus.OPEN: 0, RoundStatus.UPCOMING: 1, RoundStatus.CLOSED: 2}
    return sorted(_lines(contests, now), key=lambda line: order[line.status])


def current_contests(session: Session, now: datetime) -> list[ContestLine]:
    """Contests with a round open now or still to come (the home page)."""
    contest_ids = select(Round.contest_id).where(Round.closes_at > now).distinct()
    contests = list(
        session.scalars(
            select(Contest)
            .where(Contest.id.in_(contest_ids))
            .options(selectinload(Contest.rounds))
            .order_by(Contest.created_at.desc(), Contest.id.desc())
        )
    )
    lines = _lines(contests, now)
    return sorted(lines, key=lambda line: 0 if line.open_rounds else 1)


def contest_page(session: Session, contest_id: int, now: datetime) -> ContestLine:
    contest = session.scalar(
        select(Contest)
        .where(Contest.id == contest_id)
        .options(selectinload(Contest.rounds), selectinload(Contest.boards))
    )
    if contest is None:
        raise NotFound(_("Không tìm thấy cuộc thi."))
    return _lines([contest], now)[0]


# --- organiser reads ---------------------------------------------------------------------


@dataclass(frozen=True)
class OrganiserContestLine:
    contest: Contest
    rounds: int
    entries: int


def organiser_contests(session: Session) -> list[OrganiserContestLine]:
    rounds = select(Round.contest_id, func.count().label("n")).group_by(Round.contest_id).subquery()
    entries = (
        select(ContestEntry.contest_id, func.count().label("n"))
        .group_by(ContestEntry.contest_id)
        .subquery()
    )
    rows = session.execute(
        select(Contest, func.coalesce(rounds.c.n, 0), func.coalesce(entries.c.n, 0))
        .outerjoin(rounds, rounds.c.contest_id == Contest.id)
        .outerjoin(entries, entries.c.contest_id == Contest.id)
        .order_by(Contest.created_at.desc(), Contest.id.desc())
    ).all()
    return [OrganiserContestLine(c, int(r), int(e)) for c, r, e in rows]


def contest_for_organiser(session: Session, contest_id: int) -> Contest:
    contest = session.scalar(
        select(Contest)
        .where(Contest.id == contest_id)
        .options(
            selectinload(Contest.boards),
            selectinload(Contest.rounds).selectinload(Round.draw_rules),
        )
    )
    if contest is None:
        raise NotFound(_("Không tìm thấy cuộc thi."))
    return contest


def round_for_organiser(session: Session, round_id: int) -> Round:
    rnd = session.scalar(
        select(Round)
        .where(Round.id == round_id)
        .options(
            selectinload(Round.draw_rules).joinedload(DrawRule.bank),
            selectinload(Round.contest).selectinload(Contest.boards),
        )
    )
    if rnd is None:
        raise NotFound(_("Không tìm thấy tuần thi."))
    return rnd


@dataclass(frozen=True)
class BankChoice:
    slug: str
    title: str
    active: int


def bank_choices(session: Session) -> list[BankChoice]:
    """Banks a draw rule may use, with their count of drawable (active) questions."""
    active = (
        select(Question.bank_id, func.count().label("n"))
        .where(Question.active.is_(True), Question.current_version_id.is_not(None))
        .group_by(Question.bank_id)
        .subquery()
    )
    rows = session.execute(
        select(Bank.slug, Bank.title, func.coalesce(active.c.n, 0))
        .outerjoin(active, active.c.bank_id == Bank.id)
        .order_by(Bank.title, Bank.slug)
    ).all()
    return [BankChoice(slug, title, int(n)) for slug, title, n in rows]


def known_topics(session: Session, limit: int = 300) -> list[str]:
    """Topics of active questions: suggestions for a draw rule's topic filter."""
    return list(
        session.scalars(
            select(Question.topic)
            .where(Question.topic.is_not(None), Question.active.is_(True))
            .distinct()
            .order_by(Question.topic)
            .limit(limit)
        )
    )


def drawable_count(
    session: Session, bank_id: int, difficulty: str | None = None, topic: str | None = None
) -> int:
    """Active questions of a bank, with a current version, that a draw rule may take."""
    query = select(func.count()).where(
        Question.bank_id == bank_id,
        Question.active.is_(True),
        Question.current_version_id.is_not(None),
    )
    if difficulty is not None:
        query = query.where(Question.difficulty == difficulty)
    if topic is not None:
        query = query.where(Question.topic == topic)
    return int(session.scalar(query) or 0)


@dataclass(frozen=True)
class Shortfall:
    """A draw rule its bank can no longer satisfy (questions deactivated since)."""

    rule: DrawRule
    available: int


@dataclass
class Tally:
    in_progress: int = 0
    overdue: int = 0  # in progress but past the deadline: waiting to be finalised
    submitted: int = 0
    expired: int = 0
    contestants: int = 0

    @property
    def finished(self) -> int:
        return self.submitted + self.expired


@dataclass(frozen=True)
class RoundOverview:
    round: Round
    status: RoundStatus
    total: Tally
    boards: list[tuple[str, Tally]] = field(default_factory=list)
    has_attempts: bool = False
    shortfalls: list[Shortfall] = field(default_factory=list)


def round_overview(session: Session, round_id: int, now: datetime) -> RoundOverview:
    """How many attempts are in progress and finished, in all and per board."""
    rnd = round_for_organiser(session, round_id)
    board_names = {b.id: b.name for b in rnd.contest.boards}
    rows = session.execute(
        select(
            Attempt.board_id,
            Attempt.status,
            func.count(),
            func.count(Attempt.id).filter(Attempt.deadline_at < now),
        )
        .where(Attempt.round_id == round_id)
        .group_by(Attempt.board_id, Attempt.status)
    ).all()
    people = session.execute(
        select(Attempt.board_id, func.count(func.distinct(Attempt.user_id)))
        .where(Attempt.round_id == round_id)
        .group_by(Attempt.board_id)
    ).all()
    total = Tally()
    per_board: dict[int | None, Tally] = {bid: Tally() for bid in board_names}
    for board_id, status, count, overdue in rows:
        for tally in (total, per_board.setdefault(board_id, Tally())):
            if status == AttemptStatus.IN_PROGRESS.value:
                tally.in_progress += int(count)
                tally.overdue += int(overdue)
            elif status == AttemptStatus.SUBMITTED.value:
                tally.submitted += int(count)
            else:
                tally.expired += int(count)
    for board_id, n in people:
        total.contestants += int(n)
        per_board.setdefault(board_id, Tally()).contestants += int(n)
    boards = [
        (
            (board_names.get(bid) if bid is not None else None) or _("(không có bảng)"),
            tally,
        )
        for bid, tally in sorted(
            per_board.items(), key=lambda kv: (kv[0] is None, _board_position(rnd, kv[0]))
        )
    ]
    shortfalls = []
    for rule in rnd.draw_rules:
        have = drawable_count(session, rule.bank_id, rule.difficulty, rule.topic)
        if have < rule.count:
            shortfalls.append(Shortfall(rule, have))
    return RoundOverview(
        round=rnd,
        status=round_status(rnd, now),
        total=total,
        boards=boards if board_names else [],
        has_attempts=bool(rows),
        shortfalls=shortfalls,
    )


def _board_position(rnd: Round, board_id: int | None) -> int:
    for board in rnd.contest.boards:
        if board.id == board_id:
            return board.position
    return 1 << 30


def board_names(session: Session, contest_id: int) -> list[str]:
    return list(
        session.scalars(
            select(Board.name).where(Board.contest_id == contest_id).order_by(Board.position)
        )
    )

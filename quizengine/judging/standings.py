"""Judges' standings: the leaderboard's SQL ranking with prizes, units and phones attached.

The order itself always comes from ``leaderboard.queries.ranked_in_db`` (the round's
ladder, best attempt per contestant, disqualified attempts excluded); this module only
adds what judges publish: prizes by position, the full unit path, the masked phone.
Before finalisation it computes a provisional list; after, the stored final rows are read.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from quizengine.judging.canonical import ResultRow
from quizengine.judging.exports import UNIT_SEPARATOR, mask_phone
from quizengine.judging.prizes import NOTE_WON_BEFORE, assign_prizes, clean_counts
from quizengine.leaderboard import queries as lb
from quizengine.models import Attempt, Round, Unit, User
from quizengine.models.judging import FinalResult, PrizeSettings

_STREAM_ROWS = 2000


@dataclass(frozen=True)
class UnitInfo:
    id: int
    code: str
    name: str
    short_name: str | None
    parent_id: int | None
    members: int | None


class UnitDirectory:
    """The unit tree in memory (thousands of rows at most): codes, paths, subtrees."""

    def __init__(self, units: list[UnitInfo]) -> None:
        self.units = {u.id: u for u in units}
        self._paths: dict[int, str] = {}

    @classmethod
    def load(cls, session: Session) -> UnitDirectory:
        rows = session.execute(
            select(Unit.id, Unit.code, Unit.name, Unit.short_name, Unit.parent_id, Unit.members)
        )
        return cls([UnitInfo(*row) for row in rows])

    def chain(self, unit_id: int | None) -> list[UnitInfo]:
        """Root first, the unit last."""
        out: list[UnitInfo] = []
        seen: set[int] = set()
        node = self.units.get(unit_id) if unit_id is not None else None
        while node is not None and node.id not in seen:
            out.append(node)
            seen.add(node.id)
            node = self.units.get(node.parent_id) if node.parent_id is not None else None
        return list(reversed(out))

    def path(self, unit_id: int | None) -> str:
        if unit_id is None:
            return ""
        if unit_id not in self._paths:
            self._paths[unit_id] = UNIT_SEPARATOR.join(u.name for u in self.chain(unit_id))
        return self._paths[unit_id]

    def code(self, unit_id: int | None) -> str:
        unit = self.units.get(unit_id) if unit_id is not None else None
        return unit.code if unit is not None else ""

    def subtree(self, unit_id: int) -> set[int]:
        children: dict[int, list[int]] = {}
        for u in self.units.values():
            if u.parent_id is not None:
                children.setdefault(u.parent_id, []).append(u.id)
        out: set[int] = set()
        stack = [unit_id]
        while stack:
            node = stack.pop()
            if node in out:
                continue
            out.add(node)
            stack.extend(children.get(node, []))
        return out

    def ordered(self) -> list[UnitInfo]:
        """Every unit, by full path."""
        return sorted(self.units.values(), key=lambda u: self.path(u.id).casefold())

    def grassroots(self) -> list[UnitInfo]:
        parents = {u.parent_id for u in self.units.values() if u.parent_id is not None}
        return [u for u in self.ordered() if u.id not in parents]


@dataclass
class Ranking:
    """A round's ranking in canonical order, with what finalising stores besides the rows."""

    truth: int | None
    rows: list[ResultRow]
    board_ids: list[int | None]
    attempt_ids: list[int]
    unit_ids: list[int | None]
    notes: list[str | None]
    by_user: dict[int, int] = field(default_factory=dict)  # user id → index in rows


def prize_settings(session: Session, round_id: int) -> PrizeSettings | None:
    return session.get(PrizeSettings, round_id)


def board_groups(session: Session, round_: Round) -> list[tuple[int | None, str]]:
    """The boards in the contest's order, then the attempts without a board."""
    return [(b.id, b.name) for b in lb.contest_boards(session, round_.contest_id)] + [(None, "")]


def winners_elsewhere(session: Session, round_: Round) -> set[int]:
    """Contestants holding a prize in another finalised round of the same contest."""
    return set(
        session.scalars(
            select(FinalResult.user_id)
            .join(Round, Round.id == FinalResult.round_id)
            .where(
                Round.contest_id == round_.contest_id,
                Round.id != round_.id,
                Round.finalized_at.is_not(None),
                FinalResult.prize.is_not(None),
            )
        )
    )


def _phones(session: Session, round_id: int) -> dict[int, str]:
    query = (
        select(User.id, User.phone)
        .where(User.id.in_(select(Attempt.user_id).where(Attempt.round_id == round_id)))
        .execution_options(yield_per=_STREAM_ROWS)
    )
    return {uid: phone for uid, phone in session.execute(query)}


def compute_ranking(
    session: Session,
    round_: Round,
    *,
    truth: int | None,
    units: UnitDirectory | None = None,
) -> Ranking:
    """Rank every board with the leaderboard's SQL ranking and assign prizes by position."""
    units = units or UnitDirectory.load(session)
    settings = prize_settings(session, round_.id)
    counts = clean_counts(round_.prizes)
    passed_over = (
        winners_elsewhere(session, round_) if settings and settings.once_per_contest else set()
    )
    phones = _phones(session, round_.id)
    awarded: set[int] = set()
    ranking = Ranking(
        truth=truth, rows=[], board_ids=[], attempt_ids=[], unit_ids=[], notes=[], by_user={}
    )
    for board_id, board_name in board_groups(session, round_):
        entries = lb.ranked_in_db(session, round_.id, board_id, truth=truth)
        prizes = assign_prizes(
            [e.user_id for e in entries],
            counts,
            passed_over=passed_over,
            already_awarded=awarded,
        )
        places = sum(counts)
        for entry in entries:
            prize = prizes.get(entry.user_id)
            note = (
                NOTE_WON_BEFORE
                if prize is None and entry.user_id in passed_over and entry.rank <= places
                else None
            )
            ranking.by_user[entry.user_id] = len(ranking.rows)
            ranking.rows.append(
                ResultRow(
                    rank=entry.rank,
                    board=board_name,
                    prize=prize,
                    user_id=entry.user_id,
                    full_name=entry.full_name,
                    unit_code=units.code(entry.unit_id),
                    unit_path=units.path(entry.unit_id),
                    phone_masked=mask_phone(phones.get(entry.user_id)),
                    points=entry.points,
                    prediction=entry.prediction,
                    error=entry.error,
                    duration_ms=entry.duration_ms,
                    submitted_at=entry.submitted_at,
                )
            )
            ranking.board_ids.append(board_id)
            ranking.attempt_ids.append(entry.attempt_id)
            ranking.unit_ids.append(entry.unit_id)
            ranking.notes.append(note)
    return ranking


def provisional_truth(session: Session, round_: Round, now: datetime) -> int | None:
    """The true value a not-yet-final list uses: none while the round is open."""
    if now < round_.closes_at:
        return None
    return lb.prediction_truth(session, round_)


_ROW_COLUMNS = (
    FinalResult.rank,
    FinalResult.board_name,
    FinalResult.prize,
    FinalResult.user_id,
    FinalResult.full_name,
    FinalResult.unit_code,
    FinalResult.unit_path,
    FinalResult.phone_masked,
    FinalResult.points,
    FinalResult.prediction,
    FinalResult.error,
    FinalResult.duration_ms,
    FinalResult.submitted_at,
)


def stored_rows(
    session: Session, round_id: int, *, winners_only: bool = False
) -> Iterator[ResultRow]:
    """The stored final ranking in canonical order, streamed from the database (plain
    column rows, no ORM objects, so memory stays flat for a million rows)."""
    query = select(*_ROW_COLUMNS).where(FinalResult.round_id == round_id)
    if winners_only:
        query = query.where(FinalResult.prize.is_not(None))
    query = query.order_by(FinalResult.position).execution_options(yield_per=_STREAM_ROWS)
    for r in session.execute(query):
        yield ResultRow(
            rank=r.rank,
            board=r.board_name,
            prize=r.prize,
            user_id=r.user_id,
            full_name=r.full_name,
            unit_code=r.unit_code,
            unit_path=r.unit_path,
            phone_masked=r.phone_masked,
            points=r.points,
            prediction=r.prediction,
            error=r.error,
            duration_ms=r.duration_ms,
            submitted_at=r.submitted_at,
        )

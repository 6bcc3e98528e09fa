"""Reads behind the judges' pages: rounds, standings with filters, flags, an attempt's
timeline, disqualifications, the audit log, unit member counts."""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from quizengine.errors import NotFound
from quizengine.judging import audit
from quizengine.judging.canonical import ResultRow
from quizengine.judging.standings import (
    UnitDirectory,
    UnitInfo,
    compute_ranking,
    prize_settings,
    provisional_truth,
)
from quizengine.models import (
    AnswerEvent,
    Attempt,
    AttemptItem,
    Contest,
    Flag,
    QuestionVersion,
    Round,
    User,
)
from quizengine.models.judging import (
    AuditEntry,
    Disqualification,
    FinalResult,
    RoundResult,
    UnitPrize,
)

PER_PAGE = 100


def _pages(total: int, per_page: int) -> int:
    return max(1, math.ceil(total / per_page))


# --- rounds -------------------------------------------------------------------------------


@dataclass(frozen=True)
class RoundLine:
    round: Round
    state: str  # upcoming / open / closed / final
    flags: int


@dataclass(frozen=True)
class ContestRounds:
    contest: Contest
    rounds: list[RoundLine]


def round_state(round_: Round, now: datetime) -> str:
    if round_.finalized_at is not None:
        return "final"
    if now < round_.opens_at:
        return "upcoming"
    return "open" if now < round_.closes_at else "closed"


def contests_with_rounds(session: Session, now: datetime) -> list[ContestRounds]:
    flag_counts: dict[int | None, int] = {
        round_id: count
        for round_id, count in session.execute(
            select(Flag.round_id, func.count())
            .where(Flag.round_id.is_not(None))
            .group_by(Flag.round_id)
        )
    }
    out = []
    for contest in session.scalars(select(Contest).order_by(Contest.created_at.desc())):
        out.append(
            ContestRounds(
                contest,
                [
                    RoundLine(r, round_state(r, now), int(flag_counts.get(r.id, 0)))
                    for r in contest.rounds
                ],
            )
        )
    return out


def get_round(session: Session, round_id: int) -> Round:
    round_ = session.get(Round, round_id)
    if round_ is None:
        raise NotFound()
    return round_


# --- standings ------------------------------------------------------------------------------


@dataclass(frozen=True)
class StandingLine:
    row: ResultRow
    attempt_id: int | None
    flags: list[str]
    note: str | None


@dataclass
class Standings:
    round: Round
    state: str
    final: bool
    result_hash: str | None
    truth: int | None
    lines: list[StandingLine]
    total: int
    page: int
    pages: int
    units: list[UnitInfo]
    unit_paths: dict[int, str]
    flag_kinds: list[str]
    unit_id: int | None
    flag: str | None
    disqualified: list[DisqualifiedLine] = field(default_factory=list)
    unit_prizes: list[UnitPrize] = field(default_factory=list)
    unit_formula: str = "none"


@dataclass(frozen=True)
class DisqualifiedLine:
    user_id: int
    full_name: str
    unit_path: str
    attempt_id: int | None  # None: the whole contestant
    reason: str
    contestant_level: bool


def _flagged_users(session: Session, round_id: int, kind: str | None = None) -> Any:
    """Users with a flag of ``kind`` (any kind when None) in the round or on their account."""
    query = select(Flag.user_id).where(
        or_(Flag.round_id == round_id, Flag.round_id.is_(None)), Flag.user_id.is_not(None)
    )
    if kind:
        query = query.where(Flag.kind == kind)
    return query


def _flags_by_user(session: Session, round_id: int, user_ids: list[int]) -> dict[int, list[str]]:
    if not user_ids:
        return {}
    out: dict[int, set[str]] = defaultdict(set)
    for user_id, kind in session.execute(
        select(Flag.user_id, Flag.kind).where(
            Flag.user_id.in_(user_ids), or_(Flag.round_id == round_id, Flag.round_id.is_(None))
        )
    ):
        if user_id is not None:
            out[user_id].add(kind)
    return {uid: sorted(kinds) for uid, kinds in out.items()}


def flag_kinds(session: Session, round_id: int) -> list[str]:
    return list(
        session.scalars(
            select(Flag.kind)
            .where(or_(Flag.round_id == round_id, Flag.round_id.is_(None)))
            .distinct()
            .order_by(Flag.kind)
        )
    )


def disqualified_lines(
    session: Session, round_id: int, units: UnitDirectory
) -> list[DisqualifiedLine]:
    out: list[DisqualifiedLine] = []
    whole = {
        d.user_id: d
        for d in session.scalars(
            select(Disqualification).where(Disqualification.round_id == round_id)
        )
    }
    users = {
        u.id: u
        for u in session.scalars(
            select(User).where(
                User.id.in_(
                    select(Attempt.user_id).where(
                        Attempt.round_id == round_id, Attempt.disqualified.is_(True)
                    )
                )
                | User.id.in_(list(whole))
            )
        )
    }
    for user_id, d in whole.items():
        user = users.get(user_id)
        if user is not None:
            out.append(
                DisqualifiedLine(
                    user_id, user.full_name, units.path(user.unit_id), None, d.reason, True
                )
            )
    for attempt in session.scalars(
        select(Attempt)
        .where(Attempt.round_id == round_id, Attempt.disqualified.is_(True))
        .order_by(Attempt.id)
    ):
        if attempt.user_id in whole:
            continue
        user = users[attempt.user_id]
        out.append(
            DisqualifiedLine(
                user.id,
                user.full_name,
                units.path(user.unit_id),
                attempt.id,
                attempt.disqualified_reason or "",
                False,
            )
        )
    return out


def standings(
    session: Session,
    round_id: int,
    *,
    now: datetime,
    unit_id: int | None = None,
    flag: str | None = None,
    page: int = 1,
    per_page: int = PER_PAGE,
) -> Standings:
    """The round's ranking for judges: stored once final, computed (provisional) before."""
    round_ = get_round(session, round_id)
    settings = prize_settings(session, round_id)
    units = UnitDirectory.load(session)
    subtree = units.subtree(unit_id) if unit_id is not None else None
    flagged = set(session.scalars(_flagged_users(session, round_id, flag))) if flag else None
    page = max(1, page)
    lines: list[StandingLine]
    final = round_.finalized_at is not None
    if final:
        query = select(FinalResult).where(FinalResult.round_id == round_id)
        if subtree is not None:
            query = query.where(FinalResult.unit_id.in_(subtree))
        if flagged is not None:
            query = query.where(FinalResult.user_id.in_(_flagged_users(session, round_id, flag)))
        total = int(session.scalar(select(func.count()).select_from(query.subquery())) or 0)
        results = session.scalars(
            query.order_by(FinalResult.position).offset((page - 1) * per_page).limit(per_page)
        ).all()
        lines = [
            StandingLine(
                ResultRow(
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
                ),
                r.attempt_id,
                [],
                r.prize_note,
            )
            for r in results
        ]
        stored = session.get(RoundResult, round_id)
        truth = stored.prediction_truth if stored else None
    else:
        truth = provisional_truth(session, round_, now)
        ranking = compute_ranking(session, round_, truth=truth, units=units)
        chosen = [
            i
            for i, row in enumerate(ranking.rows)
            if (subtree is None or ranking.unit_ids[i] in subtree)
            and (flagged is None or row.user_id in flagged)
        ]
        total = len(chosen)
        lines = [
            StandingLine(ranking.rows[i], ranking.attempt_ids[i], [], ranking.notes[i])
            for i in chosen[(page - 1) * per_page : page * per_page]
        ]
    flags = _flags_by_user(session, round_id, [ln.row.user_id for ln in lines])
    lines = [
        StandingLine(ln.row, ln.attempt_id, flags.get(ln.row.user_id, []), ln.note) for ln in lines
    ]
    return Standings(
        round=round_,
        state=round_state(round_, now),
        final=final,
        result_hash=round_.result_hash if final else None,
        truth=truth,
        lines=lines,
        total=total,
        page=min(page, _pages(total, per_page)),
        pages=_pages(total, per_page),
        units=units.ordered(),
        unit_paths={u.id: units.path(u.id) for u in units.units.values()},
        flag_kinds=flag_kinds(session, round_id),
        unit_id=unit_id,
        flag=flag,
        disqualified=disqualified_lines(session, round_id, units),
        unit_prizes=list(
            session.scalars(
                select(UnitPrize).where(UnitPrize.round_id == round_id).order_by(UnitPrize.rank)
            )
        ),
        unit_formula=settings.unit_formula if settings else "none",
    )


# --- flags and review ---------------------------------------------------------------------


@dataclass(frozen=True)
class FlagLine:
    flag: Flag
    user: User | None
    unit_path: str
    attempt: Attempt | None


def flagged_attempts(session: Session, round_id: int, kind: str | None = None) -> list[FlagLine]:
    get_round(session, round_id)
    units = UnitDirectory.load(session)
    query = select(Flag).where(
        or_(
            Flag.round_id == round_id,
            (Flag.round_id.is_(None))
            & Flag.user_id.in_(select(Attempt.user_id).where(Attempt.round_id == round_id)),
        )
    )
    if kind:
        query = query.where(Flag.kind == kind)
    out = []
    for flag in session.scalars(query.order_by(Flag.kind, Flag.id)):
        user = session.get(User, flag.user_id) if flag.user_id else None
        attempt = session.get(Attempt, flag.attempt_id) if flag.attempt_id else None
        out.append(FlagLine(flag, user, units.path(user.unit_id) if user else "", attempt))
    return out


@dataclass(frozen=True)
class TimelineEvent:
    at: datetime
    position: int | None
    question: str
    choice: str
    ip: str | None
    user_agent: str | None


@dataclass
class AttemptReview:
    attempt: Attempt
    round: Round
    user: User
    unit_path: str
    flags: list[Flag]
    timeline: list[TimelineEvent]
    contestant_disqualification: Disqualification | None
    other_attempts: list[Attempt]
    locked: bool


def _letters(chosen: list[int], option_order: list[int], options: list[str]) -> str:
    if not chosen:
        return "—"
    shown = []
    for index in chosen:
        key = option_order.index(index) if index in option_order else None
        letter = chr(ord("A") + key) if key is not None else "?"
        text = options[index] if 0 <= index < len(options) else ""
        shown.append(f"{letter}. {text}")
    return "; ".join(shown)


def attempt_review(session: Session, attempt_id: int) -> AttemptReview:
    attempt = session.get(Attempt, attempt_id)
    if attempt is None:
        raise NotFound()
    round_ = get_round(session, attempt.round_id)
    user = session.get(User, attempt.user_id)
    assert user is not None
    units = UnitDirectory.load(session)
    items = {
        item.question_id: (item, version)
        for item, version in session.execute(
            select(AttemptItem, QuestionVersion)
            .join(QuestionVersion, QuestionVersion.id == AttemptItem.version_id)
            .where(AttemptItem.attempt_id == attempt_id)
        )
    }
    timeline = []
    for event in session.scalars(
        select(AnswerEvent).where(AnswerEvent.attempt_id == attempt_id).order_by(AnswerEvent.id)
    ):
        pair = items.get(event.question_id)
        if pair is None:
            timeline.append(
                TimelineEvent(
                    event.at,
                    None,
                    f"#{event.question_id}",
                    str(event.chosen),
                    event.ip,
                    event.user_agent,
                )
            )
            continue
        item, version = pair
        timeline.append(
            TimelineEvent(
                at=event.at,
                position=item.position + 1 if item.position is not None else None,
                question=version.text,
                choice=_letters(list(event.chosen or []), list(item.option_order), version.options),
                ip=event.ip,
                user_agent=event.user_agent,
            )
        )
    flags = list(
        session.scalars(
            select(Flag)
            .where(
                or_(
                    Flag.attempt_id == attempt_id,
                    (Flag.attempt_id.is_(None)) & (Flag.user_id == attempt.user_id),
                )
            )
            .order_by(Flag.id)
        )
    )
    others = list(
        session.scalars(
            select(Attempt)
            .where(Attempt.round_id == round_.id, Attempt.user_id == user.id)
            .order_by(Attempt.number)
        )
    )
    return AttemptReview(
        attempt=attempt,
        round=round_,
        user=user,
        unit_path=units.path(user.unit_id),
        flags=flags,
        timeline=timeline,
        contestant_disqualification=session.scalar(
            select(Disqualification).where(
                Disqualification.round_id == round_.id, Disqualification.user_id == user.id
            )
        ),
        other_attempts=others,
        locked=round_.finalized_at is not None,
    )


# --- audit log and units ------------------------------------------------------------------


@dataclass
class AuditPage:
    entries: list[AuditEntry]
    page: int
    pages: int
    round_id: int | None


def audit_page(
    session: Session, *, round_id: int | None = None, page: int = 1, per_page: int = PER_PAGE
) -> AuditPage:
    count_query = select(func.count()).select_from(AuditEntry)
    if round_id is not None:
        count_query = count_query.where(AuditEntry.round_id == round_id)
    total = int(session.scalar(count_query) or 0)
    pages = _pages(total, per_page)
    page = min(max(1, page), pages)
    return AuditPage(
        entries=audit.entries(
            session, round_id=round_id, limit=per_page, offset=(page - 1) * per_page
        ),
        page=page,
        pages=pages,
        round_id=round_id,
    )


@dataclass
class UnitMembersPage:
    units: list[UnitInfo]
    paths: dict[int, str]
    page: int
    pages: int
    query: str


def unit_members_page(
    session: Session, *, query: str = "", page: int = 1, per_page: int = PER_PAGE
) -> UnitMembersPage:
    """Grassroots units (where contestants belong) with their member counts, by path."""
    directory = UnitDirectory.load(session)
    wanted = query.strip().casefold()
    units = [
        u
        for u in directory.grassroots()
        if not wanted or wanted in directory.path(u.id).casefold() or wanted in u.code.casefold()
    ]
    pages = _pages(len(units), per_page)
    page = min(max(1, page), pages)
    shown = units[(page - 1) * per_page : page * per_page]
    return UnitMembersPage(
        units=shown,
        paths={u.id: directory.path(u.id) for u in shown},
        page=page,
        pages=pages,
        query=query,
    )

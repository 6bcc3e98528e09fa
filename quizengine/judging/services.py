"""Judging verbs: disqualify and reinstate, prize settings, finalise and reopen a round.

Every verb that changes a result writes one audit entry in the same transaction. Services
only flush; the view or command commits, then calls ``refresh_live_board`` so that Redis
follows the database.

A finalised round is locked: disqualifications, reinstatements and prize changes are
refused until an organiser reopens it (with a reason, audited), which discards the stored
final ranking and its hash.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import delete, func, insert, select
from sqlalchemy.orm import Session

from quizengine.clock import Clock, iso_z
from quizengine.errors import Conflict, Invalid, NotFound
from quizengine.judging import audit
from quizengine.judging.audit import Actor
from quizengine.judging.canonical import canonical_hash
from quizengine.judging.prizes import (
    DEFAULT_PRIZE_POINTS,
    UnitTally,
    clean_counts,
    rank_units,
)
from quizengine.judging.standings import (
    Ranking,
    UnitDirectory,
    compute_ranking,
    prize_settings,
    provisional_truth,
)
from quizengine.leaderboard import queries as lb
from quizengine.leaderboard import services as lb_services
from quizengine.models import Attempt, AttemptStatus, Round, Unit, User
from quizengine.models.judging import (
    PRIZE_LEVELS,
    Disqualification,
    FinalResult,
    PrizeSettings,
    RoundResult,
    UnitFormula,
    UnitPrize,
)
from quizengine.store import Store, StoreUnavailable

log = logging.getLogger(__name__)

MAX_PRIZE_COUNT = 100_000
MAX_REASON = 2000


class RoundLocked(Conflict):
    code = "round_finalised"
    default_message = _l(
        "Kết quả vòng thi đã được chốt. Muốn thay đổi, ban tổ chức phải mở lại kết quả "
        "(có ghi lý do) trước."
    )


class RoundStillOpen(Conflict):
    code = "round_not_closed"
    default_message = _l("Vòng thi chưa kết thúc; chỉ chốt kết quả sau giờ đóng vòng thi.")


class AttemptsStillRunning(Conflict):
    code = "attempts_in_progress"


@dataclass(frozen=True)
class FinaliseOutcome:
    round_id: int
    result_hash: str
    created: bool
    contestants: int
    winners: int
    truth: int | None


# --- shared checks ------------------------------------------------------------------------


def clean_reason(reason: str | None) -> str:
    text = " ".join((reason or "").split())
    if not text:
        raise Invalid(_l("Vui lòng ghi lý do (bắt buộc)."))
    if len(text) > MAX_REASON:
        raise Invalid(_l("Lý do quá dài (tối đa %(n)d ký tự).", n=MAX_REASON))
    return text


def _round(session: Session, round_id: int, *, lock: bool = True) -> Round:
    query = select(Round).where(Round.id == round_id)
    if lock:
        # Serialises judges' actions on one round (SQLite has no row locks; it has one writer).
        query = query.with_for_update()
    round_ = session.scalar(query)
    if round_ is None:
        raise NotFound(_l("Không tìm thấy vòng thi."))
    return round_


def _unlocked(session: Session, round_id: int) -> Round:
    round_ = _round(session, round_id)
    if round_.finalized_at is not None:
        raise RoundLocked()
    return round_


def _rank_now(session: Session, round_: Round, user_id: int, now: datetime) -> int | None:
    """The contestant's provisional rank on their board (for the audit's before/after)."""
    session.flush()
    board_id = lb.user_board(session, round_.id, user_id)
    truth = provisional_truth(session, round_, now)
    mine = lb.ranked_in_db(session, round_.id, board_id, truth=truth, user_id=user_id)
    return mine[0].rank if mine else None


def _contestant_disqualification(
    session: Session, round_id: int, user_id: int
) -> Disqualification | None:
    return session.scalar(
        select(Disqualification).where(
            Disqualification.round_id == round_id, Disqualification.user_id == user_id
        )
    )


# --- disqualify / reinstate ---------------------------------------------------------------


def disqualify_attempt(
    session: Session, *, attempt_id: int, actor: Actor, reason: str | None, clock: Clock
) -> Attempt:
    why = clean_reason(reason)
    attempt = session.get(Attempt, attempt_id)
    if attempt is None:
        raise NotFound(_l("Không tìm thấy lượt thi."))
    round_ = _unlocked(session, attempt.round_id)
    session.refresh(attempt, with_for_update=True)
    if attempt.disqualified:
        raise Invalid(_l("Lượt thi này đã bị loại."))
    now = clock.now()
    rank_before = _rank_now(session, round_, attempt.user_id, now)
    attempt.disqualified = True
    attempt.disqualified_reason = why
    audit.record(
        session,
        actor=actor,
        action=audit.DISQUALIFY_ATTEMPT,
        target_type="attempt",
        target_id=attempt.id,
        round_id=round_.id,
        at=now,
        reason=why,
        before={"disqualified": False, "user_id": attempt.user_id, "rank": rank_before},
        after={
            "disqualified": True,
            "user_id": attempt.user_id,
            "rank": _rank_now(session, round_, attempt.user_id, now),
        },
    )
    return attempt


def reinstate_attempt(
    session: Session, *, attempt_id: int, actor: Actor, reason: str | None, clock: Clock
) -> Attempt:
    why = clean_reason(reason)
    attempt = session.get(Attempt, attempt_id)
    if attempt is None:
        raise NotFound(_l("Không tìm thấy lượt thi."))
    round_ = _unlocked(session, attempt.round_id)
    session.refresh(attempt, with_for_update=True)
    if not attempt.disqualified:
        raise Invalid(_l("Lượt thi này không bị loại."))
    if _contestant_disqualification(session, round_.id, attempt.user_id) is not None:
        raise Invalid(
            _l("Thí sinh đang bị loại khỏi vòng thi; hãy khôi phục thí sinh thay vì từng lượt thi.")
        )
    now = clock.now()
    previous_reason = attempt.disqualified_reason
    rank_before = _rank_now(session, round_, attempt.user_id, now)
    attempt.disqualified = False
    attempt.disqualified_reason = None
    audit.record(
        session,
        actor=actor,
        action=audit.REINSTATE_ATTEMPT,
        target_type="attempt",
        target_id=attempt.id,
        round_id=round_.id,
        at=now,
        reason=why,
        before={
            "disqualified": True,
            "reason": previous_reason,
            "user_id": attempt.user_id,
            "rank": rank_before,
        },
        after={
            "disqualified": False,
            "user_id": attempt.user_id,
            "rank": _rank_now(session, round_, attempt.user_id, now),
        },
    )
    return attempt


def _apply_contestant_disqualification(session: Session, row: Disqualification) -> list[int]:
    """Mark the contestant's attempts of the round disqualified; returns the ids marked."""
    attempts = session.scalars(
        select(Attempt)
        .where(
            Attempt.round_id == row.round_id,
            Attempt.user_id == row.user_id,
            Attempt.disqualified.is_(False),
        )
        .with_for_update()
    ).all()
    for attempt in attempts:
        attempt.disqualified = True
        attempt.disqualified_reason = row.reason
    marked = [a.id for a in attempts]
    if marked:
        row.attempt_ids = sorted({*row.attempt_ids, *marked})
    return marked


def disqualify_contestant(
    session: Session,
    *,
    round_id: int,
    user_id: int,
    actor: Actor,
    reason: str | None,
    clock: Clock,
) -> Disqualification:
    why = clean_reason(reason)
    round_ = _unlocked(session, round_id)
    user = session.get(User, user_id)
    has_attempts = session.scalar(
        select(func.count())
        .select_from(Attempt)
        .where(Attempt.round_id == round_id, Attempt.user_id == user_id)
    )
    if user is None or not has_attempts:
        raise NotFound(_l("Thí sinh này không có lượt thi nào trong vòng thi."))
    if _contestant_disqualification(session, round_id, user_id) is not None:
        raise Invalid(_l("Thí sinh này đã bị loại khỏi vòng thi."))
    now = clock.now()
    rank_before = _rank_now(session, round_, user_id, now)
    row = Disqualification(
        round_id=round_id,
        user_id=user_id,
        reason=why,
        actor_id=actor.user_id,
        attempt_ids=[],
        at=now,
    )
    session.add(row)
    session.flush()
    marked = _apply_contestant_disqualification(session, row)
    audit.record(
        session,
        actor=actor,
        action=audit.DISQUALIFY_CONTESTANT,
        target_type="user",
        target_id=user_id,
        round_id=round_id,
        at=now,
        reason=why,
        before={"disqualified": False, "rank": rank_before},
        after={"disqualified": True, "rank": None, "attempts_disqualified": marked},
    )
    return row


def reinstate_contestant(
    session: Session,
    *,
    round_id: int,
    user_id: int,
    actor: Actor,
    reason: str | None,
    clock: Clock,
) -> None:
    why = clean_reason(reason)
    round_ = _unlocked(session, round_id)
    row = _contestant_disqualification(session, round_id, user_id)
    if row is None:
        raise Invalid(_l("Thí sinh này không bị loại khỏi vòng thi."))
    now = clock.now()
    restored = list(
        session.scalars(
            select(Attempt)
            .where(Attempt.id.in_(row.attempt_ids), Attempt.disqualified.is_(True))
            .with_for_update()
        )
    )
    for attempt in restored:
        attempt.disqualified = False
        attempt.disqualified_reason = None
    before = {"disqualified": True, "reason": row.reason, "attempts": list(row.attempt_ids)}
    session.delete(row)
    audit.record(
        session,
        actor=actor,
        action=audit.REINSTATE_CONTESTANT,
        target_type="user",
        target_id=user_id,
        round_id=round_id,
        at=now,
        reason=why,
        before=before,
        after={
            "disqualified": False,
            "attempts_reinstated": [a.id for a in restored],
            "rank": _rank_now(session, round_, user_id, now),
        },
    )


# --- prizes ---------------------------------------------------------------------------------


def _counts(values: Sequence[Any], what: str) -> list[int]:
    if len(values) != len(PRIZE_LEVELS):
        raise Invalid(_l("Cần đủ 4 số: nhất, nhì, ba, khuyến khích (%(what)s).", what=what))
    out: list[int] = []
    for value in values:
        try:
            number = int(value)
        except (TypeError, ValueError):
            raise Invalid(_l("Số giải phải là số nguyên không âm (%(what)s).", what=what)) from None
        if not 0 <= number <= MAX_PRIZE_COUNT:
            raise Invalid(_l("Số giải phải là số nguyên không âm (%(what)s).", what=what))
        out.append(number)
    return out


def settings_of(session: Session, round_: Round) -> dict[str, Any]:
    """The round's prize rules as plain values (defaults when never configured)."""
    settings = prize_settings(session, round_.id)
    return {
        "prizes": clean_counts(round_.prizes),
        "once_per_contest": bool(settings and settings.once_per_contest),
        "unit_formula": settings.unit_formula if settings else UnitFormula.NONE.value,
        "unit_prizes": clean_counts(settings.unit_prizes if settings else None),
        "prize_points": (
            list(settings.prize_points)
            if settings and settings.prize_points
            else list(DEFAULT_PRIZE_POINTS)
        ),
    }


def configure_prizes(
    session: Session,
    *,
    round_id: int,
    actor: Actor,
    clock: Clock,
    prizes: Sequence[Any],
    once_per_contest: bool,
    unit_formula: str,
    unit_prizes: Sequence[Any],
    prize_points: Sequence[Any],
    reason: str = "",
) -> bool:
    """Set the round's prize counts and rules; returns False when nothing changed."""
    round_ = _unlocked(session, round_id)
    if unit_formula not in {f.value for f in UnitFormula}:
        raise Invalid(_l("Cách xét giải tập thể không hợp lệ."))
    after: dict[str, Any] = {
        "prizes": _counts(prizes, "giải cá nhân"),
        "once_per_contest": bool(once_per_contest),
        "unit_formula": unit_formula,
        "unit_prizes": _counts(unit_prizes, "giải tập thể"),
        "prize_points": _counts(prize_points, "điểm giải"),
    }
    before = settings_of(session, round_)
    if before == after:
        return False
    now = clock.now()
    round_.prizes = after["prizes"]
    settings = prize_settings(session, round_id)
    if settings is None:
        settings = PrizeSettings(round_id=round_id, updated_at=now)
        session.add(settings)
    settings.once_per_contest = after["once_per_contest"]
    settings.unit_formula = after["unit_formula"]
    settings.unit_prizes = after["unit_prizes"]
    settings.prize_points = after["prize_points"]
    settings.updated_at = now
    audit.record(
        session,
        actor=actor,
        action=audit.PRIZES,
        target_type="round",
        target_id=round_id,
        round_id=round_id,
        at=now,
        reason=" ".join((reason or "").split()),
        before=before,
        after=after,
    )
    return True


def set_unit_members(
    session: Session, *, actor: Actor, clock: Clock, members: Mapping[int, Any]
) -> int:
    """Set member counts per unit (for participation rates); returns how many changed."""
    now = clock.now()
    changed = 0
    for unit_id, raw in sorted(members.items()):
        unit = session.get(Unit, unit_id)
        if unit is None:
            raise NotFound(_l("Không tìm thấy đơn vị."))
        value: int | None
        if raw is None or str(raw).strip() == "":
            value = None
        else:
            try:
                value = int(str(raw).strip().replace(".", "").replace(",", ""))
            except ValueError:
                raise Invalid(
                    _l("Số đoàn viên của %(unit)s phải là số nguyên.", unit=unit.code)
                ) from None
            if value < 0:
                raise Invalid(_l("Số đoàn viên của %(unit)s không được âm.", unit=unit.code))
        if value == unit.members:
            continue
        audit.record(
            session,
            actor=actor,
            action=audit.UNIT_MEMBERS,
            target_type="unit",
            target_id=unit.id,
            round_id=None,
            at=now,
            before={"code": unit.code, "members": unit.members},
            after={"code": unit.code, "members": value},
        )
        unit.members = value
        changed += 1
    session.flush()
    return changed


# --- finalise / reopen ----------------------------------------------------------------------


def _sync_contestant_disqualifications(session: Session, round_id: int) -> None:
    """Attempts a disqualified contestant finished after their disqualification."""
    for row in session.scalars(
        select(Disqualification).where(Disqualification.round_id == round_id)
    ):
        _apply_contestant_disqualification(session, row)
    session.flush()


def _unit_lines(
    session: Session,
    round_id: int,
    ranking: Ranking,
    units: UnitDirectory,
    settings: dict[str, Any],
) -> list[dict[str, Any]]:
    formula = settings["unit_formula"]
    if formula == UnitFormula.NONE:
        return []
    points_by_level = dict(
        zip([p.value for p in PRIZE_LEVELS], settings["prize_points"], strict=True)
    )
    participants: Counter[int] = Counter()
    points: Counter[int] = Counter()
    for row, unit_id in zip(ranking.rows, ranking.unit_ids, strict=True):
        if unit_id is None:
            continue
        participants[unit_id] += 1
        if row.prize:
            points[unit_id] += points_by_level.get(row.prize, 0)
    tallies = [
        UnitTally(
            unit_id=unit_id,
            code=units.code(unit_id),
            participants=count,
            members=units.units[unit_id].members if unit_id in units.units else None,
            prize_points=points[unit_id],
        )
        for unit_id, count in participants.items()
    ]
    return [
        {
            "round_id": round_id,
            "rank": ranked.rank,
            "prize": ranked.prize,
            "unit_id": ranked.tally.unit_id,
            "unit_code": ranked.tally.code,
            "unit_name": units.units[ranked.tally.unit_id].name,
            "unit_path": units.path(ranked.tally.unit_id),
            "participants": ranked.tally.participants,
            "members": ranked.tally.members,
            "prize_points": ranked.tally.prize_points,
            "score": ranked.score_text,
        }
        for ranked in rank_units(tallies, formula, settings["unit_prizes"])
    ]


def finalise_round(
    session: Session, *, round_id: int, actor: Actor, clock: Clock
) -> FinaliseOutcome:
    """Compute and store the final ranking, prizes and hash; lock the round.

    Finalising a finalised round changes nothing and returns the stored hash.
    """
    round_ = _round(session, round_id)
    if round_.finalized_at is not None:
        stored = session.get(RoundResult, round_id)
        return FinaliseOutcome(
            round_id=round_id,
            result_hash=round_.result_hash or "",
            created=False,
            contestants=stored.contestants if stored else 0,
            winners=stored.winners if stored else 0,
            truth=stored.prediction_truth if stored else None,
        )
    now = clock.now()
    if now < round_.closes_at:
        raise RoundStillOpen()
    running = int(
        session.scalar(
            select(func.count())
            .select_from(Attempt)
            .where(
                Attempt.round_id == round_id,
                Attempt.status == AttemptStatus.IN_PROGRESS.value,
            )
        )
        or 0
    )
    if running:
        raise AttemptsStillRunning(
            _l(
                "Còn %(n)d lượt thi chưa kết thúc. Hệ thống sẽ tự kết thúc khi hết giờ "
                "(quizengine attempts finalize-expired); vui lòng thử lại sau ít phút.",
                n=running,
            )
        )
    _sync_contestant_disqualifications(session, round_id)
    truth = lb.prediction_truth(session, round_)
    truth_source = (
        None
        if truth is None
        else ("override" if round_.prediction_truth is not None else "computed")
    )
    units = UnitDirectory.load(session)
    ranking = compute_ranking(session, round_, truth=truth, units=units)
    result_hash = canonical_hash(round_id, ranking.rows)
    rows = [
        {
            "round_id": round_id,
            "position": position,
            "board_id": board_id,
            "board_name": row.board,
            "rank": row.rank,
            "prize": row.prize,
            "prize_note": note,
            "user_id": row.user_id,
            "attempt_id": attempt_id,
            "full_name": row.full_name,
            "unit_id": unit_id,
            "unit_code": row.unit_code,
            "unit_path": row.unit_path,
            "phone_masked": row.phone_masked,
            "points": row.points,
            "prediction": row.prediction,
            "error": row.error,
            "duration_ms": row.duration_ms,
            "submitted_at": row.submitted_at,
        }
        for position, (row, board_id, attempt_id, unit_id, note) in enumerate(
            zip(
                ranking.rows,
                ranking.board_ids,
                ranking.attempt_ids,
                ranking.unit_ids,
                ranking.notes,
                strict=True,
            ),
            start=1,
        )
    ]
    for start in range(0, len(rows), 5000):
        session.execute(insert(FinalResult), rows[start : start + 5000])
    settings = settings_of(session, round_)
    unit_rows = _unit_lines(session, round_id, ranking, units, settings)
    if unit_rows:
        session.execute(insert(UnitPrize), unit_rows)
    winners = sum(1 for row in ranking.rows if row.prize)
    round_.finalized_at = now
    round_.result_hash = result_hash
    session.add(
        RoundResult(
            round_id=round_id,
            prediction_truth=truth,
            truth_source=truth_source,
            contestants=len(ranking.rows),
            winners=winners,
            result_hash=result_hash,
            finalized_at=now,
            finalized_by=actor.user_id,
        )
    )
    audit.record(
        session,
        actor=actor,
        action=audit.FINALISE,
        target_type="round",
        target_id=round_id,
        round_id=round_id,
        at=now,
        before={"finalized": False},
        after={
            "finalized": True,
            "result_hash": result_hash,
            "prediction_truth": truth,
            "truth_source": truth_source,
            "contestants": len(ranking.rows),
            "winners": winners,
            "unit_prizes": sum(1 for u in unit_rows if u["prize"]),
            **settings,
        },
    )
    session.flush()
    return FinaliseOutcome(
        round_id=round_id,
        result_hash=result_hash,
        created=True,
        contestants=len(ranking.rows),
        winners=winners,
        truth=truth,
    )


def reopen_round(
    session: Session, *, round_id: int, actor: Actor, reason: str | None, clock: Clock
) -> None:
    """Unlock a finalised round: its stored ranking and hash are discarded (audited)."""
    why = clean_reason(reason)
    round_ = _round(session, round_id)
    if round_.finalized_at is None:
        raise Invalid(_l("Kết quả vòng thi chưa được chốt."))
    now = clock.now()
    stored = session.get(RoundResult, round_id)
    before = {
        "finalized": True,
        "result_hash": round_.result_hash,
        "finalized_at": iso_z(round_.finalized_at),
        "prediction_truth": stored.prediction_truth if stored else None,
        "contestants": stored.contestants if stored else None,
    }
    session.execute(delete(FinalResult).where(FinalResult.round_id == round_id))
    session.execute(delete(UnitPrize).where(UnitPrize.round_id == round_id))
    session.execute(delete(RoundResult).where(RoundResult.round_id == round_id))
    round_.finalized_at = None
    round_.result_hash = None
    audit.record(
        session,
        actor=actor,
        action=audit.REOPEN,
        target_type="round",
        target_id=round_id,
        round_id=round_id,
        at=now,
        reason=why,
        before=before,
        after={"finalized": False},
    )
    session.flush()


# --- after the commit -------------------------------------------------------------------------


def refresh_live_board(session: Session, store: Store, round_id: int, *, now: datetime) -> None:
    """Make the live board follow a committed change; never raises for Redis trouble."""
    try:
        lb_services.rebuild_round(session, store, round_id, now=now)
    except (lb_services.RebuildRunning, StoreUnavailable) as exc:
        log.warning("judging: round %s board not rebuilt now (%s); marked stale", round_id, exc)
        lb_services.invalidate_round(store, round_id)

"""Anti-cheat flags: suspicions stored with their evidence, never blocking on their own.

Judges review them (the judging pages); here they are detected and listed. Each kind has a
stable name:

- ``too_fast``            median seconds between consecutive answer saves, counted from
                          the start, below a threshold (default 2 s), with at least 3 saves;
- ``many_sources``        the answers of one attempt came from more than one IP address or
                          user agent;
- ``quick_full_marks``    full marks submitted within a threshold of the start (default 10 s);
- ``shared_national_id``  several accounts with one national ID (each account is flagged);
- ``registration_burst``  more than N registrations (default 30) from one IP address in
                          10 minutes (the registrations beyond N are flagged).

The first three belong to an attempt (detected in the transaction that finishes it), the
last two to an account (detected at registration). Thresholds come from the app's config
(FLAG_TOO_FAST_SECONDS, FLAG_TOO_FAST_MIN_ANSWERS, FLAG_QUICK_FULL_MARKS_SECONDS,
FLAG_REGISTRATION_BURST, FLAG_REGISTRATION_WINDOW_MINUTES) with these defaults.
"""

from __future__ import annotations

import statistics
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from itertools import pairwise
from typing import Any

from flask import current_app, has_app_context
from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import Session

from quizengine.models import AnswerEvent, Attempt, Flag, User

TOO_FAST = "too_fast"
MANY_SOURCES = "many_sources"
QUICK_FULL_MARKS = "quick_full_marks"
SHARED_NATIONAL_ID = "shared_national_id"
REGISTRATION_BURST = "registration_burst"
FLAG_KINDS = (TOO_FAST, MANY_SOURCES, QUICK_FULL_MARKS, SHARED_NATIONAL_ID, REGISTRATION_BURST)


@dataclass(frozen=True)
class FlagThresholds:
    too_fast_seconds: float = 2.0
    too_fast_min_answers: int = 3
    quick_full_marks_seconds: float = 10.0
    registration_burst: int = 30
    registration_window_minutes: float = 10.0

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> FlagThresholds:
        d = cls()
        return cls(
            too_fast_seconds=float(config.get("FLAG_TOO_FAST_SECONDS", d.too_fast_seconds)),
            too_fast_min_answers=int(
                config.get("FLAG_TOO_FAST_MIN_ANSWERS", d.too_fast_min_answers)
            ),
            quick_full_marks_seconds=float(
                config.get("FLAG_QUICK_FULL_MARKS_SECONDS", d.quick_full_marks_seconds)
            ),
            registration_burst=int(config.get("FLAG_REGISTRATION_BURST", d.registration_burst)),
            registration_window_minutes=float(
                config.get("FLAG_REGISTRATION_WINDOW_MINUTES", d.registration_window_minutes)
            ),
        )


def current_thresholds() -> FlagThresholds:
    """The app's thresholds when called inside an app (callers need not pass them)."""
    return FlagThresholds.from_config(current_app.config) if has_app_context() else FlagThresholds()


def _existing_kinds(session: Session, attempt_id: int) -> set[str]:
    return set(session.scalars(select(Flag.kind).where(Flag.attempt_id == attempt_id)))


def detect_attempt_flags(
    session: Session,
    attempt: Attempt,
    *,
    now: datetime,
    thresholds: FlagThresholds | None = None,
) -> list[Flag]:
    """Flags raised by a finished attempt; added and flushed in the caller's transaction.

    Safe to call twice: a kind already flagged for the attempt is not added again.
    """
    t = thresholds or current_thresholds()
    events = session.execute(
        select(AnswerEvent.at, AnswerEvent.ip, AnswerEvent.user_agent)
        .where(AnswerEvent.attempt_id == attempt.id)
        .order_by(AnswerEvent.at, AnswerEvent.id)
    ).all()
    found: list[tuple[str, dict[str, Any]]] = []

    if len(events) >= t.too_fast_min_answers:
        times = [attempt.started_at, *(e.at for e in events)]
        gaps = [(b - a).total_seconds() for a, b in pairwise(times)]
        median = statistics.median(gaps)
        if median < t.too_fast_seconds:
            found.append(
                (
                    TOO_FAST,
                    {
                        "median_seconds": round(median, 3),
                        "answers": len(events),
                        "threshold_seconds": t.too_fast_seconds,
                    },
                )
            )

    ips = sorted({e.ip for e in events if e.ip})
    agents = sorted({e.user_agent for e in events if e.user_agent})
    if len(ips) > 1 or len(agents) > 1:
        found.append(
            (
                MANY_SOURCES,
                {
                    "ips": ips[:10],
                    "user_agents": [ua[:120] for ua in agents[:5]],
                    "answers": len(events),
                },
            )
        )

    full = bool(attempt.total) and attempt.correct_count == attempt.total
    if (
        full
        and attempt.duration_ms is not None
        and attempt.duration_ms <= t.quick_full_marks_seconds * 1000
    ):
        found.append(
            (
                QUICK_FULL_MARKS,
                {
                    "duration_ms": attempt.duration_ms,
                    "score": attempt.score,
                    "total": attempt.total,
                    "threshold_seconds": t.quick_full_marks_seconds,
                },
            )
        )

    if not found:
        return []
    already = _existing_kinds(session, attempt.id)
    flags = [
        Flag(
            kind=kind,
            round_id=attempt.round_id,
            attempt_id=attempt.id,
            user_id=attempt.user_id,
            evidence=evidence,
            created_at=now,
        )
        for kind, evidence in found
        if kind not in already
    ]
    session.add_all(flags)
    session.flush()
    return flags


def _masked(national_id: str) -> str:
    # As the accounts pages show a CCCD to anyone but organisers: its last three digits.
    return "*" * max(len(national_id) - 3, 0) + national_id[-3:]


def detect_registration_flags(
    session: Session,
    user: User,
    *,
    now: datetime,
    thresholds: FlagThresholds | None = None,
) -> list[Flag]:
    """Flags raised by a new registration (``user`` flushed); added and flushed here."""
    t = thresholds or current_thresholds()
    flags: list[Flag] = []

    if user.national_id:
        accounts = sorted(
            session.scalars(select(User.id).where(User.national_id == user.national_id))
        )
        if len(accounts) > 1:
            evidence = {"national_id": _masked(user.national_id), "accounts": accounts}
            flagged = {
                f.user_id: f
                for f in session.scalars(
                    select(Flag).where(
                        Flag.kind == SHARED_NATIONAL_ID,
                        Flag.attempt_id.is_(None),
                        Flag.user_id.in_(accounts),
                    )
                )
            }
            for account in accounts:
                existing = flagged.get(account)
                if existing is not None:
                    existing.evidence = dict(evidence)  # the whole group as it is now
                    continue
                flag = Flag(
                    kind=SHARED_NATIONAL_ID,
                    user_id=account,
                    evidence=dict(evidence),
                    created_at=now,
                )
                flags.append(flag)

    if user.registration_ip:
        window = timedelta(minutes=t.registration_window_minutes)
        count = int(
            session.scalar(
                select(func.count())
                .select_from(User)
                .where(
                    User.registration_ip == user.registration_ip,
                    User.created_at > now - window,
                    User.created_at <= now,
                )
            )
            or 0
        )
        if count > t.registration_burst:
            flags.append(
                Flag(
                    kind=REGISTRATION_BURST,
                    user_id=user.id,
                    evidence={
                        "ip": user.registration_ip,
                        "registrations": count,
                        "window_minutes": t.registration_window_minutes,
                        "threshold": t.registration_burst,
                    },
                    created_at=now,
                )
            )

    session.add_all(flags)
    session.flush()
    return flags


@dataclass(frozen=True)
class FlagLine:
    kind: str
    attempt_id: int | None
    user_id: int | None
    name: str
    evidence: dict[str, Any]

    def short_evidence(self, width: int = 120) -> str:
        parts = []
        for key, value in self.evidence.items():
            if isinstance(value, list):
                value = ",".join(str(v) for v in value)
            parts.append(f"{key}={value}")
        text = " ".join(parts)
        return text if len(text) <= width else text[: width - 1] + "…"


def flag_lines(session: Session, round_id: int | None = None) -> list[FlagLine]:
    """Every flag (of one round: its attempts' flags and its contestants' account flags)."""
    query = select(Flag, User.full_name).outerjoin(User, User.id == Flag.user_id).order_by(Flag.id)
    if round_id is not None:
        in_round = select(Attempt.user_id).where(Attempt.round_id == round_id)
        query = query.where(
            or_(
                Flag.round_id == round_id,
                and_(Flag.attempt_id.is_(None), Flag.user_id.in_(in_round)),
            )
        )
    return [
        FlagLine(flag.kind, flag.attempt_id, flag.user_id, name or "", dict(flag.evidence or {}))
        for flag, name in session.execute(query)
    ]

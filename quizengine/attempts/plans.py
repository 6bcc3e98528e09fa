"""What a start needs of its round and its questions' versions, kept in each process.

When a round opens, thousands of starts read the same round, contest, draw rules and
boards. A ``RoundPlan`` is a plain copy of those (no ORM entity: it is shared between
requests), read in one query and kept ``PlanCache.seconds`` (default 1 s). An organiser's
edit (times, rules, code, boards) reaches every start within that second; what a start
writes is still checked by the database (constraints) and the drawn questions are
re-checked in the query that loads them.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from cachetools import LRUCache, TTLCache
from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload

from quizengine.attempts.pools import PoolKey
from quizengine.attempts.queries import VersionView
from quizengine.models import Contest, QuestionVersion, Round


@dataclass(frozen=True)
class RulePlan:
    key: PoolKey
    count: int


@dataclass(frozen=True)
class RoundPlan:
    id: int
    contest_id: int
    opens_at: datetime
    closes_at: datetime
    time_limit_seconds: int
    attempts_allowed: int
    shuffle_questions: bool
    shuffle_options: bool
    rules: tuple[RulePlan, ...]
    access_code: str | None
    boards: tuple[tuple[int, str], ...]  # (id, name) in the contest's order


def read_plan(session: Session, round_id: int) -> RoundPlan | None:
    round_ = (
        session.scalars(
            select(Round)
            .where(Round.id == round_id)
            .options(
                joinedload(Round.contest).selectinload(Contest.boards),
                joinedload(Round.draw_rules),
            )
        )
        .unique()
        .one_or_none()
    )
    if round_ is None:
        return None
    contest = round_.contest
    return RoundPlan(
        id=round_.id,
        contest_id=round_.contest_id,
        opens_at=round_.opens_at,
        closes_at=round_.closes_at,
        time_limit_seconds=round_.time_limit_seconds,
        attempts_allowed=round_.attempts_allowed,
        shuffle_questions=round_.shuffle_questions,
        shuffle_options=round_.shuffle_options,
        rules=tuple(
            RulePlan(PoolKey(r.bank_id, r.difficulty, r.topic), r.count) for r in round_.draw_rules
        ),
        access_code=contest.access_code,
        boards=tuple(
            (b.id, b.name) for b in sorted(contest.boards, key=lambda b: (b.position, b.id))
        ),
    )


class PlanCache:
    """Per-process round plans for ``seconds`` (0: read the database every time)."""

    def __init__(
        self, seconds: float = 1.0, *, monotonic: Callable[[], float] = time.monotonic
    ) -> None:
        self.seconds = seconds
        self._plans: TTLCache[int, RoundPlan] = TTLCache(
            maxsize=1000, ttl=max(seconds, 0.0), timer=monotonic
        )
        self._lock = threading.Lock()  # gthread workers share it between threads

    def plan(self, session: Session, round_id: int) -> RoundPlan | None:
        with self._lock:
            hit = self._plans.get(round_id)
        if hit is not None:
            return hit
        plan = read_plan(session, round_id)
        if plan is not None and self.seconds > 0:
            with self._lock:
                self._plans[round_id] = plan
        return plan


class VersionCache:
    """Question versions as shown on a sheet, by id, without expiry: a version is never
    changed once written (an edit writes a new version and moves the question to it).
    The least recently used go past ``max_entries``."""

    def __init__(self, max_entries: int = 50_000) -> None:
        self._views: LRUCache[int, VersionView] = LRUCache(maxsize=max_entries)
        self._lock = threading.Lock()

    def views(self, session: Session, ids: list[int]) -> dict[int, VersionView]:
        with self._lock:
            found = {i: self._views[i] for i in ids if i in self._views}
        missing = [i for i in ids if i not in found]
        if missing:
            rows = session.execute(
                select(
                    QuestionVersion.id,
                    QuestionVersion.text,
                    QuestionVersion.options,
                    QuestionVersion.correct,
                ).where(QuestionVersion.id.in_(missing))
            )
            fetched = {row.id: VersionView(*row) for row in rows}
            with self._lock:
                self._views.update(fetched)
            found.update(fetched)
        return found

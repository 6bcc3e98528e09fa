"""Attempt verbs: start or resume, save an answer or the prediction, submit, finalise.

Every verb takes the session and plain values, only flushes, and raises domain errors.
The caller commits once, then updates the live boards for the attempts listed by
``finished_in(session)`` (they were finalised in this transaction).

Concurrency, enforced by the database rather than by check-then-insert:
- one attempt in progress per round and contestant: the partial unique index
  ``uq_attempts_one_in_progress``; numbers 1..K: ``uq_attempts_round_id`` (round, user,
  number). A start that loses the race inserts nothing (``ON CONFLICT DO NOTHING``) and
  returns the winner's attempt; so does a contest entry.
- everything that changes an attempt in progress first takes its row lock
  (``SELECT … FOR NO KEY UPDATE`` on PostgreSQL): a save and a submit of the same attempt
  are serialised, so an acknowledged answer is either graded or refused, never lost; two
  submits grade once. ``finalize_expired`` skips rows locked by a live request
  (``SKIP LOCKED``) and gets them on its next run. SQLite serialises writers itself.
"""

from __future__ import annotations

import hmac
import json
import random
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Protocol, cast

from flask_babel import lazy_gettext as _l
from sqlalchemy import Integer, Table, bindparam, insert, select, text, update
from sqlalchemy.orm import Session, make_transient_to_detached

from quizengine.attempts.draw import LetterMap, PoolTooSmall, draw_questions, option_order
from quizengine.attempts.grading import duration_ms, grade_items
from quizengine.attempts.plans import PlanCache, RoundPlan, VersionCache
from quizengine.attempts.pools import PoolCache, PoolKey
from quizengine.attempts.queries import VersionView
from quizengine.clock import Clock
from quizengine.db import begin_transaction, insert_or_skip
from quizengine.errors import (
    AlreadySubmitted,
    AttemptsExhausted,
    DeadlinePassed,
    Forbidden,
    Invalid,
    NotFound,
    RoundNotOpen,
)
from quizengine.leaderboard.flags import detect_attempt_flags
from quizengine.models import (
    AnswerEvent,
    Attempt,
    AttemptItem,
    AttemptStatus,
    ContestEntry,
    Question,
    QuestionVersion,
    Round,
)
from quizengine.store import Store

IN_PROGRESS = AttemptStatus.IN_PROGRESS.value
SUBMITTED = AttemptStatus.SUBMITTED.value
EXPIRED = AttemptStatus.EXPIRED.value
# The prediction column is a 32-bit integer; nobody predicts two billion full marks.
MAX_PREDICTION = 2_000_000_000
_FINISHED_KEY = "quizengine.attempts.finished"
_START_RETRIES = 3
_DRAW_RETRIES = 3


# --------------------------------------------------------------------------- results


@dataclass(frozen=True)
class NewItem:
    """A drawn question's row as inserted (the sheet reads it; no ORM entity needed)."""

    position: int
    question_id: int
    version_id: int
    option_order: list[int]
    points: int
    chosen: list[int] | None = None


@dataclass
class DrawnQuestion:
    """One drawn question with the version shown (what the start response needs)."""

    item: NewItem
    version: VersionView


@dataclass(frozen=True)
class _Candidate:
    """A drawn question as read back for checking: plain columns, no ORM entity."""

    id: int
    bank_id: int
    active: bool
    difficulty: str | None
    topic: str | None
    points: int
    version: VersionView


@dataclass
class StartResult:
    attempt: Attempt
    created: bool
    # Filled for a new attempt (saves a query); a resumed one is read with load_sheet.
    drawn: list[DrawnQuestion] = field(default_factory=list)


def finished_in(session: Session) -> list[Attempt]:
    """Attempts finalised in this transaction: update the live boards after the commit."""
    finished: list[Attempt] = session.info.pop(_FINISHED_KEY, [])
    return finished


def has_finished(session: Session) -> bool:
    """Whether this transaction finalised an attempt (worth committing even on a refusal)."""
    return bool(session.info.get(_FINISHED_KEY))


def _note_finished(session: Session, attempt: Attempt) -> None:
    session.info.setdefault(_FINISHED_KEY, []).append(attempt)


# --------------------------------------------------------------------------- helpers


class _Timed(Protocol):
    """An attempt, or a row read with its status and deadline."""

    @property
    def status(self) -> str: ...
    @property
    def deadline_at(self) -> datetime: ...


def is_due(attempt: _Timed, now: datetime, grace_seconds: float) -> bool:
    """Past deadline + grace: no answer is accepted any more; finalise with what was saved."""
    return attempt.status == IN_PROGRESS and now > attempt.deadline_at + timedelta(
        seconds=grace_seconds
    )


def _owned(session: Session, attempt_id: int, user_id: int, *, lock: bool) -> Attempt:
    stmt = select(Attempt).where(Attempt.id == attempt_id)
    if lock:
        # populate_existing: the identity map may hold an older copy; the locked row wins.
        stmt = stmt.with_for_update(key_share=True).execution_options(populate_existing=True)
    attempt = session.scalars(stmt).one_or_none()
    # Another contestant's attempt does not exist, as far as this one can tell.
    if attempt is None or attempt.user_id != user_id:
        raise NotFound()
    return attempt


def _in_progress(session: Session, round_id: int, user_id: int) -> Attempt | None:
    return session.scalars(
        select(Attempt).where(
            Attempt.round_id == round_id,
            Attempt.user_id == user_id,
            Attempt.status == IN_PROGRESS,
        )
    ).one_or_none()


def validate_prediction(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise Invalid(_l("Câu trả lời dự đoán phải là một số nguyên không âm."))
    if not 0 <= value <= MAX_PREDICTION:
        raise Invalid(_l("Câu trả lời dự đoán phải là một số nguyên không âm."))
    return value


# --------------------------------------------------------------------------- start


def start_attempt(
    session: Session,
    *,
    round_id: int,
    user_id: int,
    clock: Clock,
    store: Store,
    pools: PoolCache | None = None,
    plans: PlanCache | None = None,
    versions: VersionCache | None = None,
    grace_seconds: float = 5.0,
    board: str | None = None,
    access_code: str | None = None,
    ip: str | None = None,
    user_agent: str | None = None,
    rng: random.Random | None = None,
) -> StartResult:
    """Start a new attempt, or return the one in progress (a second tab or device).

    The second busiest request of a round (everyone, at the minute it opens): the round's
    plan from ``plans`` (a second old at most); first as if this were the contestant's
    first attempt in the round (the usual case: nothing to read), writing the entry, the
    attempt and its items in one statement; a unique constraint turns that into a no-op
    when they already have an attempt, and only then are their attempts read (to resume
    one in progress, finalise an expired one, or number the next)."""
    plan = (plans or PlanCache(0)).plan(session, round_id)
    if plan is None:
        raise NotFound()
    now = clock.now()
    pools = pools or PoolCache()
    versions = versions or VersionCache()
    rng = rng or random.Random()

    first_try = True
    drawn: list[DrawnQuestion] | None = None
    for _ in range(_START_RETRIES + 1):
        mine = (
            []
            if first_try
            else session.execute(
                select(Attempt.id, Attempt.number, Attempt.status, Attempt.deadline_at).where(
                    Attempt.round_id == round_id, Attempt.user_id == user_id
                )
            ).all()
        )
        live = next((a for a in mine if a.status == IN_PROGRESS), None)
        if live is not None:
            if not is_due(live, now, grace_seconds):
                return StartResult(_owned(session, live.id, user_id, lock=False), created=False)
            existing = _owned(session, live.id, user_id, lock=True)
            if is_due(existing, now, grace_seconds):
                _finalize_locked(session, [existing], now=now, expired=True)
        if not plan.opens_at <= now < plan.closes_at:
            raise RoundNotOpen()
        board_id = _entry_board(session, plan, user_id, board, access_code)
        number = max((a.number for a in mine), default=0) + 1
        if number > plan.attempts_allowed:
            raise AttemptsExhausted()
        if drawn is None:  # drawn once: a retry only changes the attempt's number
            drawn = _drawn_sheet(_draw(session, store, pools, plan, rng, versions), plan, rng)
        values: dict[str, Any] = {
            "round_id": round_id,
            "user_id": user_id,
            "board_id": board_id,
            "number": number,
            "status": IN_PROGRESS,
            "started_at": now,
            "deadline_at": min(now + timedelta(seconds=plan.time_limit_seconds), plan.closes_at),
            "total": len(drawn),
            "disqualified": False,
            "ip": ip,
            "user_agent": (user_agent or "")[:300] or None,
        }
        written = _write_start(session, plan.contest_id, values, [d.item for d in drawn])
        if written is None:
            # Not the first attempt after all, or another request won the race (same tab
            # twice, a second device): read the attempts and resume, renumber or refuse —
            # in a transaction (the first try may have run without one: its only write is
            # that one atomic statement).
            if first_try:
                begin_transaction(session)
            first_try = False
            continue
        values["id"], values["board_id"] = written
        created = Attempt(**values)
        make_transient_to_detached(created)  # persistent without reading back what we wrote
        session.add(created)
        return StartResult(created, created=True, drawn=drawn)
    winner = _in_progress(session, round_id, user_id)
    if winner is not None:
        return StartResult(winner, created=False)
    raise AttemptsExhausted()


def _drawn_sheet(
    picked: list[_Candidate], plan: RoundPlan, rng: random.Random
) -> list[DrawnQuestion]:
    """The drawn questions in order, each with the order its options are shown in."""
    return [
        DrawnQuestion(
            NewItem(
                position=position,
                question_id=question.id,
                version_id=question.version.id,
                option_order=option_order(
                    len(question.version.options), rng, shuffle=plan.shuffle_options
                ),
                points=question.points,
            ),
            question.version,
        )
        for position, question in enumerate(picked, start=1)
    ]


def _entry_board(
    session: Session, plan: RoundPlan, user_id: int, board: str | None, access_code: str | None
) -> int | None:
    """The board the contestant enters with; checks the code and the board on first entry.

    An open contest without boards (the usual one) needs no statement: the entry is written
    with the attempt (``_write_start``)."""
    if not plan.access_code and not plan.boards:
        return None
    found = session.execute(
        select(ContestEntry.board_id).where(
            ContestEntry.contest_id == plan.contest_id, ContestEntry.user_id == user_id
        )
    ).first()
    if found is not None:
        return found.board_id  # the board is fixed and the code was passed on first entry
    if plan.access_code:
        given = (access_code or "").strip().casefold().encode()
        expected = plan.access_code.strip().casefold().encode()
        if not hmac.compare_digest(given, expected):
            raise Forbidden(_l("Mã truy cập không đúng. Vui lòng kiểm tra lại mã ban tổ chức gửi."))
    names = {name: board_id for board_id, name in plan.boards}
    if not names:
        return None
    wanted = (board or "").strip()
    if wanted not in names:
        raise Invalid(_l("Vui lòng chọn bảng thi của bạn."))
    return names[wanted]


def _write_start(
    session: Session, contest_id: int, attempt: dict[str, Any], items: list[NewItem]
) -> tuple[int, int | None] | None:
    """Enter the contest (if not yet), insert the attempt and its items; (attempt id, board
    id) — the board of an entry a second tab made first wins — or None when a unique
    constraint says another request started first (nothing is written then).

    PostgreSQL: one statement, one round trip (data-modifying WITHs; the items from arrays
    with unnest, so the text is the same for any question count and is prepared once)."""
    conn = session.connection()
    if conn.dialect.name == "postgresql":
        row = conn.execute(
            _START_PG,
            {
                **attempt,
                "contest_id": contest_id,
                "positions": [i.position for i in items],
                "questions": [i.question_id for i in items],
                "versions": [i.version_id for i in items],
                "orders": [json.dumps(i.option_order) for i in items],
                "points": [i.points for i in items],
            },
        ).first()
        return (row.id, row.board_id) if row is not None else None
    entry = {"contest_id": contest_id, "user_id": attempt["user_id"]}
    session.execute(
        insert_or_skip(session, ContestEntry).values(
            board_id=attempt["board_id"], created_at=attempt["started_at"], **entry
        )
    )
    board_id = session.scalar(select(ContestEntry.board_id).filter_by(**entry))
    attempt_id = session.scalar(
        insert_or_skip(session, Attempt)
        .values({**attempt, "board_id": board_id})
        .returning(Attempt.id)
    )
    if attempt_id is None:
        return None
    session.execute(
        insert(AttemptItem),
        [
            {
                "attempt_id": attempt_id,
                "position": i.position,
                "question_id": i.question_id,
                "version_id": i.version_id,
                "option_order": i.option_order,
                "chosen": None,
                "points": i.points,
            }
            for i in items
        ],
    )
    return attempt_id, board_id


_START_PG = text(
    """
    WITH entry AS (
        INSERT INTO contest_entries (contest_id, user_id, board_id, created_at)
        VALUES (:contest_id, :user_id, :board_id, :started_at)
        ON CONFLICT DO NOTHING
    ), attempt AS (
        INSERT INTO attempts (round_id, user_id, board_id, number, status, started_at,
                              deadline_at, total, disqualified, ip, user_agent)
        VALUES (:round_id, :user_id,
                COALESCE((SELECT e.board_id FROM contest_entries e
                          WHERE e.contest_id = :contest_id AND e.user_id = :user_id),
                         :board_id),
                :number, :status, :started_at, :deadline_at, :total, :disqualified, :ip,
                :user_agent)
        ON CONFLICT DO NOTHING
        RETURNING id, board_id
    ), items AS (
        INSERT INTO attempt_items (attempt_id, position, question_id, version_id,
                                   option_order, chosen, points)
        SELECT attempt.id, t.position, t.question_id, t.version_id, t.option_order::jsonb,
               NULL, t.points
        FROM attempt,
             unnest(CAST(:positions AS integer[]), CAST(:questions AS integer[]),
                    CAST(:versions AS integer[]), CAST(:orders AS text[]),
                    CAST(:points AS integer[]))
             AS t(position, question_id, version_id, option_order, points)
    )
    SELECT id, board_id FROM attempt
    """
).columns(id=Integer, board_id=Integer)


def _draw(
    session: Session,
    store: Store,
    pools: PoolCache,
    plan: RoundPlan,
    rng: random.Random,
    versions: VersionCache,
) -> list[_Candidate]:
    """Draw per the round's rules; re-check the drawn questions in the query that loads them."""
    rules = plan.rules
    if not rules:
        raise Invalid(_l("Tuần thi chưa có quy tắc rút câu hỏi; vui lòng báo ban tổ chức."))
    keys = [r.key for r in rules]
    rejected: set[int] = set()
    for attempt_no in range(_DRAW_RETRIES + 1):
        if attempt_no == _DRAW_RETRIES:
            # Still stale after retries: rebuild everything from the database.
            for key in keys:
                pools.forget(key)
        pool_ids = pools.pools(session, store, keys)
        try:
            drawn = draw_questions(
                pool_ids,
                [r.count for r in rules],
                rng,
                shuffle=plan.shuffle_questions,
                exclude=rejected,
            )
        except PoolTooSmall as exc:
            pools.forget(keys[exc.rule_index])
            if attempt_no < _DRAW_RETRIES:
                continue
            raise Invalid(
                _l("Ngân hàng câu hỏi không đủ câu hỏi cho lượt thi; vui lòng báo ban tổ chức.")
            ) from exc
        rows = (
            session.connection().execute(_CANDIDATES, {"ids": [d.question_id for d in drawn]}).all()
        )
        shown = versions.views(session, [row.current_version_id for row in rows])
        found = {
            row.id: _Candidate(*row[:6], version=shown[row.current_version_id]) for row in rows
        }
        ok = True
        for d in drawn:
            hit = found.get(d.question_id)
            key = keys[d.rule_index]
            if hit is None or not _qualifies(hit, key):
                rejected.add(d.question_id)
                pools.forget(key)
                ok = False
        if ok:
            return [found[d.question_id] for d in drawn]
    raise Invalid(_l("Ngân hàng câu hỏi không đủ câu hỏi cho lượt thi; vui lòng báo ban tổ chức."))


_QUESTIONS = cast(Table, Question.__table__)
# The drawn questions as they are now (the pools may be a moment old); their versions'
# text comes from the VersionCache (a version never changes once written).
_CANDIDATES = select(
    _QUESTIONS.c.id,
    _QUESTIONS.c.bank_id,
    _QUESTIONS.c.active,
    _QUESTIONS.c.difficulty,
    _QUESTIONS.c.topic,
    _QUESTIONS.c.points,
    _QUESTIONS.c.current_version_id,
).where(
    _QUESTIONS.c.id.in_(bindparam("ids", expanding=True)),
    _QUESTIONS.c.current_version_id.is_not(None),
)


def _qualifies(question: _Candidate, key: PoolKey) -> bool:
    return (
        question.active
        and question.bank_id == key.bank_id
        and (key.difficulty is None or question.difficulty == key.difficulty)
        and (key.topic is None or question.topic == key.topic)
    )


# --------------------------------------------------------------------------- answers


def _writable(
    session: Session, attempt_id: int, user_id: int, now: datetime, grace_seconds: float
) -> Attempt:
    """The attempt, locked, if it still takes answers; else the right refusal."""
    attempt = _owned(session, attempt_id, user_id, lock=True)
    if attempt.status == SUBMITTED:
        raise AlreadySubmitted()
    if attempt.status == EXPIRED:
        raise DeadlinePassed()
    if is_due(attempt, now, grace_seconds):
        # Finalised with what was saved; the caller commits that before refusing.
        _finalize_locked(session, [attempt], now=now, expired=True)
        raise DeadlinePassed(finalized=attempt)
    return attempt


def save_answer(
    session: Session,
    *,
    attempt_id: int,
    question_id: int,
    user_id: int,
    choice: Sequence[str],
    clock: Clock,
    grace_seconds: float = 5.0,
    ip: str | None = None,
    user_agent: str | None = None,
) -> None:
    """Store the letters chosen (``[]`` clears) and append an AnswerEvent.

    The busiest request of a round (every contestant, every question), so two statements
    without the ORM's unit of work: lock the attempt and read the item with its version's
    answer count in one; write the item and the event in one (a data-modifying CTE on
    PostgreSQL). Anything but a live attempt goes the general way (``_writable``)."""
    now = clock.now()
    # Core on the session's connection, statements built once: no ORM work on this path.
    conn = session.connection()
    row = conn.execute(
        _LOCK_AND_READ_ITEM, {"attempt_id": attempt_id, "question_id": question_id}
    ).one_or_none()
    if row is None or row.user_id != user_id:
        raise NotFound()
    if row.status != IN_PROGRESS or is_due(row, now, grace_seconds):
        _writable(session, attempt_id, user_id, now, grace_seconds)  # raises the refusal
    if row.id is None:
        raise NotFound(_l("Câu hỏi này không có trong bài thi của bạn."))
    stored = LetterMap(row.option_order).to_stored(choice)
    if stored is None:
        raise Invalid(_l("Phương án không hợp lệ."))
    if len(stored) > 1 and len(row.correct) <= 1:
        raise Invalid(_l("Câu hỏi này chỉ chọn một phương án."))
    _store_choice(
        session,
        item_id=row.id,
        event={
            "attempt_id": attempt_id,
            "question_id": question_id,
            "chosen": stored,
            "at": now,
            "ip": ip,
            "user_agent": (user_agent or "")[:300] or None,
        },
    )


_ATTEMPTS = cast(Table, Attempt.__table__)
_ITEMS = cast(Table, AttemptItem.__table__)
_VERSIONS = cast(Table, QuestionVersion.__table__)
_LOCK_AND_READ_ITEM = (
    select(
        _ATTEMPTS.c.user_id,
        _ATTEMPTS.c.status,
        _ATTEMPTS.c.deadline_at,
        _ITEMS.c.id,
        _ITEMS.c.option_order,
        _VERSIONS.c.correct,
    )
    .select_from(_ATTEMPTS)
    .outerjoin(
        _ITEMS,
        (_ITEMS.c.attempt_id == _ATTEMPTS.c.id)
        & (_ITEMS.c.question_id == bindparam("question_id")),
    )
    .outerjoin(_VERSIONS, _VERSIONS.c.id == _ITEMS.c.version_id)
    .where(_ATTEMPTS.c.id == bindparam("attempt_id"))
    .with_for_update(key_share=True, of=_ATTEMPTS)
)
_UPDATE_ITEM = (
    update(_ITEMS)
    .where(_ITEMS.c.id == bindparam("item_id"))
    .values(chosen=bindparam("item_chosen"), answered_at=bindparam("item_at"))
)
_EVENT_COLUMNS = ("attempt_id", "question_id", "chosen", "at", "ip", "user_agent")
_INSERT_EVENT = insert(cast(Table, AnswerEvent.__table__)).values(
    {name: bindparam(f"event_{name}") for name in _EVENT_COLUMNS}
)
# A data-modifying WITH runs exactly once, whether or not the INSERT reads it.
_UPDATE_ITEM_INSERT_EVENT = _INSERT_EVENT.add_cte(_UPDATE_ITEM.returning(_ITEMS.c.id).cte("item"))


def _store_choice(session: Session, *, item_id: int, event: dict[str, Any]) -> None:
    """Set the item's choice and append its AnswerEvent: one round trip on PostgreSQL."""
    conn = session.connection()
    item = {"item_id": item_id, "item_chosen": event["chosen"], "item_at": event["at"]}
    row = {f"event_{name}": event[name] for name in _EVENT_COLUMNS}
    if conn.dialect.name == "postgresql":
        conn.execute(_UPDATE_ITEM_INSERT_EVENT, {**item, **row})
    else:
        conn.execute(_UPDATE_ITEM, item)
        conn.execute(_INSERT_EVENT, row)
    # Core wrote the row: an AttemptItem this session already holds must be read again.
    held = session.identity_map.get(session.identity_key(AttemptItem, item_id))
    if held is not None:
        session.expire(held)


def save_prediction(
    session: Session,
    *,
    attempt_id: int,
    user_id: int,
    prediction: Any,
    clock: Clock,
    grace_seconds: float = 5.0,
) -> Attempt:
    value = validate_prediction(prediction)
    attempt = _writable(session, attempt_id, user_id, clock.now(), grace_seconds)
    round_ = session.get(Round, attempt.round_id)
    if round_ is None or not round_.has_prediction:
        raise Invalid(_l("Tuần thi này không có câu hỏi dự đoán."))
    attempt.prediction = value
    session.flush()
    return attempt


# --------------------------------------------------------------------------- submit / finalise


def open_attempt(
    session: Session, *, attempt_id: int, user_id: int, clock: Clock, grace_seconds: float = 5.0
) -> Attempt:
    """The contestant's attempt for a page; finalised first if its time ran out."""
    attempt = _owned(session, attempt_id, user_id, lock=False)
    now = clock.now()
    if is_due(attempt, now, grace_seconds):
        attempt = _owned(session, attempt_id, user_id, lock=True)
        if is_due(attempt, now, grace_seconds):
            _finalize_locked(session, [attempt], now=now, expired=True)
    return attempt


def submit_attempt(
    session: Session,
    *,
    attempt_id: int,
    user_id: int,
    clock: Clock,
    grace_seconds: float = 5.0,
    prediction: Any = None,
) -> Attempt:
    """Grade once. Again → the same result; after deadline + grace → the result as
    finalised at the deadline (with the prediction saved before it, if any)."""
    attempt = _owned(session, attempt_id, user_id, lock=True)
    if attempt.finished:
        return attempt
    now = clock.now()
    if is_due(attempt, now, grace_seconds):
        _finalize_locked(session, [attempt], now=now, expired=True)
        return attempt
    round_ = session.get(Round, attempt.round_id)
    if prediction is not None:
        value = validate_prediction(prediction)
        if round_ is None or not round_.has_prediction:
            raise Invalid(_l("Tuần thi này không có câu hỏi dự đoán."))
        attempt.prediction = value
    if round_ is not None and round_.has_prediction and attempt.prediction is None:
        raise Invalid(_l("Vui lòng trả lời câu hỏi dự đoán trước khi nộp bài."))
    _finalize_locked(session, [attempt], now=now, expired=False)
    return attempt


def finalize_expired(
    session: Session, *, clock: Clock, grace_seconds: float = 5.0, batch: int = 200
) -> list[Attempt]:
    """Finalise up to ``batch`` attempts past deadline + grace (oldest first).

    Safe to run from cron on one host while requests run, and twice at once: rows are
    claimed with ``FOR UPDATE SKIP LOCKED`` and only ``in_progress`` ones are taken.
    """
    now = clock.now()
    cutoff = now - timedelta(seconds=grace_seconds)
    attempts = list(
        session.scalars(
            select(Attempt)
            .where(Attempt.status == IN_PROGRESS, Attempt.deadline_at < cutoff)
            .order_by(Attempt.deadline_at, Attempt.id)
            .limit(batch)
            .with_for_update(skip_locked=True, key_share=True)
        )
    )
    if attempts:
        _finalize_locked(session, attempts, now=now, expired=True)
    return attempts


def _finalize_locked(
    session: Session, attempts: Sequence[Attempt], *, now: datetime, expired: bool
) -> None:
    """Grade attempts whose rows the caller holds locked: two statements for any number of
    questions (read items with their versions' answers, one batched UPDATE)."""
    by_id = {a.id: a for a in attempts}
    rows = session.execute(
        select(
            AttemptItem.attempt_id,
            AttemptItem.id,
            AttemptItem.chosen,
            QuestionVersion.correct,
            AttemptItem.points,
        )
        .join(QuestionVersion, QuestionVersion.id == AttemptItem.version_id)
        .where(AttemptItem.attempt_id.in_(list(by_id)))
    ).all()
    per_attempt: dict[int, list[tuple[int, Sequence[int] | None, Sequence[int], int]]] = {
        a_id: [] for a_id in by_id
    }
    for attempt_id, item_id, chosen, correct, points in rows:
        per_attempt[attempt_id].append((item_id, chosen, correct, points))
    updates: list[dict[str, Any]] = []
    for attempt_id, items in per_attempt.items():
        attempt = by_id[attempt_id]
        graded, grade = grade_items(items)
        updates.extend({"id": g.item_id, "is_correct": g.is_correct} for g in graded)
        submitted_at = attempt.deadline_at if expired else min(now, attempt.deadline_at)
        attempt.status = EXPIRED if expired else SUBMITTED
        attempt.submitted_at = submitted_at
        attempt.duration_ms = duration_ms(attempt.started_at, submitted_at)
        attempt.score = grade.score
        attempt.correct_count = grade.correct
        attempt.total = grade.total
    if updates:
        session.execute(update(AttemptItem), updates)
    session.flush()
    for attempt in attempts:
        detect_attempt_flags(session, attempt, now=now)
        _note_finished(session, attempt)
    session.flush()

"""Builders for test data. Each takes the session, flushes, and returns the object.

They write rows directly (no HTTP, no services) so that every layer's tests can set up
the world they need in one line. Feature tests that exercise a service call the service.
"""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session
from werkzeug.security import generate_password_hash

from quizengine.banks.fileformat import search_fold
from quizengine.banks.versions import match_key_of
from quizengine.models import (
    Bank,
    Board,
    Contest,
    DrawRule,
    Question,
    QuestionVersion,
    Role,
    Round,
    Unit,
    User,
)

DEFAULT_PASSWORD = "matkhau123"
# A real hash in a cheap setting: tests create many users; production uses scrypt.
_CHEAP_HASH = generate_password_hash(DEFAULT_PASSWORD, method="pbkdf2:sha256:1000")
_seq = itertools.count(1)
NOW = datetime(2026, 3, 2, 3, 0, tzinfo=UTC)


def _n() -> int:
    return next(_seq)


def make_unit(
    session: Session,
    *,
    code: str | None = None,
    name: str | None = None,
    parent: Unit | None = None,
    short_name: str | None = None,
    members: int | None = None,
) -> Unit:
    n = _n()
    unit = Unit(
        code=code or f"CDCS-{n:04d}",
        name=name or f"Công đoàn cơ sở Công ty số {n}",
        short_name=short_name,
        parent_id=parent.id if parent else None,
        members=members,
        created_at=NOW,
    )
    session.add(unit)
    session.flush()
    return unit


def make_user(
    session: Session,
    *,
    role: Role = Role.CONTESTANT,
    phone: str | None = None,
    full_name: str | None = None,
    unit: Unit | None = None,
    password: str | None = None,
    **extra: Any,
) -> User:
    n = _n()
    if unit is None and role is Role.CONTESTANT:
        unit = make_unit(session)
    user = User(
        role=role.value,
        phone=phone or f"09{n:08d}",
        full_name=full_name or f"Nguyễn Văn Thử {n}",
        password_hash=(
            generate_password_hash(password, method="pbkdf2:sha256:1000")
            if password
            else _CHEAP_HASH
        ),
        unit_id=unit.id if unit else None,
        created_at=NOW,
        **extra,
    )
    session.add(user)
    session.flush()
    return user


def make_contestant(session: Session, **kw: Any) -> User:
    return make_user(session, role=Role.CONTESTANT, **kw)


def make_judge(session: Session, **kw: Any) -> User:
    return make_user(session, role=Role.JUDGE, **kw)


def make_organiser(session: Session, **kw: Any) -> User:
    return make_user(session, role=Role.ORGANISER, **kw)


def make_bank(
    session: Session,
    *,
    slug: str | None = None,
    questions: int = 0,
    options: int = 4,
    multi_every: int = 0,
) -> Bank:
    """A bank with ``questions`` questions; every ``multi_every``-th one is multi-select."""
    n = _n()
    bank = Bank(slug=slug or f"bank-{n}", title=f"Ngân hàng {n}", created_at=NOW)
    session.add(bank)
    session.flush()
    for i in range(questions):
        multi = bool(multi_every) and (i + 1) % multi_every == 0
        make_question(
            session,
            bank,
            text=f"Câu hỏi số {i + 1} của ngân hàng {n}?",
            options=[f"Phương án {chr(65 + k)}" for k in range(options)],
            correct=[0, 2] if multi else [i % options],
        )
    return bank


def make_question(
    session: Session,
    bank: Bank,
    *,
    text: str,
    options: list[str],
    correct: list[int],
    code: str | None = None,
    topic: str | None = None,
    difficulty: str | None = None,
    explanation: str | None = "Giải thích.",
    legal_basis: str | None = None,
) -> Question:
    question = Question(
        bank_id=bank.id,
        code=code,
        match_key=match_key_of(text),
        search_text=search_fold(text),
        topic=topic,
        difficulty=difficulty,
        created_at=NOW,
        updated_at=NOW,
    )
    session.add(question)
    session.flush()
    version = QuestionVersion(
        question_id=question.id,
        number=1,
        text=text,
        options=options,
        correct=correct,
        explanation=explanation,
        legal_basis=legal_basis,
        created_at=NOW,
    )
    session.add(version)
    session.flush()
    question.current_version_id = version.id
    session.flush()
    return question


def make_contest(
    session: Session,
    *,
    title: str = "Cuộc thi tìm hiểu pháp luật",
    access_code: str | None = None,
    boards: tuple[str, ...] = (),
) -> Contest:
    contest = Contest(
        title=title, description="Mô tả", rules="Thể lệ", access_code=access_code, created_at=NOW
    )
    session.add(contest)
    session.flush()
    for i, name in enumerate(boards):
        session.add(Board(contest_id=contest.id, name=name, position=i))
    session.flush()
    return contest


def make_round(
    session: Session,
    *,
    contest: Contest | None = None,
    bank: Bank | None = None,
    draw: int = 5,
    opens_at: datetime | None = None,
    closes_at: datetime | None = None,
    minutes: float = 20,
    attempts_allowed: int = 1,
    prediction: str | None = None,
    **extra: Any,
) -> Round:
    contest = contest or make_contest(session)
    bank = bank or make_bank(session, questions=max(draw, 10))
    opens_at = opens_at or NOW - timedelta(days=1)
    rnd = Round(
        contest_id=contest.id,
        title=extra.pop("title", "Tuần 1"),
        opens_at=opens_at,
        closes_at=closes_at or opens_at + timedelta(days=7),
        question_count=draw,
        time_limit_seconds=int(minutes * 60),
        attempts_allowed=attempts_allowed,
        prediction_text=prediction,
        created_at=NOW,
        **extra,
    )
    session.add(rnd)
    session.flush()
    session.add(DrawRule(round_id=rnd.id, bank_id=bank.id, count=draw, position=0))
    session.flush()
    return rnd

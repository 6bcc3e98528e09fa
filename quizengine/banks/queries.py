"""Reads for the bank pages and the CLI: bank list, question search, one question."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement

from quizengine.banks.fileformat import search_fold
from quizengine.errors import NotFound
from quizengine.models import Bank, Question, QuestionVersion

__all__ = [
    "PAGE_SIZE",
    "BankLine",
    "QuestionLine",
    "QuestionPage",
    "bank_by_slug",
    "bank_lines",
    "bank_topics",
    "question_in_bank",
    "search_questions",
]

PAGE_SIZE = 50


@dataclass(frozen=True)
class BankLine:
    bank: Bank
    active: int
    total: int


def bank_lines(session: Session) -> list[BankLine]:
    active = func.count(Question.id).filter(Question.active.is_(True))
    rows = session.execute(
        select(Bank, active, func.count(Question.id))
        .outerjoin(Question, Question.bank_id == Bank.id)
        .group_by(Bank.id)
        .order_by(Bank.slug)
    )
    return [BankLine(bank, int(n_active), int(n_total)) for bank, n_active, n_total in rows]


def bank_by_slug(session: Session, slug: str) -> Bank:
    bank = session.scalar(select(Bank).where(Bank.slug == slug))
    if bank is None:
        raise NotFound()
    return bank


def bank_topics(session: Session, bank_id: int) -> list[str]:
    return list(
        session.scalars(
            select(Question.topic)
            .where(Question.bank_id == bank_id, Question.topic.is_not(None))
            .distinct()
            .order_by(Question.topic)
        )
    )


@dataclass(frozen=True)
class QuestionLine:
    question: Question
    version: QuestionVersion


@dataclass(frozen=True)
class QuestionPage:
    lines: list[QuestionLine]
    total: int
    page: int
    pages: int


def _like_escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def search_questions(
    session: Session,
    bank_id: int,
    *,
    text: str = "",
    topic: str | None = None,
    difficulty: str | None = None,
    status: str | None = None,
    page: int = 1,
    per_page: int = PAGE_SIZE,
) -> QuestionPage:
    """Questions of a bank, newest edits not reordering them (by id).

    ``text`` matches the question without regard to case or diacritics ("dieu 112"
    finds "Điều 112"), or a question code exactly. ``status``: "active", "disabled" or
    None for both. ``difficulty`` "none" selects questions without one.
    """
    conditions: list[ColumnElement[bool]] = [Question.bank_id == bank_id]
    folded = search_fold(text)
    if folded:
        pattern = f"%{_like_escape(folded)}%"
        conditions.append(
            Question.search_text.like(pattern, escape="\\") | (Question.code == text.strip())
        )
    if topic:
        conditions.append(Question.topic == topic)
    if difficulty == "none":
        conditions.append(Question.difficulty.is_(None))
    elif difficulty:
        conditions.append(Question.difficulty == difficulty)
    if status == "active":
        conditions.append(Question.active.is_(True))
    elif status == "disabled":
        conditions.append(Question.active.is_(False))

    total = session.scalar(select(func.count(Question.id)).where(*conditions)) or 0
    pages = max(1, -(-total // per_page))
    page = min(max(1, page), pages)
    rows = session.execute(
        select(Question, QuestionVersion)
        .join(QuestionVersion, QuestionVersion.id == Question.current_version_id)
        .where(*conditions)
        .order_by(Question.id)
        .limit(per_page)
        .offset((page - 1) * per_page)
    )
    lines = [QuestionLine(question, version) for question, version in rows]
    return QuestionPage(lines=lines, total=total, page=page, pages=pages)


def question_in_bank(session: Session, bank_id: int, question_id: int) -> QuestionLine:
    row = session.execute(
        select(Question, QuestionVersion)
        .join(QuestionVersion, QuestionVersion.id == Question.current_version_id)
        .where(Question.id == question_id, Question.bank_id == bank_id)
    ).first()
    if row is None:
        raise NotFound()
    return QuestionLine(row[0], row[1])


def version_count(session: Session, question_id: int) -> int:
    return (
        session.scalar(
            select(func.count(QuestionVersion.id)).where(QuestionVersion.question_id == question_id)
        )
        or 0
    )

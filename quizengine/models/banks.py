"""Question banks. A question keeps one id; its text lives in versions, so attempts
always show exactly the version they drew."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from quizengine.models.base import Base, JSONType, intpk, str200


class Bank(Base):
    __tablename__ = "banks"

    id: Mapped[intpk]
    slug: Mapped[str] = mapped_column(String(100), unique=True)
    title: Mapped[str200]
    created_at: Mapped[datetime]

    questions: Mapped[list[Question]] = relationship(back_populates="bank")


class Question(Base):
    __tablename__ = "questions"
    __table_args__ = (
        UniqueConstraint("bank_id", "code"),
        UniqueConstraint("bank_id", "match_key"),
        CheckConstraint(
            "difficulty IS NULL OR difficulty IN ('easy', 'medium', 'hard')",
            name="difficulty_known",
        ),
        Index("ix_questions_bank_active", "bank_id", "active"),
    )

    id: Mapped[intpk]
    bank_id: Mapped[int] = mapped_column(ForeignKey("banks.id", ondelete="CASCADE"))
    code: Mapped[str | None] = mapped_column(String(100))
    # How re-imports find the question: the SHA-256 (hex) of its text NFC-normalised,
    # trimmed, whitespace-collapsed and case-folded (fileformat.question_match_key). A digest
    # rather than the key itself: PostgreSQL cannot index a value over ~2.7 KB, and a legal
    # passage quoted in a question can be longer than that.
    match_key: Mapped[str] = mapped_column(String(64))
    # Diacritic-free folded text (fileformat.search_fold) for diacritic-insensitive search.
    search_text: Mapped[str] = mapped_column(Text, default="")
    topic: Mapped[str | None] = mapped_column(String(200))
    difficulty: Mapped[str | None] = mapped_column(String(10))
    points: Mapped[int] = mapped_column(default=1)
    active: Mapped[bool] = mapped_column(default=True)
    # The version new attempts draw. Not a FOREIGN KEY: the two tables point at each
    # other, and a cyclic constraint cannot be created the same way on SQLite and
    # PostgreSQL. The bank service sets it in the transaction that adds the version.
    current_version_id: Mapped[int | None]
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]

    bank: Mapped[Bank] = relationship(back_populates="questions")
    current_version: Mapped[QuestionVersion | None] = relationship(
        primaryjoin="foreign(Question.current_version_id) == QuestionVersion.id",
        viewonly=True,
    )


class QuestionVersion(Base):
    __tablename__ = "question_versions"
    __table_args__ = (UniqueConstraint("question_id", "number"),)

    id: Mapped[intpk]
    question_id: Mapped[int] = mapped_column(ForeignKey("questions.id", ondelete="CASCADE"))
    number: Mapped[int]
    text: Mapped[str] = mapped_column(Text)
    options: Mapped[list[str]] = mapped_column(JSONType())
    # 0-based indexes into options; more than one makes a multi-select question.
    correct: Mapped[list[int]] = mapped_column(JSONType())
    explanation: Mapped[str | None] = mapped_column(Text)
    legal_basis: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime]

    question: Mapped[Question] = relationship(foreign_keys=[question_id])

    @property
    def multi(self) -> bool:
        return len(self.correct) > 1

    def content(self) -> dict[str, Any]:
        return {
            "text": self.text,
            "options": list(self.options),
            "correct": list(self.correct),
            "explanation": self.explanation,
            "legal_basis": self.legal_basis,
        }

"""Attempts (lượt thi), the questions each drew, the answer log, flags."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import (
    CheckConstraint,
    ForeignKey,
    Index,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from quizengine.models.base import Base, JSONType, intpk


class AttemptStatus(enum.StrEnum):
    IN_PROGRESS = "in_progress"
    SUBMITTED = "submitted"
    # Finalised by the server at its deadline with what was saved.
    EXPIRED = "expired"


class Attempt(Base):
    __tablename__ = "attempts"
    __table_args__ = (
        # K attempts allowed: numbers 1..K are unique per contestant and round.
        UniqueConstraint("round_id", "user_id", "number"),
        CheckConstraint("status IN ('in_progress', 'submitted', 'expired')", name="status_known"),
        CheckConstraint("number >= 1", name="number_positive"),
        CheckConstraint("prediction IS NULL OR prediction >= 0", name="prediction_not_negative"),
        # A second tab or device must resume, never open a second attempt.
        Index(
            "uq_attempts_one_in_progress",
            "round_id",
            "user_id",
            unique=True,
            postgresql_where=text("status = 'in_progress'"),
            sqlite_where=text("status = 'in_progress'"),
        ),
        Index("ix_attempts_round_status", "round_id", "status"),
        Index("ix_attempts_status_deadline", "status", "deadline_at"),
        Index("ix_attempts_user", "user_id"),
    )

    id: Mapped[intpk]
    round_id: Mapped[int] = mapped_column(ForeignKey("rounds.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    board_id: Mapped[int | None] = mapped_column(ForeignKey("boards.id"))
    number: Mapped[int]
    status: Mapped[str] = mapped_column(String(20), default=AttemptStatus.IN_PROGRESS.value)
    started_at: Mapped[datetime]
    deadline_at: Mapped[datetime]
    submitted_at: Mapped[datetime | None]
    duration_ms: Mapped[int | None]
    score: Mapped[int | None]
    correct_count: Mapped[int | None]
    total: Mapped[int]
    prediction: Mapped[int | None]
    disqualified: Mapped[bool] = mapped_column(default=False)
    disqualified_reason: Mapped[str | None] = mapped_column(Text)
    ip: Mapped[str | None] = mapped_column(String(45))
    user_agent: Mapped[str | None] = mapped_column(String(300))

    items: Mapped[list[AttemptItem]] = relationship(
        back_populates="attempt", order_by="AttemptItem.position"
    )

    @property
    def finished(self) -> bool:
        return self.status != AttemptStatus.IN_PROGRESS.value


class AttemptItem(Base):
    """One drawn question of an attempt: the version shown, its option order, the choice."""

    __tablename__ = "attempt_items"
    __table_args__ = (
        UniqueConstraint("attempt_id", "question_id"),
        UniqueConstraint("attempt_id", "position"),
    )

    id: Mapped[intpk]
    attempt_id: Mapped[int] = mapped_column(ForeignKey("attempts.id", ondelete="CASCADE"))
    position: Mapped[int]
    question_id: Mapped[int] = mapped_column(ForeignKey("questions.id"))
    version_id: Mapped[int] = mapped_column(ForeignKey("question_versions.id"), index=True)
    # option_order[k] = index of the stored option shown under the k-th letter.
    option_order: Mapped[list[int]] = mapped_column(JSONType())
    # Chosen stored-option indexes (not letters); None = never answered.
    chosen: Mapped[list[int] | None] = mapped_column(JSONType())
    answered_at: Mapped[datetime | None]
    is_correct: Mapped[bool | None]
    points: Mapped[int] = mapped_column(default=1)

    attempt: Mapped[Attempt] = relationship(back_populates="items")


class AnswerEvent(Base):
    """Append-only log of every acknowledged save: the judges' timeline and flags' evidence."""

    __tablename__ = "answer_events"
    __table_args__ = (Index("ix_answer_events_attempt", "attempt_id", "id"),)

    id: Mapped[intpk]
    attempt_id: Mapped[int] = mapped_column(ForeignKey("attempts.id", ondelete="CASCADE"))
    question_id: Mapped[int]
    chosen: Mapped[list[int]] = mapped_column(JSONType())
    at: Mapped[datetime]
    ip: Mapped[str | None] = mapped_column(String(45))
    user_agent: Mapped[str | None] = mapped_column(String(300))

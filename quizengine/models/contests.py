"""Contests, their boards (bảng) and weekly rounds with draw rules."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from quizengine.models.banks import Bank
from quizengine.models.base import Base, JSONType, intpk, str200


class ReviewPolicy(enum.StrEnum):
    AFTER_SUBMIT = "after_submit"
    AFTER_CLOSE = "after_close"
    NEVER = "never"


class PredictionTarget(enum.StrEnum):
    FULL_MARKS = "full_marks"
    PARTICIPANTS = "participants"


DEFAULT_LADDER = "points,prediction,duration,submitted_at"


class Contest(Base):
    __tablename__ = "contests"

    id: Mapped[intpk]
    title: Mapped[str200]
    description: Mapped[str] = mapped_column(Text, default="")
    rules: Mapped[str] = mapped_column(Text, default="")
    access_code: Mapped[str | None] = mapped_column(String(50))
    created_at: Mapped[datetime]

    boards: Mapped[list[Board]] = relationship(back_populates="contest", order_by="Board.position")
    rounds: Mapped[list[Round]] = relationship(back_populates="contest", order_by="Round.opens_at")


class Board(Base):
    """Bảng: a category of contestants ranked separately."""

    __tablename__ = "boards"
    __table_args__ = (UniqueConstraint("contest_id", "name"),)

    id: Mapped[intpk]
    contest_id: Mapped[int] = mapped_column(ForeignKey("contests.id", ondelete="CASCADE"))
    name: Mapped[str200]
    position: Mapped[int] = mapped_column(default=0)

    contest: Mapped[Contest] = relationship(back_populates="boards")


class ContestEntry(Base):
    """A contestant's first entry: the board picked (then fixed) and the access code passed."""

    __tablename__ = "contest_entries"
    __table_args__ = (UniqueConstraint("contest_id", "user_id"),)

    id: Mapped[intpk]
    contest_id: Mapped[int] = mapped_column(ForeignKey("contests.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    board_id: Mapped[int | None] = mapped_column(ForeignKey("boards.id"))
    created_at: Mapped[datetime]


class Round(Base):
    __tablename__ = "rounds"
    __table_args__ = (
        CheckConstraint("closes_at > opens_at", name="window_positive"),
        CheckConstraint("time_limit_seconds > 0", name="time_limit_positive"),
        CheckConstraint("attempts_allowed >= 1", name="attempts_positive"),
        CheckConstraint(
            "review_policy IN ('after_submit', 'after_close', 'never')", name="review_known"
        ),
        CheckConstraint(
            "prediction_target IN ('full_marks', 'participants')", name="prediction_target_known"
        ),
        Index("ix_rounds_contest_opens", "contest_id", "opens_at"),
    )

    id: Mapped[intpk]
    contest_id: Mapped[int] = mapped_column(ForeignKey("contests.id", ondelete="CASCADE"))
    title: Mapped[str200]
    opens_at: Mapped[datetime]
    closes_at: Mapped[datetime]
    question_count: Mapped[int]
    time_limit_seconds: Mapped[int]
    attempts_allowed: Mapped[int] = mapped_column(default=1)
    shuffle_questions: Mapped[bool] = mapped_column(default=True)
    shuffle_options: Mapped[bool] = mapped_column(default=True)
    review_policy: Mapped[str] = mapped_column(String(20), default=ReviewPolicy.AFTER_CLOSE.value)
    prediction_text: Mapped[str | None] = mapped_column(Text)
    ladder: Mapped[str] = mapped_column(String(200), default=DEFAULT_LADDER)
    prediction_target: Mapped[str] = mapped_column(
        String(20), default=PredictionTarget.FULL_MARKS.value
    )
    # The prediction's true value: computed at close, or set by an organiser with a reason.
    prediction_truth: Mapped[int | None]
    prediction_truth_reason: Mapped[str | None] = mapped_column(Text)
    # Prize counts by level: [first, second, third, consolation].
    prizes: Mapped[list[int]] = mapped_column(JSONType(), default=list)
    finalized_at: Mapped[datetime | None]
    result_hash: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime]

    contest: Mapped[Contest] = relationship(back_populates="rounds")
    draw_rules: Mapped[list[DrawRule]] = relationship(
        back_populates="round", order_by="DrawRule.position", cascade="all, delete-orphan"
    )

    @property
    def has_prediction(self) -> bool:
        return bool(self.prediction_text)

    @property
    def ladder_steps(self) -> list[str]:
        return [s for s in self.ladder.split(",") if s]


class DrawRule(Base):
    """Draw ``count`` questions from a bank, optionally only of one difficulty or topic."""

    __tablename__ = "draw_rules"
    __table_args__ = (CheckConstraint("count >= 1", name="count_positive"),)

    id: Mapped[intpk]
    round_id: Mapped[int] = mapped_column(ForeignKey("rounds.id", ondelete="CASCADE"))
    bank_id: Mapped[int] = mapped_column(ForeignKey("banks.id"))
    count: Mapped[int]
    difficulty: Mapped[str | None] = mapped_column(String(10))
    topic: Mapped[str | None] = mapped_column(String(200))
    position: Mapped[int] = mapped_column(default=0)

    round: Mapped[Round] = relationship(back_populates="draw_rules")
    bank: Mapped[Bank] = relationship(lazy="joined")

    @property
    def bank_slug(self) -> str:
        return self.bank.slug

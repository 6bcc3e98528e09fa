"""What judges and organisers decide: the audit log, disqualifications, prize settings and
the final ranking stored when a round is finalised."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import (
    CheckConstraint,
    ForeignKey,
    Index,
    String,
    Text,
    UniqueConstraint,
    event,
)
from sqlalchemy.orm import Mapped, Mapper, mapped_column

from quizengine.models.base import Base, JSONType, intpk, str200


class PrizeLevel(enum.StrEnum):
    """Prize tiers in the order the round's ``prizes`` list counts them."""

    FIRST = "first"
    SECOND = "second"
    THIRD = "third"
    CONSOLATION = "consolation"


PRIZE_LEVELS = tuple(PrizeLevel)


class UnitFormula(enum.StrEnum):
    """How collective (unit) prizes are ranked; ``none`` awards none."""

    NONE = "none"
    PARTICIPANTS = "participants"
    RATE = "rate"
    RATE_POINTS = "rate_points"


class AuditEntry(Base):
    """Append-only record of every action that changes a result.

    The ORM refuses to update or delete a row (see the listeners below); nothing in the
    application issues UPDATE/DELETE on this table.
    """

    __tablename__ = "audit_entries"
    __table_args__ = (Index("ix_audit_entries_round", "round_id", "id"),)

    id: Mapped[intpk]
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    # Who, as shown when the entry was written (the account's name, or "CLI (os user)").
    actor_label: Mapped[str] = mapped_column(String(200), default="")
    action: Mapped[str] = mapped_column(String(60))
    target_type: Mapped[str] = mapped_column(String(40))
    target_id: Mapped[int | None]
    round_id: Mapped[int | None] = mapped_column(ForeignKey("rounds.id", ondelete="SET NULL"))
    reason: Mapped[str] = mapped_column(Text, default="")
    before: Mapped[dict[str, Any] | None] = mapped_column(JSONType())
    after: Mapped[dict[str, Any] | None] = mapped_column(JSONType())
    at: Mapped[datetime]


class AuditLogIsAppendOnly(Exception):
    """Raised when code tries to change or remove an audit entry."""


@event.listens_for(AuditEntry, "before_update")
def _refuse_audit_update(_mapper: Mapper[Any], _conn: Any, target: AuditEntry) -> None:
    raise AuditLogIsAppendOnly(f"audit entry {target.id} cannot be changed")


@event.listens_for(AuditEntry, "before_delete")
def _refuse_audit_delete(_mapper: Mapper[Any], _conn: Any, target: AuditEntry) -> None:
    raise AuditLogIsAppendOnly(f"audit entry {target.id} cannot be deleted")


class Disqualification(Base):
    """A contestant disqualified from a round (as opposed to one attempt).

    Every attempt of theirs in the round is marked disqualified too, so every ranking
    excludes them; ``attempt_ids`` lists the attempts this row disqualified, so that
    reinstating the contestant restores exactly those and leaves attempt-level decisions.
    """

    __tablename__ = "disqualifications"
    __table_args__ = (UniqueConstraint("round_id", "user_id"),)

    id: Mapped[intpk]
    round_id: Mapped[int] = mapped_column(ForeignKey("rounds.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    reason: Mapped[str] = mapped_column(Text)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    attempt_ids: Mapped[list[int]] = mapped_column(JSONType(), default=list)
    at: Mapped[datetime]


class PrizeSettings(Base):
    """The organiser's prize rules for a round beyond the counts in ``Round.prizes``."""

    __tablename__ = "prize_settings"
    __table_args__ = (
        CheckConstraint(
            "unit_formula IN ('none', 'participants', 'rate', 'rate_points')",
            name="unit_formula_known",
        ),
    )

    round_id: Mapped[int] = mapped_column(
        ForeignKey("rounds.id", ondelete="CASCADE"), primary_key=True
    )
    # A contestant who won a prize in another finalised round of the contest gets none here.
    once_per_contest: Mapped[bool] = mapped_column(default=False)
    unit_formula: Mapped[str] = mapped_column(String(20), default=UnitFormula.NONE.value)
    # Collective prize counts by level: [first, second, third, consolation].
    unit_prizes: Mapped[list[int]] = mapped_column(JSONType(), default=list)
    # Points a member's prize brings to their unit (formula rate_points), by level.
    prize_points: Mapped[list[int]] = mapped_column(JSONType(), default=list)
    updated_at: Mapped[datetime]


class RoundResult(Base):
    """A finalised round: the true value used, who finalised it, the list's size.

    ``Round.finalized_at`` and ``Round.result_hash`` mark the lock and carry the hash; this
    row keeps what the finalisation computed so that reopening can discard it cleanly.
    """

    __tablename__ = "round_results"

    round_id: Mapped[int] = mapped_column(
        ForeignKey("rounds.id", ondelete="CASCADE"), primary_key=True
    )
    prediction_truth: Mapped[int | None]
    # "computed" or "override" (the organiser's value stored on the round).
    truth_source: Mapped[str | None] = mapped_column(String(20))
    contestants: Mapped[int]
    winners: Mapped[int]
    result_hash: Mapped[str] = mapped_column(String(64))
    finalized_at: Mapped[datetime]
    finalized_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))


class FinalResult(Base):
    """One ranked contestant of a finalised round: the canonical list, row by row.

    Names, unit and phone are copied at finalisation so that the published list (and its
    hash) does not change when an account is edited later.
    """

    __tablename__ = "final_results"
    __table_args__ = (
        UniqueConstraint("round_id", "position"),
        UniqueConstraint("round_id", "user_id"),
        CheckConstraint(
            "prize IS NULL OR prize IN ('first', 'second', 'third', 'consolation')",
            name="prize_known",
        ),
        CheckConstraint("rank >= 1", name="rank_positive"),
    )

    id: Mapped[intpk]
    round_id: Mapped[int] = mapped_column(ForeignKey("rounds.id", ondelete="CASCADE"))
    # 1-based position in the canonical order (boards in their order, then rank).
    position: Mapped[int]
    board_id: Mapped[int | None] = mapped_column(ForeignKey("boards.id", ondelete="SET NULL"))
    board_name: Mapped[str] = mapped_column(String(200), default="")
    rank: Mapped[int]
    prize: Mapped[str | None] = mapped_column(String(20))
    # Why a contestant ranked within the prize places got no prize (e.g. won already).
    prize_note: Mapped[str | None] = mapped_column(Text)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    attempt_id: Mapped[int | None] = mapped_column(ForeignKey("attempts.id", ondelete="SET NULL"))
    full_name: Mapped[str] = mapped_column(String(100))
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("units.id", ondelete="SET NULL"))
    unit_code: Mapped[str] = mapped_column(String(50), default="")
    unit_path: Mapped[str] = mapped_column(Text, default="")
    phone_masked: Mapped[str] = mapped_column(String(20), default="")
    points: Mapped[int]
    prediction: Mapped[int | None]
    error: Mapped[int | None]
    duration_ms: Mapped[int | None]
    submitted_at: Mapped[datetime | None]


class UnitPrize(Base):
    """A unit's line in a finalised round's collective standings (prize or not)."""

    __tablename__ = "unit_prizes"
    __table_args__ = (
        UniqueConstraint("round_id", "rank"),
        UniqueConstraint("round_id", "unit_id"),
        CheckConstraint(
            "prize IS NULL OR prize IN ('first', 'second', 'third', 'consolation')",
            name="prize_known",
        ),
    )

    id: Mapped[intpk]
    round_id: Mapped[int] = mapped_column(ForeignKey("rounds.id", ondelete="CASCADE"))
    rank: Mapped[int]
    prize: Mapped[str | None] = mapped_column(String(20))
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("units.id", ondelete="SET NULL"))
    unit_code: Mapped[str] = mapped_column(String(50))
    unit_name: Mapped[str200]
    unit_path: Mapped[str] = mapped_column(Text, default="")
    participants: Mapped[int]
    members: Mapped[int | None]
    prize_points: Mapped[int] = mapped_column(default=0)
    # The formula's value as shown (rate in percent, plus points); ordering used exact math.
    score: Mapped[str] = mapped_column(String(40))

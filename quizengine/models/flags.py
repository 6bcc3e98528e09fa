"""Anti-cheat flags: suspicions with their evidence (the Leaderboard issue fills them)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from quizengine.models.base import Base, JSONType, intpk


class Flag(Base):
    """A suspicion with its evidence; never blocks on its own — judges decide."""

    __tablename__ = "flags"
    __table_args__ = (
        UniqueConstraint("kind", "attempt_id"),
        Index("ix_flags_round", "round_id"),
    )

    id: Mapped[intpk]
    kind: Mapped[str] = mapped_column(String(40))
    round_id: Mapped[int | None] = mapped_column(ForeignKey("rounds.id", ondelete="CASCADE"))
    attempt_id: Mapped[int | None] = mapped_column(ForeignKey("attempts.id", ondelete="CASCADE"))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    evidence: Mapped[dict[str, Any]] = mapped_column(JSONType())
    created_at: Mapped[datetime]

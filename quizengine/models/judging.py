"""What judges and organisers decide: the audit log (results tables join it here)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from quizengine.models.base import Base, JSONType, intpk


class AuditEntry(Base):
    """Append-only record of every action that changes a result."""

    __tablename__ = "audit_entries"
    __table_args__ = (Index("ix_audit_entries_round", "round_id", "id"),)

    id: Mapped[intpk]
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    action: Mapped[str] = mapped_column(String(60))
    target_type: Mapped[str] = mapped_column(String(40))
    target_id: Mapped[int | None]
    round_id: Mapped[int | None] = mapped_column(ForeignKey("rounds.id", ondelete="SET NULL"))
    reason: Mapped[str] = mapped_column(Text, default="")
    before: Mapped[dict[str, Any] | None] = mapped_column(JSONType())
    after: Mapped[dict[str, Any] | None] = mapped_column(JSONType())
    at: Mapped[datetime]

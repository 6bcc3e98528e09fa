"""Organisation units (the union's tree) and user accounts."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from quizengine.models.base import Base, intpk, str200


class Role(enum.StrEnum):
    CONTESTANT = "contestant"
    JUDGE = "judge"
    ORGANISER = "organiser"


class Unit(Base):
    """A node of the union tree: federation → upper-level unions → grassroots unions (leaves)."""

    __tablename__ = "units"

    id: Mapped[intpk]
    code: Mapped[str] = mapped_column(String(50), unique=True)
    name: Mapped[str200]
    short_name: Mapped[str | None] = mapped_column(String(100))
    parent_id: Mapped[int | None] = mapped_column(
        ForeignKey("units.id", ondelete="RESTRICT"), index=True
    )
    members: Mapped[int | None] = mapped_column(
        CheckConstraint("members IS NULL OR members >= 0", name="members_not_negative")
    )
    created_at: Mapped[datetime]

    parent: Mapped[Unit | None] = relationship(remote_side="Unit.id", back_populates="children")
    children: Mapped[list[Unit]] = relationship(back_populates="parent")


class User(Base):
    __tablename__ = "users"
    __table_args__ = (
        CheckConstraint("role IN ('contestant', 'judge', 'organiser')", name="role_known"),
        Index("ix_users_national_id", "national_id"),
    )

    id: Mapped[intpk]
    role: Mapped[str] = mapped_column(String(20), default=Role.CONTESTANT.value)
    phone: Mapped[str] = mapped_column(String(10), unique=True)
    full_name: Mapped[str] = mapped_column(String(100))
    # The name folded for search without diacritics ("nguyen van a"); set with full_name.
    search_name: Mapped[str | None] = mapped_column(String(200))
    password_hash: Mapped[str] = mapped_column(String(255))
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("units.id"), index=True)
    birth_year: Mapped[int | None]
    national_id: Mapped[str | None] = mapped_column(String(12))
    must_change_password: Mapped[bool] = mapped_column(default=False)
    registration_ip: Mapped[str | None] = mapped_column(String(45))
    created_at: Mapped[datetime]
    last_login_at: Mapped[datetime | None]

    unit: Mapped[Unit | None] = relationship()

    @property
    def is_contestant(self) -> bool:
        return self.role == Role.CONTESTANT.value

    # flask-login's protocol, spelled out so the model has no Flask import.
    @property
    def is_authenticated(self) -> bool:
        return True

    @property
    def is_active(self) -> bool:
        return True

    @property
    def is_anonymous(self) -> bool:
        return False

    def get_id(self) -> str:
        return str(self.id)

    def has_role(self, role: Role) -> bool:
        return role_includes(self.role, role)


def role_includes(have: str, wanted: Role) -> bool:
    """Whether an account with role ``have`` may act as ``wanted``: organisers can do
    everything judges can."""
    if wanted is Role.JUDGE:
        return have in (Role.JUDGE.value, Role.ORGANISER.value)
    return have == wanted.value

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


class Account:
    """What a signed-in account answers, for anything with ``id`` and ``role``: the
    ``User`` entity and the per-request ``SignedIn`` copy. flask-login's protocol is spelled
    out so the models have no Flask import."""

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
        return str(getattr(self, "id"))  # noqa: B009 (no annotation: not a mapped column)

    @property
    def is_contestant(self) -> bool:
        return bool(getattr(self, "role") == Role.CONTESTANT.value)  # noqa: B009

    def has_role(self, role: Role) -> bool:
        """Organisers can do everything judges can."""
        have = getattr(self, "role")  # noqa: B009
        if role is Role.JUDGE:
            return have in (Role.JUDGE.value, Role.ORGANISER.value)
        return bool(have == role.value)


class User(Account, Base):
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

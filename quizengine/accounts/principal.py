"""Who is signed in: what every request needs of the account, in one small query.

flask-login's user loader runs on every signed-in request — each answer save, each
leaderboard read. ``SignedIn`` is a plain, read-only copy of the five columns requests use
(id, role, name, password hash for the session stamp, forced password change), read with
Core from a statement built once: about a third cheaper than loading the ``User`` entity.
Views that need more of the account (its unit, its phone) load the ``User`` themselves.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import cast

from sqlalchemy import Table, bindparam, select
from sqlalchemy.orm import Session

from quizengine.accounts.validation import is_row_id
from quizengine.models import User
from quizengine.models.accounts import Account

_USERS = cast(Table, User.__table__)
_SIGNED_IN = select(
    _USERS.c.id,
    _USERS.c.role,
    _USERS.c.full_name,
    _USERS.c.password_hash,
    _USERS.c.must_change_password,
).where(_USERS.c.id == bindparam("user_id"))


@dataclass(frozen=True)
class SignedIn(Account):
    id: int
    role: str
    full_name: str
    password_hash: str
    must_change_password: bool


def load_signed_in(session: Session, user_id: str) -> SignedIn | None:
    """The account behind a session's user id; None when it is gone (or the id is not one)."""
    if not user_id.isdigit() or not is_row_id(int(user_id)):
        return None
    row = session.connection().execute(_SIGNED_IN, {"user_id": int(user_id)}).first()
    return SignedIn(*row) if row is not None else None

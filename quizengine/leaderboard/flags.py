"""Anti-cheat flags: suspicions stored with their evidence, never blocking on their own."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from quizengine.models import Attempt, Flag, User


def detect_attempt_flags(session: Session, attempt: Attempt, *, now: datetime) -> list[Flag]:
    """Flags raised by a finished attempt; added and flushed in the caller's transaction."""
    return []


def detect_registration_flags(session: Session, user: User, *, now: datetime) -> list[Flag]:
    """Flags raised by a new registration; added and flushed in the caller's transaction."""
    return []

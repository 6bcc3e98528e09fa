"""Typed SQLAlchemy models, one module per area. No Flask, no Redis in here."""

from quizengine.models.accounts import Role, Unit, User
from quizengine.models.attempts import AnswerEvent, Attempt, AttemptItem, AttemptStatus
from quizengine.models.banks import Bank, Question, QuestionVersion
from quizengine.models.base import Base
from quizengine.models.contests import (
    DEFAULT_LADDER,
    Board,
    Contest,
    ContestEntry,
    DrawRule,
    PredictionTarget,
    ReviewPolicy,
    Round,
)
from quizengine.models.flags import Flag
from quizengine.models.judging import AuditEntry

__all__ = [
    "DEFAULT_LADDER",
    "AnswerEvent",
    "Attempt",
    "AttemptItem",
    "AttemptStatus",
    "AuditEntry",
    "Bank",
    "Base",
    "Board",
    "Contest",
    "ContestEntry",
    "DrawRule",
    "Flag",
    "PredictionTarget",
    "Question",
    "QuestionVersion",
    "ReviewPolicy",
    "Role",
    "Round",
    "Unit",
    "User",
]

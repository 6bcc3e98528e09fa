"""Questions edited by hand: add, edit (in place, or as a new version once shown), disable.

A question keeps one id for its whole life. Its wording (text, options, correct answers,
explanation, legal basis) lives in versions: once an attempt has shown a version
(an AttemptItem points at it), that version is frozen and an edit adds the next one, so
every attempt keeps showing exactly what it showed. A version nobody has seen yet is
simply corrected in place. Questions are disabled, never deleted: attempts refer to them.

Refusals are ``Invalid`` with ``details["fields"]``: form field name → Vietnamese message.
"""

from __future__ import annotations

import hashlib
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Literal

from flask_babel import gettext as _
from sqlalchemy import exists, select
from sqlalchemy.orm import Session

from quizengine.banks.fileformat import MAX_OPTIONS, question_match_key, search_fold
from quizengine.clock import Clock
from quizengine.errors import Invalid, NotFound
from quizengine.models import AttemptItem, Bank, Question, QuestionVersion

__all__ = [
    "CODE_MAX_LENGTH",
    "DIFFICULTIES",
    "TOPIC_MAX_LENGTH",
    "EditOutcome",
    "QuestionContent",
    "add_question",
    "edit_question",
    "match_key_of",
    "set_question_active",
    "versions_shown",
]

# The widths of the columns (models/banks.py), checked before the database is asked.
CODE_MAX_LENGTH = 100
TOPIC_MAX_LENGTH = 200
DIFFICULTIES = ("easy", "medium", "hard")

EditOutcome = Literal["unchanged", "edited_in_place", "new_version"]


def match_key_of(text: str) -> str:
    """The stored match key: a digest of fileformat.question_match_key (see the model)."""
    return hashlib.sha256(question_match_key(text).encode("utf-8")).hexdigest()


def clean_text(value: str | None) -> str:
    """What the file format does to a cell, so typed and imported text compare equal."""
    text = (value or "").replace("\r\n", "\n").replace("\r", "\n")
    return unicodedata.normalize("NFC", text).strip()


@dataclass(frozen=True)
class QuestionContent:
    """A question as an organiser types it. ``correct`` holds 0-based option indexes."""

    text: str
    options: Sequence[str]
    correct: Sequence[int]
    code: str | None = None
    topic: str | None = None
    difficulty: str | None = None
    explanation: str | None = None
    legal_basis: str | None = None

    def cleaned(self) -> QuestionContent:
        options = [clean_text(option) for option in self.options][:MAX_OPTIONS]
        while options and not options[-1]:
            options.pop()
        return QuestionContent(
            text=clean_text(self.text),
            options=tuple(options),
            correct=tuple(sorted(set(self.correct))),
            code=clean_text(self.code) or None,
            topic=clean_text(self.topic) or None,
            difficulty=clean_text(self.difficulty) or None,
            explanation=clean_text(self.explanation) or None,
            legal_basis=clean_text(self.legal_basis) or None,
        )


def _check(content: QuestionContent) -> dict[str, str]:
    """The file format's rules for one row, with messages for a form."""
    errors: dict[str, str] = {}
    if not content.text:
        errors["text"] = _("Hãy nhập nội dung câu hỏi.")
    gaps = [chr(65 + i) for i, option in enumerate(content.options) if not option]
    if gaps:
        errors["options"] = _(
            "Phương án %(letters)s đang trống: hãy điền hoặc dồn các phương án lên.",
            letters=", ".join(gaps),
        )
    elif len(content.options) < 2:
        errors["options"] = _("Một câu hỏi cần ít nhất hai phương án.")
    if not content.correct:
        errors["correct"] = _("Hãy chọn ít nhất một đáp án đúng.")
    elif any(not 0 <= index < len(content.options) for index in content.correct) or any(
        not content.options[index] for index in content.correct
    ):
        errors["correct"] = _("Đáp án đúng phải là một phương án đã điền.")
    if content.difficulty is not None and content.difficulty not in DIFFICULTIES:
        errors["difficulty"] = _("Độ khó không hợp lệ.")
    if content.code is not None and len(content.code) > CODE_MAX_LENGTH:
        errors["code"] = _("Mã câu hỏi dài tối đa %(n)d ký tự.", n=CODE_MAX_LENGTH)
    if content.topic is not None and len(content.topic) > TOPIC_MAX_LENGTH:
        errors["topic"] = _("Chủ đề dài tối đa %(n)d ký tự.", n=TOPIC_MAX_LENGTH)
    return errors


def _check_unique(
    session: Session,
    bank_id: int,
    content: QuestionContent,
    match_key: str,
    question_id: int | None,
    errors: dict[str, str],
) -> None:
    others = select(Question.code).where(Question.bank_id == bank_id)
    if question_id is not None:
        others = others.where(Question.id != question_id)
    if content.code is not None and session.scalar(
        select(exists(others.where(Question.code == content.code)))
    ):
        errors["code"] = _("Ngân hàng đã có câu hỏi mang mã này.")
    same_text = session.execute(others.where(Question.match_key == match_key)).first()
    if same_text is not None:
        errors["text"] = (
            _("Ngân hàng đã có câu hỏi này (mã %(code)s).", code=same_text.code)
            if same_text.code
            else _("Ngân hàng đã có câu hỏi này.")
        )


def versions_shown(session: Session, version_ids: Iterable[int]) -> set[int]:
    """Which of these versions some attempt has drawn (and so must never change)."""
    ids = list(version_ids)
    if not ids:
        return set()
    rows = session.scalars(
        select(AttemptItem.version_id).where(AttemptItem.version_id.in_(ids)).distinct()
    )
    return set(rows)


def add_question(
    session: Session, *, bank_id: int, content: QuestionContent, clock: Clock
) -> Question:
    if session.get(Bank, bank_id) is None:
        raise NotFound()
    content = content.cleaned()
    errors = _check(content)
    match_key = match_key_of(content.text)
    if not errors:
        _check_unique(session, bank_id, content, match_key, None, errors)
    if errors:
        raise Invalid("\n".join(errors.values()), fields=errors)
    now = clock.now()
    question = Question(
        bank_id=bank_id,
        code=content.code,
        match_key=match_key,
        search_text=search_fold(content.text),
        topic=content.topic,
        difficulty=content.difficulty,
        active=True,
        created_at=now,
        updated_at=now,
    )
    session.add(question)
    session.flush()
    version = QuestionVersion(
        question_id=question.id,
        number=1,
        text=content.text,
        options=list(content.options),
        correct=list(content.correct),
        explanation=content.explanation,
        legal_basis=content.legal_basis,
        created_at=now,
    )
    session.add(version)
    session.flush()
    question.current_version_id = version.id
    session.flush()
    return question


def _question(session: Session, question_id: int, bank_id: int | None) -> Question:
    question = session.get(Question, question_id)
    if question is None or (bank_id is not None and question.bank_id != bank_id):
        raise NotFound()
    return question


def edit_question(
    session: Session,
    *,
    question_id: int,
    content: QuestionContent,
    clock: Clock,
    bank_id: int | None = None,
) -> EditOutcome:
    """Save an organiser's edit; the outcome says whether a new version was needed."""
    question = _question(session, question_id, bank_id)
    current = question.current_version
    content = content.cleaned()
    errors = _check(content)
    match_key = match_key_of(content.text)
    if not errors:
        _check_unique(session, question.bank_id, content, match_key, question.id, errors)
    if errors:
        raise Invalid("\n".join(errors.values()), fields=errors)

    wording = {
        "text": content.text,
        "options": list(content.options),
        "correct": list(content.correct),
        "explanation": content.explanation,
        "legal_basis": content.legal_basis,
    }
    details = {
        "code": content.code,
        "topic": content.topic,
        "difficulty": content.difficulty,
    }
    wording_changed = current is None or current.content() != wording
    details_changed = any(getattr(question, name) != value for name, value in details.items())
    if not wording_changed and not details_changed:
        return "unchanged"

    now = clock.now()
    outcome: EditOutcome = "edited_in_place"
    if wording_changed:
        if current is not None and not versions_shown(session, [current.id]):
            for name, value in wording.items():
                setattr(current, name, value)
        else:
            outcome = "new_version"
            version = QuestionVersion(
                question_id=question.id,
                number=_next_version_number(session, question.id),
                created_at=now,
                **wording,
            )
            session.add(version)
            session.flush()
            question.current_version_id = version.id
    for name, value in details.items():
        setattr(question, name, value)
    question.match_key = match_key
    question.search_text = search_fold(content.text)
    question.updated_at = now
    session.flush()
    # current_version is a view-only relationship: make the next read see the new version.
    session.expire(question, ["current_version"])
    return outcome


def _next_version_number(session: Session, question_id: int) -> int:
    numbers = session.scalars(
        select(QuestionVersion.number).where(QuestionVersion.question_id == question_id)
    )
    return max(numbers, default=0) + 1


def set_question_active(
    session: Session,
    *,
    question_id: int,
    active: bool,
    clock: Clock,
    bank_id: int | None = None,
) -> Question:
    """Disable (no longer drawn; attempts that drew it are untouched) or enable again."""
    question = _question(session, question_id, bank_id)
    if question.active != active:
        question.active = active
        question.updated_at = clock.now()
        session.flush()
    return question

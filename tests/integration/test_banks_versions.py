"""Versions: what an attempt showed never changes; edits nobody has seen are made in place."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from quizengine.banks.services import import_bank
from quizengine.banks.versions import (
    QuestionContent,
    add_question,
    edit_question,
    match_key_of,
    set_question_active,
)
from quizengine.clock import FrozenClock
from quizengine.errors import Invalid
from quizengine.models import Attempt, AttemptItem, Question, QuestionVersion
from tests.factories import make_bank, make_contestant, make_question, make_round

ORIGINAL = QuestionContent(
    text="Đoàn viên công đoàn đóng đoàn phí bao nhiêu?",
    options=["1% tiền lương", "2% tiền lương", "0,5% tiền lương"],
    correct=[0],
    code="DP-01",
    topic="Tài chính công đoàn",
    difficulty="easy",
    explanation="Mức đóng là 1% tiền lương.",
    legal_basis="Điều lệ Công đoàn Việt Nam",
)


@pytest.fixture(autouse=True)
def _app_context(app: Flask) -> Iterator[None]:
    with app.app_context():
        yield


def show_in_attempt(session: Session, question: Question) -> AttemptItem:
    """An attempt that drew ``question``'s current version, written directly."""
    rnd = make_round(session)
    user = make_contestant(session)
    started = rnd.opens_at + timedelta(hours=1)
    attempt = Attempt(
        round_id=rnd.id,
        user_id=user.id,
        number=1,
        started_at=started,
        deadline_at=started + timedelta(minutes=20),
        total=1,
    )
    session.add(attempt)
    session.flush()
    assert question.current_version_id is not None
    item = AttemptItem(
        attempt_id=attempt.id,
        position=1,
        question_id=question.id,
        version_id=question.current_version_id,
        option_order=[2, 0, 1],
        chosen=[0],
    )
    session.add(item)
    session.flush()
    return item


def edited(**changes: Any) -> QuestionContent:
    return replace(ORIGINAL, **changes)


def test_editing_a_question_an_attempt_showed_creates_a_new_version(
    db_session: Session, clock: FrozenClock
) -> None:
    bank = make_bank(db_session)
    question = add_question(db_session, bank_id=bank.id, content=ORIGINAL, clock=clock)
    item = show_in_attempt(db_session, question)
    shown_id = item.version_id
    db_session.commit()

    outcome = edit_question(
        db_session,
        question_id=question.id,
        content=edited(options=["1% quỹ tiền lương", "2% tiền lương", "0,5% tiền lương"]),
        clock=clock,
    )
    db_session.commit()

    assert outcome == "new_version"
    db_session.expire_all()
    assert question.current_version_id != shown_id
    current = db_session.get(QuestionVersion, question.current_version_id)
    assert current is not None and current.number == 2
    assert current.options[0] == "1% quỹ tiền lương"
    # The attempt still points at, and still shows, exactly what it showed.
    db_session.refresh(item)
    shown = db_session.get(QuestionVersion, item.version_id)
    assert shown is not None and (shown.id, shown.number) == (shown_id, 1)
    assert shown.options[0] == "1% tiền lương"
    # One stable id across versions.
    assert {shown.question_id, current.question_id} == {question.id}


def test_editing_a_question_no_attempt_showed_corrects_it_in_place(
    db_session: Session, clock: FrozenClock
) -> None:
    bank = make_bank(db_session)
    question = add_question(db_session, bank_id=bank.id, content=ORIGINAL, clock=clock)
    version_id = question.current_version_id

    outcome = edit_question(
        db_session, question_id=question.id, content=edited(correct=[0, 2]), clock=clock
    )

    assert outcome == "edited_in_place"
    assert question.current_version_id == version_id
    count = db_session.scalar(
        select(func.count(QuestionVersion.id)).where(QuestionVersion.question_id == question.id)
    )
    assert count == 1
    version = db_session.get(QuestionVersion, version_id)
    assert version is not None and version.correct == [0, 2]


def test_details_that_attempts_do_not_show_are_edited_without_a_version(
    db_session: Session, clock: FrozenClock
) -> None:
    bank = make_bank(db_session)
    question = add_question(db_session, bank_id=bank.id, content=ORIGINAL, clock=clock)
    show_in_attempt(db_session, question)
    version_id = question.current_version_id

    outcome = edit_question(
        db_session,
        question_id=question.id,
        content=edited(topic="Đoàn phí", difficulty="medium"),
        clock=clock,
    )

    assert outcome == "edited_in_place"
    assert question.current_version_id == version_id
    assert (question.topic, question.difficulty) == ("Đoàn phí", "medium")
    assert (
        edit_question(
            db_session,
            question_id=question.id,
            content=edited(topic="Đoàn phí", difficulty="medium"),
            clock=clock,
        )
        == "unchanged"
    )


def test_reimporting_a_changed_row_versions_a_question_an_attempt_showed(
    db_session: Session, clock: FrozenClock, tmp_path: Path
) -> None:
    header = "code,question,option_a,option_b,correct\r\n"
    first = tmp_path / "v1.csv"
    first.write_text(header + "K1,Câu hỏi một?,Đúng,Sai,A\r\nK2,Câu hỏi hai?,Có,Không,B\r\n")
    import_bank(db_session, first, slug="ls", clock=clock)
    db_session.commit()
    q1 = db_session.scalar(select(Question).where(Question.code == "K1"))
    q2 = db_session.scalar(select(Question).where(Question.code == "K2"))
    assert q1 is not None and q2 is not None
    item = show_in_attempt(db_session, q1)
    shown = item.version_id
    db_session.commit()

    second = tmp_path / "v2.csv"
    second.write_text(
        header + "K1,Câu hỏi một (sửa)?,Đúng,Sai,A\r\nK2,Câu hỏi hai (sửa)?,Có,Không,B\r\n"
    )
    report = import_bank(db_session, second, slug="ls", clock=clock)
    db_session.commit()

    assert report.summary() == "imported 0, updated 2, unchanged 0"
    db_session.expire_all()
    new_q1 = db_session.get(QuestionVersion, q1.current_version_id)
    assert new_q1 is not None and (new_q1.number, new_q1.text) == (2, "Câu hỏi một (sửa)?")
    old_q1 = db_session.get(QuestionVersion, shown)
    assert old_q1 is not None and old_q1.text == "Câu hỏi một?"
    # K2 was never shown: corrected in place, still version 1.
    v2 = db_session.get(QuestionVersion, q2.current_version_id)
    assert v2 is not None and (v2.number, v2.text) == (1, "Câu hỏi hai (sửa)?")
    assert q1.match_key == match_key_of("Câu hỏi một (sửa)?")


def test_a_disabled_question_is_kept_and_can_be_enabled_again(
    db_session: Session, clock: FrozenClock
) -> None:
    bank = make_bank(db_session)
    question = make_question(db_session, bank, text="Câu hỏi?", options=["a", "b"], correct=[0])
    show_in_attempt(db_session, question)

    set_question_active(db_session, question_id=question.id, active=False, clock=clock)
    assert db_session.get(Question, question.id) is not None
    assert not question.active
    set_question_active(db_session, question_id=question.id, active=True, clock=clock)
    assert question.active


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"text": "  "}, "text"),
        ({"options": ["Chỉ một", ""]}, "options"),
        ({"options": ["a", "", "c"]}, "options"),
        ({"correct": []}, "correct"),
        ({"correct": [3]}, "correct"),
        ({"difficulty": "rất khó"}, "difficulty"),
        ({"code": "X" * 101}, "code"),
    ],
)
def test_an_edit_that_breaks_the_file_rules_is_refused_per_field(
    db_session: Session, clock: FrozenClock, changes: dict[str, object], field: str
) -> None:
    bank = make_bank(db_session)
    question = add_question(db_session, bank_id=bank.id, content=ORIGINAL, clock=clock)
    with pytest.raises(Invalid) as caught:
        edit_question(db_session, question_id=question.id, content=edited(**changes), clock=clock)
    assert field in caught.value.details["fields"]


def test_a_second_question_with_the_same_text_or_code_is_refused(
    db_session: Session, clock: FrozenClock
) -> None:
    bank = make_bank(db_session)
    add_question(db_session, bank_id=bank.id, content=ORIGINAL, clock=clock)
    with pytest.raises(Invalid) as caught:
        add_question(
            db_session,
            bank_id=bank.id,
            content=edited(code="DP-02", text="ĐOÀN VIÊN công đoàn  đóng đoàn phí bao nhiêu?"),
            clock=clock,
        )
    assert set(caught.value.details["fields"]) == {"text"}
    with pytest.raises(Invalid) as caught:
        add_question(db_session, bank_id=bank.id, content=edited(text="Khác?"), clock=clock)
    assert set(caught.value.details["fields"]) == {"code"}


def test_typed_text_is_stored_like_imported_text(db_session: Session, clock: FrozenClock) -> None:
    bank = make_bank(db_session)
    question = add_question(
        db_session,
        bank_id=bank.id,
        content=edited(text="  Câu\r\nhỏi  ", options=["a", " b ", "", ""], code=" "),
        clock=clock,
    )
    version = question.current_version
    assert version is not None
    assert (version.text, version.options, question.code) == ("Câu\nhỏi", ["a", "b"], None)

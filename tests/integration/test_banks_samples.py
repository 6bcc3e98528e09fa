"""The three sample banks in question_banks/ import cleanly, and the demo uses them."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from flask import Flask
from sqlalchemy import select
from sqlalchemy.orm import Session

from quizengine.banks.demo import SAMPLE_BANKS, SAMPLES_DIR, seed
from quizengine.banks.services import import_bank
from quizengine.clock import FrozenClock
from quizengine.models import Bank, Question, QuestionVersion


@pytest.fixture(autouse=True)
def _app_context(app: Flask) -> Iterator[None]:
    with app.app_context():
        yield


@pytest.mark.parametrize("slug", sorted(SAMPLE_BANKS))
def test_each_sample_bank_imports_cleanly(
    db_session: Session, clock: FrozenClock, slug: str
) -> None:
    name, title = SAMPLE_BANKS[slug]
    report = import_bank(db_session, SAMPLES_DIR / name, slug=slug, title=title, clock=clock)
    db_session.commit()

    assert report.problems == []  # no errors, and no warnings either
    assert report.imported >= 60 and report.updated == report.unchanged == 0
    rows = db_session.execute(
        select(Question, QuestionVersion).join(
            QuestionVersion, QuestionVersion.id == Question.current_version_id
        )
    ).all()
    assert {q.difficulty for q, _v in rows} == {"easy", "medium", "hard"}
    assert sum(1 for _q, v in rows if v.multi) >= 3
    assert all(q.code and q.topic for q, _v in rows)
    assert all(v.explanation and v.legal_basis for _q, v in rows)
    assert all(2 <= len(v.options) <= 4 for _q, v in rows)


def test_demo_seeding_imports_the_samples_once(db_session: Session, clock: FrozenClock) -> None:
    first = seed(db_session, clock)
    db_session.commit()
    second = seed(db_session, clock)
    db_session.commit()

    assert [r.slug for r in first] == list(SAMPLE_BANKS)
    assert all(r.imported >= 60 for r in first)
    assert [r.summary() for r in second] == [
        f"imported 0, updated 0, unchanged {r.imported}" for r in first
    ]
    titles = {slug: title for slug, title in db_session.execute(select(Bank.slug, Bank.title))}
    assert titles == {slug: title for slug, (_name, title) in SAMPLE_BANKS.items()}

"""Contest and round services on the real database: validation, boards, edit locking."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select
from sqlalchemy.orm import Session

from quizengine.clock import FrozenClock
from quizengine.contests import queries, services
from quizengine.contests.parsing import DrawSpec
from quizengine.errors import Invalid
from quizengine.models import Attempt, Bank, Board, ContestEntry, Round
from tests.factories import make_bank, make_contest, make_contestant, make_question

NOW = datetime(2026, 3, 2, 3, 0, tzinfo=UTC)


@pytest.fixture
def ctx(app: Flask):  # type: ignore[no-untyped-def]
    # Services format Vietnamese messages with Flask-Babel: they need an app context.
    with app.app_context():
        yield


@pytest.fixture
def frozen() -> FrozenClock:
    return FrozenClock(NOW)


def _round(session: Session, clock: FrozenClock, contest_id: int, **kw: Any) -> Round:
    values: dict[str, Any] = {
        "opens_at": NOW - timedelta(hours=1),
        "closes_at": NOW + timedelta(days=7),
        "draws": [DrawSpec("luat", 5)],
        "time_limit_seconds": 1200,
        "attempts_allowed": 2,
        "prediction_text": "Bao nhiêu người đạt điểm tối đa?",
        **kw,
    }
    return services.create_round(session, contest_id=contest_id, clock=clock, **values)


def _take(session: Session, rnd: Round, *, status: str = "in_progress", minutes: int = 20) -> None:
    """An attempt row written directly, as the attempts feature would."""
    user = make_contestant(session)
    session.add(
        Attempt(
            round_id=rnd.id,
            user_id=user.id,
            number=1,
            status=status,
            started_at=NOW,
            deadline_at=NOW + timedelta(minutes=minutes),
            total=rnd.question_count,
        )
    )
    session.flush()


def _fields(exc: pytest.ExceptionInfo[Invalid]) -> dict[str, str]:
    return {k: str(v) for k, v in exc.value.details["fields"].items()}


@pytest.mark.usefixtures("ctx")
class TestRounds:
    @pytest.fixture(autouse=True)
    def _world(self, db_session: Session) -> None:
        self.contest = make_contest(db_session, boards=("Bảng A", "Bảng B"))
        make_bank(db_session, slug="luat", questions=20)
        make_bank(db_session, slug="covid", questions=8)

    def test_create_defaults_title_to_the_week_number(
        self, db_session: Session, frozen: FrozenClock
    ) -> None:
        first = _round(db_session, frozen, self.contest.id)
        second = _round(db_session, frozen, self.contest.id, title="  ")
        assert (first.title, second.title) == ("Tuần 1", "Tuần 2")

    def test_all_zero_prizes_are_stored_as_none(
        self, db_session: Session, frozen: FrozenClock
    ) -> None:
        assert _round(db_session, frozen, self.contest.id, prizes=[0, 0, 0, 0]).prizes == []

    def test_several_errors_are_reported_together_by_field(
        self, db_session: Session, frozen: FrozenClock
    ) -> None:
        with pytest.raises(Invalid) as exc:
            _round(
                db_session,
                frozen,
                self.contest.id,
                closes_at=NOW - timedelta(hours=2),
                draws=[DrawSpec("luat", 5), DrawSpec("covid", 9)],
                time_limit_seconds=0,
                review_policy="sometimes",
                prizes=[1, 2],
            )
        fields = _fields(exc)
        assert set(fields) == {
            "closes_at",
            "draws-1",
            "time_limit_seconds",
            "review_policy",
            "prizes",
        }
        assert "8" in fields["draws-1"]
        assert db_session.scalars(select(Round)).first() is None

    def test_rules_on_one_bank_must_be_drawable_in_their_order(
        self, db_session: Session, frozen: FrozenClock
    ) -> None:
        mixed = make_bank(db_session, slug="mixed")
        for i in range(10):
            make_question(
                db_session,
                mixed,
                text=f"Câu {i}?",
                options=["A", "B"],
                correct=[0],
                difficulty="hard" if i < 5 else "easy",
            )
        # "5 of any" could take all five hard ones before "3 hard" runs: refused.
        with pytest.raises(Invalid) as exc:
            _round(
                db_session,
                frozen,
                self.contest.id,
                draws=[DrawSpec("mixed", 5), DrawSpec("mixed", 3, "hard")],
            )
        assert set(_fields(exc)) == {"draws-1"}
        # The narrow rule first always works: 3 hard, then 5 of the 7 left.
        rnd = _round(
            db_session,
            frozen,
            self.contest.id,
            draws=[DrawSpec("mixed", 3, "hard"), DrawSpec("mixed", 5), DrawSpec("mixed", 2)],
        )
        assert rnd.question_count == 10
        # Disjoint filters never compete.
        rnd = _round(
            db_session,
            frozen,
            self.contest.id,
            draws=[DrawSpec("mixed", 5, "easy"), DrawSpec("mixed", 5, "hard")],
        )
        assert rnd.question_count == 10

    def test_without_attempts_everything_can_change(
        self, db_session: Session, frozen: FrozenClock
    ) -> None:
        rnd = _round(db_session, frozen, self.contest.id)
        services.update_round(
            db_session,
            rnd.id,
            clock=frozen,
            draws=[DrawSpec("luat", 3), DrawSpec("covid", 4)],
            time_limit_seconds=600,
            shuffle_options=False,
            prediction_text=None,
            opens_at=NOW + timedelta(days=1),
            closes_at=NOW + timedelta(days=8),
            ladder="points,duration",
        )
        db_session.expire_all()
        rnd = db_session.get(Round, rnd.id)  # type: ignore[assignment]
        assert rnd.question_count == 7
        assert [(r.bank_slug, r.count) for r in rnd.draw_rules] == [("luat", 3), ("covid", 4)]
        assert rnd.time_limit_seconds == 600
        assert rnd.shuffle_options is False
        assert rnd.prediction_text is None
        assert rnd.ladder == "points,duration"

    @pytest.mark.parametrize(
        ("change", "field"),
        [
            ({"draws": [DrawSpec("luat", 6)]}, "draws"),
            ({"draws": [DrawSpec("luat", 4), DrawSpec("covid", 1)]}, "draws"),
            ({"time_limit_seconds": 1500}, "time_limit_seconds"),
            ({"shuffle_questions": False}, "shuffle_questions"),
            ({"shuffle_options": False}, "shuffle_options"),
            ({"prediction_text": "Câu khác?"}, "prediction_text"),
            ({"prediction_text": None}, "prediction_text"),
            ({"opens_at": NOW - timedelta(hours=2)}, "opens_at"),
            ({"ladder": "points,duration"}, "ladder"),
            ({"prediction_target": "participants"}, "prediction_target"),
            ({"attempts_allowed": 1}, "attempts_allowed"),
        ],
    )
    def test_once_attempts_exist_what_shaped_them_is_locked(
        self,
        db_session: Session,
        frozen: FrozenClock,
        change: dict[str, Any],
        field: str,
    ) -> None:
        rnd = _round(db_session, frozen, self.contest.id)
        _take(db_session, rnd)
        before = services.current_fields(rnd)
        with pytest.raises(Invalid) as exc:
            services.update_round(db_session, rnd.id, clock=frozen, **change)
        assert set(_fields(exc)) == {field}
        db_session.expire_all()
        after = services.current_fields(db_session.get(Round, rnd.id))  # type: ignore[arg-type]
        assert after == before

    def test_once_attempts_exist_title_close_review_prizes_and_more_attempts_still_change(
        self, db_session: Session, frozen: FrozenClock
    ) -> None:
        rnd = _round(db_session, frozen, self.contest.id)
        _take(db_session, rnd)
        services.update_round(
            db_session,
            rnd.id,
            clock=frozen,
            title="Tuần 1 (kéo dài)",
            closes_at=NOW + timedelta(days=9),
            review_policy="after_submit",
            prizes=[1, 1, 1, 1],
            attempts_allowed=5,
            # Locked settings sent back unchanged are not changes.
            draws=[DrawSpec("luat", 5)],
            time_limit_seconds=1200,
            shuffle_questions=True,
        )
        db_session.expire_all()
        rnd = db_session.get(Round, rnd.id)  # type: ignore[assignment]
        assert rnd.title == "Tuần 1 (kéo dài)"
        assert rnd.closes_at == NOW + timedelta(days=9)
        assert (rnd.review_policy, rnd.prizes, rnd.attempts_allowed) == (
            "after_submit",
            [1, 1, 1, 1],
            5,
        )

    def test_a_bank_that_shrank_does_not_block_other_edits_but_is_reported(
        self, db_session: Session, frozen: FrozenClock
    ) -> None:
        rnd = _round(db_session, frozen, self.contest.id, draws=[DrawSpec("covid", 8)])
        covid = db_session.scalars(select(Bank).where(Bank.slug == "covid")).one()
        covid.questions[0].active = False
        db_session.flush()
        services.update_round(db_session, rnd.id, clock=frozen, title="Tuần 1 — đổi tên")
        assert rnd.title == "Tuần 1 — đổi tên"
        overview = queries.round_overview(db_session, rnd.id, NOW)
        assert [(s.rule.bank_slug, s.available) for s in overview.shortfalls] == [("covid", 7)]
        # Changing the draw itself is checked against the bank again.
        with pytest.raises(Invalid):
            services.update_round(
                db_session, rnd.id, clock=frozen, draws=[DrawSpec("covid", 8), DrawSpec("luat", 1)]
            )

    def test_the_close_never_cuts_short_an_attempt_in_progress(
        self, db_session: Session, frozen: FrozenClock
    ) -> None:
        rnd = _round(db_session, frozen, self.contest.id)
        _take(db_session, rnd, minutes=20)
        with pytest.raises(Invalid) as exc:
            services.update_round(
                db_session, rnd.id, clock=frozen, closes_at=NOW + timedelta(minutes=10)
            )
        assert "closes_at" in _fields(exc)
        with pytest.raises(Invalid):
            services.update_round(
                db_session, rnd.id, clock=frozen, closes_at=NOW - timedelta(minutes=1)
            )
        services.update_round(
            db_session, rnd.id, clock=frozen, closes_at=NOW + timedelta(minutes=20)
        )
        assert rnd.closes_at == NOW + timedelta(minutes=20)

    def test_a_finalised_round_cannot_be_edited_at_all(
        self, db_session: Session, frozen: FrozenClock
    ) -> None:
        rnd = _round(db_session, frozen, self.contest.id)
        rnd.finalized_at = NOW
        db_session.flush()
        with pytest.raises(Invalid, match="chốt"):
            services.update_round(db_session, rnd.id, clock=frozen, title="Khác")


@pytest.mark.usefixtures("ctx")
class TestContests:
    def test_boards_keep_their_ids_when_renamed_or_swapped(
        self, db_session: Session, frozen: FrozenClock
    ) -> None:
        contest = services.create_contest(
            db_session, title="Cuộc thi", clock=frozen, boards=["Bảng A", "Bảng B"]
        )
        a, b = contest.boards
        services.update_contest(
            db_session,
            contest.id,
            title="Cuộc thi",
            boards=[
                services.BoardEdit("Bảng B", a.id),
                services.BoardEdit("Bảng A", b.id),
                services.BoardEdit("Bảng C"),
            ],
        )
        boards = db_session.scalars(
            select(Board).where(Board.contest_id == contest.id).order_by(Board.position)
        ).all()
        assert [(x.id, x.name) for x in boards[:2]] == [(a.id, "Bảng B"), (b.id, "Bảng A")]
        assert boards[2].name == "Bảng C"

    def test_a_board_somebody_entered_with_cannot_be_removed(
        self, db_session: Session, frozen: FrozenClock
    ) -> None:
        contest = services.create_contest(
            db_session, title="Cuộc thi", clock=frozen, boards=["Bảng A", "Bảng B"]
        )
        a, b = contest.boards
        user = make_contestant(db_session)
        db_session.add(
            ContestEntry(contest_id=contest.id, user_id=user.id, board_id=a.id, created_at=NOW)
        )
        db_session.flush()
        with pytest.raises(Invalid) as exc:
            services.update_contest(
                db_session, contest.id, title="Cuộc thi", boards=[services.BoardEdit("", a.id)]
            )
        assert "Bảng A" in _fields(exc)["boards"]
        # The unused one may go.
        services.update_contest(
            db_session,
            contest.id,
            title="Cuộc thi",
            boards=[services.BoardEdit("Bảng A", a.id), services.BoardEdit("", b.id)],
        )
        assert [x.name for x in contest.boards] == ["Bảng A"]

    def test_boards_cannot_appear_after_contestants_entered_without_one(
        self, db_session: Session, frozen: FrozenClock
    ) -> None:
        contest = services.create_contest(db_session, title="Cuộc thi", clock=frozen)
        user = make_contestant(db_session)
        db_session.add(ContestEntry(contest_id=contest.id, user_id=user.id, created_at=NOW))
        db_session.flush()
        with pytest.raises(Invalid) as exc:
            services.update_contest(
                db_session, contest.id, title="Cuộc thi", boards=[services.BoardEdit("Bảng A")]
            )
        assert "boards" in _fields(exc)

    def test_access_code_and_texts_are_trimmed(
        self, db_session: Session, frozen: FrozenClock
    ) -> None:
        contest = services.create_contest(
            db_session, title="  Cuộc thi  ", clock=frozen, access_code="  ", rules=" Thể lệ "
        )
        assert (contest.title, contest.access_code, contest.rules) == ("Cuộc thi", None, "Thể lệ")
        with pytest.raises(Invalid) as exc:
            services.create_contest(db_session, title=" ", clock=frozen)
        assert "title" in _fields(exc)

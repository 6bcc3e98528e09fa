"""The live board in the store equals the board the database ranks with SQL.

Random attempts (ties on every step, missing predictions, disqualified and unfinished
attempts, several attempts per contestant, boards, a unit tree) and random ladders; the
keys are built once, then the rest of the attempts arrive one by one through
``record_result`` in random order; the order is compared before and after the close.
On PostgreSQL + Redis (TEST_DATABASE_URL, TEST_REDIS_URL) this is the issue's judge.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import timedelta
from typing import Any

from flask import Flask
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy.orm import Session

from quizengine.db import database
from quizengine.leaderboard import queries, services
from quizengine.leaderboard.ladder import LADDER_STEPS, attempt_id_of
from quizengine.models import Round, Unit, User
from quizengine.store import Store, keys
from tests.factories import NOW, make_bank, make_contest, make_contestant, make_round, make_unit
from tests.leaderboard_builders import enter, make_attempt

OPEN_AT = NOW  # the round is open at NOW and closes a day later
AFTER_CLOSE = NOW + timedelta(days=2)

ladders = st.lists(st.sampled_from(LADDER_STEPS), min_size=1, max_size=5, unique=True)

attempt_specs = st.fixed_dictionaries(
    {
        "status": st.sampled_from(["submitted", "submitted", "expired", "in_progress"]),
        "score": st.integers(0, 4),
        "prediction": st.none() | st.integers(0, 8),
        "duration_ms": st.sampled_from([1_000, 2_000, 3_000]),
        "submitted_s": st.integers(0, 3),
        "started_s": st.integers(0, 3),
        "micros": st.integers(0, 2),
        "disqualified": st.sampled_from([False, False, False, True]),
        # early: in the database when the keys are first built; later: arrives while the
        # round is open; late: finalised at its deadline after the close.
        "arrival": st.sampled_from(["early", "later", "later", "late"]),
    }
)
contestant_specs = st.fixed_dictionaries(
    {
        "board": st.integers(0, 1),
        "unit": st.integers(0, 2),
        "attempts": st.lists(attempt_specs, max_size=3),
    }
)


def _world(
    session: Session, ladder: list[str], boards: bool, target: str, prediction: bool
) -> tuple[Round, list[int | None], list[Unit]]:
    contest = make_contest(session, boards=("Bảng A", "Bảng B") if boards else ())
    rnd = make_round(
        session,
        contest=contest,
        bank=make_bank(session, questions=5),
        opens_at=OPEN_AT - timedelta(hours=1),
        closes_at=OPEN_AT + timedelta(days=1),
        attempts_allowed=3,
        prediction="Bao nhiêu người đạt điểm tối đa?" if prediction else None,
        ladder=",".join(ladder),
        prediction_target=target,
    )
    root = make_unit(session)
    upper = make_unit(session, parent=root)
    units = [
        make_unit(session, parent=upper),
        make_unit(session, parent=upper),
        make_unit(session, parent=root),
    ]
    board_ids: list[int | None] = [b.id for b in contest.boards] if boards else [None, None]
    return rnd, board_ids, units


def _redis_board(store: Store, round_id: int, board_id: int | None) -> list[int]:
    return [attempt_id_of(m) for m, _ in store.zrange(keys.board(round_id, board_id), 0, -1)]


def _db_board(session: Session, rnd: Round, board_id: int | None, now: Any) -> list[int]:
    truth = queries.truth_in_force(session, rnd, now)
    return [e.attempt_id for e in queries.ranked_in_db(session, rnd.id, board_id, truth=truth)]


def _assert_same(
    session: Session,
    store: Store,
    rnd: Round,
    board_ids: list[int | None],
    users: list[User],
    now: Any,
) -> None:
    session.expire_all()
    for board_id in set(board_ids):
        assert _redis_board(store, rnd.id, board_id) == _db_board(session, rnd, board_id, now)
    for user in users:
        db_rank = queries.ranked_in_db(
            session,
            rnd.id,
            queries.user_board(session, rnd.id, user.id),
            truth=queries.truth_in_force(session, rnd, now),
            user_id=user.id,
        )
        assert services.rank_of(session, store, rnd.id, user.id, now=now) == (
            db_rank[0].rank if db_rank else None
        )
    # The unit tallies kept incrementally equal the ones computed from the database.
    truth = queries.truth_in_force(session, rnd, now)
    expected = queries.tallies_from(
        queries.best_rows(session, rnd, truth), queries.unit_paths(session)
    )
    got: dict[str, list[float]] = defaultdict(lambda: [0.0, 0.0, 0.0])
    for i, what in enumerate(keys.UNIT_TALLIES):
        for group, value in store.zrange(keys.unit_tally(rnd.id, what), 0, -1):
            got[group][i] = value
    got_nonzero = {g: v for g, v in got.items() if any(v)}
    assert got_nonzero == {
        g: [float(t.participants), float(t.attempts), float(t.points)] for g, t in expected.items()
    }


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    ladder=ladders,
    boards=st.booleans(),
    target=st.sampled_from(["full_marks", "participants"]),
    prediction=st.booleans(),
    people=st.lists(contestant_specs, min_size=1, max_size=8),
    order=st.randoms(use_true_random=False),
)
def test_store_order_equals_sql_order_before_and_after_close(
    app: Flask,
    ladder: list[str],
    boards: bool,
    target: str,
    prediction: bool,
    people: list[dict[str, Any]],
    order: Any,
) -> None:
    store: Store = app.extensions["quizengine.store"]
    session = database(app).sessionmaker()
    try:
        rnd, board_ids, units = _world(session, ladder, boards, target, prediction)
        users: list[User] = []
        plan: list[tuple[str, User, dict[str, Any]]] = []
        for person in people:
            user = make_contestant(session, unit=units[person["unit"]])
            users.append(user)
            board_id = board_ids[person["board"]]
            enter(session, rnd, user, board_id)
            for n, spec in enumerate(person["attempts"]):
                last = n == len(person["attempts"]) - 1
                status, arrival = spec["status"], spec["arrival"]
                if status == "in_progress" and not last:
                    status = "submitted"  # one attempt in progress at a time
                if status == "in_progress":
                    arrival = "early"
                if arrival == "late":
                    status = "expired" if last else status
                    arrival = "late" if last else "later"
                micros = timedelta(microseconds=spec["micros"])
                plan.append(
                    (
                        arrival,
                        user,
                        {
                            "board_id": board_id,
                            "status": status,
                            "started_at": OPEN_AT
                            + timedelta(seconds=spec["started_s"] + 10 * n)
                            + micros,
                            "duration_ms": spec["duration_ms"],
                            "submitted_at": OPEN_AT
                            + timedelta(seconds=60 + spec["submitted_s"])
                            + micros,
                            "score": spec["score"],
                            "total": 4,
                            "prediction": spec["prediction"],
                            "disqualified": spec["disqualified"],
                        },
                    )
                )
        for arrival, user, kwargs in plan:
            if arrival == "early":
                make_attempt(session, rnd, user, **kwargs)
        session.commit()
        services.rebuild_round(session, store, rnd.id, now=OPEN_AT)
        _assert_same(session, store, rnd, board_ids, users, OPEN_AT)

        later = [(u, kw) for arrival, u, kw in plan if arrival == "later"]
        order.shuffle(later)
        for user, kwargs in later:
            attempt = make_attempt(session, rnd, user, **kwargs)
            session.commit()
            services.record_result(session, store, attempt)
        _assert_same(session, store, rnd, board_ids, users, OPEN_AT)

        # The close: the first reader rebuilds the keys with the prediction step in force.
        services.board_view(session, store, rnd.id, viewer_id=None, now=AFTER_CLOSE)
        _assert_same(session, store, rnd, board_ids, users, AFTER_CLOSE)

        # Attempts finalised at their deadline after the close may change the true value
        # (the recorder then invalidates the keys and the next reader rebuilds them).
        for arrival, user, kwargs in plan:
            if arrival == "late":
                attempt = make_attempt(session, rnd, user, **kwargs)
                session.commit()
                services.record_result(session, store, attempt)
                services.board_view(session, store, rnd.id, viewer_id=None, now=AFTER_CLOSE)
        _assert_same(session, store, rnd, board_ids, users, AFTER_CLOSE)
    finally:
        session.close()

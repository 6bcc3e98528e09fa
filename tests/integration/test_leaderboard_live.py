"""The live board on the configured store (Redis with TEST_REDIS_URL) and the database."""

from __future__ import annotations

from datetime import timedelta

from flask import Flask
from sqlalchemy import select
from sqlalchemy.orm import Session

from quizengine.leaderboard import queries, services
from quizengine.models import Attempt, Round, User
from quizengine.store import RedisStore, Store, keys
from tests.factories import NOW, make_contest, make_contestant, make_round, make_unit
from tests.leaderboard_builders import enter, make_attempt

OPEN = NOW
AFTER_CLOSE = NOW + timedelta(days=8)


def _board(session: Session, store: Store, round_id: int, now=OPEN) -> list[tuple[int, str, int]]:  # type: ignore[no-untyped-def]
    view = services.board_view(
        session, store, round_id, viewer_id=None, limit=services.MAX_LIMIT, now=now
    )
    return [(e.rank, e.name, e.score) for e in view.entries]


def _round_with(session: Session, scores: list[int], **kw: object) -> tuple[Round, list[User]]:
    rnd = make_round(session, attempts_allowed=3, **kw)  # type: ignore[arg-type]
    users = []
    for i, score in enumerate(scores):
        user = make_contestant(session, full_name=f"Người thi {i}")
        make_attempt(session, rnd, user, score=score, duration_ms=60_000 + i)
        users.append(user)
    session.commit()
    return rnd, users


def test_board_comes_back_identical_after_redis_is_flushed_mid_round(
    db_session: Session, store: Store
) -> None:
    rnd, users = _round_with(db_session, [3, 5, 4, 5, 1])
    before = _board(db_session, store, rnd.id)
    assert [r[2] for r in before] == [5, 5, 4, 3, 1]
    late = make_attempt(db_session, rnd, users[4], score=5, duration_ms=1_000)
    db_session.commit()
    services.record_result(db_session, store, late)
    before = _board(db_session, store, rnd.id)
    assert before[0][1] == "Người thi 4"

    store.flush_prefix()
    assert not store.exists(keys.board_built(rnd.id))
    view = services.board_view(db_session, store, rnd.id, viewer_id=users[0].id, now=OPEN)
    assert not view.from_database  # the first reader rebuilt the keys
    assert _board(db_session, store, rnd.id) == before
    assert view.me is not None and view.me.rank == 5


def test_a_worse_attempt_does_not_move_the_contestant(db_session: Session, store: Store) -> None:
    rnd, users = _round_with(db_session, [4, 3])
    assert services.rank_of(db_session, store, rnd.id, users[1].id, now=OPEN) == 2
    worse = make_attempt(db_session, rnd, users[0], score=1, duration_ms=10)
    db_session.commit()
    services.record_result(db_session, store, worse)
    assert services.rank_of(db_session, store, rnd.id, users[0].id, now=OPEN) == 1
    best = services.best_attempt(db_session, rnd, users[0].id, now=OPEN)
    assert best is not None and best.score == 4
    better = make_attempt(db_session, rnd, users[1], score=5, duration_ms=10)
    db_session.commit()
    services.record_result(db_session, store, better)
    assert services.rank_of(db_session, store, rnd.id, users[1].id, now=OPEN) == 1
    assert store.zcard(keys.board(rnd.id, None)) == 2


def test_records_made_during_a_rebuild_are_replayed_into_the_new_keys(
    db_session: Session, store: Store
) -> None:
    rnd, users = _round_with(db_session, [2, 3])
    services.rank_of(db_session, store, rnd.id, users[0].id, now=OPEN)  # built
    # A rebuild is reading the database; meanwhile a contestant finishes an attempt and is
    # recorded into the keys the rebuild is about to replace.
    store.set(keys.board_rebuilding(rnd.id), "1", ttl=60)
    newcomer = make_contestant(db_session)
    attempt = make_attempt(db_session, rnd, newcomer, score=5)
    db_session.commit()
    services.record_result(db_session, store, attempt)
    assert store.hgetall(keys.board_pending(rnd.id)) == {str(newcomer.id): "1"}
    services.rebuild_round(db_session, store, rnd.id, now=OPEN)
    assert services.rank_of(db_session, store, rnd.id, newcomer.id, now=OPEN) == 1
    assert not store.exists(keys.board_pending(rnd.id))
    assert not store.exists(keys.board_rebuilding(rnd.id))


def test_a_disqualification_without_a_rebuild_is_noticed_by_the_cross_check(
    db_session: Session, store: Store
) -> None:
    rnd, users = _round_with(db_session, [5, 4, 3])
    assert _board(db_session, store, rnd.id)[0][1] == "Người thi 0"
    for attempt in db_session.scalars(select(Attempt).where(Attempt.user_id == users[0].id)):
        attempt.disqualified = True
    db_session.commit()
    store.delete(keys.board_check(rnd.id))  # the next check period has begun
    assert [r[1] for r in _board(db_session, store, rnd.id)] == ["Người thi 1", "Người thi 2"]
    assert services.rank_of(db_session, store, rnd.id, users[0].id, now=OPEN) is None


def test_a_submission_redis_missed_is_counted_when_redis_returns(
    app: Flask, db_session: Session, store: Store
) -> None:
    rnd, users = _round_with(db_session, [3, 2])
    _board(db_session, store, rnd.id)
    dead = RedisStore.from_url("redis://127.0.0.1:1/0", prefix=store.prefix)
    attempt = make_attempt(db_session, rnd, users[1], score=5)
    db_session.commit()
    services.record_result(db_session, dead, attempt)  # logs, never raises
    # rank_of answers from the database while Redis is away.
    assert services.rank_of(db_session, dead, rnd.id, users[1].id, now=OPEN) == 1
    # Back: the process knows it missed a record and rebuilds on the next read.
    assert [r[1] for r in _board(db_session, store, rnd.id)] == ["Người thi 1", "Người thi 0"]


def test_a_missed_record_is_healed_by_another_process_through_the_cross_check(
    db_session: Session, store: Store
) -> None:
    rnd, users = _round_with(db_session, [3, 2])
    _board(db_session, store, rnd.id)
    attempt = make_attempt(db_session, rnd, users[1], score=5)
    db_session.commit()  # committed, but never recorded (the worker died, Redis blinked)
    store.delete(keys.board_check(rnd.id))
    assert _board(db_session, store, rnd.id)[0][1] == "Người thi 0"  # too recent to judge
    store.delete(keys.board_check(rnd.id))  # a check period later it is still missing
    assert _board(db_session, store, rnd.id)[0][1] == "Người thi 1"
    assert attempt.id


def test_the_close_brings_the_prediction_into_the_board(db_session: Session, store: Store) -> None:
    rnd = make_round(
        db_session,
        prediction="Bao nhiêu người đạt điểm tuyệt đối?",
        opens_at=NOW - timedelta(days=1),
        closes_at=NOW + timedelta(days=1),
    )
    near, far, fast = (make_contestant(db_session, full_name=n) for n in ("Gần", "Xa", "Nhanh"))
    make_attempt(db_session, rnd, near, score=5, prediction=2, duration_ms=90_000)
    make_attempt(db_session, rnd, far, score=5, prediction=40, duration_ms=80_000)
    make_attempt(db_session, rnd, fast, score=5, prediction=None, duration_ms=10_000)
    db_session.commit()
    assert [r[1] for r in _board(db_session, store, rnd.id)] == ["Nhanh", "Xa", "Gần"]
    after = NOW + timedelta(days=2)
    # Three contestants with full marks: the truth is 3; no prediction ranks last.
    assert queries.prediction_truth(db_session, rnd) == 3
    assert [r[1] for r in _board(db_session, store, rnd.id, now=after)] == ["Gần", "Xa", "Nhanh"]
    rnd.prediction_target = "participants"
    rnd.prediction_truth, rnd.prediction_truth_reason = 45, "Ban tổ chức điều chỉnh"
    db_session.commit()
    services.invalidate_round(store, rnd.id)
    assert [r[1] for r in _board(db_session, store, rnd.id, now=after)] == ["Xa", "Gần", "Nhanh"]


def test_truth_counts_contestants_not_attempts_and_never_the_disqualified(
    db_session: Session,
) -> None:
    rnd = make_round(db_session, prediction="?", attempts_allowed=3)
    a, b, c = (make_contestant(db_session) for _ in range(3))
    make_attempt(db_session, rnd, a, score=5, total=5)
    make_attempt(db_session, rnd, a, score=5, total=5)
    make_attempt(db_session, rnd, b, score=4, total=5)
    make_attempt(db_session, rnd, c, score=5, total=5, disqualified=True)
    make_attempt(db_session, rnd, c, status="in_progress")
    db_session.flush()
    assert queries.prediction_truth(db_session, rnd) == 1
    rnd.prediction_target = "participants"
    assert queries.prediction_truth(db_session, rnd) == 2


def test_boards_are_ranked_separately_and_units_are_tallied_up_the_tree(
    db_session: Session, store: Store
) -> None:
    contest = make_contest(db_session, boards=("Bảng A", "Bảng B"))
    rnd = make_round(db_session, contest=contest, attempts_allowed=2)
    a_id, b_id = (b.id for b in contest.boards)
    province = make_unit(db_session, short_name="LĐLĐ tỉnh")
    district = make_unit(db_session, parent=province, short_name="LĐLĐ huyện")
    factory = make_unit(db_session, parent=district, short_name="CĐCS Công ty May")
    school = make_unit(db_session, parent=district, short_name="CĐCS Trường THCS")
    people = [
        (factory, a_id, [5, 3]),
        (factory, b_id, [4]),
        (school, a_id, [2]),
    ]
    users = []
    for unit, board_id, scores in people:
        user = make_contestant(db_session, unit=unit)
        enter(db_session, rnd, user, board_id)
        for score in scores:
            make_attempt(db_session, rnd, user, board_id=board_id, score=score)
        users.append(user)
    db_session.commit()
    assert services.rank_of(db_session, store, rnd.id, users[1].id, now=OPEN) == 1
    assert services.rank_of(db_session, store, rnd.id, users[2].id, now=OPEN) == 2
    view = services.board_view(db_session, store, rnd.id, viewer_id=users[1].id, now=OPEN)
    assert view.board_name == "Bảng B" and [e.score for e in view.entries] == [4]
    standings = services.unit_standings(db_session, store, rnd.id, now=OPEN)
    lines = {u.short_name: (u.participants, u.attempts, u.average) for u in standings.lines}
    assert lines == {"CĐCS Công ty May": (2, 3, 4.5), "CĐCS Trường THCS": (1, 1, 2.0)}
    upper = services.unit_standings(db_session, store, rnd.id, level="upper", now=OPEN)
    assert [(u.short_name, u.participants, u.attempts) for u in upper.lines] == [
        ("LĐLĐ huyện", 3, 4)
    ]
    by_average = services.unit_standings(db_session, store, rnd.id, sort="average", now=OPEN)
    assert [u.short_name for u in by_average.lines] == ["CĐCS Công ty May", "CĐCS Trường THCS"]
    by_name = services.unit_standings(db_session, store, rnd.id, sort="name", now=OPEN)
    assert [u.short_name for u in by_name.lines] == ["CĐCS Công ty May", "CĐCS Trường THCS"]


def test_a_cached_top_is_shared_for_its_seconds_but_whoever_ranks_into_it_sees_it_fresh(
    db_session: Session, store: Store
) -> None:
    rnd, users = _round_with(db_session, [3, 2, 1])
    cache = services.BoardCache(60)

    def view(viewer: User) -> services.BoardView:
        return services.board_view(
            db_session, store, rnd.id, viewer_id=viewer.id, limit=2, now=OPEN, cache=cache
        )

    assert [e.name for e in view(users[2]).entries] == ["Người thi 0", "Người thi 1"]
    better = make_attempt(db_session, rnd, users[2], score=5, duration_ms=1_000)
    db_session.commit()
    services.record_result(db_session, store, better)

    # Another viewer, outside the top: the cached top, and their own rank as it is now.
    other = view(users[1])
    assert [e.name for e in other.entries] == ["Người thi 0", "Người thi 1"]
    assert other.me is not None and other.me.rank == 3
    # The one who moved into the top sees it at once, and so does everyone after them.
    mover = view(users[2])
    assert [e.name for e in mover.entries] == ["Người thi 2", "Người thi 0"]
    assert mover.me is not None and mover.me.rank == 1 and mover.me_in_entries
    assert [e.name for e in view(users[1]).entries] == ["Người thi 2", "Người thi 0"]
    # Without a cache every read is fresh.
    fresh = services.board_view(db_session, store, rnd.id, viewer_id=None, limit=2, now=OPEN)
    assert [e.name for e in fresh.entries] == ["Người thi 2", "Người thi 0"]

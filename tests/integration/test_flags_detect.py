"""Anti-cheat flags: each kind is raised with its evidence, and only past its threshold."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta

import pytest
from flask import Flask
from sqlalchemy import select
from sqlalchemy.orm import Session

from quizengine.accounts.services import register_contestant
from quizengine.clock import FrozenClock
from quizengine.leaderboard.flags import (
    FlagThresholds,
    detect_attempt_flags,
    detect_registration_flags,
)
from quizengine.models import AnswerEvent, Attempt, Flag, User
from tests.factories import NOW, make_contestant, make_round, make_unit
from tests.leaderboard_builders import make_attempt


def _saves(
    session: Session,
    attempt: Attempt,
    offsets: list[float],
    *,
    ips: list[str] | None = None,
    agents: list[str] | None = None,
) -> None:
    for i, seconds in enumerate(offsets):
        session.add(
            AnswerEvent(
                attempt_id=attempt.id,
                question_id=i + 1,
                chosen=[0],
                at=attempt.started_at + timedelta(seconds=seconds),
                ip=(ips or ["113.160.1.1"])[i % len(ips or ["x"])],
                user_agent=(agents or ["Mozilla/5.0 (Linux; Android 10)"])[
                    i % len(agents or ["x"])
                ],
            )
        )
    session.flush()


def _kinds(flags: list[Flag]) -> list[str]:
    return sorted(f.kind for f in flags)


@pytest.fixture
def attempt_of(db_session: Session) -> Iterator:  # type: ignore[type-arg]
    rnd = make_round(db_session)

    def build(**kw: object) -> Attempt:
        kw.setdefault("score", 3)
        kw.setdefault("total", 5)
        kw.setdefault("duration_ms", 120_000)
        return make_attempt(db_session, rnd, make_contestant(db_session), **kw)  # type: ignore[arg-type]

    yield build


def test_too_fast_needs_a_low_median_gap_and_three_saves(
    db_session: Session, attempt_of: object
) -> None:
    fast = attempt_of()  # type: ignore[operator]
    _saves(db_session, fast, [1.0, 2.2, 3.0, 30.0])  # gaps 1.0, 1.2, 0.8, 27 → median 1.1
    flags = detect_attempt_flags(db_session, fast, now=NOW)
    assert _kinds(flags) == ["too_fast"]
    assert flags[0].evidence == {"median_seconds": 1.1, "answers": 4, "threshold_seconds": 2.0}
    assert flags[0].round_id == fast.round_id and flags[0].user_id == fast.user_id

    steady = attempt_of()  # type: ignore[operator]
    _saves(db_session, steady, [5, 10, 15, 16])
    assert detect_attempt_flags(db_session, steady, now=NOW) == []

    two = attempt_of()  # type: ignore[operator]
    _saves(db_session, two, [0.5, 1.0])
    assert detect_attempt_flags(db_session, two, now=NOW) == []


def test_thresholds_come_from_the_app_config(
    app: Flask, db_session: Session, attempt_of: object
) -> None:
    fast = attempt_of()  # type: ignore[operator]
    _saves(db_session, fast, [1, 2, 3])
    app.config["FLAG_TOO_FAST_SECONDS"] = 0.5
    try:
        with app.app_context():
            assert detect_attempt_flags(db_session, fast, now=NOW) == []
    finally:
        del app.config["FLAG_TOO_FAST_SECONDS"]
    with app.app_context():
        assert _kinds(detect_attempt_flags(db_session, fast, now=NOW)) == ["too_fast"]


def test_many_sources_lists_the_addresses_and_agents(
    db_session: Session, attempt_of: object
) -> None:
    roaming = attempt_of()  # type: ignore[operator]
    _saves(db_session, roaming, [10, 20, 30], ips=["113.160.1.1", "27.72.9.9"])
    flags = detect_attempt_flags(db_session, roaming, now=NOW)
    assert _kinds(flags) == ["many_sources"]
    assert flags[0].evidence["ips"] == ["113.160.1.1", "27.72.9.9"]

    two_phones = attempt_of()  # type: ignore[operator]
    _saves(db_session, two_phones, [10, 20], agents=["Android A", "iPhone B"])
    assert _kinds(detect_attempt_flags(db_session, two_phones, now=NOW)) == ["many_sources"]

    one = attempt_of()  # type: ignore[operator]
    _saves(db_session, one, [10, 20, 30])
    assert detect_attempt_flags(db_session, one, now=NOW) == []


def test_quick_full_marks_only_for_full_marks_within_the_threshold(
    db_session: Session, attempt_of: object
) -> None:
    quick = attempt_of(score=5, total=5, duration_ms=8_000)  # type: ignore[operator]
    flags = detect_attempt_flags(db_session, quick, now=NOW)
    assert _kinds(flags) == ["quick_full_marks"]
    assert flags[0].evidence["duration_ms"] == 8_000
    slower = attempt_of(score=5, total=5, duration_ms=12_000)  # type: ignore[operator]
    assert detect_attempt_flags(db_session, slower, now=NOW) == []
    not_full = attempt_of(score=4, total=5, duration_ms=5_000)  # type: ignore[operator]
    assert detect_attempt_flags(db_session, not_full, now=NOW) == []


def test_detecting_twice_stores_each_flag_once(db_session: Session, attempt_of: object) -> None:
    quick = attempt_of(score=5, total=5, duration_ms=3_000)  # type: ignore[operator]
    _saves(db_session, quick, [0.5, 1, 1.5])
    assert _kinds(detect_attempt_flags(db_session, quick, now=NOW)) == [
        "quick_full_marks",
        "too_fast",
    ]
    assert detect_attempt_flags(db_session, quick, now=NOW) == []
    db_session.commit()  # the unique (kind, attempt) constraint agrees
    stored = db_session.scalars(select(Flag.kind).where(Flag.attempt_id == quick.id)).all()
    assert sorted(stored) == ["quick_full_marks", "too_fast"]


def test_shared_national_id_flags_every_account_on_registration(
    db_session: Session, clock: FrozenClock
) -> None:
    unit = make_unit(db_session, parent=make_unit(db_session))
    first = register_contestant(
        db_session,
        full_name="Nguyễn Văn An",
        phone="0912345678",
        password="matkhau-an-123",
        unit=unit.code,
        national_id="001203004567",
        clock=clock,
    )
    assert db_session.scalars(select(Flag)).all() == []
    second = register_contestant(
        db_session,
        full_name="Nguyễn Văn Bình",
        phone="0987654321",
        password="matkhau-binh-123",
        unit=unit.code,
        national_id="001203004567",
        clock=clock,
    )
    flags = db_session.scalars(select(Flag).order_by(Flag.user_id)).all()
    assert [(f.kind, f.user_id, f.attempt_id) for f in flags] == [
        ("shared_national_id", first.id, None),
        ("shared_national_id", second.id, None),
    ]
    assert flags[0].evidence == {
        "national_id": "*********567",
        "accounts": [first.id, second.id],
    }


def _registered(session: Session, ip: str, at: datetime) -> User:
    user = make_contestant(session, registration_ip=ip)
    user.created_at = at
    session.flush()
    return user


def test_registration_burst_flags_sign_ups_beyond_the_limit_in_ten_minutes(
    db_session: Session,
) -> None:
    limits = FlagThresholds(registration_burst=5)
    factory_wifi = "14.232.8.8"
    _registered(db_session, factory_wifi, NOW - timedelta(minutes=11))  # outside the window
    users = [
        _registered(db_session, factory_wifi, NOW - timedelta(minutes=9 - i)) for i in range(5)
    ]
    assert detect_registration_flags(db_session, users[-1], now=NOW, thresholds=limits) == []
    sixth = _registered(db_session, factory_wifi, NOW)
    flags = detect_registration_flags(db_session, sixth, now=NOW, thresholds=limits)
    assert _kinds(flags) == ["registration_burst"]
    assert flags[0].evidence == {
        "ip": factory_wifi,
        "registrations": 6,
        "window_minutes": 10.0,
        "threshold": 5,
    }
    elsewhere = _registered(db_session, "14.232.9.9", NOW)
    assert detect_registration_flags(db_session, elsewhere, now=NOW, thresholds=limits) == []


def test_registration_burst_default_is_thirty(db_session: Session) -> None:
    users = [_registered(db_session, "1.2.3.4", NOW) for _ in range(30)]
    assert detect_registration_flags(db_session, users[-1], now=NOW) == []
    thirty_first = _registered(db_session, "1.2.3.4", NOW)
    assert _kinds(detect_registration_flags(db_session, thirty_first, now=NOW)) == [
        "registration_burst"
    ]

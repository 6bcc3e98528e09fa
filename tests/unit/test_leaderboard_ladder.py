"""The ladder's pure core: parsing, and the member encoding ordering like the ladder."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from quizengine.leaderboard.ladder import (
    LADDER_STEPS,
    Standing,
    attempt_id_of,
    encode,
    live_steps,
    parse_ladder,
    sort_key,
)


def test_parse_ladder_accepts_the_steps_in_the_given_order() -> None:
    assert parse_ladder("points, duration ,SUBMITTED_AT") == ["points", "duration", "submitted_at"]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "empty"),
        (" , ", "empty"),
        ("points,speed", "unknown ladder step(s): speed"),
        ("points,duration,points", "given twice"),
    ],
)
def test_parse_ladder_refuses_with_a_clear_message(text: str, message: str) -> None:
    with pytest.raises(ValueError, match=message.replace("(", r"\(").replace(")", r"\)")):
        parse_ladder(text)


def test_prediction_step_waits_for_the_true_value() -> None:
    assert live_steps(["points", "prediction", "duration"], None) == ["points", "duration"]
    assert live_steps(["points", "prediction"], 7) == ["points", "prediction"]


BASE = datetime(2026, 3, 2, 3, 0, tzinfo=UTC)
times = st.none() | st.integers(0, 10**12).map(lambda us: BASE + timedelta(microseconds=us))
standings = st.builds(
    Standing,
    attempt_id=st.integers(1, 2**31 - 1),
    points=st.none() | st.integers(0, 2**31 - 1),
    prediction=st.none() | st.integers(0, 2**31 - 1),
    duration_ms=st.none() | st.integers(0, 2**31 - 1),
    submitted_at=times,
    first_started_at=times,
)
ladders = st.lists(st.sampled_from(LADDER_STEPS), min_size=1, max_size=5, unique=True)


@given(st.lists(standings, min_size=2, max_size=30), ladders, st.none() | st.integers(0, 2**31 - 1))
def test_member_bytes_order_like_the_ladder(
    entries: list[Standing], steps: list[str], truth: int | None
) -> None:
    by_key = sorted(entries, key=lambda s: sort_key(s, steps, truth))
    by_member = sorted(entries, key=lambda s: encode(s, steps, truth).encode("ascii"))
    assert [sort_key(s, steps, truth) for s in by_key] == [
        sort_key(s, steps, truth) for s in by_member
    ]
    for s in entries:
        member = encode(s, steps, truth)
        assert member.isascii() and member.isalnum()
        assert attempt_id_of(member) == s.attempt_id


def test_more_points_then_closer_prediction_then_shorter_then_earlier() -> None:
    def s(i: int, points: int, prediction: int | None, duration: int) -> Standing:
        return Standing(i, points, prediction, duration, BASE, BASE)

    steps = ["points", "prediction", "duration", "submitted_at"]
    entries = [
        s(1, 9, 100, 5),
        s(2, 10, None, 1),
        s(3, 10, 48, 9),
        s(4, 10, 52, 3),
        s(5, 10, 50, 9),
    ]
    ranked = sorted(entries, key=lambda e: encode(e, steps, truth=50))
    assert [e.attempt_id for e in ranked] == [5, 4, 3, 2, 1]
    # While the round is open the prediction is skipped: duration decides.
    ranked_open = sorted(entries, key=lambda e: encode(e, steps, truth=None))
    assert [e.attempt_id for e in ranked_open] == [2, 4, 3, 5, 1]

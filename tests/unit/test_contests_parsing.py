"""What organisers type for a round: draw rules, minutes with decimals, prize counts."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from quizengine.contests.parsing import (
    DrawSpec,
    format_minutes,
    minutes_to_seconds,
    parse_draw_spec,
    parse_prizes,
)


def test_draw_spec_is_slug_and_count() -> None:
    assert parse_draw_spec("luat-giao-thong:10") == DrawSpec("luat-giao-thong", 10)


def test_draw_spec_takes_a_difficulty_filter() -> None:
    assert parse_draw_spec("atvsld:5:difficulty=HARD") == DrawSpec("atvsld", 5, "hard")


def test_draw_spec_topic_keeps_colons_and_diacritics() -> None:
    spec = parse_draw_spec("luat:3:difficulty=easy:topic=Mũ bảo hiểm: quy định")
    assert spec == DrawSpec("luat", 3, "easy", "Mũ bảo hiểm: quy định")
    assert parse_draw_spec(spec.label()) == spec


@pytest.mark.parametrize(
    ("text", "complaint"),
    [
        ("luat", "SLUG:COUNT"),
        (":5", "SLUG:COUNT"),
        ("luat:x", "whole number"),
        ("luat:0", "at least 1"),
        ("luat:5:difficulty=extreme", "difficulty must be"),
        ("luat:5:level=hard", "unknown filter"),
        ("luat:5:hard", "difficulty=… or topic=…"),
        ("luat:5:topic=", "topic is empty"),
    ],
)
def test_bad_draw_specs_say_what_is_wrong(text: str, complaint: str) -> None:
    with pytest.raises(ValueError, match=complaint):
        parse_draw_spec(text)


@pytest.mark.parametrize(
    ("minutes", "seconds"),
    [("20", 1200), ("0.5", 30), ("0,5", 30), ("1.25", 75), ("0.02", 1), ("1440", 86400)],
)
def test_minutes_with_decimals_become_whole_seconds(minutes: str, seconds: int) -> None:
    assert minutes_to_seconds(minutes) == seconds


@pytest.mark.parametrize("minutes", ["0", "0.001", "-1", "abc", "nan", "inf", "1441"])
def test_time_limits_under_a_second_or_nonsense_are_refused(minutes: str) -> None:
    with pytest.raises(ValueError):
        minutes_to_seconds(minutes)


@given(st.integers(min_value=1, max_value=86400))
def test_a_shown_time_limit_reads_back_to_the_same_seconds(seconds: int) -> None:
    shown = format_minutes(seconds)
    # Two decimals of a minute are off by at most 0.3 s, which rounds back exactly.
    assert minutes_to_seconds(shown) == seconds


def test_prizes_are_four_counts() -> None:
    assert parse_prizes("1,2,3,5") == [1, 2, 3, 5]
    assert parse_prizes(" 1, 0 ,0, 10 ") == [1, 0, 0, 10]


@pytest.mark.parametrize("text", ["1,2,3", "1,2,3,4,5", "1,a,3,4", "1,-2,3,4", ""])
def test_bad_prizes_are_refused(text: str) -> None:
    with pytest.raises(ValueError, match="prizes"):
        parse_prizes(text)

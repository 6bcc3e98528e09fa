"""The pure draw core and grading: property tests."""

from __future__ import annotations

import random
from array import array
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from quizengine.attempts.draw import (
    LetterMap,
    PoolTooSmall,
    draw_questions,
    option_order,
    pick_distinct,
)
from quizengine.attempts.grading import duration_ms, grade_items, is_correct

pools_and_counts = st.lists(
    st.tuples(
        st.lists(st.integers(min_value=1, max_value=400), min_size=1, max_size=120),
        st.integers(min_value=0, max_value=15),
    ),
    min_size=1,
    max_size=4,
)


@given(pools_and_counts, st.integers(), st.booleans(), st.booleans())
def test_draw_never_repeats_and_respects_each_rule(
    spec: list[tuple[list[int], int]], seed: int, shuffle: bool, overlap: bool
) -> None:
    # Disjoint pools (rules over different banks) or overlapping ones (same bank).
    pools = [sorted({q + (0 if overlap else i * 1000) for q in p}) for i, (p, _) in enumerate(spec)]
    counts = [c for _, c in spec]
    try:
        drawn = draw_questions(pools, counts, random.Random(seed), shuffle=shuffle)
    except PoolTooSmall as exc:
        if not overlap:
            assert counts[exc.rule_index] > len(pools[exc.rule_index])
        else:
            # Earlier rules took sum(earlier counts) ids, at most that many from this pool.
            i = exc.rule_index
            earlier = set().union(*pools[:i]) if i else set()
            could_lose = min(sum(counts[:i]), len(set(pools[i]) & earlier))
            assert counts[i] > len(pools[i]) - could_lose
        return
    if not overlap:
        assert all(c <= len(p) for p, c in zip(pools, counts, strict=True))
    ids = [d.question_id for d in drawn]
    assert len(ids) == len(set(ids)) == sum(counts)
    for i, count in enumerate(counts):
        mine = [d.question_id for d in drawn if d.rule_index == i]
        assert len(mine) == count
        assert set(mine) <= set(pools[i])
    if not shuffle:
        assert [d.rule_index for d in drawn] == sorted(d.rule_index for d in drawn)


@given(st.integers(min_value=1, max_value=60), st.integers())
def test_an_exhausting_draw_takes_the_whole_pool(size: int, seed: int) -> None:
    pool = list(range(100, 100 + size))
    drawn = pick_distinct(pool, size, random.Random(seed))
    assert sorted(drawn) == pool


def test_asking_for_more_than_the_pool_holds_is_refused() -> None:
    with pytest.raises(PoolTooSmall) as info:
        draw_questions([[1, 2, 3], [3, 4]], [2, 2], random.Random(1))
    # After rule 0 took two of {1,2,3}, rule 1 may have lost 3 → only 1 or 2 left.
    assert info.value.rule_index in (0, 1)


def test_overlapping_rules_never_draw_the_same_question_twice() -> None:
    for seed in range(200):
        drawn = draw_questions([[1, 2, 3, 4], [1, 2, 3, 4, 5]], [3, 2], random.Random(seed))
        ids = [d.question_id for d in drawn]
        assert len(set(ids)) == 5


def test_without_shuffle_each_rule_keeps_bank_order() -> None:
    drawn = draw_questions(
        [list(range(50)), list(range(100, 150))], [5, 5], random.Random(3), shuffle=False
    )
    first = [d.question_id for d in drawn[:5]]
    second = [d.question_id for d in drawn[5:]]
    assert first == sorted(first) and max(first) < 50
    assert second == sorted(second) and min(second) >= 100


def test_draw_is_uniform_over_the_pool() -> None:
    rng = random.Random(7)
    pool = list(range(20))
    hits = dict.fromkeys(pool, 0)
    for _ in range(4000):
        for d in draw_questions([pool], [5], rng):
            hits[d.question_id] += 1
    expected = 4000 * 5 / 20
    assert all(abs(h - expected) < expected * 0.15 for h in hits.values()), hits


def test_draw_cost_grows_with_the_number_drawn_not_the_pool() -> None:
    """Count the random probes: drawing 20 from 1,000 or from 1,000,000 costs the same."""

    class CountingRandom(random.Random):
        calls = 0

        def randrange(self, *args, **kwargs):  # type: ignore[no-untyped-def, override]
            CountingRandom.calls += 1
            return super().randrange(*args, **kwargs)

    costs = {}
    for size in (1_000, 1_000_000):
        pool = array("q", range(size))
        CountingRandom.calls = 0
        rng = CountingRandom(5)
        for _ in range(50):
            draw_questions([pool], [20], rng)
        costs[size] = CountingRandom.calls
    assert costs[1_000_000] <= costs[1_000] * 1.1
    assert costs[1_000_000] < 50 * 20 * 1.5


@given(st.integers(min_value=1, max_value=8), st.integers(), st.booleans())
def test_option_order_is_a_permutation(n: int, seed: int, shuffle: bool) -> None:
    order = option_order(n, random.Random(seed), shuffle=shuffle)
    assert sorted(order) == list(range(n))
    if not shuffle:
        assert order == list(range(n))


@given(st.permutations(list(range(5))), st.sets(st.integers(min_value=0, max_value=4)))
def test_letters_and_stored_indexes_round_trip(order: list[int], stored: set[int]) -> None:
    letters = LetterMap(order)
    keys = letters.to_letters(sorted(stored))
    assert letters.to_stored(keys) == sorted(stored)
    assert keys == sorted(keys)


def test_letter_map_refuses_unknown_keys() -> None:
    m = LetterMap([2, 0, 1])
    assert m.to_stored(["A"]) == [2]
    assert m.to_stored(["c"]) == [1]
    for bad in (["D"], ["AB"], [""], ["1"], [None]):
        assert m.to_stored(bad) is None  # type: ignore[arg-type]


@given(
    st.lists(st.integers(min_value=0, max_value=4), max_size=5, unique=True),
    st.lists(st.integers(min_value=0, max_value=4), min_size=1, max_size=3, unique=True),
)
def test_grading_is_exact_set_equality(chosen: list[int], correct: list[int]) -> None:
    assert is_correct(chosen, correct) == (set(chosen) == set(correct))


def test_grading_single_multi_unanswered_and_points() -> None:
    graded, grade = grade_items(
        [
            (1, [1], [1], 1),  # single, right
            (2, [0, 3], [3, 0], 2),  # multi, all of them → right
            (3, [0], [0, 3], 1),  # multi, half → wrong
            (4, None, [2], 1),  # never answered
            (5, [], [2], 1),  # cleared
            (6, [1, 2], [1], 1),  # extra option → wrong
        ]
    )
    assert [g.is_correct for g in graded] == [True, True, False, False, False, False]
    assert (grade.score, grade.correct, grade.total, grade.max_score) == (3, 2, 6, 7)


@settings(max_examples=50)
@given(st.integers(min_value=-10_000, max_value=10**9))
def test_duration_is_never_negative(ms: int) -> None:
    start = datetime(2026, 3, 2, tzinfo=UTC)
    assert duration_ms(start, start + timedelta(milliseconds=ms)) == max(0, ms)

"""One set of behaviours, checked on both stores: the in-process one and real Redis."""

from __future__ import annotations

import secrets
import time
from collections.abc import Iterator

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from quizengine.store import MemoryStore, RedisStore, Store, StoreUnavailable
from tests.conftest import RUN_TAG, TEST_REDIS_URL, require


@pytest.fixture(params=["memory", "redis"])
def any_store(request: pytest.FixtureRequest) -> Iterator[Store]:
    prefix = f"qetest:{RUN_TAG}:{secrets.token_hex(3)}:"
    if request.param == "redis":
        require(TEST_REDIS_URL is not None, "Redis (TEST_REDIS_URL)")
        s: Store = RedisStore.from_url(str(TEST_REDIS_URL), prefix=prefix)
    else:
        s = MemoryStore(prefix=prefix)
    yield s
    s.flush_prefix()


def test_values_counters_and_expiry(any_store: Store) -> None:
    assert any_store.get("missing") is None
    any_store.set("greeting", "xin chào")
    assert any_store.get("greeting") == "xin chào"
    assert any_store.incr("hits") == 1
    assert any_store.incr("hits", 4) == 5
    any_store.set("short", "x", ttl=0.05)
    time.sleep(0.12)
    assert any_store.get("short") is None
    assert any_store.exists("greeting")
    assert any_store.delete("greeting", "hits") == 2
    assert not any_store.exists("greeting")


def test_get_many_reads_several_values_in_the_order_asked(any_store: Store) -> None:
    any_store.set("a", "1")
    any_store.set("c", "3")
    assert any_store.get_many(["c", "missing", "a"]) == ["3", None, "1"]
    assert any_store.get_many([]) == []


def test_owner_rank_reads_the_kept_member_and_its_rank_at_once(any_store: Store) -> None:
    any_store.zadd("z", {"aa": 0.0, "bb": 0.0, "cc": 0.0})
    any_store.hset("h", {"u1": "cc|5|1", "u2": "aa", "u3": "gone|1|1"})
    assert any_store.owner_rank("z", "h", "u1") == (2, "cc")
    assert any_store.owner_rank("z", "h", "u2") == (0, "aa")
    assert any_store.owner_rank("z", "h", "u3") is None  # kept member not on the board
    assert any_store.owner_rank("z", "h", "nobody") is None


def test_hashes(any_store: Store) -> None:
    any_store.hset("units", {"CDCS-01": "3"})
    assert any_store.hincrby("units", "CDCS-01") == 4
    assert any_store.hincrby("units", "CDCS-02", 2) == 2
    assert any_store.hgetall("units") == {"CDCS-01": "4", "CDCS-02": "2"}
    assert any_store.hget("units", "none") is None


def test_sorted_set_orders_equal_scores_by_member_bytes(any_store: Store) -> None:
    any_store.zadd("board", {"b": 1.0, "a": 1.0, "c": 0.5, "A": 1.0})
    assert [m for m, _ in any_store.zrange("board", 0, -1)] == ["c", "A", "a", "b"]
    assert any_store.zrank("board", "a") == 2
    assert any_store.zrank("board", "zz") is None
    assert any_store.zcard("board") == 4
    assert any_store.zscore("board", "c") == 0.5
    assert any_store.zrange("board", 1, 2) == [("A", 1.0), ("a", 1.0)]
    assert any_store.zrem("board", "A", "nope") == 1
    assert any_store.zcard("board") == 3


def test_keep_best_only_moves_when_the_new_entry_beats_the_old(any_store: Store) -> None:
    assert any_store.keep_best("z", "h", "user-1", "m5", 1.0)
    assert not any_store.keep_best("z", "h", "user-1", "m6", 1.0)
    assert not any_store.keep_best("z", "h", "user-1", "m0", 2.0)
    assert any_store.keep_best("z", "h", "user-1", "m4", 1.0)
    assert any_store.keep_best("z", "h", "user-1", "m9", 0.0)
    assert any_store.zrange("z", 0, -1) == [("m9", 0.0)]
    assert any_store.hget("h", "user-1") == "m9"


def test_replace_all_swaps_a_whole_board(any_store: Store) -> None:
    any_store.keep_best("z", "h", "old", "m-old", 1.0)
    any_store.replace_all("z", "h", {"u1": ("m1", 2.0), "u2": ("m2", 1.0)})
    assert any_store.zrange("z", 0, -1) == [("m2", 1.0), ("m1", 2.0)]
    assert any_store.hgetall("h") == {"u1": "m1", "u2": "m2"}
    any_store.replace_all("z", "h", {})
    assert any_store.zcard("z") == 0


members = st.text(alphabet="0123456789abcdef", min_size=1, max_size=6)


@settings(max_examples=40, deadline=None)
@given(st.lists(st.tuples(members, st.integers(-5, 5)), max_size=30))
def test_memory_store_orders_like_redis(entries: list[tuple[str, int]]) -> None:
    require(TEST_REDIS_URL is not None, "Redis (TEST_REDIS_URL)")
    prefix = f"qetest:{RUN_TAG}:{secrets.token_hex(3)}:"
    memory, redis_store = (
        MemoryStore(prefix=prefix),
        RedisStore.from_url(str(TEST_REDIS_URL), prefix=prefix),
    )
    try:
        for member, score in entries:
            memory.zadd("z", {member: float(score)})
            redis_store.zadd("z", {member: float(score)})
        assert memory.zrange("z", 0, -1) == redis_store.zrange("z", 0, -1)
    finally:
        redis_store.flush_prefix()


def test_redis_down_is_store_unavailable() -> None:
    dead = RedisStore.from_url("redis://127.0.0.1:1/0")
    with pytest.raises(StoreUnavailable):
        dead.zcard("board")
    with pytest.raises(StoreUnavailable):
        dead.get_many(["a", "b"])


TALLIES = ("t:owners", "t:attempts", "t:points")


def _record(store: Store, owner: str, member: str, points: int, attempts: int) -> bool:
    return store.record_best(
        "z",
        "h",
        owner,
        member,
        0.0,
        points=points,
        attempts=attempts,
        tallies=TALLIES,
        groups=["unit-1", "all"],
        ttl=60,
    )


def test_record_best_keeps_the_best_and_tallies_once(any_store: Store) -> None:
    assert _record(any_store, "u1", "m5", points=7, attempts=1)
    assert not _record(any_store, "u1", "m6", points=9, attempts=2)  # worse: kept m5
    assert _record(any_store, "u1", "m2", points=8, attempts=3)
    assert not _record(any_store, "u1", "m2", points=8, attempts=3)  # a replay
    assert not _record(any_store, "u1", "m2", points=8, attempts=2)  # an older count
    assert _record(any_store, "u2", "m9", points=4, attempts=1)
    assert any_store.zrange("z", 0, -1) == [("m2", 0.0), ("m9", 0.0)]
    assert any_store.hgetall("h") == {"u1": "m2|8|3", "u2": "m9|4|1"}
    for group in ("unit-1", "all"):
        assert any_store.zscore("t:owners", group) == 2.0
        assert any_store.zscore("t:attempts", group) == 4.0
        assert any_store.zscore("t:points", group) == 12.0


def test_record_best_refreshes_the_expiry(any_store: Store) -> None:
    any_store.record_best(
        "z", "h", "u1", "m1", 0.0, points=1, attempts=1, tallies=TALLIES, groups=["g"], ttl=0.1
    )
    assert any_store.zcard("z") == 1
    time.sleep(0.25)
    assert not any_store.exists("z")
    assert not any_store.exists("h")
    assert not any_store.exists("t:owners")


def test_replace_keys_swaps_several_keys_at_once(any_store: Store) -> None:
    any_store.zadd("a", {"old": 1.0})
    any_store.zadd("gone", {"x": 1.0})
    any_store.hset("h", {"old": "1"})
    any_store.replace_keys(
        {"a": {"n1": 0.0, "n2": 0.0}, "gone": {}},
        {"h": {"u1": "n1"}},
        {"marker": "v1"},
        ttl=60,
    )
    assert any_store.zrange("a", 0, -1) == [("n1", 0.0), ("n2", 0.0)]
    assert not any_store.exists("gone")
    assert any_store.hgetall("h") == {"u1": "n1"}
    assert any_store.get("marker") == "v1"
    any_store.replace_keys({"a": {"z": 2.0}}, {}, {}, ttl=None)
    assert any_store.zrange("a", 0, -1) == [("z", 2.0)]


@settings(max_examples=30, deadline=None)
@given(
    st.lists(
        st.tuples(st.sampled_from(["u1", "u2", "u3"]), members, st.integers(0, 9)),
        max_size=25,
    )
)
def test_record_best_gives_the_same_result_on_both_stores(
    calls: list[tuple[str, str, int]],
) -> None:
    require(TEST_REDIS_URL is not None, "Redis (TEST_REDIS_URL)")
    prefix = f"qetest:{RUN_TAG}:{secrets.token_hex(3)}:"
    memory, redis_store = (
        MemoryStore(prefix=prefix),
        RedisStore.from_url(str(TEST_REDIS_URL), prefix=prefix),
    )
    try:
        for n, (owner, member, points) in enumerate(calls):
            assert _record(memory, owner, member, points, n) == _record(
                redis_store, owner, member, points, n
            )
        for key in ("z", *TALLIES):
            assert memory.zrange(key, 0, -1) == redis_store.zrange(key, 0, -1)
        assert memory.hgetall("h") == redis_store.hgetall("h")
    finally:
        redis_store.flush_prefix()

"""The store interface every implementation honours (see tests: test_store_contract)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Protocol


class StoreUnavailable(RuntimeError):
    """The store cannot be reached. Callers fall back to the database or say so."""


class Store(Protocol):
    prefix: str

    def ping(self) -> bool: ...

    # plain values and counters
    def get(self, key: str) -> str | None: ...
    def get_many(self, keys: list[str]) -> list[str | None]:
        """Several values in one round trip, in the order asked."""
        ...

    def set(self, key: str, value: str, *, ttl: float | None = None) -> None: ...
    def incr(self, key: str, amount: int = 1, *, ttl: float | None = None) -> int: ...
    def delete(self, *keys: str) -> int: ...
    def exists(self, key: str) -> bool: ...

    # hashes
    def hget(self, key: str, field: str) -> str | None: ...
    def hset(self, key: str, mapping: dict[str, str]) -> None: ...
    def hgetall(self, key: str) -> dict[str, str]: ...
    def hincrby(self, key: str, field: str, amount: int = 1) -> int: ...

    # sorted sets; ties on score order by member, bytewise (as Redis does)
    def zadd(self, key: str, mapping: dict[str, float]) -> int: ...
    def zrem(self, key: str, *members: str) -> int: ...
    def zscore(self, key: str, member: str) -> float | None: ...
    def zrank(self, key: str, member: str) -> int | None: ...
    def zcard(self, key: str) -> int: ...
    def zrange(self, key: str, start: int, stop: int) -> list[tuple[str, float]]:
        """Members with scores, ascending by (score, member); ``stop`` inclusive like Redis."""
        ...

    def owner_rank(self, zkey: str, hkey: str, owner: str) -> tuple[int, str] | None:
        """The owner's kept member in ``hkey`` (owner → ``member`` or ``member|…`` as
        ``record_best`` writes it) and its 0-based rank in ``zkey``, in one round trip;
        None when the owner has none or it is not in ``zkey``."""
        ...

    def keep_best(self, zkey: str, hkey: str, owner: str, member: str, score: float) -> bool:
        """Atomically keep one entry per owner in ``zkey``: the smallest (score, member).

        ``hkey`` maps owner → its current member. Returns True when the entry changed.
        Leaderboards use it so that only an attempt that beats the previous best moves a rank.
        """
        ...

    def replace_all(self, zkey: str, hkey: str, entries: dict[str, tuple[str, float]]) -> None:
        """Atomically swap a whole board in: owner → (member, score). Used by rebuilds."""
        ...

    def record_best(
        self,
        zkey: str,
        hkey: str,
        owner: str,
        member: str,
        score: float,
        *,
        points: int,
        attempts: int,
        tallies: tuple[str, str, str],
        groups: Sequence[str],
        ttl: float | None = None,
    ) -> bool:
        """``keep_best`` plus per-group tallies, in one atomic step (a Lua script on Redis).

        ``zkey`` keeps the smallest (score, member) per owner; ``hkey`` maps owner →
        ``"member|points|attempts"`` of the kept entry. The three ``tallies`` sorted sets
        hold, for each of ``groups`` (e.g. a unit and its parents): owners (+1 for a new
        owner), attempts (an owner's count only grows: the largest reported is kept) and the
        points of the owners' kept entries. Replaying a call changes nothing, so rebuilds
        and retries never double count. ``ttl`` refreshes the expiry of every key touched.
        Returns True when the kept entry changed.
        """
        ...

    def replace_keys(
        self,
        zsets: Mapping[str, Mapping[str, float]],
        hashes: Mapping[str, Mapping[str, str]],
        values: Mapping[str, str],
        *,
        ttl: float | None = None,
    ) -> None:
        """Atomically swap whole keys in: readers see all the old keys or all the new ones.

        Each named sorted set / hash / value gets exactly the content given (an empty one
        is deleted); ``ttl`` applies to every key written (None = no expiry).
        """
        ...

    def flush_prefix(self) -> None:
        """Delete every key under this store's prefix (tests and rebuilds)."""
        ...

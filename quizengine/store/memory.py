"""In-process store for the embedded default: one process only, nothing survives a restart."""

from __future__ import annotations

import bisect
import threading
import time
from collections.abc import Callable, Mapping, Sequence


class _SortedSet:
    def __init__(self) -> None:
        self.scores: dict[str, float] = {}
        self.order: list[tuple[float, bytes, str]] = []

    def add(self, member: str, score: float) -> bool:
        old = self.scores.get(member)
        if old is not None:
            if old == score:
                return False
            self.order.remove((old, member.encode(), member))
        self.scores[member] = score
        bisect.insort(self.order, (score, member.encode(), member))
        return old is None

    def remove(self, member: str) -> bool:
        old = self.scores.pop(member, None)
        if old is None:
            return False
        self.order.remove((old, member.encode(), member))
        return True


class MemoryStore:
    def __init__(self, *, prefix: str = "qe:", clock: Callable[[], float] = time.monotonic) -> None:
        self.prefix = prefix
        self._lock = threading.RLock()
        self._values: dict[str, str] = {}
        self._hashes: dict[str, dict[str, str]] = {}
        self._zsets: dict[str, _SortedSet] = {}
        self._expiry: dict[str, float] = {}
        self._clock = clock

    def _k(self, key: str) -> str:
        return self.prefix + key

    def _expire_if_due(self, k: str) -> None:
        deadline = self._expiry.get(k)
        if deadline is not None and self._clock() >= deadline:
            self._drop(k)

    def _drop(self, k: str) -> bool:
        self._expiry.pop(k, None)
        found = False
        for space in (self._values, self._hashes, self._zsets):
            if space.pop(k, None) is not None:
                found = True
        return found

    def ping(self) -> bool:
        return True

    def get(self, key: str) -> str | None:
        with self._lock:
            k = self._k(key)
            self._expire_if_due(k)
            return self._values.get(k)

    def get_many(self, keys: list[str]) -> list[str | None]:
        return [self.get(key) for key in keys]

    def set(self, key: str, value: str, *, ttl: float | None = None) -> None:
        with self._lock:
            k = self._k(key)
            self._values[k] = value
            if ttl is not None:
                self._expiry[k] = self._clock() + ttl
            else:
                self._expiry.pop(k, None)

    def incr(self, key: str, amount: int = 1, *, ttl: float | None = None) -> int:
        with self._lock:
            k = self._k(key)
            self._expire_if_due(k)
            value = int(self._values.get(k, "0")) + amount
            fresh = k not in self._values
            self._values[k] = str(value)
            if ttl is not None and fresh:
                self._expiry[k] = self._clock() + ttl
            return value

    def delete(self, *keys: str) -> int:
        with self._lock:
            return sum(self._drop(self._k(key)) for key in keys)

    def exists(self, key: str) -> bool:
        with self._lock:
            k = self._k(key)
            self._expire_if_due(k)
            return k in self._values or k in self._hashes or k in self._zsets

    def hget(self, key: str, field: str) -> str | None:
        with self._lock:
            self._expire_if_due(self._k(key))
            return self._hashes.get(self._k(key), {}).get(field)

    def hset(self, key: str, mapping: dict[str, str]) -> None:
        with self._lock:
            self._expire_if_due(self._k(key))
            self._hashes.setdefault(self._k(key), {}).update(mapping)

    def hgetall(self, key: str) -> dict[str, str]:
        with self._lock:
            self._expire_if_due(self._k(key))
            return dict(self._hashes.get(self._k(key), {}))

    def hincrby(self, key: str, field: str, amount: int = 1) -> int:
        with self._lock:
            self._expire_if_due(self._k(key))
            h = self._hashes.setdefault(self._k(key), {})
            value = int(h.get(field, "0")) + amount
            h[field] = str(value)
            return value

    def zadd(self, key: str, mapping: dict[str, float]) -> int:
        with self._lock:
            self._expire_if_due(self._k(key))
            z = self._zsets.setdefault(self._k(key), _SortedSet())
            return sum(z.add(m, float(s)) for m, s in mapping.items())

    def zrem(self, key: str, *members: str) -> int:
        with self._lock:
            self._expire_if_due(self._k(key))
            z = self._zsets.get(self._k(key))
            if z is None:
                return 0
            removed = sum(z.remove(m) for m in members)
            if not z.scores:
                del self._zsets[self._k(key)]
            return removed

    def zscore(self, key: str, member: str) -> float | None:
        with self._lock:
            self._expire_if_due(self._k(key))
            z = self._zsets.get(self._k(key))
            return None if z is None else z.scores.get(member)

    def zrank(self, key: str, member: str) -> int | None:
        with self._lock:
            self._expire_if_due(self._k(key))
            z = self._zsets.get(self._k(key))
            if z is None or member not in z.scores:
                return None
            return bisect.bisect_left(z.order, (z.scores[member], member.encode(), member))

    def owner_rank(self, zkey: str, hkey: str, owner: str) -> tuple[int, str] | None:
        kept = self.hget(hkey, owner)
        if kept is None:
            return None
        member = kept.split("|", 1)[0]
        rank = self.zrank(zkey, member)
        return None if rank is None else (rank, member)

    def zcard(self, key: str) -> int:
        with self._lock:
            self._expire_if_due(self._k(key))
            z = self._zsets.get(self._k(key))
            return 0 if z is None else len(z.scores)

    def zrange(self, key: str, start: int, stop: int) -> list[tuple[str, float]]:
        with self._lock:
            self._expire_if_due(self._k(key))
            z = self._zsets.get(self._k(key))
            if z is None:
                return []
            n = len(z.order)
            if start < 0:
                start = max(n + start, 0)
            if stop < 0:
                stop = n + stop
            return [(m, s) for s, _, m in z.order[start : stop + 1]]

    def keep_best(self, zkey: str, hkey: str, owner: str, member: str, score: float) -> bool:
        with self._lock:
            current = self.hget(hkey, owner)
            if current is not None:
                current_score = self.zscore(zkey, current)
                if current_score is not None and (current_score, current.encode()) <= (
                    score,
                    member.encode(),
                ):
                    return False
                self.zrem(zkey, current)
            self.zadd(zkey, {member: score})
            self.hset(hkey, {owner: member})
            return True

    def replace_all(self, zkey: str, hkey: str, entries: dict[str, tuple[str, float]]) -> None:
        with self._lock:
            self.delete(zkey, hkey)
            if entries:
                self.zadd(zkey, {m: s for m, s in entries.values()})
                self.hset(hkey, {owner: m for owner, (m, _) in entries.items()})

    def _zincrby(self, key: str, member: str, amount: float) -> None:
        z = self._zsets.setdefault(self._k(key), _SortedSet())
        z.add(member, z.scores.get(member, 0.0) + amount)

    def _touch(self, key: str, ttl: float | None) -> None:
        k = self._k(key)
        if ttl is not None and (k in self._hashes or k in self._zsets or k in self._values):
            self._expiry[k] = self._clock() + ttl

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
        with self._lock:
            for key in (zkey, hkey, *tallies):
                self._expire_if_due(self._k(key))
            current = self.hget(hkey, owner)
            cur_member: str | None = None
            cur_points = cur_attempts = 0
            if current is not None and current.count("|") >= 2:
                cur_member, p, n = current.rsplit("|", 2)
                cur_points, cur_attempts = int(p), int(n)
            better = True
            if cur_member is not None:
                cur_score = self.zscore(zkey, cur_member)
                if cur_score is not None and (cur_score, cur_member.encode()) <= (
                    float(score),
                    member.encode(),
                ):
                    better = False
            keep_member, keep_points = cur_member, cur_points
            if better:
                if cur_member is not None and cur_member != member:
                    self.zrem(zkey, cur_member)
                self.zadd(zkey, {member: float(score)})
                keep_member, keep_points = member, points
            keep_attempts = max(cur_attempts, attempts)
            owners, attempt_tally, points_tally = tallies
            for group in groups:
                if cur_member is None:
                    self._zincrby(owners, group, 1)
                if keep_attempts != cur_attempts:
                    self._zincrby(attempt_tally, group, keep_attempts - cur_attempts)
                if keep_points != cur_points:
                    self._zincrby(points_tally, group, keep_points - cur_points)
            self.hset(hkey, {owner: f"{keep_member}|{keep_points}|{keep_attempts}"})
            for key in (zkey, hkey, *tallies):
                self._touch(key, ttl)
            return better

    def replace_keys(
        self,
        zsets: Mapping[str, Mapping[str, float]],
        hashes: Mapping[str, Mapping[str, str]],
        values: Mapping[str, str],
        *,
        ttl: float | None = None,
    ) -> None:
        with self._lock:
            self.delete(*zsets, *hashes, *values)
            for key, members in zsets.items():
                if members:
                    self.zadd(key, dict(members))
            for key, fields in hashes.items():
                if fields:
                    self.hset(key, dict(fields))
            for key, value in values.items():
                self.set(key, value, ttl=ttl)
            for key in (*zsets, *hashes):
                self._touch(key, ttl)

    def flush_prefix(self) -> None:
        with self._lock:
            self._values.clear()
            self._hashes.clear()
            self._zsets.clear()
            self._expiry.clear()

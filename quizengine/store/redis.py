"""The Redis store: every key carries the prefix; connection trouble is StoreUnavailable."""

from __future__ import annotations

import functools
import secrets
from collections.abc import Callable, Mapping, Sequence
from typing import Any, ParamSpec, TypeVar, cast

import redis
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import OutOfMemoryError, ReadOnlyError
from redis.exceptions import TimeoutError as RedisTimeoutError

from quizengine.store.base import StoreUnavailable

P = ParamSpec("P")
R = TypeVar("R")

# Members are ASCII (leaderboard encodings), so Lua's string comparison is bytewise
# like Redis's own ordering of equal scores.
_OWNER_RANK = """
local kept = redis.call('HGET', KEYS[2], ARGV[1])
if not kept then return false end
local member = string.match(kept, '^[^|]*')
local rank = redis.call('ZRANK', KEYS[1], member)
if not rank then return false end
return {rank, member}
"""

_KEEP_BEST = """
local cur = redis.call('HGET', KEYS[2], ARGV[1])
if cur then
  local cs = redis.call('ZSCORE', KEYS[1], cur)
  if cs then
    cs = tonumber(cs)
    local s = tonumber(ARGV[3])
    if cs < s or (cs == s and cur <= ARGV[2]) then return 0 end
  end
  redis.call('ZREM', KEYS[1], cur)
end
redis.call('ZADD', KEYS[1], ARGV[3], ARGV[2])
redis.call('HSET', KEYS[2], ARGV[1], ARGV[2])
return 1
"""

# KEYS: 1 board zset, 2 owners hash, 3 owners tally, 4 attempts tally, 5 points tally.
# ARGV: 1 owner, 2 member, 3 score, 4 points, 5 attempts, 6 ttl in ms (0 = none), 7.. groups.
_RECORD_BEST = """
local owner, member, score = ARGV[1], ARGV[2], tonumber(ARGV[3])
local points, attempts = tonumber(ARGV[4]), tonumber(ARGV[5])
local cur = redis.call('HGET', KEYS[2], owner)
local cm, cp, cn = false, 0, 0
if cur then
  local m, p, n = string.match(cur, '^(.*)|(%-?%d+)|(%-?%d+)$')
  if m then cm, cp, cn = m, tonumber(p), tonumber(n) end
end
local better = true
if cm then
  local cs = redis.call('ZSCORE', KEYS[1], cm)
  if cs then
    cs = tonumber(cs)
    if cs < score or (cs == score and cm <= member) then better = false end
  end
end
local km, kp = cm, cp
if better then
  if cm and cm ~= member then redis.call('ZREM', KEYS[1], cm) end
  redis.call('ZADD', KEYS[1], ARGV[3], member)
  km, kp = member, points
end
local kn = math.max(cn, attempts)
for i = 7, #ARGV do
  if not cm then redis.call('ZINCRBY', KEYS[3], 1, ARGV[i]) end
  if kn ~= cn then redis.call('ZINCRBY', KEYS[4], kn - cn, ARGV[i]) end
  if kp ~= cp then redis.call('ZINCRBY', KEYS[5], kp - cp, ARGV[i]) end
end
redis.call('HSET', KEYS[2], owner,
  km .. '|' .. string.format('%d', kp) .. '|' .. string.format('%d', kn))
local ttl = tonumber(ARGV[6])
if ttl > 0 then
  for i = 1, 5 do redis.call('PEXPIRE', KEYS[i], ttl) end
end
if better then return 1 end
return 0
"""

_CHUNK = 5000


def _unavailable(fn: Callable[P, R]) -> Callable[P, R]:
    @functools.wraps(fn)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return fn(*args, **kwargs)
        # A full Redis (noeviction) or a replica after failover refuses writes: for the
        # callers that is the same as Redis being away — fall back, never a 500.
        except (
            RedisConnectionError,
            RedisTimeoutError,
            OSError,
            OutOfMemoryError,
            ReadOnlyError,
        ) as exc:
            raise StoreUnavailable(str(exc)) from exc

    return wrapper


class RedisStore:
    def __init__(self, client: redis.Redis, *, prefix: str = "qe:") -> None:
        self.client = client
        self.prefix = prefix
        self._keep_best = client.register_script(_KEEP_BEST)
        self._owner_rank = client.register_script(_OWNER_RANK)
        self._record_best = client.register_script(_RECORD_BEST)

    @classmethod
    def from_url(cls, url: str, *, prefix: str = "qe:") -> RedisStore:
        client = redis.Redis.from_url(
            url,
            decode_responses=True,
            socket_connect_timeout=1.0,
            socket_timeout=2.0,
            health_check_interval=30,
        )
        return cls(client, prefix=prefix)

    def _k(self, key: str) -> str:
        return self.prefix + key

    @_unavailable
    def ping(self) -> bool:
        return bool(self.client.ping())

    @_unavailable
    def get(self, key: str) -> str | None:
        return cast(str | None, self.client.get(self._k(key)))

    @_unavailable
    def get_many(self, keys: list[str]) -> list[str | None]:
        if not keys:
            return []
        return cast(list[str | None], self.client.mget([self._k(k) for k in keys]))

    @_unavailable
    def set(self, key: str, value: str, *, ttl: float | None = None) -> None:
        px = int(ttl * 1000) if ttl is not None else None
        self.client.set(self._k(key), value, px=px)

    @_unavailable
    def incr(self, key: str, amount: int = 1, *, ttl: float | None = None) -> int:
        k = self._k(key)
        pipe = self.client.pipeline()
        pipe.incrby(k, amount)
        if ttl is not None:
            pipe.pexpire(k, int(ttl * 1000), nx=True)
        return int(pipe.execute()[0])

    @_unavailable
    def delete(self, *keys: str) -> int:
        if not keys:
            return 0
        return int(self.client.delete(*(self._k(k) for k in keys)))

    @_unavailable
    def exists(self, key: str) -> bool:
        return bool(self.client.exists(self._k(key)))

    @_unavailable
    def hget(self, key: str, field: str) -> str | None:
        return cast(str | None, self.client.hget(self._k(key), field))

    @_unavailable
    def hset(self, key: str, mapping: dict[str, str]) -> None:
        if mapping:
            self.client.hset(self._k(key), mapping=cast(Any, mapping))

    @_unavailable
    def hgetall(self, key: str) -> dict[str, str]:
        return cast(dict[str, str], self.client.hgetall(self._k(key)))

    @_unavailable
    def hincrby(self, key: str, field: str, amount: int = 1) -> int:
        return int(self.client.hincrby(self._k(key), field, amount))

    @_unavailable
    def zadd(self, key: str, mapping: dict[str, float]) -> int:
        if not mapping:
            return 0
        return int(cast(int, self.client.zadd(self._k(key), cast(Any, mapping))))

    @_unavailable
    def zrem(self, key: str, *members: str) -> int:
        if not members:
            return 0
        return int(self.client.zrem(self._k(key), *members))

    @_unavailable
    def zscore(self, key: str, member: str) -> float | None:
        value = self.client.zscore(self._k(key), member)
        return None if value is None else float(value)

    @_unavailable
    def zrank(self, key: str, member: str) -> int | None:
        value = self.client.zrank(self._k(key), member)
        return None if value is None else int(cast(int, value))

    @_unavailable
    def zcard(self, key: str) -> int:
        return int(self.client.zcard(self._k(key)))

    @_unavailable
    def zrange(self, key: str, start: int, stop: int) -> list[tuple[str, float]]:
        rows = self.client.zrange(self._k(key), start, stop, withscores=True)
        return [(str(m), float(s)) for m, s in cast(list[tuple[str, float]], rows)]

    @_unavailable
    def owner_rank(self, zkey: str, hkey: str, owner: str) -> tuple[int, str] | None:
        found = self._owner_rank(keys=[self._k(zkey), self._k(hkey)], args=[owner])
        if not found:
            return None
        rank, member = cast(list[Any], found)
        return int(rank), str(member)

    @_unavailable
    def keep_best(self, zkey: str, hkey: str, owner: str, member: str, score: float) -> bool:
        result = self._keep_best(
            keys=[self._k(zkey), self._k(hkey)], args=[owner, member, repr(float(score))]
        )
        return bool(result)

    @_unavailable
    def replace_all(self, zkey: str, hkey: str, entries: dict[str, tuple[str, float]]) -> None:
        # Fill temporary keys first, then swap them in with one MULTI so readers
        # never see a half-built board and Redis is never blocked for long.
        tag = secrets.token_hex(4)
        tmp_z, tmp_h = self._k(f"{zkey}:tmp:{tag}"), self._k(f"{hkey}:tmp:{tag}")
        items = list(entries.items())
        pipe = self.client.pipeline(transaction=False)
        for i in range(0, len(items), _CHUNK):
            chunk = items[i : i + _CHUNK]
            pipe.zadd(tmp_z, {m: s for _, (m, s) in chunk})
            pipe.hset(tmp_h, mapping={owner: m for owner, (m, _) in chunk})
        pipe.expire(tmp_z, 600)
        pipe.expire(tmp_h, 600)
        pipe.execute()
        swap = self.client.pipeline(transaction=True)
        swap.delete(self._k(zkey), self._k(hkey))
        if items:
            swap.rename(tmp_z, self._k(zkey))
            swap.rename(tmp_h, self._k(hkey))
            swap.persist(self._k(zkey))
            swap.persist(self._k(hkey))
        swap.execute()

    @_unavailable
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
        result = self._record_best(
            keys=[self._k(zkey), self._k(hkey), *(self._k(t) for t in tallies)],
            args=[
                owner,
                member,
                repr(float(score)),
                int(points),
                int(attempts),
                int(ttl * 1000) if ttl is not None else 0,
                *groups,
            ],
        )
        return bool(result)

    @_unavailable
    def replace_keys(
        self,
        zsets: Mapping[str, Mapping[str, float]],
        hashes: Mapping[str, Mapping[str, str]],
        values: Mapping[str, str],
        *,
        ttl: float | None = None,
    ) -> None:
        # Fill temporary keys first (in chunks, so Redis is never blocked for long), then
        # rename them into place in one MULTI: readers see the old keys or the new ones.
        tag = secrets.token_hex(4)
        fill = self.client.pipeline(transaction=False)
        renames: list[tuple[str, str]] = []
        for key, members in zsets.items():
            if not members:
                continue
            tmp = self._k(f"{key}:tmp:{tag}")
            items = list(members.items())
            for i in range(0, len(items), _CHUNK):
                fill.zadd(tmp, dict(items[i : i + _CHUNK]))
            fill.expire(tmp, 600)
            renames.append((tmp, self._k(key)))
        for key, fields in hashes.items():
            if not fields:
                continue
            tmp = self._k(f"{key}:tmp:{tag}")
            items_h = list(fields.items())
            for i in range(0, len(items_h), _CHUNK):
                fill.hset(tmp, mapping=dict(items_h[i : i + _CHUNK]))
            fill.expire(tmp, 600)
            renames.append((tmp, self._k(key)))
        fill.execute()
        px = int(ttl * 1000) if ttl is not None else None
        swap = self.client.pipeline(transaction=True)
        live = [self._k(k) for k in (*zsets, *hashes, *values)]
        if live:
            swap.delete(*live)
        for tmp, key in renames:
            swap.rename(tmp, key)
            if px is not None:
                swap.pexpire(key, px)
            else:
                swap.persist(key)
        for key, value in values.items():
            swap.set(self._k(key), value, px=px)
        swap.execute()

    @_unavailable
    def flush_prefix(self) -> None:
        batch: list[str] = []
        for key in self.client.scan_iter(match=self.prefix + "*", count=1000):
            batch.append(cast(str, key))
            if len(batch) >= 1000:
                self.client.unlink(*batch)
                batch.clear()
        if batch:
            self.client.unlink(*batch)

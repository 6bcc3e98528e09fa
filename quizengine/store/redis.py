"""The Redis store: every key carries the prefix; connection trouble is StoreUnavailable."""

from __future__ import annotations

import functools
import secrets
from collections.abc import Callable
from typing import Any, ParamSpec, TypeVar, cast

import redis
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

from quizengine.store.base import StoreUnavailable

P = ParamSpec("P")
R = TypeVar("R")

# Members are ASCII (leaderboard encodings), so Lua's string comparison is bytewise
# like Redis's own ordering of equal scores.
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

_CHUNK = 5000


def _unavailable(fn: Callable[P, R]) -> Callable[P, R]:
    @functools.wraps(fn)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return fn(*args, **kwargs)
        except (RedisConnectionError, RedisTimeoutError, OSError) as exc:
            raise StoreUnavailable(str(exc)) from exc

    return wrapper


class RedisStore:
    def __init__(self, client: redis.Redis, *, prefix: str = "qe:") -> None:
        self.client = client
        self.prefix = prefix
        self._keep_best = client.register_script(_KEEP_BEST)

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
    def flush_prefix(self) -> None:
        batch: list[str] = []
        for key in self.client.scan_iter(match=self.prefix + "*", count=1000):
            batch.append(cast(str, key))
            if len(batch) >= 1000:
                self.client.unlink(*batch)
                batch.clear()
        if batch:
            self.client.unlink(*batch)

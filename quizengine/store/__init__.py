"""The small fast-path store: sorted sets for leaderboards, hashes and counters.

Two implementations behind one interface: Redis (production) and an in-process
store (the embedded default, one process only). The database stays the truth;
everything here can be rebuilt from it.
"""

from quizengine.store.base import Store, StoreUnavailable
from quizengine.store.memory import MemoryStore
from quizengine.store.redis import RedisStore


def open_store(redis_url: str | None, *, prefix: str = "qe:") -> Store:
    if redis_url:
        return RedisStore.from_url(redis_url, prefix=prefix)
    return MemoryStore(prefix=prefix)


__all__ = ["MemoryStore", "RedisStore", "Store", "StoreUnavailable", "open_store"]

"""Draw pools: the ids of the questions a draw rule may pick, kept in each process's memory.

Why: when a round opens, thousands of phones start at once. Drawing with
``ORDER BY random()`` would sort the whole bank per start. Instead each process reads a
rule's eligible ids once (an index-only scan of ``ix_questions_bank_active``) into a
compact ``array`` (8 bytes per question: 800 KB for a 100,000-question bank) and every
draw then probes random positions of it — O(questions drawn) per start (see draw.py).

Freshness: a pool is tagged with its bank's generation token from the store
(``keys.draw_pool_token``, TTL ``keys.DRAW_POOL_TTL``). A draw reads the token (one store
GET) and rebuilds the pool when it changed or expired, so every process picks up a bank
edit within the TTL, or at once after the banks announce a change
(``quizengine.banks.services.announce_bank_changed``). Removals are also safe before
that: the service re-checks the drawn questions (active, same bank, same filters) in the
query that loads them and redraws if one no longer qualifies. Without the store (Redis
down) pools fall back to a local age limit.
"""

from __future__ import annotations

import secrets
import threading
import time
from array import array
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from quizengine.models import Question
from quizengine.store import Store, StoreUnavailable, keys


@dataclass(frozen=True)
class PoolKey:
    bank_id: int
    difficulty: str | None = None
    topic: str | None = None


@dataclass
class _Pool:
    ids: array[int]
    token: str | None
    built_at: float


def eligible_ids(session: Session, key: PoolKey) -> array[int]:
    """Active questions with a current version, matching the rule's filters, by id."""
    stmt = select(Question.id).where(
        Question.bank_id == key.bank_id,
        Question.active.is_(True),
        Question.current_version_id.is_not(None),
    )
    if key.difficulty is not None:
        stmt = stmt.where(Question.difficulty == key.difficulty)
    if key.topic is not None:
        stmt = stmt.where(Question.topic == key.topic)
    return array("q", session.scalars(stmt.order_by(Question.id)))


class PoolCache:
    """Thread-safe (and gevent-safe) per-process cache of draw pools."""

    def __init__(
        self,
        *,
        max_age: float = keys.DRAW_POOL_TTL,
        check_every: float = 0.0,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.max_age = max_age
        # Banks' tokens are read from the store at most this often (0: on every draw). The
        # app uses 1 s: a bank edit reaches every draw within a second; a removed question
        # is caught sooner still by the draw's re-check.
        self.check_every = check_every
        self._seen: dict[int, tuple[float, str | None]] = {}
        self._monotonic = monotonic
        self._pools: dict[PoolKey, _Pool] = {}
        self._lock = threading.Lock()
        self._building: dict[PoolKey, threading.Lock] = {}
        self.builds = 0  # how many times a pool was read from the database (tests, metrics)

    def pools(self, session: Session, store: Store, keys_: list[PoolKey]) -> list[array[int]]:
        """The pools of a round's rules; their banks' tokens read in one store call."""
        tokens = self._tokens(store, [k.bank_id for k in keys_])
        found: list[array[int]] = []
        for key, token in zip(keys_, tokens, strict=True):
            cached = self._usable(key, token)
            found.append(cached if cached is not None else self.pool(session, store, key))
        return found

    def pool(self, session: Session, store: Store, key: PoolKey) -> array[int]:
        token = self._token(store, key.bank_id)
        cached = self._usable(key, token)
        if cached is not None:
            return cached
        # One build per key per process, even when a thousand starts arrive together.
        with self._lock:
            build_lock = self._building.setdefault(key, threading.Lock())
        with build_lock:
            cached = self._usable(key, self._token(store, key.bank_id))
            if cached is not None:
                return cached
            ids = eligible_ids(session, key)
            self.builds += 1
            token = self._token(store, key.bank_id)
            if token is None:
                token = self._new_token(store, key.bank_id)
            self._pools[key] = _Pool(ids, token, self._monotonic())
            self._seen[key.bank_id] = (self._monotonic(), token)
            return ids

    def forget(self, key: PoolKey) -> None:
        """Drop a pool found stale (a drawn question no longer qualifies)."""
        self._pools.pop(key, None)
        self._seen.pop(key.bank_id, None)

    def _usable(self, key: PoolKey, token: str | None) -> array[int] | None:
        entry = self._pools.get(key)
        if entry is None:
            return None
        if self._monotonic() - entry.built_at > self.max_age:
            return None
        if token is not None and entry.token != token:
            return None
        if token is None and entry.token is not None and self._store_up:
            # The token expired or the bank was invalidated: rebuild.
            return None
        return entry.ids

    _store_up = True

    def _token(self, store: Store, bank_id: int) -> str | None:
        try:
            value = store.get(keys.draw_pool_token(bank_id))
        except StoreUnavailable:
            self._store_up = False
            return None
        self._store_up = True
        return value

    def _tokens(self, store: Store, bank_ids: list[int]) -> list[str | None]:
        now = self._monotonic()
        seen = [self._seen.get(b) for b in bank_ids]
        if self.check_every > 0 and all(
            s is not None and now - s[0] < self.check_every for s in seen
        ):
            return [s[1] for s in seen if s is not None]
        try:
            values = store.get_many([keys.draw_pool_token(b) for b in bank_ids])
        except StoreUnavailable:
            self._store_up = False
            return [None] * len(bank_ids)
        self._store_up = True
        for bank_id, token in zip(bank_ids, values, strict=True):
            self._seen[bank_id] = (now, token)
        return values

    def _new_token(self, store: Store, bank_id: int) -> str | None:
        token = secrets.token_hex(8)
        try:
            store.set(keys.draw_pool_token(bank_id), token, ttl=self.max_age)
        except StoreUnavailable:
            return None
        return token

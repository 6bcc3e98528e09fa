"""Every store key in one place, with its TTL where it is a cache.

Features add their keys here so that the whole keyspace can be read at a glance.
"""

from __future__ import annotations

# Seconds a leaderboard is kept after its last write; rebuilt from the database when missing.
BOARD_TTL = 14 * 24 * 3600


def health() -> str:
    return "health"


# Draw pools (attempts/pools.py): a generation token per bank. Each process keeps the bank's
# eligible question ids in memory and rebuilds them when the token changes or expires, so
# a bank edit reaches every process within DRAW_POOL_TTL (or at once via invalidation).
DRAW_POOL_TTL = 300


def draw_pool_token(bank_id: int) -> str:
    return f"draw:pool:{bank_id}"

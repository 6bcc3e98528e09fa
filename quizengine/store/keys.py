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


# --- Leaderboards (quizengine.leaderboard). Everything per round can be rebuilt from the
# database (`quizengine leaderboard rebuild`); the app rebuilds missing keys on first use.
# Every board key gets BOARD_TTL, refreshed on each write; the "built" marker is set only by
# a rebuild, so it always expires first and the next reader rebuilds the whole round.

# Seconds a rebuild may hold the round's lock (and mark it "rebuilding") at most.
BOARD_REBUILD_TTL = 600
# Seconds between two cross-checks of a round's board against the database.
BOARD_CHECK_TTL = 15
# The three unit tallies of a round (sorted sets: unit id, or "all" → value).
UNIT_TALLIES = ("participants", "attempts", "points")


def board(round_id: int, board_id: int | None) -> str:
    """Sorted set: one member per contestant (their best attempt), all scores 0."""
    return f"lb:{round_id}:board:{board_id or 0}"


def board_best(round_id: int) -> str:
    """Hash: contestant id → "member|points|attempts" of their best attempt."""
    return f"lb:{round_id}:best"


def unit_tally(round_id: int, what: str) -> str:
    """Sorted set: unit id (and "all") → participants / attempts / sum of best points."""
    return f"lb:{round_id}:units:{what}"


def board_built(round_id: int) -> str:
    """String: the phase the round's keys were built for (ladder steps in force, truth)."""
    return f"lb:{round_id}:built"


def board_lock(round_id: int) -> str:
    return f"lb:{round_id}:lock"


def board_rebuilding(round_id: int) -> str:
    """String set while a rebuild runs: recorders then also note the contestant in pending."""
    return f"lb:{round_id}:rebuilding"


def board_pending(round_id: int) -> str:
    """Hash: contestants recorded during a rebuild, replayed into the new keys after the swap."""
    return f"lb:{round_id}:pending"


def board_check(round_id: int) -> str:
    """Counter with BOARD_CHECK_TTL: the first reader in each period cross-checks the board."""
    return f"lb:{round_id}:check"


def board_seen(round_id: int) -> str:
    """String: the database's attempt count at the previous cross-check."""
    return f"lb:{round_id}:seen"

"""Every store key in one place, with its TTL where it is a cache.

Features add their keys here so that the whole keyspace can be read at a glance.
"""

from __future__ import annotations

# Seconds a leaderboard is kept after its last write; rebuilt from the database when missing.
BOARD_TTL = 14 * 24 * 3600


def health() -> str:
    return "health"

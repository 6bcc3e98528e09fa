"""The ranking ladder: a pure core (no I/O) shared by the Redis encoding and the SQL order.

A round ranks each contestant's best attempt by an ordered list of steps (the contest's
published tie-break rule):

- ``points``        more is better;
- ``prediction``    smaller |prediction − true value| is better; no prediction ranks last;
- ``duration``      shorter is better;
- ``submitted_at``  earlier is better;
- ``started_at``    the contestant's earlier FIRST start in the round is better (their
                    earliest attempt of any status: when they first took part).

After the ladder, a full tie goes to the earlier attempt: the attempt id is the final key.
Ids come from the database sequence when the attempt is inserted, which is when it is
started, so id order is start order.

While the round is open the true value is unknown and the ``prediction`` step is skipped;
from the close on it uses the true value.

Redis encoding. Sorted-set scores are doubles (53 bits) — too narrow for five steps of
timestamps in microseconds. Every entry therefore has the same score (0) and the whole
ladder lives in the member: fixed-width lower-case hexadecimal fields (ASCII), so that
comparing two members bytewise (what Redis does for equal scores, and what the Lua
compare does for ASCII) is comparing their ladders. ``sort_key`` is the same order as a
tuple of integers; tests check the three (tuple, member bytes, SQL) agree.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

LADDER_STEPS = ("points", "prediction", "duration", "submitted_at", "started_at")
DEFAULT_STEPS = ["points", "prediction", "duration", "submitted_at"]

# Field widths in bits (hex digits × 4). Scores, predictions, durations in ms and ids are
# PostgreSQL integers (< 2**31); timestamps are microseconds since 1970 (56 bits last until
# the year 4253). The all-ones value of a field is reserved for "missing" (ranks last).
_W_POINTS = 32
_W_SMALL = 32
_W_TIME = 56
_W_ID = 32
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def parse_ladder(text: str) -> list[str]:
    """``"points,duration"`` → ``["points", "duration"]``; ValueError with a clear message."""
    steps = [part.strip().lower() for part in (text or "").split(",") if part.strip()]
    if not steps:
        raise ValueError(
            "the ladder is empty: give comma-separated steps from " + ", ".join(LADDER_STEPS)
        )
    unknown = [s for s in steps if s not in LADDER_STEPS]
    if unknown:
        raise ValueError(
            f"unknown ladder step(s): {', '.join(unknown)}; choose from " + ", ".join(LADDER_STEPS)
        )
    seen: set[str] = set()
    for s in steps:
        if s in seen:
            raise ValueError(f"ladder step '{s}' is given twice")
        seen.add(s)
    return steps


def live_steps(steps: list[str], truth: int | None) -> list[str]:
    """The steps in force: ``prediction`` only once its true value is known."""
    return [s for s in steps if s != "prediction" or truth is not None]


@dataclass(frozen=True, slots=True)
class Standing:
    """What the ladder looks at for one attempt."""

    attempt_id: int
    points: int | None
    prediction: int | None
    duration_ms: int | None
    submitted_at: datetime | None
    # The contestant's first start in the round (their earliest attempt, any status).
    first_started_at: datetime | None


_TOP = {w: (1 << w) - 1 for w in (_W_POINTS, _W_SMALL, _W_TIME, _W_ID)}


def _max(width: int) -> int:
    return _TOP[width]


def _clamp(value: int, width: int) -> int:
    # Values that reach the top are impossible for PostgreSQL integers; the top is
    # reserved for "missing", which ranks last.
    top = _TOP[width] - 1
    return top if value > top else (0 if value < 0 else value)


_MICROSECOND = timedelta(microseconds=1)


def _micros(value: datetime | None) -> int | None:
    if value is None:
        return None
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return (value - _EPOCH) // _MICROSECOND


def _fields(s: Standing, steps: list[str], truth: int | None) -> list[tuple[int, int]]:
    """(value, width) per step in force, smaller is better; ``None`` becomes the maximum."""
    out: list[tuple[int, int]] = []
    for step in live_steps(steps, truth):
        if step == "points":
            out.append((_max(_W_POINTS) - _clamp(s.points or 0, _W_POINTS), _W_POINTS))
        elif step == "prediction":
            assert truth is not None
            if s.prediction is None:
                out.append((_max(_W_SMALL), _W_SMALL))
            else:
                out.append((_clamp(abs(s.prediction - truth), _W_SMALL), _W_SMALL))
        elif step == "duration":
            value = _max(_W_SMALL) if s.duration_ms is None else _clamp(s.duration_ms, _W_SMALL)
            out.append((value, _W_SMALL))
        else:
            at = _micros(s.submitted_at if step == "submitted_at" else s.first_started_at)
            out.append((_max(_W_TIME) if at is None else _clamp(at, _W_TIME), _W_TIME))
    out.append((_clamp(s.attempt_id, _W_ID), _W_ID))
    return out


def sort_key(s: Standing, steps: list[str], truth: int | None) -> tuple[int, ...]:
    """Ascending order is rank order."""
    return tuple(value for value, _ in _fields(s, steps, truth))


def encode(s: Standing, steps: list[str], truth: int | None) -> str:
    """The sorted-set member: bytewise order is rank order; ASCII only."""
    packed = bits = 0
    for value, width in _fields(s, steps, truth):
        packed = (packed << width) | value
        bits += width
    return format(packed, f"0{bits // 4}x")


def attempt_id_of(member: str) -> int:
    """The attempt behind a member (its last field)."""
    return int(member[-_W_ID // 4 :], 16)

"""Prize rules: a pure core (no I/O) applied to a final ranking.

Individual prizes go by position: on each board, walking down the final ranking, the first
``counts[0]`` eligible contestants get a first prize, the next ``counts[1]`` a second, and
so on. A contestant gets at most one prize per round; with "once per contest" a contestant
who already won in another finalised round of the contest is passed over, and the prize
goes to the next one down (their rank does not change).

Collective (unit) prizes rank grassroots units by the organiser's formula:

- ``participants``: the number of the unit's members ranked in the round;
- ``rate``: participants ÷ the unit's member count (units without a member count are not
  ranked: the rate cannot be computed);
- ``rate_points``: the rate in percent plus the prize points the unit's members won in
  the round (e.g. first 10, second 8, third 6, consolation 4).

Ties go to more participants, then to the unit code (alphabetically). Scores are compared
exactly (fractions), never as floating point.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from fractions import Fraction

from quizengine.models.judging import PRIZE_LEVELS, UnitFormula

DEFAULT_PRIZE_POINTS = (10, 8, 6, 4)
NOTE_WON_BEFORE = "won_before"


def clean_counts(values: Sequence[int] | None) -> list[int]:
    """Four non-negative counts (missing levels are 0)."""
    counts = [max(0, int(v)) for v in (values or [])][: len(PRIZE_LEVELS)]
    return counts + [0] * (len(PRIZE_LEVELS) - len(counts))


def prize_slots(counts: Sequence[int] | None) -> list[str]:
    """``[1, 2, 0, 1]`` → ``["first", "second", "second", "consolation"]``."""
    levels = zip(PRIZE_LEVELS, clean_counts(counts), strict=True)
    return [level.value for level, n in levels for _ in range(n)]


def assign_prizes(
    user_ids: Sequence[int],
    counts: Sequence[int],
    *,
    passed_over: Iterable[int] = (),
    already_awarded: set[int] | None = None,
) -> dict[int, str]:
    """Prize level per user id, for one board's ranking (best first).

    ``passed_over``: contestants who may not win here (won in another round of the
    contest). ``already_awarded`` is shared between the boards of a round and updated, so
    no one wins twice in a round.
    """
    awarded = already_awarded if already_awarded is not None else set()
    skip = set(passed_over)
    slots = prize_slots(counts)
    result: dict[int, str] = {}
    position = 0
    for user_id in user_ids:
        if position >= len(slots):
            break
        if user_id in skip or user_id in awarded:
            continue
        result[user_id] = slots[position]
        awarded.add(user_id)
        position += 1
    return result


@dataclass(frozen=True)
class UnitTally:
    unit_id: int
    code: str
    participants: int
    members: int | None
    prize_points: int = 0


@dataclass(frozen=True)
class RankedUnit:
    rank: int
    prize: str | None
    tally: UnitTally
    score: Fraction

    @property
    def score_text(self) -> str:
        return format_score(self.score)


def unit_score(tally: UnitTally, formula: str) -> Fraction | None:
    """The formula's value; None when the unit cannot be ranked under it."""
    if tally.participants <= 0:
        return None
    if formula == UnitFormula.PARTICIPANTS:
        return Fraction(tally.participants)
    if not tally.members:
        return None
    rate = Fraction(tally.participants * 100, tally.members)
    if formula == UnitFormula.RATE:
        return rate
    if formula == UnitFormula.RATE_POINTS:
        return rate + tally.prize_points
    return None


def rank_units(
    tallies: Iterable[UnitTally], formula: str, counts: Sequence[int]
) -> list[RankedUnit]:
    """Units ranked by the formula (best first), with collective prizes by position."""
    if formula == UnitFormula.NONE:
        return []
    scored = [(score, t) for t in tallies if (score := unit_score(t, formula)) is not None]
    scored.sort(key=lambda pair: (-pair[0], -pair[1].participants, pair[1].code))
    slots = prize_slots(counts)
    return [
        RankedUnit(
            rank=i + 1,
            prize=slots[i] if i < len(slots) else None,
            tally=tally,
            score=score,
        )
        for i, (score, tally) in enumerate(scored)
    ]


def format_score(value: Fraction) -> str:
    """Two decimals with a decimal comma, as Vietnamese readers write numbers."""
    if value.denominator == 1:
        return str(value.numerator)
    hundredths = round(value * 100)
    whole, frac = divmod(hundredths, 100)
    return f"{whole},{frac:02d}"

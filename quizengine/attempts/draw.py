"""The draw, without I/O: which questions an attempt gets, in which order, with which letters.

Cost. Each draw rule has a *pool*: the ids of the questions it may draw, held in memory as
a compact array (see pools.py for how it is built and kept fresh). Picking ``k`` questions
probes ``k`` random positions of the pool and rejects repeats, so a draw costs O(k) whatever
the size of the bank: 20 questions out of 100,000 is 20 probes (and a handful of retries),
never a sort or a scan. Only when a pool is nearly used up (k close to its size) does the
draw fall back to listing what is left — and then the pool is small, so that is still O(k).
"""

from __future__ import annotations

import random
import string
from collections.abc import Sequence, Set
from dataclasses import dataclass

LETTERS = string.ascii_uppercase


class PoolTooSmall(Exception):
    """A rule asks for more questions than its pool still has (after earlier rules)."""

    def __init__(self, rule_index: int, wanted: int, available: int) -> None:
        self.rule_index = rule_index
        self.wanted = wanted
        self.available = available
        super().__init__(f"rule {rule_index}: wanted {wanted}, only {available} available")


def pick_distinct(
    pool: Sequence[int],
    count: int,
    rng: random.Random,
    taken: Set[int] = frozenset(),
    *,
    rule_index: int = 0,
) -> list[int]:
    """``count`` distinct members of ``pool`` not in ``taken``, uniformly, in draw order.

    Rejection sampling over random positions: expected O(count) while the pool is much
    larger than what is taken from it.
    """
    if count <= 0:
        return []
    size = len(pool)
    chosen: list[int] = []
    seen: set[int] = set()
    # Enough tries that failing them means the pool really is nearly exhausted.
    budget = 4 * count + 32
    while len(chosen) < count and budget > 0:
        budget -= 1
        if size == 0:
            break
        candidate = pool[rng.randrange(size)]
        if candidate in seen or candidate in taken:
            continue
        seen.add(candidate)
        chosen.append(candidate)
    if len(chosen) < count:
        # Nearly exhausted: list what is left (small, since rejection kept failing).
        rest = [q for q in dict.fromkeys(pool) if q not in seen and q not in taken]
        need = count - len(chosen)
        if len(rest) < need:
            raise PoolTooSmall(rule_index, count, len(chosen) + len(rest))
        chosen.extend(rng.sample(rest, need))
    return chosen


@dataclass(frozen=True)
class Drawn:
    question_id: int
    rule_index: int


def draw_questions(
    pools: Sequence[Sequence[int]],
    counts: Sequence[int],
    rng: random.Random,
    *,
    shuffle: bool = True,
    exclude: Set[int] = frozenset(),
) -> list[Drawn]:
    """Questions for one attempt: ``counts[i]`` from ``pools[i]``, never one twice.

    Rules may overlap (e.g. "5 hard ones from bank X" and "15 from bank X"): later rules
    skip what earlier rules took. Without ``shuffle`` each rule's questions keep bank
    order (ascending id) and rules keep their order.
    """
    if len(pools) != len(counts):
        raise ValueError("one count per pool")
    taken: set[int] = set(exclude)
    ordered: list[Drawn] = []
    for index, (pool, count) in enumerate(zip(pools, counts, strict=True)):
        picked = pick_distinct(pool, count, rng, taken, rule_index=index)
        taken.update(picked)
        ordered.extend(Drawn(q, index) for q in (picked if shuffle else sorted(picked)))
    if shuffle:
        rng.shuffle(ordered)
    return ordered


def option_order(option_count: int, rng: random.Random, *, shuffle: bool = True) -> list[int]:
    """``order[k]`` = index of the stored option shown under the k-th letter."""
    order = list(range(option_count))
    if shuffle:
        rng.shuffle(order)
    return order


@dataclass(frozen=True)
class LetterMap:
    """The per-attempt mapping between the letters a contestant sees and stored options."""

    order: Sequence[int]

    def letters(self) -> list[str]:
        return list(LETTERS[: len(self.order)])

    def to_stored(self, keys: Sequence[str]) -> list[int] | None:
        """Stored indexes for the letters given, sorted; None when a letter is unknown."""
        out: set[int] = set()
        for key in keys:
            if not isinstance(key, str) or len(key) != 1:
                return None
            position = LETTERS.find(key.upper())
            if position < 0 or position >= len(self.order):
                return None
            out.add(self.order[position])
        return sorted(out)

    def to_letters(self, stored: Sequence[int] | None) -> list[str]:
        if not stored:
            return []
        wanted = set(stored)
        return [LETTERS[k] for k, index in enumerate(self.order) if index in wanted]

"""Grading, without I/O: single choice exact, multi-select all-or-nothing, points per question."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True)
class GradedItem:
    item_id: int
    is_correct: bool
    points: int


@dataclass(frozen=True)
class Grade:
    score: int
    correct: int
    total: int
    max_score: int


def is_correct(chosen: Sequence[int] | None, correct: Sequence[int]) -> bool:
    """Exactly the correct set: one option for a single-choice question, all of them (and
    nothing else) for a multi-select one. An unanswered question is wrong."""
    if not chosen:
        return False
    return set(chosen) == set(correct)


def grade_items(
    items: Iterable[tuple[int, Sequence[int] | None, Sequence[int], int]],
) -> tuple[list[GradedItem], Grade]:
    """``items``: (item id, chosen stored indexes, correct stored indexes, points)."""
    graded: list[GradedItem] = []
    score = correct = max_score = 0
    for item_id, chosen, right, points in items:
        ok = is_correct(chosen, right)
        graded.append(GradedItem(item_id, ok, points))
        max_score += points
        if ok:
            correct += 1
            score += points
    return graded, Grade(score=score, correct=correct, total=len(graded), max_score=max_score)


def duration_ms(started_at: datetime, submitted_at: datetime) -> int:
    """Server-measured duration, never negative."""
    return max(0, round((submitted_at - started_at).total_seconds() * 1000))

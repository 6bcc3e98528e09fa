"""Values organisers type (CLI and forms) turned into plain values: pure, no I/O.

- a draw rule ``SLUG:COUNT`` with an optional filter ``SLUG:COUNT:difficulty=hard`` or
  ``SLUG:COUNT:topic=Luật giao thông`` (both may be given: ``…:difficulty=easy:topic=…``);
- a time limit in minutes with decimals (``0.5`` → 30 seconds);
- prize counts ``FIRST,SECOND,THIRD,CONSOLATION``.

Errors are ValueError with an English message (the CLI shows it as is).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

DIFFICULTIES = ("easy", "medium", "hard")
# Sanity bounds, not policy: a day-long attempt or 1,000 attempts is already far beyond
# what any contest uses ("unlimited" attempts are typed as a large number).
MAX_TIME_LIMIT_SECONDS = 24 * 3600
MAX_ATTEMPTS = 1000
MAX_QUESTIONS = 500
PRIZE_LEVELS = 4


@dataclass(frozen=True)
class DrawSpec:
    """Draw ``count`` active questions from the bank ``bank_slug``, optionally filtered."""

    bank_slug: str
    count: int
    difficulty: str | None = None
    topic: str | None = None

    def label(self) -> str:
        text = f"{self.bank_slug}:{self.count}"
        if self.difficulty:
            text += f":difficulty={self.difficulty}"
        if self.topic:
            text += f":topic={self.topic}"
        return text


def parse_draw_spec(text: str) -> DrawSpec:
    """``luat-giao-thong:10``, ``luat-giao-thong:5:difficulty=hard``, ``…:topic=Mũ bảo hiểm``."""
    parts = text.split(":")
    if len(parts) < 2 or not parts[0].strip():
        raise ValueError(f"draw '{text}': expected SLUG:COUNT, e.g. luat-giao-thong:10")
    slug = parts[0].strip()
    try:
        count = int(parts[1].strip())
    except ValueError:
        raise ValueError(f"draw '{text}': COUNT must be a whole number") from None
    if count < 1:
        raise ValueError(f"draw '{text}': COUNT must be at least 1")
    difficulty: str | None = None
    topic: str | None = None
    # A topic may itself contain ':' — everything after "topic=" belongs to it.
    rest = parts[2:]
    while rest:
        item = rest.pop(0)
        key, sep, value = item.partition("=")
        key = key.strip().lower()
        if not sep:
            raise ValueError(f"draw '{text}': expected difficulty=… or topic=… after COUNT")
        if key == "difficulty":
            difficulty = value.strip().lower()
            if difficulty not in DIFFICULTIES:
                raise ValueError(
                    f"draw '{text}': difficulty must be one of {', '.join(DIFFICULTIES)}"
                )
        elif key == "topic":
            topic = ":".join([value, *rest]).strip()
            rest = []
            if not topic:
                raise ValueError(f"draw '{text}': topic is empty")
        else:
            raise ValueError(f"draw '{text}': unknown filter '{key}' (use difficulty or topic)")
    return DrawSpec(slug, count, difficulty, topic)


def minutes_to_seconds(text: str | float | Decimal) -> int:
    """Minutes with decimals → whole seconds (rounded half up); at least one second."""
    try:
        minutes = Decimal(str(text).strip().replace(",", "."))
    except InvalidOperation:
        raise ValueError(f"minutes '{text}' is not a number") from None
    if not minutes.is_finite():
        raise ValueError(f"minutes '{text}' is not a number")
    seconds = int((minutes * 60).quantize(Decimal(1), rounding=ROUND_HALF_UP))
    if seconds < 1:
        raise ValueError("the time limit must be at least 1 second (0.02 minutes)")
    if seconds > MAX_TIME_LIMIT_SECONDS:
        raise ValueError("the time limit must be at most 1440 minutes (24 hours)")
    return seconds


def parse_prizes(text: str) -> list[int]:
    """``"1,2,3,5"`` → ``[1, 2, 3, 5]``: first, second, third, consolation."""
    parts = [p.strip() for p in text.split(",")]
    if len(parts) != PRIZE_LEVELS:
        raise ValueError(
            "prizes: expected 4 whole numbers FIRST,SECOND,THIRD,CONSOLATION, e.g. 1,2,3,5"
        )
    try:
        counts = [int(p) for p in parts]
    except ValueError:
        raise ValueError("prizes: every count must be a whole number, e.g. 1,2,3,5") from None
    if any(c < 0 for c in counts):
        raise ValueError("prizes: counts cannot be negative")
    return counts


def format_minutes(seconds: int) -> str:
    """30 → ``"0.5"``, 1200 → ``"20"``: how a time limit is shown in a minutes field."""
    minutes = (Decimal(seconds) / 60).quantize(Decimal("0.01")).normalize()
    return format(minutes, "f")

"""The ranking ladder: a pure core (no I/O) shared by Redis encodings and SQL ordering."""

from __future__ import annotations

LADDER_STEPS = ("points", "prediction", "duration", "submitted_at", "started_at")
DEFAULT_STEPS = ["points", "prediction", "duration", "submitted_at"]


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

"""The server's time. Services ask a Clock, so tests can freeze or move it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Protocol
from zoneinfo import ZoneInfo

LOCAL_TZ = ZoneInfo("Asia/Ho_Chi_Minh")


class Clock(Protocol):
    def now(self) -> datetime:
        """An aware datetime in UTC."""
        ...


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)


class FrozenClock:
    """A clock for tests: stands still until told to move."""

    def __init__(self, at: datetime) -> None:
        self._at = as_utc(at)

    def now(self) -> datetime:
        return self._at

    def advance(self, **kwargs: float) -> None:
        self._at += timedelta(**kwargs)

    def set(self, at: datetime) -> None:
        self._at = as_utc(at)


def as_utc(value: datetime) -> datetime:
    """Aware UTC from a stored value; SQLite hands back naive datetimes that are UTC."""
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


def to_local(value: datetime) -> datetime:
    return as_utc(value).astimezone(LOCAL_TZ)


def parse_local_iso(text: str) -> datetime:
    """ISO 8601 as organisers type it: without an offset it means Vietnam time."""
    parsed = datetime.fromisoformat(text.strip())
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=LOCAL_TZ)
    return parsed.astimezone(UTC)


def iso_z(value: datetime) -> str:
    """UTC ISO 8601 ending in Z, millisecond precision, as the JSON API promises."""
    return as_utc(value).isoformat(timespec="milliseconds").replace("+00:00", "Z")

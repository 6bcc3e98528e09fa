"""The canonical final ranking: the exact bytes behind a round's SHA-256.

Specification (version 1) — anyone can recompute the hash from the published data:

* The text is UTF-8, every line ends with a single LF (``\\n``), including the last.
* Line 1 is ``quizengine-final-ranking/1 round=<round id>`` (binding the list to its round).
* Then one line per ranked contestant of the round, every board included, ordered by board
  (the contest's board order — position, then id — followed by the unnamed board ``""``
  of attempts without a board, which is the only one when the contest has no boards),
  then by rank ascending. Disqualified contestants are not ranked and do not appear.
* Each line is a JSON array (RFC 8259) of exactly 11 values, in this order:

  1. ``rank`` — integer ≥ 1, the rank on the board (distinct within a board);
  2. ``board`` — string, the board's name (``""`` when the contest has no boards);
  3. ``prize`` — ``"first"``, ``"second"``, ``"third"``, ``"consolation"`` or ``null``;
  4. ``contestant_id`` — integer, the contestant's account id;
  5. ``full_name`` — string, the name as registered, Unicode NFC;
  6. ``unit_code`` — string, the code of the contestant's unit (``""`` when none);
  7. ``points`` — integer;
  8. ``prediction`` — integer or ``null`` (no answer to the prediction question);
  9. ``error`` — integer ``|prediction − true value|`` or ``null`` (no prediction or no
     true value);
  10. ``duration_ms`` — integer milliseconds or ``null``;
  11. ``submitted_at`` — string ``YYYY-MM-DDTHH:MM:SS.ffffffZ`` (UTC, microseconds) or
      ``null``.

  Arrays are written without any whitespace (separators ``,`` and ``:``); characters outside
  ASCII are written as themselves (UTF-8), never as ``\\u`` escapes; inside strings ``"``
  and ``\\`` are backslash-escaped and control characters U+0000–U+001F are written as
  ``\\b \\f \\n \\r \\t`` or ``\\u00xx`` (lowercase hex) — exactly what Python's
  ``json.dumps(value, ensure_ascii=False, separators=(",", ":"))`` produces.
* The hash is the SHA-256 of those bytes, written as 64 lowercase hex digits.
"""

from __future__ import annotations

import hashlib
import json
import unicodedata
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime

from quizengine.clock import as_utc

FORMAT = "quizengine-final-ranking/1"


@dataclass(frozen=True, slots=True)
class ResultRow:
    """One ranked contestant as the canonical list and every export know them."""

    rank: int
    board: str
    prize: str | None
    user_id: int
    full_name: str
    unit_code: str
    unit_path: str
    phone_masked: str
    points: int
    prediction: int | None
    error: int | None
    duration_ms: int | None
    submitted_at: datetime | None


def utc_stamp(value: datetime | None) -> str | None:
    if value is None:
        return None
    return as_utc(value).astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def record(row: ResultRow) -> list[object]:
    """The row's 11 canonical values, in specification order."""
    return [
        row.rank,
        unicodedata.normalize("NFC", row.board),
        row.prize,
        row.user_id,
        unicodedata.normalize("NFC", row.full_name),
        unicodedata.normalize("NFC", row.unit_code),
        row.points,
        row.prediction,
        row.error,
        row.duration_ms,
        utc_stamp(row.submitted_at),
    ]


def canonical_lines(round_id: int, rows: Iterable[ResultRow]) -> Iterator[bytes]:
    yield f"{FORMAT} round={round_id}\n".encode()
    for row in rows:
        yield (json.dumps(record(row), ensure_ascii=False, separators=(",", ":")) + "\n").encode()


def canonical_hash(round_id: int, rows: Iterable[ResultRow]) -> str:
    """SHA-256 (lowercase hex) of the canonical list; rows must be in canonical order."""
    digest = hashlib.sha256()
    for line in canonical_lines(round_id, rows):
        digest.update(line)
    return digest.hexdigest()

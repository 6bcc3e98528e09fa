"""Live leaderboards: Redis answers, the database is the truth.

Per round, Redis holds one sorted set per board (bảng) with each contestant's best attempt
(the whole ladder encoded in the member, see ``ladder``), a hash contestant → best entry,
and three unit tallies (participants, attempts, sum of best points per unit and its
parents). A finished attempt updates them in one atomic step (``Store.record_best``) that
only moves the contestant when the new attempt beats their best, and is safe to replay.

The keys are rebuilt from the database:
- on first use when they are missing (flushed, restarted, expired) — one reader rebuilds
  under a lock while the others answer from the database;
- when the round closes and the prediction's true value comes into force (the phase the
  keys were built for is stored with them in ``board_built``);
- when a cross-check (every BOARD_CHECK_TTL seconds, by the first reader) finds the board
  behind the database (a submission stored while Redis was down) or ahead of it (a
  disqualification), or the true value changed;
- by ``quizengine leaderboard rebuild`` (judges' changes call ``rebuild_round`` too).

A rebuild fills new keys and swaps them in atomically. Submissions recorded while it runs
are noted in ``board_pending`` and replayed into the new keys after the swap, so none is
lost between the rebuild's read of the database and the swap.

When Redis is down, submissions are still stored (recording logs and returns), ``rank_of``
answers from the database, and the pages say the board is temporarily unavailable.
"""

from __future__ import annotations

import logging
import math
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from cachetools import TTLCache
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import Session

from quizengine.errors import DomainError, Invalid, NotFound
from quizengine.leaderboard import queries
from quizengine.leaderboard.ladder import attempt_id_of, encode, live_steps
from quizengine.models import Attempt, Round
from quizengine.store import Store, StoreUnavailable, keys

log = logging.getLogger(__name__)

MAX_LIMIT = 100
# Board keys outlive the "built" marker: it is set only by rebuilds, an hour shorter, while
# writes refresh the keys; so it expires first and the next reader rebuilds the round.
_TTL = keys.BOARD_TTL
_SCORE = 0.0  # every member has the same score: the ladder lives in the member

# Rounds this process failed to record into Redis (it was down): the next successful
# access rebuilds them at once instead of waiting for the periodic cross-check.
_dirty: set[tuple[str, int]] = set()


class LeaderboardUnavailable(DomainError):
    status = 503
    code = "unavailable"
    default_message = _l(
        "Bảng xếp hạng tạm thời không khả dụng. Bài thi của bạn vẫn được lưu đầy đủ; "
        "vui lòng xem lại sau ít phút."
    )


class RebuildRunning(RuntimeError):
    """Another process is rebuilding this round's keys."""


@dataclass(frozen=True)
class Phase:
    """What a round's keys were built for: the ladder steps in force and the true value."""

    steps: tuple[str, ...]
    truth: int | None

    def marker(self) -> str:
        return f"v1|{','.join(self.steps)}|{'-' if self.truth is None else self.truth}"

    @classmethod
    def parse(cls, text: str | None) -> Phase | None:
        if not text or not text.startswith("v1|"):
            return None
        _, steps, truth = text.split("|", 2)
        return cls(tuple(s for s in steps.split(",") if s), None if truth == "-" else int(truth))


def _now(now: datetime | None) -> datetime:
    return now if now is not None else datetime.now(UTC)


def _expected_steps(round_: Round, now: datetime) -> tuple[str, ...]:
    due = queries.truth_is_due(round_, now)
    return tuple(live_steps(round_.ladder_steps, 0 if due else None))


def _tally_keys(round_id: int) -> tuple[str, str, str]:
    p, a, s = (keys.unit_tally(round_id, what) for what in keys.UNIT_TALLIES)
    return p, a, s


def _groups(path: list[int]) -> list[str]:
    return [*(str(u) for u in path), "all"]


# --- recording ----------------------------------------------------------------------------


def _record_user(session: Session, store: Store, round_: Round, user_id: int, phase: Phase) -> None:
    rows = queries.best_rows(session, round_, phase.truth, user_id=user_id)
    if not rows:
        return
    row = rows[0]
    store.record_best(
        keys.board(round_.id, row.board_id),
        keys.board_best(round_.id),
        str(user_id),
        encode(row.standing, list(phase.steps), phase.truth),
        _SCORE,
        points=row.points,
        attempts=row.attempts,
        tallies=_tally_keys(round_.id),
        groups=_groups(queries.unit_path(session, row.unit_id)),
        ttl=_TTL,
    )


def record_result(session: Session, store: Store, attempt: Attempt) -> None:
    """Update the live boards after the commit that finished ``attempt``.

    Records the contestant's best attempt as the database has it now (this one when it
    beats their previous best); never raises for Redis trouble — the database is the truth
    and the board heals from it.
    """
    round_id, user_id = attempt.round_id, attempt.user_id
    try:
        round_ = session.get(Round, round_id)
        if round_ is None:
            return
        if store.exists(keys.board_rebuilding(round_id)):
            store.hset(keys.board_pending(round_id), {str(user_id): "1"})
        phase = Phase.parse(store.get(keys.board_built(round_id)))
        if phase is None:
            return  # not built: the first reader rebuilds from the database, this included
        if phase.truth is not None and queries.prediction_truth(session, round_) != phase.truth:
            # A late (deadline-finalised) attempt changed the true value: re-encode all.
            store.delete(keys.board_built(round_id))
            return
        _record_user(session, store, round_, user_id, phase)
    except StoreUnavailable as exc:
        _dirty.add((store.prefix, round_id))
        log.warning(
            "leaderboard: Redis unavailable, attempt %s of round %s not recorded yet (%s); "
            "the board is rebuilt from the database when Redis is back",
            attempt.id,
            round_id,
            exc,
        )


# --- rebuilding ---------------------------------------------------------------------------


def _lock(store: Store, round_id: int) -> bool:
    return store.incr(keys.board_lock(round_id), ttl=keys.BOARD_REBUILD_TTL) == 1


def _build(session: Session, store: Store, round_: Round, now: datetime) -> tuple[Phase, int]:
    """Read the database, swap the round's keys in, replay what was recorded meanwhile."""
    rid = round_.id
    store.set(keys.board_rebuilding(rid), "1", ttl=keys.BOARD_REBUILD_TTL)
    store.delete(keys.board_pending(rid))
    due = queries.truth_is_due(round_, now)
    truth = queries.prediction_truth(session, round_) if due else None
    phase = Phase(tuple(live_steps(round_.ladder_steps, truth)), truth)
    rows = queries.best_rows(session, round_, truth)
    boards: dict[str, dict[str, float]] = {keys.board(rid, None): {}}
    for b in queries.contest_boards(session, round_.contest_id):
        boards[keys.board(rid, b.id)] = {}
    best: dict[str, str] = {}
    steps = list(phase.steps)
    for n, row in enumerate(rows):
        if n % 5000 == 4999:
            time.sleep(0)  # a rebuild is CPU work: let a gevent worker serve others meanwhile
        member = encode(row.standing, steps, truth)
        boards.setdefault(keys.board(rid, row.board_id), {})[member] = _SCORE
        best[str(row.user_id)] = f"{member}|{row.points}|{row.attempts}"
    tallies = queries.tallies_from(rows, queries.unit_paths(session))
    tally_keys = _tally_keys(rid)
    zsets: dict[str, dict[str, float]] = dict(boards)
    for key, attr in zip(tally_keys, ("participants", "attempts", "points"), strict=True):
        zsets[key] = {group: float(getattr(t, attr)) for group, t in tallies.items()}
    marker = phase.marker()
    store.replace_keys(
        zsets, {keys.board_best(rid): best}, {keys.board_built(rid): marker}, ttl=_TTL
    )
    # The marker expires an hour before the keys it describes (unless a write refreshed
    # them later still), so a reader never sees it over an expired board.
    store.set(keys.board_built(rid), marker, ttl=_TTL - 3600)
    # Contestants recorded while we read: their records may have gone to the old keys.
    for user_id in store.hgetall(keys.board_pending(rid)):
        _record_user(session, store, round_, int(user_id), phase)
    store.delete(keys.board_rebuilding(rid))
    for user_id in store.hgetall(keys.board_pending(rid)):
        _record_user(session, store, round_, int(user_id), phase)
    store.delete(keys.board_pending(rid))
    store.set(keys.board_seen(rid), str(queries.counted_attempts(session, rid)), ttl=_TTL)
    _dirty.discard((store.prefix, rid))
    return phase, len(rows)


def rebuild_round(
    session: Session, store: Store, round_id: int, *, now: datetime | None = None
) -> int:
    """Rebuild a round's keys from the database now; returns the number of contestants.

    Raises RebuildRunning when another process holds the round's rebuild lock, NotFound
    for an unknown round, StoreUnavailable when Redis is down.
    """
    round_ = session.get(Round, round_id)
    if round_ is None:
        raise NotFound()
    if not _lock(store, round_id):
        raise RebuildRunning(f"round {round_id} is being rebuilt by another process")
    try:
        _, count = _build(session, store, round_, _now(now))
    finally:
        store.delete(keys.board_lock(round_id))
    return count


def invalidate_round(store: Store, round_id: int) -> None:
    """Make the next reader rebuild the round (after a disqualification, a new true value)."""
    try:
        store.delete(keys.board_built(round_id))
    except StoreUnavailable:
        _dirty.add((store.prefix, round_id))


def _consistent(session: Session, store: Store, round_: Round, phase: Phase) -> bool:
    """Cross-check the board against the database (attempt counts, the true value)."""
    rid = round_.id
    in_redis = int(store.zscore(_tally_keys(rid)[1], "all") or 0)
    in_db = queries.counted_attempts(session, rid)
    seen = store.get(keys.board_seen(rid))
    store.set(keys.board_seen(rid), str(in_db), ttl=_TTL)
    if in_redis > in_db:
        return False  # something stopped counting (a disqualification): rebuild
    # Attempts counted at the previous check were committed at least BOARD_CHECK_TTL
    # seconds ago: their records are long done — unless Redis lost them.
    if seen is not None and in_redis < int(seen):
        return False
    return phase.truth is None or queries.prediction_truth(session, round_) == phase.truth


def _ready(session: Session, store: Store, round_: Round, now: datetime | None) -> Phase | None:
    """The phase of the round's keys when Redis can answer; None: answer from the database.

    Rebuilds missing or outdated keys on first use (one process at a time). Without
    ``now`` (a caller without a clock) any built phase is accepted: the close is then
    noticed by the next reader that has one.
    """
    rid = round_.id
    phase = Phase.parse(store.get(keys.board_built(rid)))
    if (
        phase is not None
        and (now is None or phase.steps == _expected_steps(round_, now))
        and (store.prefix, rid) not in _dirty
    ):
        if store.incr(keys.board_check(rid), ttl=keys.BOARD_CHECK_TTL) != 1:
            return phase
        if _consistent(session, store, round_, phase):
            return phase
        log.warning("leaderboard: round %s drifted from the database; rebuilding", rid)
    if not _lock(store, rid):
        return None
    try:
        phase, _ = _build(session, store, round_, _now(now))
    finally:
        store.delete(keys.board_lock(rid))
    return phase


# --- reading ------------------------------------------------------------------------------


def _redis_rank(
    store: Store, round_id: int, board_id: int | None, user_id: int
) -> tuple[int, int] | None:
    """(1-based rank, attempt id) of the contestant's kept entry: one Redis call."""
    found = store.owner_rank(
        keys.board(round_id, board_id), keys.board_best(round_id), str(user_id)
    )
    if found is None:
        return None
    rank, member = found
    return rank + 1, attempt_id_of(member)


def rank_of(
    session: Session,
    store: Store,
    round_id: int,
    user_id: int,
    *,
    now: datetime | None = None,
) -> int | None:
    """The contestant's 1-based rank on their board for their best attempt; None without one.

    From Redis (rebuilding missing keys on first use); from the database meanwhile and
    when Redis is down.
    """
    round_ = session.get(Round, round_id)
    if round_ is None:
        return None
    at = _now(now)
    board_id = queries.user_board(session, round_id, user_id)
    phase: Phase | None = None
    try:
        phase = _ready(session, store, round_, now)
        if phase is not None:
            found = _redis_rank(store, round_id, board_id, user_id)
            if found is not None:
                return found[0]
    except StoreUnavailable:
        phase = None
    truth = phase.truth if phase is not None else queries.truth_in_force(session, round_, at)
    mine = queries.ranked_in_db(session, round_id, board_id, truth=truth, user_id=user_id)
    return mine[0].rank if mine else None


def best_attempt(
    session: Session, round_: Round, user_id: int, *, now: datetime | None = None
) -> Attempt | None:
    """The attempt that counts: the one ranking highest under the round's ladder."""
    truth = queries.truth_in_force(session, round_, _now(now))
    rows = queries.best_rows(session, round_, truth, user_id=user_id)
    return session.get(Attempt, rows[0].attempt_id) if rows else None


@dataclass(frozen=True)
class BoardLine:
    rank: int
    name: str
    unit: str
    score: int
    duration_ms: int | None
    user_id: int

    def as_json(self) -> dict[str, Any]:
        return {
            "rank": self.rank,
            "name": self.name,
            "unit": self.unit,
            "score": self.score,
            "duration_ms": self.duration_ms,
        }


@dataclass
class BoardView:
    round_id: int
    round_title: str
    contest_title: str
    final: bool
    closed: bool
    board_id: int | None
    board_name: str | None
    board_names: list[str]
    entries: list[BoardLine]
    me: BoardLine | None
    contestants: int | None = None
    from_database: bool = False
    limit: int = 20
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def me_in_entries(self) -> bool:
        return self.me is not None and any(e.rank == self.me.rank for e in self.entries)

    def as_json(self) -> dict[str, Any]:
        return {
            "final": self.final,
            "entries": [e.as_json() for e in self.entries],
            "me": self.me.as_json() if self.me else None,
        }


@dataclass(frozen=True)
class _Outline:
    """A round's titles and boards: what picking a board needs."""

    contest_id: int
    round_title: str
    contest_title: str
    boards: tuple[tuple[int, str], ...]


@dataclass(frozen=True)
class _Top:
    """The part of a board every viewer sees: its top lines and how they were ranked."""

    entries: list[BoardLine]
    attempt_ids: dict[int, int]  # attempt id → rank, for lines in the top
    contestants: int | None
    final: bool
    closed: bool
    phase: Phase | None  # None: ranked by the database (Redis not built yet)
    truth: int | None


class BoardCache:
    """Per process, for ``seconds``: round outlines and board tops, shared by all viewers.

    A live board read by thousands of phones changes a few times a second at most; each
    reader still gets their own line fresh (one Redis rank and one row). 0 disables it."""

    def __init__(self, seconds: float, *, max_entries: int = 512) -> None:
        self.seconds = seconds
        self._entries: TTLCache[tuple[Any, ...], Any] = TTLCache(
            maxsize=max_entries, ttl=max(seconds, 0.0)
        )
        self._lock = threading.Lock()  # gthread workers share it between threads

    def get(self, key: tuple[Any, ...]) -> Any:
        with self._lock:
            return self._entries.get(key)

    def put(self, key: tuple[Any, ...], value: Any) -> None:
        if self.seconds > 0:
            with self._lock:
                self._entries[key] = value


def _outline(session: Session, round_id: int, cache: BoardCache) -> _Outline:
    found: _Outline | None = cache.get(("outline", round_id))
    if found is not None:
        return found
    round_ = session.get(Round, round_id)
    if round_ is None:
        raise NotFound()
    outline = _Outline(
        contest_id=round_.contest_id,
        round_title=round_.title,
        contest_title=round_.contest.title,
        boards=tuple((b.id, b.name) for b in queries.contest_boards(session, round_.contest_id)),
    )
    cache.put(("outline", round_id), outline)
    return outline


def _pick_board(
    session: Session, outline: _Outline, viewer_id: int | None, board_name: str | None
) -> tuple[int | None, str | None]:
    boards = outline.boards
    if not boards:
        if board_name:
            raise Invalid(_l("Cuộc thi này không chia bảng."))
        return None, None
    if board_name:
        for board_id, name in boards:
            if name == board_name:
                return board_id, name
        raise Invalid(_l("Không có bảng “%(name)s” trong cuộc thi này.", name=board_name))
    mine = (
        queries.entry_board(session, outline.contest_id, viewer_id)
        if viewer_id is not None
        else None
    )
    return next((b for b in boards if b[0] == mine), boards[0])


def _top(
    session: Session, store: Store, round_id: int, board_id: int | None, limit: int, at: datetime
) -> _Top:
    round_ = session.get(Round, round_id)
    if round_ is None:
        raise NotFound()
    top: list[tuple[int, int]] = []  # (rank, attempt id)
    contestants: int | None = None
    truth: int | None = None
    try:
        phase = _ready(session, store, round_, at)
        if phase is not None:
            zkey = keys.board(round_id, board_id)
            top = [
                (i + 1, attempt_id_of(m))
                for i, (m, _) in enumerate(store.zrange(zkey, 0, limit - 1))
            ]
            contestants = store.zcard(zkey)
    except StoreUnavailable as exc:
        raise LeaderboardUnavailable() from exc
    if phase is None:
        truth = queries.truth_in_force(session, round_, at)
        ranked = queries.ranked_in_db(session, round_id, board_id, truth=truth, limit=limit)
        top = [(e.rank, e.attempt_id) for e in ranked]
    shown = queries.display_rows(session, [a for _, a in top])
    entries = [_line(rank, shown[a]) for rank, a in top if a in shown]
    return _Top(
        entries=entries,
        attempt_ids={a: rank for rank, a in top if a in shown},
        contestants=contestants,
        final=round_.finalized_at is not None,
        closed=at >= round_.closes_at,
        phase=phase,
        truth=truth,
    )


def _line(rank: int, row: queries.DisplayRow) -> BoardLine:
    return BoardLine(rank, row.name, row.unit, row.score, row.duration_ms, row.user_id)


def _my_rank(
    session: Session, store: Store, round_id: int, board_id: int | None, top: _Top, user_id: int
) -> tuple[int, int] | None:
    """(rank, attempt id) of the viewer's best attempt, read now, not from the cache."""
    if top.phase is None:
        mine = queries.ranked_in_db(session, round_id, board_id, truth=top.truth, user_id=user_id)
        return (mine[0].rank, mine[0].attempt_id) if mine else None
    try:
        return _redis_rank(store, round_id, board_id, user_id)
    except StoreUnavailable as exc:
        raise LeaderboardUnavailable() from exc


def board_view(
    session: Session,
    store: Store,
    round_id: int,
    *,
    viewer_id: int | None,
    board_name: str | None = None,
    limit: int = 20,
    now: datetime | None = None,
    cache: BoardCache | None = None,
) -> BoardView:
    """Top ``limit`` of a board and the viewer's own line (even outside the top).

    With a ``cache``, the top may be up to ``cache.seconds`` old — except that a viewer
    whose own rank puts them in the top always finds themselves there. Raises
    LeaderboardUnavailable when Redis is down (the pages say so; never a 500).
    """
    if not 1 <= limit <= MAX_LIMIT:
        raise Invalid(_l("Số dòng phải từ 1 đến %(n)d.", n=MAX_LIMIT))
    cache = cache or BoardCache(0)
    at = _now(now)
    outline = _outline(session, round_id, cache)
    board_id, board_name = _pick_board(session, outline, viewer_id, board_name)
    top_key = ("top", store.prefix, round_id, board_id, limit)
    top: _Top | None = None if (store.prefix, round_id) in _dirty else cache.get(top_key)
    fresh = top is None
    if top is None:
        top = _top(session, store, round_id, board_id, limit, at)
    mine = _my_rank(session, store, round_id, board_id, top, viewer_id) if viewer_id else None
    stale = not fresh and mine is not None and top.attempt_ids.get(mine[1]) != mine[0]
    if stale and mine is not None and mine[0] <= limit:
        # The viewer moved into (or within) the top since it was cached: they must see it.
        top = _top(session, store, round_id, board_id, limit, at)
    cache.put(top_key, top)
    me: BoardLine | None = None
    if mine is not None:
        rank, attempt_id = mine
        in_top = next(
            (e for e in top.entries if top.attempt_ids.get(attempt_id) == rank == e.rank), None
        )
        if in_top is not None:
            me = in_top
        else:
            row = queries.display_rows(session, [attempt_id]).get(attempt_id)
            me = _line(rank, row) if row is not None else None
    return BoardView(
        round_id=round_id,
        round_title=outline.round_title,
        contest_title=outline.contest_title,
        final=top.final,
        closed=top.closed,
        board_id=board_id,
        board_name=board_name,
        board_names=[name for _, name in outline.boards],
        entries=top.entries,
        me=me,
        contestants=top.contestants,
        from_database=top.phase is None,
        limit=limit,
    )


# --- unit standings -----------------------------------------------------------------------

UNIT_SORTS = ("participants", "attempts", "average", "name")
UNIT_LEVELS = ("grassroots", "upper")
UNITS_PER_PAGE = 50


@dataclass(frozen=True)
class UnitLine:
    unit_id: int
    code: str
    name: str
    short_name: str | None
    participants: int
    attempts: int
    average: float | None


@dataclass
class UnitStandings:
    round_id: int
    round_title: str
    contest_title: str
    level: str
    sort: str
    page: int
    pages: int
    total_units: int
    lines: list[UnitLine]
    participants: int
    attempts: int

    @property
    def first_index(self) -> int:
        return (self.page - 1) * UNITS_PER_PAGE + 1


def unit_standings(
    session: Session,
    store: Store,
    round_id: int,
    *,
    level: str = "grassroots",
    sort: str = "participants",
    page: int = 1,
    now: datetime | None = None,
) -> UnitStandings:
    """Per grassroots unit or per upper-level union: participants, attempts, average best
    points; units with participants only, sorted (numbers descending, names ascending)."""
    round_ = session.get(Round, round_id)
    if round_ is None:
        raise NotFound()
    if level not in UNIT_LEVELS or sort not in UNIT_SORTS or page < 1:
        raise Invalid()
    at = _now(now)
    totals: dict[str, tuple[float, float, float]] = {}
    try:
        phase = _ready(session, store, round_, at)
        if phase is not None:
            p_key, a_key, s_key = _tally_keys(round_id)
            parts = dict(store.zrange(p_key, 0, -1))
            atts = dict(store.zrange(a_key, 0, -1))
            pts = dict(store.zrange(s_key, 0, -1))
            totals = {g: (parts[g], atts.get(g, 0.0), pts.get(g, 0.0)) for g in parts}
    except StoreUnavailable as exc:
        raise LeaderboardUnavailable() from exc
    if phase is None:
        rows = queries.best_rows(session, round_, queries.truth_in_force(session, round_, at))
        tallies = queries.tallies_from(rows, queries.unit_paths(session))
        totals = {
            g: (float(t.participants), float(t.attempts), float(t.points))
            for g, t in tallies.items()
        }
    grassroots, upper = queries.units_by_level(session)
    lines = []
    for unit in grassroots if level == "grassroots" else upper:
        p, a, s = totals.get(str(unit.id), (0.0, 0.0, 0.0))
        if p <= 0:
            continue
        lines.append(
            UnitLine(unit.id, unit.code, unit.name, unit.short_name, int(p), int(a), s / p)
        )
    if sort == "name":
        lines.sort(key=lambda u: (u.short_name or u.name).casefold())
    else:
        attr = sort

        def by(u: UnitLine) -> tuple[float, str]:
            value = getattr(u, attr)
            return (-(value or 0.0), (u.short_name or u.name).casefold())

        lines.sort(key=by)
    pages = max(1, math.ceil(len(lines) / UNITS_PER_PAGE))
    page = min(page, pages)
    everyone = totals.get("all", (0.0, 0.0, 0.0))
    return UnitStandings(
        round_id=round_id,
        round_title=round_.title,
        contest_title=round_.contest.title,
        level=level,
        sort=sort,
        page=page,
        pages=pages,
        total_units=len(lines),
        lines=lines[(page - 1) * UNITS_PER_PAGE : page * UNITS_PER_PAGE],
        participants=int(everyone[0]),
        attempts=int(everyone[1]),
    )

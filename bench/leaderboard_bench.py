"""Leaderboard benchmark: top-20 + my-rank at 1,000,000 contestants, rebuild of 100,000.

    REDIS_URL=redis://127.0.0.1:6379/1 DATABASE_URL=postgresql://postgres@127.0.0.1/test \\
        .venv/bin/python bench/leaderboard_bench.py [--entries 1000000] [--rebuild 100000] \\
        [--calls 20000] [--only redis|rebuild]

Part 1 — Redis, one round, ``--entries`` best attempts (the ladder points, duration,
submitted_at, started_at encoded in the member; every score 0), loaded with the store's
``replace_keys`` (what a rebuild does). Then ``--calls`` times, for a random contestant:
what the board page asks Redis — ZRANGE 0 19 (top 20), ZCARD, HGET (my member), ZRANK
(my rank) — timed on the client, as four sequential round trips exactly as the service
does, and pipelined into one round trip; then the Redis time itself: every command's
execution time from SLOWLOG (threshold set to 0 for the run, restored after), summed per
call, p50/p99.
Baseline, same run: a plain sorted set of the same size (member ``u<id>``, integer score)
with ZRANGE 0 19 + ZCARD + ZRANK — the cheapest possible board. Ratio = ours / baseline.

Part 2 — PostgreSQL, a private schema built with the migrations: ``--rebuild`` contestants
with one finished attempt each (bulk INSERT through the models), then ``rebuild_round``
(best attempt per contestant in SQL with the ladder, encode, swap into Redis, unit
tallies) is timed.
Baseline, same run: the plain fetch of (id, user_id, score) for those attempts plus a plain
ZADD of them into a sorted set. Ratio = rebuild / baseline.

Everything it creates (Redis keys under a private prefix, the PG schema) is removed at
the end, also on failure. Needs real Redis and PostgreSQL.
"""

from __future__ import annotations

import argparse
import os
import random
import secrets
import statistics
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import quote

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import redis  # noqa: E402
from sqlalchemy import create_engine, insert, select, text  # noqa: E402

from quizengine import migrations  # noqa: E402
from quizengine.config import normalise_database_url  # noqa: E402
from quizengine.db import Database, make_engine  # noqa: E402
from quizengine.leaderboard import services  # noqa: E402
from quizengine.leaderboard.ladder import Standing, encode  # noqa: E402
from quizengine.models import Attempt, Contest, Round, Unit, User  # noqa: E402
from quizengine.store import RedisStore, keys  # noqa: E402

START = datetime(2026, 3, 2, 3, 0, tzinfo=UTC)
STEPS = ["points", "duration", "submitted_at", "started_at"]


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.3f} ms"


def redis_times(client: redis.Redis, prefix: str, fn: Callable[[], object]) -> list[float]:
    """Run ``fn`` with every command logged by SLOWLOG (threshold 0 µs): the server's own
    execution time of each command. Returns the seconds per iteration (the sum of one
    iteration's commands, an iteration starting at its ZRANGE), for this run's keys only.
    The SLOWLOG settings are restored afterwards."""
    old = client.config_get("slowlog-*")
    client.config_set("slowlog-max-len", 1_000_000)
    client.slowlog_reset()
    client.config_set("slowlog-log-slower-than", 0)
    try:
        fn()
    finally:
        client.config_set("slowlog-log-slower-than", old["slowlog-log-slower-than"])
    entries = client.slowlog_get(1_000_000)
    client.slowlog_reset()
    client.config_set("slowlog-max-len", old["slowlog-max-len"])
    per_call: list[float] = []
    for entry in sorted(entries, key=lambda e: e["id"]):
        command = entry["command"]
        if isinstance(command, bytes):
            command = command.decode()
        parts = command.split(" ")
        if len(parts) < 2 or not parts[1].startswith(prefix):
            continue
        if parts[0].upper() == "ZRANGE":
            per_call.append(0.0)
        if per_call:
            per_call[-1] += entry["duration"] / 1e6
    return per_call


def timed(calls: int, fn: Callable[[int], object], users: int) -> list[float]:
    rng = random.Random(7)
    out = []
    for _ in range(calls):
        user = rng.randrange(users)
        t0 = time.perf_counter()
        fn(user)
        out.append(time.perf_counter() - t0)
    return out


def redis_part(url: str, entries: int, calls: int) -> None:
    prefix = f"qebench:{os.getpid()}:{secrets.token_hex(3)}:"
    store = RedisStore.from_url(url, prefix=prefix)
    client = store.client
    rid = 1
    try:
        print(f"== Redis: {entries:,} contestants on one board ==")
        rng = random.Random(1)
        t0 = time.perf_counter()
        board: dict[str, float] = {}
        best: dict[str, str] = {}
        members: list[str] = []
        for uid in range(entries):
            started = START + timedelta(seconds=rng.randrange(7 * 86400))
            duration = rng.randrange(60_000, 1_200_000)
            points = rng.randrange(21)
            member = encode(
                Standing(
                    attempt_id=uid + 1,
                    points=points,
                    prediction=None,
                    duration_ms=duration,
                    submitted_at=started + timedelta(milliseconds=duration),
                    first_started_at=started,
                ),
                STEPS,
                None,
            )
            board[member] = 0.0
            best[str(uid)] = f"{member}|{points}|1"
            members.append(member)
        encode_s = time.perf_counter() - t0
        t0 = time.perf_counter()
        store.replace_keys(
            {keys.board(rid, None): board}, {keys.board_best(rid): best}, {}, ttl=3600
        )
        load_s = time.perf_counter() - t0
        del board, best
        zkey, hkey = prefix + keys.board(rid, None), prefix + keys.board_best(rid)
        print(f"encode {entries:,} members: {encode_s:.1f} s; load (replace_keys): {load_s:.1f} s")
        print(
            f"memory: board {client.memory_usage(zkey) / 2**20:.0f} MiB, "
            f"contestant hash {client.memory_usage(hkey) / 2**20:.0f} MiB "
            f"(member {len(members[0])} bytes)"
        )

        base_key = prefix + "baseline"
        t0 = time.perf_counter()
        pipe = client.pipeline(transaction=False)
        chunk = 5000
        for i in range(0, entries, chunk):
            pipe.zadd(
                base_key,
                {f"u{u}": float(rng.randrange(21)) for u in range(i, min(i + chunk, entries))},
            )
        pipe.execute()
        base_load_s = time.perf_counter() - t0
        print(f"baseline plain ZADD of {entries:,}: {base_load_s:.1f} s")

        def ours(uid: int) -> None:
            client.zrange(zkey, 0, 19)
            client.zcard(zkey)
            value = client.hget(hkey, str(uid))
            assert value is not None
            client.zrank(zkey, value.rsplit("|", 2)[0])

        def ours_pipelined(uid: int) -> None:
            member = members[uid]
            p = client.pipeline(transaction=False)
            p.zrange(zkey, 0, 19)
            p.zcard(zkey)
            p.hget(hkey, str(uid))
            p.zrank(zkey, member)
            p.execute()

        def baseline(uid: int) -> None:
            client.zrange(base_key, 0, 19)
            client.zcard(base_key)
            client.zrank(base_key, f"u{uid}")

        def baseline_pipelined(uid: int) -> None:
            p = client.pipeline(transaction=False)
            p.zrange(base_key, 0, 19)
            p.zcard(base_key)
            p.zrank(base_key, f"u{uid}")
            p.execute()

        def line(name: str, values: list[float]) -> str:
            return f"{name} p50 {ms(statistics.median(values))}  p99 {ms(pct(values, 0.99))}"

        for label, fn, base_fn in (
            ("sequential, as the service (4 round trips)", ours, baseline),
            ("pipelined (1 round trip)", ours_pipelined, baseline_pipelined),
        ):
            timed(500, fn, entries)  # warm up
            got = timed(calls, fn, entries)
            timed(500, base_fn, entries)
            base = timed(calls, base_fn, entries)
            print(f"top-20 + my-rank, {label}, {calls:,} calls, client-side:")
            print("  " + line("ours    ", got) + "   " + line("baseline", base))
            print(
                f"  ratio p50 {statistics.median(got) / statistics.median(base):.2f}, "
                f"p99 {pct(got, 0.99) / pct(base, 0.99):.2f}"
            )
        server = redis_times(client, prefix, lambda: timed(calls, ours, entries))
        server_base = redis_times(client, prefix, lambda: timed(calls, baseline, entries))
        print(f"top-20 + my-rank, Redis time (SLOWLOG, sum of the commands), {calls:,} calls:")
        print("  " + line("ours    ", server) + "   " + line("baseline", server_base))
        print(
            f"  ratio p50 {statistics.median(server) / statistics.median(server_base):.2f}, "
            f"p99 {pct(server, 0.99) / pct(server_base, 0.99):.2f}"
        )
    finally:
        store.flush_prefix()


def postgres_part(db_url: str, redis_url: str, count: int) -> None:
    print(f"== PostgreSQL: rebuild of {count:,} attempts ==")
    base_url = normalise_database_url(db_url)
    schema = f"qe_bench_{os.getpid()}_{secrets.token_hex(3)}"
    admin = create_engine(base_url)
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    sep = "&" if "?" in base_url else "?"
    url = base_url + f"{sep}options={quote(f'-csearch_path={schema}')}"
    prefix = f"qebench:{os.getpid()}:{secrets.token_hex(3)}:"
    store = RedisStore.from_url(redis_url, prefix=prefix)
    engine = make_engine(url)
    try:
        migrations.upgrade(url)
        rng = random.Random(2)
        db = Database(engine)
        with db.sessionmaker() as session:
            # Rows through the models (their defaults fill every other column), in bulk.
            root = Unit(code="ROOT", name="LĐLĐ tỉnh", created_at=START)
            session.add(root)
            session.flush()
            units = [
                Unit(
                    code=f"CDCS-{i}",
                    name=f"Công đoàn cơ sở {i}",
                    parent_id=root.id,
                    created_at=START,
                )
                for i in range(100)
            ]
            contest = Contest(title="Bench", created_at=START)
            session.add_all([*units, contest])
            session.flush()
            round_ = Round(
                contest_id=contest.id,
                title="Tuần 1",
                opens_at=START,
                closes_at=START + timedelta(days=7),
                question_count=20,
                time_limit_seconds=1200,
                created_at=START,
            )
            session.add(round_)
            session.flush()
            rnd = round_.id
            unit_ids = [u.id for u in units]
            session.execute(
                insert(User),
                [
                    {
                        "role": "contestant",
                        "phone": f"09{i:08d}",
                        "full_name": f"Người thi {i}",
                        "password_hash": "x",
                        "unit_id": rng.choice(unit_ids),
                        "created_at": START,
                    }
                    for i in range(count)
                ],
            )
            user_ids = list(session.scalars(select(User.id).order_by(User.id)))
            rows = []
            for uid in user_ids:
                started = START + timedelta(seconds=rng.randrange(6 * 86400))
                duration = rng.randrange(60_000, 1_200_000)
                score = rng.randrange(21)
                rows.append(
                    {
                        "round_id": rnd,
                        "user_id": uid,
                        "number": 1,
                        "status": "submitted",
                        "started_at": started,
                        "deadline_at": started + timedelta(seconds=1200),
                        "submitted_at": started + timedelta(milliseconds=duration),
                        "duration_ms": duration,
                        "score": score,
                        "correct_count": score,
                        "total": 20,
                    }
                )
            session.execute(insert(Attempt), rows)
            session.commit()
        with engine.begin() as conn:
            conn.execute(text("ANALYZE users, attempts"))
        now = START + timedelta(days=1)

        with db.sessionmaker() as session:
            t0 = time.perf_counter()
            contestants = services.rebuild_round(session, store, rnd, now=now)
            rebuild_s = time.perf_counter() - t0
        assert contestants == count, contestants

        client = store.client
        t0 = time.perf_counter()
        with engine.connect() as conn:
            rows = conn.execute(
                text("SELECT id, user_id, score FROM attempts WHERE round_id = :r"), {"r": rnd}
            ).all()
        pipe = client.pipeline(transaction=False)
        for i in range(0, len(rows), 5000):
            pipe.zadd(
                prefix + "baseline", {f"u{r.user_id}": float(r.score) for r in rows[i : i + 5000]}
            )
        pipe.execute()
        base_s = time.perf_counter() - t0
        print(f"rebuild_round ({count:,} contestants): {rebuild_s:.2f} s")
        print(f"baseline (plain SELECT + plain ZADD): {base_s:.2f} s")
        print(f"ratio: {rebuild_s / base_s:.2f}")
    finally:
        store.flush_prefix()
        engine.dispose()
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--entries", type=int, default=1_000_000)
    parser.add_argument("--rebuild", type=int, default=100_000)
    parser.add_argument("--calls", type=int, default=20_000)
    parser.add_argument("--only", choices=("redis", "rebuild"), help="run one part only")
    args = parser.parse_args()
    redis_url, db_url = os.environ.get("REDIS_URL"), os.environ.get("DATABASE_URL")
    if not redis_url or not db_url or not db_url.startswith("postgres"):
        sys.exit("set REDIS_URL and DATABASE_URL (PostgreSQL) — see the docstring")
    if args.only != "rebuild":
        redis_part(redis_url, args.entries, args.calls)
    if args.only != "redis":
        postgres_part(db_url, redis_url, args.rebuild)


if __name__ == "__main__":
    main()

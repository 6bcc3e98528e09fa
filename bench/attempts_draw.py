#!/usr/bin/env python3
"""What does drawing an attempt's questions cost as the bank grows? Measure, don't guess.

    .venv/bin/python bench/attempts_draw.py [--sizes 1000,100000] [--draw 20] [--runs 300]
        [--database-url postgresql://postgres@127.0.0.1:5432/test]

For each bank size: builds a bank (batched inserts), then times
- ``pool build``: reading the rule's eligible ids once into memory (per process, per
  DRAW_POOL_TTL) — O(bank), paid rarely;
- ``draw``: the per-start work of quizengine's draw — random probes into the in-memory pool
  plus the one indexed query that loads the drawn questions with their versions;
- ``ORDER BY random()``: the naive baseline, the same columns in one
  ``SELECT … ORDER BY random() LIMIT k`` over the bank, measured interleaved with the draw
  on the same data (so a busy machine slows both alike).
Prints milliseconds per operation and each size's ratio to the smallest bank. The draw's
ratio should stay near 1; the baseline grows with the bank.

PostgreSQL (a scratch schema, dropped at the end) when --database-url or DATABASE_URL is
given, else a temporary SQLite file.
"""

from __future__ import annotations

import argparse
import os
import random
import secrets
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from urllib.parse import quote

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import create_engine, func, insert, select, text, update
from sqlalchemy.orm import Session

from quizengine import migrations
from quizengine.attempts import services
from quizengine.attempts.pools import PoolCache, PoolKey, eligible_ids
from quizengine.config import normalise_database_url
from quizengine.db import make_engine
from quizengine.models import Bank, Contest, DrawRule, Question, QuestionVersion, Round
from quizengine.store import MemoryStore

NOW = datetime(2026, 3, 2, 3, 0, tzinfo=UTC)


def build_bank(session: Session, size: int) -> Bank:
    bank = Bank(slug=f"bench-{size}-{secrets.token_hex(3)}", title=f"Bench {size}", created_at=NOW)
    session.add(bank)
    session.flush()
    for start in range(0, size, 10_000):
        session.execute(
            insert(Question),
            [
                {
                    "bank_id": bank.id,
                    "match_key": f"{bank.id}-{i}",
                    "search_text": "",
                    "created_at": NOW,
                    "updated_at": NOW,
                }
                for i in range(start, min(size, start + 10_000))
            ],
        )
        ids = session.scalars(
            select(Question.id).where(
                Question.bank_id == bank.id, Question.current_version_id.is_(None)
            )
        ).all()
        session.execute(
            insert(QuestionVersion),
            [
                {
                    "question_id": qid,
                    "number": 1,
                    "text": f"Câu hỏi số {qid} về Bộ luật Lao động?",
                    "options": ["Phương án A", "Phương án B", "Phương án C", "Phương án D"],
                    "correct": [qid % 4],
                    "created_at": NOW,
                }
                for qid in ids
            ],
        )
        session.execute(
            update(Question)
            .where(Question.bank_id == bank.id, Question.current_version_id.is_(None))
            .values(
                current_version_id=select(func.max(QuestionVersion.id))
                .where(QuestionVersion.question_id == Question.id)
                .scalar_subquery()
            )
        )
    session.commit()
    if session.bind is not None and session.bind.dialect.name == "postgresql":
        session.execute(text("ANALYZE questions"))
        session.execute(text("ANALYZE question_versions"))
        session.commit()
    return bank


def timed(runs: int, *fns: Callable[[], object]) -> list[float]:
    """Median milliseconds per call of each function, calls interleaved so that a busy
    machine slows them all alike (after a few warm-up calls)."""
    for _ in range(min(5, runs)):
        for fn in fns:
            fn()
    samples: list[list[float]] = [[] for _ in fns]
    for _ in range(runs):
        for i, fn in enumerate(fns):
            t0 = time.perf_counter()
            fn()
            samples[i].append((time.perf_counter() - t0) * 1000)
    return [statistics.median(s) for s in samples]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1000,100000")
    parser.add_argument("--draw", type=int, default=20)
    parser.add_argument("--runs", type=int, default=100)
    parser.add_argument("--database-url", default=os.environ.get("DATABASE_URL"))
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]

    schema = None
    tmp = None
    if args.database_url:
        base = normalise_database_url(args.database_url)
        schema = f"bench_draw_{secrets.token_hex(3)}"
        admin = create_engine(base)
        with admin.begin() as conn:
            conn.execute(text(f'CREATE SCHEMA "{schema}"'))
        sep = "&" if "?" in base else "?"
        url = base + f"{sep}options={quote(f'-csearch_path={schema}')}"
        backend = "PostgreSQL"
    else:
        tmp = tempfile.TemporaryDirectory()
        url = f"sqlite:///{tmp.name}/bench.sqlite3"
        backend = "SQLite"
    try:
        migrations.upgrade(url)
        engine = make_engine(url)
        store = MemoryStore(prefix="bench:")
        rows = []
        with Session(engine) as session:
            for size in sizes:
                t0 = time.perf_counter()
                bank = build_bank(session, size)
                seed_s = time.perf_counter() - t0
                rnd = Round(
                    contest_id=_contest(session),
                    title="bench",
                    opens_at=NOW,
                    closes_at=NOW.replace(year=2027),
                    question_count=args.draw,
                    time_limit_seconds=1200,
                    created_at=NOW,
                )
                session.add(rnd)
                session.flush()
                session.add(DrawRule(round_id=rnd.id, bank_id=bank.id, count=args.draw))
                session.commit()
                key = PoolKey(bank.id)
                pools = PoolCache()
                rng = random.Random(1)
                # The naive draw returns the same columns as ours, in one query.
                naive = (
                    select(
                        Question.id,
                        Question.points,
                        QuestionVersion.id,
                        QuestionVersion.text,
                        QuestionVersion.options,
                        QuestionVersion.correct,
                    )
                    .join(QuestionVersion, QuestionVersion.id == Question.current_version_id)
                    .where(Question.bank_id == bank.id, Question.active.is_(True))
                    .order_by(func.random())
                    .limit(args.draw)
                )
                (build_ms,) = timed(max(3, args.runs // 50), partial(eligible_ids, session, key))
                draw_ms, naive_ms = timed(
                    args.runs,
                    partial(services._draw, session, store, pools, rnd, rng),
                    lambda q=naive: session.scalars(q).all(),
                )
                rows.append((size, seed_s, build_ms, draw_ms, naive_ms))
                print(f"  bank of {size:,} questions seeded in {seed_s:.1f} s", file=sys.stderr)
        engine.dispose()
    finally:
        if schema:
            with admin.begin() as conn:
                conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
            admin.dispose()
        if tmp:
            tmp.cleanup()

    print(f"Draw of {args.draw} questions, {backend}, median ms per operation")
    head = ("bank", "pool build", "draw", "ratio", "ORDER BY random()", "ratio")
    print("{:>10} {:>11} {:>8} {:>6} {:>18} {:>6}".format(*head))
    base = rows[0]
    for size, _seed, build_ms, draw_ms, naive_ms in rows:
        print(
            f"{size:>10,} {build_ms:>11.2f} {draw_ms:>8.3f} {draw_ms / base[3]:>6.2f} "
            f"{naive_ms:>18.2f} {naive_ms / base[4]:>6.1f}"
        )
    biggest = max(rows)
    print(
        f"At {biggest[0]:,} questions the draw costs {biggest[3]:.3f} ms "
        f"({biggest[4] / biggest[3]:.0f}x less than ORDER BY random()); the pool is read once "
        f"per process per {int(PoolCache().max_age)} s in {biggest[2]:.1f} ms."
    )
    return 0


def _contest(session: Session) -> int:
    contest = Contest(title="bench", created_at=NOW)
    session.add(contest)
    session.flush()
    return contest.id


if __name__ == "__main__":
    raise SystemExit(main())

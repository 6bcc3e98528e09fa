"""How fast does a big question bank import, and does its memory stay flat? Measure it.

Generates a CSV of N questions (default 100,000; Vietnamese text, 4 options, codes, topics,
difficulties, explanations), then in a scratch PostgreSQL schema (created, migrated, and
dropped afterwards):

* ours: ``quizengine.banks.services.import_bank`` — encoding detection, header detection,
  every check of the file format, re-import matching, batched inserts, one transaction;
* baseline: the same file parsed with the ``csv`` module and bulk-inserted with a plain
  psycopg ``executemany`` into equivalent tables (same columns, keys and indexes), ids
  assigned by the client, no validation at all.

Each side runs in its own subprocess so that its peak memory (``ru_maxrss``) is its own. Ours
also runs on a file a fifth the size: the peak should not grow with the file. Prints rows/s,
peak RSS and the ratio ours/baseline (target: at least 0.30).

    .venv/bin/python bench/bank_import.py [--rows 100000] [--database-url URL]

The database URL defaults to $BENCH_DATABASE_URL, then $TEST_DATABASE_URL, then
postgresql://postgres@127.0.0.1:5432/test. Bounded: each subprocess has a timeout.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import random
import resource
import secrets
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import quote

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

TIMEOUT_SECONDS = 900
HEADER = [
    "code", "question", "option_a", "option_b", "option_c", "option_d",
    "correct", "topic", "difficulty", "explanation", "legal_basis",
]  # fmt: skip
TOPICS = ["Luật Lao động", "Luật Công đoàn", "An toàn, vệ sinh lao động", "Bảo hiểm xã hội"]
PROSE = (
    "người lao động được nghỉ việc riêng hưởng nguyên lương trong trường hợp kết hôn con "
    "đẻ con nuôi chết bố mẹ vợ chồng công đoàn cơ sở đại diện bảo vệ quyền lợi hợp pháp "
    "chính đáng của đoàn viên theo quy định điều khoản bộ luật năm 2019 thời giờ làm việc"
)
WORDS = PROSE.split(" ")


def generate(path: Path, rows: int, seed: int = 7) -> None:
    rng = random.Random(seed)
    with open(path, "w", encoding="utf-8-sig", newline="") as out:
        writer = csv.writer(out, lineterminator="\r\n")
        writer.writerow(HEADER)
        for i in range(rows):
            text = " ".join(rng.choices(WORDS, k=rng.randint(12, 30)))
            options = [" ".join(rng.choices(WORDS, k=rng.randint(2, 8))) for _ in range(4)]
            correct = rng.choice(["A", "B", "C", "D", "A,C"])
            writer.writerow(
                [
                    f"Q{i:06d}",
                    f"Câu {i}: {text.capitalize()}?",
                    *options,
                    correct,
                    rng.choice(TOPICS),
                    rng.choice(["easy", "medium", "hard", "Dễ", "Khó"]),
                    " ".join(rng.choices(WORDS, k=15)),
                    f"Điều {rng.randint(1, 220)} Bộ luật Lao động 2019",
                ]
            )


# --------------------------------------------------------------------------- children


def peak_rss_mb() -> float:
    # ru_maxrss is in kilobytes on Linux.
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def child_ours(url: str, path: str) -> dict[str, float]:
    from quizengine import create_app
    from quizengine.banks.services import import_bank
    from quizengine.clock import SystemClock
    from quizengine.db import database

    with tempfile.TemporaryDirectory() as instance:
        app = create_app({"DATABASE_URL": url, "SECRET_KEY": "bench", "INSTANCE_PATH": instance})
        with app.app_context():
            before = peak_rss_mb()
            start = time.perf_counter()
            with database().session_scope() as session:
                report = import_bank(
                    session,
                    path,
                    slug=f"bench-{secrets.token_hex(3)}",
                    clock=SystemClock(),
                    max_bytes=1 << 31,
                )
            seconds = time.perf_counter() - start
            database().engine.dispose()
    return {
        "rows": report.imported,
        "seconds": seconds,
        "rss_before_mb": before,
        "peak_rss_mb": peak_rss_mb(),
    }


BASELINE_DDL = """
CREATE TABLE bl_questions (
    id integer PRIMARY KEY, bank_id integer NOT NULL, code varchar(100),
    match_key varchar(64) NOT NULL, search_text text NOT NULL, topic varchar(200),
    difficulty varchar(10), points integer NOT NULL, active boolean NOT NULL,
    current_version_id integer, created_at timestamptz NOT NULL, updated_at timestamptz NOT NULL,
    UNIQUE (bank_id, code), UNIQUE (bank_id, match_key)
);
CREATE INDEX ON bl_questions (bank_id, active);
CREATE TABLE bl_versions (
    id integer PRIMARY KEY, question_id integer NOT NULL REFERENCES bl_questions(id),
    number integer NOT NULL, text text NOT NULL, options jsonb NOT NULL, correct jsonb NOT NULL,
    explanation text, legal_basis text, created_at timestamptz NOT NULL,
    UNIQUE (question_id, number)
);
"""


def child_baseline(url: str, path: str) -> dict[str, float]:
    import datetime as dt

    import psycopg

    conninfo = url.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(conninfo) as conn:
        conn.execute(BASELINE_DDL)
        conn.commit()
        before = peak_rss_mb()
        start = time.perf_counter()
        now = dt.datetime.now(dt.UTC)
        count = 0
        with open(path, encoding="utf-8-sig", newline="") as raw, conn.cursor() as cur:
            reader = csv.reader(raw)
            next(reader)
            while True:
                chunk = [row for _, row in zip(range(1000), reader, strict=False)]
                if not chunk:
                    break
                ids = range(count + 1, count + len(chunk) + 1)
                cur.executemany(
                    "INSERT INTO bl_questions VALUES "
                    "(%s, 1, %s, %s, %s, %s, %s, 1, true, %s, %s, %s)",
                    [
                        (i, r[0], r[0], r[1], r[7], r[8], i, now, now)
                        for i, r in zip(ids, chunk, strict=True)
                    ],
                )
                cur.executemany(
                    "INSERT INTO bl_versions VALUES (%s, %s, 1, %s, %s, %s, %s, %s, %s)",
                    [
                        (i, i, r[1], json.dumps(r[2:6]), json.dumps([0]), r[9], r[10], now)
                        for i, r in zip(ids, chunk, strict=True)
                    ],
                )
                count += len(chunk)
        conn.commit()
        seconds = time.perf_counter() - start
    return {
        "rows": count,
        "seconds": seconds,
        "rss_before_mb": before,
        "peak_rss_mb": peak_rss_mb(),
    }


# --------------------------------------------------------------------------- driver


def run_child(kind: str, url: str, path: Path) -> dict[str, float]:
    out = subprocess.run(
        [sys.executable, __file__, "--child", kind, "--database-url", url, "--file", str(path)],
        capture_output=True,
        text=True,
        timeout=TIMEOUT_SECONDS,
        check=False,
        cwd=ROOT,
    )
    if out.returncode != 0:
        sys.exit(f"{kind} failed:\n{out.stderr}")
    result: dict[str, float] = json.loads(out.stdout.strip().splitlines()[-1])
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument(
        "--database-url",
        default=os.environ.get("BENCH_DATABASE_URL")
        or os.environ.get("TEST_DATABASE_URL")
        or "postgresql://postgres@127.0.0.1:5432/test",
    )
    parser.add_argument("--child", choices=["ours", "baseline"])
    parser.add_argument("--file")
    args = parser.parse_args()

    if args.child:
        child = child_ours if args.child == "ours" else child_baseline
        print(json.dumps(child(args.database_url, args.file)))
        return

    from sqlalchemy import create_engine, text

    from quizengine import migrations
    from quizengine.config import normalise_database_url

    base = normalise_database_url(args.database_url)
    schema = f"bench_banks_{secrets.token_hex(4)}"
    sep = "&" if "?" in base else "?"
    url = base + f"{sep}options={quote(f'-csearch_path={schema}')}"
    admin = create_engine(base)
    with tempfile.TemporaryDirectory() as tmp:
        big, small = Path(tmp) / "big.csv", Path(tmp) / "small.csv"
        generate(big, args.rows)
        generate(small, max(1, args.rows // 5))
        size_mb = big.stat().st_size / (1024 * 1024)
        print(f"generated {args.rows} questions, {size_mb:.1f} MB CSV; schema {schema}")
        with admin.begin() as conn:
            conn.execute(text(f'CREATE SCHEMA "{schema}"'))
        try:
            migrations.upgrade(url)
            baseline = run_child("baseline", url, big)
            ours = run_child("ours", url, big)
            ours_small = run_child("ours", url, small)
        finally:
            with admin.begin() as conn:
                conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
            admin.dispose()

    def line(name: str, r: dict[str, float]) -> str:
        rate = r["rows"] / r["seconds"]
        return (
            f"{name:<28} {int(r['rows']):>7} rows  {r['seconds']:7.1f} s  {rate:9.0f} rows/s  "
            f"peak RSS {r['peak_rss_mb']:6.1f} MB (at start {r['rss_before_mb']:.1f} MB)"
        )

    print(line("baseline csv+executemany", baseline))
    print(line("ours import_bank", ours))
    print(line("ours import_bank (1/5 file)", ours_small))
    ratio = (ours["rows"] / ours["seconds"]) / (baseline["rows"] / baseline["seconds"])
    growth = ours["peak_rss_mb"] - ours_small["peak_rss_mb"]
    print(f"ratio ours/baseline rows/s: {ratio:.2f} (target >= 0.30)")
    small_rows, big_rows = int(ours_small["rows"]), int(ours["rows"])
    print(f"peak RSS growth from {small_rows} to {big_rows} rows: {growth:+.1f} MB")


if __name__ == "__main__":
    main()

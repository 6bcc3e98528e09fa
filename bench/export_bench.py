"""Export benchmark: rows/s and peak memory of the results CSV and XLSX writers.

    .venv/bin/python bench/export_bench.py [--rows 1000000] [--small 100000] [--timeout 900]

Each measurement runs in a fresh child process (so its peak resident memory, ru_maxrss, is
its own) over the same generated rows: 11 columns, Vietnamese names, a unit path, times —
what a round's full ranking looks like. Rows are generated on the fly, never held in a list.

- ``csv``            quizengine's CSV writer (BOM, display formatting, neutralisation)
- ``csv-baseline``   plain ``csv.writer`` writing the same rows' raw tuples
- ``xlsx``           quizengine's XLSX writer (openpyxl write-only, typed/styled cells)
- ``xlsx-baseline``  openpyxl write-only appending the same raw tuples, no styles

The ratio is quizengine's rows/s over the baseline's. Each writer also runs at ``--small``
rows: equal peak memory at both sizes is what "memory stays flat" means. Files go to a
temporary folder that is removed at the end; each child is killed after ``--timeout`` s.

With ``--database postgresql://…`` it also measures the real path, ``csv-db`` and
``xlsx-db``: a finalised round's stored rows streamed from PostgreSQL (server-side cursor)
through ``results export``'s code. The rows are generated in the database with
``generate_series`` inside a schema of their own, dropped at the end.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from openpyxl import Workbook  # noqa: E402

from quizengine.judging.canonical import ResultRow  # noqa: E402
from quizengine.judging.exports import csv_byte_chunks, csv_text_chunks, write_xlsx  # noqa: E402

WRITERS = ("csv-baseline", "csv", "xlsx-baseline", "xlsx")
DB_WRITERS = ("csv-db", "xlsx-db")
_FAMILY = ["Nguyễn", "Trần", "Lê", "Phạm", "Hoàng", "Huỳnh", "Phan", "Vũ", "Võ", "Đặng"]
_MIDDLE = ["Văn", "Thị", "Đức", "Thuỳ", "Ngọc", "Minh", "Hữu", "Thanh"]
_GIVEN = ["An", "Bình", "Chi", "Dũng", "Giang", "Hà", "Hương", "Khánh", "Lộc", "Tiến"]
_PRIZES = ["first", "second", "third", "consolation"]
_START = datetime(2026, 3, 2, 3, 0, tzinfo=UTC)


def rows(count: int) -> Iterator[ResultRow]:
    for i in range(count):
        unit = i % 2500
        yield ResultRow(
            rank=i + 1,
            board="Bảng B — đoàn viên, người lao động",
            prize=_PRIZES[i] if i < 4 else None,
            user_id=i + 1,
            full_name=(f"{_FAMILY[i % 10]} {_MIDDLE[(i // 10) % 8]} {_GIVEN[(i // 80) % 10]} {i}"),
            unit_code=f"CDCS-{unit:04d}",
            unit_path=(
                "Liên đoàn Lao động tỉnh Quảng Ngãi / Công đoàn Khu công nghiệp Dung Quất"
                f" / Công đoàn cơ sở Công ty số {unit}"
            ),
            phone_masked=f"09xx xxx {i % 1000:03d}",
            points=20 - (i * 20 // count),
            prediction=(i * 7) % 500,
            error=(i * 7) % 500,
            duration_ms=60_000 + (i * 37) % 1_140_000,
            submitted_at=_START + timedelta(seconds=i // 3, microseconds=i % 1_000_000),
        )


def raw(row: ResultRow) -> tuple[object, ...]:
    return (
        row.rank,
        row.prize,
        row.full_name,
        row.unit_path,
        row.phone_masked,
        row.board,
        row.points,
        row.prediction,
        row.error,
        row.duration_ms,
        row.submitted_at.replace(tzinfo=None) if row.submitted_at else None,
    )


def _schema_url(database: str, schema: str) -> str:
    from urllib.parse import quote

    from quizengine.config import normalise_database_url

    url = normalise_database_url(database)
    return url + ("&" if "?" in url else "?") + "options=" + quote(f"-csearch_path={schema}")


def fill_database(database: str, schema: str, count: int) -> int:
    """A finalised round with ``count`` stored result rows (and their accounts); its id."""
    from sqlalchemy import create_engine, text

    from quizengine import migrations

    admin = create_engine(_schema_url(database, "public"))
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    admin.dispose()
    url = _schema_url(database, schema)
    migrations.upgrade(url)
    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO units (code, name, created_at) VALUES "
                "('CDCS-1', 'Công đoàn cơ sở Công ty số 1', now())"
            )
        )
        conn.execute(
            text(
                "INSERT INTO contests (title, description, rules, created_at) "
                "VALUES ('Cuộc thi thử tải', '', '', now())"
            )
        )
        round_id = conn.execute(
            text(
                "INSERT INTO rounds (contest_id, title, opens_at, closes_at, question_count, "
                "time_limit_seconds, attempts_allowed, shuffle_questions, shuffle_options, "
                "review_policy, ladder, prediction_target, prizes, finalized_at, result_hash, "
                "created_at) SELECT id, 'Tuần 1', now() - interval '8 days', "
                "now() - interval '1 day', 20, 1200, 1, true, true, 'after_close', "
                "'points,prediction,duration,submitted_at', 'full_marks', '[1,2,3,5]', now(), "
                "repeat('ab', 32), now() FROM contests RETURNING id"
            )
        ).scalar_one()
        conn.execute(
            text(
                "INSERT INTO users (role, phone, full_name, password_hash, unit_id, "
                "must_change_password, created_at) SELECT 'contestant', "
                "'09' || lpad(g::text, 8, '0'), 'Nguyễn Văn Thử ' || g, 'x', "
                "(SELECT id FROM units), false, now() FROM generate_series(1, :n) g"
            ),
            {"n": count},
        )
        conn.execute(
            text(
                "INSERT INTO final_results (round_id, position, board_name, rank, prize, "
                "user_id, full_name, unit_code, unit_path, phone_masked, points, prediction, "
                "error, duration_ms, submitted_at) SELECT :r, u.id, 'Bảng B', u.id, "
                "CASE WHEN u.id <= 11 THEN 'consolation' END, u.id, u.full_name, 'CDCS-1', "
                "'Liên đoàn Lao động tỉnh / Công đoàn cơ sở Công ty số 1', "
                "'09xx xxx ' || lpad((u.id % 1000)::text, 3, '0'), 20 - u.id * 20 / :n, "
                "u.id % 500, u.id % 500, 60000 + u.id % 1140000, "
                "now() - interval '2 days' + u.id * interval '1 millisecond' FROM users u"
            ),
            {"r": round_id, "n": count},
        )
    engine.dispose()
    return int(round_id)


def drop_schema(database: str, schema: str) -> None:
    from sqlalchemy import create_engine, text

    admin = create_engine(_schema_url(database, "public"))
    with admin.begin() as conn:
        conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
    admin.dispose()


def run_db_writer(name: str, path: Path, url: str, round_id: int) -> None:
    from sqlalchemy import create_engine
    from sqlalchemy.orm import Session

    from quizengine.judging.publishing import write_export

    engine = create_engine(url)
    with Session(engine) as session, path.open("wb") as out:
        write_export(session, round_id, name.removesuffix("-db"), out, now=datetime.now(UTC))
    engine.dispose()


def run_writer(name: str, count: int, path: Path) -> None:
    digest = "ab" * 32
    if name == "csv":
        with path.open("wb") as out:
            for chunk in csv_byte_chunks(csv_text_chunks(rows(count), final_hash=digest)):
                out.write(chunk)
    elif name == "csv-baseline":
        with path.open("w", newline="", encoding="utf-8") as out:
            writer = csv.writer(out)
            for row in rows(count):
                writer.writerow(raw(row))
    elif name == "xlsx":
        with path.open("wb") as out:
            write_xlsx(rows(count), out, final_hash=digest)
    elif name == "xlsx-baseline":
        book = Workbook(write_only=True)
        sheet = book.create_sheet()
        for row in rows(count):
            sheet.append(raw(row))
        book.save(path)
    else:
        raise SystemExit(f"unknown writer {name}")


def child(name: str, count: int, path: Path, url: str | None, round_id: int | None) -> None:
    """Runs in the child: write, then print one JSON line with the figures."""
    started = time.perf_counter()
    if url is not None and round_id is not None:
        run_db_writer(name, path, url, round_id)
    else:
        run_writer(name, count, path)
    seconds = time.perf_counter() - started
    peak_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(
        json.dumps({"seconds": seconds, "peak_mib": peak_kib / 1024, "bytes": path.stat().st_size})
    )


def measure(
    name: str,
    count: int,
    folder: Path,
    timeout: float,
    db: tuple[str, int] | None = None,
) -> dict[str, float]:
    path = folder / f"{name}-{count}.out"
    extra = ["--child-url", db[0], "--child-round", str(db[1])] if db else []
    try:
        done = subprocess.run(
            [
                sys.executable,
                __file__,
                "--child",
                name,
                "--rows",
                str(count),
                "--out",
                str(path),
                *extra,
            ],
            capture_output=True,
            text=True,
            timeout=timeout,
            check=True,
        )
    finally:
        path.unlink(missing_ok=True)
    figures: dict[str, float] = json.loads(done.stdout.strip().splitlines()[-1])
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--small", type=int, default=100_000)
    parser.add_argument("--timeout", type=float, default=900, help="seconds per measurement")
    parser.add_argument(
        "--database", help="PostgreSQL URL: also measure exports streamed from the database"
    )
    parser.add_argument("--skip-writers", action="store_true", help="only the database runs")
    parser.add_argument("--child", choices=WRITERS + DB_WRITERS, help=argparse.SUPPRESS)
    parser.add_argument("--out", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--child-url", help=argparse.SUPPRESS)
    parser.add_argument("--child-round", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child, args.rows, args.out, args.child_url, args.child_round)
        return

    folder = Path(tempfile.mkdtemp(prefix="qe-export-bench-"))
    try:
        results: dict[tuple[str, int], dict[str, float]] = {}
        print(f"{'writer':<14} {'rows':>9} {'seconds':>8} {'rows/s':>9} {'peak MiB':>9} {'MiB':>7}")

        def show(name: str, count: int, figures: dict[str, float]) -> None:
            results[(name, count)] = figures
            print(
                f"{name:<14} {count:>9,} {figures['seconds']:>8.1f} "
                f"{count / figures['seconds']:>9,.0f} {figures['peak_mib']:>9.1f} "
                f"{figures['bytes'] / 2**20:>7.1f}",
                flush=True,
            )

        for count in () if args.skip_writers else (args.small, args.rows):
            for name in WRITERS:
                show(name, count, measure(name, count, folder, args.timeout))
        if args.database:
            for count in (args.small, args.rows):
                schema = f"qe_export_bench_{os.getpid()}_{count}"
                try:
                    round_id = fill_database(args.database, schema, count)
                    url = _schema_url(args.database, schema)
                    for name in DB_WRITERS:
                        show(
                            name, count, measure(name, count, folder, args.timeout, (url, round_id))
                        )
                finally:
                    drop_schema(args.database, schema)
        print()
        for fmt in () if args.skip_writers else ("csv", "xlsx"):
            ours = results[(fmt, args.rows)]
            base = results[(f"{fmt}-baseline", args.rows)]
            small = results[(fmt, args.small)]
            print(
                f"{fmt}: {args.rows / ours['seconds']:,.0f} rows/s = "
                f"{base['seconds'] / ours['seconds']:.2f} × the baseline's "
                f"{args.rows / base['seconds']:,.0f} rows/s; peak memory "
                f"{ours['peak_mib']:.1f} MiB at {args.rows:,} rows vs "
                f"{small['peak_mib']:.1f} MiB at {args.small:,} (baseline {base['peak_mib']:.1f})"
            )
        for name in DB_WRITERS if args.database else ():
            big, small = results[(name, args.rows)], results[(name, args.small)]
            print(
                f"{name}: {args.rows / big['seconds']:,.0f} rows/s from PostgreSQL; peak memory "
                f"{big['peak_mib']:.1f} MiB at {args.rows:,} rows vs {small['peak_mib']:.1f} MiB "
                f"at {args.small:,}"
            )
    finally:
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()

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
"""

from __future__ import annotations

import argparse
import csv
import json
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


def child(name: str, count: int, path: Path) -> None:
    """Runs in the child: write, then print one JSON line with the figures."""
    started = time.perf_counter()
    run_writer(name, count, path)
    seconds = time.perf_counter() - started
    peak_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(
        json.dumps({"seconds": seconds, "peak_mib": peak_kib / 1024, "bytes": path.stat().st_size})
    )


def measure(name: str, count: int, folder: Path, timeout: float) -> dict[str, float]:
    path = folder / f"{name}-{count}.out"
    try:
        done = subprocess.run(
            [sys.executable, __file__, "--child", name, "--rows", str(count), "--out", str(path)],
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
    parser.add_argument("--child", choices=WRITERS, help=argparse.SUPPRESS)
    parser.add_argument("--out", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child, args.rows, args.out)
        return

    folder = Path(tempfile.mkdtemp(prefix="qe-export-bench-"))
    try:
        results: dict[tuple[str, int], dict[str, float]] = {}
        print(f"{'writer':<14} {'rows':>9} {'seconds':>8} {'rows/s':>9} {'peak MiB':>9} {'MiB':>7}")
        for count in (args.small, args.rows):
            for name in WRITERS:
                figures = measure(name, count, folder, args.timeout)
                results[(name, count)] = figures
                print(
                    f"{name:<14} {count:>9,} {figures['seconds']:>8.1f} "
                    f"{count / figures['seconds']:>9,.0f} {figures['peak_mib']:>9.1f} "
                    f"{figures['bytes'] / 2**20:>7.1f}",
                    flush=True,
                )
        print()
        for fmt in ("csv", "xlsx"):
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
    finally:
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""How heavy is the registration page as the unit tree grows? Measure, don't guess.

    .venv/bin/python bench/accounts_register_page.py [--sizes 20,169,200,2558] [--runs 20]

For each number of grassroots units (spread over 12 upper-level unions, with names as
long as real ones) it builds a tree in a temporary SQLite file and reports, for the bare
page, an upper-level union's link and a grassroots unit's link:
- the page weight a phone downloads (HTML + app.css + accounts.js, uncompressed; the
  budget for contestant pages is 40 KB);
- the median server time to render it, and its ratio to the smallest tree's.
Above REGISTER_LIST_MAX grassroots units (200) the bare page asks for the upper-level
union first, so the weight stays flat however large the province.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from quizengine import create_app, migrations
from quizengine.db import database
from quizengine.models import Unit

ROOT = Path(__file__).resolve().parent.parent
STATIC = sum((ROOT / "static" / name).stat().st_size for name in ("app.css", "accounts.js"))


def build(url: str, grassroots: int) -> None:
    migrations.upgrade(url)
    app = create_app({"DATABASE_URL": url, "SECRET_KEY": "bench", "INSTANCE_PATH": "/tmp"})
    now = datetime.now(UTC)
    with app.app_context(), database().session_scope() as session:
        root = Unit(code="LDLD", name="Liên đoàn Lao động tỉnh Quảng Ngãi", created_at=now)
        session.add(root)
        session.flush()
        unions = [
            Unit(
                code=f"H{i}",
                name=f"Liên đoàn Lao động huyện số {i}",
                parent_id=root.id,
                created_at=now,
            )
            for i in range(12)
        ]
        session.add_all(unions)
        session.flush()
        session.add_all(
            Unit(
                code=f"CDCS-{i:05d}",
                name=f"Công đoàn cơ sở Công ty TNHH Sản xuất Thương mại Dịch vụ số {i}",
                parent_id=unions[i % 12].id,
                created_at=now,
            )
            for i in range(grassroots)
        )


def measure(url: str, path: str, runs: int) -> tuple[float, float]:
    app = create_app({"DATABASE_URL": url, "SECRET_KEY": "bench", "INSTANCE_PATH": "/tmp"})
    client = app.test_client()
    size = len(client.get(path).data)
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        client.get(path)
        times.append(time.perf_counter() - start)
    return (size + STATIC) / 1024, statistics.median(times) * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="20,169,200,2558")
    parser.add_argument("--runs", type=int, default=20)
    args = parser.parse_args()
    sizes = [int(part) for part in args.sizes.split(",")]
    baseline: float | None = None
    print(f"{'units':>6} {'page':<22} {'KB':>6} {'ms':>7} {'×base':>6}")
    with tempfile.TemporaryDirectory() as folder:
        for size in sizes:
            url = f"sqlite:///{folder}/units-{size}.sqlite3"
            build(url, size)
            for label, path in (
                ("/register", "/register"),
                ("union link", "/register?unit=H3"),
                ("grassroots link", "/register?unit=CDCS-00015"),
            ):
                kilobytes, millis = measure(url, path, args.runs)
                if baseline is None:
                    baseline = millis
                print(
                    f"{size:>6} {label:<22} {kilobytes:>6.1f} {millis:>7.1f} "
                    f"{millis / baseline:>6.1f}"
                )


if __name__ == "__main__":
    main()

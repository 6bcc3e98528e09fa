"""Hot paths in one process: CPU and round trips per request for the spike's endpoints.

    .venv/bin/python bench/hot_paths.py [--requests 300] [--profile "save answer"]

The quick loop behind bench/spike: no gunicorn, no locust, no network between client and
app (Flask's test client), so the figures are the app's own cost per request and move
little with the machine's other load. Same production configuration as bench/spike
(PostgreSQL in a private schema, Redis db 5, rate limits on), same seeded world (its
``seed``), same requests: start attempt, save answer, submit, leaderboard read, and the
spike's baseline endpoint (``bench/spike_baseline.py``: one Redis call, one trivial SQL
query) driven the same way, plus two references: ``/healthz`` (the app's floor: no
database, no Redis) and the signed-in home page (an HTML page). Prints per endpoint: CPU
ms/request in this process (app + test client), wall ms/request, SQL statements and Redis
commands per request, and the CPU ratio baseline/endpoint (close to the requests/s ratio
bench/spike reports when the app's CPU is the bottleneck). ``--profile NAME`` prints that
endpoint's cProfile (top functions).
"""

from __future__ import annotations

import argparse
import cProfile
import importlib.machinery
import importlib.util
import os
import pstats
import re
import secrets
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import redis  # noqa: E402
from flask import Flask  # noqa: E402
from flask.testing import FlaskClient  # noqa: E402
from sqlalchemy import event  # noqa: E402

_CSRF = re.compile(r'<meta\s+name="csrf-token"\s+content="([^"]+)"')
HTTPS = "https://localhost"


def _load_spike() -> Any:
    loader = importlib.machinery.SourceFileLoader("spike_bench", str(ROOT / "bench" / "spike"))
    spec = importlib.util.spec_from_loader("spike_bench", loader)
    assert spec is not None
    module = importlib.util.module_from_spec(spec)
    loader.exec_module(module)
    return module


@dataclass
class Figure:
    name: str
    requests: int
    cpu_s: float
    wall_s: float
    statements: int
    redis_commands: int

    def per(self, value: float) -> float:
        return value / self.requests if self.requests else 0.0


class StatementCounter:
    def __init__(self) -> None:
        self.count = 0

    def __call__(self, *_: Any, **__: Any) -> None:
        self.count += 1


def redis_commands(client: redis.Redis) -> int:
    stats = client.info("commandstats")
    return sum(int(v["calls"]) for k, v in stats.items() if k != "cmdstat_info")


@contextmanager
def measured(
    name: str, n: int, counter: StatementCounter, rc: redis.Redis, out: list[Figure]
) -> Iterator[None]:
    s0, r0 = counter.count, redis_commands(rc)
    c0, w0 = time.process_time(), time.perf_counter()
    yield
    cpu, wall = time.process_time() - c0, time.perf_counter() - w0
    # INFO itself is one command per call; commandstats excludes it above.
    out.append(Figure(name, n, cpu, wall, counter.count - s0, redis_commands(rc) - r0))


def login(app: Flask, phone: str, password: str) -> tuple[FlaskClient, str]:
    client = app.test_client()
    page = client.get("/login", base_url=HTTPS)
    token = _CSRF.search(page.get_data(as_text=True))
    assert token, "no CSRF token on /login"
    resp = client.post(
        "/login",
        data={"phone": phone, "password": password, "csrf_token": token.group(1)},
        base_url=HTTPS,
        headers={"Referer": HTTPS + "/login"},
    )
    assert resp.status_code == 302, resp.status_code
    home = client.get("/", base_url=HTTPS)
    csrf = _CSRF.search(home.get_data(as_text=True))
    assert csrf
    return client, csrf.group(1)


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--requests", type=int, default=300, help="per endpoint (default 300)")
    p.add_argument("--users", type=int, default=30)
    p.add_argument("--profile", default=None, help="endpoint name to profile")
    p.add_argument(
        "--database-url",
        default=os.environ.get("SPIKE_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/test"),
    )
    p.add_argument(
        "--redis-url", default=os.environ.get("SPIKE_REDIS_URL", "redis://127.0.0.1:6379/5")
    )
    args = p.parse_args()
    spike = _load_spike()
    n = args.requests
    rounds_needed = max(2, -(-n // args.users) + 1)
    scratch = spike.Scratch(args.database_url, args.redis_url)
    engine = scratch.create()
    figures: list[Figure] = []
    profiler = cProfile.Profile() if args.profile else None
    try:
        world = spike.seed(engine, users=args.users, start_rounds=rounds_needed)
        from quizengine import create_app

        app = create_app(
            {
                "QUIZENGINE_ENV": "production",
                "DATABASE_URL": scratch.url,
                "REDIS_URL": args.redis_url,
                "SECRET_KEY": secrets.token_hex(32),
                "INSTANCE_PATH": "/tmp/qe-hot-paths",
            }
        )
        counter = StatementCounter()
        event.listen(app.extensions["quizengine.db"].engine, "before_cursor_execute", counter)
        rc = redis.Redis.from_url(args.redis_url)
        users = [login(app, phone, spike.PASSWORD) for phone in world.phones]
        json_headers = [
            {"X-CSRFToken": csrf, "Accept": "application/json", "Referer": HTTPS + "/"}
            for _, csrf in users
        ]

        def run(name: str, calls: list[Callable[[], Any]], expect: tuple[int, ...]) -> None:
            if profiler and name == args.profile:
                profiler.enable()
            with measured(name, len(calls), counter, rc, figures):
                for call in calls:
                    resp = call()
                    if resp.status_code not in expect:
                        raise SystemExit(
                            f"{name}: HTTP {resp.status_code} {resp.get_data()[:300]!r}"
                        )
            if profiler and name == args.profile:
                profiler.disable()

        # baseline: the spike's bare endpoint, in this process too
        base_app = _baseline_app(scratch.url, args.redis_url)
        base_client = base_app.test_client()
        for _ in range(20):
            base_client.get("/ping")
        base_engine = sys.modules["spike_baseline_hot"]._engine
        event.listen(base_engine, "before_cursor_execute", counter)
        run("baseline", [lambda: base_client.get("/ping")] * n, (200,))

        # the app's own floor: a public endpoint, signed-in cookie, no database, no Redis
        floor_client = users[0][0]
        run("app /healthz", [lambda: floor_client.get("/healthz", base_url=HTTPS)] * n, (200,))
        # an HTML page: the signed-in home page (current contests and rounds)
        run("page: home", [lambda: floor_client.get("/", base_url=HTTPS)] * n, (200,))

        # start: each call a first entry + fresh draw in another round
        starts: list[Callable[[], Any]] = []
        attempts: list[tuple[int, int, dict[str, Any]]] = []

        def start_call(i: int, rid: int) -> Callable[[], Any]:
            client, _ = users[i]

            def call() -> Any:
                resp = client.post(
                    f"/api/v1/rounds/{rid}/attempts",
                    json={},
                    headers=json_headers[i],
                    base_url=HTTPS,
                )
                if resp.status_code in (200, 201):
                    attempts.append((i, resp.json["attempt_id"], resp.json))
                return resp

            return call

        warm = start_call(0, world.start_round_ids[-1])
        warm()
        for k in range(n):
            starts.append(start_call(k % len(users), world.start_round_ids[k // len(users)]))
        run("start attempt", starts, (201,))

        # save: round-robin over the started attempts' questions
        plan = [
            (i, a_id, q["id"], [o["key"] for o in q["options"]])
            for i, a_id, data in attempts
            for q in data["questions"]
        ]
        plan.sort(key=lambda t: (t[2] % 7, t[1]))

        def save_call(k: int) -> Callable[[], Any]:
            i, a_id, qid, keys = plan[k % len(plan)]
            client, _ = users[i]
            return lambda: client.put(
                f"/api/v1/attempts/{a_id}/answers/{qid}",
                json={"choice": [keys[k % len(keys)]]},
                headers=json_headers[i],
                base_url=HTTPS,
            )

        run("save answer", [save_call(k) for k in range(n)], (200,))

        def submit_call(i: int, a_id: int) -> Callable[[], Any]:
            client, _ = users[i]
            return lambda: client.post(
                f"/api/v1/attempts/{a_id}/submit", json={}, headers=json_headers[i], base_url=HTTPS
            )

        run("submit", [submit_call(i, a) for i, a, _ in attempts[1:]], (200,))

        rid = world.start_round_ids[0]

        # Top 5 of 30: most viewers are outside the top, as on a real board of thousands
        # (their own line is one more row to read).
        def board_call(k: int) -> Callable[[], Any]:
            client, _ = users[k % len(users)]
            return lambda: client.get(
                f"/api/v1/rounds/{rid}/leaderboard?limit=5",
                headers=json_headers[k % len(users)],
                base_url=HTTPS,
            )

        run("leaderboard", [board_call(k) for k in range(n)], (200,))
    finally:
        engine.dispose()
        scratch.drop()

    base = figures[0]
    print(f"{'endpoint':<14} {'CPU ms':>8} {'wall ms':>8} {'SQL':>5} {'Redis':>6} {'base/CPU':>9}")
    for f in figures:
        cpu = f.per(f.cpu_s) * 1000
        print(
            f"{f.name:<14} {cpu:8.2f} {f.per(f.wall_s) * 1000:8.2f} {f.per(f.statements):5.1f} "
            f"{f.per(f.redis_commands):6.1f} {base.per(base.cpu_s) * 1000 / cpu:9.0%}"
        )
    if profiler:
        print(f"\nprofile of {args.profile!r}:")
        stats = pstats.Stats(profiler)
        by_package: dict[str, float] = {}
        for (path, _, _), (_, _, tottime, _, _) in stats.stats.items():  # type: ignore[attr-defined]
            by_package[_package(path)] = by_package.get(_package(path), 0.0) + tottime
        total = sum(by_package.values()) or 1.0
        for name, secs in sorted(by_package.items(), key=lambda kv: -kv[1])[:15]:
            print(f"  {name:<28} {secs / total:6.1%}")
        stats.sort_stats("tottime").print_stats(30)
        stats.sort_stats("cumulative").print_stats(60)
    return 0


def _package(path: str) -> str:
    if "site-packages/" in path:
        return path.split("site-packages/", 1)[1].split("/", 1)[0]
    if "/quizengine/" in path:
        return "quizengine/" + path.split("/quizengine/", 1)[1]
    return "(stdlib/builtin)"


def _baseline_app(database_url: str, redis_url: str) -> Flask:
    os.environ["DATABASE_URL"] = database_url
    os.environ["REDIS_URL"] = redis_url
    loader = importlib.machinery.SourceFileLoader(
        "spike_baseline_hot", str(ROOT / "bench" / "spike_baseline.py")
    )
    spec = importlib.util.spec_from_loader("spike_baseline_hot", loader)
    assert spec is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["spike_baseline_hot"] = module
    loader.exec_module(module)
    app: Flask = module.app
    return app


if __name__ == "__main__":
    sys.exit(main())

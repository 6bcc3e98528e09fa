"""Which gunicorn worker class copes with slow phones? Measure, don't guess.

Starts the app under gunicorn (2 workers, PostgreSQL + Redis when DATABASE_URL/REDIS_URL are
set, else the embedded defaults with 1 worker) once per worker class, opens SLOW connections
that trickle their request headers in byte by byte (a phone on a weak 3G link), and meanwhile
drives normal requests from FAST keep-alive clients. Prints requests/s and latency percentiles
of the fast clients per worker class, and each class's ratio to the best one.

    .venv/bin/python bench/worker_class.py [--slow 60] [--fast 16] [--seconds 10]

Loopback only; every loop is bounded in time.
"""

from __future__ import annotations

import argparse
import http.client
import os
import socket
import statistics
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start(worker_class: str, port: int, workers: int) -> subprocess.Popen[bytes]:
    env = dict(os.environ)
    env.update(
        QUIZENGINE_BIND=f"127.0.0.1:{port}",
        QUIZENGINE_WORKER_CLASS=worker_class,
        WEB_CONCURRENCY=str(workers),
        QUIZENGINE_THREADS=os.environ.get("QUIZENGINE_THREADS", "8"),
        SECRET_KEY=env.get("SECRET_KEY", "bench"),
    )
    proc = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "-c", "gunicorn.conf.py", "wsgi:app"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1):
                return proc
        except OSError:
            time.sleep(0.2)
    proc.kill()
    raise RuntimeError(f"{worker_class}: server did not start")


def slow_client(port: int, stop: threading.Event) -> None:
    request = b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nUser-Agent: slow-phone\r\n\r\n"
    while not stop.is_set():
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=5) as s:
                for byte in request:
                    if stop.is_set():
                        return
                    s.send(bytes([byte]))
                    time.sleep(0.2)
                s.recv(65536)
        except OSError:
            time.sleep(0.1)


def fast_client(port: int, until: float, latencies: list[float], errors: list[int]) -> None:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    while time.monotonic() < until:
        t0 = time.perf_counter()
        try:
            conn.request("GET", "/")
            resp = conn.getresponse()
            resp.read()
            if resp.status != 200:
                errors.append(resp.status)
            latencies.append(time.perf_counter() - t0)
        except (OSError, http.client.HTTPException):
            errors.append(0)
            conn.close()
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)


def run(worker_class: str, args: argparse.Namespace) -> dict[str, float]:
    port = free_port()
    workers = 2 if os.environ.get("REDIS_URL") else 1
    proc = start(worker_class, port, workers)
    stop = threading.Event()
    slow = [
        threading.Thread(target=slow_client, args=(port, stop), daemon=True)
        for _ in range(args.slow)
    ]
    for t in slow:
        t.start()
    time.sleep(1.0)
    latencies: list[float] = []
    errors: list[int] = []
    until = time.monotonic() + args.seconds
    fast = [
        threading.Thread(target=fast_client, args=(port, until, latencies, errors), daemon=True)
        for _ in range(args.fast)
    ]
    for t in fast:
        t.start()
    for t in fast:
        t.join(args.seconds + 15)
    stop.set()
    proc.terminate()
    proc.wait(timeout=20)
    q = statistics.quantiles(latencies, n=100) if len(latencies) > 2 else [float("nan")] * 99
    return {
        "rps": len(latencies) / args.seconds,
        "p50": q[49] * 1000,
        "p95": q[94] * 1000,
        "p99": q[98] * 1000,
        "errors": float(len(errors)),
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--slow", type=int, default=60, help="slow clients trickling headers")
    parser.add_argument("--fast", type=int, default=16, help="fast keep-alive clients")
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--classes", default="sync,gthread,gevent")
    args = parser.parse_args()
    results = {wc: run(wc, args) for wc in args.classes.split(",")}
    best = max(r["rps"] for r in results.values()) or 1.0
    print(f"{args.slow} slow + {args.fast} fast clients, {args.seconds:.0f} s each")
    header = ("class", "req/s", "p50 ms", "p95 ms", "p99 ms", "errors", "vs best")
    print("{:<8} {:>8} {:>8} {:>8} {:>8} {:>7} {:>8}".format(*header))
    for wc, r in results.items():
        print(
            f"{wc:<8} {r['rps']:>8.1f} {r['p50']:>8.1f} {r['p95']:>8.1f} {r['p99']:>8.1f} "
            f"{int(r['errors']):>7} {r['rps'] / best:>8.2f}"
        )


if __name__ == "__main__":
    main()

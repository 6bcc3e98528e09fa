"""gunicorn settings, read from the environment.

QUIZENGINE_BIND (default 127.0.0.1:8000), WEB_CONCURRENCY (workers), QUIZENGINE_WORKER_CLASS
(default gevent: measured with bench/worker_class.py, it keeps serving while slow phones hold
connections open; gthread uses QUIZENGINE_THREADS, default 8). Without REDIS_URL the app keeps
leaderboards and rate limits in process memory, so it runs one worker only.
"""

import multiprocessing
import os
import sys

bind = os.environ.get("QUIZENGINE_BIND", "127.0.0.1:8000")
worker_class = os.environ.get("QUIZENGINE_WORKER_CLASS", "gevent")
worker_connections = int(os.environ.get("QUIZENGINE_WORKER_CONNECTIONS", "1000"))
threads = int(os.environ.get("QUIZENGINE_THREADS", "8"))
timeout = int(os.environ.get("QUIZENGINE_TIMEOUT", "30"))
graceful_timeout = 20
keepalive = 5
# Many slow phones: keep the listen queue long enough for an opening spike.
backlog = 2048
accesslog = os.environ.get("QUIZENGINE_ACCESS_LOG") or None
errorlog = "-"

if os.environ.get("REDIS_URL"):
    workers = int(os.environ.get("WEB_CONCURRENCY", multiprocessing.cpu_count() * 2 + 1))
else:
    workers = int(os.environ.get("WEB_CONCURRENCY", "1"))
    if workers > 1:
        sys.exit(
            "quizengine: WEB_CONCURRENCY=%d but REDIS_URL is not set. Without Redis the "
            "leaderboards and rate limits live in one process's memory, so only one worker "
            "can run. Set REDIS_URL (e.g. redis://127.0.0.1:6379/0) or use one worker."
            % workers
        )

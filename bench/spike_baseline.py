"""The spike benchmark's baseline: the cheapest request a real endpoint could ever be.

One Flask endpoint that makes one Redis call and one trivial SQL query, through the same
drivers and pool settings as the app (redis-py, SQLAlchemy + psycopg 3 from
``quizengine.db.make_engine``), served by the same ``gunicorn.conf.py`` (worker class,
worker count, backlog, keep-alive). bench/spike drives it with the same locust users and
the same number of connections as the app's endpoints, and prints every endpoint's
requests/s as a fraction of this one's.

    gunicorn -c gunicorn.conf.py --pythonpath bench spike_baseline:app

Reads DATABASE_URL and REDIS_URL like the app does.
"""

from __future__ import annotations

import os

import redis
from flask import Flask, jsonify
from flask.typing import ResponseReturnValue
from sqlalchemy import text

from quizengine.config import normalise_database_url
from quizengine.db import make_engine

app = Flask(__name__)
_engine = make_engine(normalise_database_url(os.environ["DATABASE_URL"]))
_redis = redis.Redis.from_url(os.environ["REDIS_URL"])
_KEY = "qe-baseline:hits"


@app.get("/ping")
def ping() -> ResponseReturnValue:
    hits = _redis.incr(_KEY)
    with _engine.connect() as conn:
        one = conn.execute(text("SELECT 1")).scalar_one()
    return jsonify({"hits": hits, "one": one})


@app.get("/healthz")
def healthz() -> ResponseReturnValue:
    return jsonify({"status": "ok"})

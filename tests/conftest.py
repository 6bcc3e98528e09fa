"""Fixtures shared by every test layer.

Backends are chosen by the environment, never by the test body:
- TEST_DATABASE_URL set → PostgreSQL (a fresh schema per run, built with the migrations);
  otherwise a SQLite file.
- TEST_REDIS_URL set → real Redis (a key prefix per run, flushed after each test);
  otherwise the embedded in-process store.
With CI=true a missing PostgreSQL, Redis or Chromium fails the run instead of skipping.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import quote

import pytest
from flask import Flask
from flask.testing import FlaskClient, FlaskCliRunner
from sqlalchemy import create_engine, text
from sqlalchemy.orm import Session

from quizengine import create_app, migrations
from quizengine.clock import FrozenClock, SystemClock
from quizengine.db import database
from quizengine.extensions import limiter
from quizengine.models import Base
from quizengine.store import Store, open_store

IN_CI = os.environ.get("CI") == "true"
TEST_DATABASE_URL = os.environ.get("TEST_DATABASE_URL")
TEST_REDIS_URL = os.environ.get("TEST_REDIS_URL")
RUN_TAG = f"{os.getpid()}_{secrets.token_hex(3)}"


def require(condition: bool, what: str) -> None:
    """Skip locally when a real service is missing; fail in CI, where it must be there."""
    if condition:
        return
    if IN_CI:
        pytest.fail(f"{what} is required in CI but is not available")
    pytest.skip(f"{what} not available (set it up to run this test)")


@pytest.fixture(scope="session")
def database_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    if IN_CI and not TEST_DATABASE_URL:
        pytest.exit("CI=true but TEST_DATABASE_URL is not set", returncode=3)
    if TEST_DATABASE_URL:
        base_url = migrations_url = TEST_DATABASE_URL
        schema = f"qe_test_{RUN_TAG}"
        admin = create_engine(_psycopg(base_url))
        with admin.begin() as conn:
            conn.execute(text(f'CREATE SCHEMA "{schema}"'))
        sep = "&" if "?" in base_url else "?"
        url = _psycopg(base_url) + f"{sep}options={quote(f'-csearch_path={schema}')}"
        migrations_url = url
        migrations.upgrade(migrations_url)
        yield url
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()
    else:
        path = tmp_path_factory.mktemp("db") / "test.sqlite3"
        url = f"sqlite:///{path}"
        migrations.upgrade(url)
        yield url


def _psycopg(url: str) -> str:
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


@pytest.fixture(scope="session")
def redis_url() -> str | None:
    if IN_CI and not TEST_REDIS_URL:
        pytest.exit("CI=true but TEST_REDIS_URL is not set", returncode=3)
    return TEST_REDIS_URL


@pytest.fixture(scope="session")
def store_prefix() -> str:
    return f"qetest:{RUN_TAG}:"


@pytest.fixture(scope="session")
def app_config(
    database_url: str,
    redis_url: str | None,
    store_prefix: str,
    tmp_path_factory: pytest.TempPathFactory,
) -> dict[str, object]:
    return {
        "DATABASE_URL": database_url,
        "REDIS_URL": redis_url,
        "SECRET_KEY": "test-secret-key",
        "INSTANCE_PATH": str(tmp_path_factory.mktemp("instance")),
        "STORE_PREFIX": store_prefix,
        "RATELIMIT_KEY_PREFIX": f"qetest-limits:{RUN_TAG}",
        "TESTING": True,
    }


@pytest.fixture(scope="session")
def _session_app(app_config: dict[str, object]) -> Flask:
    return create_app(dict(app_config))


@pytest.fixture
def app(_session_app: Flask) -> Iterator[Flask]:
    """The session's app, with a clean database, store and rate limits for each test."""
    # No app context stays pushed: each test-client request must get its own `g`.
    _session_app.extensions["quizengine.clock"] = SystemClock()
    # Per-process caches: each test starts without them (ids restart with every test).
    for cache in ("leaderboard.cache", "attempts.plans", "attempts.versions", "attempts.pools"):
        _session_app.extensions.pop(f"quizengine.{cache}", None)
    yield _session_app
    _clean_database(_session_app)
    _session_app.extensions["quizengine.store"].flush_prefix()
    with _session_app.app_context():
        limiter.reset()


def _clean_database(app: Flask) -> None:
    engine = database(app).engine
    tables = [t.name for t in Base.metadata.sorted_tables]
    with engine.begin() as conn:
        if engine.dialect.name == "postgresql":
            conn.execute(text(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE"))
        else:
            conn.execute(text("PRAGMA foreign_keys=OFF"))
            for name in reversed(tables):
                conn.execute(text(f"DELETE FROM {name}"))
            conn.execute(text("PRAGMA foreign_keys=ON"))


@pytest.fixture
def clock(app: Flask) -> FrozenClock:
    """Freeze the server's clock for this test (services read it from the app)."""
    frozen = FrozenClock(datetime(2026, 3, 2, 3, 0, tzinfo=UTC))
    app.extensions["quizengine.clock"] = frozen
    return frozen


@pytest.fixture
def store(app: Flask) -> Store:
    s: Store = app.extensions["quizengine.store"]
    return s


@pytest.fixture
def db_session(app: Flask) -> Iterator[Session]:
    session = database(app).sessionmaker()
    yield session
    session.close()


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def runner(app: Flask) -> FlaskCliRunner:
    return app.test_cli_runner()


@pytest.fixture
def fresh_store(redis_url: str | None) -> Iterator[Store]:
    """A store of the configured backend on a prefix of its own (for store contract tests)."""
    s = open_store(redis_url, prefix=f"qetest:{RUN_TAG}:{secrets.token_hex(3)}:")
    yield s
    s.flush_prefix()


def pytest_report_header(config: pytest.Config) -> list[str]:
    db = "PostgreSQL" if TEST_DATABASE_URL else "SQLite (set TEST_DATABASE_URL for PostgreSQL)"
    st = "Redis" if TEST_REDIS_URL else "embedded store (set TEST_REDIS_URL for Redis)"
    return [f"quizengine backends: database={db}; store={st}"]


ROOT = Path(__file__).resolve().parent.parent

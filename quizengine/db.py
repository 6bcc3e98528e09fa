"""Engine and sessions. One session per request (or CLI command), closed on teardown.

Services receive the session and only ``flush()``; the request or command commits once.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

from flask import Flask, current_app, g, has_request_context, request
from sqlalchemy import Engine, create_engine, event
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.pool import StaticPool

F = TypeVar("F", bound=Callable[..., Any])


def make_engine(url: str, **kwargs: Any) -> Engine:
    if url.startswith("sqlite"):
        connect_args = {"check_same_thread": False, "timeout": 30}
        if url in ("sqlite://", "sqlite:///:memory:"):
            kwargs.setdefault("poolclass", StaticPool)
        engine = create_engine(url, connect_args=connect_args, **kwargs)

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA busy_timeout=30000")
            cur.close()

        return engine
    kwargs.setdefault("pool_pre_ping", True)
    kwargs.setdefault("pool_size", 5)
    kwargs.setdefault("max_overflow", 10)
    return create_engine(url, **kwargs)


def insert_or_skip(session: Session, entity: Any) -> Any:
    """``INSERT … ON CONFLICT DO NOTHING`` on the session's database (PostgreSQL, SQLite).

    With ``.returning(...)`` it returns no row when a unique constraint already holds one:
    the race's loser learns it without an error or a savepoint round trip."""
    dialect = sqlite if session.get_bind().dialect.name == "sqlite" else postgresql
    return dialect.insert(entity).on_conflict_do_nothing()


class Database:
    """The app's engine and session factory, kept in ``app.extensions``."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.sessionmaker = sessionmaker(bind=engine, expire_on_commit=False)

    def init_app(self, app: Flask) -> None:
        app.extensions["quizengine.db"] = self
        app.teardown_appcontext(_close_session)

    @contextmanager
    def session_scope(self) -> Iterator[Session]:
        """A session for a CLI command or a job: commit on success, roll back on error."""
        session = self.sessionmaker()
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise
        finally:
            session.close()


def database(app: Flask | None = None) -> Database:
    db: Database = (app or current_app).extensions["quizengine.db"]
    return db


def autocommit(view: F) -> F:
    """Mark a view whose session starts without a transaction (autocommit, PostgreSQL).

    For requests that only read, or whose usual work is one atomic statement: no BEGIN and
    no COMMIT/ROLLBACK round trip. Each statement sees the latest commit. A service that
    needs a transaction after all (locks, several writes) calls ``begin_transaction``."""
    view.autocommit = True  # type: ignore[attr-defined]
    return view


# A view that never writes (a leaderboard, a list).
read_only = autocommit


def _autocommit_request() -> bool:
    view = current_app.view_functions.get(request.endpoint or "") if has_request_context() else None
    return bool(getattr(view, "autocommit", False))


def begin_transaction(session: Session) -> None:
    """From here on, a real transaction: a session that ran in autocommit gives its
    connection back, and its next statement starts a transaction on a fresh one. Objects
    it loaded so far are detached (call this before loading what the transaction needs)."""
    if session.info.pop(_AUTOCOMMIT, False):
        session.close()


_AUTOCOMMIT = "quizengine.autocommit"


def session() -> Session:
    """The request's session, opened on first use."""
    if "db_session" not in g:
        s = database().sessionmaker()
        # SQLite: always transactional (its writes are several statements where PostgreSQL
        # has one, and a file database has no round trips to save).
        if _autocommit_request() and s.get_bind().dialect.name == "postgresql":
            s.connection(execution_options={"isolation_level": "AUTOCOMMIT"})
            s.info[_AUTOCOMMIT] = True
        g.db_session = s
    found: Session = g.db_session
    return found


def _close_session(exc: BaseException | None) -> None:
    s: Session | None = g.pop("db_session", None)
    if s is not None:
        if exc is not None:
            s.rollback()
        s.close()

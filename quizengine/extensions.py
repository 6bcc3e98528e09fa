"""Extension instances (configured in create_app) and accessors for the app's store and clock."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from flask import current_app, request
from flask_babel import Babel
from flask_limiter import Limiter
from flask_login import LoginManager, current_user
from flask_wtf.csrf import CSRFProtect

from quizengine.clock import Clock
from quizengine.store import Store


def client_ip() -> str:
    # ProxyFix (configured from QUIZENGINE_PROXY_HOPS) has already applied X-Forwarded-For.
    return request.remote_addr or "unknown"


def account_or_ip() -> str:
    """Per-account first: a factory's hundreds of workers share one public address."""
    if current_user.is_authenticated:
        return f"user:{current_user.get_id()}"
    return f"ip:{client_ip()}"


babel = Babel()
csrf = CSRFProtect()
login_manager = LoginManager()
limiter = Limiter(key_func=account_or_ip)


def current_store() -> Store:
    store: Store = current_app.extensions["quizengine.store"]
    return store


T = TypeVar("T")


def process_cache(name: str, make: Callable[[], T]) -> T:
    """A cache this process keeps in the app's extensions, made on first use and shared by
    every request (draw pools, round plans, board tops): never the truth."""
    found: T | None = current_app.extensions.get(name)
    if found is None:
        found = current_app.extensions[name] = make()
    return found


def current_clock() -> Clock:
    clock: Clock = current_app.extensions["quizengine.clock"]
    return clock

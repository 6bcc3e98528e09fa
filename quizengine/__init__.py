"""quizengine: an online quiz-contest engine for trade-union contests.

``create_app`` only wires things together: settings, database, store, extensions,
blueprints, CLI groups and error handlers. No I/O beyond opening connections lazily.
"""

from __future__ import annotations

import logging
from typing import Any

from flask import Flask, request
from flask_babel import get_locale
from flask_login import current_user
from flask_wtf.csrf import generate_csrf
from werkzeug.middleware.proxy_fix import ProxyFix
from werkzeug.routing import IntegerConverter, Map

from quizengine import db as db_module
from quizengine.access import is_api_request
from quizengine.accounts.principal import SignedIn, load_signed_in
from quizengine.accounts.validation import ROW_ID_MAX
from quizengine.accounts.views import bp as accounts_bp
from quizengine.attempts.views import api as attempts_api
from quizengine.attempts.views import bp as attempts_bp
from quizengine.banks.views import bp as banks_bp
from quizengine.cli import register_commands
from quizengine.clock import Clock, SystemClock, to_local
from quizengine.config import Settings
from quizengine.contests.views import bp as contests_bp
from quizengine.errors import Unauthorized, register_error_handlers
from quizengine.extensions import babel, csrf, limiter, login_manager
from quizengine.home.views import bp as home_bp
from quizengine.i18n import bp as i18n_bp
from quizengine.i18n import select_locale
from quizengine.judging.views import bp as judging_bp
from quizengine.leaderboard.views import api as leaderboard_api
from quizengine.leaderboard.views import bp as leaderboard_bp
from quizengine.store import Store, open_store

log = logging.getLogger("quizengine")

_UNSAFE_METHODS = {"POST", "PUT", "PATCH", "DELETE"}


def create_app(
    config: dict[str, Any] | None = None,
    *,
    store: Store | None = None,
    clock: Clock | None = None,
) -> Flask:
    settings = Settings.from_env(config)
    app = Flask(
        __name__,
        instance_path=str(settings.instance_path),
        template_folder="../templates",
        static_folder="../static",
    )
    app.config.update(
        SECRET_KEY=settings.secret_key,
        QUIZENGINE=settings,
        MAX_CONTENT_LENGTH=settings.max_upload_bytes + 1024 * 1024,
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=settings.production,
        REMEMBER_COOKIE_HTTPONLY=True,
        REMEMBER_COOKIE_SAMESITE="Lax",
        REMEMBER_COOKIE_SECURE=settings.production,
        WTF_CSRF_CHECK_DEFAULT=False,  # checked in _csrf_after_auth, after the 401 check
        WTF_CSRF_TIME_LIMIT=None,  # a page left open during a 30-minute attempt must still post
        WTF_CSRF_HEADERS=["X-CSRFToken", "X-CSRF-Token"],
        BABEL_DEFAULT_LOCALE="vi",
        BABEL_DEFAULT_TIMEZONE="Asia/Ho_Chi_Minh",
        RATELIMIT_STORAGE_URI=settings.redis_url or "memory://",
        # No X-RateLimit-* headers on every response: each costs two more Redis round trips
        # per limit (bench/spike); a 429 still carries Retry-After (errors.py sets it).
        RATELIMIT_HEADERS_ENABLED=False,
        RATELIMIT_KEY_PREFIX=str(settings.extra.get("RATELIMIT_KEY_PREFIX", "qe-limits")),
        # The storage's own prefix too: limiter.reset() deletes everything under it.
        RATELIMIT_STORAGE_OPTIONS=(
            {"key_prefix": str(settings.extra.get("RATELIMIT_KEY_PREFIX", "qe-limits"))}
            if settings.redis_url
            else {}
        ),
        RATELIMIT_ENABLED=bool(settings.extra.get("RATELIMIT_ENABLED", True)),
        # A Redis hiccup must not turn into 500s on the login page: fall back to memory.
        RATELIMIT_IN_MEMORY_FALLBACK_ENABLED=True,
        RATELIMIT_SWALLOW_ERRORS=True,
    )
    app.config.update({k: v for k, v in settings.extra.items() if k.isupper()})
    # JSON answers keep the order they were built in (sorting every start's 20 questions
    # and every board's lines costs CPU and means nothing to a client) and carry Vietnamese
    # as UTF-8: "ạ" is 3 bytes, not the 6 of "\u1ea1", so Vietnamese text is about a third
    # lighter on a phone's mobile data.
    app.json.sort_keys = False  # type: ignore[attr-defined]
    app.json.ensure_ascii = False  # type: ignore[attr-defined]
    proxy_hops = int(app.config.get("PROXY_HOPS", 0) or 0)
    if proxy_hops:
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=proxy_hops, x_proto=proxy_hops)  # type: ignore[method-assign]

    database = db_module.Database(db_module.make_engine(settings.database_url))
    database.init_app(app)
    app.extensions["quizengine.store"] = store or open_store(
        settings.redis_url, prefix=str(settings.extra.get("STORE_PREFIX", "qe:"))
    )
    app.extensions["quizengine.clock"] = clock or SystemClock()

    babel.init_app(app, locale_selector=select_locale)
    csrf.init_app(app)
    limiter.init_app(app)
    login_manager.init_app(app)
    login_manager.login_view = "accounts.login"

    @login_manager.user_loader
    def load_user(user_id: str) -> SignedIn | None:
        return load_signed_in(db_module.session(), user_id)

    @app.before_request
    def _csrf_after_auth() -> None:
        if request.method not in _UNSAFE_METHODS:
            return
        # The JSON contract: no session → 401, checked before CSRF.
        if is_api_request() and not current_user.is_authenticated:
            raise Unauthorized()
        csrf.protect()

    @app.context_processor
    def _template_globals() -> dict[str, Any]:
        return {
            "csrf_token_value": generate_csrf,
            "current_locale": lambda: str(get_locale() or "vi"),
        }

    app.jinja_env.filters["local_time"] = lambda value, fmt="%d/%m/%Y %H:%M": (
        to_local(value).strftime(fmt) if value else ""
    )

    # Ids are PostgreSQL integers: a larger number in a URL is a 404, not a query error.
    app.url_map.converters["int"] = DatabaseIdConverter
    _register_blueprints(app)
    register_commands(app)
    register_error_handlers(app)

    if settings.embedded_store:
        _warn_once_when_serving(app)
    return app


def _warn_once_when_serving(app: Flask) -> None:
    """Say it when the app serves its first request, not on every CLI command."""
    warned = False

    @app.before_request
    def _embedded_store_warning() -> None:
        nonlocal warned
        if not warned:
            warned = True
            log.warning(
                "REDIS_URL is not set: leaderboards and rate limits live in this process's "
                "memory. Fine for one process; set REDIS_URL before running several."
            )


class DatabaseIdConverter(IntegerConverter):
    def __init__(self, map: Map, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("max", ROW_ID_MAX)
        super().__init__(map, *args, **kwargs)


def _register_blueprints(app: Flask) -> None:
    for bp in (
        home_bp,
        i18n_bp,
        accounts_bp,
        banks_bp,
        contests_bp,
        attempts_bp,
        attempts_api,
        leaderboard_bp,
        leaderboard_api,
        judging_bp,
    ):
        app.register_blueprint(bp)

"""Languages: Vietnamese by default, English on request; the choice lives in the session."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import Blueprint, has_request_context, redirect, request, session, url_for
from werkzeug.wrappers import Response

from quizengine.access import public

LANGUAGES = ("vi", "en")
DEFAULT_LANGUAGE = "vi"

bp = Blueprint("i18n", __name__)


def select_locale() -> str:
    # CLI commands and jobs have no session: their messages are in the default language.
    if not has_request_context():
        return DEFAULT_LANGUAGE
    lang = session.get("lang")
    return lang if lang in LANGUAGES else DEFAULT_LANGUAGE


def _safe_next(target: str | None) -> str:
    # Only same-site paths: never an open redirect.
    if target and target.startswith("/") and not target.startswith("//"):
        return target
    return url_for("home.index")


@bp.get("/lang/<code>")
@public
def switch(code: str) -> Response:
    if code in LANGUAGES:
        session["lang"] = code
    target = request.args.get("next")
    if not target and request.referrer:
        parts = urlsplit(request.referrer)
        if parts.netloc == request.host:
            target = parts.path + (f"?{parts.query}" if parts.query else "")
    return redirect(_safe_next(target))

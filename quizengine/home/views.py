"""The landing page: what is on now, where to sign in."""

from __future__ import annotations

from flask import Blueprint, render_template

from quizengine.access import public
from quizengine.contests.queries import current_contests
from quizengine.db import session
from quizengine.extensions import current_clock

bp = Blueprint("home", __name__)


@bp.get("/")
@public
def index() -> str:
    lines = current_contests(session(), current_clock().now())
    return render_template("home/index.html", lines=lines)


@bp.get("/healthz")
@public
def healthz() -> dict[str, str]:
    return {"status": "ok"}

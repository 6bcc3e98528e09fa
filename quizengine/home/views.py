"""The landing page: what is on now, where to sign in."""

from __future__ import annotations

from flask import Blueprint, render_template

from quizengine.access import public

bp = Blueprint("home", __name__)


@bp.get("/")
@public
def index() -> str:
    return render_template("home/index.html")


@bp.get("/healthz")
@public
def healthz() -> dict[str, str]:
    return {"status": "ok"}

"""Leaderboard pages and API: the live board on a phone and unit standings.

Thin: read the query string, call one service, render. When Redis is down the service
raises LeaderboardUnavailable, which the error handlers turn into a 503 that says the
board is temporarily unavailable (JSON under /api/, a page elsewhere) — never a 500.
"""

from __future__ import annotations

from flask import Blueprint, current_app, jsonify, render_template, request
from flask.typing import ResponseReturnValue
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from quizengine.access import signed_in
from quizengine.db import read_only, session
from quizengine.errors import Invalid
from quizengine.extensions import current_clock, current_store, process_cache
from quizengine.leaderboard import services

bp = Blueprint("leaderboard", __name__)
api = Blueprint("leaderboard_api", __name__, url_prefix="/api/v1")

PAGE_LIMIT = 20


def _int_arg(name: str, default: int) -> int:
    raw = request.args.get(name)
    if raw is None or raw == "":
        return default
    if not raw.isdigit():
        raise Invalid(_l("Tham số “%(name)s” phải là số nguyên dương.", name=name))
    return int(raw)


def _cache() -> services.BoardCache:
    """This process's board cache (LEADERBOARD_CACHE_SECONDS, default 1 s; 0 turns it off)."""
    seconds = float(current_app.config.get("LEADERBOARD_CACHE_SECONDS", 1.0))
    return process_cache("quizengine.leaderboard.cache", lambda: services.BoardCache(seconds))


def _board_view(limit: int, round_id: int) -> services.BoardView:
    return services.board_view(
        session(),
        current_store(),
        round_id,
        viewer_id=int(current_user.get_id()),
        board_name=request.args.get("board") or None,
        limit=limit,
        now=current_clock().now(),
        cache=_cache(),
    )


@api.get("/rounds/<int:round_id>/leaderboard")
@signed_in
@read_only
def leaderboard_json(round_id: int) -> ResponseReturnValue:
    view = _board_view(_int_arg("limit", PAGE_LIMIT), round_id)
    return jsonify(view.as_json())


@bp.get("/rounds/<int:round_id>/leaderboard")
@signed_in
@read_only
def leaderboard_page(round_id: int) -> ResponseReturnValue:
    view = _board_view(PAGE_LIMIT, round_id)
    return render_template("leaderboard/board.html", view=view, now=current_clock().now())


@bp.get("/rounds/<int:round_id>/units")
@signed_in
@read_only
def unit_standings_page(round_id: int) -> ResponseReturnValue:
    standings = services.unit_standings(
        session(),
        current_store(),
        round_id,
        level=request.args.get("level") or "grassroots",
        sort=request.args.get("sort") or "participants",
        page=_int_arg("page", 1),
        now=current_clock().now(),
    )
    return render_template("leaderboard/units.html", standings=standings)

"""Leaderboard pages and API."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("leaderboard", __name__)
api = Blueprint("leaderboard_api", __name__, url_prefix="/api/v1")

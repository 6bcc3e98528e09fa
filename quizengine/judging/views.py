"""Judges' pages: final standings, review, finalising, exports."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("judging", __name__, url_prefix="/judge")

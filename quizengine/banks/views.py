"""Question-bank pages for organisers."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("banks", __name__, url_prefix="/organiser/banks")

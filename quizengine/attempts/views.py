"""Taking an attempt: the phone pages and the JSON API they use."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("attempts", __name__)
api = Blueprint("attempts_api", __name__, url_prefix="/api/v1")

"""Sign-in, registration and account pages (placeholder until the Accounts issue lands)."""

from __future__ import annotations

from flask import Blueprint, render_template

from quizengine.access import public, signed_in

bp = Blueprint("accounts", __name__)


@bp.get("/login")
@public
def login() -> str:
    return render_template("error.html", status=200, message="")


@bp.get("/account/password")
@signed_in
def change_password() -> str:
    return render_template("error.html", status=200, message="")


@bp.post("/logout")
@public
def logout() -> str:
    return render_template("error.html", status=200, message="")

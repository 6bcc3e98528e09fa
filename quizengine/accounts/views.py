"""Sign-in, registration, the account page, and organisers' user and unit pages.

Thin views: read a form, call one service, commit once, render or redirect. Login and
registration carry Flask-Limiter limits (on the configured store: Redis in production):

- failed logins per phone + IP and per phone, counted only when a login fails
  (``deduct_when``), so a successful sign-in never spends the budget;
- a loose per-IP cap on failed logins, because a factory's workers share one address;
- registrations per IP, loosely, for the same reason.
Each limit is a setting (``LOGIN_FAILURES_PER_PHONE_IP`` ...) with the default below.
"""

from __future__ import annotations

import hashlib
import io
from collections.abc import Callable
from typing import Any

import segno
from flask import (
    Blueprint,
    Response,
    current_app,
    flash,
    g,
    make_response,
    redirect,
    render_template,
    request,
    url_for,
)
from flask import session as cookie_session
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_user, logout_user
from werkzeug.wrappers import Response as BaseResponse

from quizengine.access import organiser_only, public, signed_in
from quizengine.accounts import queries, services
from quizengine.accounts.forms import (
    ActionForm,
    ChangePasswordForm,
    LoginForm,
    RegisterForm,
    UnitForm,
)
from quizengine.accounts.principal import SignedIn
from quizengine.accounts.services import FieldErrors, LoginFailed, authenticate
from quizengine.accounts.units import add_unit, update_unit
from quizengine.accounts.validation import mask_national_id, mask_phone, phone_key
from quizengine.db import session as db_session
from quizengine.errors import NotFound
from quizengine.extensions import client_ip, current_clock, limiter
from quizengine.models import Role, User

bp = Blueprint("accounts", __name__)

ROLE_LABELS = {
    Role.CONTESTANT.value: _l("Thí sinh"),
    Role.JUDGE.value: _l("Giám khảo"),
    Role.ORGANISER.value: _l("Ban tổ chức"),
}

DEFAULT_LIMITS = {
    "LOGIN_FAILURES_PER_PHONE_IP": "10/minute",
    # Above the phone + IP limit, so someone failing from another address cannot lock the
    # owner out with a handful of tries; an hourly cap stops slow guessing from many hosts.
    "LOGIN_FAILURES_PER_PHONE": "20/minute;60/hour",
    "LOGIN_FAILURES_PER_IP": "300/minute",
    "REGISTRATIONS_PER_IP": "300/hour",
}
# Above this many grassroots units the registration page first asks for the upper-level
# union, so the phone never downloads a list of thousands of options (the page budget is
# 40 KB; 169 units, the largest list seen in a real contest, take about 23 KB, and 200
# units about 26 KB).
DEFAULT_REGISTER_LIST_MAX = 200


# --------------------------------------------------------------------------- limits


def _setting(name: str) -> Callable[[], str]:
    return lambda: str(current_app.config.get(name) or DEFAULT_LIMITS[name])


def _login_phone() -> str:
    raw = request.form.get("phone", "")
    return phone_key(raw) or " ".join(raw.split())[:32] or "-"


def _login_failed(_response: Response) -> bool:
    return bool(g.get("login_failed"))


def _limit_login(view: Callable[..., Any]) -> Callable[..., Any]:
    limits = (
        (
            "LOGIN_FAILURES_PER_PHONE_IP",
            lambda: f"login-phone-ip:{_login_phone()}@{client_ip()}",
        ),
        ("LOGIN_FAILURES_PER_PHONE", lambda: f"login-phone:{_login_phone()}"),
        ("LOGIN_FAILURES_PER_IP", lambda: f"login-ip:{client_ip()}"),
    )
    for name, key in limits:
        view = limiter.limit(
            _setting(name), key_func=key, methods=["POST"], deduct_when=_login_failed
        )(view)
    return view


# --------------------------------------------------------------------------- helpers


def _safe_next(target: str | None) -> str | None:
    """Only same-site paths: never an open redirect."""
    if (
        target
        and target.startswith("/")
        and not target.startswith(("//", "/\\"))
        and "\n" not in target
        and "\r" not in target
    ):
        return target.rstrip("?") or "/"
    return None


def _after_login_target() -> str:
    return _safe_next(request.args.get("next")) or url_for("home.index")


@bp.app_template_filter("mask_national_id")
def _mask_national_id_filter(value: str | None) -> str:
    return mask_national_id(value)


@bp.app_template_filter("mask_phone")
def _mask_phone_filter(value: str | None) -> str:
    return mask_phone(value)


@bp.app_context_processor
def _account_globals() -> dict[str, Any]:
    return {"role_labels": ROLE_LABELS}


# --------------------------------------------------------------------------- sessions

_STAMP_KEY = "_stamp"


def _password_stamp(user: User | SignedIn) -> str:
    return hashlib.sha256(user.password_hash.encode()).hexdigest()[:16]


def _start_session(user: User, *, remember: bool = False) -> None:
    login_user(user, remember=remember)
    cookie_session[_STAMP_KEY] = _password_stamp(user)


@bp.before_app_request
def _end_sessions_of_replaced_passwords() -> None:
    """A password change or reset signs out every other session that used the old one.

    Sessions carry a fingerprint of the password hash they signed in with. (A session
    restored from a remember-me cookie has none and is let through; see the report.)
    """
    if _STAMP_KEY not in cookie_session:
        return
    view = current_app.view_functions.get(request.endpoint or "")
    if view is None or getattr(view, "access_policy", "public") == "public":
        # Public pages and static files do not need the user; do not load it for them
        # (guarded views load it anyway, so for them the check costs no query).
        return
    if current_user.is_authenticated and cookie_session[_STAMP_KEY] != _password_stamp(
        current_user
    ):
        logout_user()
        cookie_session.pop(_STAMP_KEY, None)


# --------------------------------------------------------------------------- sign-in


@bp.route("/login", methods=["GET", "POST"])
@public
@_limit_login
def login() -> Any:
    form = LoginForm()
    if request.method == "GET" and current_user.is_authenticated:
        return redirect(_after_login_target())
    if form.validate_on_submit():
        session = db_session()
        try:
            user = authenticate(
                session, phone=form.phone.data, password=form.password.data, clock=current_clock()
            )
        except FieldErrors as exc:
            g.login_failed = True
            form.show_errors(exc.errors)
        except LoginFailed as exc:
            g.login_failed = True
            form.fail(exc.message)
        else:
            session.commit()
            _start_session(user, remember=bool(form.remember.data))
            if user.must_change_password:
                flash(_("Vui lòng đổi mật khẩu tạm thời trước khi tiếp tục."), "info")
                return redirect(
                    url_for("accounts.change_password", next=_safe_next(request.args.get("next")))
                )
            return redirect(_after_login_target())
    return render_template("accounts/login.html", form=form)


@bp.post("/logout")
@public
def logout() -> BaseResponse:
    if current_user.is_authenticated:
        logout_user()
        cookie_session.pop(_STAMP_KEY, None)
        flash(_("Bạn đã đăng xuất."), "success")
    return redirect(url_for("home.index"))


@bp.route("/register", methods=["GET", "POST"])
@public
@limiter.limit(
    _setting("REGISTRATIONS_PER_IP"),
    key_func=lambda: f"register-ip:{client_ip()}",
    methods=["POST"],
)
def register() -> Any:
    session = db_session()
    form = RegisterForm()
    code = (request.args.get("unit") or "").strip()
    choices = queries.registration_choices(
        session,
        code=code,
        list_max=int(current_app.config.get("REGISTER_LIST_MAX") or DEFAULT_REGISTER_LIST_MAX),
    )
    if choices.unknown_code:
        flash(
            _(
                "Không tìm thấy đơn vị có mã %(code)s. Vui lòng chọn đơn vị của bạn trong "
                "danh sách.",
                code=code[:50],
            ),
            "error",
        )
    if request.method == "GET" and choices.preselect:
        form.unit.data = choices.preselect

    if form.validate_on_submit() and not current_user.is_authenticated:
        try:
            user = services.register_contestant(
                session,
                full_name=form.full_name.data,
                phone=form.phone.data,
                password=form.password.data,
                confirm=form.confirm.data,
                unit=form.unit.data,
                birth_year=form.birth_year.data,
                national_id=form.national_id.data,
                ip=client_ip(),
                clock=current_clock(),
            )
        except FieldErrors as exc:
            form.show_errors(exc.errors)
        else:
            session.commit()
            _start_session(user)
            flash(_("Đăng ký thành công. Chào mừng %(name)s!", name=user.full_name), "success")
            return redirect(url_for("home.index"))
    return render_template(
        "accounts/register.html",
        form=form,
        choices=choices,
    )


# --------------------------------------------------------------------------- own account


@bp.get("/account")
@signed_in
def account() -> str:
    user = db_session().get(User, int(current_user.get_id()))
    if user is None:
        raise NotFound()
    return render_template("accounts/account.html", user=user)


@bp.route("/account/password", methods=["GET", "POST"])
@signed_in
def change_password() -> Any:
    form = ChangePasswordForm()
    if form.validate_on_submit():
        session = db_session()
        try:
            user = services.change_password(
                session,
                user_id=int(current_user.get_id()),
                current_password=form.current_password.data,
                new_password=form.password.data,
                confirm=form.confirm.data,
            )
        except FieldErrors as exc:
            form.show_errors(exc.errors)
        else:
            session.commit()
            # This session stays signed in; others that used the old password do not.
            cookie_session[_STAMP_KEY] = _password_stamp(user)
            flash(_("Đã đổi mật khẩu."), "success")
            return redirect(_safe_next(request.args.get("next")) or url_for("home.index"))
    return render_template(
        "accounts/change_password.html",
        form=form,
        forced=bool(getattr(current_user, "must_change_password", False)),
    )


# --------------------------------------------------------------------------- organisers: users


@bp.get("/organiser/users")
@organiser_only
def users() -> str:
    session = db_session()
    role = request.args.get("role") or None
    unit_code = (request.args.get("unit") or "").strip()
    unit = queries.find_unit(session, unit_code) if unit_code else None
    page = queries.search_users(
        session,
        query=request.args.get("q"),
        role=role,
        unit_id=unit.id if unit else (-1 if unit_code else None),
        page=request.args.get("page", 1, type=int) or 1,
    )
    return render_template(
        "accounts/users.html",
        page=page,
        q=request.args.get("q", ""),
        role=role or "",
        unit_code=unit_code,
        unit=unit,
    )


@bp.get("/organiser/users/<int:user_id>")
@organiser_only
def user_detail(user_id: int) -> str:
    user = queries.get_user(db_session(), user_id)
    if user is None:
        raise NotFound()
    path = queries.unit_path(db_session(), user.unit) if user.unit else []
    return render_template("accounts/user.html", user=user, form=ActionForm(), path=path)


@bp.post("/organiser/users/<int:user_id>/reset-password")
@organiser_only
def reset_password(user_id: int) -> Response:
    session = db_session()
    user, temporary = services.reset_password(session, user_id=user_id)
    session.commit()
    response = make_response(
        render_template("accounts/temporary_password.html", user=user, temporary=temporary)
    )
    # Shown once: not kept by the browser's cache or its back button.
    response.headers["Cache-Control"] = "no-store"
    return response


# --------------------------------------------------------------------------- organisers: units


def _unit_form_values(form: UnitForm) -> dict[str, Any]:
    raw_parent = (form.parent.data or "").strip()
    parent_id: int | None = None
    if raw_parent:
        # Anything but an id from the list is a unit that does not exist (-1), not a root.
        parent_id = int(raw_parent) if raw_parent.isascii() and raw_parent.isdigit() else -1
    return {
        "name": form.name.data,
        "short_name": form.short_name.data,
        "members": form.members.data,
        "parent_id": parent_id,
    }


@bp.route("/organiser/units", methods=["GET", "POST"])
@organiser_only
def units() -> Any:
    session = db_session()
    form = UnitForm()
    if form.validate_on_submit():
        try:
            unit = add_unit(
                session, code=form.code.data, clock=current_clock(), **_unit_form_values(form)
            )
        except FieldErrors as exc:
            form.show_errors(exc.errors)
        else:
            session.commit()
            flash(_("Đã thêm đơn vị %(name)s.", name=unit.name), "success")
            return redirect(url_for("accounts.units", _anchor=f"unit-{unit.id}"))
    elif request.method == "GET" and request.args.get("parent", "").isdigit():
        form.parent.data = request.args["parent"]
    return render_template(
        "accounts/units.html",
        form=form,
        rows=queries.unit_tree(session),
        parents=queries.parent_options(session),
    )


@bp.route("/organiser/units/<int:unit_id>", methods=["GET", "POST"])
@organiser_only
def unit_edit(unit_id: int) -> Any:
    session = db_session()
    unit = queries.get_unit(session, unit_id)
    if unit is None:
        raise NotFound()
    form = UnitForm(
        data={
            "code": unit.code,
            "name": unit.name,
            "short_name": unit.short_name or "",
            "members": "" if unit.members is None else str(unit.members),
            "parent": "" if unit.parent_id is None else str(unit.parent_id),
        }
        if request.method == "GET"
        else None
    )
    if form.validate_on_submit():
        try:
            update_unit(session, unit_id=unit.id, **_unit_form_values(form))
        except FieldErrors as exc:
            form.show_errors(exc.errors)
        else:
            session.commit()
            flash(_("Đã lưu đơn vị %(name)s.", name=unit.name), "success")
            return redirect(url_for("accounts.units", _anchor=f"unit-{unit.id}"))
    register_url = url_for("accounts.register", unit=unit.code, _external=True)
    return render_template(
        "accounts/unit.html",
        form=form,
        unit=unit,
        path=queries.unit_path(session, unit),
        parents=queries.parent_options(session, moving=unit.id),
        register_url=register_url,
    )


@bp.get("/organiser/units/<int:unit_id>/qr.svg")
@organiser_only
def unit_qr(unit_id: int) -> Response:
    """The unit's registration link as a QR code, for posters and Zalo groups."""
    unit = queries.get_unit(db_session(), unit_id)
    if unit is None:
        raise NotFound()
    link = url_for("accounts.register", unit=unit.code, _external=True)
    buffer = io.BytesIO()
    segno.make(link, error="m").save(buffer, kind="svg", scale=8, border=2, title=unit.code)
    response = make_response(buffer.getvalue())
    response.mimetype = "image/svg+xml"
    response.headers["Content-Disposition"] = f'inline; filename="dang-ky-{unit.code}.svg"'
    return response

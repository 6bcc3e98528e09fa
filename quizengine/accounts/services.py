"""Account verbs: register, create, authenticate, change and reset passwords.

Services take the session and plain values, validate with ``accounts.validation``, flush
and never commit: the request or CLI command commits once. Refusals are domain errors;
``FieldErrors`` carries one message per form field so a page can show each next to its
input, and the CLI prints the same messages.
"""

from __future__ import annotations

import secrets
import threading
from collections.abc import Callable, Mapping
from functools import cache
from typing import Any

from flask_babel import lazy_gettext as _l
from gevent import get_hub, monkey  # type: ignore[import-untyped]
from sqlalchemy import exists, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from werkzeug.security import check_password_hash, generate_password_hash

from quizengine.accounts.validation import (
    FieldInvalid,
    clean_birth_year,
    clean_name,
    clean_national_id,
    clean_password,
    clean_phone,
    clean_unit_code,
    is_row_id,
)
from quizengine.banks.fileformat import search_fold
from quizengine.clock import Clock
from quizengine.errors import Invalid, NotFound
from quizengine.leaderboard.flags import detect_registration_flags
from quizengine.models import Role, Unit, User

__all__ = [
    "FieldErrorCollector",
    "FieldErrors",
    "LoginFailed",
    "authenticate",
    "change_password",
    "create_user",
    "generate_temporary_password",
    "hash_password",
    "register_contestant",
    "reset_password",
]

PHONE_TAKEN = _l(
    "Số điện thoại này đã được đăng ký. Nếu đây là số của bạn, hãy đăng nhập "
    "(quên mật khẩu thì nhờ ban tổ chức đặt lại)."
)
# One alphabet without look-alikes (0/o, 1/l/i): the temporary password is read out over
# the phone or copied from a screen by someone who is not sure which letter is which.
_TEMPORARY_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"
_TEMPORARY_LENGTH = 10


class FieldErrors(Invalid):
    """Several fields refused at once: ``errors`` maps a form field name to its message."""

    def __init__(self, errors: Mapping[str, Any]) -> None:
        self.errors: dict[str, Any] = dict(errors)
        super().__init__(next(iter(self.errors.values())))

    def __str__(self) -> str:
        return "; ".join(f"{name}: {message}" for name, message in self.errors.items())


class LoginFailed(Invalid):
    # One message whether the phone is unknown or the password wrong: no enumeration.
    default_message = _l("Số điện thoại hoặc mật khẩu không đúng.")


class FieldErrorCollector:
    """Run each field's check, keep every message, raise them together."""

    def __init__(self) -> None:
        self.errors: dict[str, Any] = {}

    def check(self, name: str, clean: Callable[[], Any]) -> Any:
        try:
            return clean()
        except FieldInvalid as exc:
            self.errors.setdefault(name, exc.message)
            return None

    def refuse(self, name: str, message: Any) -> None:
        self.errors.setdefault(name, message)

    def raise_if_any(self) -> None:
        if self.errors:
            raise FieldErrors(self.errors)


# --------------------------------------------------------------------------- passwords


def hash_password(password: str) -> str:
    """werkzeug's default: salted scrypt (N=2^15, r=8, p=1)."""
    return generate_password_hash(password)


# Sign-ins checking a password at once, per process. The others wait for a slot BEFORE
# touching the database: a login storm then queues instead of holding every pooled
# connection through ~100 ms of scrypt each (500s: "QueuePool limit reached").
PASSWORD_CHECK_SLOTS = 2


@cache
def _password_check_slots() -> threading.BoundedSemaphore:
    # Made on first use, after gunicorn's gevent worker has patched threading.
    return threading.BoundedSemaphore(PASSWORD_CHECK_SLOTS)


def password_matches(password_hash: str, password: str) -> bool:
    """check_password_hash, run off the event loop under gunicorn's gevent workers.

    scrypt costs ~100 ms of CPU and releases the GIL. Inline, it froze the whole worker:
    when a round opened and hundreds of phones signed in at once (bench/spike), every
    other request of that worker queued behind the logins until the pool timed out (500s).
    In the hub's thread pool the worker keeps serving meanwhile.
    """
    if monkey.is_module_patched("threading"):
        return bool(get_hub().threadpool.apply(check_password_hash, (password_hash, password)))
    return check_password_hash(password_hash, password)


@cache
def _decoy_hash() -> str:
    # Checked against when the phone is unknown, so both refusals take as long.
    return generate_password_hash(secrets.token_hex(16))


def generate_temporary_password() -> str:
    return "".join(secrets.choice(_TEMPORARY_ALPHABET) for _ in range(_TEMPORARY_LENGTH))


# --------------------------------------------------------------------------- users


def _phone_taken(session: Session, phone: str) -> bool:
    return bool(session.scalar(select(exists().where(User.phone == phone))))


def _grassroots_unit(session: Session, code: str) -> Unit | None:
    unit = session.scalar(select(Unit).where(Unit.code == code))
    if unit is None:
        return None
    has_children = session.scalar(select(exists().where(Unit.parent_id == unit.id)))
    return None if has_children else unit


def _find_unit(
    session: Session,
    errors: FieldErrorCollector,
    raw: str | None,
    *,
    grassroots: bool,
    required: bool,
) -> Unit | None:
    if not (raw or "").strip():
        if required:
            errors.refuse("unit", _l("Vui lòng chọn đơn vị (công đoàn cơ sở) của bạn."))
        return None
    code = errors.check("unit", lambda: clean_unit_code(raw))
    if code is None:
        return None
    unit = session.scalar(select(Unit).where(Unit.code == code))
    if unit is None:
        errors.refuse(
            "unit", _l("Không có đơn vị mã %(code)s. Vui lòng chọn trong danh sách.", code=code)
        )
        return None
    if grassroots and _grassroots_unit(session, code) is None:
        errors.refuse(
            "unit",
            _l(
                "“%(name)s” là công đoàn cấp trên; vui lòng chọn công đoàn cơ sở nơi bạn "
                "sinh hoạt.",
                name=unit.name,
            ),
        )
        return None
    return unit


def _insert(session: Session, user: User) -> User:
    session.add(user)
    try:
        session.flush()
    except IntegrityError as exc:
        # Two registrations of one phone at the same instant: the unique index decides.
        # The request holds nothing else, so rolling back its transaction loses nothing.
        session.rollback()
        raise FieldErrors({"phone": PHONE_TAKEN}) from exc
    return user


def register_contestant(
    session: Session,
    *,
    full_name: str | None,
    phone: str | None,
    password: str | None,
    unit: str | None,
    clock: Clock,
    confirm: str | None = None,
    birth_year: str | int | None = None,
    national_id: str | None = None,
    ip: str | None = None,
) -> User:
    """A union member signs up. ``unit`` is a grassroots unit's code.

    ``confirm`` (the repeated password) is checked when given; the CLI prompts twice itself.
    """
    errors = FieldErrorCollector()
    name = errors.check("full_name", lambda: clean_name(full_name))
    phone_number = errors.check("phone", lambda: clean_phone(phone))
    if phone_number and _phone_taken(session, phone_number):
        errors.refuse("phone", PHONE_TAKEN)
    new_password = errors.check("password", lambda: clean_password(password, phone=phone_number))
    if new_password is not None and confirm is not None and confirm != password:
        errors.refuse("confirm", _l("Mật khẩu nhập lại không khớp."))
    chosen = _find_unit(session, errors, unit, grassroots=True, required=True)
    year = errors.check(
        "birth_year", lambda: clean_birth_year(birth_year, current_year=clock.now().year)
    )
    cccd = errors.check("national_id", lambda: clean_national_id(national_id))
    errors.raise_if_any()
    assert name and phone_number and new_password and chosen

    user = _insert(
        session,
        User(
            role=Role.CONTESTANT.value,
            phone=phone_number,
            full_name=name,
            search_name=search_fold(name),
            password_hash=hash_password(new_password),
            unit_id=chosen.id,
            birth_year=year,
            national_id=cccd,
            registration_ip=ip,
            created_at=clock.now(),
        ),
    )
    # Registration flags (a shared national id, a burst of sign-ups from one address),
    # raised inside this transaction; they never block the registration.
    detect_registration_flags(session, user, now=clock.now())
    return user


def create_user(
    session: Session,
    *,
    role: Role | str,
    full_name: str | None,
    phone: str | None,
    password: str | None,
    clock: Clock,
    unit: str | None = None,
    must_change_password: bool = False,
) -> User:
    """Staff accounts (and contestants) from the CLI, with the registration form's rules.

    A contestant needs a grassroots unit; a judge or organiser may name any unit or none.
    """
    try:
        role = Role(role)
    except ValueError as exc:
        raise FieldErrors({"role": _l("Vai trò không hợp lệ.")}) from exc
    if role is Role.CONTESTANT:
        user = register_contestant(
            session, full_name=full_name, phone=phone, password=password, unit=unit, clock=clock
        )
        user.must_change_password = must_change_password
        session.flush()
        return user
    errors = FieldErrorCollector()
    name = errors.check("full_name", lambda: clean_name(full_name))
    phone_number = errors.check("phone", lambda: clean_phone(phone))
    if phone_number and _phone_taken(session, phone_number):
        errors.refuse("phone", PHONE_TAKEN)
    new_password = errors.check("password", lambda: clean_password(password, phone=phone_number))
    chosen = _find_unit(session, errors, unit, grassroots=False, required=False)
    errors.raise_if_any()
    assert name and phone_number and new_password
    return _insert(
        session,
        User(
            role=role.value,
            phone=phone_number,
            full_name=name,
            search_name=search_fold(name),
            password_hash=hash_password(new_password),
            unit_id=chosen.id if chosen else None,
            must_change_password=must_change_password,
            created_at=clock.now(),
        ),
    )


def authenticate(
    session: Session, *, phone: str | None, password: str | None, clock: Clock
) -> User:
    """The user with this phone and password, or LoginFailed (the same for either mistake)."""
    try:
        phone_number = clean_phone(phone)
    except FieldInvalid as exc:
        raise FieldErrors({"phone": exc.message}) from exc
    with _password_check_slots():
        user = session.scalar(select(User).where(User.phone == phone_number))
        if user is None:
            password_matches(_decoy_hash(), password or "")
            raise LoginFailed()
        if not password or not password_matches(user.password_hash, password):
            raise LoginFailed()
    user.last_login_at = clock.now()
    session.flush()
    return user


def change_password(
    session: Session,
    *,
    user_id: int,
    current_password: str | None,
    new_password: str | None,
    confirm: str | None,
) -> User:
    user = session.get(User, user_id) if is_row_id(user_id) else None
    if user is None:
        raise NotFound()
    errors = FieldErrorCollector()
    if not current_password or not check_password_hash(user.password_hash, current_password):
        errors.refuse("current_password", _l("Mật khẩu hiện tại không đúng."))
    cleaned = errors.check("password", lambda: clean_password(new_password, phone=user.phone))
    if cleaned is not None and cleaned == current_password:
        errors.refuse("password", _l("Mật khẩu mới phải khác mật khẩu hiện tại."))
    if cleaned is not None and confirm != new_password:
        errors.refuse("confirm", _l("Mật khẩu nhập lại không khớp."))
    errors.raise_if_any()
    assert cleaned is not None
    user.password_hash = hash_password(cleaned)
    user.must_change_password = False
    session.flush()
    return user


def reset_password(session: Session, *, user_id: int) -> tuple[User, str]:
    """Give the user a temporary password to change at the next sign-in; return it once."""
    user = session.get(User, user_id) if is_row_id(user_id) else None
    if user is None:
        raise NotFound()
    temporary = generate_temporary_password()
    user.password_hash = hash_password(temporary)
    user.must_change_password = True
    session.flush()
    return user, temporary

"""Signing in and out over HTTP, and the limits on failed logins."""

from __future__ import annotations

import re

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from quizengine.accounts.demo import seed
from quizengine.clock import SystemClock
from quizengine.db import database
from quizengine.models import Unit, User
from tests.conftest import TEST_REDIS_URL, require
from tests.factories import DEFAULT_PASSWORD, make_contestant, make_organiser

BAD_LOGIN = "Số điện thoại hoặc mật khẩu không đúng."


def csrf_token(client: FlaskClient, path: str = "/login") -> str:
    html = client.get(path).get_data(as_text=True)
    match = re.search(r'name="csrf-token" content="([^"]+)"', html)
    assert match, html[:500]
    return match.group(1)


def post_login(
    client: FlaskClient, phone: str, password: str, *, ip: str = "203.0.113.7", **extra: str
):  # type: ignore[no-untyped-def]
    token = csrf_token(client)
    return client.post(
        "/login" + extra.pop("query", ""),
        data={"csrf_token": token, "phone": phone, "password": password, **extra},
        environ_base={"REMOTE_ADDR": ip},
    )


@pytest.fixture
def member(app: Flask, db_session: Session) -> User:
    user = make_contestant(db_session, phone="0912345678", full_name="Nguyễn Văn An")
    db_session.commit()
    return user


def test_login_with_phone_in_any_spelling_then_logout(client: FlaskClient, member: User) -> None:
    response = post_login(client, "+84 912 345 678", DEFAULT_PASSWORD)
    assert response.status_code == 302
    assert response.headers["Location"] == "/"
    assert "Nguyễn Văn An" not in client.get("/login").get_data(as_text=True)  # redirected away
    account = client.get("/account").get_data(as_text=True)
    assert "Nguyễn Văn An" in account

    token = csrf_token(client, "/account")
    assert client.get("/logout").status_code == 405
    response = client.post("/logout", data={"csrf_token": token})
    assert response.status_code == 302
    assert client.get("/account").status_code == 302


def test_logout_without_csrf_token_is_refused(client: FlaskClient, member: User) -> None:
    post_login(client, "0912345678", DEFAULT_PASSWORD)
    assert client.post("/logout").status_code == 403
    assert client.get("/account").status_code == 200


def test_unknown_phone_and_wrong_password_get_the_same_message(
    client: FlaskClient, member: User
) -> None:
    unknown = post_login(client, "0987654321", "whatever-123")
    wrong = post_login(client, "0912345678", "wrong-password")
    assert unknown.status_code == wrong.status_code == 200
    for response in (unknown, wrong):
        html = response.get_data(as_text=True)
        assert BAD_LOGIN in html
    # the pages differ only in the echoed phone and the CSRF token
    strip = re.compile(r'value="[^"]*"|content="[^"]*"')
    assert strip.sub("", unknown.get_data(as_text=True)) == strip.sub(
        "", wrong.get_data(as_text=True)
    )


def test_a_malformed_phone_is_explained_next_to_the_field(client: FlaskClient) -> None:
    html = post_login(client, "12345", "whatever-123").get_data(as_text=True)
    assert 'id="phone-error"' in html
    assert "Số điện thoại không hợp lệ" in html


def test_next_goes_back_to_the_page_asked_for_but_never_off_site(
    client: FlaskClient, member: User
) -> None:
    first = client.get("/account")
    assert first.status_code == 302
    assert first.headers["Location"].startswith("/login?next=")
    response = post_login(client, "0912345678", DEFAULT_PASSWORD, query="?next=/account")
    assert response.headers["Location"] == "/account"

    client.post("/logout", data={"csrf_token": csrf_token(client, "/account")})
    for evil in ("//evil.example/x", "https://evil.example/", "/\\evil.example"):
        response = post_login(client, "0912345678", DEFAULT_PASSWORD, query=f"?next={evil}")
        assert response.headers["Location"] == "/"
        client.post("/logout", data={"csrf_token": csrf_token(client, "/account")})


def test_remember_me_sets_a_lasting_cookie(client: FlaskClient, member: User) -> None:
    response = post_login(client, "0912345678", DEFAULT_PASSWORD, remember="y")
    cookies = response.headers.getlist("Set-Cookie")
    remember = [c for c in cookies if c.startswith("remember_token=")]
    assert remember and "HttpOnly" in remember[0] and "SameSite=Lax" in remember[0]
    session_cookie = [c for c in cookies if c.startswith("session=")]
    assert session_cookie and "HttpOnly" in session_cookie[0]


def test_last_login_is_recorded(client: FlaskClient, member: User, db_session: Session) -> None:
    assert member.last_login_at is None
    post_login(client, "0912345678", DEFAULT_PASSWORD)
    db_session.expire_all()
    assert db_session.get(User, member.id).last_login_at is not None  # type: ignore[union-attr]


# --------------------------------------------------------------------------- limits


def assert_rate_limited(response) -> None:  # type: ignore[no-untyped-def]
    assert response.status_code == 429
    assert int(response.headers["Retry-After"]) > 0
    assert "Bạn thao tác quá nhanh" in response.get_data(as_text=True)


def test_the_eleventh_bad_login_within_a_minute_is_refused(
    client: FlaskClient, member: User
) -> None:
    for attempt in range(10):
        response = post_login(client, "0912345678", f"wrong-{attempt}")
        assert response.status_code == 200, attempt
        assert BAD_LOGIN in response.get_data(as_text=True)
    assert_rate_limited(post_login(client, "0912345678", "wrong-again"))
    # Even the right password waits: the limit is checked before the password.
    assert_rate_limited(post_login(client, "0912345678", DEFAULT_PASSWORD))
    # Someone else behind the same address is not blocked.
    other = make_organiser_phone(client)
    assert post_login(client, other, DEFAULT_PASSWORD).status_code == 302


def make_organiser_phone(client: FlaskClient) -> str:
    app = client.application
    with database(app).sessionmaker() as session:
        make_organiser(session, phone="0987000111")
        session.commit()
    return "0987000111"


def test_the_limit_counts_spellings_of_one_phone_together(
    client: FlaskClient, member: User
) -> None:
    spellings = ["0912345678", "0912 345 678", "+84912345678", "84912345678", "0912.345.678"]
    for attempt in range(10):
        post_login(client, spellings[attempt % len(spellings)], "wrong-password")
    assert_rate_limited(post_login(client, "0912-345-678", "wrong-password"))


def test_a_successful_login_does_not_use_up_the_failed_login_budget(
    client: FlaskClient, member: User
) -> None:
    for _ in range(15):
        response = post_login(client, "0912345678", DEFAULT_PASSWORD)
        assert response.status_code == 302
        client.post("/logout", data={"csrf_token": csrf_token(client, "/account")})
    for attempt in range(9):
        assert post_login(client, "0912345678", f"wrong-{attempt}").status_code == 200
    assert post_login(client, "0912345678", DEFAULT_PASSWORD).status_code == 302
    client.post("/logout", data={"csrf_token": csrf_token(client, "/account")})
    assert post_login(client, "0912345678", "wrong-9").status_code == 200  # the 10th failure
    assert_rate_limited(post_login(client, "0912345678", "wrong-10"))


def test_failures_from_another_address_do_not_lock_the_owner_out_at_once(
    client: FlaskClient, member: User
) -> None:
    for attempt in range(10):
        post_login(client, "0912345678", f"wrong-{attempt}", ip="198.51.100.1")
    assert_rate_limited(post_login(client, "0912345678", "wrong", ip="198.51.100.1"))
    # The owner, elsewhere, can still sign in.
    assert post_login(client, "0912345678", DEFAULT_PASSWORD, ip="203.0.113.50").status_code == 302


def test_failures_from_many_addresses_hit_the_per_phone_limit(
    client: FlaskClient, member: User
) -> None:
    for attempt in range(20):
        response = post_login(client, "0912345678", "wrong", ip=f"198.51.100.{attempt}")
        assert response.status_code == 200, attempt
    assert_rate_limited(post_login(client, "0912345678", "wrong", ip="198.51.100.99"))


def test_the_per_address_cap_is_loose_but_there(app: Flask, client: FlaskClient) -> None:
    app.config["LOGIN_FAILURES_PER_IP"] = "5/minute"
    try:
        for attempt in range(5):
            assert post_login(client, f"09120000{attempt:02d}", "wrong").status_code == 200
        assert_rate_limited(post_login(client, "0912000099", "wrong"))
        assert post_login(client, "0912000099", "wrong", ip="192.0.2.1").status_code == 200
    finally:
        del app.config["LOGIN_FAILURES_PER_IP"]


def test_failed_login_limits_live_in_redis(app: Flask, client: FlaskClient, member: User) -> None:
    require(TEST_REDIS_URL is not None, "Redis (TEST_REDIS_URL)")
    import redis

    for attempt in range(10):
        post_login(client, "0912345678", f"wrong-{attempt}")
    assert_rate_limited(post_login(client, "0912345678", "wrong"))

    prefix = str(app.config["RATELIMIT_KEY_PREFIX"])
    connection = redis.Redis.from_url(str(TEST_REDIS_URL))
    keys = [key.decode() for key in connection.scan_iter(match=f"*{prefix}*login-phone*")]
    assert any("0912345678" in key for key in keys), keys
    # A fresh client (new session, same address) is refused too: the count is not per session.
    other_client = app.test_client()
    assert_rate_limited(post_login(other_client, "0912345678", DEFAULT_PASSWORD))


def test_demo_logins_work_and_seeding_twice_changes_nothing(
    app: Flask, client: FlaskClient, db_session: Session
) -> None:
    first = seed(db_session, SystemClock())
    db_session.commit()
    counts = (
        db_session.scalar(select(func.count()).select_from(Unit)),
        db_session.scalar(select(func.count()).select_from(User)),
    )
    assert seed(db_session, SystemClock()) == first
    db_session.commit()
    assert counts == (
        db_session.scalar(select(func.count()).select_from(Unit)),
        db_session.scalar(select(func.count()).select_from(User)),
    )
    assert {role for role, *_ in first} == {"organiser", "judge", "contestant"}
    assert counts[0] >= 14
    for _role, phone, password, _name in first:
        response = post_login(client, phone, password)
        assert response.status_code == 302, phone
        client.post("/logout", data={"csrf_token": csrf_token(client, "/account")})

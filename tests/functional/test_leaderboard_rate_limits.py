"""Rate limits on the configured limiter storage (real Redis with TEST_REDIS_URL).

Every refusal is a 429 with the Vietnamese message and Retry-After. Limits are per
account (contestant) first: the workers of one factory behind one public address are not
blocked by each other.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from quizengine.clock import FrozenClock
from quizengine.extensions import limiter
from quizengine.models import Round, User
from tests.conftest import TEST_REDIS_URL
from tests.factories import DEFAULT_PASSWORD, make_bank, make_contestant, make_round, make_unit
from tests.functional.test_leaderboard_pages import login

API = "/api/v1"
FACTORY_WIFI = "203.0.113.50"
MESSAGE = "Bạn thao tác quá nhanh"


def assert_limited(response, json: bool = True) -> None:  # type: ignore[no-untyped-def]
    assert response.status_code == 429
    assert 0 < int(response.headers["Retry-After"]) <= 3600
    if json:
        assert response.get_json()["error"] == "rate_limited"
        assert response.get_json()["message"].startswith(MESSAGE)
    else:
        assert MESSAGE in response.get_data(as_text=True)


@pytest.fixture(autouse=True)
def _limits_on_the_configured_storage(app: Flask) -> Iterator[None]:
    with app.app_context():
        limiter.reset()
        storage = type(limiter.storage).__name__.lower()
    assert ("redis" in storage) == bool(TEST_REDIS_URL), storage
    yield


@pytest.fixture
def open_round(db_session: Session, clock: FrozenClock) -> Round:
    rnd = make_round(db_session, bank=make_bank(db_session, questions=3), draw=3)
    db_session.commit()
    return rnd


def _contestant(client: FlaskClient, db_session: Session) -> tuple[User, str]:
    user = make_contestant(db_session)
    db_session.commit()
    return user, login(client, user)


def _start(client: FlaskClient, token: str, round_id: int):  # type: ignore[no-untyped-def]
    return client.post(
        f"{API}/rounds/{round_id}/attempts",
        json={},
        headers={"X-CSRFToken": token},
        environ_base={"REMOTE_ADDR": FACTORY_WIFI},
    )


def test_answer_saves_allow_120_a_minute_per_contestant(
    app: Flask, db_session: Session, open_round: Round
) -> None:
    client, other_client = app.test_client(), app.test_client()
    _, token = _contestant(client, db_session)
    _, other_token = _contestant(other_client, db_session)
    started = _start(client, token, open_round.id).get_json()
    other = _start(other_client, other_token, open_round.id).get_json()

    def save(c: FlaskClient, tok: str, attempt: dict, n: int):  # type: ignore[no-untyped-def,type-arg]
        return c.put(
            f"{API}/attempts/{attempt['attempt_id']}/answers/{attempt['questions'][0]['id']}",
            json={"choice": ["A"] if n % 2 else ["B"]},
            headers={"X-CSRFToken": tok},
            environ_base={"REMOTE_ADDR": FACTORY_WIFI},
        )

    # A phone back online flushes its whole queue at once: 120 saves pass.
    for n in range(120):
        assert save(client, token, started, n).status_code == 200, n
    assert_limited(save(client, token, started, 121))
    # Someone else on the same Wi-Fi is not affected.
    assert save(other_client, other_token, other, 1).status_code == 200


def test_starts_are_limited_per_account_not_per_address(
    app: Flask, db_session: Session, open_round: Round
) -> None:
    client, neighbour = app.test_client(), app.test_client()
    _, token = _contestant(client, db_session)
    _, neighbour_token = _contestant(neighbour, db_session)
    for n in range(30):  # resuming counts as a start too
        assert _start(client, token, open_round.id).status_code in (200, 201), n
    assert_limited(_start(client, token, open_round.id))
    assert _start(neighbour, neighbour_token, open_round.id).status_code == 201


def test_submissions_are_limited_per_account(
    app: Flask, client: FlaskClient, db_session: Session, open_round: Round
) -> None:
    _, token = _contestant(client, db_session)
    attempt = _start(client, token, open_round.id).get_json()["attempt_id"]

    def submit():  # type: ignore[no-untyped-def]
        return client.post(
            f"{API}/attempts/{attempt}/submit",
            json={},
            headers={"X-CSRFToken": token},
            environ_base={"REMOTE_ADDR": FACTORY_WIFI},
        )

    first = submit().get_json()
    for n in range(29):  # submitting again answers the same result
        assert submit().get_json()["score"] == first["score"], n
    assert_limited(submit())


def _csrf(client: FlaskClient, path: str) -> str:
    html = client.get(path).get_data(as_text=True)
    match = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', html) or re.search(
        r'<meta name="csrf-token" content="([^"]+)"', html
    )
    assert match
    return match.group(1)


def test_bad_logins_are_limited_per_phone_and_address(
    client: FlaskClient, db_session: Session
) -> None:
    make_contestant(db_session, phone="0912000111")
    db_session.commit()
    token = _csrf(client, "/login")

    def bad_login(phone: str = "0912000111", password: str | None = None):  # type: ignore[no-untyped-def]
        return client.post(
            "/login",
            data={"csrf_token": token, "phone": phone, "password": password or "sai-mat-khau"},
            environ_base={"REMOTE_ADDR": FACTORY_WIFI},
        )

    for n in range(10):
        assert bad_login().status_code == 200, n
    assert_limited(bad_login(), json=False)
    # A colleague on the same Wi-Fi still signs in.
    make_contestant(db_session, phone="0912000222")
    db_session.commit()
    assert bad_login("0912000222", DEFAULT_PASSWORD).status_code == 302


def test_registrations_are_limited_per_address_loosely(
    app: Flask, client: FlaskClient, db_session: Session
) -> None:
    unit = make_unit(db_session, parent=make_unit(db_session))
    db_session.commit()
    # The default lets a whole factory register from one address (300 an hour); the test
    # lowers it through the setting to stay quick.
    assert app.config.get("REGISTRATIONS_PER_IP") is None
    app.config["REGISTRATIONS_PER_IP"] = "3/hour"
    try:
        token = _csrf(client, "/register")

        def register(n: int):  # type: ignore[no-untyped-def]
            return client.post(
                "/register",
                data={
                    "csrf_token": token,
                    "full_name": f"Công nhân {n}",
                    "phone": f"09130000{n:02d}",
                    "password": "mat-khau-dai-1",
                    "confirm": "mat-khau-dai-1",
                    "unit": unit.code,
                },
                environ_base={"REMOTE_ADDR": FACTORY_WIFI},
            )

        for n in range(3):
            assert register(n).status_code in (200, 302), n
        assert_limited(register(3), json=False)
        other = client.get("/register", environ_base={"REMOTE_ADDR": FACTORY_WIFI})
        assert other.status_code == 200  # only POSTs count
    finally:
        del app.config["REGISTRATIONS_PER_IP"]

"""Scale-out: two app hosts (two gunicorn processes, two ports) on one PostgreSQL and Redis.

A contestant signs in and starts on one host, saves answers and submits on the other, and
both hosts serve the same leaderboard. Nothing a request needs lives in a process's
memory: the session is a signed cookie (any host with the same SECRET_KEY reads it), the
attempt is in PostgreSQL, the board and the rate limits are in Redis. The contestant's
cookie even survives a host being replaced by a new process.
"""

from __future__ import annotations

import json
import re
import urllib.error
import urllib.request
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from http.cookies import SimpleCookie
from typing import Any
from urllib.parse import urlencode

import pytest
from flask import Flask
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from quizengine.models import AnswerEvent, Attempt, User
from tests.browser.conftest import LiveServer, free_port, start_server, stop_server
from tests.conftest import TEST_DATABASE_URL, require
from tests.factories import DEFAULT_PASSWORD, make_contestant, make_round

pytestmark = [pytest.mark.slow, pytest.mark.postgres, pytest.mark.redis]
PREDICTION = "Dự đoán có bao nhiêu người trả lời đúng tất cả các câu hỏi của tuần này?"
_META_CSRF = re.compile(r'<meta name="csrf-token" content="([^"]+)"')


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


class Phone:
    """One contestant's browser, talking to whichever host the load balancer picks.

    It keeps its cookies itself and sends them to every host explicitly, so the test
    shows that the cookie alone carries the session from one process to another."""

    def __init__(self) -> None:
        self.cookies: dict[str, str] = {}
        self.csrf = ""
        self._open = urllib.request.build_opener(_NoRedirect).open

    def call(
        self,
        host: LiveServer,
        method: str,
        path: str,
        *,
        body: Any = None,
        form: dict[str, str] | None = None,
    ) -> tuple[int, str]:
        data = None
        request = urllib.request.Request(host.url + path, method=method)
        if form is not None:
            data = urlencode(form).encode()
            request.add_header("Content-Type", "application/x-www-form-urlencoded")
        elif body is not None:
            data = json.dumps(body).encode()
            request.add_header("Content-Type", "application/json")
        if self.cookies:
            request.add_header("Cookie", "; ".join(f"{k}={v}" for k, v in self.cookies.items()))
        if self.csrf:
            request.add_header("X-CSRFToken", self.csrf)
        try:
            with self._open(request, data=data, timeout=20) as response:
                status, headers, text = response.status, response.headers, response.read()
        except urllib.error.HTTPError as exc:
            status, headers, text = exc.code, exc.headers, exc.read()
        for raw in headers.get_all("Set-Cookie") or []:
            cookie: SimpleCookie = SimpleCookie()
            cookie.load(raw)
            for name, morsel in cookie.items():
                self.cookies[name] = morsel.value
        return status, text.decode()

    def json(self, host: LiveServer, method: str, path: str, body: Any = None) -> Any:
        status, text = self.call(host, method, path, body=body)
        assert 200 <= status < 300, f"{method} {host.url}{path}: {status} {text[:300]}"
        return json.loads(text)

    def sign_in(self, host: LiveServer, user: User) -> None:
        status, html = self.call(host, "GET", "/login")
        assert status == 200
        token = _META_CSRF.search(html)
        assert token
        status, _ = self.call(
            host,
            "POST",
            "/login",
            form={"phone": user.phone, "password": DEFAULT_PASSWORD, "csrf_token": token.group(1)},
        )
        assert status == 302, "a successful sign-in redirects"
        status, html = self.call(host, "GET", "/")
        token = _META_CSRF.search(html)
        assert status == 200 and token
        self.csrf = token.group(1)


@pytest.fixture
def two_hosts(app: Flask, app_config: dict[str, object]) -> Iterator[list[LiveServer]]:
    require(bool(TEST_DATABASE_URL), "PostgreSQL (TEST_DATABASE_URL)")
    require(bool(app_config.get("REDIS_URL")), "Redis (TEST_REDIS_URL)")
    hosts = [start_server(app_config, port=free_port()) for _ in range(2)]
    yield hosts
    for host in hosts:
        stop_server(host)


def take_attempt(phone: Phone, start_on: LiveServer, save_on: LiveServer, round_id: int) -> Any:
    """Start on one host, answer every question and submit on the other, then resume on
    the first: it shows exactly the answers the other host saved."""
    started = phone.json(start_on, "POST", f"/api/v1/rounds/{round_id}/attempts", {})
    attempt_id = started["attempt_id"]
    chosen = {}
    for q in started["questions"]:
        key = q["options"][len(chosen) % len(q["options"])]["key"]
        saved = phone.json(
            save_on, "PUT", f"/api/v1/attempts/{attempt_id}/answers/{q['id']}", {"choice": [key]}
        )
        assert saved == {"saved": True}
        chosen[str(q["id"])] = [key]
    resumed = phone.json(start_on, "POST", f"/api/v1/rounds/{round_id}/attempts", {})
    assert resumed["attempt_id"] == attempt_id
    assert resumed["answers"] == chosen
    result = phone.json(save_on, "POST", f"/api/v1/attempts/{attempt_id}/submit", {"prediction": 3})
    assert result["total"] == len(started["questions"])
    return result


def test_a_contestant_moves_between_two_app_hosts_and_both_serve_the_same_board(
    app: Flask,
    app_config: dict[str, object],
    db_session: Session,
    two_hosts: list[LiveServer],
) -> None:
    a, b = two_hosts
    # The servers run on the real clock, not the tests' frozen one.
    now = datetime.now(UTC)
    rnd = make_round(
        db_session,
        draw=6,
        prediction=PREDICTION,
        opens_at=now - timedelta(hours=1),
        closes_at=now + timedelta(days=1),
    )
    first, second = make_contestant(db_session), make_contestant(db_session)
    db_session.commit()

    lan, minh = Phone(), Phone()
    lan.sign_in(a, first)
    first_result = take_attempt(lan, start_on=a, save_on=b, round_id=rnd.id)
    assert first_result["rank"] == 1
    minh.sign_in(b, second)
    take_attempt(minh, start_on=b, save_on=a, round_id=rnd.id)

    # Every save either host acknowledged is in the one database.
    assert db_session.scalar(select(func.count()).select_from(AnswerEvent)) == 12
    assert db_session.scalar(select(func.count()).select_from(Attempt)) == 2

    path = f"/api/v1/rounds/{rnd.id}/leaderboard?limit=20"
    boards = {
        (who, host.url): phone.json(host, "GET", path)
        for who, phone in (("lan", lan), ("minh", minh))
        for host in (a, b)
    }
    for who in ("lan", "minh"):
        assert boards[(who, a.url)] == boards[(who, b.url)]
    entries = boards[("lan", a.url)]["entries"]
    assert {e["name"] for e in entries} == {first.full_name, second.full_name}
    assert [e["rank"] for e in entries] == [1, 2]
    assert boards[("lan", a.url)]["me"]["name"] == first.full_name
    assert boards[("minh", b.url)]["me"]["name"] == second.full_name

    # A host replaced by a new process (a deploy, a crash): the cookie still signs in.
    stop_server(a)
    replacement = start_server(app_config, port=free_port())
    two_hosts[0] = replacement
    assert lan.json(replacement, "GET", path) == boards[("lan", b.url)]

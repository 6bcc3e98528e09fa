"""Nothing lost: a gunicorn worker is SIGKILLed while contestants save answers.

Real server (gunicorn, as deployed), real HTTP clients in threads. Every answer the API
acknowledged (200) must be in the database afterwards, and every attempt must resume
with exactly those answers.
"""

from __future__ import annotations

import http.cookiejar
import json
import os
import random
import re
import signal
import threading
import time
import urllib.error
import urllib.request
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select
from sqlalchemy.orm import Session

from quizengine.attempts.draw import LetterMap
from quizengine.models import AnswerEvent, AttemptItem, User
from tests.browser.conftest import free_port, start_server, stop_server
from tests.factories import make_contestant, make_round

CLIENTS = 10
QUESTIONS = 12


class Phone:
    """A contestant's browser: cookies, the CSRF token, JSON calls that retry on failure."""

    def __init__(self, base: str, app: Flask, user: User) -> None:
        self.base = base
        self.jar = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.jar))
        cookie = app.session_interface.get_signing_serializer(app).dumps(  # type: ignore[attr-defined]
            {"_user_id": str(user.id), "_fresh": True}
        )
        self.jar.set_cookie(_cookie("session", cookie, base))
        self.token = ""
        self.acknowledged: dict[int, list[str]] = {}
        self.failures = 0

    def fetch_token(self) -> None:
        html = self._retry(lambda: self._call("GET", "/"))[1]
        match = re.search(r'name="csrf-token" content="([^"]+)"', html)
        assert match
        self.token = match.group(1)

    def _call(self, method: str, path: str, body: Any = None) -> tuple[int, str]:
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(self.base + path, data=data, method=method)
        request.add_header("Content-Type", "application/json")
        if self.token:
            request.add_header("X-CSRFToken", self.token)
        try:
            with self.opener.open(request, timeout=20) as response:
                return response.status, response.read().decode()
        except urllib.error.HTTPError as exc:
            return exc.code, exc.read().decode()

    def _retry(self, call: Any) -> tuple[int, str]:
        """Retry transport errors and 5xx — exactly what the page's script does."""
        for attempt in range(60):
            try:
                status, text = call()
            except (OSError, http.client.HTTPException):
                status, text = 0, ""
            if status and status < 500:
                return status, text
            self.failures += 1
            time.sleep(min(0.1 * (attempt + 1), 1.0))
        raise AssertionError("server never answered")

    def start(self, round_id: int) -> tuple[int, dict[str, Any]]:
        status, text = self._retry(
            lambda: self._call("POST", f"/api/v1/rounds/{round_id}/attempts", {})
        )
        assert status in (200, 201), (status, text)
        return status, json.loads(text)

    def answer(self, attempt_id: int, question_id: int, keys: list[str]) -> None:
        status, text = self._retry(
            lambda: self._call(
                "PUT", f"/api/v1/attempts/{attempt_id}/answers/{question_id}", {"choice": keys}
            )
        )
        assert status == 200, (status, text)
        self.acknowledged[question_id] = keys


def _cookie(name: str, value: str, base: str) -> http.cookiejar.Cookie:
    host = base.split("//", 1)[1].split(":")[0]
    return http.cookiejar.Cookie(
        0,
        name,
        value,
        None,
        False,
        host,
        False,
        False,
        "/",
        True,
        False,
        None,
        False,
        None,
        None,
        {},
    )


def _workers(master_pid: int) -> list[int]:
    children = Path(f"/proc/{master_pid}/task/{master_pid}/children")
    return [int(p) for p in children.read_text().split()] if children.exists() else []


@pytest.mark.slow
def test_acknowledged_answers_survive_a_killed_worker(
    app: Flask, app_config: dict[str, object], db_session: Session
) -> None:
    now = datetime.now(UTC)
    rnd = make_round(
        db_session,
        draw=QUESTIONS,
        opens_at=now - timedelta(hours=1),
        closes_at=now + timedelta(hours=2),
        minutes=30,
    )
    users = [make_contestant(db_session) for _ in range(CLIENTS)]
    db_session.commit()
    workers = "2" if app_config.get("REDIS_URL") else "1"
    server = start_server(app_config, port=free_port(), extra_env={"WEB_CONCURRENCY": workers})
    try:
        _wait_for_workers(server.process.pid, int(workers))
        phones = [Phone(server.url, app, u) for u in users]
        for phone in phones:
            phone.fetch_token()
        started = [phone.start(rnd.id)[1] for phone in phones]
        halfway = threading.Event()
        total = CLIENTS * QUESTIONS
        done = [0]
        lock = threading.Lock()

        def contestant(i: int) -> None:
            rng = random.Random(i)
            attempt = started[i]
            for q in attempt["questions"]:
                keys = [rng.choice([o["key"] for o in q["options"]])]
                phones[i].answer(attempt["attempt_id"], q["id"], keys)
                with lock:
                    done[0] += 1
                    if done[0] >= total // 3:
                        halfway.set()
                time.sleep(rng.uniform(0, 0.03))

        threads = [threading.Thread(target=contestant, args=(i,)) for i in range(CLIENTS)]
        for t in threads:
            t.start()
        assert halfway.wait(60)
        victim = _workers(server.process.pid)[0]
        os.kill(victim, signal.SIGKILL)
        for t in threads:
            t.join(120)
        assert done[0] == total
        # gunicorn replaced the worker.
        _wait_for_workers(server.process.pid, int(workers))
        assert victim not in _workers(server.process.pid)

        # Every acknowledged answer is stored, as the stored option it meant.
        db_session.expire_all()
        for phone, attempt in zip(phones, started, strict=True):
            items = {
                i.question_id: i
                for i in db_session.scalars(
                    select(AttemptItem).where(AttemptItem.attempt_id == attempt["attempt_id"])
                )
            }
            for qid, keys in phone.acknowledged.items():
                assert items[qid].chosen == LetterMap(items[qid].option_order).to_stored(keys)
            logged = {
                e.question_id
                for e in db_session.scalars(
                    select(AnswerEvent).where(AnswerEvent.attempt_id == attempt["attempt_id"])
                )
            }
            assert logged == set(phone.acknowledged)
        # And every attempt resumes with exactly those answers.
        for phone, attempt in zip(phones, started, strict=True):
            status, again = phone.start(rnd.id)
            assert status == 200
            assert again["attempt_id"] == attempt["attempt_id"]
            assert again["questions"] == attempt["questions"]
            assert again["answers"] == {str(q): k for q, k in phone.acknowledged.items()}
    finally:
        stop_server(server)


def _wait_for_workers(master_pid: int, count: int) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if len(_workers(master_pid)) >= count:
            return
        time.sleep(0.1)
    raise AssertionError("gunicorn did not (re)start its workers")

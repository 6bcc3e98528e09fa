"""Locust users for bench/spike (the contest-opening spike). bench/spike runs them in-process.

Two kinds of load:

- ``Contestant`` — the spike itself, open-ended and realistic: one locust user per
  pre-registered contestant logs in, starts the round's attempt, saves each of its 20
  answers exactly once with a think time, submits with a prediction and reads the
  leaderboard a few times, then leaves. Every acknowledged (2xx) save is recorded so the
  benchmark can check that each one is in the database. All of them come from one address
  (127.0.0.1): a factory's workers behind one public IP, so the per-IP caps are exercised.
- the saturation users (``Starter``, ``AnswerSaver``, ``Submitter``, ``LeaderboardReader``,
  ``BaselinePinger``) — a closed loop without think time, the same number of users for
  every endpoint and for the baseline: each user sends its next request as soon as the
  last one returned, so requests/s is the endpoint's capacity on this machine, not the
  offered load. They reuse the sessions the contestants logged in with (no login storm in
  the middle of a measurement) and each claims its own client address in
  ``X-Forwarded-For`` (the app runs with ``QUIZENGINE_PROXY_HOPS=1``, as behind the load
  balancer of docs/scaling.md), so the loose per-IP caps do not turn a capacity
  measurement into a 429 measurement; per-account and per-attempt limits stay in force and
  any 429 counts as an error.

The users read their world (accounts, round ids, think times) from ``CONTEXT``, which
bench/spike fills before starting a runner.
"""

from __future__ import annotations

import random
import re
import threading
from collections import defaultdict, deque
from dataclasses import dataclass, field
from http.cookiejar import Cookie
from typing import Any
from urllib.parse import urlencode

import gevent
from locust import FastHttpUser, constant, task
from locust.exception import StopUser

_META_CSRF = re.compile(r'<meta\s+name="csrf-token"\s+content="([^"]+)"')
_FORM_CSRF = re.compile(r'name="csrf_token"[^>]*\svalue="([^"]+)"')


@dataclass(frozen=True)
class Account:
    phone: str
    password: str


@dataclass
class Identity:
    """A logged-in contestant's browser state, handed from the spike to the saturation users."""

    cookies: list[Cookie]
    csrf: str


@dataclass
class SatAttempt:
    attempt_id: int
    # (question id, the option keys shown, multi)
    questions: list[tuple[int, list[str], bool]]


@dataclass
class SpikeContext:
    spike_round_id: int = 0
    start_round_ids: list[int] = field(default_factory=list)
    accounts: deque[Account] = field(default_factory=deque)
    think_min: float = 1.5
    think_max: float = 4.5
    leaderboard_reads: int = 3
    # Filled by the users.
    identities: list[Identity] = field(default_factory=list)
    acked_spike: list[tuple[int, int, tuple[str, ...]]] = field(default_factory=list)
    acked_saturation: int = 0
    sat_attempts: dict[int, list[SatAttempt]] = field(default_factory=lambda: defaultdict(list))
    spike_done: int = 0
    spike_failed: list[str] = field(default_factory=list)
    ready: int = 0
    # Set by bench/spike to end a phase: users finish the request they are in, then stop.
    stopping: bool = False
    _next_identity: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def claim(self) -> int:
        """A distinct number per saturation user (its identity and client address)."""
        with self._lock:
            i = self._next_identity
            self._next_identity += 1
        return i

    def reset_claims(self) -> None:
        self._next_identity = 0
        self.ready = 0


CONTEXT = SpikeContext()


def _csrf(html: str) -> str:
    found = _META_CSRF.search(html) or _FORM_CSRF.search(html)
    if not found:
        raise StopUser()
    return found.group(1)


def _cookie_header(user: FastHttpUser, headers: dict[str, str] | None = None) -> dict[str, str]:
    """Headers with the Cookie header built from the user's jar.

    The app runs in production mode, so its cookies are ``Secure``; geventhttpclient's jar
    (rightly) keeps them off plain http. A phone talks HTTPS to the load balancer and
    sends them: send them here by hand, as that phone would.
    """
    out = dict(headers or {})
    jar = "; ".join(f"{c.name}={c.value}" for c in user.client.cookiejar)
    if jar:
        out["Cookie"] = jar
    return out


def _think() -> None:
    gevent.sleep(random.uniform(CONTEXT.think_min, CONTEXT.think_max))
    _stop_if_asked()


def _stop_if_asked() -> None:
    if CONTEXT.stopping:
        raise StopUser()


def _pick(keys: list[str], multi: bool) -> list[str]:
    if multi and len(keys) >= 2:
        return sorted(random.sample(keys, 2))
    return [random.choice(keys)]


# --------------------------------------------------------------------------- the spike


class Contestant(FastHttpUser):
    """One contestant's whole visit; the user stops when it is over."""

    wait_time = constant(0)
    # A phone's browser waits minutes, not seconds; slow answers show in the latencies.
    network_timeout = 180.0
    connection_timeout = 60.0

    def _fail(self, what: str, status: int) -> None:
        CONTEXT.spike_failed.append(f"{what}: HTTP {status}")
        raise StopUser()

    def _json_headers(self, csrf: str) -> dict[str, str]:
        return {"X-CSRFToken": csrf, "Accept": "application/json"}

    def on_start(self) -> None:
        try:
            self.account = CONTEXT.accounts.popleft()
        except IndexError:
            raise StopUser() from None

    def visit(self) -> None:
        acc = self.account
        page = self.client.get("/login", headers=_cookie_header(self), name="GET /login")
        if page.status_code != 200:
            self._fail("GET /login", page.status_code)
        body = urlencode(
            {"phone": acc.phone, "password": acc.password, "csrf_token": _csrf(page.text or "")}
        )
        resp = self.client.post(
            "/login",
            data=body,
            name="POST /login",
            headers=_cookie_header(self, {"Content-Type": "application/x-www-form-urlencoded"}),
            allow_redirects=False,
        )
        if resp.status_code != 302:
            self._fail("POST /login", resp.status_code)
        home = self.client.get("/", headers=_cookie_header(self), name="GET / (after login)")
        if home.status_code != 200:
            self._fail("GET /", home.status_code)
        csrf = _csrf(home.text or "")
        headers = self._json_headers(csrf)
        CONTEXT.identities.append(Identity(list(self.client.cookiejar), csrf))

        rid = CONTEXT.spike_round_id
        resp = self.client.post(
            f"/api/v1/rounds/{rid}/attempts",
            json={},
            headers=_cookie_header(self, headers),
            name="start attempt",
        )
        if resp.status_code not in (200, 201):
            self._fail("start attempt", resp.status_code)
        attempt = resp.json()
        attempt_id = int(attempt["attempt_id"])
        for q in attempt["questions"]:
            _think()
            choice = _pick([o["key"] for o in q["options"]], bool(q["multi"]))
            resp = self.client.put(
                f"/api/v1/attempts/{attempt_id}/answers/{q['id']}",
                json={"choice": choice},
                headers=_cookie_header(self, headers),
                name="save answer",
            )
            if 200 <= resp.status_code < 300:
                CONTEXT.acked_spike.append((attempt_id, int(q["id"]), tuple(choice)))
        _think()
        resp = self.client.post(
            f"/api/v1/attempts/{attempt_id}/submit",
            json={"prediction": random.randint(0, 300)},
            headers=_cookie_header(self, headers),
            name="submit",
        )
        if resp.status_code != 200:
            self._fail("submit", resp.status_code)
        for _ in range(CONTEXT.leaderboard_reads):
            _think()
            self.client.get(
                f"/api/v1/rounds/{rid}/leaderboard?limit=20",
                headers=_cookie_header(self, {"Accept": "application/json"}),
                name="leaderboard",
            )

    @task
    def run_once(self) -> None:
        try:
            self.visit()
        finally:
            CONTEXT.spike_done += 1
        raise StopUser()


# --------------------------------------------------------------------------- saturation


class _Saturating(FastHttpUser):
    abstract = True
    wait_time = constant(0)
    network_timeout = 60.0
    connection_timeout = 60.0

    def on_start(self) -> None:
        self.n = n = CONTEXT.claim()
        self.headers = {
            "Accept": "application/json",
            "X-Forwarded-For": f"10.{(n + 1) >> 16 & 255}.{(n + 1) >> 8 & 255}.{(n + 1) & 255}",
        }
        self.index = n % len(CONTEXT.identities) if CONTEXT.identities else n
        if CONTEXT.identities:
            ident = CONTEXT.identities[self.index]
            for cookie in ident.cookies:
                self.client.cookiejar.set_cookie(cookie)
            self.headers["X-CSRFToken"] = ident.csrf
        self.prepare()
        CONTEXT.ready += 1

    def prepare(self) -> None:
        pass


class Starter(_Saturating):
    """Starts a new attempt (first entry into a contest, a fresh draw) again and again."""

    def prepare(self) -> None:
        # Two users share a contestant only when some spike logins failed; the second then
        # walks the rounds backwards, so they do not race for the same attempts.
        shared = self.n >= len(CONTEXT.identities) > 0
        self.rounds = iter(CONTEXT.start_round_ids[:: -1 if shared else 1])

    @task
    def start_next(self) -> None:
        _stop_if_asked()
        rid = next(self.rounds, None)
        if rid is None:
            gevent.sleep(1)  # out of rounds: idle (bench/spike sizes the rounds to avoid it)
            return
        resp = self.client.post(
            f"/api/v1/rounds/{rid}/attempts",
            json={},
            headers=_cookie_header(self, self.headers),
            name="start attempt",
        )
        if resp.status_code in (200, 201):
            data: dict[str, Any] = resp.json()
            CONTEXT.sat_attempts[self.index].append(
                SatAttempt(
                    int(data["attempt_id"]),
                    [
                        (int(q["id"]), [o["key"] for o in q["options"]], bool(q["multi"]))
                        for q in data["questions"]
                    ],
                )
            )


class AnswerSaver(_Saturating):
    """Saves answers round-robin over its attempts' questions (a contestant changing its mind)."""

    def prepare(self) -> None:
        self.plan = [
            (a.attempt_id, qid, keys, multi)
            for a in CONTEXT.sat_attempts.get(self.index, [])
            for qid, keys, multi in a.questions
        ]
        # Interleave attempts so consecutive saves hit different per-attempt limits.
        self.plan.sort(key=lambda p: (p[1] % 7, p[0]))
        self.i = random.randrange(len(self.plan)) if self.plan else 0

    @task
    def save(self) -> None:
        _stop_if_asked()
        if not self.plan:
            raise StopUser()
        attempt_id, qid, keys, multi = self.plan[self.i % len(self.plan)]
        self.i += 1
        resp = self.client.put(
            f"/api/v1/attempts/{attempt_id}/answers/{qid}",
            json={"choice": _pick(keys, multi)},
            headers=_cookie_header(self, self.headers),
            name="save answer",
        )
        if 200 <= resp.status_code < 300:
            CONTEXT.acked_saturation += 1


class Submitter(_Saturating):
    """Submits the attempts its contestant started in the start phase, one after another.

    The supply is finite (a contestant submits an attempt once): a user with nothing left
    stops, so read this endpoint's CPU per request rather than its requests/s."""

    def prepare(self) -> None:
        self.todo = [a.attempt_id for a in CONTEXT.sat_attempts.get(self.index, [])]
        if self.n >= len(CONTEXT.identities) > 0:
            self.todo.reverse()  # a shared contestant: start from the other end

    @task
    def submit(self) -> None:
        _stop_if_asked()
        if not self.todo:
            raise StopUser()
        attempt_id = self.todo.pop()
        self.client.post(
            f"/api/v1/attempts/{attempt_id}/submit",
            json={},
            headers=_cookie_header(self, self.headers),
            name="submit",
        )


class LeaderboardReader(_Saturating):
    @task
    def read(self) -> None:
        _stop_if_asked()
        self.client.get(
            f"/api/v1/rounds/{CONTEXT.spike_round_id}/leaderboard?limit=20",
            headers=_cookie_header(self, self.headers),
            name="leaderboard",
        )


class BaselinePinger(_Saturating):
    @task
    def ping(self) -> None:
        _stop_if_asked()
        self.client.get("/ping", headers=_cookie_header(self, self.headers), name="baseline /ping")

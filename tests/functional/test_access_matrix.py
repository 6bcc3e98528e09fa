"""Every route, as every kind of caller, against the policy the view declares.

Walks ``app.url_map`` (so routes added later are covered without editing this file) and
reads each view's ``access_policy`` (set by the decorators in ``quizengine.access``):

- a view without a policy fails;
- anonymous callers of a non-public view get a redirect to /login (HTML) or 401 (/api/);
- signed-in callers with the wrong role get 403;
- allowed callers get neither (404 is fine: the URLs carry ids that do not exist).

Unsafe methods are sent with a valid CSRF token, so a refusal is the policy's, not CSRF's.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy.orm import Session
from werkzeug.routing import (
    AnyConverter,
    FloatConverter,
    IntegerConverter,
    Rule,
    UUIDConverter,
)

from quizengine.models import User
from tests.factories import make_contestant, make_judge, make_organiser

POLICIES = ("public", "user", "contestant", "judge", "organiser")
ROLES = ("anonymous", "contestant", "judge", "organiser")
ALLOWED: dict[str, set[str]] = {
    "public": set(ROLES),
    "user": {"contestant", "judge", "organiser"},
    "contestant": {"contestant"},
    "judge": {"judge", "organiser"},
    "organiser": {"organiser"},
}
SAFE = {"GET"}
MISSING_ID = 999_999


@dataclass(frozen=True)
class Route:
    rule: Rule
    method: str
    policy: str

    @property
    def api(self) -> bool:
        return self.rule.rule.startswith("/api/")

    def __str__(self) -> str:
        return f"{self.method} {self.rule.rule} ({self.rule.endpoint}, {self.policy})"


def _skipped(rule: Rule) -> bool:
    # Flask's static files (the app's and any blueprint's) are not views of ours.
    return rule.endpoint == "static" or rule.endpoint.endswith(".static")


def routes_without_policy(app: Flask) -> list[str]:
    missing = []
    for rule in app.url_map.iter_rules():
        if _skipped(rule):
            continue
        policy = getattr(app.view_functions[rule.endpoint], "access_policy", None)
        if policy not in POLICIES:
            missing.append(f"{rule.rule} ({rule.endpoint}): policy {policy!r}")
    return missing


def all_routes(app: Flask) -> list[Route]:
    routes = []
    for rule in app.url_map.iter_rules():
        if _skipped(rule):
            continue
        policy = getattr(app.view_functions[rule.endpoint], "access_policy", None)
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
            routes.append(Route(rule, method, str(policy)))
    return routes


def dummy_values(rule: Rule) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for name, converter in rule._converters.items():
        if isinstance(converter, IntegerConverter):
            values[name] = MISSING_ID
        elif isinstance(converter, FloatConverter):
            values[name] = 1.5
        elif isinstance(converter, UUIDConverter):
            values[name] = uuid.UUID(int=MISSING_ID)
        elif isinstance(converter, AnyConverter):
            values[name] = next(iter(converter.items))
        else:
            values[name] = "zz-missing"
    return values


def build_url(app: Flask, route: Route) -> str:
    adapter = app.url_map.bind("localhost")
    return adapter.build(route.rule.endpoint, dummy_values(route.rule), method=route.method)


def client_as(app: Flask, user: User | None) -> FlaskClient:
    client = app.test_client()
    if user is not None:
        with client.session_transaction() as session:
            session["_user_id"] = str(user.id)
            session["_fresh"] = True
    return client


def csrf_token(client: FlaskClient) -> str:
    html = client.get("/").get_data(as_text=True)
    match = re.search(r'name="csrf-token" content="([^"]+)"', html)
    assert match, "the home page must carry the CSRF meta tag"
    return match.group(1)


def call(app: Flask, user: User | None, route: Route, url: str):  # type: ignore[no-untyped-def]
    # A fresh client each time: a POST /logout (or a login) must not change who the next
    # request is made as.
    client = client_as(app, user)
    if route.method in SAFE:
        return client.open(url, method=route.method)
    token = csrf_token(client)
    headers = {"X-CSRFToken": token}
    if route.api:
        return client.open(url, method=route.method, json={}, headers=headers)
    return client.open(url, method=route.method, data={"csrf_token": token}, headers=headers)


def refusal(route: Route, role: str, response) -> str | None:  # type: ignore[no-untyped-def]
    """What is wrong with this response for a caller the policy refuses (None = right)."""
    status = response.status_code
    if role == "anonymous":
        if route.api:
            return None if status == 401 else f"expected 401, got {status}"
        location = urlsplit(response.headers.get("Location", "")).path
        if status == 302 and location == "/login":
            return None
        return f"expected a redirect to /login, got {status} {location}"
    return None if status == 403 else f"expected 403, got {status}"


def admitted(route: Route, response) -> str | None:  # type: ignore[no-untyped-def]
    """What is wrong for a caller the policy admits (None = admitted)."""
    status = response.status_code
    location = urlsplit(response.headers.get("Location", "")).path
    if status in (401, 403):
        return f"refused with {status}"
    if status in (301, 302, 303, 307, 308) and location == "/login":
        return "sent to the login page"
    return None


@pytest.fixture
def people(app: Flask, db_session: Session) -> dict[str, User | None]:
    users: dict[str, User | None] = {
        "anonymous": None,
        "contestant": make_contestant(db_session),
        "judge": make_judge(db_session),
        "organiser": make_organiser(db_session),
    }
    db_session.commit()
    return users


def test_every_route_declares_an_access_policy(app: Flask) -> None:
    missing = routes_without_policy(app)
    assert not missing, "routes without @public/@signed_in/@*_only:\n" + "\n".join(missing)


def test_a_route_without_a_policy_is_caught() -> None:
    # A bare Flask app: a second create_app() would re-point the shared limiter's storage.
    probe = Flask("probe")

    @probe.get("/undeclared")
    def undeclared() -> str:
        return "anyone"

    assert routes_without_policy(probe) == ["/undeclared (undeclared): policy None"]


def test_every_route_refuses_and_admits_callers_by_its_policy(
    app: Flask, people: dict[str, User | None]
) -> None:
    routes = all_routes(app)
    assert len(routes) > 10
    problems: list[str] = []
    checked = 0
    for route in routes:
        if route.policy not in POLICIES:
            problems.append(f"{route}: no access policy")
            continue
        url = build_url(app, route)
        for role in ROLES:
            response = call(app, people[role], route, url)
            checked += 1
            if role in ALLOWED[route.policy]:
                problem = admitted(route, response)
            else:
                problem = refusal(route, role, response)
            if problem:
                problems.append(f"{route} as {role}: {problem}")
    assert not problems, f"{len(problems)} of {checked} checks failed:\n" + "\n".join(problems)
    # every role was tried on every route
    assert checked == len(routes) * len(ROLES)


def test_a_user_with_a_temporary_password_is_sent_to_change_it(
    app: Flask, db_session: Session
) -> None:
    user = make_organiser(db_session, must_change_password=True)
    db_session.commit()
    client = client_as(app, user)
    for path in ("/account", "/organiser/users", "/organiser/units"):
        response = client.get(path)
        assert response.status_code == 302, path
        assert urlsplit(response.headers["Location"]).path == "/account/password"
    assert client.get("/account/password").status_code == 200

"""The leaderboard API and pages through HTTP, the CLI, and Redis trouble."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import timedelta

import pytest
from flask import Flask
from flask.testing import FlaskClient, FlaskCliRunner
from sqlalchemy import select
from sqlalchemy.orm import Session

from quizengine.clock import FrozenClock
from quizengine.models import AttemptItem, QuestionVersion, Round, User
from quizengine.store import RedisStore, Store, keys
from tests.factories import (
    NOW,
    make_bank,
    make_contest,
    make_contestant,
    make_judge,
    make_round,
    make_unit,
)
from tests.leaderboard_builders import enter, make_attempt

API = "/api/v1"


def login(client: FlaskClient, user: User) -> str:
    with client.session_transaction() as s:
        s["_user_id"] = str(user.id)
        s["_fresh"] = True
    html = client.get("/").get_data(as_text=True)
    match = re.search(r'<meta name="csrf-token" content="([^"]+)"', html)
    assert match
    return match.group(1)


def crowd(session: Session, n: int, **round_kw: object) -> tuple[Round, list[User]]:
    """``n`` contestants; contestant i has 100 − i points (so rank i + 1)."""
    unit = make_unit(session, name="Công đoàn Công ty Dệt may Hòa Bình", short_name="CĐ Dệt HB")
    rnd = make_round(session, **round_kw)  # type: ignore[arg-type]
    users = []
    for i in range(n):
        user = make_contestant(session, full_name=f"Trần Thị Ánh {i:02d}", unit=unit)
        make_attempt(session, rnd, user, score=100 - i, total=100)
        users.append(user)
    session.commit()
    return rnd, users


@pytest.fixture
def dead_redis(app: Flask, store: Store) -> Iterator[None]:
    """Point the app's store at a port where no Redis listens (same key prefix)."""
    live = app.extensions["quizengine.store"]
    app.extensions["quizengine.store"] = RedisStore.from_url(
        "redis://127.0.0.1:1/0", prefix=store.prefix
    )
    yield
    app.extensions["quizengine.store"] = live


def test_api_gives_the_top_and_my_line_even_outside_it(
    client: FlaskClient, db_session: Session, clock: FrozenClock
) -> None:
    rnd, users = crowd(db_session, 25)
    login(client, users[22])
    data = client.get(f"{API}/rounds/{rnd.id}/leaderboard").get_json()
    assert data["final"] is False
    assert len(data["entries"]) == 20
    assert data["entries"][0] == {
        "rank": 1,
        "name": "Trần Thị Ánh 00",
        "unit": "CĐ Dệt HB",
        "score": 100,
        "duration_ms": 60_000,
    }
    assert [e["rank"] for e in data["entries"]] == list(range(1, 21))
    assert data["me"] == {
        "rank": 23,
        "name": "Trần Thị Ánh 22",
        "unit": "CĐ Dệt HB",
        "score": 78,
        "duration_ms": 60_000,
    }
    top3 = client.get(f"{API}/rounds/{rnd.id}/leaderboard?limit=3").get_json()
    assert [e["score"] for e in top3["entries"]] == [100, 99, 98]


def test_api_refuses_limits_above_100_and_anonymous_callers(
    app: Flask, client: FlaskClient, db_session: Session, clock: FrozenClock
) -> None:
    rnd, users = crowd(db_session, 2)
    assert client.get(f"{API}/rounds/{rnd.id}/leaderboard").status_code == 401
    login(client, users[0])
    assert client.get(f"{API}/rounds/{rnd.id}/leaderboard?limit=100").status_code == 200
    for bad in ("101", "0", "abc", "-3"):
        response = client.get(f"{API}/rounds/{rnd.id}/leaderboard?limit={bad}")
        assert response.status_code == 400
        assert response.get_json()["error"] == "invalid"
    assert client.get(f"{API}/rounds/99999/leaderboard").status_code == 404


def test_board_defaults_to_the_callers_and_can_be_chosen_by_name(
    client: FlaskClient, db_session: Session, clock: FrozenClock
) -> None:
    contest = make_contest(db_session, boards=("Bảng A — cán bộ", "Bảng B — đoàn viên"))
    rnd = make_round(db_session, contest=contest)
    a_id, b_id = (b.id for b in contest.boards)
    officials = [make_contestant(db_session, full_name=f"Cán bộ {i}") for i in range(2)]
    worker = make_contestant(db_session, full_name="Công nhân")
    for i, user in enumerate(officials):
        enter(db_session, rnd, user, a_id)
        make_attempt(db_session, rnd, user, board_id=a_id, score=5 - i)
    enter(db_session, rnd, worker, b_id)
    make_attempt(db_session, rnd, worker, board_id=b_id, score=1)
    judge = make_judge(db_session)
    db_session.commit()

    login(client, worker)
    mine = client.get(f"{API}/rounds/{rnd.id}/leaderboard").get_json()
    assert [e["name"] for e in mine["entries"]] == ["Công nhân"]
    assert mine["me"]["rank"] == 1
    other = client.get(
        f"{API}/rounds/{rnd.id}/leaderboard", query_string={"board": "Bảng A — cán bộ"}
    ).get_json()
    assert [e["name"] for e in other["entries"]] == ["Cán bộ 0", "Cán bộ 1"]
    assert other["me"] is None
    unknown = client.get(f"{API}/rounds/{rnd.id}/leaderboard?board=Bảng Z")
    assert unknown.status_code == 400

    login(client, judge)  # no board of their own: the first one
    first = client.get(f"{API}/rounds/{rnd.id}/leaderboard").get_json()
    assert [e["name"] for e in first["entries"]] == ["Cán bộ 0", "Cán bộ 1"]


def test_page_highlights_my_line_outside_the_top_and_shows_no_phone_numbers(
    client: FlaskClient, db_session: Session, clock: FrozenClock
) -> None:
    rnd, users = crowd(db_session, 24)
    login(client, users[23])
    response = client.get(f"/rounds/{rnd.id}/leaderboard")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert html.count("<tr>") + html.count('<tr class="me"') >= 21
    me_row = re.search(r'<tr class="me" aria-current="true">(.*?)</tr>', html, re.S)
    assert me_row and ">24<" in me_row.group(1) and "Trần Thị Ánh 23" in me_row.group(1)
    assert "Trần Thị Ánh 19" in html and "Trần Thị Ánh 20" not in html
    assert 'class="gap"' in html
    for user in users:
        assert user.phone not in html
        assert user.phone not in client.get(f"{API}/rounds/{rnd.id}/leaderboard").get_data(
            as_text=True
        )
    assert "leaderboard.js" in html and 'http-equiv="refresh"' in html
    total = len(response.data) + len(client.get("/static/leaderboard.js").data)
    total += len(client.get("/static/app.css").data)
    assert total < 40_000


def test_page_and_api_say_temporarily_unavailable_when_redis_is_down(
    app: Flask, client: FlaskClient, db_session: Session, clock: FrozenClock, dead_redis: None
) -> None:
    rnd, users = crowd(db_session, 3)
    login(client, users[0])
    page = client.get(f"/rounds/{rnd.id}/leaderboard")
    assert page.status_code == 503
    assert "tạm thời không khả dụng" in page.get_data(as_text=True)
    api = client.get(f"{API}/rounds/{rnd.id}/leaderboard")
    assert api.status_code == 503
    assert api.get_json()["error"] == "unavailable"
    units = client.get(f"/rounds/{rnd.id}/units")
    assert units.status_code == 503


def _answer_everything(client: FlaskClient, db: Session, token: str, round_id: int) -> int:
    start = client.post(
        f"{API}/rounds/{round_id}/attempts", json={}, headers={"X-CSRFToken": token}
    )
    assert start.status_code == 201, start.get_json()
    payload = start.get_json()
    attempt_id = int(payload["attempt_id"])
    for question in payload["questions"]:
        item = db.scalars(
            select(AttemptItem).where(
                AttemptItem.attempt_id == attempt_id, AttemptItem.question_id == question["id"]
            )
        ).one()
        version = db.get(QuestionVersion, item.version_id)
        assert version is not None
        right = [chr(65 + k) for k, i in enumerate(item.option_order) if i in version.correct]
        saved = client.put(
            f"{API}/attempts/{attempt_id}/answers/{question['id']}",
            json={"choice": right},
            headers={"X-CSRFToken": token},
        )
        assert saved.status_code == 200
    return attempt_id


def test_a_submission_while_redis_is_down_is_stored_and_counted_when_it_returns(
    app: Flask, client: FlaskClient, db_session: Session, clock: FrozenClock, store: Store
) -> None:
    rnd, _users = crowd(db_session, 3, bank=make_bank(db_session, questions=5), draw=5)
    newcomer = make_contestant(db_session, full_name="Lê Văn Mới")
    db_session.commit()
    token = login(client, newcomer)
    before = client.get(f"{API}/rounds/{rnd.id}/leaderboard").get_json()
    assert before["me"] is None and len(before["entries"]) == 3
    attempt_id = _answer_everything(client, db_session, token, rnd.id)
    clock.advance(seconds=30)

    live = app.extensions["quizengine.store"]
    app.extensions["quizengine.store"] = RedisStore.from_url(
        "redis://127.0.0.1:1/0", prefix=store.prefix
    )
    try:
        submitted = client.post(
            f"{API}/attempts/{attempt_id}/submit", json={}, headers={"X-CSRFToken": token}
        )
        assert submitted.status_code == 200, submitted.get_json()
        result = submitted.get_json()
        assert result["score"] == 5
        assert result["rank"] == 4  # from the database: 100, 99, 98 points are ahead
        assert client.get(f"{API}/rounds/{rnd.id}/leaderboard").status_code == 503
    finally:
        app.extensions["quizengine.store"] = live

    after = client.get(f"{API}/rounds/{rnd.id}/leaderboard").get_json()
    assert after["me"] is not None and after["me"]["rank"] == 4
    assert [e["name"] for e in after["entries"]][-1] == "Lê Văn Mới"
    assert store.zcard(keys.board(rnd.id, None)) == 4


def test_unit_standings_page_sorts_by_the_column_asked(
    client: FlaskClient, db_session: Session, clock: FrozenClock
) -> None:
    root = make_unit(db_session, short_name="LĐLĐ tỉnh")
    upper = make_unit(db_session, parent=root, short_name="CĐ KCN Bắc")
    big = make_unit(db_session, parent=upper, short_name="CĐCS Đông")
    small = make_unit(db_session, parent=upper, short_name="CĐCS Tây")
    rnd = make_round(db_session, attempts_allowed=2)
    for unit, scores in ((big, [1, 2, 3]), (small, [9])):
        for score in scores:
            make_attempt(db_session, rnd, make_contestant(db_session, unit=unit), score=score)
    db_session.commit()
    login(client, make_contestant(db_session))
    db_session.commit()

    html = client.get(f"/rounds/{rnd.id}/units").get_data(as_text=True)
    assert html.index("CĐCS Đông") < html.index("CĐCS Tây")  # 3 participants before 1
    html = client.get(f"/rounds/{rnd.id}/units?sort=average").get_data(as_text=True)
    assert html.index("CĐCS Tây") < html.index("CĐCS Đông")  # 9.00 before 2.00
    assert "9.00" in html and "2.00" in html
    html = client.get(f"/rounds/{rnd.id}/units?level=upper").get_data(as_text=True)
    assert "CĐ KCN Bắc" in html and "CĐCS Đông" not in html
    assert client.get(f"/rounds/{rnd.id}/units?sort=phone").status_code == 400


def test_rebuild_command_restores_the_boards_from_the_database(
    runner: FlaskCliRunner, db_session: Session, store: Store, clock: FrozenClock
) -> None:
    rnd, _users = crowd(db_session, 4)
    other, _ = crowd(db_session, 2)
    store.flush_prefix()
    result = runner.invoke(args=["leaderboard", "rebuild"])
    assert result.exit_code == 0, result.output
    assert f"round {rnd.id}: 4 contestants" in result.output
    assert f"round {other.id}: 2 contestants" in result.output
    assert store.zcard(keys.board(rnd.id, None)) == 4
    single = runner.invoke(args=["leaderboard", "rebuild", "--round", str(rnd.id)])
    assert single.exit_code == 0 and single.output.strip() == f"round {rnd.id}: 4 contestants"
    missing = runner.invoke(args=["leaderboard", "rebuild", "--round", "99999"])
    assert missing.exit_code == 1 and "does not exist" in missing.output


def test_final_follows_the_judges(
    client: FlaskClient, db_session: Session, clock: FrozenClock
) -> None:
    rnd, users = crowd(db_session, 2)
    rnd.finalized_at = NOW + timedelta(days=8)
    db_session.commit()
    login(client, users[1])
    assert client.get(f"{API}/rounds/{rnd.id}/leaderboard").get_json()["final"] is True

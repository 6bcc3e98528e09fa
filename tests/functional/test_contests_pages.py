"""Contest pages through the app: organisers' editors (with CSRF) and the contestant's page."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from quizengine.clock import FrozenClock
from quizengine.models import Attempt, Contest, ContestEntry, Round, User
from tests.conftest import ROOT
from tests.factories import (
    make_bank,
    make_contest,
    make_contestant,
    make_organiser,
    make_round,
)

NOW = datetime(2026, 3, 2, 3, 0, tzinfo=UTC)  # 10:00 in Hà Nội


def _login(client: FlaskClient, user: User) -> None:
    with client.session_transaction() as s:
        s["_user_id"] = str(user.id)
        s["_fresh"] = True


def _csrf(html: str) -> str:
    found = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', html) or re.search(
        r'name="csrf-token" content="([^"]+)"', html
    )
    assert found, "no CSRF token on the page"
    return found.group(1)


def _text(response) -> str:  # type: ignore[no-untyped-def]
    return str(response.get_data(as_text=True))


@pytest.fixture
def organiser(client: FlaskClient, db_session: Session) -> User:
    user = make_organiser(db_session)
    db_session.commit()
    _login(client, user)
    return user


def _round_form(slug: str, **overrides: str) -> dict[str, str]:
    form = {
        "title": "",
        "opens_at": "2026-03-02T10:00",
        "closes_at": "2026-03-09T09:00",
        "draws-0-bank": slug,
        "draws-0-count": "5",
        "draws-0-difficulty": "",
        "draws-0-topic": "",
        "draws-1-bank": "",
        "draws-1-count": "",
        "minutes": "0.5",
        "attempts_allowed": "3",
        "shuffle_questions": "y",
        "review_policy": "after_submit",
        "prediction_text": "Dự đoán có bao nhiêu người trả lời đúng tất cả?",
        "ladder": "points,prediction,duration,submitted_at",
        "prediction_target": "participants",
        "prize_first": "1",
        "prize_second": "2",
        "prize_third": "3",
        "prize_consolation": "5",
    }
    form.update(overrides)
    return form


# --- organisers --------------------------------------------------------------------------


def test_organiser_creates_a_contest_with_boards_through_the_form(
    client: FlaskClient, db_session: Session, organiser: User
) -> None:
    page = client.get("/organiser/contests/new")
    assert page.status_code == 200
    response = client.post(
        "/organiser/contests/new",
        data={
            "csrf_token": _csrf(_text(page)),
            "title": "Cuộc thi tìm hiểu pháp luật",
            "description": "Giới thiệu",
            "rules": "1. Mỗi tuần 20 câu.",
            "access_code": "CD2026",
            "boards-0-id": "",
            "boards-0-name": "Bảng A — cán bộ công đoàn",
            "boards-1-id": "",
            "boards-1-name": "",
        },
    )
    assert response.status_code == 302
    contest = db_session.scalars(select(Contest)).one()
    assert response.headers["Location"].endswith(f"/organiser/contests/{contest.id}")
    assert contest.access_code == "CD2026"
    assert [b.name for b in contest.boards] == ["Bảng A — cán bộ công đoàn"]
    assert "Bảng A — cán bộ công đoàn" in _text(client.get(response.headers["Location"]))


def test_a_post_without_the_csrf_token_is_refused(
    client: FlaskClient, db_session: Session, organiser: User
) -> None:
    response = client.post("/organiser/contests/new", data={"title": "X"})
    assert response.status_code == 403
    assert db_session.scalars(select(Contest)).first() is None


def test_organiser_creates_a_round_in_local_time_through_the_form(
    client: FlaskClient, db_session: Session, organiser: User
) -> None:
    contest = make_contest(db_session)
    make_bank(db_session, slug="luat-giao-thong", questions=8)
    db_session.commit()
    url = f"/organiser/contests/{contest.id}/rounds/new"
    page = client.get(url)
    assert page.status_code == 200
    assert "luat-giao-thong" in _text(page)
    response = client.post(
        url, data={"csrf_token": _csrf(_text(page)), **_round_form("luat-giao-thong")}
    )
    assert response.status_code == 302, _text(response)
    rnd = db_session.scalars(select(Round)).one()
    assert (rnd.opens_at, rnd.closes_at) == (NOW, datetime(2026, 3, 9, 2, 0, tzinfo=UTC))
    assert (rnd.question_count, rnd.time_limit_seconds, rnd.attempts_allowed) == (5, 30, 3)
    assert rnd.shuffle_questions and not rnd.shuffle_options
    assert (rnd.review_policy, rnd.prediction_target, rnd.prizes) == (
        "after_submit",
        "participants",
        [1, 2, 3, 5],
    )
    assert rnd.title == "Tuần 1"
    overview = _text(client.get(response.headers["Location"]))
    # Shown back in Vietnam time, not UTC.
    assert "02/03/2026 10:00" in overview and "09/03/2026 09:00" in overview


def test_round_form_errors_are_shown_under_the_fields_and_nothing_is_saved(
    client: FlaskClient, db_session: Session, organiser: User
) -> None:
    contest = make_contest(db_session)
    make_bank(db_session, slug="luat-giao-thong", questions=4)
    db_session.commit()
    url = f"/organiser/contests/{contest.id}/rounds/new"
    token = _csrf(_text(client.get(url)))
    response = client.post(
        url,
        data={
            "csrf_token": token,
            **_round_form("luat-giao-thong", closes_at="2026-03-01T09:00", minutes="0"),
        },
    )
    assert response.status_code == 400
    html = _text(response)
    assert "Thời gian làm bài là số phút" in html
    response = client.post(
        url,
        data={"csrf_token": token, **_round_form("luat-giao-thong", closes_at="2026-03-01T09:00")},
    )
    html = _text(response)
    assert response.status_code == 400
    assert "Thời điểm đóng phải sau thời điểm mở" in html
    assert "chỉ có 4 câu hỏi" in html
    # What was typed is kept.
    assert 'value="2026-03-01T09:00"' in html
    assert db_session.scalars(select(Round)).first() is None


def test_editing_a_round_that_has_attempts_shows_locked_settings_read_only(
    client: FlaskClient, db_session: Session, organiser: User, clock: FrozenClock
) -> None:
    bank = make_bank(db_session, slug="luat-giao-thong", questions=10)
    rnd = make_round(db_session, bank=bank, draw=5, opens_at=NOW - timedelta(hours=1))
    user = make_contestant(db_session)
    db_session.add(
        Attempt(
            round_id=rnd.id,
            user_id=user.id,
            number=1,
            status="submitted",
            started_at=NOW,
            deadline_at=NOW + timedelta(minutes=20),
            total=5,
        )
    )
    db_session.commit()
    url = f"/organiser/rounds/{rnd.id}/edit"
    page = _text(client.get(url))
    assert 'name="draws-0-count"' not in page
    assert 'name="minutes"' not in page
    assert 'name="prediction_text"' not in page
    assert 'name="closes_at"' in page and 'name="title"' in page
    assert "không thể thay đổi" in page
    # A crafted post carrying locked fields changes none of them.
    response = client.post(
        url,
        data={
            "csrf_token": _csrf(page),
            **_round_form("luat-giao-thong", title="Tuần 1 — sửa", closes_at="2026-03-10T09:00"),
            "draws-0-count": "9",
        },
    )
    assert response.status_code == 302, _text(response)
    db_session.expire_all()
    after = db_session.get(Round, rnd.id)
    assert after is not None
    assert after.title == "Tuần 1 — sửa"
    assert after.closes_at == datetime(2026, 3, 10, 2, 0, tzinfo=UTC)
    assert (after.question_count, after.time_limit_seconds, after.prediction_text) == (
        5,
        1200,
        None,
    )
    assert after.draw_rules[0].count == 5


def test_round_overview_counts_attempts_in_progress_and_submitted_per_board(
    client: FlaskClient, db_session: Session, organiser: User, clock: FrozenClock
) -> None:
    contest = make_contest(db_session, boards=("Bảng A", "Bảng B"))
    rnd = make_round(db_session, contest=contest)
    board_a, board_b = contest.boards
    rows = [
        (board_a, "in_progress", 1),
        (board_a, "submitted", 1),
        (board_a, "submitted", 1),
        (board_b, "in_progress", 1),
        (board_b, "expired", 1),
    ]
    users = [make_contestant(db_session) for _ in rows]
    for user, (board, status, number) in zip(users, rows, strict=True):
        db_session.add(
            Attempt(
                round_id=rnd.id,
                user_id=user.id,
                board_id=board.id,
                number=number,
                status=status,
                started_at=NOW,
                deadline_at=NOW + timedelta(minutes=20),
                total=5,
            )
        )
    db_session.commit()
    clock.advance(minutes=30)  # the two in progress are now overdue
    html = _text(client.get(f"/organiser/rounds/{rnd.id}"))
    cells = re.findall(r"<tr[^>]*><th>([^<]+)</th>(.*?)</tr>", html, re.S)
    table = {name: re.findall(r'class="num">(\d+)', body) for name, body in cells}
    assert table["Bảng A"] == ["1", "2", "0", "3"]
    assert table["Bảng B"] == ["1", "0", "1", "2"]
    assert table["Tổng"] == ["2", "2", "1", "5"]
    assert "2 quá hạn" in html


@pytest.mark.parametrize(
    "path",
    ["/organiser/contests", "/organiser/contests/new", "/organiser/contests/1/rounds/new"],
)
def test_organiser_pages_are_for_organisers_only(
    client: FlaskClient, db_session: Session, path: str
) -> None:
    make_contest(db_session)
    contestant = make_contestant(db_session)
    db_session.commit()
    assert client.get(path).status_code == 302  # to the login page
    _login(client, contestant)
    assert client.get(path).status_code == 403


def test_organiser_list_shows_contests_with_round_counts(
    client: FlaskClient, db_session: Session, organiser: User
) -> None:
    contest = make_contest(db_session, title="Cuộc thi ATVSLĐ")
    make_round(db_session, contest=contest)
    db_session.commit()
    html = _text(client.get("/organiser/contests"))
    assert "Cuộc thi ATVSLĐ" in html
    assert f"/organiser/contests/{contest.id}" in html
    # The home page leads organisers here.
    assert 'href="/organiser/contests"' in _text(client.get("/"))


def test_contest_edit_form_renames_a_board(
    client: FlaskClient, db_session: Session, organiser: User
) -> None:
    contest = make_contest(db_session, boards=("Bảng A",))
    board_id = contest.boards[0].id
    db_session.commit()
    url = f"/organiser/contests/{contest.id}/edit"
    page = _text(client.get(url))
    assert 'value="Bảng A"' in page
    response = client.post(
        url,
        data={
            "csrf_token": _csrf(page),
            "title": "Cuộc thi mới",
            "boards-0-id": str(board_id),
            "boards-0-name": "Bảng A — cán bộ",
            "boards-1-id": "",
            "boards-1-name": "Bảng B",
        },
    )
    assert response.status_code == 302, _text(response)
    db_session.expire_all()
    fresh = db_session.get(Contest, contest.id)
    assert fresh is not None
    assert next((b.id, b.name) for b in fresh.boards) == (board_id, "Bảng A — cán bộ")
    assert [b.name for b in fresh.boards] == ["Bảng A — cán bộ", "Bảng B"]


# --- contestants -------------------------------------------------------------------------


@pytest.fixture
def contest_world(db_session: Session) -> dict[str, int]:
    contest = make_contest(
        db_session,
        title="Cuộc thi an toàn giao thông",
        access_code="CD2026",
        boards=("Bảng A", "Bảng B"),
    )
    contest.rules = "Điều 1. Mỗi người thi tối đa 2 lượt."
    bank = make_bank(db_session, questions=10)
    closed = make_round(
        db_session, contest=contest, bank=bank, title="Tuần 1", opens_at=NOW - timedelta(days=8)
    )
    closed.closes_at = NOW - timedelta(days=1)
    open_ = make_round(
        db_session,
        contest=contest,
        bank=bank,
        title="Tuần 2",
        opens_at=NOW - timedelta(hours=1),
        attempts_allowed=2,
    )
    upcoming = make_round(
        db_session, contest=contest, bank=bank, title="Tuần 3", opens_at=NOW + timedelta(days=6)
    )
    db_session.commit()
    return {"contest": contest.id, "closed": closed.id, "open": open_.id, "upcoming": upcoming.id}


def test_anonymous_visitor_sees_rules_and_round_windows_in_vietnam_time(
    client: FlaskClient, contest_world: dict[str, int], clock: FrozenClock
) -> None:
    response = client.get(f"/contests/{contest_world['contest']}")
    assert response.status_code == 200
    html = _text(response)
    assert "Cuộc thi an toàn giao thông" in html
    assert "Điều 1. Mỗi người thi tối đa 2 lượt." in html
    assert "đang mở" in html and "sắp mở" in html and "đã đóng" in html
    # Tuần 2 opened at 02:00 UTC = 09:00 in Hà Nội.
    assert "02/03/2026 09:00" in html
    assert "/login" in html
    assert "/start" not in html
    # The open round comes before the upcoming and the closed ones.
    assert html.index("Tuần 2") < html.index("Tuần 3") < html.index("Tuần 1")


def test_contestant_first_entry_form_asks_board_and_access_code(
    client: FlaskClient, db_session: Session, contest_world: dict[str, int], clock: FrozenClock
) -> None:
    user = make_contestant(db_session)
    db_session.commit()
    _login(client, user)
    html = _text(client.get(f"/contests/{contest_world['contest']}"))
    forms = re.findall(r'<form method="post" action="([^"]+)">(.*?)</form>', html, re.S)
    starts = [(action, body) for action, body in forms if action.endswith("/start")]
    assert [action for action, _b in starts] == [f"/rounds/{contest_world['open']}/start"]
    body = starts[0][1]
    assert 'name="csrf_token"' in body
    assert '<select id="board-' in body and "<option>Bảng A</option>" in body
    assert 'name="access_code"' in body
    assert "2/2" in body
    # The open and the closed rounds link to their leaderboard; the coming one has none yet.
    assert f"/rounds/{contest_world['open']}/leaderboard" in html
    assert f"/rounds/{contest_world['closed']}/leaderboard" in html
    assert f"/rounds/{contest_world['upcoming']}/leaderboard" not in html


def test_contestant_with_an_entry_gets_no_board_or_code_and_can_resume(
    client: FlaskClient, db_session: Session, contest_world: dict[str, int], clock: FrozenClock
) -> None:
    contest = db_session.get(Contest, contest_world["contest"])
    assert contest is not None
    user = make_contestant(db_session)
    db_session.add(
        ContestEntry(
            contest_id=contest.id, user_id=user.id, board_id=contest.boards[1].id, created_at=NOW
        )
    )
    db_session.add(
        Attempt(
            round_id=contest_world["open"],
            user_id=user.id,
            board_id=contest.boards[1].id,
            number=1,
            status="in_progress",
            started_at=NOW,
            deadline_at=NOW + timedelta(minutes=20),
            total=5,
        )
    )
    db_session.commit()
    _login(client, user)
    html = _text(client.get(f"/contests/{contest.id}"))
    assert "Bảng B" in html
    assert 'name="board"' not in html and 'name="access_code"' not in html
    assert "Làm tiếp bài đang làm" in html
    assert f'action="/rounds/{contest_world["open"]}/start"' in html


def test_contestant_who_used_every_attempt_is_told_so(
    client: FlaskClient, db_session: Session, contest_world: dict[str, int], clock: FrozenClock
) -> None:
    user = make_contestant(db_session)
    db_session.add(
        ContestEntry(contest_id=contest_world["contest"], user_id=user.id, created_at=NOW)
    )
    for number in (1, 2):
        db_session.add(
            Attempt(
                round_id=contest_world["open"],
                user_id=user.id,
                number=number,
                status="submitted",
                started_at=NOW,
                deadline_at=NOW + timedelta(minutes=20),
                total=5,
            )
        )
    db_session.commit()
    _login(client, user)
    html = _text(client.get(f"/contests/{contest_world['contest']}"))
    assert "hết số lượt thi" in html
    assert "/start" not in html


def test_contest_list_and_home_page_show_what_is_open(
    client: FlaskClient, db_session: Session, contest_world: dict[str, int], clock: FrozenClock
) -> None:
    old = make_contest(db_session, title="Cuộc thi năm ngoái")
    past = make_round(db_session, contest=old, opens_at=NOW - timedelta(days=300))
    past.closes_at = NOW - timedelta(days=200)
    db_session.commit()
    listing = _text(client.get("/contests"))
    assert listing.index("Cuộc thi an toàn giao thông") < listing.index("Cuộc thi năm ngoái")
    home = _text(client.get("/"))
    assert "Cuộc thi an toàn giao thông" in home
    assert "Tuần 2" in home and "Tuần 3" in home
    assert "Tuần 1" not in home
    assert "Cuộc thi năm ngoái" not in home


def test_unknown_contest_is_a_not_found_page(client: FlaskClient) -> None:
    assert client.get("/contests/999").status_code == 404


def test_contest_page_fits_the_phone_budget(
    client: FlaskClient, db_session: Session, contest_world: dict[str, int], clock: FrozenClock
) -> None:
    user = make_contestant(db_session)
    db_session.commit()
    _login(client, user)
    html = client.get(f"/contests/{contest_world['contest']}").get_data()
    css = (Path(ROOT) / "static" / "app.css").read_bytes()
    assert len(html) + len(css) <= 40 * 1024
    assert b"<script" not in html  # works without JavaScript


def test_the_start_form_as_rendered_starts_an_attempt(
    client: FlaskClient, db_session: Session, contest_world: dict[str, int], clock: FrozenClock
) -> None:
    user = make_contestant(db_session)
    db_session.commit()
    _login(client, user)
    html = _text(client.get(f"/contests/{contest_world['contest']}"))
    action = f"/rounds/{contest_world['open']}/start"
    response = client.post(
        action,
        data={"csrf_token": _csrf(html), "board": "Bảng B", "access_code": "CD2026"},
    )
    assert response.status_code == 302, _text(response)
    assert "/attempts/" in response.headers["Location"]
    entry = db_session.scalars(select(ContestEntry)).one()
    assert entry.user_id == user.id
    # Back on the contest page: the board is fixed and the attempt is resumed, not restarted.
    html = _text(client.get(f"/contests/{contest_world['contest']}"))
    assert 'name="board"' not in html and "Làm tiếp bài đang làm" in html


def test_round_overview_warns_when_a_bank_can_no_longer_supply_the_draw(
    client: FlaskClient, db_session: Session, organiser: User
) -> None:
    bank = make_bank(db_session, slug="luat-giao-thong", questions=6)
    rnd = make_round(db_session, bank=bank, draw=5)
    for question in bank.questions[:3]:
        question.active = False
    db_session.commit()
    html = _text(client.get(f"/organiser/rounds/{rnd.id}"))
    assert "“luat-giao-thong” chỉ còn 3 câu hỏi" in html

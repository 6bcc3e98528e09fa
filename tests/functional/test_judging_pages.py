"""Judges' and organisers' pages under /judge through the app: access policies, standings
with filters, the review timeline, decisions with mandatory reasons, finalising, downloads."""

from __future__ import annotations

import gc
import re
from datetime import timedelta

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session
from werkzeug.test import TestResponse

from quizengine.clock import FrozenClock
from quizengine.db import database
from quizengine.judging import audit
from quizengine.models import AnswerEvent, Attempt, AttemptItem, Flag, Round, User
from quizengine.models.judging import AuditEntry, PrizeSettings
from tests.factories import make_bank, make_contestant, make_judge, make_organiser
from tests.judging_builders import closed_round, contestant, take, union_tree


def _login(client: FlaskClient, user: User) -> None:
    with client.session_transaction() as s:
        s["_user_id"] = str(user.id)
        s["_fresh"] = True


def _text(response: TestResponse) -> str:
    return response.get_data(as_text=True)


def _csrf(client: FlaskClient) -> str:
    found = re.search(r'name="csrf-token" content="([^"]+)"', _text(client.get("/judge/")))
    assert found
    return found.group(1)


class World:
    def __init__(self, session: Session) -> None:
        _root, mid, leaf1, leaf2 = union_tree(session)
        self.leaf1, self.leaf2, self.mid = leaf1, leaf2, mid
        bank = make_bank(session, questions=3)
        self.round = closed_round(session, bank=bank, draw=3, prizes=[1, 1, 0, 0], title="Tuần 2")
        self.an = contestant(session, "Hoàng Văn An", unit=leaf1, phone="0912000111")
        self.binh = contestant(session, "Đặng Thị Bình", unit=leaf2, phone="0912000222")
        self.cuong = contestant(session, "Lý Văn Cường", unit=leaf1, phone="0912000333")
        self.a_an = take(session, self.round, self.an, score=3, prediction=1, total=3)
        self.a_binh = take(session, self.round, self.binh, score=3, prediction=5, total=3)
        self.a_cuong = take(session, self.round, self.cuong, score=1, prediction=1, total=3)
        question = bank.questions[0]
        item = AttemptItem(
            attempt_id=self.a_an.id,
            position=0,
            question_id=question.id,
            version_id=question.current_version_id,
            option_order=[2, 0, 3, 1],
            chosen=[0],
        )
        session.add(item)
        session.add_all(
            [
                AnswerEvent(
                    attempt_id=self.a_an.id,
                    question_id=question.id,
                    chosen=[3],
                    at=self.a_an.started_at + timedelta(seconds=1, milliseconds=250),
                    ip="203.0.113.7",
                    user_agent="Mozilla/5.0 (Linux; Android 9)",
                ),
                AnswerEvent(
                    attempt_id=self.a_an.id,
                    question_id=question.id,
                    chosen=[0],
                    at=self.a_an.started_at + timedelta(seconds=2),
                    ip="198.51.100.9",
                    user_agent="Mozilla/5.0 (Linux; Android 9)",
                ),
            ]
        )
        session.add(
            Flag(
                kind="too_fast",
                round_id=self.round.id,
                attempt_id=self.a_an.id,
                user_id=self.an.id,
                evidence={"median_seconds": 0.8, "answers": 3},
                created_at=self.a_an.started_at,
            )
        )
        self.judge = make_judge(session, full_name="Phan Giám Khảo")
        self.organiser = make_organiser(session, full_name="Võ Tổ Chức")
        session.commit()


@pytest.fixture
def world(db_session: Session, clock: FrozenClock) -> World:
    return World(db_session)


@pytest.mark.parametrize(
    "path",
    [
        "/judge/",
        "/judge/rounds/{rid}",
        "/judge/rounds/{rid}/flags",
        "/judge/attempts/{aid}",
        "/judge/rounds/{rid}/export?format=csv",
    ],
)
def test_judge_pages_are_for_judges_and_organisers_only(
    client: FlaskClient, db_session: Session, world: World, path: str
) -> None:
    url = path.format(rid=world.round.id, aid=world.a_an.id)
    assert client.get(url).status_code == 302  # anonymous → login
    _login(client, world.an)
    assert client.get(url).status_code == 403
    _login(client, world.judge)
    assert client.get(url).status_code == 200
    _login(client, world.organiser)
    assert client.get(url).status_code == 200


@pytest.mark.parametrize(
    "path", ["/judge/audit", "/judge/units/members", "/judge/rounds/{rid}/prizes"]
)
def test_organiser_pages_refuse_judges(
    client: FlaskClient, db_session: Session, world: World, path: str
) -> None:
    url = path.format(rid=world.round.id)
    _login(client, world.judge)
    assert client.get(url).status_code == 403
    _login(client, world.organiser)
    assert client.get(url).status_code == 200


def test_standings_show_every_ranking_column_and_filter_by_unit_and_flag(
    client: FlaskClient, world: World
) -> None:
    _login(client, world.judge)
    page = _text(client.get(f"/judge/rounds/{world.round.id}"))
    for header in ("Hạng", "Giải", "Điểm", "Dự đoán", "Chênh lệch", "Thời gian làm bài"):
        assert header in page
    assert "Kết quả tạm thời" in page
    # Full unit path, local submission time, the flag on An's line.
    assert "Liên đoàn Lao động tỉnh Quảng Ngãi / Công đoàn huyện Đức Phổ / Công đoàn Công" in page
    assert "23/02/2026 10:06:00" in page  # An submitted at 03:06 UTC
    assert "too_fast" in page
    names = re.findall(r"<td>(Hoàng Văn An|Đặng Thị Bình|Lý Văn Cường)</td>", page)
    # Truth (full marks) = 2: An |1−2| = 1 beats Bình |5−2| = 3.
    assert names == ["Hoàng Văn An", "Đặng Thị Bình", "Lý Văn Cường"]

    by_unit = _text(client.get(f"/judge/rounds/{world.round.id}?unit={world.leaf2.id}"))
    assert "Đặng Thị Bình" in by_unit and "Hoàng Văn An</td>" not in by_unit
    by_parent = _text(client.get(f"/judge/rounds/{world.round.id}?unit={world.mid.id}"))
    assert "Đặng Thị Bình" in by_parent and "Hoàng Văn An</td>" in by_parent
    by_flag = _text(client.get(f"/judge/rounds/{world.round.id}?flag=too_fast"))
    assert "Hoàng Văn An</td>" in by_flag and "Đặng Thị Bình</td>" not in by_flag


def test_review_shows_the_flag_evidence_and_the_answer_timeline(
    client: FlaskClient, world: World
) -> None:
    _login(client, world.judge)
    page = _text(client.get(f"/judge/attempts/{world.a_an.id}"))
    assert "median_seconds" in page and "0.8" in page
    assert "Câu hỏi số 1 của ngân hàng" in page
    # Stored option 3 was shown as the 3rd letter (C), stored option 0 as B.
    assert "C. Phương án D" in page and "B. Phương án A" in page
    assert "203.0.113.7" in page and "198.51.100.9" in page
    # Server time, in Vietnam time, to the millisecond.
    assert "23/02/2026 10:01:01.250" in page and "23/02/2026 10:01:02.000" in page


def test_disqualifying_needs_a_reason_then_changes_the_standings_and_logs_it(
    client: FlaskClient, db_session: Session, world: World
) -> None:
    _login(client, world.judge)
    token = _csrf(client)
    url = f"/judge/attempts/{world.a_an.id}/disqualify"
    refused = client.post(url, data={"csrf_token": token, "reason": "   "}, follow_redirects=True)
    assert "Vui lòng ghi lý do" in _text(refused)
    db_session.refresh(world.a_an)
    assert not world.a_an.disqualified

    client.post(url, data={"csrf_token": token, "reason": "Nhờ người làm hộ"})
    db_session.refresh(world.a_an)
    assert world.a_an.disqualified and world.a_an.disqualified_reason == "Nhờ người làm hộ"
    page = _text(client.get(f"/judge/rounds/{world.round.id}"))
    names = re.findall(r"<td>(Hoàng Văn An|Đặng Thị Bình|Lý Văn Cường)</td>", page)
    assert names == ["Đặng Thị Bình", "Lý Văn Cường"]
    assert "Nhờ người làm hộ" in page  # listed under "Đã loại"
    entry = db_session.scalars(select(AuditEntry)).one()
    assert (entry.action, entry.actor_id, entry.actor_label) == (
        audit.DISQUALIFY_ATTEMPT,
        world.judge.id,
        "Phan Giám Khảo",
    )

    client.post(
        f"/judge/rounds/{world.round.id}/contestants/{world.binh.id}/disqualify",
        data={"csrf_token": token, "reason": "Trùng CCCD"},
    )
    db_session.refresh(world.a_binh)
    assert world.a_binh.disqualified


def test_finalise_button_locks_the_round_and_downloads_carry_the_hash(
    client: FlaskClient, db_session: Session, world: World
) -> None:
    _login(client, world.judge)
    token = _csrf(client)
    client.post(f"/judge/rounds/{world.round.id}/finalise", data={"csrf_token": token})
    db_session.refresh(world.round)
    digest = world.round.result_hash
    assert world.round.finalized_at is not None and digest
    page = _text(client.get(f"/judge/rounds/{world.round.id}"))
    assert digest in page and "Kết quả tạm thời" not in page

    csv_file = client.get(f"/judge/rounds/{world.round.id}/export?format=csv&delimiter=;")
    assert csv_file.mimetype == "text/csv"
    assert "attachment" in csv_file.headers["Content-Disposition"]
    body = csv_file.get_data()
    assert body.startswith(b"\xef\xbb\xbf") and body.decode().endswith(f"SHA-256;{digest}\r\n")
    assert b"09xx xxx 111" in body and b"0912000111" not in body

    xlsx = client.get(f"/judge/rounds/{world.round.id}/export?format=xlsx&winners=1")
    assert xlsx.status_code == 200 and xlsx.get_data()[:2] == b"PK"
    pdf = client.get(f"/judge/rounds/{world.round.id}/export?format=pdf")
    assert pdf.status_code == 200 and pdf.get_data()[:4] == b"%PDF"

    # Locked: a decision now is refused with a message, nothing changes.
    refused = client.post(
        f"/judge/attempts/{world.a_cuong.id}/disqualify",
        data={"csrf_token": token, "reason": "muộn"},
        follow_redirects=True,
    )
    assert "đã được chốt" in _text(refused)
    db_session.refresh(world.a_cuong)
    assert not world.a_cuong.disqualified

    # Judges cannot reopen; organisers can, with a reason.
    assert (
        client.post(
            f"/judge/rounds/{world.round.id}/reopen", data={"csrf_token": token, "reason": "x"}
        ).status_code
        == 403
    )
    _login(client, world.organiser)
    client.post(
        f"/judge/rounds/{world.round.id}/reopen",
        data={"csrf_token": _csrf(client), "reason": "Sai số giải"},
    )
    db_session.refresh(world.round)
    assert world.round.finalized_at is None


def test_finalise_button_on_an_open_round_says_why_it_cannot(
    client: FlaskClient, db_session: Session, world: World, clock: FrozenClock
) -> None:
    rnd = closed_round(db_session, closes_at=clock.now() + timedelta(days=1))
    db_session.commit()
    _login(client, world.judge)
    page = client.post(
        f"/judge/rounds/{rnd.id}/finalise",
        data={"csrf_token": _csrf(client)},
        follow_redirects=True,
    )
    assert "chưa kết thúc" in _text(page)
    db_session.refresh(rnd)
    assert rnd.finalized_at is None


def test_organisers_configure_prizes_and_member_counts_and_read_the_log(
    client: FlaskClient, db_session: Session, world: World
) -> None:
    _login(client, world.organiser)
    token = _csrf(client)
    form = {
        "csrf_token": token,
        "first": "1",
        "second": "2",
        "third": "3",
        "consolation": "5",
        "once_per_contest": "y",
        "unit_formula": "rate",
        "unit_first": "1",
        "unit_second": "0",
        "unit_third": "0",
        "unit_consolation": "2",
        "points_first": "10",
        "points_second": "8",
        "points_third": "6",
        "points_consolation": "4",
        "reason": "Theo thể lệ",
    }
    client.post(f"/judge/rounds/{world.round.id}/prizes", data=form)
    db_session.expire_all()
    rnd = db_session.get(Round, world.round.id)
    assert rnd is not None and rnd.prizes == [1, 2, 3, 5]
    settings = db_session.get(PrizeSettings, world.round.id)
    assert settings is not None and settings.once_per_contest
    assert (settings.unit_formula, settings.unit_prizes) == ("rate", [1, 0, 0, 2])

    bad = client.post(f"/judge/rounds/{world.round.id}/prizes", data={**form, "first": "-1"})
    assert bad.status_code == 400

    client.post(
        "/judge/units/members",
        data={"csrf_token": token, f"members-{world.leaf1.id}": "250", "q": "", "page": "1"},
    )
    db_session.refresh(world.leaf1)
    assert world.leaf1.members == 250

    log = _text(client.get("/judge/audit"))
    assert "Cấu hình giải thưởng" in log and "Cập nhật số đoàn viên" in log
    assert "Võ Tổ Chức" in log and "Theo thể lệ" in log


def test_a_contestant_cannot_post_a_decision(
    client: FlaskClient, db_session: Session, world: World
) -> None:
    other = make_contestant(db_session)
    db_session.commit()
    _login(client, other)
    token = re.search(r'name="csrf-token" content="([^"]+)"', _text(client.get("/")))
    assert token
    response = client.post(
        f"/judge/attempts/{world.a_an.id}/disqualify",
        data={"csrf_token": token.group(1), "reason": "ghét"},
    )
    assert response.status_code == 403
    assert db_session.get(Attempt, world.a_an.id).disqualified is False  # type: ignore[union-attr]


def test_judges_find_their_pages_from_the_home_page(
    client: FlaskClient, db_session: Session, world: World
) -> None:
    _login(client, world.judge)
    assert 'href="/judge/"' in _text(client.get("/"))
    _login(client, world.an)
    assert 'href="/judge/"' not in _text(client.get("/"))


def test_a_streamed_csv_export_gives_its_connection_back_once_sent(
    client: FlaskClient, db_session: Session, world: World
) -> None:
    _login(client, world.judge)
    db_session.commit()
    pool = database(client.application).engine.pool
    before = pool.checkedout()
    gc.disable()  # the collector must not be what gives the connection back
    try:
        body = client.get(f"/judge/rounds/{world.round.id}/export?format=csv").get_data()
        assert "Người" in body.decode() or body.startswith(b"\xef\xbb\xbf")
        # Still "in transaction" here would hold locks: the next TRUNCATE or migration waits.
        assert pool.checkedout() == before
    finally:
        gc.enable()

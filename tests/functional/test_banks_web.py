"""Organisers' bank pages through the test client: upload → preview → confirm, and questions."""

from __future__ import annotations

import io
import re
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from quizengine.banks.demo import SAMPLES_DIR
from quizengine.banks.services import import_bank
from quizengine.clock import FrozenClock
from quizengine.models import Bank, Question, QuestionVersion, User
from tests.factories import make_contestant, make_organiser
from tests.integration.test_banks_import import DATA, EN_HEADER, csv_bytes

SAFETY = SAMPLES_DIR / "an-toan-ve-sinh-lao-dong.xlsx"


def sign_in(client: FlaskClient, user: User) -> str:
    with client.session_transaction() as s:
        s["_user_id"] = str(user.id)
        s["_fresh"] = True
    html = client.get("/").get_data(as_text=True)
    match = re.search(r'<meta name="csrf-token" content="([^"]+)"', html)
    assert match
    return match.group(1)


@pytest.fixture(autouse=True)
def _no_uploads_left(app: Flask) -> None:
    """The instance folder lives for the whole run: start each test without uploads."""
    for path in stored_uploads(app):
        path.unlink()


@pytest.fixture
def organiser(db_session: Session) -> User:
    user = make_organiser(db_session)
    db_session.commit()
    return user


def upload(
    client: FlaskClient, token: str, data: bytes, name: str, slug: str = "atvsld", **extra: str
) -> str:
    response = client.post(
        "/organiser/banks/upload",
        data={"csrf_token": token, "slug": slug, "file": (io.BytesIO(data), name), **extra},
        content_type="multipart/form-data",
    )
    assert response.status_code == 302, response.get_data(as_text=True)
    location = response.headers["Location"]
    assert re.fullmatch(r"/organiser/banks/upload/[A-Za-z0-9_-]{32}", location)
    return location


def count(session: Session, model: type) -> int:
    session.expire_all()
    return int(session.scalar(select(func.count()).select_from(model)) or 0)


def stored_uploads(app: Flask) -> list[Path]:
    folder = Path(app.instance_path) / "bank_uploads"
    return sorted(folder.glob("*")) if folder.exists() else []


def test_upload_preview_confirm_imports_the_file_kept_on_the_server(
    app: Flask, client: FlaskClient, organiser: User, db_session: Session, clock: FrozenClock
) -> None:
    token = sign_in(client, organiser)
    preview_url = upload(
        client, token, SAFETY.read_bytes(), "ATVSLĐ.xlsx", title="An toàn, vệ sinh lao động"
    )

    html = client.get(preview_url).get_data(as_text=True)
    assert "Sẽ thêm 64 câu mới, cập nhật 0 câu, giữ nguyên 0 câu." in html
    assert "ngân hàng mới" in html and "ATVSLĐ.xlsx" in html
    assert "Hàng 4" in html  # XLSX rows, below the title and blank row
    assert html.count('<article class="card">') == 50
    # Previewing writes nothing; the upload waits on the server, not in the browser.
    assert count(db_session, Bank) == 0
    assert len(stored_uploads(app)) == 2

    confirm = re.search(r'action="([^"]+/confirm)"', html)
    assert confirm
    response = client.post(confirm.group(1), data={"csrf_token": token})
    assert response.status_code == 302
    assert response.headers["Location"] == "/organiser/banks/atvsld"
    page = client.get("/organiser/banks/atvsld").get_data(as_text=True)
    assert "Đã nhập tệp: 64 câu mới, 0 câu cập nhật, 0 câu giữ nguyên." in page
    assert "64 câu hỏi" in page
    assert count(db_session, Question) == 64
    bank = db_session.scalar(select(Bank))
    assert bank is not None and bank.title == "An toàn, vệ sinh lao động"
    assert stored_uploads(app) == []
    # The token is spent.
    assert client.post(confirm.group(1), data={"csrf_token": token}).status_code == 404


def test_confirm_without_the_csrf_token_is_refused(
    client: FlaskClient, organiser: User, db_session: Session
) -> None:
    token = sign_in(client, organiser)
    preview_url = upload(client, token, SAFETY.read_bytes(), "a.xlsx")
    response = client.post(preview_url + "/confirm", data={})
    assert response.status_code == 403
    assert count(db_session, Question) == 0


def test_a_broken_file_shows_every_error_in_vietnamese_and_cannot_be_confirmed(
    client: FlaskClient, organiser: User, db_session: Session
) -> None:
    token = sign_in(client, organiser)
    preview_url = upload(client, token, (DATA / "broken_rows.csv").read_bytes(), "loi.csv")

    html = client.get(preview_url).get_data(as_text=True)

    assert "Tệp có 10 lỗi nên chưa thể nhập" in html
    assert "/confirm" not in html
    items = re.findall(r"<li><b>([^<]+):</b> ([^<]+)</li>", html)
    assert [where for where, _text in items] == [
        *(f"Dòng {n}" for n in (3, 4, 5, 6, 7, 8, 9, 10, 11, 13)),
        "Dòng 1",  # the warning, listed apart
    ]
    texts = dict(items)
    assert texts["Dòng 3"] == "Thiếu nội dung câu hỏi."
    assert texts["Dòng 11"] == "Trùng câu hỏi với dòng 2."
    assert "không thuộc mẫu" in texts["Dòng 1"]

    report = client.get(preview_url + "/report.txt")
    assert report.status_code == 200
    lines = report.get_data(as_text=True).lstrip("\ufeff").splitlines()
    assert lines[0] == "loi.csv" and len(lines) == 12
    assert "Dòng 8: Đáp án đúng C chỉ vào phương án C đang để trống." in lines
    # Confirming anyway imports nothing.
    client.post(preview_url + "/confirm", data={"csrf_token": token})
    assert count(db_session, Question) == 0


def test_an_upload_is_only_visible_to_the_session_that_sent_it(
    app: Flask, client: FlaskClient, organiser: User, db_session: Session
) -> None:
    token = sign_in(client, organiser)
    preview_url = upload(client, token, SAFETY.read_bytes(), "a.xlsx")
    other = make_organiser(db_session)
    db_session.commit()
    intruder = app.test_client()
    intruder_token = sign_in(intruder, other)

    assert intruder.get(preview_url).status_code == 404
    assert (
        intruder.post(preview_url + "/confirm", data={"csrf_token": intruder_token}).status_code
        == 404
    )
    assert client.get("/organiser/banks/upload/..%2F..%2Fsecret_key").status_code == 404
    assert count(db_session, Question) == 0


def test_an_upload_left_unconfirmed_expires(
    app: Flask, client: FlaskClient, organiser: User, clock: FrozenClock
) -> None:
    token = sign_in(client, organiser)
    preview_url = upload(client, token, SAFETY.read_bytes(), "a.xlsx")
    clock.advance(seconds=3 * 3600)
    assert client.get(preview_url).status_code == 404
    assert stored_uploads(app) == []


def test_a_file_over_the_size_limit_is_refused_at_upload(
    app: Flask, client: FlaskClient, organiser: User, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(app.config["QUIZENGINE"], "max_upload_bytes", 1000)
    token = sign_in(client, organiser)
    response = client.post(
        "/organiser/banks/upload",
        data={"csrf_token": token, "slug": "x", "file": (io.BytesIO(b"x" * 5000), "big.csv")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 400
    assert "Tệp quá lớn" in response.get_data(as_text=True)
    assert stored_uploads(app) == []


def test_script_in_a_question_is_shown_as_text_everywhere(
    app: Flask, client: FlaskClient, organiser: User, db_session: Session, clock: FrozenClock
) -> None:
    evil = '<script>alert("x")</script> Câu hỏi có thẻ?'
    option = "<img src=x onerror=alert(1)>"
    data = csv_bytes([EN_HEADER, ["S1", evil, option, "b", "", "", "A"]]).encode()
    token = sign_in(client, organiser)
    preview_url = upload(client, token, data, "<svg onload=alert(1)>.csv", slug="xss")
    pages = [client.get(preview_url).get_data(as_text=True)]
    client.post(preview_url + "/confirm", data={"csrf_token": token})
    question = db_session.scalar(select(Question))
    assert question is not None
    pages.append(client.get("/organiser/banks/xss").get_data(as_text=True))
    pages.append(
        client.get(f"/organiser/banks/xss/questions/{question.id}/edit").get_data(as_text=True)
    )
    for html in pages:
        assert "<script>alert" not in html and "<img src=x" not in html
        assert "&lt;script&gt;alert(" in html
        assert "&lt;img src=x onerror=alert(1)&gt;" in html
    assert "&lt;svg onload=alert(1)&gt;.csv" in pages[0] and "<svg" not in pages[0]
    version = db_session.get(QuestionVersion, question.current_version_id)
    assert version is not None and version.text == evil


@pytest.fixture
def traffic(db_session: Session, clock: FrozenClock, app: Flask) -> Bank:
    with app.app_context():
        report = import_bank(
            db_session,
            SAMPLES_DIR / "luat-giao-thong.csv",
            slug="gt",
            title="Giao thông",
            clock=clock,
        )
    db_session.commit()
    bank = db_session.get(Bank, report.bank_id)
    assert bank is not None
    return bank


def shown_count(html: str) -> int:
    match = re.search(r'<p id="count">(\d+) câu hỏi</p>', html)
    assert match, html
    return int(match.group(1))


def test_search_ignores_diacritics_and_filters_by_topic_and_difficulty(
    client: FlaskClient, organiser: User, traffic: Bank, db_session: Session
) -> None:
    sign_in(client, organiser)
    base = "/organiser/banks/gt"
    everything = client.get(base).get_data(as_text=True)
    assert shown_count(everything) == 63
    assert everything.count('class="card') >= 50  # paginated at 50
    assert "Trang 1 / 2" in everything

    typed = shown_count(client.get(base, query_string={"q": "nồng độ cồn"}).get_data(as_text=True))
    bare = shown_count(client.get(base, query_string={"q": "NONG DO CON"}).get_data(as_text=True))
    assert typed == bare > 0

    topic = "Mũ bảo hiểm"
    in_topic = db_session.scalar(
        select(func.count(Question.id)).where(
            Question.topic == topic, Question.bank_id == traffic.id
        )
    )
    html = client.get(base, query_string={"topic": topic}).get_data(as_text=True)
    assert shown_count(html) == in_topic
    hard = db_session.scalar(select(func.count(Question.id)).where(Question.difficulty == "hard"))
    assert (
        shown_count(client.get(base, query_string={"difficulty": "hard"}).get_data(as_text=True))
        == hard
    )
    assert shown_count(client.get(base, query_string={"q": "GT-007"}).get_data(as_text=True)) == 1
    assert shown_count(client.get(base, query_string={"q": "100%_"}).get_data(as_text=True)) == 0


def test_add_edit_and_disable_a_question_by_hand(
    client: FlaskClient, organiser: User, traffic: Bank, db_session: Session
) -> None:
    token = sign_in(client, organiser)
    form = {
        "csrf_token": token,
        "text": "Người đi bộ phải đi ở đâu?",
        "option_a": "Trên hè phố, lề đường",
        "option_b": "Giữa lòng đường",
        "option_c": "",
        "correct": ["A"],
        "code": "GT-100",
        "topic": "Quy tắc giao thông",
        "difficulty": "easy",
        "explanation": "Người đi bộ đi trên hè phố, lề đường.",
        "legal_basis": "",
    }
    response = client.post("/organiser/banks/gt/questions/new", data=form)
    assert response.status_code == 302
    question = db_session.scalar(select(Question).where(Question.code == "GT-100"))
    assert question is not None

    bad = client.post("/organiser/banks/gt/questions/new", data={**form, "correct": ["C"]})
    assert bad.status_code == 400
    assert "Đáp án đúng phải là một phương án đã điền." in bad.get_data(as_text=True)

    edit_url = f"/organiser/banks/gt/questions/{question.id}/edit"
    assert "Trên hè phố, lề đường" in client.get(edit_url).get_data(as_text=True)
    response = client.post(edit_url, data={**form, "option_c": "Bên phải", "correct": ["A", "C"]})
    assert response.status_code == 302
    db_session.expire_all()
    version = db_session.get(QuestionVersion, question.current_version_id)
    assert version is not None and version.correct == [0, 2] and version.number == 1

    response = client.post(
        f"/organiser/banks/gt/questions/{question.id}/disable",
        data={"csrf_token": token, "next": "//evil.example/"},
    )
    assert response.headers["Location"] == "/organiser/banks/gt"
    db_session.expire_all()
    assert db_session.get(Question, question.id).active is False  # type: ignore[union-attr]
    html = client.get("/organiser/banks", follow_redirects=True).get_data(as_text=True)
    assert "63" in html and "64" in html  # active and total


def test_a_new_bank_can_be_created_empty(
    client: FlaskClient, organiser: User, db_session: Session
) -> None:
    token = sign_in(client, organiser)
    response = client.post(
        "/organiser/banks/new",
        data={"csrf_token": token, "slug": "luat-cong-doan", "title": "Luật Công đoàn"},
    )
    assert response.headers["Location"] == "/organiser/banks/luat-cong-doan"
    bad = client.post(
        "/organiser/banks/new", data={"csrf_token": token, "slug": "Luật Công Đoàn", "title": "X"}
    )
    assert bad.status_code == 400 and "chữ thường không dấu" in bad.get_data(as_text=True)
    # A slug that would hide one of the bank pages.
    shadow = client.post(
        "/organiser/banks/new", data={"csrf_token": token, "slug": "upload", "title": "X"}
    )
    assert shadow.status_code == 400
    assert count(db_session, Bank) == 1


def test_exports_download_as_csv_and_xlsx(
    client: FlaskClient, organiser: User, traffic: Bank
) -> None:
    sign_in(client, organiser)
    csv_response = client.get("/organiser/banks/gt/export.csv")
    assert csv_response.status_code == 200
    assert csv_response.data.startswith(b"\xef\xbb\xbfcode,question,")
    assert "filename=gt.csv" in csv_response.headers["Content-Disposition"]
    xlsx_response = client.get("/organiser/banks/gt/export.xlsx")
    assert xlsx_response.status_code == 200 and xlsx_response.data.startswith(b"PK")
    assert client.get("/organiser/banks/gt/export.pdf").status_code == 404


def test_contestants_get_403_and_anonymous_visitors_the_login_page(
    app: Flask, client: FlaskClient, db_session: Session
) -> None:
    contestant = make_contestant(db_session)
    db_session.commit()
    anonymous = app.test_client().get("/organiser/banks/")
    assert anonymous.status_code == 302 and "/login" in anonymous.headers["Location"]
    sign_in(client, contestant)
    assert client.get("/organiser/banks/").status_code == 403
    assert client.get("/organiser/banks/upload").status_code == 403

"""Taking an attempt on a 360×740 phone: register, start, answer, lose the network, get it
back, submit with a prediction, see the score and rank; and a timer that runs out."""

from __future__ import annotations

import re
import time
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from quizengine.attempts.draw import LetterMap
from quizengine.models import Attempt, AttemptItem, User
from tests.browser.conftest import PHONE, LiveServer, assert_fits_phone, screenshot
from tests.factories import make_bank, make_contest, make_round, make_unit

pytestmark = pytest.mark.browser
PASSWORD = "mat-khau-cua-lan"
QUESTIONS = 5


def _units(db: Session) -> None:
    root = make_unit(db, code="LDLD-QN", name="Liên đoàn Lao động tỉnh Quảng Ngãi")
    kcn = make_unit(db, code="CD-KCN-QN", name="Công đoàn các Khu công nghiệp tỉnh", parent=root)
    make_unit(db, code="CS-MAY-QN", name="Công đoàn cơ sở Công ty May Tịnh Phong", parent=kcn)


def _open_round(db: Session, *, seconds: int = 20 * 60, prediction: str | None = None):  # type: ignore[no-untyped-def]
    now = datetime.now(UTC).replace(microsecond=0)
    contest = make_contest(
        db,
        title="Cuộc thi tìm hiểu Bộ luật Lao động 2026",
        boards=("Bảng A — cán bộ công đoàn", "Bảng B — đoàn viên, người lao động"),
    )
    bank = make_bank(db, questions=12, multi_every=4)
    rnd = make_round(
        db,
        contest=contest,
        bank=bank,
        draw=QUESTIONS,
        opens_at=now - timedelta(hours=1),
        closes_at=now + timedelta(days=6),
        prediction=prediction,
        review_policy="after_submit",
    )
    rnd.time_limit_seconds = seconds
    db.commit()
    return contest, rnd


def _register(page, base: str, phone: str, name: str) -> None:  # type: ignore[no-untyped-def]
    page.goto(base + "/register")
    page.fill("#phone", phone)
    page.fill("#full_name", name)
    page.fill("#password", PASSWORD)
    page.fill("#confirm", PASSWORD)
    page.locator("#unit").select_option("CS-MAY-QN")
    page.get_by_role("button", name="Đăng ký").click()
    page.wait_for_url(base + "/")


def _start_from_the_contest_page(page, base: str, contest_id: int) -> int:  # type: ignore[no-untyped-def]
    page.goto(f"{base}/contests/{contest_id}")
    page.locator("select[name=board]").select_option("Bảng B — đoàn viên, người lao động")
    page.get_by_role("button", name="Bắt đầu làm bài").click()
    page.wait_for_url(re.compile(r".*/attempts/\d+/q/1$"))
    match = re.search(r"/attempts/(\d+)/", page.url)
    assert match
    return int(match.group(1))


def _choose(page, key: str) -> None:  # type: ignore[no-untyped-def]
    page.locator(f"#q-options input[value='{key}']").check()


def _stored(db: Session, attempt_id: int) -> dict[int, list[str]]:
    db.expire_all()
    items = db.scalars(select(AttemptItem).where(AttemptItem.attempt_id == attempt_id)).all()
    return {i.position: LetterMap(i.option_order).to_letters(i.chosen) for i in items}


def _wait_until(check, seconds: float = 30) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.25)
    assert check()


def test_answers_survive_going_offline_and_the_result_shows_score_and_rank(
    page, live_server: LiveServer, db_session: Session
) -> None:  # type: ignore[no-untyped-def]
    _units(db_session)
    contest, _ = _open_round(
        db_session, prediction="Dự đoán có bao nhiêu người trả lời đúng tất cả các câu hỏi?"
    )
    base = live_server.url
    _register(page, base, "0912 777 001", "Nguyễn Thị Lan")
    attempt_id = _start_from_the_contest_page(page, base, contest.id)

    assert re.fullmatch(r"Còn lại \d+:\d\d", page.locator("#timer").inner_text().strip())
    assert_fits_phone(page)
    box = page.locator("#q-options label").first.bounding_box()
    assert box is not None and box["height"] >= 44
    assert page.locator("#next").bounding_box()["height"] >= 44  # type: ignore[index]
    screenshot(page, "attempt-question")

    # Online: answer every question, each saved at once.
    chosen: dict[int, list[str]] = {}
    for n in range(1, QUESTIONS + 1):
        assert page.locator("#q-title").inner_text() == f"Câu {n}/{QUESTIONS}"
        multi = page.locator("#q-options input[type=checkbox]").count() > 0
        keys = ["A", "C"] if multi else ["B"]
        for key in keys:
            _choose(page, key)
        chosen[n] = keys
        page.wait_for_function(
            "document.getElementById('save-status').textContent.indexOf('Đã lưu') >= 0"
        )
        page.locator("#next").click()
    assert page.locator("#finish").is_visible()
    assert page.get_by_text(f"Bạn đã trả lời {QUESTIONS}/{QUESTIONS} câu.").is_visible()
    assert _stored(db_session, attempt_id) == chosen

    # Offline: change answers on two screens, moving between them without the network.
    page.context.set_offline(True)
    page.get_by_role("link", name="← Quay lại câu hỏi").click()
    page.locator("#qmap button").nth(1).click()
    assert page.locator("#q-title").inner_text() == f"Câu 2/{QUESTIONS}"
    new2 = _change(page, chosen[2])
    page.locator("#next").click()
    new3 = _change(page, chosen[3])
    status = page.locator("#save-status")
    assert "Chưa lưu" in status.inner_text()
    assert "pending" in (page.locator("#qmap button").nth(1).get_attribute("class") or "")
    screenshot(page, "attempt-offline-unsaved")
    time.sleep(1.5)  # the page keeps retrying; nothing reaches the server
    assert _stored(db_session, attempt_id) == chosen

    # Back online: the page sends what it kept.
    page.context.set_offline(False)
    chosen[2], chosen[3] = new2, new3
    _wait_until(lambda: _stored(db_session, attempt_id) == chosen)
    page.wait_for_function(
        "document.getElementById('save-status').textContent.indexOf('Đã lưu') >= 0"
    )

    # Submit with a prediction from the last screen.
    page.locator("button[value=finish]").click()
    assert page.locator("#prediction").is_visible()
    page.locator("#submit").click()
    assert "dự đoán" in page.locator("#finish-error").inner_text()
    page.fill("#prediction", "137")
    screenshot(page, "attempt-finish")
    page.locator("#submit").click()
    page.wait_for_url(f"{base}/attempts/{attempt_id}/result")

    attempt = db_session.get(Attempt, attempt_id)
    db_session.refresh(attempt)
    assert attempt is not None and attempt.status == "submitted" and attempt.prediction == 137
    assert page.locator("#score").inner_text().startswith(str(attempt.score))
    assert page.locator("#correct").inner_text() == f"{attempt.correct_count}/{QUESTIONS}"
    assert page.locator("#rank").inner_text() == "1"
    user = db_session.scalars(select(User).where(User.id == attempt.user_id)).one()
    assert user.full_name == "Nguyễn Thị Lan"
    assert_fits_phone(page)
    screenshot(page, "attempt-result")


def _change(page, old: list[str]) -> list[str]:  # type: ignore[no-untyped-def]
    """Another answer: a different option on a single-choice question, one fewer on a multi."""
    if page.locator("#q-options input[type=checkbox]").count():
        page.locator(f"#q-options input[value='{old[0]}']").uncheck()
        return old[1:]
    key = next(k for k in "ABCD" if k not in old)
    _choose(page, key)
    return [key]


def test_the_timer_runs_out_and_the_attempt_is_finalised(
    page, live_server: LiveServer, db_session: Session
) -> None:  # type: ignore[no-untyped-def]
    _units(db_session)
    contest, _ = _open_round(db_session, seconds=3)
    base = live_server.url
    _register(page, base, "0912 777 002", "Trần Văn Bình")
    attempt_id = _start_from_the_contest_page(page, base, contest.id)
    _choose(page, "A")
    page.wait_for_function(
        "document.getElementById('save-status').textContent.indexOf('Đã lưu') >= 0"
    )
    page.wait_for_function(
        "document.getElementById('announce').textContent.indexOf('Hết giờ') >= 0", timeout=10_000
    )
    assert page.locator("#left").inner_text() == "0:00"
    screenshot(page, "attempt-time-up")
    page.wait_for_url(f"{base}/attempts/{attempt_id}/result", timeout=20_000)
    assert page.get_by_text("Hết giờ: bài thi được nộp tự động").is_visible()
    attempt = db_session.get(Attempt, attempt_id)
    assert attempt is not None
    db_session.refresh(attempt)
    assert attempt.status == "expired"
    assert attempt.submitted_at == attempt.deadline_at
    assert attempt.duration_ms == 3000
    assert _stored(db_session, attempt_id)[1] == ["A"]
    screenshot(page, "attempt-expired-result")


def test_the_whole_attempt_works_without_javascript(
    browser, live_server: LiveServer, db_session: Session
) -> None:  # type: ignore[no-untyped-def]
    _units(db_session)
    contest, _ = _open_round(db_session, prediction="Dự đoán số người đúng hết?")
    context = browser.new_context(
        viewport=PHONE, locale="vi-VN", is_mobile=True, has_touch=True, java_script_enabled=False
    )
    page = context.new_page()
    page.set_default_timeout(10_000)
    try:
        base = live_server.url
        _register(page, base, "0912 777 003", "Lê Thị Hoa")
        attempt_id = _start_from_the_contest_page(page, base, contest.id)
        assert page.locator("#left").is_visible()  # the time left as the server saw it
        for n in range(1, QUESTIONS + 1):
            assert page.locator("#q-title").inner_text() == f"Câu {n}/{QUESTIONS}"
            if n != 2:  # leave one unanswered
                page.locator("#q-options label").first.click()
            page.locator("#next").click()
            page.wait_for_load_state()
        page.wait_for_url(f"{base}/attempts/{attempt_id}/finish")
        assert page.get_by_text(f"Bạn đã trả lời {QUESTIONS - 1}/{QUESTIONS} câu.").is_visible()
        assert_fits_phone(page)
        screenshot(page, "attempt-finish-nojs")
        # Back to the unanswered one by its link, answer it, come back.
        page.locator("#unanswered a").first.click()
        page.wait_for_url(f"{base}/attempts/{attempt_id}/q/2")
        page.locator("#q-options label").first.click()
        page.get_by_role("button", name="Xem lại và nộp bài").click()
        page.wait_for_url(f"{base}/attempts/{attempt_id}/finish")
        assert page.get_by_text(f"Bạn đã trả lời {QUESTIONS}/{QUESTIONS} câu.").is_visible()
        page.fill("#prediction", "25")
        page.locator("#submit").click()
        page.wait_for_url(f"{base}/attempts/{attempt_id}/result")
        assert page.locator("#rank").inner_text() == "1"
        screenshot(page, "attempt-result-nojs")
        stored = _stored(db_session, attempt_id)
        assert all(len(keys) == 1 for keys in stored.values()), stored
        attempt = db_session.get(Attempt, attempt_id)
        assert attempt is not None
        db_session.refresh(attempt)
        assert attempt.status == "submitted" and attempt.prediction == 25
    finally:
        context.close()

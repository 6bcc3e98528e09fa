"""The contest page and the organiser's round form on a 360 px phone: no sideways scrolling,
big tap targets, times in Vietnam time."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy.orm import Session

from quizengine.clock import to_local
from tests.browser.conftest import LiveServer, assert_fits_phone, screenshot
from tests.factories import (
    DEFAULT_PASSWORD,
    make_bank,
    make_contest,
    make_contestant,
    make_organiser,
    make_round,
)

pytestmark = pytest.mark.browser


def _login(page, server: LiveServer, phone: str) -> None:  # type: ignore[no-untyped-def]
    page.goto(server.url + "/login")
    page.fill("input[name=phone]", phone)
    page.fill("input[name=password]", DEFAULT_PASSWORD)
    page.click("form button.primary")
    page.wait_for_load_state()


def test_contestant_sees_rules_and_a_big_start_button_on_a_phone(
    page, live_server: LiveServer, db_session: Session
) -> None:  # type: ignore[no-untyped-def]
    now = datetime.now(UTC).replace(microsecond=0)
    contest = make_contest(
        db_session,
        title="Cuộc thi tìm hiểu pháp luật về an toàn giao thông năm 2026",
        access_code="CD2026",
        boards=("Bảng A — cán bộ công đoàn", "Bảng B — đoàn viên, người lao động"),
    )
    contest.rules = "1. Mỗi tuần 20 câu hỏi, 20 phút.\n2. Mỗi người thi tối đa 3 lượt."
    bank = make_bank(db_session, questions=20)
    rnd = make_round(
        db_session,
        contest=contest,
        bank=bank,
        draw=20,
        opens_at=now - timedelta(hours=1),
        attempts_allowed=3,
        prediction="Dự đoán có bao nhiêu người trả lời đúng tất cả?",
    )
    make_round(
        db_session, contest=contest, bank=bank, title="Tuần 2", opens_at=now + timedelta(days=7)
    )
    user = make_contestant(db_session)
    db_session.commit()

    _login(page, live_server, user.phone)
    page.goto(f"{live_server.url}/contests/{contest.id}")
    assert_fits_phone(page)
    assert page.get_by_text("Mỗi người thi tối đa 3 lượt").is_visible()
    assert page.get_by_text(to_local(rnd.opens_at).strftime("%d/%m/%Y %H:%M")).first.is_visible()
    start = page.get_by_role("button", name="Bắt đầu làm bài")
    box = start.bounding_box()
    assert box is not None and box["height"] >= 44 and box["width"] >= 200
    select = page.locator("select[name=board]")
    assert select.bounding_box()["height"] >= 44  # type: ignore[index]
    select.select_option("Bảng B — đoàn viên, người lao động")
    page.fill("input[name=access_code]", "CD2026")
    screenshot(page, "contest-page-contestant")


def test_organiser_round_form_fits_a_phone(
    page, live_server: LiveServer, db_session: Session
) -> None:  # type: ignore[no-untyped-def]
    contest = make_contest(db_session)
    make_bank(db_session, slug="luat-giao-thong", questions=10)
    organiser = make_organiser(db_session)
    db_session.commit()
    _login(page, live_server, organiser.phone)
    page.goto(f"{live_server.url}/organiser/contests/{contest.id}/rounds/new")
    assert_fits_phone(page)
    screenshot(page, "round-form-organiser")
    page.select_option("select[name='draws-0-bank']", "luat-giao-thong")
    page.fill("input[name='draws-0-count']", "5")
    page.fill("input[name=opens_at]", "2026-03-02T10:00")
    page.fill("input[name=closes_at]", "2026-03-09T09:00")
    page.fill("input[name=minutes]", "0.5")
    page.get_by_role("button", name="Lưu tuần thi").click()
    page.wait_for_load_state()
    assert "/organiser/rounds/" in page.url
    assert page.get_by_text("02/03/2026 10:00").first.is_visible()
    assert_fits_phone(page)
    screenshot(page, "round-overview-organiser")

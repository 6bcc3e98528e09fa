"""A judge on a 360 px phone: standings, an attempt's timeline, a disqualification with a
reason, finalising — the page never scrolls sideways (wide tables scroll inside)."""

from __future__ import annotations

import pytest
from sqlalchemy.orm import Session

from quizengine.models import Round
from tests.browser.conftest import LiveServer, assert_fits_phone, screenshot
from tests.factories import DEFAULT_PASSWORD, make_judge
from tests.judging_builders import closed_round, contestant, take, union_tree

pytestmark = pytest.mark.browser


def test_a_judge_reviews_disqualifies_and_finalises_on_a_phone(
    page, live_server: LiveServer, db_session: Session
) -> None:  # type: ignore[no-untyped-def]
    _, _, leaf1, leaf2 = union_tree(db_session)
    rnd = closed_round(db_session, prizes=[1, 1, 1, 0], title="Tuần 5")
    take(
        db_session,
        rnd,
        contestant(db_session, "Nguyễn Thị Ánh Tuyết", unit=leaf1),
        score=10,
        prediction=1,
    )
    cheat = take(
        db_session,
        rnd,
        contestant(db_session, "Trần Văn Gian", unit=leaf2),
        score=10,
        prediction=1,
        duration_s=12,
    )
    take(db_session, rnd, contestant(db_session, "Lê Thị Hồng", unit=leaf2), score=8, prediction=3)
    judge = make_judge(db_session, phone="0909000001", full_name="Đinh Giám Khảo")
    db_session.commit()

    page.goto(live_server.url + "/login")
    page.fill("input[name=phone]", judge.phone)
    page.fill("input[name=password]", DEFAULT_PASSWORD)
    page.locator("form button[type=submit], form button").last.click()
    page.wait_for_load_state()

    page.goto(f"{live_server.url}/judge/rounds/{rnd.id}")
    assert page.get_by_text("Kết quả tạm thời").first.is_visible()
    assert_fits_phone(page)
    screenshot(page, "judging-standings-provisional")

    page.goto(f"{live_server.url}/judge/attempts/{cheat.id}")
    assert_fits_phone(page)
    form = page.locator("form", has=page.get_by_role("button", name="Loại lượt thi"))
    form.locator("textarea[name=reason]").fill("Thời gian làm bài bất thường, đã xác minh")
    form.get_by_role("button", name="Loại lượt thi").click()
    page.wait_for_load_state()
    assert page.get_by_text("Đã loại lượt thi").first.is_visible()
    screenshot(page, "judging-review-disqualified")

    page.goto(f"{live_server.url}/judge/rounds/{rnd.id}")
    page.get_by_role("button", name="Chốt kết quả").click()
    page.wait_for_load_state()
    db_session.expire_all()
    finalised = db_session.get(Round, rnd.id)
    assert finalised is not None and finalised.result_hash
    assert page.get_by_text(finalised.result_hash).first.is_visible()
    assert page.get_by_text("Trần Văn Gian").first.is_visible()  # under "Đã loại"
    assert_fits_phone(page)
    screenshot(page, "judging-standings-final")

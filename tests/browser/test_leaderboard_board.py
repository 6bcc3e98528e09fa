"""The live board on a 360×740 phone: top 20, my own line highlighted below it, refreshed."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy.orm import Session

from quizengine.leaderboard import services
from quizengine.store import Store
from tests.browser.conftest import LiveServer, assert_fits_phone, screenshot
from tests.conftest import TEST_REDIS_URL
from tests.factories import DEFAULT_PASSWORD, make_contestant, make_round, make_unit
from tests.leaderboard_builders import make_attempt


def test_board_on_a_phone_highlights_my_line_and_refreshes_itself(
    page, live_server: LiveServer, db_session: Session, store: Store
) -> None:  # type: ignore[no-untyped-def]
    now = datetime.now(UTC)  # the server runs on the real clock
    rnd = make_round(
        db_session,
        title="Tuần 3",
        opens_at=now - timedelta(days=1),
        closes_at=now + timedelta(days=6),
    )
    units = [
        make_unit(db_session, name="Công đoàn Công ty TNHH May Việt Tiến", short_name="CĐ May VT"),
        make_unit(db_session, name="Công đoàn Trường THCS Lê Lợi", short_name="CĐ THCS Lê Lợi"),
    ]
    names = ["Nguyễn Thị Hồng Nhung", "Trần Văn Đức", "Lê Thị Ánh Tuyết", "Phạm Quốc Khánh"]
    people = []
    for i in range(24):
        user = make_contestant(db_session, full_name=f"{names[i % 4]} {i + 1}", unit=units[i % 2])
        make_attempt(
            db_session,
            rnd,
            user,
            started_at=now - timedelta(hours=2),
            score=20 - i // 3,
            total=20,
            duration_ms=300_000 + i * 7_301,
        )
        people.append(user)
    me = make_contestant(db_session, phone="0977000123", full_name="Đặng Thị Mai", unit=units[1])
    mine = make_attempt(
        db_session, rnd, me, started_at=now - timedelta(hours=1), score=12, total=20
    )
    db_session.commit()

    base = live_server.url
    page.clock.install()
    page.goto(base + "/login")
    page.fill("#phone", "0977000123")
    page.fill("#password", DEFAULT_PASSWORD)
    page.get_by_role("button", name="Đăng nhập").click()
    page.wait_for_url(base + "/")
    page.goto(f"{base}/rounds/{rnd.id}/leaderboard")

    rows = page.locator("#lb tbody tr")
    assert rows.count() == 22  # top 20, the gap, my line
    my_row = page.locator("#lb tr.me")
    assert my_row.count() == 1
    assert my_row.locator("td").first.inner_text() == "25"
    assert "Đặng Thị Mai" in my_row.inner_text()
    assert "CĐ THCS Lê Lợi" in my_row.inner_text()
    assert my_row.evaluate("r => getComputedStyle(r).backgroundColor") == "rgb(255, 246, 214)"
    assert "0977000123" not in page.content()
    assert_fits_phone(page)
    my_row.scroll_into_view_if_needed()
    screenshot(page, "leaderboard-board-360")

    if TEST_REDIS_URL:  # the server and this test share the keys only through Redis
        better = make_attempt(
            db_session,
            rnd,
            me,
            started_at=now - timedelta(minutes=30),
            score=20,
            total=20,
            duration_ms=100_000,
        )
        db_session.commit()
        services.record_result(db_session, store, better)
        page.clock.fast_forward(11_000)  # the page polls every 10 s
        page.wait_for_function(
            "document.querySelector('#lb tr.me td').textContent === '1'", timeout=10_000
        )
        assert page.locator("#lb tbody tr").count() == 20
        assert page.locator("#lb tr.me").count() == 1
        assert "Cập nhật lúc" in page.locator("#lb-status").inner_text()
        page.evaluate("window.scrollTo(0, 0)")
        screenshot(page, "leaderboard-board-360-refreshed")
    assert mine.id

"""An organiser on a phone: the unit tree, a unit's link and QR code, a password reset."""

from __future__ import annotations

from flask import Flask
from sqlalchemy.orm import Session

from quizengine.accounts.demo import seed
from quizengine.clock import SystemClock
from tests.browser.conftest import LiveServer, assert_fits_phone, screenshot


def test_organiser_edits_units_and_resets_a_password_on_a_phone(
    page, live_server: LiveServer, app: Flask, db_session: Session
) -> None:  # type: ignore[no-untyped-def]
    logins = seed(db_session, SystemClock())
    db_session.commit()
    _, phone, password, _ = next(login for login in logins if login[0] == "organiser")
    base = live_server.url

    page.goto(base + "/login?next=/organiser/units")
    page.fill("#phone", phone)
    page.fill("#password", password)
    page.get_by_role("button", name="Đăng nhập").click()
    page.wait_for_url(base + "/organiser/units")
    assert_fits_phone(page)
    screenshot(page, "accounts-units")

    # Add a grassroots union under the industrial-zone union.
    page.fill("#code", "CDCS-KCN-04")
    page.fill("#name", "Công đoàn cơ sở Công ty TNHH Bao bì Dung Quất")
    page.select_option("#parent", label="\u00a0\u00a0Công đoàn các Khu công nghiệp tỉnh")
    page.get_by_role("button", name="Thêm đơn vị").click()
    page.wait_for_url(base + "/organiser/units#unit-*")
    assert page.get_by_text("Đã thêm đơn vị").is_visible()

    page.get_by_role("link", name="Công đoàn cơ sở Công ty TNHH Bao bì Dung Quất").click()
    assert page.get_by_text("/register?unit=CDCS-KCN-04").is_visible()
    qr_loaded = page.locator("img[alt^='Mã QR']").evaluate("img => img.naturalWidth > 0")
    assert qr_loaded
    screenshot(page, "accounts-unit")

    page.goto(base + "/organiser/users?q=nguyen van an")
    page.get_by_role("link", name="Nguyễn Văn An").click()
    screenshot(page, "accounts-user")
    page.get_by_role("button", name="Tạo mật khẩu tạm thời").click()
    temporary = page.locator("#temporary-password").inner_text().strip()
    assert len(temporary) == 10
    assert_fits_phone(page)
    screenshot(page, "accounts-temporary-password")

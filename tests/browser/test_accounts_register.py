"""Register and sign in on a 360×740 phone, with JavaScript and without it."""

from __future__ import annotations

import pytest
from flask import Flask
from sqlalchemy.orm import Session

from tests.browser.conftest import PHONE, LiveServer, assert_fits_phone, screenshot
from tests.factories import make_unit

PASSWORD = "mat-khau-dien-thoai"


@pytest.fixture
def units(app: Flask, db_session: Session) -> None:
    root = make_unit(db_session, code="LDLD", name="Liên đoàn Lao động tỉnh Quảng Ngãi")
    kcn = make_unit(
        db_session, code="CD-KCN", name="Công đoàn các Khu công nghiệp tỉnh", parent=root
    )
    edu = make_unit(db_session, code="CDN-GD", name="Công đoàn ngành Giáo dục tỉnh", parent=root)
    for code, name, parent in (
        ("CS-MAY", "Công đoàn cơ sở Công ty TNHH May xuất khẩu Tịnh Phong", kcn),
        ("CS-GO", "Công đoàn cơ sở Công ty CP Gỗ Việt Trung", kcn),
        ("CS-DT", "Công đoàn cơ sở Công ty TNHH Điện tử Sao Mai", kcn),
        ("CS-THPT", "Công đoàn Trường THPT Trần Quốc Tuấn", edu),
        ("CS-TH", "Công đoàn Trường Tiểu học Nghĩa Chánh", edu),
        ("CS-MN", "Công đoàn Trường Mầm non Hoa Hồng", edu),
    ):
        make_unit(db_session, code=code, name=name, parent=parent)
    db_session.commit()


def fill_form(page, phone: str, name: str) -> None:  # type: ignore[no-untyped-def]
    page.fill("#phone", phone)
    page.fill("#full_name", name)
    page.fill("#password", PASSWORD)
    page.fill("#confirm", PASSWORD)


def sign_in_again(page, base: str, phone: str, name: str) -> None:  # type: ignore[no-untyped-def]
    page.get_by_role("button", name="Đăng xuất").click()
    page.wait_for_url(base + "/")
    page.goto(base + "/login")
    page.fill("#phone", phone)
    page.fill("#password", PASSWORD)
    page.get_by_role("button", name="Đăng nhập").click()
    page.wait_for_url(base + "/")
    page.goto(base + "/account")
    assert page.get_by_role("heading", name=name).is_visible()


def test_register_and_sign_in_with_the_unit_search(
    page, live_server: LiveServer, units: None
) -> None:  # type: ignore[no-untyped-def]
    base = live_server.url
    page.goto(base + "/register")
    assert_fits_phone(page)
    search = page.locator("#unit-filter")
    assert search.is_visible()
    screenshot(page, "accounts-register")

    # Diacritics are optional when searching: "tinh phong" finds "Tịnh Phong".
    search.fill("may tinh phong")
    assert page.locator("#unit option:not([value=''])").count() == 1
    assert page.locator("#unit").input_value() == "CS-MAY"
    assert "Tìm thấy 1 đơn vị" in page.locator("#unit-count").inner_text()
    # A group name narrows to its units.
    search.fill("giáo dục")
    assert page.locator("#unit option:not([value=''])").count() == 4  # 3 + the kept choice
    search.fill("mam non")
    assert page.locator("#unit").input_value() == "CS-MN"
    search.fill("")
    assert page.locator("#unit option:not([value=''])").count() == 6

    search.fill("tinh phong")
    fill_form(page, "0912 345 678", "Nguyễn Thị Lan")
    screenshot(page, "accounts-register-filled")
    page.get_by_role("button", name="Đăng ký").click()
    page.wait_for_url(base + "/")
    assert page.get_by_text("Đăng ký thành công").is_visible()
    assert_fits_phone(page)
    screenshot(page, "accounts-registered")

    sign_in_again(page, base, "0912345678", "Nguyễn Thị Lan")
    assert page.get_by_text("Công đoàn cơ sở Công ty TNHH May xuất khẩu Tịnh Phong").is_visible()


def test_register_and_sign_in_without_javascript(
    browser, live_server: LiveServer, units: None
) -> None:  # type: ignore[no-untyped-def]
    context = browser.new_context(
        viewport=PHONE, locale="vi-VN", is_mobile=True, has_touch=True, java_script_enabled=False
    )
    page = context.new_page()
    page.set_default_timeout(10_000)
    try:
        base = live_server.url
        page.goto(base + "/register")
        assert page.locator("#unit-filter").is_hidden()
        select = page.locator("#unit")
        assert select.is_visible()
        # Grouped by upper-level union, grassroots units only.
        labels = page.locator("#unit optgroup").evaluate_all("gs => gs.map(g => g.label)")
        assert labels == ["Công đoàn các Khu công nghiệp tỉnh", "Công đoàn ngành Giáo dục tỉnh"]
        select.select_option("CS-THPT")
        fill_form(page, "+84 987 654 321", "Trần Văn Bình")
        # One mistake first: the message appears next to the field, values are kept.
        page.fill("#confirm", "khac-mat-khau")
        page.get_by_role("button", name="Đăng ký").click()
        assert page.locator("#confirm-error").is_visible()
        assert page.locator("#unit").input_value() == "CS-THPT"
        assert_fits_phone(page)
        screenshot(page, "accounts-register-nojs-error")
        page.fill("#password", PASSWORD)
        page.fill("#confirm", PASSWORD)
        page.get_by_role("button", name="Đăng ký").click()
        page.wait_for_url(base + "/")
        assert page.get_by_text("Đăng ký thành công").is_visible()
        screenshot(page, "accounts-registered-nojs")

        sign_in_again(page, base, "0987654321", "Trần Văn Bình")
    finally:
        context.close()


def test_a_units_link_preselects_it_without_javascript(
    browser, live_server: LiveServer, units: None
) -> None:  # type: ignore[no-untyped-def]
    context = browser.new_context(viewport=PHONE, java_script_enabled=False)
    page = context.new_page()
    try:
        page.goto(live_server.url + "/register?unit=CS-GO")
        assert page.locator("#unit").input_value() == "CS-GO"
        page.goto(live_server.url + "/login")
        assert_fits_phone(page)
        screenshot(page, "accounts-login")
    finally:
        context.close()

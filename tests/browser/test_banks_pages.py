"""An organiser imports a question bank on a phone: upload, preview, confirm, search, edit."""

from __future__ import annotations

from flask import Flask
from sqlalchemy.orm import Session

from quizengine.banks.demo import SAMPLES_DIR
from tests.browser.conftest import LiveServer, assert_fits_phone, screenshot
from tests.factories import DEFAULT_PASSWORD, make_organiser
from tests.integration.test_banks_import import DATA


def test_organiser_imports_a_bank_from_excel_on_a_phone(
    page, live_server: LiveServer, app: Flask, db_session: Session
) -> None:  # type: ignore[no-untyped-def]
    organiser = make_organiser(db_session)
    db_session.commit()
    base = live_server.url
    page.goto(base + "/login?next=/organiser/banks/upload")
    page.fill("#phone", organiser.phone)
    page.fill("#password", DEFAULT_PASSWORD)
    page.get_by_role("button", name="Đăng nhập").click()
    page.wait_for_url(base + "/organiser/banks/upload")

    # A broken file first: every error, in Vietnamese, and no way to confirm.
    page.set_input_files("#file", str(DATA / "broken_rows.csv"))
    page.fill("#slug", "an-toan-ve-sinh-lao-dong")
    page.get_by_role("button", name="Tải lên và xem trước").click()
    page.wait_for_url(base + "/organiser/banks/upload/*")
    assert page.get_by_text("Dòng 3:").is_visible()
    assert page.get_by_role("button", name="Xác nhận nhập", exact=False).count() == 0
    assert_fits_phone(page)
    screenshot(page, "banks-preview-errors")

    page.get_by_role("link", name="Tải lên tệp đã sửa").click()
    page.set_input_files("#file", str(SAMPLES_DIR / "an-toan-ve-sinh-lao-dong.xlsx"))
    page.fill("#title", "An toàn, vệ sinh lao động")
    page.get_by_role("button", name="Tải lên và xem trước").click()
    page.wait_for_url(base + "/organiser/banks/upload/*")
    assert page.get_by_text("Sẽ thêm 64 câu mới").is_visible()
    assert_fits_phone(page)
    screenshot(page, "banks-preview")

    page.get_by_role("button", name="Xác nhận nhập 64 câu hỏi").click()
    page.wait_for_url(base + "/organiser/banks/an-toan-ve-sinh-lao-dong")
    assert page.get_by_text("Đã nhập tệp: 64 câu mới").is_visible()
    assert_fits_phone(page)
    screenshot(page, "banks-questions")

    page.fill("#q", "huan luyen")
    page.get_by_role("button", name="Lọc").click()
    assert page.locator("#count").inner_text() != "0 câu hỏi"
    page.get_by_role("link", name="Sửa").first.click()
    assert_fits_phone(page)
    screenshot(page, "banks-edit")

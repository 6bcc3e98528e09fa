"""The home page on a 360 px phone: Vietnamese first, English on tap, no sideways scrolling."""

from __future__ import annotations

from tests.browser.conftest import LiveServer, assert_fits_phone, screenshot


def test_home_page_on_a_phone_switches_language_without_horizontal_scroll(
    page, live_server: LiveServer
) -> None:  # type: ignore[no-untyped-def]
    page.goto(live_server.url + "/")
    assert page.locator("html").get_attribute("lang") == "vi"
    assert page.get_by_text("Cuộc thi trực tuyến").first.is_visible()
    assert_fits_phone(page)
    screenshot(page, "home-vi")

    page.get_by_role("link", name="English").click()
    page.wait_for_load_state()
    assert page.locator("html").get_attribute("lang") == "en"
    assert_fits_phone(page)
    screenshot(page, "home-en")

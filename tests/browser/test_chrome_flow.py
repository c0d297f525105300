"""关怀模式 on, and the help entry, on a phone in WeChat (issue 15 items 6 and 11).

Care mode follows MIIT's 适老化 guidance (main text ≥ 18 pt; here ≥ 20 px) and sticks in a cookie (never in
localStorage, which the conftest forbids); the help entry on every page opens the customer's lines as tel: buttons.
"""
from __future__ import annotations

import pytest
from playwright.sync_api import expect

from webapp.services.demo.demo import ADULT

from .conftest import DEVICES, fits_width, settle, shot, sign_in, visit

FONT_SIZE = "() => parseFloat(getComputedStyle(document.body).fontSize)"
TAP_HEIGHT = "(selector) => document.querySelector(selector).getBoundingClientRect().height"


@pytest.mark.phones(*DEVICES)
def test_care_mode_on_from_the_menu_sticks_and_fits(page, live_server):
    sign_in(page, live_server, ADULT)
    body = page.locator("body")
    expect(body).not_to_have_class("care")
    assert page.evaluate(FONT_SIZE) < 20

    # The help entry, from the home: 张伟's lines as one-tap buttons.
    page.get_by_test_id("help-link").click()
    settle(page)
    expect(page.get_by_test_id("help-page")).to_be_visible()
    calls = page.get_by_test_id("help-call")
    expect(calls.first).to_have_attribute("href", "tel:4006096868")  # 000's hotline (P000-DEMO-0001)
    expect(page.locator('[data-product="zhongan_vip"] a.button.tel').first).to_have_attribute("href", "tel:952299")
    visit(page, "/home", "home-before-care")

    page.get_by_test_id("menu").locator("summary").click()
    with page.expect_navigation():
        page.get_by_test_id("care-toggle").click()
    settle(page)
    assert page.url.endswith("/home")
    expect(body).to_have_class("care")
    assert page.evaluate(FONT_SIZE) >= 20
    assert page.evaluate(TAP_HEIGHT, ".tabs a") >= 48
    expect(page.get_by_test_id("flash")).to_be_visible()
    visit(page, "/home", "home-care")  # axe on the page in care mode

    visit(page, "/bookings", "bookings-care")
    expect(body).to_have_class("care")
    assert page.evaluate(FONT_SIZE) >= 20
    fits_width(page, "/home", "home-care")
    fits_width(page, "/help", "help-care")
    expect(page.get_by_test_id("help-call").first).to_be_visible()
    shot(page, "help-care-320")

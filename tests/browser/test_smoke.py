"""Smoke: the landing page and sign-in, as a phone in WeChat (each test runs on iPhone 13 and Pixel 7)."""
from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from webapp.services.demo.demo import ADULT

from .conftest import DEVICES, axe_check, settle, shot, sign_in, visit


def no_horizontal_scroll(page, width: int = 320) -> None:
    page.set_viewport_size({"width": width, "height": 640})
    settle(page)
    scroll_width = page.evaluate("() => document.documentElement.scrollWidth")
    assert scroll_width <= width, f"{page.url} scrolls sideways at {width} px: scrollWidth is {scroll_width}"


@pytest.mark.phones(*DEVICES)
def test_landing_page(page, live_server):
    response = visit(page, "/", "landing-zh")
    csp = response.headers.get("content-security-policy", "")
    assert "default-src 'self'" in csp and "unsafe-inline" not in csp
    expect(page.locator("html")).to_have_attribute("lang", "zh-CN")
    expect(page.locator("h1")).to_contain_text("绿")


@pytest.mark.phones(*DEVICES)
def test_language_switch_and_back(page, live_server):
    visit(page, "/", "landing-zh")
    switch = page.locator("button[name=locale]")
    expect(switch).to_have_attribute("value", "en")

    switch.click()
    expect(page.locator("button[name=locale]")).to_have_attribute("value", "zh_CN")
    settle(page)
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.locator("h1")).to_have_text(re.compile(r"[A-Za-z]"))
    axe_check(page)
    shot(page, "landing-en")
    no_horizontal_scroll(page)
    shot(page, "landing-en-320")

    page.locator("button[name=locale]").click()
    expect(page.locator("button[name=locale]")).to_have_attribute("value", "en")
    settle(page)
    expect(page.locator("html")).to_have_attribute("lang", "zh-CN")
    axe_check(page)


@pytest.mark.phones(*DEVICES)
def test_landing_fits_320px(page, live_server):
    visit(page, "/", "landing-zh")
    no_horizontal_scroll(page)
    axe_check(page)
    shot(page, "landing-zh-320")


@pytest.mark.phones(*DEVICES)
def test_sign_in_as_insured_adult(page, live_server):
    sign_in(page, live_server, ADULT)
    assert page.url.startswith(f"{live_server}/home")
    expect(page.locator("main")).to_contain_text("张伟")

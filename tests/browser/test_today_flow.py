"""张伟's home on a phone in WeChat (issue 15 items 1 and 2): what to do today first, then his services, in at most
three screens; and a retake straight from the strip.

The demo world here has its papers (services/demo/demo_papers.py): his second opinion has a page sent back. At the
demo's moment his car pickup is in 3 hours (inside its 4-hour cutoff) and his nursing aide starts in 15 hours,
free to change for 3 more (003 护工: 12 hours before).
"""
from __future__ import annotations

import pytest
from playwright.sync_api import expect

from webapp.services.papers.storage import LocalStorage

from .conftest import DEVICES, fits_width, settle, shot, sign_in, visit
from .test_papers_flow import _photos

ADULT = "13800000001"


@pytest.fixture()
def demo_world(session, clock, demo_moment, tmp_path):
    """The demo world with its papers' photos, stored where the live app reads them (live_app's UPLOAD_DIR)."""
    from webapp.services.demo import demo

    from ..conftest import build_demo

    build_demo(session, demo_moment, LocalStorage(tmp_path / "uploads"))
    clock.set(demo_moment)
    return demo


def item(page, kind: str, service: str | None = None):
    found = page.locator(f'[data-testid="today-item"][data-kind="{kind}"]')
    return found.filter(has_text=service) if service else found


@pytest.mark.phones(*DEVICES)
def test_the_home_says_what_to_do_today_in_three_screens(page, live_server):
    sign_in(page, live_server, ADULT)
    strip = page.get_by_test_id("today")
    expect(strip.get_by_role("heading")).to_have_text("今天需要您处理")
    kinds = [k.get_attribute("data-kind") for k in strip.get_by_test_id("today-item").all()]
    assert kinds == ["retake", "appointment", "appointment"]  # what he must do, then the car, then the aide

    retake = item(page, "retake")
    expect(retake).to_contain_text("国内二次诊疗意见")
    expect(retake).to_contain_text("有1页材料被退回")
    car, aide = item(page, "appointment").all()
    expect(car.get_by_test_id("today-when")).to_contain_text("今天")
    expect(car.get_by_test_id("today-when")).to_contain_text("3小时后")
    expect(car.get_by_test_id("today-call")).to_have_attribute("href", "tel:13900000031")
    expect(car.get_by_test_id("today-call")).to_contain_text("王建军")
    expect(car.get_by_test_id("today-free-until")).to_have_count(0)  # inside the cutoff: nothing free left
    expect(aide.get_by_test_id("today-call")).to_contain_text("李秀梅")
    expect(aide.get_by_test_id("today-free-until")).to_contain_text("3小时")

    # Services: one row each; the policy with the most uses first; ended or waiting policies folded.
    expect(page.get_by_test_id("other-policies")).not_to_have_attribute("open", "")
    height, screen = page.evaluate("() => [document.documentElement.scrollHeight, window.innerHeight]")
    assert height <= 3 * screen, f"the home is {height} px: more than 3 screens of {screen} px"
    fits_width(page, "/home", "home")


@pytest.mark.phones(*DEVICES)
def test_a_retake_from_the_strip(page, live_server, tmp_path):
    sign_in(page, live_server, ADULT)
    item(page, "retake").get_by_test_id("today-retake").click()
    page.wait_for_url("**/papers#doc-medical_records")
    settle(page)
    page.get_by_test_id("retake-input").set_input_files(_photos(tmp_path, ("retake.jpg", {"text_seed": 6})))
    expect(page.get_by_test_id("retake")).to_be_visible(timeout=30_000)
    page.get_by_test_id("send-papers").click()
    page.wait_for_url("**/papers")
    settle(page)
    visit(page, "/home", "home-after-retake")
    expect(item(page, "retake")).to_have_count(0)
    expect(item(page, "unsent")).to_have_count(0)
    shot(page, "strip-after-retake")

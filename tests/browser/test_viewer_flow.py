"""Deciding pages without leaving the viewer (issue 18 item 1), on a 1366×768 laptop and on a phone in WeChat:

the reviewer 陈静 (13800000009) opens 刘秀兰's expert visit (13900000655: every paper sent, none decided; here her
diagnosis runs to four pages), opens the first page and decides the four in the viewer — on the laptop with the
keys (A, U, R, ← →; letters typed in the note are the note), on the phone by tapping — each verdict opening the
next page waiting, the last one the application, saying so; there the four pages are one line each, with their
verdict.
"""
from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from webapp.models import Booking, DocumentPage
from webapp.services.demo import demo_papers
from webapp.services.demo.demo import REVIEWER

from ..test_staff_viewer import two_more_pages
from .conftest import axe_check, fits_width, settle, shot, sign_in, visit

# A laptop, not a phone made wider: a mouse and a keyboard, no touch (pytest-playwright's marker replaces the phone's
# context arguments for this test).
LAPTOP = {"viewport": {"width": 1366, "height": 768}, "screen": {"width": 1366, "height": 768}, "is_mobile": False,
          "has_touch": False, "device_scale_factor": 1,
          "user_agent": "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
                        "Chrome/122.0.0.0 Safari/537.36"}
VERDICTS = ["accepted", "unreadable", "rejected", "accepted"]
ALL_DECIDED = re.compile("已发来的每一页都已审核|Every page sent is decided")  # English until the zh catalogue is merged


def _liu_xiulan(live_app, session, clock) -> tuple[str, list[str]]:
    """Her papers on file (four diagnosis pages sent); her reference and the pages in checklist order."""
    from webapp.services.papers.storage import storage_from_config

    storage = storage_from_config(live_app.config)
    demo_papers.attach(session, storage, clock())
    booking = next(b for b in session.scalars(select(Booking)) if b.policy.insured.name == "刘秀兰")
    two_more_pages(session, storage, booking, clock())
    pages = [p for p in session.scalars(select(DocumentPage).order_by(DocumentPage.id)) if p.document.booking_id == booking.id]
    return booking.reference, [p.public_id for p in pages]


def _on_page(desk, reference: str, page_id: str) -> None:
    desk.wait_for_url(f"**/staff/bookings/{reference}/pages/{page_id}")
    settle(desk)
    expect(desk.get_by_test_id("viewer")).to_have_attribute("data-page", page_id)


def _collapsed_with_verdicts(desk, reference: str) -> None:
    desk.wait_for_url(f"**/staff/bookings/{reference}#papers")
    settle(desk)
    expect(desk.get_by_test_id("flash").last).to_contain_text(ALL_DECIDED)
    pages = desk.get_by_test_id("staff-page")
    expect(pages).to_have_count(4)
    assert [pages.nth(i).get_attribute("data-status") for i in range(4)] == VERDICTS
    expect(desk.get_by_test_id("page-verdict")).to_have_count(4)
    expect(desk.get_by_test_id("staff-papers").locator("img")).to_have_count(0)  # no thumbnail left open
    expect(desk.get_by_test_id("page-verdict").nth(2)).to_contain_text("右下角被挡住")
    axe_check(desk)


@pytest.mark.browser_context_args(**LAPTOP)
def test_a_reviewer_decides_four_pages_with_the_keys_on_a_laptop(page, live_app, live_server, session, clock):
    reference, pages = _liu_xiulan(live_app, session, clock)
    desk = page
    sign_in(desk, live_server, REVIEWER, next=f"/staff/bookings/{reference}")
    desk.get_by_test_id("open-viewer").first.click()
    _on_page(desk, reference, pages[0])
    axe_check(desk)
    expect(desk.get_by_test_id("viewer-keys")).to_be_visible()
    bar = desk.get_by_test_id("decision-bar").bounding_box()
    assert bar["y"] < 768 and bar["x"] > 683  # beside the page, in the first screen
    shot(desk, "viewer-laptop")

    desk.keyboard.press("a")
    _on_page(desk, reference, pages[1])
    desk.keyboard.press("ArrowLeft")  # back to look at the first again: its verdict stands
    _on_page(desk, reference, pages[0])
    expect(desk.get_by_test_id("viewer")).to_have_attribute("data-status", "accepted")
    desk.keyboard.press("ArrowRight")
    _on_page(desk, reference, pages[1])
    desk.keyboard.press("u")
    _on_page(desk, reference, pages[2])
    desk.keyboard.press("r")  # no reason chosen yet: the reason list takes the keys
    expect(desk.get_by_test_id("decide-reason")).to_be_focused()
    desk.get_by_test_id("decide-reason").select_option("incomplete")
    desk.get_by_test_id("decide-note").focus()
    desk.keyboard.type("右下角被挡住 a u")  # letters in the note are the note, not shortcuts
    expect(desk.get_by_test_id("viewer")).to_have_attribute("data-page", pages[2])
    shot(desk, "viewer-laptop-reason")
    desk.keyboard.press("Enter")  # with a reason chosen, Enter in the note means "not accepted"
    _on_page(desk, reference, pages[3])
    desk.keyboard.press("a")
    _collapsed_with_verdicts(desk, reference)
    shot(desk, "viewer-laptop-collapsed")


def test_a_reviewer_decides_four_pages_by_tapping_on_a_phone(page, live_app, live_server, session, clock):
    reference, pages = _liu_xiulan(live_app, session, clock)
    sign_in(page, live_server, REVIEWER, next=f"/staff/bookings/{reference}")
    page.get_by_test_id("open-viewer").first.click()
    _on_page(page, reference, pages[0])
    axe_check(page)
    expect(page.get_by_test_id("viewer-keys")).to_be_hidden()  # no keyboard on a phone
    shot(page, "viewer-phone")
    page.get_by_test_id("decide-accept").click()
    _on_page(page, reference, pages[1])
    page.get_by_test_id("decide-note").fill("反光，看不清")
    page.get_by_test_id("decide-unreadable").click()
    _on_page(page, reference, pages[2])
    page.get_by_test_id("decide-reject").click()  # no reason: refused, still on this page
    expect(page.get_by_test_id("flash-error")).to_be_visible()
    _on_page(page, reference, pages[2])
    page.get_by_test_id("decide-reason").select_option("incomplete")
    page.get_by_test_id("decide-note").fill("右下角被挡住")
    page.get_by_test_id("decide-reject").click()
    _on_page(page, reference, pages[3])
    fits_width(page, f"/staff/bookings/{reference}/pages/{pages[3]}", "viewer")
    page.get_by_test_id("decide-accept").click()
    _collapsed_with_verdicts(page, reference)
    shot(page, "viewer-phone-collapsed")
    visit(page, f"/staff/bookings/{reference}", "viewer-phone-application")

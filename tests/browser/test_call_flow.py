"""Call the customer (issue 18 item 3), on a 1366×768 laptop and a phone in WeChat:

the coordinator 刘洋 (13800000008) opens 张伟's second opinion (in review) on the laptop: the number is masked
(138****0001) until he shows it; it is then a tel: button, named as the insured's own; he notes the call "未接通"
and it is on the application's calls. On the phone he opens it again: masked again, and the tel: button fits a
320 px screen. Then 张伟 signs in on the phone and finds it under 家人代办 → 代办记录: the coordinator looked at his
number for this application, and phoned (未接通), without the note.
"""
from __future__ import annotations

from playwright.sync_api import expect
from sqlalchemy import select

from webapp.models import Booking, Policy, Service
from webapp.services.demo.demo import ADULT, COORDINATOR

from .conftest import axe_check, fits_width, settle, shot, sign_in, visit

LAPTOP = {"width": 1366, "height": 768}
NOTE = "下午三点再打"


def _reference(session) -> str:
    session.rollback()
    return session.scalar(select(Booking.reference).join(Policy).join(Service).where(
        Policy.number == "P003-DEMO-0002", Service.code == "second_opinion"))


def test_reveal_call_note_and_the_insured_sees_it(page, live_server, session):
    reference = _reference(session)
    url = f"/staff/bookings/{reference}"
    phone_size = page.viewport_size

    # The coordinator on the laptop: masked, shown on asking, a tel: button, the outcome noted.
    page.set_viewport_size(LAPTOP)
    sign_in(page, live_server, COORDINATOR, next=url)
    card = page.get_by_test_id("staff-call")
    expect(card.get_by_test_id("call-masked")).to_have_text("138****0001")
    assert ADULT not in page.content()
    card.get_by_test_id("reveal").click()
    settle(page)
    tel = page.get_by_test_id("call-tel")
    expect(tel).to_have_attribute("href", f"tel:{ADULT}")
    expect(page.get_by_test_id("call-numbers").locator("li")).to_have_attribute("data-role", "insured")
    expect(page.get_by_test_id("call-numbers")).to_contain_text("张伟")
    visit_checks(page, "call-revealed-laptop")
    page.get_by_test_id("call-note").fill(NOTE)
    page.get_by_test_id("outcome-no_answer").click()
    page.wait_for_url(f"**{url}#call")
    settle(page)
    steps = page.get_by_test_id("call-step")
    expect(steps).to_have_count(2)
    expect(steps.last).to_have_attribute("data-outcome", "no_answer")
    expect(steps.last).to_contain_text(NOTE)
    expect(page.get_by_test_id("call-masked")).to_have_text("138****0001")  # hidden again after the call
    shot(page, "call-noted-laptop")

    # The same on the phone: masked again, shown, a button a thumb can tap, nothing wider than the screen.
    page.set_viewport_size(phone_size)
    visit(page, url, "call-phone")
    page.get_by_test_id("reveal").click()
    settle(page)
    box = page.get_by_test_id("call-tel").bounding_box()
    assert box["height"] >= 44 and box["width"] <= phone_size["width"], box
    visit_checks(page, "call-revealed-phone")
    fits_width(page, url, "staff-call")

    # 张伟 on the phone: 家人代办 → 代办记录.
    page.context.clear_cookies()
    page.set_viewport_size(phone_size)
    sign_in(page, live_server, ADULT)
    page.get_by_test_id("nav-family").click()
    settle(page)
    page.get_by_test_id("access-log-link").click()
    settle(page)
    visit_checks(page, "call-access-log")
    entries = page.get_by_test_id("access-log-entry")
    called = entries.and_(page.locator('[data-action="booking.call"]'))
    expect(called).to_have_count(1)
    expect(called).to_contain_text("刘洋")
    revealed = entries.and_(page.locator('[data-action="booking.mobile_view"]'))
    expect(revealed).to_have_count(2)  # the laptop and the phone
    expect(revealed.first.get_by_test_id("log-booking")).to_have_attribute("href", f"/bookings/{reference}")
    assert NOTE not in page.content() and ADULT not in page.content()


def visit_checks(page, name: str) -> None:
    """The page as it is now (after an htmx swap or a link): axe and a screenshot, without reloading it."""
    axe_check(page)
    shot(page, name)

"""What a booking page offers next (issue 15, items 4, 6, 7, 9), on iPhone 13 and Pixel 7 in WeChat:

an unsent photo flagged and sent (王芳); a cancel inside the car's 4-hour cutoff with the driver and the service line
one tap away, and what remains after cancelling (张伟); an agent without the papers scope told who sends them (周婷).
The booking page fits a 320 px screen.
"""
from __future__ import annotations

from datetime import timedelta

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from webapp.models import Account, Booking, Policy, Service
from webapp.services.demo import demo_papers
from webapp.services.demo.demo import ADULT, AGENT, OTHER
from webapp.services.papers import documents, photos
from webapp.services.papers.storage import LocalStorage

from .conftest import DEVICES, fits_width, settle, shot, sign_in, visit

ACTIVE, WANG = "P003-DEMO-0002", "P001-DEMO-0006"


def _booking(session, policy: str, code: str) -> Booking:
    session.rollback()  # a fresh snapshot: the live server commits in its own connection
    return session.scalar(select(Booking).join(Policy).join(Service, Booking.service_id == Service.id)
                          .where(Policy.number == policy, Service.code == code))


def _unsent_photo(session, live_app, demo_moment) -> str:
    """王芳's diagnosis photo added a few minutes after she applied, not sent (the demo's papers, which the browser
    world is built without)."""
    b = _booking(session, WANG, "expert_outpatient")
    wang = session.scalar(select(Account).where(Account.mobile == OTHER))
    photo = photos.process(demo_papers.paper_photo("diagnosis", "王芳", seed=20))
    documents.add_page(session, LocalStorage(live_app.config["UPLOAD_DIR"]), booking_id=b.id, kind="diagnosis",
                       photo=photo, account=wang, now=demo_moment + timedelta(minutes=5))
    return b.reference


@pytest.mark.phones(*DEVICES)
def test_an_unsent_photo_is_flagged_and_sent(page, live_server, live_app, session, demo_moment):
    reference = _unsent_photo(session, live_app, demo_moment)
    sign_in(page, live_server, OTHER)
    visit(page, f"/bookings/{reference}", "booking-unsent-photo")
    flag = page.get_by_test_id("unsent-photos")
    expect(flag).to_have_attribute("data-count", "1")  # "还有1张照片没有提交 — 去提交" once the lead merges the zh
    flag.click()
    page.wait_for_url(f"**/bookings/{reference}/papers#send-bar")
    settle(page)
    shot(page, "checklist-send-bar")
    page.get_by_test_id("send-papers").click()
    page.wait_for_url(f"**/bookings/{reference}/papers")
    settle(page)
    visit(page, f"/bookings/{reference}", "booking-photo-sent")
    expect(page.get_by_test_id("unsent-photos")).to_have_count(0)
    expect(page.get_by_test_id("papers-summary")).to_be_visible()
    fits_width(page, f"/bookings/{reference}", "booking-photo-sent")


@pytest.mark.phones(*DEVICES)
def test_a_car_cancelled_inside_the_cutoff_is_one_tap_from_the_driver(page, live_server, session):
    reference = _booking(session, ACTIVE, "car_pickup").reference  # in 3 h: inside the 4-hour cutoff
    sign_in(page, live_server, ADULT)
    visit(page, f"/bookings/{reference}/cancel", "car-cancel-inside-cutoff")
    box = page.get_by_test_id("cancel-confirm")
    expect(box.get_by_test_id("call-contact")).to_have_attribute("href", "tel:13900000031")
    expect(box.get_by_test_id("call-contact")).to_contain_text("王建军")  # the driver the demo arranged
    expect(box.get_by_test_id("call-hotline")).to_have_attribute("href", "tel:952299")
    expect(box.get_by_test_id("after-cancel")).to_have_attribute("data-left", "1")  # 2 a year, this one counted
    expect(box.get_by_test_id("confirm-change")).to_have_count(0)
    expect(box.get_by_test_id("change")).to_have_count(0)
    fits_width(page, f"/bookings/{reference}", "car-booking-inside-cutoff")


@pytest.mark.phones(*DEVICES)
def test_an_agent_without_the_papers_scope_is_told_who_sends_them(page, live_server, session):
    reference = _booking(session, WANG, "expert_outpatient").reference
    sign_in(page, live_server, AGENT)
    visit(page, f"/bookings/{reference}", "agent-booking-papers")
    papers = page.get_by_test_id("papers-by-insured")
    expect(papers.get_by_test_id("papers-sender")).to_contain_text("王芳")  # "材料需由 王芳 本人上传"
    expect(papers.locator("img")).to_have_count(0)
    expect(page.get_by_test_id("papers")).to_have_count(0)
    fits_width(page, f"/bookings/{reference}", "agent-booking-papers")

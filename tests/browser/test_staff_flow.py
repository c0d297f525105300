"""The service desk and the customer, each on a phone in WeChat (issue 6):

a reviewer opens the queue, zooms and turns a page in the viewer, accepts the papers but sends one page back
with a reason → the customer sees why at once and retakes that page → the reviewer accepts it and approves →
the coordinator arranges the appointment → the customer sees it, with until when it can be changed free.
The customer is 刘秀兰 (13900000655), whose expert visit (seed 003) arrives at the desk with every paper sent.
"""
from __future__ import annotations

from datetime import timedelta

from playwright.sync_api import expect
from sqlalchemy import select

from webapp.models import Booking, DocumentPage
from webapp.services.clock import china_date
from webapp.services.demo import demo_papers
from webapp.services.demo.demo import COORDINATOR, REVIEWER

from ..photo_corpus import document_photo
from .conftest import axe_check, settle, shot, sign_in, visit

CUSTOMER = "13900000655"


def _booking(session) -> Booking:
    session.rollback()
    session.expire_all()
    found = [b for b in session.scalars(select(Booking)) if b.policy.insured.name == "刘秀兰"]
    assert len(found) == 1
    return found[0]


def _pages(session, booking_id: int) -> list[DocumentPage]:
    session.rollback()
    session.expire_all()
    return [p for p in session.scalars(select(DocumentPage).order_by(DocumentPage.id)) if p.document.booking_id == booking_id]


def test_review_retake_arrange_and_the_customer_sees_the_deadline(context, live_app, live_server, watched_context, session,
                                                                   clock, tmp_path):
    from webapp.services.papers.storage import storage_from_config

    demo_papers.attach(session, storage_from_config(live_app.config), clock())
    booking = _booking(session)
    reference = booking.reference

    # The reviewer: the queue, the application, the viewer.
    desk = watched_context().new_page()
    sign_in(desk, live_server, REVIEWER, next="/staff/")
    row = desk.locator(f'[data-testid="queue-row"][data-reference="{reference}"]')
    expect(row).to_have_attribute("data-stage", "review")
    expect(row).to_have_attribute("data-overdue", "no")
    expect(row.get_by_test_id("queue-due")).to_contain_text("工作日")  # "… 到期 · 剩1个工作日"
    shot(desk, "queue")
    row.locator("a").click()
    desk.wait_for_url(f"**/staff/bookings/{reference}")
    settle(desk)
    axe_check(desk)
    pages = desk.get_by_test_id("staff-page")
    count = pages.count()
    assert count >= 2
    shot(desk, "application")
    pages.first.get_by_test_id("open-viewer").click()
    desk.wait_for_url("**/pages/**")
    settle(desk)
    axe_check(desk)
    image = desk.get_by_test_id("viewer-image")
    desk.wait_for_function("() => { const i = document.querySelector('[data-testid=viewer-image]'); return i.complete && i.naturalWidth > 0; }")
    desk.locator('[data-view="zoom-in"]').click()
    desk.get_by_test_id("rotate-right").click()
    expect(image).to_have_attribute("data-turn", "90")
    expect(image).to_have_attribute("data-zoom", "1.5")
    shot(desk, "viewer-turned")
    desk.get_by_test_id("viewer-back").click()
    settle(desk)

    # Accept every page but the last; send the last back with a reason and a note.
    for i in range(count - 1):
        desk.get_by_test_id("staff-page").nth(i).get_by_test_id("decide-accept").click()
        settle(desk)
        expect(desk.get_by_test_id("flash")).to_be_visible()
    last = desk.get_by_test_id("staff-page").nth(count - 1)
    last.get_by_test_id("decide-reason").select_option("incomplete")
    last.get_by_test_id("decide-note").fill("右下角被手指挡住，请重拍")
    last.get_by_test_id("decide-reject").click()
    settle(desk)
    expect(desk.get_by_test_id("staff-page").nth(count - 1)).to_have_attribute("data-status", "rejected")
    expect(desk.get_by_test_id("approve")).to_be_disabled()
    shot(desk, "page-sent-back")

    # The customer: the reason at once, and a retake of that page only.
    phone = watched_context().new_page()
    sign_in(phone, live_server, CUSTOMER)
    visit(phone, f"/bookings/{reference}/papers", "customer-page-sent-back")
    expect(phone.get_by_test_id("page-reason")).to_contain_text("右下角被手指挡住")
    expect(phone.get_by_test_id("retake-input")).to_have_count(1)
    retake = tmp_path / "retake.jpg"
    retake.write_bytes(document_photo(1200, 900, quality=85, text_seed=41))
    phone.get_by_test_id("retake-input").set_input_files(str(retake))
    expect(phone.get_by_test_id("retake")).to_be_visible(timeout=30_000)
    settle(phone)
    phone.get_by_test_id("send-papers").click()
    phone.wait_for_url(f"**/bookings/{reference}/papers")
    settle(phone)
    shot(phone, "customer-retake-sent")
    assert [p.status for p in _pages(session, booking.id)][-1] == "received"

    # The reviewer accepts the retake and approves.
    visit(desk, f"/staff/bookings/{reference}", "retake-arrived")
    retaken = desk.locator('[data-testid="staff-page"][data-status="received"]')
    expect(retaken).to_have_count(1)
    retaken.get_by_test_id("decide-accept").click()
    settle(desk)
    expect(desk.get_by_test_id("approve")).to_be_enabled()
    desk.get_by_test_id("approve").click()
    settle(desk)
    expect(desk.get_by_test_id("staff-booking")).to_have_attribute("data-state", "approved")
    assert _booking(session).arrange_by is not None

    # The coordinator arranges it (a phone too: the desk works from the hospital lobby).
    coordinator = watched_context().new_page()
    sign_in(coordinator, live_server, COORDINATOR, next=f"/staff/bookings/{reference}")
    visit(coordinator, f"/staff/bookings/{reference}", "to-arrange")
    day = china_date(clock()) + timedelta(days=3)
    form = coordinator.get_by_test_id("arrange-form")
    form.get_by_test_id("arrange-hospital").fill("复旦大学附属肿瘤医院")
    form.get_by_test_id("arrange-department").fill("肿瘤内科")
    form.get_by_test_id("arrange-doctor_level").select_option("chief")
    form.get_by_test_id("arrange-date").fill(day.isoformat())
    form.get_by_test_id("arrange-time").fill("09:30")
    form.get_by_test_id("arrange-meeting_point").fill("门诊楼一楼服务台")
    form.get_by_test_id("arrange-escort_name").fill("周敏")
    form.get_by_test_id("arrange-escort_mobile").fill("13900001234")
    shot(coordinator, "arrange-filled")
    form.get_by_test_id("arrange-submit").click()
    settle(coordinator)
    expect(coordinator.get_by_test_id("staff-booking")).to_have_attribute("data-state", "scheduled")
    expect(coordinator.get_by_test_id("free-until")).to_be_visible()
    axe_check(coordinator)
    shot(coordinator, "arranged")

    # The customer sees the appointment and until when it can be changed free (12:00 the day before).
    visit(phone, f"/bookings/{reference}", "customer-arranged")
    expect(phone.get_by_test_id("booking")).to_have_attribute("data-state", "scheduled")
    expect(phone.get_by_test_id("appointment")).to_contain_text("复旦大学附属肿瘤医院")
    expect(phone.get_by_test_id("appointment")).to_contain_text("13900001234")
    expect(phone.get_by_test_id("free-until")).to_contain_text(f"{day.month}月")
    phone.locator("form.lang button").click()
    settle(phone)
    axe_check(phone)
    expect(phone.get_by_test_id("free-until")).to_contain_text("until")
    shot(phone, "customer-arranged-english")

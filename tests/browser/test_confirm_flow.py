"""Day-before confirmation (issue 18 item 5), on a phone in WeChat and a 1366×768 laptop:

张伟 (13800000001) opens his nursing aide's booking, whose aide starts tomorrow, and taps "确认按时到达"; the page
then says he has confirmed. The coordinator 刘洋 (13800000008), on the laptop, opens the list of tomorrow: 张伟's
aide shows as confirmed online, 李小明's expert visit (arranged for tomorrow morning here) as not confirmed; he
notes that 李娜 confirmed it on the phone. Seed 001 line 33: "就诊前1日，客服专员致电客户确认".

The clock is put at noon of the day before the aide starts, so the aide is "tomorrow" whatever the hour of the run.
"""
from __future__ import annotations

from datetime import time, timedelta

from playwright.sync_api import expect
from sqlalchemy import select

from webapp.models import Account, Booking, Policy
from webapp.services.clock import china_date, china_datetime
from webapp.services.demo import demo

from .conftest import axe_check, fits_width, settle, shot, sign_in

LAPTOP = {"width": 1366, "height": 768}


def _booking(session, policy: str, service: str) -> Booking:
    session.rollback()
    session.expire_all()
    [found] = [b for b in session.scalars(select(Booking).join(Policy).where(Policy.number == policy))
               if b.service.code == service]
    return found


def test_the_customer_confirms_and_the_coordinator_sees_it_and_notes_a_call(page, live_server, watched_context,
                                                                           session, clock):
    aide = _booking(session, "P003-DEMO-0002", "nursing_aide")
    day = china_date(aide.starts_at)
    clock.set(china_datetime(day - timedelta(days=1), time(12, 0)))
    child = _booking(session, "P003-DEMO-0005", "expert_outpatient")  # approved, being arranged
    coordinator = session.scalar(select(Account).where(Account.mobile == demo.COORDINATOR))
    demo._arrange(session, child, staff=coordinator, now=clock(), starts_at=china_datetime(day, time(9, 30)))
    session.commit()

    # 张伟 on his phone: the booking, "确认按时到达", then "您已确认".
    sign_in(page, live_server, demo.ADULT, next=f"/bookings/{aide.reference}")
    section = page.get_by_test_id("day-confirm")
    expect(section).to_have_attribute("data-state", "unconfirmed")
    section.scroll_into_view_if_needed()
    shot(page, "confirm-before")
    page.get_by_test_id("confirm-day").click()
    page.wait_for_url(f"**/bookings/{aide.reference}#confirm-day")
    settle(page)
    expect(page.get_by_test_id("day-confirm")).to_have_attribute("data-state", "confirmed_online")
    expect(page.get_by_test_id("day-confirmed")).to_be_visible()
    expect(page.get_by_test_id("confirm-day")).to_have_count(0)
    axe_check(page)
    shot(page, "confirm-after")

    # The coordinator on the laptop: tomorrow by time, 张伟 confirmed online; a call noted for 李小明.
    desk = watched_context().new_page()
    desk.set_viewport_size(LAPTOP)
    sign_in(desk, live_server, demo.COORDINATOR, next="/staff/tomorrow")
    expect(desk.get_by_test_id("nav-tomorrow")).to_have_attribute("aria-current", "page")
    rows = desk.get_by_test_id("tomorrow-row")
    references = [rows.nth(i).get_attribute("data-reference") for i in range(rows.count())]
    by_time = [b.reference for b in sorted((aide, child), key=lambda b: b.starts_at)]
    assert [r for r in references if r in by_time] == by_time  # sorted by time
    mine = desk.locator(f'[data-testid="tomorrow-row"][data-reference="{aide.reference}"]')
    expect(mine).to_have_attribute("data-state", "confirmed_online")
    expect(mine.get_by_test_id("tomorrow-contact")).to_contain_text("李秀梅")
    theirs = desk.locator(f'[data-testid="tomorrow-row"][data-reference="{child.reference}"]')
    expect(theirs).to_have_attribute("data-state", "unconfirmed")
    theirs.get_by_test_id("tomorrow-call-open").click()
    theirs.locator('input[name="note"]').fill("李娜接听，会准时带孩子到")
    shot(desk, "tomorrow-call")
    theirs.get_by_test_id("tomorrow-call-save").click()
    desk.wait_for_url("**/staff/tomorrow#t-*")
    settle(desk)
    theirs = desk.locator(f'[data-testid="tomorrow-row"][data-reference="{child.reference}"]')
    expect(theirs).to_have_attribute("data-state", "confirmed_phone")
    expect(theirs.get_by_test_id("tomorrow-by")).to_contain_text("李娜接听")
    axe_check(desk)
    shot(desk, "tomorrow-after")
    fits_width(desk, "/staff/tomorrow", "tomorrow")

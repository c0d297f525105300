"""The staff calendar as an admin on a phone and on a desktop: a year's twelve months readable at 320 px, the
banner while next year is missing, and a pasted schedule that takes next year off the fallback."""
from __future__ import annotations

import chinese_calendar
from playwright.sync_api import expect

from webapp.services.demo.demo import ADMIN

from .conftest import axe_check, settle, shot, sign_in, visit

NEXT = max(chinese_calendar.constants.holidays).year + 1  # the first year the package does not know


def fits(page, width: int) -> None:
    page.set_viewport_size({"width": width, "height": 800})
    settle(page)
    scroll_width = page.evaluate("() => document.documentElement.scrollWidth")
    assert scroll_width <= width, f"{page.url} scrolls sideways at {width} px: scrollWidth is {scroll_width}"


def test_admin_reads_the_calendar_and_enters_next_years_schedule(page, live_server, clock):
    clock.set(clock().replace(year=NEXT - 1, month=11, day=23, hour=10))
    sign_in(page, live_server, ADMIN, next=f"/staff/calendar?year={NEXT}")
    visit(page, f"/staff/calendar?year={NEXT}", "calendar-fallback")
    expect(page.get_by_test_id("calendar-banner")).to_have_attribute("data-years", str(NEXT))
    expect(page.get_by_test_id("calendar-month")).to_have_count(12)
    fits(page, 320)
    shot(page, "calendar-320")
    fits(page, 1280)
    shot(page, "calendar-desktop")

    form = page.get_by_test_id("calendar-import-form")
    form.locator("textarea[name=schedule]").fill(f"{NEXT}-02-05~{NEXT}-02-13 rest 春节\n{NEXT}-02-30 rest")
    form.locator("button[type=submit]").click()
    settle(page)
    expect(page.get_by_test_id("calendar-problems")).to_contain_text("2")
    axe_check(page)

    form = page.get_by_test_id("calendar-import-form")
    form.locator("textarea[name=schedule]").fill(f"{NEXT}-02-05~{NEXT}-02-13 rest 春节\n{NEXT}-02-20 workday 春节调休上班")
    form.locator("input[name=publish]").check()
    form.locator("button[type=submit]").click()
    settle(page)
    expect(page.get_by_test_id("calendar-banner")).to_have_count(0)
    expect(page.locator(f'[data-testid="calendar-day"][data-date="{NEXT}-02-20"]')).to_have_attribute("data-workday", "1")
    axe_check(page)
    fits(page, 320)
    shot(page, "calendar-entered-320")

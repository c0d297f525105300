"""Forms that help (issue 15 item 8), on a phone in WeChat: 张伟 opens the 003 expert visit form, is told the
earliest day before he picks one, the date picker starts there, a day too early is marked live and the mark goes as
soon as he picks a right one, and the review step says who pays (003 line 923: 费用自付)."""
from __future__ import annotations

from datetime import date, timedelta

from playwright.sync_api import expect

from webapp.services.demo.demo import ADULT

from .conftest import fits_width, settle, shot, sign_in
from .test_portal_flows import fill_live

FORM = "/apply/P003-DEMO-0002/expert_outpatient"


def test_a_date_form_says_the_earliest_day_and_clears_its_error_live(page, live_server):
    sign_in(page, live_server, ADULT, next=FORM)
    earliest = page.get_by_test_id("earliest-day")
    first = date.fromisoformat(page.locator("#f-preferred_dates").get_attribute("min"))
    expect(earliest).to_contain_text(f"{first.month}月{first.day}日")

    page.locator("#f-city").fill("上海")
    page.locator("#f-hospital").fill("复旦大学附属中山医院")
    page.locator("#f-department").fill("肿瘤内科")
    day = page.locator("#f-preferred_dates")
    fill_live(page, "f-preferred_dates", (first - timedelta(days=1)).isoformat())
    expect(page.locator("#err-preferred_dates")).to_contain_text("或之后的日期")
    expect(day).to_have_attribute("aria-invalid", "true")
    shot(page, "date-wrong")
    fill_live(page, "f-preferred_dates", first.isoformat())
    expect(page.locator("#err-preferred_dates")).to_have_text("")
    expect(day).not_to_have_attribute("aria-invalid", "true")

    page.get_by_test_id("review-apply").click()
    settle(page)
    expect(page.get_by_test_id("who-pays")).to_contain_text("费用自付")
    expect(page.get_by_test_id("confirm-apply")).to_be_visible()
    shot(page, "review")

    fits_width(page, f"{live_server.rstrip('/')}{FORM}", "expert-form")

"""An application from a phone call (issue 18 item 4; seed 003 line 488: "如您通过客服电话申请，客服将发送申请短信链接，
请查收短信并按照指引提交申请材料"), on a 1366×768 laptop and a phone in WeChat:

the coordinator 刘洋 (13800000008) finds 张伟 (13800000001) by his mobile at the desk and applies for an expert
outpatient visit on P003-DEMO-0002 (unused in the demo world; it asks for the diagnosis: seed 003, catalog
003_zhongan_vip.yaml); the SMS is captured from the log backend (the live app runs in this process, so its
`lvtong.sms.dev` records reach caplog); on his phone 张伟 opens the link —
nothing of the application shows before the code —, asks for the code, signs in with it and lands on that
application's papers, adds a photo and sends it; the reviewer 陈静 (13800000009) sees the application and its page.
"""
from __future__ import annotations

import re
from datetime import date, timedelta

from playwright.sync_api import expect

from webapp.services.clock import china_date
from webapp.services.demo.demo import ADULT, COORDINATOR, REVIEWER

from .conftest import axe_check, fits_width, settle, shot, sign_in, visit
from .test_papers_flow import _photos

LAPTOP = {"width": 1366, "height": 768}
POLICY = "P003-DEMO-0002"
SERVICE = "expert_outpatient"
LINK = re.compile(r"https?://[^/\s]+(/l/[A-Za-z0-9_-]{43,})")


def _laptop(watched_context):
    """A page 1366×768 wide (a context of its own, so another account's cookies)."""
    laptop = watched_context().new_page()
    laptop.set_viewport_size(LAPTOP)
    return laptop


def _texted_link(caplog) -> str:
    texts = [r.getMessage() for r in caplog.records if r.name == "lvtong.sms.dev" and "/l/" in r.getMessage()]
    assert len(texts) == 1 and "138****0001" in texts[0], texts
    return LINK.search(texts[0]).group(1)


def test_a_phone_application_from_the_desk_to_the_customers_papers(page, live_server, watched_context, clock, caplog,
                                                                    tmp_path):
    # The coordinator on the laptop: find the caller, choose the service, fill the form with him, send.
    desk = _laptop(watched_context)
    sign_in(desk, live_server, COORDINATOR, next="/staff/desk")
    visit(desk, "/staff/desk", "desk-find")
    desk.locator("#desk-q").fill(ADULT)
    desk.get_by_test_id("desk-search").click()
    desk.wait_for_url("**/staff/desk/find")
    settle(desk)
    results = desk.get_by_test_id("desk-results")
    expect(results).to_contain_text("张伟")
    axe_check(desk)
    shot(desk, "desk-found")
    results.locator(f'[data-testid="desk-service"][data-policy="{POLICY}"][data-service="{SERVICE}"]').click()
    desk.wait_for_url("**/staff/desk/apply?**")
    settle(desk)
    expect(desk.get_by_test_id("desk-destination")).to_contain_text("138****0001")
    axe_check(desk)
    shot(desk, "desk-form")
    form = desk.get_by_test_id("desk-form")
    city = form.locator("#f-city")
    if city.evaluate("e => e.tagName") == "SELECT":
        city.select_option("上海")
    else:
        city.fill("上海")
    form.locator("#f-hospital").fill("复旦大学附属中山医院")
    form.locator("#f-department").fill("肿瘤内科")
    earliest = form.locator("#f-preferred_dates").get_attribute("min")
    day = max(date.fromisoformat(earliest) if earliest else china_date(clock()), china_date(clock()) + timedelta(days=7))
    form.locator("#f-preferred_dates").fill(day.isoformat())
    settle(desk)
    with caplog.at_level("INFO", logger="lvtong.sms.dev"):
        desk.get_by_test_id("desk-submit").click()
        desk.wait_for_url(re.compile(r".*/staff/bookings/[A-Z0-9-]+$"))
    settle(desk)
    reference = desk.url.rsplit("/", 1)[1]
    expect(desk.get_by_test_id("flash")).to_contain_text(reference)
    axe_check(desk)
    shot(desk, "desk-sent")
    link = _texted_link(caplog)

    # 张伟 on his phone: the link (nothing of the application yet), a code, his papers.
    phone_size = page.viewport_size
    fits_width(page, link, "link")
    page.set_viewport_size(phone_size)
    visit(page, link, "link")
    card = page.get_by_test_id("desk-link")
    expect(card).to_contain_text("138****0001")
    for private in ("张伟", reference, "复旦", "肿瘤", POLICY):
        expect(card).not_to_contain_text(private)
    page.get_by_test_id("desk-link-code").click()
    settle(page)
    code = page.get_by_test_id("demo-code").inner_text().strip()
    assert re.fullmatch(r"\d{6}", code), code
    axe_check(page)
    shot(page, "link-code")
    page.locator("#code").fill(code)
    page.locator("#code").press("Enter")
    page.wait_for_url(f"**/bookings/{reference}/papers")
    settle(page)
    axe_check(page)
    shot(page, "link-papers")
    first = page.locator('[data-testid="document"][data-kind="diagnosis"]')
    first.get_by_test_id("photo-input").set_input_files(_photos(tmp_path, ("p1.jpg", {"text_seed": 11})))
    expect(first.get_by_test_id("thumbnail")).to_have_count(1, timeout=30_000)
    settle(page)
    page.get_by_test_id("send-papers").click()
    page.wait_for_url(f"**/bookings/{reference}/papers")
    settle(page)
    expect(page.get_by_test_id("flash")).to_be_visible()
    shot(page, "link-papers-sent")
    visit(page, link, "link-spent", status=404)  # once: even for its own account

    # The reviewer sees the application, made by the desk, with the page 张伟 sent.
    reviewer = _laptop(watched_context)
    sign_in(reviewer, live_server, REVIEWER, next=f"/staff/bookings/{reference}")
    visit(reviewer, f"/staff/bookings/{reference}", "reviewer-sees-it")
    expect(reviewer.get_by_test_id("staff-booking")).to_be_visible()
    expect(reviewer.get_by_test_id("staff-page")).to_have_count(1)

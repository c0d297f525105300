"""A queue per role (issue 18), on a 1366×768 laptop and a phone in WeChat:

the coordinator 刘洋 (13800000008) opens the queue on his own tab — only what a coordinator can do (arrange,
follow up a failed booking, close a passed appointment), with a count on every tab — and on the laptop sees the
most urgent application beside the list; the reviewer 陈静 (13800000009) opens on the applications to review, 刘秀兰's
expert visit among them (every paper sent, seed 003), with its pages as readable thumbnails. On the phone the same
list is one column, 320 px wide without sideways scrolling.
"""
from __future__ import annotations

from playwright.sync_api import expect

from webapp.services.demo import demo_papers
from webapp.services.demo.demo import COORDINATOR, REVIEWER

from .conftest import axe_check, fits_width, settle, shot, sign_in

COORDINATOR_STAGES = {"arrange", "choosing", "close"}
LAPTOP = {"width": 1366, "height": 768}


def _counts(page) -> dict[str, int]:
    tabs = page.get_by_test_id("queue-tabs").locator("a")
    return {tabs.nth(i).get_attribute("data-testid")[6:]: int(tabs.nth(i).get_attribute("data-count"))
            for i in range(tabs.count())}


def _coordinators_tab(page) -> None:
    expect(page.get_by_test_id("queue-tabs")).to_have_attribute("data-tab", "coordinate")
    expect(page.get_by_test_id("stage-coordinate")).to_have_attribute("aria-current", "page")
    rows = page.get_by_test_id("queue-row")
    stages = {rows.nth(i).get_attribute("data-stage") for i in range(rows.count())}
    counts = _counts(page)
    assert stages and stages <= COORDINATOR_STAGES, stages
    assert counts["coordinate"] == rows.count() == sum(counts[s] for s in COORDINATOR_STAGES)
    assert counts["review"] >= 1  # the reviewer's work is counted on its own tab, not listed here


def test_each_role_opens_on_its_own_work_on_a_laptop_and_a_phone(page, live_app, live_server, session, clock):
    from webapp.services.papers.storage import storage_from_config

    demo_papers.attach(session, storage_from_config(live_app.config), clock())
    phone_size = page.viewport_size
    page.set_viewport_size(LAPTOP)

    # The reviewer on the laptop: the applications to review, 刘秀兰's with its pages beside the list.
    sign_in(page, live_server, REVIEWER, next="/staff/")
    expect(page.get_by_test_id("queue-tabs")).to_have_attribute("data-tab", "review")
    liu = page.locator('[data-testid="queue-row"]', has_text="刘秀兰")
    expect(liu).to_have_count(1)
    expect(liu).to_have_attribute("data-stage", "review")
    liu.get_by_test_id("queue-preview-pick").click()
    settle(page)
    expect(page.get_by_test_id("queue-preview")).to_have_attribute("data-reference", liu.get_attribute("data-reference"))
    thumbs = page.get_by_test_id("queue-thumb").locator("img")
    expect(thumbs.first).to_be_visible()
    page.wait_for_function("() => [...document.querySelectorAll('[data-testid=queue-thumb] img')]"
                           ".every(i => i.complete && i.naturalWidth > 0)")
    assert thumbs.count() >= 2  # every paper sent
    for i in range(thumbs.count()):
        box = thumbs.nth(i).bounding_box()
        assert box["width"] >= 160, box
        assert thumbs.nth(i).evaluate("i => getComputedStyle(i).objectFit") == "contain"
    axe_check(page)
    shot(page, "queue-reviewer-laptop")

    # The coordinator on the laptop: his own tab, the most urgent application beside the list.
    page.context.clear_cookies()
    sign_in(page, live_server, COORDINATOR, next="/staff/")
    _coordinators_tab(page)
    preview = page.get_by_test_id("queue-preview")
    expect(preview).to_be_visible()
    expect(preview).to_have_attribute("data-reference", page.get_by_test_id("queue-row").first.get_attribute("data-reference"))
    list_box, preview_box = page.locator("section[data-testid=queue]").bounding_box(), preview.bounding_box()
    assert preview_box["x"] >= list_box["x"] + list_box["width"] and abs(preview_box["y"] - list_box["y"]) < 40
    last = page.get_by_test_id("queue-row").last
    last.get_by_test_id("queue-preview-pick").click()
    settle(page)
    expect(page.get_by_test_id("queue-preview")).to_have_attribute("data-reference", last.get_attribute("data-reference"))
    assert "tab=coordinate" in page.url
    shot(page, "queue-coordinator-laptop")

    # The phone: one column, the list alone, the same tab.
    page.set_viewport_size(phone_size)
    page.goto("/staff/")
    settle(page)
    _coordinators_tab(page)
    expect(page.get_by_test_id("queue-preview")).to_be_hidden()
    shot(page, "queue-coordinator-phone")
    fits_width(page, "/staff/", "queue-coordinator")

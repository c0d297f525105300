"""Messages read on open and the bookings list grouped for action (issue 15 items 3 and 5), as 张伟 in WeChat."""
from __future__ import annotations

import pytest
from playwright.sync_api import expect

from webapp.services.demo.demo import ADULT

from .conftest import DEVICES, axe_check, fits_width, settle, shot, sign_in, visit


@pytest.mark.phones(*DEVICES)
def test_messages_read_on_open(page, live_server):
    """The badge shows what is unread; opening Messages shows them by booking, the new ones marked; the next
    page's nav has no badge; the bookings list puts what needs him first and labels today's pickup."""
    sign_in(page, live_server, ADULT)
    badge = page.get_by_test_id("unread-count")
    expect(badge).to_be_visible()
    unread = int(badge.inner_text())
    page.locator('nav a[href="/messages"], a[href="/messages"]').first.click()
    page.wait_for_url(f"{live_server}/messages")
    settle(page)
    axe_check(page)
    shot(page, "lists-messages-opened")
    groups = page.get_by_test_id("message-group")
    assert groups.count() >= 2
    for i in range(groups.count()):  # each group is headed by the booking it is about, linking to its history
        reference = groups.nth(i).get_attribute("data-reference")
        expect(groups.nth(i).locator("h2 a")).to_have_attribute("href", f"/bookings/{reference}#timeline-h")
    expect(page.locator('[data-testid="message"] .new')).to_have_count(unread)  # what was new is still marked

    visit(page, "/bookings", "lists-bookings")  # the next page: read, so no badge
    expect(page.get_by_test_id("unread-count")).to_have_count(0)
    action = page.get_by_test_id("bookings-action")
    expect(action.get_by_test_id("row-free-change")).to_have_count(1)  # the nursing aide: 3 hours left
    upcoming = page.get_by_test_id("bookings-upcoming")
    expect(upcoming.get_by_test_id("booking-row").first.get_by_test_id("row-day")).to_have_attribute("data-day", "today")
    expect(page.get_by_test_id("bookings-past")).to_be_visible()
    fits_width(page, "/bookings", "lists-bookings")
    fits_width(page, "/messages", "lists-messages")
    expect(page.locator('[data-testid="message"] .new')).to_have_count(0)  # a second opening: nothing new

"""The weekly report to insurers as a coordinator on a phone: the page never scrolls sideways at 360 px (the wide
tables scroll inside their cards), the charts scale, axe finds nothing serious, and the week picker works."""
from __future__ import annotations

from playwright.sync_api import expect

from webapp.services.demo.demo import COORDINATOR

from .conftest import settle, shot, sign_in, visit


def test_coordinator_reads_the_weekly_report_on_a_phone(page, live_server, clock):
    sign_in(page, live_server, COORDINATOR, next="/staff/report")
    visit(page, "/staff/report", "report")
    page.set_viewport_size({"width": 360, "height": 800})
    settle(page)
    assert page.evaluate("() => document.documentElement.scrollWidth") <= 360
    table = page.get_by_test_id("report-table").first
    scroller = table.locator("xpath=..")
    assert scroller.evaluate("el => el.scrollWidth > el.clientWidth")  # the table scrolls inside its card
    chart = page.get_by_test_id("report-chart").first.locator("svg")
    assert chart.evaluate("el => el.getBoundingClientRect().width") <= 360
    shot(page, "report-360")
    week = page.get_by_test_id("report").get_attribute("data-week")
    page.get_by_test_id("report-previous").click()
    settle(page)
    expect(page.get_by_test_id("report")).not_to_have_attribute("data-week", week)

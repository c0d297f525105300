"""The customer sees each arrangement's own details on a phone in WeChat (issue 14 item 8): 张伟's car pickup shows
the driver (a tap-to-call link), the plate, where he is picked up and where he is taken; his nursing aide shows the
aide (tap to call), the ward and bed and the days of care — and neither shows a doctor's rank or a meeting point.
The demo's coordinator arranged both through services/desk/arrangements.py."""
from __future__ import annotations

from playwright.sync_api import expect

from webapp.services.demo.demo import ADULT

from .conftest import sign_in, visit
from .test_portal_flows import ACTIVE, booking_reference


def test_a_car_pickup_and_a_nursing_aide_show_their_own_details(page, live_server, session_factory):
    sign_in(page, live_server, ADULT)

    visit(page, f"/bookings/{booking_reference(session_factory, ACTIVE, 'car_pickup')}", "car-arranged")
    details = page.get_by_test_id("appointment-details")
    expect(details).to_have_attribute("data-kind", "car")
    expect(details.get_by_test_id("driver").locator("a")).to_have_attribute("href", "tel:13900000031")
    expect(details.get_by_test_id("plate")).to_have_text("沪AD12345")
    expect(details.get_by_test_id("pickup")).to_have_text("上海市徐汇区示例路1号")
    expect(details.get_by_test_id("destination")).to_have_text("复旦大学附属中山医院")
    expect(details.get_by_test_id("escort")).to_have_count(0)

    visit(page, f"/bookings/{booking_reference(session_factory, ACTIVE, 'nursing_aide')}", "aide-arranged")
    details = page.get_by_test_id("appointment-details")
    expect(details).to_have_attribute("data-kind", "aide")
    expect(details.get_by_test_id("aide")).to_contain_text("李秀梅")
    expect(details.get_by_test_id("aide").locator("a")).to_have_attribute("href", "tel:13900000032")
    expect(details.get_by_test_id("ward-bed")).to_have_text("12病区 8床")
    expect(details.get_by_test_id("aide-days")).to_contain_text("7")
    expect(details.get_by_test_id("escort")).to_have_count(0)

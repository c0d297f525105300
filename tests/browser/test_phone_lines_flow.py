"""The cancel help calls the service's own change/cancel line (issue 14 item 6), on a phone in WeChat.

003's escorts run on 10109955, not the product's 952299 (003 门诊陪诊 四(1) line 1560); 000's cancellations go to the
vendor's 400-678-8500, never to the insurer's hotline 400-609-6868 (000 （一）2.9(6) lines 94-98, Q&A lines 266-268).
"""
from __future__ import annotations

from datetime import timedelta

from playwright.sync_api import expect
from sqlalchemy import select

from webapp.models import Account, Policy
from webapp.services.booking import bookings as booking_service
from webapp.services.demo.demo import ADULT

from .conftest import sign_in
from .test_portal_flows import arrange, booking_reference, open_confirmation, two_days_at_nine

ACTIVE = "P003-DEMO-0002"
ZHAO_MIN = "13900000611"  # the service desk's 赵敏 (demo): a 000 expert visit approved and being arranged


def test_cancel_help_links_each_services_own_change_line(page, live_server, clock, session_factory, watched_context):
    with session_factory() as s:  # 张伟 applies for his second accompanied visit, as the portal does
        adult = s.scalar(select(Account).where(Account.mobile == ADULT))
        policy = s.scalar(select(Policy).where(Policy.number == ACTIVE))
        outcome = booking_service.apply(s, account=adult, policy_id=policy.id, service_code="escort_outpatient",
                                        request_key="phones-escort", now=clock() - timedelta(hours=2),
                                        details={"city": "上海"})
        assert outcome.ok, outcome.reasons
        escort = outcome.booking.reference
    arrange(session_factory, clock, escort, two_days_at_nine(clock)[0])

    sign_in(page, live_server, ADULT, next=f"/bookings/{escort}")
    box = open_confirmation(page, "cancel", "escort-cancel-phone")
    expect(box.get_by_test_id("cancel-phone")).to_have_attribute("href", "tel:10109955")
    expect(box.get_by_test_id("cancel-help")).not_to_contain_text("952299")

    other = watched_context().new_page()
    zhao = booking_reference(session_factory, "PCIG-DESK-611", "expert_outpatient")
    sign_in(other, live_server, ZHAO_MIN, next=f"/bookings/{zhao}")
    box = open_confirmation(other, "cancel", "cigc-cancel-phone")
    expect(box.get_by_test_id("cancel-phone")).to_have_attribute("href", "tel:4006788500")
    expect(box.get_by_test_id("cancel-help")).not_to_contain_text("400-609-6868")

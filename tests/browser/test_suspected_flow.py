"""A suspected patient of seed 000 applies with the medical record alone and is approved (issue 14 item 3).

000 （一）1.2 lines 24-26: "疑似患者提供二甲及以上公立医院初步确诊患有相关疾病的病历; 确诊患者提供……病理诊断报告".
张伟's 000 policy leaves its 90-day waiting period 50 days after the demo world is built; on that day he answers
"suspected", the checklist asks for the medical record only, he sends one photo, and the reviewer accepts it and
approves — no pathology report is ever asked for.
"""
from __future__ import annotations

from datetime import time, timedelta

from playwright.sync_api import expect

from webapp.services.clock import china_date, china_datetime
from webapp.services.demo.demo import ADULT, REVIEWER
from webapp.services.workdays import add_workdays

from ..photo_corpus import document_photo
from .conftest import settle, shot, sign_in, visit
from .test_portal_flows import REFERENCE, fill_expert_form

CLASSIC = "P000-DEMO-0001"


def test_a_suspected_patient_applies_with_the_medical_record_only_and_is_approved(
        context, live_server, watched_context, clock, demo_moment, tmp_path):
    # A working day at 10:00, once the 90-day waiting period of the 40-day-old policy is over.
    clock.set(china_datetime(add_workdays(china_date(demo_moment) + timedelta(days=55), 1), time(10, 0)))
    page = context.new_page()
    sign_in(page, live_server, ADULT)
    visit(page, f"/apply/{CLASSIC}/expert_outpatient", "apply-000")
    page.locator("#f-diagnosis_stage").select_option("suspected")
    fill_expert_form(page)
    page.get_by_test_id("review-apply").click()
    expect(page.get_by_test_id("consequence")).to_be_visible()
    settle(page)
    page.get_by_test_id("confirm-apply").click()
    page.wait_for_url(REFERENCE)
    settle(page)
    reference = REFERENCE.search(page.url).group(1)

    visit(page, f"/bookings/{reference}/papers", "checklist-suspected")
    kinds = [d.get_attribute("data-kind") for d in page.get_by_test_id("document").all()]
    assert kinds == ["diagnosis"], kinds  # the medical record; no pathology report
    photo = tmp_path / "record.jpg"
    photo.write_bytes(document_photo(1200, 900, quality=85, text_seed=24))
    record = page.locator('[data-testid="document"][data-kind="diagnosis"]')
    record.get_by_test_id("photo-input").set_input_files(str(photo))
    expect(record.get_by_test_id("thumbnail")).to_have_count(1, timeout=30_000)
    settle(page)
    page.get_by_test_id("send-papers").click()
    page.wait_for_url(f"**/bookings/{reference}/papers")
    settle(page)

    desk = watched_context().new_page()
    sign_in(desk, live_server, REVIEWER, next=f"/staff/bookings/{reference}")
    visit(desk, f"/staff/bookings/{reference}", "desk-suspected")
    expect(desk.get_by_test_id("diagnosis-stage")).to_have_attribute("data-stage", "suspected")
    expect(desk.get_by_test_id("staff-doc")).to_have_count(1)
    desk.get_by_test_id("staff-page").first.get_by_test_id("decide-accept").click()
    settle(desk)
    expect(desk.get_by_test_id("approve")).to_be_enabled()
    desk.get_by_test_id("approve").click()
    settle(desk)
    expect(desk.get_by_test_id("staff-booking")).to_have_attribute("data-state", "approved")
    shot(desk, "approved")

    visit(page, f"/bookings/{reference}", "customer-approved")
    expect(page.get_by_test_id("booking")).to_have_attribute("data-state", "approved")
    expect(page.get_by_test_id("arrange-by")).to_be_visible()

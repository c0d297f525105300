"""A guardian's second application with her proofs on file (issue 15 item 9), on iPhone 13 and Pixel 7:

李娜, verified guardian of 李小明, whose first expert visit had every paper accepted, her ID card and the proof of
guardianship included (the demo's papers; here the accepted papers are written straight to the database, as the
browser world is built without photos), applies for his second opinion. The banner says what she may do for him;
the new checklist says once that her ID card and guardianship proof are on file and offers no upload for them,
while it still asks for his medical papers; it fits a 320 px screen.
"""
from __future__ import annotations

import re
from datetime import timedelta

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from webapp.models import Booking, Document, Policy, Service
from webapp.services.demo.demo import PARENT

from .conftest import DEVICES, fits_width, settle, shot, sign_in, visit

CHILD_POLICY = "P003-DEMO-0005"
REFERENCE = re.compile(r"/bookings/([A-Z0-9]+)$")


def _first_visit_papers_accepted(session, demo_moment) -> None:
    """李小明's expert visit (applied for by 李娜): her ID card and the guardianship proof accepted by staff."""
    session.rollback()
    first = session.scalar(select(Booking).join(Policy).join(Service, Booking.service_id == Service.id)
                           .where(Policy.number == CHILD_POLICY, Service.code == "expert_outpatient"))
    at = demo_moment - timedelta(hours=20)
    for kind in ("applicant_id", "guardianship_proof"):
        session.add(Document(booking_id=first.id, person_id=first.policy.insured_id, kind=kind, status="accepted",
                             created_at=at, updated_at=at))
    session.commit()


@pytest.mark.phones(*DEVICES)
def test_a_guardians_second_application_finds_her_proofs_on_file(page, live_server, session, demo_moment):
    _first_visit_papers_accepted(session, demo_moment)
    sign_in(page, live_server, PARENT)
    visit(page, f"/apply/{CHILD_POLICY}/second_opinion", "clarity-apply-second-opinion")
    expect(page.get_by_test_id("acting-banner")).to_contain_text("李小明")
    expect(page.get_by_test_id("acting-scopes")).to_be_visible()
    expect(page.get_by_test_id("acting-scopes")).not_to_have_text("")

    page.locator("#f-current_diagnosis").fill("急性淋巴细胞白血病")
    page.locator("#f-questions").fill("化疗方案是否合适？")
    page.locator("#f-treating_hospital").fill("上海儿童医学中心")
    page.get_by_test_id("review-apply").click()
    expect(page.get_by_test_id("confirm-apply")).to_be_visible()
    settle(page)
    page.get_by_test_id("confirm-apply").click()
    page.wait_for_url(REFERENCE)
    settle(page)
    reference = REFERENCE.search(page.url).group(1)

    url = f"/bookings/{reference}/papers"
    visit(page, url, "clarity-checklist-proofs-on-file")
    expect(page.get_by_test_id("proofs-on-file")).to_have_count(1)
    expect(page.get_by_test_id("acting-scopes")).to_be_visible()
    for kind in ("applicant_id", "guardianship_proof"):
        paper = page.locator(f'[data-testid="document"][data-kind="{kind}"]')
        expect(paper).to_have_attribute("data-on-file", "true")
        expect(paper.get_by_test_id("upload-form")).to_have_count(0)
        expect(paper.get_by_test_id("on-file")).to_be_visible()
    asked = page.locator('[data-testid="document"][data-status="missing"]')
    expect(asked.first).to_be_visible()  # his own papers are still asked for
    expect(asked.get_by_test_id("upload-form").first).to_be_visible()
    shot(page, "clarity-checklist")
    fits_width(page, url, "clarity-checklist")

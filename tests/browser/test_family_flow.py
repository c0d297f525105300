"""Family access on a phone in WeChat (issue 5, proof 2), on iPhone 13 and Pixel 7:

a father signs in with his own number (new here), asks for guardianship of the demo child 李小明 with a photo of
his ID card and of the household register, sends them; he sees only his request's state, nothing of his son's;
a reviewer verifies the proof in the staff pages; the father then applies for a service for his son with the
banner "正在为 李小明（儿子）办理" on every page, and the application shows him as the one who applied.
"""
from __future__ import annotations

import re
from datetime import date

from playwright.sync_api import expect
from sqlalchemy import select

from webapp.models import Account, Booking, BookingTransition, Person, ProxyGrant
from webapp.services.demo.demo import FATHER, REVIEWER
from webapp.services.accounts.identity import demo_resident_id

from ..photo_corpus import document_photo
from .conftest import axe_check, settle, shot, sign_in, visit

CHILD_POLICY = "P003-DEMO-0005"
BANNER = "正在为 李小明（儿子）办理"
REFERENCE = re.compile(r"/bookings/([A-Z0-9]+)$")


def _fresh(session):
    session.rollback()  # the live server commits in its own connection
    session.expire_all()
    return session


def _photo(tmp_path, name: str, seed: int) -> str:
    path = tmp_path / name
    path.write_bytes(document_photo(1200, 900, quality=85, text_seed=seed))
    return str(path)


def _submit(page, button, name: str) -> None:
    with page.expect_navigation():
        button.click()
    settle(page)
    axe_check(page)
    shot(page, name)


def _upload(page, kind: str, path: str) -> None:
    document = page.locator(f'[data-testid="document"][data-kind="{kind}"]')
    document.get_by_test_id("photo-input").set_input_files(path)
    expect(document.get_by_test_id("thumbnail").or_(document.get_by_test_id("thumbnail-locked")).first).to_be_visible(timeout=30_000)
    settle(page)


def _banner_on(page) -> None:
    expect(page.get_by_test_id("acting-banner")).to_contain_text(BANNER)


def test_a_father_becomes_guardian_and_applies_for_his_son(page, live_server, session, tmp_path, watched_context):
    child = _fresh(session).scalar(select(Person).where(Person.name == "李小明"))

    # 1. His own number, new here: he is asked who the insured is, and offered the family path instead.
    sign_in(page, live_server, FATHER, next="/bind")
    _submit(page, page.get_by_test_id("bind-for-family"), "family-request-form")
    form = page.get_by_test_id("access-form")
    form.locator("#own_name").fill("李强")
    form.locator("#own_id_number").fill(demo_resident_id("310104", date(1984, 9, 9), 615))
    form.locator('input[name=kind][value="guardian_minor"]').check()
    form.locator("#insured_name").fill("李小明")
    form.locator("#insured_id_number").fill(child.id_number)
    form.locator("#relationship").select_option("son")
    _submit(page, form.get_by_test_id("send-access-request"), "request-saved")
    request = page.get_by_test_id("access-request")
    expect(request).to_have_attribute("data-status", "draft")
    expect(page.get_by_test_id("acting-banner")).to_have_count(0)  # he acts for nobody yet

    # 2. The proofs through the photo pipeline: his ID card and the household register page, then send.
    _upload(page, "applicant_id", _photo(tmp_path, "id.jpg", 11))
    _upload(page, "guardianship_proof", _photo(tmp_path, "hukou.jpg", 12))
    shot(page, "proofs-added")
    _submit(page, page.get_by_test_id("send-papers"), "proofs-sent")
    expect(page.get_by_test_id("access-request")).to_have_attribute("data-status", "pending")
    expect(page.get_by_test_id("request-status")).to_be_visible()

    # Until staff verify, nothing of his son's shows: no cards, no bookings, no banner.
    for path in ("/home", "/bookings"):
        page.goto(path)
        settle(page)
        expect(page.get_by_test_id("entitlement-card")).to_have_count(0)
        expect(page.locator("body")).not_to_contain_text("小儿血液科")
        expect(page.get_by_test_id("acting-banner")).to_have_count(0)

    # 3. A reviewer verifies the proof in the staff pages (another phone).
    staff = watched_context().new_page()
    sign_in(staff, live_server, REVIEWER)
    visit(staff, "/staff/access", "staff-queue")
    grant = _fresh(session).scalar(select(ProxyGrant).where(ProxyGrant.insured_person_id == child.id,
                                                            ProxyGrant.status == "pending"))
    _submit(staff, staff.get_by_test_id("staff-queue").locator(f'a[href$="/staff/access/{grant.public_id}"]').first,
            "staff-request")
    expect(staff.get_by_test_id("proof")).to_have_count(2)
    _submit(staff, staff.get_by_test_id("verify-grant"), "staff-verified")
    expect(staff.get_by_test_id("grant-state")).to_have_text(re.compile(".+"))
    assert _fresh(session).get(ProxyGrant, grant.id).status == "verified"

    # 4. Back on his phone: his son's services, the banner on every page, and an application made for him.
    visit(page, "/home", "home-acting-for-son")
    _banner_on(page)
    second = page.locator(f'[data-testid="entitlement-card"][data-policy="{CHILD_POLICY}"][data-service="second_opinion"]')
    with page.expect_navigation():
        second.get_by_test_id("apply").click()
    settle(page)
    axe_check(page)
    _banner_on(page)
    page.locator("#f-current_diagnosis").fill("急性淋巴细胞白血病")
    page.locator("#f-questions").fill("化疗方案是否合适？")
    page.locator("#f-treating_hospital").fill("上海儿童医学中心")
    page.get_by_test_id("review-apply").click()
    expect(page.get_by_test_id("consequence")).to_be_visible()
    settle(page)
    _banner_on(page)
    shot(page, "apply-review-for-son")
    page.get_by_test_id("confirm-apply").click()
    page.wait_for_url(REFERENCE)
    settle(page)
    axe_check(page)
    _banner_on(page)
    expect(page.get_by_test_id("applied-by")).to_contain_text("李强")
    expect(page.get_by_test_id("timeline")).to_contain_text("您")  # he reads his own step as "by you"
    shot(page, "booking-for-son")
    reference = REFERENCE.search(page.url).group(1)
    for path in ("/bookings", "/messages", "/family"):
        visit(page, path, f"banner-{path.strip('/')}")
        _banner_on(page)

    booking = _fresh(session).scalar(select(Booking).where(Booking.reference == reference))
    father = session.scalar(select(Account).where(Account.mobile == FATHER))
    assert (booking.applicant_account_id, booking.acting_as, booking.policy.insured.name) == (father.id, "guardian", "李小明")
    first = session.scalar(select(BookingTransition).where(BookingTransition.booking_id == booking.id))
    assert (first.actor_account_id, first.actor_role) == (father.id, "proxy")

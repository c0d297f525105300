"""Photos of papers on a phone in WeChat (issue 4), on a Pixel 7 on a slow link (without JavaScript at 320 px: both phones):

pick two photos at once → a progress bar and a preview for each, then their thumbnails in the checklist; a
blurry photo → refused at once with the retake message, nothing kept; send the papers; staff send one page
back → only that page offers a retake → the new photo goes up alone and replaces it once sent.
"""
from __future__ import annotations

import pytest

from playwright.sync_api import expect
from sqlalchemy import func, select

from webapp.models import Account, Booking, DocumentPage, Policy, Service
from webapp.services.papers import documents
from webapp.services.demo.demo import ADULT, REVIEWER

from ..photo_corpus import document_photo
from .conftest import DEVICES, axe_check, settle, shot, sign_in, visit

ACTIVE = "P003-DEMO-0002"
BLURRY_ZH = "太模糊"


def _reference(session) -> str:
    return session.scalar(select(Booking.reference).join(Policy).join(Service, Booking.service_id == Service.id)
                          .where(Policy.number == ACTIVE, Service.code == "second_opinion"))


def _photos(tmp_path, *specs):
    paths = []
    for name, kw in specs:
        path = tmp_path / name
        path.write_bytes(document_photo(1200, 900, quality=85, **kw))
        paths.append(str(path))
    return paths


def _slow_upload(page):
    """About 1 Mbit/s up with 300 ms latency: a 3G/weak-4G phone, so progress is visible (BROWSER.md)."""
    cdp = page.context.new_cdp_session(page)
    cdp.send("Network.enable")
    cdp.send("Network.emulateNetworkConditions", {"offline": False, "latency": 300,
                                                    "downloadThroughput": 2_000_000 / 8, "uploadThroughput": 1_000_000 / 8})


def _pages(session) -> list[DocumentPage]:
    session.rollback()  # a fresh snapshot: the live server commits in its own connection
    session.expire_all()  # and no stale objects (the session keeps them across commits)
    return list(session.scalars(select(DocumentPage).order_by(DocumentPage.id)))


@pytest.mark.phones("Pixel 7")  # Android's webview (XWEB) is where most photos come from
def test_photos_of_papers_from_a_phone(page, live_server, session, tmp_path, clock):
    reference = _reference(session)
    sign_in(page, live_server, ADULT)
    visit(page, f"/bookings/{reference}", "booking-with-papers-missing")
    expect(page.get_by_test_id("papers-summary")).to_be_visible()
    page.get_by_test_id("papers").click()
    page.wait_for_url(f"**/bookings/{reference}/papers")
    settle(page)
    axe_check(page)
    shot(page, "checklist-empty")

    _slow_upload(page)
    diagnosis = page.locator('[data-testid="document"][data-kind="diagnosis"]')
    rows = page.locator("#doc-diagnosis").get_by_test_id("upload-row")
    diagnosis.get_by_test_id("photo-input").set_input_files(_photos(tmp_path, ("p1.jpg", {"text_seed": 1}),
                                                                    ("p2.jpg", {"text_seed": 2})))
    expect(rows).to_have_count(2)  # one row per photo at once, each with its own bar
    page.wait_for_function("() => [...document.querySelectorAll('[data-testid=upload-bar]')].some(b => b.value > 0)")
    shot(page, "uploading-two")
    expect(diagnosis.get_by_test_id("thumbnail")).to_have_count(2, timeout=30_000)
    expect(page.locator('[data-testid="document"][data-kind="diagnosis"]')).to_have_attribute("data-status", "draft")
    page.wait_for_function("() => [...document.querySelectorAll('[data-testid=thumbnail]')].every(i => i.complete && i.naturalWidth > 0)")
    settle(page)
    axe_check(page)
    shot(page, "two-thumbnails")

    before = len(_pages(session))
    records = page.locator('[data-testid="document"][data-kind="medical_records"]')
    records.get_by_test_id("photo-input").set_input_files(_photos(tmp_path, ("blurry.jpg", {"text_seed": 3, "blur": 7.0})))
    refused = page.locator("#doc-medical_records").get_by_test_id("upload-refused-row")
    expect(refused).to_contain_text(BLURRY_ZH, timeout=30_000)
    assert len(_pages(session)) == before, "a refused photo must leave nothing behind"
    shot(page, "blurry-refused")

    records = page.locator('[data-testid="document"][data-kind="medical_records"]')
    records.get_by_test_id("photo-input").set_input_files(_photos(tmp_path, ("r1.jpg", {"text_seed": 4}),
                                                                  ("r2.jpg", {"text_seed": 5})))
    expect(page.locator('[data-testid="document"][data-kind="medical_records"]').get_by_test_id("thumbnail")).to_have_count(2, timeout=30_000)
    expect(page.get_by_test_id("send-bar")).to_have_attribute("data-drafts", "4")
    page.get_by_test_id("send-papers").click()
    page.wait_for_url(f"**/bookings/{reference}/papers")
    settle(page)
    expect(page.get_by_test_id("flash")).to_be_visible()
    assert [p.status for p in _pages(session)] == ["received"] * 4

    # Staff send page 2 of the medical records back (the review console is issue 6; its service is used here).
    reviewer = session.scalar(select(Account).where(Account.mobile == REVIEWER))
    second = [p for p in _pages(session) if p.document.kind == "medical_records"][1]
    documents.decide_page(session, public_id=second.public_id, staff=reviewer, now=clock(),
                          decision="rejected", reason="incomplete", note="右下角被手指挡住")
    visit(page, f"/bookings/{reference}/papers", "page-sent-back")
    records = page.locator('[data-testid="document"][data-kind="medical_records"]')
    expect(records).to_have_attribute("data-status", "rejected")
    expect(records.get_by_test_id("page-reason")).to_contain_text("右下角被手指挡住")
    expect(page.get_by_test_id("retake-input")).to_have_count(1)  # only the page sent back
    page.get_by_test_id("retake-input").set_input_files(_photos(tmp_path, ("retake.jpg", {"text_seed": 6})))
    expect(page.get_by_test_id("retake")).to_be_visible(timeout=30_000)
    settle(page)
    axe_check(page)
    shot(page, "retake-ready")
    page.get_by_test_id("send-papers").click()
    page.wait_for_url(f"**/bookings/{reference}/papers")
    settle(page)
    records = page.locator('[data-testid="document"][data-kind="medical_records"]')
    expect(records).to_have_attribute("data-status", "received")
    expect(records.get_by_test_id("page")).to_have_count(2)
    statuses = [p.status for p in _pages(session)]
    assert statuses == ["received", "received", "received", "replaced", "received"]  # 2 diagnosis, 2 records, the retake
    assert session.scalar(select(func.count()).select_from(DocumentPage).where(DocumentPage.replaces_id == second.id)) == 1
    shot(page, "retake-sent")

    page.locator("form.lang button").click()
    settle(page)
    axe_check(page)
    expect(page.get_by_test_id("checklist")).to_contain_text("Received")
    shot(page, "checklist-english")


@pytest.mark.phones(*DEVICES)
def test_papers_without_javascript_and_at_320_px(context, watched_context, live_server, session, tmp_path):
    """The same checklist as plain forms: two photos in one post, back to the checklist with both; remove one;
    a refused photo is a flash message that names it. Then the checklist fits a 320 px screen. (`context` names
    this test's screenshots, as in test_portal_flows.)"""
    reference = _reference(session)
    page = watched_context(java_script_enabled=False).new_page()
    sign_in(page, live_server, ADULT)
    visit(page, f"/bookings/{reference}/papers", "nojs-checklist")
    diagnosis = page.locator('[data-testid="document"][data-kind="diagnosis"]')
    diagnosis.get_by_test_id("photo-input").set_input_files(_photos(tmp_path, ("a.jpg", {"text_seed": 11}),
                                                                    ("b.jpg", {"text_seed": 12}),
                                                                    ("dark.jpg", {"text_seed": 13, "brightness": 0.12})))
    with page.expect_navigation():
        diagnosis.get_by_role("button", name="上传所选照片").click()
    settle(page)
    axe_check(page)
    shot(page, "nojs-two-added")
    diagnosis = page.locator('[data-testid="document"][data-kind="diagnosis"]')
    expect(diagnosis.get_by_test_id("page")).to_have_count(2)
    expect(page.get_by_test_id("flash-error")).to_contain_text("dark.jpg：")
    expect(page.get_by_test_id("flash-error")).to_contain_text("太暗")
    with page.expect_navigation():
        diagnosis.get_by_test_id("remove-page").first.click()
    settle(page)
    expect(page.locator('[data-testid="document"][data-kind="diagnosis"]').get_by_test_id("page")).to_have_count(1)
    assert [p.status for p in _pages(session)] == ["draft"]

    page.set_viewport_size({"width": 320, "height": 640})
    visit(page, f"/bookings/{reference}/papers", "checklist-320")
    width = page.evaluate("() => document.documentElement.scrollWidth")
    assert width <= 320, f"the checklist scrolls sideways at 320 px: scrollWidth is {width}"

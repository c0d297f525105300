"""The booking page offers what can still be done (issue 15, items 4, 6, 7 and 9's agent without the papers scope).

The demo world (services/demo/demo.py) as of NOW, with its papers: 张伟's car pickup in 3 h (inside its 4-hour cutoff,
003 同城专车接送 特别说明(5) line 586), his admission in 6 days (003 重疾绿通PLUS 特别说明(5) lines 931-932: "住院及手术安排
服务，客户预约服务后不能取消服务。若客户因自身原因无法住院或手术，则视同该次服务已完成"), his second opinion in review;
王芳's expert visit (001) with a diagnosis photo added but not sent; 周婷 her agent with "view" and "apply" only.
"""
from __future__ import annotations

import re
from datetime import date

import pytest
from sqlalchemy import select

from webapp.models import Account, Document, DocumentPage
from webapp.services.demo import demo, demo_papers
from webapp.services.papers import documents, photos
from webapp.services.papers.storage import LocalStorage

from .conftest import World, at, build_demo
from .test_web_portal import W_MOBILE, arranged
from .web_helpers import testids as ids_of
from .web_helpers import (
    ADULT, NOW, OTHER, attr_values, block, booking_of, csrf_from, set_clock, sign_in, text_of, use_english,
)

ACTIVE, WANG = "P003-DEMO-0002", "P001-DEMO-0006"


@pytest.fixture()
def store(app):
    return LocalStorage(app.config["UPLOAD_DIR"])


@pytest.fixture()
def world(app, session, store):
    build_demo(session, NOW, store)
    set_clock(app, NOW)
    return session


def signed_in(client, mobile):
    sign_in(client, mobile)
    use_english(client)
    return client


def html_of(client, path: str) -> str:
    response = client.get(path)
    assert response.status_code == 200, (path, response.status_code)
    return response.get_data(as_text=True)


# ------------------------------------------------------------------------------------------------ item 4: papers

def test_a_photo_added_but_not_sent_is_the_first_thing_to_do_and_goes_once_sent(world, client):
    ref = booking_of(world, WANG, "expert_outpatient").reference
    signed_in(client, OTHER)
    detail = html_of(client, f"/bookings/{ref}")
    assert attr_values(detail, "unsent-photos", "href") == [f"/bookings/{ref}/papers#send-bar"]
    assert attr_values(detail, "unsent-photos", "class") == ["button primary"]
    assert text_of(block(detail, "unsent-photos")) == "1 photo has not been sent yet — send it"
    # 001's promise counts from the application (catalog arrangement.counted_from: application), so its date stands.
    assert ids_of(detail, "arrange-by") and 'data-waits="papers"' not in detail
    checklist = html_of(client, f"/bookings/{ref}/papers")
    assert 'id="send-bar"' in checklist and 'data-testid="send-papers"' in checklist
    sent = client.post(f"/bookings/{ref}/papers/send", data={"csrf_token": csrf_from(checklist)})
    assert sent.status_code == 302
    assert 'data-testid="unsent-photos"' not in html_of(client, f"/bookings/{ref}")


def test_two_unsent_photos_are_counted_in_the_plural(world, client, store):
    ref = booking_of(world, WANG, "expert_outpatient").reference
    wang = world.scalar(select(Account).where(Account.mobile == OTHER))
    photo = photos.process(demo_papers.paper_photo("diagnosis", "王芳", seed=41, page=2))
    documents.add_page(world, store, booking_id=booking_of(world, WANG, "expert_outpatient").id, kind="diagnosis",
                       photo=photo, account=wang, now=NOW)
    detail = html_of(signed_in(client, OTHER), f"/bookings/{ref}")
    assert text_of(block(detail, "unsent-photos")) == "2 photos have not been sent yet — send them"


def test_the_promise_says_it_starts_once_papers_are_sent_where_it_counts_from_complete_papers(world, client, store):
    """003 二次诊疗意见 counts from complete papers (catalog arrangement.counted_from: complete_papers): with a photo
    not sent, the booking page says the promise starts when the papers are sent, not a date."""
    b = booking_of(world, ACTIVE, "second_opinion")
    adult = world.scalar(select(Account).where(Account.mobile == ADULT))
    photo = photos.process(demo_papers.paper_photo("medical_records", "张伟", seed=42))
    documents.add_page(world, store, booking_id=b.id, kind="medical_records", photo=photo, account=adult, now=NOW)
    detail = html_of(signed_in(client, ADULT), f"/bookings/{b.reference}")
    promise = block(detail, "promise-rule")
    assert 'data-waits="papers"' in promise
    assert text_of(promise) == "Once your papers are sent and complete, we arrange it within 5 working days."
    assert ids_of(detail, "unsent-photos")


def test_an_arranged_booking_offers_no_upload_and_says_nothing_more_is_needed(world, client):
    ref = booking_of(world, ACTIVE, "car_pickup").reference  # scheduled; the discharge proof is not needed for a trip in
    detail = html_of(signed_in(client, ADULT), f"/bookings/{ref}")
    summary = block(detail, "papers-summary")
    assert 'data-done="true"' in summary
    assert text_of(block(summary, "papers-done")) == "Nothing more to upload."  # 003 names no originals for the car
    assert text_of(block(summary, "papers")) == "See your papers"
    assert attr_values(summary, "papers", "class") == ["button"]
    checklist = html_of(client, f"/bookings/{ref}/papers")
    assert 'data-testid="photo-input"' not in checklist and 'data-testid="upload-form"' not in checklist
    assert ids_of(checklist, "papers-done")


@pytest.fixture()
def classic(app, session, client):
    """张三's 000 (cigc_classic) policy, signed in at NOW, in English."""
    w = World(session, effective=date(2026, 1, 1))
    set_clock(app, NOW)
    signed_in(client, W_MOBILE)
    return w, client


def test_where_the_seed_says_hospitals_may_need_the_originals_the_page_says_to_bring_them(session, classic):
    """000 Q&A lines 286-288: "部分地区的部分医院在协调预约就诊时，需要客户提供相关证件原件" (services/booking/booking_actions.ORIGINALS)."""
    w, client = classic
    b = arranged(session, w, "expert_outpatient", at(2026, 11, 26, 9, 0))
    detail = html_of(client, f"/bookings/{b.reference}")
    assert text_of(block(detail, "papers-done")) == "Nothing more to upload; please bring the originals on the day."
    assert "Add photos" not in text_of(block(detail, "papers-summary"))


def test_a_closed_booking_neither_asks_for_papers_nor_for_originals(session, classic):
    w, client = classic
    b = arranged(session, w, "expert_outpatient", at(2026, 11, 26, 9, 0))
    client.post(f"/bookings/{b.reference}/cancel", data={"csrf_token": csrf_from(html_of(client, "/home"))})
    detail = html_of(client, f"/bookings/{b.reference}")
    assert not ids_of(detail, "papers-done") and not ids_of(detail, "unsent-photos")
    assert text_of(block(detail, "papers")) == "See your papers"


# ------------------------------------------------------------------------------------------------ item 6: calls

def test_inside_the_cutoff_the_cancel_page_offers_the_driver_and_the_line_and_says_what_is_left(world, client):
    """003 同城专车接送: 2 a policy year (表1 line 554); one spent by nothing yet, this one held; cancelling inside the
    4 hours counts (特别说明(5) line 586), so 1 is left after it."""
    ref = booking_of(world, ACTIVE, "car_pickup").reference
    signed_in(client, ADULT)
    for path in (f"/bookings/{ref}/cancel", f"/bookings/{ref}/change"):
        page = html_of(client, path)
        assert attr_values(page, "call-contact", "href") == ["tel:13900000031"], path  # the driver (demo 王建军)
        assert "王建军" in text_of(block(page, "call-contact"))
        assert attr_values(page, "call-hotline", "href") == ["tel:952299"], path
        assert "button tel" in attr_values(page, "call-hotline", "class")[0]
        assert text_of(block(page, "after-cancel")) == "If you cancel, 1 use of Car to and from hospital is left this policy year."
    cancel = html_of(client, f"/bookings/{ref}/cancel")
    assert 'data-testid="confirm-change"' not in cancel and 'data-testid="change"' not in cancel


def test_every_phone_line_on_the_booking_pages_is_a_tel_button(world, client):
    ref = booking_of(world, ACTIVE, "nursing_aide").reference
    signed_in(client, ADULT)
    for path in (f"/bookings/{ref}", f"/bookings/{ref}/cancel", f"/bookings/{ref}/change"):
        links = re.findall(r'<a href="(tel:[^"]+)" class="([^"]+)" data-testid="cancel-phone"', html_of(client, path))
        assert links == [("tel:10109955", "button tel")], path


def test_outside_the_cutoff_there_is_nobody_to_call_yet(world, client):
    ref = booking_of(world, ACTIVE, "nursing_aide").reference  # free to change for 3 more hours
    page = html_of(signed_in(client, ADULT), f"/bookings/{ref}/cancel")
    assert not ids_of(page, "call-contact") and not ids_of(page, "call-hotline")
    assert text_of(block(page, "after-cancel")) == "If you cancel, 30 days of In-hospital nursing aide are left this policy year."


def test_a_change_no_longer_possible_is_not_offered_and_says_why_and_what_cancelling_leaves(app, session, classic):
    """000 专家门诊: free until 12:00 the day before, then cancelling counts (（一）2.9(6)) and no late change is taken;
    one visit in the whole service term (2.2 line 36)."""
    w, client = classic
    b = arranged(session, w, "expert_outpatient", at(2026, 11, 24, 9, 0))
    set_clock(app, at(2026, 11, 23, 12, 30))
    detail = html_of(client, f"/bookings/{b.reference}")
    assert not ids_of(detail, "change")
    assert text_of(block(detail, "no-change")).startswith("The time to change ended at")
    assert "Cancelling now counts as used." in text_of(block(detail, "no-change"))
    assert attr_values(detail, "after-cancel", "data-left") == ["0"]
    assert "0 uses of Expert outpatient appointment are left for the whole service term" in text_of(block(detail, "after-cancel"))


# ------------------------------------------------------------------------------------------------ item 7

def test_a_booking_that_cannot_be_cancelled_says_so_once_and_what_a_phone_cancellation_costs(world, client):
    ref = booking_of(world, ACTIVE, "inpatient").reference
    signed_in(client, ADULT)
    for path in (f"/bookings/{ref}", f"/bookings/{ref}/cancel", f"/bookings/{ref}/change"):
        page = html_of(client, path)
        assert len(ids_of(page, "not-cancellable")) == 1, path
        assert text_of(page).count("cannot be cancelled or changed online") == 1, path
        sentence = text_of(block(page, "not-cancellable"))
        assert sentence.startswith("This booking cannot be cancelled or changed online. If you must cancel, please call"), path
        assert sentence.endswith("cancelling still uses up this Admission to a VIP/special-needs ward."), path
        assert attr_values(block(page, "not-cancellable"), "cancel-phone", "href") == ["tel:952299"], path
    cancel = html_of(client, f"/bookings/{ref}/cancel")
    assert "Cancel this booking?" not in cancel and "This booking can only be cancelled by phone" in cancel


# ------------------------------------------------------------------------------------------------ item 9: the agent

def test_an_agent_without_the_papers_scope_sees_what_is_missing_and_who_sends_it_never_the_pages(world, client):
    b = booking_of(world, WANG, "expert_outpatient")
    signed_in(client, demo.AGENT)
    detail = html_of(client, f"/bookings/{b.reference}")
    papers = block(detail, "papers-by-insured")
    assert "Papers must be sent by 王芳 in person." in text_of(papers)
    assert 'data-kind="diagnosis"' in papers
    pages = world.scalars(select(DocumentPage).join(Document).where(Document.booking_id == b.id)).all()
    assert pages and all(page.display_name for page in pages)  # the demo's photo has a file name to leak
    assert "<img" not in detail and "/papers/" not in detail
    assert not any(page.display_name in detail or page.public_id in detail for page in pages)
    assert not ids_of(detail, "papers") and not ids_of(detail, "unsent-photos")
    # The checklist itself stays closed to her (tests/test_family_matrix.py: 404, and logged).
    assert client.get(f"/bookings/{b.reference}/papers").status_code == 404


def test_the_insured_never_sees_the_agents_explanation(world, client):
    detail = html_of(signed_in(client, OTHER), f"/bookings/{booking_of(world, WANG, 'expert_outpatient').reference}")
    assert not ids_of(detail, "papers-by-insured") and ids_of(detail, "papers-summary")


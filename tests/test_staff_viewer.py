"""Deciding pages from the staff page viewer (issue 18 item 1), through the web with CSRF on.

刘秀兰 (13900000655) arrives at the desk with every page sent and none decided (the demo world with its papers);
here her diagnosis runs to four pages (two more than the demo's), so there is a next page to go to.
A verdict given in the viewer (`from=viewer`) opens the next page still waiting, in checklist order, and the
application once none is left, saying so; a refused verdict stays on the page with the reason and changes
nothing. On the application, decided pages are one line with their verdict, changeable until it is approved
(services/desk/review.decide_page judges: only while the application is in review).
"""
from __future__ import annotations

import re
from urllib.parse import urlsplit

import pytest

from webapp.models import Account, Booking
from webapp.services.demo import demo_papers
from webapp.services.papers import documents, photos
from webapp.services.papers.storage import storage_from_config

from .conftest import build_demo
from .test_staff_access import client_for
from .test_staff_console import REVIEWER, by_name, counts, desk_post
from .web_helpers import NOW, attr_values, block, csrf_from, element, set_clock, text_of, use_english


def two_more_pages(session, storage, booking: Booking, now) -> None:
    """Pages 3 and 4 of 刘秀兰's diagnosis, sent by her as the first two were."""
    applicant = session.get(Account, booking.applicant_account_id)
    for page in (3, 4):
        photo = photos.process(demo_papers.paper_photo("diagnosis", booking.policy.insured.name, seed=60 + page, page=page))
        documents.add_page(session, storage, booking_id=booking.id, kind="diagnosis", photo=photo, account=applicant,
                           now=now, display_name=f"IMG_{2060 + page}.jpg")
    documents.submit(session, booking_id=booking.id, account=applicant, now=now)


@pytest.fixture()
def papered(app, session):
    """The demo world with its papers (photos drawn and stored), 刘秀兰's diagnosis on four pages."""
    storage = storage_from_config(app.config)
    build_demo(session, NOW, storage)
    two_more_pages(session, storage, by_name(session, "刘秀兰"), NOW)
    set_clock(app, NOW)
    return session


def viewer_url(booking, page_id: str) -> str:
    return f"/staff/bookings/{booking.reference}/pages/{page_id}"


def from_viewer(client, booking, page_id: str, **form):
    """Submit the viewer's decision bar for one page, as the viewer's own form does."""
    html = client.get(viewer_url(booking, page_id)).get_data(as_text=True)
    return client.post(f"{viewer_url(booking, page_id)}/decide",
                       data={"csrf_token": csrf_from(html), "from": "viewer", **form})


def where(response) -> str:
    assert response.status_code == 303
    parts = urlsplit(response.headers["Location"])
    return parts.path + (f"#{parts.fragment}" if parts.fragment else "")


def page_ids(client, booking) -> list[str]:
    html = client.get(f"/staff/bookings/{booking.reference}").get_data(as_text=True)
    return attr_values(html, "staff-page", "data-page")


def flashes(html: str) -> list[str]:
    return [text_of(m) for m in re.findall(r'data-testid="flash">(.*?)</p>', html)]


def statuses(session) -> dict:
    return dict(counts(session)["pages"])


def test_each_verdict_in_the_viewer_opens_the_next_page_waiting_then_the_application(app, papered):
    world = papered
    target = by_name(world, "刘秀兰")
    reviewer = client_for(app, REVIEWER)
    use_english(reviewer)
    pages = page_ids(reviewer, target)
    assert len(pages) == 4
    viewer = reviewer.get(viewer_url(target, pages[1])).get_data(as_text=True)
    assert attr_values(viewer, "viewer-left", "data-left") == ["4"]
    assert 'name="from" value="viewer"' in block(viewer, "decision-bar")
    # From the second page on: the third, the fourth, then back to the first (nothing is skipped).
    assert where(from_viewer(reviewer, target, pages[1], decision="accepted")) == viewer_url(target, pages[2])
    assert where(from_viewer(reviewer, target, pages[2], decision="unreadable", note="反光")) == viewer_url(target, pages[3])
    assert where(from_viewer(reviewer, target, pages[3], decision="accepted")) == viewer_url(target, pages[0])
    viewer = reviewer.get(viewer_url(target, pages[0])).get_data(as_text=True)
    assert attr_values(viewer, "viewer-left", "data-left") == ["1"]
    last = from_viewer(reviewer, target, pages[0], decision="rejected", reason="incomplete", note="右下角被遮住")
    assert where(last) == f"/staff/bookings/{target.reference}#papers"
    html = reviewer.get(f"/staff/bookings/{target.reference}").get_data(as_text=True)
    assert flashes(html) == ["Page not accepted: the customer is told why and asked to send it again.",
                             "Every page sent is decided: nothing is left to check in the viewer."]
    assert [statuses(world)[p] for p in pages] == ["rejected", "accepted", "unreadable", "accepted"]
    # A verdict given on the application itself returns to the application, as before.
    assert where(desk_post(reviewer, target, f"pages/{pages[0]}/decide", {"decision": "accepted"})) == (
        f"/staff/bookings/{target.reference}#page-{pages[0]}")


def test_decided_pages_collapse_to_one_line_with_their_verdict(app, papered):
    world = papered
    target = by_name(world, "刘秀兰")
    reviewer = client_for(app, REVIEWER)
    use_english(reviewer)
    pages = page_ids(reviewer, target)
    desk_post(reviewer, target, f"pages/{pages[0]}/decide", {"decision": "accepted"})
    desk_post(reviewer, target, f"pages/{pages[1]}/decide", {"decision": "rejected", "reason": "name_mismatch",
                                                              "note": "姓名不符"})
    html = reviewer.get(f"/staff/bookings/{target.reference}").get_data(as_text=True)
    rows = {p: element(html, f'id="page-{p}"') for p in pages}
    for decided, verdict in ((pages[0], "Accepted"), (pages[1], "Not accepted")):
        line = text_of(block(rows[decided], "page-verdict"))
        assert verdict in line and f"/papers/{decided}/thumb" not in rows[decided]
        assert 'data-testid="change-verdict"' in rows[decided]  # the full form, folded
    assert "姓名不符" in text_of(block(rows[pages[1]], "page-verdict"))
    for waiting in pages[2:]:
        assert 'data-testid="page-verdict"' not in rows[waiting] and f"/papers/{waiting}/thumb" in rows[waiting]
        assert 'data-testid="decide-accept"' in rows[waiting] and 'data-testid="change-verdict"' not in rows[waiting]


def test_a_verdict_can_be_changed_until_the_application_is_approved(app, papered):
    world = papered
    target = by_name(world, "刘秀兰")
    reviewer = client_for(app, REVIEWER)
    use_english(reviewer)
    pages = page_ids(reviewer, target)
    for page in pages:
        desk_post(reviewer, target, f"pages/{page}/decide", {"decision": "accepted"})
    # Changed from the folded form, and changed back: the service allows it while in review.
    desk_post(reviewer, target, f"pages/{pages[2]}/decide", {"decision": "unreadable", "note": "模糊"})
    assert statuses(world)[pages[2]] == "unreadable"
    viewer = reviewer.get(viewer_url(target, pages[2])).get_data(as_text=True)
    assert 'data-testid="decision-bar"' in viewer  # a decided page keeps its bar in the viewer
    assert where(from_viewer(reviewer, target, pages[2], decision="accepted")) == f"/staff/bookings/{target.reference}#papers"
    assert statuses(world)[pages[2]] == "accepted"
    assert where(desk_post(reviewer, target, "approve")) == f"/staff/bookings/{target.reference}"
    assert by_name(world, "刘秀兰").state == "approved"
    # Approved: the verdicts stand. No control offers a change, and a change asked for anyway is refused.
    html = reviewer.get(f"/staff/bookings/{target.reference}").get_data(as_text=True)
    assert attr_values(html, "staff-page", "data-status") == ["accepted"] * 4
    assert 'data-testid="change-verdict"' not in html and 'data-testid="decide-accept"' not in html
    viewer = reviewer.get(viewer_url(target, pages[0])).get_data(as_text=True)
    assert 'data-testid="decision-bar"' not in viewer and 'data-testid="viewer-image"' in viewer
    before = counts(world)
    refused = reviewer.post(f"{viewer_url(target, pages[0])}/decide",
                            data={"csrf_token": csrf_from(viewer), "from": "viewer", "decision": "rejected",
                                  "reason": "expired"})
    assert where(refused) == viewer_url(target, pages[0])
    shown = reviewer.get(viewer_url(target, pages[0])).get_data(as_text=True)
    assert "no longer waiting for review" in text_of(block(shown, "flash-error"))
    assert counts(world) == before


@pytest.mark.parametrize("form,message", [
    ({"decision": "rejected"}, "Please choose a reason for not accepting the page"),
    ({"decision": "rejected", "reason": "made_up", "note": "x"}, "Please choose a reason for not accepting the page"),
    ({"decision": "maybe"}, "Please choose accept, unreadable or not accepted"),
    ({}, "Please choose accept, unreadable or not accepted"),
])
def test_a_bad_verdict_in_the_viewer_stays_on_the_page_says_why_and_changes_nothing(app, papered, form, message):
    world = papered
    target = by_name(world, "刘秀兰")
    reviewer = client_for(app, REVIEWER)
    use_english(reviewer)
    page = page_ids(reviewer, target)[1]
    before = counts(world)
    assert where(from_viewer(reviewer, target, page, **form)) == viewer_url(target, page)
    shown = reviewer.get(viewer_url(target, page)).get_data(as_text=True)
    assert message in text_of(block(shown, "flash-error"))
    assert attr_values(shown, "viewer", "data-status") == ["received"]
    assert counts(world) == before


def test_a_verdict_for_a_page_of_another_application_is_refused_from_the_viewer(app, papered):
    world = papered
    target, other = by_name(world, "刘秀兰"), by_name(world, "张伟", "second_opinion")
    reviewer = client_for(app, REVIEWER)
    foreign = page_ids(reviewer, other)[0]
    html = reviewer.get(f"/staff/bookings/{target.reference}").get_data(as_text=True)
    before = counts(world)
    response = reviewer.post(f"{viewer_url(target, foreign)}/decide",
                             data={"csrf_token": csrf_from(html), "from": "viewer", "decision": "accepted"})
    assert where(response) == f"/staff/bookings/{target.reference}#page-{foreign}"  # not the other application's viewer
    assert counts(world) == before

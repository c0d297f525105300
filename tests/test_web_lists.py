"""The bookings list grouped for action and the messages grouped by booking, through the web client (issue 15
items 3 and 5): the groups' order, the rows' flags and day labels, messages read on opening and on reading the
booking, the nav badge on the next page (the home's cached page included), and nobody reading anyone else's."""
from __future__ import annotations

import json
import re
from html import unescape

import pytest
from sqlalchemy import select, update

from webapp.models import Account, Booking, Notification
from webapp.services.demo import demo
from webapp.services.papers.storage import storage_from_config

from .conftest import build_demo
from .web_helpers import ADULT, NOW, OTHER, attr_values, block, element, fresh, set_clock, sign_in, text_of
from .web_helpers import testids as ids_of


def client_for(app, mobile):
    client = app.test_client()
    sign_in(client, mobile)
    return client


@pytest.fixture()
def demo_world(app, session):
    build_demo(session, NOW)
    set_clock(app, NOW)
    return session


@pytest.fixture()
def papered(app, session):
    """The demo world with its papers (张伟's page sent back, 王芳's photo not sent): slower, only where needed."""
    build_demo(session, NOW, storage_from_config(app.config))
    set_clock(app, NOW)
    return session


def refs_of(session, name: str) -> dict[str, str]:
    """service code → booking reference, for the insured person `name`."""
    fresh(session)
    rows = session.scalars(select(Booking)).all()
    return {b.service.code: b.reference for b in rows if b.policy.insured.name == name}


def group_refs(html: str, group: str) -> list[str]:
    return attr_values(block(html, f"bookings-{group}"), "booking-row", "data-reference")


def row_html(html: str, reference: str) -> str:
    return element(html, f'data-testid="booking-row" data-reference="{reference}"')


def group_html(html: str, reference: str) -> str:
    return element(html, f'data-testid="message-group" data-reference="{reference}"')


def read_on_open(client, html: str):
    """What the browser does once the page has loaded: htmx posts the page's read-on-open values (hx-trigger load)."""
    tag = re.search(r'<div[^>]*data-testid="read-on-open"[^>]*>', html).group(0)
    values = json.loads(unescape(re.search(r"hx-vals='([^']*)'", tag).group(1)))
    token = re.search(r'"X-CSRFToken": "([^"]+)"', unescape(html)).group(1)
    return client.post("/messages/read", data=values, headers={"HX-Request": "true", "X-CSRFToken": token})


def unread(session, mobile: str) -> list[Notification]:
    fresh(session)
    account = session.scalar(select(Account).where(Account.mobile == mobile))
    return session.scalars(select(Notification).where(Notification.account_id == account.id,
                                                      Notification.read_at.is_(None))).all()


# --- bookings ---------------------------------------------------------------------------------------

def test_zhang_sees_what_needs_him_then_what_is_coming_then_what_is_over(app, demo_world):
    html = client_for(app, ADULT).get("/bookings").get_data(as_text=True)
    refs = refs_of(demo_world, "张伟")
    # the aide's free change ends in 3 hours; the second opinion still needs its papers (demo.py)
    assert group_refs(html, "action") == [refs["nursing_aide"], refs["second_opinion"]]
    assert group_refs(html, "upcoming") == [refs["car_pickup"], refs["inpatient"]]  # in 3 hours, then in 6 days
    assert set(group_refs(html, "past")) == {refs["escort_outpatient"], refs["expert_outpatient"]}
    assert html.index('data-testid="bookings-action"') < html.index('data-testid="bookings-upcoming"') \
        < html.index('data-testid="bookings-past"')
    aide, car, opinion = (row_html(html, refs[c]) for c in ("nursing_aide", "car_pickup", "second_opinion"))
    assert attr_values(car, "row-day", "data-day") == ["today"]
    assert attr_values(aide, "row-day", "data-day") == ["tomorrow"]  # 15 hours from 10:00 is 01:00 tomorrow
    assert "11月23日 周一 13:00" in text_of(block(aide, "row-free-change"))  # 12 hours before the aide starts
    assert ids_of(opinion, "row-missing") and not ids_of(opinion, "row-day")
    assert ids_of(html, "row-retake") == [] and ids_of(html, "row-unsent") == []  # no papers in this world
    assert 'class="state state-scheduled"' in car and 'class="state state-completed"' in block(html, "bookings-past")


def test_a_page_to_retake_and_a_photo_not_sent_are_flagged_on_the_row(app, papered):
    zhang = client_for(app, ADULT).get("/bookings").get_data(as_text=True)
    opinion = row_html(zhang, refs_of(papered, "张伟")["second_opinion"])
    assert attr_values(opinion, "row-retake", "data-count") == ["1"]  # medical records page 2 (demo_papers.py)
    assert refs_of(papered, "张伟")["second_opinion"] in group_refs(zhang, "action")
    wang = client_for(app, OTHER).get("/bookings").get_data(as_text=True)
    visit = row_html(wang, refs_of(papered, "王芳")["expert_outpatient"])
    assert attr_values(visit, "row-unsent", "data-count") == ["1"] and group_refs(wang, "action") == [refs_of(papered, "王芳")["expert_outpatient"]]


# --- messages -----------------------------------------------------------------------------------------

def test_opening_messages_reads_them_and_the_badge_is_gone_on_the_next_page(app, demo_world):
    client = client_for(app, ADULT)
    home = client.get("/home").get_data(as_text=True)
    waiting = unread(demo_world, ADULT)
    assert waiting and text_of(block(home, "unread-count")) == str(len(waiting))
    html = client.get("/messages").get_data(as_text=True)
    assert text_of(block(html, "unread-count")) == str(len(waiting))
    assert html.count('class="new"') == len(waiting)  # what is new is marked
    assert len(unread(demo_world, ADULT)) == len(waiting)  # a GET reads nothing (a link preview must not)
    assert read_on_open(client, html).status_code == 204  # the page, once open, reads what it showed
    assert unread(demo_world, ADULT) == []
    assert read_on_open(client, html).status_code == 204  # again: nothing left, nothing wrong
    assert 'data-testid="unread-count"' not in client.get("/home").get_data(as_text=True)  # the cached home too
    again = client.get("/messages").get_data(as_text=True)
    assert 'class="new"' not in again and 'data-testid="mark-read"' not in again
    # grouped by booking, each group headed by the booking it is about
    refs = refs_of(demo_world, "张伟")
    groups = attr_values(html, "message-group", "data-reference")
    assert sorted(groups) == sorted(refs.values())
    for ref in groups:
        assert f'href="/bookings/{ref}#timeline-h"' in group_html(html, ref)


def test_messages_asking_for_action_come_first(app, papered):
    html = client_for(app, ADULT).get("/messages").get_data(as_text=True)
    opinion = refs_of(papered, "张伟")["second_opinion"]
    assert attr_values(html, "message-group", "data-reference")[0] == opinion  # its page must be retaken
    first = group_html(html, opinion)
    assert attr_values(first, "message", "data-kind")[0] == "paper_retake" and ids_of(first, "retake-link")


def test_reading_a_booking_reads_its_messages_and_nobody_elses(app, demo_world):
    refs = refs_of(demo_world, "王芳")
    wang_before = len(unread(demo_world, OTHER))
    zhou_before = unread(demo_world, demo.AGENT)
    assert wang_before and zhou_before
    zhou = client_for(app, demo.AGENT)  # 王芳's agent reads 王芳's booking: her own copies only
    seen = zhou.get(f"/bookings/{refs['expert_outpatient']}")
    assert seen.status_code == 200 and len(unread(demo_world, demo.AGENT)) == len(zhou_before)  # the GET reads nothing
    assert read_on_open(zhou, seen.get_data(as_text=True)).status_code == 204
    assert unread(demo_world, demo.AGENT) == [] and len(unread(demo_world, OTHER)) == wang_before
    zhang = client_for(app, ADULT)
    theirs = refs_of(demo_world, "张伟")
    demo_world.execute(update(Notification).values(read_at=None))  # every booking of 张伟 has unread messages
    demo_world.commit()
    before = {n.booking_id for n in unread(demo_world, ADULT)}
    car = fresh(demo_world).scalar(select(Booking).where(Booking.reference == theirs["car_pickup"]))
    assert car.id in before and len(before) > 1
    page = zhang.get(f"/bookings/{car.reference}").get_data(as_text=True)
    assert read_on_open(zhang, page).status_code == 204
    after = {n.booking_id for n in unread(demo_world, ADULT)}
    assert after == before - {car.id}
    again = zhang.get(f"/bookings/{car.reference}").get_data(as_text=True)
    assert text_of(block(again, "unread-count")) == str(len(unread(demo_world, ADULT)))  # the badge counts the rest
    assert read_on_open(zhang, again).status_code == 204  # nothing left to read: still fine
    # Someone else's booking, or none: nothing of anyone's is read.
    stranger = client_for(app, OTHER)
    stranger_page = stranger.get("/messages").get_data(as_text=True)
    wang_unread = len(unread(demo_world, OTHER))
    zhang_ids = ",".join(str(n.id) for n in unread(demo_world, ADULT))
    token = re.search(r'"X-CSRFToken": "([^"]+)"', unescape(stranger_page)).group(1)
    for values in ({"booking": theirs["inpatient"]}, {"booking": "LT-NOSUCH"}, {"ids": zhang_ids + ",x,²,99999999999999"}):
        done = stranger.post("/messages/read", data=values, headers={"HX-Request": "true", "X-CSRFToken": token})
        assert done.status_code == 204
    assert {n.booking_id for n in unread(demo_world, ADULT)} == after and len(unread(demo_world, OTHER)) == wang_unread

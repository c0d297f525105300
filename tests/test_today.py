"""The home's "what to do today" strip (issue 15 item 1; services/home/today.py), with fixed clocks on the demo world.

The demo (services/demo/demo.py) at Monday 23 Nov 2026 10:00: 张伟's car pickup at 13:00 (003 同城专车接送, 4-hour
cutoff), his nursing aide at 01:00 on Tuesday (003 护工, free change until 12 hours before: 13:00 today), a
second opinion with a page sent back, an admission on Sunday 29 Nov 09:00 that cannot be cancelled (003 特别说明(5));
王芳's expert visit with one photo added, not sent; 吴桂英's named expert could not be booked (000 Q&A).
"""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import event, select

from webapp.models import Account, Person, ProxyGrant
from webapp.services.booking.booking_actions import Contact
from webapp.services.demo import demo
from webapp.services.family import family
from webapp.services.home import today
from webapp.services.papers.storage import storage_from_config

from .conftest import World, at, build_demo
from .web_helpers import NOW


@pytest.fixture()
def papered(app, session):
    build_demo(session, NOW, storage_from_config(app.config))
    return session


def account(session, mobile: str) -> Account:
    return session.scalar(select(Account).where(Account.mobile == mobile))


def strip(session, mobile: str, now=NOW, person_id=None):
    who = account(session, mobile)
    return today.items_for(session, who, person_id or who.person_id, now)


def test_zhang_weis_day_what_to_do_first_then_what_is_coming(papered):
    items = strip(papered, demo.ADULT)
    assert [(i.kind, i.service_code) for i in items] == [
        ("retake", "second_opinion"), ("appointment", "car_pickup"), ("appointment", "nursing_aide")]
    retake, car, aide = items
    assert (retake.count, retake.document) == (1, "medical_records")
    assert (aide.free_until, aide.free_day) == (NOW + timedelta(hours=3), "today")  # 12 hours before the aide starts
    assert car.free_until is None  # inside its 4-hour cutoff
    assert (car.day, car.at, car.contact) == ("today", NOW + timedelta(hours=3), Contact("driver", "王建军", "13900000031"))
    assert car.place == "上海市徐汇区示例路1号"
    assert (aide.day, aide.contact.name, aide.place) == ("tomorrow", "李秀梅", "复旦大学附属中山医院")


def test_a_photo_added_but_not_sent(papered):
    [item] = strip(papered, demo.OTHER)
    assert (item.kind, item.count, item.document, item.service_code) == ("unsent", 1, "diagnosis", "expert_outpatient")


def test_alternatives_waiting_for_an_answer(papered):
    [item] = strip(papered, "13900000622")  # 吴桂英: 王建国主任 could not be booked, two alternatives offered
    assert (item.kind, item.service_code) == ("alternatives", "expert_outpatient")


def test_nothing_to_do_is_an_empty_strip(papered):
    parent = account(papered, demo.PARENT)
    child = papered.scalar(select(Person.id).where(Person.name == "李小明"))
    assert today.items_for(papered, parent, child, NOW) == []  # his visit is approved and being arranged


@pytest.mark.parametrize("hours_earlier, shown", [(22, False), (21, True), (20, True)])
def test_a_free_change_shows_only_in_its_last_24_hours(papered, hours_earlier, shown):
    # The aide's free change ends at NOW + 3 h: 25, 24 and 23 hours away. Its start (Tue 01:00) is not today or
    # tomorrow then, so the countdown is an item of its own.
    items = strip(papered, demo.ADULT, now=NOW - timedelta(hours=hours_earlier))
    found = [i for i in items if i.kind == "free_change" and i.service_code == "nursing_aide"]
    assert bool(found) is shown
    assert all(i.at == NOW + timedelta(hours=3) for i in found)


def test_without_anything_today_or_tomorrow_the_next_appointment(papered):
    later = NOW + timedelta(hours=16)  # the car and the aide have started
    appointments = [i for i in strip(papered, demo.ADULT, now=later) if i.kind == "appointment"]
    assert [(i.service_code, i.day) for i in appointments] == [("inpatient", None)]
    assert appointments[0].contact is None  # an admission has no one to call on the day: the page offers the line


def test_the_strip_costs_four_queries_whatever_the_history(papered):
    adult = account(papered, demo.ADULT)
    statements = []
    listener = lambda *args: statements.append(args[2])  # noqa: E731
    event.listen(papered.get_bind(), "before_cursor_execute", listener)
    try:
        today.items_for(papered, adult, adult.person_id, NOW)
    finally:
        event.remove(papered.get_bind(), "before_cursor_execute", listener)
    selects = [s for s in statements if s.lstrip().upper().startswith("SELECT")]
    assert len(selects) == 4, selects  # bookings, their steps, their papers, the family requests


def test_family_requests_open_or_decided_lately(session):
    world = World(session)
    parent = world.guardian(status="pending")
    [item] = today.items_for(session, parent, None, at(2026, 11, 23, 10, 0))
    assert (item.kind, item.request.state, item.request.name) == ("family_request", "pending", world.person.name)
    grant = session.scalar(select(ProxyGrant).where(ProxyGrant.grantee_account_id == parent.id))
    decided = at(2026, 11, 16, 9, 0)
    grant.status, grant.decided_at = "rejected", decided
    session.commit()
    [item] = today.items_for(session, parent, None, decided + family.RECENT - timedelta(hours=1))
    assert item.request.state == "rejected"
    assert today.items_for(session, parent, None, decided + family.RECENT + timedelta(hours=1)) == []

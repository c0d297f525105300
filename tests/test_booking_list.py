"""My bookings grouped for action (services/booking/booking_list.py, issue 15 item 3), with fixed clocks only.

World: 张三 with a 003 (zhongan_vip) policy from 2026-01-01, so every service is past its waiting period. The change
rules are the catalog's: car pickup 4 hours before (003 同城专车接送), nursing aide 12 hours before (003 重疾住院护工),
escort the noon before (003 门诊陪诊), admission never (003 特别说明(5)).
"""
from __future__ import annotations

import secrets
from datetime import date, timedelta

import pytest
from sqlalchemy import event

from webapp.models import Document, DocumentPage
from webapp.services.booking import bookings
from webapp.services.booking.booking_list import ACTION, PAST, TODAY, TOMORROW, UPCOMING, booking_list, day_word
from webapp.services.papers import documents

from .conftest import World, at

NOW = at(2026, 11, 23, 10, 0)  # Monday, China time
TODAY_DATE = date(2026, 11, 23)


@pytest.fixture()
def w(session):
    return World(session, "zhongan_vip", effective=date(2026, 1, 1))


def apply(w, service, *, applied=NOW - timedelta(days=3), slip=None, **details):
    outcome = bookings.apply(w.session, account=w.account, policy_id=w.policy.id, service_code=service,
                             request_key=f"k-{service}-{secrets.token_hex(4)}", now=applied,
                             details={"city": "上海", **details}, admission_slip_date=slip)
    assert outcome.ok, outcome.reasons
    return outcome.booking


def approved(w, service, *, applied=NOW - timedelta(days=3), **kw):
    b = apply(w, service, applied=applied, **kw)
    bookings.start_review(w.session, b.id, staff=w.staff, now=applied + timedelta(hours=1))
    bookings.approve(w.session, b.id, staff=w.staff, now=applied + timedelta(hours=2))
    return b


def scheduled(w, service, starts_at, **kw):
    b = approved(w, service, **kw)
    return bookings.schedule(w.session, b.id, staff=w.staff, now=NOW - timedelta(days=1), starts_at=starts_at,
                             appointment={"hospital": "复旦大学附属中山医院"})


def car(w, starts_at):
    return scheduled(w, "car_pickup", starts_at, slip=date(2026, 11, 20))


def page(w, b, kind, status, replaces=None):
    """A page row in the state under test (the list reads states only; photos are tested in test_photos)."""
    doc = w.session.query(Document).filter_by(booking_id=b.id, kind=kind).one_or_none()
    if doc is None:
        doc = Document(booking_id=b.id, person_id=w.person.id, kind=kind, status=status, created_at=NOW, updated_at=NOW)
        w.session.add(doc)
        w.session.flush()
    p = DocumentPage(public_id=secrets.token_hex(8), document_id=doc.id, storage_key=secrets.token_hex(16), sha256=secrets.token_hex(32),
                     width=10, height=10, byte_size=10, status=status, replaces_id=replaces.id if replaces else None,
                     uploaded_by_id=w.account.id, created_at=NOW)
    w.session.add(p)
    w.session.commit()
    return p


def listed(w, now=NOW):
    person_id = w.person.id
    w.session.expire_all()
    return booking_list(w.session, [person_id], now)


def refs(rows):
    return [r.booking.reference for r in rows]


def row(w, b, now=NOW):
    lists = listed(w, now)
    [found] = [r for r in (*lists.action, *lists.upcoming, *lists.past) if r.booking.id == b.id]
    return found


# --- day labels ---------------------------------------------------------------------------------------

def test_today_and_tomorrow_are_china_calendar_days():
    assert day_word(at(2026, 11, 23, 0, 0), TODAY_DATE) == TODAY
    assert day_word(at(2026, 11, 23, 23, 59), TODAY_DATE) == TODAY
    assert day_word(at(2026, 11, 24, 0, 0), TODAY_DATE) == TOMORROW
    assert day_word(at(2026, 11, 25, 0, 0), TODAY_DATE) is None
    assert day_word(at(2026, 11, 22, 23, 59), TODAY_DATE) is None  # yesterday is no label
    assert day_word(None, TODAY_DATE) is None
    # 16:30 UTC on the 23rd is 00:30 on the 24th in China: tomorrow, whatever the server's zone
    from datetime import datetime, timezone
    assert day_word(datetime(2026, 11, 23, 16, 30, tzinfo=timezone.utc), TODAY_DATE) == TOMORROW


# --- groups -------------------------------------------------------------------------------------------

def test_no_person_no_bookings(w):
    assert not booking_list(w.session, [], NOW)
    assert not listed(w)


def test_three_groups_in_their_order(w):
    pickup = car(w, NOW + timedelta(hours=5))  # free until NOW + 1 h: ends within 24 h
    admission = scheduled(w, "inpatient", at(2026, 11, 24, 9, 0), slip=date(2026, 11, 20))  # never changeable
    escort = scheduled(w, "escort_outpatient", at(2026, 11, 27, 9, 0))  # free until the 26th at noon: > 24 h
    done = scheduled(w, "escort_outpatient", at(2026, 11, 20, 9, 0))
    bookings.complete(w.session, done.id, staff=w.staff, now=at(2026, 11, 20, 12, 0))
    lists = listed(w)
    assert refs(lists.action) == [pickup.reference]
    assert lists.action[0].free_until == NOW + timedelta(hours=1) and lists.action[0].day == TODAY
    assert refs(lists.upcoming) == [admission.reference, escort.reference]  # by date
    assert [r.day for r in lists.upcoming] == [TOMORROW, None]
    assert refs(lists.past) == [done.reference] and lists.past[0].day is None
    assert {r.group for r in lists.action} == {ACTION} and {r.group for r in lists.past} == {PAST}
    assert {r.group for r in lists.upcoming} == {UPCOMING}


@pytest.mark.parametrize("hours_to_deadline, shown", [
    (24, True),   # exactly 24 hours left: inside the window
    (24.02, False),  # a minute more: not yet
    (0.5, True),
    (0, True),     # the deadline itself: the 4-hour rule is inclusive (003 "至少提前4小时"), still free
    (-0.02, False),  # a minute late: nothing free left to act on
])
def test_a_free_change_is_flagged_within_24_hours(w, hours_to_deadline, shown):
    pickup = car(w, NOW + timedelta(hours=4 + hours_to_deadline))
    found = row(w, pickup)
    assert (found.group == ACTION) is shown
    assert (found.free_until == pickup.starts_at - timedelta(hours=4)) if shown else found.free_until is None


def test_the_nursing_aide_counts_its_12_hours(w):
    aide = scheduled(w, "nursing_aide", NOW + timedelta(hours=15), slip=date(2026, 11, 20), days=7)
    found = row(w, aide)
    assert found.group == ACTION and found.free_until == NOW + timedelta(hours=3)
    assert row(w, aide, NOW + timedelta(hours=3, minutes=1)).group == UPCOMING  # past it: no more free change


def test_a_never_changeable_booking_is_never_flagged_for_a_free_change(w):
    admission = scheduled(w, "inpatient", NOW + timedelta(hours=2), slip=date(2026, 11, 20))
    found = row(w, admission)
    assert (found.group, found.free_until, found.day) == (UPCOMING, None, TODAY)


def test_upcoming_by_date_promises_by_their_day_undated_last(w):
    later = scheduled(w, "escort_outpatient", at(2026, 11, 30, 9, 0))
    promised = approved(w, "second_opinion")  # approved: a promise date, no appointment
    fresh = apply(w, "escort_outpatient", applied=NOW - timedelta(hours=1))  # no papers asked, no date yet
    w.session.refresh(promised)
    assert promised.arrange_by is not None
    lists = listed(w)
    assert lists.action == []
    order = sorted([(later.starts_at.date(), later.reference), (promised.arrange_by, promised.reference)])
    assert refs(lists.upcoming) == [ref for _, ref in order] + [fresh.reference]
    assert lists.upcoming[-1].when is None
    on_promise = row(w, promised, at(promised.arrange_by.year, promised.arrange_by.month, promised.arrange_by.day, 8, 0))
    assert on_promise.day == TODAY


def test_past_latest_first(w):
    first = scheduled(w, "escort_outpatient", at(2026, 11, 10, 9, 0))
    bookings.complete(w.session, first.id, staff=w.staff, now=at(2026, 11, 10, 12, 0))
    withdrawn = apply(w, "second_opinion")
    bookings.withdraw(w.session, withdrawn.id, actor=w.account, now=NOW - timedelta(days=1))
    assert refs(listed(w).past) == [withdrawn.reference, first.reference]


# --- papers -------------------------------------------------------------------------------------------

def test_papers_missing_while_the_application_takes_them(w):
    b = apply(w, "second_opinion")
    found = row(w, b)
    assert found.group == ACTION and found.missing == ("diagnosis", "medical_records")
    page(w, b, "diagnosis", documents.RECEIVED)
    assert row(w, b).missing == ("medical_records",)
    page(w, b, "medical_records", documents.RECEIVED)
    found = row(w, b)
    assert (found.group, found.missing, found.retakes, found.unsent) == (UPCOMING, (), 0, 0)


def test_complete_papers_are_never_missing(w):
    b = approved(w, "second_opinion")  # approval records complete papers (bookings.approve)
    assert row(w, b).missing == ()


def test_a_retake_then_its_draft(w):
    b = apply(w, "second_opinion")
    page(w, b, "diagnosis", documents.ACCEPTED)
    page(w, b, "medical_records", documents.ACCEPTED)
    sent_back = page(w, b, "medical_records", documents.REJECTED)
    found = row(w, b)
    assert (found.group, found.retakes, found.unsent, found.missing) == (ACTION, 1, 0, ())
    page(w, b, "medical_records", documents.DRAFT, replaces=sent_back)  # retaken, not sent: now an unsent photo
    found = row(w, b)
    assert (found.group, found.retakes, found.unsent) == (ACTION, 0, 1)


def test_unreadable_pages_and_drafts_are_counted_per_page(w):
    b = apply(w, "second_opinion")
    page(w, b, "diagnosis", documents.UNREADABLE)
    page(w, b, "diagnosis", documents.UNREADABLE)
    page(w, b, "medical_records", documents.DRAFT)
    page(w, b, "medical_records", documents.DRAFT)
    page(w, b, "medical_records", documents.DRAFT)
    found = row(w, b)
    assert (found.retakes, found.unsent, found.missing) == (2, 3, ())


def test_a_replaced_page_is_not_a_retake(w):
    b = apply(w, "second_opinion")
    page(w, b, "diagnosis", documents.REPLACED)
    page(w, b, "diagnosis", documents.RECEIVED)
    page(w, b, "medical_records", documents.ACCEPTED)
    assert row(w, b).group == UPCOMING


def test_a_closed_application_asks_for_nothing(w):
    b = apply(w, "second_opinion")
    page(w, b, "diagnosis", documents.DRAFT)
    page(w, b, "medical_records", documents.REJECTED)
    bookings.withdraw(w.session, b.id, actor=w.account, now=NOW - timedelta(days=1))
    found = row(w, b)
    assert (found.group, found.retakes, found.unsent, found.missing) == (PAST, 0, 0, ())


# --- alternatives -------------------------------------------------------------------------------------

def test_alternatives_wait_for_an_answer(w):
    b = approved(w, "expert_outpatient")
    bookings.record_failed_booking(w.session, b.id, staff=w.staff, now=NOW - timedelta(days=1), asked_for="王主任",
                                   alternatives="李主任，周四上午")
    found = row(w, b)
    assert (found.group, found.alternatives) == (ACTION, True)
    bookings.decline_alternatives(w.session, b.id, actor=w.account, now=NOW)  # 000 Q&A: ends, not counted
    assert (row(w, b).group, row(w, b).alternatives) == (PAST, False)


def test_most_pressing_first(w):
    aide = scheduled(w, "nursing_aide", NOW + timedelta(hours=15), slip=date(2026, 11, 20), days=7)  # free until +3 h
    pickup = car(w, NOW + timedelta(hours=5))  # free until +1 h
    papers = apply(w, "second_opinion")  # missing papers, no date
    assert refs(listed(w).action) == [pickup.reference, aide.reference, papers.reference]


# --- bounded queries ----------------------------------------------------------------------------------

def _queries(w) -> int:
    seen = []
    engine = w.session.get_bind()
    listener = lambda _conn, _cursor, statement, *rest: seen.append(statement.startswith("SELECT"))  # noqa: E731
    event.listen(engine, "before_cursor_execute", listener)
    try:
        listed(w)
    finally:
        event.remove(engine, "before_cursor_execute", listener)
    return sum(seen)


def test_the_number_of_queries_does_not_grow_with_the_bookings(w):
    first = apply(w, "second_opinion")
    page(w, first, "diagnosis", documents.DRAFT)
    one = _queries(w)
    for service in ("escort_outpatient", "escort_outpatient", "expert_outpatient", "mdt"):
        b = approved(w, service)
        page(w, b, "diagnosis", documents.REJECTED)
    car(w, NOW + timedelta(hours=5))
    assert _queries(w) == one == 7  # bookings, policies, insured, services, products, steps, pages

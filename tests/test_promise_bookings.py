"""Bookings, the staff queue and the customer's page keep the promise deadlines.promised_by gives (issue 14 item 5).

001 二【服务流程】lines 95-109: without an admission slip the desk first owes an expert visit within 3 working days;
the admission then counts 8–10 working days from the slip the visit yields. 002 二 2(3) line 181: the admission
counts from the latest of application, approval, complete papers and the slip.
"""
from __future__ import annotations

from datetime import date, timedelta

import pytest

from webapp.services.booking import bookings
from webapp.services.booking.booking_states import IllegalMove
from webapp.services.desk import staff_queue

from .conftest import World, at
from .web_helpers import block, csrf_from, set_clock, sign_in, text_of

NOW = at(2026, 11, 23, 10, 0)  # a Monday


def applied(w, service, slip=None, key="k1"):
    outcome = bookings.apply(w.session, account=w.account, policy_id=w.policy.id, service_code=service, request_key=key,
                             now=NOW, details={"city": "上海"}, admission_slip_date=slip)
    assert outcome.ok, outcome.reasons
    return outcome.booking


@pytest.fixture()
def haorensheng(session):
    return World(session, "haorensheng_gc", effective=date(2026, 1, 1))


@pytest.fixture()
def xingtao(session):
    return World(session, "xingtao_gc", effective=date(2026, 1, 1))


def test_001_without_a_slip_promises_the_expert_visit_and_then_the_admission_from_the_slip(haorensheng):
    w = haorensheng
    b = applied(w, "inpatient")
    assert b.arrange_by == date(2026, 11, 26)  # 3 working days: the expert visit (line 99)
    first = bookings.promise_of(b)
    assert first.first_step and first.working_days == 3
    done = bookings.record_admission_slip(w.session, b.id, staff=w.staff, now=NOW + timedelta(days=3),
                                          issued_on=date(2026, 11, 26))
    assert done.admission_slip_date == date(2026, 11, 26)
    assert done.arrange_by == date(2026, 12, 10)  # 10 working days from the slip's date (line 107)
    assert not bookings.promise_of(done).first_step


def test_001_with_a_slip_promises_the_admission_at_once(haorensheng):
    b = applied(haorensheng, "inpatient", slip=date(2026, 11, 20))
    assert b.arrange_by == date(2026, 12, 7)  # 10 working days from the application (line 87)


@pytest.mark.parametrize("issued_on, key", [
    (date(2026, 11, 27), "slip.date"),  # in the future
    (date(2025, 11, 1), "slip.date"),  # over a year before the application
])
def test_a_slip_date_that_cannot_be_right_is_refused_and_changes_nothing(haorensheng, issued_on, key):
    w = haorensheng
    b = applied(w, "inpatient")
    with pytest.raises(bookings.ChangeRefused) as refused:
        bookings.record_admission_slip(w.session, b.id, staff=w.staff, now=NOW, issued_on=issued_on)
    assert refused.value.key == key
    w.session.rollback()
    assert (b.admission_slip_date, b.arrange_by) == (None, date(2026, 11, 26))


def test_only_staff_record_a_slip_and_only_for_services_counted_from_one(haorensheng):
    w = haorensheng
    b = applied(w, "inpatient")
    with pytest.raises(IllegalMove):
        bookings.record_admission_slip(w.session, b.id, staff=w.account, now=NOW, issued_on=date(2026, 11, 23))
    w.session.rollback()
    bookings.withdraw(w.session, b.id, actor=w.account, now=NOW)  # one pool (line 7): free the use for the visit
    other = applied(w, "expert_outpatient", key="k3")
    with pytest.raises(bookings.ChangeRefused) as refused:
        bookings.record_admission_slip(w.session, other.id, staff=w.staff, now=NOW, issued_on=date(2026, 11, 23))
    assert refused.value.key == "slip.not_needed"


def test_002_admission_counts_from_the_last_of_four_events(xingtao):
    w = xingtao
    b = applied(w, "inpatient", slip=date(2026, 11, 23))
    assert b.arrange_by is None  # not yet approved, papers not in: no date is promised
    bookings.start_review(w.session, b.id, staff=w.staff, now=NOW + timedelta(hours=1))
    bookings.mark_papers_complete(w.session, b.id, staff=w.staff, now=at(2026, 11, 30, 10, 0))
    assert b.arrange_by is None  # still waiting for approval
    done = bookings.approve(w.session, b.id, staff=w.staff, now=at(2026, 12, 1, 10, 0))
    assert done.arrange_by == date(2026, 12, 15)  # 10 working days from approval on 1 Dec, not from the slip (7 Dec)


def test_the_queue_counts_the_001_visit_not_a_ten_day_admission(haorensheng):
    w = haorensheng
    b = applied(w, "inpatient")
    bookings.start_review(w.session, b.id, staff=w.staff, now=NOW + timedelta(hours=1))
    bookings.approve(w.session, b.id, staff=w.staff, now=NOW + timedelta(hours=2))
    row = staff_queue.row_for(b, [], {}, at(2026, 11, 27, 10, 0), alternatives_open=False)
    assert (row.due.day, row.due.overdue) == (date(2026, 11, 26), True)


def test_staff_record_the_slip_on_the_console_and_the_customer_reads_both_steps(app, haorensheng, client):
    w = haorensheng
    b = applied(w, "inpatient")
    w.session.commit()
    set_clock(app, NOW + timedelta(hours=1))
    sign_in(client, "13900000001")
    page = client.get(f"/bookings/{b.reference}").get_data(as_text=True)
    promise = block(page, "arrange-by")
    assert 'data-step="expert-visit"' in promise and "2026" in text_of(promise)
    client.post("/sign-out", data={"csrf_token": csrf_from(page)})
    sign_in(client, "13900000009")
    staff = client.get(f"/staff/bookings/{b.reference}").get_data(as_text=True)
    assert 'data-testid="record-slip"' in staff
    bad = client.post(f"/staff/bookings/{b.reference}/admission-slip", data={"csrf_token": csrf_from(staff),
                                                                            "issued_on": "not a date"})
    assert bad.status_code == 303
    staff = client.get(f"/staff/bookings/{b.reference}").get_data(as_text=True)
    assert 'data-testid="record-slip"' in staff  # nothing changed
    done = client.post(f"/staff/bookings/{b.reference}/admission-slip", data={"csrf_token": csrf_from(staff),
                                                                             "issued_on": "2026-11-23"})
    assert done.status_code == 303
    staff = client.get(f"/staff/bookings/{b.reference}").get_data(as_text=True)
    assert 'data-testid="record-slip"' not in staff and 'data-testid="slip-date"' in staff
    w.session.expire_all()
    assert bookings.promise_of(w.session.get(type(b), b.id)).by == date(2026, 12, 7)

"""Races against the database itself (SQLite by default, PostgreSQL when DATABASE_URL names one).

SECURITY.md: "N concurrent requests against a quota of 1 give exactly one success, on SQLite and on
PostgreSQL"; "a double tap or a replayed form does one thing".
"""
import threading
from datetime import date

import pytest
from sqlalchemy import func, select

from webapp.models import Account, Booking, Entitlement
from webapp.services.booking import bookings

from .conftest import World, at

pytestmark = pytest.mark.serial

NOW = at(2026, 11, 16, 10, 0)


def race(session_factory, n, work):
    """Run `work(session, i)` in n threads released together; return their results (or exceptions)."""
    barrier = threading.Barrier(n)
    results = [None] * n

    def run(i):
        session = session_factory()
        try:
            barrier.wait()
            results[i] = work(session, i)
        except Exception as exc:  # collected and asserted on below
            results[i] = exc
        finally:
            session.close()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    return results


def test_fifty_concurrent_applications_for_the_last_use(session, session_factory):
    w = World(session, "cigc_classic", effective=date(2026, 1, 1))
    policy_id = w.policy.id
    accounts = [w.account.id]
    for i in range(1, 50):  # 49 verified agents plus the insured: 50 different applicants, 50 request keys
        accounts.append(w.guardian(mobile=f"1370000{i:04d}").id)

    def work(s, i):
        return bookings.apply(s, account=s.get(Account, accounts[i]), policy_id=policy_id,
                              service_code="expert_outpatient", request_key=f"race-{i}", now=NOW)

    results = race(session_factory, 50, work)
    errors = [r for r in results if isinstance(r, Exception)]
    assert not errors, errors[:3]
    assert sum(r.ok for r in results) == 1
    assert all([x.key for x in r.reasons] == ["quota.in_progress"] for r in results if not r.ok)
    session.rollback()  # end the snapshot this session read before the race
    ent = session.scalar(select(Entitlement).where(Entitlement.policy_id == policy_id))
    assert (ent.held, ent.used) == (1, 0)
    assert session.scalar(select(func.count(Booking.id))) == 1


def test_twenty_replays_of_one_submission_create_one_booking(session, session_factory):
    w = World(session, "zhongan_vip", effective=date(2026, 1, 1))
    account_id, policy_id = w.account.id, w.policy.id

    def work(s, i):
        return bookings.apply(s, account=s.get(Account, account_id), policy_id=policy_id,
                              service_code="car_pickup", request_key="double-tap", now=NOW)

    results = race(session_factory, 20, work)
    assert not [r for r in results if isinstance(r, Exception)]
    assert len({r.booking.id for r in results}) == 1
    assert sum(r.created for r in results) == 1
    session.rollback()  # end the snapshot this session read before the race
    assert session.scalar(select(Entitlement.held).where(Entitlement.pool == "car_pickup")) == 1


def test_concurrent_cancellations_refund_once(session, session_factory):
    w = World(session, "cigc_classic", effective=date(2026, 1, 1))
    b = bookings.apply(session, account=w.account, policy_id=w.policy.id, service_code="expert_outpatient",
                       request_key="c", now=NOW).booking
    bookings.start_review(session, b.id, staff=w.staff, now=NOW)
    bookings.approve(session, b.id, staff=w.staff, now=NOW)
    bookings.schedule(session, b.id, staff=w.staff, now=NOW, starts_at=at(2026, 11, 25, 9, 0), appointment={})
    account_id, booking_id = w.account.id, b.id

    def work(s, i):
        return bookings.cancel(s, booking_id, actor=s.get(Account, account_id), now=at(2026, 11, 20, 9, 0))

    results = race(session_factory, 10, work)
    assert sum(not isinstance(r, Exception) for r in results) == 1
    session.rollback()  # end the snapshot this session read before the race
    ent = session.get(Entitlement, b.entitlement_id)
    assert (ent.held, ent.used) == (0, 0)


def test_replays_of_a_submission_for_the_last_use_answer_with_its_booking(session, session_factory):
    """Issue 16: on PostgreSQL a replay blocked on the quota row woke to find the use held by its own submission
    and was refused "in progress" (11 of 20); every replay must be answered with the one booking."""
    w = World(session, "cigc_classic", effective=date(2026, 1, 1))  # expert_outpatient: 1 use a year
    account_id, policy_id = w.account.id, w.policy.id

    def work(s, i):
        return bookings.apply(s, account=s.get(Account, account_id), policy_id=policy_id,
                              service_code="expert_outpatient", request_key="last-use-tap", now=NOW)

    results = race(session_factory, 20, work)
    assert not [r for r in results if isinstance(r, Exception)]
    assert [r.reasons for r in results if not r.ok] == []
    assert len({r.booking.id for r in results}) == 1
    assert sum(r.created for r in results) == 1
    late = bookings.apply(session, account=session.get(Account, account_id), policy_id=policy_id,
                          service_code="expert_outpatient", request_key="last-use-tap", now=NOW)
    assert (late.booking.id, late.created) == (results[0].booking.id, False)
    ent = session.scalar(select(Entitlement).where(Entitlement.policy_id == policy_id))
    assert (ent.held, ent.used) == (1, 0)

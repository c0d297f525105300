"""Messages by booking with those asking for action first, and reading a booking reads its messages
(services/booking/notifications.py grouped / asks_action / mark_booking_read, issue 15 item 5). Fixed clocks only."""
from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import event, select

from webapp.models import Notification
from webapp.services.booking import bookings, notifications

from .conftest import World, at

NOW = at(2026, 11, 16, 10, 0)


@pytest.fixture()
def w(session):
    return World(session, "zhongan_vip", effective=date(2026, 1, 1))


def apply(w, account=None, key="k1", service="expert_outpatient", now=NOW):
    return bookings.apply(w.session, account=account or w.account, policy_id=w.policy.id, service_code=service,
                          request_key=key, now=now, details={"city": "上海"}).booking


def note(w, kind, booking=None, minutes=0, **payload):
    n = Notification(account_id=w.account.id, subject_person_id=w.person.id, booking_id=booking.id if booking else None,
                     kind=kind, dedupe_key=f"t:{kind}:{minutes}:{booking.id if booking else 0}", created_at=NOW + timedelta(minutes=minutes),
                     payload={"reference": booking.reference if booking else None, **payload})
    w.session.add(n)
    w.session.commit()
    return n


def test_what_asks_for_action():
    def of(kind, **payload):
        return notifications.asks_action(Notification(kind=kind, payload=payload))

    assert of("paper_retake") and of("access_request")
    assert of("status", state="approved", rule=bookings.FAILED_BOOKING)  # alternatives to choose (000 Q&A)
    assert not of("status", state="scheduled") and not of("reminder_free_change")
    assert not of("access_decided") and not of("access_revoked") and not of("access_ended")


def test_grouped_by_booking_action_first(w):
    expert = apply(w)
    bookings.start_review(w.session, expert.id, staff=w.staff, now=NOW + timedelta(minutes=5))
    notifications.mark_read(w.session, w.account.id, NOW + timedelta(minutes=6))
    other = apply(w, key="k2", service="escort_outpatient", now=NOW + timedelta(minutes=10))  # newest, but no action
    retake = note(w, "paper_retake", expert, minutes=1, page_number=1, document="diagnosis")
    access = note(w, "access_request", None, minutes=2, grant="g1")
    groups = notifications.grouped(notifications.inbox(w.session, w.account.id))
    # the groups asking for action first, each by its newest message (the expert's review at +5 min)
    assert [g.booking_id for g in groups] == [expert.id, access.booking_id, other.id]
    assert [g.asks_action for g in groups] == [True, True, False]
    assert groups[0].reference == expert.reference and groups[1].reference is None
    kinds = [(n.kind, (n.payload or {}).get("state")) for n in groups[0].messages]
    assert kinds == [("paper_retake", None), ("status", "under_review"), ("status", "applied")]
    assert groups[0].messages[0].id == retake.id


def test_reading_a_booking_reads_only_its_own_messages_and_only_ones_own(w):
    parent = w.guardian()
    b = apply(w, account=parent)
    other = apply(w, key="k2", service="escort_outpatient")
    bookings.start_review(w.session, b.id, staff=w.staff, now=NOW + timedelta(hours=1))
    read_at = NOW + timedelta(hours=2)
    assert notifications.mark_booking_read(w.session, w.account.id, b.id, read_at) == 2
    w.session.expire_all()
    mine = {n.booking_id: n.read_at for n in w.session.scalars(select(Notification).where(
        Notification.account_id == w.account.id, Notification.booking_id == b.id))}
    assert set(mine.values()) == {read_at}
    assert notifications.unread_count(w.session, w.account.id) == 1  # the other booking's message stays unread
    assert [n.booking_id for n in notifications.inbox(w.session, w.account.id) if n.read_at is None] == [other.id]
    assert notifications.unread_count(w.session, parent.id) == 3  # the guardian's copies (of both) are theirs to read
    # Again: nothing left, nothing written (not even a transaction), the first read time kept.
    writes = []
    engine = w.session.get_bind()
    listener = lambda _conn, _cursor, statement, *rest: writes.append(statement)  # noqa: E731
    event.listen(engine, "before_cursor_execute", listener)
    try:
        assert notifications.mark_booking_read(w.session, w.account.id, b.id, read_at + timedelta(hours=1)) == 0
    finally:
        event.remove(engine, "before_cursor_execute", listener)
    assert [s for s in writes if not s.startswith("SELECT")] == []
    w.session.expire_all()
    assert {n.read_at for n in w.session.scalars(select(Notification).where(
        Notification.account_id == w.account.id, Notification.booking_id == b.id))} == {read_at}
    with pytest.raises(ValueError):
        notifications.mark_booking_read(w.session, w.account.id, b.id, read_at.replace(tzinfo=None))

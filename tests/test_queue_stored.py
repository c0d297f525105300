"""The staff queue's stored place of each application waiting for papers or review (bookings.review_from and
review_by, kept by staff_queue.remember; issue 16): always what the papers rule gives (row_for), after a page is
decided and after the calendar changes, so the queue counts, sorts and pages in SQL with the same answers."""
from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from webapp.models import Account, Booking, Document, DocumentPage
from webapp.services import workdays
from webapp.services.calendar import holiday_schedule
from webapp.services.desk import staff_queue
from webapp.services.desk.staff_queue import REVIEW, Filters
from webapp.services.papers import documents

from .test_staff_scale import desk_world  # noqa: F401  (the fixture)
from .web_helpers import NOW


def stored(session) -> dict[int, tuple]:
    session.expire_all()
    return {b.id: (b.review_from, b.review_by) for b in session.scalars(
        select(Booking).where(Booking.state.in_(staff_queue.WAITING_STATES)))}


def live(session) -> dict[int, tuple]:
    """What the papers rule gives now, computed from the papers (row_for), for every waiting application."""
    rows, _ = staff_queue.queue(session, Filters(stage="all"), NOW)
    return {r.booking.id: ((r.papers.in_at, r.due.day) if r.stage == REVIEW else (None, None))
            for r in rows if r.booking.state in staff_queue.WAITING_STATES}


def test_the_stored_places_are_the_papers_rule(desk_world):  # noqa: F811
    session = desk_world
    assert stored(session) == live(session)
    assert any(v[0] for v in stored(session).values()) and any(v[0] is None for v in stored(session).values())
    assert staff_queue.remember_all(session) == 0  # nothing to correct


def test_a_page_sent_back_moves_the_application_to_the_customer(desk_world):  # noqa: F811
    session = desk_world
    in_review = [i for i, (since, _day) in stored(session).items() if since is not None]
    booking_id = in_review[0]
    page = session.scalars(select(DocumentPage).join(Document).where(
        Document.booking_id == booking_id, DocumentPage.status.in_((documents.RECEIVED, documents.ACCEPTED)))).first()
    admin = session.scalar(select(Account).where(Account.staff_role == "admin"))
    documents.decide_page(session, public_id=page.public_id, staff=admin, now=NOW, decision=documents.UNREADABLE)
    session.commit()
    assert stored(session)[booking_id] == (None, None)
    assert stored(session) == live(session)
    assert staff_queue.stage_counts(session, Filters(), NOW)[REVIEW] == len(in_review) - 1


def test_a_holiday_set_on_a_promised_day_moves_the_stored_promise(desk_world):  # noqa: F811
    session = desk_world
    before = stored(session)
    booking_id, (since, day) = next((i, v) for i, v in sorted(before.items()) if v[0] is not None)
    admin = session.scalar(select(Account).where(Account.staff_role == "admin"))
    try:
        holiday_schedule.set_day(session, day, False, name="测试", now=NOW, entered_by_id=admin.id)
        after = stored(session)
        assert after[booking_id][1] > day and not workdays.is_workday(day)
        assert after == live(session)  # every stored promise is today's rule's
        holiday_schedule.clear_day(session, day, now=NOW + timedelta(minutes=1), entered_by_id=admin.id)
        assert stored(session) == before
    finally:
        session.rollback()

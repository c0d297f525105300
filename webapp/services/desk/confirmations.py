"""Day-before confirmation (issue 18 item 5): the day before an appointment the desk calls the customer to confirm
the time and the meeting point (seed 001 lines 33, 89, 101, 111: "就诊前1日，客服专员致电客户确认就诊当日导医服务的
等候地点、时间等细节"; 003 line 1550: "服务落实前将取得客户确认"). The portal lets the customer confirm from the
day-before reminder instead, and the coordinator's list of tomorrow shows who still needs a call.

A confirmation belongs to one appointment time: a booking moved to another time is unconfirmed again. Only a
scheduled booking whose appointment is today or tomorrow (China dates) and still ahead can be confirmed. The
customer's own confirmation is idempotent; the desk's note of a call replaces what was known before (a customer
may confirm, then phone to ask for a change). Every change is audited. Nothing here imports Flask.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload

from ...db import write_transaction
from ...models import Account, Booking, DayConfirmation
from .. import audit
from ..booking.booking_states import State
from ..clock import china_date, china_datetime, require_aware
from ..refusals import Refused as Refusal

UNCONFIRMED = "unconfirmed"
ONLINE = "confirmed_online"  # the customer (or a family member with the apply scope) in the portal
PHONE = "confirmed_phone"  # the desk, on the phone
WANTS_CHANGE = "wants_change"  # the desk, on the phone: the customer asks to change the time or cancel
STATES = (UNCONFIRMED, ONLINE, PHONE, WANTS_CHANGE)
DESK_OUTCOMES = (PHONE, WANTS_CHANGE)
MAX_NOTE = 200


class Refused(Refusal, ValueError):
    """Why a confirmation was not recorded (confirm.*)."""


@dataclass(frozen=True)
class Row:
    """One appointment of the day with what is known of its confirmation."""

    booking: Booking
    confirmation: DayConfirmation | None

    @property
    def state(self) -> str:
        return self.confirmation.state if self.confirmation is not None else UNCONFIRMED


def tomorrow(now: datetime) -> date:
    """The China date after `now`'s."""
    return china_date(require_aware(now, "now")) + timedelta(days=1)


def day_bounds(day: date) -> tuple[datetime, datetime]:
    """The instants [start, end) of a China calendar day."""
    return china_datetime(day), china_datetime(day + timedelta(days=1))


def may_confirm(booking: Booking, now: datetime) -> bool:
    """Whether the appointment can be confirmed at `now`: scheduled, still ahead, and today or tomorrow."""
    require_aware(now, "now")
    if booking.state != State.SCHEDULED.value or booking.starts_at is None or booking.starts_at <= now:
        return False
    return china_date(booking.starts_at) <= tomorrow(now)


def current(session: Session, booking: Booking) -> DayConfirmation | None:
    """The confirmation of the booking's present appointment time, if any."""
    if booking.starts_at is None:
        return None
    return session.scalar(select(DayConfirmation).where(DayConfirmation.booking_id == booking.id,
                                                        DayConfirmation.starts_at == booking.starts_at))


def state_of(session: Session, booking: Booking) -> str:
    found = current(session, booking)
    return found.state if found is not None else UNCONFIRMED


def day_list(session: Session, day: date) -> list[Row]:
    """Every scheduled appointment on China date `day`, by time (then reference), with its confirmation."""
    start, end = day_bounds(day)
    bookings = session.scalars(
        select(Booking).where(Booking.state == State.SCHEDULED.value, Booking.starts_at >= start, Booking.starts_at < end)
        .options(joinedload(Booking.policy), joinedload(Booking.service))
        .order_by(Booking.starts_at, Booking.reference)
    ).unique().all()
    found = {}
    if bookings:
        for row in session.scalars(select(DayConfirmation).where(DayConfirmation.booking_id.in_([b.id for b in bookings]))):
            found[(row.booking_id, row.starts_at)] = row
    return [Row(b, found.get((b.id, b.starts_at))) for b in bookings]


def _locked(session: Session, booking_id: int, now: datetime) -> Booking:
    booking = session.get(Booking, booking_id, populate_existing=True)
    if booking is None:
        raise Refused("confirm.not_found")
    if not may_confirm(booking, now):
        raise Refused("confirm.not_now")
    return booking


def confirm_online(session: Session, booking_id: int, *, account: Account, now: datetime,
                   ip: str | None = None) -> DayConfirmation:
    """The customer confirms they will be there. Already confirmed (online or by phone): nothing changes. The
    caller has checked that `account` may act for the insured with the apply scope (family.standing_of)."""
    with write_transaction(session):
        booking = _locked(session, booking_id, now)
        found = current(session, booking)
        if found is not None and found.state in (ONLINE, PHONE):
            return found
        if found is None:
            found = DayConfirmation(booking_id=booking.id, starts_at=booking.starts_at, state=ONLINE,
                                    by_account_id=account.id, note=None, at=now)
            session.add(found)
        else:  # the customer had asked the desk for a change and now confirms after all
            found.state, found.by_account_id, found.note, found.at = ONLINE, account.id, None, now
        audit.record(session, "booking.day_confirmed", now=now, actor_id=account.id,
                     subject_person_id=booking.policy.insured_id, target=f"booking:{booking.id}", ip=ip,
                     detail={"state": ONLINE, "starts_at": booking.starts_at.isoformat()})
    return found


def record_call(session: Session, booking_id: int, *, staff: Account, outcome: str, note: str | None,
                now: datetime, ip: str | None = None) -> DayConfirmation:
    """The desk notes what the customer said on the phone: confirmed, or asks to change or cancel. Replaces what
    was known of this appointment before; the note (at most MAX_NOTE characters) is kept with it."""
    if outcome not in DESK_OUTCOMES:
        raise Refused("confirm.outcome")
    note = " ".join((note or "").split()) or None
    if note is not None and len(note) > MAX_NOTE:
        raise Refused("confirm.note_long", n=MAX_NOTE)
    with write_transaction(session):
        booking = _locked(session, booking_id, now)
        found = current(session, booking)
        before = found.state if found is not None else UNCONFIRMED
        if found is None:
            found = DayConfirmation(booking_id=booking.id, starts_at=booking.starts_at, state=outcome,
                                    by_account_id=staff.id, note=note, at=now)
            session.add(found)
        else:
            found.state, found.by_account_id, found.note, found.at = outcome, staff.id, note, now
        audit.record(session, "booking.day_call", now=now, actor_id=staff.id, subject_person_id=booking.policy.insured_id,
                     target=f"booking:{booking.id}", ip=ip,
                     detail={"state": outcome, "before": before, "starts_at": booking.starts_at.isoformat(),
                             "noted": note is not None})
    return found

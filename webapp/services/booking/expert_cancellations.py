"""Own-reason cancellations of the same named expert (000 （一）2.9(7) line 104: "客户指定同一专家预约成功后，如因客户
自身原因取消服务超过3次，我司有权拒绝客户预约该专家看诊").

A cancellation counts when a booking *scheduled* with that expert ("预约成功") was cancelled by the customer, by a
family member for them, or by staff on their word — not when the vendor failed (bookings.VENDOR_FAILED) or the
customer declined the alternatives to an expert who could not be booked (000 Q&A), and not a change of date (the
seed says 取消服务). The expert is the doctor of the appointment, at its hospital. "超过3次" is more than 3: the
vendor may refuse that expert after the 4th; the customer is warned from the 3rd on. The portal never blocks.
"""
from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from ...models import Booking, Policy
from ..products.catalog_sync import rules_for
from .booking_states import State

CANCELLED = (State.CANCELLED_FREE.value, State.CANCELLED_COUNTED.value)
NOT_OWN_REASON = frozenset({"vendor_failed", "booking_failed_declined"})  # bookings.VENDOR_FAILED; decline_alternatives


@dataclass(frozen=True)
class ExpertWarning:
    doctor: str
    count: int  # the cancellations of this expert, this one included
    limit: int  # the catalog's expert_cancellation_limit (3)

    @property
    def may_refuse(self) -> bool:
        """Past the limit: the vendor may refuse to book this expert again."""
        return self.count > self.limit


def expert_of(booking: Booking) -> tuple[str, str] | None:
    """(hospital, doctor) of the appointment, compared without spaces or case; None when no doctor is named."""
    appointment = booking.appointment or {}
    doctor = "".join(str(appointment.get("doctor") or "").split()).casefold()
    if not doctor:
        return None
    return "".join(str(appointment.get("hospital") or "").split()).casefold(), doctor


def own_reason_cancellation(booking: Booking) -> bool:
    """Whether `booking` ended as a cancellation of a scheduled appointment for the customer's own reasons."""
    if booking.state not in CANCELLED:
        return False
    last = next((t for t in reversed(booking.transitions) if t.to_state == booking.state), None)
    return (last is not None and last.from_state == State.SCHEDULED.value and last.rule not in NOT_OWN_REASON)


def own_cancellations(session: Session, insured_id: int, expert: tuple[str, str]) -> int:
    """How many scheduled visits with `expert` the insured person's side has cancelled for their own reasons."""
    rows = session.scalars(
        select(Booking).join(Policy, Booking.policy_id == Policy.id)
        .where(Policy.insured_id == insured_id, Booking.state.in_(CANCELLED))
        .options(selectinload(Booking.transitions))
    ).all()
    return sum(1 for b in rows if expert_of(b) == expert and own_reason_cancellation(b))


def cancel_warning(session: Session, booking: Booking) -> ExpertWarning | None:
    """The warning to show before `booking` is cancelled, when this cancellation would be the limit-th or later."""
    _, service = rules_for(booking.service)
    limit = service.expert_cancellation_limit
    expert = expert_of(booking)
    if limit is None or expert is None or booking.state != State.SCHEDULED.value:
        return None
    count = own_cancellations(session, booking.policy.insured_id, expert) + 1
    if count < limit:
        return None
    return ExpertWarning(str(booking.appointment["doctor"]).strip(), count, limit)

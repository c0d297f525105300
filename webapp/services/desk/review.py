"""The reviewer's and the coordinator's decisions on an application, on top of the booking moves.

Review: a decision per page (services/papers/documents.decide_page), then eligibility — approved only when every
paper the application needs is accepted (003: "收到完整材料后的一个工作日内审核"), or refused with a listed
reason and the reviewer's own words, which the customer reads at once. Arrange: the appointment as the
coordinator enters it, checked by services/desk/arrangements.py for its kind of service, then scheduled
(000 （一）2.7: "5个工作日内…安排").
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from ...models import Account, Booking
from ..booking import bookings
from ..booking.booking_states import State
from ..papers import documents
from ..products.catalog_sync import rules_for
from ..refusals import Refused as Refusal
from .arrangements import Appointment

REVIEWERS = ("reviewer", "admin")
COORDINATORS = ("coordinator", "admin")

# Why an application is not approved (the customer reads the words; wording.ELIGIBILITY_REASONS).
REJECT_REASONS = ("diagnosis_not_covered", "diagnosed_before_policy", "diagnosed_in_cooling_off", "hospital_grade",
                  "waiting_period", "not_insured_person", "outside_coverage", "papers_not_provided", "other")


class Refused(Refusal, ValueError):
    """A staff decision not made (desk.role, review.*, arrange.*, close.*); nothing changed."""


def _require(staff: Account, roles: tuple[str, ...]) -> None:
    if staff.staff_role not in roles:
        raise Refused("desk.role")


def papers_ready(session: Session, booking: Booking) -> bool:
    """Every paper the application needs is accepted (or on file from the applicant's verified access)."""
    _, service = rules_for(booking.service)
    return all(item.status == documents.ACCEPTED for item in documents.checklist(session, booking, service)
               if item.kind in documents.required_kinds(service, booking))


def papers_in_at(session: Session, booking: Booking) -> datetime | None:
    """When the last page of the accepted papers was sent: the moment the papers were complete."""
    _, service = rules_for(booking.service)
    needed = documents.required_kinds(service, booking)
    sent = [p.submitted_at for item in documents.checklist(session, booking, service) if item.kind in needed
            for p in item.pages if p.submitted_at]
    return max(sent) if sent else None


def decide_page(session: Session, booking: Booking, *, public_id: str, staff: Account, now: datetime, decision: str,
                reason: str | None, note: str | None):
    """One page's verdict; the first verdict also tells the customer their papers are being checked."""
    _require(staff, REVIEWERS)
    page = documents.find_page(session, public_id)
    if page is None or page.document.booking_id != booking.id:
        raise Refused("document.not_entitled")
    if booking.state not in (State.APPLIED.value, State.UNDER_REVIEW.value):
        raise Refused("review.not_in_review")
    try:
        documents.decide_page(session, public_id=public_id, staff=staff, now=now, decision=decision, reason=reason,
                              note=note)
    except documents.DocumentRefused as refused:
        raise Refused(refused.key, **refused.params) from refused
    if booking.state == State.APPLIED.value:
        bookings.start_review(session, booking.id, staff=staff, now=now)
    return page


def approve(session: Session, booking: Booking, *, staff: Account, now: datetime) -> Booking:
    _require(staff, REVIEWERS)
    if booking.state not in (State.APPLIED.value, State.UNDER_REVIEW.value):
        raise Refused("review.not_in_review")
    if not papers_ready(session, booking):
        raise Refused("review.papers_not_accepted")
    if booking.state == State.APPLIED.value:
        bookings.start_review(session, booking.id, staff=staff, now=now)
    return bookings.approve(session, booking.id, staff=staff, now=now, papers_complete_at=papers_in_at(session, booking))


def reject(session: Session, booking: Booking, *, staff: Account, now: datetime, reason: str, note: str) -> Booking:
    """Not approved, with a listed reason and (for "other", required) the reviewer's words: "reason: note"."""
    _require(staff, REVIEWERS)
    note = (note or "").strip()[:200]
    if reason not in REJECT_REASONS:
        raise Refused("review.reason_needed")
    if reason == "other" and not note:
        raise Refused("review.note_needed")
    if booking.state not in (State.APPLIED.value, State.UNDER_REVIEW.value):
        raise Refused("review.not_in_review")
    return bookings.reject(session, booking.id, staff=staff, now=now, reason=f"{reason}: {note}" if note else reason)


# --- arrange ------------------------------------------------------------------------------------------

def arrange(session: Session, booking: Booking, appointment: Appointment, *, staff: Account, now: datetime) -> Booking:
    _require(staff, COORDINATORS)
    if booking.state != State.APPROVED.value:
        raise Refused("arrange.not_approved")
    return bookings.schedule(session, booking.id, staff=staff, now=now, starts_at=appointment.starts_at,
                             appointment=appointment.details)

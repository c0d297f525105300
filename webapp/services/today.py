"""What the person must do next: the home's "需要您处理 / 今天" strip (issue 15 item 1).

For the person the account acts for, from their open bookings and the account's own family requests:

- the next appointments: every one today or tomorrow (China time), else the next one, with who to call on the
  day (the arranged driver, aide or escort, else the service's own change/cancel line);
- free changes ending within 24 hours (the change rule of the booking, services/cutoffs.py, as the cancel page
  quotes it), on the appointment's own item when that is shown;
- pages sent back for a retake, and photos added but not sent;
- alternatives offered after a named expert could not be booked, waiting for an answer (000 Q&A, decline_alternatives);
- the account's family requests still open, or decided lately (family.recent_requests).

Four queries whatever the size of the history (open bookings, their steps, their papers, the requests),
then plain rules; nothing here imports Flask.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session, joinedload, selectinload

from ..models import Account, Booking, Document, DocumentPage, Policy
from . import family
from .arrangements import AIDE, CAR, ESCORT, VISIT, kind_of
from .booking_states import OPEN, State
from .bookings import alternatives_offered, cancel_quote
from .clock import china_date, require_aware

APPOINTMENT, FREE_CHANGE, RETAKE, UNSENT, ALTERNATIVES, FAMILY_REQUEST = (
    "appointment", "free_change", "retake", "unsent", "alternatives", "family_request")
# What the person must do comes first; then what is coming; the family request last.
ORDER = (RETAKE, UNSENT, ALTERNATIVES, FREE_CHANGE, APPOINTMENT, FAMILY_REQUEST)
FREE_CHANGE_WINDOW = timedelta(hours=24)
RETAKE_STATES = ("unreadable", "rejected")
# The person to call on the day, per kind of arrangement (services/arrangements.py fields).
CONTACT_FIELDS = {CAR: ("driver_name", "driver_mobile"), AIDE: ("aide_name", "aide_mobile"),
                  ESCORT: ("escort_name", "escort_mobile"), VISIT: ("escort_name", "escort_mobile")}


@dataclass(frozen=True)
class Contact:
    role: str  # car | aide | escort | visit: the arrangement's kind says who this is (driver, aide, escort)
    name: str
    mobile: str


@dataclass(frozen=True)
class Item:
    kind: str
    reference: str | None = None  # the booking (None for a family request)
    service_code: str | None = None
    product_code: str | None = None
    at: datetime | None = None  # the appointment, or when the free change ends
    day: str | None = None  # "today" | "tomorrow" | None (another day), of `at`
    count: int = 0  # pages to retake, photos not sent
    document: str | None = None  # the first paper concerned, for the checklist's anchor
    place: str | None = None  # where to be (hospital, pickup address)
    contact: Contact | None = None  # who to call on the day
    free_until: datetime | None = None  # an appointment's free change, when it ends within FREE_CHANGE_WINDOW
    free_day: str | None = None  # "today" | "tomorrow" | None, of `free_until`
    request: family.AskedFor | None = None  # a family request, as family.recent_requests gives it


def day_contact(appointment: dict | None) -> Contact | None:
    """The person arranged for the day (driver, aide, escort) with a number to call, if any."""
    details = appointment or {}
    fields = CONTACT_FIELDS.get(kind_of(details))
    if fields is None or not details.get(fields[1]):
        return None
    return Contact(kind_of(details), details.get(fields[0]) or "", details[fields[1]])


def _place(appointment: dict | None) -> str | None:
    details = appointment or {}
    if kind_of(details) == CAR:
        return details.get("pickup_address") or details.get("destination")
    return details.get("hospital") or details.get("meeting_point")


def _day_word(moment: datetime, today: date) -> str | None:
    return {today: "today", today + timedelta(days=1): "tomorrow"}.get(china_date(moment))


def items_for(session: Session, account: Account, person_id: int | None, now: datetime) -> list[Item]:
    """The strip's items for `account` acting for `person_id`, most pressing first. Reads only."""
    require_aware(now, "now")
    today = china_date(now)
    items: list[Item] = []
    if person_id is not None:
        items += _booking_items(session, person_id, now, today)
    items += _request_items(session, account, now)
    return sorted(items, key=lambda i: (ORDER.index(i.kind), i.at or now))


def _booking_items(session: Session, person_id: int, now: datetime, today: date) -> list[Item]:
    open_states = [s.value for s in OPEN]
    rows = session.scalars(
        select(Booking).join(Policy).where(Policy.insured_id == person_id, Booking.state.in_(open_states))
        .options(joinedload(Booking.service), joinedload(Booking.policy).joinedload(Policy.product),
                 selectinload(Booking.transitions))  # what cancelling means, and alternatives, read the steps
    ).unique().all()
    if not rows:
        return []
    by_id = {b.id: b for b in rows}
    items = _paper_items(session, by_id)
    items += [Item(ALTERNATIVES, b.reference, b.service.code, b.policy.product.code) for b in rows if alternatives_offered(b)]
    upcoming = sorted((b for b in rows if b.state == State.SCHEDULED.value and b.starts_at and b.starts_at > now),
                      key=lambda b: b.starts_at)
    soon = {b.id for b in upcoming if _day_word(b.starts_at, today)} or {b.id for b in upcoming[:1]}
    for b in upcoming:
        quote = cancel_quote(b, now)
        free_until = quote.deadline if quote.outcome == "free" and quote.deadline - now <= FREE_CHANGE_WINDOW else None
        if b.id in soon:  # the appointment, with its free change ending if it ends soon
            items.append(Item(APPOINTMENT, b.reference, b.service.code, b.policy.product.code, at=b.starts_at,
                              day=_day_word(b.starts_at, today), place=_place(b.appointment),
                              contact=day_contact(b.appointment), free_until=free_until,
                              free_day=_day_word(free_until, today) if free_until else None))
        elif free_until:
            items.append(Item(FREE_CHANGE, b.reference, b.service.code, b.policy.product.code, at=free_until,
                              day=_day_word(free_until, today)))
    return items


def _paper_items(session: Session, by_id: dict[int, Booking]) -> list[Item]:
    """Retakes (a document whose state asks for one: services/documents.py status_of) and drafts, per booking."""
    drafts = func.sum(case((DocumentPage.status == "draft", 1), else_=0))
    rows = session.execute(
        select(Document.booking_id, Document.kind, Document.status, drafts)
        .join(DocumentPage, DocumentPage.document_id == Document.id)
        .where(Document.booking_id.in_(by_id), DocumentPage.status != "replaced")
        .group_by(Document.booking_id, Document.id, Document.kind, Document.status).order_by(Document.id)
    ).all()
    retakes: dict[int, tuple[int, str]] = {}
    unsent: dict[int, tuple[int, str]] = {}
    for booking_id, kind, status, draft_pages in rows:
        if status in RETAKE_STATES:
            count, first = retakes.get(booking_id, (0, kind))
            retakes[booking_id] = (count + 1, first)
        if draft_pages:
            count, first = unsent.get(booking_id, (0, kind))
            unsent[booking_id] = (count + int(draft_pages), first)
    items = []
    for kind, found in ((RETAKE, retakes), (UNSENT, unsent)):
        for booking_id, (count, document) in found.items():
            b = by_id[booking_id]
            items.append(Item(kind, b.reference, b.service.code, b.policy.product.code, count=count, document=document))
    return items


def _request_items(session: Session, account: Account, now: datetime) -> list[Item]:
    return [Item(FAMILY_REQUEST, at=r.decided_at, request=r) for r in family.recent_requests(session, account.id, now)]

"""What the person must do next: the home's "需要您处理 / 今天" strip (issue 15 item 1).

For the person the account acts for, from their open bookings and the account's own family requests:

- the next appointments: every one today or tomorrow (China time), else the next one, with who to call on the
  day (the arranged driver, aide or escort, else the service's own change/cancel line);
- free changes ending within 24 hours (the change rule of the booking, services/cutoffs.py, as the cancel page
  quotes it), on the appointment's own item when that is shown;
- pages sent back for a retake, photos added but not sent, papers still missing;
- alternatives offered after a named expert could not be booked, waiting for an answer (000 Q&A, decline_alternatives);
- the account's family requests still open, or decided lately (family.recent_requests).

Each booking's facts are the bookings list's own (booking_list.row_of), so the strip and the list's 需要您处理
agree. A fixed number of queries whatever the history (open bookings, their steps, their papers, papers on file
per proxy applicant, the requests), then plain rules; nothing here imports Flask.
"""
from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload, selectinload

from ...models import Account, Booking, Policy
from ..booking import booking_list
from ..booking.booking_actions import Contact, day_contact
from ..booking.booking_states import OPEN, State
from ..clock import china_date, require_aware
from ..desk.arrangements import CAR, kind_of
from ..family import family
from ..papers import documents

APPOINTMENT, FREE_CHANGE, RETAKE, UNSENT, MISSING, ALTERNATIVES, FAMILY_REQUEST = (
    "appointment", "free_change", "retake", "unsent", "missing", "alternatives", "family_request")
# What the person must do comes first; then what is coming; the family request last.
ORDER = (RETAKE, UNSENT, MISSING, ALTERNATIVES, FREE_CHANGE, APPOINTMENT, FAMILY_REQUEST)
@dataclass(frozen=True)
class Item:
    kind: str
    reference: str | None = None  # the booking (None for a family request)
    service_code: str | None = None
    product_code: str | None = None
    at: datetime | None = None  # the appointment, or when the free change ends
    day: str | None = None  # "today" | "tomorrow" | None (another day), of `at`
    count: int = 0  # pages to retake, photos not sent, papers missing
    document: str | None = None  # the first paper concerned, for the checklist's anchor
    place: str | None = None  # where to be (hospital, pickup address)
    contact: Contact | None = None  # who to call on the day
    free_until: datetime | None = None  # an appointment's free change, when it ends within FREE_CHANGE_WINDOW
    free_day: str | None = None  # "today" | "tomorrow" | None, of `free_until`
    request: family.AskedFor | None = None  # a family request, as family.recent_requests gives it


def _place(appointment: dict | None) -> str | None:
    details = appointment or {}
    if kind_of(details) == CAR:
        return details.get("pickup_address") or details.get("destination")
    return details.get("hospital") or details.get("meeting_point")


_LIMIT = 1024
_kept: OrderedDict[tuple, list[Item]] = OrderedDict()
_lock = threading.Lock()


def items_kept(key: tuple, session: Session, account: Account, person_id: int | None, now: datetime) -> list[Item]:
    """items_for, reused while `key` is the same. The caller's key must change whenever an input does: the account's
    data fingerprint (services/home/cards_cache.py reads the open bookings and their papers too) and the minute of `now`
    (times move items in and out: "tomorrow", the 24-hour window). Per process and bounded, as the cards' cache."""
    with _lock:
        found = _kept.get(key)
        if found is not None:
            _kept.move_to_end(key)
            return found
    items = items_for(session, account, person_id, now)
    with _lock:
        _kept[key] = items
        while len(_kept) > _LIMIT:
            _kept.popitem(last=False)
    return items


def clear() -> None:
    """Forget every kept strip (tests start each from nothing)."""
    with _lock:
        _kept.clear()


def items_for(session: Session, account: Account, person_id: int | None, now: datetime) -> list[Item]:
    """The strip's items for `account` acting for `person_id`, most pressing first. Reads only."""
    require_aware(now, "now")
    items: list[Item] = []
    if person_id is not None:
        items += _booking_items(session, person_id, now)
    items += _request_items(session, account, now)
    return sorted(items, key=lambda i: (ORDER.index(i.kind), i.at or now))


def _booking_items(session: Session, person_id: int, now: datetime) -> list[Item]:
    """From each open booking's facts as the bookings list reads them (booking_list.row_of), so the strip and the
    list's 需要您处理 never disagree."""
    today = china_date(now)
    rows = session.scalars(
        select(Booking).join(Policy).where(Policy.insured_id == person_id, Booking.state.in_([s.value for s in OPEN]))
        .options(joinedload(Booking.service), joinedload(Booking.policy).joinedload(Policy.product),
                 selectinload(Booking.transitions))  # what cancelling means, and alternatives, read the steps
    ).unique().all()
    papers = booking_list.page_states(session, [b.id for b in rows if documents.takes_papers(b)])
    filed = booking_list.OnFile(session)
    facts = [booking_list.row_of(b, papers.get(b.id, {}), filed, now, today) for b in rows]
    items = []
    for row in facts:
        b = row.booking
        about = {"reference": b.reference, "service_code": b.service.code, "product_code": b.policy.product.code}
        if row.retakes:
            items.append(Item(RETAKE, **about, count=row.retakes, document=row.first_paper))
        if row.unsent:
            items.append(Item(UNSENT, **about, count=row.unsent, document=row.first_paper))
        if row.missing and not row.unsent:  # a photo waiting to be sent already says what to do next
            items.append(Item(MISSING, **about, count=len(row.missing), document=row.missing[0]))
        if row.alternatives:
            items.append(Item(ALTERNATIVES, **about))
    upcoming = sorted((r for r in facts if r.booking.state == State.SCHEDULED.value and r.booking.starts_at
                       and r.booking.starts_at > now), key=lambda r: r.booking.starts_at)
    soon = {r.booking.id for r in upcoming if r.day} or {r.booking.id for r in upcoming[:1]}
    for row in upcoming:
        b = row.booking
        about = {"reference": b.reference, "service_code": b.service.code, "product_code": b.policy.product.code}
        free_day = booking_list.day_word(row.free_until, today)
        if b.id in soon:  # the appointment, with its free change ending if it ends soon
            items.append(Item(APPOINTMENT, **about, at=b.starts_at, day=row.day, place=_place(b.appointment),
                              contact=day_contact(b.appointment), free_until=row.free_until, free_day=free_day))
        elif row.free_until:
            items.append(Item(FREE_CHANGE, **about, at=row.free_until, day=free_day))
    return items


def _request_items(session: Session, account: Account, now: datetime) -> list[Item]:
    return [Item(FAMILY_REQUEST, at=r.decided_at, request=r) for r in family.recent_requests(session, account.id, now)]

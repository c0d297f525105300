"""My bookings, in the order a person acts on them (issue 15 item 3): what needs them, what is coming, what is over.

1. Needs you (需要您处理), most pressing first: an open application with a page sent back for a retake (staff marked
   it unreadable or rejected, services/papers/documents.py), photos added but not sent (draft pages), papers still missing
   while the application takes papers and they are not yet complete, alternatives offered after a failed booking
   waiting for an answer (000 Q&A: services/booking/bookings.py alternatives_offered), or a free change or cancellation
   that ends within 24 hours (the booking's change rule, as the cancel page quotes it: bookings.cancel_quote).
2. Coming up: the other open bookings by date (the appointment, else the promised day of arrangement), each
   appointment or promised day today or tomorrow (China time) labelled so; undated applications last.
3. Over: closed bookings, latest first.

A fixed number of queries however long the history: the bookings (their services, policies, insured person and
steps loaded alongside, one query each) and one for every page's state; the papers a proxy's verified grant already
proves are read once per proxy applicant.
Nothing here imports Flask.
"""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from ...models import Booking, Document, DocumentPage, Policy, Service
from ..clock import china_date, china_datetime, require_aware
from ..papers import documents
from ..products.catalog_sync import rules_for
from .booking_states import OPEN, State
from .bookings import alternatives_offered, cancel_quote

ACTION, UPCOMING, PAST = "action", "upcoming", "past"
FREE_CHANGE_WINDOW = timedelta(hours=24)
TODAY, TOMORROW = "today", "tomorrow"


@dataclass(frozen=True)
class Row:
    """One booking as the list shows it: its group, the day it is ordered by, and what the person must do."""

    booking: Booking
    group: str
    when: datetime | None = None  # the appointment, else the end of the promised day (China time)
    day: str | None = None  # TODAY | TOMORROW | None, for `when`
    retakes: int = 0  # pages sent back and not yet retaken
    unsent: int = 0  # photos added but not sent
    first_paper: str | None = None  # the first paper with a retake or an unsent photo (the checklist's anchor)
    missing: tuple[str, ...] = ()  # papers (catalog Document values) with no page at all
    alternatives: bool = False  # alternatives offered after a failed booking, waiting for an answer
    free_until: datetime | None = None  # a free change or cancellation that ends within 24 hours

    @property
    def needs_action(self) -> bool:
        return bool(self.retakes or self.unsent or self.missing or self.alternatives or self.free_until)


@dataclass(frozen=True)
class BookingList:
    action: list[Row] = field(default_factory=list)
    upcoming: list[Row] = field(default_factory=list)
    past: list[Row] = field(default_factory=list)

    def __bool__(self) -> bool:
        return bool(self.action or self.upcoming or self.past)


def booking_list(session: Session, person_ids: list[int], now: datetime) -> BookingList:
    """The bookings of `person_ids` (the insured people acted for), grouped and ordered. Reads only."""
    require_aware(now, "now")
    if not person_ids:
        return BookingList()
    rows = session.scalars(
        select(Booking).join(Policy).where(Policy.insured_id.in_(person_ids)).order_by(Booking.id)
        .options(selectinload(Booking.service).selectinload(Service.product),  # rules_for reads its code: always read
                 selectinload(Booking.policy).selectinload(Policy.insured),
                 selectinload(Booking.transitions))
    ).all()
    papers = page_states(session, [b.id for b in rows if documents.takes_papers(b)])
    filed = OnFile(session)
    today = china_date(now)
    made = [row_of(b, papers.get(b.id, {}), filed, now, today) for b in rows]
    far = china_datetime(date.max - timedelta(days=1))
    return BookingList(
        action=sorted((r for r in made if r.group == ACTION),
                      key=lambda r: (r.free_until or r.when or far, r.booking.applied_at)),
        upcoming=sorted((r for r in made if r.group == UPCOMING),
                        key=lambda r: (r.when is None, r.when or far, r.booking.applied_at)),
        past=sorted((r for r in made if r.group == PAST),
                    key=lambda r: r.booking.closed_at or r.booking.updated_at, reverse=True),
    )


@dataclass(frozen=True)
class PageState:
    """What status_of needs of a page, read without loading the page row."""

    id: int
    status: str
    replaces_id: int | None
    status_reason: str | None


def page_states(session: Session, booking_ids: list[int]) -> dict[int, dict[str, list[PageState] | None]]:
    """booking id → paper kind → its pages' states (None for a purged paper), in one query."""
    if not booking_ids:
        return {}
    found: dict[int, dict[str, list[PageState] | None]] = defaultdict(dict)
    rows = session.execute(
        select(Document.booking_id, Document.kind, Document.status, DocumentPage.id, DocumentPage.status,
               DocumentPage.replaces_id, DocumentPage.status_reason)
        .outerjoin(DocumentPage, DocumentPage.document_id == Document.id)
        .where(Document.booking_id.in_(booking_ids)).order_by(Document.id, DocumentPage.id)
    ).all()
    for booking_id, kind, doc_status, page_id, status, replaces_id, reason in rows:
        if doc_status == documents.PURGED:
            found[booking_id][kind] = None
            continue
        pages = found[booking_id].setdefault(kind, [])
        if page_id is not None and pages is not None:
            pages.append(PageState(page_id, status, replaces_id, reason))
    return found


class OnFile:
    """documents.on_file, read once per proxy applicant and role (the list is one insured person's)."""

    def __init__(self, session: Session):
        self.session, self.seen = session, {}

    def __call__(self, booking: Booking) -> dict[str, datetime]:
        if booking.acting_as not in documents.PROXY_PAPERS:
            return {}
        key = (booking.applicant_account_id, booking.acting_as, booking.policy.insured_id)
        if key not in self.seen:
            self.seen[key] = documents.on_file(self.session, booking)
        return self.seen[key]


def row_of(booking: Booking, papers: dict[str, list[PageState] | None], filed, now: datetime, today: date) -> Row:
    """One booking's row. `papers`: its page states by kind (page_states); `filed(booking)`: papers on file."""
    if State(booking.state) not in OPEN:
        return Row(booking, PAST, when=booking.starts_at)
    when = booking.starts_at or (china_datetime(booking.arrange_by, time(23, 59)) if booking.arrange_by else None)
    facts = {"when": when, "day": day_word(when, today)}
    if documents.takes_papers(booking):
        facts.update(paper_flags(booking, papers, filed))
    facts["alternatives"] = alternatives_offered(booking) is not None
    quote = cancel_quote(booking, now)
    if quote.outcome == "free" and quote.deadline is not None and quote.deadline - now <= FREE_CHANGE_WINDOW:
        facts["free_until"] = quote.deadline
    row = Row(booking, UPCOMING, **facts)
    return Row(booking, ACTION, **facts) if row.needs_action else row


def paper_flags(booking: Booking, papers: dict[str, list[PageState] | None], filed) -> dict:
    """Pages to retake, photos not sent, and (until staff have the papers complete) papers with no page."""
    retakes = unsent = 0
    first = None
    for kind, pages in papers.items():
        live = [p for p in pages or () if p.status != documents.REPLACED]
        being_retaken = {p.replaces_id for p in live if p.status == documents.DRAFT and p.replaces_id}
        to_retake = sum(1 for p in live if p.status in documents.NEEDS_RETAKE and p.id not in being_retaken)
        to_send = sum(1 for p in live if p.status == documents.DRAFT)
        retakes, unsent = retakes + to_retake, unsent + to_send
        if first is None and (to_retake or to_send):
            first = kind
    missing: tuple[str, ...] = ()
    if booking.papers_complete_at is None:
        _, service = rules_for(booking.service)
        have = {kind for kind, pages in papers.items() if pages is None or documents.status_of(pages)[0] != documents.MISSING}
        on_file = filed(booking)
        missing = tuple(k for k in documents.required_kinds(service, booking) if k not in have and k not in on_file)
    return {"retakes": retakes, "unsent": unsent, "missing": missing, "first_paper": first}


def day_word(moment: datetime | None, today: date) -> str | None:
    """TODAY or TOMORROW when `moment` falls on that China calendar day; else None."""
    if moment is None:
        return None
    return {today: TODAY, today + timedelta(days=1): TOMORROW}.get(china_date(moment))

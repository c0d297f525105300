"""The staff queue: every open application, what it waits for, and the promised day it must be done by.

Promises (seeds): after complete papers a reviewer decides within 1 working day (003: "收到完整材料后的一个
工作日内审核"); the service is arranged within 5, 7, 10 or 20 working days by service (000 （一）2.7, （二）2.7;
002; 003; 004), a date stored on the booking as `arrange_by` once its starting event is known
(services/deadlines.py). Both count from when the desk can look at the event (acceptance hours) and only
statutory working days (003: "以上工作日均以国家公布的法定工作日为准"). "Within N working days" is the N-th
working day after the event's day (DOMAIN.md, Definitions).

Tabs (issue 18): a tab is a named set of stages, and each role opens the queue on the tab it can act on
(`default_tab`): a reviewer on "review" (papers all in: decide each page, then eligibility); a coordinator on
"coordinate" (approved ones to arrange, failed bookings waiting for the customer's choice among the alternatives,
passed appointments to close as completed, late or a no-show); an admin, who may do both jobs, on "open" (all
the desk must act on, most urgent first). The counts per stage are SQL aggregates (`stage_counts`): a fixed
number of queries whatever the number of applications, plus one look at the proxy papers on file for an
application made by a guardian or an agent whose own papers were not sent with it.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import and_, case, exists, func, or_, select
from sqlalchemy.orm import Session, aliased, load_only, selectinload

from ..models import Booking, BookingTransition, Document, DocumentPage, Person, Policy, Product, Service
from . import documents
from .bookings import FAILED_BOOKING, alternatives_offered
from .booking_states import OPEN, State
from .catalog import default_catalog
from .catalog_sync import rules_for
from .clock import china_date
from .deadlines import desk_receives
from .workdays import add_workdays, workdays_between

REVIEW_WORKING_DAYS = 1  # 003: "收到完整材料后的一个工作日内审核"

# What an open application waits for, in the order work flows.
PAPERS = "papers"  # the customer: a paper is missing or was sent back for a retake
REVIEW = "review"  # a reviewer: every paper is in; decide each page and eligibility
ARRANGE = "arrange"  # a coordinator: approved; book the appointment
CHOOSING = "choosing"  # the customer: the named expert could not be booked; alternatives were offered
VISIT = "visit"  # nobody: arranged, the day has not come
CLOSE = "close"  # a coordinator: the appointment time has passed; record what happened
STAGES = (PAPERS, REVIEW, ARRANGE, CHOOSING, VISIT, CLOSE)
STAFF_STAGES = frozenset({REVIEW, ARRANGE, CLOSE})  # the ones a person at the desk must act on
COORDINATE = "coordinate"
TABS: dict[str, frozenset[str]] = {
    "open": STAFF_STAGES,
    COORDINATE: frozenset({ARRANGE, CHOOSING, CLOSE}),
    **{stage: frozenset({stage}) for stage in STAGES},
    "all": frozenset(STAGES),
}
ROLE_TABS = {"reviewer": REVIEW, "coordinator": COORDINATE, "admin": "open"}
# The booking states each stage is found in (stage_of).
STATES_OF = {PAPERS: (State.APPLIED, State.UNDER_REVIEW), REVIEW: (State.APPLIED, State.UNDER_REVIEW),
             ARRANGE: (State.APPROVED,), CHOOSING: (State.APPROVED,), VISIT: (State.SCHEDULED,),
             CLOSE: (State.SCHEDULED,)}


def default_tab(role: str | None) -> str:
    """The tab a staff role opens on: the work it may do (review.REVIEWERS, review.COORDINATORS)."""
    return ROLE_TABS.get(role or "", "open")


def tab_for(asked: str | None, role: str | None) -> str:
    """The tab asked for, or the role's own when none or an unknown one is asked for."""
    return asked if asked in TABS else default_tab(role)


@dataclass(frozen=True)
class Due:
    """A promised day and where today stands against it, in working days."""

    day: date
    left: int  # working days after today up to and including the day; 0 on the day itself
    overdue: bool  # today is after the day
    late_by: int  # working days after the day up to today (0 when not overdue, or overdue only by a weekend)


def due(day: date, today: date) -> Due:
    if today > day:
        return Due(day, 0, True, workdays_between(day, today))
    return Due(day, workdays_between(today, day), False, 0)


def review_due(hours, papers_in_at: datetime, working_days: int = REVIEW_WORKING_DAYS) -> date:
    """The reviewer's promised day: `working_days` (the catalog's `decision_working_days`; 1 unless the seed says
    otherwise) after the desk receives the last paper that completed the set."""
    return add_workdays(desk_receives(hours, papers_in_at).date(), working_days)


@dataclass(frozen=True)
class Papers:
    complete: bool  # every paper the application needs is sent (or on file) and none waits for a retake
    in_at: datetime | None  # when the last paper of a complete set was sent
    to_decide: int  # pages sent and not decided yet
    waiting_retake: int  # papers sent back to the customer


def papers_of(booking: Booking, docs: list[Document], filed: dict[str, datetime]) -> Papers:
    """Where an application's papers stand, from its documents (pages loaded) and the papers on file."""
    _, service = rules_for(booking.service)
    by_kind = {d.kind: d for d in docs}
    complete, moments, to_decide, retakes = True, [], 0, 0
    for kind in documents.required_kinds(service, booking):
        doc = by_kind.get(kind)
        status = documents.status_of(doc.pages)[0] if doc is not None else documents.MISSING
        if status == documents.MISSING and kind in filed:
            continue
        if status in documents.NEEDS_RETAKE:
            retakes += 1
        if status not in (documents.RECEIVED, documents.ACCEPTED):
            complete = False
            continue
        moments += [p.submitted_at for p in doc.pages if p.submitted_at and p.status != documents.REPLACED]
    for doc in docs:
        to_decide += sum(1 for p in doc.pages if p.status == documents.RECEIVED)
    in_at = (max(moments) if moments else booking.applied_at) if complete else None
    return Papers(complete, in_at, to_decide, retakes)


@dataclass(frozen=True)
class Row:
    booking: Booking
    stage: str
    due: Due | None
    since: datetime  # when it began to wait at this stage
    papers: Papers | None
    city: str

    @property
    def sort_key(self) -> tuple:
        if self.due is None:
            return (2, date.max, self.since)
        return (0 if self.due.overdue else 1, self.due.day, self.since)


@dataclass(frozen=True)
class Filters:
    stage: str | None = None  # one of STAGES, or "open" for every staff stage (default), or "all"
    service: str | None = None  # a catalog service code
    product: str | None = None  # a catalog product code
    city: str | None = None
    search: str | None = None  # a reference, or part of the insured person's name
    overdue_only: bool = False


def stage_of(booking: Booking, papers: Papers | None, now: datetime, alternatives_open: bool) -> tuple[str, datetime]:
    state = State(booking.state)
    if state in (State.APPLIED, State.UNDER_REVIEW):
        if papers is not None and papers.complete:
            return REVIEW, papers.in_at
        return PAPERS, booking.updated_at
    if state is State.APPROVED:
        return (CHOOSING if alternatives_open else ARRANGE), booking.approved_at or booking.updated_at
    if booking.starts_at is not None and booking.starts_at <= now:
        return CLOSE, booking.starts_at
    return VISIT, booking.updated_at


def row_for(booking: Booking, docs: list[Document], filed: dict[str, datetime], now: datetime,
            alternatives_open: bool) -> Row:
    product, service = rules_for(booking.service)
    today = china_date(now)
    papers = papers_of(booking, docs, filed) if booking.state in (State.APPLIED.value, State.UNDER_REVIEW.value) else None
    stage, since = stage_of(booking, papers, now, alternatives_open)
    promised = None
    if stage == REVIEW:
        promised = due(review_due(product.hours_for(service), papers.in_at, service.decision_working_days), today)
    elif stage in (ARRANGE, CHOOSING) and booking.arrange_by is not None:
        promised = due(booking.arrange_by, today)
    return Row(booking, stage, promised, since, papers, str((booking.details or {}).get("city") or ""))


def _matching(query, filters: Filters):
    """`query` (over Booking) narrowed to open applications passing the filters other than stage and overdue."""
    query = (
        query.join(Policy, Booking.policy_id == Policy.id).join(Service, Booking.service_id == Service.id)
        .join(Product, Service.product_id == Product.id).join(Person, Policy.insured_id == Person.id)
        .where(Booking.state.in_([s.value for s in OPEN]))
    )
    if filters.service:
        query = query.where(Service.code == filters.service)
    if filters.product:
        query = query.where(Product.code == filters.product)
    if filters.city:
        query = query.where(Booking.details["city"].as_string() == filters.city)
    if filters.search:
        term = filters.search.strip()
        query = query.where(or_(Booking.reference == term.upper().replace("-", ""), Person.name.contains(term, autoescape=True)))
    return query


def open_bookings(session: Session, filters: Filters, states=None) -> list[Booking]:
    """Open applications passing the filters (only those in `states`, when given), with what a row needs."""
    query = _matching(select(Booking), filters).options(
        selectinload(Booking.transitions), selectinload(Booking.policy).selectinload(Policy.insured),
        selectinload(Booking.service).selectinload(Service.product))
    if states is not None:
        query = query.where(Booking.state.in_([s.value for s in states]))
    return list(session.scalars(query.order_by(Booking.applied_at)))


def _tab(filters: Filters) -> frozenset[str]:
    return TABS.get(filters.stage or "open", frozenset())


def queue(session: Session, filters: Filters, now: datetime) -> tuple[list[Row], dict[str, int]]:
    """The rows that pass the filters, most urgent first, and how many open applications are at each stage
    (with the same service/product/city/search filters, so the stage tabs add up). Only the applications in
    states the chosen tab's stages are found in are loaded; the counts come from `stage_counts`."""
    wanted = _tab(filters)
    states = {state for stage in wanted for state in STATES_OF[stage]}
    found = open_bookings(session, filters, states) if states else []
    docs: dict[int, list[Document]] = {}
    if found:
        ids = [b.id for b in found]
        for doc in session.scalars(select(Document).where(Document.booking_id.in_(ids))
                                   .options(selectinload(Document.pages))):
            docs.setdefault(doc.booking_id, []).append(doc)
    rows = []
    for booking in found:
        filed = documents.on_file(session, booking) if booking.acting_as in documents.PROXY_PAPERS else {}
        rows.append(row_for(booking, docs.get(booking.id, []), filed, now, alternatives_offered(booking) is not None))
    shown = [r for r in rows if r.stage in wanted and (not filters.overdue_only or (r.due and r.due.overdue))]
    return sorted(shown, key=lambda r: r.sort_key), stage_counts(session, filters, now)


def stage_counts(session: Session, filters: Filters, now: datetime) -> dict[str, int]:
    """How many open applications passing the filters (all but stage and overdue) wait at each stage, and how
    many of them are past their promised day, counted by the database (the same answers as `row_for`)."""
    counts = {stage: 0 for stage in STAGES}
    today = china_date(now)
    overdue = 0
    # Approved and arranged ones: the stage and the arrangement promise are columns and transitions.
    failed, later = aliased(BookingTransition), aliased(BookingTransition)
    choosing = exists().where(  # bookings.alternatives_offered: a failed booking with nothing since but notes
        failed.booking_id == Booking.id, failed.rule == FAILED_BOOKING, failed.to_state == State.APPROVED.value,
        ~exists().where(later.booking_id == failed.booking_id, later.id > failed.id,
                        or_(later.from_state.is_(None), later.from_state != State.APPROVED.value,
                            later.to_state != State.APPROVED.value)))
    approved = Booking.state == State.APPROVED.value
    stage = case((and_(approved, choosing), CHOOSING), (approved, ARRANGE), (Booking.starts_at <= now, CLOSE), else_=VISIT)
    late = case((and_(approved, Booking.arrange_by < today), 1), else_=0)
    staged = _matching(select(stage.label("stage"), late.label("late")), filters).where(
        Booking.state.in_([State.APPROVED.value, State.SCHEDULED.value])).subquery()
    for name, n, n_late in session.execute(select(staged.c.stage, func.count(), func.sum(staged.c.late))
                                           .group_by(staged.c.stage)):
        counts[name] += n
        overdue += int(n_late or 0)
    # Applied and under review: the papers decide between the customer's turn and the reviewer's.
    waiting = _matching(select(Booking.id), filters).where(
        Booking.state.in_([State.APPLIED.value, State.UNDER_REVIEW.value]))
    papers: dict[int, dict[str, tuple[int, int, datetime | None]]] = {}
    for booking_id, kind, live, unsent, last in session.execute(
            select(Document.booking_id, Document.kind, func.count(DocumentPage.id),
                   func.sum(case((DocumentPage.status.in_(
                       (documents.DRAFT, documents.UNREADABLE, documents.REJECTED)), 1), else_=0)),
                   func.max(DocumentPage.submitted_at))
            .join(DocumentPage, DocumentPage.document_id == Document.id)
            .where(Document.booking_id.in_(waiting.scalar_subquery()), DocumentPage.status != documents.REPLACED)
            .group_by(Document.booking_id, Document.kind)):
        papers.setdefault(booking_id, {})[kind] = (live, int(unsent or 0), last)
    catalog = default_catalog()
    rules = {sid: (catalog.product(product), catalog.product(product).service(code))
             for sid, code, product in session.execute(
                 select(Service.id, Service.code, Product.code).join(Product, Service.product_id == Product.id))}
    found = session.scalars(_matching(select(Booking), filters)
                            .where(Booking.state.in_([State.APPLIED.value, State.UNDER_REVIEW.value]))
                            .options(load_only(Booking.id, Booking.service_id, Booking.details, Booking.acting_as,
                                               Booking.applied_at, Booking.policy_id, Booking.applicant_account_id)))
    for booking in found:
        product, service = rules[booking.service_id]
        sent = papers.get(booking.id, {})
        needed = documents.required_kinds(service, booking)
        missing = [kind for kind in needed if kind not in sent]
        filed = (documents.on_file(session, booking)
                 if any(kind in documents.PROXY_PAPERS.get(booking.acting_as, ()) for kind in missing) else {})
        if any(kind not in filed for kind in missing) or any(sent[kind][1] for kind in needed if kind in sent):
            counts[PAPERS] += 1
            continue
        counts[REVIEW] += 1
        moments = [sent[kind][2] for kind in needed if kind in sent and sent[kind][2] is not None]
        in_at = max(moments) if moments else booking.applied_at
        if today > review_due(product.hours_for(service), in_at, service.decision_working_days):
            overdue += 1
    counts["overdue"] = overdue
    return counts


def tab_counts(counts: dict[str, int]) -> dict[str, int]:
    """The stage counts with those of the tabs that gather several stages ("open": what the desk must act on;
    "coordinate": a coordinator's work; "all": every open one)."""
    return {**counts, **{tab: sum(counts[s] for s in stages) for tab, stages in TABS.items() if tab not in STAGES}}


def cities(session: Session) -> list[str]:
    """Cities named by open applications, for the filter."""
    found = session.scalars(select(Booking.details).where(Booking.state.in_([s.value for s in OPEN])))
    return sorted({str(d.get("city")) for d in found if d and d.get("city")})

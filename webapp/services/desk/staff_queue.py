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
the desk must act on, most urgent first). The counts per stage are SQL aggregates (`stage_counts`), and the
list is shown a page at a time (`queue_page`), sorted and cut by the database: both take a fixed number of
queries whatever the number of applications; only the page's applications are loaded (issue 16).

Whether an application waiting for papers or review is the customer's turn or the reviewer's, and the reviewer's
promised day, depend on its papers (papers_of), the proxy papers on file and the calendar: they are stored on the
booking (review_from, review_by, migration 0016) by `remember`, which runs after every flush for the
applications whose papers, pages, proxy grants or own row the flush changed, and for every waiting one when
the calendar changed (the promised days move with it: a holiday set or cleared).
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import and_, case, event, exists, func, or_, select, update
from sqlalchemy.orm import Session, aliased, joinedload, selectinload

from ...models import (
    Booking, BookingTransition, Document, DocumentPage, HolidayOverride, Person, Policy, Product, ProxyGrant, PublishedYear,
    Service,
)
from .. import workdays
from ..calendar import workdays_store
from ..family import family
from ..papers import documents
from ..booking.booking_states import FAILED_BOOKING
from ..booking.booking_states import OPEN, State
from ..products.catalog import default_catalog
from ..products.catalog_sync import rules_for
from ..clock import china_date
from ..deadlines import desk_receives
from ..workdays import add_workdays, workdays_between

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
    """`query` (over Booking) narrowed to open applications passing the filters other than stage and overdue (the
    policy, person, service and product joined only when a filter reads them)."""
    query = query.where(Booking.state.in_([s.value for s in OPEN]))
    if filters.service or filters.product:
        query = query.join(Service, Booking.service_id == Service.id)
    if filters.service:
        query = query.where(Service.code == filters.service)
    if filters.product:
        query = query.join(Product, Service.product_id == Product.id).where(Product.code == filters.product)
    if filters.city:
        query = query.where(Booking.details["city"].as_string() == filters.city)
    if filters.search:
        term = filters.search.strip()
        query = (query.join(Policy, Booking.policy_id == Policy.id).join(Person, Policy.insured_id == Person.id)
                 .where(or_(Booking.reference == term.upper().replace("-", ""), Person.name.contains(term, autoescape=True))))
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


PAGE_SIZE = 50  # rows on one page of the queue
WAITING_STATES = (State.APPLIED.value, State.UNDER_REVIEW.value)  # papers or review: the papers decide which


@dataclass(frozen=True)
class Place:
    """Where one open application stands in the queue, found without loading it: its stage, its promised day
    (`due_day`, None when none runs), whether today is past it, and since when it waits (Row.sort_key)."""

    booking_id: int
    stage: str
    due_day: date | None
    overdue: bool
    since: datetime
    applied_at: datetime

    @property
    def sort_key(self) -> tuple:
        # Row.sort_key, then the order the applications came in (the list's order before it was sorted).
        group = 2 if self.due_day is None else (0 if self.overdue else 1)
        return (group, self.due_day or date.max, self.since, self.applied_at, self.booking_id)


@dataclass(frozen=True)
class Census:
    counts: dict[str, int]  # per stage, and "overdue": as stage_counts answers
    late: dict[str, int]  # past the promised day, per stage


@dataclass(frozen=True)
class Page:
    """One page of the queue: its rows, most urgent first, and where it stands in the whole list."""

    rows: list[Row]
    counts: dict[str, int]  # stage_counts: the tabs' numbers
    total: int  # rows in the whole list (the tab, the filters, overdue only when asked)
    overdue: int  # rows of the tab past their promised day (the filters apply; "overdue only" does not)
    number: int  # this page, from 1
    pages: int  # how many pages the list has (at least 1)
    size: int | None  # rows a page holds (None: the whole list on one page)

    @property
    def first(self) -> int:
        """The place in the list of this page's first row (1-based), for "31–60 of 95"."""
        return (self.number - 1) * (self.size or 0) + 1


def _staged(filters: Filters, now: datetime):
    """Open applications passing the filters, as a subquery of (id, stage, grp, due, since, applied_at, late): the
    stage (stage_of), the promise (row_for) and the order (Row.sort_key) in SQL. Those waiting for papers or review
    are placed by the columns `remember` keeps (review_from, review_by); the others by their own columns and
    transitions."""
    today = china_date(now)
    failed, later = aliased(BookingTransition), aliased(BookingTransition)
    # bookings.alternatives_offered: a failed booking with nothing since but notes. Not correlated, so the database
    # reads the failed bookings once by their partial index (migration 0016) instead of once per open application.
    choosing = Booking.id.in_(select(failed.booking_id).where(
        failed.rule == FAILED_BOOKING, failed.to_state == State.APPROVED.value,
        ~exists().where(later.booking_id == failed.booking_id, later.id > failed.id,
                        or_(later.from_state.is_(None), later.from_state != State.APPROVED.value,
                            later.to_state != State.APPROVED.value))))
    approved = Booking.state == State.APPROVED.value
    waiting = Booking.state.in_(WAITING_STATES)
    in_review = and_(waiting, Booking.review_from.is_not(None))
    stage = case((in_review, REVIEW), (waiting, PAPERS), (and_(approved, choosing), CHOOSING), (approved, ARRANGE),
                 (Booking.starts_at <= now, CLOSE), else_=VISIT)
    due_day = case((in_review, Booking.review_by), (approved, Booking.arrange_by))
    late = or_(and_(in_review, Booking.review_by < today), and_(approved, Booking.arrange_by < today))
    group = case((late, 0), (and_(in_review, Booking.review_by.is_not(None)), 1),
                 (and_(approved, Booking.arrange_by.is_not(None)), 1), else_=2)
    since = case((in_review, Booking.review_from), (waiting, Booking.updated_at),
                 (approved, func.coalesce(Booking.approved_at, Booking.updated_at)),
                 (Booking.starts_at <= now, Booking.starts_at), else_=Booking.updated_at)
    return _matching(select(Booking.id.label("id"), stage.label("stage"), group.label("grp"), due_day.label("due"),
                            since.label("since"), Booking.applied_at.label("applied_at"),
                            case((late, 1), else_=0).label("late")), filters).subquery()


def _places(session: Session, filters: Filters, now: datetime, stages: frozenset[str], start: int,
            size: int | None) -> list[Place]:
    """The open applications of `stages` passing the filters, most urgent first (Place.sort_key), from the
    `start`-th, `size` of them (all when None): sorted and cut by the database."""
    staged = _staged(filters, now)
    query = select(staged.c.id, staged.c.stage, staged.c.due, staged.c.late, staged.c.since, staged.c.applied_at).where(
        staged.c.stage.in_(sorted(stages)))
    if filters.overdue_only:
        query = query.where(staged.c.grp == 0)
    query = query.order_by(staged.c.grp, staged.c.due, staged.c.since, staged.c.applied_at, staged.c.id).offset(start)
    if size is not None:
        query = query.limit(size)
    return [Place(i, stage, due_day, bool(late), since, applied)
            for i, stage, due_day, late, since, applied in session.execute(query)]


def _census(session: Session, filters: Filters, now: datetime) -> Census:
    """How many open applications passing the filters (all but stage and overdue) wait at each stage and how
    many of those are past their promised day: one aggregate (the same answers as `row_for`)."""
    counts = {stage: 0 for stage in STAGES}
    late = {stage: 0 for stage in STAGES}
    staged = _staged(filters, now)
    for name, n, n_late in session.execute(select(staged.c.stage, func.count(), func.sum(staged.c.late))
                                           .group_by(staged.c.stage)):
        counts[name] += n
        late[name] += int(n_late or 0)
    counts["overdue"] = sum(late.values())
    return Census(counts, late)


def _waiting_places(session: Session, booking_ids: list[int]) -> list[tuple[Place, datetime | None, date | None]]:
    """Where each of `booking_ids` waiting for papers or review stands, from its papers' figures (papers_of's rule
    in a fixed number of queries, the proxy papers on file included), with the review_from and review_by stored now."""
    waiting = select(Booking.id).where(Booking.id.in_(booking_ids), Booking.state.in_(WAITING_STATES))
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
    found = session.execute(
        select(Booking.id, Booking.service_id, Booking.details, Booking.acting_as, Booking.applied_at,
               Booking.updated_at, Booking.applicant_account_id, Policy.insured_id, Booking.review_from,
               Booking.review_by)
        .join(Policy, Booking.policy_id == Policy.id)
        .where(Booking.id.in_(booking_ids), Booking.state.in_(WAITING_STATES))).all()
    needs = {booking.id: documents.required_kinds(rules[booking.service_id][1], booking) for booking in found}
    proxies = [b for b in found if any(kind in documents.PROXY_PAPERS.get(b.acting_as, ())
                                       and kind not in papers.get(b.id, {}) for kind in needs[b.id])]
    filed_all = proxy_papers_on_file(session, proxies)
    places = []
    due_days: dict[tuple, date] = {}
    for booking in found:
        product, service = rules[booking.service_id]
        sent = papers.get(booking.id, {})
        needed = needs[booking.id]
        filed = filed_all.get(booking.id, {})
        missing = [kind for kind in needed if kind not in sent]
        if any(kind not in filed for kind in missing) or any(sent[kind][1] for kind in needed if kind in sent):
            places.append((Place(booking.id, PAPERS, None, False, booking.updated_at, booking.applied_at),
                           booking.review_from, booking.review_by))
            continue
        moments = [sent[kind][2] for kind in needed if kind in sent and sent[kind][2] is not None]
        in_at = max(moments) if moments else booking.applied_at
        memo = (booking.service_id, in_at)  # the same instant on the same desk: the same promise
        if memo not in due_days:
            due_days[memo] = review_due(product.hours_for(service), in_at, service.decision_working_days)
        places.append((Place(booking.id, REVIEW, due_days[memo], False, in_at, booking.applied_at),
                       booking.review_from, booking.review_by))
    return places


REMEMBER_BATCH = 500  # applications placed per round of `remember`'s queries


def remember(session: Session, booking_ids) -> int:
    """Store on each of `booking_ids` still waiting for papers or review where the queue places it: review_from
    (when its papers became complete, None while the customer owes one) and review_by (the reviewer's promised
    day, review_due). Only rows whose values change are written. → how many were written."""
    ids = sorted(set(booking_ids))
    written = 0
    for k in range(0, len(ids), REMEMBER_BATCH):
        changes = []
        for place, was_from, was_by in _waiting_places(session, ids[k:k + REMEMBER_BATCH]):
            now_from = place.since if place.stage == REVIEW else None
            if (now_from, place.due_day) != (was_from, was_by):
                changes.append({"id": place.booking_id, "review_from": now_from, "review_by": place.due_day})
        if changes:
            session.execute(update(Booking), changes)
            written += len(changes)
    return written


def remember_all(session: Session) -> int:
    """`remember` every application waiting for papers or review (a migration's backfill; a calendar change)."""
    return remember(session, session.scalars(select(Booking.id).where(Booking.state.in_(WAITING_STATES))).all())


_TOUCHED = "staff_queue.touched"


@event.listens_for(Session, "before_flush")
def _note_changes(session: Session, _context, _instances) -> None:
    """Note what a flush changes that can move an application between papers and review or change its promise:
    the application itself, its papers and pages, a proxy grant (papers on file for the grantee's applications),
    the calendar (every promised day). `remember_pending` places them again once the flush is written."""
    touched = None
    for obj in (*session.new, *session.dirty, *session.deleted):
        if isinstance(obj, (Booking, Document, DocumentPage, ProxyGrant, HolidayOverride, PublishedYear)):
            if touched is None:
                touched = session.info.setdefault(_TOUCHED, {"objects": [], "pages": set(), "calendar": False})
            if isinstance(obj, (HolidayOverride, PublishedYear)):
                touched["calendar"] = True
            elif isinstance(obj, DocumentPage) and obj.document_id is not None:
                touched["pages"].add(obj.document_id)
            else:
                touched["objects"].append(obj)


def remember_pending(session: Session) -> None:
    """Place again (`remember`) the applications the session's changes may have moved (see _note_changes)."""
    touched = session.info.pop(_TOUCHED, None)
    if not touched:
        return
    if touched["calendar"]:
        # The promises by the calendar this transaction writes, in this thread only: the process takes it on when it
        # is committed (holiday_schedule and workdays_store reload then), so a change rolled back leaves it as it was
        # and no other request meanwhile reads a calendar that may never be committed.
        with workdays.calendar_of(*workdays_store.read_overrides(session)):
            remember_all(session)
        return
    bookings, doc_ids, grantees = set(), set(touched["pages"]), set()
    for obj in touched["objects"]:
        if isinstance(obj, Booking):
            if obj.state in WAITING_STATES:  # the others' stored place is never read (only while waiting)
                bookings.add(obj.id)
        elif isinstance(obj, Document):
            doc_ids.add(obj.id)
            if obj.booking_id is not None:
                bookings.add(obj.booking_id)
        elif isinstance(obj, DocumentPage) and obj.document_id is not None:
            doc_ids.add(obj.document_id)
        elif isinstance(obj, ProxyGrant):
            grantees.add(obj.grantee_account_id)
    if doc_ids:
        for booking_id, grantee in session.execute(
                select(Document.booking_id, ProxyGrant.grantee_account_id)
                .outerjoin(ProxyGrant, Document.proxy_grant_id == ProxyGrant.id).where(Document.id.in_(sorted(doc_ids)))):
            if booking_id is not None:
                bookings.add(booking_id)
            if grantee is not None:
                grantees.add(grantee)
    if grantees:
        bookings.update(session.scalars(select(Booking.id).where(
            Booking.applicant_account_id.in_(sorted(grantees)), Booking.state.in_(WAITING_STATES))))
    bookings.discard(None)
    if bookings:
        remember(session, bookings)


@event.listens_for(Session, "after_flush_postexec")
def _remember_after_flush(session: Session, _context) -> None:
    """Every flush places again what it changed, in the same transaction: a reader in the same session (the
    queue autoflushes first) and every other one after the commit see the stored place up to date."""
    remember_pending(session)


def proxy_papers_on_file(session: Session, found, *, fixed: bool = False) -> dict[int, dict[str, datetime]]:
    """documents.on_file for many applications at once, in at most three queries: for each of `found` (rows with
    id, applicant_account_id, acting_as and insured_id), the proxy's own papers already proved → since when.
    The rule is documents.proofs_on_file (the applicant's verified grant over the insured in the same role, its
    accepted proofs or the insured's own approval, then papers accepted on the proxy's earlier applications for
    the same insured since that grant was verified); tests/test_staff_queue.py holds the two together. `fixed`:
    run all three queries even when fewer are needed (a page of the queue takes as many statements whatever its rows)."""
    found = [b for b in found if b.acting_as in documents.PROXY_PAPERS]
    if not found and not fixed:
        return {}
    applicants = sorted({b.applicant_account_id for b in found})
    grants: dict[tuple[int, int, str], ProxyGrant] = {}
    for grant in session.scalars(select(ProxyGrant).where(ProxyGrant.grantee_account_id.in_(applicants),
                                                          ProxyGrant.status == family.VERIFIED)
                                 .order_by(ProxyGrant.verified_at.desc(), ProxyGrant.id.desc())):
        if grant.verified_at is not None:  # documents.applicants_grant: the newest verified in the role
            grants.setdefault((grant.grantee_account_id, grant.insured_person_id, family.RELATION[grant.kind]), grant)
    chosen = {b.id: grants.get((b.applicant_account_id, b.insured_id, b.acting_as)) for b in found}
    by_papers = sorted({g.id for g in chosen.values() if g is not None and g.method != family.INSURED_APPROVAL})
    accepted: dict[int, set[str]] = {}
    if by_papers or fixed:
        for grant_id, kind in session.execute(select(Document.proxy_grant_id, Document.kind).where(
                Document.proxy_grant_id.in_(by_papers), Document.status == documents.ACCEPTED)):
            accepted.setdefault(grant_id, set()).add(kind)
    out: dict[int, dict[str, datetime]] = {}
    wanted: dict[int, list[str]] = {}
    for b in found:
        grant = chosen[b.id]
        if grant is None:
            continue
        kinds = documents.PROXY_PAPERS[b.acting_as]
        if grant.method == family.INSURED_APPROVAL:
            out[b.id] = {kind: grant.verified_at for kind in kinds}
            continue
        out[b.id] = {kind: grant.verified_at for kind in kinds if kind in accepted.get(grant.id, ())}
        if any(kind not in out[b.id] for kind in kinds):
            wanted[b.id] = [kind for kind in kinds if kind not in out[b.id]]
    if wanted or fixed:
        proxy_kinds = sorted({kind for kinds in documents.PROXY_PAPERS.values() for kind in kinds})
        earlier = session.execute(
            select(Document.kind, Document.updated_at, Booking.id, Booking.applicant_account_id, Booking.acting_as,
                   Policy.insured_id, Booking.applied_at)
            .join(Booking, Document.booking_id == Booking.id).join(Policy, Booking.policy_id == Policy.id)
            .where(Booking.applicant_account_id.in_(sorted({b.applicant_account_id for b in found if b.id in wanted})),
                   Document.kind.in_(proxy_kinds), Document.status == documents.ACCEPTED)
            .order_by(Document.updated_at.desc(), Document.id.desc())).all()
        for b in found:
            if b.id not in wanted:
                continue
            since = chosen[b.id].verified_at
            for kind, at, other, applicant, acting_as, insured, applied in earlier:
                if (kind in wanted[b.id] and other != b.id and applicant == b.applicant_account_id
                        and acting_as == b.acting_as and insured == b.insured_id and applied >= since):
                    out[b.id].setdefault(kind, at)
    return {booking_id: filed for booking_id, filed in out.items() if filed}


def _rows(session: Session, places: list[Place], now: datetime) -> list[Row]:
    """The rows of `places`, in their order, loaded in a fixed number of queries (the bookings with their
    policy, insured person, service and product; the papers of those waiting for papers or review; the proxy
    papers on file)."""
    if not places:
        return []
    found = {b.id: b for b in session.scalars(
        select(Booking).where(Booking.id.in_([p.booking_id for p in places]))
        .options(joinedload(Booking.policy).joinedload(Policy.insured),
                 joinedload(Booking.service).joinedload(Service.product)))}
    waiting = [b for b in found.values() if b.state in WAITING_STATES]
    docs: dict[int, list[Document]] = {}
    if waiting:
        for doc in session.scalars(select(Document).where(Document.booking_id.in_([b.id for b in waiting]))
                                   .options(selectinload(Document.pages))):
            docs.setdefault(doc.booking_id, []).append(doc)
    filed = proxy_papers_on_file(session, [
        _Applicant(b.id, b.applicant_account_id, b.acting_as, b.policy.insured_id) for b in waiting], fixed=True)
    return [row_for(found[p.booking_id], docs.get(p.booking_id, []), filed.get(p.booking_id, {}), now,
                    p.stage == CHOOSING) for p in places]


@dataclass(frozen=True)
class _Applicant:
    id: int
    applicant_account_id: int
    acting_as: str
    insured_id: int


def queue_page(session: Session, filters: Filters, now: datetime, number: int = 1,
               size: int | None = PAGE_SIZE) -> Page:
    """One page of the rows that pass the filters, most urgent first (Row.sort_key), with the stage counts.

    The counts are one aggregate; the rows are sorted and cut by the database (those waiting for papers or review
    by the review_from and review_by `remember` keeps), which gives only the page's; then only the page's
    applications are loaded."""
    census = _census(session, filters, now)
    wanted = _tab(filters)
    late = sum(census.late[s] for s in wanted)
    total = late if filters.overdue_only else sum(census.counts[s] for s in wanted)
    pages = max(1, -(-total // size)) if size else 1
    number = min(max(1, number), pages)
    start = (number - 1) * size if size else 0
    places = _places(session, filters, now, wanted, start, size) if wanted else []
    return Page(_rows(session, places, now), census.counts, total, late, number, pages, size)


def queue(session: Session, filters: Filters, now: datetime) -> tuple[list[Row], dict[str, int]]:
    """Every row that passes the filters, most urgent first, and how many open applications are at each stage
    (with the same service/product/city/search filters, so the stage tabs add up): queue_page's whole list."""
    page = queue_page(session, filters, now, size=None)
    return page.rows, page.counts


def stage_counts(session: Session, filters: Filters, now: datetime) -> dict[str, int]:
    """How many open applications passing the filters (all but stage and overdue) wait at each stage, and how
    many of them are past their promised day, counted by the database (the same answers as `row_for`)."""
    return _census(session, filters, now).counts


def tab_counts(counts: dict[str, int]) -> dict[str, int]:
    """The stage counts with those of the tabs that gather several stages ("open": what the desk must act on;
    "coordinate": a coordinator's work; "all": every open one)."""
    return {**counts, **{tab: sum(counts[s] for s in stages) for tab, stages in TABS.items() if tab not in STAGES}}


def cities(session: Session) -> list[str]:
    """Cities named by open applications, for the filter (the database gives each once)."""
    city = Booking.details["city"].as_string()
    found = session.scalars(select(city).where(Booking.state.in_([s.value for s in OPEN])).distinct())
    return sorted({str(c) for c in found if c})

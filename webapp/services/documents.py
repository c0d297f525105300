"""Document checklists and their pages: what an application needs, what has arrived, what must be retaken.

Each application (booking) has a checklist: the papers its service's catalog entry asks for (apply_forms
`documents_for`: diagnosis from a level-2/2A+ public hospital, pathology report, admission slip …) plus, when
someone applies for the insured, the applicant's ID and the proof of guardianship or the power of attorney
(seed 003 医疗垫付 材料 g / 8, lines 331-333 and 1064-1066: "如非被保险人本人申请……需同步提供申请人身份证明及
监护关系证明，或申请人身份证明及被保险人签署的授权委托书").

A page is a photo that passed `photos.process`. It starts as a draft the customer can still remove; sending
the checklist makes drafts "received"; staff then accept a page, or mark it unreadable or rejected with a
reason, and only those pages need sending again (a retake replaces its page once sent).

Storage order (SECURITY.md, Uploads, "No orphans"): the image and its thumbnail are stored durably first,
then the row is committed. A crash in between leaves files without a row, which `sweep` removes; deleting
goes the other way round (row first, then files). Nothing here imports Flask.
"""
from __future__ import annotations

import re
import secrets
import unicodedata
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, selectinload

from ..db import write_transaction
from ..models import Account, Booking, Document, DocumentPage, Policy
from . import audit, notifications, ratelimit
from .apply_forms import documents_for
from .booking_states import CLOSED, OPEN, State
from .catalog import Document as Kind, Service
from .catalog_sync import rules_for
from .clock import china_date, require_aware
from .people import actor_for
from .photos import Photo
from .storage import Storage, StorageError, new_key

DRAFT, RECEIVED, UNREADABLE, REJECTED, ACCEPTED, REPLACED = (
    "draft", "received", "unreadable", "rejected", "accepted", "replaced")
NEEDS_RETAKE = frozenset({UNREADABLE, REJECTED})
MISSING, PURGED = "missing", "purged"  # document states with no page of their own

MAX_PAGES_PER_DOCUMENT = 12
MAX_PAGES_PER_BOOKING = 60
UPLOAD_LIMITS = {"account": ratelimit.Limit(120, timedelta(hours=1)), "ip": ratelimit.Limit(300, timedelta(hours=1))}
# Every photo sent costs a full decode, refused or not: attempts have their own, looser limit.
ATTEMPT_LIMIT = ratelimit.Limit(300, timedelta(hours=1))
DEFAULT_RETENTION = timedelta(days=180)  # after an application closes (config DOCUMENT_RETENTION_DAYS)
SWEEP_GRACE_SECONDS = 3600  # an upload between its storing and its commit is never this old
# Reasons staff may give for a rejected page (with their own words added); issue 6's console offers these.
REJECT_REASONS = ("wrong_document", "incomplete", "not_hospital_grade", "name_mismatch", "expired", "other")
THUMB_SUFFIX = ".t"
# Identity papers: shown only after a fresh sign-in (SECURITY.md, Sessions: "fresh login required … to view ID
# documents"), to staff and customers alike.
SENSITIVE_KINDS = frozenset({Kind.ID_CARD.value, Kind.APPLICANT_ID.value, Kind.GUARDIANSHIP_PROOF.value,
                             Kind.POWER_OF_ATTORNEY.value})


class DocumentRefused(ValueError):
    """Not done, and nothing changed. `reason` is a stable key the web layer translates."""

    def __init__(self, reason: str, **params):
        super().__init__(reason)
        self.reason = reason
        self.params = params


@dataclass
class Item:
    """One line of a checklist: a kind of paper, its pages as the customer should see them, and its state."""

    kind: str
    document: Document | None
    status: str = MISSING
    reason: str | None = None
    pages: list[DocumentPage] = field(default_factory=list)  # live pages in upload order, retakes excluded
    retakes: dict[int, DocumentPage] = field(default_factory=dict)  # page id → the draft that will replace it

    @property
    def needs_action(self) -> bool:
        return self.status in (MISSING, UNREADABLE, REJECTED)

    def retake_of(self, page: DocumentPage) -> DocumentPage | None:
        return self.retakes.get(page.id)


# --- what an application needs ------------------------------------------------------------------------

PROXY_PAPERS = {
    "guardian": (Kind.APPLICANT_ID.value, Kind.GUARDIANSHIP_PROOF.value),
    "power_of_attorney": (Kind.APPLICANT_ID.value, Kind.POWER_OF_ATTORNEY.value),
}


def required_kinds(service: Service, booking: Booking) -> tuple[str, ...]:
    """The papers this application needs, in catalog order, each once."""
    kinds = list(documents_for(service, booking.details or {}))
    kinds += PROXY_PAPERS.get(booking.acting_as, ())
    order = [k.value for k in Kind]
    return tuple(sorted(dict.fromkeys(kinds), key=order.index))


def status_of(pages: list[DocumentPage]) -> tuple[str, str | None]:
    """A document's state from its pages: what the customer must do first decides it. → (state, reason)."""
    live = [p for p in pages if p.status != REPLACED]
    if not live:
        return MISSING, None
    being_retaken = {p.replaces_id for p in live if p.status == DRAFT and p.replaces_id}
    for state in (UNREADABLE, REJECTED):
        for page in live:
            if page.status == state and page.id not in being_retaken:
                return state, page.status_reason
    if any(p.status == DRAFT for p in live):
        return DRAFT, None
    if any(p.status == RECEIVED for p in live):
        return RECEIVED, None
    return ACCEPTED, None


def checklist(session: Session, booking: Booking, service: Service) -> list[Item]:
    """Every paper the application needs (and any other it already has), with pages and state. Reads only."""
    docs = session.scalars(
        select(Document).where(Document.booking_id == booking.id).options(selectinload(Document.pages))
    ).all()
    by_kind = {d.kind: d for d in docs}
    items = []
    for kind in dict.fromkeys([*required_kinds(service, booking), *by_kind]):
        doc = by_kind.get(kind)
        item = Item(kind=kind, document=doc)
        if doc is not None:
            item.status, item.reason = (PURGED, None) if doc.status == PURGED else status_of(doc.pages)
            for page in doc.pages:
                if page.status == REPLACED:
                    continue
                if page.status == DRAFT and page.replaces_id:
                    item.retakes[page.replaces_id] = page
                else:
                    item.pages.append(page)
        items.append(item)
    return items


def drafts_of(items: list[Item]) -> int:
    return sum(1 for item in items for p in [*item.pages, *item.retakes.values()] if p.status == DRAFT)


# --- who may touch a booking's papers -----------------------------------------------------------------

def may_act(session: Session, account: Account, booking: Booking, now: datetime) -> bool:
    """The insured or a verified proxy of theirs (issue 5 adds scopes). Staff review; they do not upload."""
    actor = actor_for(session, account, booking.policy.insured_id, china_date(now))
    return actor.relation != "none" and actor.verified


def may_view(session: Session, account: Account, booking: Booking, now: datetime) -> bool:
    return account.is_staff or may_act(session, account, booking, now)


def may_see_page(session: Session, account: Account, page: DocumentPage, booking: Booking, now: datetime) -> bool:
    """A page superseded by its retake is kept for staff (the record of what was sent), not shown to customers."""
    return may_view(session, account, booking, now) and (page.status != REPLACED or account.is_staff)


def takes_papers(booking: Booking) -> bool:
    """Papers can be added, removed and sent while the application is open."""
    return State(booking.state) in OPEN


# --- adding, removing and sending pages ---------------------------------------------------------------

def add_page(session: Session, storage: Storage, *, booking_id: int, kind: str, photo: Photo, account: Account,
             now: datetime, display_name: str | None = None, replaces: str | None = None,
             ip: str | None = None) -> DocumentPage:
    """Store one processed photo as a draft page of `kind` (or as the retake of page `replaces`).

    Refusals (a closed application, a paper not on the checklist, too many pages, the same photo twice, too
    many uploads) raise DocumentRefused and leave nothing behind.
    """
    require_aware(now, "now")
    try:  # a cheap look first, so a refused upload never touches the store
        _check(session, booking_id, kind, photo, account, now, replaces, ip, lock=False)
    finally:
        session.rollback()
    key = new_key()
    try:
        storage.put(key, photo.image)
        storage.put(key + THUMB_SUFFIX, photo.thumbnail)
        for attempt in (1, 2):
            try:
                return _insert(session, booking_id, kind, photo, account, now, display_name, replaces, ip, key)
            except IntegrityError as exc:
                # Either the same photo arrived twice at once (a double tap), or two first pages of one
                # paper raced to create its document: the second try tells them apart.
                if attempt == 2:
                    raise DocumentRefused("document.duplicate") from exc
    except BaseException:
        _discard(storage, key)  # best effort; whatever stays behind is the sweeper's
        raise
    raise AssertionError("unreachable")


def _insert(session, booking_id, kind, photo, account, now, display_name, replaces, ip, key) -> DocumentPage:
    with write_transaction(session):
        booking, doc, target = _check(session, booking_id, kind, photo, account, now, replaces, ip)
        if doc is None:
            doc = Document(booking_id=booking.id, person_id=booking.policy.insured_id, kind=kind,
                           status=MISSING, created_at=now, updated_at=now)
            session.add(doc)
            session.flush()
        page = DocumentPage(
            public_id=secrets.token_urlsafe(12), document_id=doc.id, position=len(doc.pages),
            storage_key=key, thumbnail_key=key + THUMB_SUFFIX, sha256=photo.sha256, width=photo.width,
            height=photo.height, byte_size=len(photo.image), source_format=photo.source_format,
            display_name=display_name, status=DRAFT, replaces_id=target.id if target else None,
            uploaded_by_id=account.id, created_at=now,
        )
        session.add(page)
        session.flush()
        _refresh(session, doc, now)
        ratelimit.count(session, _buckets(account, ip), now)
        audit.record(session, "document.upload", now=now, actor_id=account.id,
                     subject_person_id=booking.policy.insured_id, target=f"page:{page.public_id}", ip=ip,
                     detail={"booking": booking.reference, "kind": kind, "bytes": page.byte_size,
                             "retake": bool(target)})
    return page


def count_attempt(session: Session, *, account: Account, now: datetime, ip: str | None = None) -> None:
    """Count one photo about to be checked; DocumentRefused("document.rate_limited") once there were too many."""
    bucket = {f"upload-try:{account.id}": ATTEMPT_LIMIT}
    with write_transaction(session):
        ratelimit.lock(session, bucket)
        limited = ratelimit.blocked(session, bucket, now)
        if limited:  # the refusal is logged (SECURITY.md, Logs), and the transaction commits it
            audit.record(session, "document.rate_limited", now=now, actor_id=account.id, ip=ip)
        else:
            ratelimit.count(session, bucket, now)
    if limited:
        raise DocumentRefused("document.rate_limited")


def _buckets(account: Account, ip: str | None) -> dict[str, ratelimit.Limit]:
    buckets = {f"upload-account:{account.id}": UPLOAD_LIMITS["account"]}
    if ip:
        buckets[f"upload-ip:{ip}"] = UPLOAD_LIMITS["ip"]
    return buckets


def _check(session, booking_id, kind, photo, account, now, replaces, ip, lock=True):
    booking = session.scalar(select(Booking).where(Booking.id == booking_id).options(selectinload(Booking.policy)))
    if booking is None or not may_act(session, account, booking, now):
        raise DocumentRefused("document.not_entitled")
    if not takes_papers(booking):
        raise DocumentRefused("document.closed")
    _product, service = rules_for(booking.service)
    if kind not in required_kinds(service, booking):
        raise DocumentRefused("document.not_needed")
    buckets = _buckets(account, ip)
    if lock:
        ratelimit.lock(session, buckets)
    if ratelimit.blocked(session, buckets, now):
        raise DocumentRefused("document.rate_limited")
    doc = session.scalar(select(Document).where(Document.booking_id == booking.id, Document.kind == kind)
                         .options(selectinload(Document.pages)))
    target = None
    if replaces:
        target = next((p for p in (doc.pages if doc else []) if p.public_id == replaces), None)
        if target is None or target.status not in NEEDS_RETAKE:
            raise DocumentRefused("document.not_retakeable")
        if any(p.replaces_id == target.id and p.status == DRAFT for p in doc.pages):
            raise DocumentRefused("document.retake_waiting")
    if doc is not None:
        same = next((p for p in doc.pages if p.sha256 == photo.sha256), None)
        if same is not None:
            raise DocumentRefused("document.duplicate", page=doc.pages.index(same) + 1)
        live = [p for p in doc.pages if p.status != REPLACED and not (p.status == DRAFT and p.replaces_id)]
        if target is None and len(live) >= MAX_PAGES_PER_DOCUMENT:
            raise DocumentRefused("document.too_many_pages", limit=MAX_PAGES_PER_DOCUMENT)
    total = session.scalar(select(func.count()).select_from(DocumentPage).join(Document)
                           .where(Document.booking_id == booking.id, DocumentPage.status != REPLACED))
    if total >= MAX_PAGES_PER_BOOKING:
        raise DocumentRefused("document.too_many_pages", limit=MAX_PAGES_PER_BOOKING)
    return booking, doc, target


def _discard(storage: Storage, key: str) -> None:
    for k in (key, key + THUMB_SUFFIX):
        try:
            storage.delete(k)
        except (StorageError, OSError):
            pass


def _refresh(session: Session, doc: Document, now: datetime) -> None:
    session.refresh(doc, ["pages"])
    doc.status, doc.status_reason = status_of(doc.pages)
    doc.updated_at = now


def find_page(session: Session, public_id: str) -> DocumentPage | None:
    if not re.fullmatch(r"[A-Za-z0-9_-]{1,24}", public_id or ""):
        return None
    return session.scalar(select(DocumentPage).where(DocumentPage.public_id == public_id)
                          .options(selectinload(DocumentPage.document)))


def remove_draft(session: Session, storage: Storage, *, public_id: str, account: Account, now: datetime,
                 ip: str | None = None) -> Document:
    """Delete a page the customer has not sent yet (the row first, then its files)."""
    require_aware(now, "now")
    with write_transaction(session):
        page = find_page(session, public_id)
        booking = page and session.get(Booking, page.document.booking_id)
        if page is None or booking is None or not may_act(session, account, booking, now):
            raise DocumentRefused("document.not_entitled")
        if page.status != DRAFT:
            raise DocumentRefused("document.already_sent")
        doc, keys = page.document, (page.storage_key, page.thumbnail_key)
        session.delete(page)
        session.flush()
        _refresh(session, doc, now)
        audit.record(session, "document.page_removed", now=now, actor_id=account.id,
                     subject_person_id=booking.policy.insured_id, target=f"page:{public_id}", ip=ip)
    for key in keys:
        _delete_quietly(storage, key)
    return doc


def _delete_quietly(storage: Storage, key: str | None) -> None:
    if key:
        try:
            storage.delete(key)
        except (StorageError, OSError):
            pass  # the row is gone: the sweeper removes the file on its next run


def submit(session: Session, *, booking_id: int, account: Account, now: datetime, ip: str | None = None) -> int:
    """Send every draft page for review; a sent retake replaces the page it retakes. Returns how many."""
    require_aware(now, "now")
    with write_transaction(session):
        booking = session.get(Booking, booking_id)
        if booking is None or not may_act(session, account, booking, now):
            raise DocumentRefused("document.not_entitled")
        if not takes_papers(booking):
            raise DocumentRefused("document.closed")
        docs = session.scalars(select(Document).where(Document.booking_id == booking.id)
                               .options(selectinload(Document.pages))).all()
        sent = 0
        for doc in docs:
            by_id = {p.id: p for p in doc.pages}
            for page in doc.pages:
                if page.status != DRAFT:
                    continue
                page.status, page.submitted_at = RECEIVED, now
                sent += 1
                if page.replaces_id and page.replaces_id in by_id:
                    old = by_id[page.replaces_id]
                    old.status = REPLACED
                    page.position = old.position
            doc.status, doc.status_reason = status_of(doc.pages)
            doc.updated_at = now
        if not sent:
            raise DocumentRefused("document.nothing_to_send")
        audit.record(session, "document.submit", now=now, actor_id=account.id,
                     subject_person_id=booking.policy.insured_id, target=f"booking:{booking.id}", ip=ip,
                     detail={"pages": sent})
    return sent


def decide_page(session: Session, *, public_id: str, staff: Account, now: datetime, decision: str,
                reason: str | None = None, note: str | None = None) -> DocumentPage:
    """Staff's verdict on one sent page: accepted, unreadable (retake) or rejected (with a listed reason)."""
    require_aware(now, "now")
    if not staff.is_staff:
        raise DocumentRefused("document.not_entitled")
    if decision not in (ACCEPTED, UNREADABLE, REJECTED):
        raise ValueError(f"unknown decision {decision!r}")
    if decision == REJECTED and reason not in REJECT_REASONS:
        raise DocumentRefused("document.reason_needed")
    with write_transaction(session):
        page = find_page(session, public_id)
        if page is None:
            raise DocumentRefused("document.not_entitled")
        if page.status not in (RECEIVED, ACCEPTED, UNREADABLE, REJECTED):
            raise DocumentRefused("document.not_sent")
        text = reason if decision != ACCEPTED else None
        if note and decision != ACCEPTED:
            text = f"{text or 'other'}: {note.strip()[:200]}"
        page.status, page.status_reason = decision, text
        page.decided_at, page.decided_by_id = now, staff.id
        _refresh(session, page.document, now)
        if decision in NEEDS_RETAKE:
            booking = booking_of(session, page)
            live = [p for p in page.document.pages if p.status != REPLACED and not (p.status == DRAFT and p.replaces_id)]
            notifications.record_retake(session, booking, page_id=page.id, public_id=page.public_id,
                                        kind=page.document.kind, page_number=live.index(page) + 1, decision=decision,
                                        reason=text, at=now)
        audit.record(session, "document.decide", now=now, actor_id=staff.id,
                     subject_person_id=page.document.person_id, target=f"page:{public_id}",
                     detail={"decision": decision, "reason": reason})
    return page


# --- housekeeping (cron) ------------------------------------------------------------------------------

class SweepRefused(RuntimeError):
    """Too many pages look lost at once: more likely a store mounted wrongly than files gone. Nothing deleted."""


@dataclass(frozen=True)
class SweepReport:
    temp_files: int
    files_without_row: int
    rows_without_file: int


def sweep(session: Session, storage: Storage, *, now: datetime, grace_seconds: float = SWEEP_GRACE_SECONDS) -> SweepReport:
    """Make the store and the database agree again after crashes: remove temp leftovers and files no row
    names (older than the grace period, so an upload about to commit is left alone), and delete the rows of
    pages whose image has vanished from the store, so the checklist asks for them again."""
    require_aware(now, "now")
    temp = storage.sweep_temp(older_than=grace_seconds)
    stored = set(storage.keys())
    known: set[str] = set()
    lost: list[int] = []
    cutoff = now - timedelta(seconds=grace_seconds)
    for page_id, key, thumb, created in session.execute(
            select(DocumentPage.id, DocumentPage.storage_key, DocumentPage.thumbnail_key, DocumentPage.created_at)):
        known.update(k for k in (key, thumb) if k)
        if key not in stored and created <= cutoff:
            lost.append(page_id)
    session.rollback()
    pages = len(known) // 2
    if len(lost) > max(5, pages // 10):
        raise SweepRefused(f"{len(lost)} of {pages} pages have no file in {storage!r}: is the right store configured? "
                           "Nothing was deleted.")
    orphans = 0
    for key in storage.keys(older_than=grace_seconds):
        if key not in known:
            _delete_quietly(storage, key)
            orphans += 1
    if lost:
        with write_transaction(session):
            pages = session.scalars(select(DocumentPage).where(DocumentPage.id.in_(lost))
                                    .options(selectinload(DocumentPage.document))).all()
            docs = {p.document for p in pages}
            for page in pages:
                _delete_quietly(storage, page.thumbnail_key)
                session.execute(update(DocumentPage).where(DocumentPage.replaces_id == page.id).values(replaces_id=None))
                session.delete(page)
                audit.record(session, "document.page_lost", now=now, subject_person_id=page.document.person_id,
                             target=f"page:{page.public_id}")
            session.flush()
            for doc in docs:
                _refresh(session, doc, now)
    return SweepReport(temp, orphans, len(lost))


def purge_expired(session: Session, storage: Storage, *, now: datetime, retention: timedelta = DEFAULT_RETENTION) -> int:
    """Delete every page of applications closed longer ago than `retention`. Returns how many pages."""
    require_aware(now, "now")
    closed = [s.value for s in CLOSED]
    with write_transaction(session):
        docs = session.scalars(
            select(Document).join(Booking, Document.booking_id == Booking.id)
            .where(Booking.state.in_(closed), Booking.closed_at.is_not(None), Booking.closed_at <= now - retention,
                   Document.status != PURGED)
            .options(selectinload(Document.pages))
        ).all()
        keys = [k for d in docs for p in d.pages for k in (p.storage_key, p.thumbnail_key)]
        count = 0
        for doc in docs:
            pages = list(doc.pages)
            for page in pages:  # unlink retakes first: a page may not vanish while another names it
                page.replaces_id = None
            session.flush()
            for page in pages:
                session.delete(page)
                count += 1
            session.flush()
            doc.status, doc.status_reason, doc.updated_at = PURGED, "retention", now
            audit.record(session, "document.purged", now=now, subject_person_id=doc.person_id,
                         target=f"document:{doc.id}", detail={"pages": len(pages)})
    for key in keys:
        _delete_quietly(storage, key)
    return count


# --- file names ---------------------------------------------------------------------------------------

_UNSAFE = re.compile(r"[\x00-\x1f\x7f<>:\"/\\|?*]")


def display_name(filename: str | None) -> str | None:
    """The customer's file name, for display only (it never names a stored file): the last path part,
    without control, format or bidirectional-override characters, markup or path characters, at most 80
    characters keeping the extension, or None when nothing is left."""
    if not filename:
        return None
    name = unicodedata.normalize("NFC", str(filename)).replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(ch for ch in name if unicodedata.category(ch) not in ("Cc", "Cf", "Zl", "Zp", "Co", "Cs"))
    name = _UNSAFE.sub("", name)
    name = " ".join(name.split()).lstrip(".").strip()
    if len(name) > 80:
        stem, dot, ext = name.rpartition(".")
        name = (stem[: 79 - len(ext)] + "." + ext) if dot and 0 < len(ext) <= 8 else name[:80]
    return name or None


def booking_of(session: Session, page: DocumentPage) -> Booking | None:
    return session.scalar(select(Booking).where(Booking.id == page.document.booking_id)
                          .options(selectinload(Booking.policy).selectinload(Policy.insured)))

"""Document checklists and their pages: what an application needs, what has arrived, what must be retaken.

Each application (booking) has a checklist: the papers its service's catalog entry asks for (apply_forms
`documents_for`: diagnosis from a level-2/2A+ public hospital, pathology report, admission slip …) plus, when
someone applies for the insured, the applicant's ID and the proof of guardianship or the power of attorney
(seed 003 医疗垫付 材料 g / 8, lines 331-333 and 1064-1066: "如非被保险人本人申请……需同步提供申请人身份证明及
监护关系证明，或申请人身份证明及被保险人签署的授权委托书").

A page is a photo that passed `photos.process`. It starts as a draft the customer can still remove; sending
the checklist makes drafts "received"; staff then accept a page, or mark it unreadable or rejected with a
reason, and only those pages need sending again (a retake replaces its page once sent).

A request for family access (a ProxyGrant, services/family/family.py) owns its proof papers the same way: the family
member's own ID, the proof of guardianship, of incapacity, or the power of attorney. Only the person who asked
adds and sends them, and only they and staff see them; sending them puts the request in staff's queue. Once
the grant is verified, a proxy's applications show those papers as "on file" instead of asking for them again;
so do the proxy's own papers accepted on an earlier application for the same insured under that grant (issue 15
item 9: a verified guardian is never asked twice). No seed asks for them with every application of a service the
portal books: seed 003's "需同步提供" (lines 331-333, 1064-1066, 1430-1432) is the material list of 医疗垫付, which
the portal does not book (catalog 003 medical_advance is information only).

Storage order (SECURITY.md, Uploads, "No orphans"): the image and its thumbnail are stored durably first,
then the row is committed. A crash in between leaves files without a row, which `sweep` removes; deleting
goes the other way round (row first, then files). Nothing here imports Flask.
"""
from __future__ import annotations

import logging
import re
import secrets
import time
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import BinaryIO

from sqlalchemy import and_, func, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, selectinload

from ...db import write_transaction
from ...models import Account, Booking, Document, DocumentPage, Policy, ProxyGrant
from .. import audit, ratelimit
from ..booking import notifications
from ..family import family
from ..booking.apply_forms import documents_for
from ..booking.booking_states import CLOSED, OPEN, State
from ..products.catalog import Document as Kind, Service
from ..products.catalog_sync import rules_for
from ..clock import china_date, require_aware
from .photos import LIMITS as PHOTO_LIMITS, Photo, PhotoRefused, process as process_photo
from ..refusals import Refused
from .storage import Storage, StorageError, new_key

DRAFT, RECEIVED, UNREADABLE, REJECTED, ACCEPTED, REPLACED = (
    "draft", "received", "unreadable", "rejected", "accepted", "replaced")
NEEDS_RETAKE = frozenset({UNREADABLE, REJECTED})
MISSING, PURGED = "missing", "purged"  # document states with no page of their own

log = logging.getLogger(__name__)

MAX_PHOTOS_PER_POST = 10  # one post without JavaScript may carry several photos; the page's script sends one each
MAX_PAGES_PER_DOCUMENT = 12
MAX_PAGES_PER_BOOKING = 60
MAX_PAGES_PER_GRANT = 20  # an ID card, a household register page or two, a court paper: a handful each
UPLOAD_LIMITS = {"account": ratelimit.Limit(120, timedelta(hours=1)), "ip": ratelimit.Limit(300, timedelta(hours=1))}
# Every photo sent costs a full decode, refused or not: attempts have their own, looser limit.
ATTEMPT_LIMIT = ratelimit.Limit(300, timedelta(hours=1))
DEFAULT_RETENTION = timedelta(days=180)  # after an application closes (config DOCUMENT_RETENTION_DAYS)
SWEEP_GRACE_SECONDS = 3600  # an upload between its storing and its commit is never this old
HOUSEKEEPING_BATCH = 500  # rows per transaction of the sweeper (lost pages) and of the purge (documents)
SWEEP_PREFIX_ROWS = 5000  # the sweeper compares store and rows one key prefix at a time, about this many pages each
# Reasons staff may give for a rejected page (with their own words added); issue 6's console offers these.
REJECT_REASONS = ("wrong_document", "incomplete", "not_hospital_grade", "name_mismatch", "expired", "other")
THUMB_SUFFIX = ".t"
# Identity papers: shown only after a fresh sign-in (SECURITY.md, Sessions: "fresh login required … to view ID
# documents"), to staff and customers alike.
SENSITIVE_KINDS = frozenset({Kind.ID_CARD.value, Kind.APPLICANT_ID.value, Kind.GUARDIANSHIP_PROOF.value,
                             Kind.INCAPACITY_PROOF.value, Kind.POWER_OF_ATTORNEY.value})


class DocumentRefused(Refused, ValueError):
    """A paper or page not added, sent or decided (document.*); nothing changed."""


@dataclass(frozen=True)
class OnFile:
    """A proxy's own paper already proved, and by what: their verified grant (its accepted proof, or the insured's
    approval in their own account), or the accepted pages of an earlier application of theirs for the insured."""

    at: datetime  # when the grant was verified, or when the earlier application's paper was accepted
    grant: str  # the grant's public id
    approved: bool = False  # the insured approved the agent in their own account: there is no paper
    booking: str | None = None  # the reference of the earlier application holding the accepted pages


@dataclass
class Item:
    """One line of a checklist: a kind of paper, its pages as the customer should see them, and its state."""

    kind: str
    document: Document | None
    status: str = MISSING
    reason: str | None = None
    pages: list[DocumentPage] = field(default_factory=list)  # live pages in upload order, retakes excluded
    retakes: dict[int, DocumentPage] = field(default_factory=dict)  # page id → the draft that will replace it
    on_file: datetime | None = None  # proved by the applicant's verified grant (then): nothing to send here
    on_file_source: OnFile | None = None  # what proves it: the grant, or an earlier application's accepted pages

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
    """Every paper the application needs (and any other it already has), with pages and state. Reads only.
    A proxy's own papers that their verified grant already proves are accepted "on file", with no pages."""
    docs = session.scalars(
        select(Document).where(Document.booking_id == booking.id).options(selectinload(Document.pages))
    ).all()
    by_kind = {d.kind: d for d in docs}
    items = _items([*required_kinds(service, booking), *by_kind], by_kind)
    filed = proofs_on_file(session, booking)
    for item in items:
        if item.kind in filed and item.status == MISSING:
            item.status, item.on_file, item.on_file_source = ACCEPTED, filed[item.kind].at, filed[item.kind]
    return items


def grant_checklist(session: Session, grant: ProxyGrant) -> list[Item]:
    """Every proof a request for access needs (and any other it already has), with pages and state. Reads only."""
    by_kind = family.proof_documents(session, grant)
    return _items([*family.proofs_needed(grant), *by_kind], by_kind)


def _items(kinds: list[str], by_kind: dict[str, Document]) -> list[Item]:
    items = []
    for kind in dict.fromkeys(kinds):
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


def applicants_grant(session: Session, booking: Booking) -> ProxyGrant | None:
    """The verified grant under which a proxy applied (the applicant's over the insured), newest first."""
    if booking.acting_as not in PROXY_PAPERS:
        return None
    grants = session.scalars(select(ProxyGrant).where(
        ProxyGrant.grantee_account_id == booking.applicant_account_id,
        ProxyGrant.insured_person_id == booking.policy.insured_id, ProxyGrant.status == family.VERIFIED,
    ).order_by(ProxyGrant.verified_at.desc(), ProxyGrant.id.desc())).all()
    return next((g for g in grants if family.RELATION[g.kind] == booking.acting_as and g.verified_at), None)


def on_file(session: Session, booking: Booking) -> dict[str, datetime]:
    """The proxy's own papers already proved → since when (proofs_on_file)."""
    return {kind: filed.at for kind, filed in proofs_on_file(session, booking).items()}


def proofs_on_file(session: Session, booking: Booking) -> dict[str, OnFile]:
    """The proxy's own papers already proved, so the application does not ask for them again: those their
    verified grant proves (staff accepted them with the request, or all of them when the insured approved the
    agent in their own account: the approval, after the insured's own sign-in, is the authority), then those
    staff accepted on an earlier application the same proxy made for the same insured, in the same role, since
    that grant was verified (a grant revoked and asked for again starts afresh). The grant's images are never
    shown through a booking; staff open the earlier application to see its pages."""
    grant = applicants_grant(session, booking)
    if grant is None:
        return {}
    kinds = PROXY_PAPERS[booking.acting_as]
    if grant.method == family.INSURED_APPROVAL:
        return {kind: OnFile(grant.verified_at, grant.public_id, approved=True) for kind in kinds}
    accepted = set(session.scalars(select(Document.kind).where(Document.proxy_grant_id == grant.id,
                                                               Document.status == ACCEPTED)))
    filed = {kind: OnFile(grant.verified_at, grant.public_id) for kind in kinds if kind in accepted}
    wanted = [kind for kind in kinds if kind not in filed]
    if wanted:
        earlier = session.execute(  # `booking` may be unsaved (the review step): id None renders IS NOT NULL
            select(Document.kind, Document.updated_at, Booking.reference)
            .join(Booking, Document.booking_id == Booking.id).join(Policy, Booking.policy_id == Policy.id)
            .where(Booking.applicant_account_id == booking.applicant_account_id, Booking.id != booking.id,
                   Booking.acting_as == booking.acting_as, Policy.insured_id == booking.policy.insured_id,
                   Booking.applied_at >= grant.verified_at, Document.kind.in_(wanted), Document.status == ACCEPTED)
            .order_by(Document.updated_at.desc(), Document.id.desc()))
        for kind, at, reference in earlier:
            filed.setdefault(kind, OnFile(at, grant.public_id, booking=reference))
    return filed


# --- who may touch a booking's papers -----------------------------------------------------------------

def may_act(session: Session, account: Account, booking: Booking, now: datetime) -> bool:
    """The insured, or a proxy in force holding the papers scope. Staff review; they do not upload."""
    return family.standing_of(session, account, booking.policy.insured_id, china_date(now)).may(family.DOCUMENTS)


def may_view(session: Session, account: Account, booking: Booking, now: datetime) -> bool:
    return account.is_staff or may_act(session, account, booking, now)


def may_see_page(session: Session, account: Account, page: DocumentPage, owner: Booking | ProxyGrant,
                 now: datetime) -> bool:
    """A page superseded by its retake is kept for staff (the record of what was sent), not shown to customers."""
    if isinstance(owner, ProxyGrant):
        entitled = may_view_grant(account, owner)
    else:
        entitled = may_view(session, account, owner, now)
    return entitled and (page.status != REPLACED or account.is_staff)


def takes_papers(booking: Booking) -> bool:
    """Papers can be added, removed and sent while the application is open."""
    return State(booking.state) in OPEN


# --- who may touch a request's proofs -----------------------------------------------------------------

def is_requester(account: Account, grant: ProxyGrant) -> bool:
    return grant.grantee_account_id == account.id


def grant_takes_papers(grant: ProxyGrant) -> bool:
    """Proofs can be added, removed and sent while the request is a draft or waits for staff."""
    return grant.status in (family.DRAFT, family.PENDING)


def may_act_on_grant(account: Account, grant: ProxyGrant) -> bool:
    """Only the family member who asked, while the request is open: not the insured, not staff."""
    return is_requester(account, grant) and grant_takes_papers(grant)


def may_view_grant(account: Account, grant: ProxyGrant) -> bool:
    """The family member who asked (whatever became of the request) and staff; not the insured, nor anyone else."""
    return account.is_staff or is_requester(account, grant)


# --- whose papers: an application or a request for access ---------------------------------------------

def _load_owner(session: Session, booking_id: int | None, grant_id: int | None) -> Booking | ProxyGrant | None:
    """The booking or the grant named (exactly one), read afresh."""
    if (booking_id is None) == (grant_id is None):
        raise TypeError("name exactly one of booking_id and grant_id")
    if grant_id is not None:
        return session.get(ProxyGrant, grant_id, populate_existing=True)
    return session.scalar(select(Booking).where(Booking.id == booking_id).options(selectinload(Booking.policy)))


def _is_grant(owner: Booking | ProxyGrant) -> bool:
    return isinstance(owner, ProxyGrant)


def _documents_of(owner: Booking | ProxyGrant):
    """The condition picking the owner's documents."""
    return Document.proxy_grant_id == owner.id if _is_grant(owner) else Document.booking_id == owner.id


def person_of(owner: Booking | ProxyGrant) -> int:
    """Whose papers they are: the insured person, for a proof sent with a request as for an application's."""
    return owner.insured_person_id if _is_grant(owner) else owner.policy.insured_id


def _may_act_on(session: Session, account: Account, owner: Booking | ProxyGrant, now: datetime) -> bool:
    """Whose papers these are to handle; whether they are still open is asked apart (a clearer refusal)."""
    return is_requester(account, owner) if _is_grant(owner) else may_act(session, account, owner, now)


def _takes(owner: Booking | ProxyGrant) -> bool:
    return grant_takes_papers(owner) if _is_grant(owner) else takes_papers(owner)


def _named(owner: Booking | ProxyGrant) -> dict:
    """The owner as the audit log names it."""
    return {"grant": owner.public_id} if _is_grant(owner) else {"booking": owner.reference}


def owner_of(session: Session, page: DocumentPage) -> Booking | ProxyGrant | None:
    """The application or the request for access a page belongs to."""
    if page.document.proxy_grant_id is not None:
        return session.scalar(select(ProxyGrant).where(ProxyGrant.id == page.document.proxy_grant_id)
                              .options(selectinload(ProxyGrant.insured)))
    return booking_of(session, page)


# --- adding, removing and sending pages ---------------------------------------------------------------

@dataclass(frozen=True)
class PhotoOutcome:
    """What became of one photo of a post: stored as `page`, or `refused` (and nothing of it kept)."""

    filename: str | None
    page: DocumentPage | None = None
    refused: Refused | None = None


def add_photos(session: Session, storage: Storage, *, booking_id: int | None = None, grant_id: int | None = None,
               kind: str, uploads: Sequence[tuple[str | None, BinaryIO]], account: Account, now: datetime,
               replaces: str | None = None, ip: str | None = None) -> list[PhotoOutcome]:
    """Add the photos of one post as pages of `kind`, each on its own: counted as an attempt (every photo costs a
    full decode), checked (photos.process), then stored and recorded (add_page). `uploads` are (file name,
    stream) pairs; each stream is read up to the photo size limit. One photo's refusal, or a store that fails,
    leaves the others alone; `replaces` (a retake) applies to the first photo, further ones are new pages.
    DocumentRefused before anything is counted when the post holds no photo or more than MAX_PHOTOS_PER_POST."""
    if not uploads:
        raise DocumentRefused("document.no_file")
    if len(uploads) > MAX_PHOTOS_PER_POST:
        raise DocumentRefused("document.too_many_files", limit=MAX_PHOTOS_PER_POST)
    owner = f"booking_id={booking_id}" if booking_id is not None else f"grant_id={grant_id}"
    outcomes = []
    for filename, stream in uploads:
        data = stream.read(PHOTO_LIMITS.max_bytes + 1)
        try:
            count_attempt(session, account=account, now=now, ip=ip)
            page = add_page(session, storage, booking_id=booking_id, grant_id=grant_id, kind=kind,
                            photo=process_photo(data), account=account, now=now, display_name=display_name(filename),
                            replaces=replaces, ip=ip)
            outcomes.append(PhotoOutcome(filename, page=page))
        except (PhotoRefused, DocumentRefused) as refused:
            log.info("upload refused account=%s %s kind=%s reason=%s ip=%s", account.id, owner, kind[:32], refused.key, ip)
            outcomes.append(PhotoOutcome(filename, refused=refused))
        except StorageError:
            log.exception("storage failed for %s", owner)
            outcomes.append(PhotoOutcome(filename, refused=DocumentRefused("document.storage")))
        replaces = None
    return outcomes


def add_page(session: Session, storage: Storage, *, booking_id: int | None = None, grant_id: int | None = None,
             kind: str, photo: Photo, account: Account, now: datetime, display_name: str | None = None,
             replaces: str | None = None, ip: str | None = None) -> DocumentPage:
    """Store one processed photo as a draft page of `kind` (or as the retake of page `replaces`), for an
    application (`booking_id`) or a request for access (`grant_id`).

    Refusals (a closed application or request, a paper not on the checklist, too many pages, the same photo
    twice, too many uploads) raise DocumentRefused and leave nothing behind.
    """
    require_aware(now, "now")
    owner_ids = (booking_id, grant_id)
    try:  # a cheap look first, so a refused upload never touches the store
        _check(session, owner_ids, kind, photo, account, now, replaces, ip, lock=False)
    finally:
        session.rollback()
    key = new_key()
    try:
        storage.put(key, photo.image)
        storage.put(key + THUMB_SUFFIX, photo.thumbnail)
        for attempt in (1, 2):
            try:
                return _insert(session, owner_ids, kind, photo, account, now, display_name, replaces, ip, key)
            except IntegrityError as exc:
                # Either the same photo arrived twice at once (a double tap), or two first pages of one
                # paper raced to create its document: the second try tells them apart.
                if attempt == 2:
                    raise DocumentRefused("document.duplicate") from exc
    except BaseException:
        _discard(storage, key)  # best effort; whatever stays behind is the sweeper's
        raise
    raise AssertionError("unreachable")


def _insert(session, owner_ids, kind, photo, account, now, display_name, replaces, ip, key) -> DocumentPage:
    with write_transaction(session):
        owner, doc, target = _check(session, owner_ids, kind, photo, account, now, replaces, ip)
        if doc is None:
            grant = _is_grant(owner)
            doc = Document(booking_id=None if grant else owner.id, proxy_grant_id=owner.id if grant else None,
                           person_id=person_of(owner), kind=kind, status=MISSING, created_at=now, updated_at=now)
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
                     subject_person_id=person_of(owner), target=f"page:{page.public_id}", ip=ip,
                     detail={**_named(owner), "kind": kind, "bytes": page.byte_size, "retake": bool(target)})
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


def _check(session, owner_ids, kind, photo, account, now, replaces, ip, lock=True):
    owner = _load_owner(session, *owner_ids)
    if owner is None or not _may_act_on(session, account, owner, now):
        raise DocumentRefused("document.not_entitled")
    if not _takes(owner):
        raise DocumentRefused("document.closed")
    if kind not in _kinds_taken(owner):
        raise DocumentRefused("document.not_needed")
    buckets = _buckets(account, ip)
    if lock:
        ratelimit.lock(session, buckets)
    if ratelimit.blocked(session, buckets, now):
        raise DocumentRefused("document.rate_limited")
    doc = session.scalar(select(Document).where(_documents_of(owner), Document.kind == kind)
                         .options(selectinload(Document.pages)))
    if doc is None or doc.status == MISSING:
        if kind in _on_file_kinds(session, owner):  # proved by the grant: the checklist offers no upload
            raise DocumentRefused("document.not_needed")
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
                           .where(_documents_of(owner), DocumentPage.status != REPLACED))
    cap = MAX_PAGES_PER_GRANT if _is_grant(owner) else MAX_PAGES_PER_BOOKING
    if total >= cap:
        raise DocumentRefused("document.too_many_pages", limit=cap)
    return owner, doc, target


def _kinds_taken(owner: Booking | ProxyGrant) -> tuple[str, ...]:
    """The papers that may be added: the application's checklist, or the proofs the request needs."""
    if _is_grant(owner):
        return family.proofs_needed(owner)
    _product, service = rules_for(owner.service)
    return required_kinds(service, owner)


def _on_file_kinds(session: Session, owner: Booking | ProxyGrant) -> dict[str, datetime]:
    return {} if _is_grant(owner) else on_file(session, owner)


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
        owner = page and _load_owner(session, page.document.booking_id, page.document.proxy_grant_id)
        if page is None or owner is None or not _may_act_on(session, account, owner, now):
            raise DocumentRefused("document.not_entitled")
        if _is_grant(owner) and not grant_takes_papers(owner):
            raise DocumentRefused("document.closed")
        if page.status != DRAFT:
            raise DocumentRefused("document.already_sent")
        doc, keys = page.document, (page.storage_key, page.thumbnail_key)
        session.delete(page)
        session.flush()
        _refresh(session, doc, now)
        audit.record(session, "document.page_removed", now=now, actor_id=account.id,
                     subject_person_id=person_of(owner), target=f"page:{public_id}", ip=ip)
    for key in keys:
        _delete_quietly(storage, key)
    return doc


def _delete_quietly(storage: Storage, key: str | None) -> None:
    if key:
        try:
            storage.delete(key)
        except (StorageError, OSError):
            pass  # the row is gone: the sweeper removes the file on its next run


def submit(session: Session, *, booking_id: int | None = None, grant_id: int | None = None, account: Account,
           now: datetime, ip: str | None = None) -> int:
    """Send every draft page for review; a sent retake replaces the page it retakes. Returns how many.
    A request's proofs go together: every one must have pages, and the request then waits for staff."""
    require_aware(now, "now")
    with write_transaction(session):
        owner = _load_owner(session, booking_id, grant_id)
        if owner is None or not _may_act_on(session, account, owner, now):
            raise DocumentRefused("document.not_entitled")
        if not _takes(owner):
            raise DocumentRefused("document.closed")
        docs = session.scalars(select(Document).where(_documents_of(owner))
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
        if _is_grant(owner):
            try:
                family.mark_sent(session, owner, account=account, now=now, ip=ip)
            except family.Refused as refused:  # raised inside the transaction: nothing is kept
                raise DocumentRefused(refused.key, **refused.params) from refused
        target = f"grant:{owner.public_id}" if _is_grant(owner) else f"booking:{owner.id}"
        audit.record(session, "document.submit", now=now, actor_id=account.id, subject_person_id=person_of(owner),
                     target=target, ip=ip, detail={"pages": sent})
    return sent


def decide_page(session: Session, *, public_id: str, staff: Account, now: datetime, decision: str,
                reason: str | None = None, note: str | None = None) -> DocumentPage:
    """Staff's verdict on one sent page: accepted, unreadable (retake) or rejected (with a listed reason). A
    request's proof is decided while the request waits for staff; its retake message goes to the requester."""
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
        owner = owner_of(session, page)
        if owner is None or (_is_grant(owner) and not grant_takes_papers(owner)):
            raise DocumentRefused("document.closed")
        text = reason if decision != ACCEPTED else None
        if note and decision != ACCEPTED:
            text = f"{text or 'other'}: {note.strip()[:200]}"
        page.status, page.status_reason = decision, text
        page.decided_at, page.decided_by_id = now, staff.id
        _refresh(session, page.document, now)
        if decision in NEEDS_RETAKE:
            live = [p for p in page.document.pages if p.status != REPLACED and not (p.status == DRAFT and p.replaces_id)]
            tell = notifications.record_grant_retake if _is_grant(owner) else notifications.record_retake
            tell(session, owner, page_id=page.id, public_id=page.public_id, kind=page.document.kind,
                 page_number=live.index(page) + 1, decision=decision, reason=text, at=now)
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
    rows_kept_unshared: int = 0  # pages with no file here, kept: the store is not proven to be the shared one


def sweep(session: Session, storage: Storage, *, now: datetime, grace_seconds: float = SWEEP_GRACE_SECONDS,
          batch: int = HOUSEKEEPING_BATCH) -> SweepReport:
    """Make the store and the database agree again after crashes: remove temp leftovers and files no row
    names (older than the grace period, so an upload about to commit is left alone), and delete the rows of
    pages whose image has vanished from the store, so the checklist asks for them again. Rows are deleted only
    from a store proven to be the one every server uses (`is_shared`); elsewhere they are counted and kept.

    Memory stays flat in the book's size (issue 16: 857 MB at 100k pages): the store and the rows are compared one
    key prefix at a time (`_prefixes`, about SWEEP_PREFIX_ROWS pages each), the store's listing streamed, and lost
    rows are deleted `batch` at a time, each batch committed on its own. A first pass only counts, so a store that
    looks mostly empty (the wrong one mounted) is refused before anything is deleted."""
    require_aware(now, "now")
    if batch < 1:
        raise ValueError("batch must be 1 or more")
    temp = storage.sweep_temp(older_than=grace_seconds)
    cutoff = now - timedelta(seconds=grace_seconds)
    pages = session.scalar(select(func.count()).select_from(DocumentPage)) or 0
    session.rollback()
    ranges = _prefixes(pages)
    lost = 0
    for prefix, low, high in ranges:
        stored = {key for key, _modified in storage.listing(prefix=prefix)}
        lost += sum(1 for row in _rows_between(session, low, high) if row.storage_key not in stored and row.created_at <= cutoff)
    if lost > max(5, pages // 10):
        raise SweepRefused(f"{lost} of {pages} pages have no file in {storage!r}: is the right store configured? "
                           "Nothing was deleted.")
    # A server's own upload folder lacks the pages other servers stored: a missing file proves nothing there
    # (issue 16: such a sweep deleted 4 rows whose files existed elsewhere). Only the marked shared store may.
    shared = storage.is_shared()
    kept = 0 if shared else lost
    orphans = forgotten = 0
    pending: list[int] = []  # lost pages not yet forgotten: fewer than `batch` between prefixes
    old = time.time() - grace_seconds  # the store's ages are wall-clock (mtime, LastModified), as in Storage.keys
    for prefix, low, high in ranges:
        modified = dict(storage.listing(prefix=prefix))
        rows = _rows_between(session, low, high)
        named = {key for row in rows for key in (row.storage_key, row.thumbnail_key) if key}
        unnamed = [key for key, at in modified.items() if key not in named and (grace_seconds <= 0 or at <= old)]
        for key in _not_in_any_row(session, unnamed):
            _delete_quietly(storage, key)
            orphans += 1
        if shared:
            lost_here = [row.id for row in rows if row.storage_key not in modified and row.created_at <= cutoff]
            for start in range(0, len(lost_here), batch):
                pending += lost_here[start:start + batch]
                if len(pending) >= batch:  # a transaction per `batch` lost pages, whichever prefixes they came from
                    forgotten += _forget_lost_pages(session, storage, pending[:batch], now)
                    pending = pending[batch:]
    if pending:
        forgotten += _forget_lost_pages(session, storage, pending, now)
    return SweepReport(temp, orphans, forgotten, kept)


def _prefixes(pages: int) -> list[tuple[str, str | None, str | None]]:
    """Key prefixes (all hex strings of one length) that split the store into parts of about SWEEP_PREFIX_ROWS
    pages, each with the range [low, high) of storage keys whose rows it compares: the ranges cover every string,
    so a row whose key is no key of ours is compared too (and found without a file)."""
    length = 0
    while pages > SWEEP_PREFIX_ROWS * 16 ** length and length < 4:
        length += 1
    prefixes = [format(i, f"0{length}x") for i in range(16 ** length)] if length else [""]
    return [(p, p if i else None, prefixes[i + 1] if i + 1 < len(prefixes) else None) for i, p in enumerate(prefixes)]


def _rows_between(session: Session, low: str | None, high: str | None) -> list:
    """The pages whose storage key is in [low, high) (the unique index on storage_key finds them), read in a
    transaction of its own that ends at once."""
    query = select(DocumentPage.id, DocumentPage.storage_key, DocumentPage.thumbnail_key, DocumentPage.created_at)
    if low is not None:
        query = query.where(DocumentPage.storage_key >= low)
    if high is not None:
        query = query.where(DocumentPage.storage_key < high)
    try:
        return session.execute(query).all()
    finally:
        session.rollback()


def _not_in_any_row(session: Session, keys: list[str]) -> list[str]:
    """Of these stored keys (files no row of their prefix names), those no row names at all: a thumbnail is its
    page's key plus ".t", but a row is asked by each key before its file goes."""
    gone = []
    for start in range(0, len(keys), HOUSEKEEPING_BATCH):
        chunk = keys[start:start + HOUSEKEEPING_BATCH]
        named = set(session.scalars(select(DocumentPage.storage_key).where(DocumentPage.storage_key.in_(chunk))))
        named |= set(session.scalars(select(DocumentPage.thumbnail_key).where(DocumentPage.thumbnail_key.in_(chunk))))
        session.rollback()
        gone += [key for key in chunk if key not in named]
    return gone


def _forget_lost_pages(session: Session, storage: Storage, ids: list[int], now: datetime) -> int:
    """Delete the rows of pages whose image is gone (one transaction), then their thumbnails; how many."""
    with write_transaction(session):
        pages = session.scalars(select(DocumentPage).where(DocumentPage.id.in_(ids))
                                .options(selectinload(DocumentPage.document))).all()
        docs = {p.document for p in pages}
        thumbnails = [p.thumbnail_key for p in pages]
        for page in pages:
            session.execute(update(DocumentPage).where(DocumentPage.replaces_id == page.id).values(replaces_id=None))
            session.delete(page)
            audit.record(session, "document.page_lost", now=now, subject_person_id=page.document.person_id,
                         target=f"page:{page.public_id}")
        session.flush()
        for doc in docs:
            _refresh(session, doc, now)
    for key in thumbnails:
        _delete_quietly(storage, key)
    return len(pages)


def purge_expired(session: Session, storage: Storage, *, now: datetime, retention: timedelta = DEFAULT_RETENTION,
                  batch: int = HOUSEKEEPING_BATCH) -> int:
    """Delete every page of applications closed longer ago than `retention`, and the proofs of requests for
    access that ended (refused, declined, withdrawn, revoked, or past their end date) longer ago than that, or
    that were never sent in that time (withdrawn now). The proofs of a grant in force are kept. Returns how many pages.

    `batch` documents (or given-up requests) at a time, each batch its own transaction and its files deleted once it
    is committed (issue 16: 20.6 minutes in one transaction at 10k), found by keyset over ids: a failure keeps the
    batches before it, and the next run carries on."""
    require_aware(now, "now")
    if batch < 1:
        raise ValueError("batch must be 1 or more")
    closed = [s.value for s in CLOSED]
    cutoff = now - retention
    applications = (select(Document.id).join(Booking, Document.booking_id == Booking.id)
                    .where(Booking.state.in_(closed), Booking.closed_at.is_not(None), Booking.closed_at <= cutoff,
                           Document.status != PURGED))
    requests = (select(Document.id).join(ProxyGrant, Document.proxy_grant_id == ProxyGrant.id)
                .where(_ended_before(cutoff), Document.status != PURGED))
    count = 0
    for query in (applications, requests):
        last = 0
        while True:
            with write_transaction(session):
                ids = session.scalars(query.where(Document.id > last).order_by(Document.id).limit(batch)).all()
                pages, keys = _purge_documents(session, ids, now)
            count += pages
            for key in keys:
                _delete_quietly(storage, key)
            if len(ids) < batch:
                break
            last = ids[-1]
    # A request never sent within the retention is given up: withdrawn, so its photos can go (in the same batch).
    last = 0
    while True:
        with write_transaction(session):
            grants = session.scalars(select(ProxyGrant).where(ProxyGrant.status == family.DRAFT,
                                                              ProxyGrant.created_at <= cutoff, ProxyGrant.id > last)
                                     .order_by(ProxyGrant.id).limit(batch)).all()
            for grant in grants:
                grant.status, grant.decided_at = family.WITHDRAWN, now
                audit.record(session, "access.abandoned", now=now, subject_person_id=grant.insured_person_id,
                             target=f"grant:{grant.public_id}")
            ids = session.scalars(select(Document.id).where(Document.proxy_grant_id.in_([g.id for g in grants]),
                                                            Document.status != PURGED).order_by(Document.id)).all()
            pages, keys = _purge_documents(session, ids, now)
        count += pages
        for key in keys:
            _delete_quietly(storage, key)
        if len(grants) < batch:
            return count
        last = grants[-1].id


def _purge_documents(session: Session, ids: list[int], now: datetime) -> tuple[int, list[str]]:
    """Inside the caller's transaction: delete the pages of these documents (retakes unlinked first: a page may not
    vanish while another names it), mark each document purged with an audit row; (pages, their keys)."""
    docs = session.scalars(select(Document).where(Document.id.in_(ids)).order_by(Document.id)
                           .options(selectinload(Document.pages))).all() if ids else []
    pages = {doc.id: list(doc.pages) for doc in docs}
    everyone = [page for doc in docs for page in pages[doc.id]]
    keys = [k for page in everyone for k in (page.storage_key, page.thumbnail_key) if k]
    for page in everyone:
        page.replaces_id = None
    session.flush()  # one statement per batch, not per paper
    for page in everyone:
        session.delete(page)
    session.flush()
    for doc in docs:
        doc.status, doc.status_reason, doc.updated_at = PURGED, "retention", now
        audit.record(session, "document.purged", now=now, subject_person_id=doc.person_id,
                     target=f"document:{doc.id}", detail={"pages": len(pages[doc.id])})
    return len(everyone), keys


def _ended_before(cutoff: datetime):
    """Grants that stopped giving access, or never did, before `cutoff` (valid_until is the first day without)."""
    return or_(
        and_(ProxyGrant.status.in_((family.REJECTED, family.DECLINED, family.WITHDRAWN)),
             ProxyGrant.decided_at <= cutoff),
        and_(ProxyGrant.status == family.REVOKED, ProxyGrant.revoked_at <= cutoff),
        and_(ProxyGrant.status == family.VERIFIED, ProxyGrant.valid_until <= china_date(cutoff)),
    )


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

"""Papers: an application's checklist and a request for family access's proofs — adding photos from a phone,
removing drafts, sending them, and serving page images only to those entitled (SECURITY.md, Uploads; issues 4
and 5).

Uploads work without JavaScript (one form post with several photos, then back to the checklist). With it,
static/js/upload.js sends each photo on its own request with a progress bar and swaps in the answer: the
document's part of the checklist, or the refusal with its reason (422) — a refusal stores nothing. The same
templates serve both owners of papers; each owner's context says where its forms post.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from flask import Blueprint, Response, abort, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required

from ..extensions import db
from ..models import ProxyGrant
from ..services import audit
from ..services.family import family
from ..services.papers import documents as papers, photos
from ..services.booking import booking_actions as actions
from ..services.products.catalog import Document as Kind
from ..services.products.catalog_sync import rules_for
from ..services.papers.storage import Storage, StorageError, storage_from_config
from .bookings import load
from .common import client_ip, login_is_fresh, now, refuse
from .refusal_text import APPLICATION, REQUEST, Refused, attempt, say

bp = Blueprint("papers", __name__)
KINDS = frozenset(k.value for k in Kind)
UPLOADS = frozenset({"papers.upload", "papers.grant_upload"})

# Size limits are checked against Content-Length before the body is read (Werkzeug refuses with 413):
# one photo per request from the page's script, up to documents.MAX_PHOTOS_PER_POST without JavaScript.
ONE_PHOTO_REQUEST = photos.LIMITS.max_bytes + 256 * 1024
MANY_PHOTOS_REQUEST = 64 * 1024 * 1024


def body_limit() -> None:
    """Per-route body limits, set before anything reads the body (Werkzeug answers 413 from Content-Length).
    Every other route keeps the small MAX_CONTENT_LENGTH."""
    if request.endpoint in UPLOADS:
        request.max_content_length = ONE_PHOTO_REQUEST if request.htmx else MANY_PHOTOS_REQUEST


def storage() -> Storage:
    store = current_app.extensions.get("storage")
    if store is None:
        store = current_app.extensions["storage"] = storage_from_config(current_app.config)
    return store


# --- whose papers: an application or a request for access ---------------------------------------------

@dataclass(frozen=True)
class Owner:
    """What the shared upload, remove and send views need to know about whose papers they handle."""

    ids: dict  # {"booking_id": …} or {"grant_id": …}, as services/papers/documents.py takes them
    about: str  # refusal_text.APPLICATION or REQUEST: whose words a refusal or an outcome is said in
    back: Callable[..., str]  # the checklist's address (with _anchor=…)
    context: Callable[[], dict]
    owns: Callable[..., bool]  # whether a page is among these papers

    def say(self, refused: Refused | str, name: str | None = None, **params) -> str:
        """A refusal, or an outcome by its key ("document.sent"), in this owner's words."""
        return say(refused, about=self.about, name=name, **params)


def _owner(reference: str | None = None, public_id: str | None = None) -> Owner:
    """Whose papers a request is about: the application `reference`, to the insured or a proxy holding the papers
    scope; else the request for access `public_id`, to the family member who made it. 404 (and logged) to anyone
    else."""
    if reference is not None:
        booking = load(reference)
        if not papers.may_view(db.session, current_user, booking, now()):
            refuse(f"booking-ref:{reference[:16]}")
        return Owner({"booking_id": booking.id}, APPLICATION,
                     lambda **kw: url_for("papers.checklist", reference=booking.reference, **kw),
                     lambda: _context(booking), lambda page: page.document.booking_id == booking.id)
    grant = family.find(db.session, public_id)
    if grant is None or not papers.is_requester(current_user, grant):
        refuse(f"grant:{public_id[:24]}")
    return Owner({"grant_id": grant.id}, REQUEST,
                 lambda **kw: url_for("family.request_detail", public_id=grant.public_id, **kw),
                 lambda: proofs_context(grant), lambda page: page.document.proxy_grant_id == grant.id)


def _context(booking):
    product, svc = rules_for(booking.service)
    items = papers.checklist(db.session, booking, svc)
    reference = booking.reference
    # Complete, arranged or closed papers are not asked for again (uploads still work while the booking is open:
    # the page just does not offer them).
    step = actions.papers_step(booking, items, product.code, svc)
    return {"booking": booking, "product": product, "service": svc, "items": items, "drafts": papers.drafts_of(items), "step": step,
            "open": papers.takes_papers(booking) and not step.done, "sensitive": papers.SENSITIVE_KINDS, "fresh": login_is_fresh(),
            "upload_url": lambda kind: url_for("papers.upload", reference=reference, kind=kind),
            "remove_url": lambda page: url_for("papers.remove", reference=reference, page_id=page.public_id),
            "send_url": url_for("papers.send", reference=reference), "send_all_at_once": False,
            "filed_by_me": booking.applicant_account_id == current_user.id}


def proofs_context(grant) -> dict:
    """What papers/_proofs.html needs, for the request page (render it with `**proofs_context(grant)`): the
    proofs' checklist, whether the signed-in account may still change them, and where its forms post. Keys:
    items, drafts, open, sensitive, fresh, product, upload_url, remove_url, send_url, send_all_at_once,
    filed_by_me."""
    items = papers.grant_checklist(db.session, grant)
    public_id = grant.public_id
    return {"items": items, "drafts": papers.drafts_of(items), "open": papers.may_act_on_grant(current_user, grant),
            "sensitive": papers.SENSITIVE_KINDS, "fresh": login_is_fresh(), "product": None,
            "upload_url": lambda kind: url_for("papers.grant_upload", public_id=public_id, kind=kind),
            "remove_url": lambda page: url_for("papers.grant_remove", public_id=public_id, page_id=page.public_id),
            "send_url": url_for("papers.grant_send", public_id=public_id), "send_all_at_once": True,
            "filed_by_me": True}


# --- the routes: an application's papers under its reference, a request for access's proofs under its id
# (the request page, views/family.py, shows them); both take the same three posts ------------------------

@bp.get("/bookings/<reference>/papers")
@login_required
def checklist(reference):
    return render_template("papers/checklist.html", **_owner(reference=reference).context())


@bp.post("/bookings/<reference>/papers/<kind>", endpoint="upload")
@bp.post("/family/requests/<public_id>/papers/<kind>", endpoint="grant_upload")
@login_required
def upload(kind, **whose):
    return _upload(_owner(**whose), kind)


@bp.post("/bookings/<reference>/papers/pages/<page_id>/remove", endpoint="remove")
@bp.post("/family/requests/<public_id>/papers/pages/<page_id>/remove", endpoint="grant_remove")
@login_required
def remove(page_id, **whose):
    return _remove(_owner(**whose), page_id)


@bp.post("/bookings/<reference>/papers/send", endpoint="send")
@bp.post("/family/requests/<public_id>/papers/send", endpoint="grant_send")
@login_required
def send(**whose):
    return _send(_owner(**whose))


# --- the views both share -----------------------------------------------------------------------------

def _upload(owner: Owner, kind: str):
    if kind not in KINDS:
        abort(404)  # not a kind of paper at all: no such URL (a paper this checklist does not need is a refusal)
    uploads = [(f.filename, f.stream) for f in request.files.getlist("photos") if f and (f.filename or f.content_length)]
    try:
        outcomes = papers.add_photos(db.session, storage(), **owner.ids, kind=kind, uploads=uploads, account=current_user,
                                     now=now(), replaces=request.form.get("replaces") or None, ip=client_ip())
    except papers.DocumentRefused as refused:  # no photo, or too many in one post: nothing was looked at
        return _answer(owner, kind, refused=refused)
    if request.htmx:
        return _answer(owner, kind, refused=outcomes[0].refused)
    for outcome in outcomes:
        if outcome.refused is not None:
            flash(owner.say(outcome.refused, name=papers.display_name(outcome.filename)), "error")
    stored = sum(1 for outcome in outcomes if outcome.refused is None)
    if stored:
        flash(owner.say("document.stored", n=stored), "info")
    return redirect(owner.back(_anchor=f"doc-{kind}"))


def _answer(owner: Owner, kind: str, *, refused: Refused | None):
    """For the page's script: the document's part of the checklist, or the refusal (422, nothing stored)."""
    if not request.htmx:
        if refused is not None:
            flash(owner.say(refused), "error")
        return redirect(owner.back())
    if refused is not None:
        status = 429 if refused.key == "document.rate_limited" else 422
        return render_template("papers/_refused.html", reason=refused.key, message=owner.say(refused)), status
    context = owner.context()
    item = next((i for i in context["items"] if i.kind == kind), None)
    return render_template("papers/_document_oob.html", item=item, **context)


def _remove(owner: Owner, public_id: str):
    page = papers.find_page(db.session, public_id)
    if page is None or not owner.owns(page):
        abort(404)
    kind = page.document.kind
    try:
        papers.remove_draft(db.session, storage(), public_id=public_id, account=current_user, now=now(), ip=client_ip())
    except papers.DocumentRefused as refused:
        return _answer(owner, kind, refused=refused)
    if request.htmx:
        return _answer(owner, kind, refused=None)
    flash(owner.say("document.removed"), "info")
    return redirect(owner.back(_anchor=f"doc-{kind}"))


def _send(owner: Owner):
    attempt(papers.submit, db.session, **owner.ids, account=current_user, now=now(), ip=client_ip(), about=owner.about,
            done=lambda sent: owner.say("document.sent", n=sent))
    return redirect(owner.back())


# --- serving page images ------------------------------------------------------------------------------

# For the image itself: no script, no plugin, a sandbox. The inline style is the browser's own image viewer's
# (an image opened on its own page); there is no markup of ours in the response for it to apply to.
SANDBOX_CSP = "default-src 'none'; img-src 'self'; style-src 'unsafe-inline'; sandbox; frame-ancestors 'none'"


@bp.get("/papers/<public_id>/image")
@login_required
def image(public_id):
    return _serve(public_id, thumbnail=False)


@bp.get("/papers/<public_id>/thumb")
@login_required
def thumbnail(public_id):
    return _serve(public_id, thumbnail=True)


def _serve(public_id: str, *, thumbnail: bool):
    """The stored JPEG, to those entitled (an application's: the insured, a proxy with the papers scope, staff;
    a request's proofs: the family member who asked, staff); 404 to anyone else (and logged)."""
    moment = now()
    page = papers.find_page(db.session, public_id)
    owner = page and papers.owner_of(db.session, page)
    if owner is None or not papers.may_see_page(db.session, current_user, page, owner, moment):
        refuse(f"page:{public_id[:24]}")
    if page.document.kind in papers.SENSITIVE_KINDS and not login_is_fresh():
        return redirect(url_for("auth.sign_in", next=request.path, again=1))
    key = page.thumbnail_key if thumbnail else page.storage_key
    try:
        data = storage().get(key)
    except KeyError:
        abort(404)
    except StorageError:
        current_app.logger.exception("storage failed serving page=%s", public_id)
        abort(503)
    _audit_view(owner, page, thumbnail, moment)
    response = Response(data, mimetype="image/jpeg")
    response.headers["Content-Security-Policy"] = SANDBOX_CSP
    response.headers["Content-Disposition"] = f'inline; filename="{"thumb" if thumbnail else "page"}-{page.public_id}.jpg"'
    response.headers["Cross-Origin-Resource-Policy"] = "same-origin"
    response.headers["X-Robots-Tag"] = "noindex"
    response.headers["Cache-Control"] = cache_control(page.document.kind, thumbnail=thumbnail)
    return response


THUMBNAIL_CACHE_SECONDS = 300  # a list of papers scrolls without refetching; gone from the cache soon after sign-out


def cache_control(kind: str, *, thumbnail: bool) -> str:
    """ID papers are never kept by the browser (a cached copy would outlive sign-out and the 15-minute fresh-login
    rule); other pages' thumbnails for a few minutes only, full images not at all (issue 17 item 6)."""
    if kind in papers.SENSITIVE_KINDS:
        return "no-store"
    return f"private, max-age={THUMBNAIL_CACHE_SECONDS}" if thumbnail else "private, no-store"


def _audit_view(owner, page, thumbnail: bool, moment) -> None:
    """Who looked at someone's papers, for the insured's access log: staff and proxies on an application,
    staff on a request's proofs (the family member who sent them is not watched looking at their own photos)."""
    person = papers.person_of(owner)
    detail = {"kind": page.document.kind, "thumbnail": thumbnail, "staff": current_user.is_staff}
    if isinstance(owner, ProxyGrant):
        if not current_user.is_staff:
            return
        detail = {"grant": owner.public_id, **detail}
    elif current_user.person_id == person:
        return
    audit.record_view(db.session, "document.view", now=moment, actor_id=current_user.id, subject_person_id=person,
                      target=f"page:{page.public_id}", ip=client_ip(), detail=detail)

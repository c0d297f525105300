"""An application's papers: the checklist, adding photos from a phone, removing drafts, sending them, and
serving page images only to those entitled (SECURITY.md, Uploads; issue 4).

Uploads work without JavaScript (one form post with several photos, then back to the checklist). With it,
static/js/upload.js sends each photo on its own request with a progress bar and swaps in the answer: the
document's part of the checklist, or the refusal with its reason (422) — a refusal stores nothing.
"""
from __future__ import annotations

from flask import Blueprint, Response, abort, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required

from ..db import write_transaction
from ..extensions import db
from ..services import audit, documents as papers, photos
from ..services.catalog import Document as Kind
from ..services.catalog_sync import rules_for
from ..services.storage import Storage, StorageError, storage_from_config
from .bookings import load
from .common import client_ip, is_htmx, login_is_fresh, now
from .paper_wording import paper_refusal

bp = Blueprint("papers", __name__)
KINDS = frozenset(k.value for k in Kind)

MAX_FILES_PER_POST = 10
# Size limits are checked against Content-Length before the body is read (Werkzeug refuses with 413):
# one photo per request from the page's script, up to MAX_FILES_PER_POST without JavaScript.
ONE_PHOTO_REQUEST = photos.LIMITS.max_bytes + 256 * 1024
MANY_PHOTOS_REQUEST = 64 * 1024 * 1024


def body_limit() -> None:
    """Per-route body limits, set before anything reads the body (Werkzeug answers 413 from Content-Length).
    Every other route keeps the small MAX_CONTENT_LENGTH."""
    if request.endpoint == "papers.upload":
        request.max_content_length = ONE_PHOTO_REQUEST if is_htmx() else MANY_PHOTOS_REQUEST


def storage() -> Storage:
    store = current_app.extensions.get("storage")
    if store is None:
        store = current_app.extensions["storage"] = storage_from_config(current_app.config)
    return store


def _context(booking):
    product, svc = rules_for(booking.service)
    items = papers.checklist(db.session, booking, svc)
    return {"b": booking, "product": product, "svc": svc, "items": items, "drafts": papers.drafts_of(items),
            "open": papers.takes_papers(booking),
            "sensitive": papers.SENSITIVE_KINDS, "fresh": login_is_fresh()}


@bp.get("/bookings/<reference>/papers")
@login_required
def checklist(reference):
    booking = load(reference)
    return render_template("papers/checklist.html", **_context(booking))


@bp.post("/bookings/<reference>/papers/<kind>")
@login_required
def upload(reference, kind):
    booking = load(reference)
    if kind not in KINDS:
        abort(404)  # not a kind of paper at all: no such URL (a paper this application does not need is a refusal)
    files = [f for f in request.files.getlist("photos") if f and (f.filename or f.content_length)]
    replaces = request.form.get("replaces") or None
    if not files:
        return _answer(booking, kind, refusal=("document.no_file", {}))
    if len(files) > MAX_FILES_PER_POST:
        return _answer(booking, kind, refusal=("document.too_many_files", {"limit": MAX_FILES_PER_POST}))
    outcomes = []
    for upload_ in files:
        data = upload_.stream.read(photos.LIMITS.max_bytes + 1)
        try:
            papers.count_attempt(db.session, account=current_user, now=now(), ip=client_ip())
            photo = photos.process(data)
            papers.add_page(db.session, storage(), booking_id=booking.id, kind=kind, photo=photo,
                            account=current_user, now=now(), display_name=papers.display_name(upload_.filename),
                            replaces=replaces, ip=client_ip())
            outcomes.append((upload_.filename, None))
        except (photos.PhotoRefused, papers.DocumentRefused) as refused:
            _log_refusal(booking, kind, refused.reason)
            outcomes.append((upload_.filename, (refused.reason, refused.params)))
        except StorageError:
            current_app.logger.exception("storage failed for booking=%s", booking.reference)
            outcomes.append((upload_.filename, ("document.storage", {})))
        replaces = None  # a retake replaces one page: further photos in the same post are new pages
    if is_htmx():
        refusal = outcomes[0][1]
        return _answer(booking, kind, refusal=refusal)
    for name, refusal in outcomes:
        if refusal is not None:
            flash(paper_refusal(*refusal, name=papers.display_name(name)), "error")
    stored = sum(1 for _name, refusal in outcomes if refusal is None)
    if stored:
        flash(paper_refusal("document.stored", {"n": stored}), "info")
    return redirect(url_for("papers.checklist", reference=booking.reference, _anchor=f"doc-{kind}"))


def _log_refusal(booking, kind, reason):
    current_app.logger.info("upload refused account=%s booking=%s kind=%s reason=%s ip=%s",
                            current_user.id, booking.reference, kind[:32], reason, client_ip())


def _answer(booking, kind, *, refusal):
    """For the page's script: the document's part of the checklist, or the refusal (422, nothing stored)."""
    if not is_htmx():
        if refusal:
            flash(paper_refusal(*refusal), "error")
        return redirect(url_for("papers.checklist", reference=booking.reference))
    if refusal is not None:
        status = 429 if refusal[0] == "document.rate_limited" else 422
        return render_template("papers/_refused.html", reason=refusal[0], message=paper_refusal(*refusal)), status
    context = _context(booking)
    item = next((i for i in context["items"] if i.kind == kind), None)
    return render_template("papers/_document_oob.html", item=item, **context)


@bp.post("/bookings/<reference>/papers/pages/<public_id>/remove")
@login_required
def remove(reference, public_id):
    booking = load(reference)
    page = papers.find_page(db.session, public_id)
    if page is None or page.document.booking_id != booking.id:
        abort(404)
    kind = page.document.kind
    try:
        papers.remove_draft(db.session, storage(), public_id=public_id, account=current_user, now=now(), ip=client_ip())
    except papers.DocumentRefused as refused:
        return _answer(booking, kind, refusal=(refused.reason, refused.params))
    if is_htmx():
        return _answer(booking, kind, refusal=None)
    flash(paper_refusal("document.removed"), "info")
    return redirect(url_for("papers.checklist", reference=booking.reference, _anchor=f"doc-{kind}"))


@bp.post("/bookings/<reference>/papers/send")
@login_required
def send(reference):
    booking = load(reference)
    try:
        sent = papers.submit(db.session, booking_id=booking.id, account=current_user, now=now(), ip=client_ip())
    except papers.DocumentRefused as refused:
        flash(paper_refusal(refused.reason, refused.params), "error")
        return redirect(url_for("papers.checklist", reference=booking.reference))
    flash(paper_refusal("document.sent", {"n": sent}), "info")
    return redirect(url_for("papers.checklist", reference=booking.reference))


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
    """The stored JPEG, to the insured, a verified proxy or staff; 404 to anyone else (and logged)."""
    moment = now()
    page = papers.find_page(db.session, public_id)
    booking = page and papers.booking_of(db.session, page)
    if booking is None or not papers.may_see_page(db.session, current_user, page, booking, moment):
        current_app.logger.warning("refused page access account=%s page=%s ip=%s", current_user.id, public_id[:24], client_ip())
        with write_transaction(db.session):
            audit.record(db.session, "access.refused", now=moment, actor_id=current_user.id,
                         target=f"page:{public_id[:24]}", ip=client_ip())
        abort(404)
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
    if current_user.person_id != booking.policy.insured_id:  # staff and proxies: the insured can read who looked
        with write_transaction(db.session):
            audit.record(db.session, "document.view", now=moment, actor_id=current_user.id,
                         subject_person_id=booking.policy.insured_id, target=f"page:{page.public_id}",
                         ip=client_ip(), detail={"kind": page.document.kind, "thumbnail": thumbnail,
                                                 "staff": current_user.is_staff})
    response = Response(data, mimetype="image/jpeg")
    response.headers["Content-Security-Policy"] = SANDBOX_CSP
    response.headers["Content-Disposition"] = f'inline; filename="{"thumb" if thumbnail else "page"}-{page.public_id}.jpg"'
    response.headers["Cross-Origin-Resource-Policy"] = "same-origin"
    response.headers["X-Robots-Tag"] = "noindex"
    response.headers["Cache-Control"] = "private, max-age=86400, immutable" if thumbnail else "private, no-store"
    return response

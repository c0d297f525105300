"""The staff console's applications: the queue, one application, and the desk's decisions on it.

Roles (least privilege): any staff role reads the queue and an application; a reviewer (or admin) decides
pages and eligibility; a coordinator (or admin) arranges, records a failed booking, and closes; only an admin
gives back a counted use. The rules are in services/desk/review.py, services/booking/bookings.py and services/desk/staff_queue.py.
"""
from __future__ import annotations

from datetime import date

from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import select

from ...extensions import db
from ...i18n import N_
from ...i18n import gettext as translate
from ...models import Account, Booking
from ...services import audit
from ...services.booking import bookings, diagnoses
from ...services.desk import arrangements, review, staff_queue
from ...services.family import family
from ...services.papers import documents
from ...services.booking.booking_states import State
from ...services.booking.apply_forms import asks_diagnosis_stage
from ...services.products.catalog import default_catalog
from ...services.products.catalog_sync import rules_for
from ...services.clock import china_date
from ...services.cutoffs import change_deadline
from ...services.accounts.identity import mask_id_number, mask_mobile
from .. import staff_wording as words
from ..wording import GRADES
from ..common import bounded_int, client_ip, login_is_fresh, now
from ..refusal_text import STAFF, attempt, say
from . import bp, staff_required
from .access import PAGE_REJECT_REASON_NAMES

DECISIONS = (documents.ACCEPTED, documents.UNREADABLE, documents.REJECTED)
IN_REVIEW = (State.APPLIED.value, State.UNDER_REVIEW.value)  # pages decided (verdicts changed) only then: review.py


def _booking(reference: str) -> Booking:
    booking = db.session.scalar(select(Booking).where(Booking.reference == reference.upper().replace("-", "")[:16]))
    if booking is None:
        abort(404)
    return booking


def _back(booking: Booking, anchor: str | None = None):
    return redirect(url_for("staff.booking", reference=booking.reference, _anchor=anchor), code=303)


def _refused(key: str, found: Booking | None = None, anchor: str | None = None):
    """Flash a form check's refusal, as the service's would be said; then back to the application, if `found`."""
    flash(say(key, reader=STAFF), "error")
    return _back(found, anchor) if found is not None else None


# --- the queue --------------------------------------------------------------------------------------------

def _filters(args, role: str | None) -> staff_queue.Filters:
    """The queue's filters from the query string. The tab (`tab`, or `stage` as older links say it) is the role's
    own when none or an unknown one is asked for: the list answers, with no error."""
    catalog = default_catalog()
    products = {p.code for p in catalog.products}
    services = {s.code for p in catalog.products for s in p.services}
    chosen = {"product": args.get("product") or None, "service": args.get("service") or None}
    if chosen["product"] and chosen["product"] not in products:
        flash(translate(N_("Unknown product: showing every product.")), "error")
        chosen["product"] = None
    if chosen["service"] and chosen["service"] not in services:
        flash(translate(N_("Unknown service: showing every service.")), "error")
        chosen["service"] = None
    return staff_queue.Filters(stage=staff_queue.tab_for(args.get("tab") or args.get("stage"), role),
                               city=(args.get("city") or "").strip()[:32] or None,
                               search=(args.get("q") or "").strip()[:32] or None, overdue_only=args.get("overdue") == "1",
                               **chosen)


def _preview(rows: list[staff_queue.Row], asked: str) -> dict:
    """The application shown beside the list on a laptop: the one asked for (`show`), else the most urgent. Its
    pages are shown as thumbnails when it waits for papers or review, or when it was asked for (each thumbnail
    seen is audited as a view of the page, by papers.thumbnail)."""
    asked = asked.upper().replace("-", "")[:16]
    row = next((r for r in rows if r.booking.reference == asked), None)
    chosen = row is not None
    row = row or (rows[0] if rows else None)
    if row is None:
        return {"preview": None}
    product, service = rules_for(row.booking.service)
    items = documents.checklist(db.session, row.booking, service)
    pages = chosen or row.stage in (staff_queue.PAPERS, staff_queue.REVIEW)
    return {"preview": row, "preview_product": product, "preview_service": service,
            "preview_items": items if pages else [], "sensitive": documents.SENSITIVE_KINDS}


@bp.get("/")
@staff_required()
def queue():
    filters = _filters(request.args, current_user.staff_role)
    moment = now()
    page = staff_queue.queue_page(db.session, filters, moment, bounded_int(request.args.get("page"), low=1) or 1)
    catalog = default_catalog()
    return render_template(
        "staff/queue.html", rows=page.rows, page=page, total=page.total,
        counts=staff_queue.tab_counts(page.counts), own_tab=staff_queue.default_tab(current_user.staff_role),
        filters=filters, stages=words.STAGES, products=catalog.products, cities=staff_queue.cities(db.session),
        service_choices=list({s.code: s.name for p in catalog.products for s in p.services if s.bookable}.items()),
        due_words=words.due_words, now=moment, rules_for=rules_for, **_preview(page.rows, request.args.get("show") or ""),
    )


# --- one application ----------------------------------------------------------------------------------------

def _context(booking: Booking, **extra) -> dict:
    moment = now()
    product, service = rules_for(booking.service)
    items = documents.checklist(db.session, booking, service)
    filed = documents.on_file(db.session, booking) if booking.acting_as in documents.PROXY_PAPERS else {}
    docs = [item.document for item in items if item.document is not None]
    offered = bookings.alternatives_offered(booking)
    row = staff_queue.row_for(booking, docs, filed, moment, offered is not None)
    insured = booking.policy.insured
    applicant = db.session.get(Account, booking.applicant_account_id)
    ids = {t.actor_account_id for t in booking.transitions if t.actor_account_id}
    actors = {a.id: (a.person.name if a.person else a.display_name) or mask_mobile(a.mobile)
              for a in db.session.scalars(select(Account).where(Account.id.in_(ids)))}
    role = current_user.staff_role
    arrangement = arrangements.spec_for(product, service, units=booking.units)
    return {
        "booking": booking, "product": product, "service": service, "items": items, "row": row, "now": moment,
        "today": china_date(moment), "insured": insured, "insured_id": mask_id_number(insured.id_number),
        "insured_age": family.age_on(insured.birth_date, china_date(moment)),
        "insured_mobile": mask_mobile(insured.mobile) if insured.mobile else "",
        "applicant": applicant, "applicant_name": (applicant.person.name if applicant.person else applicant.display_name)
        or mask_mobile(applicant.mobile), "applicant_mobile": mask_mobile(applicant.mobile), "actors": actors,
        "staff_view": True, "offered": offered,
        "papers_ready": review.papers_ready(db.session, booking), "free_until": (
            change_deadline(booking.change_rule, booking.starts_at) if booking.starts_at else None),
        "may_review": role in review.REVIEWERS, "may_arrange": role in review.COORDINATORS, "is_admin": role == "admin",
        "eligibility_reasons": words.ELIGIBILITY_REASONS, "page_reasons": PAGE_REJECT_REASON_NAMES,
        "closings": words.CLOSINGS, "stages": words.STAGES, "due_words": words.due_words,
        "field_errors": words.FIELD_ERRORS, "sensitive": documents.SENSITIVE_KINDS, "errors": {},
        "asks_stage": asks_diagnosis_stage(service), "stage_names": words.DIAGNOSIS_STAGES,
        "grade_names": GRADES, "diagnoses_on_file": diagnoses.on_file(db.session, insured.id),
        "arrangement": arrangement, "values": arrangements.prefill(arrangement, booking.details, units=booking.units),
        **extra,
    }


@bp.get("/bookings/<reference>")
@staff_required()
def booking(reference):
    found = _booking(reference)
    audit.record_view(db.session, "booking.staff_view", now=now(), actor_id=current_user.id,
                      subject_person_id=found.policy.insured_id, target=f"booking:{found.id}", ip=client_ip())
    return render_template("staff/booking.html", **_context(found))


@bp.get("/bookings/<reference>/pages/<page_id>")
@staff_required()
def page(reference, page_id):
    """One page large, with zoom and rotate, the pages before and after it, and (for a reviewer while the
    application is in review) its decision bar (the image itself is served, and its every view audited, by
    papers.image)."""
    found = _booking(reference)
    shown = _page_of(found, page_id)
    if shown is None:
        abort(404)
    pages = _pages_in_order(found)
    index = next((i for i, p in enumerate(pages) if p.id == shown.id), None)
    if index is None:  # a superseded page: shown alone
        pages, index = [shown], 0
    may_decide = (current_user.staff_role in review.REVIEWERS and found.state in IN_REVIEW
                  and shown.status in (documents.RECEIVED, *DECISIONS))
    return render_template("staff/page.html", booking=found, page=shown, index=index, pages=pages,
                           before=pages[index - 1] if index > 0 else None,
                           after=pages[index + 1] if index + 1 < len(pages) else None,
                           left=sum(p.status == documents.RECEIVED for p in pages), may_decide=may_decide,
                           page_reasons=PAGE_REJECT_REASON_NAMES,
                           sensitive=documents.SENSITIVE_KINDS, product=rules_for(found.service)[0], fresh=login_is_fresh())


def _page_of(found: Booking, page_id: str):
    shown = documents.find_page(db.session, page_id)
    return shown if shown is not None and shown.document.booking_id == found.id else None


def _pages_in_order(found: Booking) -> list:
    """The application's live pages in checklist order (retakes not yet sent left out)."""
    _, service = rules_for(found.service)
    return [p for item in documents.checklist(db.session, found, service) for p in item.pages]


def _next_in_viewer(found: Booking, page_id: str):
    """After a verdict given in the viewer: the next page still waiting for one, in checklist order (after this
    page, then from the top), or the application itself when none is left, saying so."""
    pages = _pages_in_order(found)
    here = next((i for i, p in enumerate(pages) if p.public_id == page_id), len(pages))
    waiting = [p for p in pages[here + 1:] + pages[:here] if p.status == documents.RECEIVED]
    if waiting:
        return redirect(url_for("staff.page", reference=found.reference, page_id=waiting[0].public_id), code=303)
    flash(translate(N_("Every page sent is decided: nothing is left to check in the viewer.")), "info")
    return _back(found, "papers")


# --- review (reviewer, admin) -----------------------------------------------------------------------------

@bp.post("/bookings/<reference>/pages/<page_id>/decide")
@staff_required(*review.REVIEWERS)
def booking_decide_page(reference, page_id):
    """One page's verdict (services/desk/review.decide_page judges it). From the viewer (`from=viewer`) a verdict
    moves on to the next page waiting for one, and a refusal stays on the page; from the application, back to it."""
    found = _booking(reference)
    in_viewer = request.form.get("from") == "viewer"

    def stay():
        if in_viewer and _page_of(found, page_id) is not None:
            return redirect(url_for("staff.page", reference=found.reference, page_id=page_id), code=303)
        return _back(found, f"page-{page_id}")

    decision = request.form.get("decision", "")
    if decision not in DECISIONS:
        _refused("form.decision")
        return stay()
    reason = (request.form.get("reason") or None) if decision == documents.REJECTED else None
    note = request.form.get("note", "").strip()[:200] if decision != documents.ACCEPTED else None
    if not attempt(review.decide_page, db.session, found, public_id=page_id, staff=current_user, now=now(),
                   decision=decision, reason=reason, note=note or None, done=translate(_DECIDED[decision]), reader=STAFF):
        return stay()
    return _next_in_viewer(found, page_id) if in_viewer else _back(found, f"page-{page_id}")


_DECIDED = {
    documents.ACCEPTED: N_("Page accepted."),
    documents.UNREADABLE: N_("Page marked unreadable: the customer is asked to retake it."),
    documents.REJECTED: N_("Page not accepted: the customer is told why and asked to send it again."),
}


@bp.post("/bookings/<reference>/approve")
@staff_required(*review.REVIEWERS)
def booking_approve(reference):
    found = _booking(reference)
    return _act(found, lambda: review.approve(db.session, found, staff=current_user, now=now()),
                N_("Approved. The customer has been told, and the arrangement deadline is set."))


@bp.post("/bookings/<reference>/reject")
@staff_required(*review.REVIEWERS)
def booking_reject(reference):
    found = _booking(reference)
    return _act(found, lambda: review.reject(db.session, found, staff=current_user, now=now(),
                                             reason=request.form.get("reason", ""), note=request.form.get("note", "")),
                N_("Not approved. The customer has been told why, and the use is released."))


def _act(found: Booking, do, done: str, anchor: str | None = None):
    """Run one decision; say what came of it (a refusal changes nothing)."""
    attempt(do, done=translate(done), reader=STAFF)
    return _back(found, anchor)


# --- arrange and close (coordinator, admin) -------------------------------------------------------------------

@bp.post("/bookings/<reference>/schedule")
@staff_required(*review.COORDINATORS)
def booking_schedule(reference):
    found = _booking(reference)
    product, service = rules_for(found.service)
    spec = arrangements.spec_for(product, service, units=found.units)
    appointment, errors = arrangements.parse(spec, request.form, now=now())
    if errors:
        _refused("arrange.fields")
        return render_template("staff/booking.html", **_context(found, errors=errors, values=request.form)), 422
    return _act(found, lambda: review.arrange(db.session, found, appointment, staff=current_user, now=now()),
                N_("Arranged. The customer has been told the time, the place and until when it can be changed free."))


@bp.post("/bookings/<reference>/admission-slip")
@staff_required(*review.COORDINATORS, "reviewer")
def booking_admission_slip(reference):
    found = _booking(reference)
    try:
        issued_on = date.fromisoformat(request.form.get("issued_on", "").strip()[:10])
    except ValueError:
        return _refused("slip.date", found)

    return _act(found, lambda: bookings.record_admission_slip(db.session, found.id, staff=current_user, now=now(),
                                                              issued_on=issued_on), N_("Admission slip recorded: the admission is now promised from its date."))


# --- the diagnosis (reviewer, admin) ---------------------------------------------------------------------------

@bp.post("/bookings/<reference>/diagnosis-stage")
@staff_required(*review.REVIEWERS)
def booking_diagnosis_stage(reference):
    found = _booking(reference)
    attempt(diagnoses.set_stage, db.session, found, request.form.get("stage", ""), staff=current_user, now=now(),
            done=translate(N_("The papers asked for are changed; the customer's checklist shows them now.")), reader=STAFF)
    return _back(found, "diagnosis")


@bp.post("/bookings/<reference>/diagnosis")
@staff_required(*review.REVIEWERS)
def booking_diagnosis(reference):
    found = _booking(reference)
    form = request.form
    entry = diagnoses.Entry(form.get("certainty", ""), form.get("diagnosed_on", ""), form.get("hospital", "")[:500],
                            form.get("hospital_grade", ""), form.get("public_hospital") == "yes")
    try:
        done = diagnoses.record(db.session, found.policy.insured_id, entry, by=current_user, now=now(),
                                target=f"booking:{found.id}")
    except diagnoses.DiagnosisRefused as refused:
        for key in refused.errors.values():
            _refused(key)
        return _back(found, "diagnosis")
    reason = done.not_covered.get(found.policy.number)
    if reason is not None:
        flash(translate(N_("Recorded. This policy does not cover it: %(reason)s"), reason=say(reason, reader=STAFF)), "error")
    else:
        flash(translate(N_("Recorded. Services that need a confirmed diagnosis use it from now on.")
                        if done.created else N_("This diagnosis was already on file. Nothing was changed.")), "info")
    return _back(found, "diagnosis")


@bp.post("/bookings/<reference>/failed")
@staff_required(*review.COORDINATORS)
def booking_failed(reference):
    found = _booking(reference)
    asked = request.form.get("asked_for", "").strip()[:128]
    offered = request.form.get("alternatives", "").strip()[:500]
    if not asked or not offered:
        return _refused("failed.fields", found, "arrange")
    return _act(found, lambda: bookings.record_failed_booking(db.session, found.id, staff=current_user, now=now(),
                                                              asked_for=asked, alternatives=offered),
                N_("Recorded. The customer has been told the alternatives."), "arrange")


@bp.post("/bookings/<reference>/release")
@staff_required(*review.COORDINATORS)
def booking_release(reference):
    found = _booking(reference)
    note = request.form.get("note", "").strip()[:200]
    return _act(found, lambda: bookings.release_failed_booking(
        db.session, found.id, staff=current_user, now=now(),
        reason=note or translate(N_("The customer declined the alternatives."))),
        N_("Closed without counting: the use is given back to the customer."))


@bp.post("/bookings/<reference>/close")
@staff_required(*review.COORDINATORS)
def booking_close(reference):
    found = _booking(reference)
    decision = request.form.get("decision", "")
    moment = now()
    if decision == "completed":
        raw = request.form.get("served_days", "").strip()
        served = bounded_int(raw, high=9999)
        if raw and served is None:
            return _refused("close.days_range", found, "close")
        return _act(found, lambda: bookings.complete(db.session, found.id, staff=current_user, now=moment,
                                                     served_units=served),
                    N_("Closed as completed."))
    if decision == "vendor_failed":
        return _act(found, lambda: bookings.close_vendor_failed(db.session, found.id, staff=current_user, now=moment,
                                                                reason=request.form.get("reason", "")),
                    N_("Closed without counting: the provider could not deliver. The customer sees the reason."))
    if decision == "no_show":
        return _act(found, lambda: bookings.mark_no_show(db.session, found.id, staff=current_user, now=moment),
                    N_("Closed as a no-show. It counts as used; the customer sees the rule."))
    if decision == "late":
        minutes = bounded_int(request.form.get("minutes_late"), low=1, high=1439)
        if minutes is None:
            return _refused("close.minutes", found, "close")
        return _act(found, lambda: bookings.mark_no_show(db.session, found.id, staff=current_user, now=moment,
                                                         minutes_late=minutes),
                    N_("Closed as a late arrival. It counts as used; the customer sees the rule."))
    if decision == "cancel":
        return _act(found, lambda: bookings.cancel(db.session, found.id, actor=current_user, now=moment),
                    N_("Cancelled. The change rule decided whether it counts; the customer sees why."))
    return _refused("close.decision", found, "close")


@bp.post("/bookings/<reference>/reverse")
@staff_required("admin")
def booking_reverse(reference):
    found = _booking(reference)
    return _act(found, lambda: bookings.reverse_counted_use(db.session, found.id, admin=current_user, now=now(),
                                                            reason=request.form.get("reason", "")[:255]),
                N_("The use is given back. The customer has been told."))

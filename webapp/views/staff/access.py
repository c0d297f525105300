"""Family access in the staff console (issue 5): a family member's request waits here until a reviewer (or an
admin) has checked every proof page and verified or refused it; only an admin ends access in force. The rules
are in services/family/family.py and services/papers/documents.py; these views parse the form, call one service, and say
what came of it.
"""
from __future__ import annotations

from datetime import datetime

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import format_timedelta
from flask_login import current_user
from sqlalchemy import func, select

from ...extensions import db
from ...i18n import N_
from ...i18n import gettext as translate  # for msgids held in variables (not extracted)
from ...models import ProxyGrant
from ...services import audit
from ...services.accounts.identity import mask_id_number, mask_mobile
from ...services.clock import china_date
from ...services.family import family
from ...services.papers import documents
from ..common import client_ip, login_is_fresh, now
from ..family_wording import relation_text
from ..refusal_text import REQUEST, STAFF, attempt, paper_name, say
from . import bp, staff_required

VERIFIERS = ("reviewer", "admin")  # who checks proofs of family access (family.verify / reject)
GRANTED_LIST_LIMIT = 200  # the list of access in force shows the most recently verified this many

KIND_NAMES = {
    family.GUARDIAN_MINOR: N_("Guardian of a minor"),
    family.GUARDIAN_INCAPACITATED: N_("Guardian of an adult who cannot act for themselves"),
    family.POWER_OF_ATTORNEY: N_("Agent with a power of attorney"),
}
METHOD_NAMES = {
    family.PAPERS: N_("Proof papers, checked by staff"),
    family.INSURED_APPROVAL: N_("Approved by the insured person in their own account"),
}
SCOPE_NAMES = {
    family.VIEW: N_("See services and bookings"),
    family.APPLY: N_("Apply, change and cancel"),
    family.DOCUMENTS: N_("See and send papers"),
}
GRANT_STATES = {
    family.DRAFT: N_("Proofs not sent yet"),
    family.AWAITING_INSURED: N_("Waiting for the insured person"),
    family.PENDING: N_("Waiting for staff to verify"),
    family.VERIFIED: N_("In force"),
    family.REJECTED: N_("Refused by staff"),
    family.DECLINED: N_("Declined by the insured person"),
    family.WITHDRAWN: N_("Withdrawn by the requester"),
    family.REVOKED: N_("Ended (revoked)"),
    family.ENDED: N_("Ended"),
    family.NOT_YET: N_("Not started yet"),
}
REJECT_REASON_NAMES = {
    "not_guardian": N_("The papers do not show that the requester is the guardian"),
    "proof_unclear": N_("The proof cannot be read or is incomplete"),
    "identity_mismatch": N_("Names or ID numbers on the papers do not match"),
    "poa_invalid": N_("The power of attorney is not valid (not signed by the insured, out of date, or too narrow)"),
    "other": N_("Other reason (write it in the note)"),
}
PAGE_REJECT_REASON_NAMES = {
    "wrong_document": N_("Not the paper asked for"),
    "incomplete": N_("Part of the page is missing or covered"),
    "not_hospital_grade": N_("Not from a hospital of the required grade"),
    "name_mismatch": N_("The name does not match"),
    "expired": N_("Out of date"),
    "other": N_("Other reason (write it in the note)"),
}
DECISIONS = (documents.ACCEPTED, documents.UNREADABLE, documents.REJECTED)
DECIDED = {
    documents.ACCEPTED: N_("Page accepted."),
    documents.UNREADABLE: N_("Page marked unreadable: the requester is asked to retake it."),
    documents.REJECTED: N_("Page not accepted: the requester is asked to send it again."),
}


@bp.app_context_processor
def _staff_context():
    def staff_waiting() -> int:
        """How many family-access requests wait for a reviewer (for the staff home; called only there)."""
        if not current_user.is_authenticated or current_user.staff_role not in VERIFIERS:
            return 0
        return db.session.scalar(select(func.count()).select_from(ProxyGrant)
                                 .where(ProxyGrant.status == family.PENDING)) or 0

    return {"staff_waiting": staff_waiting}


# --- helpers ---------------------------------------------------------------------------------------------

def waited(grant: ProxyGrant, moment: datetime) -> str:
    """How long a request has waited for staff since its proofs were sent ("3 days" / "3天")."""
    return format_timedelta(moment - (grant.submitted_at or grant.created_at), granularity="minute", threshold=1.0)


def load_grant(public_id: str) -> ProxyGrant:
    grant = family.find(db.session, public_id)
    if grant is None:
        abort(404)
    return grant


def proofs(grant: ProxyGrant) -> list[tuple]:
    """Each proof paper (those the request needs first): its document, the pages sent, and how many new photos
    the requester has not sent yet (staff decide only what was sent)."""
    docs = family.proof_documents(db.session, grant)
    out = []
    for kind in dict.fromkeys([*family.proofs_needed(grant), *docs]):
        doc = docs.get(kind)
        pages = [p for p in (doc.pages if doc else []) if p.status not in (documents.DRAFT, documents.REPLACED)]
        drafts = sum(1 for p in (doc.pages if doc else []) if p.status == documents.DRAFT)
        out.append((kind, doc, pages, drafts))
    return out


def requester_name(grant: ProxyGrant) -> str:
    account = grant.grantee
    if account.person is not None:
        return account.person.name
    return account.display_name or mask_mobile(account.mobile)


def proof_name(kind: str) -> str:
    """A proof paper's name as staff read it (the checklist names the applicant's ID for the applicant)."""
    return paper_name(kind, STAFF)


def rejection_words(stored: str | None) -> str:
    """The reason staff gave for refusing a request (a listed reason, then their own words after ': ')."""
    if not stored:
        return ""
    key, _sep, note = stored.partition(": ")
    text = translate(REJECT_REASON_NAMES[key]) if key in REJECT_REASON_NAMES else key
    return f"{text}: {note}" if note else text


def back(grant: ProxyGrant):
    return redirect(url_for("staff.access_request", public_id=grant.public_id), code=303)


def words() -> dict:
    return {"kind_names": KIND_NAMES, "method_names": METHOD_NAMES, "scope_names": SCOPE_NAMES,
            "grant_states": GRANT_STATES, "relation_text": relation_text, "rejection_words": rejection_words,
            "last_day": family.last_day, "proof_name": proof_name}


# --- family access: the queue and one request ------------------------------------------------------------

@bp.get("/access")
@staff_required(*VERIFIERS)
def access_queue():
    moment = now()
    showing = "granted" if request.args.get("show") == "granted" else "waiting"
    waiting = family.waiting_for_staff(db.session)
    granted = family.grants_in_force(db.session, china_date(moment), GRANTED_LIST_LIMIT) if showing == "granted" else []
    return render_template("staff/access_queue.html", waiting=waiting, granted=granted, showing=showing, now=moment,
                           requester_name=requester_name, waited=waited, limit=GRANTED_LIST_LIMIT, **words())


@bp.get("/access/<public_id>")
@staff_required(*VERIFIERS)
def access_request(public_id):
    grant = load_grant(public_id)
    moment = now()
    today = china_date(moment)
    audit.record_view(db.session, "access.staff_view", now=moment, actor_id=current_user.id,
                      subject_person_id=grant.insured_person_id, target=f"grant:{grant.public_id}", ip=client_ip())
    birth = grant.insured.birth_date
    requester = grant.grantee.person
    return render_template(
        "staff/access_request.html", grant=grant, now=moment, today=today, proofs=proofs(grant),
        state=family.shown_state(grant, today), requester_name=requester_name(grant),
        requester_id=mask_id_number(requester.id_number) if requester else "",
        requester_mobile=mask_mobile(grant.grantee.mobile), insured_id=mask_id_number(grant.insured.id_number),
        age=family.age_on(birth, today), minor=family.is_minor(birth, today), adult_on=family.adulthood(birth),
        scopes=family.scopes_of(grant), may_revoke=family.may_revoke(current_user, grant),
        reject_reasons=REJECT_REASON_NAMES, page_reasons=PAGE_REJECT_REASON_NAMES,
        sensitive=documents.SENSITIVE_KINDS, fresh=login_is_fresh(), **words())


@bp.post("/access/<public_id>/pages/<page_id>/decide")
@staff_required(*VERIFIERS)
def access_decide_page(public_id, page_id):
    grant = load_grant(public_id)
    page = documents.find_page(db.session, page_id)
    if page is None or page.document.proxy_grant_id != grant.id:
        abort(404)
    decision = request.form.get("decision", "")
    if decision not in DECISIONS:
        flash(say("form.decision", reader=STAFF), "error")
        return back(grant)
    reason = (request.form.get("reason") or None) if decision == documents.REJECTED else None
    note = request.form.get("note", "").strip()[:500] if decision != documents.ACCEPTED else None
    attempt(documents.decide_page, db.session, public_id=page.public_id, staff=current_user, now=now(),
            decision=decision, reason=reason, note=note or None, done=translate(DECIDED[decision]), reader=STAFF,
            about=REQUEST)
    return back(grant)


@bp.post("/access/<public_id>/verify")
@staff_required(*VERIFIERS)
def access_verify(public_id):
    grant = load_grant(public_id)
    try:
        until = None if grant.kind == family.GUARDIAN_MINOR else family.until_after(request.form.get("last_day"))
    except family.Refused:
        flash(say("form.last_day", reader=STAFF), "error")
        return back(grant)
    scopes = None
    if grant.kind == family.POWER_OF_ATTORNEY and "scopes" in request.form:
        scopes = set(request.form.getlist("scopes")) & family.ALL_SCOPES
    return _decide(grant, family.verify, translate(N_("Verified: %(name)s may now act for %(insured)s."),
                                                   name=requester_name(grant), insured=grant.insured.name),
                   staff=current_user, valid_until=until, scopes=scopes)


@bp.post("/access/<public_id>/reject")
@staff_required(*VERIFIERS)
def access_reject(public_id):
    grant = load_grant(public_id)
    return _decide(grant, family.reject, translate(N_("The request was refused. The requester has been told why.")),
                   staff=current_user, reason=request.form.get("reason", ""), note=request.form.get("note", "")[:500])


@bp.post("/access/<public_id>/revoke")
@staff_required("admin")
def access_revoke(public_id):
    grant = load_grant(public_id)
    return _decide(grant, family.revoke,
                   translate(N_("Access ended. The family member and the insured person have been told.")),
                   account=current_user)


def _decide(grant: ProxyGrant, decide, done: str, **kwargs):
    """One staff decision on a request (verify, reject, revoke); back to the request, saying what came of it."""
    attempt(decide, db.session, grant.public_id, now=now(), ip=client_ip(), done=done, reader=STAFF, about=REQUEST,
            **kwargs)
    return back(grant)

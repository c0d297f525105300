"""The staff console's identity checks: claims waiting for an ID card check, and owners asking for their ID
number back from another account (services/reclaim.py holds the rules; every decision names its reviewer and
their note in the audit trail). Reviewers and admins only."""
from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import select

from ..extensions import db
from ..i18n import N_
from ..i18n import gettext as translate
from ..models import Account, Person
from ..services import audit, binding, reclaim
from ..services.identity import mask_id_number, mask_mobile
from .common import client_ip, now
from .staff import bp, staff_required

ROW_ID_MAX = 2**31 - 1  # an INTEGER column on PostgreSQL: a larger id names no row
REFUSALS = {
    "identity.not_staff": N_("Only a reviewer or an administrator can do this. Nothing was changed."),
    "identity.note_needed": N_("Please write how you checked the ID card (or why not). Nothing was changed."),
    "identity.not_open": N_("This request is no longer waiting for a decision. Nothing was changed."),
    "identity.not_found": N_("We could not find that request. Nothing was changed."),
    "identity.bound_elsewhere": N_("The asking account already belongs to another person. Nothing was changed."),
    "identity.no_claim": N_("This account no longer waits for a check. Nothing was changed."),
    "identity.held": N_("Another account is bound to this person now: the owner asks for it back instead. Nothing was changed."),
}
METHOD_NAMES = {
    binding.POLICY_MOBILE: N_("Mobile number matches the policy data"),
    binding.STAFF_CHECK: N_("ID card checked by staff"),
    binding.ID_PAPER: N_("ID card photo accepted with a family request"),
    binding.RECLAIM: N_("Given back to its owner by staff"),
}


def _refusal(refused: reclaim.Refused) -> str:
    return translate(REFUSALS.get(refused.reason, N_("That could not be done. Nothing was changed.")))


def _holder_facts(account: Account) -> dict:
    return {"account": account, "mobile": account.mobile, "since": account.created_at,
            "verified": binding.is_verified(account), "method": account.identity_method,
            "bound": account.person_id is not None}


def _load_request(public_id: str):
    found = reclaim.find(db.session, public_id)
    if found is None:
        abort(404)
    return found


def _load_claimant(account_id: int) -> Account:
    account = db.session.get(Account, account_id) if account_id <= ROW_ID_MAX else None
    if account is None or account.claimed_person_id is None:
        abort(404)
    return account


@bp.get("/identity")
@staff_required(*binding.CHECKERS)
def identity_queue():
    claims = binding.pending_claims(db.session)
    people = {p.id: p for p in db.session.scalars(select(Person).where(Person.id.in_({a.claimed_person_id for a in claims})))}
    return render_template("staff/identity_queue.html", reclaims=reclaim.open_requests(db.session), claims=claims,
                           people=people, now=now())


@bp.get("/identity/reclaims/<public_id>")
@staff_required(*binding.CHECKERS)
def identity_reclaim(public_id):
    found = _load_request(public_id)
    audit.record_view(db.session, "identity.staff_view", now=now(), actor_id=current_user.id,
                      subject_person_id=found.person_id, target=f"reclaim:{found.public_id}", ip=client_ip())
    holders = [_holder_facts(a) for a in binding.holders(db.session, found.person_id) if a.id != found.account_id]
    return render_template("staff/identity_reclaim.html", r=found, holders=holders, owner=_holder_facts(found.account),
                           id_masked=mask_id_number(found.person.id_number),
                           policy_mobile=mask_mobile(found.person.mobile) if found.person.mobile else "",
                           method_names=METHOD_NAMES)


@bp.post("/identity/reclaims/<public_id>/approve")
@staff_required(*binding.CHECKERS)
def identity_reclaim_approve(public_id):
    found = _load_request(public_id)
    try:
        reclaim.approve(db.session, found.public_id, staff=current_user, now=now(), note=request.form.get("note", "")[:500],
                        ip=client_ip())
    except reclaim.Refused as refused:
        flash(_refusal(refused), "error")
    else:
        flash(translate(N_("Done: %(name)s is linked to the asking account; the other account lost it and was signed out."),
                        name=found.person.name), "info")
    return redirect(url_for("staff.identity_reclaim", public_id=found.public_id), code=303)


@bp.post("/identity/reclaims/<public_id>/reject")
@staff_required(*binding.CHECKERS)
def identity_reclaim_reject(public_id):
    found = _load_request(public_id)
    try:
        reclaim.reject(db.session, found.public_id, staff=current_user, now=now(), note=request.form.get("note", "")[:500],
                       ip=client_ip())
    except reclaim.Refused as refused:
        flash(_refusal(refused), "error")
    else:
        flash(translate(N_("The request was refused. Nothing moved.")), "info")
    return redirect(url_for("staff.identity_reclaim", public_id=found.public_id), code=303)


@bp.get("/identity/claims/<int:account_id>")
@staff_required(*binding.CHECKERS)
def identity_claim(account_id):
    account = _load_claimant(account_id)
    person = db.session.get(Person, account.claimed_person_id)
    audit.record_view(db.session, "identity.staff_view", now=now(), actor_id=current_user.id, subject_person_id=person.id,
                      target=f"account:{account.id}", ip=client_ip())
    return render_template("staff/identity_claim.html", claimant=_holder_facts(account), person=person,
                           claimed_at=account.claimed_at, id_masked=mask_id_number(person.id_number),
                           policy_mobile=mask_mobile(person.mobile) if person.mobile else "")


@bp.post("/identity/claims/<int:account_id>/verify")
@staff_required(*binding.CHECKERS)
def identity_claim_verify(account_id):
    account = _load_claimant(account_id)
    try:
        reclaim.verify_claim(db.session, account.id, staff=current_user, now=now(),
                             note=request.form.get("note", "")[:500], ip=client_ip())
    except reclaim.Refused as refused:
        flash(_refusal(refused), "error")
        return redirect(url_for("staff.identity_claim", account_id=account.id), code=303)
    flash(translate(N_("Identity verified: the account now sees the policies.")), "info")
    return redirect(url_for("staff.identity_queue"), code=303)


@bp.post("/identity/claims/<int:account_id>/refuse")
@staff_required(*binding.CHECKERS)
def identity_claim_refuse(account_id):
    account = _load_claimant(account_id)
    try:
        reclaim.refuse_claim(db.session, account.id, staff=current_user, now=now(),
                             note=request.form.get("note", "")[:500], ip=client_ip())
    except reclaim.Refused as refused:
        flash(_refusal(refused), "error")
        return redirect(url_for("staff.identity_claim", account_id=account.id), code=303)
    flash(translate(N_("The claim was refused: the account sees nothing of that person.")), "info")
    return redirect(url_for("staff.identity_queue"), code=303)

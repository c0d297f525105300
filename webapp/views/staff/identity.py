"""The staff console's identity checks: claims waiting for an ID card check, and owners asking for their ID
number back from another account (services/accounts/reclaim.py holds the rules; every decision names its reviewer and
their note in the audit trail). Reviewers and admins only."""
from __future__ import annotations

from flask import abort, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import select

from ...extensions import db
from ...i18n import N_
from ...i18n import gettext as translate
from ...models import Account, Person
from ...services import audit
from ...services.accounts import binding, reclaim
from ...services.accounts.identity import mask_id_number, mask_mobile
from ..common import client_ip, now
from ..refusal_text import STAFF, attempt
from . import bp, staff_required

ROW_ID_MAX = 2**31 - 1  # an INTEGER column on PostgreSQL: a larger id names no row
METHOD_NAMES = {
    binding.POLICY_MOBILE: N_("Mobile number matches the policy data"),
    binding.STAFF_CHECK: N_("ID card checked by staff"),
    binding.ID_PAPER: N_("ID card photo accepted with a family request"),
    binding.RECLAIM: N_("Given back to its owner by staff"),
}


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
    return render_template("staff/identity_reclaim.html", reclaim=found, holders=holders, owner=_holder_facts(found.account),
                           id_masked=mask_id_number(found.person.id_number),
                           policy_mobile=mask_mobile(found.person.mobile) if found.person.mobile else "",
                           method_names=METHOD_NAMES)


@bp.post("/identity/reclaims/<public_id>/approve")
@staff_required(*binding.CHECKERS)
def identity_reclaim_approve(public_id):
    return _decide_reclaim(public_id, reclaim.approve, N_("Done: %(name)s is linked to the asking account; the other "
                                                          "account lost it and was signed out."))


@bp.post("/identity/reclaims/<public_id>/reject")
@staff_required(*binding.CHECKERS)
def identity_reclaim_reject(public_id):
    return _decide_reclaim(public_id, reclaim.reject, N_("The request was refused. Nothing moved."))


def _decide_reclaim(public_id: str, decide, done: str):
    """Approve or reject an owner's request with the reviewer's note; back to the request, saying what came of it."""
    found = _load_request(public_id)
    attempt(decide, db.session, found.public_id, staff=current_user, now=now(), note=request.form.get("note", "")[:500],
            ip=client_ip(), done=translate(done, name=found.person.name), reader=STAFF)
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
    return _decide_claim(account_id, reclaim.verify_claim, N_("Identity verified: the account now sees the policies."))


@bp.post("/identity/claims/<int:account_id>/refuse")
@staff_required(*binding.CHECKERS)
def identity_claim_refuse(account_id):
    return _decide_claim(account_id, reclaim.refuse_claim,
                         N_("The claim was refused: the account sees nothing of that person."))


def _decide_claim(account_id: int, decide, done: str):
    """Verify or refuse a claim with the reviewer's note: back to the queue when decided, to the claim when refused."""
    account = _load_claimant(account_id)
    if attempt(decide, db.session, account.id, staff=current_user, now=now(), note=request.form.get("note", "")[:500],
               ip=client_ip(), done=translate(done), reader=STAFF):
        return redirect(url_for("staff.identity_queue"), code=303)
    return redirect(url_for("staff.identity_claim", account_id=account.id), code=303)

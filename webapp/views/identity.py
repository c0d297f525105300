"""Who the account is, the customer's side: taking back a claim, and asking staff to give back an ID number
someone else bound (services/accounts/binding.py and services/accounts/reclaim.py hold the rules). The routes join auth.bp."""
from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required

from ..extensions import db
from ..i18n import N_
from ..i18n import gettext as translate
from ..services.accounts import reclaim
from .auth import bp
from .common import client_ip, now
from .refusal_text import say

STATES = {
    reclaim.OPEN: N_("Waiting for our staff to call you"),
    reclaim.APPROVED: N_("Given back to you"),
    reclaim.REJECTED: N_("Not given back: we could not confirm it is you"),
    "withdrawn": N_("Withdrawn"),
}


def _page(values: dict, error: str | None = None, status: int = 200):
    return render_template("auth/reclaim.html", values=values, error=error, states=STATES,
                           requests=reclaim.requests_of(db.session, current_user)), status


@bp.route("/identity/reclaim", methods=["GET", "POST"])
@login_required
def reclaim_request():
    """The owner of an ID number that another account bound asks staff to check their ID card and give it back."""
    if request.method != "POST":
        return _page({"name": "", "statement": ""})
    values = {"name": " ".join(request.form.get("name", "").split())[:64],
              "statement": request.form.get("statement", "")[:200]}
    try:
        reclaim.file_request(db.session, current_user, name=values["name"],
                             id_number=request.form.get("id_number", "")[:32], statement=values["statement"],
                             now=now(), ip=client_ip())
    except reclaim.Refused as refused:
        # The ID number is never echoed back into the page.
        return _page(values, say(refused), 422)
    flash(translate(N_("Your request is with our staff. They will call you on this mobile number to check your ID card.")))
    return redirect(url_for("auth.reclaim_request"), code=303)


@bp.post("/bind/cancel")
@login_required
def bind_cancel():
    """Take back a claim not verified yet (a family member's details typed by mistake)."""
    reclaim.cancel_claim(db.session, current_user, now=now(), ip=client_ip())
    return redirect(url_for("auth.bind"), code=303)

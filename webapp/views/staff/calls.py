"""Call the customer from one application (issue 18 item 3): a reviewer, coordinator or admin reveals the numbers
to call for this application only (a POST; shown in that answer alone, an htmx fragment or the page it renders)
and taps to call; then notes how the call went. Every reveal is in the insured's access log
(services/desk/contact_calls.py holds who is called, the limits and what is kept; family_wording.action_text shows the
insured `log_text`, in views/staff_wording.py). Customers get 403, as on every /staff route.
"""
from __future__ import annotations

from flask import current_app, redirect, render_template, request, url_for
from flask_login import current_user

from ...extensions import db
from ...i18n import N_
from ...i18n import gettext as translate
from ...services.accounts.identity import mask_mobile
from ...services.desk import contact_calls as calls
from ..common import client_ip, now
from ..refusal_text import STAFF, attempt, say
from ..staff_wording import OUTCOME_NAMES
from . import bp, staff_required
from .bookings import _booking, _context

ROLE_NAMES = {
    calls.INSURED: N_("the insured person"),
    calls.GUARDIAN: N_("guardian, who applied"),
    calls.AGENT: N_("agent with a power of attorney, who applied"),
}


def _card(booking) -> dict:
    """What the call card shows without a reveal: whom to call (numbers masked) and the calls so far."""
    steps = calls.history(db.session, booking)
    return {"contacts": [(c, mask_mobile(c.mobile)) for c in calls.contacts(db.session, booking)], "steps": steps,
            "names": calls.staff_names(db.session, steps), "roles": ROLE_NAMES, "outcomes": OUTCOME_NAMES,
            "note_max": calls.NOTE_MAX}


@bp.app_context_processor
def _call_context():
    return {"call_card": _card}


@bp.post("/bookings/<reference>/numbers")
@staff_required(*calls.CALLERS)
def booking_reveal_numbers(reference):
    """The numbers to call, to this staff member, in this answer only: the card's "whom to call" (htmx) or the
    whole page."""
    found = _booking(reference)
    shown = calls.reveal(db.session, found, current_user, now=now(), ip=client_ip())
    if shown.refused == "calls.rate_limited":
        current_app.logger.warning("number reveals limited account=%s booking=%s ip=%s", current_user.id,
                                   found.reference, client_ip())
    status = 429 if shown.refused == "calls.rate_limited" else 200
    fields = {"revealed": shown.contacts, "call_error": say(shown.refused, reader=STAFF) if shown.refused else None}
    if request.htmx:
        return render_template("staff/_call.html", booking=found, who_only=True, **fields), status
    return render_template("staff/booking.html", **_context(found, **fields)), status


@bp.post("/bookings/<reference>/calls")
@staff_required(*calls.CALLERS)
def booking_call_outcome(reference):
    """How a call went, on the application's calls (a refusal says why and notes nothing)."""
    found = _booking(reference)
    outcome = request.form.get("outcome")
    attempt(calls.note_call, db.session, found, current_user, outcome, request.form.get("note"), now=now(), ip=client_ip(),
            done=lambda _none: translate(N_("Noted: %(outcome)s."), outcome=translate(OUTCOME_NAMES[outcome])), reader=STAFF)
    return redirect(url_for("staff.booking", reference=found.reference, _anchor="call"), code=303)

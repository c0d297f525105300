"""The coordinator's list of tomorrow (issue 18 item 5): every appointment of tomorrow's China date by time, with the
person the customer meets on the day and whether the customer has confirmed (online from the reminder, or on the
phone with the desk). The desk notes a call here. Coordinators and administrators; the rules are
services/desk/confirmations.py.
"""
from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import select

from ...extensions import db
from ...i18n import N_
from ...i18n import gettext as translate  # for msgids held in variables (not extracted)
from ...models import Account, Booking
from ...services.booking.booking_actions import day_contact
from ...services.desk import confirmations
from ...services.products.catalog_sync import rules_for
from ..common import client_ip, now
from ..refusal_text import STAFF, attempt, say
from . import bp, staff_required

DESKS = ("coordinator", "admin")

STATE_WORDS = {
    confirmations.UNCONFIRMED: N_("Not confirmed"),
    confirmations.ONLINE: N_("Customer confirmed (online)"),
    confirmations.PHONE: N_("Confirmed by phone"),
    confirmations.WANTS_CHANGE: N_("Customer asks to change or cancel"),
}
DONE = {
    confirmations.PHONE: N_("Noted: %(name)s confirmed by phone."),
    confirmations.WANTS_CHANGE: N_("Noted: %(name)s asks to change or cancel. Arrange it on the application page."),
}


@bp.get("/tomorrow")
@staff_required(*DESKS)
def tomorrow():
    moment = now()
    day = confirmations.tomorrow(moment)
    rows = confirmations.day_list(db.session, day)
    by_ids = {r.confirmation.by_account_id for r in rows if r.confirmation is not None}
    names = dict(db.session.execute(select(Account.id, Account.display_name).where(Account.id.in_(by_ids))).all()) if by_ids else {}
    waiting = sum(1 for r in rows if r.state == confirmations.UNCONFIRMED)
    return render_template("staff/tomorrow.html", day=day, rows=rows, waiting=waiting, names=names,
                           contacts={r.booking.id: day_contact(r.booking.appointment) for r in rows},
                           rules={r.booking.id: rules_for(r.booking.service) for r in rows},
                           state_words=STATE_WORDS, max_note=confirmations.MAX_NOTE)


@bp.post("/tomorrow/<reference>/call")
@staff_required(*DESKS)
def tomorrow_call(reference):
    booking = db.session.scalar(select(Booking).where(Booking.reference == reference[:16]))
    if booking is None:
        flash(say("confirm.not_found", reader=STAFF), "error")
        return redirect(url_for("staff.tomorrow"), code=303)
    outcome = request.form.get("outcome", "")
    attempt(confirmations.record_call, db.session, booking.id, staff=current_user, outcome=outcome,
            note=request.form.get("note", ""), now=now(), ip=client_ip(), reader=STAFF,
            done=lambda _row: translate(DONE[outcome], name=booking.policy.insured.name))
    return redirect(url_for("staff.tomorrow", _anchor=f"t-{booking.reference}"), code=303)

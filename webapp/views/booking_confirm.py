"""The customer confirms tomorrow's (or today's) appointment from the booking page (issue 18 item 5). The
day-before reminder (notifications.send_day_before) links to the booking; the rules are services/desk/confirmations.py.

Only someone who may apply for the insured (the insured, a guardian, an agent with the apply scope) confirms;
anyone else gets 404, as on every booking URL.
"""
from __future__ import annotations

from dataclasses import dataclass

from flask import redirect, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from ..extensions import db
from ..services.clock import china_date
from ..services.desk import confirmations
from ..services.family import family
from .bookings import bp, load
from .common import client_ip, now
from .refusal_text import attempt


@dataclass(frozen=True)
class DayConfirm:
    """What the booking page shows: whether the button is offered, and what is already known."""

    offered: bool  # the appointment can be confirmed now and the reader may apply for the insured
    state: str  # confirmations.STATES
    tomorrow: bool  # the appointment is tomorrow (else today)


@bp.app_template_global()
def day_confirm(booking, moment, may_apply: bool) -> DayConfirm | None:
    """For templates/bookings/_confirm.html: None when the appointment is not today or tomorrow (nothing shown)."""
    if not confirmations.may_confirm(booking, moment):
        return None
    return DayConfirm(offered=may_apply, state=confirmations.state_of(db.session, booking),
                      tomorrow=china_date(booking.starts_at) == confirmations.tomorrow(moment))


@bp.post("/<reference>/confirm-day")
@login_required
def confirm_day(reference):
    booking = load(reference, scope=family.APPLY)
    attempt(confirmations.confirm_online, db.session, booking.id, account=current_user, now=now(), ip=client_ip(),
            done=_("Thank you: you have confirmed you will be there."))
    return redirect(url_for("bookings.detail", reference=reference, _anchor="confirm-day"), code=303)

"""The insured's home: entitlement cards for every person and policy the account may act on; messages."""
from __future__ import annotations

from flask import Blueprint, redirect, render_template, url_for
from flask_login import current_user, login_required

from flask_babel import get_locale
from sqlalchemy import select

from ..extensions import db
from ..models import Booking, Service
from ..services import notifications
from ..services.cards import cards_for
from .common import now
from .fragments import policy_html

bp = Blueprint("portal", __name__)


@bp.get("/home")
@login_required
def home():
    if current_user.is_staff and current_user.person_id is None:
        return render_template("portal/staff_placeholder.html")
    people = cards_for(db.session, current_user, now())
    if not people:
        return redirect(url_for("auth.bind"))
    locale = str(get_locale())
    return render_template("portal/home.html", people=people, now=now(), policy_html=lambda pc: policy_html(pc, locale))


@bp.get("/messages")
@login_required
def messages():
    items = notifications.inbox(db.session, current_user.id)
    ids = {n.booking_id for n in items if n.booking_id}
    names = {}
    if ids:
        rows = db.session.execute(select(Booking.id, Service.name_zh, Service.name_en).join(Service).where(Booking.id.in_(ids)))
        names = {r.id: (r.name_en if str(get_locale()).startswith("en") else r.name_zh) for r in rows}
    return render_template("portal/messages.html", items=items, names=names, now=now())


@bp.post("/messages/read")
@login_required
def mark_read():
    notifications.mark_read(db.session, current_user.id, now())
    db.session.commit()
    return redirect(url_for("portal.messages"), code=303)

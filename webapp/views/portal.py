"""The insured's home: entitlement cards for every person and policy the account may act on; messages."""
from __future__ import annotations

from flask import Blueprint, g, redirect, render_template, request, session, url_for
from flask_login import current_user, login_required
from flask_wtf.csrf import generate_csrf

from flask_babel import get_locale
from sqlalchemy import select

from ..extensions import db
from ..models import Booking, Service
from ..services.booking import notifications
from ..services.home.cards_cache import cards_snapshot
from ..services.products.catalog import default_catalog
from ..services.home import today
from . import acting, family_wording
from .common import now
from .fragments import cached_page, policy_html
from .main import care_on
from .staff.bookings import queue

bp = Blueprint("portal", __name__)

def _rules(item):
    """The catalog product and service of a strip item (a family request has none)."""
    if item.product_code is None:
        return None, None
    product = default_catalog().product(item.product_code)
    return product, product.service(item.service_code)


@bp.get("/home")
@login_required
def home():
    if current_user.is_staff and current_user.person_id is None:
        return queue()
    snapshot = cards_snapshot(db.session, current_user, now())
    if not snapshot.people:
        return redirect(url_for("auth.bind"))
    g.unread_count = snapshot.unread
    locale = str(get_locale())
    person = acting.current()
    # The cards of the person acted for (the switcher changes who): the banner names them on every page.
    people = [pc for pc in snapshot.people if person is not None and pc.person.id == person.person_id]
    if person is not None and person.standing.is_proxy:
        acting.record_view(person.person_id, "home")

    moment = now()
    person_id = person.person_id if person else None
    minute = moment.replace(second=0, microsecond=0)
    strip = [(item, *_rules(item)) for item in
             today.items_kept((snapshot.key, person_id, minute), db.session, current_user, person_id, moment)]

    def render():
        return render_template("portal/home.html", people=people, others=len(snapshot.people) - len(people),
                               policy_html=lambda pc: policy_html(pc, locale, current_user.id), today=strip,
                               now=moment, request_text=family_wording.asked_for_text)

    if "_flashes" in session:  # a one-time message belongs to this view only
        return render()
    # Everything the page shows is in the key: the cards' data (and its day), the unread count, the language,
    # the session's CSRF secret and the URL (the language switch returns to it).
    generate_csrf()  # the session's CSRF secret exists before it becomes part of the key
    # The strip's words move with the clock ("in 3 hours"): with any item shown, the minute is in the key.
    key = (snapshot.key, snapshot.unread, locale, session.get("csrf_token"), request.full_path, person_id,
           minute if strip else None, care_on())
    return cached_page(key, render)


MAX_SHOWN = 100  # ids read from one page (the inbox shows 50)


@bp.get("/messages")
@login_required
def messages():
    """The account's own messages by booking, those asking for action first. The page, once loaded in a browser,
    reads the unread ones shown (htmx posts their ids to mark_read: a GET never changes state, and a link preview
    reads nothing): the nav's badge counts them on this page and is gone from the next; here they stay marked new."""
    items = notifications.inbox(db.session, current_user.id)
    fresh = [n.id for n in items if n.read_at is None]
    ids = {n.booking_id for n in items if n.booking_id}
    names, references = {}, {}
    if ids:
        rows = db.session.execute(select(Booking.id, Booking.reference, Service.name_zh, Service.name_en).join(Service)
                                  .where(Booking.id.in_(ids)))
        for r in rows:
            names[r.id] = r.name_en if str(get_locale()).startswith("en") else r.name_zh
            references[r.id] = r.reference
    return render_template("portal/messages.html", items=items, groups=notifications.grouped(items), fresh=fresh,
                           asks_action=notifications.asks_action,
                           names=names, references=references, now=now())


@bp.post("/messages/read")
@login_required
def mark_read():
    """Mark the account's own messages read (others' ids are ignored): all of them (the button), the ones a page
    showed (`ids`, comma-separated: the messages page once open), or those about one booking (`booking`: its page
    once open). Idempotent; commits. The page that asked in the background gets 204."""
    moment = now()
    reference, shown = request.form.get("booking", "")[:16], request.form.get("ids")
    if reference:
        booking_id = db.session.scalar(select(Booking.id).where(Booking.reference == reference))
        if booking_id is not None:
            notifications.mark_booking_read(db.session, current_user.id, booking_id, moment)  # commits
    elif shown is not None:
        parts = (part.strip() for part in shown.split(",")[:MAX_SHOWN])
        ids = [int(part) for part in parts if part.isascii() and part.isdigit() and len(part) < 12]
        notifications.mark_read(db.session, current_user.id, moment, ids=ids)  # commits
    else:
        notifications.mark_read(db.session, current_user.id, moment)  # commits
    if request.htmx:
        return "", 204
    return redirect(url_for("portal.messages"), code=303)

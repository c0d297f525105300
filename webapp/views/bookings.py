"""My bookings: the list, one booking with its timeline, and changing or cancelling it.

Every URL answers 404 to anyone not entitled to the booking (SECURITY.md, access control). Whether a
cancellation is free is said by the server clock when the confirmation opens, and decided again at commit.
"""
from __future__ import annotations

from flask import Blueprint, Response, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import select
from sqlalchemy.orm import joinedload, selectinload

from ..extensions import db
from ..models import Account, Booking
from ..services.booking import booking_actions as actions
from ..services.booking import expert_cancellations
from ..services.family import family
from ..services.papers import documents
from ..services.booking import bookings as service
from ..services.booking.booking_list import booking_list
from ..services.booking.booking_states import State
from ..services.products.catalog_sync import rules_for
from ..services.clock import china_date
from . import acting
from .common import now, page_or_fragment, refuse
from .refusal_text import attempt

bp = Blueprint("bookings", __name__, url_prefix="/bookings")

def load(reference: str, *, timeline: bool = False, scope: str = family.VIEW) -> Booking:
    """The booking, if the signed-in account may act for its insured person with `scope` (view; apply: change
    and cancel); otherwise 404 (and logged). The session then acts for that person (the banner names them)."""
    options = [joinedload(Booking.policy), joinedload(Booking.service)]
    if timeline:
        options.append(selectinload(Booking.transitions))
    booking = db.session.scalar(select(Booking).where(Booking.reference == reference[:16]).options(*options))
    if booking is not None:
        standing = family.standing_of(db.session, current_user, booking.policy.insured_id, china_date(now()))
        if standing.may(scope):
            acting.follow(booking.policy.insured_id)
            return booking
    refuse(f"booking-ref:{reference[:16]}")


@bp.get("")
@login_required
def index():
    """The bookings of the person acted for (the switcher changes who)."""
    person = acting.current()
    ids = [person.person_id] if person is not None else []
    if person is not None and person.standing.is_proxy:
        acting.record_view(person.person_id, "bookings")
    moment = now()
    return render_template("bookings/index.html", rows=booking_list(db.session, ids, moment), now=moment)


@bp.get("/<reference>")
@login_required
def detail(reference):
    page = _booking_page(reference, timeline=True)
    booking, product, svc, moment = page["booking"], page["product"], page["service"], page["now"]
    standing = family.standing_of(db.session, current_user, booking.policy.insured_id, china_date(moment))
    acting.record_view(booking.policy.insured_id, "booking", f"booking:{booking.id}")
    # Every paper's state; an agent without the papers scope sees the states only (no pages, no file names).
    items = documents.checklist(db.session, booking, svc)
    return render_template("bookings/detail.html", **page, items=items, may_papers=standing.may(family.DOCUMENTS), may_apply=standing.may(family.APPLY),
                           step=actions.papers_step(booking, items, product.code, svc),
                           waits_for_papers=actions.promise_waits_for_papers(booking, svc),
                           late=service.late_change_allowed(booking, moment), actors=actors_of(booking), offered=service.alternatives_offered(booking))


def actors_of(booking: Booking) -> dict[int, str]:
    """The names of the family members who moved this booking (the timeline says who acted for the insured)."""
    ids = {t.actor_account_id for t in booking.transitions if t.actor_role == "proxy" and t.actor_account_id}
    ids.add(booking.applicant_account_id)
    rows = db.session.execute(select(Account.id, Account.display_name).where(Account.id.in_(ids))).all()
    return {row.id: row.display_name or "" for row in rows}


@bp.get("/<reference>/cancel")
@login_required
def confirm_cancel(reference):
    page = _booking_page(reference, scope=family.APPLY)
    return page_or_fragment("bookings/cancel.html", "confirm", **page, contact=actions.day_contact(page["booking"].appointment),
                            expert_warning=expert_cancellations.cancel_warning(db.session, page["booking"]))


def _booking_page(reference: str, **load_options) -> dict:
    """What the booking, cancel and change pages show of one booking (`load`'s 404 for anyone else): the booking,
    its catalog rules, the server's time, and what cancelling now spends, online (`quote`; past the free change
    time, `after`: what it leaves of the quota) or by phone (`phone_spends`). The service decides again at commit."""
    booking = load(reference, **load_options)
    product, svc = rules_for(booking.service)
    moment = now()
    return {"booking": booking, "product": product, "service": svc, "now": moment, "quote": service.cancel_quote(booking, moment),
            "after": actions.after_cancel(booking, svc, moment), "phone_spends": service.cancel_spends(booking, moment)}


@bp.post("/<reference>/cancel")
@login_required
def cancel(reference):
    booking = load(reference, scope=family.APPLY)
    return _commit(reference, lambda: service.cancel(db.session, booking.id, actor=current_user, now=now()), lambda done: {
        "withdrawn": _("Your application was withdrawn. Nothing was counted."),
        "cancelled_free": _("The booking was cancelled free of charge. Nothing was counted."),
        "cancelled_counted": _("The booking was cancelled. As the free cancellation period had ended, it counts as used."),
    }.get(done.state, _("Done.")))


@bp.post("/<reference>/decline-alternatives")
@login_required
def decline_alternatives(reference):
    """None of the alternatives offered suits: the service ends, not counted (000 Q&A)."""
    booking = load(reference, scope=family.APPLY)
    return _commit(reference, lambda: service.decline_alternatives(db.session, booking.id, actor=current_user, now=now()),
                   lambda done: _("The service has ended at your request. It is not counted as used."))


def _commit(reference: str, move, said) -> Response:
    """Make a customer's move; say what came of it (or why not) on the booking page. The service decides."""
    attempt(move, done=said)
    return redirect(url_for("bookings.detail", reference=reference), code=303)


@bp.route("/<reference>/change", methods=["GET", "POST"])
@login_required
def change(reference):
    page = _booking_page(reference, scope=family.APPLY)
    booking, moment = page["booking"], page["now"]
    if booking.state != State.SCHEDULED.value:
        return redirect(url_for("bookings.detail", reference=reference), code=303)
    late = service.late_change_allowed(booking, moment)  # 003 car: a change inside the 4 hours, counted
    if request.method != "POST":  # GET, and HEAD (which Flask routes here too): never the POST branch
        return page_or_fragment("bookings/change.html", "confirm", **page, errors={}, form={}, late=late,
                                contact=actions.day_contact(booking.appointment))
    form = {"dates": request.form.get("dates", "").strip()[:200], "note": request.form.get("note", "").strip()[:500]}
    if not form["dates"]:
        return render_template("bookings/change.html", **page, form=form, late=late,
                               errors={"dates": _("Please say which dates or times suit you.")},
                               contact=actions.day_contact(booking.appointment)), 422

    def said(done):
        if service.changed_late(done):
            return _("We have your new time. As the change came after the change deadline, it counts as used; "
                     "we will do our best to arrange it and send you a message.")
        return _("We have your new dates. The appointment is being arranged again, free of charge; you will get a message.")
    return _commit(reference, lambda: service.request_change(db.session, booking.id, actor=current_user, now=now(), wishes=form),
                   said)

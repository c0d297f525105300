"""Applying for a service: one form per kind of service (fields from services/booking/apply_forms.py), each field
checked as it is filled (htmx), a review step that states the consequence, who pays and every paper needed, and
a commit that re-checks everything and is idempotent (the form's request key: a double tap or a replay creates
one application). Works without JavaScript: every step is a plain form post answered with a whole page.
"""
from __future__ import annotations

import secrets
from datetime import timedelta

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import select

from ..extensions import db
from ..models import Booking, Policy, Service
from ..services.booking import apply_forms, form_suggestions
from ..services.booking import bookings as service
from ..services.booking.people import policy_facts
from ..services.clock import china_date, to_china
from ..services.eligibility import service_window_end
from ..services.family import family
from ..services.papers import documents
from ..services.products.catalog_sync import rules_for
from . import acting
from .common import client_ip, now, page_or_fragment, refuse
from .wording import localise_params

bp = Blueprint("apply", __name__, url_prefix="/apply")


class Target:
    """The policy and service an application is for, checked against the signed-in account (404 otherwise).
    The clock is read once: every check in one request is made at the same moment."""

    def __init__(self, policy_number: str, code: str):
        self.now = now()
        self.today = china_date(self.now)
        self.policy = db.session.scalar(select(Policy).where(Policy.number == policy_number[:32]))
        row = self.policy and db.session.scalar(
            select(Service).where(Service.product_id == self.policy.product_id, Service.code == code[:48]))
        if row is None:
            abort(404)
        standing = family.standing_of(db.session, current_user, self.policy.insured_id, self.today)
        self.standing = standing
        actor = standing.actor
        if not standing.may(family.APPLY):  # an agent given "view" only may not apply
            refuse(f"policy:{self.policy.id}", subject_person_id=self.policy.insured_id)
        acting.follow(self.policy.insured_id)
        self.row = row
        self.product, self.service = rules_for(row)
        if not self.service.bookable:
            abort(404)
        self.usage = service.usage_of(db.session, self.policy, row, max(self.today, self.policy.effective_date))
        self.verdict = service.eligibility(db.session, current_user, self.policy, row, self.now, actor=actor)
        self.locale = str(get_locale())
        self.last_day = service_window_end(self.product, policy_facts(self.policy)) - timedelta(days=1)

    def fields(self):
        return apply_forms.fields_for(self.product, self.service, locale=self.locale, units_left=self.usage.left)

    def asked(self):
        """The fields the customer's form shows (the desk establishes the others, e.g. the car's distance)."""
        return tuple(f for f in self.fields() if f.asked)

    def date_bounds(self):
        return apply_forms.date_bounds(self.product, self.service, now=to_china(self.now), last_day=self.last_day)

    def suggestions(self):
        """The person's earlier entries, offered only to someone who may see their bookings."""
        if not self.standing.may(family.VIEW):
            return {}
        return form_suggestions.earlier_entries(db.session, self.policy.insured_id,
                                                [f.name for f in self.asked() if f.kind == "text"])

    def check(self, form, field=None):
        return apply_forms.check(self.product, self.service, form, today=self.today, now=to_china(self.now),
                                 units_left=self.usage.left, field=field, locale=self.locale, asked_only=True,
                                 last_day=self.last_day)

    def papers(self, checked) -> list[tuple[str, object]]:
        """Every paper the application will ask for, the applicant's own proxy papers included, as (kind, on file
        since): what documents.checklist will show once it is sent (an unsaved booking, never added to the session)."""
        draft = Booking(details=checked.data, acting_as=self.standing.relation, policy=self.policy,
                        applicant_account_id=current_user.id)
        filed = documents.on_file(db.session, draft)
        return [(kind, filed.get(kind)) for kind in documents.required_kinds(self.service, draft)]

    def consequence(self, checked) -> str:
        msgid, params = apply_forms.consequence_of(self.product, self.service, policy_facts(self.policy), self.usage,
                                                   units=checked.units, today=self.today, locale=self.locale)
        return _(msgid, **localise_params(params))

    def context(self, **extra):
        return {"target": self, "policy": self.policy, "product": self.product, "service": self.service, "now": self.now,
                "time_keys": apply_forms.time_keys, **extra}


@bp.get("/<policy>/<service_code>")
@login_required
def start(policy, service_code):
    t = Target(policy, service_code)
    return render_template("apply/form.html", **t.context(values={}, errors={}, request_key=secrets.token_urlsafe(16)))


@bp.post("/<policy>/<service_code>/field/<name>")
@login_required
def check_field(policy, service_code, name):
    """Live validation of one field as the person fills it in (htmx); the submit re-checks everything."""
    t = Target(policy, service_code)
    fields = t.fields()
    field = next((f for f in fields if name in apply_forms.posted_keys(f)), None)
    if field is None:
        abort(404)
    checked = t.check(request.form, field=name)
    name, error = field.name, None if apply_forms.incomplete(field, request.form) else checked.errors.get(field.name)
    return render_template("apply/_field_error.html", name=name, error=_(error[0], **localise_params(error[1])) if error else "")


@bp.post("/<policy>/<service_code>")
@login_required
def review(policy, service_code):
    t = Target(policy, service_code)
    key = _request_key()
    if request.form.get("edit"):
        return _form(t, key)
    checked = t.check(request.form)
    if not checked.ok or not t.verdict.allowed:
        return _form(t, key, _status(422), errors=_errors(checked))
    return _form(t, key, review=checked, consequence=t.consequence(checked), papers=t.papers(checked),
                 pays=apply_forms.fee_rule(t.product, t.service))


@bp.post("/<policy>/<service_code>/confirm")
@login_required
def confirm(policy, service_code):
    t = Target(policy, service_code)
    key = _request_key()
    checked = t.check(request.form)
    if not checked.ok:
        return _form(t, key, _status(422), errors=_errors(checked))
    outcome = service.apply(db.session, account=current_user, policy_id=t.policy.id, service_code=t.service.code,
                            request_key=key, now=t.now, details=checked.data, units=checked.units,
                            admission_slip_date=checked.admission_slip_date, ip=client_ip(), limit=service.APPLY_LIMIT)
    if outcome.limited:
        return _form(t, key, _status(429), limited=True)
    if not outcome.ok:
        return _form(t, key, _status(409), refused=outcome.reasons)
    if outcome.created:
        flash(_("Application %(ref)s received. We will send you a message when it moves on.", ref=outcome.booking.reference))
    target = url_for("bookings.detail", reference=outcome.booking.reference)
    if request.htmx:
        return "", 204, {"HX-Redirect": target}
    return redirect(target, code=303)


def _form(t: Target, request_key: str, status: int = 200, **extra):
    """The form as posted (the whole page, or its fragment for htmx), with `extra` (errors, the review, a refusal)."""
    return page_or_fragment("apply/form.html", "form", **t.context(values=request.form, request_key=request_key,
                                                                   **{"errors": {}, **extra})), status


def _status(code: int) -> int:
    """The status for a plain form post; an htmx swap gets 200 (browsers log any 4xx as a console error)."""
    return 200 if request.htmx else code


def _request_key() -> str:
    key = (request.form.get("request_key") or "").strip()
    return key[:64] if key else secrets.token_urlsafe(16)


def _errors(checked) -> dict[str, str]:
    return {name: _(msgid, **localise_params(params)) for name, (msgid, params) in checked.errors.items()}

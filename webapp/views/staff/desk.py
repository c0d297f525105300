"""The service desk takes an application by phone (issue 18 item 4; seed 003 line 488: "如您通过客服电话申请，客服将
发送申请短信链接"): find the caller by mobile or resident ID number, choose the policy and service, fill the same form
as online, and send. The application goes through bookings.apply for the insured (services/desk/desk_applications.py);
the insured is texted a single-use link (views/desk_link.py). Coordinators and admins only.

A search posts its query (an ID number never goes into a URL or an access log). Policy and service travel as query
parameters, as the form's own fields do.
"""
from __future__ import annotations

import secrets
from datetime import timedelta

from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import force_locale, get_locale
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from ...extensions import db
from ...models import Account, Policy, Service
from ...services.accounts.identity import mask_mobile
from ...services.booking import apply_forms
from ...services.booking import bookings as booking_rules
from ...services.booking.people import policy_facts
from ...services.clock import china_date, to_china
from ...services.desk import desk_applications
from ...services.eligibility import SELF, service_window_end
from ...services.products.catalog_sync import rules_for
from ...sms import sender_for
from ..common import client_ip, now
from ..refusal_text import STAFF, say
from ..wording import localise_params
from . import bp, staff_required


class DeskTarget:
    """The policy and service of a phone application (404 if either is unknown), checked for its insured person as
    online would check them (apply.Target), at one moment."""

    def __init__(self, policy_number: str, code: str):
        self.now = now()
        self.today = china_date(self.now)
        self.policy = db.session.scalar(select(Policy).where(Policy.number == (policy_number or "")[:32]))
        self.row = self.policy and db.session.scalar(
            select(Service).where(Service.product_id == self.policy.product_id, Service.code == (code or "")[:48]))
        if self.row is None:
            abort(404)
        self.product, self.service = rules_for(self.row)
        if not self.service.bookable:
            abort(404)
        self.usage = booking_rules.usage_of(db.session, self.policy, self.row, max(self.today, self.policy.effective_date))
        self.verdict = booking_rules.eligibility(db.session, Account(mobile=""), self.policy, self.row, self.now,
                                                 actor=SELF)
        self.locale = str(get_locale())
        self.last_day = service_window_end(self.product, policy_facts(self.policy)) - timedelta(days=1)
        try:
            self.mobile, self.blocked = desk_applications.destination(db.session, self.policy.insured, self.now), None
        except desk_applications.DeskRefused as refused:
            self.mobile, self.blocked = None, refused.key

    def fields(self):
        return apply_forms.fields_for(self.product, self.service, locale=self.locale, units_left=self.usage.left)

    def asked(self):
        return tuple(f for f in self.fields() if f.asked)

    def check(self, form, field=None):
        return apply_forms.check(self.product, self.service, form, today=self.today, now=to_china(self.now),
                                 units_left=self.usage.left, field=field, locale=self.locale, asked_only=True,
                                 last_day=self.last_day)

    def context(self, **extra):
        bounds = apply_forms.date_bounds(self.product, self.service, now=to_china(self.now), last_day=self.last_day)
        return {"target": self, "policy": self.policy, "product": self.product, "service": self.service, "now": self.now,
                "time_keys": apply_forms.time_keys, "bounds": bounds, "suggest": {},
                "masked": mask_mobile(self.mobile) if self.mobile else None,
                "refusal_text": lambda key: say(key, reader=STAFF),
                "desk_check_url": lambda name: url_for("staff.desk_check_field", policy=self.policy.number,
                                                       service=self.service.code, name=name),
                **extra}


def _target() -> DeskTarget:
    return DeskTarget(request.args.get("policy", ""), request.args.get("service", ""))


@bp.get("/desk")
@staff_required(*desk_applications.DESK_ROLES)
def desk():
    return render_template("staff/desk_find.html", query="", found=None, error=None)


@bp.post("/desk/find")
@staff_required(*desk_applications.DESK_ROLES)
def desk_find():
    query = request.form.get("q", "")[:40]
    try:
        found = desk_applications.find(db.session, query, staff=current_user, now=now(), ip=client_ip())
    except desk_applications.DeskRefused as refused:
        return render_template("staff/desk_find.html", query="", found=None, error=say(refused, reader=STAFF)), 422
    services = _services_of([p for f in found for p in f.policies])
    # The query is not echoed back: an ID number stays out of the page.
    return render_template("staff/desk_find.html", query="", found=found, services=services, error=None)


def _services_of(policies: list[Policy]) -> dict[int, list]:
    """Each policy's bookable services, in catalog order, as (code, name) from the catalog rules."""
    out = {}
    for policy in policies:
        rows = db.session.scalars(select(Service).where(Service.product_id == policy.product_id).order_by(Service.id))
        out[policy.id] = [rules_for(row)[1] for row in rows if rules_for(row)[1].bookable]
    return out


@bp.get("/desk/apply")
@staff_required(*desk_applications.DESK_ROLES)
def desk_form():
    t = _target()
    return render_template("staff/desk_form.html", **t.context(values={}, errors={}, request_key=secrets.token_urlsafe(16)))


@bp.post("/desk/apply/field")
@staff_required(*desk_applications.DESK_ROLES)
def desk_check_field():
    """The live check of one field, as apply.check_field does online."""
    t = _target()
    name = request.args.get("name", "")
    field = next((f for f in t.fields() if name in apply_forms.posted_keys(f)), None)
    if field is None:
        abort(404)
    checked = t.check(request.form, field=name)
    error = None if apply_forms.incomplete(field, request.form) else checked.errors.get(field.name)
    return render_template("apply/_field_error.html", name=field.name,
                           error=_(error[0], **localise_params(error[1])) if error else "")


@bp.post("/desk/apply")
@staff_required(*desk_applications.DESK_ROLES)
def desk_submit():
    t = _target()
    key = (request.form.get("request_key") or "").strip()[:64] or secrets.token_urlsafe(16)
    checked = t.check(request.form)
    if not checked.ok:
        errors = {name: _(msgid, **localise_params(params)) for name, (msgid, params) in checked.errors.items()}
        return render_template("staff/desk_form.html", **t.context(values=request.form, errors=errors, request_key=key)), 422
    try:
        outcome = desk_applications.apply_for_caller(
            db.session, staff=current_user, policy_id=t.policy.id, service_code=t.service.code, request_key=key,
            now=t.now, details=checked.data, units=checked.units, admission_slip_date=checked.admission_slip_date,
            ip=client_ip())
    except desk_applications.DeskRefused as refused:
        return render_template("staff/desk_form.html", **t.context(values=request.form, errors={}, request_key=key,
                                                                   problem=say(refused, reader=STAFF))), 409
    if not outcome.ok:
        return render_template("staff/desk_form.html", **t.context(values=request.form, errors={}, request_key=key,
                                                                   refused=outcome.reasons)), 409
    if outcome.created and outcome.token is None:
        with force_locale("zh_CN"):
            text = _("绿通: the application you made by phone is in (reference %(ref)s). No papers are needed: we will "
                     "arrange it and text you.", ref=outcome.booking.reference)
        sender_for(current_app).send(outcome.mobile, text)
        flash(_("Application %(ref)s made for the caller. It needs no papers, so only a confirmation was texted to "
                "%(mobile)s.", ref=outcome.booking.reference, mobile=mask_mobile(outcome.mobile)))
    elif outcome.created:
        link = url_for("desk_link.open_link", token=outcome.token, _external=True)
        with force_locale("zh_CN"):  # to the insured, whoever took the call: the portal's first language
            text = _("绿通: the application you made by phone is in. Within 72 hours, open %(link)s and sign in with the "
                     "code texted to this number to send your papers. The link works once.", link=link)
        sender_for(current_app).send(outcome.mobile, text)
        flash(_("Application %(ref)s made for the caller. A link to send the papers was texted to %(mobile)s.",
                ref=outcome.booking.reference, mobile=mask_mobile(outcome.mobile)))
    return redirect(url_for("staff.booking", reference=outcome.booking.reference), code=303)

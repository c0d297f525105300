"""The link texted after an application taken by phone (issue 18 item 4; seed 003 line 488: "客服将发送申请短信链接，
请查收短信并按照指引提交申请材料"). Alone it shows nothing of the application: it asks for a code texted to the number
it was sent to (never one typed in), signs in the account it was made for, is spent by that sign-in and leads to the
application's papers checklist. An unknown, used or expired link, or one opened by anyone signed in as someone
else, answers 404 (services/desk/desk_applications.py).
"""
from __future__ import annotations

from flask import Blueprint, abort, current_app, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user

from ..extensions import db
from ..models import Booking
from ..services.accounts import signin
from ..services.accounts.identity import mask_mobile
from ..services.desk import desk_applications
from ..sms import sender_for
from . import seen_device
from .auth import PROBLEMS, _sms_budget, check_code, open_login
from .common import client_ip, now

bp = Blueprint("desk_link", __name__)


def _link(token: str):
    """The live link of `token` for this visitor: 404 for anything else, the same for every reason."""
    link = desk_applications.live_link(db.session, token, now())
    if link is None or (current_user.is_authenticated and current_user.id != link.account_id):
        abort(404)
    return link


def _checklist(link) -> str:
    return url_for("papers.checklist", reference=db.session.get(Booking, link.booking_id).reference)


@bp.get("/l/<token>")
def open_link(token):
    link = _link(token)
    if current_user.is_authenticated:  # already signed in as its account: nothing to prove, straight to the papers
        return redirect(_checklist(link))
    return render_template("desk_link.html", token=token, step="start", masked=mask_mobile(link.mobile))


@bp.post("/l/<token>")
def send_code(token):
    """Text a code to the link's own number (its rate limits and budgets are sign-in's own)."""
    link = _link(token)
    if current_user.is_authenticated:
        return redirect(_checklist(link), code=303)
    outcome = signin.request_code(
        db.session, mobile=link.mobile, ip=client_ip(), now=now(), secret=current_app.config["SECRET_KEY"],
        sender=sender_for(current_app), text=_("Your 绿通 sign-in code is {code}. It is valid for 5 minutes. Never tell anyone this code."),
        seen=seen_device.has_seen(link.mobile), budget=_sms_budget())
    if outcome.sent:
        session["code_request"] = outcome.code_id
    return render_template("desk_link.html", token=token, step="code", masked=mask_mobile(link.mobile), sent=outcome.sent,
                           demo_code=outcome.code if current_app.config.get("SHOW_DEMO_CODE") else None,
                           error=PROBLEMS[outcome.problem](outcome.retry_after) if outcome.problem else None)


@bp.post("/l/<token>/sign-in")
def sign_in(token):
    """The code for the link's number signs in the account the link was made for, spends the link, and opens the
    application's papers (a login as auth.verify makes it: a new session, nothing kept from before but the language)."""
    link = _link(token)
    if current_user.is_authenticated:
        return redirect(_checklist(link), code=303)
    result = check_code(link.mobile, request.form.get("code", ""))
    if result.account is None:
        return render_template("desk_link.html", token=token, step="code", masked=mask_mobile(link.mobile), sent=False,
                               demo_code=None, error=PROBLEMS[result.problem](0)), 422
    moment = now()
    booking = desk_applications.spend(db.session, link.id, account=result.account, now=moment, ip=client_ip())
    if booking is None:  # another account behind the number, or the link spent or expired meanwhile
        abort(404)
    open_login(result.account, link.mobile, moment)
    return redirect(url_for("papers.checklist", reference=booking.reference), code=303)

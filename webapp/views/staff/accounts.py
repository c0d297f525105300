"""Accounts in the staff console (admin only): find an account by its mobile number, close it or open it again.

SECURITY.md, "Sessions and login" (ASVS 7.4.5): closing writes accounts.disabled_at, ends every login at once
(the person's cookies are refused on their next request) and stops any new sign-in; who and why are in the audit
log. The rules are in services/accounts/logins.py. The command line does the same: `flask accounts-disable MOBILE`.
"""
from __future__ import annotations

from flask import redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import select

from ...extensions import db
from ...i18n import N_
from ...i18n import gettext as translate
from ...models import Account, AuditEvent
from ...services import audit
from ...services.accounts import logins
from ...services.accounts.identity import normalise_mobile
from ..common import client_ip, now
from ..refusal_text import STAFF, attempt
from . import bp, staff_required

HISTORY = 20  # closings and openings shown on the page, newest first


def _back(mobile: str | None):
    number = normalise_mobile(mobile or "")
    return redirect(url_for("staff.accounts", mobile=number) if number else url_for("staff.accounts"), code=303)


def _history(account: Account) -> list[tuple[AuditEvent, str]]:
    events = db.session.scalars(
        select(AuditEvent).where(AuditEvent.target == f"account:{account.id}",
                                 AuditEvent.action.in_(("account.disabled", "account.enabled")))
        .order_by(AuditEvent.at.desc(), AuditEvent.id.desc()).limit(HISTORY)).all()
    ids = {e.actor_account_id for e in events if e.actor_account_id}
    names = {a.id: a.display_name or a.mobile for a in db.session.scalars(select(Account).where(Account.id.in_(ids)))} if ids else {}
    return [(e, names.get(e.actor_account_id) or translate(N_("the command line"))) for e in events]


@bp.get("/accounts")
@staff_required("admin")
def accounts():
    raw = request.args.get("mobile", "")[:40]
    moment = now()
    account, error = None, None
    if raw.strip():
        number = normalise_mobile(raw)
        if number is None:
            error = translate(N_("Please enter an 11-digit mainland China mobile number."))
        else:
            account = logins.find_account(db.session, number)
            if account is None:
                error = translate(N_("No account has this mobile number."))
    if account is not None:
        # staff looking at a person's account is in their access log
        audit.record_view(db.session, "account.staff_view", now=moment, actor_id=current_user.id,
                          subject_person_id=account.person_id, target=f"account:{account.id}", ip=client_ip())
    return render_template("staff/accounts.html", query=raw, account=account, error=error,
                           live=logins.live_count(db.session, account.id, moment) if account else 0,
                           history=_history(account) if account else [])


def _act(do, done: str):
    mobile = request.form.get("mobile", "")[:40]
    attempt(do, db.session, mobile=mobile, reason=request.form.get("reason", "")[:2000], now=now(), by=current_user,
            ip=client_ip(), done=translate(done), reader=STAFF)
    return _back(mobile)


@bp.post("/accounts/disable")
@staff_required("admin")
def account_disable():
    return _act(logins.disable_account, N_("The account is closed and signed out everywhere. It cannot sign in until "
                                           "it is opened again."))


@bp.post("/accounts/enable")
@staff_required("admin")
def account_enable():
    return _act(logins.enable_account, N_("The account is open again. The person signs in with a new code."))

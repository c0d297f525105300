"""Signed-in devices: the person's live logins, each of which they can sign out, or all of them at once.

SECURITY.md, "Sessions and login" (ASVS 7.5.2 view and end live sessions, 7.4.2 end them all, 7.3.2 an absolute
lifetime): the rules are in services/accounts/logins.py and signin.account_for_token; these views parse the form, call
one service and say what came of it. `forget_ended_login` is how a cookie whose login ended elsewhere (closed
account, 30 days, ended from another device) is signed out on its next request and told why.
"""
from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, session, url_for
from flask_login import current_user, login_required, logout_user

from ..extensions import db
from ..i18n import N_
from ..i18n import gettext as translate
from ..services.accounts import logins, signin
from .acting import SESSION_KEY as ACTING_KEY
from .common import client_ip, now

bp = Blueprint("account", __name__, url_prefix="/account")

# Why a cookie was let in no more (LoginSession.ended_reason); a plain sign-out or a replayed cookie says nothing.
ENDED_WORDS = {
    "disabled": N_("This account has been closed. Please call the service hotline."),
    "expired": N_("For your safety, a sign-in lasts at most 30 days. Please sign in again with a new code."),
    "idle": N_("You were signed out because this device was not used for 7 days. Please sign in again."),
    logins.ENDED_BY_USER: N_("This device was signed out from your list of signed-in devices. Please sign in again."),
}
APP_NAMES = {
    "wechat": N_("WeChat"), "alipay": N_("Alipay"), "qq": N_("QQ Browser"), "uc": N_("UC Browser"),
    "huawei": N_("Huawei Browser"), "edge": "Edge", "chrome": "Chrome", "firefox": "Firefox", "safari": "Safari",
    "other": N_("a browser"),
}
SYSTEM_NAMES = {
    "iphone": "iPhone", "ipad": "iPad", "android": N_("an Android phone"), "harmony": N_("a HarmonyOS phone"),
    "windows": N_("a Windows computer"), "mac": N_("a Mac"), "linux": N_("a Linux computer"), "other": N_("an unknown device"),
}
_LOGIN_KEYS = ("_user_id", "_fresh", "_id", "login_token", "login_at", ACTING_KEY)


def forget_ended_login() -> None:
    """The cookie names a login that is over: drop it from the session (so the next request is simply signed
    out) and say why, once."""
    reason = signin.login_end_reason(db.session, session.get("login_token"))
    for key in _LOGIN_KEYS:
        session.pop(key, None)
    if reason in ENDED_WORDS:
        flash(translate(ENDED_WORDS[reason]), "error" if reason == "disabled" else "message")


def device_words(device: logins.Device) -> str:
    """'WeChat on iPhone' / 'iPhone 上的微信'."""
    return translate(N_("%(app)s on %(system)s"), app=translate(APP_NAMES[device.app]),
                     system=translate(SYSTEM_NAMES[device.system]))


def _signed_out(message: str):
    """This device's own login ended: clear the session like sign-out does, keeping only the language."""
    logout_user()
    locale = session.get("locale")
    session.clear()
    if locale:
        session["locale"] = locale
    flash(translate(message))
    return redirect(url_for("auth.sign_in"), code=303)


@bp.get("/logins")
@login_required
def logins_page():
    rows = logins.live_logins(db.session, current_user.id, now=now(), current_token=session.get("login_token"))
    return render_template("account/logins.html", logins=rows, device_words=device_words,
                           absolute_days=signin.LOGIN_ABSOLUTE.days, idle_days=signin.LOGIN_IDLE.days)


@bp.post("/logins/<int:login_id>/end")
@login_required
def end_login(login_id):
    moment = now()
    mine = [row for row in logins.live_logins(db.session, current_user.id, now=moment, current_token=session.get("login_token"))
            if row.id == login_id]
    if not mine:
        abort(404)  # someone else's login, or one already over: nothing to end
    logins.end_one(db.session, current_user.id, login_id, now=moment, ip=client_ip())
    if mine[0].current:
        return _signed_out(N_("You have signed out."))
    flash(translate(N_("That device is signed out. It will need a new code to sign in again.")))
    return redirect(url_for("account.logins_page"), code=303)


@bp.post("/logins/end-others")
@login_required
def end_others():
    logins.end_others(db.session, current_user.id, session.get("login_token"), now=now(), ip=client_ip())
    flash(translate(N_("Every other device is signed out. This one stays signed in.")))
    return redirect(url_for("account.logins_page"), code=303)


@bp.post("/logins/end-all")
@login_required
def end_all():
    logins.end_everywhere(db.session, current_user.id, now=now(), ip=client_ip())
    return _signed_out(N_("You are signed out on every device, this one included."))

"""Sign-in with mobile number + SMS code, binding to the insured person, sign-out."""
from __future__ import annotations

from flask import Blueprint, after_this_request, current_app, flash, redirect, render_template, request, session, url_for
from flask_babel import force_locale
from flask_babel import gettext as _
from flask_login import current_user, login_required, login_user, logout_user
from sqlalchemy import select

from ..extensions import db
from ..models import Person, Policy, ProxyGrant
from ..services.accounts import human_check, signin
from ..services.accounts.identity import mask_mobile, normalise_mobile
from ..services.booking.apply_forms import clean_text
from ..services.clock import china_date
from ..services.family import family
from ..services.products.catalog import default_catalog
from ..services.products.hotlines import application_lines
from ..sms import sender_for
from . import seen_device
from .common import client_ip, now, safe_next

bp = Blueprint("auth", __name__)

PROBLEMS = {
    "rate.wait": lambda p: _("A code was sent less than a minute ago. Please wait %(seconds)s seconds before asking again.", seconds=p),
    "rate.too_many": lambda p: _("Too many attempts. Please wait a while and try again, or call the service hotline."),
    "code.wrong": lambda p: _("That code is not right. Please check the text message and try again."),
    "code.expired": lambda p: _("That code has expired or was already used. Please ask for a new one."),
    "sms.budget": lambda p: _("We cannot send codes just now. Please try again later, or call the service hotline."),
    "account.disabled": lambda p: _("This account has been closed. Please call the service hotline."),
    "bind.invalid_id": lambda p: _("Please check the ID number: it should be 18 characters, and the last one may be X."),
    "bind.not_found": lambda p: _("We found no policy for that name and ID number. Please check both, exactly as on the policy."),
    "bind.minor": lambda p: _("This insured person is under 18. A parent or guardian signs in with their own number and asks to act for them under “I am applying for a family member” below."),
    "bind.taken": lambda p: _("This insured person is already linked to another mobile number. Please call the service hotline."),
}


@bp.context_processor
def _no_code_help():
    """The true numbers for "收不到验证码？" on the code step (services/accounts/signin.py) and the hotlines to call instead."""
    if request.endpoint not in ("auth.sign_in", "auth.verify"):
        return {}
    return {"no_code": {"resend_seconds": int(signin.RESEND_AFTER.total_seconds()),
                        "per_hour": signin.REQUEST_LIMITS["mobile"].count,
                        "valid_minutes": int(signin.CODE_TTL.total_seconds() // 60),
                        "lines": application_lines(default_catalog())}}


def _home_for(account) -> str:
    """The cards; but a family member with nothing to act on yet (no policy of their own, nobody's access in
    force) starts on Family, where their request stands."""
    if account.is_staff or account.person_id is None or not _acts_for_anyone(account):
        return url_for("portal.home")

    people = family.people_for(db.session, account, china_date(now()))
    if any(standing.is_proxy for _person, standing in people):
        return url_for("portal.home")
    own = db.session.scalar(select(Policy.id).where(Policy.insured_id == account.person_id).limit(1))
    return url_for("portal.home") if own else url_for("family.index")


@bp.route("/sign-in", methods=["GET", "POST"])
def sign_in():
    target = safe_next(request.values.get("next"), "")
    # "again": a signed-in person confirms it is them with a new code before seeing ID papers (SECURITY.md:
    # fresh login required to view ID documents).
    again = current_user.is_authenticated and request.values.get("again") == "1"
    if current_user.is_authenticated and not again:
        return redirect(target or _home_for(current_user))
    if request.method != "POST":  # GET, and HEAD (which Flask routes here too): never the POST branch
        return _mobile_step(target, again, current_user.mobile if again else "")
    raw = request.form.get("mobile", "")
    mobile = normalise_mobile(raw)
    if mobile is None or (again and mobile != current_user.mobile):
        error = _("Please use the mobile number you signed in with.") if mobile else \
            _("Please enter an 11-digit mainland China mobile number.")
        return _mobile_step(target, again, raw[:20], error=error, status=422)
    if not again and not _person_checked(mobile):
        check_error = _("That answer is not right. Please answer the new question below.") \
            if request.form.get("human_answer", "").strip() else \
            _("Before we text a code to a number not used on this phone before, please answer the question below.")
        return _mobile_step(target, again, raw[:20], check_error=check_error, status=422)
    outcome = signin.request_code(
        db.session, mobile=mobile, ip=client_ip(), now=now(), secret=current_app.config["SECRET_KEY"],
        sender=sender_for(current_app), text=_("Your 绿通 sign-in code is {code}. It is valid for 5 minutes. Never tell anyone this code."),
        seen=seen_device.has_seen(mobile), budget=_sms_budget(),
    )
    if outcome.sent:
        session["code_request"] = outcome.code_id  # this session's guesses at this code are always heard
    demo_code = outcome.code if current_app.config.get("SHOW_DEMO_CODE") else None
    error = PROBLEMS[outcome.problem](outcome.retry_after) if outcome.problem else None
    # The same page whether or not the number has an account: it only ever says a code was sent.
    return render_template("auth/sign_in.html", step="code", next=target, mobile=mobile, masked=mask_mobile(mobile),
                           demo_code=demo_code, error=error, sent=outcome.sent, again=again)


def _mobile_step(target: str, again: bool, mobile: str, *, error: str | None = None, check_error: str | None = None,
                 status: int = 200):
    """The number form; with a question for a person (issue 17 item 4) unless this device has signed in before
    (it is then asked only if the number typed is new to it) or the person is confirming a sign-in."""
    question = None
    if not again and request.method in ("GET", "POST") and (check_error or not seen_device.digests()):
        question = human_check.ask(db.session, now=now())
        session["human_check"] = question.token
    return render_template("auth/sign_in.html", step="mobile", next=target, again=again, mobile=mobile, error=error,
                           question=question, check_error=check_error), status


def _person_checked(mobile: str) -> bool:
    """Whether a code may be texted to `mobile` from here: the device signed in with it before, this session passed
    the question for it (a "Send a new code" needs no new one), or the answer posted now is right. Any answer
    spends the question."""
    if seen_device.has_seen(mobile) or session.get("human_ok") == seen_device.digest(mobile):
        return True
    token = session.pop("human_check", None)
    if not human_check.answer(db.session, token, request.form.get("human_answer", "")[:16], now=now()):
        return False
    session["human_ok"] = seen_device.digest(mobile)
    return True


def _sms_budget() -> signin.SmsBudget:
    return signin.SmsBudget(daily=current_app.config["SMS_DAILY_BUDGET"],
                            per_prefix=current_app.config["SMS_PREFIX_DAILY_BUDGET"])


def check_code(mobile: str, code: str):
    """The code typed for `mobile`, checked by signin.verify_code with this request's session, IP and SMS budgets
    (a wrong guess may text the owner an alert). Shared by the sign-in page and a desk link's."""
    with force_locale("zh_CN"):  # to the number's owner, whoever is typing: the portal's first language
        alert = _("Someone has just typed a wrong sign-in code for your number on 绿通. If it was not you, never tell anyone a code we text you; you can still sign in as usual.")
    return signin.verify_code(db.session, mobile=mobile, code=code[:16], ip=client_ip(), now=now(),
                              secret=current_app.config["SECRET_KEY"], requested_id=session.get("code_request"),
                              sender=sender_for(current_app), alert_text=alert, budget=_sms_budget())


def open_login(account, mobile: str, moment) -> None:
    """Sign `account` in on this device: end the session's earlier login, start a new one, and begin a fresh session
    (no fixation: nothing from before sign-in survives but the language); the device is remembered for `mobile`."""
    after_this_request(lambda response: seen_device.remember(response, mobile))
    signin.end_login(db.session, session.get("login_token"), now=moment, reason="signed_in_again")
    token = signin.start_login(db.session, account, now=moment, ip=client_ip(), user_agent=request.headers.get("User-Agent"))
    locale = session.get("locale")
    session.clear()
    if locale:
        session["locale"] = locale
    session["login_token"] = token
    session["login_at"] = moment.isoformat()  # how fresh the login is (ID papers ask for a recent one)
    login_user(account)


@bp.post("/sign-in/verify")
def verify():
    target = safe_next(request.form.get("next"), "")
    mobile = normalise_mobile(request.form.get("mobile", ""))
    if mobile is None:
        return redirect(url_for("auth.sign_in", next=target or None))
    result = check_code(mobile, request.form.get("code", ""))
    if result.account is None:
        return render_template("auth/sign_in.html", step="code", next=target, mobile=mobile, masked=mask_mobile(mobile),
                               error=PROBLEMS[result.problem](0)), 422
    account = result.account
    open_login(account, mobile, now())
    if account.person_id is None and not account.is_staff and not _acts_for_anyone(account):
        return redirect(url_for("auth.bind", next=target or None))
    if account.is_staff and not target:
        return redirect(url_for("portal.home"))
    return redirect(target or _home_for(account))


def _acts_for_anyone(account) -> bool:
    return db.session.scalar(select(ProxyGrant.id).where(ProxyGrant.grantee_account_id == account.id).limit(1)) is not None


@bp.route("/bind", methods=["GET", "POST"])
@login_required
def bind():
    target = safe_next(request.values.get("next"), "")
    if current_user.person_id is not None:
        return redirect(target or _home_for(current_user))
    if current_user.claimed_person_id is not None:  # a claim waits for staff: nothing to type until it is decided
        if request.method == "POST":
            return redirect(url_for("auth.bind"))

        claimed = db.session.get(Person, current_user.claimed_person_id)
        return render_template("auth/bind.html", next=target, name="", claimed=claimed)
    if request.method != "POST":  # GET, and HEAD (which Flask routes here too): never the POST branch
        return render_template("auth/bind.html", next=target, name="")
    name = clean_text(request.form.get("name", ""))[:64]  # no NUL, control or bidi character is ever stored
    if not name:
        return render_template("auth/bind.html", next=target, name="",
                               error=_("Please enter the insured person's full name as on the ID card.")), 422
    result = signin.bind_person(db.session, current_user, name=name, id_number=request.form.get("id_number", "")[:32],
                                ip=client_ip(), now=now())
    if result.person is None:
        # The ID number is never echoed back into the page.
        return render_template("auth/bind.html", next=target, name=name, error=PROBLEMS[result.problem](0),
                               taken=result.problem == "bind.taken"), 422
    if result.provisional:
        return redirect(url_for("auth.bind", next=target or None))
    flash(_("Welcome, %(name)s. Your policies are below.", name=result.person.name))
    return redirect(target or _home_for(current_user))


@bp.post("/sign-out")
def sign_out():
    signin.end_login(db.session, session.get("login_token"), now=now())
    logout_user()
    locale = session.get("locale")
    session.clear()
    if locale:
        session["locale"] = locale
    flash(_("You have signed out."))
    return redirect(url_for("auth.sign_in"))

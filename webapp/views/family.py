"""Family access, the customer's side: asking to act for someone, the request and its proofs, approving or
revoking an agent, the switcher and the access log (services/family/family.py holds the rules, family_wording.py the
words). SECURITY.md: a fresh login is required to change guardianship, so asking, approving, declining and
revoking first confirm it is the person (sign in again)."""
from __future__ import annotations

from datetime import date

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required

from ..extensions import db
from ..i18n import gettext as _
from ..services.clock import china_date
from ..services.family import family
from . import acting
from . import family_wording as words
from .common import bounded_int, client_ip, login_is_fresh, now, refuse, safe_next
from .papers import proofs_context
from .refusal_text import attempt, say

bp = Blueprint("family", __name__)

ASKED_SCOPES = (family.APPLY, family.DOCUMENTS)  # the form's checkboxes; view is always given


def today() -> date:
    return china_date(now())


def load_request(public_id: str):
    """A request for access, to the family member who made it; 404 (and logged) to anyone else."""
    grant = family.find(db.session, public_id)
    if grant is not None and grant.grantee_account_id == current_user.id:
        return grant
    _refuse(public_id)


def load_grant(public_id: str, *, grantee_too: bool = False):
    """A grant, to the insured person it is over (and, with `grantee_too`, to its holder); 404 (and logged) to
    anyone else."""
    grant = family.find(db.session, public_id)
    if grant is not None:
        mine = current_user.person_id is not None and grant.insured_person_id == current_user.person_id
        if mine or (grantee_too and grant.grantee_account_id == current_user.id):
            return grant
    _refuse(public_id)


def _refuse(public_id: str):
    refuse(f"grant:{public_id[:24]}")


def confirm_first(back: str):
    """None when the login is fresh; otherwise the way to sign in again and come back to `back`."""
    if login_is_fresh():
        return None
    return redirect(url_for("auth.sign_in", again=1, next=back), code=303)


# --- the family page ---------------------------------------------------------------------------------------

@bp.get("/family")
@login_required
def index():
    day = today()
    adult = family.decides_for_self(db.session, current_user, day)
    over_me = family.grants_over(db.session, current_user.person_id) if adult else []
    asking = [g for g in over_me if g.status in family.OPEN]
    holding = [g for g in over_me if family.shown_state(g, day) in (family.VERIFIED, family.NOT_YET)]
    earlier = [g for g in over_me if g not in asking and g not in holding]
    moment = now()
    requesters = {g.id: family.requester_of(db.session, g, moment) for g in asking}
    return render_template("family/index.html", requests=family.requests_of(db.session, current_user), today=day,
                           insured_adult=adult, asking=asking, holding=holding, earlier=earlier, requesters=requesters,
                           may_revoke=lambda g: family.may_revoke(current_user, g))


# --- asking ------------------------------------------------------------------------------------------------

def _form_values(form) -> dict:
    """What the request form posted, ID numbers left out (they are never written back into the page)."""
    return {
        "kind": form.get("kind", "")[:32],
        "insured_name": " ".join(form.get("insured_name", "").split())[:64],
        "relationship": form.get("relationship", "")[:16],
        "method": form.get("method", "")[:24],
        "scopes": [s for s in form.getlist("scopes") if s in ASKED_SCOPES],
        "last_day": form.get("last_day", "").strip()[:20],
        "own_name": " ".join(form.get("own_name", "").split())[:64],
    }


NEW_FORM = {"kind": "", "insured_name": "", "relationship": "", "method": family.INSURED_APPROVAL,
            "scopes": list(ASKED_SCOPES), "last_day": "", "own_name": ""}


def _asking(values: dict, form) -> family.Asking:
    """The request as family.ask takes it: the relationship chosen as its stored label, the ID numbers as typed."""
    return family.Asking(
        kind=values["kind"], insured_name=values["insured_name"],
        insured_id_number=form.get("insured_id_number", "").strip().upper()[:32],
        relationship=words.RELATIONS.get(values["relationship"], (None,))[0], method=values["method"],
        scopes=frozenset(values["scopes"]), last_day=values["last_day"], own_name=values["own_name"],
        own_id_number=form.get("own_id_number", "").strip().upper()[:32])


def _request_form(values: dict, refused: family.Refused | None = None):
    return render_template("family/new.html", values=values, needs_identity=current_user.person_id is None,
                           error=say(refused) if refused else None,
                           reclaim=refused is not None and refused.key == "access.own_id_taken",
                           error_field=words.REFUSAL_FIELDS.get(refused.key) if refused else None)


@bp.route("/family/new", methods=["GET", "POST"])
@login_required
def new():
    """Ask to act for an insured person: as a minor's guardian, an incapacitated adult's guardian, or an agent."""
    again = confirm_first(url_for("family.new"))
    if again is not None:
        return again
    if request.method != "POST":  # GET, and HEAD (which Flask routes here too): never the POST branch
        return _request_form(dict(NEW_FORM))
    values = _form_values(request.form)
    try:
        grant = family.ask(db.session, current_user, _asking(values, request.form), now=now(), ip=client_ip())
    except family.Refused as refused:
        current_app.logger.info("access request refused account=%s reason=%s ip=%s", current_user.id, refused.key,
                                client_ip())
        return _request_form(values, refused), 422
    if grant.method == family.PAPERS:
        flash(_("Your request is saved. Now add photos of the proof and send them."))
        return redirect(url_for("family.request_detail", public_id=grant.public_id), code=303)
    flash(_("We asked %(name)s to approve it in their own account. You get a message here when they decide.",
            name=grant.insured.name))
    return redirect(url_for("family.index"), code=303)


@bp.get("/family/requests/<public_id>")
@login_required
def request_detail(public_id):
    """The request's state, staff's reason when not accepted, what happens next, and its proof photos."""
    grant = load_request(public_id)
    show_proofs = grant.method == family.PAPERS and (grant.status in (family.DRAFT, family.PENDING) or grant.submitted_at)
    context = proofs_context(grant) if show_proofs else {}
    return render_template("family/request.html", grant=grant, today=today(), show_proofs=show_proofs, **context)


@bp.post("/family/requests/<public_id>/withdraw")
@login_required
def withdraw_request(public_id):
    grant = load_request(public_id)
    attempt(family.withdraw, db.session, grant.public_id, account=current_user, now=now(), ip=client_ip(),
            done=lambda _grant: _("Your request to act for %(name)s was withdrawn.", name=grant.insured.name))
    return redirect(url_for("family.index"), code=303)


# --- the insured decides -----------------------------------------------------------------------------------

@bp.post("/family/grants/<public_id>/approve")
@login_required
def approve(public_id):
    """The insured approves an agent, with the scopes and last day they choose."""
    scopes = {s for s in request.form.getlist("scopes") if s in ASKED_SCOPES} | {family.VIEW}

    def approve_(grant):
        return family.approve(db.session, grant.public_id, insured=current_user, now=now(), scopes=scopes,
                              valid_until=family.until_after(request.form.get("last_day")), ip=client_ip())

    return _decide(public_id, approve_, lambda grant: _("%(name)s can now act for you. You can end it here at any time.",
                                                        name=words.person_name(grant.grantee)), anchor=True)


@bp.post("/family/grants/<public_id>/decline")
@login_required
def decline(public_id):
    return _decide(public_id,
                   lambda grant: family.decline(db.session, grant.public_id, insured=current_user, now=now(), ip=client_ip()),
                   lambda grant: _("You declined the request of %(name)s.", name=words.person_name(grant.grantee)))


@bp.post("/family/grants/<public_id>/revoke")
@login_required
def revoke(public_id):
    """The insured ends an agent's access, or a family member gives up their own; at once."""
    def said(grant):
        if grant.grantee_account_id == current_user.id:
            return _("You no longer act for %(name)s.", name=grant.insured.name)
        return _("%(name)s can no longer act for you.", name=words.person_name(grant.grantee))

    return _decide(public_id, lambda grant: family.revoke(db.session, grant.public_id, account=current_user, now=now(),
                                                          ip=client_ip()), said, grantee_too=True)


def _decide(public_id: str, act, said, *, grantee_too: bool = False, anchor: bool = False):
    """A decision on a grant by the insured (with `grantee_too`, also by its holder): a fresh login first, then
    `act(grant)`, its outcome (`said(grant)`) or refusal flashed, and back to the family page."""
    grant = load_grant(public_id, grantee_too=grantee_too)
    again = confirm_first(url_for("family.index"))
    if again is not None:
        return again
    attempt(act, grant, done=lambda _result: said(grant))
    return redirect(url_for("family.index", _anchor=f"grant-{grant.public_id}" if anchor else None), code=303)


# --- the access log ----------------------------------------------------------------------------------------

@bp.get("/family/log")
@login_required
def log():
    """Who saw or did what on the insured's behalf, newest first; only the insured themself (an adult) reads it."""
    if not family.decides_for_self(db.session, current_user, today()):
        abort(404)
    before = bounded_int(request.args.get("before"), low=1)
    entries, next_id = family.access_log(db.session, current_user.person_id, before_id=before)
    return render_template("family/log.html", entries=entries, next_id=next_id, before=before,
                           bookings=family.log_bookings(db.session, entries, current_user.person_id))


# --- the switcher ------------------------------------------------------------------------------------------

@bp.get("/acting-for")
@login_required
def switch():
    """Everyone the account may act for today, each with a button."""
    return render_template("family/switch.html", people=acting.represented(), chosen=acting.current(),
                           next=safe_next(request.args.get("next"), ""))


@bp.post("/acting-for")
@login_required
def act_for():
    """Act for another person from now on (the banner then names them on every page); 404 for anyone else."""
    person_id = bounded_int(request.form.get("person_id"), low=1)
    if person_id is None or acting.choose(person_id) is None:
        abort(404)
    return redirect(safe_next(request.form.get("next"), url_for("portal.home")), code=303)


# --- words the page frame and the messages page use ------------------------------------------------------

@bp.app_template_global()
def relation_text(label):
    return words.relation_text(label)


@bp.app_template_global()
def acting_scopes(represented) -> str:
    """The banner's second line: what the signed-in family member may do for the person acted for."""
    return words.banner_scopes_text(represented.standing, represented.name)


@bp.app_template_global()
def proofs_on_file_text(items, insured_name: str) -> str:
    return words.proofs_on_file_text(items, insured_name)


@bp.app_template_global()
def on_file_text(item, mine: bool) -> str:
    return words.on_file_text(item, mine)


@bp.app_template_global()
def access_message(notification) -> str:
    """A family-access message for the person reading it (the insured, or the family member)."""
    to_insured = current_user.person_id is not None and notification.subject_person_id == current_user.person_id
    return words.access_message(notification, to_insured)


@bp.context_processor
def _words():
    return {"family_words": words}

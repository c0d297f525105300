"""Every refusal in words, for its reader: one catalogue, one function to say it, one helper to try and flash.

Usage:
    say(refused, reader=STAFF)                       # a services.refusals.Refused (or its key) as one sentence
    say("form.decision", reader=STAFF)               # a view's own form check, by key; extra params as keywords
    say(refused, about=REQUEST, name=file_name)      # a family-access request's words; "photo.jpg: …" before it
    if attempt(service.fn, session, id, now=now(), done=translate(N_("Done.")), reader=STAFF): ...
Per-reader wording lives in MESSAGES: a key maps to one msgid, or to {variant: msgid} (see `_variants`).
"""
from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime, timedelta
from typing import Any

from flask import flash
from flask_babel import get_locale

from ..formatting import day
from ..i18n import N_
from ..i18n import gettext as translate  # for msgids held in variables (not extracted)
from ..services.eligibility import Reason
from ..services.refusals import Refused
from .wording import document_text

# Readers: the customer (the insured person), a family member acting for them (the customer's words, the default
# variant "", unless an entry has a FAMILY one), staff.
CUSTOMER, FAMILY, STAFF = "customer", "family", "staff"
# What the refusal is about, where the words differ: an application (the default) or a family-access request.
APPLICATION, REQUEST = "application", "request"

FALLBACK = {
    CUSTOMER: N_("This could not be done just now. Nothing was changed."),
    STAFF: N_("That could not be done. Nothing was changed."),
}

MESSAGES: dict[str, str | dict[str, str]] = {
    # --- why a service cannot be applied for (services/eligibility.py Reason: key, until, params) ---------------
    "service.unknown": N_("This service is not part of this policy."),
    "actor.not_entitled": N_("Only the insured person, their guardian or someone with their power of attorney can apply."),
    "actor.proxy_pending": N_("Your request to act for this person is still being checked."),
    "actor.proxy_not_accepted": N_("This service must be applied for by the insured person or their guardian."),
    "actor.view_only": N_("Your access lets you see this person's services, not apply or cancel for them."),
    "policy.surrendered_cooling_off": N_("The policy was surrendered during its cooling-off period, so its services have ended."),
    "policy.surrendered": N_("The policy has been surrendered."),
    "policy.lapsed": N_("The policy has lapsed."),
    "policy.not_yet_effective": N_("The policy has not started yet."),
    "policy.expired": N_("The policy has expired."),
    "service.window_closed": N_("The period in which these services can be used has ended."),
    "policy.cooling_off": N_("The policy is in its cooling-off period."),
    "policy.waiting_period": N_("The policy is in its waiting period."),
    "diagnosis.before_policy": N_("The illness was first diagnosed before the policy started, so it is not covered."),
    "diagnosis.in_waiting_period": N_("The illness was first diagnosed during the waiting period, so it is not covered."),
    "diagnosis.in_cooling_off": N_("The illness was first diagnosed during the cooling-off period, so it is not covered."),
    "diagnosis.missing": N_("A confirmed diagnosis of a covered critical illness is needed first."),
    # 003 重疾绿通PLUS 特别说明(1) line 745; 预留高端病房 特别说明(1) line 468 (eligibility._first_illness_year_reasons).
    "diagnosis.first_year_over": N_("This service can only be used in the policy year in which the critical illness "
                                    "was first diagnosed (%(diagnosed)s); that policy year ended on %(last_day)s."),
    "quota.used_up": N_("All uses for this period are used up."),
    "quota.in_progress": N_("Your application in progress already holds the last use."),
    "quota.not_enough": N_("Not enough left for this request."),
    # Said after the reason: when it ends (Reason.until), and the days left of a days quota (apply_forms: the
    # nursing aide's days are the only quota asked for more than one unit at a time).
    "policy.not_yet_effective.until": N_("Starts on %(date)s."),
    "policy.cooling_off.until": N_("Ends on %(date)s."),
    "policy.waiting_period.until": N_("Available from %(date)s."),
    "quota.used_up.until": N_("Uses renew on %(date)s."),
    "quota.not_enough.remaining": N_("%(n)s days left."),
    # --- family access (services/family/family.py) --------------------------------------------------------------------
    "access.kind": N_("Please choose how you may act for them."),
    "access.not_minor": {
        "": N_("This person is 18 or older, so a parent's guardianship does not apply. Please choose another kind."),
        STAFF: N_("The insured person is no longer a minor, so guardianship of a minor cannot be verified. "
                  "Nothing was changed."),
    },
    "access.is_minor": N_("This person is under 18 until %(date)s: only a parent or guardian can act for them."),
    "access.method": N_("Please choose how the power of attorney is shown."),
    "access.scopes": N_("Please choose what you may do for them."),
    "access.until": {
        "": N_("The last day must be after today and no later than %(date)s."),
        STAFF: N_("The last day of access cannot be before today. Nothing was changed."),
    },
    "access.until_any": N_("The last day must be after today."),
    "access.staff": N_("Staff accounts cannot ask for family access."),
    "access.own_identity": N_("Please first tell us your own name and ID number."),
    "access.own_name": N_("Please enter your own full name."),
    "access.own_id": N_("Please check your own ID number: it should be 18 characters, and the last one may be X."),
    "access.own_id_taken": N_("That ID number is already linked to another account, or the name does not match it. Please call the service hotline."),
    "access.own_id_on_policy": N_("That ID number is on a policy with another mobile number. Please sign in with that number, or find your policy first and we will check your ID card."),
    "access.identity_pending": N_("We are still checking who you are. You can ask to act for a family member once our staff have checked your ID card."),
    "access.insured_id": N_("Please check their ID number: it should be 18 characters, and the last one may be X."),
    "access.rate_limited": N_("Too many requests today. Please try again tomorrow, or call the service hotline."),
    "access.not_found": {
        "": N_("We found no insured person with that name and ID number. Please check both, exactly as on the policy."),
        STAFF: N_("We could not find that request. Nothing was changed."),
    },
    "access.self": N_("That is you. Your own services are on My services."),
    "access.duplicate": N_("You already have a request or access for %(name)s. It is listed under Family."),
    "access.insured_not_signed_up": N_("%(name)s has not signed in here yet, so they cannot approve. Please send photos of a power of attorney they signed instead."),
    "access.not_open": {
        "": N_("This request is no longer open. Nothing was changed."),
        REQUEST: N_("This request is no longer open, so its papers cannot be changed."),
        STAFF: N_("This request is no longer waiting for a decision. Nothing was changed."),
    },
    "access.not_revocable": {
        "": N_("This access cannot be ended here. A guardianship is changed through the service hotline."),
        STAFF: N_("This access is not in force, so it cannot be ended. Nothing was changed."),
    },
    "access.proof_missing": {
        "": N_("Please add a photo of: %(paper)s."),
        REQUEST: N_("Please add every paper before sending: “%(paper)s” is still missing."),
    },
    "access.relationship": N_("Please choose how they are related to you."),
    "access.date": N_("Please give the last day as a date, for example 2027-05-31, or leave it empty."),
    "access.insured_name": N_("Please enter their full name, exactly as on the policy."),
    "access.proofs_not_ready": N_("“%(paper)s” cannot be verified yet: every page must be sent and none may be "
                                  "unreadable or not accepted. Nothing was changed."),
    "access.not_staff": N_("Only a reviewer or an administrator can do this. Nothing was changed."),
    "access.reason_needed": N_("Please choose a reason for refusing the request. Nothing was changed."),
    # --- photos (services/papers/photos.py) ---------------------------------------------------------------------------
    "photo.empty": N_("The file is empty. Please choose the photo again."),
    "photo.too_large": N_("This photo is larger than %(max_mb)s MB. Please choose a smaller one."),
    "photo.format": N_("This file is not a photo we can read. Please send a JPEG, PNG, WebP or HEIC photo."),
    "photo.too_many_pixels": N_("This image is too large (over %(max_mp)s megapixels). Please take a normal photo."),
    "photo.frames": N_("This file holds several pictures or an animation. Please send one photo per page."),
    "photo.corrupt": N_("This photo is damaged or incomplete. Please take it again."),
    "photo.colour": N_("This image uses a colour format phones do not make. Please take a photo with your phone."),
    "photo.too_small": N_("This photo is too small to read (under %(min_side)s pixels). Please take it again, closer."),
    "photo.blurry": N_("This photo is too blurry to read. Please hold the phone steady and take it again."),
    "photo.too_dark": N_("This photo is too dark to read. Please take it again in better light."),
    "photo.overexposed": N_("This photo is too bright to read. Please avoid glare and direct light and take it again."),
    "photo.embedded": N_("This file contains something other than a photo, so we cannot keep it. Please take a new photo."),
    # --- papers (services/papers/documents.py), and what a paper upload did ---------------------------------------------
    "document.no_file": N_("Please choose at least one photo."),
    "document.too_many_files": N_("Please send at most %(limit)s photos at a time."),
    "document.not_entitled": {
        "": N_("You cannot add papers to this application."),
        REQUEST: N_("You cannot add papers to this request."),
        STAFF: N_("We could not find that page. Nothing was changed."),
    },
    "document.closed": {
        "": N_("This application is closed, so papers can no longer be added."),
        REQUEST: N_("This request is no longer open, so its papers cannot be changed."),
        STAFF: N_("This application is closed, so its pages cannot be decided. Nothing was changed."),
        f"{STAFF} {REQUEST}": N_("This request is no longer waiting for staff, so its pages cannot be decided. "
                                 "Nothing was changed."),
    },
    "document.not_needed": {
        "": N_("This application does not need that paper."),
        REQUEST: N_("This request does not need that paper."),
    },
    "document.rate_limited": N_("Too many photos in a short time. Please wait a few minutes and try again."),
    "document.not_retakeable": N_("That page does not need to be sent again."),
    "document.retake_waiting": N_("A new photo of that page is already waiting to be sent."),
    "document.duplicate": N_("You have already added this photo."),
    "document.duplicate_page": N_("You have already added this photo as page %(page)s."),
    "document.too_many_pages": N_("At most %(limit)s pages can be added here."),
    "document.already_sent": N_("That page has already been sent, so it cannot be removed."),
    "document.nothing_to_send": N_("There are no new photos to send."),
    "document.storage": N_("We could not save this photo just now. Nothing was kept; please try again."),
    "document.stored": N_("%(n)s photo(s) added. Send them when you are ready."),
    "document.sent": {
        "": N_("%(n)s photo(s) sent for review. We will tell you here if any page needs retaking."),
        REQUEST: N_("%(n)s photo(s) sent. Staff will check your papers and tell you in your messages."),
    },
    "document.removed": N_("The photo was removed."),
    "document.reason_needed": N_("Please choose a reason for not accepting the page. Nothing was changed."),
    "document.not_sent": N_("That page has not been sent yet, so it cannot be decided. Nothing was changed."),
    "form.decision": N_("Please choose accept, unreadable or not accepted. Nothing was changed."),
    "form.last_day": N_("Please give the last day as a date, for example 2030-06-30. Nothing was changed."),
    # --- a customer's own booking (services/booking/bookings.py, confirmations.py) ---------------------------------------
    "cancel.not_cancellable": {
        "": N_("This booking cannot be cancelled online. Please call the service hotline."),
        STAFF: N_("This application cannot be cancelled. Nothing was changed."),
    },
    "change.not_free": N_("The free change period has ended, so the date can no longer be changed online."),
    "stale": {
        "": N_("This booking changed in the meantime; here is where it stands now. Nothing else was changed."),
        STAFF: N_("Someone else changed this application a moment ago. Please look again. Nothing was changed."),
    },
    "illegal": {
        "": N_("This booking changed in the meantime; here is where it stands now. Nothing else was changed."),
        STAFF: N_("That step is not possible in the application's current state. Nothing was changed."),
    },
    "confirm.not_now": {
        "": N_("This appointment cannot be confirmed now: only a booked appointment of today or tomorrow can be "
               "confirmed. Nothing was changed."),
        STAFF: N_("This appointment is no longer booked for today or tomorrow. Nothing was changed."),
    },
    "confirm.outcome": N_("Please choose what the customer said. Nothing was changed."),
    "confirm.note_long": N_("The note may be at most %(n)s characters. Nothing was changed."),
    "confirm.not_found": N_("There is no such booking. Nothing was changed."),
    # --- the staff console's applications (services/desk/review.py, bookings.py, diagnoses.py) -----------------------
    "desk.role": N_("Your role cannot do this. Nothing was changed."),
    "review.not_in_review": N_("This application is no longer waiting for review. Nothing was changed."),
    "review.papers_not_accepted": N_("Every paper must be accepted before the application can be approved. "
                                     "Nothing was changed."),
    "review.reason_needed": N_("Please choose a reason. Nothing was changed."),
    "review.note_needed": N_("Please write the reason in the note. Nothing was changed."),
    "arrange.not_approved": N_("This application is not waiting to be arranged. Nothing was changed."),
    "arrange.no_failed_booking": {
        "": N_("There are no alternatives waiting for your answer. Nothing was changed."),
        STAFF: N_("Record the failed booking and the alternatives offered first. Nothing was changed."),
    },
    "arrange.fields": N_("Please correct the marked fields. Nothing was changed."),
    "close.not_scheduled": N_("This application has no appointment to close. Nothing was changed."),
    "close.before_appointment": N_("The appointment has not begun yet, so it cannot be closed. Nothing was changed."),
    "close.late_not_counted": N_("Less than the late-arrival limit (or this service has none): record it as completed. "
                                 "Nothing was changed."),
    "close.minutes": N_("Please give the minutes late as a whole number. Nothing was changed."),
    "close.decision": N_("Please choose how the appointment ended. Nothing was changed."),
    "close.days_needed": N_("Please give the days the aide served. Nothing was changed."),
    "close.days_range": N_("The days served must be a whole number from 0 to the days booked. Nothing was changed."),
    "close.reason_needed": N_("Please say why the provider could not deliver. Nothing was changed."),
    "close.not_open": N_("This application is no longer open. Nothing was changed."),
    "reverse.reason_needed": N_("Please write why the use is given back (the customer's appeal). Nothing was changed."),
    "reverse.not_counted": N_("This application did not count as a use. Nothing was changed."),
    "reverse.already": N_("This use was already given back. Nothing was changed."),
    "failed.fields": N_("Please say whom the customer asked for and which alternatives were offered. Nothing was changed."),
    "slip.not_needed": N_("This service does not count from an admission slip. Nothing was changed."),
    "slip.too_late": N_("The admission slip can only be recorded before the admission is arranged. Nothing was changed."),
    "slip.date": N_("Please give the date written on the admission slip: not in the future, not over a year before "
                    "the application. Nothing was changed."),
    "diagnosis.certainty": N_("Please choose suspected or confirmed. Nothing was changed."),
    "diagnosis.date": N_("Please give the first-diagnosis date: a real date, not in the future. Nothing was changed."),
    "diagnosis.hospital": N_("Please give the hospital that made the diagnosis. Nothing was changed."),
    "diagnosis.grade": N_("Please choose the hospital grade. Nothing was changed."),
    # --- applying at the service desk (services/desk/desk_applications.py) ------------------------------------------
    "desk.query": N_("Please enter an 11-digit mobile number or an 18-character resident ID number."),
    "desk.minor": N_("This insured person is under 18: their guardian applies for them online with the guardianship "
                     "papers. Nothing was sent."),
    "desk.account_closed": N_("This insured person's account is closed. Nothing was sent."),
    "desk.no_mobile": N_("There is no mobile number on file for this insured person, so no link can be texted. "
                         "Nothing was sent."),
    "desk.mobile_taken": N_("The mobile number on the policy belongs to another account. Nothing was sent."),
    "desk.no_service": N_("This policy does not have that service. Nothing was sent."),
    "desk.not_desk": N_("Only a coordinator or an administrator can do this. Nothing was changed."),
    # --- calling a customer (services/desk/contact_calls.py) --------------------------------------------------------
    "calls.rate_limited": N_("You have opened the numbers of many applications in a short time, so no more are shown "
                             "for now. Try again later, or ask an administrator."),
    "calls.no_number": N_("There is no mobile number on file for this application."),
    "calls.outcome": N_("Please choose how the call went. Nothing was noted."),
    "calls.note_long": N_("The note is too long: %(max)s characters at most. Nothing was noted."),
    "calls.role": N_("Your role cannot do this. Nothing was changed."),
    # --- who an account belongs to (services/accounts/reclaim.py) --------------------------------------------------------
    "identity.staff": N_("Staff accounts cannot ask for this."),
    "identity.name": N_("Please enter your full name, exactly as on your ID card."),
    "identity.id": N_("Please check the ID number: it should be 18 characters, and the last one may be X."),
    "identity.nothing_to_reclaim": N_("No other account holds that name and ID number, so there is nothing to give back. Please check both, or find your policy as usual."),
    "identity.bound_elsewhere": {
        "": N_("This account already belongs to someone else's name. Please sign in with your own mobile number."),
        STAFF: N_("The asking account already belongs to another person. Nothing was changed."),
    },
    "identity.already_asked": N_("You have already asked for this ID number. Our staff will call you."),
    "identity.too_many": N_("Too many attempts. Please wait a while and try again, or call the service hotline."),
    "identity.not_staff": N_("Only a reviewer or an administrator can do this. Nothing was changed."),
    "identity.note_needed": N_("Please write how you checked the ID card (or why not). Nothing was changed."),
    "identity.not_open": N_("This request is no longer waiting for a decision. Nothing was changed."),
    "identity.not_found": N_("We could not find that request. Nothing was changed."),
    "identity.no_claim": N_("This account no longer waits for a check. Nothing was changed."),
    "identity.held": N_("Another account is bound to this person now: the owner asks for it back instead. Nothing was changed."),
    # --- closing an account (services/accounts/logins.py) ---------------------------------------------------------------
    "account.not_found": N_("No account has this mobile number. Nothing was changed."),
    "account.reason_needed": N_("Please write why. Nothing was changed."),
    "account.self": N_("You cannot close your own account. Nothing was changed."),
    "account.already_disabled": N_("This account is already closed. Nothing was changed."),
    "account.not_disabled": N_("This account is open. Nothing was changed."),
    # --- the holiday calendar (services/calendar/holiday_schedule.py) ----------------------------------------------------
    "form.date": N_("Please give the day as a date, for example 2027-02-06. Nothing was changed."),
    "form.year": N_("Only the years %(first)s to %(last)s can be changed here. Nothing was changed."),
    "form.status": N_("Please choose working day or day off. Nothing was changed."),
    "form.empty": N_("Please paste the schedule first: the box is empty. Nothing was entered."),
    "form.too_long": N_("The text is longer than %(n)s characters. Nothing was entered."),
    "calendar.long_name": N_("The name may be at most %(n)s characters. Nothing was changed."),
    "calendar.not_entered": N_("Staff had not entered that day, so there was nothing to clear. Nothing was changed."),
    "calendar.package_year": N_("The official schedule of %(year)s is already built in: there is nothing to mark."),
    "calendar.already_published": N_("%(year)s is already marked as entered in full."),
    "calendar.nothing_entered": N_("Not a single day of %(year)s is entered yet: enter its holidays and working "
                                   "weekends first. Nothing was changed."),
}

# A paper's name where staff read it differently from the checklist (which names the applicant's ID for the applicant).
STAFF_PAPERS = {"applicant_id": N_("ID card of the family member asking")}


def paper_name(kind: str, reader: str = CUSTOMER) -> str:
    """A paper's name in a refusal ("%(paper)s"): the checklist's, or staff's where theirs differs."""
    if reader == STAFF and kind in STAFF_PAPERS:
        return translate(STAFF_PAPERS[kind])
    return document_text(kind)


def _variants(reader: str, about: str | None) -> tuple[str, ...]:
    """Which variant of an entry to use, most specific first: "staff request", "staff", "request", the default ""."""
    return tuple(v for v in (f"{reader} {about}" if about else None, reader, about, "") if v is not None)


def _words(key: str, reader: str, about: str | None) -> str | None:
    entry = MESSAGES.get(key)
    if isinstance(entry, dict):
        return next((entry[v] for v in _variants(reader, about) if v in entry), None)
    return entry


def _shown(value: Any) -> Any:
    if isinstance(value, datetime):
        value = value.date()
    return day(value, with_year=True) if isinstance(value, date) else value


def say(refused: Refused | Reason | str, *, reader: str = CUSTOMER, about: str | None = None,
        name: str | None = None, **params) -> str:
    """A refusal, an eligibility reason or a key (with its params) as one sentence for `reader`, about an
    application or a REQUEST; `name` (a photo's file name) goes before it. An unknown key gets the reader's
    "could not be done"."""
    key = refused if isinstance(refused, str) else refused.key
    params = {**params, **({} if isinstance(refused, str) else refused.params)}
    until = getattr(refused, "until", None)
    if key == "diagnosis.first_year_over":  # ISO dates (eligibility._first_illness_year_reasons)
        params = {k: date.fromisoformat(v) for k, v in params.items()}
    if key == "access.until":  # family.py gives the first day no longer allowed; the reader is told the last
        last = params.pop("last", None)
        if last is None and reader != STAFF:
            key = "access.until_any"
        elif last is not None:
            params["date"] = last - timedelta(days=1)
    if key == "access.is_minor":
        params["date"] = params.pop("adult_on", None)
    if key == "document.duplicate" and params.get("page"):
        key = "document.duplicate_page"
    if "kind" in params:
        params["paper"] = paper_name(params.pop("kind"), reader)
    words = _words(key, reader, about)
    text = translate(words, **{k: _shown(v) for k, v in params.items()}) if words else translate(
        FALLBACK.get(reader, FALLBACK[CUSTOMER]))
    after = []
    if params.get("remaining") is not None and f"{key}.remaining" in MESSAGES:
        after.append(translate(MESSAGES[f"{key}.remaining"], n=params["remaining"]))
    if until and f"{key}.until" in MESSAGES:
        after.append(translate(MESSAGES[f"{key}.until"], date=_shown(until)))
    if after:  # Chinese sentences run on without spaces
        text = (" " if str(get_locale()).startswith("en") else "").join([text, *after])
    return translate(N_("%(name)s: %(text)s"), name=name, text=text) if name else text


def attempt(fn: Callable[..., Any], *args, done: str | Callable[[Any], str] | None = None, reader: str = CUSTOMER,
            about: str | None = None, category: str = "info", **kwargs) -> bool:
    """Do `fn(*args, **kwargs)`; flash `done` (a sentence, or a function of the result) when it is done, or the
    refusal's sentence for `reader` (category "error") when a service refused. True when done."""
    try:
        result = fn(*args, **kwargs)
    except Refused as refused:
        flash(say(refused, reader=reader, about=about), "error")
        return False
    if done is not None:
        flash(str(done(result) if callable(done) else done), category)
    return True


def init_app(app) -> None:
    """Templates say an eligibility reason (a card's, the apply form's) with `reason_text`: `say` itself."""
    app.jinja_env.globals.update(reason_text=say)


__all__ = ["APPLICATION", "CUSTOMER", "FAMILY", "MESSAGES", "REQUEST", "STAFF", "Refused", "attempt", "init_app",
           "paper_name", "say"]

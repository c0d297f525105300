"""Words for family access: kinds of access, relationships, states of a request, staff's reasons,
messages and the lines of the access log. services/family/family.py returns keys; only here do they become sentences,
short and plain, in the reader's language.
"""
from __future__ import annotations

from datetime import date

from flask_babel import get_locale

from ..formatting import day
from ..i18n import N_
from ..i18n import gettext as _
from ..i18n import gettext as translate  # for msgids held in variables (not extracted)
from ..services.family import family
from .staff_wording import log_text
from .wording import document_text

last_day = family.last_day  # the templates read end dates through `family_words`

KINDS = {
    family.GUARDIAN_MINOR: N_("Parent or guardian of a child under 18"),
    family.GUARDIAN_INCAPACITATED: N_("Guardian of an adult who cannot act for themselves"),
    family.POWER_OF_ATTORNEY: N_("Helping an adult who asked me to"),
}

# The same kinds, as the insured person reads them about the one acting for them.
ROLES = {
    family.GUARDIAN_MINOR: N_("Parent or guardian (while you were under 18)"),
    family.GUARDIAN_INCAPACITATED: N_("Your guardian"),
    family.POWER_OF_ATTORNEY: N_("Helps you, with your agreement"),
}

KIND_HINTS = {
    family.GUARDIAN_MINOR: N_("Proof: the child's birth certificate, or the household register page with you both."),
    family.GUARDIAN_INCAPACITATED: N_("Proof: a court decision or a medical certificate, and proof that you are the guardian."),
    family.POWER_OF_ATTORNEY: N_("They approve in their own account, or you send a power of attorney they signed."),
}

# The insured person is the requester's …: a stable key in the form, the Chinese word on record (the banner and
# staff read it), the English word for English pages.
RELATIONS = {
    "son": ("儿子", N_("Son")),
    "daughter": ("女儿", N_("Daughter")),
    "father": ("父亲", N_("Father")),
    "mother": ("母亲", N_("Mother")),
    "spouse": ("配偶", N_("Spouse")),
    "other": ("其他", N_("Other")),
}
_BY_LABEL = {stored: english for stored, english in RELATIONS.values()}

SCOPES = {
    family.VIEW: N_("See their services and bookings (always)"),
    family.APPLY: N_("Apply, change and cancel"),
    family.DOCUMENTS: N_("See and send their papers, ID photos included"),
}

# The same scopes, as the insured person reads them about the one acting for them.
MY_SCOPES = {
    family.VIEW: N_("See your services and bookings (always)"),
    family.APPLY: N_("Apply, change and cancel for you"),
    family.DOCUMENTS: N_("See and send your papers, ID photos included"),
}

# The scopes a family member holds, in one line under the acting-for banner (issue 15 item 9). "apply" covers
# change and cancel too (services/booking/bookings.py), so each line names cancelling with it. Keyed by the scopes beyond
# "view" (always held).
BANNER_SCOPES = {
    frozenset({family.APPLY, family.DOCUMENTS}): N_("You may view, apply, send papers and cancel"),
    frozenset({family.APPLY}): N_("You may view, apply and cancel; %(name)s sends the papers themself"),
    frozenset({family.DOCUMENTS}): N_("You may view and send papers; %(name)s applies and cancels themself"),
    frozenset(): N_("View only"),
}

# A proxy's own papers already accepted, said once above the checklist to the one who applied, by what is on file.
PROOFS_ON_FILE = {
    frozenset({"applicant_id", "guardianship_proof"}): N_("Your ID card and proof of guardianship were already checked and accepted: no need to send them again."),
    frozenset({"applicant_id", "power_of_attorney"}): N_("Your ID card and the power of attorney were already checked and accepted: no need to send them again."),
    frozenset({"applicant_id"}): N_("Your ID card was already checked and accepted: no need to send it again."),
    frozenset({"guardianship_proof"}): N_("Your proof of guardianship was already checked and accepted: no need to send it again."),
    frozenset({"power_of_attorney"}): N_("The power of attorney was already checked and accepted: no need to send it again."),
}

METHODS = {
    family.INSURED_APPROVAL: N_("They approve it in their own account (quickest)"),
    family.PAPERS: N_("I send photos of a power of attorney they signed"),
}

REJECT_REASONS = {
    "not_guardian": N_("The papers do not show that you are the guardian."),
    "proof_unclear": N_("The proof photos could not be read clearly."),
    "identity_mismatch": N_("The names or ID numbers on the papers do not match."),
    "poa_invalid": N_("The power of attorney is not valid, for example not signed or out of date."),
    "other": N_("Please see the note from our staff."),
}

# Which field of the request form a refusal is about (the field is marked invalid and points to the message).
REFUSAL_FIELDS = {
    "access.own_name": "own_name", "access.own_id": "own_id_number", "access.own_id_taken": "own_id_number", "access.own_id_on_policy": "own_id_number",
    "access.kind": "kind", "access.not_minor": "kind", "access.is_minor": "kind",
    "access.insured_name": "insured_name", "access.insured_id": "insured_id_number",
    "access.not_found": "insured_id_number", "access.self": "insured_id_number",
    "access.relationship": "relationship", "access.method": "method", "access.insured_not_signed_up": "method",
    "access.scopes": "scopes", "access.until": "last_day", "access.date": "last_day",
}


def relation_text(label: str | None) -> str:
    """A stored relationship (儿子 …) in the reader's language; anything else as it was written."""
    if not label:
        return ""
    if label not in _BY_LABEL or str(get_locale()).startswith("zh"):
        return label  # the Chinese word, as kept
    return translate(_BY_LABEL[label])


def kind_text(kind: str) -> str:
    return translate(KINDS[kind]) if kind in KINDS else kind


def role_text(kind: str) -> str:
    return translate(ROLES[kind]) if kind in ROLES else kind


def scope_text(scope: str, *, mine: bool = False) -> str:
    """What a scope lets the family member do; `mine`: as the insured person reads it."""
    names = MY_SCOPES if mine else SCOPES
    return translate(names[scope]) if scope in names else scope


def banner_scopes_text(standing, name: str) -> str:
    """What the family member may do for `name`, in one line: "可查看、申请、取消；材料由王芳本人上传"."""
    held = frozenset(standing.scopes) & {family.APPLY, family.DOCUMENTS}
    return translate(BANNER_SCOPES[held], name=name)


def proofs_on_file_text(items, insured_name: str) -> str:
    """One sentence for the applicant's own papers already on file (documents.Item.on_file), or "" for none."""
    filed = [item for item in items if item.on_file]
    if not filed:
        return ""
    if all(item.on_file_source is not None and item.on_file_source.approved for item in filed):
        return _("%(name)s approved you in their own account: no ID card or power of attorney is needed.",
                 name=insured_name)
    kinds = frozenset(item.kind for item in filed)
    return translate(PROOFS_ON_FILE[kinds]) if kinds in PROOFS_ON_FILE else ""


def on_file_text(item, mine: bool) -> str:
    """Where one paper on file was accepted: with an earlier application, or when the access was verified."""
    source = item.on_file_source
    if source is not None and source.booking:
        if mine:
            return _("On file: accepted with your application %(reference)s on %(date)s",
                     reference=source.booking, date=day(item.on_file, with_year=True))
        return _("On file: accepted with the applicant's application %(reference)s on %(date)s",
                 reference=source.booking, date=day(item.on_file, with_year=True))
    if mine:
        return _("On file: checked when your access was verified on %(date)s", date=day(item.on_file, with_year=True))
    return _("On file: checked when the applicant's access was verified on %(date)s", date=day(item.on_file, with_year=True))


def rejection_text(stored: str | None) -> str:
    """Staff's reason for not accepting a request (a listed reason, then their own words after ': ')."""
    if not stored:
        return ""
    key, _sep, note = stored.partition(": ")
    text = translate(REJECT_REASONS[key]) if key in REJECT_REASONS else key
    return _("%(reason)s Note from our staff: %(note)s", reason=text, note=note) if note else text


def state_text(grant, today: date) -> str:
    """Where a request stands, for the family member who made it."""
    return _state_sentence(family.shown_state(grant, today), grant.insured.name, grant)


def asked_for_text(asked: family.AskedFor) -> str:
    """Where one of family.recent_requests stands, for the family member who made it (the home's card)."""
    return _state_sentence(asked.state, asked.name, asked)


def _state_sentence(state: str, name: str, grant) -> str:
    """`grant`: a ProxyGrant or a family.AskedFor (kind, valid_from, valid_until, revoked_at are read)."""
    if state == family.DRAFT:
        return _("Add your proof photos and send them.")
    if state == family.AWAITING_INSURED:
        return _("Waiting for %(name)s to approve it in their own account.", name=name)
    if state == family.PENDING:
        return _("Our staff are checking your proof, usually within 1 working day.")
    if state == family.VERIFIED:
        return in_force_text(grant, name)
    if state == family.NOT_YET:
        return _("You can act for %(name)s from %(date)s.", name=name, date=day(grant.valid_from, with_year=True))
    if state == family.ENDED:
        if grant.kind == family.GUARDIAN_MINOR:
            return _("Ended on %(name)s's 18th birthday (%(date)s). %(name)s can now sign in with their own number.",
                     name=name, date=day(grant.valid_until, with_year=True))
        return _("Ended on %(date)s.", date=day(grant.valid_until, with_year=True))
    if state == family.REJECTED:
        return _("Not accepted by our staff.")
    if state == family.DECLINED:
        return _("%(name)s declined this request.", name=name)
    if state == family.WITHDRAWN:
        return _("You withdrew this request.")
    if state == family.REVOKED:
        return _("Access ended on %(date)s.", date=day(grant.revoked_at, with_year=True))
    return state


def in_force_text(grant, name: str) -> str:
    if grant.kind == family.GUARDIAN_MINOR and grant.valid_until:
        return _("You can act for %(name)s until their 18th birthday (%(date)s).", name=name,
                 date=day(grant.valid_until, with_year=True))
    if grant.valid_until:
        return _("You can act for %(name)s. Last day: %(date)s.", name=name,
                 date=day(family.last_day(grant.valid_until), with_year=True))
    return _("You can act for %(name)s until the access is ended.", name=name)


def next_step_text(grant, today: date) -> str:
    """What happens next, on the request's own page."""
    name = grant.insured.name
    state = family.shown_state(grant, today)
    if state == family.DRAFT:
        return _("Add a photo of each paper below, then send them all. Our staff check them, usually within 1 working day.")
    if state == family.AWAITING_INSURED:
        return _("%(name)s sees your request when they sign in with their own number. You get a message here when they decide.",
                 name=name)
    if state == family.PENDING:
        return _("You get a message here when our staff have checked it.")
    if state == family.VERIFIED:
        return _("Choose %(name)s with “For a family member” to see and use their services.", name=name)
    if state == family.REJECTED:
        return _("You can ask again with clearer proof, or call the service hotline.")
    if state == family.DECLINED:
        return _("You can talk with %(name)s and ask again.", name=name)
    return ""


def grant_for_me_text(grant, today: date) -> str:
    """Where someone's access to me stands, for the insured person."""
    who = person_name(grant.grantee)
    state = family.shown_state(grant, today)
    if state == family.AWAITING_INSURED:
        return _("%(name)s asks to act for you. Approve or decline below.", name=who)
    if state in (family.DRAFT, family.PENDING):
        return _("%(name)s asks to act for you. Our staff are checking their proof.", name=who)
    if state == family.VERIFIED:
        if grant.valid_until:
            return _("%(name)s can act for you. Last day: %(date)s.", name=who,
                     date=day(family.last_day(grant.valid_until), with_year=True))
        return _("%(name)s can act for you until you end it.", name=who)
    if state == family.NOT_YET:
        return _("%(name)s can act for you from %(date)s.", name=who, date=day(grant.valid_from, with_year=True))
    if state == family.ENDED:
        return _("The access of %(name)s ended on %(date)s.", name=who, date=day(grant.valid_until, with_year=True))
    if state == family.REJECTED:
        return _("Our staff did not accept the proof of %(name)s.", name=who)
    if state == family.DECLINED:
        return _("You declined the request of %(name)s.", name=who)
    if state == family.WITHDRAWN:
        return _("%(name)s withdrew their request.", name=who)
    if state == family.REVOKED:
        return _("The access of %(name)s ended on %(date)s.", name=who, date=day(grant.revoked_at, with_year=True))
    return state


def person_name(account) -> str:
    if account is None:
        return ""
    return (account.person.name if account.person is not None else None) or account.display_name or _("A family member")


# --- messages --------------------------------------------------------------------------------------------

def access_message(notification, to_insured: bool) -> str:
    """One of family.py's messages (access_request / _decided / _revoked / _ended), for its reader."""
    p = notification.payload or {}
    insured, grantee = p.get("insured", ""), p.get("grantee") or _("A family member")
    kind, state = notification.kind, p.get("state")
    if kind == family.ACCESS_REQUEST:
        return _("%(name)s asks to act for you. Please approve or decline under Family.", name=grantee)
    if kind == family.ACCESS_SENT:
        if state == family.AWAITING_INSURED:
            return _("Your request to act for %(name)s was sent. %(name)s approves or declines it in their own account; you get a message here when they decide.",
                     name=insured)
        return _("Your proof to act for %(name)s was sent. Our staff check it, usually within 1 working day; you get a message here when they have.",
                 name=insured)
    if kind == family.ACCESS_DECIDED:
        if state == family.VERIFIED:
            return _("Your request to act for %(name)s was accepted. You can now act for them.", name=insured)
        if state == family.REJECTED:
            return _("Your request to act for %(name)s was not accepted. %(reason)s", name=insured,
                     reason=rejection_text(p.get("reason")))
        if state == family.DECLINED:
            return _("%(name)s declined your request to act for them.", name=insured)
    if kind == family.ACCESS_REVOKED:
        if to_insured:
            if p.get("by") == "staff":
                return _("Our staff ended the access of %(name)s to act for you.", name=grantee)
            return _("%(name)s stopped acting for you.", name=grantee)
        if p.get("by") == "staff":
            return _("Our staff ended your access to act for %(name)s.", name=insured)
        return _("%(name)s ended your access to act for them.", name=insured)
    if kind == family.ACCESS_ENDED:
        on = p.get("on")
        return _("Your guardianship of %(name)s ended on their 18th birthday (%(date)s). %(name)s can now sign in with their own number.",
                 name=insured, date=day(date.fromisoformat(on), with_year=True) if on else "")
    return ""


# --- the access log --------------------------------------------------------------------------------------

WHO = {
    "guardian": N_("guardian"),
    "staff": N_("service staff"),
    "system": N_("system"),
    "former": N_("former family member"),
}

PAGES = {
    "home": N_("viewed your services"),
    "bookings": N_("viewed your bookings"),
    "booking": N_("viewed a booking"),
    "papers": N_("viewed the papers of a booking"),
}

ACTIONS = {
    "document.upload": N_("added a photo of: %(paper)s"),
    "document.submit": N_("sent papers for checking"),
    "document.page_removed": N_("removed a photo that was not sent yet"),
    "document.decide": N_("checked a photo of your papers"),
    "booking.apply": N_("applied for a service"),
    "booking.withdrawn": N_("withdrew an application"),
    "booking.cancelled_free": N_("cancelled a booking (not counted)"),
    "booking.cancelled_counted": N_("cancelled a booking (counted as used)"),
    "booking.under_review": N_("started checking the papers"),
    "booking.scheduled": N_("arranged the appointment"),
    "booking.completed": N_("marked the service as delivered"),
    "booking.no_show": N_("marked the appointment as missed"),
    "booking.rejected": N_("did not approve the application"),
    "booking.staff_view": N_("opened your application at the service desk"),
    "booking.failed_booking": N_("recorded that the doctor asked for could not be booked, with alternatives"),
    "booking.use_reversed": N_("gave back a counted use on your appeal"),
    "booking.papers_complete": N_("recorded that your papers are complete"),
    "access.request": N_("asked to act for you"),
    "access.proofs_sent": N_("sent proof to act for you"),
    "access.withdraw": N_("withdrew their request to act for you"),
    "access.verify": N_("accepted the proof of a family member"),
    "access.reject": N_("did not accept the proof of a family member"),
    "access.ended": N_("ended a guardianship on your 18th birthday"),
    "access.approve": N_("approved a family member"),
    "access.decline": N_("declined a family member"),
}


def who_text(entry) -> str:
    """'周婷 · agent (mother)', '陈静 · service staff', 'system'."""
    if entry.actor_kind == "system":
        return translate(WHO["system"])
    if entry.actor_kind == "power_of_attorney":
        role = _("agent")  # the stored label is the insured's relation to the agent: not a word to describe the agent by
    else:
        role = translate(WHO.get(entry.actor_kind, WHO["former"]))
    name = entry.actor_name or _("A family member")
    return f"{name} · {role}"


def action_text(entry) -> str:
    """What was done or seen, in words (the booking, when there is one, is linked beside it)."""
    action, detail = entry.action, entry.detail or {}
    if action == "record.view":
        page = detail.get("page")
        return translate(PAGES[page]) if page in PAGES else translate(PAGES["home"])
    if action == "document.view":
        return _("looked at a page of: %(paper)s", paper=document_text(detail.get("kind", "")))
    if action == "document.upload":
        return translate(ACTIONS[action], paper=document_text(detail.get("kind", "")))
    if action == "booking.approved":
        # Staff approve an application; a family member moving it back to "approved" asked for another date.
        return _("approved the application") if entry.actor_kind in ("staff", "system") else _("asked for another date")
    if action == "access.revoke":
        return _("ended the access of a family member") if entry.actor_kind == "staff" else _("stopped acting for you")
    if action in ("booking.mobile_view", "booking.call"):  # a staff member calling about an application
        return log_text(entry)
    if action in ACTIONS:
        return translate(ACTIONS[action])
    return _("other action (%(code)s)", code=action)

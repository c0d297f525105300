"""Translation-key → sentence, per language: eligibility reasons, states, rules, documents.

The rules return keys (and dates); only here do they become words, so every one is translated.
"""
from __future__ import annotations

from datetime import datetime

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from ..formatting import day, moment
from ..services.cutoffs import parse_rule

REASONS = {
    "service.unknown": _l("This service is not part of this policy."),
    "actor.not_entitled": _l("Only the insured person, their guardian or someone with their power of attorney can apply."),
    "actor.proxy_pending": _l("Your request to act for this person is still being checked."),
    "actor.proxy_not_accepted": _l("This service must be applied for by the insured person or their guardian."),
    "policy.surrendered_cooling_off": _l("The policy was surrendered during its cooling-off period, so its services have ended."),
    "policy.surrendered": _l("The policy has been surrendered."),
    "policy.lapsed": _l("The policy has lapsed."),
    "policy.not_yet_effective": _l("The policy has not started yet."),
    "policy.expired": _l("The policy has expired."),
    "service.window_closed": _l("The period in which these services can be used has ended."),
    "policy.cooling_off": _l("The policy is in its cooling-off period."),
    "policy.waiting_period": _l("The policy is in its waiting period."),
    "diagnosis.before_policy": _l("The illness was first diagnosed before the policy started, so it is not covered."),
    "diagnosis.in_waiting_period": _l("The illness was first diagnosed during the waiting period, so it is not covered."),
    "diagnosis.missing": _l("A confirmed diagnosis of a covered critical illness is needed first."),
    "quota.used_up": _l("All uses for this period are used up."),
    "quota.in_progress": _l("Your application in progress already holds the last use."),
    "quota.not_enough": _l("Not enough left for this request."),
}

UNTIL = {
    "policy.not_yet_effective": _l("Starts on %(date)s."),
    "policy.cooling_off": _l("Ends on %(date)s."),
    "policy.waiting_period": _l("Available from %(date)s."),
    "quota.used_up": _l("Uses renew on %(date)s."),
}

STATES = {
    "applied": _l("Application received"),
    "under_review": _l("Papers being checked"),
    "approved": _l("Approved — being arranged"),
    "scheduled": _l("Arranged"),
    "completed": _l("Completed"),
    "withdrawn": _l("Withdrawn (not counted)"),
    "rejected": _l("Not approved"),
    "cancelled_free": _l("Cancelled (not counted)"),
    "cancelled_counted": _l("Cancelled (counted as used)"),
    "no_show": _l("Missed (counted as used)"),
}

NEXT_STEP = {
    "applied": _l("A service advisor will check your papers; you will get a message here."),
    "under_review": _l("A service advisor is checking your papers; you will get a message when they decide."),
    "approved": _l("We are arranging the appointment and will send you its time and place here."),
    "scheduled": _l("Go to the appointment at the time and place below. Bring your ID card and medical papers."),
}

DOCUMENTS = {
    "diagnosis": _l("Diagnosis or suspected diagnosis from a level-2 or higher public hospital"),
    "pathology_report": _l("Pathology report (when the diagnosis is confirmed)"),
    "medical_records": _l("Medical records: outpatient notes, discharge summary, test reports"),
    "admission_slip": _l("Hospital admission slip"),
    "discharge_proof": _l("Proof of discharge"),
    "exam_order": _l("The doctor's examination order"),
    "doctor_certificate": _l("Doctor's certificate for lying-down transport"),
    "id_card": _l("ID card of the insured person"),
    "guardianship_proof": _l("Proof of guardianship"),
    "power_of_attorney": _l("Power of attorney signed by the insured person"),
}

ROLES = {"customer": _l("you"), "proxy": _l("family member"), "staff": _l("service advisor"), "system": _l("system")}


def reason_text(reason) -> str:
    text = str(REASONS.get(reason.key, reason.key))
    if reason.key == "quota.not_enough" and reason.params.get("remaining") is not None:
        text += " " + _("%(n)s left.", n=reason.params["remaining"])
    if reason.until and reason.key in UNTIL:
        text += " " + str(UNTIL[reason.key]) % {"date": day(reason.until, with_year=True)}
    return text


def change_rule_text(rule: str) -> str:
    parsed = parse_rule(rule)
    if parsed.kind == "never":
        return _("Once arranged it cannot be changed or cancelled; cancelling still counts as used.")
    if parsed.kind == "noon_day_before":
        return _("Free to change or cancel until 12:00 the day before; after that it counts as used.")
    return _("Free to change or cancel until %(hours)s hours before; after that it counts as used.", hours=parsed.hours)


def rule_name(rule: str | None) -> str:
    if not rule:
        return ""
    if rule.startswith("hours_before") or rule in ("noon_day_before", "never"):
        return change_rule_text(rule)
    return str({
        "no_show": _l("Not attending counts as used."),
        "late_arrival": _l("Arriving late by the stated limit counts as used."),
        "delivered": _l("Service delivered."),
        "booking_failed_declined": _l("The named expert could not be booked and you declined the alternatives: not counted."),
    }.get(rule, rule))


__all__ = ["DOCUMENTS", "NEXT_STEP", "REASONS", "ROLES", "STATES", "change_rule_text", "day", "moment", "reason_text", "rule_name"]


def init_app(app) -> None:
    app.jinja_env.globals.update(reason_text=reason_text, change_rule_text=change_rule_text, rule_name=rule_name,
                                 documents=DOCUMENTS, state_names=STATES, next_steps=NEXT_STEP, role_names=ROLES,
                                 message_text=message_text, choice_label=choice_label, field_label=field_label,
                                 form_list=form_list, date_keys=_date_keys)


def message_text(notification, service_name: str = "") -> str:
    p = notification.payload or {}
    what = service_name or p.get("reference", "")
    if notification.kind == "reminder_free_change":
        deadline = p.get("free_until")
        return _("Reminder: %(what)s can be changed or cancelled free of charge only until %(deadline)s.",
                 what=what, deadline=moment(datetime.fromisoformat(deadline)) if deadline else "")
    state = str(STATES.get(p.get("state"), p.get("state", "")))
    text = _("%(what)s: %(state)s.", what=what, state=state)
    if p.get("state") == "scheduled" and p.get("starts_at"):
        text += " " + _("Appointment: %(at)s", at=moment(datetime.fromisoformat(p["starts_at"])))
    if p.get("reason"):
        text += " " + _("Reason: %(reason)s", reason=p["reason"])
    return text


def choice_label(field, value) -> str:
    for choice, label in field.choices:
        if choice == value:
            return _(label)
    return value


def field_label(product, service, key: str) -> str:
    from ..services.apply_forms import fields_for

    for field in fields_for(product, service):
        if field.name == key:
            return _(field.label)
    return key


def form_list(values, name: str) -> list:
    """Every value posted under `name` (a MultiDict from a form, or a plain dict)."""
    if hasattr(values, "getlist"):
        return values.getlist(name)
    value = values.get(name) if values else None
    return value if isinstance(value, list) else ([value] if value else [])



def _date_keys(field):
    from ..services.apply_forms import date_keys

    return date_keys(field)

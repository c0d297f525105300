"""Translation-key → sentence, per language: eligibility reasons, states, rules, documents.

The rules return keys (and dates); only here do they become words, so every one is translated.
"""
from __future__ import annotations

from datetime import datetime

from ..formatting import day, moment
from ..i18n import N_
from ..i18n import gettext as _
from ..services.cutoffs import parse_rule

REASONS = {
    "service.unknown": N_("This service is not part of this policy."),
    "actor.not_entitled": N_("Only the insured person, their guardian or someone with their power of attorney can apply."),
    "actor.proxy_pending": N_("Your request to act for this person is still being checked."),
    "actor.proxy_not_accepted": N_("This service must be applied for by the insured person or their guardian."),
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
    "diagnosis.missing": N_("A confirmed diagnosis of a covered critical illness is needed first."),
    "quota.used_up": N_("All uses for this period are used up."),
    "quota.in_progress": N_("Your application in progress already holds the last use."),
    "quota.not_enough": N_("Not enough left for this request."),
}

UNTIL = {
    "policy.not_yet_effective": N_("Starts on %(date)s."),
    "policy.cooling_off": N_("Ends on %(date)s."),
    "policy.waiting_period": N_("Available from %(date)s."),
    "quota.used_up": N_("Uses renew on %(date)s."),
}

STATES = {
    "applied": N_("Application received"),
    "under_review": N_("Papers being checked"),
    "approved": N_("Approved — being arranged"),
    "scheduled": N_("Arranged"),
    "completed": N_("Completed"),
    "withdrawn": N_("Withdrawn (not counted)"),
    "rejected": N_("Not approved"),
    "cancelled_free": N_("Cancelled (not counted)"),
    "cancelled_counted": N_("Cancelled (counted as used)"),
    "no_show": N_("Missed (counted as used)"),
}

NEXT_STEP = {
    "applied": N_("A service advisor will check your papers; you will get a message here."),
    "under_review": N_("A service advisor is checking your papers; you will get a message when they decide."),
    "approved": N_("We are arranging the appointment and will send you its time and place here."),
    "scheduled": N_("Go to the appointment at the time and place below. Bring your ID card and medical papers."),
}

DOCUMENTS = {
    "diagnosis": N_("Diagnosis or suspected diagnosis from a level-2 or higher public hospital"),
    "pathology_report": N_("Pathology report (when the diagnosis is confirmed)"),
    "medical_records": N_("Medical records: outpatient notes, discharge summary, test reports"),
    "admission_slip": N_("Hospital admission slip"),
    "discharge_proof": N_("Proof of discharge"),
    "exam_order": N_("The doctor's examination order"),
    "doctor_certificate": N_("Doctor's certificate for lying-down transport"),
    "id_card": N_("ID card of the insured person"),
    "guardianship_proof": N_("Proof of guardianship"),
    "power_of_attorney": N_("Power of attorney signed by the insured person"),
}

ROLES = {"customer": N_("you"), "proxy": N_("family member"), "staff": N_("service advisor"), "system": N_("system")}


def reason_text(reason) -> str:
    text = _(REASONS[reason.key]) if reason.key in REASONS else reason.key
    if reason.key == "quota.not_enough" and reason.params.get("remaining") is not None:
        text += " " + _("%(n)s left.", n=reason.params["remaining"])
    if reason.until and reason.key in UNTIL:
        text += " " + _(UNTIL[reason.key], date=day(reason.until, with_year=True))
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
    return _({
        "no_show": N_("Not attending counts as used."),
        "late_arrival": N_("Arriving late by the stated limit counts as used."),
        "delivered": N_("Service delivered."),
        "booking_failed_declined": N_("The named expert could not be booked and you declined the alternatives: not counted."),
    }.get(rule, rule))  # the dict holds msgids


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
    state = _(STATES[p["state"]]) if p.get("state") in STATES else p.get("state", "")
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

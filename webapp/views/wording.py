"""Translation-key → sentence, per language: eligibility reasons, states, rules, documents.

The rules return keys (and dates); only here do they become words, so every one is translated.
"""
from __future__ import annotations

import re
from datetime import date, datetime

from flask_babel import get_locale
from flask_login import current_user

from ..formatting import day, moment
from ..i18n import N_
from ..i18n import gettext as _
from ..i18n import gettext as translate  # for msgids held in variables (not extracted)
from ..i18n import translations
from ..services import outcomes
from ..services.products.catalog_sync import rules_for
from ..services.cutoffs import parse_rule
from ..services.products.specialist_contact import specialist_contact_by
from .paper_wording import page_reason
from ..services.booking.apply_forms import date_keys, fields_for
from .staff_wording import eligibility_words

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
    "scheduled": N_("Everything is arranged; the details are below. Keep your ID card and medical papers with you."),
}

DOCUMENTS = {
    "diagnosis": N_("Diagnosis or suspected diagnosis from a public hospital of grade %(grade)s or higher"),
    "pathology_report": N_("Pathology report (when the diagnosis is confirmed)"),
    "medical_records": N_("Medical records: outpatient notes, discharge summary, test reports"),
    "admission_slip": N_("Hospital admission slip"),
    "discharge_proof": N_("Proof of discharge"),
    "exam_order": N_("The doctor's examination order"),
    "doctor_certificate": N_("Doctor's certificate for lying-down transport"),
    "id_card": N_("ID card of the insured person"),
    "applicant_id": N_("Your own ID card (as the person applying for them)"),
    "guardianship_proof": N_("Proof of guardianship"),
    "incapacity_proof": N_("Proof that the insured person cannot act for themselves"),
    "power_of_attorney": N_("Power of attorney signed by the insured person"),
}

ROLES = {"customer": N_("you"), "proxy": N_("family member"), "staff": N_("service advisor"), "system": N_("system")}
ACTING = {"guardian": N_("guardian"), "power_of_attorney": N_("authorised family member")}


def change_rule_text(rule: str, late_counts: bool = True) -> str:
    """The change rule in words; `late_counts` says whether cancelling after it spends the use (outcomes.py)."""
    parsed = parse_rule(rule)
    if parsed.kind == "never":
        if late_counts:
            return _("Once arranged it cannot be changed or cancelled; cancelling still counts as used.")
        return _("Once arranged it cannot be changed or cancelled online; if your plans change, please call us: "
                 "cancelling does not count as used.")
    if parsed.kind == "noon_day_before":
        if late_counts:
            return _("Free to change or cancel until 12:00 the day before; after that it counts as used.")
        return _("Change or cancel until 12:00 the day before; after that you can still cancel, and it does not count "
                 "as used: only missing the appointment does.")
    if late_counts:
        return _("Free to change or cancel until %(hours)s hours before; after that it counts as used.", hours=parsed.hours)
    return _("Change or cancel until %(hours)s hours before; after that you can still cancel, and it does not count "
             "as used.", hours=parsed.hours)


def service_rule_text(service) -> str:
    """The change rule of a catalog service, in words that say what a late cancellation spends."""
    return change_rule_text(service.change_rule, outcomes.late_cancel_counts(service))


EVENT_WORDS = {
    "application": N_("your application"),
    "approval": N_("approval"),
    "complete_papers": N_("your complete papers"),
    "admission_slip_date": N_("the date on the admission slip"),
}


def _counted_from(arrangement) -> str:
    events = [translate(EVENT_WORDS[e.value]) for e in arrangement.counted_from]
    if len(events) == 1:
        return events[0]
    return _("the last of %(events)s", events=(", " if str(get_locale()).startswith("en") else "、").join(events))


def promise_text(arrangement) -> str:
    """How the promise is counted, in the seed's terms (catalog `arrangement`; deadlines.promise)."""
    text = _("Arranged within %(n)s working days of %(event)s.", n=arrangement.working_days,
             event=_counted_from(arrangement))
    step = arrangement.without_slip
    if step is None:
        return text
    return _("With an admission slip, admission is arranged within %(n)s working days of its date. Without one, "
             "we first arrange an expert visit within %(m)s working days of %(event)s; admission then follows within "
             "%(n)s working days of the slip the expert gives.", n=arrangement.working_days, m=step.working_days,
             event=_counted_from(step))


def specialist_text(product, service, at, *, applied: bool = False) -> str:
    """'A medical service specialist contacts you within about 2 hours …' where the seed promises it (000 （一）1.2
    line 18, （二）1.2 line 124; services/products/specialist_contact.py); '' elsewhere. `at`: the application's time, or now."""
    by = specialist_contact_by(product, service, at)
    if by is None:
        return ""
    params = {"num": service.specialist_contact_hours, "moment": moment(by)}
    if applied:
        return translations().ngettext(
            "A medical service specialist will contact you within about %(num)s hour of the desk receiving your "
            "application (around %(moment)s) and guide you through sending your papers.",
            "A medical service specialist will contact you within about %(num)s hours of the desk receiving your "
            "application (around %(moment)s) and guide you through sending your papers.", params["num"]) % params
    return translations().ngettext(
        "After you send it, a medical service specialist will contact you within about %(num)s hour of the desk "
        "receiving it (around %(moment)s if you send it now) and guide you through sending your papers.",
        "After you send it, a medical service specialist will contact you within about %(num)s hours of the desk "
        "receiving it (around %(moment)s if you send it now) and guide you through sending your papers.",
        params["num"]) % params


def desk_check_text(msgid: str, params: dict) -> str:
    """A value accepted past a limit the seed does not set (apply_forms `warnings`, stored as `desk_checks`)."""
    return translate(msgid, **localise_params(params or {}))


def booking_rule_text(booking) -> str:
    return service_rule_text(rules_for(booking.service)[1])


def rule_name(rule: str | None) -> str:
    if not rule:
        return ""
    if rule.startswith("hours_before") or rule in ("noon_day_before", "never"):
        return change_rule_text(rule)
    closing = {
        "no_show": N_("Not attending counts as used."),
        "late_arrival": N_("Arriving late by the stated limit counts as used."),
        "delivered": N_("Service delivered."),
        "booking_failed_declined": N_("The named expert could not be booked and you declined the alternatives: not counted."),
        "named_expert_unavailable": N_("The doctor or hospital asked for could not be booked."),
        "appeal_upheld": N_("Your appeal was accepted: the use is given back and does not count."),
        "late_cancel_uncounted": N_("Cancelled after the change time. For this service only missing the appointment "
                                    "counts, so this is not counted."),
        "no_show_uncounted": N_("Not attending does not count as used for this service."),
        "vendor_failed": N_("The service provider could not deliver it: not counted, the use is still yours."),
        # 003 同城专车接送 Q&A(2) lines 634-638 (bookings.request_change).
        "late_change_counted": N_("Changed after the change deadline: counted as used; the new time is arranged if "
                                  "possible."),
    }
    return translate(closing[rule]) if rule in closing else rule


__all__ = ["ACTING", "DOCUMENTS", "NEXT_STEP", "ROLES", "STATES", "change_rule_text", "day", "moment", "rule_name"]


def init_app(app) -> None:
    app.jinja_env.filters["document_name"] = document_text
    app.jinja_env.globals.update(change_rule_text=change_rule_text, rule_name=rule_name,
                                 service_rule_text=service_rule_text, booking_rule_text=booking_rule_text,
                                 promise_text=promise_text, specialist_text=specialist_text, desk_check_text=desk_check_text,
                                 no_show_counts=outcomes.no_show_counts, counts_by_days=outcomes.counts_by_days,
                                 late_cancel_counts=outcomes.late_cancel_counts,
                                 documents=DOCUMENTS, state_names=STATES, next_steps=NEXT_STEP, role_names=ROLES, acting_names=ACTING,
                                 message_text=message_text, choice_label=choice_label,
                                 form_list=form_list, date_keys=_date_keys, document_text=document_text,
                                 uses_text=uses_text, policy_year_text=policy_year_text, held_text=held_text,
                                 shared_names=shared_names, show_value=show_value, asked_for=asked_for)


# What a scheduled booking's time is, by its arrangement (services/desk/arrangements.when_key); a visit, and a message
# written before arrangements had kinds, say "Appointment".
SCHEDULED_AT = {
    "escort": N_("Meeting: %(at)s"), "admission": N_("Admission: %(at)s"), "car": N_("Pickup: %(at)s"),
    "aide": N_("The aide starts: %(at)s"), "call": N_("The expert calls: %(at)s"), "report": N_("Report expected: %(at)s"),
}


def message_text(notification, service_name: str = "") -> str:
    p = notification.payload or {}
    what = service_name or p.get("reference", "")
    if notification.kind == "paper_retake":
        return _("%(what)s: page %(n)s of “%(paper)s” needs to be sent again. %(reason)s",
                 what=what, n=p.get("page_number", ""), paper=document_text(p.get("document", "")),
                 reason=page_reason(p.get("reason") or p.get("decision"))).strip()
    if notification.kind == "reminder_day_before":  # issue 18 item 5: the customer confirms on the booking page
        when = moment(datetime.fromisoformat(p["starts_at"])) if p.get("starts_at") else ""
        return _("Reminder: %(what)s is tomorrow, %(at)s. Please open the booking and confirm you will be there.",
                 what=what, at=when)
    if notification.kind == "reminder_free_change":
        deadline = p.get("free_until")
        when = moment(datetime.fromisoformat(deadline)) if deadline else ""
        if p.get("late_cancel_counts") is False:  # only a missed appointment counts (outcomes.late_cancel_counts)
            return _("Reminder: %(what)s can be changed only until %(deadline)s. After that you can still cancel, "
                     "and it does not count as used.", what=what, deadline=when)
        return _("Reminder: %(what)s can be changed or cancelled free of charge only until %(deadline)s.",
                 what=what, deadline=when)
    if p.get("rule") == "named_expert_unavailable":
        return _("%(what)s: the doctor or hospital you asked for could not be booked. Open the booking to see the "
                 "alternatives we offer.", what=what)
    if p.get("rule") == "appeal_upheld":
        return _("%(what)s: your appeal was accepted; the use is given back.", what=what) + (
            " " + _("Reason: %(reason)s", reason=p["reason"]) if p.get("reason") else "")
    state = translate(STATES[p["state"]]) if p.get("state") in STATES else p.get("state", "")
    text = _("%(what)s: %(state)s.", what=what, state=state)
    if p.get("state") == "scheduled" and p.get("starts_at"):
        text += " " + translate(SCHEDULED_AT.get(p.get("arrangement"), N_("Appointment: %(at)s")),
                                at=moment(datetime.fromisoformat(p["starts_at"])))
    if p.get("reason"):
        reason = eligibility_words(p["reason"]) if p.get("state") == "rejected" else p["reason"]
        text += " " + _("Reason: %(reason)s", reason=reason)
    return text


def choice_label(field, value) -> str:
    for choice, label in field.choices:
        if choice == value:
            return _(label)
    return value


def form_list(values, name: str) -> list:
    """Every value posted under `name` (a MultiDict from a form, or a plain dict)."""
    if hasattr(values, "getlist"):
        return values.getlist(name)
    value = values.get(name) if values else None
    return value if isinstance(value, list) else ([value] if value else [])



def _date_keys(field):
    return date_keys(field)


GRADES = {"2": N_("level 2"), "2A": N_("level 2A (二甲)"), "3A": N_("level 3A (三甲)")}


def document_text(document: str, product=None) -> str:
    """A paper's name; the diagnosis names the hospital grade the product asks for (000: 二甲, 001/003: 二级)."""
    if document == "diagnosis":
        grade = product.min_hospital_grade.value if product is not None else "2"
        return translate(DOCUMENTS[document], grade=translate(GRADES[grade]))
    return translate(DOCUMENTS[document]) if document in DOCUMENTS else document


def uses_text(card) -> str:
    """'1 of 1 left this policy year' in one translatable sentence, and when none is left the day they renew. The
    policy year's dates are shown once, on the policy (policy_year_text), not on every card."""
    s = card.service
    if card.quota is None:
        return _("No limit on uses.")
    params = {"left": card.left, "quota": card.quota, "end": card.period_last_day.isoformat(),
              "date": day(card.resets_on, with_year=True) if card.resets_on else ""}
    days = s.quota.unit.value == "days"
    if s.quota.period.value != "policy_year":
        if days:
            return _("%(left)s of %(quota)s days left for the whole service term, until %(end)s.", **params)
        return _("%(left)s of %(quota)s left for the whole service term, until %(end)s.", **params)
    if card.resets_on and not card.left:  # the renewal matters once the year's uses are spent
        if days:
            return _("%(left)s of %(quota)s days left this policy year; renews on %(date)s.", **params)
        return _("%(left)s of %(quota)s left this policy year; renews on %(date)s.", **params)
    if days:
        return _("%(left)s of %(quota)s days left this policy year.", **params)
    return _("%(left)s of %(quota)s left this policy year.", **params)


def held_text(card) -> str:
    """Who holds the card's uses: 'Held by your application in progress.' / 'Held by 王芳's application in progress.'"""
    you = current_user.is_authenticated and any(h.account_id == current_user.id for h in card.held_by)
    others = "、".join(h.name for h in card.held_by if not (current_user.is_authenticated and h.account_id == current_user.id))
    days = card.service.quota is not None and card.service.quota.unit.value == "days"
    if you and others:
        text = (_("%(n)s days held by your application and %(names)s's.", n=card.in_progress, names=others) if days
                else _("%(n)s held by your application and %(names)s's.", n=card.in_progress, names=others))
    elif you:
        text = (_("%(n)s days held by your application in progress.", n=card.in_progress) if days
                else _("%(n)s held by your application in progress.", n=card.in_progress))
    else:
        text = (_("%(n)s days held by %(names)s's application in progress.", n=card.in_progress, names=others) if days
                else _("%(n)s held by %(names)s's application in progress.", n=card.in_progress, names=others))
    return text


def shared_names(card) -> str:
    """The names of the services spending the same uses as the card's, in the page's language."""
    lang = "en" if str(get_locale()).startswith("en") else "zh"
    names = [s.name.get(lang) for s in card.product.services if s.code in card.shares_with]
    return ", ".join(names) if lang == "en" else "、".join(names)


def policy_year_text(cards, policy) -> str:
    """'This policy year: 2026-03-01 – 2027-02-28', once per policy, from its first card counted per policy year;
    nothing when the policy year is the policy's whole term (a one-year policy: its dates already say it)."""
    card = next((c for c in cards if c.period_start and c.service.quota and c.service.quota.period.value == "policy_year"),
                None)
    if card is None or (card.period_start == policy.effective_date and card.resets_on is None):
        return ""
    return _("This policy year: %(start)s – %(end)s", start=card.period_start.isoformat(), end=card.period_last_day.isoformat())


def show_value(field, value) -> str:
    """A posted or stored form value as a person reads it: choices by label, dates and times per language."""
    if value is True:
        return _("Yes")
    if value is False:
        return _("No")
    if isinstance(value, (list, tuple)):
        return "、".join(show_value(field, v) for v in value)
    if not isinstance(value, str):
        return str(value)
    if field is not None and field.choices:
        return choice_label(field, value)
    kind = field.kind if field is not None else ("date" if re.fullmatch(r"\d{4}-\d{2}-\d{2}", value) else "")
    try:
        if kind in ("date", "dates"):
            return day(date.fromisoformat(value), with_year=True)
        if kind == "datetime" or re.fullmatch(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}.*", value):
            moment_value = datetime.fromisoformat(value)
            return moment(moment_value) if moment_value.tzinfo else value
    except ValueError:
        return value
    return value


def localise_params(params: dict) -> dict:
    """ISO dates and times inside a rule's message parameters, formatted per language."""
    return {k: show_value(None, v) if isinstance(v, str) else v for k, v in params.items()}


def asked_for(product, service, details: dict) -> list[tuple[str, str]]:
    """The booking's stored form values, labelled and formatted (for 'What you asked for')."""
    fields = {f.name: f for f in fields_for(product, service)}
    rows = []
    for key, value in details.items():
        if value in (None, "", [], False):
            continue
        field = fields.get(key)
        if field is None:
            continue  # internal keys (visit_type, doctor_certificate_needed …) are not form answers
        rows.append((translate(field.label), show_value(field, value)))
    return rows

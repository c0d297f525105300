"""Words for the staff console's applications: stages, reasons, field errors (English msgids, translated; refusals:
refusal_text.py)."""
from __future__ import annotations

from datetime import date

from flask_babel import format_date, get_locale

from ..i18n import N_
from ..i18n import gettext as translate  # for msgids held in variables (not extracted)
from ..i18n import translations
from ..services.desk import arrangements, staff_queue
from ..services.desk import contact_calls as calls

STAGES = {
    staff_queue.PAPERS: N_("Waiting for papers"),
    staff_queue.REVIEW: N_("To review"),
    staff_queue.ARRANGE: N_("To arrange"),
    staff_queue.CHOOSING: N_("Customer choosing an alternative"),
    staff_queue.VISIT: N_("Arranged, day not come"),
    staff_queue.CLOSE: N_("To close"),
}

# Eligibility: why not approved (services/desk/review.REJECT_REASONS); the customer reads these too.
ELIGIBILITY_REASONS = {
    "diagnosis_not_covered": N_("The diagnosis is not a critical illness this policy covers."),
    "diagnosed_before_policy": N_("The illness was first diagnosed before the policy started."),
    # 000 Q&A line 232: "犹豫期后不幸确诊或疑似罹患" (eligibility.first_diagnosis_reason, diagnosis_after cooling_off_end).
    "diagnosed_in_cooling_off": N_("The illness was first diagnosed during the policy's cooling-off period."),
    "hospital_grade": N_("The diagnosis is not from a public hospital of the required grade."),
    "waiting_period": N_("The illness was diagnosed during the waiting period."),
    "not_insured_person": N_("The papers are not the insured person's."),
    "outside_coverage": N_("The requested city or hospital is outside the service's coverage."),
    "papers_not_provided": N_("The papers needed were not provided."),
    "other": N_("Another reason (see the note)."),
}

DOCTOR_LEVELS = {
    "chief": N_("Chief physician"),
    "associate_chief": N_("Associate chief physician or above"),
    "attending": N_("Attending physician"),
}

DIAGNOSIS_STAGES = {
    "suspected": N_("Suspected (medical record)"),
    "confirmed": N_("Confirmed (pathology report)"),
}

CLOSINGS = {
    "completed": N_("Completed: the service was delivered (counts as used)"),
    "no_show": N_("No-show (counts as used)"),
    "late": N_("Late arrival (counts as used at or over the limit)"),
    "cancel": N_("Cancelled at the customer's request (the change rule decides whether it counts)"),
}

FIELD_ERRORS = {
    "arrange.required": N_("Required."),
    "arrange.too_long": N_("Too long."),
    "arrange.choice": N_("Choose one of the options."),
    "arrange.mobile": N_("Enter a mainland mobile number, 11 digits."),
    "arrange.date": N_("Enter the date, for example 2026-11-27."),
    "arrange.time": N_("Enter the time as HH:MM, for example 09:30."),
    "arrange.past": N_("The appointment must be in the future."),
    "arrange.too_far": N_("The appointment must be within a year."),
    "arrange.plate": N_("Enter the number plate, for example 沪A12345."),
    "arrange.days": N_("Enter a whole number of days, at least 1."),
    "arrange.days_over_booked": N_("More days than the customer booked."),
    "arrange.level_needed": N_("Give the doctor's level: this service promises a minimum level."),
    "arrange.level_below_associate_chief": N_("This service promises an associate chief physician or above."),
    "arrange.level_below_chief": N_("This service promises a chief physician."),
}


def eligibility_words(stored: str | None) -> str:
    """A refusal as stored ("reason: note") in words; anything else (older free text) as it is."""
    if not stored:
        return ""
    key, _sep, note = stored.partition(": ")
    if key not in ELIGIBILITY_REASONS:
        return stored
    text = translate(ELIGIBILITY_REASONS[key])
    return f"{text} {note}" if note else text


def due_words(due: staff_queue.Due | None) -> str:
    """'due Thu 27 Nov — 2 working days left' / 'due today' / 'overdue by 1 working day (due Wed 26 Nov)'."""
    if due is None:
        return ""
    when = weekday_day(due.day)
    if due.overdue:
        if due.late_by:
            return translations().ngettext("Overdue by %(num)s working day: was due %(date)s",
                                           "Overdue by %(num)s working days: was due %(date)s",
                                           due.late_by) % {"num": due.late_by, "date": when}
        return translate(N_("Overdue: was due %(date)s"), date=when)
    if due.left == 0:
        return translate(N_("Due today, %(date)s"), date=when)
    return translations().ngettext("Due %(date)s — %(num)s working day left", "Due %(date)s — %(num)s working days left",
                                   due.left) % {"num": due.left, "date": when}


def weekday_day(day: date) -> str:
    return format_date(day, "EEE d MMM") if _english() else format_date(day, "M月d日 EEE")


def _english() -> bool:
    return str(get_locale()).startswith("en")


def init_app(app) -> None:
    app.jinja_env.globals.update(eligibility_words=eligibility_words, doctor_levels=DOCTOR_LEVELS,
                                 arrangement_kind=arrangements.kind_of, arrangement_when=arrangements.when_key,
                                 when_labels=arrangements.WHEN_LABELS, aide_last_day=arrangements.aide_last_day)


# How a staff member's call went (staff/calls.py notes it; the insured's access log says it).
OUTCOME_NAMES = {
    "reached": N_("Reached"),
    "no_answer": N_("No answer"),
    "call_back": N_("Agreed to call back"),
}


def log_text(entry) -> str:
    """A reveal or a call, as the insured reads it in their access log: whose number, the outcome; never the note."""
    detail = entry.detail or {}
    if entry.action == calls.REVEAL:
        if calls.INSURED in (detail.get("whose") or ()):
            return translate(N_("looked at your mobile number to contact you"))
        return translate(N_("looked at the mobile number of the family member who applied, to contact them"))
    outcome = detail.get("outcome")
    if outcome in OUTCOME_NAMES:
        return translate(N_("phoned about your application (%(outcome)s)"), outcome=translate(OUTCOME_NAMES[outcome]))
    return translate(N_("phoned about your application"))

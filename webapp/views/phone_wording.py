"""Phone lines, the seed's promises and the desk's hours, in words (services/products/phones.py, services/calendar/desk_hours.py)."""
from __future__ import annotations

from datetime import time

from flask_babel import get_locale

from ..formatting import moment
from ..i18n import N_
from ..i18n import gettext as _
from ..i18n import gettext as translate  # for msgids held in variables (not extracted)
from ..services.calendar.desk_hours import desk_hours
from ..services.products.phones import line_groups, notes_to_tell, phone_lines, tel_href

PURPOSE_WORDS = {
    "apply": N_("applying"),
    "change_cancel": N_("changes and cancellations"),
    "urgent": N_("urgent questions"),
    "complaints": N_("complaints"),
}

DESK_DAYS = {
    "weekdays": N_("Monday to Friday, %(opens)s–%(closes)s, except public holidays"),
    "workdays": N_("working days, %(opens)s–%(closes)s"),
    "daily": N_("every day, %(opens)s–%(closes)s"),
}


def _english() -> bool:
    return str(get_locale()).startswith("en")


def purposes_text(purposes) -> str:
    """'Changes and cancellations, urgent questions, complaints' / '变更或取消、紧急咨询、投诉'; one line for all: 'Phone'."""
    if set(purposes) == set(PURPOSE_WORDS):
        return _("Phone")
    text = (", " if _english() else "、").join(translate(PURPOSE_WORDS[p]) for p in purposes)
    return text[:1].upper() + text[1:]


def _clock(value: time) -> str:
    return f"{value.hour}:{value.minute:02d}"


def desk_text(product, service, now, *, applied: bool = False) -> str:
    """'Service desk hours: …' and, while the desk is closed, when a person starts on the application: one sent now
    (the form), or the customer's own (a booking still waiting for review)."""
    desk = desk_hours(product.hours_for(service), now)
    days = translate(DESK_DAYS[desk.days]) % {"opens": _clock(desk.opens), "closes": _clock(desk.closes)}
    if desk.closed_for_spring_festival:
        days = _("%(hours)s; closed over the Spring Festival holiday", hours=days)
    days = days[:1].upper() + days[1:]
    text = _("Service desk hours: %(hours)s.", hours=days)
    if desk.open_now:
        return text
    if applied:
        then = _("The desk is closed now: a person will start on your application at %(moment)s.", moment=moment(desk.starts_at))
    else:
        then = _("The desk is closed now: if you send the application now, a person will start on it at %(moment)s.",
                 moment=moment(desk.starts_at))
    return text + (" " if _english() else "") + then


def init_app(app) -> None:
    app.jinja_env.globals.update(phone_lines=phone_lines, tel_href=tel_href, phone_groups=line_groups,
                                 purposes_text=purposes_text, notes_to_tell=notes_to_tell, desk_text=desk_text)

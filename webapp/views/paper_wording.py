"""Words for papers and photos: what state a paper or page is in, why staff sent a page back.

The checklist (services/papers/documents.py) returns keys; only here do they become sentences, in the reader's
language. Why a photo or a paper was refused is said by refusal_text.py.
"""
from __future__ import annotations

from ..i18n import N_
from ..i18n import gettext as translate  # for msgids held in variables (not extracted)

DOCUMENT_STATES = {
    "missing": N_("Missing"),
    "draft": N_("Not sent yet"),
    "received": N_("Received — being checked"),
    "unreadable": N_("Unreadable — please retake"),
    "rejected": N_("Not accepted — please send again"),
    "accepted": N_("Accepted"),
    "purged": N_("Deleted after the retention period"),
}

PAGE_STATES = {
    "draft": N_("Not sent yet"),
    "received": N_("Received"),
    "unreadable": N_("Unreadable — retake"),
    "rejected": N_("Not accepted"),
    "accepted": N_("Accepted"),
}

STAFF_REASONS = {
    "wrong_document": N_("This is not the paper asked for."),
    "incomplete": N_("Part of the page is missing or covered."),
    "not_hospital_grade": N_("It is not from a hospital of the required grade."),
    "name_mismatch": N_("The name on it does not match the insured person."),
    "expired": N_("It is out of date."),
    "other": N_("Please see the note."),
    "unreadable": N_("The page cannot be read."),
}


def page_reason(status_reason: str | None) -> str:
    """Staff's reason for sending a page back: the listed reason in the reader's language, then their note."""
    if not status_reason:
        return ""
    key, _sep, note = status_reason.partition(": ")
    text = translate(STAFF_REASONS[key]) if key in STAFF_REASONS else key
    return f"{text} {note}".strip() if note else text


def init_app(app) -> None:
    app.jinja_env.globals.update(document_states=DOCUMENT_STATES, page_states=PAGE_STATES, page_reason=page_reason)

"""Words for papers and photos: why a photo was refused, what state a paper is in, why staff sent a page back.

The photo checks (services/photos.py) and the checklist (services/documents.py) return keys; only here do
they become sentences, in the reader's language, each saying what to do next.
"""
from __future__ import annotations

from ..i18n import N_
from ..i18n import gettext as translate  # for msgids held in variables (not extracted)

REFUSALS = {
    # services/photos.py
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
    # services/documents.py and the views
    "document.no_file": N_("Please choose at least one photo."),
    "document.too_many_files": N_("Please send at most %(limit)s photos at a time."),
    "document.not_entitled": N_("You cannot add papers to this application."),
    "document.closed": N_("This application is closed, so papers can no longer be added."),
    "document.not_needed": N_("This application does not need that paper."),
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
    "document.sent": N_("%(n)s photo(s) sent for review. We will tell you here if any page needs retaking."),
    "document.removed": N_("The photo was removed."),
}

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


def paper_refusal(reason: str, params: dict | None = None, name: str | None = None) -> str:
    params = dict(params or {})
    if reason == "document.duplicate" and params.get("page"):
        reason = "document.duplicate_page"
    text = translate(REFUSALS[reason], **params) if reason in REFUSALS else translate(REFUSALS["photo.corrupt"])
    return translate(N_("%(name)s: %(text)s"), name=name, text=text) if name else text


def page_reason(status_reason: str | None) -> str:
    """Staff's reason for sending a page back: the listed reason in the reader's language, then their note."""
    if not status_reason:
        return ""
    key, _sep, note = status_reason.partition(": ")
    text = translate(STAFF_REASONS[key]) if key in STAFF_REASONS else key
    return f"{text} {note}".strip() if note else text


def init_app(app) -> None:
    from .wording import document_text

    app.jinja_env.filters["document_name"] = document_text
    app.jinja_env.globals.update(document_states=DOCUMENT_STATES, page_states=PAGE_STATES, page_reason=page_reason,
                                 paper_refusal=paper_refusal)

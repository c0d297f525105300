"""One refusal, one catalogue (issue 19 item 1): every key a service refuses with has its words, each reader gets
their variant, and `attempt` flashes what came of an action."""
from __future__ import annotations

import ast
from datetime import date
from pathlib import Path

import pytest
from flask import get_flashed_messages
from flask_babel import force_locale

from webapp.services.booking import bookings
from webapp.services.booking.booking_states import IllegalMove
from webapp.services.desk import review
from webapp.services.eligibility import Reason
from webapp.services.family import family
from webapp.services.papers import documents, photos
from webapp.services.refusals import Refused
from webapp.views.refusal_text import FAMILY, MESSAGES, REQUEST, STAFF, attempt, say

SERVICES = Path(__file__).resolve().parents[1] / "webapp" / "services"


def literal_keys() -> dict[str, str]:
    """Every key written as the first argument of a refusal class or of an eligibility Reason in services/."""
    refusal_classes = {"Refused", "Refusal", "DocumentRefused", "PhotoRefused", "DeskRefused", "ChangeRefused", "Reason"}
    keys = {}
    for path in SERVICES.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(node, ast.Call) or not node.args:
                continue
            name = node.func.id if isinstance(node.func, ast.Name) else getattr(node.func, "attr", None)
            first = node.args[0]
            if name in refusal_classes and isinstance(first, ast.Constant) and isinstance(first.value, str):
                keys[first.value] = path.name
    return keys


def test_every_key_a_service_refuses_with_has_words():
    keys = literal_keys()
    assert len(keys) > 100, "the scan found the services' refusals"
    # service.information_only is never said: such a service has no form to apply on, and its card drops the reason.
    assert {k: where for k, where in keys.items() if k not in MESSAGES} == {"service.information_only": "eligibility.py"}


def test_every_refusal_class_is_a_refused_with_one_key():
    for refused in (family.Refused("access.self"), documents.DocumentRefused("document.closed"),
                    photos.PhotoRefused("photo.too_large", max_mb=15), review.Refused("desk.role"),
                    bookings.ChangeRefused("change.not_free"), bookings.StaleBooking(7), IllegalMove("applied", "completed", "customer")):
        assert isinstance(refused, Refused) and refused.key in MESSAGES
    assert isinstance(photos.PhotoRefused("photo.empty"), ValueError)  # callers that catch ValueError still do


def test_each_reader_gets_their_words(app):
    with app.test_request_context("/"), force_locale("en"):
        closed = documents.DocumentRefused("document.closed")
        assert say(closed) == "This application is closed, so papers can no longer be added."
        assert say(closed, about=REQUEST) == "This request is no longer open, so its papers cannot be changed."
        assert say(closed, reader=STAFF).startswith("This application is closed, so its pages cannot be decided.")
        assert say(closed, reader=STAFF, about=REQUEST).startswith("This request is no longer waiting for staff")
        assert say(closed, reader=FAMILY) == say(closed)  # a family member reads the customer's words
        assert say("no.such.key") == "This could not be done just now. Nothing was changed."
        assert say("no.such.key", reader=STAFF) == "That could not be done. Nothing was changed."
        assert say(bookings.StaleBooking(1)).startswith("This booking changed in the meantime")
        assert say(bookings.StaleBooking(1), reader=STAFF).startswith("Someone else changed this application")


def test_params_are_worded(app):
    with app.test_request_context("/"), force_locale("en"):
        assert "30 Apr 2027" in say(family.Refused("access.until", last=date(2027, 5, 1)))  # the last day allowed
        assert say(family.Refused("access.until", last=None)) == "The last day must be after today."
        assert "2030" in say(family.Refused("access.is_minor", adult_on=date(2030, 1, 2)))
        assert say(documents.DocumentRefused("document.duplicate", page=2)).endswith("as page 2.")
        assert say(photos.PhotoRefused("photo.too_large", max_mb=15), name="a.jpg") == (
            "a.jpg: This photo is larger than 15 MB. Please choose a smaller one.")
        proof = family.Refused("access.proofs_not_ready", kind="applicant_id")
        assert "ID card of the family member asking" in say(proof, reader=STAFF)
        assert "calendar" not in say(Refused("calendar.package_year", year=2026), reader=STAFF) and "2026" in say(
            Refused("calendar.package_year", year=2026), reader=STAFF)


def test_an_eligibility_reason_says_when_it_ends(app):
    with app.test_request_context("/"), force_locale("en"):
        assert say(Reason("quota.used_up", until=date(2027, 3, 1))) == (
            "All uses for this period are used up. Uses renew on Mon 1 Mar 2027.")
        assert say(Reason("quota.not_enough", params={"remaining": 3})) == "Not enough left for this request. 3 days left."
    with app.test_request_context("/", headers={"Accept-Language": "zh-CN"}):
        text = say(Reason("quota.used_up", until=date(2027, 3, 1)))
        assert text.startswith("本期服务次数已用完。2027") and "%(" not in text  # Chinese sentences run on, no space


@pytest.mark.parametrize("refuse", [False, True])
def test_attempt_flashes_the_outcome(app, refuse):
    def act(n, *, by):
        if refuse:
            raise review.Refused("review.not_in_review")
        return n * by

    with app.test_request_context("/"), force_locale("en"):
        done = attempt(act, 2, by=3, done=lambda result: f"done {result}", reader=STAFF)
        flashed = get_flashed_messages(with_categories=True)
    if refuse:
        assert done is False and flashed == [("error", "This application is no longer waiting for review. Nothing was changed.")]
    else:
        assert done is True and flashed == [("info", "done 6")]

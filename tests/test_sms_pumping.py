"""SMS pumping (issue 17 item 4): a botnet asking for codes to thousands of numbers.

Daily budgets (all texts, and per block of numbers: the first 7 digits) refuse and raise an alarm; before a code
goes to a number this device has not signed in with, a person answers a question rendered by the server (no
JavaScript, no third-party script: it works inside WeChat). Written as the attack.
"""
from __future__ import annotations

import logging
import re
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from webapp.models import AuditEvent, HumanCheck, SignInCode
from webapp.services.accounts import sms_budget
from webapp.services.accounts.human_check import read_number

from .conftest import build_demo
from .web_helpers import (
    ADULT, NOW, OTHER, CapturingSender, csrf_from, demo_code, fresh, human_answer, set_clock, sign_in, text_of,
    use_english,
)


@pytest.fixture()
def world(app, session):
    build_demo(session, NOW)
    set_clock(app, NOW)
    CapturingSender.sent.clear()
    app.config.update(SMS_BACKEND="tests.web_helpers:CapturingSender")
    return session


def english_client(app):
    client = app.test_client()
    use_english(client)
    return client


def ask(client, mobile, *, answer=True, ip="10.1.0.1", extra=None):
    """Open the sign-in page and post `mobile` (with the right answer to the page's question, unless told not to)."""
    page = client.get("/sign-in").get_data(as_text=True)
    form = {"csrf_token": csrf_from(page), "mobile": mobile, **(human_answer(page) if answer else {}), **(extra or {})}
    return client.post("/sign-in", data=form, environ_base={"REMOTE_ADDR": ip})


def main_text(response) -> str:
    html = response.get_data(as_text=True)
    return text_of(html[html.index("<main"):html.index("</main>")])


def codes_stored(session) -> int:
    return fresh(session).scalar(select(func.count()).select_from(SignInCode))


# ------------------------------------------------------------------------------------------------ budgets

def test_the_daily_sms_budget_refuses_and_alerts(app, session, world, caplog):
    """A botnet spread over many IPs and number blocks, each request under every hourly limit: the global budget
    stops the texts and raises the alarm once (an audit event and an ERROR line operations alert on)."""
    app.config["SMS_DAILY_BUDGET"] = 3
    caplog.set_level(logging.WARNING, logger="lvtong.security")
    for n in range(3):
        sent = ask(english_client(app), f"13{n}00001234", ip=f"10.1.1.{n}")
        assert demo_code(sent.get_data(as_text=True))
    refused = ask(english_client(app), "13900001234", ip="10.1.1.9")
    assert refused.status_code == 200 and demo_code(refused.get_data(as_text=True)) is None
    assert "We cannot send codes just now" in main_text(refused)
    assert "We have sent a code" not in main_text(refused)
    assert len(CapturingSender.sent) == 3 and codes_stored(session) == 3
    alarm = fresh(session).scalar(select(AuditEvent).where(AuditEvent.action == "sms.budget_reached"))
    assert alarm.ip == "10.1.1.9" and alarm.detail == {"scope": "global", "prefix": None, "limit": 3,
                                                        "window_hours": 24, "purpose": "code"}
    errors = [r for r in caplog.records if r.name == "lvtong.security" and r.levelno == logging.ERROR]
    assert len(errors) == 1 and "SMS budget reached" in errors[0].getMessage()
    # The alarm is not repeated for every refusal within the hour: a WARNING line each instead.
    assert ask(english_client(app), "13900005678", ip="10.1.1.8").status_code == 200
    assert len(fresh(session).scalars(select(AuditEvent).where(AuditEvent.action == "sms.budget_reached")).all()) == 1
    assert [r.levelno for r in caplog.records if r.name == "lvtong.security"] == [logging.ERROR, logging.WARNING]
    # The budget is over 24 hours: a day later texts go again.
    set_clock(app, NOW + timedelta(hours=24, seconds=1))
    assert demo_code(ask(english_client(app), "13900005678").get_data(as_text=True))


def test_a_block_of_numbers_has_its_own_budget(app, session, world, caplog):
    """Pumping walks through a block (1391234xxxx): its budget (first 7 digits) stops it and alarms, while the rest
    of the country still gets codes."""
    assert sms_budget.PREFIX_DIGITS == 7
    app.config["SMS_PREFIX_DAILY_BUDGET"] = 2
    caplog.set_level(logging.WARNING, logger="lvtong.security")
    for n in range(2):
        assert demo_code(ask(english_client(app), f"1391234000{n}", ip=f"10.1.2.{n}").get_data(as_text=True))
    refused = ask(english_client(app), "13912340009", ip="10.1.2.9")
    assert "We cannot send codes just now" in main_text(refused) and demo_code(refused.get_data(as_text=True)) is None
    alarm = fresh(session).scalar(select(AuditEvent).where(AuditEvent.action == "sms.budget_reached"))
    assert alarm.detail["scope"] == "prefix" and alarm.detail["prefix"] == "1391234"
    assert any("prefix 1391234" in r.getMessage() for r in caplog.records if r.levelno == logging.ERROR)
    assert demo_code(ask(english_client(app), "13912350000", ip="10.1.2.9").get_data(as_text=True))


def test_the_owners_guess_alert_counts_against_the_budget(app, session, world):
    """The "someone is guessing your number" text is a text too: it is not sent once the budget is used up."""
    app.config["SMS_DAILY_BUDGET"] = 1
    owner = english_client(app)
    code = demo_code(ask(owner, ADULT).get_data(as_text=True))
    stranger = app.test_client()
    page = stranger.get("/sign-in").get_data(as_text=True)
    wrong = "000000" if code != "000000" else "111111"
    stranger.post("/sign-in/verify", data={"csrf_token": csrf_from(page), "mobile": ADULT, "code": wrong},
                  environ_base={"REMOTE_ADDR": "10.1.3.1"})
    assert len(CapturingSender.sent) == 1  # the code only
    assert fresh(session).scalar(select(AuditEvent).where(AuditEvent.action == "signin.owner_alerted")) is None


# ------------------------------------------------------------------------------------------------ the question

def test_a_new_device_answers_a_question_before_a_code_is_sent(app, session, world):
    client = english_client(app)
    page = client.get("/sign-in").get_data(as_text=True)
    check = re.search(r'data-testid="human-check">\s*<label for="human_answer">([^<]+)</label>', page)
    assert check and re.fullmatch(r"So we know a person is asking: what is \d plus \d\?", check.group(1))
    assert "<script" not in page.split('data-testid="human-check"')[1].split("</form>")[0]
    skipped = ask(client, ADULT, answer=False)
    assert skipped.status_code == 422
    assert "please answer the question below" in main_text(skipped)
    html = skipped.get_data(as_text=True)
    assert 'data-testid="human-check"' in html and f'value="{ADULT}"' in html  # the number typed is kept
    assert CapturingSender.sent == [] and codes_stored(session) == 0


def test_a_wrong_answer_says_so_keeps_the_number_and_sends_nothing(app, session, world):
    client = english_client(app)
    page = client.get("/sign-in").get_data(as_text=True)
    wrong = str(int(human_answer(page)["human_answer"]) + 1)
    response = client.post("/sign-in", data={"csrf_token": csrf_from(page), "mobile": "138 0000 0001",
                                             "human_answer": wrong})
    assert response.status_code == 422
    assert "That answer is not right. Please answer the new question below." in main_text(response)
    html = response.get_data(as_text=True)
    assert 'value="138 0000 0001"' in html and 'aria-describedby="human-answer-error"' in html
    assert CapturingSender.sent == [] and codes_stored(session) == 0
    again = client.post("/sign-in", data={"csrf_token": csrf_from(html), "mobile": "138 0000 0001", **human_answer(html)})
    assert again.status_code == 200 and demo_code(again.get_data(as_text=True))  # the new question answered


def test_a_question_answers_once(app, session, world):
    """Replaying a session cookie with its answered question: the question was spent by the first answer."""
    client = app.test_client()
    page = client.get("/sign-in").get_data(as_text=True)
    answer = human_answer(page)
    cookie = client.get_cookie("session").value
    first = client.post("/sign-in", data={"csrf_token": csrf_from(page), "mobile": "13911110001", **answer})
    assert demo_code(first.get_data(as_text=True))
    replay = app.test_client()
    replay.set_cookie("session", cookie)
    second = replay.post("/sign-in", data={"csrf_token": csrf_from(page), "mobile": "13911110002", **answer})
    assert second.status_code == 422 and demo_code(second.get_data(as_text=True)) is None
    assert [mobile for mobile, _ in CapturingSender.sent] == ["13911110001"]
    assert fresh(session).scalar(select(func.count()).select_from(HumanCheck).where(HumanCheck.used_at.is_(None))) == 1


def test_a_question_expires_after_ten_minutes(app, session, world):
    client = app.test_client()
    page = client.get("/sign-in").get_data(as_text=True)
    set_clock(app, NOW + timedelta(minutes=10))
    late = client.post("/sign-in", data={"csrf_token": csrf_from(page), "mobile": ADULT, **human_answer(page)})
    assert late.status_code == 422 and codes_stored(session) == 0


def test_send_a_new_code_needs_no_second_question(app, session, world):
    """The code page's "Send a new code" posts the same number again: the question answered for it still holds in
    this session (the hourly limits for the number apply as ever)."""
    client = app.test_client()
    assert demo_code(ask(client, ADULT).get_data(as_text=True))
    set_clock(app, NOW + timedelta(seconds=61))
    code_page = client.post("/sign-in", data={"csrf_token": csrf_from(client.get("/sign-in").get_data(as_text=True)),
                                              "mobile": ADULT})
    assert demo_code(code_page.get_data(as_text=True))
    other = client.post("/sign-in", data={"csrf_token": csrf_from(code_page.get_data(as_text=True)), "mobile": OTHER})
    assert other.status_code == 422 and codes_stored(session) == 2  # another number needs its own answer


def test_a_phone_that_signed_in_before_is_not_asked_for_that_number(app, session, world):
    client = app.test_client()
    landed = sign_in(client, ADULT)
    seen = [c for c in landed.headers.get_all("Set-Cookie") if c.startswith("seen=")]
    assert len(seen) == 1 and ADULT not in seen[0] and ADULT[-4:] not in seen[0].split(";")[0]
    flags = [p.strip().lower() for p in seen[0].split(";")]
    assert "httponly" in flags and "samesite=lax" in flags and "path=/" in flags
    assert any(p.startswith("max-age=") and int(p.split("=")[1]) >= 300 * 24 * 3600 for p in flags)
    client.post("/sign-out", data={"csrf_token": csrf_from(client.get("/home").get_data(as_text=True))})
    set_clock(app, NOW + timedelta(days=20))
    page = client.get("/sign-in").get_data(as_text=True)
    assert 'data-testid="human-check"' not in page
    sent = client.post("/sign-in", data={"csrf_token": csrf_from(page), "mobile": ADULT})
    assert demo_code(sent.get_data(as_text=True))
    # Another number from the same phone is asked, with the number kept.
    other = client.post("/sign-in", data={"csrf_token": csrf_from(page), "mobile": OTHER})
    assert other.status_code == 422 and 'data-testid="human-check"' in other.get_data(as_text=True)
    assert f'value="{OTHER}"' in other.get_data(as_text=True)


def test_a_forged_or_copied_seen_cookie_does_not_skip_the_question(app, session, world):
    owner = app.test_client()
    sign_in(owner, ADULT)
    copied = owner.get_cookie("seen").value
    attacker = app.test_client()
    attacker.set_cookie("seen", copied[:-2] + ("AA" if not copied.endswith("AA") else "BB"))  # tampered
    page = attacker.get("/sign-in").get_data(as_text=True)
    assert 'data-testid="human-check"' in page
    attacker.set_cookie("seen", copied)  # genuine, but it vouches only for the owner's number
    refused = attacker.post("/sign-in", data={"csrf_token": csrf_from(page), "mobile": "13911110003"})
    assert refused.status_code == 422 and "13911110003" not in [m for m, _ in CapturingSender.sent]


def test_confirming_a_sign_in_asks_no_question(app, session, world):
    """A signed-in person asked for a fresh code (ID papers) is already known: no question."""
    client = app.test_client()
    sign_in(client, ADULT)
    client.delete_cookie("seen")
    set_clock(app, NOW + timedelta(minutes=20))
    page = client.get("/sign-in?again=1&next=/home").get_data(as_text=True)
    assert 'data-testid="human-check"' not in page
    sent = client.post("/sign-in", data={"csrf_token": csrf_from(page), "mobile": ADULT, "again": "1", "next": "/home"})
    assert demo_code(sent.get_data(as_text=True))


@pytest.mark.parametrize("typed, number", [
    ("12", 12), (" 7 ", 7), ("１２", 12), ("十二", 12), ("十", 10), ("九", 9), ("一十八", 18), ("", None), ("abc", None),
    ("1" * 20, None), ("十十", None), ("-3", None), ("3.0", None),
])
def test_answers_are_read_as_a_person_types_them(typed, number):
    """Old customers type on whatever keyboard they have: ASCII or full-width digits, or Chinese numerals."""
    assert read_number(typed) == number


def test_nonsense_answers_are_refused_with_a_message_not_an_error(app, session, world):
    client = english_client(app)
    for junk in ("\x00", "9" * 10_000, "\u202e12", "１" * 300):
        page = client.get("/sign-in").get_data(as_text=True)
        response = client.post("/sign-in", data={"csrf_token": csrf_from(page), "mobile": ADULT, "human_answer": junk})
        text = main_text(response)  # (a NUL alone may be stripped before the view sees it: then it was no answer)
        assert response.status_code == 422 and ("That answer is not right" in text or "answer the question below" in text)
        assert 'data-testid="human-check"' in response.get_data(as_text=True)
    assert codes_stored(session) == 0

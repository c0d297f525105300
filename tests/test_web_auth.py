"""Sign-in through the web, like a browser with CSRF on (SECURITY.md, "Sessions and login").

Codes: 6 digits, valid 5 minutes, single use, stored only as an HMAC, guesses limited per code, number and IP,
requests limited per number and IP; an unknown number sees the same page as a known one. Sessions: a new
session at login, a cookie copied before sign-out is useless after it, disabling an account ends its logins;
cookie flags. Binding an account to its insured person. Safe deep links. Audit without codes.
"""
from __future__ import annotations

import json
import re
import secrets
import threading
from datetime import date, timedelta
from types import SimpleNamespace
from urllib.parse import quote

import pytest
from sqlalchemy import select

from webapp import create_app
from webapp.config import from_environment
from webapp.models import Account, AuditEvent, LoginSession, Person, Policy, Product, RateHit, SignInCode
from webapp.services.accounts import signin
from webapp.services.accounts.identity import demo_resident_id
from webapp.services.policy_years import anniversary
from webapp.sms import LogSender, sender_for

from .conftest import PRODUCTION_ID_KEYS, build_demo
from .web_helpers import (
    ADULT, NOW, OTHER, PARENT, CapturingSender, booking_of, counts, csrf_from, csrf_token, demo_code, fresh, human_answer,
    set_clock, sign_in, text_of, use_english,
)

UNKNOWN = "13912345678"


@pytest.fixture()
def world(app, session):
    build_demo(session, NOW)
    set_clock(app, NOW)
    return session


def code_page(client, mobile, ip="10.0.0.1"):
    """POST the number from `ip`, answering the page's question for a person if it asks one; returns (response,
    html, code shown or None)."""
    page = client.get("/sign-in", follow_redirects=True).get_data(as_text=True)
    response = client.post("/sign-in", data={"csrf_token": csrf_from(page), "mobile": mobile, **human_answer(page)},
                           environ_base={"REMOTE_ADDR": ip})
    html = response.get_data(as_text=True)
    return response, html, demo_code(html)


def verify(client, mobile, code, ip="10.0.0.1", next=None):
    form = {"csrf_token": csrf_token(client), "mobile": mobile, "code": code}
    if next is not None:
        form["next"] = next
    return client.post("/sign-in/verify", data=form, environ_base={"REMOTE_ADDR": ip})


def main_text(response) -> str:
    html = response.get_data(as_text=True)
    return text_of(html[html.index('<main'):html.index('</main>')])


def signed_in(client) -> bool:
    response = client.get("/home")
    return response.status_code == 200


def english(client):
    use_english(client)
    return client


# ------------------------------------------------------------------------------------------------ codes

def test_the_code_is_six_digits_and_signs_in(app, client, world):
    response, html, code = code_page(english(client), ADULT)
    assert response.status_code == 200 and re.fullmatch(r"\d{6}", code)
    assert "We have sent a code to 138****0001" in main_text(response)
    done = verify(client, ADULT, code)
    assert done.status_code == 302 and done.headers["Location"] == "/home"
    assert signed_in(client)


def test_a_code_expires_after_five_minutes(app, client, world):
    english(client)
    _, _, code = code_page(client, ADULT)
    set_clock(app, NOW + timedelta(minutes=5))  # expires_at is exclusive: at 5:00 it is dead
    refused = verify(client, ADULT, code)
    assert refused.status_code == 422
    assert "That code has expired or was already used" in main_text(refused)
    assert not signed_in(client)


def test_a_code_still_works_just_before_five_minutes(app, client, world):
    _, _, code = code_page(client, ADULT)
    set_clock(app, NOW + timedelta(minutes=4, seconds=59))
    assert verify(client, ADULT, code).status_code == 302 and signed_in(client)


def test_a_code_is_single_use(app, client, world):
    _, _, code = code_page(client, ADULT)
    assert verify(client, ADULT, code).status_code == 302
    replay_client = app.test_client()
    english(replay_client)
    replay = verify(replay_client, ADULT, code)
    assert replay.status_code == 422 and "expired or was already used" in main_text(replay)
    assert not signed_in(replay_client)


def test_only_the_newest_code_works(app, client, world, monkeypatch):
    draws = iter([111111, 222222])
    monkeypatch.setattr(signin, "secrets", SimpleNamespace(randbelow=lambda n: next(draws),
                                                           token_urlsafe=secrets.token_urlsafe))
    _, _, first = code_page(client, ADULT)
    set_clock(app, NOW + timedelta(seconds=61))
    _, _, second = code_page(client, ADULT)
    assert (first, second) == ("111111", "222222")
    assert verify(client, ADULT, first).status_code == 422
    assert verify(client, ADULT, second).status_code == 302


def test_codes_are_stored_only_as_a_hash(app, client, session, world):
    _, _, code = code_page(client, ADULT)
    rows = fresh(session).scalars(select(SignInCode)).all()
    assert len(rows) == 1
    row = rows[0]
    assert re.fullmatch(r"[0-9a-f]{64}", row.code_hash) and code not in row.code_hash
    for column in SignInCode.__table__.columns:
        assert code not in str(getattr(row, column.key)), column.key


def test_wrong_guesses_kill_the_code_after_five(app, client, world):
    english(client)
    _, _, code = code_page(client, ADULT)
    wrong = "000000" if code != "000000" else "111111"
    for _ in range(5):
        response = verify(client, ADULT, wrong)
        assert response.status_code == 422 and "That code is not right" in main_text(response)
    dead = verify(client, ADULT, code)
    assert dead.status_code == 422 and "expired or was already used" in main_text(dead)
    assert not signed_in(client)


def test_four_wrong_guesses_leave_the_code_usable(app, client, world):
    _, _, code = code_page(client, ADULT)
    wrong = "000000" if code != "000000" else "111111"
    for _ in range(4):
        assert verify(client, ADULT, wrong).status_code == 422
    assert verify(client, ADULT, code).status_code == 302 and signed_in(client)


def test_malformed_codes_count_as_wrong_guesses(app, client, session, world):
    _, _, code = code_page(client, ADULT)
    for guess in ("", "12345", "1234567", "abcdef", f" {code}x"):
        assert verify(client, ADULT, guess).status_code == 422
    assert fresh(session).scalar(select(SignInCode)).attempts == 5
    assert verify(client, ADULT, code).status_code == 422  # five guesses spent


def test_a_strangers_ten_guesses_then_the_owner_signs_in_at_once(app, session, world):
    """Issue 17 item 1, the attack as found: ten wrong codes at a number that has no code. Guesses with nothing to
    guess count against the guessing IP only, so the owner asks for a code and signs in at once."""
    stranger = english(app.test_client())
    for n in range(10):
        refused = verify(stranger, ADULT, f"{n:06d}", ip="10.0.9.1")
        assert refused.status_code == 422 and "expired or was already used" in main_text(refused)
    buckets = {hit.bucket for hit in fresh(session).scalars(select(RateHit))}
    assert buckets == {"verify-ip:10.0.9.1"}  # nothing counted against the number
    owner = app.test_client()
    _, _, code = code_page(owner, ADULT, ip="10.0.9.2")
    assert verify(owner, ADULT, code, ip="10.0.9.2").status_code == 302 and signed_in(owner)


def test_a_strangers_ten_guesses_at_a_live_code_then_the_owner_signs_in_at_once(app, session, world):
    """While the owner's code is live: a stranger's five wrong guesses kill it (CODE_GUESSES), the next five find
    nothing to guess, and from then on that IP is not heard at this number for the hour. The owner is texted once
    that someone is guessing, asks for a new code and signs in with it at once."""
    CapturingSender.sent.clear()
    app.config.update(SMS_BACKEND="tests.web_helpers:CapturingSender")
    owner, stranger = english(app.test_client()), english(app.test_client())
    _, _, first = code_page(owner, ADULT, ip="10.0.9.2")
    wrong = "000000" if first != "000000" else "111111"
    answers = [main_text(verify(stranger, ADULT, wrong, ip="10.0.9.1")) for _ in range(10)]
    assert all("That code is not right" in text for text in answers[:5])
    assert all("expired or was already used" in text for text in answers[5:])
    assert "expired or was already used" in main_text(verify(owner, ADULT, first, ip="10.0.9.2"))
    set_clock(app, NOW + timedelta(seconds=61))
    _, _, second = code_page(owner, ADULT, ip="10.0.9.2")
    assert second is not None  # the stranger's guesses used none of the owner's allowance
    unheard = verify(stranger, ADULT, second, ip="10.0.9.1")  # even the right code, from the guessing IP
    assert unheard.status_code == 422 and "Too many attempts" in main_text(unheard)
    assert verify(owner, ADULT, second, ip="10.0.9.2").status_code == 302 and signed_in(owner)
    texts = [text for mobile, text in CapturingSender.sent if mobile == ADULT]
    alerts = [text for text in texts if not re.search(r"\d{6}", text)]
    assert len(texts) == 3 and len(alerts) == 1  # two codes and one alert, not one per guess
    events = fresh(session).scalars(select(AuditEvent).where(AuditEvent.action == "signin.owner_alerted")).all()
    assert [(e.ip, e.detail) for e in events] == [("10.0.9.1", {"mobile_tail": "0001"})]


def test_a_number_guessed_at_from_three_places_hears_only_its_owner(app, session, world):
    """The number-wide block: VERIFY_LIMITS["mobile"] wrong guesses in an hour from BLOCK_SOURCES IPs or more. Then
    strangers are refused unheard, even holding the right code, and the code is not touched; the session that asked
    for the live code signs in with it."""
    assert (signin.VERIFY_LIMITS["mobile"].count, signin.BLOCK_SOURCES, signin.CODE_GUESSES) == (10, 3, 5)
    owner, stranger = english(app.test_client()), english(app.test_client())
    clock = NOW
    for round_ in range(2):  # two of the owner's codes killed, five wrong guesses each, from three IPs
        _, _, code = code_page(owner, ADULT, ip="10.0.1.100")
        wrong = "000000" if code != "000000" else "111111"
        for n in range(5):
            assert verify(stranger, ADULT, wrong, ip=f"10.0.1.{(5 * round_ + n) % 3}").status_code == 422
        clock += timedelta(seconds=61)
        set_clock(app, clock)
    _, _, code = code_page(owner, ADULT, ip="10.0.1.100")
    unheard = verify(stranger, ADULT, code, ip="10.0.1.50")  # a fourth IP, with the right code
    assert unheard.status_code == 422 and "Too many attempts" in main_text(unheard)
    limited = fresh(session).scalar(select(AuditEvent).where(AuditEvent.action == "signin.verify_limited"))
    assert limited.ip == "10.0.1.50" and limited.detail == {"mobile_tail": "0001", "rule": "number"}
    live = fresh(session).scalars(select(SignInCode).order_by(SignInCode.id.desc())).first()
    assert live.attempts == 0 and live.used_at is None
    assert verify(owner, ADULT, code, ip="10.0.1.100").status_code == 302 and signed_in(owner)


def test_two_guessing_ips_do_not_block_the_number(app, session, world):
    """One or two sources are held by their own limits (five wrong guesses each an hour at one number); a third IP
    with nothing against it is still heard."""
    owner, stranger = app.test_client(), app.test_client()
    clock = NOW
    for ip in ("10.0.1.1", "10.0.1.2"):
        _, _, code = code_page(owner, ADULT, ip="10.0.1.100")
        for _ in range(5):
            assert verify(stranger, ADULT, "000000" if code != "000000" else "111111", ip=ip).status_code == 422
        clock += timedelta(seconds=61)
        set_clock(app, clock)
    helper = app.test_client()  # the owner's daughter, on her phone, with the code the owner reads out
    _, _, code = code_page(owner, ADULT, ip="10.0.1.100")
    assert verify(helper, ADULT, code, ip="10.0.1.3").status_code == 302


def test_strangers_asking_for_codes_leave_the_owners_phone_its_own_allowance(app, session, world):
    """REQUEST_LIMITS["mobile"] (5 an hour) is kept apart for a phone that signed in with the number before, so
    strangers asking for codes to the number cannot stop the owner asking."""
    owner = app.test_client()
    sign_in(owner, ADULT)
    owner.post("/sign-out", data={"csrf_token": csrf_from(owner.get("/home").get_data(as_text=True))})
    for n in range(4):  # the owner's first sign-in, from a phone new to the number, used the fifth
        set_clock(app, NOW + timedelta(seconds=61 * (n + 1)))
        assert code_page(app.test_client(), ADULT, ip=f"10.0.3.{n}")[2] is not None
    set_clock(app, NOW + timedelta(seconds=61 * 6))
    assert code_page(app.test_client(), ADULT, ip="10.0.3.9")[2] is None  # the number's allowance is used up
    page = owner.get("/sign-in").get_data(as_text=True)
    assert 'data-testid="human-check"' not in page  # a known phone is not asked
    response, _, code = code_page(owner, ADULT, ip="10.0.3.100")
    assert code is not None and verify(owner, ADULT, code, ip="10.0.3.100").status_code == 302


def test_guessing_is_limited_per_ip_across_numbers(app, client, session, world):
    """VERIFY_LIMITS["ip"]: 50 guesses an hour from one IP, spread over numbers. The IP is then refused unheard,
    except for the session that asked for the live code (an owner behind the same carrier-grade NAT)."""
    assert signin.VERIFY_LIMITS["ip"].count == 50
    english(client)
    for n in range(5):
        for _ in range(10):
            assert verify(client, f"1391111000{n}", "123456", ip="10.0.2.1").status_code == 422
    owner = app.test_client()
    _, _, code = code_page(owner, ADULT, ip="10.0.2.1")
    blocked = verify(client, ADULT, code, ip="10.0.2.1")
    assert blocked.status_code == 422 and "Too many attempts" in main_text(blocked)
    assert verify(owner, ADULT, code, ip="10.0.2.1").status_code == 302  # the code was not spent by the refusal


def test_asking_again_within_a_minute_says_wait(app, client, session, world):
    english(client)
    _, _, first = code_page(client, ADULT)
    set_clock(app, NOW + timedelta(seconds=30))
    response, html, again = code_page(client, ADULT)
    assert response.status_code == 200 and again is None
    assert "Please wait 31 seconds before asking again" in main_text(response)
    assert "We have sent a code" not in main_text(response)
    assert len(fresh(session).scalars(select(SignInCode)).all()) == 1
    assert verify(client, ADULT, first).status_code == 302  # the first code still works


def test_a_new_code_after_sixty_seconds(app, client, session, world):
    code_page(client, ADULT)
    set_clock(app, NOW + timedelta(seconds=60))
    _, _, again = code_page(client, ADULT)
    assert again is not None and len(fresh(session).scalars(select(SignInCode)).all()) == 2


def test_more_than_five_codes_an_hour_per_number_are_refused(app, client, session, world):
    assert signin.REQUEST_LIMITS["mobile"].count == 5
    english(client)
    for n in range(5):
        set_clock(app, NOW + timedelta(minutes=2 * n))
        _, _, code = code_page(client, ADULT, ip=f"10.0.3.{n}")
        assert code is not None
    set_clock(app, NOW + timedelta(minutes=10))
    response, _, code = code_page(client, ADULT, ip="10.0.3.9")
    assert code is None and "Too many attempts" in main_text(response)
    assert len(fresh(session).scalars(select(SignInCode)).all()) == 5
    limited = fresh(session).scalar(select(AuditEvent).where(AuditEvent.action == "signin.code_limited"))
    assert limited.ip == "10.0.3.9" and limited.detail == {"mobile_tail": "0001"}
    # The first request leaves the one-hour window after an hour.
    set_clock(app, NOW + timedelta(hours=1, seconds=1))
    assert code_page(client, ADULT, ip="10.0.3.9")[2] is not None


def test_more_than_twenty_codes_an_hour_per_ip_are_refused(app, client, session, world):
    assert signin.REQUEST_LIMITS["ip"].count == 20
    english(client)
    for n in range(20):
        assert code_page(client, f"139222200{n:02d}", ip="10.0.4.1")[2] is not None
    response, _, code = code_page(client, ADULT, ip="10.0.4.1")
    assert code is None and "Too many attempts" in main_text(response)
    assert code_page(client, ADULT, ip="10.0.4.2")[2] is not None  # another IP, the same number: fine


def test_an_invalid_number_is_refused_with_a_message(app, client, world):
    english(client)
    response, html, code = code_page(client, "12345")
    assert response.status_code == 422 and code is None
    assert "Please enter an 11-digit mainland China mobile number" in main_text(response)


def _normalised(html: str, mobile: str, code: str | None) -> str:
    html = re.sub(r'name="csrf_token" value="[^"]+"', 'name="csrf_token" value="T"', html)
    html = re.sub(r'"X-CSRFToken": "[^"]+"', '"X-CSRFToken": "T"', html)
    html = html.replace(mobile, "MOBILE").replace(mobile[:3] + "****" + mobile[-4:], "MASKED")
    return html.replace(code, "CODE") if code else html


def test_an_unknown_number_sees_the_same_page_as_a_known_one(app, session, world):
    before = counts(session)["sign_in_codes"]
    known, unknown = app.test_client(), app.test_client()
    k_response, k_html, k_code = code_page(known, ADULT)
    u_response, u_html, u_code = code_page(unknown, UNKNOWN)
    assert k_response.status_code == u_response.status_code == 200
    assert _normalised(k_html, ADULT, k_code) == _normalised(u_html, UNKNOWN, u_code)
    assert counts(session)["sign_in_codes"] == before + 2
    # A wrong code reads the same too.
    k_wrong, u_wrong = verify(known, ADULT, "000000"), verify(unknown, UNKNOWN, "000000")
    assert k_wrong.status_code == u_wrong.status_code == 422
    assert (_normalised(k_wrong.get_data(as_text=True), ADULT, None)
            == _normalised(u_wrong.get_data(as_text=True), UNKNOWN, None))


def test_the_demo_code_is_shown_only_when_configured(app, client, world):
    CapturingSender.sent.clear()
    app.config.update(SHOW_DEMO_CODE=False, SMS_BACKEND="tests.web_helpers:CapturingSender")
    response, html, code = code_page(client, ADULT)
    assert response.status_code == 200 and code is None and 'data-testid="demo-code"' not in html
    (mobile, text), = CapturingSender.sent
    texted = re.search(r"\d{6}", text).group(0)
    assert mobile == ADULT and texted not in html
    assert verify(client, ADULT, texted).status_code == 302


def test_production_settings_never_show_the_code():
    cfg = from_environment({"LVTONG_ENV": "production", "SECRET_KEY": "x", **PRODUCTION_ID_KEYS})
    assert cfg["SHOW_DEMO_CODE"] is False and cfg["DEMO_MODE"] is False
    assert from_environment({"LVTONG_ENV": "demo"})["SHOW_DEMO_CODE"] is True


def test_the_log_sms_backend_is_refused_outside_demo_mode(app, client, session, world):
    assert isinstance(sender_for(app), LogSender)  # fine in test/demo mode
    app.config.update(DEMO_MODE=False, SMS_BACKEND="log")
    with pytest.raises(RuntimeError, match="development and demo only"):
        sender_for(app)
    response, html, code = code_page(client, ADULT)
    assert response.status_code == 500 and code is None
    assert "Traceback" not in html and "SMS_BACKEND" not in html
    assert fresh(session).scalars(select(SignInCode)).all() == []  # nothing stored for a code never sent


# ------------------------------------------------------------------------------------------------ sessions

def test_login_starts_a_new_session(app, client, world):
    client.get("/sign-in")
    with client.session_transaction() as sess:
        sess["planted"] = "by an attacker"
    before = client.get_cookie("session").value
    sign_in(client, ADULT)
    after = client.get_cookie("session").value
    assert after != before
    with client.session_transaction() as sess:
        assert "planted" not in sess and sess["login_token"] and sess["_user_id"]


def test_each_login_gets_its_own_token(app, session, world):
    first, second = app.test_client(), app.test_client()
    sign_in(first, ADULT)
    set_clock(app, NOW + timedelta(seconds=61))
    sign_in(second, ADULT)
    with first.session_transaction() as a, second.session_transaction() as b:
        assert a["login_token"] != b["login_token"]
    logins = fresh(session).scalars(select(LoginSession)).all()
    assert len(logins) == 2 and all(len(row.token_hash) == 64 for row in logins)
    assert all(a["login_token"] not in row.token_hash for row in logins)


def test_the_language_survives_login(app, client, world):
    english(client)
    sign_in(client, ADULT)
    assert 'lang="en"' in client.get("/home").get_data(as_text=True)


def test_a_cookie_copied_before_sign_out_is_useless_after_it(app, client, session, world):
    sign_in(client, ADULT)
    stolen = client.get_cookie("session").value
    token = csrf_from(client.get("/home").get_data(as_text=True))
    out = client.post("/sign-out", data={"csrf_token": token})
    assert out.status_code == 302 and out.headers["Location"] == "/sign-in"
    assert client.get("/home").status_code == 302
    thief = app.test_client()
    thief.set_cookie("session", stolen)
    replay = thief.get("/home")
    assert replay.status_code == 302 and replay.headers["Location"] == "/sign-in?next=/home"
    login = fresh(session).scalar(select(LoginSession))
    assert login.ended_at is not None and login.ended_reason == "sign_out"


def test_signing_out_ends_only_that_login(app, session, world):
    phone, tablet = app.test_client(), app.test_client()
    sign_in(phone, ADULT)
    set_clock(app, NOW + timedelta(seconds=61))
    sign_in(tablet, ADULT)
    phone.post("/sign-out", data={"csrf_token": csrf_from(phone.get("/home").get_data(as_text=True))})
    assert not signed_in(phone) and signed_in(tablet)


def test_disabling_an_account_ends_its_sessions_on_the_next_request(app, client, session, world):
    sign_in(client, ADULT)
    assert signed_in(client)
    account = fresh(session).scalar(select(Account).where(Account.mobile == ADULT))
    account.disabled_at = NOW
    assert signin.end_all_logins(session, account.id, now=NOW, reason="disabled") == 1
    session.commit()
    response = client.get("/home")
    assert response.status_code == 302 and response.headers["Location"] == "/sign-in?next=/home"
    assert fresh(session).scalar(select(LoginSession)).ended_reason == "disabled"


def test_a_disabled_account_is_refused_even_with_a_live_login_row(app, client, session, world):
    sign_in(client, ADULT)
    account = fresh(session).scalar(select(Account).where(Account.mobile == ADULT))
    account.disabled_at = NOW
    session.commit()
    assert client.get("/home").status_code == 302


def test_a_disabled_account_cannot_sign_in(app, client, session, world):
    account = fresh(session).scalar(select(Account).where(Account.mobile == ADULT))
    account.disabled_at = NOW - timedelta(days=1)
    session.commit()
    english(client)
    _, _, code = code_page(client, ADULT)
    refused = verify(client, ADULT, code)
    assert refused.status_code == 422 and "This account has been closed" in main_text(refused)
    assert not signed_in(client)
    assert fresh(session).scalars(select(LoginSession)).all() == []


def test_a_login_unused_for_a_week_ends(app, client, world):
    sign_in(client, ADULT)
    set_clock(app, NOW + timedelta(days=6, hours=23))
    assert signed_in(client)  # use keeps it alive
    set_clock(app, NOW + timedelta(days=13, hours=23))
    assert signed_in(client)
    set_clock(app, NOW + timedelta(days=21))
    assert not signed_in(client)


def test_switching_networks_keeps_the_login(app, client, world):
    """Session protection "basic": a new IP or browser string does not sign the person out."""
    sign_in(client, ADULT)
    response = client.get("/home", environ_base={"REMOTE_ADDR": "10.9.9.9"}, headers={"User-Agent": "other"})
    assert response.status_code == 200


def _session_cookie(response, name: str = "session") -> str:
    cookies = [c for c in response.headers.get_all("Set-Cookie") if c.startswith(f"{name}=")]
    assert cookies, response.headers
    return cookies[-1]


def test_cookie_flags_in_development(app, client, world):
    first = client.get("/sign-in")  # the first visit sets the session cookie (for the CSRF token)
    _, _, code = code_page(client, ADULT)
    done = verify(client, ADULT, code)
    for header in (_session_cookie(first), _session_cookie(done)):
        parts = [p.strip().lower() for p in header.split(";")]
        assert "httponly" in parts and "samesite=lax" in parts
        assert not any(p.startswith("domain=") for p in parts)
        assert "secure" not in parts  # local development and tests run over http
        assert not any(p.startswith("expires=") or p.startswith("max-age=") for p in parts)  # no remember-me
    assert all(not c.startswith("remember_token") for c in done.headers.get_all("Set-Cookie"))


def test_production_cookies_are_secure_and_codes_go_by_sms(database_url, engine, session, tmp_path):
    build_demo(session, NOW)
    config = from_environment({"LVTONG_ENV": "production", "SECRET_KEY": "p" * 32, "DATABASE_URL": database_url, **PRODUCTION_ID_KEYS,
                               "SMS_BACKEND": "tests.web_helpers:CapturingSender", "UPLOAD_DIR": str(tmp_path)})
    prod = create_app({**config, "CLOCK": lambda: NOW})
    try:
        assert prod.config["SESSION_COOKIE_SECURE"] is True and prod.config["SHOW_DEMO_CODE"] is False
        client = prod.test_client()
        CapturingSender.sent.clear()
        page = client.get("https://localhost/sign-in")
        assert page.headers["Strict-Transport-Security"].startswith("max-age=")
        referer = {"Referer": "https://localhost/sign-in"}  # Flask-WTF checks it over HTTPS
        sent = client.post("https://localhost/sign-in", data={"csrf_token": csrf_from(page.get_data(as_text=True)),
                                                             "mobile": ADULT, **human_answer(page.get_data(as_text=True))},
                           headers=referer)
        html = sent.get_data(as_text=True)
        assert sent.status_code == 200 and demo_code(html) is None
        code = re.search(r"\d{6}", CapturingSender.sent[-1][1]).group(0)
        done = client.post("https://localhost/sign-in/verify",
                           data={"csrf_token": csrf_from(html), "mobile": ADULT, "code": code}, headers=referer)
        assert done.status_code == 302 and done.headers["Location"] == "/home"
        seen = [c for c in done.headers.get_all("Set-Cookie") if c.startswith("__Host-seen=")]
        assert len(seen) == 1 and {"secure", "httponly", "path=/"} <= {p.strip().lower() for p in seen[0].split(";")}
        # The __Host- prefix (issue 17 item 6): Secure, Path=/ and no Domain, or the browser refuses the cookie.
        parts = [p.strip().lower() for p in _session_cookie(done, "__Host-session").split(";")]
        assert {"secure", "httponly", "samesite=lax", "path=/"} <= set(parts)
        assert not any(p.startswith("domain=") for p in parts)
        assert not [c for c in done.headers.get_all("Set-Cookie") if c.startswith("session=")]
        assert client.get("https://localhost/home").status_code == 200
    finally:
        prod.extensions["db_engine"].dispose()


# ------------------------------------------------------------------------------------------------ binding

@pytest.fixture()
def unbound(session, world):
    """An insured person with a policy and no account yet (the insurer gave UNKNOWN as her mobile, so binding from
    that number is verified at once: services/accounts/binding.py), and a person who is insured under nothing."""
    product = fresh(session).scalar(select(Product).where(Product.code == "zhongan_vip"))
    insured = Person(name="赵敏", id_number=demo_resident_id("310104", date(1975, 2, 3), 515), birth_date=date(1975, 2, 3),
                     mobile=UNKNOWN, created_at=NOW)
    bystander = Person(name="钱进", id_number=demo_resident_id("310104", date(1980, 4, 5), 616), birth_date=date(1980, 4, 5),
                       created_at=NOW)
    session.add_all([insured, bystander])
    session.add(Policy(number="P003-BIND-0001", product=product, insured=insured, holder=insured,
                       effective_date=date(2026, 1, 1), expiry_date=anniversary(date(2026, 1, 1), 1), created_at=NOW))
    session.commit()
    return insured, bystander


def bind(client, name, id_number, ip="10.0.0.1", **extra):
    token = csrf_from(client.get("/bind").get_data(as_text=True))
    return client.post("/bind", data={"csrf_token": token, "name": name, "id_number": id_number, **extra},
                       environ_base={"REMOTE_ADDR": ip})


def test_first_sign_in_of_an_unknown_number_goes_to_bind(app, client, session, world):
    response = sign_in(client, UNKNOWN)
    assert response.headers["Location"] == "/bind"
    assert client.get("/home").headers["Location"] == "/bind"  # no cards before binding
    account = fresh(session).scalar(select(Account).where(Account.mobile == UNKNOWN))
    assert account.person_id is None


def test_binding_refuses_a_wrong_checksum(app, client, session, unbound):
    insured, _ = unbound
    english(client)
    sign_in(client, UNKNOWN)
    bad = insured.id_number[:-1] + ("0" if insured.id_number[-1] != "0" else "1")
    response = bind(client, insured.name, bad)
    assert response.status_code == 422
    assert "Please check the ID number: it should be 18 characters" in main_text(response)
    assert bad not in response.get_data(as_text=True)  # never echoed
    assert fresh(session).scalar(select(Account).where(Account.mobile == UNKNOWN)).person_id is None


def test_binding_refuses_the_right_id_with_the_wrong_name(app, client, session, unbound):
    insured, _ = unbound
    english(client)
    sign_in(client, UNKNOWN)
    response = bind(client, "赵小敏", insured.id_number)
    assert response.status_code == 422
    assert "We found no policy for that name and ID number" in main_text(response)
    assert insured.id_number not in response.get_data(as_text=True)
    assert fresh(session).scalar(select(Account).where(Account.mobile == UNKNOWN)).person_id is None


def test_binding_refuses_a_person_who_is_insured_under_nothing(app, client, session, unbound):
    _, bystander = unbound
    english(client)
    sign_in(client, UNKNOWN)
    response = bind(client, bystander.name, bystander.id_number)
    assert response.status_code == 422 and "We found no policy" in main_text(response)
    # 李娜 is a policyholder (of her son's policy) but insured under nothing: no binding either.
    li_na = fresh(session).scalar(select(Person).where(Person.name == "李娜"))
    response = bind(client, li_na.name, li_na.id_number)
    assert response.status_code == 422 and "We found no policy" in main_text(response)
    assert fresh(session).scalar(select(Account).where(Account.mobile == UNKNOWN)).person_id is None


def test_binding_refuses_a_person_already_bound_to_another_account(app, client, session, unbound):
    zhang = fresh(session).scalar(select(Person).where(Person.name == "张伟"))
    english(client)
    sign_in(client, UNKNOWN)
    response = bind(client, "张伟", zhang.id_number)
    assert response.status_code == 422 and "already linked to another mobile number" in main_text(response)
    assert fresh(session).scalar(select(Account).where(Account.mobile == UNKNOWN)).person_id is None
    assert fresh(session).scalar(select(Account).where(Account.mobile == ADULT)).person_id == zhang.id
    taken = fresh(session).scalar(select(AuditEvent).where(AuditEvent.action == "bind.taken"))
    assert taken.subject_person_id == zhang.id and taken.ip == "10.0.0.1"


def test_binding_succeeds_and_lands_on_home(app, client, session, unbound):
    insured, _ = unbound
    sign_in(client, UNKNOWN)
    other_account = fresh(session).scalar(select(Account).where(Account.mobile == OTHER))
    response = bind(client, " 赵敏 ", insured.id_number.lower(), person_id=str(other_account.person_id))
    assert response.status_code == 302 and response.headers["Location"] == "/home"
    account = fresh(session).scalar(select(Account).where(Account.mobile == UNKNOWN))
    assert account.person_id == insured.id  # the posted person_id was ignored
    home = client.get("/home").get_data(as_text=True)
    assert 'data-policy="P003-BIND-0001"' in home and "P003-DEMO-0002" not in home
    assert client.get("/bind").headers["Location"] == "/home"  # bound once for good


def test_binding_keeps_a_safe_deep_link(app, client, unbound):
    insured, _ = unbound
    assert sign_in(client, UNKNOWN, next="/messages").headers["Location"] == "/bind?next=/messages"
    token = csrf_from(client.get("/bind?next=/messages").get_data(as_text=True))
    response = client.post("/bind", data={"csrf_token": token, "name": insured.name, "id_number": insured.id_number,
                                          "next": "//evil.example/"})
    assert response.headers["Location"] == "/home"


def test_binding_attempts_are_limited_per_account(app, client, session, unbound):
    insured, _ = unbound
    assert signin.BIND_LIMITS["account"].count == 5
    english(client)
    sign_in(client, UNKNOWN)
    for _ in range(5):
        assert bind(client, "某某", insured.id_number).status_code == 422
    blocked = bind(client, insured.name, insured.id_number)  # now right, but too late
    assert blocked.status_code == 422 and "Too many attempts" in main_text(blocked)
    assert fresh(session).scalar(select(Account).where(Account.mobile == UNKNOWN)).person_id is None
    set_clock(app, NOW + timedelta(hours=1, seconds=1))
    assert bind(client, insured.name, insured.id_number).status_code == 302


def test_binding_attempts_are_limited_per_ip(app, session, unbound):
    insured, _ = unbound
    assert signin.BIND_LIMITS["ip"].count == 20
    for n in range(5):
        guesser = app.test_client()
        sign_in(guesser, f"1393333000{n}")
        for _ in range(4):
            assert bind(guesser, "某某", insured.id_number, ip="10.0.5.1").status_code == 422
    last = app.test_client()
    english(last)
    sign_in(last, "13933330009")
    blocked = bind(last, insured.name, insured.id_number, ip="10.0.5.1")
    assert blocked.status_code == 422 and "Too many attempts" in main_text(blocked)
    assert bind(last, insured.name, insured.id_number, ip="10.0.5.2").status_code == 302


def test_binding_needs_a_sign_in(app, client, world):
    response = client.get("/bind")
    assert response.status_code == 302 and response.headers["Location"] == "/sign-in?next=/bind"


# ------------------------------------------------------------------------------------------------ deep links

def test_a_deep_link_survives_sign_in(app, client, session, world):
    reference = _adult_booking(session)
    response = client.get(f"/bookings/{reference}")
    assert response.status_code == 302 and response.headers["Location"] == f"/sign-in?next=/bookings/{reference}"
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert f'name="next" value="/bookings/{reference}"' in page
    landed = sign_in(client, ADULT, next=f"/bookings/{reference}")
    assert landed.headers["Location"] == f"/bookings/{reference}"
    assert client.get(landed.headers["Location"]).status_code == 200


def _adult_booking(session) -> str:
    return booking_of(session, "P003-DEMO-0002", "nursing_aide").reference


@pytest.mark.parametrize("target", [
    "https://evil.example/", "//evil.example", "javascript:alert(1)", "/\\evil", "\\\\evil.example",
    "/\t/evil.example", " //evil.example", "http:/evil.example", "/\r\nSet-Cookie:x=1",
])
def test_foreign_next_targets_land_on_home(app, client, world, target):
    page = client.get("/sign-in?next=" + quote(target, safe=""))
    assert 'name="next" value=""' in page.get_data(as_text=True)
    landed = sign_in(client, ADULT, next=target)
    assert landed.headers["Location"] == "/home"
    # Straight into the verify form, too.
    other = app.test_client()
    set_clock(app, NOW + timedelta(seconds=61))
    _, _, code = code_page(other, ADULT)
    assert verify(other, ADULT, code, next=target).headers["Location"] == "/home"


def test_a_signed_in_visit_to_sign_in_follows_only_local_next(app, client, world):
    sign_in(client, ADULT)
    assert client.get("/sign-in?next=/messages").headers["Location"] == "/messages"
    assert client.get("/sign-in?next=//evil.example").headers["Location"] == "/home"


def test_htmx_request_signed_out_gets_401_with_hx_redirect(app, client, session, world):
    reference = _adult_booking(session)
    response = client.get(f"/bookings/{reference}/cancel", headers={"HX-Request": "true"})
    assert response.status_code == 401
    assert response.headers["HX-Redirect"] == f"/sign-in?next=/bookings/{reference}/cancel"
    assert response.get_data() == b""


# ------------------------------------------------------------------------------------------------ audit

def test_logins_are_audited_with_ip_and_never_the_code(app, client, session, world):
    _, _, code = code_page(client, ADULT, ip="10.0.6.1")
    wrong = "000000" if code != "000000" else "111111"
    verify(client, ADULT, wrong, ip="10.0.6.2")
    verify(client, ADULT, code, ip="10.0.6.3")
    account = fresh(session).scalar(select(Account).where(Account.mobile == ADULT))
    events = fresh(session).scalars(select(AuditEvent).where(AuditEvent.action.like("signin.%")).order_by(AuditEvent.id)).all()
    assert [(e.action, e.ip, e.actor_account_id) for e in events] == [
        ("signin.code_wrong", "10.0.6.2", None), ("signin.ok", "10.0.6.3", account.id)]
    assert events[0].detail == {"mobile_tail": "0001"} and events[0].at == NOW
    for event in fresh(session).scalars(select(AuditEvent)):
        dumped = json.dumps(event.detail) + (event.target or "")
        assert code not in dumped and wrong not in dumped and ADULT not in dumped
    login = fresh(session).scalar(select(LoginSession))
    assert login.ip == "10.0.6.3" and login.account_id == account.id


def test_a_wrong_code_for_an_unknown_number_is_audited_too(app, client, session, world):
    code_page(client, UNKNOWN, ip="10.0.7.1")
    verify(client, UNKNOWN, "000000", ip="10.0.7.1")
    event = fresh(session).scalar(select(AuditEvent).where(AuditEvent.action == "signin.code_wrong"))
    assert event.ip == "10.0.7.1" and event.detail == {"mobile_tail": "5678"}


def test_the_parent_and_the_other_demo_people_sign_in(app, world):
    for n, mobile in enumerate((PARENT, OTHER)):
        set_clock(app, NOW + timedelta(seconds=61 * n))
        client = app.test_client()
        assert sign_in(client, mobile).headers["Location"] == "/home"
        assert signed_in(client)


def test_an_expired_csrf_token_says_refresh_and_changes_nothing(app, client, session, world):
    english(client)
    token = csrf_token(client)
    before = counts(session)
    app.config["WTF_CSRF_TIME_LIMIT"] = -1  # every token is older than its limit
    response = client.post("/sign-in", data={"csrf_token": token, "mobile": ADULT})
    assert response.status_code == 400
    assert "This page has expired. Please refresh it and try again; nothing was changed." in main_text(response)
    assert counts(session) == before



# ------------------------------------------------------------------------------------------------ races

def _in_parallel(calls):
    """Run the zero-argument `calls` at the same moment, each in its own thread; their results in order."""
    barrier = threading.Barrier(len(calls))
    results = [None] * len(calls)

    def run(i, call):
        barrier.wait()
        results[i] = call()

    threads = [threading.Thread(target=run, args=(i, call)) for i, call in enumerate(calls)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return results


@pytest.mark.serial
def test_parallel_guesses_get_no_more_than_five_tries_at_a_code(app, session, world):
    """A burst of simultaneous wrong guesses must not slip past the per-code limit (on PostgreSQL every one of them
    used to be checked against the code before any was counted)."""
    _, _, code = code_page(app.test_client(), ADULT)
    wrong = "000000" if code != "000000" else "111111"
    clients = [app.test_client() for _ in range(16)]
    tokens = [csrf_token(c) for c in clients]
    statuses = _in_parallel([
        (lambda c=c, t=t: c.post("/sign-in/verify", data={"csrf_token": t, "mobile": ADULT, "code": wrong},
                                 environ_base={"REMOTE_ADDR": "10.0.8.1"}).status_code)
        for c, t in zip(clients, tokens)])
    assert statuses == [422] * len(clients)
    checked = fresh(session).scalars(select(AuditEvent).where(AuditEvent.action == "signin.code_wrong")).all()
    assert len(checked) == signin.CODE_GUESSES
    assert fresh(session).scalar(select(SignInCode)).attempts == signin.CODE_GUESSES
    assert verify(app.test_client(), ADULT, code, ip="10.0.8.2").status_code == 422  # the code is dead


@pytest.mark.serial
def test_parallel_code_requests_send_one_code(app, session, world):
    clients = [app.test_client() for _ in range(8)]
    pages = [c.get("/sign-in").get_data(as_text=True) for c in clients]
    CapturingSender.sent.clear()
    app.config.update(SMS_BACKEND="tests.web_helpers:CapturingSender")
    responses = _in_parallel([
        (lambda c=c, p=p: c.post("/sign-in", data={"csrf_token": csrf_from(p), "mobile": ADULT, **human_answer(p)})
         .get_data(as_text=True))
        for c, p in zip(clients, pages)])
    shown = [demo_code(html) for html in responses if demo_code(html)]
    assert sum("Please wait" in text_of(html) or "秒后" in html for html in responses) == len(clients) - 1
    assert len(shown) == 1 and len(CapturingSender.sent) == 1
    assert len(fresh(session).scalars(select(SignInCode)).all()) == 1


@pytest.mark.serial
def test_parallel_bind_attempts_stay_within_the_limit(app, session, unbound):
    insured, _ = unbound
    client = app.test_client()
    sign_in(client, UNKNOWN)
    token = csrf_from(client.get("/bind").get_data(as_text=True))
    cookie = client.get_cookie("session").value
    clients = []
    for _ in range(12):
        c = app.test_client()
        c.set_cookie("session", cookie)
        clients.append(c)
    statuses = _in_parallel([
        (lambda c=c: c.post("/bind", data={"csrf_token": token, "name": "某某", "id_number": insured.id_number}).status_code)
        for c in clients])
    assert statuses == [422] * len(clients)
    checked = fresh(session).scalars(select(AuditEvent).where(AuditEvent.action == "bind.not_found")).all()
    assert len(checked) == signin.BIND_LIMITS["account"].count

"""Ending logins (issue 17 item 3), written as the attacks: a cookie copied before "sign out everywhere" is
refused after it; an account an administrator closes is refused on its next request and cannot sign in; a
login used every week still ends 30 days after it started, and the 31st day needs a new code.

SECURITY.md, "Sessions and login" (ASVS 7.3.2, 7.4.2, 7.4.5, 7.5.2). Fixed clocks; the demo world; CSRF on.
"""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from webapp.models import Account, AuditEvent, LoginSession
from webapp.services.accounts import logins, signin
from webapp.services.demo import demo

from .conftest import build_demo
from .web_helpers import (
    ADULT, NOW, OTHER, csrf_from, demo_code, fresh, set_clock, sign_in, text_of, use_english,
)
from .web_helpers import testids as ids_in  # (a name pytest would collect)

ADMIN, REVIEWER = demo.ADMIN, demo.REVIEWER
PHONE_UA = ("Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
            "Mobile/15E148 MicroMessenger/8.0.47(0x18002f2c) NetType/WIFI Language/zh_CN")
LAPTOP_UA = ("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0 "
             "Safari/537.36")
ANDROID_UA = "Mozilla/5.0 (Linux; Android 14; V2309A) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Mobile Safari/537.36"


@pytest.fixture()
def world(app, session):
    build_demo(session, NOW)
    set_clock(app, NOW)
    return session


def device(app, mobile: str | None, *, ua: str = PHONE_UA, ip: str = "202.96.13.7", english: bool = True):
    """A browser on its own device and network, signed in as `mobile` (None: signed out)."""
    client = app.test_client()
    client.environ_base.update({"HTTP_USER_AGENT": ua, "REMOTE_ADDR": ip})
    if english:
        use_english(client)
    if mobile:
        sign_in(client, mobile)
    return client


def later(app, seconds: int = 61) -> None:
    """Move the clock on (a second code for one number waits 60 seconds)."""
    moment = app.config["CLOCK"]() + timedelta(seconds=seconds)
    set_clock(app, moment)


def try_sign_in(client, mobile: str):
    """Ask for a code and type it, like web_helpers.sign_in, but return the answer whatever it is."""
    try:
        from .web_helpers import human_answer  # the question for a person before a code is sent (item 4)
    except ImportError:
        def human_answer(html: str) -> dict:
            return {}
    page = client.get("/sign-in").get_data(as_text=True)
    sent = client.post("/sign-in", data={"csrf_token": csrf_from(page), "mobile": mobile, **human_answer(page)})
    html = sent.get_data(as_text=True)
    assert sent.status_code == 200 and demo_code(html), sent.status_code
    return client.post("/sign-in/verify", data={"csrf_token": csrf_from(html), "mobile": mobile, "code": demo_code(html)})


def signed_in(client) -> bool:
    return client.get("/home").status_code == 200


def post(client, path: str, data: dict | None = None, page: str = "/account/logins", **kw):
    token = csrf_from(client.get(page).get_data(as_text=True))
    return client.post(path, data={"csrf_token": token, **(data or {})}, **kw)


def main_text(html: str) -> str:
    return text_of(html[html.index("<main"):html.index("</main>")])


def flashes(client) -> str:
    """The one-time messages the next page shows (the sign-in page for a signed-out browser)."""
    html = client.get("/sign-in").get_data(as_text=True)
    return text_of(html[html.index('id="flash"'):html.index("<main")])


def login_ids(session, mobile: str, *, live: bool = True) -> list[int]:
    fresh(session)
    account = session.scalar(select(Account).where(Account.mobile == mobile))
    rows = session.scalars(select(LoginSession).where(LoginSession.account_id == account.id).order_by(LoginSession.id)).all()
    return [row.id for row in rows if (row.ended_at is None) is live]


def account_of(session, mobile: str) -> Account:
    return fresh(session).scalar(select(Account).where(Account.mobile == mobile))


def events(session, action: str) -> list[AuditEvent]:
    return fresh(session).scalars(select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id)).all()


# ------------------------------------------------------------------------------------------------ the list

def test_signed_in_devices_lists_each_login_in_plain_words_china_time_and_masked_ip(app, world):
    phone = device(app, ADULT)
    later(app)
    laptop = device(app, ADULT, ua=LAPTOP_UA, ip="2408:8207:1234:5678::9")
    html = phone.get("/account/logins").get_data(as_text=True)
    assert 'data-testid="nav-logins"' in html  # reached from every signed-in page's footer
    rows = ids_in(html, "login-row")
    assert len(rows) == 2 and len(ids_in(html, "end-login")) == 2
    text = main_text(html)
    assert "WeChat on iPhone" in text and "Chrome on a Windows computer" in text
    assert "202.96.*.*" in text and "2408:8207:*" in text
    assert "202.96.13.7" not in html and "1234:5678" not in html
    # First and last seen in China time: signed in at 10:00 and 10:01 on Monday 23 November (China).
    assert "Signed in: Mon 23 Nov 10:00" in text and "Signed in: Mon 23 Nov 10:01" in text
    assert "Ends at the latest: Wed 23 Dec 10:00" in text
    assert "a sign-in ends 30 days after it started" in text  # the absolute lifetime, stated
    # This device first and marked; the other device's own page marks itself.
    assert html.index('data-current="1"') < html.index("Chrome on a Windows computer")
    assert len(ids_in(html, "this-device")) == 1
    other = laptop.get("/account/logins").get_data(as_text=True)
    assert main_text(other).index("This device") < main_text(other).index("WeChat on iPhone")


def test_the_list_shows_only_ones_own_live_logins(app, world):
    phone = device(app, ADULT)
    device(app, OTHER, ip="10.0.0.9")  # somebody else's login is not on 张伟's list
    later(app)
    ended = device(app, ADULT, ua=ANDROID_UA)
    post(ended, "/sign-out")
    html = phone.get("/account/logins").get_data(as_text=True)
    assert len(ids_in(html, "login-row")) == 1 and "Android" not in html


def test_the_page_needs_a_sign_in(app, world):
    response = device(app, None).get("/account/logins")
    assert response.status_code == 302 and response.headers["Location"] == "/sign-in?next=/account/logins"


# ------------------------------------------------------------------------------------------------ ending logins

def test_sign_out_everywhere_kills_a_cookie_copied_before_it(app, session, world):
    """A thief copied the phone's cookie; the owner, worried, signs out everywhere from the laptop."""
    phone = device(app, ADULT)
    stolen = phone.get_cookie("session").value
    later(app)
    laptop = device(app, ADULT, ua=LAPTOP_UA, ip="10.0.0.2")
    thief = device(app, None, ip="203.0.113.66", english=False)
    thief.set_cookie("session", stolen)
    assert signed_in(thief)  # the attack works until the owner acts

    later(app, 5)
    out = post(laptop, "/account/logins/end-all", environ_base={"REMOTE_ADDR": "10.0.0.2"})
    assert out.status_code == 303 and out.headers["Location"] == "/sign-in"
    assert "You are signed out on every device, this one included." in flashes(laptop)

    replay = thief.get("/home")
    assert replay.status_code == 302 and replay.headers["Location"] == "/sign-in?next=/home"
    assert not signed_in(phone) and not signed_in(laptop)
    htmx = device(app, None, english=False)
    htmx.set_cookie("session", stolen)
    assert htmx.get("/home", headers={"HX-Request": "true"}).status_code == 401
    assert login_ids(session, ADULT) == []
    assert {row.ended_reason for row in fresh(session).scalars(select(LoginSession))} >= {logins.ENDED_BY_USER}
    [event] = events(session, "login.end_all")
    assert (event.actor_account_id, event.ip, event.detail) == (account_of(session, ADULT).id, "10.0.0.2", {"ended": 2})


def test_sign_out_everywhere_else_keeps_this_device_and_tells_the_others(app, session, world):
    phone = device(app, ADULT)
    later(app)
    laptop = device(app, ADULT, ua=LAPTOP_UA, ip="10.0.0.2")
    later(app)
    tablet = device(app, ADULT, ua=ANDROID_UA, ip="10.0.0.3")
    response = post(phone, "/account/logins/end-others")
    assert response.status_code == 303 and response.headers["Location"] == "/account/logins"
    page = phone.get("/account/logins").get_data(as_text=True)
    assert "Every other device is signed out. This one stays signed in." in page
    assert signed_in(phone)
    assert len(ids_in(page, "login-row")) == 1 and 'data-current="1"' in page
    for other in (laptop, tablet):
        assert other.get("/home").status_code == 302
        assert "This device was signed out from your list of signed-in devices." in flashes(other)
        assert not signed_in(other)  # and it stays signed out: the next request is plainly signed out
    assert events(session, "login.end_others")[0].detail == {"ended": 2}


def test_sign_out_one_device_ends_only_that_one(app, session, world):
    phone = device(app, ADULT)
    later(app)
    laptop = device(app, ADULT, ua=LAPTOP_UA, ip="10.0.0.2")
    html = phone.get("/account/logins").get_data(as_text=True)
    laptop_id = [i for i in login_ids(session, ADULT)][-1]
    assert f'data-login="{laptop_id}"' in html
    response = post(phone, f"/account/logins/{laptop_id}/end")
    assert response.status_code == 303 and response.headers["Location"] == "/account/logins"
    assert signed_in(phone) and not signed_in(laptop)
    [event] = events(session, "login.end_one")
    assert event.target == f"login:{laptop_id}" and event.actor_account_id == account_of(session, ADULT).id
    # Again: already over, so there is nothing to end.
    assert post(phone, f"/account/logins/{laptop_id}/end").status_code == 404


def test_sign_out_this_device_from_the_list_signs_out_here(app, session, world):
    phone = device(app, ADULT)
    [mine] = login_ids(session, ADULT)
    response = post(phone, f"/account/logins/{mine}/end")
    assert response.status_code == 303 and response.headers["Location"] == "/sign-in"
    assert not signed_in(phone)
    assert login_ids(session, ADULT) == []


@pytest.mark.parametrize("target", ["someone else's", "unknown", "huge"])
def test_nobody_ends_someone_elses_login(app, session, world, target):
    zhang = device(app, ADULT)
    wang = device(app, OTHER, ip="10.0.0.9")
    [zhang_login] = login_ids(session, ADULT)
    login_id = {"someone else's": zhang_login, "unknown": 999999, "huge": 2**70}[target]
    response = post(wang, f"/account/logins/{login_id}/end")
    assert response.status_code == 404
    assert signed_in(zhang) and signed_in(wang)
    assert login_ids(session, ADULT) == [zhang_login] and events(session, "login.end_one") == []


# ------------------------------------------------------------------------------------------------ absolute lifetime

def test_a_login_used_every_week_ends_after_30_days_and_the_31st_day_needs_a_new_code(app, session, world):
    phone = device(app, ADULT)
    for day in range(6, 30, 6):  # used every six days: never idle for a week
        set_clock(app, NOW + timedelta(days=day))
        assert signed_in(phone), day
    set_clock(app, NOW + timedelta(days=30) - timedelta(seconds=1))
    assert signed_in(phone)  # day 30 minus a second still works
    set_clock(app, NOW + timedelta(days=30) + timedelta(seconds=1))
    refused = phone.get("/home")
    assert refused.status_code == 302 and refused.headers["Location"] == "/sign-in?next=/home"
    assert "a sign-in lasts at most 30 days. Please sign in again with a new code." in flashes(phone)
    assert not signed_in(phone)
    login = fresh(session).scalar(select(LoginSession))
    assert (login.ended_reason, login.ended_at) == ("expired", NOW + timedelta(days=30, seconds=1))
    [event] = events(session, "login.expired")
    assert event.detail == {"rule": "expired"} and event.target == f"login:{login.id}"
    # The 31st day: a new code signs in again, and that login gets its own 30 days.
    set_clock(app, NOW + timedelta(days=31))
    sign_in(phone, ADULT)
    assert signed_in(phone)


def test_the_30_days_count_from_sign_in_not_from_the_last_use(app, world):
    phone = device(app, ADULT)
    for moment in (timedelta(days=6), timedelta(days=12), timedelta(days=18), timedelta(days=24),
                   timedelta(days=29, hours=23)):
        set_clock(app, NOW + moment)
        assert signed_in(phone)
    set_clock(app, NOW + timedelta(days=30))  # used an hour ago, but 30 days old
    assert not signed_in(phone)


def test_the_service_refuses_at_the_boundary(app, session, world):
    account = account_of(session, ADULT)
    token = signin.start_login(session, account, now=NOW, ip=None, user_agent=None)
    row = fresh(session).scalar(select(LoginSession))
    row.last_seen_at = NOW + timedelta(days=29)  # recently used
    session.commit()
    assert signin.account_for_token(session, token, account.id, NOW + timedelta(days=30, seconds=-1)) is not None
    assert signin.account_for_token(session, token, account.id, NOW + timedelta(days=30)) is None
    assert signin.login_end_reason(session, token) == "expired"
    assert logins.live_logins(session, account.id, now=NOW + timedelta(days=30), current_token=token) == []


def test_an_idle_login_says_why_it_ended(app, world):
    phone = device(app, ADULT)
    set_clock(app, NOW + timedelta(days=7, seconds=1))
    assert phone.get("/home").status_code == 302
    assert "not used for 7 days" in flashes(phone)


# ------------------------------------------------------------------------------------------------ closing an account

def admin_form(client, mobile: str) -> str:
    return client.get(f"/staff/accounts?mobile={mobile}").get_data(as_text=True)


def test_an_admin_closes_an_account_and_its_cookie_is_refused_on_the_next_request(app, session, world):
    victim_phone = device(app, ADULT)
    stolen = victim_phone.get_cookie("session").value
    admin = device(app, ADMIN, ua=LAPTOP_UA, ip="10.8.0.1")
    page = admin_form(admin, ADULT)
    assert 'data-state="open"' in page and "1 device" in main_text(page)
    response = admin.post("/staff/accounts/disable", data={
        "csrf_token": csrf_from(page), "mobile": ADULT, "reason": "Customer reported the phone stolen"})
    assert response.status_code == 303 and response.headers["Location"] == f"/staff/accounts?mobile={ADULT}"
    page = admin.get(response.headers["Location"]).get_data(as_text=True)
    assert 'data-state="closed"' in page and "The account is closed and signed out everywhere." in page
    assert "Customer reported the phone stolen" in page

    account = account_of(session, ADULT)
    assert account.disabled_at == NOW and not account.is_active
    refused = victim_phone.get("/bookings", headers={"HX-Request": "true"})
    assert refused.status_code == 401 and refused.headers["HX-Redirect"] == "/sign-in?next=/bookings"
    assert "This account has been closed. Please call the service hotline." in flashes(victim_phone)
    thief = device(app, None, english=False)
    thief.set_cookie("session", stolen)
    assert not signed_in(thief)
    assert {row.ended_reason for row in fresh(session).scalars(
        select(LoginSession).where(LoginSession.account_id == account.id))} == {"disabled"}
    [event] = events(session, "account.disabled")
    admin_id = account_of(session, ADMIN).id
    assert (event.actor_account_id, event.target, event.subject_person_id, event.ip) == (
        admin_id, f"account:{account.id}", account.person_id, "10.8.0.1")
    assert event.detail == {"reason": "Customer reported the phone stolen", "via": "staff", "logins_ended": 1}


def test_a_closed_account_cannot_sign_in_until_an_admin_opens_it(app, session, world):
    admin = device(app, ADMIN, ua=LAPTOP_UA, ip="10.8.0.1")
    admin.post("/staff/accounts/disable", data={"csrf_token": csrf_from(admin_form(admin, ADULT)), "mobile": ADULT,
                                                "reason": "fraud check"})
    later(app)
    person = device(app, None)
    refused = try_sign_in(person, ADULT)
    assert refused.status_code == 422 and "This account has been closed" in main_text(refused.get_data(as_text=True))
    assert not signed_in(person) and login_ids(session, ADULT) == []

    response = admin.post("/staff/accounts/enable", data={"csrf_token": csrf_from(admin_form(admin, ADULT)),
                                                          "mobile": ADULT, "reason": "checked: it was the customer"})
    assert response.status_code == 303 and account_of(session, ADULT).is_active
    assert events(session, "account.enabled")[0].detail == {"reason": "checked: it was the customer", "via": "staff"}
    later(app)
    sign_in(person, ADULT)
    assert signed_in(person)


@pytest.mark.parametrize("form, message", [
    ({"mobile": ADULT, "reason": "   "}, "Please write why."),
    ({"mobile": ADULT}, "Please write why."),
    ({"mobile": "13999999999", "reason": "x"}, "No account has this mobile number."),
    ({"mobile": "not a number", "reason": "x"}, "No account has this mobile number."),
    ({"mobile": "1" * 10_000, "reason": "x" * 10_000}, "No account has this mobile number."),
    ({"mobile": ADMIN, "reason": "testing"}, "You cannot close your own account."),
])
def test_closing_with_bad_input_says_why_and_changes_nothing(app, session, world, form, message):
    admin = device(app, ADMIN, ua=LAPTOP_UA, ip="10.8.0.1")
    response = admin.post("/staff/accounts/disable", data={"csrf_token": csrf_from(admin_form(admin, ADULT)), **form})
    assert response.status_code == 303
    page = admin.get(response.headers["Location"]).get_data(as_text=True)
    assert message in page and "Nothing was changed." in page
    fresh(session)
    assert session.scalars(select(Account).where(Account.disabled_at.is_not(None))).all() == []
    assert events(session, "account.disabled") == []


def test_closing_twice_and_opening_an_open_account_change_nothing(app, session, world):
    admin = device(app, ADMIN, ua=LAPTOP_UA, ip="10.8.0.1")
    form = {"mobile": ADULT, "reason": "why"}
    admin.post("/staff/accounts/enable", data={"csrf_token": csrf_from(admin_form(admin, ADULT)), **form})
    assert "This account is open. Nothing was changed." in admin_form(admin, ADULT)
    for _ in range(2):
        admin.post("/staff/accounts/disable", data={"csrf_token": csrf_from(admin_form(admin, ADULT)), **form})
    assert "This account is already closed. Nothing was changed." in admin_form(admin, ADULT)
    assert len(events(session, "account.disabled")) == 1 and events(session, "account.enabled") == []


@pytest.mark.parametrize("query, status, text", [
    ("", 200, None), ("13999999999", 200, "No account has this mobile number."),
    ("abc\x00\u202e" + "9" * 10_000, 200, "Please enter an 11-digit mainland China mobile number."),
])
def test_finding_an_account_never_fails(app, world, query, status, text):
    admin = device(app, ADMIN, ua=LAPTOP_UA)
    response = admin.get("/staff/accounts", query_string={"mobile": query})
    assert response.status_code == status
    if text:
        assert text in response.get_data(as_text=True)


def test_a_staff_look_at_an_account_is_audited(app, session, world):
    admin = device(app, ADMIN, ua=LAPTOP_UA, ip="10.8.0.1")
    admin_form(admin, ADULT)
    [event] = events(session, "account.staff_view")
    assert event.actor_account_id == account_of(session, ADMIN).id and event.target == f"account:{account_of(session, ADULT).id}"


@pytest.mark.parametrize("mobile", [REVIEWER, ADULT])
def test_only_an_admin_closes_accounts(app, session, world, mobile):
    client = device(app, mobile)
    token = csrf_from(client.get("/home").get_data(as_text=True))
    assert client.get(f"/staff/accounts?mobile={OTHER}").status_code == 403
    for action in ("disable", "enable"):
        response = client.post(f"/staff/accounts/{action}", data={"csrf_token": token, "mobile": OTHER, "reason": "x"})
        assert response.status_code == 403
    assert account_of(session, OTHER).is_active
    assert 'data-testid="nav-accounts"' not in client.get("/home").get_data(as_text=True)


def test_the_console_links_accounts_for_admins(app, world):
    html = device(app, ADMIN, ua=LAPTOP_UA).get("/staff/").get_data(as_text=True)
    assert 'data-testid="nav-accounts"' in html


# ------------------------------------------------------------------------------------------------ the command line

def test_the_command_line_closes_and_opens_an_account(app, session, world):
    phone = device(app, ADULT)
    runner = app.test_cli_runner()
    result = runner.invoke(args=["accounts-disable", ADULT, "--reason", "police request 2026-118"])
    assert result.exit_code == 0, result.output
    assert "1 login(s) ended" in result.output
    assert not signed_in(phone) and not account_of(session, ADULT).is_active
    [event] = events(session, "account.disabled")
    assert event.actor_account_id is None and event.detail["via"] == "cli"
    assert event.detail["reason"].startswith("police request 2026-118 (operator ")

    assert runner.invoke(args=["accounts-disable", ADULT, "--reason", "again"]).exit_code != 0
    assert runner.invoke(args=["accounts-enable", ADULT, "--reason", "lifted"]).exit_code == 0
    assert account_of(session, ADULT).is_active and len(events(session, "account.enabled")) == 1


@pytest.mark.parametrize("args", [
    ["accounts-disable", "13999999999", "--reason", "x"], ["accounts-disable", ADULT], ["accounts-disable", ADULT, "--reason", " "],
    ["accounts-enable", ADULT, "--reason", "not closed"],
])
def test_the_command_line_refuses_bad_input_and_changes_nothing(app, session, world, args):
    result = app.test_cli_runner().invoke(args=args)
    assert result.exit_code != 0
    assert account_of(session, ADULT).is_active and events(session, "account.disabled") == []


# ------------------------------------------------------------------------------------------------ the plain words

@pytest.mark.parametrize("ua, app_name, system", [
    (PHONE_UA, "wechat", "iphone"), (LAPTOP_UA, "chrome", "windows"), (ANDROID_UA, "chrome", "android"),
    ("Mozilla/5.0 (iPad; CPU OS 16_0 like Mac OS X) AppleWebKit/605.1.15 Version/16.0 Mobile/15E148 Safari/604.1",
     "safari", "ipad"),
    ("Mozilla/5.0 (Linux; Android 12; HarmonyOS; NOH-AN00) AppleWebKit/537.36 Chrome/99.0 HuaweiBrowser/14.0 Mobile "
     "Safari/537.36", "huawei", "harmony"),
    ("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 Chrome/124.0 Safari/537.36 Edg/124.0", "edge", "windows"),
    (None, "other", "other"), ("", "other", "other"), ("curl/8.0", "other", "other"),
])
def test_a_device_is_named_from_its_user_agent(ua, app_name, system):
    assert logins.describe(ua) == logins.Device(app_name, system)


@pytest.mark.parametrize("ip, masked", [
    ("202.96.13.7", "202.96.*.*"), ("2408:8207:1234:5678::9", "2408:8207:*"), ("::1", "0:0:*"), (None, ""),
    ("not an ip", ""), ("1.2.3.4\n", "1.2.*.*"),
])
def test_an_ip_is_masked(ip, masked):
    assert logins.mask_ip(ip) == masked

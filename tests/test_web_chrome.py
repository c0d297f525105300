"""The page chrome of issue 15: the help entry and page (item 6), "No code?" on the sign-in code step (item 6), the
care-mode switch (item 11) and the plain-words tips (item 10), through the web client with CSRF on. New sentences
are checked in English (their Chinese is merged into the catalogues separately); catalog text is checked as stored."""
from __future__ import annotations

import re

import pytest
from flask import render_template_string
from jinja2.exceptions import UndefinedError

from webapp.services.accounts import signin
from webapp.services.products.catalog import default_catalog
from webapp.services.products.hotlines import application_lines, product_hotlines

from .conftest import build_demo
from .web_helpers import (
    ADULT, NOW, PARENT, attr_values, block, csrf_from, csrf_token, human_answer, set_clock, sign_in, text_of, use_english,
)


@pytest.fixture()
def demo(app, session):
    build_demo(session, NOW)
    set_clock(app, NOW)


def get(client, path: str) -> str:
    response = client.get(path)
    assert response.status_code == 200, (path, response.status_code)
    return response.get_data(as_text=True)


def care(client, value: str, next_: str = "/"):
    return client.post("/care", data={"csrf_token": csrf_token(client, "/"), "care": value, "next": next_})


# ------------------------------------------------------------------------------------------------ hotlines

def test_each_product_lists_its_own_lines_then_those_of_particular_services():
    catalog = default_catalog()
    cigc = product_hotlines(catalog.product("cigc_classic"))
    # 000: the insurer takes applications, the vendor's 7×24 line the rest (000 （一）2.9(6) lines 94-98).
    assert [(h.line.number, h.purposes, h.services) for h in cigc.hotlines] == [
        ("400-609-6868", ("apply",), ()), ("400-678-8500", ("change_cancel", "urgent", "complaints"), ())]
    zhongan = product_hotlines(catalog.product("zhongan_vip"))
    assert zhongan.hotlines[0].line.number == "952299" and zhongan.hotlines[0].services == ()
    escorts = next(h for h in zhongan.hotlines if h.line.number == "10109955")  # 003 lines 1560, 1654, 2587
    assert {"escort_outpatient", "second_opinion", "nursing_aide"} <= {s.code for s in escorts.services}
    assert "car_pickup" not in {s.code for s in escorts.services}  # the car is on 952299 (003 line 612)


def test_the_application_lines_are_one_row_per_number():
    rows = {line.number: [p.code for p in products] for line, products in application_lines(default_catalog())}
    assert rows == {"400-609-6868": ["cigc_classic"], "400-620-1800": ["haorensheng_gc"],
                    "400-606-5033": ["xingtao_gc", "starr_jiuyibao"], "952299": ["zhongan_vip"]}


# ------------------------------------------------------------------------------------------------ the help page

def test_signed_out_the_help_page_gives_every_products_hotline(app, client):
    use_english(client)
    html = get(client, "/")
    assert attr_values(html, "help-link", "href") == ["/help"]
    html = get(client, "/help")
    assert 'data-testid="help-page"' in html
    calls = re.findall(r'<a class="button tel" href="([^"]+)" data-testid="help-call"', html)
    assert calls == ["tel:4006096868", "tel:4006201800", "tel:4006065033", "tel:952299"]
    assert "Call 952299" in text_of(html) and "Daily 9:00–21:00" in text_of(html)
    assert 'data-testid="glossary"' in html and "waiting period" in text_of(block(html, "glossary"))


def test_signed_in_the_help_page_lists_the_lines_of_the_products_held(app, session, client, demo):
    sign_in(client, ADULT)
    html = get(client, "/help")
    products = attr_values(html, "help-product", "data-product")
    # 张伟 holds 000, 002, 003 and 004 (services/demo/demo.py); not 001 (王芳's).
    assert products == ["cigc_classic", "starr_jiuyibao", "xingtao_gc", "zhongan_vip"]
    calls = attr_values(html, "help-call", "data-number")
    assert "400-678-8500" in calls and "10109955" in calls and "400-620-1800" not in calls
    assert "张伟" in text_of(html)


def test_a_guardian_sees_the_lines_of_the_child_they_act_for(app, session, client, demo):
    sign_in(client, PARENT)
    html = get(client, "/help")
    assert "李小明" in text_of(html)
    assert attr_values(html, "help-product", "data-product") == ["zhongan_vip"]  # P003-DEMO-0005


def test_every_page_has_the_help_entry(app, session, client, demo):
    sign_in(client, ADULT)
    for path in ("/home", "/bookings", "/messages", "/family", "/help"):
        assert attr_values(get(client, path), "help-link", "href") == ["/help"], path


# ------------------------------------------------------------------------------------------------ no code?

def test_the_code_step_says_what_to_do_when_no_code_comes(app, client):
    use_english(client)
    page = get(client, "/sign-in")
    assert 'data-testid="no-code-help"' not in page  # only on the code step
    sent = client.post("/sign-in", data={"csrf_token": csrf_from(page), "mobile": ADULT, **human_answer(page)})
    html = sent.get_data(as_text=True)
    words = text_of(block(html, "no-code-help"))
    # The real limits of services/accounts/signin.py, not round words.
    assert signin.RESEND_AFTER.total_seconds() == 60 and signin.REQUEST_LIMITS["mobile"].count == 5
    assert "60 seconds after a code is sent you can tap “Send a new code”" in words
    assert "at most 5 codes an hour" in words and "for 5 minutes" in words
    assert "138****0001" in words
    assert attr_values(html, "no-code-call", "href")[-1] == "tel:952299"


def test_a_wrong_code_keeps_the_help(app, client):
    page = get(client, "/sign-in")
    sent = client.post("/sign-in", data={"csrf_token": csrf_from(page), "mobile": ADULT, **human_answer(page)})
    wrong = client.post("/sign-in/verify", data={"csrf_token": csrf_from(sent.get_data(as_text=True)), "mobile": ADULT,
                                                 "code": "000000"})
    assert wrong.status_code == 422 and 'data-testid="no-code-help"' in wrong.get_data(as_text=True)


# ------------------------------------------------------------------------------------------------ care mode

def test_care_mode_sticks_in_a_long_lived_cookie(app, client):
    use_english(client)
    assert 'class="care"' not in get(client, "/")
    response = care(client, "on", "/sign-in")
    assert response.status_code == 303 and response.headers["Location"] == "/sign-in"
    cookie = next(c for c in response.headers.getlist("Set-Cookie") if c.startswith("care="))
    assert cookie.startswith("care=1;") and "HttpOnly" in cookie and "SameSite=Lax" in cookie
    assert int(re.search(r"Max-Age=(\d+)", cookie).group(1)) >= 365 * 24 * 3600
    html = get(client, "/sign-in")
    assert '<html lang="en" class="care">' in html and '<body class="care"' in html
    assert "Care mode is on: larger text and buttons." in text_of(block(html, "flash"))
    assert attr_values(html, "care-toggle", "value") == ["off"]
    assert 'class="care"' in get(client, "/help")  # and on the next page
    off = care(client, "off")
    assert [c for c in off.headers.getlist("Set-Cookie") if c.startswith("care=")][0].startswith("care=0;")
    html = get(client, "/")
    assert 'class="care"' not in html and attr_values(html, "care-toggle", "value") == ["on"]


@pytest.mark.parametrize("value", ["", "maybe", "1", "on " * 50])
def test_a_bad_care_choice_changes_nothing_and_says_so(app, client, value):
    use_english(client)
    response = care(client, value, "/help")
    assert response.status_code == 303 and response.headers["Location"] == "/help"
    assert not [c for c in response.headers.getlist("Set-Cookie") if c.startswith("care=")]
    html = get(client, "/help")
    assert "Please choose to turn care mode on or off." in text_of(block(html, "flash-error"))
    assert 'class="care"' not in html


@pytest.mark.parametrize("target", ["https://evil.example/", "//evil.example/x", "/sign-in/verify", "/no-such-page"])
def test_the_care_switch_returns_only_to_our_own_pages(app, client, target):
    response = care(client, "on", target)
    assert response.status_code == 303
    assert response.headers["Location"] in ("/", "/sign-in")


def test_care_mode_without_a_token_is_refused(app, client):
    client.get("/")
    response = client.post("/care", data={"care": "on", "next": "/"})
    assert response.status_code == 400
    assert not [c for c in response.headers.getlist("Set-Cookie") if c.startswith("care=")]


def test_a_signed_in_customer_keeps_care_mode_across_pages(app, session, client, demo):
    sign_in(client, ADULT)
    care(client, "on", "/bookings")
    for path in ("/bookings", "/messages", "/help"):
        assert '<body class="care"' in get(client, path), path


# ------------------------------------------------------------------------------------------------ plain words

def test_a_term_carries_its_tip_and_is_valid_inside_a_paragraph(app):
    with app.test_request_context("/"):
        html = render_template_string('{% from "_terms.html" import term, tip with context %}'
                                      '<p>{{ term("waiting_period") }} {{ tip("counts_as_used") }}</p>')
    paragraph = re.fullmatch(r"<p>(.*)</p>", html, re.S).group(1)
    assert not re.search(r"<(details|div|p|ul|dl)\b", paragraph)  # phrasing content only
    assert re.search(r'<span class="term" data-testid="term">(等待期|waiting period)</span>', html)
    assert attr_values(html, "term-tip", "data-term") == ["waiting_period", "counts_as_used"]
    assert html.count('aria-expanded="false"') == 2 and html.count("hidden>") == 2
    assert "90 days" in text_of(html) or "90天" in text_of(html)


def test_an_unknown_term_is_an_error_not_a_silent_blank(app):
    with app.test_request_context("/"), pytest.raises(UndefinedError, match="no_such_term"):
        render_template_string('{% from "_terms.html" import term with context %}{{ term("no_such_term") }}')


def test_care_reaches_the_cached_home(app, session, client, demo):
    """The home is cached whole (views/fragments.py): care mode is part of its key, so a plain visit after switching
    it on is in care mode too, not the page kept from before."""
    sign_in(client, ADULT)
    get(client, "/home")
    get(client, "/home")
    care(client, "on", "/bookings")
    get(client, "/bookings")  # the flash is shown here
    assert '<body class="care"' in get(client, "/home")

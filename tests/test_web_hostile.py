"""Requests a user can send, at their worst (issue 17 item 6 and "no request a user can send answers 500").

The fuzz: every route of the app (read from its URL map, so a new route is fuzzed without a new line here), every
form field (every field of every form its pages render, what the access matrix posts, every name the views read)
and every query parameter the views read, given hostile values: numbers out of range (2^63, 10,000 digits),
NUL, CR/LF and other controls, bidi overrides, 10,000-character strings, impossible dates. Sampled, not crossed:
each field gets two values in turn on top of a valid form, each form all its names at once with three more,
each path argument two; about 1,500 requests in a few seconds. No answer may be a 5xx, and no log line may hold
a raw line break. It runs on SQLite and on PostgreSQL (where a NUL or an integer past 2^31 is an error of the
database itself).

Then the smaller findings of item 6, each written as the attack: HEAD with a form body, the `before=` number,
a forged log line, NUL and bidi characters in a name, too many form parts, the Server header.
"""
from __future__ import annotations

import itertools
import logging
import re
import sys
import time
from datetime import timedelta
from html import unescape
from pathlib import Path
from urllib.parse import quote, urlencode, urlsplit

import pytest
from sqlalchemy import func, select
from werkzeug.datastructures import MultiDict
from werkzeug.routing import IntegerConverter
from werkzeug.test import encode_multipart

from webapp.models import Account, Base, Person
from webapp.services.demo import demo

from .conftest import build_demo
from .test_web_matrix import CHILD_POLICY, PAGE, ZHANG_POLICY, Refs, get_urls, post_case
from .web_helpers import ADULT, NOW, booking_of, csrf_from, fresh, set_clock, sign_in, snapshot, use_english

ROOT = Path(__file__).resolve().parent.parent
UNBOUND = "13912345678"  # a number with no account yet: signs in and lands on /bind

HOSTILE = [
    "9223372036854775808",  # 2^63: past a BIGINT, let alone an INTEGER
    "a\x00b",  # NUL: PostgreSQL refuses it in text
    "x\r\n2026-11-23 10:00:00 INFO signed in account=1",  # a forged log line
    "长" * 10_000,
    "-1",
    "\u202e张伟\u2066\u200f",  # bidi override, isolate, mark
    "9" * 10_000,
    "\x1b[31m\x07\x08\x7f\x85\u2028",
    "2026-02-30",
    "1e309",
    "9999-12-31T23:59",
    "２０２６－１１－３０",
    "²³",
    "' OR 1=1 --",
    "<script>alert(1)</script>",
    "../../etc/passwd",
    "",
    "   ",
    "NaN",
    "0",
]
SHORT = [v for v in HOSTILE if len(v) < 1000]  # all of a form's fields at once: 40 × 30 KB would be a 413


def names_read_by_views(kind: str, module: Path | None = None) -> set[str]:
    """Every `args.get("x")` / `form.get("x")` / `values.get("x")` name in webapp/views (or in one module)."""
    found = set()
    for path in [module] if module else (ROOT / "webapp" / "views").rglob("*.py"):
        for source, name in re.findall(r'\b(args|form|values)\.get(?:list)?\(\s*"([^"]+)"', path.read_text()):
            if source == kind or source == "values":
                found.add(name)
    return found


@pytest.fixture()
def refs(app, session) -> Refs:
    """The access matrix's bookings of the demo world (tests/test_web_matrix.py)."""
    build_demo(session, NOW)
    set_clock(app, NOW)
    return Refs(zhang_free=booking_of(session, ZHANG_POLICY, "nursing_aide").reference,
                zhang_counted=booking_of(session, ZHANG_POLICY, "car_pickup").reference,
                zhang_review=booking_of(session, ZHANG_POLICY, "second_opinion").reference,
                child=booking_of(session, CHILD_POLICY, "expert_outpatient").reference,
                wang=booking_of(session, "P001-DEMO-0006", "expert_outpatient").reference)


# ------------------------------------------------------------------------------------------------ clients

class Actors:
    """One signed-in client per kind of actor, signed in again (an hour later, past the code limits) when a fuzzed
    request ended its login."""

    MOBILES = {"owner": ADULT, "unbound": UNBOUND, "admin": demo.ADMIN, "reviewer": demo.REVIEWER}
    HOME = {"owner": "/home", "unbound": "/bind", "admin": "/staff/", "reviewer": "/staff/"}

    def __init__(self, app):
        self.app, self.clients, self.tokens, self.clock = app, {}, {}, NOW

    def client(self, actor: str):
        if actor not in self.clients:
            self.clients[actor] = self._signed_in(actor)
        return self.clients[actor]

    def _signed_in(self, actor: str):
        client = self.app.test_client()
        if actor == "anonymous":
            self.tokens[actor] = csrf_from(client.get("/sign-in").get_data(as_text=True))
            return client
        sign_in(client, self.MOBILES[actor])
        self.tokens[actor] = csrf_from(client.get(self.HOME[actor]).get_data(as_text=True))
        return client

    def still_signed_in(self, actor: str) -> None:
        if actor == "anonymous" or actor not in self.clients:
            return
        if self.clients[actor].get(self.HOME[actor]).status_code != 200:
            self.clock += timedelta(hours=1)
            set_clock(self.app, self.clock)
            self.clients[actor] = self._signed_in(actor)


def actor_for(endpoint: str) -> str:
    if endpoint in ("main.set_language", "auth.sign_in", "auth.verify", "main.index", "main.healthz", "static"):
        return "anonymous"
    if endpoint == "auth.bind":
        return "unbound"
    return "admin" if endpoint.startswith("staff.") else "owner"


class Fuzz:
    """Sends requests, counts them, and keeps every 5xx (or exception) as a failure to report at the end."""

    def __init__(self, app):
        self.app, self.actors, self.sent, self.failures = app, Actors(app), 0, []
        self.adapter = app.url_map.bind("localhost")

    def send(self, actor: str, method: str, url: str, data: dict | None = None, what: str = "") -> int:
        client = self.actors.client(actor)
        self.sent += 1
        headers = {"HX-Request": "true"} if self.sent % 3 == 0 else {}
        environ = {"REMOTE_ADDR": f"10.{self.sent // 60000}.{self.sent // 250 % 240}.{self.sent % 250 + 1}"}
        if data is not None:
            data = {**data, "csrf_token": self.actors.tokens[actor]}
        try:
            with client.open(url, method=method, data=data, headers=headers, environ_base=environ) as response:
                status = response.status_code
        except Exception as error:  # noqa: BLE001 (a test client that raises is a failure to report, not a crash)
            status = f"raised {type(error).__name__}: {str(error)[:200]}"
        if not isinstance(status, int) or status >= 500:
            self.failures.append((actor, method, url[:160], what[:120], status))
        return status if isinstance(status, int) else 599

    def forms(self, refs: Refs, part: str) -> tuple[dict[str, set[str]], dict[str, dict[str, set[str]]]]:
        """Field names of every form the actor's pages render, by the endpoint the form posts to (htmx's hx-post
        included), and the values offered for choice fields (options, radios, checkboxes, hidden inputs)."""
        fields: dict[str, set[str]] = {}
        choices: dict[str, dict[str, set[str]]] = {}
        for endpoint, samples in get_urls(refs).items():
            if endpoint == "static" or endpoint.startswith("staff.") != (part == "staff") or "report" in endpoint:
                continue
            for url in samples:
                with self.actors.client(actor_for(endpoint)).get(url) as response:
                    html = response.get_data(as_text=True) if response.mimetype == "text/html" else ""
                for form in re.findall(r"<form\b.*?</form>", html, re.S):
                    targets = re.findall(r'\b(?:action|hx-post)="([^"]+)"', form) or [urlsplit(url).path]
                    names = set(re.findall(r'\bname="([^"]+)"', form)) - {"csrf_token"}
                    offered = {}
                    for tag in re.findall(r"<input\b[^>]*>", form):
                        name, value = re.search(r'\bname="([^"]*)"', tag), re.search(r'\bvalue="([^"]*)"', tag)
                        if name and value and re.search(r'type="(radio|checkbox|hidden)"', tag):
                            offered.setdefault(name.group(1), set()).add(unescape(value.group(1)))
                    for name, options in re.findall(r'<select\b[^>]*name="([^"]+)"[^>]*>(.*?)</select>', form, re.S):
                        offered.setdefault(name, set()).update(unescape(v) for v in re.findall(r'value="([^"]*)"', options))
                    offered.pop("csrf_token", None)
                    for target in targets:
                        try:
                            posted, _ = self.adapter.match(urlsplit(unescape(target)).path, method="POST")
                        except Exception:  # noqa: BLE001 (a GET form, or a link elsewhere)
                            continue
                        fields.setdefault(posted, set()).update(names)
                        for name, values in offered.items():
                            choices.setdefault(posted, {}).setdefault(name, set()).update(values)
        return fields, choices


def turn(counter: itertools.count, values: list[str], n: int) -> list[str]:
    start = next(counter)
    return [values[(start + k) % len(values)] for k in range(n)]


def samples_for(refs: Refs, rule) -> dict:
    """Path arguments of `rule` naming something that exists where the demo world has it."""
    staff = rule.endpoint.startswith("staff.")
    page = rule.rule.startswith("/papers/") or ("pages" in rule.rule and "family" not in rule.rule)
    samples = {"reference": refs.child if staff else refs.zhang_free, "policy": ZHANG_POLICY,
               "service_code": "escort_outpatient", "name": "department", "page_id": PAGE, "year": 2027, "login_id": 1,
               "kind": "applicant_id" if "grant" in rule.endpoint else "medical_records", "filename": "css/app.css",
               "public_id": PAGE if page else "demo-agent-zhou"}
    return {a: samples.get(a, 1) for a in rule.arguments}


def sample_url(fuzz: Fuzz, refs: Refs, rule, **replaced) -> str:
    return fuzz.adapter.build(rule.endpoint, {**samples_for(refs, rule), **replaced}, method=sorted(rule.methods)[0])


# ------------------------------------------------------------------------------------------------ the fuzz

SIGNS_OUT = ("auth.sign_out", "account.")  # fuzzed last: they may end the login the others need


def post_rules(app):
    rules = [r for r in app.url_map.iter_rules() if "POST" in r.methods]
    return sorted(rules, key=lambda r: (r.endpoint.startswith(SIGNS_OUT), r.endpoint))


@pytest.mark.parametrize("part", ["customer", "staff"])
def test_no_form_field_of_any_form_answers_5xx(app, session, refs, caplog, part):
    """Per form: each field in turn hostile on a valid form (two values each); each choice a form offers (a
    decision, a kind, a status) with every other name the views read hostile, so each branch reads its fields;
    every name hostile at once."""
    fuzz, counter = Fuzz(app), itertools.count()
    forms, choices = fuzz.forms(refs, part)
    read = names_read_by_views("form")
    with caplog.at_level(logging.INFO):
        for rule in post_rules(app):
            if rule.endpoint.startswith("staff.") != (part == "staff"):
                continue
            actor = actor_for(rule.endpoint)
            try:
                url, base = post_case(rule.endpoint, refs)
            except KeyError:  # a route the access matrix does not post to (yet): its URL from the samples
                url, base = sample_url(fuzz, refs, rule), {}
            fields = sorted(set(base) | forms.get(rule.endpoint, set()))
            offered = choices.get(rule.endpoint, {})
            actors = [actor]
            fuzz.actors.still_signed_in(actor)
            if actor == "admin" and fuzz.send(actor, "POST", url, base) == 403:  # a reviewer's action
                fuzz.actors.still_signed_in("reviewer")
                actors = ["reviewer"]
            for who in actors:
                for field in fields:
                    for value in turn(counter, HOSTILE, 2):
                        fuzz.send(who, "POST", url, {**base, field: value}, f"{field}={value[:20]!r}")
                for field, values in sorted(offered.items()):
                    for choice in sorted(values)[:8]:
                        others = {name: value for name, value in zip(sorted(read | set(fields) - {field}),
                                                                     turn(counter, SHORT, len(read) + len(fields)))}
                        fuzz.send(who, "POST", url, {**base, **others, field: choice}, f"{field}={choice!r}, rest hostile")
                for value in turn(counter, SHORT, 2):
                    fuzz.send(who, "POST", url, {**base, **{name: value for name in set(fields) | read}},
                              f"every field={value[:20]!r}")
    assert fuzz.failures == [], f"{len(fuzz.failures)} of {fuzz.sent} requests answered 5xx: {fuzz.failures[:20]}"
    assert fuzz.sent > 100
    _assert_no_raw_line_breaks(caplog)


# Controls travel together here (a view treats a query value as one string): nine values per route.
QUERY_VALUES = ["9223372036854775808", "-1", "9" * 10_000, "²³", "２０２６－１１－３０", "a\x00b\r\nc\x1b[2J\u202e\u2028",
                "长" * 10_000, "2026-02-30", ""]


def test_no_query_parameter_answers_5xx(app, session, refs, caplog):
    """Every GET route with the query names its module reads, all at once, with every hostile value (and a
    repeated name); routes whose module reads no query string get three values of every name any view reads."""
    fuzz, counter = Fuzz(app), itertools.count()
    everywhere = sorted(names_read_by_views("args"))
    assert {"before", "week", "year", "q", "next", "stage", "again"} <= set(everywhere)
    urls = get_urls(refs)
    with caplog.at_level(logging.INFO):
        for rule in sorted(app.url_map.iter_rules(), key=lambda r: r.endpoint):
            if "GET" not in rule.methods or rule.endpoint == "static":
                continue
            actor = actor_for(rule.endpoint)
            path = urlsplit(urls.get(rule.endpoint, [None])[0] or sample_url(fuzz, refs, rule)).path
            read = sorted(names_read_by_views("args", Path(sys.modules[app.view_functions[rule.endpoint].__module__].__file__)))
            values = QUERY_VALUES if read else turn(counter, [v for v in QUERY_VALUES if len(v) < 1000], 3)
            for value in values:
                fuzz.send(actor, "GET", f"{path}?{urlencode({name: value for name in read or everywhere})}", None,
                          f"query {read or 'all'}={value[:20]!r}")
            if read:
                fuzz.send(actor, "GET", f"{path}?{urlencode([(name, v) for name in read for v in ('1', '2', '')])}")
    assert fuzz.failures == [], f"{len(fuzz.failures)} of {fuzz.sent} requests answered 5xx: {fuzz.failures[:20]}"
    assert fuzz.sent > 150
    _assert_no_raw_line_breaks(caplog)


def test_no_path_argument_answers_5xx(app, session, refs, caplog):
    """Each argument of each route's path (a reference, a page id, a year, a login id) given two hostile values,
    by every method the route answers."""
    fuzz, counter = Fuzz(app), itertools.count()
    with caplog.at_level(logging.INFO):
        for rule in sorted(app.url_map.iter_rules(), key=lambda r: r.endpoint):
            if not rule.arguments or rule.endpoint == "static":
                continue
            actor = actor_for(rule.endpoint)
            for method in sorted(rule.methods & {"GET", "POST"}):
                for argument in sorted(rule.arguments):
                    for value in turn(counter, HOSTILE, 2):
                        hostile = _with_argument(fuzz, refs, rule, argument, value)
                        if hostile:
                            fuzz.send(actor, method, hostile, {} if method == "POST" else None,
                                      f"<{argument}>={value[:20]!r}")
    assert fuzz.failures == [], f"{len(fuzz.failures)} of {fuzz.sent} requests answered 5xx: {fuzz.failures[:20]}"
    assert fuzz.sent > 100
    _assert_no_raw_line_breaks(caplog)


def _with_argument(fuzz: Fuzz, refs: Refs, rule, argument: str, value: str) -> str | None:
    """The sample URL of `rule` with one path argument replaced by `value`, percent-encoded as a browser would
    (an empty argument makes another URL, not a hostile one)."""
    if not value:
        return None
    marker = "zzzmarkzzz"
    if isinstance(rule._converters[argument], IntegerConverter):  # <int:…>: its sample's digits replaced instead
        sample = str(samples_for(refs, rule)[argument])
        return sample_url(fuzz, refs, rule).replace(f"/{sample}/", f"/{quote(value, safe='')}/", 1)
    return sample_url(fuzz, refs, rule, **{argument: marker}).replace(marker, quote(value, safe=""))


def _assert_no_raw_line_breaks(caplog) -> None:
    for record in caplog.records:
        message = record.getMessage()
        assert "\n" not in message and "\r" not in message and "\x1b" not in message, message[:200]


# ------------------------------------------------------------------------------------------------ HEAD is GET

def _all_rows(session) -> dict[str, int]:
    fresh(session)
    return {t.name: session.execute(select(func.count()).select_from(t)).scalar() for t in Base.metadata.sorted_tables}


def test_head_with_a_form_body_never_runs_the_post_branch(app, session, refs):
    """The assessment's HEAD with a form body rescheduled a booking and sent a code: Flask routes HEAD to a view
    that also takes POST, and CSRF protection does not cover HEAD. Every such view answers HEAD as it answers GET,
    with or without a token, and nothing is written."""
    fuzz = Fuzz(app)
    both = sorted(r.endpoint for r in app.url_map.iter_rules() if {"HEAD", "POST"} <= r.methods)
    assert {"auth.sign_in", "auth.bind", "bookings.change", "family.new"} <= set(both)
    for endpoint in both:
        actor = actor_for(endpoint)
        client = fuzz.actors.client(actor)
        url, form = post_case(endpoint, refs)
        got = client.get(url)
        before, rows = snapshot(session), _all_rows(session)
        for token in ({}, {"csrf_token": fuzz.actors.tokens[actor]}):
            head = client.open(url, method="HEAD", data={**form, **token})
            assert (head.status_code, head.data) == (got.status_code, b""), endpoint
        assert snapshot(session) == before and _all_rows(session) == rows, endpoint
    assert booking_of(session, ZHANG_POLICY, "nursing_aide").state == "scheduled"


# ------------------------------------------------------------------------------------------------ numbers

def test_a_log_page_number_past_2_63_is_ignored_not_a_500(app, session, refs):
    """`/family/log?before=9223372036854775808` answered 500 (an integer the database cannot hold)."""
    client = Actors(app).client("owner")
    first = client.get("/family/log")
    assert first.status_code == 200
    for before in ("9223372036854775808", "9" * 5000, "-1", "²", "１２", "0x10", "1e3"):
        response = client.get(f"/family/log?before={quote(before)}")
        assert response.status_code == 200, before
    assert client.get("/family/log?before=2147483647").status_code == 200
    act = client.post("/acting-for", data={"csrf_token": csrf_from(first.get_data(as_text=True)),
                                           "person_id": "9223372036854775808"})
    assert act.status_code == 404


def test_an_integer_in_a_path_past_the_database_is_404():
    from webapp.views.common import bounded_int

    assert [bounded_int(t) for t in ("7", " 7 ", "2147483647", "2147483648", "²", "-1", "", None, "9" * 5000)] == \
        [7, 7, 2147483647, None, None, None, None, None, None]
    assert bounded_int("0", low=1) is None and bounded_int("1439", low=1, high=1439) == 1439


# ------------------------------------------------------------------------------------------------ log lines

def test_a_line_break_in_a_path_or_a_value_cannot_forge_a_log_line(app, session, refs, caplog):
    """A path with %0D%0A used to write a second, invented line into the log (the refused-access and CSRF lines
    name the path). A path with a control character names nothing (404); other line separators and every
    control character in a logged value are escaped, so each record stays one line."""
    client = Actors(app).client("owner")
    forged = "2026-11-23 10:00:00 WARNING signed in account=1"
    with caplog.at_level(logging.INFO):
        assert client.get(f"/bookings/x%0D%0A{quote(forged)}").status_code == 404
        assert client.post(f"/bookings/x%E2%80%A8{quote(forged)}/cancel").status_code == 400  # no CSRF token: logged
        logging.getLogger("webapp.test").warning("value=%s", "a\r\nb\x1b[2J\u202ec\x85")
    messages = [r.getMessage() for r in caplog.records]
    assert any("\\u2028" + forged in m for m in messages), messages
    assert "value=a\\r\\nb\\x1b[2J\\u202ec\\x85" in messages
    _assert_no_raw_line_breaks(caplog)


def test_escape_controls():
    from webapp.logsafe import escape_controls

    assert escape_controls("plain 中文 text") == "plain 中文 text"
    assert escape_controls("a\nb\rc\td\x00e\x7f\x9f\u2029\u200e\u2066") == \
        "a\\nb\\rc\\td\\x00e\\x7f\\x9f\\u2029\\u200e\\u2066"


# ------------------------------------------------------------------------------------------------ names

def test_every_value_loses_nul_control_and_bidi_characters():
    from webapp.input_guard import strip_controls

    bidi = "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u200e\u200f"
    assert strip_controls(f"张{bidi}伟\x00\x01\x1f\x7f\x80\x9f\ufeff\u200b") == "张伟"
    assert strip_controls("line one\r\nline two\tend") == "line one\r\nline two\tend"  # a textarea keeps its lines
    assert strip_controls("𠮷野家 😀") == "𠮷野家 😀"


@pytest.fixture()
def insured_without_account(session, refs):
    from datetime import date

    from webapp.models import Policy, Product
    from webapp.services.accounts.identity import demo_resident_id
    from webapp.services.policy_years import anniversary

    product = fresh(session).scalar(select(Product).where(Product.code == "zhongan_vip"))
    insured = Person(name="赵敏", id_number=demo_resident_id("310104", date(1975, 2, 3), 515), birth_date=date(1975, 2, 3),
                     mobile=UNBOUND, created_at=NOW)
    session.add(insured)
    session.add(Policy(number="P003-BIND-0001", product=product, insured=insured, holder=insured,
                       effective_date=date(2026, 1, 1), expiry_date=anniversary(date(2026, 1, 1), 1), created_at=NOW))
    session.commit()
    return insured


def test_a_name_of_only_control_and_bidi_characters_is_refused_and_one_with_them_is_cleaned(
        app, session, insured_without_account):
    """Names were stored with NUL and bidi controls (NUL is a 500 on PostgreSQL; U+202E shows a name reversed)."""
    client = app.test_client()
    use_english(client)
    sign_in(client, UNBOUND)
    page = client.get("/bind").get_data(as_text=True)
    rows = _all_rows(session)
    empty = client.post("/bind", data={"csrf_token": csrf_from(page), "name": "\u202e\x00\u200f \u2066",
                                       "id_number": insured_without_account.id_number})
    assert empty.status_code == 422
    assert "Please enter the insured person&#39;s full name as on the ID card." in empty.get_data(as_text=True)
    assert _all_rows(session) == rows
    bound = client.post("/bind", data={"csrf_token": csrf_from(page), "name": "赵\x00敏\u202e",
                                       "id_number": insured_without_account.id_number})
    assert bound.status_code == 302
    account = fresh(session).scalar(select(Account).where(Account.mobile == UNBOUND))
    assert account.person_id == insured_without_account.id


def test_free_text_is_stored_without_nul_or_bidi_characters(app, session, refs):
    """A customer's note on a change of dates, as stored in the booking's history (JSON: PostgreSQL refuses
    \\u0000 there too)."""
    client = Actors(app).client("owner")
    token = csrf_from(client.get(f"/bookings/{refs.zhang_free}/change").get_data(as_text=True))
    response = client.post(f"/bookings/{refs.zhang_free}/change", data={
        "csrf_token": token, "dates": "12月1日\x00上午\u202e", "note": "请\u2066走\u2069东门\x1b[2J\r\n谢谢"})
    assert response.status_code == 303
    wishes = booking_of(session, ZHANG_POLICY, "nursing_aide").transitions[-1].detail["wishes"]
    assert wishes == {"dates": "12月1日上午", "note": "请走东门[2J\r\n谢谢"}  # ESC gone, the line break kept


# ------------------------------------------------------------------------------------------------ form parts

def test_too_many_form_parts_is_not_called_a_file_too_large(app, session, refs):
    """Werkzeug answers 413 both for a body over the limit and for more parts than MAX_FORM_PARTS: the second
    is said as what it is."""
    client = Actors(app).client("owner")
    use_english(client)
    parts = [("csrf_token", "x")] + [(f"f{i}", "1") for i in range(app.config["MAX_FORM_PARTS"] + 5)]
    boundary, body = encode_multipart(MultiDict(parts))
    assert len(body) < app.config["MAX_CONTENT_LENGTH"]
    response = client.post("/messages/read", data=body, content_type=f"multipart/form-data; boundary={boundary}")
    html = response.get_data(as_text=True)
    assert response.status_code == 413
    assert "That form sent too many parts at once. Please send fewer photos at a time; nothing was changed." in html
    assert "too large" not in html
    big = client.post("/messages/read", data={"csrf_token": "x", "note": "x" * (app.config["MAX_CONTENT_LENGTH"] + 1)})
    assert big.status_code == 413 and "That file is too large." in big.get_data(as_text=True)


# ------------------------------------------------------------------------------------------------ the server

def test_gunicorn_sends_no_server_header(database_url, engine, tmp_path):
    """`make run` serves through gunicorn with gunicorn.conf.py: no `Server: gunicorn` on any response."""
    import gunicorn
    import socket
    import subprocess

    sock = tmp_path / "g.sock"
    args = [str(Path(sys.executable).parent / "gunicorn"), "--config", str(ROOT / "gunicorn.conf.py"), "--workers", "1",
            "--bind", f"unix:{sock}", "--access-logfile", "-", "wsgi:app"]
    if int(gunicorn.__version__.split(".")[0]) >= 24:
        args.insert(-1, "--no-control-socket")
    env = {"PATH": "/usr/bin:/bin", "LVTONG_ENV": "test", "DATABASE_URL": database_url, "UPLOAD_DIR": str(tmp_path)}
    server = subprocess.Popen(args, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 30
        while not sock.exists():
            assert server.poll() is None and time.monotonic() < deadline, "gunicorn did not start"
            time.sleep(0.05)

        def ask(request: bytes) -> bytes:
            for _ in range(100):  # the socket exists a moment before the worker answers
                try:
                    with socket.socket(socket.AF_UNIX) as conn:
                        conn.connect(str(sock))
                        conn.sendall(request)
                        answer = b""
                        while chunk := conn.recv(65536):
                            answer += chunk
                        if answer:
                            return answer
                except ConnectionError:
                    pass
                time.sleep(0.05)
            raise AssertionError("no answer")

        for path in ("/healthz", "/no-such-page", "/sign-in"):
            head = ask(f"GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".encode()).split(b"\r\n\r\n")[0]
            assert head.startswith(b"HTTP/1.1 ") and b"\r\nserver:" not in head.lower(), head
    finally:
        server.terminate()
        output = server.communicate(timeout=30)[0].decode(errors="replace")
    assert '"GET /healthz HTTP/1.1" 200' in output, output

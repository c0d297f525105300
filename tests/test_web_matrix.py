"""Access control as a matrix: actor × resource × verb (SECURITY.md, "Requests and responses").

Every state-changing URL needs a sign-in (unless public by design), a CSRF token and ownership of what it
touches; a stranger gets 404 and changes nothing. Posted fields a form does not own are ignored. Every response
carries the security headers. GET never changes state. A 500 never shows a traceback.

The demo world (services/demo/demo.py) as of NOW: 张伟 (13800000001) with a nursing aide scheduled in 15 h (free to
cancel), a car pickup in 3 h (counted), a second opinion under review; 李娜 (13800000002), guardian of 李小明,
whose expert visit is approved; 王芳 (13800000003), unrelated.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import timedelta

import pytest
from sqlalchemy import select

from webapp.models import Account, AuditEvent, Booking, Document, DocumentPage, Notification, Person
from webapp.services.demo import demo

from .conftest import build_demo
from .web_helpers import (
    ADULT, NOW, OTHER, PARENT, booking_of, counts, csrf_from, fresh, human_answer, set_clock, sign_in, snapshot,
    text_of, use_english,
)

ZHANG_POLICY, CHILD_POLICY = "P003-DEMO-0002", "P003-DEMO-0005"
ESCORT = {"city": "上海", "hospital": "复旦大学附属中山医院", "department": "肿瘤内科", "meeting_at": "2026-11-30T09:00",
          "meeting_point": "门诊楼一楼大厅"}


@dataclass
class Refs:
    zhang_free: str  # nursing aide, scheduled, free to cancel or change
    zhang_counted: str  # car pickup, scheduled, inside its 4-hour cutoff
    zhang_review: str  # second opinion, under review (withdraw)
    child: str  # 李小明's expert visit, approved, applied for by his guardian
    wang: str  # 王芳's expert visit, applied


@pytest.fixture()
def refs(app, session) -> Refs:
    build_demo(session, NOW)
    set_clock(app, NOW)
    return Refs(
        zhang_free=booking_of(session, ZHANG_POLICY, "nursing_aide").reference,
        zhang_counted=booking_of(session, ZHANG_POLICY, "car_pickup").reference,
        zhang_review=booking_of(session, ZHANG_POLICY, "second_opinion").reference,
        child=booking_of(session, CHILD_POLICY, "expert_outpatient").reference,
        wang=booking_of(session, "P001-DEMO-0006", "expert_outpatient").reference,
    )


MOBILES = {"owner": ADULT, "stranger": OTHER, "guardian": PARENT}


def client_as(app, actor: str):
    """A client signed in as `actor` (anonymous: a fresh client that has opened the sign-in page)."""
    client = app.test_client()
    if actor == "anonymous":
        client.get("/sign-in")
        return client
    sign_in(client, MOBILES[actor])
    return client


def token_of(client) -> str:
    """The CSRF token of this client's session, read from a page like a browser would."""
    for path in ("/home", "/sign-in", "/"):
        response = client.get(path)
        if response.status_code == 200:
            return csrf_from(response.get_data(as_text=True))
    raise AssertionError("no page with a form")


# ------------------------------------------------------------------------------------------------ the matrix

def post_case(endpoint: str, refs: Refs, whose: str = "zhang") -> tuple[str, dict]:
    """A request to `endpoint` that would change something if allowed, on 张伟's or the child's resource."""
    ref = refs.zhang_free if whose == "zhang" else refs.child
    policy = ZHANG_POLICY if whose == "zhang" else CHILD_POLICY
    return {
        "main.set_language": ("/language", {"locale": "en", "next": "/"}),
        "main.set_care": ("/care", {"care": "on", "next": "/"}),
        "auth.sign_in": ("/sign-in", {"mobile": ADULT}),
        "auth.verify": ("/sign-in/verify", {"mobile": ADULT, "code": "123456"}),
        "auth.bind": ("/bind", {"name": "张伟", "id_number": "11010519800101101X"}),
        "auth.sign_out": ("/sign-out", {}),
        "auth.reclaim_request": ("/identity/reclaim", {"name": "张伟", "id_number": "11010519800101101X"}),
        "auth.bind_cancel": ("/bind/cancel", {}),
        "staff.identity_reclaim_approve": ("/staff/identity/reclaims/rc-none-0000/approve", {"note": "ID card seen"}),
        "staff.identity_reclaim_reject": ("/staff/identity/reclaims/rc-none-0000/reject", {"note": "no answer"}),
        "staff.identity_claim_verify": ("/staff/identity/claims/1/verify", {"note": "ID card seen"}),
        "staff.identity_claim_refuse": ("/staff/identity/claims/1/refuse", {"note": "no answer"}),
        "portal.mark_read": ("/messages/read", {}),
        "bookings.cancel": (f"/bookings/{ref}/cancel", {}),
        "bookings.change": (f"/bookings/{ref}/change", {"dates": "12月1日上午", "note": ""}),
        "bookings.decline_alternatives": (f"/bookings/{ref}/decline-alternatives", {}),
        "apply.review": (f"/apply/{policy}/escort_outpatient", {**ESCORT, "request_key": "rk-matrix"}),
        "apply.confirm": (f"/apply/{policy}/escort_outpatient/confirm", {**ESCORT, "request_key": "rk-matrix"}),
        "apply.check_field": (f"/apply/{policy}/escort_outpatient/field/department", {**ESCORT, "department": "产科"}),
        "papers.upload": (f"/bookings/{ref}/papers/medical_records", {}),
        "papers.remove": (f"/bookings/{ref}/papers/pages/{PAGE}/remove", {}),
        "papers.send": (f"/bookings/{ref}/papers/send", {}),
        "papers.grant_upload": ("/family/requests/demo-agent-zhou/papers/applicant_id", {}),
        "papers.grant_remove": (f"/family/requests/demo-agent-zhou/papers/pages/{PAGE}/remove", {}),
        "papers.grant_send": ("/family/requests/demo-agent-zhou/papers/send", {}),
        "family.new": ("/family/new", {"kind": "power_of_attorney", "insured_name": "王芳", "relationship": "spouse"}),
        "family.withdraw_request": ("/family/requests/demo-agent-zhou/withdraw", {}),
        "family.approve": ("/family/grants/demo-agent-zhou/approve", {"scopes": "apply"}),
        "family.decline": ("/family/grants/demo-agent-zhou/decline", {}),
        "family.revoke": ("/family/grants/demo-agent-zhou/revoke", {}),
        "family.act_for": ("/acting-for", {"person_id": "1"}),
        "staff.access_decide_page": (f"/staff/access/demo-agent-zhou/pages/{PAGE}/decide", {"decision": "accepted"}),
        "staff.access_verify": ("/staff/access/demo-agent-zhou/verify", {}),
        "staff.access_reject": ("/staff/access/demo-agent-zhou/reject", {"reason": "other"}),
        "staff.access_revoke": ("/staff/access/demo-guardian-li/revoke", {}),
        "staff.booking_decide_page": (f"/staff/bookings/{ref}/pages/{PAGE}/decide", {"decision": "accepted"}),
        "staff.booking_approve": (f"/staff/bookings/{refs.child}/approve", {}),
        "staff.booking_reject": (f"/staff/bookings/{refs.wang}/reject", {"reason": "other", "note": "x"}),
        "staff.booking_schedule": (f"/staff/bookings/{refs.child}/schedule", ARRANGED),
        "staff.booking_failed": (f"/staff/bookings/{refs.child}/failed", {"asked_for": "王主任", "alternatives": "李主任"}),
        "staff.booking_release": (f"/staff/bookings/{refs.child}/release", {}),
        "staff.booking_admission_slip": (f"/staff/bookings/{refs.child}/admission-slip", {"issued_on": "2026-11-20"}),
        "staff.booking_diagnosis_stage": (f"/staff/bookings/{refs.wang}/diagnosis-stage", {"stage": "suspected"}),
        "staff.booking_diagnosis": (f"/staff/bookings/{refs.wang}/diagnosis", {
            "certainty": "confirmed", "diagnosed_on": "2026-06-01", "hospital": "瑞金医院", "hospital_grade": "3A"}),
        "staff.booking_close": (f"/staff/bookings/{ref}/close", {"decision": "cancel"}),
        "staff.booking_reverse": (f"/staff/bookings/{ref}/reverse", {"reason": "appeal"}),
        "staff.booking_reveal_numbers": (f"/staff/bookings/{ref}/numbers", {}),
        "staff.booking_call_outcome": (f"/staff/bookings/{ref}/calls", {"outcome": "no_answer", "note": "matrix"}),
        "staff.calendar_day": ("/staff/calendar/day", {"date": "2027-02-20", "status": "workday", "name": "调休"}),
        "staff.calendar_import": ("/staff/calendar/import", {"year": "2027", "schedule": "2027-01-01,rest,元旦"}),
        "staff.calendar_publish": ("/staff/calendar/2027/publish", {}),
        "account.end_login": ("/account/logins/999999/end", {}),
        "account.end_others": ("/account/logins/end-others", {}),
        "account.end_all": ("/account/logins/end-all", {}),
        "staff.account_disable": ("/staff/accounts/disable", {"mobile": ADULT, "reason": "matrix"}),
        "staff.account_enable": ("/staff/accounts/enable", {"mobile": ADULT, "reason": "matrix"}),
        "staff.desk_find": ("/staff/desk/find", {"q": ADULT}),
        "staff.desk_submit": (DESK_FORM, {**ESCORT, "request_key": "rk-desk"}),
        "staff.desk_check_field": (DESK_FORM.replace("/apply?", "/apply/field?") + "&name=department", ESCORT),
        "desk_link.send_code": (NO_LINK, {}),
        "desk_link.sign_in": (NO_LINK + "/sign-in", {"code": "123456"}),
        "bookings.confirm_day": (f"/bookings/{ref}/confirm-day", {}),
        "staff.tomorrow_call": (f"/staff/tomorrow/{ref}/call", {"outcome": "confirmed_phone", "note": "matrix"}),
    }[endpoint]


DESK_FORM = f"/staff/desk/apply?policy={ZHANG_POLICY}&service=escort_outpatient"
NO_LINK = "/l/" + "x" * 43  # a desk link's shape, naming none


ARRANGED = {"hospital": "复旦大学附属中山医院", "department": "儿科", "date": "2026-11-27", "time": "09:00",
            "meeting_point": "门诊楼大厅", "escort_mobile": "13900001234"}


POST_ENDPOINTS = [
    "main.set_language", "main.set_care", "auth.sign_in", "auth.verify", "auth.bind", "auth.sign_out", "portal.mark_read",
    "auth.reclaim_request", "auth.bind_cancel", "staff.identity_reclaim_approve", "staff.identity_reclaim_reject",
    "staff.identity_claim_verify", "staff.identity_claim_refuse",
    "bookings.cancel", "bookings.change", "bookings.decline_alternatives", "apply.review", "apply.confirm", "apply.check_field",
    "papers.upload", "papers.remove", "papers.send", "papers.grant_upload", "papers.grant_remove", "papers.grant_send",
    "family.new", "family.withdraw_request", "family.approve", "family.decline", "family.revoke", "family.act_for",
    "staff.access_decide_page", "staff.access_verify", "staff.access_reject", "staff.access_revoke",
    "staff.booking_decide_page", "staff.booking_approve", "staff.booking_reject", "staff.booking_schedule",
    "staff.booking_failed", "staff.booking_release", "staff.booking_close", "staff.booking_reverse",
    "staff.booking_admission_slip", "staff.booking_diagnosis_stage", "staff.booking_diagnosis",
    "staff.booking_reveal_numbers", "staff.booking_call_outcome",
    "staff.calendar_day", "staff.calendar_import", "staff.calendar_publish",
    "account.end_login", "account.end_others", "account.end_all", "staff.account_disable", "staff.account_enable",
    "staff.desk_find", "staff.desk_submit", "staff.desk_check_field", "desk_link.send_code", "desk_link.sign_in",
    "bookings.confirm_day", "staff.tomorrow_call",
]
PAGE = "pg-none-0000"  # a page id that names no page: the URL still has to be refused before it is looked up
PUBLIC_BY_DESIGN = {"main.set_language", "main.set_care", "auth.sign_in", "auth.verify", "desk_link.send_code",
                    "desk_link.sign_in"}
OWNED = ["bookings.cancel", "bookings.change", "bookings.decline_alternatives", "apply.review", "apply.confirm", "apply.check_field",
         "papers.upload", "papers.remove", "papers.send", "bookings.confirm_day"]


def test_the_matrix_covers_every_post_route(app):
    posting = {rule.endpoint for rule in app.url_map.iter_rules() if "POST" in rule.methods}
    assert posting == set(POST_ENDPOINTS), "a POST route without a matrix entry: add it to POST_ENDPOINTS"
    state_changing = {rule.endpoint for rule in app.url_map.iter_rules()
                      if rule.methods & {"PUT", "PATCH", "DELETE"}}
    assert state_changing == set()  # forms only post; a new verb needs its own rows here


@pytest.mark.parametrize("actor", ["anonymous", "owner"])
@pytest.mark.parametrize("endpoint", POST_ENDPOINTS)
def test_no_csrf_token_is_400_and_changes_nothing(app, session, refs, endpoint, actor):
    client = client_as(app, actor)
    url, form = post_case(endpoint, refs)
    before, rows = snapshot(session), counts(session)
    response = client.post(url, data=form)
    assert response.status_code == 400 and 'data-testid="error"' in response.get_data(as_text=True)
    assert snapshot(session) == before and counts(session) == rows
    # A token from somebody else's session is no better.
    other = client_as(app, "anonymous")
    response = client.post(url, data={**form, "csrf_token": token_of(other)})
    assert response.status_code == 400
    assert snapshot(session) == before and counts(session) == rows
    if actor == "owner":
        assert client.get("/home").status_code == 200  # still signed in (sign-out needs the token too)


@pytest.mark.parametrize("endpoint", ["bookings.cancel", "bookings.change", "portal.mark_read", "apply.confirm"])
def test_the_htmx_header_token_is_accepted(app, session, refs, endpoint):
    """htmx sends the token from <body hx-headers> as X-CSRFToken instead of a form field."""
    client = client_as(app, "owner")
    body = client.get("/home").get_data(as_text=True)
    header_token = re.search(r'hx-headers=\'\{"X-CSRFToken": "([^"]+)"\}\'', body).group(1)
    url, form = post_case(endpoint, refs)
    before = snapshot(session)
    response = client.post(url, data=form, headers={"HX-Request": "true", "X-CSRFToken": header_token})
    assert response.status_code in (204, 303)
    assert snapshot(session) != before


def test_a_csrf_failure_in_htmx_is_a_fragment_asking_to_refresh(app, session, refs):
    client = client_as(app, "owner")
    use_english(client)
    response = client.post(f"/bookings/{refs.zhang_free}/cancel", headers={"HX-Request": "true"})
    html = response.get_data(as_text=True)
    assert response.status_code == 400 and "<html" not in html
    assert "This page has expired. Please refresh it and try again; nothing was changed." in text_of(html)
    assert booking_of(session, ZHANG_POLICY, "nursing_aide").state == "scheduled"


@pytest.mark.parametrize("endpoint", [e for e in POST_ENDPOINTS if e not in PUBLIC_BY_DESIGN])
def test_signed_out_posts_go_to_sign_in(app, session, refs, endpoint):
    client = client_as(app, "anonymous")
    url, form = post_case(endpoint, refs)
    before, rows = snapshot(session), counts(session)
    response = client.post(url, data={**form, "csrf_token": token_of(client)})
    assert response.status_code == 302 and response.headers["Location"] == "/sign-in"
    assert snapshot(session) == before and counts(session) == rows
    htmx = client.post(url, data={**form, "csrf_token": token_of(client)}, headers={"HX-Request": "true"})
    if endpoint != "auth.sign_out":  # signing out when signed out simply shows the sign-in page
        assert htmx.status_code == 401 and htmx.headers["HX-Redirect"] == "/sign-in"
    assert snapshot(session) == before


PAGE_OF = {  # the page whose form posts to the endpoint
    "portal.mark_read": "/messages",
    "bookings.cancel": "/bookings/{ref}",
    "bookings.change": "/bookings/{ref}/change",
    "apply.review": "/apply/{policy}/escort_outpatient",
    "apply.confirm": "/apply/{policy}/escort_outpatient",
    "apply.check_field": "/apply/{policy}/escort_outpatient",
    "papers.upload": "/bookings/{ref}/papers",
    "papers.send": "/bookings/{ref}/papers",
}


@pytest.mark.parametrize("endpoint", sorted(PAGE_OF))
def test_a_signed_out_post_returns_to_its_page_after_sign_in(app, session, refs, endpoint):
    """An expired login, then a form post: sign in again and come back to the page of the form (not the
    POST-only URL, which would answer 405)."""
    client = client_as(app, "anonymous")
    url, form = post_case(endpoint, refs)
    page = PAGE_OF[endpoint].format(ref=refs.zhang_free, policy=ZHANG_POLICY)
    response = client.post(url, data={**form, "csrf_token": token_of(client)},
                           headers={"Referer": f"http://localhost{page}"})
    assert response.status_code == 302 and response.headers["Location"] == f"/sign-in?next={page}"
    landed = sign_in(client, ADULT, next=page)
    assert landed.headers["Location"] == page
    assert client.get(page).status_code == 200
    assert booking_of(session, ZHANG_POLICY, "nursing_aide").state == "scheduled"  # the POST itself was not replayed


def test_a_foreign_referer_is_not_a_place_to_return_to(app, session, refs):
    client = client_as(app, "anonymous")
    response = client.post("/messages/read", data={"csrf_token": token_of(client)},
                           headers={"Referer": "https://evil.example/messages"})
    assert response.status_code == 302 and response.headers["Location"] == "/sign-in"


@pytest.mark.parametrize("endpoint, status", [
    ("main.set_language", 303), ("main.set_care", 303), ("auth.sign_in", 200), ("auth.verify", 422),
    ("desk_link.send_code", 404), ("desk_link.sign_in", 404),  # a link that names none: nothing to sign in to
])
def test_public_posts_work_signed_out(app, session, refs, endpoint, status):
    client = client_as(app, "anonymous")
    url, form = post_case(endpoint, refs)
    token = token_of(client)
    if endpoint == "auth.sign_in":  # a new phone answers the page's question for a person first (issue 17 item 4)
        page = client.get("/sign-in").get_data(as_text=True)
        form, token = {**form, **human_answer(page)}, csrf_from(page)
    before = snapshot(session)
    response = client.post(url, data={**form, "csrf_token": token})
    assert response.status_code == status
    assert snapshot(session) == before  # no booking data is touched by them


@pytest.mark.parametrize("actor", ["stranger", "guardian"])
@pytest.mark.parametrize("endpoint", OWNED)
def test_someone_else_gets_404_and_changes_nothing(app, session, refs, endpoint, actor):
    """王芳 (a stranger) and 李娜 (a guardian, but not of 张伟) on 张伟's bookings (free, counted, under review)
    and policy, as a page and as an htmx request."""
    client = client_as(app, actor)
    url, form = post_case(endpoint, refs)
    before, rows = snapshot(session), counts(session)
    for target in (refs.zhang_free, refs.zhang_counted, refs.zhang_review):
        for headers in ({}, {"HX-Request": "true"}):
            response = client.post(url.replace(refs.zhang_free, target), data={**form, "csrf_token": token_of(client)},
                                   headers=headers)
            html = response.get_data(as_text=True)
            assert response.status_code == 404, (target, headers)
            assert 'data-testid="error"' in html and ("<html" in html) is (not headers)
    assert snapshot(session) == before
    after = counts(session)
    for table in ("bookings", "entitlements", "booking_transitions", "notifications", "sign_in_codes", "rate_hits"):
        assert after[table] == rows[table], table


def test_refused_booking_access_is_audited(app, session, refs):
    client = client_as(app, "stranger")
    client.post(f"/bookings/{refs.zhang_free}/cancel", data={"csrf_token": token_of(client)},
                environ_base={"REMOTE_ADDR": "10.1.1.1"})
    wang = fresh(session).scalar(select(Account).where(Account.mobile == OTHER))
    event = session.scalar(select(AuditEvent).where(AuditEvent.action == "access.refused"))
    assert (event.actor_account_id, event.target, event.ip) == (wang.id, f"booking-ref:{refs.zhang_free}", "10.1.1.1")


def test_the_guardian_acts_on_the_childs_booking(app, session, refs):
    client = client_as(app, "guardian")
    url, form = post_case("bookings.cancel", refs, whose="child")
    response = client.post(url, data={"csrf_token": token_of(client)})
    assert response.status_code == 303 and response.headers["Location"] == f"/bookings/{refs.child}"
    child = booking_of(session, CHILD_POLICY, "expert_outpatient")
    assert child.state == "withdrawn" and child.transitions[-1].actor_role == "proxy"
    assert child.entitlement.held == 0 and child.entitlement.used == 0


@pytest.mark.parametrize("endpoint, status", [
    ("apply.review", 200), ("apply.check_field", 200), ("bookings.change", 303),
])
def test_the_guardian_may_use_the_childs_forms(app, session, refs, endpoint, status):
    client = client_as(app, "guardian")
    url, form = post_case(endpoint, refs, whose="child")
    before = snapshot(session)
    response = client.post(url, data={**form, "csrf_token": token_of(client)})
    assert response.status_code == status
    assert snapshot(session) == before  # review and check only look; change of an unscheduled booking redirects


def test_the_guardian_applies_for_the_child(app, session, refs):
    client = client_as(app, "guardian")
    url, form = post_case("apply.confirm", refs, whose="child")
    response = client.post(url, data={**form, "csrf_token": token_of(client)})
    assert response.status_code == 303
    reference = response.headers["Location"].rsplit("/", 1)[1]
    created = fresh(session).scalar(select(Booking).where(Booking.reference == reference))
    parent = session.scalar(select(Account).where(Account.mobile == PARENT))
    assert (created.policy.number, created.applicant_account_id, created.acting_as) == (CHILD_POLICY, parent.id, "guardian")


def test_marking_messages_read_touches_only_ones_own(app, session, refs):
    zhang = session.scalar(select(Account).where(Account.mobile == ADULT))
    wang = session.scalar(select(Account).where(Account.mobile == OTHER))

    def unread(account_id):
        return len(fresh(session).scalars(select(Notification).where(Notification.account_id == account_id,
                                                                       Notification.read_at.is_(None))).all())
    zhang_unread, wang_unread = unread(zhang.id), unread(wang.id)
    assert zhang_unread > 0 and wang_unread > 0
    client = client_as(app, "stranger")
    response = client.post("/messages/read", data={"csrf_token": token_of(client), "user_id": str(zhang.id),
                                                   "account_id": str(zhang.id)})
    assert response.status_code == 303 and response.headers["Location"] == "/messages"
    assert unread(wang.id) == 0 and unread(zhang.id) == zhang_unread


def test_a_bound_account_cannot_bind_to_someone_else(app, session, refs):
    zhang = session.scalar(select(Person).where(Person.name == "张伟"))
    client = client_as(app, "stranger")
    response = client.post("/bind", data={"csrf_token": token_of(client), "name": "张伟", "id_number": zhang.id_number})
    assert response.status_code == 302 and response.headers["Location"] == "/home"
    wang = fresh(session).scalar(select(Account).where(Account.mobile == OTHER))
    assert wang.person_id != zhang.id


# ------------------------------------------------------------------------------------------------ GET pages

def get_pages(refs: Refs, ref: str, policy: str) -> list[str]:
    return [f"/bookings/{ref}", f"/bookings/{ref}/cancel", f"/bookings/{ref}/change", f"/apply/{policy}/escort_outpatient"]


@pytest.mark.parametrize("actor", ["stranger", "guardian"])
def test_pages_of_someone_else_answer_404(app, session, refs, actor):
    client = client_as(app, actor)
    theirs = get_pages(refs, refs.zhang_free, ZHANG_POLICY)
    # Exactly what a reference or policy that does not exist answers: no oracle for guessing.
    missing = get_pages(refs, "LTNOSUCH22", "P999-NONE")
    for url, nothing in zip(theirs, missing):
        for headers in ({}, {"HX-Request": "true"}):
            response, other = client.get(url, headers=headers), client.get(nothing, headers=headers)
            assert (response.status_code, other.status_code) == (404, 404), url
            assert _without_tokens(response.get_data(as_text=True)) == _without_tokens(other.get_data(as_text=True))


def _without_tokens(html: str) -> str:
    html = re.sub(r'value="[^"]{40,}"', 'value="T"', html)
    html = re.sub(r'"X-CSRFToken": "[^"]+"', '"X-CSRFToken": "T"', html)
    return re.sub(r'name="next" value="[^"]*"', 'name="next" value=""', html)


@pytest.mark.parametrize("actor, whose, statuses", [
    ("owner", "zhang", (200, 200, 200, 200)),
    ("guardian", "child", (200, 200, 303, 200)),  # the child's booking is not scheduled: change redirects
])
def test_pages_of_ones_own_open(app, session, refs, actor, whose, statuses):
    client = client_as(app, actor)
    ref, policy = (refs.zhang_free, ZHANG_POLICY) if whose == "zhang" else (refs.child, CHILD_POLICY)
    assert tuple(client.get(url).status_code for url in get_pages(refs, ref, policy)) == statuses


def test_the_stranger_sees_neither_booking_nor_name_in_lists(app, session, refs):
    client = client_as(app, "stranger")
    listing = client.get("/bookings").get_data(as_text=True)
    assert refs.zhang_free not in listing and "张伟" not in listing and refs.wang in listing
    home = client.get("/home").get_data(as_text=True)
    assert ZHANG_POLICY not in home and "张伟" not in home


# ------------------------------------------------------------------------------------------------ posted fields

def test_apply_ignores_fields_the_form_does_not_own(app, session, refs):
    client = client_as(app, "owner")
    wang = session.scalar(select(Account).where(Account.mobile == OTHER))
    sneaky = {"state": "completed", "status": "approved", "user_id": str(wang.id), "used": "0",
              "applicant_account_id": str(wang.id), "acting_as": "staff", "policy_id": "1", "units": "9",
              "entitlement_id": "1"}
    form = {**ESCORT, **sneaky, "request_key": "rk-sneaky", "csrf_token": token_of(client)}
    review = client.post(f"/apply/{ZHANG_POLICY}/escort_outpatient", data=form)
    assert review.status_code == 200 and 'data-testid="consequence"' in review.get_data(as_text=True)
    response = client.post(f"/apply/{ZHANG_POLICY}/escort_outpatient/confirm", data=form)
    assert response.status_code == 303
    created = fresh(session).scalar(select(Booking).where(Booking.request_key == "rk-sneaky"))
    zhang = session.scalar(select(Account).where(Account.mobile == ADULT))
    assert (created.state, created.applicant_account_id, created.acting_as, created.units) == ("applied", zhang.id, "self", 1)
    assert created.policy.number == ZHANG_POLICY and created.service.code == "escort_outpatient"
    assert set(created.details) <= {"city", "hospital", "department", "meeting_at", "meeting_point", "visit_type"}
    assert not set(sneaky) & set(created.details)
    assert (created.entitlement.held, created.entitlement.used) == (1, 1)  # one completed escort before, one held now


def test_cancel_ignores_a_posted_state(app, session, refs):
    """The car pickup is inside its 4-hour cutoff: posting state=cancelled_free does not make it free."""
    client = client_as(app, "owner")
    response = client.post(f"/bookings/{refs.zhang_counted}/cancel",
                           data={"csrf_token": token_of(client), "state": "cancelled_free", "status": "cancelled_free",
                                 "used": "0", "outcome": "free"})
    assert response.status_code == 303
    car = booking_of(session, ZHANG_POLICY, "car_pickup")
    assert car.state == "cancelled_counted" and car.transitions[-1].rule == "hours_before:4"
    assert (car.entitlement.held, car.entitlement.used) == (0, 1)


def test_change_ignores_a_posted_state_and_time(app, session, refs):
    client = client_as(app, "owner")
    response = client.post(f"/bookings/{refs.zhang_free}/change",
                           data={"csrf_token": token_of(client), "dates": "12月1日", "state": "completed",
                                 "starts_at": "2026-11-24T08:00:00+08:00", "used": "0"})
    assert response.status_code == 303
    aide = booking_of(session, ZHANG_POLICY, "nursing_aide")
    assert (aide.state, aide.starts_at) == ("approved", None)
    assert aide.transitions[-1].detail["wishes"] == {"dates": "12月1日", "note": ""}
    assert (aide.entitlement.held, aide.entitlement.used) == (7, 0)


# ------------------------------------------------------------------------------------------------ headers

CSP_MUST = ("default-src 'self'", "object-src 'none'", "base-uri 'none'", "frame-ancestors 'none'")


def _assert_headers(response, signed_in: bool, what: str):
    headers = response.headers
    csp = headers.get("Content-Security-Policy", "")
    assert all(d in csp for d in CSP_MUST), (what, csp)
    assert "unsafe-inline" not in csp and "unsafe-eval" not in csp, what
    assert headers.get("X-Content-Type-Options") == "nosniff", what
    assert headers.get("Referrer-Policy") == "strict-origin-when-cross-origin", what
    assert "HX-Request" in [v.strip() for v in headers.get("Vary", "").split(",")], what
    if signed_in:
        assert "no-store" in headers.get("Cache-Control", ""), what


HEADER_CASES = [
    # (name, actor, method, path template, htmx)
    ("landing", "anonymous", "GET", "/", False),
    ("sign-in page", "anonymous", "GET", "/sign-in", False),
    ("health", "anonymous", "GET", "/healthz", False),
    ("static", "anonymous", "GET", "/static/css/app.css", False),
    ("redirect to sign-in", "anonymous", "GET", "/home", False),
    ("htmx 401", "anonymous", "GET", "/bookings/{free}", True),
    ("not found", "anonymous", "GET", "/no-such-page", False),
    ("method not allowed", "anonymous", "GET", "/sign-out", False),
    ("csrf error", "anonymous", "POST", "/language", False),
    ("csrf error fragment", "owner", "POST", "/bookings/{free}/cancel", True),
    ("home", "owner", "GET", "/home", False),
    ("bookings", "owner", "GET", "/bookings", False),
    ("booking", "owner", "GET", "/bookings/{free}", False),
    ("cancel page", "owner", "GET", "/bookings/{free}/cancel", False),
    ("cancel fragment", "owner", "GET", "/bookings/{free}/cancel", True),
    ("change fragment", "owner", "GET", "/bookings/{free}/change", True),
    ("apply form", "owner", "GET", "/apply/" + ZHANG_POLICY + "/escort_outpatient", False),
    ("messages", "owner", "GET", "/messages", False),
    ("signed-in 404", "owner", "GET", "/no-such-page", False),
    ("signed-in 404 fragment", "owner", "GET", "/no-such-page", True),
    ("stranger 404", "stranger", "GET", "/bookings/{free}", False),
    ("stranger 404 fragment", "stranger", "GET", "/bookings/{free}/cancel", True),
    ("signed-in 405", "owner", "GET", "/messages/read", False),
]


@pytest.mark.parametrize("name, actor, method, path, htmx", HEADER_CASES, ids=[c[0] for c in HEADER_CASES])
def test_security_headers_on_every_response(app, session, refs, name, actor, method, path, htmx):
    client = client_as(app, actor)
    headers = {"HX-Request": "true"} if htmx else {}
    with client.open(path.format(free=refs.zhang_free), method=method, headers=headers) as response:
        _assert_headers(response, signed_in=actor != "anonymous", what=name)


def test_security_headers_on_posts_fragments_and_redirects(app, session, refs):
    client = client_as(app, "owner")
    token = token_of(client)
    responses = {
        "field check fragment": client.post(f"/apply/{ZHANG_POLICY}/escort_outpatient/field/department",
                                            data={**ESCORT, "department": "产科", "csrf_token": token},
                                            headers={"HX-Request": "true"}),
        "review fragment": client.post(f"/apply/{ZHANG_POLICY}/escort_outpatient",
                                       data={**ESCORT, "csrf_token": token}, headers={"HX-Request": "true"}),
        "422 form": client.post(f"/apply/{ZHANG_POLICY}/escort_outpatient", data={"csrf_token": token}),
        "cancel redirect": client.post(f"/bookings/{refs.zhang_review}/cancel", data={"csrf_token": token}),
        "mark read redirect": client.post("/messages/read", data={"csrf_token": token}),
    }
    for name, response in responses.items():
        assert response.status_code in (200, 303, 422), name
        _assert_headers(response, signed_in=True, what=name)
    out = client.post("/sign-out", data={"csrf_token": token})
    _assert_headers(out, signed_in=False, what="sign-out")


# ------------------------------------------------------------------------------------------------ GET is safe

def get_urls(refs: Refs) -> dict[str, list[str]]:
    """Sample URLs for every GET route, including a few states of bookings."""
    return {
        "static": ["/static/css/app.css", "/static/vendor/htmx.min.js"],
        "main.index": ["/"],
        "main.healthz": ["/healthz"],
        "main.help_page": ["/help"],
        "auth.sign_in": ["/sign-in", "/sign-in?next=/bookings"],
        "auth.bind": ["/bind"],
        "auth.reclaim_request": ["/identity/reclaim"],
        "staff.identity_queue": ["/staff/identity"],
        "staff.identity_reclaim": ["/staff/identity/reclaims/rc-none-0000", "/staff/identity/reclaims/" + "x" * 40],
        "staff.identity_claim": ["/staff/identity/claims/1", "/staff/identity/claims/99999999999999999999"],
        "portal.home": ["/home"],
        "portal.messages": ["/messages"],
        "bookings.index": ["/bookings"],
        "bookings.detail": [f"/bookings/{r}" for r in (refs.zhang_free, refs.zhang_counted, refs.zhang_review, refs.child, refs.wang)],
        "bookings.confirm_cancel": [f"/bookings/{r}/cancel" for r in (refs.zhang_free, refs.zhang_counted, refs.zhang_review, refs.child)],
        "bookings.change": [f"/bookings/{r}/change" for r in (refs.zhang_free, refs.zhang_counted, refs.child)],
        "apply.start": [f"/apply/{ZHANG_POLICY}/escort_outpatient", f"/apply/{CHILD_POLICY}/car_pickup",
                        "/apply/P000-DEMO-0001/expert_outpatient"],
        "papers.checklist": [f"/bookings/{r}/papers" for r in (refs.zhang_review, refs.child, refs.wang)],
        # Real pages are in test_page_images_by_actor (the demo's papers cost a second to build).
        "papers.image": [f"/papers/{PAGE}/image"],
        "papers.thumbnail": [f"/papers/{PAGE}/thumb"],
        "family.index": ["/family"],
        "family.new": ["/family/new"],
        "family.request_detail": ["/family/requests/demo-agent-zhou", "/family/requests/demo-guardian-li"],
        "family.log": ["/family/log"],
        "family.switch": ["/acting-for"],
        "staff.access_queue": ["/staff/access", "/staff/access?show=granted"],
        "staff.access_request": ["/staff/access/demo-agent-zhou"],
        "staff.queue": ["/staff/", "/staff/?stage=all&product=cigc_classic&q=%25"],
        "staff.booking": [f"/staff/bookings/{r}" for r in (refs.zhang_free, refs.child)],
        "staff.page": [f"/staff/bookings/{refs.child}/pages/{PAGE}"],
        "staff.calendar": ["/staff/calendar", "/staff/calendar?year=2027"],
        "staff.report": ["/staff/report", "/staff/report?week=2026-11-11&product=cigc_classic"],
        "staff.report_csv": ["/staff/report.csv?week=2026-11-11"],
        "staff.report_xlsx": ["/staff/report.xlsx?week=2026-11-11"],
        "staff.report_cases_csv": ["/staff/report-cases.csv?week=2026-11-11"],
        "account.logins_page": ["/account/logins"],
        "staff.accounts": ["/staff/accounts", f"/staff/accounts?mobile={ADULT}", "/staff/accounts?mobile=x"],
        "staff.desk": ["/staff/desk"],
        "staff.desk_form": [DESK_FORM, "/staff/desk/apply", "/staff/desk/apply?policy=P999-NONE&service=x"],
        "desk_link.open_link": [NO_LINK, "/l/short"],
        "staff.tomorrow": ["/staff/tomorrow"],
    }


def test_every_get_route_has_sample_urls(app, refs):
    getting = {rule.endpoint for rule in app.url_map.iter_rules() if "GET" in rule.methods}
    assert getting == set(get_urls(refs)), "a GET route without sample URLs: add it to get_urls"


@pytest.mark.parametrize("actor", ["anonymous", "owner", "stranger", "guardian"])
def test_get_never_changes_state(app, session, refs, actor):
    client = client_as(app, actor)
    before, rows = snapshot(session), counts(session)
    statuses = {}
    for urls in get_urls(refs).values():
        for url in urls:
            for headers in ({}, {"HX-Request": "true"}):
                with client.get(url, headers=headers) as response:
                    statuses[url] = response.status_code
    assert all(status in (200, 302, 303, 401, 403, 404) for status in statuses.values()), statuses
    # Also POST-only URLs asked for with GET: refused, nothing done.
    for url in ("/sign-out", "/messages/read", "/language?locale=en", f"/bookings/{refs.zhang_free}/cancel?confirm=1",
                f"/apply/{ZHANG_POLICY}/escort_outpatient/confirm"):
        assert client.get(url).status_code in (302, 404, 405, 200)
    assert snapshot(session) == before
    after = counts(session)
    for table in ("bookings", "entitlements", "booking_transitions", "notifications", "sign_in_codes"):
        assert after[table] == rows[table], table
    if actor == "owner":
        assert client.get("/home").status_code == 200  # GET /sign-out did not sign out


PAGE_STATUS = {  # actor → (张伟's page, 李小明's page)
    "anonymous": (302, 302), "owner": (200, 404), "guardian": (404, 200), "stranger": (404, 404), "staff": (200, 200),
}


def test_page_images_by_actor(app, session):
    """Every page image and thumbnail: the insured and a verified guardian see their own, staff see all, anyone else
    gets 404 (and a signed-out visitor the sign-in page)."""
    from webapp.services.papers.storage import LocalStorage

    build_demo(session, NOW, LocalStorage(app.config["UPLOAD_DIR"]))
    set_clock(app, NOW)
    zhang = booking_of(session, ZHANG_POLICY, "second_opinion")
    child = booking_of(session, CHILD_POLICY, "expert_outpatient")
    pages = {b.id: [p.public_id for p in session.scalars(select(DocumentPage).join(Document).where(Document.booking_id == b.id))]
             for b in (zhang, child)}
    assert pages[zhang.id] and pages[child.id]
    MOBILES["staff"] = demo.REVIEWER
    try:
        for actor, (own, childs) in PAGE_STATUS.items():
            client = client_as(app, actor)
            for booking, expected in ((zhang, own), (child, childs)):
                for public_id in pages[booking.id]:
                    for kind in ("image", "thumb"):
                        response = client.get(f"/papers/{public_id}/{kind}")
                        assert response.status_code == expected, (actor, booking.reference, kind, response.status_code)
                        if expected == 200:
                            assert response.mimetype == "image/jpeg" and "sandbox" in response.headers["Content-Security-Policy"]
    finally:
        MOBILES.pop("staff")


def test_post_only_urls_refuse_get(app, session, refs):
    client = client_as(app, "owner")
    for url in ("/sign-out", "/messages/read", "/language?locale=en", f"/apply/{ZHANG_POLICY}/escort_outpatient/confirm",
                f"/apply/{ZHANG_POLICY}/escort_outpatient/field/city", "/sign-in/verify"):
        assert client.get(url).status_code == 405, url


# ------------------------------------------------------------------------------------------------ 500

def test_a_500_shows_no_traceback_and_rolls_back(app, session, refs, monkeypatch):
    from webapp.extensions import db
    from webapp.views import bookings as booking_views

    def broken_cancel(db_session, booking_id, **kw):
        db.session.add(AuditEvent(at=NOW, action="half.done", detail={}))
        db.session.flush()
        raise RuntimeError("secret detail: 310104197805121234 /work/main/webapp")

    monkeypatch.setattr(booking_views.service, "cancel", broken_cancel)
    client = client_as(app, "owner")
    token = token_of(client)
    before = snapshot(session)
    for headers in ({}, {"HX-Request": "true"}):
        response = client.post(f"/bookings/{refs.zhang_free}/cancel", data={"csrf_token": token}, headers=headers)
        html = response.get_data(as_text=True)
        assert response.status_code == 500
        assert "Traceback" not in html and "secret detail" not in html and "310104" not in html and "/work/" not in html
        assert 'data-testid="error"' in html
        assert ("<html" in html) is (not headers)
        _assert_headers(response, signed_in=True, what="500")
    assert snapshot(session) == before
    assert fresh(session).scalar(select(AuditEvent).where(AuditEvent.action == "half.done")) is None


def test_a_500_on_a_page_keeps_the_person_signed_in(app, session, refs, monkeypatch):
    from webapp.services.booking import notifications

    client = client_as(app, "owner")
    monkeypatch.setattr(notifications, "inbox", lambda *a, **k: 1 / 0)
    response = client.get("/messages")
    html = response.get_data(as_text=True)
    assert response.status_code == 500 and "ZeroDivisionError" not in html and "Traceback" not in html
    _assert_headers(response, signed_in=True, what="500 page")
    monkeypatch.undo()
    assert client.get("/messages").status_code == 200


def test_time_moves_do_not_open_doors(app, session, refs):
    """A stranger is refused whatever the clock says (a refusal never depends on a deadline)."""
    client = client_as(app, "stranger")
    for hours in (0, 5, 20):
        set_clock(app, NOW + timedelta(hours=hours))
        assert client.get(f"/bookings/{refs.zhang_free}").status_code == 404


# ------------------------------------------------------------------------------------------------ logs

def test_csrf_failures_are_logged_with_path_and_ip(app, session, refs, caplog):
    client = client_as(app, "anonymous")
    with caplog.at_level("WARNING"):
        response = client.post("/language", data={"locale": "en"}, environ_base={"REMOTE_ADDR": "10.2.2.2"})
    assert response.status_code == 400
    lines = [r.getMessage() for r in caplog.records if "csrf" in r.getMessage().lower()]
    assert len(lines) == 1 and "/language" in lines[0] and "10.2.2.2" in lines[0]


def test_csrf_failures_name_the_signed_in_actor(app, session, refs, caplog):
    """SECURITY.md, Logs: "CSRF failures … with time, actor, subject and IP" (the log line once lacked the actor)."""
    client = client_as(app, "owner")
    zhang = session.scalar(select(Account).where(Account.mobile == ADULT))
    with caplog.at_level("WARNING"):
        client.post(f"/bookings/{refs.zhang_free}/cancel", environ_base={"REMOTE_ADDR": "10.2.2.3"})
    line = next(r.getMessage() for r in caplog.records if "csrf" in r.getMessage().lower())
    assert re.search(rf"\b(actor|account)[=:]\s*{zhang.id}\b", line), line


def test_refused_access_is_logged_without_personal_data(app, session, refs, caplog):
    client = client_as(app, "stranger")
    with caplog.at_level("WARNING"):
        client.get(f"/bookings/{refs.zhang_free}", environ_base={"REMOTE_ADDR": "10.2.2.4"})
    line = next(r.getMessage() for r in caplog.records if "refused" in r.getMessage())
    assert refs.zhang_free in line and "10.2.2.4" in line
    zhang = session.scalar(select(Person).where(Person.name == "张伟"))
    assert "张伟" not in line and zhang.id_number not in line


def test_no_log_line_outside_the_dev_sms_log_carries_a_code(app, session, refs, caplog):
    client = app.test_client()
    with caplog.at_level("DEBUG"):
        sign_in(client, ADULT)
    with client.session_transaction() as sess:
        login_token = sess["login_token"]
    codes = {m for r in caplog.records if r.name == "lvtong.sms.dev" for m in re.findall(r"(?<!\d)\d{6}(?!\d)", r.getMessage())}
    assert len(codes) == 1  # the development SMS backend writes the text it would send, and only it
    for record in caplog.records:
        if record.name != "lvtong.sms.dev":
            message = record.getMessage()
            assert not codes & set(re.findall(r"(?<!\d)\d{6}(?!\d)", message)) and login_token not in message, message

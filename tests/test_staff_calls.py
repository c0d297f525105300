"""Calling the customer from one application (issue 18 item 3), on the demo world with CSRF on.

Whom the desk calls (services/desk/contact_calls.py; 000 line 108 "客户拨打我司热线电话申请服务后，应保持手机畅通": the one who
applied): 张伟 applied for himself, so his own number; 李娜 applied as 李小明's guardian, so hers and never the child's;
an agent with a power of attorney first, then the insured who signed it. A reveal shows the numbers in that answer
only, is an audit event on the insured (without the number) that the insured reads in their access log, and is
limited per staff member; the call's outcome is noted for colleagues, the insured reads the outcome, never the note.
"""
from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from webapp.db import write_transaction
from webapp.models import Account, AuditEvent, RateHit
from webapp.services.demo import demo
from webapp.services.desk import contact_calls as calls

from .conftest import build_demo
from .test_staff_access import client_for
from .web_helpers import NOW, attr_values, block, csrf_from, fresh, set_clock, text_of, use_english
from .web_helpers import booking_of as find_booking

ADULT, PARENT, AGENT, OTHER = demo.ADULT, demo.PARENT, demo.AGENT, demo.OTHER
REVIEWER, COORDINATOR, ADMIN = demo.REVIEWER, demo.COORDINATOR, demo.ADMIN
REVIEW = ("P003-DEMO-0002", "second_opinion")  # 张伟's, applied by himself
CHILD = ("P003-DEMO-0005", "expert_outpatient")  # 李小明's, applied by his guardian 李娜
WANG = ("P001-DEMO-0006", "expert_outpatient")  # 王芳's, applied by herself


@pytest.fixture()
def world(app, session):
    build_demo(session, NOW)
    set_clock(app, NOW)
    return session


def booking_of(session, policy: str, service: str):
    return find_booking(fresh(session), policy, service)


def account(session, mobile: str) -> Account:
    return fresh(session).scalar(select(Account).where(Account.mobile == mobile))


def events(session, action: str) -> list[AuditEvent]:
    return fresh(session).scalars(select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id)).all()


def reveal(client, reference: str, *, htmx: bool = True):
    page = client.get(f"/staff/bookings/{reference}").get_data(as_text=True)
    return client.post(f"/staff/bookings/{reference}/numbers", data={"csrf_token": csrf_from(page)},
                       headers={"HX-Request": "true"} if htmx else {}, environ_base={"REMOTE_ADDR": "10.0.0.8"})


def note(client, reference: str, outcome: str, text: str = ""):
    page = client.get(f"/staff/bookings/{reference}").get_data(as_text=True)
    return client.post(f"/staff/bookings/{reference}/calls",
                       data={"csrf_token": csrf_from(page), "outcome": outcome, "note": text})


# --- whom the desk calls ------------------------------------------------------------------------------------

def test_whom_the_desk_calls_is_the_one_who_applied(world):
    zhang = calls.contacts(world, booking_of(world, *REVIEW))
    assert [(c.role, c.name, c.mobile) for c in zhang] == [("insured", "张伟", ADULT)]
    child = calls.contacts(world, booking_of(world, *CHILD))
    assert [(c.role, c.name, c.mobile) for c in child] == [("guardian", "李娜", PARENT)]  # never the 9-year-old


def test_an_agent_is_called_first_then_the_insured_who_signed_the_power(world):
    found = booking_of(world, *WANG)
    with write_transaction(world):
        found.applicant_account_id, found.acting_as = account(world, AGENT).id, "power_of_attorney"
    assert [(c.role, c.name, c.mobile) for c in calls.contacts(world, booking_of(world, *WANG))] == [
        ("agent", "周婷", AGENT), ("insured", "王芳", OTHER)]


# --- revealing --------------------------------------------------------------------------------------------

def test_a_coordinator_reveals_the_number_for_one_application_audited_without_the_number(app, world):
    found = booking_of(world, *REVIEW)
    client = client_for(app, COORDINATOR)
    page = client.get(f"/staff/bookings/{found.reference}").get_data(as_text=True)
    assert "138****0001" in block(page, "staff-call") and ADULT not in page  # masked until asked for
    response = reveal(client, found.reference)
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and "<html" not in html  # the card alone, for htmx
    assert attr_values(html, "call-tel", "href") == [f"tel:{ADULT}"]
    [event] = events(world, "booking.mobile_view")
    coordinator = account(world, COORDINATOR)
    assert (event.actor_account_id, event.subject_person_id, event.target, event.ip) == (
        coordinator.id, found.policy.insured_id, f"booking:{found.id}", "10.0.0.8")
    assert event.detail == {"booking": found.reference, "whose": ["insured"]}  # whose, never the number itself
    assert response.headers["Cache-Control"] == "no-store"
    # Shown in that answer only: the page, the queue and the page of another application stay masked.
    for path in (f"/staff/bookings/{found.reference}", "/staff/bookings", "/staff/bookings?tab=all"):
        assert ADULT not in client.get(path).get_data(as_text=True), path


def test_without_htmx_the_reveal_answers_the_whole_page_with_the_numbers(app, world):
    found = booking_of(world, *CHILD)
    response = reveal(client_for(app, REVIEWER), found.reference, htmx=False)
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and "<html" in html and 'data-testid="staff-booking"' in html
    assert attr_values(html, "call-tel", "href") == [f"tel:{PARENT}"]
    assert attr_values(html, "call-numbers", "data-testid") == ["call-numbers"] and "call-masked" not in html


@pytest.mark.parametrize("mobile", [ADULT, PARENT, AGENT], ids=["customer", "guardian", "agent"])
def test_customers_and_family_members_are_refused_and_nothing_is_written(app, world, mobile):
    found = booking_of(world, *REVIEW)
    client = client_for(app, mobile)
    token = csrf_from(client.get("/home").get_data(as_text=True))
    for path, form in ((f"/staff/bookings/{found.reference}/numbers", {}),
                       (f"/staff/bookings/{found.reference}/calls", {"outcome": "reached"})):
        for headers in ({}, {"HX-Request": "true"}):
            response = client.post(path, data={"csrf_token": token, **form}, headers=headers)
            assert response.status_code == 403 and ADULT not in response.get_data(as_text=True)
    assert events(world, "booking.mobile_view") == [] and events(world, "booking.call") == []
    assert fresh(world).scalar(select(func.count()).select_from(RateHit).where(RateHit.bucket.startswith("reveal-"))) == 0


# --- the rate limit ---------------------------------------------------------------------------------------

def fill(session, staff: Account, name: str, n: int, at) -> None:
    with write_transaction(session):
        session.add_all(RateHit(bucket=f"reveal-{name}:{staff.id}", at=at) for _ in range(n))


def test_reveals_are_limited_per_staff_member_and_a_repeat_is_free(app, world):
    """30 applications an hour, 100 a day (contact_calls.REVEAL_LIMITS): a day of calls, not the whole book."""
    assert calls.REVEAL_LIMITS["hour"].count == 30 and calls.REVEAL_LIMITS["day"].count == 100
    staff, other = account(world, COORDINATOR), account(world, REVIEWER)
    first, second = booking_of(world, *REVIEW), booking_of(world, *CHILD)
    with write_transaction(world):
        assert calls.reveal(world, first, staff, now=NOW).contacts  # one hit counted
    fill(world, staff, "hour", 29, NOW - timedelta(minutes=30))
    with write_transaction(world):
        refused = calls.reveal(world, booking_of(world, *CHILD), staff, now=NOW)
    assert (refused.contacts, refused.refused) == ([], "calls.rate_limited")
    [limited] = events(world, "staff.reveal_limited")
    assert (limited.actor_account_id, limited.target) == (staff.id, f"booking:{second.id}")
    with write_transaction(world):  # the same application again within 12 h: nothing new is harvested
        assert calls.reveal(world, booking_of(world, *REVIEW), staff, now=NOW + timedelta(minutes=5)).contacts
        assert calls.reveal(world, booking_of(world, *CHILD), account(world, REVIEWER), now=NOW).contacts  # per person
    later = NOW + timedelta(minutes=31)  # the 29 hits are more than an hour old: the hour has room again
    with write_transaction(world):
        assert calls.reveal(world, booking_of(world, *CHILD), account(world, COORDINATOR), now=later).contacts
    fill(world, account(world, COORDINATOR), "day", 98, NOW - timedelta(hours=20))
    with write_transaction(world):
        assert calls.reveal(world, booking_of(world, *WANG), account(world, COORDINATOR), now=later).refused == "calls.rate_limited"
    assert [e.actor_account_id for e in events(world, "booking.mobile_view")] == [staff.id, staff.id, other.id, staff.id]


def test_a_limited_reveal_says_why_and_shows_no_number(app, world):
    staff = account(world, COORDINATOR)
    fill(world, staff, "hour", 30, NOW - timedelta(minutes=10))
    client = client_for(app, COORDINATOR)
    use_english(client)
    response = reveal(client, booking_of(world, *REVIEW).reference)
    html = response.get_data(as_text=True)
    assert response.status_code == 429 and ADULT not in html and "call-tel" not in html
    assert "many applications in a short time" in text_of(block(html, "call-error"))
    assert events(world, "booking.mobile_view") == []


# --- the call's outcome -----------------------------------------------------------------------------------

def test_an_outcome_is_noted_on_the_calls_of_the_application(app, world):
    found = booking_of(world, *REVIEW)
    client = client_for(app, COORDINATOR)
    use_english(client)
    reveal(client, found.reference)
    response = note(client, found.reference, "no_answer", " 下午三点\u202e再打 \n第二次 ")
    assert response.status_code == 303 and response.headers["Location"] == f"/staff/bookings/{found.reference}#call"
    [event] = events(world, "booking.call")
    assert event.detail == {"booking": found.reference, "outcome": "no_answer", "note": "下午三点再打 \n第二次"}
    html = client.get(f"/staff/bookings/{found.reference}").get_data(as_text=True)
    assert "Noted: No answer." in text_of(block(html, "flash"))
    steps = block(html, "call-steps")
    assert attr_values(steps, "call-step", "data-kind") == ["reveal", "call"]
    assert attr_values(steps, "call-step", "data-outcome") == ["", "no_answer"]
    assert "协调员 刘洋" in text_of(steps) and "下午三点再打" in text_of(steps)
    # …and on the application's timeline, after the steps before it (the reveal is not a step of the application)
    timeline = block(html, "timeline")
    assert attr_values(timeline, "call-on-timeline", "data-outcome") == ["no_answer"]
    assert timeline.rindex('data-testid="step"') < timeline.index('data-testid="call-on-timeline"')
    assert "Phoned the customer: No answer" in text_of(timeline) and "下午三点再打" in text_of(timeline)
    customer = client_for(app, demo.ADULT)
    assert 'data-testid="call-on-timeline"' not in customer.get(f"/bookings/{found.reference}").get_data(as_text=True)


@pytest.mark.parametrize("form, message", [
    ({"outcome": "maybe"}, "Please choose how the call went. Nothing was noted."),
    ({}, "Please choose how the call went. Nothing was noted."),
    ({"outcome": "reached", "note": "长" * 201}, "The note is too long: 200 characters at most. Nothing was noted."),
])
def test_a_bad_outcome_is_refused_with_a_message(app, world, form, message):
    found = booking_of(world, *REVIEW)
    client = client_for(app, REVIEWER)
    use_english(client)
    page = client.get(f"/staff/bookings/{found.reference}").get_data(as_text=True)
    response = client.post(f"/staff/bookings/{found.reference}/calls", data={"csrf_token": csrf_from(page), **form},
                           follow_redirects=True)
    assert response.status_code == 200 and message in text_of(block(response.get_data(as_text=True), "flash-error"))
    assert events(world, "booking.call") == []


# --- what the insured reads -------------------------------------------------------------------------------

def test_the_insured_reads_the_reveal_and_the_outcome_never_the_note(app, world):
    found = booking_of(world, *REVIEW)
    staff = client_for(app, COORDINATOR)
    reveal(staff, found.reference)
    reveal(staff, found.reference)
    note(staff, found.reference, "no_answer", "家属说病人在休息")
    zhang = client_for(app, ADULT)
    use_english(zhang)
    html = zhang.get("/family/log").get_data(as_text=True)
    lines = {}
    for li in html.split('data-testid="access-log-entry"')[1:]:
        lines.setdefault(re.search(r'data-action="([^"]+)"', li).group(1), []).append(text_of(li.split(">", 1)[1]))
    [called] = lines["booking.call"]
    assert "协调员 刘洋 · service staff" in called and "phoned about your application (No answer)" in called
    assert len(lines["booking.mobile_view"]) == 2  # each reveal followed the page's own view: two lines
    assert all("协调员 刘洋 · service staff" in line and "looked at your mobile number to contact you" in line
               and f"Booking {found.reference}" in line for line in lines["booking.mobile_view"])
    assert "家属说病人在休息" not in html and ADULT not in html
    assert "家属说病人在休息" not in zhang.get(f"/bookings/{found.reference}").get_data(as_text=True)


def test_an_agents_number_is_named_as_the_family_members_in_the_log(app, world):
    """王芳's application made by her agent 周婷, with no mobile of her own on file: 周婷's number is the one shown."""
    found = booking_of(world, *WANG)
    with write_transaction(world):
        found.applicant_account_id, found.acting_as = account(world, AGENT).id, "power_of_attorney"
        found.policy.insured.mobile = None
    html = reveal(client_for(app, ADMIN), found.reference).get_data(as_text=True)
    assert attr_values(html, "call-tel", "href") == [f"tel:{AGENT}"]
    wang = client_for(app, OTHER)
    use_english(wang)
    log = text_of(block(wang.get("/family/log").get_data(as_text=True), "access-log"))
    assert "looked at the mobile number of the family member who applied, to contact them" in log

"""The staff console's applications through the web (issue 6), on the demo world with its papers, CSRF on.

Every /staff route refuses customers and family members acting for someone (403, audited) — the list of
routes comes from the app itself, so a route added later is covered; each role reaches only its own
decisions (least privilege); the reviewer's page and eligibility decisions, the coordinator's arrangement,
failed booking, release and closing, and the admin's reversal each reach the customer at once; a refused
action changes nothing; every staff view of a document is in the audit log.
"""
from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from webapp.models import AuditEvent, Booking, BookingTransition, DocumentPage, Entitlement, Notification
from webapp.services.demo import demo
from webapp.services.papers.storage import storage_from_config

from .test_staff_access import client_for
from .web_helpers import NOW, attr_values, block, csrf_from, fresh, set_clock, text_of, use_english

from .conftest import build_demo

ADULT, PARENT, AGENT = demo.ADULT, demo.PARENT, demo.AGENT
REVIEWER, COORDINATOR, ADMIN = demo.REVIEWER, demo.COORDINATOR, demo.ADMIN


@pytest.fixture()
def world(app, session):
    build_demo(session, NOW)
    set_clock(app, NOW)
    return session


@pytest.fixture()
def papered(app, session):
    """The demo world with its papers (photos drawn and stored: slower, so only where pages are needed)."""
    build_demo(session, NOW, storage_from_config(app.config))
    set_clock(app, NOW)
    return session


def by_name(session, name: str, service: str | None = None) -> Booking:
    fresh(session)
    rows = session.scalars(select(Booking).join(Booking.policy).join(Booking.service)).all()
    found = [b for b in rows if b.policy.insured.name == name and (service is None or b.service.code == service)]
    assert len(found) == 1, (name, service, found)
    return found[0]


def post(client, path: str, data: dict | None = None, page: str | None = None):
    html = client.get(page or path.rsplit("/", 1)[0] if page else "/staff/").get_data(as_text=True)
    return client.post(path, data={"csrf_token": csrf_from(html), **(data or {})})


def desk_post(client, booking: Booking, action: str, data: dict | None = None):
    html = client.get(f"/staff/bookings/{booking.reference}").get_data(as_text=True)
    return client.post(f"/staff/bookings/{booking.reference}/{action}", data={"csrf_token": csrf_from(html), **(data or {})})


def counts(session) -> dict:
    fresh(session)
    return {
        "states": sorted((b.reference, b.state, b.use_reversed_at is not None) for b in session.scalars(select(Booking))),
        "transitions": session.scalar(select(func.count()).select_from(BookingTransition)),
        "quota": sorted((e.id, e.held, e.used) for e in session.scalars(select(Entitlement))),
        "pages": sorted((p.public_id, p.status) for p in session.scalars(select(DocumentPage))),
        "notifications": session.scalar(select(func.count()).select_from(Notification)),
    }


# --- who may use the console ------------------------------------------------------------------------------

def staff_routes(app) -> list[tuple[str, str]]:
    """Every /staff route with sample arguments, GET or POST, from the app's own URL map."""
    sample = {"reference": "LTAAAAAAAA", "page_id": "p", "public_id": "g", "year": "2027", "account_id": "1"}
    out = []
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith("/staff"):
            continue
        path = re.sub(r"<(?:\w+:)?(\w+)>", lambda m: sample[m.group(1)], rule.rule)
        for method in sorted(rule.methods & {"GET", "POST"}):
            out.append((method, path))
    assert len(out) >= 20
    return out


@pytest.mark.parametrize("mobile", [ADULT, PARENT, AGENT], ids=["customer", "guardian", "agent"])
def test_every_staff_route_refuses_customers_and_family_members(app, world, mobile):
    client = client_for(app, mobile)
    html = client.get("/home").get_data(as_text=True)
    token = csrf_from(html)
    before = counts(world)
    for method, path in staff_routes(app):
        response = client.get(path) if method == "GET" else client.post(path, data={"csrf_token": token})
        assert response.status_code == 403, (method, path, response.status_code)
    assert counts(world) == before
    refused = world.scalars(select(AuditEvent.target).where(AuditEvent.action == "access.refused")).all()
    assert len(refused) >= len(staff_routes(app))


def test_a_visitor_is_sent_to_sign_in(app, world):
    client = client_for(app, None)
    for method, path in staff_routes(app):
        if method == "GET":
            response = client.get(path)
            assert response.status_code == 302 and "/sign-in" in response.location, path


@pytest.mark.parametrize("mobile,action,allowed", [
    (REVIEWER, "approve", True), (COORDINATOR, "approve", False),
    (REVIEWER, "reject", True), (COORDINATOR, "reject", False),
    (REVIEWER, "schedule", False), (COORDINATOR, "schedule", True),
    (REVIEWER, "failed", False), (REVIEWER, "release", False), (REVIEWER, "close", False),
    (REVIEWER, "reverse", False), (COORDINATOR, "reverse", False), (ADMIN, "reverse", True),
])
def test_each_role_reaches_only_its_own_decisions(app, world, mobile, action, allowed):
    client = client_for(app, mobile)
    target = by_name(world, "刘秀兰")
    response = desk_post(client, target, action)
    assert (response.status_code != 403) is allowed, response.status_code


def test_staff_home_is_the_queue_and_any_role_reads_it(app, world):
    for mobile in (REVIEWER, COORDINATOR, ADMIN):
        client = client_for(app, mobile)
        for path in ("/home?tab=open", "/staff/?tab=open"):
            html = client.get(path).get_data(as_text=True)
            assert "queue-row" in html and "console-nav" in html


# --- the queue ------------------------------------------------------------------------------------------

def test_queue_shows_the_promised_day_and_what_is_overdue_first(app, papered):
    world = papered
    html = client_for(app, COORDINATOR).get("/staff/?tab=open").get_data(as_text=True)
    rows = list(zip(attr_values(html, "queue-row", "data-reference"), attr_values(html, "queue-row", "data-stage"),
                    attr_values(html, "queue-row", "data-overdue"), attr_values(html, "queue-row", "data-due")))
    assert rows[0][2] == "yes" and rows[0][1] == "arrange"  # 赵敏: approved 12 days ago, 5 working days promised
    review = [r for r in rows if r[0] == by_name(world, "刘秀兰").reference]
    # Sent Monday 08:00, the 003 desk opens at 09:00: due one working day later, Tuesday 24 November.
    assert review == [(review[0][0], "review", "no", "2026-11-24")]
    due = text_of(html.split(f'data-reference="{review[0][0]}"', 1)[1].split("</li>", 1)[0])
    assert "1" in due
    stages = set(attr_values(html, "queue-row", "data-stage"))
    assert stages <= {"review", "arrange", "close"}  # "to do" shows only what the desk must act on


@pytest.mark.parametrize("query", ["stage=nope", "product=nope", "service=%3Cscript%3E", "city=" + "x" * 500,
                                   "q=" + "%" * 100, "overdue=yes&stage=all"])
def test_queue_filters_never_fail(app, world, query):
    response = client_for(app, REVIEWER).get(f"/staff/?{query}")
    assert response.status_code == 200


def test_queue_filters_narrow_the_list(app, papered):
    world = papered
    client = client_for(app, REVIEWER)
    html = client.get("/staff/?stage=all&product=cigc_classic").get_data(as_text=True)
    refs = set(attr_values(html, "queue-row", "data-reference"))
    assert by_name(world, "赵敏").reference in refs and by_name(world, "刘秀兰").reference not in refs
    html = client.get("/staff/?stage=all&city=杭州").get_data(as_text=True)
    assert attr_values(html, "queue-row", "data-reference") == [by_name(world, "吴桂英").reference]
    html = client.get("/staff/?stage=all&q=刘秀").get_data(as_text=True)
    assert attr_values(html, "queue-row", "data-reference") == [by_name(world, "刘秀兰").reference]
    html = client.get("/staff/?tab=open&overdue=1").get_data(as_text=True)
    assert set(attr_values(html, "queue-row", "data-overdue")) == {"yes"}


# --- review -----------------------------------------------------------------------------------------------

def test_review_decides_pages_then_eligibility_and_the_customer_sees_it_at_once(app, papered):
    world = papered
    target = by_name(world, "刘秀兰")
    reviewer = client_for(app, REVIEWER)
    html = reviewer.get(f"/staff/bookings/{target.reference}").get_data(as_text=True)
    pages = attr_values(html, "staff-page", "data-page")
    assert len(pages) >= 2 and "approve-blocked" in html
    first, *rest = pages
    response = desk_post(reviewer, target, f"pages/{first}/decide", {"decision": "rejected", "reason": "incomplete",
                                                                     "note": "右下角被遮住"})
    assert response.status_code == 303
    for page in rest:
        desk_post(reviewer, target, f"pages/{page}/decide", {"decision": "accepted"})
    assert by_name(world, "刘秀兰").state == "under_review"
    before = counts(world)
    refused = desk_post(reviewer, target, "approve")  # one page still not accepted
    assert refused.status_code == 303 and counts(world) == before
    # The customer has the reason at once, in the message and on the papers page.
    customer = client_for(app, "13900000655")
    messages = customer.get("/messages").get_data(as_text=True)
    assert "右下角被遮住" in messages
    desk_post(reviewer, target, f"pages/{first}/decide", {"decision": "accepted"})
    assert desk_post(reviewer, target, "approve").status_code == 303
    approved = by_name(world, "刘秀兰")
    assert approved.state == "approved" and approved.arrange_by is not None
    detail = customer.get(f"/bookings/{target.reference}").get_data(as_text=True)
    assert attr_values(detail, "booking", "data-state") == ["approved"] and "arrange-by" in detail


def test_not_approved_needs_a_listed_reason_and_the_customer_reads_it(app, papered):
    world = papered
    target = by_name(world, "刘秀兰")
    reviewer = client_for(app, REVIEWER)
    before = counts(world)
    for bad in ({"reason": ""}, {"reason": "made_up"}, {"reason": "other", "note": "  "}):
        assert desk_post(reviewer, target, "reject", bad).status_code == 303
    assert counts(world) == before
    desk_post(reviewer, target, "reject", {"reason": "hospital_grade", "note": "诊断医院为一级医院"})
    done = by_name(world, "刘秀兰")
    assert done.state == "rejected" and done.entitlement.held == 0
    customer = client_for(app, "13900000655")
    use_english(customer)
    detail = customer.get(f"/bookings/{target.reference}").get_data(as_text=True)
    words = text_of(block(detail, "rejection-reason"))
    assert "grade" in words and "诊断医院为一级医院" in words


def test_every_staff_view_of_a_document_is_audited(app, papered):
    world = papered
    target = by_name(world, "刘秀兰")
    reviewer = client_for(app, REVIEWER)
    html = reviewer.get(f"/staff/bookings/{target.reference}").get_data(as_text=True)
    page = attr_values(html, "staff-page", "data-page")[0]
    viewer = reviewer.get(f"/staff/bookings/{target.reference}/pages/{page}").get_data(as_text=True)
    assert "viewer-image" in viewer
    assert reviewer.get(f"/papers/{page}/image").status_code == 200
    assert reviewer.get(f"/papers/{page}/thumb").status_code == 200
    fresh(world)
    views = world.scalars(select(AuditEvent).where(AuditEvent.action == "document.view",
                                                   AuditEvent.target == f"page:{page}")).all()
    assert {e.detail["thumbnail"] for e in views} == {True, False}
    assert all(e.detail["staff"] and e.subject_person_id == target.policy.insured_id for e in views)
    opened = world.scalars(select(AuditEvent).where(AuditEvent.action == "booking.staff_view")).all()
    assert [e.target for e in opened] == [f"booking:{target.id}"]


# --- arrange ---------------------------------------------------------------------------------------------

APPOINTMENT = {"hospital": "复旦大学附属肿瘤医院", "department": "肿瘤内科", "doctor_level": "associate_chief",
               "date": "2026-11-26", "time": "09:30", "meeting_point": "门诊楼一楼服务台", "escort_name": "周敏",
               "escort_mobile": "139 0000 1234"}


@pytest.mark.parametrize("field,value", [("hospital", ""), ("date", "2026-02-30"), ("date", "2026-11-20"),
                                         ("time", "25:00"), ("escort_mobile", "12345"), ("doctor_level", "god"),
                                         ("meeting_point", "x" * 300)])
def test_arranging_with_bad_input_says_which_field_and_changes_nothing(app, world, field, value):
    target = by_name(world, "赵敏")
    coordinator = client_for(app, COORDINATOR)
    before = counts(world)
    response = desk_post(coordinator, target, "schedule", {**APPOINTMENT, field: value})
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert f'id="a-{field}-err"' in html and APPOINTMENT["hospital"] in html or field == "hospital"
    assert counts(world) == before


def test_arranging_tells_the_customer_with_the_free_change_deadline(app, world):
    target = by_name(world, "赵敏")
    coordinator = client_for(app, COORDINATOR)
    assert desk_post(coordinator, target, "schedule", APPOINTMENT).status_code == 303
    done = by_name(world, "赵敏")
    assert done.state == "scheduled" and done.appointment["escort_mobile"] == "13900001234"
    staff_view = coordinator.get(f"/staff/bookings/{target.reference}").get_data(as_text=True)
    # 000 （一）2.9(6): free before 12:00 the day before: Wednesday 25 November 12:00.
    assert "free-until" in staff_view
    customer = client_for(app, "13900000611")
    detail = customer.get(f"/bookings/{target.reference}").get_data(as_text=True)
    assert "复旦大学附属肿瘤医院" in detail and "13900001234" in detail
    assert "11月25日" in text_of(block(detail, "free-until")) and "12:00" in text_of(block(detail, "free-until"))


def test_a_failed_named_expert_booking_the_customer_declines_is_not_counted(app, world):
    target = by_name(world, "吴桂英")
    coordinator = client_for(app, COORDINATOR)
    customer = client_for(app, "13900000622")
    detail = customer.get(f"/bookings/{target.reference}").get_data(as_text=True)
    assert "alternatives" in detail and "李明主任" in detail and "decline-alternatives" in detail
    assert desk_post(coordinator, target, "release", {"note": "客户电话表示不接受"}).status_code == 303
    done = by_name(world, "吴桂英")
    assert done.state == "cancelled_free" and (done.entitlement.held, done.entitlement.used) == (0, 0)
    assert done.transitions[-1].rule == "booking_failed_declined"
    # Without a failed booking on record there is nothing to release.
    other = by_name(world, "赵敏")
    before = counts(world)
    desk_post(coordinator, other, "release")
    assert counts(world) == before


# --- close and reverse ----------------------------------------------------------------------------------

def test_closing_records_the_rule_and_times_and_the_admin_can_give_the_use_back(app, world):
    target = by_name(world, "孙浩")
    coordinator, admin = client_for(app, COORDINATOR), client_for(app, ADMIN)
    before = counts(world)
    desk_post(coordinator, target, "close", {"decision": "late", "minutes_late": "abc"})
    desk_post(coordinator, target, "close", {"decision": "explode"})
    assert counts(world) == before
    assert desk_post(coordinator, target, "close", {"decision": "no_show"}).status_code == 303
    closed = by_name(world, "孙浩")
    spent = closed.transitions[-1]
    assert closed.state == "no_show" and spent.rule == "no_show" and spent.quota_effect == "spend"
    assert spent.detail["starts_at"] and spent.detail["recorded_at"]
    used = closed.entitlement.used
    before = counts(world)
    desk_post(admin, target, "reverse", {"reason": "  "})
    assert counts(world) == before
    assert desk_post(admin, target, "reverse", {"reason": "医院改期通知未送达，申诉成立"}).status_code == 303
    reversed_ = by_name(world, "孙浩")
    assert reversed_.use_reversed_at is not None and reversed_.entitlement.used == used - 1
    before = counts(world)
    desk_post(admin, target, "reverse", {"reason": "again"})
    assert counts(world) == before  # once only
    customer = client_for(app, "13900000633")
    detail = customer.get(f"/bookings/{target.reference}").get_data(as_text=True)
    assert "use-reversed" in detail and "申诉成立" in detail
    assert 'data-effect="refund"' in detail


def test_closing_before_the_appointment_is_refused(app, world):
    set_clock(app, NOW - timedelta(days=2))
    target = by_name(world, "孙浩")
    before = counts(world)
    desk_post(client_for(app, COORDINATOR), target, "close", {"decision": "completed"})
    assert counts(world) == before


def test_the_customer_may_decline_the_alternatives_online(app, world):
    """000 Q&A: "若客户不同意，本次服务中止，不计算客户已使用服务" — the customer says so in the app."""
    target, other = by_name(world, "吴桂英"), by_name(world, "赵敏")
    stranger = client_for(app, "13900000611")  # 赵敏, on 吴桂英's booking
    html = stranger.get("/home").get_data(as_text=True)
    before = counts(world)
    assert stranger.post(f"/bookings/{target.reference}/decline-alternatives",
                         data={"csrf_token": csrf_from(html)}).status_code == 404
    # 赵敏's own booking has no alternatives on offer: nothing to decline.
    assert stranger.post(f"/bookings/{other.reference}/decline-alternatives",
                         data={"csrf_token": csrf_from(html)}).status_code == 303
    assert counts(world) == before
    customer = client_for(app, "13900000622")
    detail = customer.get(f"/bookings/{target.reference}").get_data(as_text=True)
    assert "decline-alternatives" in detail
    response = customer.post(f"/bookings/{target.reference}/decline-alternatives", data={"csrf_token": csrf_from(detail)})
    assert response.status_code == 303
    done = by_name(world, "吴桂英")
    assert done.state == "cancelled_free" and (done.entitlement.held, done.entitlement.used) == (0, 0)
    last = done.transitions[-1]
    assert last.rule == "booking_failed_declined" and last.actor_role == "customer" and last.detail["alternatives"]


def test_the_insured_reads_in_their_access_log_that_the_desk_opened_their_application(app, world):
    target = by_name(world, "吴桂英")
    client_for(app, REVIEWER).get(f"/staff/bookings/{target.reference}")
    customer = client_for(app, "13900000622")
    use_english(customer)
    log = text_of(customer.get("/family/log").get_data(as_text=True))
    assert "opened your application at the service desk" in log and "审核员 陈静" in log

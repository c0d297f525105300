"""Day-before confirmation on the web (issue 18 item 5): the customer confirms from the booking page, family
members by their scopes, the coordinator's list of tomorrow and the desk's note of a call, the reminder in the
inbox and its cron command. The demo world at NOW (Monday 10:00, China time): 张伟's nursing aide starts in 15 h
(Tuesday 01:00: tomorrow), his car pickup in 3 h (today), his admission in 6 days."""
from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from webapp.models import Account, AuditEvent, DayConfirmation, Notification, Person, ProxyGrant
from webapp.services.booking import notifications
from webapp.services.demo import demo

from .conftest import build_demo
from .web_helpers import (
    ADULT, NOW, OTHER, PARENT, attr_values, block, booking_of, csrf_from, fresh, set_clock, sign_in, text_of, use_english,
)

ZHANG_POLICY = "P003-DEMO-0002"


@pytest.fixture()
def world(app, session):
    build_demo(session, NOW)
    set_clock(app, NOW)
    return session


def client_for(app, mobile: str, english: bool = True):
    client = app.test_client()
    if english:
        use_english(client)
    sign_in(client, mobile)
    return client


def confirm(client, reference: str):
    html = client.get(f"/bookings/{reference}").get_data(as_text=True)
    return client.post(f"/bookings/{reference}/confirm-day", data={"csrf_token": csrf_from(html)})


def confirmations(session) -> list[tuple[int, str, int]]:
    fresh(session)
    return [(c.booking_id, c.state, c.by_account_id) for c in session.scalars(select(DayConfirmation).order_by(DayConfirmation.id))]


def test_the_customer_confirms_tomorrows_appointment_once(app, world):
    aide = booking_of(world, ZHANG_POLICY, "nursing_aide")
    client = client_for(app, ADULT)
    html = client.get(f"/bookings/{aide.reference}").get_data(as_text=True)
    assert attr_values(html, "day-confirm", "data-state") == ["unconfirmed"]
    assert "Your appointment is tomorrow." in text_of(block(html, "day-confirm"))
    response = confirm(client, aide.reference)
    assert response.status_code == 303 and response.headers["Location"] == f"/bookings/{aide.reference}#confirm-day"
    html = client.get(f"/bookings/{aide.reference}").get_data(as_text=True)
    assert "You have confirmed" in text_of(block(html, "day-confirmed")) and 'data-testid="confirm-day"' not in html
    assert confirm(client, aide.reference).status_code == 303  # a second tap: nothing new
    zhang = world.scalar(select(Account).where(Account.mobile == ADULT))
    assert confirmations(world) == [(aide.id, "confirmed_online", zhang.id)]
    assert fresh(world).scalar(select(func.count()).select_from(AuditEvent).where(AuditEvent.action == "booking.day_confirmed")) == 1


def test_only_today_and_tomorrow_are_offered(app, world):
    client = client_for(app, ADULT)
    car = booking_of(world, ZHANG_POLICY, "car_pickup")  # today, in 3 hours
    html = client.get(f"/bookings/{car.reference}").get_data(as_text=True)
    assert "Your appointment is today." in text_of(block(html, "day-confirm"))
    admission = booking_of(world, ZHANG_POLICY, "inpatient")  # in 6 days
    assert 'data-testid="day-confirm"' not in client.get(f"/bookings/{admission.reference}").get_data(as_text=True)
    response = confirm(client, admission.reference)
    assert response.status_code == 303
    html = client.get(f"/bookings/{admission.reference}").get_data(as_text=True)
    assert "only a booked appointment of today or tomorrow can be confirmed" in text_of(block(html, "flash-error"))
    review = booking_of(world, ZHANG_POLICY, "second_opinion")  # under review: nothing to confirm
    assert confirm(client, review.reference).status_code == 303
    assert confirmations(world) == []


def grant_wang(session, scopes: str) -> None:
    """王芳 acts for 张伟 under a verified power of attorney with `scopes`."""
    wang = session.scalar(select(Account).where(Account.mobile == OTHER))
    zhang = session.scalar(select(Person).where(Person.name == "张伟"))
    session.add(ProxyGrant(grantee_account_id=wang.id, insured_person_id=zhang.id, kind="power_of_attorney",
                           status="verified", scopes=scopes, valid_until=date(2027, 6, 1), created_at=NOW - timedelta(days=9)))
    session.commit()


@pytest.mark.parametrize("scopes, may", [("view", False), ("view,apply", True)])
def test_an_agent_confirms_only_with_the_apply_scope(app, world, scopes, may):
    grant_wang(world, scopes)
    aide = booking_of(world, ZHANG_POLICY, "nursing_aide")
    client = client_for(app, OTHER)
    html = client.get(f"/bookings/{aide.reference}").get_data(as_text=True)
    assert ('data-testid="confirm-day"' in html) is may
    assert ('data-testid="day-unconfirmed"' in html) is (not may)
    token = csrf_from(html)
    response = client.post(f"/bookings/{aide.reference}/confirm-day", data={"csrf_token": token})
    assert response.status_code == (303 if may else 404)
    assert [state for _, state, _ in confirmations(world)] == (["confirmed_online"] if may else [])


def test_someone_else_gets_404(app, world):
    aide = booking_of(world, ZHANG_POLICY, "nursing_aide")
    client = client_for(app, PARENT)  # 李娜: guardian of 李小明, nothing to 张伟
    token = csrf_from(client.get("/home").get_data(as_text=True))
    assert client.post(f"/bookings/{aide.reference}/confirm-day", data={"csrf_token": token}).status_code == 404
    assert confirmations(world) == []


def tomorrow_page(client):
    html = client.get("/staff/tomorrow").get_data(as_text=True)
    return html, dict(zip(attr_values(html, "tomorrow-row", "data-reference"), attr_values(html, "tomorrow-row", "data-state")))


def test_the_coordinator_sees_tomorrow_and_notes_a_call(app, world):
    aide = booking_of(world, ZHANG_POLICY, "nursing_aide")
    customer = client_for(app, ADULT)
    confirm(customer, aide.reference)
    desk = client_for(app, demo.COORDINATOR)
    html, rows = tomorrow_page(desk)
    assert rows == {aide.reference: "confirmed_online"}  # the car (today) and the admission (in 6 days) are not listed
    assert attr_values(html, "tomorrow", "data-day") == ["2026-11-24"]
    row = block(html, "tomorrow-row")
    assert "Customer confirmed (online)" in text_of(row)
    assert "Aide 李秀梅" in text_of(row) and 'href="tel:13900000032"' in row
    assert 'data-testid="nav-tomorrow"' in html and 'aria-current="page" data-testid="nav-tomorrow"' in html
    token = csrf_from(html)
    response = desk.post(f"/staff/tomorrow/{aide.reference}/call",
                         data={"csrf_token": token, "outcome": "wants_change", "note": "想改到周四"})
    assert response.status_code == 303 and response.headers["Location"] == f"/staff/tomorrow#t-{aide.reference}"
    html, rows = tomorrow_page(desk)
    assert rows == {aide.reference: "wants_change"} and "想改到周四" in text_of(block(html, "tomorrow-by"))
    assert "asks to change or cancel" in text_of(block(html, "flash"))
    event = fresh(world).scalar(select(AuditEvent).where(AuditEvent.action == "booking.day_call"))
    coordinator = world.scalar(select(Account).where(Account.mobile == demo.COORDINATOR))
    assert (event.actor_account_id, event.target, event.detail["before"]) == (coordinator.id, f"booking:{aide.id}", "confirmed_online")
    # the customer's page says what the desk heard
    html = customer.get(f"/bookings/{aide.reference}").get_data(as_text=True)
    assert attr_values(html, "day-confirm", "data-state") == ["wants_change"] and 'data-testid="day-wants-change"' in html


@pytest.mark.parametrize("form, message", [
    ({"outcome": "confirmed_online"}, "Please choose what the customer said."),
    ({"outcome": "x" * 10_000}, "Please choose what the customer said."),
    ({"outcome": "confirmed_phone", "note": "长" * 201}, "at most 200 characters"),
])
def test_bad_input_is_refused_with_a_message(app, world, form, message):
    aide = booking_of(world, ZHANG_POLICY, "nursing_aide")
    desk = client_for(app, demo.COORDINATOR)
    html, _ = tomorrow_page(desk)
    response = desk.post(f"/staff/tomorrow/{aide.reference}/call", data={"csrf_token": csrf_from(html), **form},
                         follow_redirects=True)
    assert response.status_code == 200 and message in text_of(block(response.get_data(as_text=True), "flash-error"))
    assert confirmations(world) == []


def test_a_booking_not_of_today_or_tomorrow_or_unknown_is_refused(app, world):
    admission = booking_of(world, ZHANG_POLICY, "inpatient")
    desk = client_for(app, demo.COORDINATOR)
    html, _ = tomorrow_page(desk)
    for reference, message in ((admission.reference, "no longer booked for today or tomorrow"),
                               ("LT-NONE0000", "There is no such booking.")):
        response = desk.post(f"/staff/tomorrow/{reference}/call", data={"csrf_token": csrf_from(html), "outcome": "confirmed_phone"},
                             follow_redirects=True)
        assert message in text_of(block(response.get_data(as_text=True), "flash-error"))
    assert confirmations(world) == []


@pytest.mark.parametrize("mobile, status", [(demo.REVIEWER, 403), (demo.ADMIN, 200), (ADULT, 403)])
def test_the_list_is_for_coordinators_and_admins(app, world, mobile, status):
    client = client_for(app, mobile)
    assert client.get("/staff/tomorrow").status_code == status
    html = client.get("/home").get_data(as_text=True)
    assert ('data-testid="nav-tomorrow"' in html) is (status == 200)


def test_the_reminder_links_to_the_booking_and_the_cron_command_sends_it_once(app, world):
    aide = booking_of(world, ZHANG_POLICY, "nursing_aide")
    runner = app.test_cli_runner()
    app.config["NOTIFY_CHANNEL"] = "log"
    result = runner.invoke(args=["remind-day-before"])
    assert result.exit_code == 0 and "1 day-before reminder(s) sent" in result.output  # 张伟 hears; nobody acts for him
    assert "0 day-before reminder(s) sent" in runner.invoke(args=["remind-day-before"]).output
    html = client_for(app, ADULT).get("/messages").get_data(as_text=True)
    [item] = [m for m in html.split('data-testid="message"')[1:] if m.startswith(' data-kind="reminder_day_before"')]
    assert "is tomorrow" in text_of(item) and "confirm you will be there" in text_of(item)
    assert f'href="/bookings/{aide.reference}"' in item
    note = fresh(world).scalar(select(Notification).where(Notification.kind == notifications.REMINDER_DAY_BEFORE))
    assert note.booking_id == aide.id and note.sent_at is not None

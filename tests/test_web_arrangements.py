"""Arranging by kind of service through the web (issue 14 item 8), on the demo world, CSRF on.

The coordinator's form asks what the booking's kind needs — a car's driver, phone, plate, addresses; an aide's name,
phone, ward and bed, first day and days; an opinion's expert and due time; a visit's doctor and level — and refuses
per field with 422, keeping what was typed. The customer's booking page and the console show each kind's own details
with tel: links, in both languages; details stored in the old one-size shape still show. Seed lines are in
tests/test_arrangements.py.
"""
from __future__ import annotations

import re
from datetime import date, timedelta

import pytest
from sqlalchemy import select

from webapp.models import Account, Booking, Policy
from webapp.services.booking import bookings
from webapp.services.demo import demo

from .conftest import build_demo
from .test_staff_access import client_for
from .test_staff_console import by_name, counts, desk_post
from .web_helpers import NOW, attr_values, block, fresh, set_clock, text_of, use_english

ACTIVE = "P003-DEMO-0002"  # 张伟's 众安 policy (seed 003)
CAR = {"driver_name": "王建军", "driver_mobile": "139 0000 0031", "plate": "沪a d12345", "pickup_address": "上海市徐汇区示例路1号",
       "destination": "复旦大学附属中山医院", "date": "2026-11-26", "time": "08:00"}
AIDE = {"aide_name": "李秀梅", "aide_mobile": "13900000032", "hospital": "复旦大学附属中山医院", "ward_bed": "12病区 8床",
        "date": "2026-11-26", "time": "08:00", "days": "5"}
OPINION = {"expert": "复旦大学附属肿瘤医院 专家组", "date": "2026-12-01", "time": "17:00"}
VISIT = {"hospital": "复旦大学附属肿瘤医院", "department": "肿瘤内科", "doctor_level": "associate_chief", "date": "2026-11-26",
         "time": "09:30", "meeting_point": "门诊楼一楼服务台", "escort_name": "周敏", "escort_mobile": "139 0000 1234"}


@pytest.fixture()
def world(app, session):
    build_demo(session, NOW)
    set_clock(app, NOW)
    return session


def approved(session, service: str, details: dict, *, units: int = 1) -> Booking:
    """A new application of 张伟's on his 003 policy, approved and waiting for the coordinator."""
    fresh(session)
    adult = session.scalar(select(Account).where(Account.mobile == demo.ADULT))
    reviewer = session.scalar(select(Account).where(Account.mobile == demo.REVIEWER))
    policy = session.scalar(select(Policy).where(Policy.number == ACTIVE))
    applied = NOW - timedelta(hours=3)
    outcome = bookings.apply(session, account=adult, policy_id=policy.id, service_code=service, request_key=f"t-{service}",
                             now=applied, details=details, units=units, admission_slip_date=date(2026, 11, 20))
    assert outcome.ok, outcome.reasons
    bookings.start_review(session, outcome.booking.id, staff=reviewer, now=applied + timedelta(hours=1))
    bookings.approve(session, outcome.booking.id, staff=reviewer, now=applied + timedelta(hours=2))
    session.commit()
    return outcome.booking


def car(session) -> Booking:
    return approved(session, "car_pickup", {"direction": "hospital_to_home", "address": "上海市徐汇区示例路1号",
                                            "hospital": "复旦大学附属中山医院", "distance_km": 18, "passengers": 2})


def aide(session) -> Booking:
    return approved(session, "nursing_aide", {"hospital": "复旦大学附属中山医院", "ward_bed": "12病区 8床", "days": 5}, units=5)


def form_fields(html: str) -> set[str]:
    return set(re.findall(r'data-testid="arrange-(\w+)"', block(html, "arrange-form"))) - {"form", "submit"}


def page(client, booking: Booking) -> str:
    return client.get(f"/bookings/{booking.reference}").get_data(as_text=True)


# --- the form follows the kind ----------------------------------------------------------------------------------

def test_the_form_asks_what_each_kind_needs_and_starts_from_what_the_customer_asked(app, world):
    coordinator = client_for(app, demo.COORDINATOR)
    visit = coordinator.get(f"/staff/bookings/{by_name(world, '赵敏').reference}").get_data(as_text=True)
    assert form_fields(visit) == {"hospital", "department", "doctor", "doctor_level", "date", "time", "meeting_point",
                                  "escort_name", "escort_mobile"}
    assert attr_values(visit, "arrange-form", "data-kind") == ["visit"]
    trip = car(world)
    html = coordinator.get(f"/staff/bookings/{trip.reference}").get_data(as_text=True)
    assert form_fields(html) == {"driver_name", "driver_mobile", "plate", "pickup_address", "date", "time", "destination"}
    # A discharge: picked up at the hospital, taken home (the customer's own trip, for the coordinator to confirm).
    assert attr_values(html, "arrange-pickup_address", "value") == ["复旦大学附属中山医院"]
    assert attr_values(html, "arrange-destination", "value") == ["上海市徐汇区示例路1号"]
    care = aide(world)
    html = coordinator.get(f"/staff/bookings/{care.reference}").get_data(as_text=True)
    assert form_fields(html) == {"aide_name", "aide_mobile", "hospital", "ward_bed", "date", "time", "days"}
    assert attr_values(html, "arrange-days", "max") == ["5"] and attr_values(html, "arrange-days", "value") == ["5"]
    assert attr_values(html, "arrange-ward_bed", "value") == ["12病区 8床"]


def test_a_car_pickup_is_arranged_and_the_customer_sees_driver_plate_and_addresses(app, world):
    trip = car(world)
    coordinator = client_for(app, demo.COORDINATOR)
    assert desk_post(coordinator, trip, "schedule", CAR).status_code == 303
    done = fresh(world).get(Booking, trip.id)
    assert done.state == "scheduled" and done.appointment == {
        "kind": "car", "driver_name": "王建军", "driver_mobile": "13900000031", "plate": "沪AD12345",
        "pickup_address": "上海市徐汇区示例路1号", "destination": "复旦大学附属中山医院"}
    customer = client_for(app, demo.ADULT)
    for html in (page(customer, trip), coordinator.get(f"/staff/bookings/{trip.reference}").get_data(as_text=True)):
        details = block(html, "appointment-details")
        assert attr_values(details, "appointment-details", "data-kind") == ["car"]
        assert "王建军" in text_of(block(details, "driver")) and 'href="tel:13900000031"' in block(details, "driver")
        assert text_of(block(details, "plate")) == "沪AD12345"
        assert text_of(block(details, "pickup")) == "上海市徐汇区示例路1号"
        assert text_of(block(details, "destination")) == "复旦大学附属中山医院"
        assert "11月26日 周四 08:00" in text_of(details)
        for other in ("escort", "doctor", "医生", "见面地点"):
            assert other not in details
    use_english(customer)
    english = text_of(block(page(customer, trip), "appointment-details"))
    assert "Pickup time" in english and "Driver" in english and "Number plate" in english
    # The message says what the time is: a pickup.
    assert "Pickup: Thu 26 Nov 08:00" in text_of(customer.get("/messages").get_data(as_text=True))


def test_a_nursing_aide_is_arranged_for_at_most_the_days_booked(app, world):
    care = aide(world)
    coordinator = client_for(app, demo.COORDINATOR)
    before = counts(world)
    response = desk_post(coordinator, care, "schedule", {**AIDE, "days": "6"})
    html = response.get_data(as_text=True)
    assert response.status_code == 422 and 'id="a-days-err"' in html
    assert attr_values(html, "arrange-aide_name", "value") == ["李秀梅"]  # what was typed is kept
    assert counts(world) == before
    assert desk_post(coordinator, care, "schedule", AIDE).status_code == 303
    customer = client_for(app, demo.ADULT)
    details = block(page(customer, care), "appointment-details")
    assert 'href="tel:13900000032"' in block(details, "aide") and "李秀梅" in text_of(block(details, "aide"))
    assert text_of(block(details, "ward-bed")) == "12病区 8床"
    assert "11月30日 周一" in text_of(block(details, "aide-days"))
    use_english(customer)
    english = block(page(customer, care), "appointment-details")
    assert text_of(block(english, "aide-days")) == "5 days, until Mon 30 Nov"


def test_a_written_opinion_has_an_expert_and_a_due_time_and_no_meeting_point(app, world):
    target = next(b for b in fresh(world).scalars(select(Booking)) if b.service.code == "second_opinion")
    reviewer = world.scalar(select(Account).where(Account.mobile == demo.REVIEWER))
    bookings.approve(world, target.id, staff=reviewer, now=NOW - timedelta(hours=1))
    world.commit()
    coordinator = client_for(app, demo.COORDINATOR)
    html = coordinator.get(f"/staff/bookings/{target.reference}").get_data(as_text=True)
    assert form_fields(html) == {"expert", "date", "time"}
    assert desk_post(coordinator, target, "schedule", OPINION).status_code == 303
    details = block(page(client_for(app, demo.ADULT), target), "appointment-details")
    assert text_of(block(details, "expert")) == "复旦大学附属肿瘤医院 专家组"
    assert text_of(block(details, "report-due")) == "12月1日 周二 17:00"
    assert "meeting" not in details and "tel:" not in details


@pytest.mark.parametrize("level, status", [("attending", 422), ("associate_chief", 303)])
def test_a_doctor_below_the_promised_level_is_refused(app, world, level, status):
    target = by_name(world, "赵敏")  # 000: 副主任及以上 (line 74)
    coordinator = client_for(app, demo.COORDINATOR)
    before = counts(world)
    response = desk_post(coordinator, target, "schedule", {**VISIT, "doctor_level": level})
    assert response.status_code == status
    if status == 422:
        html = response.get_data(as_text=True)
        assert 'id="a-doctor_level-err"' in html and attr_values(html, "arrange-hospital", "value") == [VISIT["hospital"]]
        assert counts(world) == before
    else:
        assert by_name(world, "赵敏").appointment["doctor_level"] == level


@pytest.mark.parametrize("field, value", [("driver_mobile", "010-6512-3456"), ("plate", "ABC123"), ("date", "2026-02-30"),
                                          ("driver_name", "")])
def test_a_car_with_a_bad_field_is_refused_and_nothing_changes(app, world, field, value):
    trip = car(world)
    coordinator = client_for(app, demo.COORDINATOR)
    before = counts(world)
    response = desk_post(coordinator, trip, "schedule", {**CAR, field: value})
    html = response.get_data(as_text=True)
    assert response.status_code == 422 and f'id="a-{field}-err"' in html
    assert attr_values(html, "arrange-destination", "value") == [CAR["destination"]]
    assert counts(world) == before


def test_an_appointment_stored_in_the_old_shape_still_shows(app, world):
    target = next(b for b in fresh(world).scalars(select(Booking)) if b.service.code == "inpatient")
    target.appointment = {"hospital": "复旦大学附属中山医院", "department": None, "doctor_level": "associate_chief",
                          "meeting_point": "门诊楼一楼大厅服务台", "escort_name": "服务专员 周敏", "escort_mobile": "13900000000"}
    world.commit()
    details = block(page(client_for(app, demo.ADULT), target), "appointment-details")
    assert attr_values(details, "appointment-details", "data-kind") == ["visit"]
    assert "复旦大学附属中山医院" in text_of(details) and "门诊楼一楼大厅服务台" in text_of(details)
    assert 'href="tel:13900000000"' in block(details, "escort")


def test_the_demo_arranges_each_booking_with_details_of_its_kind(world):
    kinds = {b.service.code: (b.appointment or {}).get("kind") for b in fresh(world).scalars(select(Booking))
             if b.appointment and b.policy.number == ACTIVE}
    assert kinds == {"escort_outpatient": "escort", "car_pickup": "car", "nursing_aide": "aide", "inpatient": "admission"}

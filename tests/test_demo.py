"""The demo world: built relative to now, with every stage the issue names."""
from datetime import timedelta

from sqlalchemy import select

from webapp.models import Account, Booking, Entitlement, Policy, ProxyGrant, Service
from webapp.services.booking import bookings
from webapp.services.booking.bookings import eligibility
from webapp.services.cutoffs import change_deadline
from webapp.services.demo import demo

from .conftest import at

NOW = at(2026, 11, 21, 10, 0)


def keys_for(session, mobile, policy_number, service_code, now=NOW):
    account = session.scalar(select(Account).where(Account.mobile == mobile))
    policy = session.scalar(select(Policy).where(Policy.number == policy_number))
    service = session.scalar(select(Service).where(Service.product_id == policy.product_id, Service.code == service_code))
    return eligibility(session, account, policy, service, now).keys()


def test_demo_world_has_every_stage(session):
    demo.build(session, NOW)
    assert keys_for(session, demo.ADULT, "P000-DEMO-0001", "expert_outpatient") == ["policy.waiting_period"]
    assert keys_for(session, demo.ADULT, "P003-DEMO-0002", "expert_outpatient") == []  # active with uses left
    assert keys_for(session, demo.ADULT, "P002-DEMO-0003", "expert_outpatient") == ["quota.used_up"]
    assert keys_for(session, demo.ADULT, "P004-DEMO-0004", "expert_outpatient")[0] == "policy.surrendered_cooling_off"
    assert keys_for(session, demo.PARENT, "P003-DEMO-0005", "car_pickup") == []  # the guardian may act
    assert keys_for(session, demo.OTHER, "P003-DEMO-0005", "car_pickup") == ["actor.not_entitled"]
    staff = session.scalar(select(Account).where(Account.mobile == demo.REVIEWER))
    assert staff.staff_role == "reviewer"
    grant = session.scalar(select(ProxyGrant))
    assert grant.kind == "guardian_minor" and grant.relationship_label == "儿子"


def test_demo_bookings_in_several_states(session):
    demo.build(session, NOW)
    states = {b.service.code + ":" + b.state for b in session.scalars(select(Booking))}
    assert {"car_pickup:scheduled", "nursing_aide:scheduled", "escort_outpatient:completed", "inpatient:scheduled",
            "second_opinion:under_review", "expert_outpatient:approved", "expert_outpatient:applied"} <= states
    car = next(b for b in session.scalars(select(Booking)) if b.service.code == "car_pickup")
    assert car.starts_at - NOW == timedelta(hours=3)  # a car pickup later today, inside the 4-hour cutoff
    assert bookings.cancel_quote(car, NOW).outcome == "counted"
    aide = next(b for b in session.scalars(select(Booking)) if b.service.code == "nursing_aide")
    free_until = change_deadline(aide.change_rule, aide.starts_at)
    assert timedelta(hours=2) < free_until - NOW <= timedelta(hours=4)  # free-cancel deadline a few hours away
    assert bookings.cancel_quote(aide, NOW).outcome == "free"


def test_rebuilding_replaces_everything(session):
    demo.build(session, NOW)
    demo.build(session, NOW + timedelta(days=30))
    assert len(session.scalars(select(Account)).all()) == len(demo.SIGN_INS) - 1 + len(demo.DESK)  # 李强 has none yet
    ent = session.scalars(select(Entitlement)).all()
    assert all(e.quota is None or e.held + e.used <= e.quota for e in ent)


def test_demo_admission_is_not_cancellable(session):
    """003 重疾绿通PLUS 特别说明(5): "住院及手术安排服务，客户预约服务后不能取消服务"."""
    demo.build(session, NOW)
    admission = next(b for b in session.scalars(select(Booking)) if b.service.code == "inpatient")
    assert admission.state == "scheduled"
    assert bookings.cancel_quote(admission, NOW).outcome == "impossible"

"""Forms that help (issue 15 item 8), the services behind them, at fixed times: each date field's first and last day
(the same rules the check applies), date and time posted as two controls, the car's distance left to the desk,
who pays as the catalog says it, and the person's earlier entries offered as suggestions.
"""
from __future__ import annotations

import secrets
from datetime import date, timedelta

import pytest

from webapp.services.booking import bookings
from webapp.services.booking.apply_forms import (WARN_DISTANCE, check, date_bounds, earliest_admission_date,
                                         earliest_visit_date, fee_rule, fields_for, incomplete, posted_keys)
from webapp.services.products.catalog import default_catalog
from webapp.services.booking.form_suggestions import earlier_entries

from .conftest import World, at

CATALOG = default_catalog()
CIGC, HRS, XINGTAO = (CATALOG.product(c) for c in ("cigc_classic", "haorensheng_gc", "xingtao_gc"))
ZHONGAN = CATALOG.product("zhongan_vip")
NOW = at(2026, 11, 27, 17, 0)  # a Friday, China time
TODAY = NOW.date()
CAR = {"direction": "hospital_to_home", "pickup_at_date": "2026-12-02", "pickup_at_time": "09:30", "hospital": "瑞金医院",
       "address": "上海市徐汇区某路1号", "admission_slip_date": "2026-11-20", "passengers": "2"}


def run(product, code, raw, **kw):
    return check(product, product.service(code), raw, today=TODAY, now=NOW, units_left=None, **kw)


# ---------------------------------------------------------------------------------------------- date bounds

def test_the_first_visit_day_is_the_rules_first_day_counted_in_working_days():
    """000 （一）: arranged within 5 working days, no urgent bookings (Q&A line 348): on a Friday evening the desk
    counts from Monday, so the weekend is not counted."""
    bounds = date_bounds(CIGC, CIGC.service("expert_outpatient"), now=NOW)
    first = bounds["preferred_dates"].first
    assert first == earliest_visit_date(CIGC, CIGC.service("expert_outpatient"), NOW)
    assert first.weekday() < 5 and first >= date(2026, 12, 4)
    assert bounds["preferred_dates"].booked and bounds["preferred_dates"].last is None
    # The day before the first is refused by the check, the first accepted: min and the rule agree.
    base = {"diagnosis_stage": "suspected", "city": "北京", "hospital": "北京协和医院", "department": "心内科"}
    assert "preferred_dates" in run(CIGC, "expert_outpatient", {**base, "preferred_date_1": str(first - timedelta(days=1))}).errors
    assert run(CIGC, "expert_outpatient", {**base, "preferred_date_1": str(first)}).ok


def test_001_lead_time_of_five_working_days_sets_the_first_day():
    """001 一 1 "提前5个工作日": the first day is at least 5 working days after the desk sees the application."""
    first = date_bounds(HRS, HRS.service("expert_outpatient"), now=NOW)["preferred_dates"].first
    assert first == earliest_visit_date(HRS, HRS.service("expert_outpatient"), NOW) >= date(2026, 12, 4)


def test_booked_days_end_on_the_policys_last_day_and_papers_on_today():
    last = date(2027, 3, 31)
    car = date_bounds(ZHONGAN, ZHONGAN.service("car_pickup"), now=NOW, last_day=last)
    assert (car["pickup_at"].first, car["pickup_at"].last, car["pickup_at"].booked) == (TODAY, last, True)
    assert (car["admission_slip_date"].first, car["admission_slip_date"].last) == (None, TODAY)
    # 003 同城专车接送 2(2) line 516 "出院日期5日内": the discharge may be up to 5 days ago; it is not a day booked.
    assert (car["discharge_date"].first, car["discharge_date"].booked) == (TODAY - timedelta(days=5), False)
    admission = date_bounds(CIGC, CIGC.service("inpatient_surgery"), now=NOW, last_day=last)["admission_date"]
    assert admission.first == earliest_admission_date(CIGC, CIGC.service("inpatient_surgery"), NOW, None)[0] == TODAY + timedelta(days=1)
    assert date_bounds(ZHONGAN, ZHONGAN.service("mdt"), now=NOW) == {}  # no date asked


def test_a_day_after_the_last_day_is_refused_only_when_a_last_day_is_given():
    raw = {"hospital": "上海市第六人民医院", "ward_bed": "12病区 23床", "start_date": "2027-04-01", "days": "3"}
    assert run(ZHONGAN, "nursing_aide", raw).ok
    late = run(ZHONGAN, "nursing_aide", raw, last_day=date(2027, 3, 31))
    assert late.errors == {"start_date": ("Please choose a date no later than %(date)s.", {"date": "2027-03-31"})}
    assert run(ZHONGAN, "nursing_aide", {**raw, "start_date": "2027-03-31"}, last_day=date(2027, 3, 31)).ok


# ---------------------------------------------------------------------------------------------- date and time

def test_date_and_time_are_posted_as_two_controls_and_combined():
    result = run(ZHONGAN, "car_pickup", {**CAR, "distance_km": "35"})
    assert result.ok and result.data["pickup_at"] == "2026-12-02T09:30+08:00"
    spec = {f.name: f for f in fields_for(ZHONGAN, ZHONGAN.service("car_pickup"))}["pickup_at"]
    assert posted_keys(spec) == ("pickup_at", "pickup_at_date", "pickup_at_time")
    half = {**CAR, "distance_km": "35", "pickup_at_time": ""}
    assert run(ZHONGAN, "car_pickup", half).errors == {"pickup_at": ("Please enter a date and time.", {})}
    assert incomplete(spec, half) and not incomplete(spec, CAR) and not incomplete(spec, {})


def test_a_pickup_earlier_today_is_refused():
    result = run(ZHONGAN, "car_pickup", {**CAR, "distance_km": "35", "pickup_at_date": "2026-11-27", "pickup_at_time": "16:30"})
    assert result.errors["pickup_at"][0] == "Please choose a time after %(time)s."


# ---------------------------------------------------------------------------------------------- the car's distance

def test_the_customer_form_does_not_ask_the_distance_and_the_desk_checks_it():
    """003 同城专车接送 4 表1 line 550 "单程距离（以最短实际交通行驶路线为准）在100公里以内（含）": the customer gives
    addresses; the desk is asked to check the distance (desk_checks) and a posted distance is still checked."""
    spec = {f.name: f for f in fields_for(ZHONGAN, ZHONGAN.service("car_pickup"))}["distance_km"]
    assert not spec.asked
    result = run(ZHONGAN, "car_pickup", CAR, asked_only=True)
    assert result.ok and "distance_km" not in result.data
    assert result.warnings == {"distance_km": (WARN_DISTANCE, {"km": 100})}
    assert result.data["desk_checks"] == [["distance_km", WARN_DISTANCE, {"km": 100}]]
    far = run(ZHONGAN, "car_pickup", {**CAR, "distance_km": "101"}, asked_only=True)
    assert far.errors["distance_km"][0] == "We can only arrange a car for trips of up to %(max)s km one way."
    given = run(ZHONGAN, "car_pickup", {**CAR, "distance_km": "35"}, asked_only=True)
    assert given.ok and given.data["distance_km"] == 35 and not given.warnings
    # Outside the customer's form (the full record) the distance is still required.
    assert run(ZHONGAN, "car_pickup", CAR).errors["distance_km"] == ("Please enter a number.", {})


# ---------------------------------------------------------------------------------------------- who pays

@pytest.mark.parametrize(("product", "code", "zh"), [
    (ZHONGAN, "expert_outpatient", "费用自付。"),  # 003 line 923, the summary's words
    (HRS, "expert_outpatient", "费用由您自付。"),  # 001 line 61
    (CIGC, "expert_outpatient", "挂号费、诊疗费等由您自付。"),  # 000 line 80
    (CIGC, "inpatient_surgery", "您在使用服务过程中发生的挂号费、诊疗费、药费、检查费等由您自行承担，并与医院结算。"),  # 000 line 208
    (ZHONGAN, "second_opinion", "二次诊疗意见所产生相关医疗费用（如挂号费、治疗费、检查费等）需由客户自行承担。"),  # 003 line 2577
])
def test_who_pays_is_the_catalogs_fee_rule(product, code, zh):
    rule = fee_rule(product, product.service(code))
    assert rule.zh == zh and rule.en[0].isupper() and rule.en.endswith(".")
    assert "fees" in rule.en


def test_who_pays_is_not_invented_where_the_catalog_is_silent():
    assert fee_rule(ZHONGAN, ZHONGAN.service("car_pickup")) is None
    assert fee_rule(XINGTAO, XINGTAO.service("surgery")).zh.startswith("上述服务不包含")  # 002 line 211


# ---------------------------------------------------------------------------------------------- suggestions

@pytest.fixture()
def w(session):
    return World(session, "zhongan_vip", effective=date(2026, 1, 1))


def applied(w, service, when, **details):
    outcome = bookings.apply(w.session, account=w.account, policy_id=w.policy.id, service_code=service,
                             request_key=secrets.token_hex(6), now=when, details=details)
    assert outcome.ok, outcome.reasons


def test_earlier_entries_newest_first_each_once(w):
    applied(w, "escort_outpatient", at(2026, 10, 1, 9, 0), city="上海", hospital="华山医院", department="神经内科")
    applied(w, "second_opinion", at(2026, 10, 5, 9, 0), treating_hospital="上海市胸科医院")
    applied(w, "nursing_aide", at(2026, 10, 9, 9, 0), hospital=" 华山医院 ", ward_bed="3床")
    found = earlier_entries(w.session, w.person.id, ["hospital", "department", "city", "questions", "treating_hospital"])
    assert found["hospital"] == ("华山医院", "上海市胸科医院")  # newest first: 华山 again on 9 Oct
    assert found["treating_hospital"] == found["hospital"]
    assert found["department"] == ("神经内科",) and found["city"] == ("上海",)
    assert "questions" not in found  # a free answer is never suggested
    assert earlier_entries(w.session, w.person.id, ["opinion_hospital"], most=1) == {"opinion_hospital": ("华山医院",)}


def test_earlier_entries_are_the_persons_own(w):
    applied(w, "escort_outpatient", at(2026, 10, 1, 9, 0), city="上海", hospital="华山医院")
    assert earlier_entries(w.session, w.person.id + 1000, ["hospital"]) == {}
    assert earlier_entries(w.session, w.person.id, []) == {}

"""Forms that help, on the pages (issue 15 item 8 and item 9's review step): date pickers bounded by the rules with
the earliest day said first, the live check clearing, suggestions from the person's earlier applications, the car
form asking addresses (not kilometres) and a date and a time, and a review step that says who pays and lists every
paper, a guardian's own papers included. Demo world at NOW (Monday 23 Nov 2026, 10:00 China time).
"""
from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from webapp.models import Booking, Policy
from webapp.services.booking.apply_forms import earliest_visit_date
from webapp.services.products.catalog import default_catalog
from webapp.services.eligibility import service_window_end
from webapp.services.booking.people import policy_facts

from .conftest import build_demo
from .web_helpers import ADULT, NOW, PARENT, block, booking, csrf_from, set_clock, sign_in, text_of

ZHONGAN = default_catalog().product("zhongan_vip")
EXPERT = "/apply/P003-DEMO-0002/expert_outpatient"
CAR = "/apply/P003-DEMO-0002/car_pickup"
CAR_FORM = {"direction": "home_to_hospital", "hospital": "复旦大学附属中山医院", "address": "上海市徐汇区示例路1号",
            "admission_slip_date": "2026-11-20", "passengers": "2"}


@pytest.fixture()
def zhang(app, session, client):
    build_demo(session, NOW)
    set_clock(app, NOW)
    sign_in(client, ADULT)
    return client


def tag(html: str, element_id: str) -> str:
    return re.search(rf'<[^>]*\bid="{element_id}"[^>]*>', html).group(0)


def last_day(session, number: str):
    policy = session.scalar(select(Policy).where(Policy.number == number))
    return service_window_end(ZHONGAN, policy_facts(policy)) - timedelta(days=1)


def test_dates_carry_min_and_max_and_the_earliest_day_is_said_first(session, zhang):
    html = zhang.get(EXPERT).get_data(as_text=True)
    first = earliest_visit_date(ZHONGAN, ZHONGAN.service("expert_outpatient"), NOW)
    last = last_day(session, "P003-DEMO-0002")
    for element_id in ("f-preferred_dates", "f-preferred_dates-2", "f-preferred_dates-3"):
        assert f'min="{first.isoformat()}"' in tag(html, element_id)
        assert f'max="{last.isoformat()}"' in tag(html, element_id)
    said = text_of(block(html, "earliest-day"))
    assert f"{first.month}月{first.day}日" in said and "周" in said
    assert "first-preferred_dates" in tag(html, "f-preferred_dates")  # read with the field


def test_a_day_after_the_policys_last_day_is_refused(session, zhang):
    late = (last_day(session, "P003-DEMO-0002") + timedelta(days=1)).isoformat()
    check = zhang.post(f"{EXPERT}/field/preferred_date_1", data={"preferred_date_1": late, "csrf_token": csrf_from(
        zhang.get(EXPERT).get_data(as_text=True))}, headers={"HX-Request": "true"})
    assert re.search(r'id="err-preferred_dates" role="alert">.+</p>', check.get_data(as_text=True))


def test_the_live_check_answers_empty_for_a_right_value_and_waits_for_the_time(zhang):
    token = csrf_from(zhang.get(CAR).get_data(as_text=True))
    right = zhang.post(f"{CAR}/field/admission_slip_date", data={"admission_slip_date": "2026-11-20", "csrf_token": token},
                       headers={"HX-Request": "true"}).get_data(as_text=True)
    assert re.fullmatch(r'<p class="field-error" id="err-admission_slip_date" role="alert"></p>\s*', right)
    half = zhang.post(f"{CAR}/field/pickup_at_date", data={"pickup_at_date": "2026-11-25", "csrf_token": token},
                      headers={"HX-Request": "true"}).get_data(as_text=True)
    assert re.fullmatch(r'<p class="field-error" id="err-pickup_at" role="alert"></p>\s*', half)
    past = zhang.post(f"{CAR}/field/pickup_at_time", data={"pickup_at_date": "2026-11-23", "pickup_at_time": "09:00",
                                                          "csrf_token": token}, headers={"HX-Request": "true"})
    assert re.search(r'id="err-pickup_at" role="alert">.+</p>', past.get_data(as_text=True))


def test_suggestions_are_the_persons_earlier_entries(zhang):
    html = zhang.get(EXPERT).get_data(as_text=True)
    assert 'list="sg-hospital"' in tag(html, "f-hospital")
    hospitals = re.findall(r'<option value="([^"]+)">', re.search(r'<datalist id="sg-hospital".*?</datalist>', html).group(0))
    assert hospitals[0] == "复旦大学附属中山医院" and len(hospitals) == len(set(hospitals))
    departments = re.search(r'<datalist id="sg-department".*?</datalist>', html).group(0)
    assert '<option value="肿瘤内科">' in departments


def test_the_car_form_asks_addresses_and_a_date_and_a_time_not_kilometres(session, zhang):
    html = zhang.get(CAR).get_data(as_text=True)
    assert 'name="distance_km"' not in html
    assert 'type="date"' in tag(html, "f-pickup_at") and 'name="pickup_at_date"' in tag(html, "f-pickup_at")
    assert 'type="time"' in tag(html, "f-pickup_at-time") and 'name="pickup_at_time"' in tag(html, "f-pickup_at-time")
    assert 'name="address"' in html
    form = {**CAR_FORM, "pickup_at_date": "2026-11-25", "pickup_at_time": "09:30", "csrf_token": csrf_from(html)}
    review = zhang.post(CAR, data=form).get_data(as_text=True)
    assert 'data-testid="confirm-apply"' in review
    # 003 同城专车接送 4 表1 line 550: the desk checks the 100 km; the customer is told so before sending.
    checks = block(review, "desk-checks")
    assert re.findall(r'data-field="([^"]+)"', checks) == ["distance_km"] and "100" in text_of(checks)
    done = zhang.post(f"{CAR}/confirm", data={**form, "csrf_token": csrf_from(review), "request_key": "car-helps"})
    assert done.status_code == 303
    b = booking(session, done.headers["Location"].rsplit("/", 1)[-1])
    assert b.details["pickup_at"] == "2026-11-25T09:30+08:00" and "distance_km" not in b.details
    assert b.details["desk_checks"][0][0] == "distance_km"


def test_the_review_says_who_pays(zhang):
    html = zhang.get(EXPERT).get_data(as_text=True)
    first = earliest_visit_date(ZHONGAN, ZHONGAN.service("expert_outpatient"), NOW)
    review = zhang.post(EXPERT, data={"city": "上海", "hospital": "复旦大学附属中山医院", "department": "肿瘤内科",
                                      "preferred_date_1": first.isoformat(), "csrf_token": csrf_from(html)})
    page = review.get_data(as_text=True)
    assert "费用自付" in text_of(block(page, "who-pays"))  # 003 line 923 as the catalog's summary says it
    assert re.findall(r'<li data-kind="([^"]+)"', block(page, "review-papers")) == ["diagnosis"]


def test_a_guardians_review_lists_their_own_papers(app, session, client):
    build_demo(session, NOW)
    set_clock(app, NOW)
    sign_in(client, PARENT)  # 李娜, verified guardian of 李小明
    path = "/apply/P003-DEMO-0005/second_opinion"
    html = client.get(path).get_data(as_text=True)
    before = session.scalar(select(func.count(Booking.id)))
    review = client.post(path, data={"current_diagnosis": "急性淋巴细胞白血病", "questions": "是否需要移植？",
                                     "treating_hospital": "上海儿童医学中心", "csrf_token": csrf_from(html)})
    papers = block(review.get_data(as_text=True), "review-papers")
    kinds = re.findall(r'<li data-kind="([^"]+)"', papers)
    assert {"applicant_id", "guardianship_proof"} <= set(kinds)  # documents.PROXY_PAPERS["guardian"]
    session.expire_all()
    assert session.scalar(select(func.count(Booking.id))) == before  # the review's draft is never saved

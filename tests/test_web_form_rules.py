"""The application-form rules on the pages (issue 14): 000's admission date and its specialist call, and the values
accepted past a limit the seed does not set, shown to the customer before sending and to the desk after.

000 （一）1.2 line 18 and （二）1.2 line 124: "客户申请服务后约2小时即可收到我司指定医疗服务专员的联络信息"; （二）1.1(2)
line 122: "预约住院时间、预约医院、预约科室". Fixed clock: Monday 23 Nov 2026, 10:00 China time.
"""
from __future__ import annotations

import re
from datetime import date

import pytest

from webapp.services.booking import bookings
from webapp.services.products.catalog import default_catalog
from webapp.services.products.specialist_contact import specialist_contact_by

from .conftest import World, at
from .web_helpers import NOW, block, booking, csrf_from, set_clock, sign_in, text_of, use_english

CATALOG = default_catalog()
CIGC = CATALOG.product("cigc_classic")
ADMISSION = {"diagnosis_stage": "confirmed", "city": "北京", "hospital": "北京协和医院", "department": "胸外科",
             "admission_slip_date": "2026-10-01", "admission_date": "2026-12-07"}


@pytest.fixture()
def world_client(app, session, client):
    """World: 张三 with a 000 policy from 2026-01-01 (diagnosed 2026-05-01), signed in at NOW, in English."""
    w = World(session, effective=date(2026, 1, 1))
    set_clock(app, NOW)
    sign_in(client, "13900000001")
    use_english(client)
    return w, client


# ---------------------------------------------------------------------------------------------- the rule

@pytest.mark.parametrize(("applied", "contact"), [
    (at(2026, 11, 23, 10, 0), at(2026, 11, 23, 12, 0)),  # desk open: two hours later
    (at(2026, 11, 20, 17, 59, 59), at(2026, 11, 20, 19, 59, 59)),  # Friday, the last second the desk is open
    (at(2026, 11, 20, 18, 0, 0), at(2026, 11, 23, 11, 0)),  # closed (（一）2.3 line 38): Monday 09:00 + 2 h
])
def test_the_specialist_contacts_about_two_hours_after_the_desk_receives_it(applied, contact):
    for code in ("expert_outpatient", "inpatient_surgery"):
        assert specialist_contact_by(CIGC, CIGC.service(code), applied) == contact


def test_only_000_promises_the_specialists_call():
    promised = {(p.code, s.code) for p in CATALOG.products for s in p.services if s.specialist_contact_hours}
    assert promised == {("cigc_classic", "expert_outpatient"), ("cigc_classic", "inpatient_surgery")}
    car = CATALOG.product("zhongan_vip").service("car_pickup")
    assert specialist_contact_by(CATALOG.product("zhongan_vip"), car, NOW) is None


# ---------------------------------------------------------------------------------------------- the pages

def test_000_admission_form_review_booking_and_desk(app, session, world_client, client):
    w, client = world_client
    form = client.get("/apply/T-cigc_classic/inpatient_surgery").get_data(as_text=True)
    assert 'name="admission_date"' in form
    review = client.post("/apply/T-cigc_classic/inpatient_surgery", data={**ADMISSION, "csrf_token": csrf_from(form)})
    html = review.get_data(as_text=True)
    assert review.status_code == 200 and 'data-testid="confirm-apply"' in html
    call = text_of(block(html, "specialist-call"))
    assert "within about 2 hours" in call and "12:00" in call
    # The slip is 53 days old: accepted, and the customer is told the desk will check it (seed: no validity).
    checks = block(html, "desk-checks")
    assert re.findall(r'data-field="([^"]+)"', checks) == ["admission_slip_date"]
    assert "more than 30 days old" in text_of(checks)
    done = client.post("/apply/T-cigc_classic/inpatient_surgery/confirm",
                       data={**ADMISSION, "csrf_token": csrf_from(html), "request_key": "adm-1"})
    assert done.status_code == 303
    reference = done.headers["Location"].rsplit("/", 1)[-1]
    b = booking(session, reference)
    assert b.details["admission_date"] == "2026-12-07"
    assert b.details["desk_checks"][0][0] == "admission_slip_date"
    page = client.get(f"/bookings/{reference}").get_data(as_text=True)
    assert "within about 2 hours of the desk receiving your application" in text_of(block(page, "specialist-call"))
    assert 'data-testid="desk-hours"' in page
    assert "Date you would like to be admitted" in text_of(page)

    desk = app.test_client()
    sign_in(desk, "13900000009")  # World's coordinator
    use_english(desk)
    staff = desk.get(f"/staff/bookings/{reference}").get_data(as_text=True)
    assert "more than 30 days old" in text_of(block(staff, "desk-checks"))

    bookings.start_review(session, b.id, staff=w.staff, now=NOW)
    later = client.get(f"/bookings/{reference}").get_data(as_text=True)
    assert 'data-testid="specialist-call"' not in later  # the specialist has the case now


def test_no_specialist_line_where_the_seed_promises_none(app, session, client):
    World(session, "zhongan_vip", effective=date(2026, 1, 1))
    set_clock(app, NOW)
    sign_in(client, "13900000001")
    form = client.get("/apply/T-zhongan_vip/second_opinion").get_data(as_text=True)
    review = client.post("/apply/T-zhongan_vip/second_opinion", data={
        "csrf_token": csrf_from(form), "current_diagnosis": "肺腺癌", "questions": "是否手术？", "treating_hospital": "上海市胸科医院"})
    html = review.get_data(as_text=True)
    assert 'data-testid="confirm-apply"' in html and 'data-testid="specialist-call"' not in html
    assert 'data-testid="desk-checks"' not in html

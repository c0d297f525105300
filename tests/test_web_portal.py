"""The portal through the web client: entitlement cards, applying, a booking's timeline, cancelling and changing
by the server clock, messages, and the language switch with dates always in China time."""
from __future__ import annotations

import re
import time
from datetime import date, datetime, timedelta, timezone

import pytest
from sqlalchemy import func, select

from webapp.models import Account, AuditEvent, Booking, Notification
from webapp.services.booking import bookings
from webapp.services.products.catalog import default_catalog

from .conftest import World, at, build_demo
from .web_helpers import (
    ADULT, NOW, PARENT, attr_values, block, booking, booking_of, card, csrf_from, element, fresh, set_clock, sign_in,
    snapshot, text_of, use_english,
)

W_MOBILE = "13900000001"  # World's insured person
EXPERT_FORM = {"diagnosis_stage": "suspected", "city": "上海", "hospital": "复旦大学附属中山医院", "department": "肿瘤内科", "preferred_date_1": "2026-12-01"}


@pytest.fixture()
def adult(app, session, client):
    build_demo(session, NOW)
    set_clock(app, NOW)
    sign_in(client, ADULT)
    return client


def home(client) -> str:
    response = client.get("/home")
    assert response.status_code == 200
    return response.get_data(as_text=True)


def reasons(fragment: str) -> list[str]:
    return re.findall(r'data-reason="([^"]+)"', fragment)


def status_of(fragment: str) -> str | None:
    found = attr_values(fragment, "card-status", "data-status")
    return found[0] if found else None


def token(client, path="/home") -> str:
    return csrf_from(client.get(path, follow_redirects=True).get_data(as_text=True))


# ------------------------------------------------------------------------------------------------ cards

def test_a_card_for_every_service_of_every_policy(adult):
    html = home(adult)
    catalog = default_catalog()
    for number, product in [("P000-DEMO-0001", "cigc_classic"), ("P003-DEMO-0002", "zhongan_vip"),
                            ("P002-DEMO-0003", "xingtao_gc"), ("P004-DEMO-0004", "starr_jiuyibao")]:
        shown = [m.group(1) for m in re.finditer(rf'data-service="([^"]+)" data-policy="{number}"', html)]
        assert sorted(shown) == sorted(s.code for s in catalog.product(product).services), number
    assert "P003-DEMO-0005" not in html and "P001-DEMO-0006" not in html  # not his
    assert len(re.findall(r'data-testid="entitlement-card"', html)) == sum(
        len(catalog.product(p).services) for p in ("cigc_classic", "zhongan_vip", "xingtao_gc", "starr_jiuyibao"))


def test_available_cards_have_an_apply_link(adult):
    html = home(adult)
    expert = card(html, "P003-DEMO-0002", "expert_outpatient")
    assert status_of(expert) == "available" and reasons(expert) == []
    assert 'href="/apply/P003-DEMO-0002/expert_outpatient"' in expert and 'data-testid="apply"' in expert
    car = card(html, "P003-DEMO-0002", "car_pickup")
    assert status_of(car) == "available" and "1" in text_of(block(car, "uses-left"))


def test_waiting_period_is_locked_with_its_end_date(adult):
    expert = card(home(adult), "P000-DEMO-0001", "expert_outpatient")
    assert status_of(expert) == "locked" and 'data-testid="apply"' not in expert
    assert reasons(expert) == ["policy.waiting_period"]
    # Effective 2026-10-14 (NOW − 40 days), 90 days' waiting: usable from 2027-01-12 (DOMAIN.md, Definitions).
    reason = re.search(r'<li data-reason="policy.waiting_period">(.*?)</li>', expert).group(1)
    assert "2027年1月12日" in reason


def test_a_surrendered_policy_is_locked_and_marked_ended(adult):
    html = home(adult)
    policy = element_of_policy(html, "P004-DEMO-0004")
    assert 'data-testid="policy-ended"' in policy
    cards = re.findall(r'data-service="([^"]+)" data-policy="P004-DEMO-0004"', html)
    for code in cards:
        one = card(html, "P004-DEMO-0004", code)
        assert 'data-testid="apply"' not in one
        if status_of(one):  # bookable services
            assert status_of(one) == "locked" and reasons(one)[0] == "policy.surrendered_cooling_off"


def element_of_policy(html: str, number: str) -> str:
    head = html.index(number)
    start = html.rfind('<section class="policy"', 0, head)
    return element(html[start:], 'class="policy"')


def test_used_up_shows_its_renewal_date(adult):
    expert = card(home(adult), "P002-DEMO-0003", "expert_outpatient")
    assert status_of(expert) == "locked" and reasons(expert) == ["quota.used_up"]
    # Effective 2025-10-19 (NOW − 400 days): the second policy year renews on 2027-10-19.
    reason = re.search(r'<li data-reason="quota.used_up">(.*?)</li>', expert).group(1)
    assert "2027年10月19日" in reason
    assert "2027年10月19日" in text_of(block(expert, "uses-left"))


def test_a_use_held_by_an_application_in_progress_locks_the_card(adult):
    opinion = card(home(adult), "P003-DEMO-0002", "second_opinion")
    assert status_of(opinion) == "locked" and reasons(opinion) == ["quota.in_progress"]


def test_information_services_show_a_phone_link(adult):
    html = home(adult)
    for code, tel in [("video_consultation", "10109955"), ("emergency_rescue", "400-891-0152"),
                      ("health_check", "400-887-1278")]:
        info = card(html, "P003-DEMO-0002", code)
        assert f'href="tel:{tel.replace("-", "")}"' in info and 'data-testid="apply"' not in info  # digits only


def test_information_cards_say_what_the_service_is_and_promises(adult):
    # 003 重疾直通车 一, 三 表 lines 1899, 1927: a case manager who calls within 1 hour of approval.
    info = card(home(adult), "P003-DEMO-0002", "case_manager")
    assert "专案管家" in text_of(block(info, "service-summary")) and 'data-testid="apply"' not in info
    assert "1个小时内" in text_of(block(info, "service-note"))
    assert 'href="tel:952299"' in info


def mentions_day(text: str, day: date) -> bool:
    """Whether `text` names `day` (ISO, or formatted for people in Chinese or English)."""
    return any(form in text for form in (day.isoformat(), f"{day.year}年{day.month}月{day.day}日",
                                         f"{day.day} {day:%b} {day.year}"))


def promise(html: str, policy: str, service: str) -> str:
    return text_of(block(card(html, policy, service), "promise"))


@pytest.mark.parametrize("clock, expected_003, expected_000", [
    # Friday 10:00: 003's desk (daily 09–21) and 000's (Mon–Fri 09–18) both see it today; 5 working days
    # skip the weekend: Mon 23 … Fri 27.
    (at(2026, 11, 20, 10, 0), "11月27日 周五", "11月27日 周五"),
    # Friday 19:00: 000's desk has closed, it sees the application on Monday; 003's is still open.
    (at(2026, 11, 20, 19, 0), "11月27日 周五", "11月30日 周一"),
    # Saturday: 003 counts from Saturday (not a working day itself), 000 from Monday.
    (at(2026, 11, 21, 10, 0), "11月27日 周五", "11月30日 周一"),
    # National Day 2026: 1–7 Oct off, Sat 10 Oct an adjusted working day (调休): Oct 8, 9, 10, 12, 13.
    (at(2026, 9, 30, 10, 0), "10月13日 周二", "10月13日 周二"),
    # The day before National Day, after 000's desk closed: it sees it on 8 Oct; 8 Oct itself does not count.
    (at(2026, 9, 30, 18, 30), "10月13日 周二", "10月14日 周三"),
])
def test_the_promise_counts_working_days(app, session, clock, expected_003, expected_000):
    """The card's promise date: the demo adult's 003 policy, and a 000 policy (World) whose desk keeps office hours."""
    build_demo(session, clock)
    World(session, effective=date(2026, 1, 1))
    set_clock(app, clock)
    adult, other = app.test_client(), app.test_client()
    sign_in(adult, ADULT)
    sign_in(other, W_MOBILE)
    assert expected_003 in promise(home(adult), "P003-DEMO-0002", "expert_outpatient")
    assert expected_000 in promise(home(other), "T-cigc_classic", "expert_outpatient")


def test_the_promise_never_names_a_weekend_or_holiday(app, session, client):
    from webapp.services.workdays import is_workday

    for clock in (at(2026, 11, 20, 10, 0), at(2026, 9, 30, 10, 0)):
        build_demo(session, clock)
        set_clock(app, clock)
        c = app.test_client()
        sign_in(c, ADULT)
        html = home(c)
        for match in re.finditer(r'data-testid="promise">(.*?)</p>', html, re.S):
            for month, day_ in re.findall(r"(\d+)月(\d+)日", match.group(1)):
                assert is_workday(date(clock.year, int(month), int(day_))), match.group(1)
        app.config.pop("CLOCK")


# ------------------------------------------------------------------------------------------------ applying

@pytest.fixture()
def world_client(app, session, client):
    """World: 张三 (13900000001) with a cigc_classic (000) policy from 2026-01-01, signed in at NOW."""
    w = World(session, effective=date(2026, 1, 1))
    set_clock(app, NOW)
    sign_in(client, W_MOBILE)
    return w, client


def apply_via_client(client, policy, service, form, key="rk-1", htmx=False):
    page = client.get(f"/apply/{policy}/{service}")
    assert page.status_code == 200
    csrf = csrf_from(page.get_data(as_text=True))
    data = {**form, "csrf_token": csrf, "request_key": key}
    headers = {"HX-Request": "true"} if htmx else {}
    review = client.post(f"/apply/{policy}/{service}", data=data, headers=headers)
    return data, review


def test_apply_review_then_confirm(app, session, world_client):
    w, client = world_client
    form_page = client.get("/apply/T-cigc_classic/expert_outpatient").get_data(as_text=True)
    key = re.search(r'name="request_key" value="([^"]+)"', form_page).group(1)
    data, review = apply_via_client(client, "T-cigc_classic", "expert_outpatient", EXPERT_FORM, key=key)
    html = review.get_data(as_text=True)
    assert review.status_code == 200 and 'data-testid="consequence"' in html
    # 000 （一）2.2: once within the service period, which is the policy's term here.
    consequence = text_of(block(html, "consequence"))
    assert mentions_day(consequence, date(2026, 1, 1)) and mentions_day(consequence, date(2026, 12, 31))
    assert 'data-testid="confirm-apply"' in html
    assert fresh(session).scalar(select(func.count()).select_from(Booking)) == 0  # review writes nothing
    done = client.post("/apply/T-cigc_classic/expert_outpatient/confirm", data=data)
    assert done.status_code == 303
    reference = re.fullmatch(r"/bookings/(LT[0-9A-Z]{8})", done.headers["Location"]).group(1)
    created = booking(session, reference)
    assert (created.state, created.applicant_account_id, created.acting_as) == ("applied", w.account.id, "self")
    assert created.details == {"diagnosis_stage": "suspected", "city": "上海", "hospital": "复旦大学附属中山医院", "department": "肿瘤内科",
                               "preferred_dates": ["2026-12-01"]}
    assert (created.entitlement.held, created.entitlement.used) == (1, 0)
    detail = client.get(done.headers["Location"]).get_data(as_text=True)
    assert attr_values(detail, "booking", "data-state") == ["applied"]
    assert reference in text_of(block(detail, "booking"))
    # The card now says the use is held.
    assert status_of(card(home(client), "T-cigc_classic", "expert_outpatient")) == "locked"


def test_the_review_fragment_for_htmx_is_only_the_form(app, session, world_client):
    _, client = world_client
    _, review = apply_via_client(client, "T-cigc_classic", "expert_outpatient", EXPERT_FORM, htmx=True)
    html = review.get_data(as_text=True)
    assert review.status_code == 200 and "<html" not in html and "<body" not in html
    assert 'data-testid="apply-form"' in html and 'data-testid="consequence"' in html


def test_a_form_with_errors_comes_back_422(app, session, world_client):
    _, client = world_client
    use_english(client)
    _, review = apply_via_client(client, "T-cigc_classic", "expert_outpatient", {**EXPERT_FORM, "preferred_date_1": ""})
    html = review.get_data(as_text=True)
    assert review.status_code == 422 and 'data-testid="form-errors"' in html
    assert "Please choose at least one date." in text_of(html)
    assert 'data-testid="consequence"' not in html


def test_confirming_twice_with_the_same_key_creates_one_booking(app, session, world_client):
    w, client = world_client
    data, _ = apply_via_client(client, "T-cigc_classic", "expert_outpatient", EXPERT_FORM, key="double-tap")
    first = client.post("/apply/T-cigc_classic/expert_outpatient/confirm", data=data)
    second = client.post("/apply/T-cigc_classic/expert_outpatient/confirm", data=data)
    htmx = client.post("/apply/T-cigc_classic/expert_outpatient/confirm", data=data, headers={"HX-Request": "true"})
    assert first.status_code == second.status_code == 303
    assert first.headers["Location"] == second.headers["Location"]
    assert htmx.status_code == 204 and htmx.headers["HX-Redirect"] == first.headers["Location"]
    rows = fresh(session).scalars(select(Booking)).all()
    assert len(rows) == 1 and rows[0].entitlement.held == 1 and len(rows[0].transitions) == 1


def test_applying_over_the_hourly_limit_is_refused_with_429_and_audited(app, session, world_client, monkeypatch):
    monkeypatch.setattr(bookings, "APPLY_LIMIT", bookings.ratelimit.Limit(1, timedelta(hours=1)))
    _, client = world_client
    data, _ = apply_via_client(client, "T-cigc_classic", "expert_outpatient", EXPERT_FORM, key="first")
    assert client.post("/apply/T-cigc_classic/expert_outpatient/confirm", data=data).status_code == 303
    limited = client.post("/apply/T-cigc_classic/expert_outpatient/confirm", data={**data, "request_key": "second"})
    assert limited.status_code == 429 and 'data-testid="rate-limited"' in limited.get_data(as_text=True)
    assert fresh(session).scalar(select(func.count()).select_from(Booking)) == 1
    assert session.scalar(select(func.count()).select_from(AuditEvent).where(AuditEvent.action == "booking.rate_limited")) == 1


def test_the_guardian_withdraws_and_applies_again_for_the_child(app, session, client):
    build_demo(session, NOW)
    set_clock(app, NOW)
    sign_in(client, PARENT)
    child = booking_of(session, "P003-DEMO-0005", "expert_outpatient")
    assert status_of(card(home(client), "P003-DEMO-0005", "expert_outpatient")) == "locked"  # held by it
    out = client.post(f"/bookings/{child.reference}/cancel", data={"csrf_token": token(client)})
    assert out.status_code == 303 and booking(session, child.reference).state == "withdrawn"
    assert status_of(card(home(client), "P003-DEMO-0005", "expert_outpatient")) == "available"
    # 003: the earliest day offered is the promise (5 working days from today's complete papers): Mon 30 Nov.
    data, review = apply_via_client(client, "P003-DEMO-0005", "expert_outpatient",
                                    {"city": "上海", "hospital": "上海儿童医学中心", "department": "小儿血液科",
                                     "preferred_date_1": "2026-11-30"}, key="guardian-1")
    assert review.status_code == 200 and 'data-testid="consequence"' in review.get_data(as_text=True)
    done = client.post("/apply/P003-DEMO-0005/expert_outpatient/confirm", data=data)
    assert done.status_code == 303
    created = booking(session, done.headers["Location"].rsplit("/", 1)[1])
    parent = session.scalar(select(Account).where(Account.mobile == PARENT))
    assert (created.acting_as, created.applicant_account_id, created.policy.number) == ("guardian", parent.id, "P003-DEMO-0005")
    assert created.transitions[0].actor_role == "proxy"


def test_a_refused_application_says_why(app, session, adult):
    """The waiting period: the form opens with the reasons, and a confirm is refused with 409, nothing held."""
    page = adult.get("/apply/P000-DEMO-0001/expert_outpatient")
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and reasons(block(html, "refused")) == ["policy.waiting_period"]
    before = snapshot(session)
    done = adult.post("/apply/P000-DEMO-0001/expert_outpatient/confirm",
                      data={**EXPERT_FORM, "csrf_token": csrf_from(html), "request_key": "refused-1"})
    assert done.status_code == 409 and reasons(block(done.get_data(as_text=True), "refused")) == ["policy.waiting_period"]
    assert snapshot(session) == before


def field_check(client, policy, service, name, form):
    response = client.post(f"/apply/{policy}/{service}/field/{name}", data={**form, "csrf_token": token(client)},
                           headers={"HX-Request": "true"})
    return response


def test_live_check_of_the_car_distance(app, session, adult):
    use_english(adult)
    form = {"distance_km": "101"}
    too_far = field_check(adult, "P003-DEMO-0002", "car_pickup", "distance_km", form)
    html = too_far.get_data(as_text=True)
    assert too_far.status_code == 200 and "<html" not in html
    assert re.fullmatch(r'<p class="field-error" id="err-distance_km" role="alert">(.*)</p>\s*', html)
    assert text_of(html) == "We can only arrange a car for trips of up to 100 km one way."
    fine = field_check(adult, "P003-DEMO-0002", "car_pickup", "distance_km", {"distance_km": "100"})
    assert text_of(fine.get_data(as_text=True)) == ""
    assert 'id="err-distance_km"' in fine.get_data(as_text=True)


def test_live_check_of_an_excluded_department(app, session, adult):
    use_english(adult)
    # 003 门诊陪诊 一 line 1478 "分娩时不进行陪同": childbirth is refused, an obstetrics visit is not (it was).
    refused = field_check(adult, "P003-DEMO-0002", "escort_outpatient", "department", {"department": "分娩"})
    assert text_of(refused.get_data(as_text=True)) == ("A companion does not go with you for childbirth. Other visits, "
                                                      "gynaecology and pregnancy check-ups included, are covered.")
    for department in ("肿瘤内科", "产科"):
        fine = field_check(adult, "P003-DEMO-0002", "escort_outpatient", "department", {"department": department})
        assert text_of(fine.get_data(as_text=True)) == ""


def test_live_check_of_one_preferred_date_reports_on_the_dates_field(app, session, world_client):
    _, client = world_client
    early = field_check(client, "T-cigc_classic", "expert_outpatient", "preferred_date_2",
                        {"preferred_date_1": "2026-12-01", "preferred_date_2": "2026-11-24"})
    html = early.get_data(as_text=True)
    assert 'id="err-preferred_dates"' in html
    assert mentions_day(text_of(html), date(2026, 11, 30))  # the first day that can be offered


def test_live_check_of_an_unknown_field_is_404(app, session, adult):
    response = field_check(adult, "P003-DEMO-0002", "car_pickup", "state", {"state": "completed"})
    assert response.status_code == 404


# ------------------------------------------------------------------------------------------------ bookings

def arranged(session, w: World, service: str, starts_at: datetime, *, applied=NOW - timedelta(days=3), slip=None,
             to: str = "scheduled") -> Booking:
    """A booking of World's policy made through the services: applied, then reviewed, approved and scheduled."""
    outcome = bookings.apply(session, account=w.account, policy_id=w.policy.id, service_code=service,
                             request_key=f"k-{service}-{starts_at.isoformat()}", now=applied,
                             details={"city": "上海"}, admission_slip_date=slip)
    assert outcome.ok, outcome.reasons
    b = outcome.booking
    if to == "applied":
        return b
    bookings.start_review(session, b.id, staff=w.staff, now=applied + timedelta(hours=1))
    bookings.approve(session, b.id, staff=w.staff, now=applied + timedelta(hours=2))
    if to == "approved":
        return b
    bookings.schedule(session, b.id, staff=w.staff, now=applied + timedelta(hours=3), starts_at=starts_at,
                      appointment={"hospital": "复旦大学附属中山医院", "department": "肿瘤内科"})
    return b


def test_the_booking_page_shows_its_timeline(app, session, world_client):
    w, client = world_client
    b = arranged(session, w, "expert_outpatient", at(2026, 11, 26, 9, 0))
    html = client.get(f"/bookings/{b.reference}").get_data(as_text=True)
    timeline = block(html, "timeline")
    assert re.findall(r'<li data-state="([^"]+)"', timeline) == ["applied", "under_review", "approved", "scheduled"]
    assert "11月20日 周五 10:00" in text_of(timeline)  # applied three days before NOW, shown in China time
    assert attr_values(html, "booking", "data-state") == ["scheduled"]
    assert "11月26日 周四 09:00" in text_of(block(html, "appointment"))


def test_a_visit_cancelled_before_noon_the_day_before_is_free(app, session, world_client):
    w, client = world_client
    b = arranged(session, w, "expert_outpatient", at(2026, 11, 26, 9, 0))  # Thursday; free until Wed 12:00
    set_clock(app, at(2026, 11, 25, 11, 59, 59))
    quote = client.get(f"/bookings/{b.reference}/cancel")
    assert attr_values(quote.get_data(as_text=True), "cancel-quote", "data-outcome") == ["free"]
    done = client.post(f"/bookings/{b.reference}/cancel", data={"csrf_token": token(client)})
    assert done.status_code == 303 and done.headers["Location"] == f"/bookings/{b.reference}"
    after = booking(session, b.reference)
    assert after.state == "cancelled_free" and after.transitions[-1].rule == "noon_day_before"
    assert (after.entitlement.held, after.entitlement.used) == (0, 0)
    assert status_of(card(home(client), "T-cigc_classic", "expert_outpatient")) == "available"


def test_a_visit_cancelled_from_noon_the_day_before_counts(app, session, world_client):
    w, client = world_client
    b = arranged(session, w, "expert_outpatient", at(2026, 11, 26, 9, 0))
    set_clock(app, at(2026, 11, 25, 12, 0))  # 12:00:00 exactly is no longer free (000 （一）2.9(6))
    html = client.get(f"/bookings/{b.reference}/cancel").get_data(as_text=True)
    assert attr_values(html, "cancel-quote", "data-outcome") == ["counted"]
    assert 'data-testid="confirm-cancel"' in html
    client.post(f"/bookings/{b.reference}/cancel", data={"csrf_token": token(client)})
    after = booking(session, b.reference)
    assert after.state == "cancelled_counted" and after.transitions[-1].rule == "noon_day_before"
    assert after.transitions[-1].detail["free_until"] == "2026-11-25T12:00:00+08:00"
    assert (after.entitlement.held, after.entitlement.used) == (0, 1)


def test_the_quote_fragment_is_only_the_fragment(app, session, world_client):
    w, client = world_client
    b = arranged(session, w, "expert_outpatient", at(2026, 11, 26, 9, 0))
    response = client.get(f"/bookings/{b.reference}/cancel", headers={"HX-Request": "true"})
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and "<html" not in html and "<body" not in html and "<main" not in html
    assert html.lstrip().startswith('<div id="confirm"') and attr_values(html, "cancel-quote", "data-outcome") == ["free"]
    assert "Vary" in response.headers and "HX-Request" in response.headers["Vary"]
    page = client.get(f"/bookings/{b.reference}/cancel").get_data(as_text=True)
    assert "<html" in page and 'data-testid="cancel-confirm"' in page


def test_the_commit_decides_by_the_clock_at_commit_time(app, session, world_client):
    w, client = world_client
    b = arranged(session, w, "expert_outpatient", at(2026, 11, 26, 9, 0))
    set_clock(app, at(2026, 11, 25, 11, 58))
    page = client.get(f"/bookings/{b.reference}/cancel").get_data(as_text=True)
    assert attr_values(page, "cancel-quote", "data-outcome") == ["free"]
    set_clock(app, at(2026, 11, 25, 12, 0, 1))  # the person hesitated past the deadline
    done = client.post(f"/bookings/{b.reference}/cancel", data={"csrf_token": csrf_from(page)})
    assert done.status_code == 303
    after = booking(session, b.reference)
    assert after.state == "cancelled_counted"
    assert after.transitions[-1].detail["at"] == "2026-11-25T12:00:01+08:00"
    assert (after.entitlement.held, after.entitlement.used) == (0, 1)


def test_cancelling_twice_refunds_once(app, session, world_client):
    w, client = world_client
    b = arranged(session, w, "expert_outpatient", at(2026, 11, 26, 9, 0))
    csrf = token(client)
    client.post(f"/bookings/{b.reference}/cancel", data={"csrf_token": csrf})
    again = client.post(f"/bookings/{b.reference}/cancel", data={"csrf_token": csrf})
    assert again.status_code == 303
    after = booking(session, b.reference)
    assert after.state == "cancelled_free" and len(after.transitions) == 5
    assert (after.entitlement.held, after.entitlement.used) == (0, 0)


def test_withdrawing_before_scheduling_is_free(app, session, world_client):
    w, client = world_client
    b = arranged(session, w, "expert_outpatient", at(2026, 11, 26, 9, 0), to="approved")
    html = client.get(f"/bookings/{b.reference}").get_data(as_text=True)
    assert 'data-testid="cancel"' in html and 'data-testid="change"' not in html
    assert attr_values(client.get(f"/bookings/{b.reference}/cancel").get_data(as_text=True),
                       "cancel-quote", "data-outcome") == ["withdraw"]
    client.post(f"/bookings/{b.reference}/cancel", data={"csrf_token": token(client)})
    after = booking(session, b.reference)
    assert after.state == "withdrawn" and after.transitions[-1].quota_effect == "release"
    assert (after.entitlement.held, after.entitlement.used) == (0, 0)


def test_an_admission_cannot_be_cancelled_online(app, session, world_client):
    w, client = world_client
    b = arranged(session, w, "inpatient_surgery", at(2026, 11, 27, 8, 0), slip=date(2026, 11, 19))
    assert b.change_rule == "never"
    html = client.get(f"/bookings/{b.reference}").get_data(as_text=True)
    assert 'data-testid="not-cancellable"' in html
    assert 'data-testid="cancel"' not in html and 'data-testid="change"' not in html
    quote = client.get(f"/bookings/{b.reference}/cancel").get_data(as_text=True)
    assert attr_values(quote, "cancel-quote", "data-outcome") == ["impossible"]
    assert 'data-testid="confirm-cancel"' not in quote
    before = snapshot(session)
    use_english(client)
    refused = client.post(f"/bookings/{b.reference}/cancel", data={"csrf_token": token(client)}, follow_redirects=True)
    assert refused.status_code == 200
    assert "This booking cannot be cancelled online" in text_of(refused.get_data(as_text=True))
    assert snapshot(session) == before
    change = client.post(f"/bookings/{b.reference}/change", data={"csrf_token": token(client), "dates": "周五"})
    assert change.status_code == 303 and snapshot(session) == before


@pytest.fixture()
def car_world(app, session, client):
    """003 (zhongan_vip) policy with a car pickup scheduled for 2026-11-23 15:00 (NOW + 5 h)."""
    w = World(session, "zhongan_vip", effective=date(2026, 1, 1))
    set_clock(app, NOW)
    sign_in(client, W_MOBILE)
    b = arranged(session, w, "car_pickup", at(2026, 11, 23, 15, 0), slip=date(2026, 11, 20))
    return w, client, b


def test_a_car_pickup_may_be_changed_more_than_four_hours_ahead(app, session, car_world):
    _, client, b = car_world
    page = client.get(f"/bookings/{b.reference}/change")
    html = page.get_data(as_text=True)
    assert attr_values(html, "cancel-quote", "data-outcome") == ["free"] and 'data-testid="confirm-change"' in html
    done = client.post(f"/bookings/{b.reference}/change", data={"csrf_token": csrf_from(html), "dates": "明天下午"})
    assert done.status_code == 303
    after = booking(session, b.reference)
    assert (after.state, after.starts_at) == ("approved", None)
    assert datetime.fromisoformat(after.transitions[-1].detail["previous_starts_at"]) == at(2026, 11, 23, 15, 0)
    assert (after.entitlement.held, after.entitlement.used) == (1, 0)


def test_a_car_pickup_exactly_four_hours_ahead_is_still_free(app, session, car_world):
    _, client, b = car_world
    set_clock(app, at(2026, 11, 23, 11, 0))
    done = client.post(f"/bookings/{b.reference}/change", data={"csrf_token": token(client), "dates": "明天"})
    assert done.status_code == 303 and booking(session, b.reference).state == "approved"


def test_a_car_pickup_changed_inside_four_hours_is_taken_and_counted(app, session, car_world):
    """003 同城专车接送 Q&A(2) lines 634-638: "未能提前4小时取消或变更已预约的服务，视为服务已使用，但服务人员会将尽力提供
    服务" — one second inside the 4 hours a change is still taken (it was refused) and counts: the use stays held while
    the car is arranged again, and any ending spends it."""
    _, client, b = car_world
    set_clock(app, at(2026, 11, 23, 11, 0, 1))
    use_english(client)
    page = client.get(f"/bookings/{b.reference}/change").get_data(as_text=True)
    assert attr_values(page, "cancel-quote", "data-outcome") == ["counted"]
    assert 'data-testid="late-change"' in page and 'data-testid="confirm-change"' in page
    done = client.post(f"/bookings/{b.reference}/change", data={"csrf_token": token(client), "dates": "明天"},
                       follow_redirects=True)
    assert "As the change came after the change deadline, it counts as used" in text_of(done.get_data(as_text=True))
    after = booking(session, b.reference)
    assert (after.state, after.starts_at, after.transitions[-1].rule) == ("approved", None, "late_change_counted")
    assert (after.entitlement.held, after.entitlement.used) == (1, 0)
    page = client.get(f"/bookings/{b.reference}").get_data(as_text=True)
    assert "Changed after the change deadline: counted as used" in text_of(block(page, "timeline"))
    detail = client.get(f"/bookings/{b.reference}/cancel").get_data(as_text=True)
    assert attr_values(detail, "cancel-quote", "data-outcome") == ["counted"]  # not a free withdrawal any more
    client.post(f"/bookings/{b.reference}/cancel", data={"csrf_token": token(client)})
    ended = booking(session, b.reference)
    assert ended.state == "cancelled_counted" and (ended.entitlement.held, ended.entitlement.used) == (0, 1)


def test_a_change_needs_dates(app, session, car_world):
    _, client, b = car_world
    before = snapshot(session)
    response = client.post(f"/bookings/{b.reference}/change", data={"csrf_token": token(client), "dates": "  "})
    assert response.status_code == 422 and 'id="dates-error"' in response.get_data(as_text=True)
    assert snapshot(session) == before


def test_the_bookings_list_shows_every_booking_of_the_person(app, session, adult):
    html = adult.get("/bookings").get_data(as_text=True)
    rows = dict(re.findall(r'data-reference="([^"]+)" data-state="([^"]+)"', html))
    zhang = fresh(session).scalar(select(Account).where(Account.mobile == ADULT))
    expected = {b.reference: b.state for b in session.scalars(select(Booking)) if b.policy.insured_id == zhang.person_id}
    assert rows == expected and len(rows) >= 5
    assert {"scheduled", "under_review", "completed"} <= set(rows.values())


# ------------------------------------------------------------------------------------------------ messages

def test_messages_list_the_status_changes_and_can_be_marked_read(app, session, world_client):
    w, client = world_client
    b = arranged(session, w, "expert_outpatient", at(2026, 11, 26, 9, 0))
    html = client.get("/messages").get_data(as_text=True)
    items = re.findall(r'<li class="msg[^"]*" data-testid="message" data-kind="([^"]+)"', html)
    assert items == ["status"] * 4  # applied, under review, approved, scheduled
    assert html.count(f'href="/bookings/{b.reference}"') == 4
    assert text_of(block(html, "unread-count")) == "4"
    assert "11月26日 周四 09:00" in text_of(block(html, "messages"))  # the scheduled one names the time
    done = client.post("/messages/read", data={"csrf_token": csrf_from(html)})
    assert done.status_code == 303 and done.headers["Location"] == "/messages"
    after = client.get("/messages").get_data(as_text=True)
    assert 'data-testid="unread-count"' not in after and 'data-testid="mark-read"' not in after
    assert {n.read_at for n in fresh(session).scalars(select(Notification).where(Notification.account_id == w.account.id))} == {NOW}


def test_a_cancellation_adds_a_message(app, session, world_client):
    w, client = world_client
    b = arranged(session, w, "expert_outpatient", at(2026, 11, 26, 9, 0))
    client.post(f"/bookings/{b.reference}/cancel", data={"csrf_token": token(client)})
    notes = fresh(session).scalars(select(Notification).where(Notification.account_id == w.account.id)
                                   .order_by(Notification.id)).all()
    assert [n.payload["state"] for n in notes] == ["applied", "under_review", "approved", "scheduled", "cancelled_free"]


# ------------------------------------------------------------------------------------------------ language

def test_the_language_switch_sticks(app, session, adult):
    assert 'lang="zh-CN"' in home(adult)
    response = adult.post("/language", data={"csrf_token": token(adult), "locale": "en", "next": "/bookings"})
    assert response.status_code == 303 and response.headers["Location"] == "/bookings"
    for path in ("/home", "/bookings", "/messages"):
        assert 'lang="en"' in adult.get(path).get_data(as_text=True), path
    assert fresh(session).scalar(select(Account).where(Account.mobile == ADULT)).locale == "en"
    back = adult.post("/language", data={"csrf_token": token(adult), "locale": "zh_CN", "next": "/home"})
    assert back.status_code == 303 and 'lang="zh-CN"' in home(adult)


def test_an_unknown_language_is_ignored(app, session, adult):
    adult.post("/language", data={"csrf_token": token(adult), "locale": "fr", "next": "/home"})
    assert 'lang="zh-CN"' in home(adult)


@pytest.mark.parametrize("target", ["https://evil.example/", "//evil.example", "javascript:alert(1)", "/\\evil",
                                    "/\t/evil.example", "/\r\n/evil.example"])
def test_the_language_switch_never_redirects_away(app, session, client, target):
    """A tab once turned '/\\t/evil.example' into a '//evil.example' redirect and a newline into a 500: /language
    now uses common.safe_next like sign-in."""
    response = client.post("/language", data={"csrf_token": token(client, "/sign-in"), "locale": "en", "next": target})
    assert response.status_code == 303 and response.headers["Location"] == "/"


@pytest.fixture()
def midnight(app, session, client):
    """A visit at 00:30 China time on Friday 27 Nov 2026 (16:30 UTC on Thursday)."""
    w = World(session, effective=date(2026, 1, 1))
    set_clock(app, NOW)
    sign_in(client, W_MOBILE)
    b = arranged(session, w, "expert_outpatient", at(2026, 11, 27, 0, 30))
    return client, b


def test_dates_in_chinese_are_china_time(app, session, midnight):
    client, b = midnight
    assert booking(session, b.reference).starts_at == datetime(2026, 11, 26, 16, 30, tzinfo=timezone.utc)
    appointment = text_of(block(client.get(f"/bookings/{b.reference}").get_data(as_text=True), "appointment"))
    assert "11月27日 周五 00:30" in appointment and "16:30" not in appointment


def test_dates_in_english_are_china_time(app, session, midnight):
    client, b = midnight
    use_english(client)
    html = client.get(f"/bookings/{b.reference}").get_data(as_text=True)
    when = re.search(r"<dd>(.*?)</dd>", block(html, "appointment")).group(1)
    assert when == "Fri 27 Nov 00:30"
    # The free-cancel deadline: 12:00 on the calendar day before, Thursday.
    assert "Thu 26 Nov 12:00" in text_of(block(html, "free-until"))


def test_dates_ignore_the_servers_time_zone(app, session, midnight, monkeypatch):
    client, b = midnight
    monkeypatch.setenv("TZ", "America/Los_Angeles")
    time.tzset()
    try:
        appointment = text_of(block(client.get(f"/bookings/{b.reference}").get_data(as_text=True), "appointment"))
        assert "11月27日 周五 00:30" in appointment
    finally:
        monkeypatch.undo()
        time.tzset()


def test_card_dates_follow_the_language(app, session, adult):
    use_english(adult)
    html = home(adult)
    assert "Mon 30 Nov" in promise(html, "P003-DEMO-0002", "expert_outpatient")
    reason = re.search(r'<li data-reason="policy.waiting_period">(.*?)</li>',
                       card(html, "P000-DEMO-0001", "expert_outpatient")).group(1)
    assert "Tue 12 Jan 2027" in reason


def test_switching_language_on_a_page_shown_for_a_posted_form_lands_on_its_form(app, client, session):
    """A wrong code is shown at /sign-in/verify, which only answers POST: the switch goes back to /sign-in, not a 405."""
    page = client.get("/sign-in")
    token = csrf_from(page.get_data(as_text=True))
    for posted_page, expected in [("/sign-in/verify", "/sign-in"),
                                  ("/apply/P003-DEMO-0002/expert_outpatient/confirm", "/apply/P003-DEMO-0002/expert_outpatient"),
                                  ("/messages/read", "/"), ("/nowhere", "/")]:
        response = client.post("/language", data={"csrf_token": token, "locale": "en", "next": posted_page})
        assert response.status_code == 303 and response.headers["Location"] == expected, posted_page

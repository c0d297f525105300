"""Phone lines, the seed's promises, the desk's hours and the same-expert warning, through the web client (issue 14
item 6). Sentences new in this change are checked in English (the Chinese is merged into the catalogues separately);
catalog text is bilingual in place and is checked in Chinese."""
from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest

from webapp.services.booking import bookings, expert_cancellations

from .conftest import World, at, build_demo
from .web_helpers import ADULT, NOW, attr_values, block, booking_of, card, set_clock, sign_in, text_of, use_english
from .web_helpers import testids as ids_in  # (a name starting with "test" would be collected)

W_MOBILE = "13900000001"  # World's insured person
ACTIVE = "P003-DEMO-0002"  # 张伟's 003 policy, in force
DOCTOR = {"hospital": "浙江大学医学院附属第一医院", "department": "心内科", "doctor": "王建国"}


@pytest.fixture()
def adult(app, session, client):
    build_demo(session, NOW)
    set_clock(app, NOW)
    sign_in(client, ADULT)
    return client


@pytest.fixture()
def world_client(app, session, client):
    """World: 张三 with a 000 policy from 2026-01-01, signed in at NOW (Monday 23 Nov 2026, 10:00)."""
    w = World(session, effective=date(2026, 1, 1))
    set_clock(app, NOW)
    sign_in(client, W_MOBILE)
    return w, client


def page(client, path: str) -> str:
    response = client.get(path)
    assert response.status_code == 200, (path, response.status_code)
    return response.get_data(as_text=True)


def scheduled(session, w: World, starts_at: datetime, *, appointment=DOCTOR, applied: datetime = NOW - timedelta(days=3),
              key: str | None = None, to: str = "scheduled"):
    """A 000 expert visit of World's policy, applied and (unless `to` says otherwise) arranged with `appointment`."""
    outcome = bookings.apply(session, account=w.account, policy_id=w.policy.id, service_code="expert_outpatient",
                             request_key=key or f"k-{starts_at.isoformat()}", now=applied, details={"city": "杭州"})
    assert outcome.ok, outcome.reasons
    b = outcome.booking
    if to == "applied":
        return b
    bookings.start_review(session, b.id, staff=w.staff, now=applied + timedelta(hours=1))
    bookings.approve(session, b.id, staff=w.staff, now=applied + timedelta(hours=2))
    return bookings.schedule(session, b.id, staff=w.staff, now=applied + timedelta(hours=3), starts_at=starts_at,
                             appointment=appointment)


# ------------------------------------------------------------------------------------------------ the cards

def test_each_card_shows_its_own_lines_as_tel_links(adult):
    html = page(adult, "/home")
    expert_000 = card(html, "P000-DEMO-0001", "expert_outpatient")
    assert attr_values(expert_000, "phone-apply", "href") == ["tel:4006096868"]
    assert attr_values(expert_000, "phone-change_cancel", "href") == ["tel:4006788500"]
    assert attr_values(expert_000, "phone-change_cancel", "data-purposes") == ["change_cancel urgent complaints"]
    assert "7×24小时" in text_of(block(expert_000, "phones"))
    escort = card(html, ACTIVE, "escort_outpatient")
    assert attr_values(escort, "phone-apply", "href") == ["tel:10109955"]
    assert attr_values(escort, "phone-apply", "data-purposes") == ["apply change_cancel urgent complaints"]
    assert "952299" not in escort
    assert attr_values(card(html, ACTIVE, "expert_outpatient"), "phone-apply", "href") == ["tel:952299"]
    rescue = card(html, ACTIVE, "emergency_rescue")
    assert attr_values(rescue, "phone-apply", "href") == ["tel:4008910152"]
    assert attr_values(rescue, "phone-apply-abroad", "href") == ["tel:+861064105433"]


def test_cards_tell_the_promises_of_their_seed(adult):
    html = page(adult, "/home")
    expert_000 = card(html, "P000-DEMO-0001", "expert_outpatient")
    notes = [text_of(n) for n in _all(expert_000, "service-note")]
    assert any("知名专家" in n for n in notes) and any("超过3次" in n for n in notes)  # 000 Q&A; （一）2.9(7)
    assert any("既往病症" in text_of(n) for n in _all(card(html, ACTIVE, "emergency_rescue"), "service-note"))
    overseas = " ".join(text_of(n) for n in _all(card(html, "P004-DEMO-0004", "overseas_care"), "service-note"))
    assert "3个工作日内" in overseas and "40工作日内" in overseas  # 004 海外就医综合服务


def _all(html: str, testid: str) -> list[str]:
    found, rest = [], html
    while f'data-testid="{testid}"' in rest:
        one = block(rest, testid)
        found.append(one)
        rest = rest[rest.index(one) + len(one):]
    return found


# ------------------------------------------------------------------------------------------------ booking and cancel pages

@pytest.mark.parametrize("service, href", [("nursing_aide", "tel:10109955"), ("car_pickup", "tel:952299")])
def test_the_booking_and_cancel_pages_give_the_services_change_line(adult, session, service, href):
    ref = booking_of(session, ACTIVE, service).reference
    detail = page(adult, f"/bookings/{ref}")
    assert attr_values(detail, "cancel-phone", "href") == [href]
    assert href in " ".join(attr_values(block(detail, "booking-phones"), "phone-apply", "href"))
    confirm = page(adult, f"/bookings/{ref}/cancel")
    assert attr_values(block(confirm, "cancel-confirm"), "cancel-phone", "href") == [href]


def test_a_booking_that_cannot_be_cancelled_online_links_its_line(adult, session):
    ref = booking_of(session, ACTIVE, "inpatient").reference  # 003 特别说明(5): never cancellable
    detail = page(adult, f"/bookings/{ref}")
    assert attr_values(block(detail, "not-cancellable"), "cancel-phone", "href") == ["tel:952299"]
    quote = block(page(adult, f"/bookings/{ref}/cancel"), "cancel-quote")
    assert attr_values(quote, "cancel-phone", "href") == ["tel:952299"]


def test_000_cancel_help_names_the_vendor_never_the_insurer_hotline(app, session, world_client):
    w, client = world_client
    b = scheduled(session, w, at(2026, 11, 26, 9, 0))
    for path in (f"/bookings/{b.reference}", f"/bookings/{b.reference}/cancel", f"/bookings/{b.reference}/change"):
        html = page(client, path)
        assert attr_values(html, "cancel-phone", "href") == ["tel:4006788500"], path
        assert "400-609-6868" not in text_of(block(html, "cancel-help")), path
    cancel = page(client, f"/bookings/{b.reference}/cancel")
    notes = " ".join(text_of(n) for n in _all(block(cancel, "cancel-confirm"), "service-note"))
    assert "不接受服务预约取消申请" in notes and "知名专家" in notes  # 000 （一）2.9(6); Q&A lines 268-274
    use_english(client)
    help_text = text_of(block(page(client, f"/bookings/{b.reference}/cancel"), "cancel-help"))
    assert help_text == "To change or cancel by phone: 400-678-8500 (24 hours a day, 7 days a week)."


# ------------------------------------------------------------------------------------------------ same expert, 3 times

def cancel_free(session, w: World, booking) -> None:
    """Cancelled by the customer two days before the visit: free, but for their own reasons."""
    bookings.cancel(session, booking.id, actor=w.account, now=booking.starts_at - timedelta(days=2))


def test_the_third_own_cancellation_of_one_expert_is_warned(app, session, world_client):
    w, client = world_client
    for day in (1, 2):
        cancel_free(session, w, scheduled(session, w, at(2026, 11, 10 + day, 9, 0), applied=at(2026, 11, 1 + day, 10, 0)))
    # Not counted: the vendor failed; another doctor; a date change.
    failed = scheduled(session, w, at(2026, 11, 14, 9, 0), applied=at(2026, 11, 4, 10, 0))
    bookings.close_vendor_failed(session, failed.id, staff=w.staff, now=at(2026, 11, 5, 10, 0), reason="专家停诊")
    other = scheduled(session, w, at(2026, 11, 15, 9, 0), applied=at(2026, 11, 5, 10, 0), appointment={**DOCTOR, "doctor": "李明"})
    cancel_free(session, w, other)
    third = scheduled(session, w, at(2026, 11, 26, 9, 0))
    bookings.request_change(session, third.id, actor=w.account, now=NOW, wishes={"dates": "下周"})
    bookings.schedule(session, third.id, staff=w.staff, now=NOW, starts_at=at(2026, 11, 27, 9, 0), appointment=DOCTOR)

    warning = expert_cancellations.cancel_warning(session, session.get(type(third), third.id))
    assert (warning.doctor, warning.count, warning.limit, warning.may_refuse) == ("王建国", 3, 3, False)
    use_english(client)
    html = page(client, f"/bookings/{third.reference}/cancel")
    assert attr_values(html, "expert-cancel-warning", "data-count") == ["3"]
    assert text_of(block(html, "expert-cancel-warning")) == (
        "This would be cancellation number 3 of a booked visit with 王建国 for your own reasons. After more than 3, "
        "the insurer may refuse to book this expert for you.")

    cancel_free(session, w, third)
    fourth = scheduled(session, w, at(2026, 11, 30, 9, 0), appointment={**DOCTOR, "doctor": " 王 建国 "})
    html = page(client, f"/bookings/{fourth.reference}/cancel")
    assert attr_values(html, "expert-cancel-warning", "data-count") == ["4"]
    assert "so the insurer may refuse to book this expert for you again" in text_of(block(html, "expert-cancel-warning"))


def test_no_warning_before_the_third_or_without_a_named_doctor(app, session, world_client):
    w, client = world_client
    first = scheduled(session, w, at(2026, 11, 26, 9, 0))
    assert ids_in(page(client, f"/bookings/{first.reference}/cancel"), "expert-cancel-warning") == []
    unnamed = {k: v for k, v in DOCTOR.items() if k != "doctor"}
    cancel_free(session, w, first)
    second = scheduled(session, w, at(2026, 11, 27, 9, 0), appointment=unnamed)
    assert expert_cancellations.cancel_warning(session, second) is None
    assert expert_cancellations.expert_of(second) is None


# ------------------------------------------------------------------------------------------------ desk hours

@pytest.mark.parametrize("clock, expected", [
    # 000 （一）2.3 line 38: Mon–Fri 09:00–18:00 except public holidays
    (at(2026, 11, 23, 10, 0), "Service desk hours: Monday to Friday, 9:00–18:00, except public holidays."),
    (at(2026, 11, 21, 10, 0), "Service desk hours: Monday to Friday, 9:00–18:00, except public holidays. The desk is "
                              "closed now: if you send the application now, a person will start on it at Mon 23 Nov 09:00."),
    (at(2026, 10, 3, 11, 0), "Service desk hours: Monday to Friday, 9:00–18:00, except public holidays. The desk is "
                             "closed now: if you send the application now, a person will start on it at Thu 8 Oct 09:00."),
    # the adjusted working Saturday (调休) is not a desk day for 000
    (at(2026, 10, 10, 10, 0), "Service desk hours: Monday to Friday, 9:00–18:00, except public holidays. The desk is "
                              "closed now: if you send the application now, a person will start on it at Mon 12 Oct 09:00."),
])
def test_the_apply_form_says_when_a_person_will_look(app, session, world_client, clock, expected):
    _, client = world_client
    use_english(client)
    set_clock(app, clock)
    html = page(client, "/apply/T-cigc_classic/expert_outpatient")
    assert text_of(block(html, "desk-hours")) == expected
    assert any("24 hours a day" in text_of(n) for n in _all(html, "service-note"))  # 000 （一）2.3: the vendor line, 7×24


def test_an_application_waiting_for_review_says_when_work_starts(app, session, world_client):
    w, client = world_client
    saturday = at(2026, 11, 21, 10, 0)
    b = scheduled(session, w, at(2026, 11, 30, 9, 0), applied=saturday, to="applied")
    use_english(client)
    set_clock(app, saturday + timedelta(minutes=5))
    html = page(client, f"/bookings/{b.reference}")
    assert text_of(block(html, "desk-hours")).endswith("a person will start on your application at Mon 23 Nov 09:00.")
    bookings.start_review(session, b.id, staff=w.staff, now=at(2026, 11, 23, 9, 30))
    set_clock(app, at(2026, 11, 23, 10, 0))
    assert ids_in(page(client, f"/bookings/{b.reference}"), "desk-hours") == []


def test_the_003_desk_is_open_every_day(adult, app):
    use_english(adult)
    set_clock(app, at(2026, 11, 28, 10, 0))  # a Saturday: 003 answers daily 09:00–21:00 (line 943)
    html = page(adult, f"/apply/{ACTIVE}/expert_outpatient")
    assert text_of(block(html, "desk-hours")) == "Service desk hours: Every day, 9:00–21:00."
    set_clock(app, at(2026, 11, 28, 21, 30))
    assert text_of(block(page(adult, f"/apply/{ACTIVE}/expert_outpatient"), "desk-hours")).endswith(
        "a person will start on it at Sun 29 Nov 09:00.")


"""services/booking/booking_actions.py and bookings.cancel_spends with fixed clocks: whether papers are still wanted, whom to
call on the day, and what a cancellation spends and leaves (issue 15, items 4, 6, 7)."""
from __future__ import annotations

from datetime import date, datetime
from types import SimpleNamespace

import pytest

from webapp.services.booking import booking_actions as actions
from webapp.services.booking import bookings
from webapp.services.papers.documents import Item
from webapp.services.products.catalog import default_catalog

from .conftest import World, at
from .test_web_portal import arranged

NOW = at(2026, 11, 23, 10, 0)


def service(product: str, code: str):
    return default_catalog().product(product).service(code)


def booking(state: str, *, papers_complete_at: datetime | None = None):
    return SimpleNamespace(state=state, papers_complete_at=papers_complete_at)


def item(status: str, *pages: str) -> Item:
    return Item(kind="diagnosis", document=None, status=status, pages=[SimpleNamespace(status=s) for s in pages])


# ------------------------------------------------------------------------------------------------ papers

def test_every_originals_entry_is_a_bookable_service_of_the_catalog():
    for product, code in actions.ORIGINALS:
        assert service(product, code).bookable, (product, code)
    assert actions.bring_originals("cigc_classic", "expert_outpatient")  # 000 Q&A lines 286-288
    assert actions.bring_originals("haorensheng_gc", "expert_outpatient")  # 001 注意事项5 line 51
    assert not actions.bring_originals("zhongan_vip", "car_pickup")  # 003's car: no word of originals


@pytest.mark.parametrize("state, complete, items, expected", [
    ("applied", None, [item("missing")], dict(unsent=0, retake=False, done=False, closed=False, add=True)),
    ("under_review", None, [item("draft", "draft")], dict(unsent=1, retake=False, done=False, closed=False, add=True)),
    ("under_review", None, [item("accepted", "accepted")], dict(unsent=0, retake=False, done=True, closed=False, add=False)),
    ("approved", NOW, [item("missing")], dict(unsent=0, retake=False, done=True, closed=False, add=False)),
    ("scheduled", None, [item("missing")], dict(unsent=0, retake=False, done=True, closed=False, add=False)),
    ("scheduled", None, [item("unreadable", "unreadable")], dict(unsent=0, retake=True, done=False, closed=False, add=True)),
    ("scheduled", None, [item("draft", "received", "draft")], dict(unsent=1, retake=False, done=False, closed=False, add=True)),
    ("completed", NOW, [item("accepted", "accepted")], dict(unsent=0, retake=False, done=True, closed=True, add=False)),
    ("withdrawn", None, [item("missing")], dict(unsent=0, retake=False, done=True, closed=True, add=False)),
])
def test_papers_are_asked_for_only_while_they_matter(state, complete, items, expected):
    step = actions.papers_step(booking(state, papers_complete_at=complete), items, "zhongan_vip",
                               service("zhongan_vip", "second_opinion"))
    assert {k: getattr(step, k) for k in expected} == expected
    assert step.originals is False  # 003 二次诊疗意见 says nothing of originals


def test_originals_are_asked_for_only_for_an_appointment_still_to_come():
    expert = service("cigc_classic", "expert_outpatient")
    assert actions.papers_step(booking("scheduled"), [item("accepted", "accepted")], "cigc_classic", expert).originals
    assert not actions.papers_step(booking("completed"), [item("accepted", "accepted")], "cigc_classic", expert).originals
    assert not actions.papers_step(booking("applied"), [item("missing")], "cigc_classic", expert).originals


def test_the_promise_waits_for_papers_only_where_it_counts_from_them():
    opinion = service("zhongan_vip", "second_opinion")  # counted_from: complete_papers
    assert actions.promise_waits_for_papers(booking("under_review"), opinion)
    assert not actions.promise_waits_for_papers(booking("approved", papers_complete_at=NOW), opinion)
    assert not actions.promise_waits_for_papers(booking("applied"), service("haorensheng_gc", "expert_outpatient"))


# ------------------------------------------------------------------------------------------------ whom to call

@pytest.mark.parametrize("details, expected", [
    ({"kind": "car", "driver_name": "王建军", "driver_mobile": "13900000031"}, ("driver", "王建军", "tel:13900000031")),
    ({"kind": "aide", "aide_name": "李秀梅", "aide_mobile": "139 0000 0032"}, ("aide", "李秀梅", "tel:13900000032")),
    ({"escort_name": "服务专员 周敏", "escort_mobile": "13900000000"}, ("escort", "服务专员 周敏", "tel:13900000000")),
    ({"kind": "car", "driver_mobile": "13900000031"}, ("driver", "", "tel:13900000031")),
])
def test_the_contact_on_the_day_is_the_one_the_arrangement_names(details, expected):
    contact = actions.day_contact(details)
    assert (contact.role, contact.name, contact.href) == expected


@pytest.mark.parametrize("details", [None, {}, {"kind": "visit", "hospital": "复旦大学附属中山医院"},
                                     {"kind": "car", "driver_name": "王建军"}])
def test_no_contact_without_a_number(details):
    assert actions.day_contact(details) is None


# ------------------------------------------------------------------------------------------------ what cancelling leaves

@pytest.fixture()
def vip(session):
    return World(session, "zhongan_vip", effective=date(2026, 1, 1))


def test_a_car_cancelled_inside_the_four_hours_spends_the_use_and_leaves_one(session, vip):
    """003 同城专车接送: 2 a policy year (表1 line 554); inside 4 hours a cancellation counts (特别说明(5) line 586)."""
    b = arranged(session, vip, "car_pickup", at(2026, 11, 23, 15, 0), slip=date(2026, 11, 20))
    car = service("zhongan_vip", "car_pickup")
    free = actions.after_cancel(b, car, at(2026, 11, 23, 11, 0))
    late = actions.after_cancel(b, car, at(2026, 11, 23, 11, 0, 1))
    assert (free.spends, free.left, free.days, free.whole_term) == (0, 2, False, False)
    assert (late.spends, late.left) == (1, 1)
    assert bookings.cancel_spends(b, at(2026, 11, 23, 11, 0, 1)) == 1


def test_an_admission_cancelled_by_phone_is_used_up(session, vip):
    """003 重疾绿通PLUS 特别说明(5) lines 931-932: "客户预约服务后不能取消服务。若客户因自身原因无法住院或手术，则视同该次服务
    已完成" — cancelling by phone spends it, even days ahead."""
    b = arranged(session, vip, "inpatient", at(2026, 11, 30, 9, 0), slip=date(2026, 11, 19))
    assert bookings.cancel_quote(b, NOW).outcome == "impossible"
    after = actions.after_cancel(b, service("zhongan_vip", "inpatient"), NOW)
    assert (after.spends, after.left) == (1, 0)


def test_a_visit_whose_seed_counts_only_a_no_show_spends_nothing_when_cancelled_late(session, vip):
    """003 专家门诊: change until noon the day before; only not attending counts (特别说明(5) line 929)."""
    b = arranged(session, vip, "expert_outpatient", at(2026, 11, 24, 9, 0))
    moment = at(2026, 11, 23, 12, 30)
    assert bookings.cancel_quote(b, moment).outcome == "uncounted"
    assert bookings.cancel_spends(b, moment) == 0
    assert actions.after_cancel(b, service("zhongan_vip", "expert_outpatient"), moment).left == 1


def test_a_closed_booking_leaves_nothing_to_say(session, vip):
    b = arranged(session, vip, "car_pickup", at(2026, 11, 23, 15, 0), slip=date(2026, 11, 20))
    bookings.cancel(session, b.id, actor=vip.account, now=NOW)
    assert actions.after_cancel(b, service("zhongan_vip", "car_pickup"), NOW) is None
    assert bookings.cancel_spends(b, NOW) == 0

"""003's escorts and car, as the seed counts them (issue 14): the outpatient escort's add-on pack (5 a year), an
admission and a discharge escort spending one use each, and a car change inside the 4 hours taken and counted.

Seed 003: 门诊陪诊 三 表 lines 1524-1530 "2次/年（若您同时加购了门急诊加油包/补充责任的，5次/年）"; 住院陪诊 三 表 line 1616
"2次/年（入院为1次，出院为1次）"; 同城专车接送 Q&A(2) lines 634-638 "需至少距离实际用车时间提前4个小时告知变更或取消服务，
如客户因主观原因未能提前4小时取消或变更已预约的服务，视为服务已使用，但服务人员会将尽力提供服务，但无法保证服务落实".
"""
from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta

import pytest
from sqlalchemy import select

from webapp.models import Entitlement
from webapp.services import outcomes
from webapp.services.booking import bookings
from webapp.services.booking.people import policy_facts
from webapp.services.eligibility import quota_amount
from webapp.services.products.catalog import default_catalog

from .conftest import World, at

ZHONGAN = default_catalog().product("zhongan_vip")
PACK = "outpatient_emergency_pack"
NOW = at(2026, 11, 16, 10, 0)
PICKUP = at(2026, 11, 23, 15, 0)
FOUR_HOURS_BEFORE = at(2026, 11, 23, 11, 0, 0)


@pytest.fixture()
def plain(session):
    return World(session, "zhongan_vip", effective=date(2026, 1, 1))


@pytest.fixture()
def packed(session):
    return World(session, "zhongan_vip", effective=date(2026, 1, 1), add_ons=PACK)


def apply(w, service, key, **details):
    return bookings.apply(w.session, account=w.account, policy_id=w.policy.id, service_code=service, request_key=key,
                          now=NOW, details={"city": "上海", **details})


def entitlement(w, booking):
    w.session.rollback()
    return w.session.scalar(select(Entitlement).where(Entitlement.id == booking.entitlement_id))


# ---------------------------------------------------------------------------------------------- the add-on pack

def test_the_pack_raises_only_the_outpatient_escort(packed):
    with_pack = policy_facts(packed.policy)
    without = replace(with_pack, add_ons=())
    assert with_pack.add_ons == (PACK,)
    assert quota_amount(ZHONGAN.service("escort_outpatient"), without) == 2
    assert quota_amount(ZHONGAN.service("escort_outpatient"), with_pack) == 5
    # The pack is named on the outpatient page only (line 1526); the inpatient escort stays at 2 (line 1616).
    assert quota_amount(ZHONGAN.service("escort_inpatient"), with_pack) == 2
    assert quota_amount(ZHONGAN.service("car_pickup"), with_pack) == 2


def test_the_import_may_list_several_add_ons(packed):
    packed.policy.add_ons = f" other_pack , {PACK} "
    assert policy_facts(packed.policy).add_ons == ("other_pack", PACK)


@pytest.mark.parametrize(("world", "allowed"), [("plain", 2), ("packed", 5)])
def test_outpatient_escorts_a_year(request, world, allowed):
    w = request.getfixturevalue(world)
    for n in range(allowed):
        assert apply(w, "escort_outpatient", f"e{n}").ok, n
    refused = apply(w, "escort_outpatient", "one-more")
    assert not refused.ok and [r.key for r in refused.reasons] == ["quota.in_progress"]
    assert bookings.usage_of(w.session, w.policy, refused_row(w), NOW.date()).quota == allowed


def refused_row(w):
    from webapp.models import Service
    return w.session.scalar(select(Service).where(Service.product_id == w.policy.product_id,
                                                  Service.code == "escort_outpatient"))


def test_a_pack_recorded_after_the_first_use_raises_that_years_quota(plain):
    first = apply(plain, "escort_outpatient", "before")
    assert first.ok and entitlement(plain, first.booking).quota == 2
    plain.policy.add_ons = PACK  # the insurer's next import
    plain.session.commit()
    for n in range(4):
        assert apply(plain, "escort_outpatient", f"after-{n}").ok, n
    assert (entitlement(plain, first.booking).quota, entitlement(plain, first.booking).held) == (5, 5)


def test_the_home_cards_show_the_packs_quota(app, packed, client):
    from .web_helpers import card, set_clock, sign_in, text_of, use_english

    set_clock(app, NOW)
    sign_in(client, "13900000001")
    use_english(client)
    html = client.get("/home").get_data(as_text=True)
    assert "5 of 5 left this policy year" in text_of(card(html, "T-zhongan_vip", "escort_outpatient"))
    assert "2 of 2 left this policy year" in text_of(card(html, "T-zhongan_vip", "escort_inpatient"))


# ---------------------------------------------------------------------------------------------- inpatient escort

def test_a_stays_admission_and_discharge_escorts_are_one_use_each(plain):
    """Line 1618 "入院为1次，出院为1次": the admission and the discharge of one stay spend both uses of the year."""
    admission = apply(plain, "escort_inpatient", "in", visit_type="admission")
    discharge = apply(plain, "escort_inpatient", "out", visit_type="discharge")
    assert admission.ok and discharge.ok
    assert (admission.booking.units, discharge.booking.units) == (1, 1)
    assert entitlement(plain, discharge.booking).held == 2
    third = apply(plain, "escort_inpatient", "again", visit_type="admission")
    assert [r.key for r in third.reasons] == ["quota.in_progress"]


# ---------------------------------------------------------------------------------------------- car: a late change

def scheduled_car(w, key="car"):
    outcome = apply(w, "car_pickup", key, direction="hospital_to_home")
    assert outcome.ok, outcome.reasons
    b = outcome.booking
    bookings.start_review(w.session, b.id, staff=w.staff, now=NOW + timedelta(hours=1))
    bookings.approve(w.session, b.id, staff=w.staff, now=NOW + timedelta(hours=2))
    return bookings.schedule(w.session, b.id, staff=w.staff, now=NOW + timedelta(hours=3), starts_at=PICKUP,
                             appointment={"driver": "王师傅"})


def late_changed(w):
    b = scheduled_car(w)
    return bookings.request_change(w.session, b.id, actor=w.account, now=FOUR_HOURS_BEFORE + timedelta(seconds=1),
                                   wishes={"dates": "明天上午"})


def test_only_the_car_takes_a_late_change():
    takes = {(p.code, s.code) for p in default_catalog().products for s in p.services
             if s.bookable and outcomes.late_change_counts(s)}
    assert takes == {("zhongan_vip", "car_pickup")}


def test_a_change_exactly_four_hours_before_is_free(plain):
    b = scheduled_car(plain)
    assert bookings.cancel_quote(b, FOUR_HOURS_BEFORE).outcome == "free"
    assert not bookings.late_change_allowed(b, FOUR_HOURS_BEFORE)
    done = bookings.request_change(plain.session, b.id, actor=plain.account, now=FOUR_HOURS_BEFORE, wishes={})
    assert done.transitions[-1].rule == "hours_before:4" and not bookings.changed_late(done)


def test_a_change_one_second_inside_is_taken_and_holds_the_use_as_counted(plain):
    done = late_changed(plain)
    last = done.transitions[-1]
    assert (done.state, last.rule, last.quota_effect) == ("approved", "late_change_counted", "none")
    assert bookings.changed_late(done)
    assert (entitlement(plain, done).held, entitlement(plain, done).used) == (1, 0)
    assert bookings.cancel_quote(done, FOUR_HOURS_BEFORE + timedelta(hours=1)).outcome == "counted"


def test_after_a_late_change_the_new_pickup_spends_the_use_once(plain):
    done = late_changed(plain)
    later = PICKUP + timedelta(days=1)
    bookings.schedule(plain.session, done.id, staff=plain.staff, now=FOUR_HOURS_BEFORE + timedelta(hours=1),
                      starts_at=later, appointment={"driver": "王师傅"})
    # Even a day ahead of the new pickup, cancelling is counted: the late change already made it count.
    assert bookings.cancel_quote(done, FOUR_HOURS_BEFORE + timedelta(hours=2)).outcome == "counted"
    ended = bookings.complete(plain.session, done.id, staff=plain.staff, now=later + timedelta(hours=1))
    assert ended.state == "completed" and (entitlement(plain, ended).held, entitlement(plain, ended).used) == (0, 1)


@pytest.mark.parametrize("end", ["cancel", "withdraw", "vendor_failed"])
def test_every_ending_after_a_late_change_counts(plain, end):
    """"视为服务已使用……无法保证服务落实": the use is spent even if the car cannot be arranged again."""
    done = late_changed(plain)
    moment = FOUR_HOURS_BEFORE + timedelta(hours=1)
    if end == "cancel":
        ended = bookings.cancel(plain.session, done.id, actor=plain.account, now=moment)
    elif end == "withdraw":
        ended = bookings.withdraw(plain.session, done.id, actor=plain.account, now=moment)
    else:
        ended = bookings.close_vendor_failed(plain.session, done.id, staff=plain.staff, now=moment, reason="无车")
    assert ended.state == "cancelled_counted" and ended.transitions[-1].rule == "late_change_counted"
    assert (entitlement(plain, ended).held, entitlement(plain, ended).used) == (0, 1)


def test_a_late_change_elsewhere_is_still_refused(session):
    """000 （一）2.9(6) line 94 counts a late cancellation but takes no late change."""
    w = World(session, "cigc_classic", effective=date(2026, 1, 1))
    outcome = bookings.apply(w.session, account=w.account, policy_id=w.policy.id, service_code="expert_outpatient",
                             request_key="x", now=NOW, details={"city": "上海"})
    b = outcome.booking
    bookings.start_review(w.session, b.id, staff=w.staff, now=NOW + timedelta(hours=1))
    bookings.approve(w.session, b.id, staff=w.staff, now=NOW + timedelta(hours=2))
    bookings.schedule(w.session, b.id, staff=w.staff, now=NOW + timedelta(hours=3), starts_at=at(2026, 11, 26, 9, 30),
                      appointment={})
    with pytest.raises(bookings.ChangeRefused, match="change.not_free"):
        bookings.request_change(w.session, b.id, actor=w.account, now=at(2026, 11, 25, 12, 0, 0), wishes={})

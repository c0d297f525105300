"""What each outcome spends, per service of the five manuals (webapp.services.outcomes.units_spent, issue 14 item 1/2/7).

One row per rule: seed file and line, what happens, when, and the units spent. Times are China time; the cutoffs
are checked at the second on each side.
"""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from webapp.services.products.catalog import default_catalog
from webapp.services.outcomes import EVENTS, units_spent

from .conftest import at

VISIT = at(2026, 12, 10, 9, 30)  # a Thursday morning appointment
NOON_BEFORE = at(2026, 12, 9, 12, 0)
S = timedelta(seconds=1)

# (seed, line, product, service, event, at, booked, served, spent)
RULES = [
    # 000 CIGC classic: expert outpatient counts a cancellation after 12:00 the day before, and a no-show.
    ("000", 94, "cigc_classic", "expert_outpatient", "cancel", NOON_BEFORE - S, 1, 0, 0),
    ("000", 98, "cigc_classic", "expert_outpatient", "cancel", NOON_BEFORE + S, 1, 0, 1),
    ("000", 88, "cigc_classic", "expert_outpatient", "no_show", VISIT + timedelta(hours=2), 1, 0, 1),
    ("000", 94, "cigc_classic", "expert_outpatient", "completed", VISIT + timedelta(hours=2), 1, 0, 1),
    # 000 （二）2.9(11) line 222: admission and surgery cannot be cancelled; if cancelled it counts.
    ("000", 222, "cigc_classic", "inpatient_surgery", "cancel", VISIT - timedelta(days=5), 1, 0, 1),
    # 001 好人生: only a missed appointment counts (注意事项10 line 63); a late cancellation does not.
    ("001", 63, "haorensheng_gc", "expert_outpatient", "cancel", NOON_BEFORE + S, 1, 0, 0),
    ("001", 63, "haorensheng_gc", "expert_outpatient", "cancel", VISIT - S, 1, 0, 0),
    ("001", 63, "haorensheng_gc", "expert_outpatient", "no_show", VISIT + timedelta(hours=1), 1, 0, 1),
    ("001", 63, "haorensheng_gc", "expert_outpatient", "vendor_failed", VISIT - timedelta(days=1), 1, 0, 0),
    # 002 星桃: only a missed visit counts (一 2(4)3) line 56).
    ("002", 56, "xingtao_gc", "expert_outpatient", "cancel", VISIT - timedelta(hours=1), 1, 0, 0),
    ("002", 56, "xingtao_gc", "expert_outpatient", "no_show", VISIT + timedelta(hours=1), 1, 0, 1),
    # 003 众安 PLUS: remote consultation, expert and exam fast-track count a no-show only (特别说明(5) line 929).
    ("003", 929, "zhongan_vip", "remote_consultation", "cancel", NOON_BEFORE + S, 1, 0, 0),
    ("003", 929, "zhongan_vip", "expert_outpatient", "cancel", NOON_BEFORE + S, 1, 0, 0),
    ("003", 929, "zhongan_vip", "exam_fastpass", "cancel", NOON_BEFORE + S, 1, 0, 0),
    ("003", 929, "zhongan_vip", "expert_outpatient", "no_show", VISIT + timedelta(hours=1), 1, 0, 1),
    # 003 admission: "客户预约服务后不能取消服务…视同该次服务已完成" (line 931): any cancellation counts.
    ("003", 931, "zhongan_vip", "inpatient", "cancel", VISIT - timedelta(days=3), 1, 0, 1),
    # 003 car pickup: inside 4 hours a cancellation counts (特别说明(5) line 586), at the second.
    ("003", 586, "zhongan_vip", "car_pickup", "cancel", VISIT - timedelta(hours=4), 1, 0, 0),
    ("003", 586, "zhongan_vip", "car_pickup", "cancel", VISIT - timedelta(hours=4) + S, 1, 0, 1),
    # 003 escorts: a no-show counts, a late cancellation does not (特别说明(5) line 929 as for the visits).
    ("003", 929, "zhongan_vip", "escort_outpatient", "cancel", NOON_BEFORE + S, 1, 0, 0),
    ("003", 929, "zhongan_vip", "escort_inpatient", "cancel", NOON_BEFORE + S, 1, 0, 0),
    ("003", 929, "zhongan_vip", "escort_outpatient", "no_show", VISIT + timedelta(hours=1), 1, 0, 1),
    # 003 second opinion: once accepted it cannot be cancelled (line 2581).
    ("003", 2581, "zhongan_vip", "second_opinion", "cancel", VISIT - timedelta(days=2), 1, 0, 1),
    # 003 nursing aide: days are spent as served (line 2301), whatever the ending; the vendor's failure keeps them
    # (七5 line 2463); a cancellation inside the 12 hours' notice (五3) spends what was served.
    ("003", 2301, "zhongan_vip", "nursing_aide", "completed", VISIT + timedelta(days=3), 20, 3, 3),
    ("003", 2301, "zhongan_vip", "nursing_aide", "completed", VISIT + timedelta(days=20), 20, 20, 20),
    ("003", 2301, "zhongan_vip", "nursing_aide", "cancel", VISIT - timedelta(hours=11), 20, 0, 0),
    ("003", 2301, "zhongan_vip", "nursing_aide", "cancel", VISIT + timedelta(days=5), 20, 5, 5),
    ("003", 2463, "zhongan_vip", "nursing_aide", "vendor_failed", VISIT + timedelta(days=1), 20, 1, 0),
    # 004 史带: expert and escort count only a missed appointment.
    ("004", 71, "starr_jiuyibao", "expert_outpatient", "cancel", NOON_BEFORE + S, 1, 0, 0),
    ("004", 189, "starr_jiuyibao", "escort_outpatient", "cancel", NOON_BEFORE + S, 1, 0, 0),
    ("004", 71, "starr_jiuyibao", "expert_outpatient", "no_show", VISIT + timedelta(hours=1), 1, 0, 1),
    ("004", 189, "starr_jiuyibao", "escort_outpatient", "no_show", VISIT + timedelta(hours=1), 1, 0, 1),
]


@pytest.mark.parametrize("seed, line, product, service, event, moment, booked, served, expected", RULES,
                         ids=[f"{r[0]}:{r[1]}-{r[3]}-{r[4]}-{i}" for i, r in enumerate(RULES)])
def test_what_each_outcome_spends(seed, line, product, service, event, moment, booked, served, expected):
    assert units_spent(product, service, event, starts_at=VISIT, at=moment, booked_units=booked,
                       served_units=served) == expected


def every_bookable():
    for product in default_catalog().products:
        for service in product.services:
            if service.bookable:
                yield product.code, service


@pytest.mark.parametrize("product, service", list(every_bookable()), ids=lambda v: getattr(v, "code", v))
def test_every_service_follows_its_catalog_entry(product, service):
    """For every bookable service: the vendor's failure and an early cancellation never spend; a no-show spends
    exactly where the catalog lists it; a cancellation after the appointment began is a no-show, except where any
    cancellation counts (003 二次诊疗意见 特别说明(4) line 2581: once accepted it cannot be cancelled)."""
    counted = {e.value for e in service.counts_as_used}
    days = service.quota.unit.value == "days"
    kw = {"starts_at": VISIT, "booked_units": 1}
    assert units_spent(product, service.code, "vendor_failed", at=VISIT, **kw) == 0
    assert units_spent(product, service.code, "completed", at=VISIT, served_units=1 if days else 0, **kw) == 1
    no_show = units_spent(product, service.code, "no_show", at=VISIT + timedelta(hours=1), **kw)
    assert no_show == (1 if "no_show" in counted and not days else 0)
    always = "cancel_any_time" in counted and not days
    assert units_spent(product, service.code, "cancel", at=VISIT + S, **kw) == (1 if always else no_show)
    early = units_spent(product, service.code, "cancel", at=VISIT - timedelta(days=30), **kw)
    assert early == (1 if always else 0)


@pytest.mark.parametrize("bad", [
    {"product": "no_such_product"}, {"service": "no_such_service"}, {"event": "refund"},
    {"starts_at": datetime(2026, 12, 10, 9, 30)}, {"at": datetime(2026, 12, 9)},
    {"booked_units": 0}, {"served_units": -1}, {"served_units": 2}, {"booked_units": True},
    {"service": "video_consultation", "product": "zhongan_vip"},
])
def test_unknown_codes_events_and_naive_times_are_value_errors(bad):
    args = {"product": "zhongan_vip", "service": "expert_outpatient", "event": "cancel", "starts_at": VISIT,
            "at": VISIT - timedelta(days=2), "booked_units": 1, "served_units": 0, **bad}
    with pytest.raises(ValueError):
        units_spent(args.pop("product"), args.pop("service"), args.pop("event"), **args)


def test_events_are_the_four_named():
    assert EVENTS == ("cancel", "no_show", "vendor_failed", "completed")


def test_any_zone_gives_the_same_answer():
    utc = (NOON_BEFORE + S).astimezone(timezone.utc)
    assert units_spent("cigc_classic", "expert_outpatient", "cancel", starts_at=VISIT.astimezone(timezone.utc), at=utc) == 1

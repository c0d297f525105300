"""The day each service is promised by (webapp.services.deadlines.promised_by, issue 14 item 5).

One row per rule: seed file and line, the events known (China time), and the promised day. The promise counts
from the latest of the application and every event the seed names, each on the day the desk can act on it; the
admission slip from its own date. Cases across National Day 2026 (1–7 Oct off, Sat 10 Oct worked) and into 2027.
"""
from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

import pytest

from webapp.services.products.catalog import default_catalog
from webapp.services.deadlines import EVENTS, promise, promised_by

from .conftest import at

S = timedelta(seconds=1)


def slip(year, month, day):
    return at(year, month, day, 0, 0)


# (seed, line, product, service, events, promised)
RULES = [
    # 000 （一）2.7 line 66: "自客户服务资格审核通过时5个工作日内完成服务安排"; no approval, no promise.
    ("000", 66, "cigc_classic", "expert_outpatient", {"applied": at(2026, 11, 23, 10, 0)}, None),
    ("000", 66, "cigc_classic", "expert_outpatient",
     {"applied": at(2026, 11, 23, 10, 0), "approved": at(2026, 11, 24, 17, 59, 59)}, date(2026, 12, 1)),
    # after the desk closes (2.3: 09:00–18:00) the approval counts from the next desk day
    ("000", 66, "cigc_classic", "expert_outpatient",
     {"applied": at(2026, 11, 23, 10, 0), "approved": at(2026, 11, 24, 18, 0)}, date(2026, 12, 2)),
    # approved the day before National Day: 30 Sep, 8, 9, 10 (Sat, 调休), 12 Oct
    ("000", 66, "cigc_classic", "expert_outpatient",
     {"applied": at(2026, 9, 28, 10, 0), "approved": at(2026, 9, 29, 10, 0)}, date(2026, 10, 12)),
    # 000 （二）2.7 line 178 and Q&A line 340: from the application with the slip in hand, 7 working days.
    ("000", 178, "cigc_classic", "inpatient_surgery", {"applied": at(2026, 11, 23, 10, 0)}, None),
    ("000", 340, "cigc_classic", "inpatient_surgery",
     {"applied": at(2026, 11, 23, 10, 0), "admission_slip": slip(2026, 11, 20)}, date(2026, 12, 2)),
    # a slip issued after the application starts the count itself
    ("000", 178, "cigc_classic", "inpatient_surgery",
     {"applied": at(2026, 11, 23, 10, 0), "admission_slip": slip(2026, 11, 25)}, date(2026, 12, 4)),
    # 001 一【服务流程】3 line 31: "1-2个工作日内……与客户电话确认" from the application (desk daily 08:00–20:00).
    ("001", 31, "haorensheng_gc", "expert_outpatient", {"applied": at(2026, 11, 21, 19, 59, 59)}, date(2026, 11, 24)),
    ("001", 25, "haorensheng_gc", "expert_outpatient", {"applied": at(2026, 11, 21, 20, 0)}, date(2026, 11, 24)),
    # 001 二【服务流程】3 line 87: with a slip, 8–10 working days (the upper bound) from the application.
    ("001", 87, "haorensheng_gc", "inpatient",
     {"applied": at(2026, 11, 23, 10, 0), "admission_slip": slip(2026, 11, 20)}, date(2026, 12, 7)),
    # 001 lines 95-107: without a slip there is no admission promise yet (the expert visit comes first).
    ("001", 107, "haorensheng_gc", "inpatient", {"applied": at(2026, 11, 23, 10, 0)}, None),
    # ... and with the slip the visit yields, 10 working days from its date.
    ("001", 107, "haorensheng_gc", "inpatient",
     {"applied": at(2026, 11, 23, 10, 0), "admission_slip": slip(2026, 11, 27)}, date(2026, 12, 11)),
    # 002 一 2(3) line 35: application, approval and papers, then 5 working days; papers alone are not enough.
    ("002", 35, "xingtao_gc", "expert_outpatient",
     {"applied": at(2026, 11, 2, 10, 0), "papers_complete": at(2026, 11, 3, 10, 0)}, None),
    ("002", 35, "xingtao_gc", "expert_outpatient",
     {"applied": at(2026, 11, 2, 10, 0), "papers_complete": at(2026, 11, 3, 10, 0),
      "approved": at(2026, 11, 5, 10, 0)}, date(2026, 11, 12)),
    # 002 二 2(3) line 181: the latest of application, approval, complete papers and the slip. The real case:
    # slip and application on 2 Nov, approval 3 Nov, last paper 9 Nov → 23 Nov, not 16 Nov (5 working days early).
    ("002", 181, "xingtao_gc", "inpatient",
     {"applied": at(2026, 11, 2, 10, 0), "admission_slip": slip(2026, 11, 2), "approved": at(2026, 11, 3, 10, 0),
      "papers_complete": at(2026, 11, 9, 10, 0)}, date(2026, 11, 23)),
    ("002", 181, "xingtao_gc", "inpatient", {"applied": at(2026, 11, 2, 10, 0), "admission_slip": slip(2026, 11, 2)},
     None),
    ("002", 181, "xingtao_gc", "surgery",
     {"applied": at(2026, 9, 25, 10, 0), "admission_slip": slip(2026, 9, 29), "approved": at(2026, 9, 28, 10, 0),
      "papers_complete": at(2026, 9, 28, 10, 0)}, date(2026, 10, 19)),  # 30 Sep, 8, 9, 10 (Sat), 12 … 16, 19 Oct
    # 003 line 719: "自收齐完整病历资料起3个工作日内"; 003 line 787 exam fast-track 5; line 806 admission 10.
    ("003", 719, "zhongan_vip", "remote_consultation", {"applied": at(2026, 11, 23, 10, 0)}, None),
    ("003", 719, "zhongan_vip", "remote_consultation",
     {"applied": at(2026, 11, 23, 10, 0), "papers_complete": at(2026, 11, 24, 20, 59, 59)}, date(2026, 11, 27)),
    ("003", 719, "zhongan_vip", "remote_consultation",
     {"applied": at(2026, 11, 23, 10, 0), "papers_complete": at(2026, 11, 24, 21, 0)}, date(2026, 11, 30)),
    ("003", 806, "zhongan_vip", "inpatient",
     {"applied": at(2026, 9, 28, 10, 0), "papers_complete": at(2026, 9, 30, 10, 0)}, date(2026, 10, 20)),
    # 003 MDT 五 (line 2680 ff.): counted from approval.
    ("003", 2680, "zhongan_vip", "mdt",
     {"applied": at(2026, 12, 28, 10, 0), "approved": at(2026, 12, 30, 10, 0)}, date(2027, 1, 7)),
    # 004 二 line 103: "门诊在客户预约申请后5个工作日内"; line 105 admission from application and slip.
    ("004", 103, "starr_jiuyibao", "expert_outpatient", {"applied": at(2026, 12, 29, 10, 0)}, date(2027, 1, 6)),
    ("004", 105, "starr_jiuyibao", "inpatient",
     {"applied": at(2026, 9, 29, 10, 0), "admission_slip": slip(2026, 9, 28)}, date(2026, 10, 19)),
    # 004 一 4 line 250: the overseas second opinion within 20 working days of complete papers, into 2027.
    ("004", 250, "starr_jiuyibao", "second_opinion_overseas",
     {"applied": at(2026, 12, 1, 10, 0), "papers_complete": at(2026, 12, 14, 10, 0)}, date(2027, 1, 12)),
]


@pytest.mark.parametrize(("seed", "line", "product", "service", "events", "promised"), RULES,
                         ids=[f"{r[0]}:{r[1]}:{r[3]}:{i}" for i, r in enumerate(RULES)])
def test_promised_by(seed, line, product, service, events, promised):
    assert promised_by(product, service, events) == promised


def test_every_bookable_service_has_a_promise_once_every_event_is_known():
    moment = at(2026, 11, 23, 10, 0)
    for product in default_catalog().products:
        for service in product.services:
            if service.bookable:
                got = promised_by(product.code, service.code, {name: moment for name in EVENTS})
                assert got is not None and got > date(2026, 11, 23), (product.code, service.code)


def test_the_001_admission_without_a_slip_promises_the_expert_visit_first():
    """001 二【服务流程】lines 95-109: 3 working days for the expert visit, then 8–10 from the slip it yields."""
    product = default_catalog().product("haorensheng_gc")
    service = product.service("inpatient")
    hours = product.hours_for(service)
    first = promise(service.arrangement, hours, {"applied": at(2026, 11, 23, 10, 0)})
    assert (first.by, first.first_step, first.working_days) == (date(2026, 11, 26), True, 3)
    then = promise(service.arrangement, hours, {"applied": at(2026, 11, 23, 10, 0), "admission_slip": slip(2026, 11, 27)})
    assert (then.by, then.first_step, then.working_days) == (date(2026, 12, 11), False, 10)


def test_the_same_instant_in_another_zone_gives_the_same_promise():
    china = {"applied": at(2026, 11, 23, 10, 0), "approved": at(2026, 11, 24, 17, 59, 59)}
    utc = {name: when.astimezone(timezone.utc) for name, when in china.items()}
    assert promised_by("cigc_classic", "expert_outpatient", utc) == promised_by("cigc_classic", "expert_outpatient", china)


@pytest.mark.parametrize(("product", "service", "events"), [
    ("cigc_classic", "expert_outpatient", {"applied": datetime(2026, 11, 23, 10, 0)}),  # naive
    ("cigc_classic", "expert_outpatient", {"applied": date(2026, 11, 23)}),  # not a datetime
    ("cigc_classic", "expert_outpatient", {"submitted": at(2026, 11, 23, 10, 0)}),  # unknown event
    ("cigc_classic", "no_such_service", {"applied": at(2026, 11, 23, 10, 0)}),
    ("no_such_product", "expert_outpatient", {"applied": at(2026, 11, 23, 10, 0)}),
    ("zhongan_vip", "video_consultation", {"applied": at(2026, 11, 23, 10, 0)}),  # information only, never arranged
])
def test_bad_arguments_are_refused(product, service, events):
    with pytest.raises(ValueError):
        promised_by(product, service, events)


@pytest.mark.parametrize("product, service, papers_in, due_on", [
    # 003 line 949: "收到完整材料后的一个工作日内审核材料决定是否启动" (desk daily 09:00–21:00)
    ("zhongan_vip", "expert_outpatient", at(2026, 9, 30, 20, 59, 59), date(2026, 10, 8)),
    # 004 海外第二诊疗意见 line 287: "2个工作日内，回复被保险人是否启动海外第二诊疗意见"
    ("starr_jiuyibao", "second_opinion_overseas", at(2026, 11, 23, 10, 0), date(2026, 11, 25)),
    ("starr_jiuyibao", "second_opinion_overseas", at(2026, 9, 29, 10, 0), date(2026, 10, 8)),  # 30 Sep, 8 Oct
    ("starr_jiuyibao", "second_opinion", at(2026, 11, 23, 10, 0), date(2026, 11, 24)),
])
def test_the_desk_answers_whether_it_starts_within_the_seeds_working_days(product, service, papers_in, due_on):
    from webapp.services.desk.staff_queue import review_due

    found = default_catalog().product(product)
    rules = found.service(service)
    assert review_due(found.hours_for(rules), papers_in, rules.decision_working_days) == due_on

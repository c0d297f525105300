"""When the desk looks at an application and the latest arrangement day (DOMAIN.md, acceptance hours)."""
from datetime import date

from webapp.services.products.catalog import Arrangement, DeadlineEvent, Hours, default_catalog
from webapp.services.deadlines import desk_receives, promise, promise_if_applied, slip_moment

from .conftest import at

# Statutory working days 09:00–18:00 (004, 002). 000's desk is `weekdays` (adjusted weekends closed): test_phone_lines.py
WEEKDAY_DESK = Hours(days="workdays", opens="09:00", closes="18:00")
DAILY_DESK = Hours(days="daily", opens="08:00", closes="20:00", closed_for_spring_festival=True)  # 001


def deadline(arrangement, hours, *, received_at, approved_at=None, papers_complete_at=None, admission_slip_date=None):
    """deadlines.promise with the booking's columns as keywords."""
    return promise(arrangement, hours, {"applied": received_at, "approved": approved_at,
                                        "papers_complete": papers_complete_at,
                                        "admission_slip": slip_moment(admission_slip_date)}).by


def test_weekday_desk_receives_at_next_opening():
    assert desk_receives(WEEKDAY_DESK, at(2026, 11, 21, 10, 0)) == at(2026, 11, 23, 9, 0)  # Saturday -> Monday 09:00
    assert desk_receives(WEEKDAY_DESK, at(2026, 11, 23, 8, 59, 59)) == at(2026, 11, 23, 9, 0)
    assert desk_receives(WEEKDAY_DESK, at(2026, 11, 23, 9, 0)) == at(2026, 11, 23, 9, 0)
    assert desk_receives(WEEKDAY_DESK, at(2026, 11, 23, 17, 59, 59)) == at(2026, 11, 23, 17, 59, 59)
    assert desk_receives(WEEKDAY_DESK, at(2026, 11, 23, 18, 0)) == at(2026, 11, 24, 9, 0)
    assert desk_receives(WEEKDAY_DESK, at(2026, 9, 30, 19, 0)) == at(2026, 10, 8, 9, 0)  # over National Day


def test_working_weekend_is_a_desk_day():
    assert desk_receives(WEEKDAY_DESK, at(2026, 10, 10, 8, 0)) == at(2026, 10, 10, 9, 0)  # 调休 Saturday


def test_spring_festival_closure_of_001():
    # 001 一、【服务流程】1: "服务时间08：00-20：00，春节法定假期不提供服务"
    assert desk_receives(DAILY_DESK, at(2026, 2, 16, 10, 0)) == at(2026, 2, 24, 8, 0)
    assert desk_receives(DAILY_DESK, at(2026, 11, 22, 7, 0)) == at(2026, 11, 22, 8, 0)  # Sunday is a desk day


def test_deadline_counts_from_the_desk_day():
    five_from_approval = Arrangement(working_days=5, counted_from=DeadlineEvent.APPROVAL)  # 000 2.7
    # Approved Friday 19:00 (after hours) -> looked at Monday; 5 working days after Monday 23 Nov.
    assert deadline(five_from_approval, WEEKDAY_DESK, received_at=at(2026, 11, 20, 10, 0),
                                approved_at=at(2026, 11, 20, 19, 0)) == date(2026, 11, 30)
    assert deadline(five_from_approval, WEEKDAY_DESK, received_at=at(2026, 11, 20, 10, 0)) is None


def test_admission_slip_deadline_across_national_day_2026():
    # 000 （二）2.7: "自客户申请服务并开具住院单之日起，7个工作日内安排"
    seven = Arrangement(working_days=7, counted_from=DeadlineEvent.ADMISSION_SLIP_DATE)
    got = deadline(seven, WEEKDAY_DESK, received_at=at(2026, 9, 29, 10, 0), admission_slip_date=date(2026, 9, 28))
    # working days after 29 Sep: 30 Sep, 8, 9, 10 (Sat, 调休), 12, 13, 14 Oct
    assert got == date(2026, 10, 14)
    # a slip dated long before the application counts from the application
    assert deadline(seven, WEEKDAY_DESK, received_at=at(2026, 11, 23, 10, 0),
                                admission_slip_date=date(2026, 10, 1)) == date(2026, 12, 2)


def test_deadline_into_an_unpublished_year():
    five = Arrangement(working_days=5, counted_from=DeadlineEvent.APPLICATION)
    # 2027 runs on the fallback: 1 Jan off, weekends off.
    assert deadline(five, WEEKDAY_DESK, received_at=at(2026, 12, 29, 10, 0)) == date(2027, 1, 6)


def test_card_promise_for_000_expert_outpatient():
    product = default_catalog().product("cigc_classic")
    service = product.service("expert_outpatient")
    # Saturday 21 Nov 2026: desk looks Monday 23rd; 5 working days later is Monday 30th.
    assert promise_if_applied(service.arrangement, product.hours_for(service), at(2026, 11, 21, 15, 0)) == date(2026, 11, 30)
